"""Render expression nodes as Unicode text and LaTeX (standard library only); their numpy
source is :mod:`derivlib.engine.npsource` (:func:`source` is importable from here too).

Named intermediates render as their names (``S``, ``Δ``); a broadcast bias row renders
as ``1b`` and a broadcast column ``c1ᵀ``, as the pages write them; ``sum(A, axis=0)`` is
``1ᵀA``, ``sum(A, axis=1)`` is ``A1`` and ``sum(A)`` is ``1ᵀA1``.

A number (a 1×1 operand) times a matrix is scalar multiplication, written by juxtaposition
with the number in front when it is a name or a literal (``cA``, ``(1/n)A``, ``\\frac{1}{n} A``,
``c11ᵀ``) and in the written order otherwise (``ŷ(y1)``), never ``∘``; a factor 1 is dropped
and a factor −1 is a minus sign. A number's transpose is the number, its power an ordinary
power (``c²``, not ``c∘²``). A number written with numbers only is computed (``(−2)²`` is ``4``),
a literal goes before a name (``2c``, not ``c2``), a negative power of a number in front of a
matrix is a division (``A/(2c)``), and a column of ones after a number is bold (``2·𝟏``, as
LaTeX's ``2\\mathbf{1}``), so that it does not read as the number 2·1.

An element-wise power of a matrix is ``A∘²`` for a positive whole exponent, as the pages
write the Hadamard square, and ``A^∘(−2)``, ``A^∘(0.5)`` otherwise: the caret makes the
exponent an exponent, whereas ``A∘(−2)`` reads as the Hadamard product of A and −2 (the
LaTeX is ``A^{\\circ -2}`` in both cases).

Parentheses fix the order wherever a reader could take another: a matrix product or a
broadcast inside ``∘`` or ``⊘`` (``G ∘ (dP V)``, ``Y ∘ (1 dβ)``), ``∘`` and ``⊘`` mixed
(``(A ⊘ B) ∘ C``, ``(A ∘ B) ⊘ C``) and a divisor that is a product (``A/(2c)``).
"""

from __future__ import annotations

import re

from fractions import Fraction

from . import columns, conv, dims, nodes
from .limits import guard
from .nodes import Coef, Node, fmt_shape, number_text, superscript
from .npsource import NP_FN, source  # noqa: F401 (re-exported: the engine's generated code)
from .indexing import SCATTER
from .rules import DERIVED, RULES, _count

__all__ = ["text", "latex", "source"]

ATOM, POSTFIX, JUXT, MUL, NEG, ADD = 6, 5, 4, 3, 2, 1
SUMP = 2.5  # 1ᵀA, A1: parenthesised inside ∘, not inside + and −
FRAC = 4.5  # LaTeX \frac{A}{n}: a factor needs no parentheses (\frac{1}{n} A), a transpose does


def _num(f, t=None):
    s = number_text(f)
    return _sci(s) if t is LATEX else s


def _sci(s):
    """LaTeX of a number that Python writes as 1e-05: 10^{-5} (1e-05 would read 1e − 05)."""
    if not re.fullmatch(r"[\d.]+e[-+]\d+", s):  # a number in scientific notation, not a name like delta2
        return s
    mantissa, exponent = s.split("e")
    return ("" if mantissa == "1" else mantissa + r" \times ") + f"10^{{{int(exponent)}}}"


# -- text and LaTeX share one walk; the differences are in this table --------------------------

TEXT = {
    "T": "ᵀ", "one": "1", "ones_row": "1ᵀ", "ones_full": "11ᵀ", "circ": " ∘ ", "oslash": " ⊘ ",
    "minus": "−", "lp": "(", "rp": ")",
    "fn": {op: r.text for op, r in {**RULES, **DERIVED}.items() if r.text},
}
LATEX = {
    "T": "^T", "one": r"\mathbf{1}", "ones_row": r"\mathbf{1}^T", "ones_full": r"\mathbf{1}\mathbf{1}^T",
    "circ": r" \circ ", "oslash": r" \oslash ", "minus": "-", "lp": r"\left(", "rp": r"\right)",
    "fn": {op: r.latex for op, r in {**RULES, **DERIVED}.items() if r.latex},
}


def text(node, top=True):
    """Unicode text of a node, e.g. ``XᵀΔ`` or ``G ∘ S ∘ (1 − S)``."""
    return _walk(node, TEXT, top)[0]


def latex(node, top=True):
    """LaTeX of a node, e.g. ``X^T \\Delta``."""
    return _walk(node, LATEX, top)[0]


def _sym(sym, t):
    return sym.text if t is TEXT else sym.latex


def _par(pair, need, t, strict=False):
    s, p = pair
    if p < need or (strict and p == need):
        return t["lp"] + s + t["rp"]
    return s


def _juxt(a, b, t):
    if t is LATEX:
        return a + " " + b
    left = re.search(r"[^\s()]*$", a).group(0)
    right = re.match(r"[^\s()]*", b).group(0)
    return a + (" " if _long(left) or _long(right) else "") + b


def _long(token):
    """A name of two letters in any script (dW, dβ, exp) or a G_ name: spaced from its neighbour."""
    letters = [ch.isalpha() and ch != "ᵀ" for ch in token]
    return "_" in token or any(x and y for x, y in zip(letters, letters[1:]))


def _times(a, b, t):
    """a times b by juxtaposition; two digits that would merge (2 and 11ᵀ, 1e-05 and A) get a dot."""
    if t is TEXT and b == "1" and a[-1:].isdigit():  # 2·𝟏, a column of twos, not the number 2·1
        b = "𝟏"
    if a[-1:].isdigit() and (b[:1].isdigit() or b == "𝟏" or t is TEXT and re.search(r"\de[-+]\d+$", a)):
        return a + ("·" if t is TEXT else r" \cdot ") + b
    return _juxt(a, b, t)


def _coef(c, core_pair, t):
    sign, num, den = c.parts()
    if t is LATEX:
        num, den = [_sci(x) for x in num], [_sci(x) for x in den]
    minus = t["minus"] if sign == "-" else ""
    if core_pair is None:  # a number alone
        s = "".join(num) or "1"
        if den:
            d = "".join(den)
            if t is LATEX:
                return minus + rf"\frac{{{s}}}{{{d}}}", NEG if minus else FRAC
            s = s + "/" + (d if len(den) == 1 else f"({d})")
        return (minus + s, NEG if minus else (MUL if den else ATOM))
    s = "".join(num)
    if core_pair[1] == SUMP and not s and (den or minus):  # X1/q, −1ᵀA1: a juxtaposition needs no parentheses
        core_pair = (core_pair[0], ATOM)
    if den and t is LATEX:  # \frac{2A}{n}; a long body after its factor, \frac{2}{nq}(…)
        d = "".join(den)
        body = _times(s, _par(core_pair, JUXT, t), t) if s else core_pair[0]
        if len(body) < 40:
            return minus + rf"\frac{{{body}}}{{{d}}}", NEG if minus else FRAC
        if core_pair[1] == SUMP:  # \frac{2}{n}\mathbf{1}^T A
            core_pair = (core_pair[0], ATOM)
        return minus + rf"\frac{{{s or 1}}}{{{d}}}" + _par(core_pair, JUXT, t), NEG if minus else JUXT
    body = _par(core_pair, JUXT if s else MUL, t, strict=not s and bool(den))
    if s:
        body = _times(s, body, t)
    if den:
        d = "".join(den)
        body = body + "/" + (d if len(den) == 1 else f"({d})")
    return (minus + body, NEG if minus else (MUL if den else JUXT))


def _walk(node, t, top=False):
    op = node.op
    if node.name is not None and not top:
        return _sym(node.name, t), ATOM
    if op == "ref":
        return _walk(node.attr, t, False)
    if op == "let":  # a gradient held as its own step: the expression it holds
        return _walk(node.args[0], t, top)
    if node.shape == (1, 1) and op in _FOLDED:  # (−2)² is 4
        value = _fold(node)
        if value is not None:
            return _walk(Node("const", (), (1, 1), value), t)
    if op in ("var", "index"):
        return _sym(node.attr, t), ATOM
    if op == "const":
        if node.attr < 0:
            return t["minus"] + _num(-node.attr, t), NEG
        s = _num(node.attr, t)
        return s, (MUL if r"\times" in s else POSTFIX if "^" in s or "e" in s else ATOM)  # (1e-05)^(0.5)
    if op == "dim":
        return (dims.text(node.attr) if t is TEXT else dims.latex(node.attr)), (MUL if isinstance(node.attr, Coef) else ATOM)
    if op == "ones":
        r, c = node.shape
        if r == 1 and c == 1:
            return "1", ATOM
        key = "one" if (r == 1 and c == 1) or c == 1 else ("ones_row" if r == 1 else "ones_full")
        return t[key], ATOM
    if op == "scale":
        core = node.args[0]
        if core.op == "ones" and core.shape == (1, 1):
            return _coef(node.attr, None, t)
        return _coef(node.attr, _walk(core, t), t)
    args = [_walk(a, t) for a in node.args]
    if op in ("add", "sub"):
        parts = [_broadcast(a, arg, node.shape, t) for a, arg in zip(args, node.args)]
        left = _par(parts[0], ADD, t)
        right = _par(parts[1], ADD, t, strict=op == "sub")
        return left + (" + " if op == "add" else (" − " if t is TEXT else " - ")) + right, ADD
    if op in ("mul", "matmul") and (1, 1) in (node.args[0].shape, node.args[1].shape):
        scaled = _scalar_times(node, args, t)
        if scaled is not None:
            return scaled
    if op == "mul":  # G ∘ (cA), not G ∘ cA: the number is not a factor of the ∘
        right = _par(args[1], ATOM if _scaled(node.args[1]) or _product(node.args[1]) else MUL, t, strict=True)
        left = _par(args[0], ATOM if _product(node.args[0]) else MUL, t, strict=_quotient(node.args[0]))
        return left + t["circ"] + right, MUL
    if op == "div" and node.args[0].op == "neg" and node.args[0].name is None:  # −A/n, not (−A)/n
        inner = _walk(Node("div", (node.args[0].args[0], node.args[1]), node.shape), t)
        return t["minus"] + _par(inner, MUL, t), NEG
    if op == "div":
        scalar = node.args[1].shape == (1, 1)
        if t is LATEX and scalar:
            return rf"\frac{{{args[0][0]}}}{{{args[1][0]}}}", FRAC
        sep = "/" if scalar else t["oslash"]
        top = _bare(node.args[0])
        strict = top.name is None and top.op in ("mul", "div")  # (A ∘ B) ⊘ C, (G ∘ S)/n
        left = _par(args[0], ATOM if _product(node.args[0]) and not scalar else MUL, t, strict=strict)
        return left + sep + _par(args[1], POSTFIX, t), MUL
    if op == "neg":
        if args[0][1] == SUMP:  # −1ᵀA1, −(A ∘ B)1: no parentheses around a sum
            return t["minus"] + args[0][0], NEG
        return t["minus"] + _par(args[0], MUL, t), NEG
    if op == "matmul":
        right = _par(args[1], JUXT, t, strict=node.args[1].op != "matmul")  # (AB)C = A(BC)
        return _juxt(_par(args[0], JUXT, t), right, t), JUXT
    if op == "T":
        if node.shape == (1, 1):  # a number is its own transpose
            return args[0]
        return _par(args[0], ATOM, t) + t["T"], POSTFIX
    if op == "pow":
        p = node.attr
        whole = p.denominator == 1 and p > 0
        if node.shape == (1, 1):  # the power of a number: c², not c∘²
            if t is LATEX:
                return _par(args[0], ATOM, t) + f"^{{{_num(p, t)}}}", POSTFIX
            exp = superscript(p) if whole else f"^({_minus(_num(p))})"
            return _par(args[0], ATOM, t) + exp, POSTFIX
        if t is TEXT:  # A∘², A^∘(−2): never ∘(−2), which reads as a Hadamard product with −2
            exp = "∘" + superscript(p) if whole else f"^∘({_minus(_num(p))})"
            return _par(args[0], ATOM, t) + exp, POSTFIX
        return _par(args[0], ATOM, t) + rf"^{{\circ {_num(p, t)}}}", POSTFIX
    if op in ("sum", "mean"):
        a, axis = _par(args[0], JUXT, t, strict=True), node.attr
        if axis is None:
            s = _juxt(_juxt(t["ones_row"], a, t), t["one"], t)
        elif axis == 0:
            s = _juxt(t["ones_row"], a, t)
        else:
            s = _juxt(a, t["one"], t)
        if op == "sum":
            return s, SUMP
        return _coef(_count(node.args[0].shape, axis).inverse(), (s, SUMP), t)
    shown = columns.render(node, args, t, ATOM, lambda pair: _par(pair, ATOM, t), t is LATEX)
    if shown is not None:  # max, split, concat and their pullbacks' nodes
        return shown
    shown = conv.render(node, [a[0] for a in args], t is LATEX)
    if shown is not None:  # im2col, col2im, group, ungroup
        return shown, ATOM
    if op == "sqrt" and t is TEXT and node.shape == (1, 1):  # √d: a number
        return "√" + _par(args[0], ATOM, t), POSTFIX
    if op == SCATTER:  # O_yᵀG, take's pullback (a scatter-add)
        o = t["fn"]["onehot"].format(args[0][0]) + t["T"]
        return _juxt(o, _par(args[1], JUXT, t), t), JUXT  # O_yᵀ(ΔWᵀ) = O_yᵀΔWᵀ
    if op in t["fn"]:
        return t["fn"][op].format(*(a[0] for a in args)), ATOM
    raise ValueError(f"cannot render operation {op!r}")


# -- what a reader could take for another formula ------------------------------------------------

_FOLDED = ("neg", "add", "sub", "mul", "div", "matmul", "pow", "T", "scale")


def _minus(s):
    """A written number with the minus sign of the text (−2, not -2)."""
    return s.replace("-", "−") if "e-" not in s else s


def _bare(node):
    """The node a reference without its own name stands for."""
    while node.op == "ref" and node.name is None:
        node = node.attr
    return node


def _fold(node):
    """The value (a Fraction) of a 1×1 node written with literal numbers only, (−2)² or 2·3; else None."""
    node = _bare(node)
    if node.name is not None or node.shape != (1, 1):
        return None
    op = node.op
    if op == "const":
        return node.attr
    if op == "ones":
        return Fraction(1)
    if op == "scale":
        inner = _fold(node.args[0])
        return None if inner is None or node.attr.dims else node.attr.num * inner
    if op not in _FOLDED:
        return None
    values = [_fold(a) for a in node.args]
    if any(v is None for v in values):
        return None
    if op in ("neg", "T"):
        return -values[0] if op == "neg" else values[0]
    if op == "pow":
        p = node.attr
        if p.denominator != 1 or (values[0] == 0 and p < 0) or abs(p) > 64:
            return None
        return values[0] ** int(p)
    a, b = values
    if op == "div":
        return None if b == 0 else a / b
    return {"add": a + b, "sub": a - b, "mul": a * b, "matmul": a * b}[op]


def _product(node):
    """A matrix product or a broadcast written by juxtaposition (dP V, 1 dβ, G_V 1ᵀ): inside ∘ and
    ⊘ it takes parentheses, since (G ∘ dP)V is another matrix than G ∘ (dP V)."""
    node = _bare(node)
    return node.name is None and node.op == "matmul" and (1, 1) not in (node.args[0].shape, node.args[1].shape)


def _quotient(node):
    """A quotient A ⊘ B or A/c: the left operand of ∘ takes parentheses, (A ⊘ B) ∘ C."""
    node = _bare(node)
    if node.name is not None:
        return False
    return node.op == "div" or node.op == "scale" and bool(node.attr.parts()[2])


def _number(node):
    """A number written as one symbol: a name, a literal, a dimension, 1/n, c/2, −c, cᵀ."""
    while node.op == "ref" and node.name is None:
        node = node.attr
    if node.name is not None or node.op in ("var", "const", "dim"):
        return True
    if node.op == "scale" and node.args[0].op == "ones":
        return True
    if node.op in ("pow", "sqrt") and node.shape == (1, 1):  # c², (2c)^(−1), √d: one symbol
        return True
    if node.op in ("neg", "T"):
        return _number(node.args[0])
    if _fold(node) is not None:
        return True
    return node.op == "div" and all(a.op in ("var", "const", "dim") for a in node.args)


def _scaled(node):
    """A matrix written as a number times a matrix (cA, c11ᵀ) by :func:`_scalar_times`."""
    shapes = [a.shape for a in node.args]
    return (node.name is None and node.op in ("mul", "matmul") and node.shape != (1, 1) and (1, 1) in shapes
            and not (node.op == "matmul" and shapes[1] == (1, 1) and not _number(node.args[1])))


def _scalar_times(node, args, t):
    """A 1×1 factor times a matrix (or a number) as scalar multiplication: cA, (1/n)A, ŷ(y1).

    The number goes in front when it is one symbol (:func:`_number`), else the written
    order is kept; a factor 1 is dropped and −1 is a minus sign. None for a matrix product
    ``Ac`` of a column and a number that is not one symbol (it stays as written).
    """
    a, b = node.args
    literal = [x.shape == (1, 1) and _fold(x) is not None for x in (a, b)]
    if b.shape == (1, 1) and _number(b) and (not (a.shape == (1, 1) and _number(a)) or literal[1] > literal[0]):
        num, other, other_node = b, args[0], a  # A ∘ c is cA; c2 is 2c
    elif a.shape == (1, 1):
        num, other, other_node = a, args[1], b
    elif node.op == "matmul":
        return None
    else:  # ŷ(y1): a number that is not one symbol, after the matrix
        return _times(_par(args[0], JUXT, t), _par(args[1], JUXT, t, strict=True), t), JUXT
    num = _bare(num)
    value = _fold(num)
    if value is not None:  # (−2)² is 4
        num = Node("const", (), (1, 1), value)
    elif num.name is None and num.op == "pow" and num.attr < 0:  # (2c)⁻¹A is A/(2c)
        base = num.args[0] if num.attr == -1 else Node("pow", num.args, (1, 1), -num.attr)
        return _walk(Node("div", (other_node, base), node.shape), t)
    minus = num.name is None and (num.op == "neg" or num.op == "const" and num.attr < 0)
    if minus:  # −cA, not (−c)A
        num = num.args[0] if num.op == "neg" else Node("const", (), (1, 1), -num.attr)
    pair = _walk(num, t)
    body = other if pair[0] == "1" else (_times(_par(pair, JUXT, t), _par(other, JUXT, t), t), JUXT)
    return (t["minus"] + _par(body, MUL, t), NEG) if minus else body

def _broadcast(pair, arg, shape, t):
    """An operand of + or − as broadcast: 1b for a row, c1ᵀ for a column."""
    if arg.shape == tuple(shape) or arg.shape == (1, 1):
        return pair
    if pair[1] == SUMP:  # 1(1ᵀA) and (A1)1ᵀ need no parentheses
        pair = (pair[0], ATOM)
    if arg.shape[0] != shape[0]:
        return _juxt(t["one"], _par(pair, JUXT, t), t), JUXT
    left = _par(pair, JUXT, t)
    if left.endswith(t["one"]):  # (A1) 1ᵀ: not "11ᵀ"
        return left + (" " if t is TEXT else r"\, ") + t["ones_row"], JUXT
    return _juxt(left, t["ones_row"], t), JUXT


# -- how a node renders itself (nodes.py does not import this module) ---------------------------


def _guarded(what, f):
    def render(node):
        with guard(what):
            return f(node)
    return render


nodes.RENDER.update(text=_guarded("Node.text", text), latex=_guarded("Node.latex", latex),
                    repr=_guarded("repr(Node)", lambda n: f"<{n.op} {text(n)} {fmt_shape(n.shape)}>"))
