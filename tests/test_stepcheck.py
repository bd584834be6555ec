"""One check of a derivation's steps on two backends: one report type, one sampler, no import cycle."""

from __future__ import annotations

import ast
import pathlib

import pytest

import derivlib
from derivlib.engine import derive

GX = {"G": ("n", "p"), "X": ("n", "p")}
ENGINE = pathlib.Path(derivlib.__file__).parent / "engine"


@pytest.mark.parametrize("expr", [
    pytest.param("sum(G * sigmoid(X))", id="right"),
    pytest.param("sum(log(X @ W))", id="cannot-tell"),
])
def test_both_backends_return_the_same_report_type(expr):
    d = derive(expr, {**GX, "W": ("p", "q")})
    assert type(d.check()) is type(d.check_pure())


def test_both_backends_report_every_step_with_its_verdict():
    d = derive("sum(G * relu(relu(X)))", GX)
    numpy_steps = [(s.name, s.verdict, s.excluded) for s in d.check(seed=0).steps]
    pure_steps = [(s.name, s.verdict) for s in d.check_pure(seed=0).steps]
    assert [(name, verdict) for name, verdict, _ in numpy_steps] == pure_steps
    assert any(excluded for _, _, excluded in numpy_steps)


def test_both_backends_draw_their_point_from_one_sampler():
    from derivlib.engine import numeric, pure

    d = derive("sum(G * log(X))", GX)
    sizes = pure.default_sizes(d)
    arrays, lists = numeric.random_arrays(d, sizes, 0), pure.random_values(d, sizes, __import__("random").Random(0))
    assert {k: v.shape for k, v in arrays.items()} == {k: (len(v), len(v[0])) for k, v in lists.items()}
    assert arrays["X"].min() >= 0.5 and min(min(row) for row in lists["X"]) >= 0.5


def _imports(path):
    """The engine modules a module imports, at its top or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            out |= {n.split(".")[0] for n in names}
    return out


def _reaches(graph, start, goal):
    seen, todo = set(), list(graph.get(start, ()))
    while todo:
        m = todo.pop()
        if m == goal:
            return True
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    return False


@pytest.mark.parametrize("module", ["derivation", "numeric", "pure", "stepcheck", "sample"])
def test_no_import_cycle_through_the_check(module):
    graph = {p.stem: _imports(p) for p in ENGINE.glob("*.py")}
    assert not _reaches(graph, module, module)
