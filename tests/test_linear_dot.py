"""Tests of derivlib.linear_dot: L = sum over rows of (x W + b) y, the question of docs/linear_dot.md.

Reference: central differences from derivlib.check. Tolerance: the ``fd_atol``
fixture of conftest.py, with scale = sum of |x_ik W_kj y_j| + n sum |b_j y_j|, the
magnitudes that f adds up (L is bilinear, so there is no truncation error at all).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivlib import linear_dot
from derivlib.check import gradcheck, numerical_gradient
from verification.cases import CASES

# (n, m, c): the source has x (1, m), W (m, 10), y (10, 1)
SHAPES = [
    pytest.param((1, 4, 10), id="n1-m4-c10"),
    pytest.param((1, 1, 10), id="n1-m1-c10"),
    pytest.param((3, 4, 10), id="n3-m4-c10"),
    pytest.param((5, 2, 3), id="n5-m2-c3"),
    pytest.param((1, 1, 1), id="n1-m1-c1"),
]
CASE = CASES["linear_dot"]
B_LAYOUTS = [pytest.param("b1d", id="b(c,)"), pytest.param("b2d", id="b(1,c)")]
Y_LAYOUTS = [pytest.param("ycol", id="y(c,1)"), pytest.param("yvec", id="y(c,)")]


def make_inputs(shape, b_layout="b2d", y_layout="ycol", seed=0):
    """The shared case (verification/cases.py) in this layout of b and y."""
    return CASE.inputs((*shape, b_layout), seed, "default" if y_layout == "ycol" else "y(c,)")


magnitude = CASES["linear_dot"].magnitude


@pytest.mark.parametrize("y_layout", Y_LAYOUTS)
@pytest.mark.parametrize("b_layout", B_LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_have_the_shape_of_their_argument(shape, b_layout, y_layout):
    x, W, b, y = make_inputs(shape, b_layout, y_layout)
    grads = linear_dot.backward(x, W, b, y)
    assert grads._fields == ("dx", "dW", "db", "dy")
    assert grads.dx.shape == x.shape
    assert grads.dW.shape == W.shape  # (m, c), not the numerator layout's (c, m)
    assert grads.db.shape == b.shape
    assert grads.dy.shape == y.shape


def test_forward_is_f_times_y_for_a_single_row():
    # hand-computed: f = [1, 2] @ [[1, 0, 2], [0, 1, 1]] + [1, 1, 1] = [2, 3, 5]; f @ [1, -1, 2] = 9
    x, W, b, y = np.array([[1.0, 2.0]]), np.array([[1.0, 0, 2], [0, 1, 1]]), np.ones(3), np.array([1.0, -1, 2])
    assert linear_dot.forward(x, W, b, y) == 9.0


@pytest.mark.parametrize("shape", SHAPES)
def test_jacobian_shape_and_contraction_with_dL_df_is_dW(shape):
    x, W, b, y = make_inputs(shape, seed=2)
    n, m, c = shape
    J = linear_dot.jacobian(x, W, b)
    assert J.shape == (n, c, m, c)
    # L = sum_i f_i y, so dL/df_ij = y_j for every row i
    dL_df = np.tile(y.reshape(1, c), (n, 1))
    np.testing.assert_allclose(np.einsum("ij,ijkl->kl", dL_df, J), linear_dot.backward(x, W, b, y).dW,
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [pytest.param((2, 3, 2), id="n2-m3-c2"), pytest.param((1, 2, 3), id="n1-m2-c3")])
def test_jacobian_matches_finite_differences(shape, fd_atol):
    x, W, b, _ = make_inputs(shape, "b1d", seed=3)
    n, _, c = shape
    J = linear_dot.jacobian(x, W, b)
    for i in range(n):
        for j in range(c):
            e_j = np.eye(c)[j]  # f_ij = forward of row i with y = e_j
            (num,) = numerical_gradient(lambda W: linear_dot.forward(x[i:i + 1], W, b, e_j), (W,))
            scale = magnitude(x[i:i + 1], W, b, e_j)
            np.testing.assert_allclose(J[i, j], num, rtol=0, atol=fd_atol(scale), err_msg=f"f[{i},{j}]")


VALUES = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def linear_dot_inputs(draw):
    n, m, c = (draw(st.integers(1, 6)) for _ in range(3))
    b_shape = draw(st.sampled_from([(c,), (1, c)]))
    y_shape = draw(st.sampled_from([(c,), (c, 1)]))
    return tuple(draw(arrays(np.float64, s, elements=VALUES)) for s in ((n, m), (m, c), b_shape, y_shape))


@settings(max_examples=25, derandomize=True, database=None, deadline=None)
@given(linear_dot_inputs())
def test_property_gradcheck_on_random_shapes_and_values(args):
    gradcheck(linear_dot.forward, args, linear_dot.backward(*args))
