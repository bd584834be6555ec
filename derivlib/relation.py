"""How a value relates to the one it should equal: the one diagnosis of a wrong gradient.

Pure Python (standard library only): it runs in the browser, on Pyodide, as well as in
:func:`derivlib.check.gradcheck`. :func:`relate` decides the :class:`~derivlib.diagnosis.Diagnosis`
(a transpose, a sign flip, a constant factor, a sum not taken, ...) once, for every caller:

* :func:`derivlib.check.gradcheck` (numpy arrays, measured along random directions);
* :func:`derivlib.check.relation` and :func:`relation` here (arrays; lists of lists);
* the playground's answer checker, :func:`derivlib.playground.answer.diagnose`, which
  refines a few kinds into its own (a 1/n, a missing activation's derivative);
* the pages' formula checker, ``verification.formulas``.

The arrays are the caller's: an :class:`ArrayKit` says how to take a transpose, a
reshape or a sum of one (:data:`LISTS` for lists of lists; ``derivlib.check`` has one for
numpy arrays, so that a big gradient is never copied into Python lists). What is
compared are *measurements*: lists of floats that ``measure`` makes of an array of the
right shape (its entries, or its derivatives along a few directions).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

from .diagnosis import Diagnosis

__all__ = ["ArrayKit", "LISTS", "relate", "relation", "within"]


class ArrayKit(NamedTuple):
    """The operations :func:`relate` needs of one type of array."""

    flat: Callable  # array -> list of floats, row by row
    finite: Callable  # array -> whether every entry is finite
    shape: Callable  # array -> tuple of dimensions
    transpose: Callable  # 2-D array -> its transpose
    reshape: Callable  # (array, shape) -> the same entries, row by row, in that shape
    sum: Callable  # (array, axis) -> the array summed over that axis
    ones: Callable  # shape -> an array of ones


def _list_sum(m, axis):
    if axis == 0:
        return [[sum(col) for col in zip(*m)]]
    return [[sum(row)] for row in m]


def _list_reshape(m, shape):
    flat = [x for row in m for x in row]
    rows, cols = shape
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


#: Lists of lists (2-D, every row the same length).
LISTS = ArrayKit(
    flat=lambda m: [x for row in m for x in row],
    finite=lambda m: all(math.isfinite(x) for row in m for x in row),
    shape=lambda m: (len(m), len(m[0])),
    transpose=lambda m: [list(col) for col in zip(*m)],
    reshape=_list_reshape,
    sum=_list_sum,
    ones=lambda shape: [[1.0] * shape[1] for _ in range(shape[0])],
)


def _size(shape):
    return math.prod(shape)


def relate(g, shape, measure, num, close, kit=LISTS):
    """``(kind, numbers)``: how ``g`` relates to the value it should equal, known to disagree.

    Parameters
    ----------
    g : array
        The value found (an array of ``kit``), of any shape.
    shape : tuple
        The shape it should have.
    measure : callable
        Array of shape ``shape`` -> list of floats: what was measured of the right value,
        ``num`` (its entries, or its derivatives along a few directions).
    num : list of float
        The measurement of the right value.
    close : callable
        List of floats -> whether that measurement agrees with ``num``.
    kit : ArrayKit
        The operations on ``g``'s type of array.

    Returns
    -------
    tuple
        A :class:`~derivlib.diagnosis.Diagnosis` and the numbers its words need
        (:func:`derivlib.diagnosis.relation_text`): ``head`` for a wrong shape, ``axis``
        for a sum not taken, ``k`` for a constant factor (g is k times the right value),
        ``m`` for a 1/m, ``got`` and ``want`` for one number.
    """
    if not kit.finite(g):
        return Diagnosis.NOT_FINITE, {}
    got = tuple(kit.shape(g))
    if got != tuple(shape):
        head = dict(head=f"wrong shape (got {got}, expected {tuple(shape)})")
        if len(got) == 2 and got[::-1] == tuple(shape) and close(measure(kit.transpose(g))):
            return Diagnosis.SHAPE_TRANSPOSED, head
        if _size(got) == _size(shape) and close(measure(kit.reshape(g, shape))):
            return Diagnosis.SHAPE_FLATTENED, head
        for axis in range(len(got)):
            summed = kit.sum(g, axis)
            if _size(kit.shape(summed)) == _size(shape) and close(measure(kit.reshape(summed, shape))):
                return Diagnosis.SHAPE_NOT_SUMMED, dict(head, axis=axis)
        return Diagnosis.SHAPE_UNRELATED, head
    m = measure(g)
    if close([0.0] * len(num)):
        return Diagnosis.TRUE_GRADIENT_ZERO, {}
    if _size(got) == 1:
        return Diagnosis.ONE_VALUE, dict(got=kit.flat(g)[0], want=num[0] / measure(kit.ones(shape))[0])
    transposed = len(got) == 2 and got[0] == got[1] and close(measure(kit.transpose(g)))
    flipped = close([-x for x in m])
    if transposed and flipped:
        return Diagnosis.TRANSPOSED_OR_SIGN_FLIPPED, {}
    if transposed:
        return Diagnosis.TRANSPOSED, {}
    if flipped:
        return Diagnosis.SIGN_FLIPPED, {}
    if not any(m):
        return Diagnosis.ZERO, {}
    k = _dot(m, num) / _dot(num, num)
    if k != 0 and close([x / k for x in m]):
        inverse = round(1 / k)
        if inverse >= 2 and abs(1 / k - inverse) <= 1e-6 * inverse:
            return Diagnosis.MEAN_WHERE_SUM, dict(k=k, m=inverse)
        return Diagnosis.CONSTANT_FACTOR, dict(k=k)
    return Diagnosis.WRONG_VALUES, {}


def _dot(a, b):
    return float(sum(x * y for x, y in zip(a, b)))


def within(num, rtol):
    """``close(m)``: every entry of ``m`` within ``rtol`` times (1 + the largest abs(num)) plus
    ``rtol`` times its own entry of ``num`` (numpy's ``allclose`` with that ``atol``)."""
    atol = rtol * (1 + max((abs(x) for x in num), default=0.0))

    def close(m):
        return len(m) == len(num) and all(abs(x - y) <= atol + rtol * abs(y) for x, y in zip(m, num))

    return close


def relation(got, want, rtol=1e-9, kit=LISTS):
    """How ``got`` relates to ``want``, the value it should equal: None when they agree, else
    ``(kind, numbers)`` as :func:`relate` gives them. They agree when every entry is within
    ``rtol`` of want's, plus ``rtol`` times (1 + want's largest entry) (:func:`within`).

    Examples
    --------
    >>> W = [[1.0, 2.0, 0.5], [3.0, -1.0, 4.0]]
    >>> relation(W, W) is None
    True
    >>> relation([[-x for x in row] for row in W], W)[0]
    <Diagnosis.SIGN_FLIPPED: 'sign-flipped'>
    >>> relation([[1.0, 3.0], [2.0, -1.0], [0.5, 4.0]], W)[0]
    <Diagnosis.SHAPE_TRANSPOSED: 'shape-transposed'>
    """
    num = kit.flat(want)
    close = within(num, rtol)
    shape = tuple(kit.shape(want))
    if tuple(kit.shape(got)) == shape and kit.finite(got) and close(kit.flat(got)):
        return None
    return relate(got, shape, kit.flat, num, close, kit)
