"""Tests of derivlib.two_layer: sigmoid hidden layer, softmax, mean cross-entropy, the question of docs/two_layer.md.

Reference: central differences from derivlib.check. Tolerance: the ``fd_atol``
fixture of conftest.py, with scale = (sum Y / n) * (2 max|Theta| + log k), a bound on
the terms of L = -(1/n) sum Y o log_softmax(Theta); |Theta_ij| <= sum_l |W2_lj| + |b2_j|
because the hidden activations lie in (0, 1).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivlib import sigmoid_layer, two_layer
from derivlib.check import gradcheck
from derivlib.primitives import cross_entropy
from verification.cases import CASES

# (n, d, h, k, layout of the biases); the source has d = 5, h = 3, k = 5 and one row
SHAPES = [
    pytest.param((1, 5, 3, 5, "b2d"), id="n1-d5-h3-k5-b2d"),
    pytest.param((1, 5, 3, 5, "b1d"), id="n1-d5-h3-k5-b1d"),
    pytest.param((4, 5, 3, 5, "b1d"), id="n4-d5-h3-k5-b1d"),
    pytest.param((6, 2, 4, 3, "b2d"), id="n6-d2-h4-k3-b2d"),
    pytest.param((3, 1, 1, 2, "b1d"), id="n3-d1-h1-k2-b1d"),
]
SEEDS = [pytest.param(s, id=f"seed{s}") for s in (0, 1)]


CASE = CASES["two_layer"]
TARGETS = ["onehot", "2x-onehot", "onehot-plus-0.1", "label-smoothed", "zero-row", "random-nonneg"]


def make_inputs(shape, seed, target="onehot"):
    return CASE.inputs(shape, seed, target)  # the shared case: verification/cases.py


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_have_the_shape_of_their_argument(shape):
    X, W1, b1, W2, b2, Y = make_inputs(shape, 0)
    grads = two_layer.backward(X, W1, b1, W2, b2, Y)
    assert grads._fields == ("dX", "dW1", "db1", "dW2", "db2")
    for g, a in zip(grads, (X, W1, b1, W2, b2)):
        assert g.shape == a.shape
        assert g.dtype == np.float64


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", SHAPES)
def test_loss_is_the_mean_of_the_row_cross_entropies(shape, target):
    X, W1, b1, W2, b2, Y = make_inputs(shape, 5, target)
    n = X.shape[0]
    Theta = sigmoid_layer.forward(X, W1, b1) @ W2 + b2
    rows = cross_entropy(Theta, Y)  # (n,)
    L = two_layer.forward(X, W1, b1, W2, b2, Y)
    assert isinstance(L, float)
    np.testing.assert_allclose(n * L, rows.sum(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_duplicating_the_batch_changes_neither_loss_nor_parameter_gradients(shape):
    # With a mean, stacking the batch on itself leaves L and dW, db unchanged and halves
    # each row's dX; with a sum, all of them would double.
    X, W1, b1, W2, b2, Y = make_inputs(shape, 6)
    X2, Y2 = np.vstack([X, X]), np.vstack([Y, Y])
    np.testing.assert_allclose(two_layer.forward(X2, W1, b1, W2, b2, Y2),
                               two_layer.forward(X, W1, b1, W2, b2, Y), rtol=1e-12)
    g, g2 = two_layer.backward(X, W1, b1, W2, b2, Y), two_layer.backward(X2, W1, b1, W2, b2, Y2)
    for name in ("dW1", "db1", "dW2", "db2"):
        np.testing.assert_allclose(getattr(g2, name), getattr(g, name), rtol=1e-12, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(g2.dX, np.vstack([g.dX, g.dX]) / 2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_uniform_prediction_costs_log_k_per_unit_of_target(k):
    # W2 = 0 and b2 = 0 give Theta = 0, softmax 1/k everywhere: each row costs rowsum(Y) log k
    rng = np.random.default_rng(k)
    X, W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    Y = np.vstack([np.eye(k)[0], 2 * np.eye(k)[1], np.zeros(k)])  # row sums 1, 2, 0
    L = two_layer.forward(X, W1, b1, np.zeros((2, k)), np.zeros(k), Y)
    np.testing.assert_allclose(L, (1 + 2 + 0) * np.log(k) / 3, rtol=1e-14)


VALUES = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
TARGET_VALUES = st.floats(0, 3, allow_nan=False, allow_infinity=False)


@st.composite
def network_inputs(draw):
    n, d, h, k = (draw(st.integers(1, 6)) for _ in range(4))
    b1_shape = draw(st.sampled_from([(h,), (1, h)]))
    b2_shape = draw(st.sampled_from([(k,), (1, k)]))
    params = tuple(draw(arrays(np.float64, s, elements=VALUES))
                   for s in ((n, d), (d, h), b1_shape, (h, k), b2_shape))
    return (*params, draw(arrays(np.float64, (n, k), elements=TARGET_VALUES)))


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(network_inputs())
def test_property_gradcheck_on_random_shapes_values_and_targets(args):
    gradcheck(two_layer.forward, args, (*two_layer.backward(*args), None))
