"""Tests of derivlib.check: numerical_gradient, and gradcheck's verdicts and diagnoses.

The checker is handed deliberately wrong gradients (the mistakes the source threads
are about: a transpose, a constant factor, a flipped sign, a dropped sigma', a bias
gradient not summed over the batch) and must fail with the right diagnosis; correct
gradients must pass with a sensible report.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from derivlib import linear_dot, sigmoid_layer
from derivlib.check import ArgReport, GradCheckError, GradCheckReport, gradcheck, numerical_gradient

# ---------------------------------------------------------------- numerical_gradient


def test_numerical_gradient_of_sum_of_squares_is_2A(fd_atol):
    A = np.random.default_rng(0).normal(size=(3, 4))
    (g,) = numerical_gradient(lambda A: np.sum(A ** 2), (A,))
    assert g.shape == A.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * A, rtol=0, atol=fd_atol(np.sum(A ** 2)))


def test_numerical_gradient_of_trace_of_product(fd_atol):
    # d tr(AB)/dA = B^T and d tr(AB)/dB = A^T
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 5)), rng.normal(size=(5, 2))
    gA, gB = numerical_gradient(lambda A, B: np.trace(A @ B), (A, B))
    atol = fd_atol(np.abs(A) .ravel() @ np.abs(B.T).ravel())
    np.testing.assert_allclose(gA, B.T, rtol=0, atol=atol)
    np.testing.assert_allclose(gB, A.T, rtol=0, atol=atol)


def test_numerical_gradient_of_sin_is_cos(fd_atol):
    x = np.linspace(-3, 3, 7)
    (g,) = numerical_gradient(lambda x: np.sin(x).sum(), (x,))
    np.testing.assert_allclose(g, np.cos(x), rtol=0, atol=fd_atol(x.size))


def test_numerical_gradient_wrt_skips_other_arguments_and_leaves_inputs_alone(fd_atol):
    A, B = np.arange(4.0).reshape(2, 2), np.ones((2, 2))
    A0 = A.copy()
    gA, gB = numerical_gradient(lambda A, B: np.sum(A * B), (A, B), wrt=[1])
    assert gA is None
    np.testing.assert_allclose(gB, A, rtol=0, atol=fd_atol(A.sum()))
    np.testing.assert_array_equal(A, A0)


def test_numerical_gradient_promotes_integer_input(fd_atol):
    (g,) = numerical_gradient(lambda a: np.sum(a ** 3), (np.array([1, 2, 3]),))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [3.0, 12.0, 27.0], rtol=0, atol=fd_atol(36.0) + 1e-11)  # + eps**2 * f''' = 6e-12


def test_numerical_gradient_rejects_a_non_scalar_f():
    with pytest.raises(ValueError, match=r"f must return a scalar; got an array of shape \(3,\)"):
        numerical_gradient(lambda a: a * 2, (np.ones(3),))


# ---------------------------------------------------------------- a sigmoid layer to get wrong


def sigmoid_case(n, p, q, b_layout="b1d", seed=0):
    """f(X, W, b) = sum(G o sigmoid(X W + b)), its correct gradients, and the pieces
    needed to build the classic wrong ones."""
    rng = np.random.default_rng(seed)
    X, W = rng.normal(size=(n, p)), rng.normal(size=(p, q))
    b = rng.normal(size=(q,) if b_layout == "b1d" else (1, q))
    G = rng.normal(size=(n, q))
    S = sigmoid_layer.forward(X, W, b)

    def f(X, W, b):
        return np.sum(G * sigmoid_layer.forward(X, W, b))

    parts = dict(X=X, W=W, b=b, G=G, S=S, Delta=G * S * (1 - S), n=n)
    return f, (X, W, b), sigmoid_layer.backward(X, W, b, G), parts


# (id, shape (n, p, q, b layout), wrong gradients from (grads, parts), argument, diagnosis)
WRONG = [
    ("dW-transposed-square", (3, 4, 4, "b1d"), lambda g, c: g._replace(dW=g.dW.T), "W",
     r"^equals the transpose of the true gradient$"),
    ("dW-transposed-nonsquare", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=g.dW.T), "W",
     r"^wrong shape \(got \(2, 3\), expected \(3, 2\)\); its transpose is the true gradient"),
    ("dW-DeltaT-X", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=c["Delta"].T @ c["X"]), "W",
     r"^wrong shape \(got \(2, 3\), expected \(3, 2\)\); its transpose is the true gradient"),
    ("dW-times-2", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=2 * g.dW), "W",
     r"^off by a constant factor k = 2 \(1/k = 0\.5\)"),
    ("dW-over-n", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=g.dW / c["n"]), "W",
     r"^off by a constant factor k = 0\.25 \(1/k = 4\)"),
    ("dX-sign-flipped", (4, 3, 2, "b1d"), lambda g, c: g._replace(dX=-g.dX), "X",
     r"^sign flipped: it equals -1 times the true gradient$"),
    ("dW-sigma-prime-dropped", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=c["X"].T @ c["G"]), "W",
     r"^wrong values, not related to the true gradient by a transpose, constant factor or sign flip"),
    ("db-not-summed", (4, 3, 2, "b1d"), lambda g, c: g._replace(db=c["Delta"]), "b",
     r"^wrong shape \(got \(4, 2\), expected \(2,\)\); a rank/broadcast mistake: summing it over axis 0 "
     r"gives the true gradient"),
    ("db-not-summed-b2d", (5, 3, 2, "b2d"), lambda g, c: g._replace(db=c["Delta"]), "b",
     r"^wrong shape \(got \(5, 2\), expected \(1, 2\)\); a rank/broadcast mistake: summing it over axis 0"),
    ("dW-zero", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=np.zeros_like(g.dW)), "W",
     r"^is zero where the true gradient is not$"),
    ("dW-nan", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=np.where(np.eye(3, 2) > 0, np.nan, g.dW)), "W",
     r"^contains NaN or inf$"),
    ("dX-flattened", (4, 3, 2, "b1d"), lambda g, c: g._replace(dX=g.dX.ravel()), "X",
     r"^wrong shape \(got \(12,\), expected \(4, 3\)\); the values are right, only the shape differs: reshape it"),
    ("dW-unrelated-shape", (4, 3, 2, "b1d"), lambda g, c: g._replace(dW=np.ones((5, 5))), "W",
     r"^wrong shape \(got \(5, 5\), expected \(3, 2\)\); no transpose, reshape or sum"),
]


@pytest.mark.parametrize("shape, wrong, argument, diagnosis",
                         [pytest.param(*case[1:], id=case[0]) for case in WRONG])
@pytest.mark.parametrize("mode", [pytest.param(200, id="full"), pytest.param(0, id="directional")])
def test_wrong_gradient_is_caught_and_diagnosed(shape, wrong, argument, diagnosis, mode):
    f, args, grads, parts = sigmoid_case(*shape)
    with pytest.raises(GradCheckError) as info:
        gradcheck(f, args, wrong(grads, parts), full_max_size=mode)
    err = info.value
    assert err.argument == argument
    assert re.search(diagnosis, err.diagnosis), err.diagnosis
    assert err.diagnosis in str(err)


@pytest.mark.parametrize("shape", [pytest.param((4, 3, 2, "b1d"), id="n4-p3-q2-b1d"),
                                   pytest.param((3, 4, 4, "b2d"), id="n3-p4-q4-b2d"),
                                   pytest.param((1, 2, 5, "b1d"), id="n1-p2-q5-b1d")])
@pytest.mark.parametrize("mode", [pytest.param(200, id="full"), pytest.param(0, id="directional")])
def test_correct_gradient_passes_with_a_sensible_report(shape, mode):
    f, args, grads, _ = sigmoid_case(*shape)
    report = gradcheck(f, args, grads, full_max_size=mode)
    assert isinstance(report, GradCheckReport)
    assert [r.name for r in report.arguments] == ["X", "W", "b"]
    assert all(isinstance(r, ArgReport) for r in report.arguments)
    assert {r.mode for r in report.arguments} == {"full+directional" if mode else "directional"}
    # a pass means every compared value was within atol + rtol |numerical|, defaults 1e-6 and 1e-5
    assert 0 <= report.max_abs_error < 1e-6 + 1e-5 * np.abs(f(*args))
    assert report.max_abs_error == max(r.max_abs_error for r in report.arguments)
    assert report.max_rel_error == max(r.max_rel_error for r in report.arguments)


def test_the_numerator_layout_of_linear_dot_is_diagnosed_as_a_transpose():
    # source 001: the chain rule gave y x (c, m), the transpose of dL/dW = x^T y^T (m, c)
    rng = np.random.default_rng(0)
    x, W, b, y = rng.normal(size=(1, 4)), rng.normal(size=(4, 10)), rng.normal(size=(1, 10)), rng.normal(size=(10, 1))
    g = linear_dot.backward(x, W, b, y)
    with pytest.raises(GradCheckError, match=r"gradient of 'W'") as info:
        gradcheck(linear_dot.forward, (x, W, b, y), g._replace(dW=y @ x))
    assert info.value.diagnosis.startswith("wrong shape (got (10, 4), expected (4, 10)); its transpose")


def test_a_gradient_where_the_true_one_is_zero():
    with pytest.raises(GradCheckError) as info:
        gradcheck(lambda a: np.sum(a ** 2), (np.zeros((2, 2)),), (np.ones((2, 2)),))
    assert info.value.diagnosis == "the true gradient is zero here, but the analytic one is not"


# ---------------------------------------------------------------- evaluations, seeds, messages


def counting(f):
    calls = []

    def counted(*args):
        calls.append(1)
        return f(*args)

    return counted, calls


@pytest.mark.parametrize("n_directions, full_max_size", [
    pytest.param(3, 200, id="dirs3-full-all"),
    pytest.param(1, 0, id="dirs1-directional-only"),
    pytest.param(2, 6, id="dirs2-full-W-and-b"),
    pytest.param(5, 2, id="dirs5-full-b-only"),
])
@pytest.mark.parametrize("skip", [pytest.param(None, id="all-args"), pytest.param(1, id="skip-W")])
def test_evaluations_count_follows_from_the_parameters(n_directions, full_max_size, skip):
    f, args, grads, _ = sigmoid_case(4, 3, 2)  # sizes 12, 6, 2
    grads = [None if i == skip else g for i, g in enumerate(grads)]
    report = gradcheck(f, args, grads, n_directions=n_directions, full_max_size=full_max_size)
    expected = 1 + sum(2 * n_directions + (2 * a.size if a.size <= full_max_size else 0)
                       for a, g in zip(args, grads) if g is not None)
    assert report.evaluations == expected
    assert len(report.arguments) == sum(g is not None for g in grads)


def test_evaluations_count_equals_the_calls_of_f():
    f, args, grads, _ = sigmoid_case(4, 3, 2)
    counted, calls = counting(f)
    report = gradcheck(counted, args, grads, names=("X", "W", "b"))
    assert report.evaluations == len(calls)


def test_directional_only_mode_costs_the_same_whatever_the_size():
    for n in (2, 50):
        f, args, grads, _ = sigmoid_case(n, 30, 20)
        counted, calls = counting(f)
        report = gradcheck(counted, args, grads, names=("X", "W", "b"), full_max_size=0)
        assert report.evaluations == len(calls) == 1 + 3 * 2 * 3


def test_seed_makes_it_deterministic_and_global_random_state_is_untouched():
    f, args, grads, _ = sigmoid_case(4, 3, 3)
    wrong = grads._replace(dW=grads.dW.T)
    before = np.random.get_state()

    def directional_numbers(seed):
        with pytest.raises(GradCheckError) as info:
            gradcheck(f, args, wrong, full_max_size=0, seed=seed)
        return info.value.numerical

    np.random.seed(123)
    first = directional_numbers(0)
    np.random.seed(456)  # the global generator must not matter
    again = directional_numbers(0)
    other = directional_numbers(1)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (3,)  # one directional derivative per direction
    assert not np.allclose(first, other)  # another seed, other directions

    np.random.set_state(before)
    state = np.random.get_state()
    gradcheck(f, args, grads, seed=7)
    after = np.random.get_state()
    assert state[0] == after[0] and state[2:] == after[2:]
    np.testing.assert_array_equal(state[1], after[1])


def test_error_message_names_the_argument_and_shows_both_values():
    C = np.array([[1.5, -2.25]])

    def f(u, v):
        return np.sum(u) + np.sum(C * v)

    u, v = np.ones(3), np.zeros((1, 2))
    with pytest.raises(GradCheckError) as info:
        gradcheck(f, (u, v), (np.ones(3), np.array([[7.0, 8.0]])))
    err, msg = info.value, str(info.value)
    assert err.argument == "v"
    assert msg.startswith("gradient of 'v' (argument 1 of f) is wrong: ")
    assert "numerical (central differences) (1, 2)" in msg and "analytical (1, 2)" in msg
    assert re.search(r"\[\[ *1\.5 +-2\.25\]\]", msg)  # the true gradient is C
    assert re.search(r"\[\[7\. +8\.\]\]", msg)
    # The error is the max over entries (|8 - (-2.25)| = 10.25 is the largest) and over the
    # derivatives along unit directions, which Cauchy-Schwarz bounds by the 2-norm of the error.
    entrywise, norm = 10.25, np.hypot(7.0 - 1.5, 8.0 + 2.25)
    assert entrywise - 1e-8 <= err.max_abs_error <= norm + 1e-8
    # relative to the largest numerical entry, |-2.25| up to its finite-difference error
    assert err.max_rel_error == pytest.approx(err.max_abs_error / 2.25, rel=1e-8)
    np.testing.assert_allclose(err.numerical, C, atol=1e-8)
    np.testing.assert_array_equal(err.analytical, [[7.0, 8.0]])
    assert f"max abs error {err.max_abs_error:.3g}" in msg


def test_names_override_the_parameter_names():
    f, args, grads, _ = sigmoid_case(4, 3, 2)
    with pytest.raises(GradCheckError, match=r"gradient of 'weights'") as info:
        gradcheck(f, args, grads._replace(dW=-grads.dW), names=("inputs", "weights", "bias"))
    assert info.value.argument == "weights"


def test_grads_must_have_one_entry_per_argument():
    f, args, grads, _ = sigmoid_case(2, 2, 2)
    with pytest.raises(ValueError, match=r"one entry per argument.*3 args but 2 grads"):
        gradcheck(f, args, grads[:2])


def test_f_must_return_a_scalar():
    with pytest.raises(ValueError, match=r"f must return a scalar; got an array of shape \(2, 2\)"):
        gradcheck(lambda A: A ** 2, (np.ones((2, 2)),), (np.ones((2, 2)),))
