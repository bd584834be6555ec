"""Input checks shared by every derivation: dtype, ndim, finiteness, shapes.

Every public function turns user input into float64 arrays through these helpers,
so a bad input fails early with a ``ValueError`` (or ``TypeError`` for a
non-numeric dtype) that names the argument and the shapes involved.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._elementwise import blocks

_FLOAT64 = np.dtype(np.float64)


#: Up to this many entries :func:`all_finite` adds the entries up in Python (a few tenths
#: of a microsecond); above, one BLAS call per array.
TINY = 32


def all_finite(*arrays: np.ndarray) -> bool:
    """True when every entry of each float64 array is finite.

    One sum per array: the sum of the entries of a tiny array, else the sum of squares
    ``vdot(a, a)`` (BLAS, on every core), is finite only when every entry is (a NaN or an
    inf makes it NaN or inf). When the sum is not finite, the entries are tested one by
    one, block by block on every core, so that an array whose sum merely overflows
    (entries above about 1e154 for the squares) still counts as finite.
    """
    for a in arrays:
        total = sum(a.ravel().tolist()) if a.size <= TINY else np.vdot(a, a)
        if not (math.isfinite(total) or all(blocks(_finite, a))):
            return False
    return True


def _finite(a) -> bool:
    return bool(np.isfinite(a).all())


def _valid(a, ndim: int, finite: bool = True) -> bool:
    """The fast path: ``a`` is already a float64 ndarray of ``ndim`` dimensions, finite
    unless ``finite`` is false (not a subclass such as a masked array, which takes the
    full checks)."""
    return type(a) is np.ndarray and a.dtype == _FLOAT64 and a.ndim == ndim and (not finite or all_finite(a))


def as_array(name: str, a, ndim: int, layout: str, *, finite: bool = True) -> np.ndarray:
    """Return ``a`` as a float64 array of ``ndim`` dimensions, finite everywhere.

    ``layout`` is the shape written out in words, e.g. ``"(n, p)"``, used in messages.
    An ndarray that is already all of that is returned as it is, after one pass. With
    ``finite=False`` the entries are not looked at: for an input whose NaN or inf the
    caller finds in its results (and then calls this again to name it).
    """
    if _valid(a, ndim, finite):
        return a
    arr = real_array(name, a)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D with shape {layout}; got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}, "
            f"shape {arr.shape})"
        )
    return arr


def to_ndarray(name: str, a) -> np.ndarray:
    """``np.asarray(a)``, but a ragged nested list is a ValueError that names ``name``,
    and a masked array (whose mask ``np.asarray`` would silently drop) a TypeError."""
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array ({int(np.ma.count_masked(a))} of {a.size} entries masked); derivlib "
            f"does not honour masks: pass {name}.filled(value), or drop the masked rows, as a plain ndarray"
        )
    try:
        return np.asarray(a)
    except ValueError as err:  # numpy: "inhomogeneous shape after N dimensions"
        raise ValueError(f"{name} is a ragged nested list (rows of different lengths), not an array: {err}") from None


def real_array(name: str, a) -> np.ndarray:
    """``a`` as an ndarray of real numbers (bool, integer or float; not yet converted)."""
    arr = to_ndarray(name, a)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    return arr


def as_row_vector(name: str, a, length: int, length_name: str) -> np.ndarray:
    """Return a bias given as ``(length,)`` or ``(1, length)`` as a float64 array of
    that same shape (so its gradient can be returned in the caller's shape)."""
    if type(a) is np.ndarray and a.shape in ((length,), (1, length)) and _valid(a, a.ndim):
        return a
    arr = to_ndarray(name, a)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must have shape ({length_name},) or (1, {length_name}) = ({length},) "
            f"or (1, {length}); got shape {arr.shape}"
        )
    arr = as_array(name, arr, arr.ndim, f"({length},) or (1, {length})")
    if arr.shape not in ((length,), (1, length)):
        raise ValueError(
            f"{name} must have shape ({length},) or (1, {length}) to match "
            f"{length_name} = {length}; got shape {arr.shape}"
        )
    return arr


def check_inner(left: str, left_shape, right: str, right_shape) -> None:
    """Raise unless ``left @ right`` conforms (left's columns == right's rows)."""
    if left_shape[1] != right_shape[0]:
        raise ValueError(
            f"{left} {left_shape} and {right} {right_shape} do not conform: "
            f"{left} has {left_shape[1]} columns but {right} has {right_shape[0]} rows"
        )


def quiet_underflow(func):
    """Run ``func`` with numpy's underflow reporting off.

    A result that underflows to 0 or a subnormal is the correctly rounded value here
    (e.g. ``exp(-1000)``), never an error, even under ``np.errstate(all='raise')``.
    Overflow and invalid operations are still reported.
    """

    @functools.wraps(func)
    def quiet(*args, **kwargs):
        with np.errstate(under="ignore"):
            return func(*args, **kwargs)

    return quiet


def checked(func):
    """Run ``func`` with numpy's floating-point reports off, for a function that checks
    every result it returns (:func:`product`, :func:`finite_results`): an overflow is then
    a ValueError naming the inputs, never a numpy warning, whatever ``np.errstate`` the
    caller set; an underflow to 0 is the correctly rounded value."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with np.errstate(all="ignore"):
            return func(*args, **kwargs)

    return run


def product(left: str, A, right: str, W, *, saturates: bool) -> np.ndarray:
    """``A @ W`` from finite inputs (under :func:`checked`), or a ValueError naming the
    inputs when it overflows.

    An entry that BLAS returns as +-inf or NaN is recomputed exactly as far as float64
    allows (:func:`_rescaled_entries`): whether ``1e200 * 1e200 - 1e200 * 1e200`` comes back
    as NaN or as inf depends on the kernel (a fused multiply-add keeps the inf), and its
    value is 0. With ``saturates`` (the result goes into a sigmoid) an entry that truly
    overflows to +-inf is kept: the sigmoid of either is exactly 1 or 0, and a bias added
    after it keeps it +-inf. Without it, a true overflow is an error.
    """
    Z = A @ W
    if all_finite(Z):
        return Z
    bad = ~np.isfinite(Z)
    Z[bad] = _rescaled_entries(A, W, bad)
    if not saturates and not all_finite(Z):
        i, j = (int(k) for k in np.argwhere(~np.isfinite(Z))[0])
        raise ValueError(
            f"{left} @ {right} overflows float64 at entry ({i}, {j}) (largest |{left}| is "
            f"{np.abs(A).max():.3g}, largest |{right}| is {np.abs(W).max():.3g}): rescale {left} and {right}"
        )
    return Z


def _rescaled_entries(A, W, bad) -> np.ndarray:
    """The entries ``(A @ W)[bad]`` computed as ``alpha * beta * (a / alpha) . (w / beta)``,
    with alpha and beta the largest magnitudes of the row of A and the column of W: the
    scaled dot product cannot overflow (each term is at most 1), so the result is +-inf
    only where the true value overflows float64."""
    rows, cols = np.nonzero(bad)
    alpha = np.abs(A[rows]).max(axis=1)
    beta = np.abs(W[:, cols]).max(axis=0)
    dots = np.einsum("kp,pk->k", A[rows] / alpha[:, None], W[:, cols] / beta)
    return dots * alpha * beta


def affine(left: str, A, right: str, W, bias: str, b) -> np.ndarray:
    """``A @ W + b`` from finite inputs (under :func:`checked`), or a ValueError naming the
    inputs when an entry overflows."""
    Z = product(left, A, right, W, saturates=False)
    Z += b
    if not all_finite(Z):
        i, j = (int(k) for k in np.argwhere(~np.isfinite(Z))[0])
        raise ValueError(
            f"{left} @ {right} + {bias} overflows float64 at entry ({i}, {j}) (largest |{bias}| is "
            f"{np.abs(b).max():.3g}): rescale {left}, {right} and {bias}"
        )
    return Z


def finite_results(results, formulas: dict, inputs: dict, bad_input=None):
    """``results`` (a NamedTuple of arrays) when every entry is finite, else a ValueError
    naming the first result that is not, its formula and the inputs' sizes (the overflow
    may have happened in a step before it: an intermediate such as delta2 W2^T).

    ``bad_input``, when given, is called first on that path: it raises, naming the input,
    when a NaN or inf of an input left unchecked is what reached the results."""
    if all_finite(*results):
        return results
    if bad_input is not None:
        bad_input()
    name = next(f for f, r in zip(results._fields, results) if not all_finite(r))
    sizes = ", ".join(f"|{k}| up to {np.abs(v).max():.3g}" for k, v in inputs.items() if v.size)
    raise ValueError(f"{name} = {formulas[name]} overflows float64, itself or in a step before it ({sizes}): "
                     "rescale the inputs")


def check_bytes(what: str, shape, limit: int) -> None:
    """Raise before allocating a float64 array of ``shape`` that would need more than ``limit`` bytes."""
    count = 1
    for s in shape:
        count *= int(s)
    need = 8 * count
    if need > limit:
        raise MemoryError(
            f"{what} of shape {tuple(int(s) for s in shape)} would need {need:,} bytes ({count:,} float64 "
            f"entries), above the limit of {limit:,} bytes; raise max_bytes if you have the memory"
        )
