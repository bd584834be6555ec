"""Bad input to the engine's entry points raises ValueError or TypeError naming the argument.

Never a KeyError, a FloatingPointError, a RecursionError or a numpy warning; underflow is
not an error at all.
"""

from __future__ import annotations

import numpy as np
import pytest

from derivlib.engine import derive, evaluate_pure, parse

XP = {"X": ("n", "p")}


def test_underflow_is_not_an_error():
    d = derive("sum(sigmoid(X))", XP)
    x = np.full((2, 3), -746.0)
    expected = np.exp(x) / (1 + np.exp(x)) ** 2  # sigma'(x) = e^x / (1 + e^x)^2, 0 in float64 here
    np.testing.assert_array_equal(d.gradients({"X": x})["X"], expected)


def test_underflow_in_the_loss_is_not_an_error():
    d = derive("sum(sigmoid(X))", XP)
    assert d.loss({"X": np.full((2, 3), -746.0)}) == 6 * np.exp(-746.0)  # subnormal, not an error


def test_overflow_names_the_step():
    d = derive("sum(exp(X))", XP)
    with pytest.raises(ValueError, match=r"overflow.*(step|L)"):
        d.gradients({"X": np.full((2, 3), 1000.0)})


@pytest.mark.parametrize("wrt", [pytest.param(3, id="int"), pytest.param(3.5, id="float"),
                                 pytest.param([3], id="list-of-int"), pytest.param({"X": 1}, id="dict")])
def test_wrt_of_the_wrong_type_is_a_type_error(wrt):
    with pytest.raises(TypeError, match=r"wrt.*got"):
        derive("sum(X)", XP, wrt=wrt)


@pytest.mark.parametrize("expr", [pytest.param("(" * 250 + "X" + ")" * 250, id="250-parentheses"),
                                  pytest.param("sum(" + "-" * 20000 + "X)", id="20000-minus-signs")])
def test_an_expression_nested_beyond_the_limit_names_the_limit(expr):
    with pytest.raises(ValueError, match=r"nest.*at most [\d,]+"):
        parse(expr, XP)


def test_evaluate_pure_names_a_bad_sizes():
    with pytest.raises(TypeError, match="sizes"):
        evaluate_pure("sum(X)", {"X": [[1.0]]}, XP, sizes=[3])


def test_a_size_named_only_by_an_unused_variable_is_asked_for_by_name():
    d = derive("n * sum(c * c)", {"c": (1, 1), "X": ("n", "p")})
    with pytest.raises(ValueError, match=r"size of 'n': give X too"):
        d.gradients({"c": np.ones((1, 1))})


def test_an_unused_variable_may_give_a_size():
    d = derive("n * sum(c * c)", {"c": (1, 1), "X": ("n", "p")})
    np.testing.assert_array_equal(d.gradients({"c": [[1.5]], "X": np.ones((4, 2))})["c"], [[2 * 4 * 1.5]])


def test_a_value_for_a_name_without_a_shape_is_refused():
    with pytest.raises(ValueError, match=r"values: 'Y' has no shape"):
        derive("sum(X)", XP).gradients({"X": np.ones((2, 3)), "Y": np.ones(1)})
