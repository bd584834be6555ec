"""The checker can be fooled neither way: no false blame, no false pass, the right cause named.

Each group below is a reproducible call a skeptical user would try: arguments that are
not C-contiguous, points and steps where finite differences fail, an f that writes into
its argument, gradients too small for a fixed absolute tolerance, mistakes whose
diagnosis used to name the wrong cause, and parameters of the wrong type. Expected
numbers are written out by hand (d/dA sum(A**2) = 2A, d/da log a = 1/a, ...).
"""

from __future__ import annotations

import numpy as np
import pytest

from derivlib import sigmoid_layer, two_layer
from derivlib.check import (
    ArgReport,
    Diagnosis,
    FiniteDifferenceError,
    GradCheckError,
    GradCheckReport,
    gradcheck,
    numerical_gradient,
    numerical_jvp,
)


def square_sum(A):
    return np.sum(A ** 2)


A0 = np.arange(1.0, 7.0).reshape(2, 3)

# ---------------------------------------------------------------- 1. non-C-contiguous arguments

LAYOUTS = [
    pytest.param(lambda: np.asfortranarray(A0), id="fortran-order"),
    pytest.param(lambda: np.ascontiguousarray(A0.T).T, id="transposed-view"),
    pytest.param(lambda: np.broadcast_to(np.arange(1.0, 4.0), (2, 3)), id="broadcast-to"),
    pytest.param(lambda: np.arange(1.0, 13.0).reshape(2, 6)[:, ::2], id="strided-slice"),
]


@pytest.mark.parametrize("make", LAYOUTS)
def test_numerical_gradient_of_a_non_contiguous_argument_is_2A(make, fd_atol):
    A = make()
    (g,) = numerical_gradient(square_sum, (A,))
    np.testing.assert_allclose(g, 2 * np.array(A), rtol=0, atol=fd_atol(square_sum(A)))


@pytest.mark.parametrize("make", LAYOUTS)
def test_gradcheck_passes_a_correct_gradient_of_a_non_contiguous_argument(make):
    A = make()
    report = gradcheck(square_sum, (A,), (2 * np.array(A),))
    assert report.arguments[0].mode == "full+directional"


def test_sigmoid_layer_with_transposed_weights_passes_gradcheck():
    rng = np.random.default_rng(0)
    X, W, b, G = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)).T, rng.normal(size=2), rng.normal(size=(4, 2))
    assert not W.flags.c_contiguous
    gradcheck(lambda X, W, b: np.sum(G * sigmoid_layer.forward(X, W, b)), (X, W, b),
              sigmoid_layer.backward(X, W, b, G))


# ---------------------------------------------------------------- 2. when finite differences fail


def _layer_loss(G):
    return lambda X, W, b: np.sum(G * sigmoid_layer.forward(X, W, b))


def _layer(scale_X=1.0, scale_W=1.0):
    rng = np.random.default_rng(0)
    X = scale_X * (1 + rng.random((4, 3)))
    W, b, G = scale_W * rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 2))
    return _layer_loss(G), (X, W, b), sigmoid_layer.backward(X, W, b, G)


def _log_case():
    a = np.array([1e-5, 2e-5])
    return (lambda a: np.sum(np.log(a))), (a,), (1 / a,)


def _sqrt_near_zero():
    a = np.array([5e-7, 1.0])  # a - eps < 0 only in the first entry

    def f(a):
        return np.sum(np.sqrt(a)) if (a >= 0).all() else np.nan

    return f, (a,), (0.5 / np.sqrt(a),)


# (id, case, keyword arguments, kind): a correct gradient, finite differences that cannot check it
UNTRUSTED = [
    ("log-at-1e-5", _log_case, {}, Diagnosis.CURVATURE),
    ("sigmoid-layer-X-1e6-W-1e-6", lambda: _layer(1e6, 1e-6), {}, Diagnosis.CURVATURE),
    ("eps-1", lambda: _layer(), dict(eps=1.0), Diagnosis.CURVATURE),
    ("eps-1e-20", lambda: _layer(), dict(eps=1e-20), Diagnosis.STEP_LOST),
    ("args-1e12", lambda: (square_sum, (np.array([1e12, 2e12]),), (np.array([2e12, 4e12]),)), {},
     Diagnosis.STEP_LOST),
    ("f-returns-float32", lambda: (lambda A: np.float32(square_sum(A)), (A0,), (2 * A0,)), {},
     Diagnosis.LOW_PRECISION),
    ("relu-at-its-kink-slope-0", lambda: (lambda a: np.sum(np.maximum(a, 0)), (np.array([0.0, 1.0]),),
                                          (np.array([0.0, 1.0]),)), {}, Diagnosis.KINK),
    ("relu-at-its-kink-slope-1", lambda: (lambda a: np.sum(np.maximum(a, 0)), (np.array([0.0, 1.0]),),
                                          (np.array([1.0, 1.0]),)), {}, Diagnosis.KINK),
    ("nan-only-at-a-minus-eps", _sqrt_near_zero, {}, Diagnosis.NOT_FINITE_NEARBY),
    ("sum-squares-at-1e6-off-by-0.1-percent",
     lambda: (square_sum, (1e6 + A0,), (2.002 * (1e6 + A0),)), {}, Diagnosis.ROUNDING),
]


@pytest.mark.parametrize("case, kwargs, kind", [pytest.param(*c[1:], id=c[0]) for c in UNTRUSTED])
def test_finite_differences_that_cannot_be_trusted_raise_finite_difference_error(case, kwargs, kind):
    f, args, grads = case()
    with pytest.raises(FiniteDifferenceError) as info:
        gradcheck(f, args, grads, **kwargs)
    assert info.value.kind is kind, info.value.diagnosis
    assert kind.finite_differences
    assert "cannot be checked here" in str(info.value) and "is wrong" not in str(info.value)


# correct gradients at points where a fixed tolerance or the nominal step 2 eps blamed them
TRUSTED = [
    pytest.param(lambda: (square_sum, (1e6 + A0,), (2 * (1e6 + A0),)), id="sum-squares-at-1e6"),
    pytest.param(lambda: ((lambda x: 1e8 * x[0] ** 2 + x[1] ** 2), (np.array([1.0, 1.0]),), (np.array([2e8, 2.0]),)),
                 id="1e8-x0-squared-plus-x1-squared"),
    pytest.param(lambda: ((lambda a: np.sum(a)), (np.array([1e8, 3e8]),), (np.ones(2),)), id="sum-at-1e8"),
]


@pytest.mark.parametrize("case", TRUSTED)
def test_a_correct_gradient_where_the_step_is_rounded_passes(case):
    f, args, grads = case()
    gradcheck(f, args, grads)


@pytest.mark.parametrize("x", [pytest.param(1e8, id="1e8"), pytest.param(3e9, id="3e9"),
                               pytest.param(-7e7, id="minus-7e7")])
def test_numerical_gradient_divides_by_the_step_actually_taken(x):
    # f(a) = a: (f(x + eps) - f(x - eps)) / ((x + eps) - (x - eps)) is 1 exactly; over 2 eps it is not
    (g,) = numerical_gradient(lambda a: np.sum(a), (np.array([x]),))
    assert g[0] == 1.0


@pytest.mark.parametrize("run", [
    pytest.param(lambda: numerical_gradient(square_sum, (np.array([1e12]),)), id="numerical_gradient"),
    pytest.param(lambda: numerical_jvp(square_sum, (np.array([1e12]),), 0, np.ones(1)), id="numerical_jvp"),
])
def test_a_step_lost_in_rounding_is_an_error_not_a_zero(run):
    with pytest.raises(FiniteDifferenceError, match=r"step is lost in rounding") as info:
        run()
    assert info.value.kind is Diagnosis.STEP_LOST


# ---------------------------------------------------------------- 3. f that writes into its argument


def _scales_in_place(a):
    a *= 2
    return a.sum()


def _adds_in_place(a):
    a += 1.0
    return np.sum(a ** 2)


@pytest.mark.parametrize("f, grad", [
    pytest.param(_scales_in_place, lambda a: 2 * np.ones_like(a), id="a-times-2-in-place"),
    pytest.param(_adds_in_place, lambda a: 2 * (a + 1), id="a-plus-1-in-place"),
])
def test_an_f_that_mutates_its_argument_gets_a_fresh_copy(f, grad, fd_atol):
    a = np.array([0.5, -1.0, 2.0])
    before = a.copy()
    (g,) = numerical_gradient(f, (a,))
    np.testing.assert_allclose(g, grad(a), rtol=0, atol=fd_atol(10.0))
    gradcheck(f, (a,), (grad(a),))
    np.testing.assert_array_equal(a, before)


# ---------------------------------------------------------------- 4. small gradients

SMALL_WRONG = [
    pytest.param(np.zeros_like, id="zero"),
    pytest.param(np.negative, id="sign-flipped"),
    pytest.param(lambda g: g[::-1], id="rows-permuted"),
]


@pytest.mark.parametrize("scale", [pytest.param(1e-7, id="1e-7"), pytest.param(1e-12, id="1e-12")])
@pytest.mark.parametrize("wrong", SMALL_WRONG)
def test_a_wrong_small_gradient_fails(scale, wrong):
    a = np.arange(1.0, 7.0).reshape(3, 2)
    with pytest.raises(GradCheckError) as info:
        gradcheck(lambda a: scale * np.sum(a ** 2), (a,), (wrong(2 * scale * a),))
    assert not info.value.kind.finite_differences


def _small_network(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X, W1, b1 = rng.normal(size=(n, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    W2, b2 = 1e-3 * rng.normal(size=(4, 2)), rng.normal(size=2)
    Y = np.eye(2)[rng.integers(0, 2, size=n)]
    return (X, W1, b1, W2, b2, Y), two_layer.backward(X, W1, b1, W2, b2, Y)


@pytest.mark.parametrize("wrong", SMALL_WRONG)
def test_a_wrong_small_dX_of_a_two_layer_network_fails(wrong):
    args, g = _small_network()
    assert np.abs(g.dX).max() < 1e-6
    with pytest.raises(GradCheckError) as info:
        gradcheck(two_layer.forward, args, (wrong(g.dX), None, None, None, None, None))
    assert info.value.argument == "X" and not info.value.kind.finite_differences


def test_the_correct_small_dX_of_a_two_layer_network_passes():
    args, g = _small_network()
    gradcheck(two_layer.forward, args, (*g, None))


@pytest.mark.parametrize("f, args, grads", [
    pytest.param(square_sum, (np.zeros((2, 2)),), (np.zeros((2, 2)),), id="minimum-of-sum-of-squares"),
    pytest.param(lambda a, b: np.sum(b), (np.ones(3), np.ones(2)), (np.zeros(3), np.ones(2)), id="f-ignores-a"),
    pytest.param(lambda a: 5.0 + 0 * np.sum(a), (np.ones(3),), (np.zeros(3),), id="constant-f"),
])
def test_a_true_zero_gradient_passes(f, args, grads):
    gradcheck(f, args, grads)


@pytest.mark.parametrize("scale", [pytest.param(s, id=f"{s:g}") for s in (1e-12, 1e-6, 1.0, 1e6, 1e12)])
@pytest.mark.parametrize("mode", [pytest.param(200, id="full"), pytest.param(0, id="directional")])
def test_a_correct_gradient_of_any_scale_passes(scale, mode):
    a = np.arange(1.0, 7.0).reshape(3, 2)
    gradcheck(lambda a: scale * np.sum(np.sin(a)), (a,), (scale * np.cos(a),), full_max_size=mode)


# ---------------------------------------------------------------- 5. diagnoses that name the right cause


def _diagnose(f, args, grads, **kwargs):
    with pytest.raises(GradCheckError) as info:
        gradcheck(f, args, grads, **kwargs)
    return info.value


def _sigmoid_parts(n=5, q=2):
    rng = np.random.default_rng(1)
    X, W, b, G = rng.normal(size=(n, 3)), rng.normal(size=(3, q)), rng.normal(size=q), rng.normal(size=(n, q))
    S = sigmoid_layer.forward(X, W, b)
    return _layer_loss(G), (X, W, b), sigmoid_layer.backward(X, W, b, G), G * S * (1 - S)


def test_a_sign_flip_of_a_small_gradient_is_a_sign_flip():
    a = np.arange(1.0, 7.0).reshape(3, 2)
    err = _diagnose(lambda a: 1e-7 * np.sum(a ** 2), (a,), (-2e-7 * a,))
    assert err.kind is Diagnosis.SIGN_FLIPPED


@pytest.mark.parametrize("mode", [pytest.param(200, id="full"), pytest.param(0, id="directional")])
def test_one_row_where_the_batch_sum_belongs_is_not_ruled_out(mode):
    f, args, g, Delta = _sigmoid_parts()
    err = _diagnose(f, args, g._replace(db=Delta[0]), full_max_size=mode)
    assert err.argument == "b" and err.kind is Diagnosis.WRONG_VALUES
    assert "missing sum" not in err.diagnosis and "one row taken where a sum over the batch" in err.diagnosis


def test_a_mean_where_the_loss_sums_is_named_1_over_n():
    f, args, g, Delta = _sigmoid_parts(n=5)
    err = _diagnose(f, args, g._replace(db=Delta.mean(axis=0)))
    assert err.kind is Diagnosis.MEAN_WHERE_SUM
    assert "1/5 times the true gradient" in err.diagnosis


@pytest.mark.parametrize("factor", [pytest.param(3.0, id="times-3"), pytest.param(-1.0, id="negated"),
                                    pytest.param(0.2, id="one-fifth")])
def test_a_one_entry_argument_is_not_called_a_constant_factor(factor):
    f, args, g, _ = _sigmoid_parts(q=1)
    err = _diagnose(f, args, g._replace(db=factor * g.db))
    assert err.argument == "b" and err.kind is Diagnosis.ONE_VALUE


def test_the_sign_flip_of_an_antisymmetric_gradient_names_both_causes():
    C = np.array([[0.0, 1.5, -2.0], [-1.5, 0.0, 0.5], [2.0, -0.5, 0.0]])
    err = _diagnose(lambda A: np.sum(C * A), (np.ones((3, 3)),), (-C,))
    assert err.kind is Diagnosis.TRANSPOSED_OR_SIGN_FLIPPED
    assert "transpose" in err.diagnosis and "sign flip" in err.diagnosis


KINDS = [
    ("transposed-square", lambda g, D: g._replace(dW=g.dW.T), 3, Diagnosis.TRANSPOSED),
    ("transposed-nonsquare", lambda g, D: g._replace(dW=g.dW.T), 2, Diagnosis.SHAPE_TRANSPOSED),
    ("flattened", lambda g, D: g._replace(dX=g.dX.ravel()), 2, Diagnosis.SHAPE_FLATTENED),
    ("bias-not-summed", lambda g, D: g._replace(db=D), 2, Diagnosis.SHAPE_NOT_SUMMED),
    ("unrelated-shape", lambda g, D: g._replace(dW=np.ones((5, 5))), 2, Diagnosis.SHAPE_UNRELATED),
    ("sign-flipped", lambda g, D: g._replace(dX=-g.dX), 2, Diagnosis.SIGN_FLIPPED),
    ("times-2", lambda g, D: g._replace(dW=2 * g.dW), 2, Diagnosis.CONSTANT_FACTOR),
    ("zero", lambda g, D: g._replace(dW=0 * g.dW), 2, Diagnosis.ZERO),
    ("nan", lambda g, D: g._replace(dW=np.full_like(g.dW, np.nan)), 2, Diagnosis.NOT_FINITE),
]


@pytest.mark.parametrize("wrong, q, kind", [pytest.param(*c[1:], id=c[0]) for c in KINDS])
def test_every_diagnosis_has_its_kind(wrong, q, kind):
    f, args, g, Delta = _sigmoid_parts(n=4, q=q)
    assert _diagnose(f, args, wrong(g, Delta)).kind is kind


def test_a_true_gradient_of_zero_is_its_own_kind():
    err = _diagnose(square_sum, (np.zeros((2, 2)),), (np.ones((2, 2)),))
    assert err.kind is Diagnosis.TRUE_GRADIENT_ZERO


# ---------------------------------------------------------------- 6. parameters and return values

G0 = (2 * A0,)
BAD = [
    ("eps-str", dict(eps="1e-6"), TypeError, r"^eps must be a real number; got str"),
    ("eps-None", dict(eps=None), TypeError, r"^eps must be a real number; got NoneType"),
    ("eps-array", dict(eps=np.array([1e-6, 1e-6])), TypeError, r"^eps must be a real number; got ndarray"),
    ("eps-True", dict(eps=True), TypeError, r"^eps must be a real number; got bool"),
    ("atol-None", dict(atol=None), TypeError, r"^atol must be a real number; got NoneType"),
    ("rtol-complex", dict(rtol=1j), TypeError, r"^rtol must be a real number; got complex"),
    ("full_max_size-None", dict(full_max_size=None), TypeError, r"^full_max_size must be a whole number"),
    ("full_max_size-nan", dict(full_max_size=float("nan")), TypeError, r"^full_max_size must be a whole number.*float"),
    ("full_max_size-negative", dict(full_max_size=-1), ValueError, r"^full_max_size must be a whole number >= 0; got -1"),
    ("seed-negative", dict(seed=-1), ValueError, r"^seed must be a whole number >= 0.*got -1"),
    ("seed-None", dict(seed=None), TypeError, r"^seed must be a whole number >= 0 \(None would make the check irreproducible\)"),
    ("n_directions-True", dict(n_directions=True), TypeError, r"^n_directions must be a whole number.*got bool"),
    ("names-not-str", dict(names=[1]), TypeError, r"^names must be strings"),
]


@pytest.mark.parametrize("kwargs, error, message", [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_a_bad_parameter_is_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        gradcheck(square_sum, (A0,), G0, **kwargs)


@pytest.mark.parametrize("grads, message", [
    pytest.param(2 * A0, r"^grads must be a tuple or list .*got an ndarray of shape \(2, 3\)", id="bare-array"),
    pytest.param((g for g in G0), r"^grads must be a tuple or list .*got generator", id="generator"),
])
def test_grads_must_be_a_sequence(grads, message):
    with pytest.raises(TypeError, match=message):
        gradcheck(square_sum, (A0,), grads)


@pytest.mark.parametrize("value", [
    pytest.param(None, id="None"), pytest.param(1 + 2j, id="complex"), pytest.param("1.0", id="str"),
    pytest.param(np.bool_(True), id="np-bool"), pytest.param(np.array([1j]), id="complex-array"),
])
@pytest.mark.parametrize("run", [
    pytest.param(lambda f: gradcheck(f, (A0,), G0), id="gradcheck"),
    pytest.param(lambda f: numerical_gradient(f, (A0,)), id="numerical_gradient"),
    pytest.param(lambda f: numerical_jvp(f, (A0,), 0, A0), id="numerical_jvp"),
])
def test_f_must_return_a_real_scalar(value, run):
    with pytest.raises(TypeError, match=r"^f must return a real scalar"):
        run(lambda A: value)


def test_wrt_must_be_a_sequence():
    with pytest.raises(TypeError, match=r"^wrt must be a sequence of argument indices, e\.g\. \[0\]; got int 0"):
        numerical_gradient(square_sum, (A0,), wrt=0)


@pytest.mark.parametrize("point, mode", [pytest.param(A0, 200, id="full"), pytest.param(A0, 0, id="directional"),
                                         pytest.param(0 * A0, 200, id="zero-gradient")])
def test_report_fields_have_one_type_each(point, mode):
    report = gradcheck(square_sum, (np.float32(point),), (2 * point,), full_max_size=mode)
    assert isinstance(report, GradCheckReport)
    assert [type(v) for v in report] == [float, float, int, tuple]
    for arg in report.arguments:
        assert isinstance(arg, ArgReport)
        assert [type(v) for v in arg] == [str, str, float, float]


def test_a_passing_zero_gradient_reports_a_relative_error_of_at_most_one():
    # the finite differences are exactly 0, the gradient 1e-20 sits far below f's rounding
    # noise: it passes, and its relative error is measured against that noise, not the tiniest float
    report = gradcheck(lambda a: 1e12 + 0 * np.sum(a), (np.ones((2, 2)),), (np.full((2, 2), 1e-20),))
    assert 0 < report.max_rel_error <= 1


def test_an_exact_zero_gradient_has_relative_error_zero():
    report = gradcheck(lambda a: 5.0 + 0 * np.sum(a), (np.ones((2, 2)),), (np.zeros((2, 2)),))
    assert report.max_rel_error == 0.0
