"""Tests of derivlib.primitives: identities derived independently, and extreme inputs.

Extreme inputs run under ``strict_numerics``: any Python warning is an error, and numpy
raises on overflow, division by zero and invalid operations (underflow to 0 is allowed:
it is exactly what exp(-1000) should do).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest

from derivlib.check import gradcheck, numerical_gradient
from derivlib.primitives import cross_entropy, log_softmax, sigmoid, softmax, softmax_jacobian


@contextlib.contextmanager
def strict_numerics():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def logits(n, k, seed, scale=3.0):
    return scale * np.random.default_rng(seed).normal(size=(n, k))


SIZES = [pytest.param((1, 1), id="n1-k1"), pytest.param((1, 5), id="n1-k5"),
         pytest.param((4, 3), id="n4-k3"), pytest.param((6, 10), id="n6-k10")]

# ---------------------------------------------------------------- sigmoid

Z = np.linspace(-30, 30, 241)


def test_sigmoid_is_odd_around_one_half():
    np.testing.assert_allclose(sigmoid(-Z), 1 - sigmoid(Z), rtol=0, atol=1e-15)


def test_sigmoid_equals_the_tanh_form():
    # 1/(1+e^-z) = (1 + tanh(z/2)) / 2, an independent evaluation
    np.testing.assert_allclose(sigmoid(Z), 0.5 * (1 + np.tanh(Z / 2)), rtol=1e-14, atol=1e-16)


def test_sigmoid_inverts_the_logit():
    z = np.linspace(-20, 20, 81)
    s = sigmoid(z)
    np.testing.assert_allclose(np.log(s) - np.log1p(-s), z, rtol=0, atol=1e-7)  # 1-s loses ~e^-20 relative


def test_sigmoid_derivative_is_s_times_one_minus_s(fd_atol):
    z = np.linspace(-8, 8, 17)
    (num,) = numerical_gradient(lambda z: sigmoid(z).sum(), (z,))
    s = sigmoid(z)
    np.testing.assert_allclose(num, s * (1 - s), rtol=0, atol=fd_atol(z.size))


def test_sigmoid_keeps_shape_and_returns_float64():
    z = np.arange(6).reshape(2, 3)  # integers are promoted
    s = sigmoid(z)
    assert s.shape == (2, 3) and s.dtype == np.float64
    assert sigmoid(0.0) == 0.5


def test_sigmoid_of_plus_minus_1000_is_finite_without_warnings():
    with strict_numerics():
        s = sigmoid(np.array([-1000.0, -745.0, -40.0, 40.0, 745.0, 1000.0]))
    assert np.isfinite(s).all()
    assert s[0] == 0.0 and s[-1] == 1.0
    assert 0 < s[2] < 1e-17 and s[3] == 1.0  # 1 - e^-40 rounds to 1 in float64
    assert ((0 <= s) & (s <= 1)).all()


# ---------------------------------------------------------------- softmax, log_softmax


@pytest.mark.parametrize("size", SIZES)
def test_softmax_rows_are_distributions(size):
    p = softmax(logits(*size, seed=0))
    assert p.shape == size
    assert (p > 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-15 * size[1])


@pytest.mark.parametrize("size", SIZES)
def test_softmax_matches_the_direct_formula_and_ignores_row_shifts(size):
    t = logits(*size, seed=1)
    direct = np.exp(t) / np.exp(t).sum(axis=1, keepdims=True)  # safe here: |t| is about 10 at most
    np.testing.assert_allclose(softmax(t), direct, rtol=1e-13)
    shift = np.random.default_rng(2).normal(size=(size[0], 1)) * 100
    np.testing.assert_allclose(softmax(t + shift), direct, rtol=1e-11)


@pytest.mark.parametrize("size", SIZES)
def test_log_softmax_is_log_of_softmax_without_underflow(size):
    t = logits(*size, seed=3)
    np.testing.assert_allclose(log_softmax(t), np.log(softmax(t)), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(np.exp(log_softmax(t)).sum(axis=1), 1.0, rtol=1e-14)


def test_softmax_and_log_softmax_of_huge_logits_are_finite_without_warnings():
    t = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    with strict_numerics():
        p, lp = softmax(t), log_softmax(t)
    assert np.isfinite(p).all() and np.isfinite(lp).all()
    np.testing.assert_array_equal(p[0], [1.0, 0.0, 0.0])  # e^-1e4 underflows to exactly 0
    np.testing.assert_allclose(p[1], 1 / 3, rtol=1e-15)
    np.testing.assert_allclose(p[2], [0.5, 0.5, 0.0], rtol=1e-15)
    # log softmax = t - max - log(sum e^(t - max)), exact here: the sums are 1, 3 and 2
    np.testing.assert_allclose(lp[0], [0.0, -1e4, -2e4], rtol=1e-15)
    np.testing.assert_allclose(lp[1], -np.log(3), rtol=1e-15)
    np.testing.assert_allclose(lp[2], [-np.log(2), -np.log(2), -2e4 - np.log(2)], rtol=1e-15)


@pytest.mark.parametrize("size", SIZES)
def test_softmax_jacobian_matches_finite_differences(size, fd_atol):
    t = logits(*size, seed=4)
    n, k = size
    J = softmax_jacobian(t)
    assert J.shape == (n, k, k)
    for i in range(n):
        for j in range(k):
            (num,) = numerical_gradient(lambda t: softmax(t)[i, j], (t,))
            # softmax entries lie in (0, 1): scale 1. Row i of num is J[i, j, :]; other rows are 0.
            np.testing.assert_allclose(J[i, j], num[i], rtol=0, atol=fd_atol(1.0), err_msg=f"yhat[{i},{j}]")
            np.testing.assert_array_equal(np.delete(num, i, axis=0), 0.0)


@pytest.mark.parametrize("size", SIZES)
def test_softmax_jacobian_is_symmetric_with_zero_row_sums(size):
    J = softmax_jacobian(logits(*size, seed=5))
    np.testing.assert_allclose(J, J.transpose(0, 2, 1), rtol=0, atol=1e-16)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, rtol=0, atol=1e-15)  # softmax rows sum to 1


# ---------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_cross_entropy_of_uniform_logits_is_log_k(k):
    Y = np.eye(k)[np.arange(3) % k]
    np.testing.assert_allclose(cross_entropy(np.zeros((3, k)), Y), np.log(k), rtol=1e-15, atol=0)
    np.testing.assert_allclose(cross_entropy(np.full((3, k), 7.5), 2 * Y), 2 * np.log(k), rtol=1e-14, atol=0)


def test_cross_entropy_of_a_two_class_row_is_softplus():
    # -log softmax([a, 0])_1 = log(1 + e^-a) for the first class
    a = np.linspace(-20, 20, 41)
    t = np.column_stack([a, np.zeros_like(a)])
    Y = np.tile([1.0, 0.0], (a.size, 1))
    np.testing.assert_allclose(cross_entropy(t, Y), np.logaddexp(0, -a), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("size", SIZES)
def test_cross_entropy_gradient_is_yhat_times_rowsum_minus_y(size, fd_atol):
    t = logits(*size, seed=6)
    Y = np.random.default_rng(7).uniform(0, 2, size=size)  # rows do not sum to 1
    (num,) = numerical_gradient(lambda t: cross_entropy(t, Y).sum(), (t,))
    expected = softmax(t) * Y.sum(axis=1, keepdims=True) - Y
    scale = (Y * np.abs(log_softmax(t))).sum()
    np.testing.assert_allclose(num, expected, rtol=0, atol=fd_atol(scale))
    gradcheck(lambda t: cross_entropy(t, Y).sum(), (t,), (expected,))


def test_cross_entropy_with_underflowing_yhat_is_finite_without_warnings(fd_atol):
    t = np.array([[1e4, -1e4], [0.0, -1e4], [-1e4, 1e4]])
    Y = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    with strict_numerics():
        assert (softmax(t)[:2, 1] == 0.0).all()  # the predicted probability underflows
        losses = cross_entropy(t, Y)
        (grad,) = numerical_gradient(lambda t: cross_entropy(t, Y).sum(), (t,))
    np.testing.assert_allclose(losses, [2e4, 1e4, 0.0], rtol=1e-15, atol=1e-300)
    # d/dt of -log softmax(t)_1 is softmax(t) - e_1: here (1, -1), (1, -1) and (0, 0)
    np.testing.assert_allclose(grad, [[1.0, -1.0], [1.0, -1.0], [0.0, 0.0]], rtol=0, atol=fd_atol(3e4))  # |L| = 3e4


@pytest.mark.parametrize("targets, match", [
    pytest.param(np.ones((2, 4)), r"targets shape \(2, 4\) must equal logits shape \(2, 3\)", id="shape"),
    pytest.param(np.array([[1.0, -1.0, 0.0]] * 2), r"targets must be non-negative; found min -1", id="negative"),
])
def test_cross_entropy_bad_targets(targets, match):
    with pytest.raises(ValueError, match=match):
        cross_entropy(np.zeros((2, 3)), targets)


@pytest.mark.parametrize("fn", [softmax, log_softmax, softmax_jacobian], ids=lambda f: f.__name__)
def test_row_functions_reject_1d_logits_and_nan(fn):
    with pytest.raises(ValueError, match=r"logits must be 2-D .*\(n, k\).*got shape \(3,\)"):
        fn(np.zeros(3))
    with pytest.raises(ValueError, match=r"logits contains NaN or inf .*shape \(1, 2\)"):
        fn(np.array([[0.0, np.nan]]))
