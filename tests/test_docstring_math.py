r"""The gradient formulas in derivlib's docstrings are the engine's derivation of each network.

Every ``.. math::`` block of a derivation module's docstring and of its ``backward`` that
contains ``\partial`` holds one equation per paragraph (``LHS = RHS``, optionally
``\qquad`` and a shape). Each left-hand side is a name of a step (``\Delta``) or
``\frac{\partial L}{\partial M}``; each right-hand side must be, up to spacing and braces,
the engine's rendering of that step of :func:`derivlib.derive` for the module's network,
the ``engine`` expression of its case in ``verification/cases.py`` (the engine checks each step against finite differences, and ``tests/test_engine.py``
checks its gradients against the module's ``backward``). Blocks without ``\partial``
are definitions and are not compared.
"""

from __future__ import annotations

import importlib
import re

import pytest

from derivlib import derive
from verification.cases import CASES as LAYERS

NETWORKS = {name: case.engine for name, case in LAYERS.items()}
MODULES = {name: importlib.import_module(f"derivlib.{name}") for name in LAYERS}
_PARTIAL = re.compile(r"^\\frac\{\\partial L\}\{\\partial (.+)\}$")


def normalize(latex):
    """LaTeX without spacing, sizing and grouping: ``\\mathbf 1^T`` == ``\\mathbf{1}^T``."""
    latex = re.sub(r"\\(left|right|big|Big|bigg|Bigg)(?![a-zA-Z])", "", latex)
    latex = re.sub(r"\\[,;!:]|\\quad|\\qquad|\\textstyle", "", latex)
    return re.sub(r"[\s{}]", "", latex).rstrip(".,")


def engine_forms(module):
    """normalized left-hand side -> normalized right-hand side, for every backward step."""
    expr, shapes = NETWORKS[module]
    d = derive(expr, shapes, wrt=list(LAYERS[module].wrt))
    forms = {}
    for step in d.backward_steps:
        if step.kind != "backward":
            continue
        of = step.of.name if step.of.name is not None else step.of.attr
        rhs = normalize(step.expression_latex)
        forms[normalize(step.symbol_latex)] = rhs
        forms[normalize(rf"\frac{{\partial L}}{{\partial {of.latex}}}")] = rhs
    return forms


def math_blocks(doc):
    """The bodies of the ``.. math::`` directives of a docstring (the lines indented under them)."""
    lines, blocks = doc.splitlines(), []
    for i, line in enumerate(lines):
        if line.strip() == ".. math::":
            indent, body = len(line) - len(line.lstrip()), []
            for following in lines[i + 1:]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following)
            blocks.append("\n".join(body).strip())
    return blocks


def docstring_equations(module):
    """(owner, LHS, RHS) of every equation in a math block that contains a derivative."""
    mod = MODULES[module]
    out = []
    for owner, doc in ((module, mod.__doc__), (f"{module}.backward", mod.backward.__doc__)):
        for block in math_blocks(doc):
            if r"\partial" not in block:
                continue
            for equation in re.split(r"\n\s*\n", block):
                equation = re.split(r"\\qquad", " ".join(equation.split()))[0]
                *lhs, rhs = (side.strip() for side in equation.split("="))
                out.append((owner, lhs, rhs))
    return out


CASES = [(m, owner, lhs, rhs) for m in NETWORKS for owner, lhs, rhs in docstring_equations(m)]


@pytest.mark.parametrize("module", list(NETWORKS))
def test_docstrings_state_gradients(module):
    assert any(lhs for _, lhs, _ in docstring_equations(module)), f"{module}: no gradient formula found"


@pytest.mark.parametrize(("module", "owner", "lhs", "rhs"), CASES,
                         ids=[f"{o}:{'='.join(lhs)}" for _, o, lhs, _ in CASES])
def test_docstring_formula_is_the_engines(module, owner, lhs, rhs):
    forms = engine_forms(module)
    for name in lhs:
        key = normalize(name)
        assert key in forms, f"{owner}: {name!r} is not a step of the engine's derivation ({sorted(forms)})"
        assert normalize(rhs) == forms[key], (
            f"{owner}: the docstring says {name} = {rhs}; the engine derives {forms[key]}")
