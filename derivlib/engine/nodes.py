"""Expression nodes with symbolic shapes, names, and the small simplifier (standard library only).

A :class:`Node` is one operation (``op``) on argument nodes, with a shape of two
dimensions, each a name (``"n"``) or an integer. The smart constructors ``mk_*`` build
the adjoint expressions and simplify as they go, on purpose only a little: numbers and
dimension factors are pulled out in front (``scale``), products with ones are dropped,
``(AB)ᵀ = BᵀAᵀ``, and terms with the same factor are grouped (``−Y/n + Ŷ∘(Y1)/n`` becomes
``(Ŷ∘(Y1) − Y)/n``). No general computer algebra.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from fractions import Fraction

__all__ = ["Node", "Sym", "Coef", "ExpressionError"]


#: How a node renders (text, latex, repr): set by ``derivlib.engine.render``, which imports
#: this module (so this one does not import it back).
RENDER = {}


class ExpressionError(ValueError):
    """An expression that cannot be derived; the message says what to write instead."""


GREEK = {
    "alpha": ("α", r"\alpha"), "beta": ("β", r"\beta"), "gamma": ("γ", r"\gamma"),
    "delta": ("δ", r"\delta"), "Delta": ("Δ", r"\Delta"), "epsilon": ("ε", r"\varepsilon"),
    "eta": ("η", r"\eta"), "theta": ("θ", r"\theta"), "Theta": ("Θ", r"\Theta"),
    "lambda": ("λ", r"\lambda"), "Lambda": ("Λ", r"\Lambda"), "mu": ("μ", r"\mu"),
    "sigma": ("σ", r"\sigma"), "Sigma": ("Σ", r"\Sigma"), "tau": ("τ", r"\tau"),
    "phi": ("φ", r"\phi"), "Phi": ("Φ", r"\Phi"), "psi": ("ψ", r"\psi"), "omega": ("ω", r"\omega"),
    "ell": ("ℓ", r"\ell"),
}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class Sym:
    """A name in three spellings: a Python identifier, Unicode text and LaTeX.

    Built from the identifier: trailing digits become a subscript (``W1`` -> W₁),
    Greek words become letters (``Theta`` -> Θ), a ``hat`` suffix a hat (``Yhat`` -> Ŷ),
    and ``G_M`` is the adjoint of ``M``.
    """

    __slots__ = ("ident", "text", "latex")

    def __init__(self, ident, text=None, latex=None):
        self.ident = ident
        auto_text, auto_latex = _spell(ident)
        self.text = unicodedata.normalize("NFC", text or auto_text)  # Ŷ as one character
        self.latex = latex or auto_latex

    def __repr__(self):
        return f"Sym({self.ident!r})"


def _spell(ident):
    if ident.startswith("G_") and len(ident) > 2:
        text, latex = _spell(ident[2:])
        return "G_" + text, "G_{" + latex + "}"
    m = re.fullmatch(r"(.*?)_?(\d+)", ident)
    if m and m.group(1):
        text, latex = _spell(m.group(1))
        return text + m.group(2).translate(_SUB), latex + "_{" + m.group(2) + "}"
    if ident.endswith("hat") and len(ident) > 3:
        text, latex = _spell(ident[:-3])
        return text + "\u0302", r"\hat{" + latex + "}"
    if ident in GREEK:
        return GREEK[ident]
    if len(ident) == 1:
        return ident, ident
    return ident, r"\mathrm{" + ident.replace("_", r"\_") + "}"


def superscript(k):
    return str(k).translate(_SUP)


def number_text(f):
    """A number as written: an integer up to a million in full, else as Python writes the float
    (1e+200, 0.5), and below float64's normal range from its exact decimal (1e-320, not 9.99989e-321)."""
    if f.denominator == 1 and abs(f.numerator) <= 10 ** 6:
        return str(f.numerator)
    if 0 < abs(f) < 2.2250738585072014e-308:
        return format(Decimal(f.numerator) / Decimal(f.denominator), ".6g").lower()
    return format(float(f), "g")


class Coef:
    """A number times a product of dimension names to integer powers, e.g. ``-1/n`` or ``1/(nq)``."""

    __slots__ = ("num", "dims")

    def __init__(self, num=1, dims=()):
        self.num = Fraction(num)
        self.dims = tuple(sorted((d, e) for d, e in dims if e))

    @staticmethod
    def of_dim(d):
        if isinstance(d, Coef):  # a product dimension such as 36n
            return d
        return Coef(1, ((d, 1),)) if isinstance(d, str) else Coef(d)

    def __mul__(self, other):
        dims = dict(self.dims)
        for d, e in other.dims:
            dims[d] = dims.get(d, 0) + e
        return Coef(self.num * other.num, dims.items())

    def inverse(self):
        if self.num == 0:
            raise ExpressionError("division by zero")
        return Coef(1 / self.num, ((d, -e) for d, e in self.dims))

    def __neg__(self):
        return Coef(-self.num, self.dims)

    def __eq__(self, other):
        return isinstance(other, Coef) and self.num == other.num and self.dims == other.dims

    def __hash__(self):
        return hash((self.num, self.dims))

    def is_one(self):
        return self.num == 1 and not self.dims

    def value(self, sizes):
        v = float(self.num)
        for d, e in self.dims:
            v *= float(sizes[d]) ** e
        return v

    def parts(self):
        """(sign, numerator factors, denominator factors) as lists of strings."""
        num, den = [], []
        n = abs(self.num)
        if n.denominator > 10 ** 6 or n.numerator > 10 ** 6:
            num.append(number_text(n))
        else:
            if n.numerator != 1:
                num.append(str(n.numerator))
            if n.denominator != 1:
                den.append(str(n.denominator))
        for d, e in self.dims:
            (num if e > 0 else den).extend([d] * abs(e))
        return ("-" if self.num < 0 else "+"), num, den

    def __repr__(self):
        sign, num, den = self.parts()
        s = "".join(num) or "1"
        return ("-" if sign == "-" else "") + s + ("/" + "".join(den) if den else "")


class Node:
    """One operation of an expression, with its shape (two dimensions).

    ``op`` names the rule in ``derivlib.engine.RULES``; ``attr`` holds what the
    operation needs besides its arguments (a variable's name, a number, an axis, a
    power, a coefficient, or for ``ref`` the node referred to). ``name`` is set on the
    intermediates that get their own line in a derivation.
    """

    __slots__ = ("op", "args", "shape", "attr", "name", "src", "aux")

    def __init__(self, op, args=(), shape=(1, 1), attr=None, src=None):
        self.op = op
        self.args = tuple(args)
        self.shape = tuple(shape)
        self.attr = attr
        self.name = None
        self.src = src
        self.aux = None

    def __repr__(self):
        return RENDER["repr"](self)

    @property
    def text(self):
        """Unicode rendering."""
        return RENDER["text"](self)

    @property
    def latex(self):
        """LaTeX rendering."""
        return RENDER["latex"](self)


def fmt_shape(shape, sep="×"):
    """Two dimensions as written (a product by Coef's own text, ``4h``: see ``dims.text``)."""
    return sep.join(str(d) for d in shape)


# -- leaves -----------------------------------------------------------------------------


def var(sym, shape, src=None):
    return Node("var", (), shape, sym, src)


def const(value, src=None):
    return Node("const", (), (1, 1), Fraction(str(value)) if isinstance(value, float) else Fraction(value), src)


def dim(d, src=None):
    return Node("dim", (), (1, 1), d, src)


def ones(shape):
    return Node("ones", (), shape)


def ref(node):
    """A reference by name to a named intermediate (renders as its name)."""
    return Node("ref", (), node.shape, node)


def target(node):
    while node.op == "ref":
        node = node.attr
    return node


# -- the simplifier: smart constructors ----------------------------------------------------


def coef_of(node):
    """The Coef of a node that is only a number: a constant, a dimension or c·1 (1×1)."""
    if node.op == "const":
        return Coef(node.attr)
    if node.op == "dim":
        return Coef.of_dim(node.attr)
    if node.op == "scale" and node.args[0].op == "ones" and node.shape == (1, 1):
        return node.attr
    if node.op == "ones" and node.shape == (1, 1):
        return Coef(1)
    return None


def split(node):
    """(Coef, core): the number in front and the rest."""
    if node.op == "scale":
        return node.attr, node.args[0]
    if node.op == "neg":
        c, core = split(node.args[0])
        return -c, core
    c = coef_of(node)
    if c is not None:
        return c, ones((1, 1))
    return Coef(1), node


def mk_scale(c, node):
    c0, core = split(node)
    c = c * c0
    if c.num == 0:
        raise ExpressionError("a factor of zero: the expression does not depend on this variable")
    if c.is_one():
        return core
    if c.num < 0 and core.op == "sub":  # -(A - B) = B - A
        return mk_scale(-c, Node("sub", (core.args[1], core.args[0]), core.shape))
    return Node("scale", (core,), core.shape, c)


def is_ones(node):
    return node.op == "ones"


def broadcast(a, b):
    """Shape of an element-wise operation on shapes a and b, or None."""
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def mk_mul(a, b):
    ca, a = split(a)
    cb, b = split(b)
    shape = broadcast(a.shape, b.shape)
    if is_ones(a) and b.shape == shape:
        core = b
    elif is_ones(b) and a.shape == shape:
        core = a
    elif is_ones(a) and is_ones(b):
        core = ones(shape)
    else:
        core = Node("mul", (a, b), shape)
    return mk_scale(ca * cb, core)


def mk_div(a, b):
    cb = coef_of(b)
    if cb is not None:
        return mk_scale(cb.inverse(), a)
    ca, a = split(a)
    cb, b = split(b)
    return mk_scale(ca * cb.inverse(), Node("div", (a, b), broadcast(a.shape, b.shape)))


def mk_matmul(a, b):
    ca, a = split(a)
    cb, b = split(b)
    shape = (a.shape[0], b.shape[1])
    if is_ones(a) and is_ones(b) and a.shape[1] == 1:
        core = ones(shape)
    elif a.shape == (1, 1) and is_ones(a):
        core = b
    elif b.shape == (1, 1) and is_ones(b):
        core = a
    else:
        core = Node("matmul", (a, b), shape)
    return mk_scale(ca * cb, core)


def mk_T(a):
    c, a = split(a)
    if a.op == "T":
        core = a.args[0]
    elif is_ones(a):
        core = ones(a.shape[::-1])
    elif a.op == "matmul":
        return mk_scale(c, mk_matmul(mk_T(a.args[1]), mk_T(a.args[0])))
    elif a.shape == (1, 1):
        core = a
    else:
        core = Node("T", (a,), a.shape[::-1])
    return mk_scale(c, core)


def mk_neg(a):
    return mk_scale(Coef(-1), a)


def mk_add(a, b, sub=False):
    if a is None:
        return b if b is None or not sub else mk_neg(b)
    if b is None:
        return a
    ca, ac = split(a)
    cb, bc = split(b)
    if sub:
        cb = -cb
    shape = broadcast(a.shape, b.shape)
    if shape is None:
        raise ExpressionError(f"cannot add terms of shapes {fmt_shape(a.shape)} and {fmt_shape(b.shape)}: "
                              f"a rule gives an adjoint of the wrong shape")
    if ca == cb or ca == -cb:
        op = "add" if ca == cb else "sub"
        if ca.num < 0 and op == "sub":  # -A + B = B - A
            return mk_scale(-ca, Node("sub", (bc, ac), shape))
        return mk_scale(ca, Node(op, (ac, bc), shape))
    if cb.num < 0:
        return Node("sub", (a, mk_scale(-cb, bc)), shape)
    return Node("add", (a, mk_scale(cb, bc)), shape)


def mk_sub(a, b):
    return mk_add(a, b, sub=True)


def mk_sum(a, axis):
    c, a = split(a)
    if a.op == "matmul" and axis in (0, None) and is_ones(a.args[0]) and a.args[0].shape[1] == 1:
        # the column sums of 1B (B a row repeated r times) are r B
        return mk_scale(c * Coef.of_dim(a.shape[0]), mk_sum(a.args[1], None if axis is None else 0))
    if a.op == "matmul" and axis in (1, None) and is_ones(a.args[1]) and a.args[1].shape[0] == 1:
        return mk_scale(c * Coef.of_dim(a.shape[1]), mk_sum(a.args[0], None if axis is None else 1))
    if axis is None:
        shape, done = (1, 1), a.shape == (1, 1)
    elif axis == 0:
        shape, done = (1, a.shape[1]), a.shape[0] == 1
    else:
        shape, done = (a.shape[0], 1), a.shape[1] == 1
    return mk_scale(c, a if done else Node("sum", (a,), shape, axis))


def mk_pow(a, p):
    if p == 1:
        return a
    return Node("pow", (a,), a.shape, Fraction(p))


def mk_fn(op, a):
    return Node(op, (a,), a.shape)


def unbroadcast(g, shape):
    """Sum g over the axes along which an operand of ``shape`` was broadcast."""
    rows = g.shape[0] != shape[0] and shape[0] == 1
    cols = g.shape[1] != shape[1] and shape[1] == 1
    if rows and cols:
        return mk_sum(g, None)
    if rows:
        return mk_sum(g, 0)
    if cols:
        return mk_sum(g, 1)
    return g


def expand(g, shape):
    """Broadcast g (1×1, 1×q or n×1) to ``shape``: c·11ᵀ, 1g or g1ᵀ."""
    if g.shape[0] != shape[0]:
        g = mk_matmul(ones((shape[0], 1)), g)
    if g.shape[1] != shape[1]:
        g = mk_matmul(g, ones((1, shape[1])))
    return g
