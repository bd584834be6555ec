"""The generated numpy code broadcasts a row against a full array instead of building
``np.ones((n, 1)) @ row`` first: the same numbers, one pass over memory less.

Expected gradients come from PyTorch autograd at float64 (:mod:`verification.torch_oracle`).
"""

from __future__ import annotations

import numpy as np
import pytest

from derivlib.engine import derive
from verification.torch_oracle import torch_gradients

BN = "C = X - mean(X, axis=0); V = mean(C ** 2, axis=0); Y = C / sqrt(V + 0.00001); sum(G * (Y * gamma + beta))"
BN_SHAPES = {"X": (6, 4), "gamma": (1, 4), "beta": (1, 4), "G": (6, 4)}
CASES = [
    pytest.param(BN, BN_SHAPES, id="batch-norm"),
    pytest.param("sum(G * (X - mean(X, axis=0)) ** 2)", {"X": (5, 3), "G": (5, 3)}, id="centred-square"),
    pytest.param("sum(G * X / sum(X * X, axis=1))", {"X": (5, 3), "G": (5, 3)}, id="row-normalised"),
]


def _backward(d, values):
    namespace = {}
    exec(compile(d.numpy_source(), "<numpy_source>", "exec"), namespace)
    return namespace["backward"](**values)


def _values(shapes):
    rng = np.random.default_rng(0)
    return {k: rng.standard_normal(s) + (3.0 if k == "X" else 0.0) for k, s in shapes.items()}


def test_batch_norm_source_has_no_outer_product_feeding_an_elementwise_step():
    source = derive(BN, BN_SHAPES).numpy_source()
    assert "np.ones((6, 1)) @ G_V * C" not in source
    assert "G_V / 3 * C" in source


def test_a_column_spread_over_the_columns_is_broadcast_too():
    source = derive("sum(G * X / sum(X * X, axis=1))", {"X": (5, 3), "G": (5, 3)}).numpy_source()
    assert "@ np.ones((1, 3)) * X" not in source


@pytest.mark.parametrize("expr, shapes", CASES)
def test_the_broadcast_gradients_equal_torch(expr, shapes):
    values = _values(shapes)
    d = derive(expr, shapes)
    got = _backward(d, values)
    want = torch_gradients(expr, values, {}, d.wrt)
    for v in d.wrt:
        assert got[v].shape == values[v].shape, v
        np.testing.assert_allclose(got[v], want[v], rtol=1e-12, atol=1e-12, err_msg=f"G_{v} of {expr}")


SPREAD_CASES = [
    pytest.param("sum(G * (X - mean(X, axis=0)))", {"X": (5, 3), "G": (5, 3)}, id="centred-rows"),
    pytest.param("sum(G * (X - mean(X, axis=1)))", {"X": (5, 3), "G": (5, 3)}, id="centred-columns"),
    pytest.param("sum(G * (X + mean(Y, axis=0)))", {"X": (5, 3), "Y": (4, 3), "G": (5, 3)}, id="spread-gradient"),
    pytest.param("sum(G * tanh(X - mean(X, axis=0)) * (X - mean(X, axis=0)))", {"X": (5, 3), "G": (5, 3)},
                 id="spread-in-a-product"),
    pytest.param("sum(G * X * sum(X, axis=0))", {"X": (5, 3), "G": (5, 3)}, id="row-factor-in-a-sum"),
    pytest.param("sum(G * X / sum(X, axis=1))", {"X": (5, 3), "G": (5, 3)}, id="column-divisor-in-a-sum"),
    pytest.param("sum(W * sum(X * Y, axis=0))", {"X": (5, 3), "Y": (5, 3), "W": (1, 3)}, id="product-summed-over-rows"),
    pytest.param("sum(V * sum(X * Y, axis=1))", {"X": (5, 3), "Y": (5, 3), "V": (5, 1)}, id="product-summed-over-columns"),
    pytest.param("sum(W * sum(X * X, axis=0))", {"X": (5, 3), "W": (1, 3)}, id="square-summed-over-rows"),
    pytest.param("sum(W * mean(X ** 2, axis=0))", {"X": (5, 3), "W": (1, 3)}, id="mean-square-over-rows"),
    pytest.param("sum(V * sum((X + 1) ** 2, axis=1))", {"X": (5, 3), "V": (5, 1)}, id="sum-square-over-columns"),
    pytest.param("c = X.T.T; sum(tanh(sum(c, axis=1)))", {"X": (3, 2)}, id="spread-returned-through-an-alias"),
    pytest.param("sum(G * (X + mean(X, axis=0)) / sum(X, axis=1))", {"X": (5, 3), "G": (5, 3)}, id="spread-over-spread"),
]


def test_batch_norm_source_builds_no_outer_product_with_ones():
    source = derive(BN, BN_SHAPES).numpy_source()
    assert "np.ones((6, 1)) @" not in source


def test_batch_norm_source_divides_the_column_sums_by_the_row():
    source = derive(BN, BN_SHAPES).numpy_source()
    assert "/ Q ** 2).sum(" not in source


def test_batch_norm_source_scales_the_row_not_the_full_array():
    source = derive(BN, BN_SHAPES).numpy_source()
    assert "G_V * C / 3" not in source


def test_a_sum_of_a_product_over_rows_builds_no_product_array():
    source = derive(BN, BN_SHAPES).numpy_source()
    assert "(G_Y * C).sum(" not in source
    assert "(G * Y).sum(" not in source


def test_a_mean_of_a_square_over_rows_builds_no_square_array():
    source = derive(BN, BN_SHAPES).numpy_source()
    assert "(C ** 2).mean(" not in source


def test_a_quotient_of_ones_by_a_column_is_written_without_the_full_ones():
    source = derive("sum(G * X / sum(X, axis=1))", {"X": (5, 3), "G": (5, 3)}).numpy_source()
    assert "np.ones((5, 3)) /" not in source


@pytest.mark.parametrize("expr, shapes", SPREAD_CASES)
def test_the_spread_and_hoisted_gradients_equal_torch(expr, shapes):
    values = _values(shapes)
    d = derive(expr, shapes)
    got = _backward(d, values)
    want = torch_gradients(expr, values, {}, d.wrt)
    for v in d.wrt:
        assert got[v].shape == values[v].shape, v
        np.testing.assert_allclose(got[v], want[v], rtol=1e-12, atol=1e-12, err_msg=f"G_{v} of {expr}")
