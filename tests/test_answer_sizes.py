""""Check my answer" on losses whose gradient needs a size that only the shapes define.

Each case is what the playground page sends (named sizes, shapes as text), and a right
answer written by hand: the verdict must be "right", never a traceback.
"""

from __future__ import annotations

import pytest

from derivlib.engine import derive, evaluate_pure
from derivlib.playground.requests import run_answer

XWB = "X: n, p\nW: p, q\nb: 1, q"
TWO = "X: n, p\nW1: p, k\nb1: 1, k\nW2: k, q\nb2: 1, q\nY: n, q"
TWO_EXPR = "H = relu(X @ W1 + b1); mean((H @ W2 + b2 - Y) ** 2)"
# the MSE's adjoint at the hidden layer, times relu' written as H / Z (1 where Z > 0, 0 where Z < 0)
DELTA = "(2 * (H @ W2 + b2 - Y) @ W2.T / (n * q) * (H / Z))"

RIGHT = [
    pytest.param("sum(sigmoid(X @ W + b))", XWB, "W", "X.T @ (S * (1 - S))", id="sigmoid-W"),
    pytest.param("sum(sigmoid(X @ W + b))", XWB, "b", "sum(S * (1 - S), axis=0)", id="sigmoid-b"),
    pytest.param("sum(X @ W)", "X: n, p\nW: p, q", "W", "sum(X, axis=0).T @ (0 * sum(W, axis=0) + 1)",
                 id="sum-XW-W"),
    pytest.param("mean(X)", "X: n, p", "X", "0 * X + 1 / (n * p)", id="mean-X"),
    pytest.param(TWO_EXPR, TWO, "W1", f"X.T @ {DELTA}", id="two-layer-W1"),
    pytest.param(TWO_EXPR, TWO, "b1", f"sum({DELTA}, axis=0)", id="two-layer-b1"),
]


@pytest.mark.parametrize(("expr", "shapes", "wrt", "answer"), RIGHT)
def test_a_right_answer_is_right(expr, shapes, wrt, answer):
    result = run_answer(expr, shapes, wrt, wrt, answer)
    assert (result["ok"], result.get("verdict")) == (True, "right"), result


def test_a_wrong_answer_to_sum_XW_is_named():
    result = run_answer("sum(X @ W)", "X: n, p\nW: p, q", "W", "W", "X.T")
    assert (result["ok"], result["verdict"], result["kind"]) == (True, "wrong", "wrong shape")


def test_evaluate_pure_takes_the_sizes_the_values_do_not_give():
    d = derive("mean(X)", {"X": ("n", "p")})
    got = evaluate_pure(d.gradient_expressions["X"], {}, sizes={"n": 2, "p": 4})
    assert got == [[1 / 8] * 4] * 2


def test_evaluate_pure_names_a_missing_size():
    d = derive("mean(X)", {"X": ("n", "p")})
    with pytest.raises(ValueError, match=r"sizes.*'n'"):
        evaluate_pure(d.gradient_expressions["X"], {})
