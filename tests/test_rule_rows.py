"""The rule rows are the one place an operation is described: the other tables are built
from them, and the engine's core modules import each other in one direction only."""

from __future__ import annotations

import ast
import pathlib

import pytest

from derivlib.engine import render
from derivlib.engine.rules import ACTIVATIONS, FUNCTIONS, LETTERS, RULES

ENGINE = pathlib.Path(__file__).resolve().parent.parent / "derivlib" / "engine"
CORE = ("nodes", "render", "rules")


def _imports(module):
    """The engine modules ``module`` imports, counting imports inside functions."""
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level == 1:
            out |= {n.module} if n.module else {a.name for a in n.names}
    return out


@pytest.mark.parametrize("a, b", [(a, b) for a in CORE for b in CORE if a < b], ids=lambda x: x)
def test_no_import_cycle_between_core_modules(a, b):
    assert not (b in _imports(a) and a in _imports(b))


def test_nodes_imports_no_engine_module():
    assert _imports("nodes") == set()


@pytest.mark.parametrize("op", [op for op, r in RULES.items() if r.text], ids=str)
def test_each_function_row_feeds_every_table(op):
    assert op in FUNCTIONS and op in render.TEXT["fn"] and op in render.LATEX["fn"] and op in render.NP_FN


@pytest.mark.parametrize("op", ACTIVATIONS, ids=str)
def test_each_activation_has_its_rows_letter(op):
    assert LETTERS[op] == RULES[op].letter
