"""What a shape is, in one place: two dimensions, each a name, a whole number >= 1 or a whole number times a name.

Pure Python (standard library only). A shape is typed in four places, each in its own
syntax: the engine's ``shapes`` dict (``{"X": ("n", "p")}`` or ``{"X": "n, p"}``), the
playground's box (``X: n, p``), the command line (``--shape X=n,p``) and the pages'
``:shapes: X=n,p`` option. Each reads its syntax and calls :func:`check_name` and
:func:`check_shape` with the name of its own argument (``where``), so a shape is accepted
or refused in the same words everywhere.

Examples
--------
>>> check_shape("n, 1", "shapes['b']")
('n', 1)
>>> check_shape("()", "shapes['c']")
(1, 1)
>>> check_shape("n, 0", "line 2")
Traceback (most recent call last):
...
derivlib.engine.nodes.ExpressionError: line 2: each dimension must be a name like 'n', a whole number times a name like '4*h', or a whole number >= 1; got 0
"""

from __future__ import annotations

from . import dims
from .nodes import ExpressionError
from .rules import FUNCTIONS

__all__ = ["check_dim", "check_shape", "check_name", "check_indices"]

def check_dim(dim, where, *, largest=None):
    """A dimension: a name such as ``'n'``, a whole number >= 1 (an int, or its digits), or a
    whole number times a name (``'4*h'``), in the canonical form of :func:`.dims.dim`.

    ``largest``, if given, bounds a numbered dimension (the playground keeps its check fast).

    Raises
    ------
    ExpressionError
        (a ValueError) starting with ``where``, quoting the dimension.
    """
    dim = dims.read(dim, where)
    if largest is not None and isinstance(dim, int) and dim > largest:
        raise ExpressionError(f"{where}: dimension {dim} must be between 1 and {largest} here; use a name such as "
                              f"n for a size of any value")
    return dim


def check_shape(shape, where, *, largest=None):
    """A shape as a tuple of two dimensions; a number, ``()`` or ``(1, 1)``, is ``(1, 1)``.

    ``shape`` is a sequence of dimensions or text: ``"n, p"`` (dimensions between commas)
    or ``"()"`` for a number.

    Raises
    ------
    ExpressionError
        (a ValueError) starting with ``where`` when there are not two dimensions or a
        dimension is not a name or a whole number >= 1 (see :func:`check_dim`).
    TypeError
        naming ``where`` when ``shape`` is neither text nor a sequence.
    """
    given = shape.strip() if isinstance(shape, str) else shape
    if isinstance(shape, str):
        shape = () if given == "()" else tuple(d.strip() for d in given.split(","))
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{where} must be a tuple of two dimensions, e.g. ('n', 'q'); got {given!r}") from None
    if shape == ():
        return (1, 1)
    if len(shape) != 2:
        raise ExpressionError(f"{where} must have two dimensions (a row is (1, q), a number () or (1, 1)); "
                              f"got {given!r}")
    return tuple(check_dim(d, where, largest=largest) for d in shape)


def check_name(name, where, given=()):
    """A variable's name: a Python identifier other than the functions, not among ``given``."""
    if not (isinstance(name, str) and name.isidentifier()) or name in FUNCTIONS:
        raise ExpressionError(f"{where}: a variable's name must be a Python identifier other than the functions "
                              f"{', '.join(FUNCTIONS)}; got {name!r}")
    if name in given:
        raise ExpressionError(f"{where}: {name!r} is given a shape twice")
    return name


def check_indices(indices, shapes):
    """Validate ``indices`` (name -> (n, k), a tuple or ``"n, k"``): name -> (n, k).

    Raises
    ------
    TypeError
        ``indices`` is not a dict.
    ExpressionError
        A name is not an identifier, is also a variable of ``shapes``, or its declaration
        is not two dimensions.
    """
    if indices is None:
        return {}
    if not isinstance(indices, dict):
        raise TypeError(f"indices must be a dict mapping each index vector to (n, k): n integers in range(k), "
                        f"e.g. {{'y': ('n', 'k')}}; got {type(indices).__name__}")
    out = {}
    for name, decl in indices.items():
        where = f"indices[{name!r}]"
        name = check_name(name, where)
        if name in shapes:
            raise ExpressionError(f"{where}: {name!r} is also given a shape in shapes; an index vector is "
                                  f"declared once, in indices")
        given = decl
        if isinstance(decl, str) and decl.strip() == "()" or isinstance(decl, (tuple, list)) and len(decl) != 2:
            raise ExpressionError(f"{where} must be (n, k): n integers in range(k), e.g. ('n', 'k'); got {given!r}")
        out[name] = check_shape(decl, where)
    dims = {d for s in shapes.values() for d in s if isinstance(d, str)}
    for name, (n, k) in out.items():
        if isinstance(k, str) and k not in dims:
            raise ExpressionError(f"indices[{name!r}]: its range {k!r} is in no variable's shape, so no value could "
                                  f"give its size: declare the matrix it indexes (E: ({k!r}, 'd') for take, S: "
                                  f"('n', {k!r}) for pick), or write the number of classes, e.g. ({n!r}, 10)")
    for name in out:
        if name in dims or any(name in s for s in out.values()):
            raise ExpressionError(f"indices: {name!r} is both an index vector and a dimension name")
    return out
