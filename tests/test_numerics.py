"""Numerics at the edges: extreme magnitudes give finite results and gradients, no warnings.

Property tests (hypothesis, derandomized so that CI and ``make mutate`` see the same
examples) over sigma(+-1000) and random z in +-1e3, logits up to +-1e4, targets with
zeros, and predicted probabilities that underflow to 0. The run has warnings as errors
(pyproject ``filterwarnings = error`` and ``python -W error``), so an overflow or a
``log(0)`` inside derivlib fails here.

References are independent of derivlib: the same formulas evaluated with mpmath at 50
significant digits (mpmath comes with SymPy), then rounded to float64. Tolerances are
stated next to each check in units of float64's machine epsilon ``EPS``. Where finite
differences are meaningful (moderate magnitudes: saturated sigmoids and confident
softmax outputs, but nothing that overflows), gradients are also compared with
``derivlib.check.numerical_gradient`` using the ``fd_atol`` bound of conftest.py.
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivlib import primitives, sigmoid_layer, two_layer
from derivlib.check import numerical_gradient

mpmath.mp.dps = 50
EPS = np.finfo(np.float64).eps
TINY = 1e-320  # absolute slack for subnormal results (they carry fewer significant bits)

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_within(got, want, bound):
    """|got - want| <= bound entry by entry (bound may be an array that broadcasts)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.abs(got - want)
    bad = err > bound
    assert not bad.any(), f"{bad.sum()} entries off: max error {err.max():.3g}\n got {got}\n want {want}"


def finite(*arrays_):
    return all(np.all(np.isfinite(np.asarray(a, dtype=np.float64))) for a in arrays_)


# -- independent references (mpmath, 50 digits) --------------------------------------


def mp_sigmoid(z: float):
    z = mpmath.mpf(z)
    return 1 / (1 + mpmath.exp(-z))


def mp_logsumexp(row):
    return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(t)) for t in row))


def mp_log_softmax(logits):
    return np.array([[float(mpmath.mpf(t) - lse) for t in row]
                     for row, lse in ((row, mp_logsumexp(row)) for row in logits.tolist())])


def mp_softmax(logits):
    return np.array([[float(mpmath.exp(mpmath.mpf(t) - lse)) for t in row]
                     for row, lse in ((row, mp_logsumexp(row)) for row in logits.tolist())])


def mp_cross_entropy(logits, targets):
    return np.array([float(mpmath.fsum(mpmath.mpf(y) * (mp_logsumexp(row) - mpmath.mpf(t))
                                       for y, t in zip(yrow, row)))
                     for row, yrow in zip(logits.tolist(), targets.tolist())])


# -- strategies ------------------------------------------------------------------------

z_values = arrays(np.float64, st.integers(1, 30), elements=st.floats(-1e3, 1e3))
logit_matrices = st.tuples(st.integers(1, 4), st.integers(1, 6)).flatmap(
    lambda nk: arrays(np.float64, nk, elements=st.floats(-1e4, 1e4)))
# non-negative targets with many zeros
target_entry = st.one_of(st.just(0.0), st.just(0.0), st.just(1.0), st.floats(0.0, 3.0))


def logits_and_targets():
    return logit_matrices.flatmap(lambda L: st.tuples(
        st.just(L), arrays(np.float64, L.shape, elements=target_entry)))


EXTREME_Z = np.array([-1000.0, -745.2, -709.8, -36.8, -1e-300, 0.0, 5e-324, 36.8, 709.8, 745.2, 1000.0])
HUGE_LOGITS = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1e-3, -1e4], [0.0, 0.0, 745.0]])


# -- sigmoid ---------------------------------------------------------------------------


def test_sigmoid_of_plus_minus_1000_is_exactly_0_and_1():
    # e^-1000 is about 5e-435, far below the smallest float64: 0 and 1 are the correctly
    # rounded values
    np.testing.assert_array_equal(primitives.sigmoid([-1000.0, 1000.0]), [0.0, 1.0])


@PROPERTY
@given(z_values)
@example(EXTREME_Z)
def test_sigmoid_is_finite_and_correctly_rounded_over_plus_minus_1e3(z):
    s = primitives.sigmoid(z)
    assert s.dtype == np.float64 and finite(s)
    assert np.all((s >= 0) & (s <= 1))
    want = np.array([float(mp_sigmoid(v)) for v in z])
    # e = exp(-|z|) and one division: a few ulps relative, less for subnormal results
    np.testing.assert_allclose(s, want, rtol=4 * EPS, atol=TINY)


@PROPERTY
@given(z_values)
@example(EXTREME_Z)
def test_sigmoid_layer_gradients_stay_finite_when_units_saturate(z):
    # one input feature x = z, W = [[1]], b = 0: Z = z, and with G = 1
    # dX = sigma'(z), dW = sum z sigma'(z), db = sum sigma'(z)
    X = z.reshape(-1, 1)
    g = sigmoid_layer.backward(X, np.ones((1, 1)), np.zeros(1))
    assert finite(*g)
    prime = np.array([float(mp_sigmoid(v) * mp_sigmoid(-v)) for v in z])
    # S (1 - S) has an absolute error below a few EPS (1 - S cancels when S is near 1),
    # so compare absolutely: sigma' itself is at most 1/4
    np.testing.assert_allclose(g.dX.ravel(), prime, rtol=0, atol=4 * EPS)
    np.testing.assert_allclose(g.db, [prime.sum()], rtol=0, atol=4 * EPS * z.size)
    np.testing.assert_allclose(g.dW, [[np.dot(z, prime)]], rtol=0, atol=4 * EPS * np.abs(z).sum() + TINY)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.floats(5.0, 40.0))
def test_saturated_sigmoid_layer_agrees_with_finite_differences(fd_atol, seed, scale):
    # pre-activations up to about +-40 * 3: most units saturated, nothing overflows.
    # p = q = 3, so that wrong formulas such as Delta X^T or Delta W conform and are
    # caught by their values, not by a shape error
    rng = np.random.default_rng(seed)
    X, W, b, G = rng.normal(size=(4, 3)), scale * rng.normal(size=(3, 3)), scale * rng.normal(size=3), rng.normal(size=(4, 3))
    grads = sigmoid_layer.backward(X, W, b, G)
    num = numerical_gradient(lambda X, W, b: np.sum(G * sigmoid_layer.forward(X, W, b)), (X, W, b))
    for name, a, n in zip(grads._fields, grads, num):
        np.testing.assert_allclose(a, n, rtol=0, atol=fd_atol(np.abs(G).sum()), err_msg=name)


# -- softmax, log-softmax, cross-entropy -----------------------------------------------


@PROPERTY
@given(logit_matrices)
@example(HUGE_LOGITS)
def test_softmax_and_log_softmax_of_logits_up_to_1e4(logits):
    p = primitives.softmax(logits)
    logp = primitives.log_softmax(logits)
    assert finite(p, logp)
    assert np.all(p >= 0) and np.all(logp <= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=logits.shape[1] * EPS)
    # log-softmax: theta_j - max and a log of a sum in [1, k]; the subtraction is exact
    # up to an ulp of |theta_j - max| <= 2e4
    scale = 1.0 + np.abs(logits).max(axis=1, keepdims=True)
    assert_within(logp, mp_log_softmax(logits), 8 * EPS * scale)
    # softmax: entries in [0, 1]; exp(s) for s = theta_j - max with |s| error eps|s|
    # changes exp(s) by at most eps s e^s <= eps / e
    np.testing.assert_allclose(p, mp_softmax(logits), rtol=0, atol=8 * EPS)


@PROPERTY
@given(logits_and_targets())
@example((HUGE_LOGITS, np.array([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.5, 0.0]])))
def test_cross_entropy_with_zero_targets_and_underflowing_probabilities(case):
    logits, targets = case
    loss = primitives.cross_entropy(logits, targets)
    assert loss.dtype == np.float64 and loss.shape == (logits.shape[0],)
    assert finite(loss) and np.all(loss >= 0)
    bound = 8 * EPS * (targets * (1.0 + 2 * np.abs(logits).max(axis=1, keepdims=True))).sum(axis=1)
    assert_within(loss, mp_cross_entropy(logits, targets), bound + TINY)


def test_cross_entropy_of_a_class_predicted_with_probability_e_to_minus_20000():
    # softmax([1e4, -1e4])[1] = e^-20000 underflows to 0, yet the loss is its exact -log
    assert primitives.softmax([[1e4, -1e4]])[0, 1] == 0.0
    np.testing.assert_array_equal(primitives.cross_entropy([[1e4, -1e4]], [[0.0, 1.0]]), [2e4])


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.floats(1.0, 40.0), st.integers(1, 4), st.integers(2, 6))
def test_cross_entropy_gradient_agrees_with_finite_differences_for_confident_logits(fd_atol, seed, scale, n, k):
    # logits up to about +-40 * 3: probabilities down to e^-240, still no underflow of
    # the loss; the gradient of sum_i ce_i with respect to logits is yhat * s - y
    rng = np.random.default_rng(seed)
    logits = scale * rng.normal(size=(n, k))
    targets = rng.choice([0.0, 0.0, 1.0, 2.5], size=(n, k))
    num, = numerical_gradient(lambda t: primitives.cross_entropy(t, targets).sum(), (logits,))
    analytic = mp_softmax(logits) * targets.sum(axis=1, keepdims=True) - targets
    L = primitives.cross_entropy(logits, targets).sum()
    np.testing.assert_allclose(num, analytic, rtol=0, atol=fd_atol(1.0 + L))


# -- two-layer network ------------------------------------------------------------------


def network(seed, n, d, h, k, logits_b2, Y):
    rng = np.random.default_rng(seed)
    X, W1, b1 = rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=h)
    return X, W1, b1, np.zeros((h, k)), logits_b2, Y


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), logits_and_targets().filter(lambda c: c[0].shape[0] == 1))
@example(0, 3, (HUGE_LOGITS[:1], np.array([[0.0, 0.0, 1.0]])))
@example(1, 2, (HUGE_LOGITS[3:], np.array([[2.0, 0.0, 0.0]])))
def test_two_layer_with_logits_up_to_1e4_and_underflowing_yhat(seed, n, case):
    # W2 = 0 makes every row's logits Theta = b2 (any value up to +-1e4), so the exact
    # answers follow from softmax(b2) alone: L = mean_i sum_j Y_ij (lse(b2) - b2_j),
    # db2 = mean_i (yhat s_i - Y_i), dW2 = H^T Delta2, and dX, dW1, db1 are exactly 0
    b2, y = case
    Y = np.repeat(y, n, axis=0) * np.arange(1, n + 1)[:, None]  # rows with different sums
    args = network(seed, n, 4, 3, b2.shape[1], b2.ravel(), Y)
    L = two_layer.forward(*args)
    g = two_layer.backward(*args)
    assert isinstance(L, float) and math.isfinite(L) and L >= 0 and finite(*g)
    want_L = mp_cross_entropy(np.repeat(b2, n, axis=0), Y).mean()
    np.testing.assert_allclose(L, want_L, rtol=0, atol=8 * EPS * Y.sum() / n * (1 + 2 * np.abs(b2).max()) + TINY)
    yhat = mp_softmax(b2)[0]
    want_db2 = (yhat[None, :] * Y.sum(axis=1, keepdims=True) - Y).mean(axis=0)
    np.testing.assert_allclose(g.db2, want_db2, rtol=0, atol=8 * EPS * (1 + Y.sum() / n))
    for name in ("dX", "dW1", "db1"):
        np.testing.assert_array_equal(getattr(g, name), 0.0, err_msg=name)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.floats(1.0, 15.0), st.sampled_from(["onehot", "zeros-and-2s", "zero-row"]))
def test_two_layer_with_saturated_hidden_units_agrees_with_finite_differences(fd_atol, seed, scale, target):
    # hidden pre-activations up to about +-15 * 5 (saturated sigmoids), logits up to
    # about +-15 * 4: finite differences are still meaningful here. h = k, so that W2 in
    # place of W2^T, or dW2 transposed, conform and are caught by their values
    rng = np.random.default_rng(seed)
    n, d, h, k = 3, 5, 4, 4
    X, W1, b1 = rng.normal(size=(n, d)), scale * rng.normal(size=(d, h)), scale * rng.normal(size=h)
    W2, b2 = scale * rng.normal(size=(h, k)), scale * rng.normal(size=k)
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    if target == "zeros-and-2s":
        Y = 2 * Y
    elif target == "zero-row":
        Y[0] = 0.0
    args = (X, W1, b1, W2, b2, Y)
    grads = two_layer.backward(*args)
    assert finite(*grads)
    num = numerical_gradient(two_layer.forward, args, wrt=range(5))
    theta_max = np.abs(W2).sum(axis=0).max() + np.abs(b2).max()
    scale_L = Y.sum() / n * (2 * theta_max + math.log(k))
    for name, a, nm in zip(grads._fields, grads, num):
        np.testing.assert_allclose(a, nm, rtol=0, atol=fd_atol(scale_L), err_msg=name)


@pytest.mark.parametrize("b2", [pytest.param(np.array([1e4, 0.0, -1e4]), id="logits-1e4-0-minus-1e4"),
                                pytest.param(np.array([-1e4, 1e4, 1e4]), id="two-tied-winners")])
def test_two_layer_backward_at_huge_logits_is_the_limit(b2):
    # yhat is exactly one-hot (or split evenly between tied winners) in float64
    Y = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    args = network(3, 2, 4, 3, 3, b2, Y)
    g = two_layer.backward(*args)
    yhat = np.where(b2 == b2.max(), 1.0, 0.0) / np.sum(b2 == b2.max())
    np.testing.assert_array_equal(g.db2, yhat - Y.mean(axis=0))


# ---------------------------------------------------------------- at the edges of float64
#
# Each call below gave nan, inf, a numpy warning, an error naming an internal variable,
# or a silently dropped mask. True values are worked out by hand next to each case.

_X2, _W12, _B12, _W22 = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2), np.ones((2, 2))


@pytest.mark.parametrize("logits, targets, want", [
    # the second class has log-probability -2e308 (-inf in float64) but target 0: loss 0
    pytest.param([[1e308, -1e308]], [[1.0, 0.0]], [0.0], id="plus-minus-1e308-target-on-max"),
    # loss = 0.5 * 2e308 = 1e308, computed as 0.5 * 1e308 + 0.5 * 1e308
    pytest.param([[1e308, -1e308]], [[0.5, 0.5]], [1e308], id="plus-minus-1e308-half-on-each"),
    pytest.param([[-1e308, -1e308]], [[0.0, 1.0]], [math.log(2.0)], id="both-minus-1e308"),
])
def test_cross_entropy_at_plus_minus_1e308(logits, targets, want):
    got = primitives.cross_entropy(logits, targets)
    np.testing.assert_allclose(got, want, rtol=4 * EPS, atol=0)


@pytest.mark.parametrize("Y, want", [
    # b2 = [1e308, -1e308] puts all probability on class 0; the targets say class 0: loss 0
    pytest.param([[1.0, 0.0], [1.0, 0.0]], 0.0, id="targets-on-the-large-logit"),
    # one row has target class 1, log-probability -2e308: mean loss 2e308 / 2 = 1e308
    pytest.param([[1.0, 0.0], [0.0, 1.0]], 1e308, id="one-target-on-the-small-logit"),
])
def test_two_layer_forward_with_a_huge_b2(Y, want):
    got = two_layer.forward(_X2, _W12, _B12, _W22, [1e308, -1e308], Y)
    assert got == pytest.approx(want, rel=4 * EPS, abs=0)


def test_two_layer_mean_loss_of_targets_1e308_is_divided_before_summing():
    # equal logits: every log-probability is -log 2; four rows with target 1e308 on class 0
    # sum 4e308 log 2 overflows, the mean 1e308 log 2 does not
    X = np.ones((4, 3))
    Y = np.array([[1e308, 0.0]] * 4)
    assert two_layer.forward(X, _W12, _B12, _W22, _B12, Y) == pytest.approx(1e308 * math.log(2.0), rel=8 * EPS)


def test_two_layer_db2_with_a_target_row_summing_past_1e308_is_finite():
    # one row, targets [1e308, 1e308] (their sum overflows), equal logits: yhat = [1/2, 1/2]
    # dL/dTheta = yhat * 2e308 - Y = [0, 0]; db2 = 0 exactly
    Y = np.array([[1e308, 1e308]])
    g = two_layer.backward(np.ones((1, 3)), _W12, _B12, _W22, _B12, Y)
    np.testing.assert_array_equal(g.db2, [0.0, 0.0])


def test_a_product_whose_terms_overflow_but_cancel_is_exact_in_the_forward():
    # X W = 1e309 - 1e309 = 0 (BLAS gives NaN, or inf with a fused multiply-add): S = sigmoid(0)
    assert sigmoid_layer.forward([[1e308, -1e308]], [[10.0], [10.0]], [0.0]).tolist() == [[0.5]]


def test_a_product_whose_terms_overflow_but_cancel_is_exact_in_the_backward():
    g = sigmoid_layer.backward([[1e308, -1e308]], [[10.0], [10.0]], [0.0])
    delta = 0.25  # sigma'(0), with G = 1
    np.testing.assert_array_equal(g.dW, [[1e308 * delta], [-1e308 * delta]])
    np.testing.assert_array_equal(g.db, [delta])  # b was given as (q,)
    np.testing.assert_array_equal(g.dX, [[10.0 * delta, 10.0 * delta]])


def test_a_two_layer_product_whose_terms_overflow_but_cancel_is_exact():
    # X W1 = 0 as for X = [1, -1, 0]; W2 tells H = sigmoid(0) from the saturated H = 1
    W1, W2, Y = np.full((3, 2), 10.0), np.array([[1.0, 0.0], [0.0, 2.0]]), [[1.0, 0.0]]
    exact = two_layer.forward([[1.0, -1.0, 0.0]], W1, _B12, W2, _B12, Y)
    assert two_layer.forward([[1e308, -1e308, 0.0]], W1, _B12, W2, _B12, Y) == exact


def test_two_layer_overflow_in_the_output_layer_names_W2():
    with pytest.raises(ValueError, match=r"^H @ W2 overflows float64 .*rescale H and W2$"):
        two_layer.forward(_X2, _W12, _B12, np.full((2, 2), 1e308), _B12, np.eye(2))


def test_two_layer_bias_that_overflows_the_logits_names_b2():
    with pytest.raises(ValueError, match=r"^H @ W2 \+ b2 overflows float64 .*rescale H, W2 and b2$"):
        two_layer.forward(_X2, np.full((3, 2), 1e308), _B12, np.full((2, 2), 5e307), np.full(2, 1e308), np.eye(2))


def test_a_mean_loss_that_overflows_is_a_named_error_not_inf():
    # two rows each contributing about 1e308 * 50 / 2 after the division by n: the sum overflows
    Y = np.array([[0.0, 2e307], [0.0, 2e307]])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^the mean loss overflows float64 \(largest target 2e\+307.*rescale Y"):
            two_layer.forward(np.zeros((2, 1)), np.zeros((1, 1)), [50.0], [[10.0, 0.0]], np.zeros(2), Y)


@pytest.mark.parametrize("z", [pytest.param(40.0, id="z=40"), pytest.param(-40.0, id="z=-40"),
                               pytest.param(700.0, id="z=700")])
def test_sigma_prime_of_a_saturated_unit_is_its_exact_value_in_backward_and_jacobian(z):
    # sigma'(z) = e^-|z| / (1 + e^-|z|)^2, while 1 - sigma(40) rounds to 0 in float64
    exact = float(mpmath.exp(-abs(z)) / (1 + mpmath.exp(-abs(z))) ** 2)
    X, W, b, G = [[z]], [[1.0]], [0.0], [[1.0]]
    assert sigmoid_layer.backward(X, W, b, G).dW[0, 0] == pytest.approx(z * exact, rel=4 * EPS, abs=0)
    assert sigmoid_layer.jacobian(X, W, b)[0, 0, 0, 0] == pytest.approx(z * exact, rel=4 * EPS, abs=0)


@pytest.mark.parametrize("shape, where", [pytest.param((4, 2), (3, 1), id="small"),
                                          pytest.param((4096, 64), (4000, 63), id="several-blocks")])
@pytest.mark.parametrize("bad", [pytest.param(np.inf, id="inf"), pytest.param(np.nan, id="nan")])
def test_a_bad_G_at_a_saturated_unit_is_named(shape, where, bad):
    # X W = 1000 everywhere: sigma' is 0, so inf * sigma' is NaN; the message names G and the entry
    n, q = shape
    G = np.ones(shape)
    G[where] = bad
    with pytest.raises(ValueError, match=rf"^G contains NaN or inf \(first at index \({where[0]}, {where[1]}\)"):
        sigmoid_layer.backward(np.full((n, 1), 1000.0), np.ones((1, q)), np.zeros(q), G)


_HUGE = np.array([[1e300, 1e300], [1e300, -1e300]])


@pytest.mark.parametrize("run, name", [
    pytest.param(lambda: sigmoid_layer.backward(np.full((2, 2), 1e-300), _HUGE, [0.0, 0.0], _HUGE), "dX",
                 id="sigmoid-dX"),
    pytest.param(lambda: sigmoid_layer.backward(np.full((2, 2), 1e300), np.full((2, 2), 1e-300), [0.0, 0.0],
                                                _HUGE), "dW", id="sigmoid-dW"),
    pytest.param(lambda: sigmoid_layer.backward(np.zeros((8, 1)), np.zeros((1, 1)), [0.0], np.full((8, 1), 1.7e308)),
                 "db", id="sigmoid-db"),
    pytest.param(lambda: two_layer.backward(np.ones((1, 2)), np.zeros((2, 2)), _B12, np.full((2, 2), 1e308), _B12,
                                            [[1e308, 0.0]]), "dX", id="two-layer-dX"),
])
def test_a_gradient_that_overflows_is_a_named_error_not_a_warning(run, name):
    # the gradient itself exceeds float64: a ValueError naming it, under any np.errstate
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"^{name} = .* overflows float64, itself or in a step before it \(.*\): rescale the inputs$"):
            run()


@pytest.mark.parametrize("X, W, want", [
    pytest.param([[1e308]], [[10.0]], 1.0, id="plus-inf-saturates-to-1"),
    pytest.param([[1e308]], [[-10.0]], 0.0, id="minus-inf-saturates-to-0"),
])
def test_an_overflow_to_one_infinity_saturates_the_sigmoid_exactly(X, W, want):
    assert sigmoid_layer.forward(X, W, [0.0])[0, 0] == want
    g = sigmoid_layer.backward(X, W, [0.0])
    assert all(np.all(np.asarray(v) == 0.0) for v in g)  # sigma' = 0 at +-inf


@pytest.mark.parametrize("run", [
    pytest.param(lambda: primitives.sigmoid([1000.0, -1000.0, -720.0]), id="sigmoid"),
    pytest.param(lambda: primitives.softmax([[1000.0, -1000.0]]), id="softmax"),
    pytest.param(lambda: primitives.log_softmax([[0.0, -800.0]]), id="log_softmax"),
    pytest.param(lambda: primitives.softmax_jacobian([[0.0, -800.0]]), id="softmax_jacobian"),
    pytest.param(lambda: primitives.cross_entropy([[0.0, -800.0]], [[1.0, 0.0]]), id="cross_entropy"),
    pytest.param(lambda: sigmoid_layer.backward([[1000.0]], [[1.0]], [0.0]), id="sigmoid_layer-backward"),
    pytest.param(lambda: sigmoid_layer.jacobian([[-800.0]], [[1.0]], [0.0]), id="sigmoid_layer-jacobian"),
    pytest.param(lambda: two_layer.backward(100 * _X2, _W12, _B12, 300 * _W22 * [[1, -1]], _B12, np.eye(2)),
                 id="two_layer-backward"),
])
def test_underflow_is_not_an_error_under_errstate_raise(run):
    with np.errstate(all="raise"):
        run()


def test_sigmoid_underflow_gives_the_rounded_values():
    with np.errstate(all="raise"):
        s = primitives.sigmoid([1000.0, -1000.0])
    np.testing.assert_array_equal(s, [1.0, 0.0])


@pytest.mark.parametrize("run", [
    pytest.param(lambda m: primitives.sigmoid(m), id="sigmoid"),
    pytest.param(lambda m: primitives.softmax(m), id="softmax"),
    pytest.param(lambda m: sigmoid_layer.forward(m, np.ones((2, 1)), [0.0]), id="sigmoid_layer-X"),
    pytest.param(lambda m: two_layer.forward(np.ones((2, 2)), np.ones((2, 2)), _B12, _W22, _B12, m),
                 id="two_layer-Y"),
    pytest.param(lambda m: numerical_gradient(lambda a: np.sum(a), (m,)), id="numerical_gradient"),
])
def test_a_masked_array_is_a_type_error(run):
    masked = np.ma.masked_array([[1.0, 0.0], [0.0, 1.0]], mask=[[0, 1], [0, 0]])
    with pytest.raises(TypeError, match=r"is a masked array \(1 of 4 entries masked\); derivlib does not honour masks"):
        run(masked)


def test_jacobian_states_the_bytes_it_would_need_before_allocating():
    # n q p q = 1000 * 100 * 100 * 100 = 1e9 float64 entries = 8e9 bytes, above the 2**30 default
    X, W, b = np.ones((1000, 100)), np.ones((100, 100)), np.zeros(100)
    with pytest.raises(MemoryError, match=r"would need 8,000,000,000 bytes .*above the limit of 1,073,741,824 bytes"):
        sigmoid_layer.jacobian(X, W, b)


def test_jacobian_limit_can_be_lowered():
    # 2 * 3 * 2 * 3 = 36 entries = 288 bytes
    with pytest.raises(MemoryError, match=r"would need 288 bytes"):
        sigmoid_layer.jacobian(np.ones((2, 2)), np.ones((2, 3)), np.zeros(3), max_bytes=287)
    assert sigmoid_layer.jacobian(np.ones((2, 2)), np.ones((2, 3)), np.zeros(3), max_bytes=288).shape == (2, 3, 2, 3)
