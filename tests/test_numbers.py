"""Numbers in an expression: a literal or a constant that float64 cannot hold is refused by
name at derive (no random point could make it finite), and numbers render as they are written."""

from __future__ import annotations

import re

import numpy as np

import pytest

from derivlib.engine import ExpressionError, derive

XP = {"X": ("n", "p")}


@pytest.mark.parametrize(("expr", "named"), [
    pytest.param("sum(1e400 * X)", "1e400: the number is beyond float64's largest", id="literal-inf"),
    pytest.param("sum(X ** 1e400)", "X ** 1e400: the number is beyond", id="exponent-inf"),
    pytest.param("sum(X / 0)", "X / 0: a division by zero", id="division-by-zero"),
    pytest.param("sum(X * 0 ** -1)", "0 ** -1 is inf", id="zero-to-a-negative-power"),
    pytest.param("sum(sqrt(-2) * X)", "sqrt(-2) is nan", id="sqrt-of-a-negative-number"),
    pytest.param("sum((-2) ** 0.5 * X)", "(-2) ** 0.5 is nan", id="fractional-power-of-a-negative-number"),
    pytest.param("sum(log(1 - 1) * X)", "log(1 - 1) is -inf", id="log-of-zero"),
    pytest.param("sum(10 ** 400 * X)", "10 ** 400 is", id="power-beyond-float64"),
])
def test_a_number_float64_cannot_hold_is_refused_by_name(expr, named):
    with pytest.raises(ExpressionError, match="^" + re.escape(named)):
        derive(expr, XP)


@pytest.mark.parametrize("expr", [
    pytest.param("sum(sqrt(n) * X)", id="sqrt-of-a-dimension"),
    pytest.param("sum(-(2) ** 0.5 * X)", id="minus-a-root"),
    pytest.param("sum(exp(2) * X)", id="exp-of-a-number"),
])
def test_a_finite_constant_is_accepted(expr):
    assert derive(expr, XP).check().verdict == "right"


@pytest.mark.parametrize(("expr", "text", "latex"), [
    pytest.param("sum(1e200 * X)", "1e+200·11ᵀ", r"10^{200} \mathbf{1}\mathbf{1}^T", id="1e200"),
    pytest.param("sum(1e20 * X)", "1e+20·11ᵀ", r"10^{20} \mathbf{1}\mathbf{1}^T", id="1e20"),
    pytest.param("sum(1e-320 * X)", "1e-320·11ᵀ", r"10^{-320} \mathbf{1}\mathbf{1}^T", id="subnormal"),
    pytest.param("sum(1000000 * X)", "1000000·11ᵀ", r"1000000 \mathbf{1}\mathbf{1}^T", id="a-million-in-full"),
])
def test_a_number_renders_as_written(expr, text, latex):
    step = derive(expr, XP).backward_steps[-1]
    assert (step.expression, step.expression_latex) == (text, latex)


def test_a_row_made_of_numbers_is_not_folded_into_one_number():
    # found by the random loop programs (seeds 4381, 4408): concat(1.5, 2) is a 1×2 row, not a number
    d = derive("A, B = split(concat(1.5, 2), 2); sum(W * B) + sum(W) * A", {"W": ("n", "m")})
    W = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(d.gradients({"W": W})["W"], np.full((2, 3), 2.0 + 1.5))
