"""Evaluate expression nodes on lists of lists (pure Python) or on numpy arrays.

Both walk the same nodes with the same rule table: only the forward functions differ
(``Rule.pure`` and ``Rule.numpy``). This module imports numpy only when asked to
evaluate on arrays.
"""

from __future__ import annotations

from . import dims
from . import puremat as pm
from .nodes import Coef, ExpressionError
from .rules import HELPERS, RULES

__all__ = ["evaluate", "bind_sizes"]


def bind_sizes(shapes, values):
    """Sizes of the dimensions from the values' shapes; a clear error when they disagree.

    A product dimension binds its name: ``4*h`` with 12 columns gives h = 3.
    """
    sizes = {}
    for name, shape in shapes.items():
        if name not in values:
            continue
        got = values[name]
        for axis, d in enumerate(shape):
            n = got[axis]
            solved = dims.solve(d, n, sizes)
            if solved is None:
                if dims.size(d, sizes) != n:
                    raise ValueError(_disagree(name, shape, axis, d, n, got, sizes))
            elif solved[1] is None:
                factor = d.num  # d is a number times the one unknown name
                raise ValueError(f"{name} must have shape {_fmt(shape)}: dimension {axis} is {dims.text(d)}, a "
                                 f"multiple of {factor}; got {n} (shape {got}), which {factor} does not divide")
            else:
                sizes[solved[0]] = solved[1]
    return sizes


def _disagree(name, shape, axis, d, n, got, sizes):
    if isinstance(d, int):
        return f"{name} must have shape {_fmt(shape)}: dimension {axis} is {d}; got {got}"
    if isinstance(d, str):
        return (f"dimension {d!r} is {sizes[d]} from an earlier variable but {n} in {name} "
                f"(shape {got}, declared {_fmt(shape)})")
    given = ", ".join(f"{x} = {sizes[x]}" for x in dims.names(d))
    return (f"dimension {dims.text(d)!r} is {dims.size(d, sizes)} ({given} from an earlier variable) but {n} in "
            f"{name} (shape {got}, declared {_fmt(shape)})")


def _fmt(shape):
    return "(" + ", ".join(repr(dims.py(d).replace(" ", "") if isinstance(d, Coef) else d) for d in shape) + ")"


def evaluate(node, env, sizes, np=None, cache=None):
    """Value of ``node``: env maps variable identifiers to values, sizes dimension names to ints.

    ``np`` is the numpy module to evaluate on arrays, or None for lists of lists.
    ``cache`` (id(node) -> value) may be pre-filled to override an intermediate.
    """
    cache = {} if cache is None else cache
    return _eval(node, env, sizes, np, cache)


def _eval(node, env, sizes, np, cache):
    key = id(node)
    if key in cache:
        return cache[key]
    op = node.op
    if op in ("var", "index"):  # an index vector: a list of ints, or an integer array
        ident = node.attr.ident
        if ident not in env:
            raise ValueError(f"no value given for the variable {ident!r}")
        value = env[ident]
    elif op in ("ref", "let"):
        inner = node.attr if op == "ref" else node.args[0]
        value = _eval(inner, env, sizes, np, cache)
    elif op == "ones":
        r, c = (dims.size(d, sizes) for d in node.shape)
        value = np.ones((r, c)) if np is not None else pm.full(r, c, 1.0)
    else:
        args = [_eval(a, env, sizes, np, cache) for a in node.args]
        if op in HELPERS:
            pure, numeric = HELPERS[op]
        elif op in RULES:
            pure, numeric = RULES[op].pure, RULES[op].numpy
        else:
            raise ExpressionError(f"cannot evaluate operation {op!r}")
        value = numeric(np, node.attr, sizes, *args) if np is not None else pure(node.attr, sizes, *args)
    cache[key] = value
    return value
