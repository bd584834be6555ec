"""Bad input to every public function: a correct float64 answer or a clear error.

For each public function (``primitives.*``, ``sigmoid_layer``, ``linear_dot`` and
``two_layer`` forward/backward/jacobian, ``check.numerical_gradient`` and
``check.gradcheck``) and each kind of bad input (wrong ndim, shapes that do not
conform, a bias of the wrong length, NaN and inf, an empty batch, integer and float32
dtypes, negative targets, target rows that do not sum to 1, lists instead of arrays),
the call must either

* return a float64 result equal to an independent reference (the same call on float64
  arrays for a change of dtype or container; exact zeros for an empty batch; a
  high-precision sum for odd targets, whose gradients tests/test_gradients.py checks
  with the two-layer case's target variants), or
* raise ``ValueError`` / ``TypeError`` whose message names the argument and the
  offending shape or value (checked with a regular expression).

Warnings are errors in the test run, so a numpy warning fails too, and an exception
from deep inside numpy fails the ``match``. (Ragged lists, k = 0 classes and the
checker's own parameters were known gaps, once marked strict xfail here; derivlib now
rejects each with a message naming the argument.)
"""

from __future__ import annotations

import importlib
import inspect
import math
import re

import numpy as np
import pytest

from derivlib import linear_dot, primitives, sigmoid_layer, two_layer
from derivlib.check import GradCheckError, gradcheck, numerical_gradient
from verification.cases import CASES
from verification.gaps import Gap, open_gaps

rng = np.random.default_rng(20261123)

# ------------------------------------------------------------------------------------
# base inputs that are fine; each case spoils one argument
# ------------------------------------------------------------------------------------

Z = rng.normal(size=(2, 3))
LOGITS = rng.normal(size=(3, 4))
TARGETS = np.eye(4)[[0, 3, 1]]


def _base(name, sizes, seed):
    """A shared case's inputs (verification/cases.py), by argument name."""
    case = CASES[name]
    return dict(zip(case.arg_names, case.inputs(sizes, seed)))


# the base sizes the regular expressions below name; any other case: its first shape
SL = _base("sigmoid_layer", (3, 2, 4, "b1d"), 1)
LD = _base("linear_dot", (2, 3, 5, "b1d"), 2)
TL = _base("two_layer", (2, 5, 3, 4, "b1d"), 3)
BASES = {"sigmoid_layer": SL, "linear_dot": LD, "two_layer": TL}


def _derivations():
    """(label, function, the names of its arguments in order, the base inputs) for the
    forward, backward and jacobian of every shared case's module."""
    out = []
    for case in CASES.values():
        module = importlib.import_module(f"derivlib.{case.name}")
        base = BASES.get(case.name) or _base(case.name, next(iter(case.shapes.values())), 0)
        for fn_name in ("forward", "backward", "jacobian"):
            fn = getattr(module, fn_name, None)
            if fn is not None:
                names = tuple(n for n in inspect.signature(fn).parameters if n in case.arg_names)
                out.append((f"{case.name}.{fn_name}", fn, names, base))
    return out


DERIVATIONS = _derivations()
BIASES = {"b", "b1", "b2"}
VECTORS = BIASES | {"y"}  # 1-D is a valid layout for these


def call(fn, names, base, **changed):
    """fn applied to the base inputs with some of them replaced."""
    return lambda: fn(*[changed.get(n, base[n]) for n in names])


# ------------------------------------------------------------------------------------
# expectations
# ------------------------------------------------------------------------------------


def _parts(result):
    if isinstance(result, (tuple, list)):  # a backward's Grads, numerical_gradient's list
        return list(result)
    return [result]


def assert_float64_equal(got, want):
    """Same structure, every part float64 (or a Python float), finite, and equal."""
    got, want = _parts(got), _parts(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, float):
            assert isinstance(g, float), type(g)
        else:
            assert isinstance(g, np.ndarray) and g.dtype == np.float64, (type(g), getattr(g, "dtype", None))
        assert np.all(np.isfinite(g))
        np.testing.assert_array_equal(g, w)


def same_as(reference):
    """The call returns exactly what ``reference()`` (the float64-array call) returns."""
    def check(run):
        assert_float64_equal(run(), reference())
    return check


def equals(*expected):
    """The call returns exactly these values (exact zeros for an empty batch, say)."""
    def check(run):
        assert_float64_equal(run(), expected[0] if len(expected) == 1 else tuple(expected))
    return check


def close_to(expected, rtol=1e-15):
    """The call returns a float64 array within a few ulps of ``expected``."""
    def check(run):
        got = run()
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)
    return check


def passes_gradcheck(run):
    """gradcheck accepts the (correct) analytic gradient: a report with a small error."""
    report = run()
    assert math.isfinite(report.max_abs_error) and report.max_abs_error < 1e-6, report


def raises(exc, pattern):
    """The call raises ``exc`` and its message matches ``pattern`` (argument + shape or value)."""
    def check(run):
        with pytest.raises(exc, match=pattern):
            run()
    return check


def shape_re(shape) -> str:
    return re.escape(str(tuple(shape)))

# ------------------------------------------------------------------------------------
# the catalogue of the three derivations, generated argument by argument
# ------------------------------------------------------------------------------------


def _spoil(a, value):
    a = np.array(a, dtype=np.float64)
    a.flat[0] = value
    return a


def derivation_cases():
    cases = []
    for label, fn, names, base in DERIVATIONS:
        for name in names:
            a = base[name]
            p = lambda run, check, what, *marks: cases.append(  # noqa: E731
                pytest.param(run, check, id=f"{label}-{name}-{what}", marks=marks))
            # wrong ndim
            if name in VECTORS:
                bad = a.reshape(1, 1, -1)
                p(call(fn, names, base, **{name: bad}),
                  raises(ValueError, rf"^{name} must have shape .*got shape {shape_re(bad.shape)}$"
                         if name in BIASES else rf"^{name} must have shape .*got {shape_re(bad.shape)}$"),
                  "3d")
            else:
                p(call(fn, names, base, **{name: a.ravel()}),
                  raises(ValueError, rf"^{name} must be 2-D with shape \(.*\); got shape {shape_re(a.ravel().shape)}$"),
                  "1d")
                p(call(fn, names, base, **{name: a[None]}),
                  raises(ValueError, rf"^{name} must be 2-D with shape \(.*\); got shape {shape_re(a[None].shape)}$"),
                  "3d")
            # NaN and inf
            for what, value in (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
                p(call(fn, names, base, **{name: _spoil(a, value)}),
                  raises(ValueError, rf"^{name} contains NaN or inf \(first at index \(0(, 0|,)\), "
                                     rf"shape {shape_re(a.shape)}\)$"),
                  what)
            # non-numeric
            p(call(fn, names, base, **{name: np.full(a.shape, "1.0")}),
              raises(TypeError, rf"^{name} must hold real numbers; got dtype <U3$"), "str")
            p(call(fn, names, base, **{name: np.full(a.shape, None)}),
              raises(TypeError, rf"^{name} must hold real numbers; got dtype object$"), "object")
            # dtypes and containers: the same result as float64 arrays of the same values
            as_int = np.round(3 * a).astype(np.int64) if name != "Y" else a.astype(np.int64)
            p(call(fn, names, base, **{name: as_int}),
              same_as(call(fn, names, base, **{name: as_int.astype(np.float64)})), "int64")
            as_f32 = a.astype(np.float32)
            p(call(fn, names, base, **{name: as_f32}),
              same_as(call(fn, names, base, **{name: as_f32.astype(np.float64)})), "float32")
            as_bool = a > 0  # booleans are accepted as 0 and 1 (one-hot masks, for example)
            p(call(fn, names, base, **{name: as_bool}),
              same_as(call(fn, names, base, **{name: as_bool.astype(np.float64)})), "bool")
            p(call(fn, names, base, **{name: a.tolist()}), same_as(call(fn, names, base)), "list")
            if name != names[0]:
                continue  # one ragged list per function is enough to show the problem
            ragged = [list(r) for r in np.atleast_2d(a)] + [[1.0]]
            p(call(fn, names, base, **{name: ragged}),
              raises(ValueError, rf"^{name} .*(ragged|inhomogeneous|same length)"), "ragged-list")
    return cases


def all_lists(names, base):
    return {n: base[n].tolist() for n in names}


SPECIFIC = [
    # -- sigmoid layer: shapes that do not conform, bias length, upstream G, empty batch
    pytest.param(call(sigmoid_layer.forward, ("X", "W", "b"), SL, W=np.ones((3, 4))),
                 raises(ValueError, r"^X \(3, 2\) and W \(3, 4\) do not conform: X has 2 columns but W has 3 rows$"),
                 id="sigmoid_layer.forward-W-rows-not-p"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b"), SL, b=np.ones(5)),
                 raises(ValueError, r"^b must have shape \(4,\) or \(1, 4\) to match q = 4; got shape \(5,\)$"),
                 id="sigmoid_layer.backward-b-length-q+1"),
    pytest.param(call(sigmoid_layer.jacobian, ("X", "W", "b"), SL, b=np.ones((4, 1))),
                 raises(ValueError, r"^b must have shape \(4,\) or \(1, 4\) to match q = 4; got shape \(4, 1\)$"),
                 id="sigmoid_layer.jacobian-b-column"),
    pytest.param(call(sigmoid_layer.forward, ("X", "W", "b"), SL, b=np.ones((3, 4))),
                 raises(ValueError, r"^b must have shape \(4,\) or \(1, 4\) to match q = 4; got shape \(3, 4\)$"),
                 id="sigmoid_layer.forward-b-one-per-row"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL, G=np.ones((3, 2))),
                 raises(ValueError, r"^G must have the shape of S = sigmoid\(X W \+ b\), \(3, 4\); got \(3, 2\)$"),
                 id="sigmoid_layer.backward-G-shape-of-X"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL, G=np.ones((4, 4))),
                 raises(ValueError, r"^G must have the shape of S = sigmoid\(X W \+ b\), \(3, 4\); got \(4, 4\)$"),
                 id="sigmoid_layer.backward-G-extra-row"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL, G=np.ones((3, 5))),
                 raises(ValueError, r"^G must have the shape of S = sigmoid\(X W \+ b\), \(3, 4\); got \(3, 5\)$"),
                 id="sigmoid_layer.backward-G-extra-column"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL, G=np.ones((1, 4))),
                 raises(ValueError, r"^G must have the shape of S = sigmoid\(X W \+ b\), \(3, 4\); got \(1, 4\)$"),
                 id="sigmoid_layer.backward-G-one-row-would-broadcast"),
    pytest.param(call(sigmoid_layer.forward, ("X", "W", "b"), SL, X=np.zeros((0, 2))),
                 equals(np.zeros((0, 4))), id="sigmoid_layer.forward-n0"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL, X=np.zeros((0, 2)), G=np.zeros((0, 4))),
                 equals(np.zeros((0, 2)), np.zeros((2, 4)), np.zeros(4)), id="sigmoid_layer.backward-n0"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b"), SL, X=np.zeros((0, 2))),
                 equals(np.zeros((0, 2)), np.zeros((2, 4)), np.zeros(4)), id="sigmoid_layer.backward-n0-G=None"),
    pytest.param(call(sigmoid_layer.jacobian, ("X", "W", "b"), SL, X=np.zeros((0, 2))),
                 equals(np.zeros((0, 4, 2, 4))), id="sigmoid_layer.jacobian-n0"),
    pytest.param(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL, **all_lists("XWbG", SL)),
                 same_as(call(sigmoid_layer.backward, ("X", "W", "b", "G"), SL)), id="sigmoid_layer.backward-all-lists"),
    # -- linear map then dot product
    pytest.param(call(linear_dot.forward, ("x", "W", "b", "y"), LD, W=np.ones((4, 5))),
                 raises(ValueError, r"^x \(2, 3\) and W \(4, 5\) do not conform: x has 3 columns but W has 4 rows$"),
                 id="linear_dot.forward-W-rows-not-m"),
    pytest.param(call(linear_dot.backward, ("x", "W", "b", "y"), LD, b=np.ones(10)),
                 raises(ValueError, r"^b must have shape \(5,\) or \(1, 5\) to match c = 5; got shape \(10,\)$"),
                 id="linear_dot.backward-b-length-2c"),
    pytest.param(call(linear_dot.backward, ("x", "W", "b", "y"), LD, y=np.ones((1, 5))),
                 raises(ValueError, r"^y must have shape \(5, 1\) or \(5,\) to match W \(3, 5\); got \(1, 5\)$"),
                 id="linear_dot.backward-y-row-not-column"),
    pytest.param(call(linear_dot.forward, ("x", "W", "b", "y"), LD, y=np.ones((5, 2))),
                 raises(ValueError, r"^y must have shape \(5, 1\) or \(5,\) to match W \(3, 5\); got \(5, 2\)$"),
                 id="linear_dot.forward-y-two-columns"),
    pytest.param(call(linear_dot.forward, ("x", "W", "b", "y"), LD, y=1.0),
                 raises(ValueError, r"^y must have shape \(5, 1\) or \(5,\) to match W \(3, 5\); got \(\)$"),
                 id="linear_dot.forward-y-scalar"),
    pytest.param(call(linear_dot.forward, ("x", "W", "b", "y"), LD, x=np.zeros((0, 3))),
                 equals(0.0), id="linear_dot.forward-n0"),
    pytest.param(call(linear_dot.backward, ("x", "W", "b", "y"), LD, x=np.zeros((0, 3))),
                 equals(np.zeros((0, 3)), np.zeros((3, 5)), np.zeros(5), np.zeros((5, 1))),
                 id="linear_dot.backward-n0"),
    pytest.param(call(linear_dot.jacobian, ("x", "W", "b"), LD, x=np.zeros((0, 3))),
                 equals(np.zeros((0, 5, 3, 5))), id="linear_dot.jacobian-n0"),
    pytest.param(call(linear_dot.backward, ("x", "W", "b", "y"), LD, **all_lists(("x", "W", "b", "y"), LD)),
                 same_as(call(linear_dot.backward, ("x", "W", "b", "y"), LD)), id="linear_dot.backward-all-lists"),
    # -- two-layer network
    pytest.param(call(two_layer.forward, tuple(TL), TL, W1=np.ones((4, 3))),
                 raises(ValueError, r"^X \(2, 5\) and W1 \(4, 3\) do not conform: X has 5 columns but W1 has 4 rows$"),
                 id="two_layer.forward-W1-rows-not-d"),
    pytest.param(call(two_layer.backward, tuple(TL), TL, W2=np.ones((4, 4))),
                 raises(ValueError, r"^W1 \(5, 3\) and W2 \(4, 4\) do not conform: W1 has 3 columns but W2 has 4 rows$"),
                 id="two_layer.backward-W2-rows-not-h"),
    pytest.param(call(two_layer.backward, tuple(TL), TL, b1=np.ones(4)),
                 raises(ValueError, r"^b1 must have shape \(3,\) or \(1, 3\) to match h = 3; got shape \(4,\)$"),
                 id="two_layer.backward-b1-length-k"),
    pytest.param(call(two_layer.forward, tuple(TL), TL, b2=np.ones(3)),
                 raises(ValueError, r"^b2 must have shape \(4,\) or \(1, 4\) to match k = 4; got shape \(3,\)$"),
                 id="two_layer.forward-b2-length-h"),
    pytest.param(call(two_layer.backward, tuple(TL), TL, Y=np.eye(4)[[0, 1, 2]]),
                 raises(ValueError, r"^Y must have shape \(n, k\) = \(2, 4\) to match X \(2, 5\) and W2 \(3, 4\); got \(3, 4\)$"),
                 id="two_layer.backward-Y-extra-row"),
    pytest.param(call(two_layer.forward, tuple(TL), TL, Y=np.array([[1.0, -0.5, 0.5, 0.0], [0, 0, 1, 0]])),
                 raises(ValueError, r"^Y must be non-negative .*; found min -0\.5$"), id="two_layer.forward-Y-negative"),
    pytest.param(call(two_layer.backward, tuple(TL), TL, Y=-TL["Y"]),
                 raises(ValueError, r"^Y must be non-negative .*; found min -1$"), id="two_layer.backward-Y-negated"),
    pytest.param(call(two_layer.forward, tuple(TL), TL, X=np.zeros((0, 5)), Y=np.zeros((0, 4))),
                 raises(ValueError, r"^X has no rows \(shape \(0, 5\)\): the mean loss over an empty batch is undefined$"),
                 id="two_layer.forward-n0"),
    pytest.param(call(two_layer.backward, tuple(TL), TL, X=np.zeros((0, 5)), Y=np.zeros((0, 4))),
                 raises(ValueError, r"^X has no rows \(shape \(0, 5\)\)"), id="two_layer.backward-n0"),
    pytest.param(call(two_layer.forward, tuple(TL), TL, W2=np.zeros((3, 0)), b2=np.zeros(0), Y=np.zeros((2, 0))),
                 raises(ValueError, r"^(W2|b2|Y|logits).*(0 classes|k = 0|\(3, 0\)|\(2, 0\))"), id="two_layer.forward-k0"),
    pytest.param(call(two_layer.backward, tuple(TL), TL, **all_lists(TL, TL)),
                 same_as(call(two_layer.backward, tuple(TL), TL)), id="two_layer.backward-all-lists"),
    # -- primitives
    pytest.param(lambda: primitives.sigmoid(np.array([0.5, np.nan])),
                 raises(ValueError, r"^z contains NaN or inf \(first at index \(1,\), shape \(2,\)\)$"), id="sigmoid-nan"),
    pytest.param(lambda: primitives.sigmoid(np.array([[0.0, np.inf]])),
                 raises(ValueError, r"^z contains NaN or inf \(first at index \(0, 1\), shape \(1, 2\)\)$"), id="sigmoid-inf"),
    pytest.param(lambda: primitives.sigmoid(np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, -np.inf]])),
                 raises(ValueError, r"^z contains NaN or inf \(first at index \(0, 1\), shape \(2, 3\)\)$"),
                 id="sigmoid-three-bad-entries-names-the-first"),
    pytest.param(lambda: primitives.sigmoid("0.5"),
                 raises(TypeError, r"^z must hold real numbers; got dtype <U3$"), id="sigmoid-str"),
    pytest.param(lambda: primitives.sigmoid(np.array([1j])),
                 raises(TypeError, r"^z must hold real numbers; got dtype complex128$"), id="sigmoid-complex"),
    pytest.param(lambda: primitives.sigmoid(np.zeros((0, 3))), equals(np.zeros((0, 3))), id="sigmoid-n0"),
    pytest.param(lambda: primitives.sigmoid([[0.0, 1.0], [2.0]]),
                 raises(ValueError, r"^z .*(ragged|inhomogeneous|same length)"), id="sigmoid-ragged-list"),
    pytest.param(lambda: primitives.sigmoid(Z.tolist()), same_as(lambda: primitives.sigmoid(Z)), id="sigmoid-list"),
    pytest.param(lambda: primitives.sigmoid(np.arange(-3, 3)),
                 same_as(lambda: primitives.sigmoid(np.arange(-3.0, 3.0))), id="sigmoid-int64"),
    pytest.param(lambda: primitives.sigmoid(Z.astype(np.float32)),
                 same_as(lambda: primitives.sigmoid(Z.astype(np.float32).astype(np.float64))), id="sigmoid-float32"),
    pytest.param(lambda: primitives.sigmoid(3), close_to(1 / (1 + math.exp(-3))), id="sigmoid-python-int"),
    pytest.param(lambda: primitives.cross_entropy(LOGITS, TARGETS[:, :3]),
                 raises(ValueError, r"^targets shape \(3, 3\) must equal logits shape \(3, 4\)$"),
                 id="cross_entropy-targets-fewer-classes"),
    pytest.param(lambda: primitives.cross_entropy(LOGITS, TARGETS[0]),
                 raises(ValueError, r"^targets must be 2-D with shape \(n, k\); got shape \(4,\)$"),
                 id="cross_entropy-targets-1d"),
    pytest.param(lambda: primitives.cross_entropy(LOGITS, TARGETS - 0.25),
                 raises(ValueError, r"^targets must be non-negative; found min -0\.25 \(shape \(3, 4\)\)$"),
                 id="cross_entropy-targets-negative"),
    pytest.param(lambda: primitives.cross_entropy(LOGITS, _spoil(TARGETS, np.nan)),
                 raises(ValueError, r"^targets contains NaN or inf \(first at index \(0, 0\), shape \(3, 4\)\)$"),
                 id="cross_entropy-targets-nan"),
    pytest.param(lambda: primitives.cross_entropy(np.zeros((0, 4)), np.zeros((0, 4))),
                 equals(np.zeros(0)), id="cross_entropy-n0"),
    pytest.param(lambda: primitives.cross_entropy(LOGITS.tolist(), TARGETS.astype(np.int64).tolist()),
                 same_as(lambda: primitives.cross_entropy(LOGITS, TARGETS)), id="cross_entropy-lists"),
    pytest.param(lambda: primitives.cross_entropy(LOGITS.astype(np.float32), TARGETS.astype(np.float32)),
                 same_as(lambda: primitives.cross_entropy(LOGITS.astype(np.float32).astype(np.float64), TARGETS)),
                 id="cross_entropy-float32"),
]

for _name in ("softmax", "log_softmax", "softmax_jacobian"):
    _fn = getattr(primitives, _name)
    _k = LOGITS.shape[1]
    SPECIFIC += [
        pytest.param(lambda fn=_fn: fn(LOGITS[0]),
                     raises(ValueError, r"^logits must be 2-D with shape \(n, k\); got shape \(4,\)$"), id=f"{_name}-1d"),
        pytest.param(lambda fn=_fn: fn(LOGITS[None]),
                     raises(ValueError, r"^logits must be 2-D with shape \(n, k\); got shape \(1, 3, 4\)$"), id=f"{_name}-3d"),
        pytest.param(lambda fn=_fn: fn(_spoil(LOGITS, -np.inf)),
                     raises(ValueError, r"^logits contains NaN or inf \(first at index \(0, 0\), shape \(3, 4\)\)$"),
                     id=f"{_name}-inf"),
        pytest.param(lambda fn=_fn: fn(np.full((2, 2), "x")),
                     raises(TypeError, r"^logits must hold real numbers; got dtype <U1$"), id=f"{_name}-str"),
        pytest.param(lambda fn=_fn: fn(np.zeros((0, _k))),
                     equals(np.zeros((0, _k, _k)) if _name == "softmax_jacobian" else np.zeros((0, _k))), id=f"{_name}-n0"),
        pytest.param(lambda fn=_fn: fn(np.zeros((2, 0))),
                     raises(ValueError, r"^logits .*(k = 0|no columns|\(2, 0\))"), id=f"{_name}-k0"),
        pytest.param(lambda fn=_fn: fn(LOGITS.tolist()), same_as(lambda fn=_fn: fn(LOGITS)), id=f"{_name}-list"),
        pytest.param(lambda fn=_fn: fn(np.round(3 * LOGITS).astype(np.int32)),
                     same_as(lambda fn=_fn: fn(np.round(3 * LOGITS))), id=f"{_name}-int32"),
        pytest.param(lambda fn=_fn: fn(LOGITS.astype(np.float32)),
                     same_as(lambda fn=_fn: fn(LOGITS.astype(np.float32).astype(np.float64))), id=f"{_name}-float32"),
    ]


@pytest.mark.parametrize("run, check", derivation_cases() + SPECIFIC)
def test_bad_input(run, check):
    check(run)


# ------------------------------------------------------------------------------------
# targets that do not sum to 1: a correct answer, checked against independent references
# ------------------------------------------------------------------------------------

ODD_TARGETS = [
    pytest.param(np.array([[2.0, 0, 0, 0], [0, 0, 0, 3.0]]), id="rows-sum-2-and-3"),
    pytest.param(np.array([[0.0, 0, 0, 0], [0, 1.0, 0, 0]]), id="a-zero-row"),
    pytest.param(np.array([[0.3, 0.3, 0.3, 0.3], [0.1, 0, 0.2, 0]]), id="fractions"),
]


@pytest.mark.parametrize("Y", ODD_TARGETS)
def test_cross_entropy_with_odd_targets_matches_a_high_precision_sum(Y):
    logits = LOGITS[:2]
    got = primitives.cross_entropy(logits, Y)
    # -sum_j y_j (theta_j - log sum_l exp theta_l), in Python floats with math.fsum
    want = [-math.fsum(y * (t - math.log(math.fsum(math.exp(u) for u in row))) for y, t in zip(yrow, row))
            for yrow, row in zip(Y.tolist(), logits.tolist())]
    assert got.dtype == np.float64 and got.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------------------------
# the checker: numerical_gradient and gradcheck
# ------------------------------------------------------------------------------------

A = rng.normal(size=(2, 3))


def square_sum(A):
    return float(np.sum(A ** 2))


CHECKER = [
    pytest.param(lambda: numerical_gradient(square_sum, A),
                 raises(TypeError, r"^args must be a tuple or list of arrays .*; got ndarray$"), id="numerical_gradient-args-array"),
    pytest.param(lambda: numerical_gradient(square_sum, (_spoil(A, np.nan),)),
                 raises(ValueError, r"^args\[0\] contains NaN or inf \(shape \(2, 3\)\)$"), id="numerical_gradient-nan"),
    pytest.param(lambda: numerical_gradient(square_sum, (_spoil(A, np.inf),)),
                 raises(ValueError, r"^args\[0\] contains NaN or inf \(shape \(2, 3\)\)$"), id="numerical_gradient-inf"),
    pytest.param(lambda: numerical_gradient(lambda A: A.sum(axis=0), (A,)),
                 raises(ValueError, r"^f must return a scalar; got an array of shape \(3,\)$"), id="numerical_gradient-f-vector"),
    pytest.param(lambda: numerical_gradient(lambda A: np.nan, (A,)),
                 raises(ValueError, r"^f returned nan at the point of the check$"), id="numerical_gradient-f-nan"),
    pytest.param(lambda: numerical_gradient(square_sum, (A.tolist(),)),
                 same_as(lambda: numerical_gradient(square_sum, (A,))), id="numerical_gradient-list"),
    pytest.param(lambda: numerical_gradient(square_sum, (np.arange(6).reshape(2, 3),)),
                 same_as(lambda: numerical_gradient(square_sum, (np.arange(6.0).reshape(2, 3),))), id="numerical_gradient-int64"),
    pytest.param(lambda: numerical_gradient(square_sum, (A.astype(np.float32),)),
                 same_as(lambda: numerical_gradient(square_sum, (A.astype(np.float32).astype(np.float64),))),
                 id="numerical_gradient-float32"),
    pytest.param(lambda: numerical_gradient(lambda A: 0.0, (np.zeros((0, 3)),)),
                 equals(np.zeros((0, 3))), id="numerical_gradient-n0"),
    pytest.param(lambda: numerical_gradient(square_sum, (A,), eps=0.0),
                 raises(ValueError, r"^eps must be .*; got 0"), id="numerical_gradient-eps-0"),
    pytest.param(lambda: numerical_gradient(square_sum, (A,), wrt=[1]),
                 raises(ValueError, r"^wrt .*1.*(1 argument|args)"), id="numerical_gradient-wrt-out-of-range"),
    pytest.param(lambda: numerical_gradient(square_sum, (np.full((2, 3), "a"),)),
                 raises(TypeError, r"^args\[0\] must hold real numbers"), id="numerical_gradient-str"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (2 * A, None)),
                 raises(ValueError, r"^grads must have one entry per argument of f .*: 1 args but 2 grads$"),
                 id="gradcheck-grads-count"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (None,)),
                 raises(ValueError, r"^grads has no gradient to check \(every entry is None\)$"), id="gradcheck-all-None"),
    pytest.param(lambda: gradcheck(square_sum, (_spoil(A, np.nan),), (2 * A,)),
                 raises(ValueError, r"^args\[0\] contains NaN or inf \(shape \(2, 3\)\)$"), id="gradcheck-args-nan"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (_spoil(2 * A, np.nan),)),
                 raises(GradCheckError, r"gradient of 'A' \(argument 0 of f\) is wrong: contains NaN or inf"),
                 id="gradcheck-grad-nan"),
    pytest.param(lambda: gradcheck(square_sum, (A,), ((2 * A).reshape(3, 2),)),
                 raises(GradCheckError, r"wrong shape \(got \(3, 2\), expected \(2, 3\)\); the values are right, only "
                                        r"the shape differs: reshape it"), id="gradcheck-grad-reshaped"),
    pytest.param(lambda: gradcheck(square_sum, (A,), ((2 * A).ravel(),), full_max_size=0),
                 raises(GradCheckError, r"wrong shape \(got \(6,\), expected \(2, 3\)\)"), id="gradcheck-grad-flat-directional"),
    pytest.param(lambda: gradcheck(square_sum, (A,), ((2 * A).T,)),
                 raises(GradCheckError, r"wrong shape \(got \(3, 2\), expected \(2, 3\)\); its transpose is the true gradient"),
                 id="gradcheck-grad-transposed"),
    pytest.param(lambda: gradcheck(square_sum, (A.tolist(),), ((2 * A).tolist(),)),
                 passes_gradcheck, id="gradcheck-lists"),
    pytest.param(lambda: gradcheck(square_sum, (np.arange(6).reshape(2, 3),), (2 * np.arange(6).reshape(2, 3),)),
                 passes_gradcheck, id="gradcheck-int64"),
    pytest.param(lambda: gradcheck(square_sum, (A.astype(np.float32),), (2 * A.astype(np.float32),)),
                 passes_gradcheck, id="gradcheck-float32"),
    pytest.param(lambda: gradcheck(lambda A: 0.0, (np.zeros((0, 3)),), (np.zeros((0, 3)),)),
                 passes_gradcheck, id="gradcheck-n0"),
    pytest.param(lambda: gradcheck(square_sum, (np.ones(300),), (np.zeros(300),), n_directions=0),
                 raises(ValueError, r"^n_directions must be"), id="gradcheck-no-directions-silent-pass"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (2 * A,), n_directions=-1),
                 raises(ValueError, r"^n_directions must be"), id="gradcheck-negative-directions"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (2 * A,), eps=0.0),
                 raises(ValueError, r"^eps must be"), id="gradcheck-eps-0"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (2 * A,), atol=-1.0),
                 raises(ValueError, r"^atol must be"), id="gradcheck-negative-atol"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (2 * A,), names=[]),
                 raises(ValueError, r"^names must have one entry per argument"), id="gradcheck-names-too-short"),
    pytest.param(lambda: gradcheck(square_sum, (A,), (np.full((2, 3), "a"),)),
                 raises(TypeError, r"grads\[0\]|'A'"), id="gradcheck-grad-str"),
]


@pytest.mark.parametrize("run, check", CHECKER)
def test_checker_bad_input(run, check):
    check(run)


# verification/gaps.py records none today; the reliability page lists open_gaps() and its
# build fails when a recorded gap no longer reproduces. These check the filter it uses.
_OPEN = Gap("open", "reproduces", lambda: True)
_FIXED = Gap("fixed", "no longer reproduces", lambda: False)


def test_open_gaps_keeps_a_gap_that_still_reproduces():
    assert open_gaps([_FIXED, _OPEN]) == [_OPEN]


def test_open_gaps_drops_every_fixed_gap():
    assert open_gaps([_FIXED]) == []
