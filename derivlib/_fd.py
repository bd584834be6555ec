"""Central differences that know when they cannot be trusted (private to derivlib.check).

* f gets a fresh copy of every argument at each call, so an f that writes into its
  argument cannot spoil the next evaluation;
* the step is the one actually taken, ``(x + eps) - (x - eps)``, not ``2 eps``;
* a step lost in rounding, or a non-finite f at a perturbed point, raises
  :class:`~derivlib.diagnosis.FiniteDifferenceError` at once;
* :func:`rounding_noise` bounds the rounding part of the error, and :func:`probe`
  measures, on demand, how the estimate moves with the step (curvature, kinks, noise).
"""

from __future__ import annotations

import numpy as np

from .diagnosis import Diagnosis, FiniteDifferenceError, fd_text

#: Rounding error of one evaluation of f, in units of f's machine epsilon times |f|,
#: assumed by :func:`rounding_noise` (two evaluations enter each difference).
ROUND_ULPS = 2
#: :func:`untrusted` calls it a kink when the one-sided slopes' gap at 2 eps is the gap at eps
#: to within this fraction of it (a kink keeps its jump as the step changes; a smooth f halves it).
KINK_STEADY = 0.25
#: A mismatch is the finite differences' own when it is within the tolerance plus this many
#: times their spread over the steps eps/2, eps and 2 eps.
SPREAD_ALLOWANCE = 2
#: The estimates converge (truncation, which shrinks as eps**2) when halving the step moves
#: them by less than this fraction of what doubling it does.
CONVERGING = 0.5
#: A spread this many times the rounding bound is more than rounding can do: curvature.
FAR_ABOVE_ROUNDING = 100

_REAL_SCALARS = (int, float, np.integer, np.floating)


def _scalar(value):
    """f's return value as (float, machine epsilon of its precision), or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (*_REAL_SCALARS, np.ndarray)):
        raise TypeError(f"f must return a real scalar (a float); got {type(value).__name__} {value!r:.60}")
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"f must return a scalar; got an array of shape {arr.shape}")
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"f must return a real scalar (a float); got an array of dtype {arr.dtype}")
    ulp = np.finfo(arr.dtype).eps if np.issubdtype(arr.dtype, np.floating) else np.finfo(np.float64).eps
    return float(arr.reshape(())), float(max(ulp, np.finfo(np.float64).eps)), arr.dtype


class Evaluator:
    """Calls f on fresh copies, checks what it returns, and keeps what the noise bound needs."""

    def __init__(self, f):
        self.f = f
        self.calls = 0
        self.fmax = 0.0  # largest |f| seen
        self.ulp = float(np.finfo(np.float64).eps)  # coarsest precision f returned
        self.dtype = np.dtype(np.float64)

    def __call__(self, args, where=None, eps=None) -> float:
        value, ulp, dtype = _scalar(self.f(*[a.copy() for a in args]))
        self.calls += 1
        if not np.isfinite(value):
            if where is None:
                raise ValueError(f"f returned {value} at the point of the check")
            text = fd_text(Diagnosis.NOT_FINITE_NEARBY, value=value, eps=eps, where=where[1])
            raise FiniteDifferenceError(
                f"gradient of {where[0]!r} cannot be checked here: {text}.", argument=where[0],
                kind=Diagnosis.NOT_FINITE_NEARBY, diagnosis=text, max_abs_error=float("nan"),
                max_rel_error=float("nan"), numerical=None, analytical=None)
        self.fmax = max(self.fmax, abs(value))
        if ulp > self.ulp:
            self.ulp, self.dtype = ulp, dtype
        return value


def step_lost(name, index, x, eps):
    text = fd_text(Diagnosis.STEP_LOST, where=f"{name}[{', '.join(map(str, index))}]", eps=eps, x=float(x),
                   ulp=float(np.spacing(abs(x))))
    return FiniteDifferenceError(f"gradient of {name!r} cannot be checked here: {text}.", argument=name,
                                 kind=Diagnosis.STEP_LOST, diagnosis=text, max_abs_error=float("nan"),
                                 max_rel_error=float("nan"), numerical=None, analytical=None)


def _index(shape, k):
    return tuple(int(j) for j in np.unravel_index(k, shape)) if shape else ()


def partials(F, work, i, eps, name) -> np.ndarray:
    """Central differences of f for every entry of ``work[i]``, with the step actually taken.

    ``work[i]`` must be a private C-contiguous array: it is perturbed in place (through a
    flat view) and each entry restored.
    """
    a = work[i]
    flat = a.reshape(-1)  # a view, because a is C-contiguous
    g = np.empty(a.size)
    for k in range(flat.size):
        old = flat[k]
        hi, lo = old + eps, old - eps
        if hi == lo:
            raise step_lost(name, _index(a.shape, k), old, eps)
        where = (name, f"entry {_index(a.shape, k)} of {name!r}")
        flat[k] = hi
        f_hi = F(work, where, eps)
        flat[k] = lo
        f_lo = F(work, where, eps)
        flat[k] = old
        g[k] = (f_hi - f_lo) / (hi - lo)
    return g.reshape(a.shape)


def directional(F, work, i, v, eps, name):
    """Central difference of f along ``v`` in ``work[i]``.

    Returns ``(derivative, u)``: the derivative along ``u``, the direction actually taken
    (``u`` differs from ``v`` where rounding shortened the step).
    """
    a = work[i]
    plus, minus = a + eps * v, a - eps * v
    u = (plus - minus) / (2 * eps)
    lost = (u == 0) & (v != 0)
    if lost.any():
        k = int(np.flatnonzero(lost.ravel())[0])
        raise step_lost(name, _index(a.shape, k), a.ravel()[k], eps)
    where = (name, f"{name!r} along a direction")
    moved = list(work)
    moved[i] = plus
    f_plus = F(moved, where, eps)
    moved[i] = minus
    f_minus = F(moved, where, eps)
    return (f_plus - f_minus) / (2 * eps), u


def rounding_noise(F, eps) -> float:
    """Bound on the rounding error of a central difference: ``ROUND_ULPS * ulp * max|f| / eps``."""
    return ROUND_ULPS * F.ulp * F.fmax / eps


def probe(F, work, i, d, eps, name) -> dict:
    """How the central difference along ``d`` moves with the step: eps/2, eps and 2 eps.

    Six more evaluations of f. Returns the three central differences and the one-sided
    slopes at eps and 2 eps (a kink keeps their gap as the step shrinks; a smooth f
    halves it).
    """
    a = work[i]
    dn = d / float(d.ravel() @ d.ravel())
    f0 = F(work)
    out = {}
    values = {}
    for t in (0.5, 1.0, 2.0):
        for sign in (1, -1):
            moved = list(work)
            moved[i] = a + sign * t * eps * d
            values[sign * t] = (F(moved, (name, f"{name!r} near the point"), eps),
                                float((moved[i] - a).ravel() @ dn.ravel()))
    for t, key in ((0.5, "dh"), (1.0, "d1"), (2.0, "d2")):
        (fp, sp), (fm, sm) = values[t], values[-t]
        out[key] = (fp - fm) / (sp - sm)
        out[f"right{t:g}"], out[f"left{t:g}"] = (fp - f0) / sp, (f0 - fm) / -sm
    return out


def untrusted(p, ana, tol, F, eps):
    """The :class:`Diagnosis` when the finite differences explain the disagreement, else None."""
    err = abs(ana - p["d1"])
    jump1, jump2 = p["right1"] - p["left1"], p["right2"] - p["left2"]
    if abs(jump1) > tol and abs(jump2 - jump1) < KINK_STEADY * abs(jump1) and err <= abs(jump1):
        return Diagnosis.KINK
    spread = max(abs(p["d1"] - p["d2"]), abs(p["d1"] - p["dh"]))
    if err <= tol + SPREAD_ALLOWANCE * spread:
        converging = abs(p["dh"] - p["d1"]) < CONVERGING * abs(p["d1"] - p["d2"])  # as eps**2: truncation
        if converging or spread > FAR_ABOVE_ROUNDING * rounding_noise(F, eps):
            return Diagnosis.CURVATURE
        return Diagnosis.LOW_PRECISION if F.dtype != np.float64 else Diagnosis.ROUNDING
    return None
