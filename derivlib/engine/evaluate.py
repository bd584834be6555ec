"""Evaluate expression nodes on lists of lists (pure Python) or on numpy arrays.

Both walk the same nodes with the same rule table: only the forward functions differ
(``Rule.pure`` and ``Rule.numpy``). This module imports numpy only when asked to
evaluate on arrays.
"""

from __future__ import annotations

from . import puremat as pm
from .nodes import ExpressionError
from .rules import HELPERS, RULES

__all__ = ["evaluate", "bind_sizes"]


def bind_sizes(shapes, values):
    """Sizes of the dimensions from the values' shapes; a clear error when they disagree."""
    sizes = {}
    for name, shape in shapes.items():
        if name not in values:
            continue
        got = values[name]
        for axis, d in enumerate(shape):
            n = got[axis]
            if isinstance(d, int):
                if n != d:
                    raise ValueError(f"{name} must have shape {_fmt(shape)}: dimension {axis} is {d}; got {got}")
            elif sizes.setdefault(d, n) != n:
                raise ValueError(f"dimension {d!r} is {sizes[d]} from an earlier variable but {n} in {name} "
                                 f"(shape {got}, declared {_fmt(shape)})")
    return sizes


def _fmt(shape):
    return "(" + ", ".join(repr(d) for d in shape) + ")"


def evaluate(node, env, sizes, np=None, cache=None):
    """Value of ``node``: env maps variable identifiers to values, sizes dimension names to ints.

    ``np`` is the numpy module to evaluate on arrays, or None for lists of lists.
    ``cache`` (id(node) -> value) may be pre-filled to override an intermediate.
    """
    cache = {} if cache is None else cache
    return _eval(node, env, sizes, np, cache)


def _size(d, sizes):
    return d if isinstance(d, int) else sizes[d]


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
        r, c = (_size(d, sizes) for d in node.shape)
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
