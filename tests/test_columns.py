"""Column blocks and max in the engine's own terms: the generated numpy of max computes its
argument once, and the blocks of a split whose columns are a product dimension (``8*h``, a
``nodes.Coef``) read, evaluate and are written as numpy at the right columns."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from derivlib import derive
from derivlib.engine import columns
from derivlib.engine.evaluate import evaluate
from derivlib.engine.nodes import Coef, Node, Sym, var
from derivlib.engine.render import latex, source, text

# -- max of an unnamed argument: computed once ----------------------------------------------------


def _products(src):
    """How many times ``X @ W`` is computed in ``src``."""
    return sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) and ast.unparse(n) == "X @ W"
               for n in ast.walk(ast.parse(src)))


@pytest.mark.parametrize("expr, shapes", [
    pytest.param("max(X @ W)", {"X": ("n", "p"), "W": ("p", "q")}, id="all"),
    pytest.param("sum(G * max(X @ W, axis=1))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", 1)}, id="axis-1"),
    pytest.param("sum(G * max(X @ W, axis=0))", {"X": ("n", "p"), "W": ("p", "q"), "G": (1, "q")}, id="axis-0"),
])
def test_the_generated_numpy_computes_the_argument_of_max_once(expr, shapes):
    assert _products(derive(expr, shapes).numpy_source()) == 1


def test_the_argument_of_max_is_a_step_named_a():
    d = derive("max(X @ W)", {"X": ("n", "p"), "W": ("p", "q")})
    assert [(s.symbol, s.expression) for s in d.forward_steps] == [("A", "XW"), ("L", "max(A)")]


# -- a split of 8*h columns into 4 blocks of 2*h ---------------------------------------------------

H = 3
TWO_H = Coef(2, (("h", 1),))
A = var(Sym("A"), ("n", Coef(8, (("h", 1),))))
MATRIX = np.arange(2.0 * 8 * H).reshape(2, 8 * H)


def _block(j):
    return Node("split", [A], ("n", TWO_H), (j, j + 1, TWO_H, 4))


@pytest.mark.parametrize("j, want", [
    pytest.param(0, "A[:, 0:2h]", id="first"), pytest.param(1, "A[:, 2h:4h]", id="second"),
    pytest.param(3, "A[:, 6h:8h]", id="last"),
])
def test_a_block_of_a_product_dimension_reads_its_columns(j, want):
    assert text(_block(j)) == want


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_in_latex(j):
    hi = f"{2 * (j + 1)}h"
    assert latex(_block(j)).endswith(f"{hi}]}}")


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_evaluates_in_pure_python(j):
    got = evaluate(_block(j), {"A": MATRIX.tolist()}, {"n": 2, "h": H})
    np.testing.assert_array_equal(np.array(got), MATRIX[:, 2 * H * j:2 * H * (j + 1)])


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_evaluates_on_numpy(j):
    got = evaluate(_block(j), {"A": MATRIX}, {"n": 2, "h": H}, np)
    np.testing.assert_array_equal(got, MATRIX[:, 2 * H * j:2 * H * (j + 1)])


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_as_numpy_source_runs(j):
    got = eval(source(_block(j)), {"A": MATRIX, "h": H, "np": np})
    np.testing.assert_array_equal(got, MATRIX[:, 2 * H * j:2 * H * (j + 1)])


def test_the_pullback_of_a_product_dimension_block_runs_as_numpy_source():
    g = var(Sym("G"), ("n", TWO_H))
    (back,) = columns.split_vjp(g, _block(1), [A])
    gv = np.ones((2, 2 * H))
    want = np.zeros((2, 8 * H))
    want[:, 2 * H:4 * H] = 1.0
    np.testing.assert_array_equal(eval(source(back), {"G": gv, "h": H, "n": 2, "np": np}), want)
    np.testing.assert_array_equal(np.array(evaluate(back, {"G": gv.tolist()}, {"n": 2, "h": H})), want)
