"""Tests of derivlib.sigmoid_layer: S = sigmoid(X W + b) over a batch, the question of docs/sigmoid_layer.md.

Reference: central differences from derivlib.check. Tolerance: the ``fd_atol``
fixture of conftest.py, with scale = sum |G| (L = sum G o S and 0 < S < 1, so no
term that f adds up exceeds it).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivlib import sigmoid_layer
from derivlib.check import gradcheck, numerical_gradient
from verification.cases import CASES

# (n, p, q, layout of b)
SHAPES = [
    pytest.param((1, 3, 2, "b1d"), id="n1-p3-q2-b1d"),
    pytest.param((1, 1, 1, "b2d"), id="n1-p1-q1-b2d"),
    pytest.param((4, 3, 2, "b1d"), id="n4-p3-q2-b1d"),  # a batch, as in the source
    pytest.param((4, 3, 2, "b2d"), id="n4-p3-q2-b2d"),  # b (1, q), the source's layout
    pytest.param((3, 4, 4, "b1d"), id="n3-p4-q4-square"),  # p == q: Delta X^T would conform
    pytest.param((6, 2, 5, "b2d"), id="n6-p2-q5-b2d"),
]
CASE = CASES["sigmoid_layer"]
SEEDS = [pytest.param(s, id=f"seed{s}") for s in (0, 1)]
UPSTREAM = [pytest.param(True, id="G"), pytest.param(False, id="G=None")]


def make_inputs(shape, seed):
    return CASE.inputs(shape, seed)  # the shared case: verification/cases.py


def loss(G):
    """L(X, W, b) = sum of G o S: its gradient is what backward(X, W, b, G) returns."""
    return lambda X, W, b: np.sum(G * sigmoid_layer.forward(X, W, b))


@pytest.mark.parametrize("shape", SHAPES)
def test_G_none_is_the_gradient_of_the_sum_of_S(shape, fd_atol):
    X, W, b, _ = make_inputs(shape, 0)
    n, q = X.shape[0], W.shape[1]
    grads = sigmoid_layer.backward(X, W, b)
    num = numerical_gradient(lambda X, W, b: sigmoid_layer.forward(X, W, b).sum(), (X, W, b))
    for analytic, numeric in zip(grads, num):
        np.testing.assert_allclose(analytic, numeric, rtol=0, atol=fd_atol(n * q))
    explicit = sigmoid_layer.backward(X, W, b, np.ones((n, q)))
    for a, e in zip(grads, explicit):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_have_the_shape_of_their_argument(shape):
    X, W, b, G = make_inputs(shape, 0)
    grads = sigmoid_layer.backward(X, W, b, G)
    assert grads._fields == ("dX", "dW", "db")
    assert grads.dX.shape == X.shape
    assert grads.dW.shape == W.shape
    assert grads.db.shape == b.shape  # (q,) stays (q,), (1, q) stays (1, q)
    assert all(g.dtype == np.float64 for g in grads)


@pytest.mark.parametrize("shape", SHAPES)
def test_jacobian_shape_and_contraction_with_G_is_dW(shape):
    X, W, b, G = make_inputs(shape, 1)
    n, p, q, _ = shape
    J = sigmoid_layer.jacobian(X, W, b)
    assert J.shape == (n, q, p, q)
    # dL/dW_kl = sum_ij G_ij dS_ij/dW_kl; both sides are exact formulas, so only rounding differs
    np.testing.assert_allclose(np.einsum("ij,ijkl->kl", G, J), sigmoid_layer.backward(X, W, b, G).dW,
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [pytest.param((2, 2, 3, "b1d"), id="n2-p2-q3"),
                                   pytest.param((1, 3, 1, "b2d"), id="n1-p3-q1")])
def test_jacobian_matches_finite_differences(shape, fd_atol):
    X, W, b, _ = make_inputs(shape, 2)
    n, _, q, _ = shape
    J = sigmoid_layer.jacobian(X, W, b)
    for i in range(n):
        for j in range(q):
            (num,) = numerical_gradient(lambda W: sigmoid_layer.forward(X, W, b)[i, j], (W,))
            # S_ij lies in (0, 1): scale 1
            np.testing.assert_allclose(J[i, j], num, rtol=0, atol=fd_atol(1.0), err_msg=f"S[{i},{j}]")


VALUES = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def layer_inputs(draw):
    n, p, q = (draw(st.integers(1, 6)) for _ in range(3))
    b_shape = draw(st.sampled_from([(q,), (1, q)]))
    return tuple(draw(arrays(np.float64, s, elements=VALUES)) for s in ((n, p), (p, q), b_shape, (n, q)))


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(layer_inputs())
def test_property_gradcheck_on_random_shapes_and_values(inputs):
    X, W, b, G = inputs
    gradcheck(loss(G), (X, W, b), sigmoid_layer.backward(X, W, b, G))
