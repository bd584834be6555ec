"""Dimensions in one place: a whole number, a name, or a whole number times a name (``4*h``).

Pure Python (standard library only). A dimension's canonical value is an ``int``, a
``str`` (a name) or a :class:`~derivlib.engine.nodes.Coef` (a number times names, e.g.
``36n``), normalised by :func:`dim` so that equal dimensions compare equal: ``4*h`` and
``h*4`` are the same Coef, a product without names is an int and ``1*h`` is ``"h"``.
Every module sizes a dimension with :func:`size`, lists its names with :func:`names` and
writes it with :func:`text`, :func:`latex` or :func:`py`.

Examples
--------
>>> read("4*h", "shapes['Wx']") == read("h*4", "shapes['Wx']")
True
>>> text(read("4*h", "x")), py(read("4*h", "x")), size(read("4*h", "x"), {"h": 3})
('4h', '4 * h', 12)
>>> times(read("36*n", "x"), 1, 36)
'n'
"""

from __future__ import annotations

import re
from fractions import Fraction

from .nodes import Coef, ExpressionError

__all__ = ["dim", "read", "size", "names", "text", "latex", "py", "times", "divide", "solve"]

_DIGITS = re.compile(r"[0-9]+\Z")  # str.isdigit() also takes '²', which int() refuses
_FORM = "a name like 'n', a whole number times a name like '4*h', or a whole number >= 1"


def dim(d):
    """The canonical form of a dimension (an int, a name or a Coef), or None if it is none of them."""
    if isinstance(d, bool):
        return None
    if isinstance(d, int):
        return d if d >= 1 else None
    if isinstance(d, str):
        return d if d.isidentifier() else None
    if isinstance(d, Coef):
        if d.num <= 0 or d.num.denominator != 1 or any(e < 0 for _, e in d.dims):
            return None
        if not d.dims:
            return int(d.num)
        if d.num == 1 and len(d.dims) == 1 and d.dims[0][1] == 1:
            return d.dims[0][0]
        return d
    return None


def read(d, where):
    """A dimension as typed: an int, a name, digits, or factors joined by ``*`` (``'4*h'``).

    Raises
    ------
    ExpressionError
        (a ValueError) starting with ``where``, quoting the dimension.
    """
    out = None
    if isinstance(d, str) and "*" in d:
        factors = [f.strip() for f in d.split("*")]
        if all(_DIGITS.match(f) or f.isidentifier() for f in factors) and sum(f.isidentifier() for f in factors) == 1:
            c = Coef(1)
            for f in factors:
                c = c * (Coef(int(f)) if _DIGITS.match(f) else Coef(1, ((f, 1),)))
            out = dim(c)
    elif isinstance(d, str) and _DIGITS.match(d):
        d = int(d)  # quoted as a number below: got 0
        out = dim(d)
    elif isinstance(d, str):
        out = dim(d)
    elif isinstance(d, (int, Coef)):
        out = dim(d)
    if out is None:
        raise ExpressionError(f"{where}: each dimension must be {_FORM}; got {d!r}")
    return out


def names(d):
    """The dimension names in ``d`` (``[]`` for a number)."""
    if isinstance(d, str):
        return [d]
    if isinstance(d, Coef):
        return [n for n, _ in d.dims]
    return []


def size(d, sizes):
    """The size of ``d``: an int as it is, a name or a product from ``sizes`` (name -> int)."""
    if isinstance(d, int):
        return d
    if isinstance(d, str):
        return sizes[d]
    out = Fraction(d.num)
    for n, e in d.dims:
        out *= Fraction(sizes[n]) ** e
    return int(out)


def _parts(d):
    if isinstance(d, Coef):
        return [str(d.num)] + [n for n, e in d.dims for _ in range(e)]
    return [str(d)]


def text(d):
    """Unicode: ``4h``, ``n``, ``3`` (a product's :class:`Coef` writes itself so, for ``nodes.fmt_shape``)."""
    return str(d)


def latex(d):
    """LaTeX: ``4h``, the names as they are (as a dimension in an expression is written)."""
    return "".join(_parts(d))


def py(d):
    """Python source: ``4 * h``."""
    return " * ".join(_parts(d))


def times(d, num, den=1):
    """``d · num / den`` as a dimension, or None when that is not a whole number times names."""
    c = d if isinstance(d, Coef) else Coef.of_dim(d)
    return dim(c * Coef(Fraction(num, den)))


def divide(d, m):
    """``d / m`` (m a whole number) as a dimension, or None when m does not divide it."""
    return times(d, 1, m)


def solve(d, n, sizes):
    """Bind the one unknown name of ``d`` so that ``d`` has size ``n``.

    Returns None when every name of ``d`` is in ``sizes`` (then compare ``size(d, sizes)``);
    else ``(name, value)``, value None when ``n`` is not a multiple of the rest.
    """
    unknown = [x for x in names(d) if x not in sizes]
    if not unknown:
        return None
    name = unknown[0]
    if isinstance(d, str):
        return name, n
    rest = Fraction(d.num)
    for x, e in d.dims:
        if x != name:
            rest *= Fraction(sizes[x]) ** e
    value = Fraction(n) / rest
    return name, (int(value) if value.denominator == 1 and value >= 1 else None)
