r"""Finite-difference gradients and a gradient checker that says *how* a gradient is wrong.

:func:`gradcheck` compares analytic gradients with central differences

.. math:: \frac{\partial f}{\partial a}\cdot v \approx \frac{f(a + \varepsilon v) - f(a - \varepsilon v)}{2\varepsilon}

along a few seeded random unit directions ``v`` (a handful of evaluations of f however
large the argument), and entry by entry for small arguments. When they disagree it
raises :class:`GradCheckError` with a diagnosis: wrong shape, transpose, constant
factor, sign flip, or a missing sum over the batch.
"""

from __future__ import annotations

import inspect
from typing import Callable, NamedTuple, Sequence

import numpy as np

from ._validate import real_array

__all__ = [
    "EPS",
    "ATOL",
    "RTOL",
    "GradCheckError",
    "GradCheckReport",
    "ArgReport",
    "numerical_gradient",
    "numerical_jvp",
    "gradcheck",
]

#: Default central-difference step of :func:`numerical_gradient`, :func:`numerical_jvp`
#: and :func:`gradcheck`.
EPS = 1e-6
#: Default absolute and relative tolerances of :func:`gradcheck`.
ATOL = 1e-6
RTOL = 1e-5


class GradCheckError(AssertionError):
    """An analytic gradient disagrees with finite differences.

    Attributes
    ----------
    argument : str
        Name of the argument whose gradient is wrong.
    diagnosis : str
        How it is wrong, in words.
    max_abs_error, max_rel_error : float
        Largest absolute error, and that divided by the largest numerical entry
        (``nan`` when the shapes differ).
    numerical, analytical : ndarray
        What was compared: full gradients, or directional derivatives for large arguments.
    """

    def __init__(self, message, *, argument, diagnosis, max_abs_error, max_rel_error, numerical, analytical):
        super().__init__(message)
        self.argument = argument
        self.diagnosis = diagnosis
        self.max_abs_error = max_abs_error
        self.max_rel_error = max_rel_error
        self.numerical = numerical
        self.analytical = analytical


class ArgReport(NamedTuple):
    """How one argument's gradient was checked."""

    name: str
    mode: str  # "full+directional" or "directional"
    max_abs_error: float
    max_rel_error: float


class GradCheckReport(NamedTuple):
    """Returned by :func:`gradcheck` when every gradient agrees."""

    max_abs_error: float
    max_rel_error: float
    evaluations: int
    arguments: tuple


def _float_args(args) -> list:
    if isinstance(args, np.ndarray) or not isinstance(args, (tuple, list)):
        raise TypeError(f"args must be a tuple or list of arrays (one per argument of f); got {type(args).__name__}")
    out = []
    for i, a in enumerate(args):
        # a private float64 copy: f can't see the caller's array change
        arr = np.array(real_array(f"args[{i}]", a), dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ValueError(f"args[{i}] contains NaN or inf (shape {arr.shape})")
        out.append(arr)
    return out


def _call(f, args) -> float:
    value = np.asarray(f(*args))
    if value.size != 1:
        raise ValueError(f"f must return a scalar; got an array of shape {value.shape}")
    value = float(value.reshape(()))
    if not np.isfinite(value):
        raise ValueError(f"f returned {value} at the point of the check")
    return value


def _names(f, count) -> list:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= count:
        return positional[:count]
    return [f"args[{i}]" for i in range(count)]


def _check_eps(eps) -> None:
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite step; got {eps}")


def _check_wrt(wrt, count) -> list:
    wrt = list(range(count)) if wrt is None else list(wrt)
    bad = [i for i in wrt if not (isinstance(i, (int, np.integer)) and 0 <= i < count)]
    if bad:
        raise ValueError(f"wrt must hold indices of args, 0 to {count - 1} ({count} args); got {bad}")
    return wrt


def _directional(f, args, i, v, eps) -> float:
    """Central difference of f along direction v (the shape of args[i])."""
    plus = list(args)
    minus = list(args)
    plus[i] = args[i] + eps * v
    minus[i] = args[i] - eps * v
    return (_call(f, plus) - _call(f, minus)) / (2 * eps)


def numerical_jvp(f: Callable, args: Sequence, i: int, v, eps: float = EPS) -> float:
    r"""Central-difference directional derivative of a scalar f along ``v`` in argument ``i``.

    .. math:: \frac{\partial f}{\partial a_i} : v \approx \frac{f(\dots, a_i + \varepsilon v, \dots) - f(\dots, a_i - \varepsilon v, \dots)}{2\varepsilon}

    Two evaluations of f, whatever the size of ``a_i``.

    Parameters
    ----------
    f : callable
        ``f(*args)`` returns a scalar.
    args : sequence of array_like
    i : int
        Index of the argument to move.
    v : array_like
        Direction, of ``args[i]``'s shape.
    eps : float, default :data:`EPS`

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.check import numerical_jvp
    >>> A, V = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
    >>> np.allclose(numerical_jvp(lambda A: np.sum(A ** 2), (A,), 0, V), np.sum(2 * A * V))
    True
    """
    _check_eps(eps)
    work = _float_args(args)
    (i,) = _check_wrt([i], len(work))
    v = np.asarray(real_array("v", v), dtype=np.float64)
    if v.shape != work[i].shape:
        raise ValueError(f"v must have the shape of args[{i}], {work[i].shape}; got {v.shape}")
    return _directional(f, work, i, v, eps)


def numerical_gradient(f: Callable, args: Sequence, eps: float = EPS, wrt=None) -> list:
    r"""Central-difference gradient of a scalar function, entry by entry, in float64.

    .. math:: \frac{\partial f}{\partial a_k} \approx \frac{f(a + \varepsilon e_k) - f(a - \varepsilon e_k)}{2\varepsilon}

    Costs two evaluations of f per entry; use it on small arguments.

    Parameters
    ----------
    f : callable
        ``f(*args)`` returns a scalar.
    args : sequence of array_like
    eps : float, default 1e-6
        Step. Truncation error is O(eps**2); rounding error about ``1e-16 * |f| / eps``.
    wrt : sequence of int, optional
        Indices of the arguments to differentiate; default all. Others get ``None``.

    Returns
    -------
    list
        One array per argument, each of that argument's shape (or ``None``).

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.check import numerical_gradient
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> (g,) = numerical_gradient(lambda A: np.sum(A ** 2), (A,))
    >>> np.allclose(g, 2 * A)
    True
    """
    _check_eps(eps)
    work = _float_args(args)
    wrt = _check_wrt(wrt, len(work))
    _call(f, work)  # fail early, with a clear message, on a bad f
    grads = [None] * len(work)
    for i in wrt:
        grads[i] = _partials(f, work, i, eps)
    return grads


def _partials(f, work, i, eps) -> np.ndarray:
    """Central differences of f with respect to every entry of ``work[i]`` (2 calls each).

    Perturbs ``work[i]`` in place and restores each entry; ``work`` is a private copy.
    """
    a = work[i]
    g = np.empty_like(a)
    flat, gflat = a.reshape(-1), g.reshape(-1)  # views
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        hi = _call(f, work)
        flat[k] = old - eps
        lo = _call(f, work)
        flat[k] = old
        gflat[k] = (hi - lo) / (2 * eps)
    return g


def _relation(g, shape, measure, num, close) -> str:
    """Describe how the analytic gradient g relates to the true one.

    ``measure(c)`` maps an array of the argument's shape to what was measured
    numerically (``num``): the full gradient, or derivatives along random directions.
    ``close(m)`` says whether such a measurement agrees with ``num``.
    """
    if not np.isfinite(g).all():
        return "contains NaN or inf"
    if g.shape != shape:
        head = f"wrong shape (got {g.shape}, expected {shape})"
        if g.ndim == 2 and g.T.shape == shape and close(measure(g.T)):
            return head + "; its transpose is the true gradient (numerator layout): transpose it"
        if g.size == int(np.prod(shape)) and close(measure(g.reshape(shape))):
            return head + "; the values are right, only the shape differs: reshape it"
        for axis in range(g.ndim):
            summed = g.sum(axis=axis)
            if summed.size == int(np.prod(shape)) and close(measure(summed.reshape(shape))):
                return (head + f"; a rank/broadcast mistake: summing it over axis {axis} gives the true "
                        "gradient (e.g. a bias gradient not summed over the batch)")
        return head + "; no transpose, reshape or sum over an axis of it matches the true gradient"
    m = measure(g)
    if g.ndim == 2 and g.shape[0] == g.shape[1] and close(measure(g.T)):
        return "equals the transpose of the true gradient"
    nn = float(num @ num)
    if nn == 0.0:
        return "the true gradient is zero here, but the analytic one is not"
    k = float(m @ num) / nn
    if abs(k) > 1e-12 and close(m / k):
        if abs(k + 1) < 1e-6:
            return "sign flipped: it equals -1 times the true gradient"
        return f"off by a constant factor k = {k:.6g} (1/k = {1 / k:.6g}): it equals k times the true gradient"
    if not m.any():
        return "is zero where the true gradient is not"
    return ("wrong values, not related to the true gradient by a transpose, constant factor, sign flip or "
            "missing sum: a term is likely wrong or missing (e.g. the derivative of an activation dropped, "
            "or a matrix product where an element-wise product belongs)")


def gradcheck(
    f: Callable,
    args: Sequence,
    grads: Sequence,
    *,
    eps: float = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    n_directions: int = 3,
    full_max_size: int = 200,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> GradCheckReport:
    r"""Check analytic gradients of a scalar function against central differences.

    For each argument ``a`` with an analytic gradient ``g`` (not ``None``):

    1. ``g.shape`` must equal ``a.shape``;
    2. along ``n_directions`` random unit directions ``v`` (from
       ``np.random.default_rng(seed)``, never global state),
       :math:`\langle g, v\rangle` must match the central difference of f along v
       (2 evaluations of f per direction, whatever the size of ``a``);
    3. if ``a.size <= full_max_size``, every entry of g must also match
       :func:`numerical_gradient`.

    A value ``x`` matches the numerical ``r`` when ``|x - r| <= atol + rtol * |r|``.

    Parameters
    ----------
    f : callable
        ``f(*args)`` returns a scalar.
    args : sequence of array_like
        The point at which to check (copied to float64; f never sees the caller's arrays).
    grads : sequence
        One analytic gradient per argument, or ``None`` to skip that argument
        (e.g. a target). A backward's NamedTuple works directly when it has one field
        per argument.
    eps : float, default 1e-6
        Finite-difference step.
    atol, rtol : float, default 1e-6 and 1e-5
        Tolerances as in :func:`numpy.allclose`.
    n_directions : int, default 3
        Random directions per argument.
    full_max_size : int, default 200
        Arguments with at most this many entries also get the full entry-wise check.
    seed : int, default 0
        Seed of the checker's own random generator.
    names : sequence of str, optional
        Argument names for messages; default: f's parameter names.

    Returns
    -------
    GradCheckReport
        ``max_abs_error``, ``max_rel_error`` (max abs error over the largest numerical
        entry), ``evaluations`` of f used, and one ``ArgReport`` per checked argument.

    Raises
    ------
    GradCheckError
        A gradient disagrees; the message names the argument, the errors, a diagnosis,
        and shows numerical next to analytical values.
    ValueError
        ``grads`` does not have one entry per argument, or f is not a finite scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.check import gradcheck, GradCheckError
    >>> A = np.arange(6.0).reshape(2, 3)
    >>> f = lambda A: np.sum(A ** 2)
    >>> gradcheck(f, (A,), (2 * A,)).max_abs_error < 1e-6
    True
    >>> try:
    ...     gradcheck(f, (A,), (-2 * A,))
    ... except GradCheckError as err:
    ...     print(err.diagnosis)
    sign flipped: it equals -1 times the true gradient
    """
    args = _float_args(args)
    if len(grads) != len(args):
        raise ValueError(
            f"grads must have one entry per argument of f (use None to skip one): "
            f"{len(args)} args but {len(grads)} grads"
        )
    _check_eps(eps)
    for label, value in (("atol", atol), ("rtol", rtol)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{label} must be a finite number >= 0; got {value}")
    if not (isinstance(n_directions, (int, np.integer)) and n_directions >= 1):
        raise ValueError(f"n_directions must be a whole number >= 1 (the directional check always runs); "
                         f"got {n_directions!r}")
    names = list(names) if names is not None else _names(f, len(args))
    if len(names) != len(args):
        raise ValueError(f"names must have one entry per argument of f: {len(args)} args but {len(names)} names")
    rng = np.random.default_rng(seed)
    _call(f, args)
    evaluations = 1
    reports = []
    for i, g in enumerate(grads):
        if g is None:
            continue
        a, name = args[i], names[i]
        g = real_array(f"grads[{i}] (the gradient of {name!r})", g).astype(np.float64)
        V = rng.standard_normal((n_directions, a.size))
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        num_dir = np.array([_directional(f, args, i, v.reshape(a.shape), eps) for v in V])
        evaluations += 2 * n_directions
        full = a.size <= full_max_size
        if full:
            num_full = _partials(f, args, i, eps)
            evaluations += 2 * a.size
            num, measure = num_full.ravel(), (lambda c: np.asarray(c).ravel())
        else:
            num, measure = num_dir, (lambda c: V @ np.asarray(c).ravel())

        def close(m, num=num):
            return bool(np.all(np.abs(m - num) <= atol + rtol * np.abs(num)))

        scale = max(float(np.max(np.abs(num), initial=0.0)), np.finfo(float).tiny)
        if g.shape == a.shape and np.isfinite(g).all():
            ana_dir = V @ g.ravel()
            err = np.abs(ana_dir - num_dir)
            ok = bool(np.all(err <= atol + rtol * np.abs(num_dir)))
            abs_err = float(err.max(initial=0.0))
            if full:
                err_full = np.abs(g.ravel() - num)
                ok = ok and close(g.ravel())
                abs_err = max(abs_err, float(err_full.max(initial=0.0)))
            if ok:
                reports.append(ArgReport(name, "full+directional" if full else "directional",
                                         abs_err, abs_err / scale))
                continue
        else:
            abs_err = float("nan")
        diagnosis = _relation(g, a.shape, measure, num, close)
        rel_err = abs_err / scale
        shown_num = num_full if full else num_dir
        shown_ana = g if (full or g.shape != a.shape) else V @ g.ravel()
        what = "entries" if full else f"derivatives along {n_directions} random directions"
        fmt = dict(precision=6, threshold=40, edgeitems=3)
        message = (
            f"gradient of {name!r} (argument {i} of f) is wrong: {diagnosis}.\n"
            f"  max abs error {abs_err:.3g}, max rel error {rel_err:.3g} "
            f"(atol={atol:g}, rtol={rtol:g}, eps={eps:g}); compared {what}\n"
            f"  numerical (central differences) {shown_num.shape}:\n{np.array2string(shown_num, **fmt)}\n"
            f"  analytical {shown_ana.shape}:\n{np.array2string(shown_ana, **fmt)}"
        )
        raise GradCheckError(message, argument=name, diagnosis=diagnosis, max_abs_error=abs_err,
                             max_rel_error=rel_err, numerical=shown_num, analytical=shown_ana)
    if not reports:
        raise ValueError("grads has no gradient to check (every entry is None)")
    return GradCheckReport(
        max_abs_error=max(r.max_abs_error for r in reports),
        max_rel_error=max(r.max_rel_error for r in reports),
        evaluations=evaluations,
        arguments=tuple(reports),
    )
