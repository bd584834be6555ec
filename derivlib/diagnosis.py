"""What :func:`derivlib.check.gradcheck` can say about a gradient: kinds and messages.

Pure Python (standard library only), so the same vocabulary can be used where numpy is
not available. Two families of verdicts:

* the analytic gradient is wrong (:class:`GradCheckError`): a wrong shape, a transpose,
  a sign flip, a constant factor, zero, or wrong values;
* the finite differences cannot be trusted at this point and step
  (:class:`FiniteDifferenceError`): change ``eps`` or the point, not the gradient.

Every verdict has a machine-readable :class:`Diagnosis`; messages are built here from
plain numbers, apart from the code that computes them.
"""

from __future__ import annotations

import enum

__all__ = ["Diagnosis", "GradCheckError", "FiniteDifferenceError"]


class Diagnosis(enum.Enum):
    """The kind of a failed gradient check (``GradCheckError.kind``)."""

    # -- the analytic gradient is wrong
    NOT_FINITE = "not-finite"
    SHAPE_TRANSPOSED = "shape-transposed"
    SHAPE_FLATTENED = "shape-flattened"
    SHAPE_NOT_SUMMED = "shape-not-summed"
    SHAPE_UNRELATED = "shape-unrelated"
    TRANSPOSED = "transposed"
    TRANSPOSED_OR_SIGN_FLIPPED = "transposed-or-sign-flipped"
    SIGN_FLIPPED = "sign-flipped"
    MEAN_WHERE_SUM = "mean-where-sum"
    CONSTANT_FACTOR = "constant-factor"
    ZERO = "zero"
    TRUE_GRADIENT_ZERO = "true-gradient-zero"
    ONE_VALUE = "one-value"
    WRONG_VALUES = "wrong-values"
    # -- the finite differences cannot be trusted
    STEP_LOST = "step-lost"
    ROUNDING = "rounding"
    LOW_PRECISION = "low-precision"
    CURVATURE = "curvature"
    KINK = "kink"
    NOT_FINITE_NEARBY = "not-finite-nearby"

    @property
    def finite_differences(self) -> bool:
        """True when the finite differences, not the gradient, are what failed."""
        return self in _FD_KINDS


_FD_KINDS = frozenset({Diagnosis.STEP_LOST, Diagnosis.ROUNDING, Diagnosis.LOW_PRECISION,
                       Diagnosis.CURVATURE, Diagnosis.KINK, Diagnosis.NOT_FINITE_NEARBY})


class GradCheckError(AssertionError):
    """An analytic gradient disagrees with finite differences.

    Attributes
    ----------
    argument : str
        Name of the argument whose gradient is wrong.
    kind : Diagnosis
        What is wrong, machine-readable.
    diagnosis : str
        How it is wrong, in words.
    max_abs_error, max_rel_error : float
        Largest absolute error, and that divided by the largest numerical entry
        (``nan`` when the shapes differ).
    numerical, analytical : ndarray
        What was compared: full gradients, or directional derivatives for large arguments.
    """

    def __init__(self, message, *, argument, diagnosis, max_abs_error, max_rel_error, numerical, analytical,
                 kind=None):
        super().__init__(message)
        self.argument = argument
        self.kind = kind
        self.diagnosis = diagnosis
        self.max_abs_error = max_abs_error
        self.max_rel_error = max_rel_error
        self.numerical = numerical
        self.analytical = analytical


class FiniteDifferenceError(GradCheckError):
    """The finite differences cannot be trusted here: change ``eps`` or the point.

    Raised instead of blaming the analytic gradient when the step is lost in rounding,
    rounding noise or curvature over the step is larger than the tolerance, f has a kink
    within the step, f is computed in low precision, or f is not finite at a perturbed
    point. ``kind`` says which (``kind.finite_differences`` is True).
    """


# ---------------------------------------------------------------- messages


def _g(x) -> str:
    return f"{x:.6g}"


def relation_text(kind: Diagnosis, **v) -> str:
    """Words for a wrong analytic gradient (``v``: the numbers a message needs)."""
    k = v.get("k")
    texts = {
        Diagnosis.NOT_FINITE: "contains NaN or inf",
        Diagnosis.SHAPE_TRANSPOSED: "{head}; its transpose is the true gradient (numerator layout): transpose it",
        Diagnosis.SHAPE_FLATTENED: "{head}; the values are right, only the shape differs: reshape it",
        Diagnosis.SHAPE_NOT_SUMMED: ("{head}; a rank/broadcast mistake: summing it over axis {axis} gives the true "
                                     "gradient (e.g. a bias gradient not summed over the batch)"),
        Diagnosis.SHAPE_UNRELATED: "{head}; no transpose, reshape or sum over an axis of it matches the true gradient",
        Diagnosis.TRANSPOSED: "equals the transpose of the true gradient",
        Diagnosis.TRANSPOSED_OR_SIGN_FLIPPED: (
            "equals both the transpose of the true gradient and -1 times it (the true gradient is "
            "antisymmetric here): a transpose or a sign flip"),
        Diagnosis.SIGN_FLIPPED: "sign flipped: it equals -1 times the true gradient",
        Diagnosis.CONSTANT_FACTOR: "off by a constant factor k = {k} (1/k = {inv}): it equals k times the true gradient",
        Diagnosis.MEAN_WHERE_SUM: (
            "off by a constant factor k = {k} (1/k = {inv}): it equals 1/{m} times the true gradient, a 1/{m} "
            "that does not belong, as when a gradient averages over {m} items (a mean, 1/n) where the loss sums"),
        Diagnosis.TRUE_GRADIENT_ZERO: "the true gradient is zero here, but the analytic one is not",
        Diagnosis.ZERO: "is zero where the true gradient is not",
        Diagnosis.ONE_VALUE: (
            "wrong value: {got} where finite differences give {want} (one number compared, so no pattern such as "
            "a constant factor or a sign flip can be told from any other mistake)"),
        Diagnosis.WRONG_VALUES: (
            "wrong values, not related to the true gradient by a transpose, constant factor or sign flip: "
            "a term is likely wrong or missing (e.g. the derivative of an activation dropped, a matrix "
            "product where an element-wise product belongs, or one row taken where a sum over the batch "
            "belongs)"),
    }
    fmt = dict(v)
    if k is not None:
        fmt.update(k=_g(k), inv=_g(1 / k))
    for key in ("got", "want"):
        if key in fmt:
            fmt[key] = _g(fmt[key])
    return texts[kind].format(**fmt)


def fd_text(kind: Diagnosis, **v) -> str:
    """Words for finite differences that cannot be trusted (``v``: the numbers a message needs)."""
    fmt = {key: (_g(val) if isinstance(val, float) else val) for key, val in v.items()}
    texts = {
        Diagnosis.STEP_LOST: (
            "the finite-difference step is lost in rounding: {where} + eps == {where} - eps for eps={eps} "
            "(the entry is about {x}, whose spacing in float64 is {ulp}); nothing was measured. "
            "Use an eps of at least about 1e-8 times the size of the entries, or move the point"),
        Diagnosis.ROUNDING: (
            "rounding noise of the finite differences (about {noise}, from |f| about {f} and eps={eps}) is not "
            "small next to the gradient (about {scale}), so the check cannot tell right from wrong here. "
            "Use a larger eps, or rescale the problem so that f and the gradient are of similar size"),
        Diagnosis.LOW_PRECISION: (
            "f returns {dtype}: its rounding (about {noise} in the finite differences with eps={eps}) is not "
            "small next to the gradient (about {scale}). Compute f in float64"),
        Diagnosis.CURVATURE: (
            "the finite differences change with the step (with eps: {d1}, with 2 eps: {d2}, with eps/2: {dh}), "
            "so the curvature of f over the step is larger than the tolerance; the analytic value is {ana}. "
            "Use a smaller eps, or move the point away from where f bends sharply"),
        Diagnosis.KINK: (
            "f has a kink within eps of the point: its slope jumps by about {jump} (one-sided slopes "
            "{left} and {right}), so the central difference {d1} is neither; the analytic value is {ana}. "
            "Move the point off the kink"),
        Diagnosis.NOT_FINITE_NEARBY: (
            "f is finite at the point but returned {value} at a point moved by eps={eps} in {where}: the "
            "point is within eps of the edge of f's domain. Use a smaller eps or move the point"),
    }
    return texts[kind].format(**fmt)
