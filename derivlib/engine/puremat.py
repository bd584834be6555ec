"""Matrices as lists of lists of floats: the operations of the rule table, without numpy.

Every matrix is two-dimensional (a number is 1×1). Element-wise operations broadcast a
1×q row, an n×1 column or a 1×1 number, as numpy does. The functions' scalar kernels are
in their rows (``derivlib.engine.rules``).
"""

from __future__ import annotations

import math

__all__ = []


def shape(a):
    return (len(a), len(a[0]))


def full(r, c, v):
    return [[float(v)] * c for _ in range(r)]


def matmul(a, b):
    bt = list(zip(*b))
    return [[math.fsum(x * y for x, y in zip(row, col)) for col in bt] for row in a]


def transpose(a):
    return [list(col) for col in zip(*a)]


def zipwith(f, a, b):
    (ra, ca), (rb, cb) = shape(a), shape(b)
    r, c = max(ra, rb), max(ca, cb)
    return [[f(a[i if ra > 1 else 0][j if ca > 1 else 0], b[i if rb > 1 else 0][j if cb > 1 else 0])
             for j in range(c)] for i in range(r)]


def emap(f, a):
    return [[f(x) for x in row] for row in a]


def total(a, axis):
    if axis is None:
        return [[math.fsum(x for row in a for x in row)]]
    if axis == 0:
        return [[math.fsum(col) for col in zip(*a)]]
    return [[math.fsum(row)] for row in a]


def _div(x, y):
    return x / y if y != 0 else math.copysign(math.inf, x) * math.copysign(1.0, y) if x else math.nan


def _pow(x, p):
    try:
        return float(x ** p) if not isinstance(x ** p, complex) else math.nan
    except ZeroDivisionError:
        return math.inf


def scale(c, a):
    return emap(lambda x: c * x, a)


def frob(a, b):
    """A : B, the sum of the entries of A ∘ B."""
    return math.fsum(x * y for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def add_scaled(a, eps, v):
    return [[x + eps * y for x, y in zip(ra, rv)] for ra, rv in zip(a, v)]
