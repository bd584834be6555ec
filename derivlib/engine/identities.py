r"""The identity each step shows and the rules table on the site, written from the rule rows.

The identity that moves a factor across the Frobenius product ``A : B = Σ A∘B``,
``Ḡ : dY = (pullback) : dA``, is not typed by hand: :func:`identity` writes it from a
row's ``jvp`` and ``vjp`` applied to symbols, and :func:`table` writes one line per
operation (checked first), so the table shown on the site is the table the derivations use.
"""

from __future__ import annotations

import functools
from fractions import Fraction

from .adjoint import verify
from .indexing import OPS as INDEX_OPS
from .nodes import Node, fmt_shape, var
from .render import latex, text
from .rules import _BAR, BINARY, FUNCTIONS, RULES, _case, _dsymbol, _symbol, example_node

__all__ = ["identity", "table", "function_kinds", "function_list"]


def identity(node, i):
    """(text, latex) of ``Ḡ : dY = (pullback) : dA`` for argument i of node, on symbols.

    The symbols keep the broadcasting of the actual arguments (a 1×q bias gives
    ``Ḡ : (1dB) = (1ᵀḠ) : dB``).
    """
    cases = tuple(_case(a.shape, node.shape) for a in node.args) if node.op in BINARY else (None, None)
    mean_of = node.args[0].shape if node.op == "mean" else None
    return _identity_cached(node.op, node.attr, cases, mean_of, i)


@functools.lru_cache(maxsize=256)
def _identity_cached(op, attr, cases, mean_of, i):
    """:func:`identity` on symbols: it depends only on these, and a long sum asks for it at every term."""
    sym = example_node(op, attr, cases)
    if op == "mean":  # the step's factor: 1/n for the mean of an n×1 column, not 1/(nq)
        args = [_symbol("A", mean_of)]
        sym = Node("mean", args, RULES["mean"].shape(args, attr, None), attr)
    return _identity_of(sym, i)


def _identity_of(sym, i):
    rule = RULES[sym.op]
    a = sym.args[i]
    da = _dsymbol(a.attr.ident, a.shape)
    dargs = [da if j == i else None for j in range(len(sym.args))]
    g = var(_BAR, sym.shape)
    d = rule.jvp(sym, list(sym.args), dargs)
    back = rule.vjp(g, sym, list(sym.args))[i]
    return (f"Ḡ : {_p(text(d))} = {_p(text(back))} : {text(da)}",
            rf"\bar G : {_pl(latex(d))} = {_pl(latex(back))} : {latex(da)}")


def _p(s):
    return s if len(s) <= 2 else f"({s})"


def _pl(s):
    return s if len(s) <= 2 else rf"\left({s}\right)"


def table():
    """Rows (example, meaning, differential, pullback) in (text, latex) pairs, from the rules.

    One row per operation and, for + − * /, per broadcasting case of the right operand.
    Each row's differential is checked first (``derivlib.engine.adjoint.verify``: the
    adjoint of the row's pullbacks and a derivative, on random values), so a wrong one
    raises ``derivlib.engine.adjoint.DifferentialError`` instead of being shown.
    """
    rows = []
    for op, rule in RULES.items():
        cases = ["full", "row", "column", "number"] if op in ("add", "sub", "mul", "div") else [None]
        attrs = {"pow": Fraction(2), "sum": 0, "mean": 1}
        for case in cases:
            sym = example_node(op, attrs.get(op), (None, case))
            written = Node(op, sym.args, sym.shape, sym.attr)
            shapes = ", ".join(fmt_shape(a.shape) for a in sym.args) + " → " + fmt_shape(sym.shape)
            if rule.jvp is None:  # onehot(y): an index vector's function, no gradient
                none = ("none: no gradient", r"\text{none: no gradient}")
                rows.append({"op": op, "case": "", "meaning": rule.meaning, "shapes": shapes,
                             "expression": (text(written), latex(written)), "differential": none, "pullback": none})
                continue
            # an index vector (y of take, pick) has no differential: it is held fixed
            dargs = [None if a.op == "index" else _dsymbol(a.attr.ident, a.shape) for a in sym.args]
            d = rule.jvp(sym, list(sym.args), dargs)
            g = var(_BAR, sym.shape)
            backs = rule.vjp(g, sym, list(sym.args))
            back = [b for b, da in zip(backs, dargs) if da is not None]  # none shown for an index vector
            # the row's differential must be the adjoint of its pullbacks, and a derivative
            verify(sym, dargs, d, g, backs, what=f"rules table, {op}{f' ({case})' if case else ''}: "
                                                 f"d{_p(text(written))} = {text(d)}")
            rows.append({
                "op": op, "case": case or "", "meaning": rule.meaning,
                "shapes": shapes,
                "expression": (text(written), latex(written)),
                "differential": (text(d), latex(d)),
                "pullback": tuple(", ".join(f(b) for b in back) for f in (text, latex)),
            })
    return rows


#: The functions of blocks of columns: they cut a matrix into column blocks or put matrices side by side.
_BLOCKS = ("split", "concat")
_KINDS = ("elementwise", "rowwise", "reduction", "blocks", "index")


def function_kinds():
    """The functions an expression may call, by kind, in the order of the rule rows.

    ``"elementwise"`` (each entry from the same entry: ``exp``, ``abs``), ``"rowwise"``
    (over each row: ``softmax``), ``"reduction"`` (over all entries or an axis: ``sum``,
    ``max``), ``"blocks"`` (blocks of columns: ``split``, ``concat``) and ``"index"``
    (reading an index vector: ``take``, ``pick``, ``onehot``).

    >>> function_kinds()["rowwise"]
    ('softmax', 'log_softmax')
    >>> function_kinds()["blocks"]
    ('split', 'concat')
    """
    def kind(op, rule):
        if op in INDEX_OPS:
            return "index"
        if op in _BLOCKS:
            return "blocks"
        return "elementwise" if rule.entrywise else "rowwise" if rule.text else "reduction"

    return {k: tuple(op for op in FUNCTIONS if kind(op, RULES[op]) == k) for k in _KINDS}


def function_list(kind):
    """The functions of one kind (see :func:`function_kinds`) as Markdown: ``"`a`, `b` and `c`"``."""
    names = [f"`{op}`" for op in function_kinds()[kind]]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
