r"""The rule table: one entry per operation, its forward next to its backward.

Each :class:`Rule` has

* ``shape``: the output shape from the argument shapes, or an :class:`ExpressionError`
  naming the subexpression and the shapes;
* ``pure`` and ``numpy``: the forward on lists of lists and on arrays (numpy is passed
  in, never imported here);
* ``jvp``: the differential ``dY`` from the differentials of the arguments;
* ``vjp``: the pullback, the adjoint of each argument from the output's adjoint ``Ḡ``.

The identity that moves a factor across the Frobenius product ``A : B = Σ A∘B`` is
not typed by hand: :func:`identity` writes ``Ḡ : dY = (pullback) : dA`` from ``jvp``
and ``vjp`` applied to symbols, so the table shown on the site is the table the
derivations use.
"""

from __future__ import annotations

import functools
import math
import operator
from fractions import Fraction
from typing import Callable, NamedTuple

from . import puremat as pm
from .nodes import (
    Coef, ExpressionError, Node, Sym, broadcast, expand, fmt_shape, mk_add, mk_div, mk_fn, mk_matmul,
    mk_mul, mk_neg, mk_pow, mk_scale, mk_sub, mk_sum, mk_T, ref, unbroadcast, var,
)

__all__ = ["Rule", "RULES", "FUNCTIONS", "identity", "table"]


class Rule(NamedTuple):
    op: str
    example: str  # how it is written in an expression
    meaning: str
    shape: Callable  # (node_args, attr, src) -> shape
    pure: Callable  # (attr, sizes, *values) -> value
    numpy: Callable  # (np, attr, sizes, *values) -> value
    jvp: Callable  # (out, args, dargs) -> expression (dargs[i] None: argument held fixed)
    vjp: Callable  # (g, out, args) -> one adjoint (or None) per argument


def _err(src, msg):
    raise ExpressionError(f"{src}: {msg}" if src else msg)


def _what(node):
    return f"{node.src} ({fmt_shape(node.shape)})" if node.src else fmt_shape(node.shape)


def _same(args, attr, src):
    return args[0].shape


def _elementwise(args, attr, src):
    a, b = args
    shape = broadcast(a.shape, b.shape)
    if shape is None:
        _err(src, f"element-wise operation on {_what(a)} and {_what(b)}, "
                  f"which do not broadcast (a 1×q row, an n×1 column or a 1×1 number broadcast; "
                  f"use @ for a matrix product)")
    return shape


def _matmul_shape(args, attr, src):
    a, b = args
    if a.shape[1] != b.shape[0]:
        _err(src, f"matrix product of {_what(a)} and {_what(b)}: the inner "
                  f"dimensions {a.shape[1]} and {b.shape[0]} differ (transpose one factor with .T, or use * "
                  f"for an element-wise product)")
    return (a.shape[0], b.shape[1])


def _sum_shape(args, attr, src):
    s = args[0].shape
    return (1, 1) if attr is None else ((1, s[1]) if attr == 0 else (s[0], 1))


def _count(shape, axis):
    dims = shape if axis is None else (shape[axis],)
    c = Coef(1)
    for d in dims:
        c = c * Coef.of_dim(d)
    return c


def _opt(f, *xs):
    return None if any(x is None for x in xs) else f(*xs)


def _sum_terms(*terms):
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else mk_add(out, t)
    return out


def _row_sums(a):
    return mk_sum(a, 1)


def _np_sigmoid(np, x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _np_log_softmax(np, x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def _np_power(np, x, p):
    return x ** (int(p) if p.denominator == 1 else float(p))


def _pure_power(x, p):
    return pm._pow(x, int(p) if p.denominator == 1 else float(p))


def _pow_jvp(out, a, da, p):
    return mk_mul(mk_scale(Coef(p), mk_pow(a, p - 1)), da)


def _expand_to(d, shape):
    return None if d is None else expand(d, shape)


RULES = {r.op: r for r in [
    # -- products, sums, element-wise arithmetic ----------------------------------------------
    Rule("matmul", "A @ B", "matrix product", _matmul_shape,
         lambda at, sz, a, b: pm.matmul(a, b), lambda np, at, sz, a, b: a @ b,
         lambda out, args, d: _sum_terms(_opt(mk_matmul, d[0], args[1]), _opt(mk_matmul, args[0], d[1])),
         lambda g, out, args: (mk_matmul(g, mk_T(args[1])), mk_matmul(mk_T(args[0]), g))),
    Rule("add", "A + B", "sum; a 1×q row, n×1 column or number is added to every row, column, entry",
         _elementwise,
         lambda at, sz, a, b: pm.zipwith(operator.add, a, b), lambda np, at, sz, a, b: a + b,
         lambda out, args, d: _sum_terms(_expand_to(d[0], out.shape), _expand_to(d[1], out.shape)),
         lambda g, out, args: (unbroadcast(g, args[0].shape), unbroadcast(g, args[1].shape))),
    Rule("sub", "A - B", "difference, broadcasting as +", _elementwise,
         lambda at, sz, a, b: pm.zipwith(operator.sub, a, b), lambda np, at, sz, a, b: a - b,
         lambda out, args, d: mk_add(_expand_to(d[0], out.shape), _expand_to(d[1], out.shape), sub=True)
         if d[1] is not None else _expand_to(d[0], out.shape),
         lambda g, out, args: (unbroadcast(g, args[0].shape), unbroadcast(mk_neg(g), args[1].shape))),
    Rule("mul", "A * B", "element-wise product A∘B, broadcasting as +", _elementwise,
         lambda at, sz, a, b: pm.zipwith(operator.mul, a, b), lambda np, at, sz, a, b: a * b,
         lambda out, args, d: _sum_terms(_opt(mk_mul, d[0], args[1]), _opt(mk_mul, args[0], d[1])),
         lambda g, out, args: (unbroadcast(mk_mul(g, args[1]), args[0].shape),
                               unbroadcast(mk_mul(g, args[0]), args[1].shape))),
    Rule("div", "A / B", "element-wise quotient A⊘B, broadcasting as +", _elementwise,
         lambda at, sz, a, b: pm.zipwith(pm._div, a, b), lambda np, at, sz, a, b: a / b,
         lambda out, args, d: _sum_terms(
             _opt(lambda x: mk_div(x, args[1]), d[0]),
             _opt(lambda x: mk_neg(mk_div(mk_mul(args[0], x), mk_pow(args[1], 2))), d[1])),
         lambda g, out, args: (unbroadcast(mk_div(g, args[1]), args[0].shape),
                               unbroadcast(mk_neg(mk_div(mk_mul(g, args[0]), mk_pow(args[1], 2))),
                                           args[1].shape))),
    Rule("neg", "-A", "negation", _same,
         lambda at, sz, a: pm.scale(-1.0, a), lambda np, at, sz, a: -a,
         lambda out, args, d: _opt(mk_neg, d[0]),
         lambda g, out, args: (mk_neg(g),)),
    Rule("pow", "A ** p", "element-wise power by a number p", _same,
         lambda at, sz, a: pm.emap(lambda x: _pure_power(x, at), a), lambda np, at, sz, a: _np_power(np, a, at),
         lambda out, args, d: _opt(lambda x: _pow_jvp(out, args[0], x, out.attr), d[0]),
         lambda g, out, args: (mk_mul(g, mk_scale(Coef(out.attr), mk_pow(args[0], out.attr - 1))),)),
    Rule("T", "A.T", "transpose", lambda args, at, src: args[0].shape[::-1],
         lambda at, sz, a: pm.transpose(a), lambda np, at, sz, a: a.T,
         lambda out, args, d: _opt(mk_T, d[0]),
         lambda g, out, args: (mk_T(g),)),
    Rule("sum", "sum(A), sum(A, axis=0), sum(A, axis=1)", "sum of all entries (1×1), of each column "
         "(1×q), of each row (n×1)", _sum_shape,
         lambda at, sz, a: pm.total(a, at), lambda np, at, sz, a: a.sum(axis=at, keepdims=True),
         lambda out, args, d: _opt(lambda x: mk_sum(x, out.attr), d[0]),
         lambda g, out, args: (expand(g, args[0].shape),)),
    Rule("mean", "mean(A), mean(A, axis=0), mean(A, axis=1)", "sum divided by the number of entries "
         "summed", _sum_shape,
         lambda at, sz, a: pm.scale(1 / _count(_shape_of(a), at).value({}), pm.total(a, at)),
         lambda np, at, sz, a: a.mean(axis=at, keepdims=True),
         lambda out, args, d: _opt(lambda x: mk_scale(_count(args[0].shape, out.attr).inverse(),
                                                      mk_sum(x, out.attr)), d[0]),
         lambda g, out, args: (mk_scale(_count(args[0].shape, out.attr).inverse(), expand(g, args[0].shape)),)),
    # -- element-wise functions: the pullback multiplies by the derivative, entry by entry --------
    Rule("sigmoid", "sigmoid(A)", "σ(A) = 1/(1 + exp(−A)), stable", _same,
         lambda at, sz, a: pm.emap(pm.sigmoid, a), lambda np, at, sz, a: _np_sigmoid(np, a),
         lambda out, args, d: _opt(lambda x: mk_mul(mk_mul(ref(out), mk_sub(_one(), ref(out))), x), d[0]),
         lambda g, out, args: (mk_mul(mk_mul(g, ref(out)), mk_sub(_one(), ref(out))),)),
    Rule("tanh", "tanh(A)", "hyperbolic tangent", _same,
         lambda at, sz, a: pm.emap(math.tanh, a), lambda np, at, sz, a: np.tanh(a),
         lambda out, args, d: _opt(lambda x: mk_mul(mk_sub(_one(), mk_mul(ref(out), ref(out))), x), d[0]),
         lambda g, out, args: (mk_mul(g, mk_sub(_one(), mk_mul(ref(out), ref(out)))),)),
    Rule("relu", "relu(A)", "max(A, 0); its derivative is taken as 0 at 0", _same,
         lambda at, sz, a: pm.emap(pm.FUNCS["relu"], a), lambda np, at, sz, a: np.maximum(a, 0.0),
         lambda out, args, d: _opt(lambda x: mk_mul(mk_fn("step", args[0]), x), d[0]),
         lambda g, out, args: (mk_mul(g, mk_fn("step", args[0])),)),
    Rule("exp", "exp(A)", "element-wise exponential", _same,
         lambda at, sz, a: pm.emap(pm.FUNCS["exp"], a), lambda np, at, sz, a: np.exp(a),
         lambda out, args, d: _opt(lambda x: mk_mul(ref(out), x), d[0]),
         lambda g, out, args: (mk_mul(g, ref(out)),)),
    Rule("log", "log(A)", "element-wise natural logarithm", _same,
         lambda at, sz, a: pm.emap(pm._log, a), lambda np, at, sz, a: np.log(a),
         lambda out, args, d: _opt(lambda x: mk_div(x, args[0]), d[0]),
         lambda g, out, args: (mk_div(g, args[0]),)),
    Rule("sqrt", "sqrt(A)", "element-wise square root", _same,
         lambda at, sz, a: pm.emap(pm._sqrt, a), lambda np, at, sz, a: np.sqrt(a),
         lambda out, args, d: _opt(lambda x: mk_scale(Coef(Fraction(1, 2)), mk_div(x, ref(out))), d[0]),
         lambda g, out, args: (mk_scale(Coef(Fraction(1, 2)), mk_div(g, ref(out))),)),
    # -- over each row ------------------------------------------------------------------------
    Rule("softmax", "softmax(A)", "softmax of each row: P = exp(A) / row sums", _same,
         lambda at, sz, a: pm.softmax_rows(a), lambda np, at, sz, a: np.exp(_np_log_softmax(np, a)),
         lambda out, args, d: _opt(lambda x: mk_sub(mk_mul(ref(out), x),
                                                    mk_mul(ref(out), _row_sums(mk_mul(ref(out), x)))), d[0]),
         lambda g, out, args: (mk_mul(ref(out), mk_sub(g, _row_sums(mk_mul(g, ref(out))))),)),
    Rule("log_softmax", "log_softmax(A)", "log of the softmax of each row, stable", _same,
         lambda at, sz, a: pm.log_softmax_rows(a), lambda np, at, sz, a: _np_log_softmax(np, a),
         lambda out, args, d: _opt(lambda x: mk_sub(x, expand(_row_sums(mk_mul(ref(out.aux), x)), out.shape)),
                                   d[0]),
         lambda g, out, args: (mk_sub(g, mk_mul(ref(out.aux), _row_sums(g))),)),
]}


def _one():
    from .nodes import const

    return const(1)


def _shape_of(a):
    return (len(a), len(a[0]))


#: Functions an expression may call.
FUNCTIONS = ("sigmoid", "tanh", "relu", "exp", "log", "sqrt", "softmax", "log_softmax", "sum", "mean")
BINARY = ("add", "sub", "mul", "div")
#: Element-wise and row-wise functions: their output and their argument get names.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "exp", "log", "sqrt", "softmax", "log_softmax")

#: The letter of the output of each function in a derivation.
LETTERS = {"sigmoid": "S", "tanh": "T", "relu": "R", "exp": "E", "log": "ell", "sqrt": "Q",
           "softmax": "P", "log_softmax": "Lambda"}

# forward of the operations that only appear inside derivations: a number, a dimension's
# size, [A > 0] and c·A, as (pure, numpy)
HELPERS = {
    "const": (lambda at, sz: [[float(at)]], lambda np, at, sz: np.full((1, 1), float(at))),
    "dim": (lambda at, sz: [[float(sz[at])]], lambda np, at, sz: np.full((1, 1), float(sz[at]))),
    "step": (lambda at, sz, a: pm.emap(pm.FUNCS["step"], a), lambda np, at, sz, a: (a > 0).astype(float)),
    "scale": (lambda at, sz, a: pm.scale(at.value(sz), a), lambda np, at, sz, a: at.value(sz) * a),
}


# -- symbols for the table and the identities ------------------------------------------------

_BAR = Sym("Gbar", "Ḡ", r"\bar G")
CASES = {  # argument shapes against an n×q output: full, a 1×q row, an n×1 column, a 1×1 number
    "full": ("n", "q"), "row": (1, "q"), "column": ("n", 1), "number": (1, 1),
}


def _symbol(letter, shape):
    return var(Sym(letter), shape)


def _dsymbol(letter, shape):
    return var(Sym("d" + letter, "d" + letter, r"\mathrm{d}" + letter), shape)


def _case(arg_shape, out_shape):
    if arg_shape == (1, 1):  # a number, also beside a 1×1 output: dA/b, not dA ⊘ B
        return "number"
    if arg_shape == tuple(out_shape):
        return "full"
    return "row" if arg_shape[0] != out_shape[0] else "column"


def example_args(op, cases=(None, None)):
    """Symbolic arguments A (and B) of an operation, each broadcast as its case says (a, b: numbers)."""
    if op == "matmul":
        return [_symbol("A", ("n", "p")), _symbol("B", ("p", "q"))]
    if op in BINARY:
        return [_symbol(letter.lower() if case == "number" else letter, CASES[case or "full"])
                for letter, case in zip("AB", cases)]  # a number is a lowercase letter: b dA, not B dA
    return [_symbol("A", ("n", "q"))]


def example_node(op, attr=None, cases=(None, None)):
    args = example_args(op, cases)
    node = Node(op, args, RULES[op].shape(args, attr, None), attr)
    if op in ACTIVATIONS:
        node.name = Sym(LETTERS[op])
        if op == "log_softmax":
            node.aux = Node("softmax", (args[0],), args[0].shape)
            node.aux.name = Sym("P")
    return node


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
    from .render import latex, text

    sym = example_node(op, attr, cases)
    if op == "mean":  # the step's factor: 1/n for the mean of an n×1 column, not 1/(nq)
        args = [_symbol("A", mean_of)]
        sym = Node("mean", args, RULES["mean"].shape(args, attr, None), attr)
    return _identity_of(sym, i, text, latex)


def _identity_of(sym, i, text, latex):
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
    from .adjoint import verify
    from .render import latex, text

    rows = []
    for op, rule in RULES.items():
        cases = ["full", "row", "column", "number"] if op in ("add", "sub", "mul", "div") else [None]
        attrs = {"pow": Fraction(2), "sum": 0, "mean": 1}
        for case in cases:
            sym = example_node(op, attrs.get(op), (None, case))
            dargs = [_dsymbol(a.attr.ident, a.shape) for a in sym.args]
            d = rule.jvp(sym, list(sym.args), dargs)
            g = var(_BAR, sym.shape)
            back = rule.vjp(g, sym, list(sym.args))
            written = Node(op, sym.args, sym.shape, sym.attr)
            # the row's differential must be the adjoint of its pullbacks, and a derivative
            verify(sym, dargs, d, g, back, what=f"rules table, {op}{f' ({case})' if case else ''}: "
                                                 f"d{_p(text(written))} = {text(d)}")
            rows.append({
                "op": op, "case": case or "", "meaning": rule.meaning,
                "shapes": ", ".join(fmt_shape(a.shape) for a in sym.args) + " → " + fmt_shape(sym.shape),
                "expression": (text(written), latex(written)),
                "differential": (text(d), latex(d)),
                "pullback": tuple(", ".join(f(b) for b in back) for f in (text, latex)),
            })
    return rows
