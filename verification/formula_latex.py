r"""The LaTeX of the pages' checked formulas: the engine's rendering, written as a page writes it.

:func:`render` is :func:`derivlib.engine.render.latex` with a sum of all entries of a product
shown as a Frobenius product (``A : B``); :func:`differentials` writes ``dX`` as
``\mathrm{d}X``; :func:`name_or_render` shows a side written as a bare name as the name;
:func:`shape_latex` is the shape column of a row. :mod:`verification.formulas` checks the
formulas and builds its rows with these.
"""

from __future__ import annotations

import re

from derivlib.engine.nodes import GREEK, Sym
from derivlib.engine.render import latex

__all__ = ["render", "differentials", "name_or_render", "shape_latex", "atomic"]


def shape_latex(shape):
    """A shape in LaTeX: ``n \\times p``, a number as written."""
    return r" \times ".join(Sym(d).latex if isinstance(d, str) else str(d) for d in shape)


def _inner(node):
    while node.op == "ref" or (node.op == "let" and node.name is None):
        node = node.attr if node.op == "ref" else node.args[0]
    return node


def atomic(node):
    """Whether a node shows without parentheses as a factor: a name, a number, or a variable's transpose."""
    node = _inner(node)
    return node.name is not None or node.op in ("var", "const", "dim") or (
        node.op == "T" and _inner(node.args[0]).op == "var")


def _factor(node):
    body = latex(node, top=False)
    return body if atomic(node) else rf"\left({body}\right)"


def render(node, top=True):
    """The engine's LaTeX, with a sum of all entries of a product written as a Frobenius
    product, ``1ᵀ(A ∘ B)1`` as ``A : B``, and a differential ``dW`` as ``\\mathrm{d}W``."""
    n = node if top else _inner(node)
    core = _inner(n) if top and n.op in ("ref", "let") and n.name is None else n
    if core.name is None or top:
        c = core.args[0] if core.op == "let" else core
        c = _inner(c) if c.name is None else c
        if c.op == "sum" and c.attr is None and _inner(c.args[0]).op == "mul" and _inner(c.args[0]).name is None:
            a, b = _inner(c.args[0]).args
            return f"{_factor(a)} : {_factor(b)}"
        if c.op == "neg" and c.name is None and _frobenius(c.args[0]):
            return "-" + render(c.args[0], top=False)
        if c.op in ("add", "sub") and c.name is None and all(_frobenius(a) for a in c.args):
            sign = " + " if c.op == "add" else " - "
            return render(c.args[0], top=False) + sign + render(c.args[1], top=False)
    return latex(node, top=top)


def differentials(rows, names):
    """``dX`` written as the differential of ``X``: ``\\mathrm{d}X``, ``\\mathrm{d}\\theta``, ``\\mathrm{d}\\hat{y}``."""
    def is_differential(n):
        rest = n[1:]
        return n.startswith("d") and (rest in names or rest in GREEK or re.fullmatch(r"[A-Za-z]\d*(hat)?", rest))

    pairs = sorted(((Sym(n).latex, r"\mathrm{d}" + Sym(n[1:]).latex) for n in names if is_differential(n)),
                   key=lambda p: -len(p[0]))
    for plain, shown in pairs:
        rows = [re.sub(re.escape(plain) + r"(?![A-Za-z_{])", lambda m: shown, r) for r in rows]
    return rows


def name_or_render(src, node):
    """A side written as a bare name shows the name (Z), not its definition (XW + 1b)."""
    if src.strip().isidentifier():
        return Sym(src.strip()).latex
    return render(node)


def _frobenius(node):
    c = _inner(node)
    if c.name is not None:
        return False
    if c.op == "sum" and c.attr is None and _inner(c.args[0]).op == "mul":
        return True
    if c.op == "neg":
        return _frobenius(c.args[0])
    return c.op in ("add", "sub") and all(_frobenius(a) for a in c.args)
