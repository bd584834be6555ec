"""The options of a page's formula block and the random point its lines are checked at.

:mod:`verification.formulas` checks the lines; this module reads ``:shapes:``, ``:sizes:``,
``:draw:``, ``:names:`` and the ``NAME=VALUE`` lists, and draws the matrices. Its names are
importable from :mod:`verification.formulas` too.
"""

from __future__ import annotations

import re

import numpy as np

from derivlib.engine import sample
from derivlib.engine.nodes import Sym
from derivlib.engine.shapes import check_name, check_shape

__all__ = ["FormulaError", "DRAWS", "parse_shapes", "option_pairs", "prime_sizes", "dims_text", "draw_values",
           "rename"]

DRAWS = ("normal", "positive", "onehot", "simplex")




class FormulaError(ValueError):
    """A displayed formula that is wrong, or that cannot be read or checked."""


# a page's error, whose traceback names its public home
FormulaError.__module__ = "verification.formulas"


def parse_shapes(spec):
    """``"X=n,p W=p,q b=1,q"`` (spaces or ``;`` between) -> ``{"X": ("n", "p"), ...}``.

    Each shape is read by the engine's shape rule (:mod:`derivlib.engine.shapes`), which
    names it ``:shapes: X``; ``c=()`` is a number.
    """
    shapes = {}
    for item in re.split(r"[;\s]+", (spec or "").strip()):
        if not item:
            continue
        name, eq, dims = item.partition("=")
        if not eq:
            raise FormulaError(f":shapes: each entry is NAME=rows,cols (e.g. X=n,p); got {item!r}")
        where = f":shapes: {name}"
        try:
            shapes[check_name(name, where, shapes)] = check_shape(dims, where)
        except ValueError as exc:
            raise FormulaError(str(exc)) from None
    if not shapes:
        raise FormulaError(":shapes: is required, e.g. ':shapes: X=n,p W=p,q'")
    return shapes


def option_pairs(spec, what, convert=str):
    out = {}
    for item in re.split(r"[;\s,]+", (spec or "").strip()):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq:
            raise FormulaError(f":{what}: each entry is NAME=VALUE; got {item!r}")
        try:
            out[key] = convert(value)
        except ValueError:
            raise FormulaError(f":{what}: {key}={value!r} is not valid") from None
    return out


def prime_sizes(shapes, given):
    dims = []
    for shape in shapes.values():
        dims += [d for d in shape if isinstance(d, str) and d not in dims]
    unknown = [d for d in given if d not in dims]
    if unknown:
        raise FormulaError(f":sizes: {', '.join(unknown)} is not a dimension (dimensions: {', '.join(dims)})")
    return sample.prime_sizes(dims, given)


def draw_values(shapes, sizes, draw, seed):
    """A random matrix for each variable, drawn as ``draw`` says (normal by default)."""
    rng = np.random.default_rng(seed)
    env = {}
    for name, shape in shapes.items():
        r, c = sample.variable_shape(shape, sizes)
        kind = draw.get(name, "normal")
        if kind == "normal":
            env[name] = rng.standard_normal((r, c))
        elif kind == "positive":
            env[name] = rng.uniform(*sample.POSITIVE, (r, c))
        elif kind == "onehot":
            env[name] = np.eye(c)[rng.integers(0, c, r)]
        elif kind == "simplex":
            a = rng.uniform(0.1, 1.0, (r, c))
            env[name] = a / a.sum(axis=1, keepdims=True)
        else:
            raise FormulaError(f":draw: {name}={kind!r}; use one of {', '.join(DRAWS)}")
    return env


def dims_text(sizes):
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def rename(spec, rows):
    """``:names: xk=\\vec x_k; wk=\\vec w_k``: the LaTeX of names longer than a letter."""
    for item in (spec or "").split(";"):
        if not item.strip():
            continue
        ident, eq, tex = item.partition("=")
        ident, tex = ident.strip(), tex.strip()
        if not eq or not ident.isidentifier() or not tex:
            raise FormulaError(f":names: each entry is NAME=LaTeX, separated by ';'; got {item.strip()!r}")
        plain = Sym(ident).latex
        rows = [re.sub(r"\\mathrm\{d\}" + re.escape(ident) + r"(?![A-Za-z])", lambda m: r"\mathrm{d}" + tex, r)
                .replace(plain, tex) for r in rows]
    return rows
