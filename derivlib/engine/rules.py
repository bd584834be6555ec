r"""The rule table: one row per operation, everything the engine knows about it.

Each :class:`Rule` has

* ``shape``: the output shape from the argument shapes, or an :class:`ExpressionError`
  naming the subexpression and the shapes;
* ``pure`` and ``numpy``: the forward on lists of lists and on arrays (numpy is passed
  in, never imported here);
* ``jvp``: the differential ``dY`` from the differentials of the arguments;
* ``vjp``: the pullback, the adjoint of each argument from the output's adjoint ``Ḡ``;
* for a function (``tanh(A)``): its text and LaTeX forms, its numpy source, the letter of
  its output in a derivation, whether it is a layer's activation, whether the answer
  checker tries a gradient that forgets its derivative, and where the check draws its
  argument (``domain``).

A function's value is defined once: a scalar kernel (or a row kernel, for softmax) for
the pure-Python evaluator, and one numpy source template (:func:`np_call`,
:func:`np_helper`) that the generated ``backward`` code writes and that numpy evaluation
runs, compiled once from the same text (:func:`numpy_function`). The renderers, the
parser's list of functions, the site's rules table and the answer checker read the rows.

The identity that moves a factor across the Frobenius product ``A : B = Σ A∘B`` is
not typed by hand: ``derivlib.engine.identities`` writes ``Ḡ : dY = (pullback) : dA``
from ``jvp`` and ``vjp`` applied to symbols, so the table shown on the site is the table
the derivations use.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Callable, NamedTuple

from . import columns as cols
from . import conv as cv
from . import indexing as ix
from . import puremat as pm
from .nodes import (
    Coef, ExpressionError, Node, Sym, broadcast, const, expand, fmt_shape, mk_add, mk_div, mk_fn, mk_matmul,
    mk_mul, mk_neg, mk_pow, mk_scale, mk_sub, mk_sum, mk_T, ref, unbroadcast, var,
)

__all__ = ["Rule", "RULES", "DERIVED", "FUNCTIONS", "ACTIVATIONS", "LETTERS", "FORGETTABLE", "NAMES",
           "np_call", "np_helper", "numpy_function"]


def _normal(attr, i):
    return "normal"


class Rule(NamedTuple):
    """One operation: its shape, value, differential and pullback, and how it is written."""

    op: str
    example: str  # how it is written in an expression
    meaning: str
    shape: Callable  # (node_args, attr, src) -> shape
    pure: Callable  # (attr, sizes, *values) -> value
    numpy: Callable  # (np, attr, sizes, *values) -> value
    jvp: Callable | None  # (out, args, dargs) -> expression (dargs[i] None: argument held fixed)
    vjp: Callable | None  # (g, out, args) -> one adjoint (or None) per argument
    #: A function's text and LaTeX, ``{}`` its argument: ``"σ({})"``; None for an operator.
    text: str | None = None
    latex: str | None = None
    #: A function's numpy source, in ``{np}`` (numpy's name): an expression in ``{x}`` written
    #: inline (``"{np}.tanh({x})"``), or, when it contains ``return``, the body of a helper
    #: ``def _<op>(x):`` that the generated code defines once and calls.
    source: str | None = None
    #: The letter of its output in a derivation; an operation with a letter names its output
    #: and its argument (``S = σ(Z)``).
    letter: str | None = None
    #: A layer's activation: the adjoint of its argument is Δ (δ₁, δ₂, ...).
    layer: bool = False
    #: The answer checker tries a gradient that forgets this function's derivative.
    forgettable: bool = False
    #: Each output entry depends on the same entries of the arguments only (A ∘ B, tanh(A)).
    entrywise: bool = False
    #: (attr, argument index) -> where the check draws that argument: "normal", "positive"
    #: (log, sqrt) or "nonzero" (away from relu's kink).
    domain: Callable = _normal
    #: How a call of this function is read, for one that takes more than one matrix and an
    #: optional ``axis``: ``(parser, call, src) -> (argument nodes, attr)``; ``parser.node(e)``
    #: reads an argument expression. None: one matrix argument (and ``axis=`` for sum, mean).
    call: Callable | None = None


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


def _np_power(np, x, p):
    return x ** (int(p) if p.denominator == 1 else float(p))


def _pure_power(x, p):
    return pm._pow(x, int(p) if p.denominator == 1 else float(p))


def _pow_jvp(out, a, da, p):
    return mk_mul(mk_scale(Coef(p), mk_pow(a, p - 1)), da)


def _expand_to(d, shape):
    return None if d is None else expand(d, shape)


# -- the functions' values: a scalar (or row) kernel for pure Python, a numpy source template --

def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


def _log_softmax(row):
    m = max(row)
    lse = m + math.log(math.fsum(math.exp(x - m) for x in row))
    return [x - lse for x in row]


_SIGMOID = """
e = {np}.exp(-{np}.abs(x))
return {np}.where(x >= 0, 1 / (1 + e), e / (1 + e))
"""
_SOFTMAX = """
e = {np}.exp(x - x.max(axis=1, keepdims=True))
return e / e.sum(axis=1, keepdims=True)
"""
_LOG_SOFTMAX = """
m = x.max(axis=1, keepdims=True)
return x - m - {np}.log({np}.exp(x - m).sum(axis=1, keepdims=True))
"""


def _function(op, meaning, *, text, latex, source, jvp, vjp, value=None, rows=None, letter=None, layer=False,
              forgettable=False, domain="normal"):
    """The row of a function of one matrix: element-wise from a scalar kernel ``value``, or
    row by row from a row kernel ``rows``; its numpy value is its ``source`` compiled."""
    if rows is None:
        def pure(at, sz, a):
            return pm.emap(value, a)
    else:
        def pure(at, sz, a):
            return [rows(list(r)) for r in a]

    def numpy(np, at, sz, a):
        return numpy_function(np, op)(a)

    return Rule(op, f"{op}(A)", meaning, _same, pure, numpy, jvp, vjp, text, latex, source.strip(), letter,
                layer, forgettable, rows is None, lambda attr, i: domain)


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
         lambda g, out, args: (unbroadcast(g, args[0].shape), unbroadcast(g, args[1].shape)),
         entrywise=True),
    Rule("sub", "A - B", "difference, broadcasting as +", _elementwise,
         lambda at, sz, a, b: pm.zipwith(operator.sub, a, b), lambda np, at, sz, a, b: a - b,
         lambda out, args, d: mk_add(_expand_to(d[0], out.shape), _expand_to(d[1], out.shape), sub=True)
         if d[1] is not None else _expand_to(d[0], out.shape),
         lambda g, out, args: (unbroadcast(g, args[0].shape), unbroadcast(mk_neg(g), args[1].shape)),
         entrywise=True),
    Rule("mul", "A * B", "element-wise product A∘B, broadcasting as +", _elementwise,
         lambda at, sz, a, b: pm.zipwith(operator.mul, a, b), lambda np, at, sz, a, b: a * b,
         lambda out, args, d: _sum_terms(_opt(mk_mul, d[0], args[1]), _opt(mk_mul, args[0], d[1])),
         lambda g, out, args: (unbroadcast(mk_mul(g, args[1]), args[0].shape),
                               unbroadcast(mk_mul(g, args[0]), args[1].shape)),
         entrywise=True),
    Rule("div", "A / B", "element-wise quotient A⊘B, broadcasting as +", _elementwise,
         lambda at, sz, a, b: pm.zipwith(pm._div, a, b), lambda np, at, sz, a, b: a / b,
         lambda out, args, d: _sum_terms(
             _opt(lambda x: mk_div(x, args[1]), d[0]),
             _opt(lambda x: mk_neg(mk_div(mk_mul(args[0], x), mk_pow(args[1], 2))), d[1])),
         lambda g, out, args: (unbroadcast(mk_div(g, args[1]), args[0].shape),
                               unbroadcast(mk_neg(mk_div(mk_mul(g, args[0]), mk_pow(args[1], 2))),
                                           args[1].shape)),
         entrywise=True, domain=lambda attr, i: "positive" if i == 1 else "normal"),
    Rule("neg", "-A", "negation", _same,
         lambda at, sz, a: pm.scale(-1.0, a), lambda np, at, sz, a: -a,
         lambda out, args, d: _opt(mk_neg, d[0]),
         lambda g, out, args: (mk_neg(g),), entrywise=True),
    Rule("pow", "A ** p", "element-wise power by a number p", _same,
         lambda at, sz, a: pm.emap(lambda x: _pure_power(x, at), a), lambda np, at, sz, a: _np_power(np, a, at),
         lambda out, args, d: _opt(lambda x: _pow_jvp(out, args[0], x, out.attr), d[0]),
         lambda g, out, args: (mk_mul(g, mk_scale(Coef(out.attr), mk_pow(args[0], out.attr - 1))),),
         entrywise=True, domain=lambda attr, i: "positive" if attr.denominator != 1 or attr < 0 else "normal"),
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
    _function("sigmoid", "σ(A) = 1/(1 + exp(−A)), stable", text="σ({})", latex=r"\sigma\left({}\right)",
              letter="S", layer=True, forgettable=True, value=_sigmoid, source=_SIGMOID,
              jvp=lambda out, args, d: _opt(lambda x: mk_mul(mk_mul(ref(out), mk_sub(_one(), ref(out))), x), d[0]),
              vjp=lambda g, out, args: (mk_mul(mk_mul(g, ref(out)), mk_sub(_one(), ref(out))),)),
    _function("tanh", "hyperbolic tangent", text="tanh({})", latex=r"\tanh\left({}\right)",
              letter="T", layer=True, forgettable=True, value=math.tanh, source="{np}.tanh({x})",
              jvp=lambda out, args, d: _opt(lambda x: mk_mul(mk_sub(_one(), mk_mul(ref(out), ref(out))), x), d[0]),
              vjp=lambda g, out, args: (mk_mul(g, mk_sub(_one(), mk_mul(ref(out), ref(out)))),)),
    _function("relu", "max(A, 0); its derivative is taken as 0 at 0", text="relu({})",
              latex=r"\operatorname{{relu}}\left({}\right)", letter="R", layer=True, forgettable=True,
              domain="nonzero", value=lambda x: x if x > 0 else 0.0, source="{np}.maximum({x}, 0.0)",
              jvp=lambda out, args, d: _opt(lambda x: mk_mul(mk_fn("step", args[0]), x), d[0]),
              vjp=lambda g, out, args: (mk_mul(g, mk_fn("step", args[0])),)),
    _function("exp", "element-wise exponential", text="exp({})", latex=r"\exp\left({}\right)", letter="E",
              value=lambda x: math.exp(x) if x < 709 else math.inf, source="{np}.exp({x})",
              jvp=lambda out, args, d: _opt(lambda x: mk_mul(ref(out), x), d[0]),
              vjp=lambda g, out, args: (mk_mul(g, ref(out)),)),
    _function("log", "element-wise natural logarithm", text="log({})", latex=r"\log\left({}\right)",
              letter="ell", domain="positive", value=_log, source="{np}.log({x})",
              jvp=lambda out, args, d: _opt(lambda x: mk_div(x, args[0]), d[0]),
              vjp=lambda g, out, args: (mk_div(g, args[0]),)),
    _function("sqrt", "element-wise square root", text="sqrt({})", latex=r"\sqrt{{{}}}", letter="Q",
              domain="positive", value=_sqrt, source="{np}.sqrt({x})",
              jvp=lambda out, args, d: _opt(lambda x: mk_scale(Coef(Fraction(1, 2)), mk_div(x, ref(out))), d[0]),
              vjp=lambda g, out, args: (mk_scale(Coef(Fraction(1, 2)), mk_div(g, ref(out))),)),
    _function("softplus", "log(1 + exp(A)), stable: max(A, 0) + log1p(exp(−|A|))", text="softplus({})",
              latex=r"\operatorname{{softplus}}\left({}\right)", letter="F", layer=True, forgettable=True,
              value=lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
              source="return {np}.maximum(x, 0.0) + {np}.log1p({np}.exp(-{np}.abs(x)))",
              jvp=lambda out, args, d: _opt(lambda x: mk_mul(mk_fn("sigmoid", args[0]), x), d[0]),
              vjp=lambda g, out, args: (mk_mul(g, mk_fn("sigmoid", args[0])),)),
    # -- over each row ------------------------------------------------------------------------
    _function("softmax", "softmax of each row: P = exp(A) / row sums", text="softmax({})",
              latex=r"\operatorname{{softmax}}\left({}\right)", letter="P", layer=True,
              rows=lambda row: [math.exp(x) for x in _log_softmax(row)], source=_SOFTMAX,
              jvp=lambda out, args, d: _opt(lambda x: mk_sub(mk_mul(ref(out), x),
                                                             mk_mul(ref(out), _row_sums(mk_mul(ref(out), x)))), d[0]),
              vjp=lambda g, out, args: (mk_mul(ref(out), mk_sub(g, _row_sums(mk_mul(g, ref(out))))),)),
    _function("log_softmax", "log of the softmax of each row, stable", text="log softmax({})",
              latex=r"\log\operatorname{{softmax}}\left({}\right)", letter="Lambda", layer=True,
              rows=_log_softmax, source=_LOG_SOFTMAX,
              jvp=lambda out, args, d: _opt(lambda x: mk_sub(x, expand(_row_sums(mk_mul(ref(out.aux), x)), out.shape)),
                                            d[0]),
              vjp=lambda g, out, args: (mk_sub(g, mk_mul(ref(out.aux), _row_sums(g))),)),
    # -- max, abs, split, concat (issue 21; kernels and renderings in engine/columns.py) -----------
    _function("abs", "element-wise absolute value; its derivative is taken as 0 at 0", text="|{}|",
              latex=r"\left|{}\right|", domain="nonzero", value=abs, source="{np}.abs({x})",
              jvp=lambda out, args, d: _opt(lambda x: mk_mul(mk_fn("sign", args[0]), x), d[0]),
              vjp=lambda g, out, args: (mk_mul(mk_fn("sign", args[0]), g),)),
    Rule("max", "max(A), max(A, axis=0), max(A, axis=1)", "largest entry of all (1×1), of each column (1×q), "
         "of each row (n×1); the gradient goes to the first maximum, as numpy's argmax picks it",
         cols.max_shape, cols.max_pure, cols.max_numpy, cols.max_jvp, cols.max_vjp, call=cols.max_call),
    Rule("split", "i, f, o, g = split(A, 4)", "the column blocks of A, as np.split(A, 4, axis=1); written "
         "A[:, h:2h]", cols.split_shape, cols.split_pure, cols.split_numpy, cols.split_jvp, cols.split_vjp,
         call=cols.split_call),
    Rule("concat", "concat(A, B)", "the matrices side by side, as np.concatenate((A, B), axis=1); written [A B]",
         cols.concat_shape, cols.concat_pure, cols.concat_numpy, cols.concat_jvp, cols.concat_vjp,
         call=cols.concat_call),
    # -- convolution windows as rows: im2col, group, ungroup (issue 21; kernels in engine/conv.py) --
    Rule("im2col", "im2col(X, image=(H, W, C), kernel=(kh, kw), stride=1, pad=0)", "the windows of each row's "
         "channels-last H×W×C image, one per row (sample, i, j), columns (channel, di, dj) as torch's unfold",
         cv.im2col_shape, cv.im2col_pure, cv.im2col_numpy, cv.linear_jvp, cv.linear_vjp, letter="P",
         call=cv.im2col_call),
    Rule("group", "group(A, m)", "every m consecutive rows as one row: (n·m)×c to n×(m·c), A.reshape(n, m·c)",
         cv.group_shape, cv.group_pure, cv.group_numpy, cv.linear_jvp, cv.linear_vjp, letter="Y",
         call=cv.group_call),
    Rule("ungroup", "ungroup(A, m)", "each row as m rows: n×(m·c) to (n·m)×c, A.reshape(n·m, c)",
         cv.ungroup_shape, cv.ungroup_pure, cv.ungroup_numpy, cv.linear_jvp, cv.linear_vjp, call=cv.group_call),
    # -- index vectors (derivlib.engine.indexing): take, pick, onehot -------------------------
    Rule("take", "take(E, y)", "the rows of E (k×d) that the index vector y (n integers in range(k)) names: "
         "E[y], n×d", ix.take_shape, ix.pure_take, ix.np_take, ix.take_jvp, ix.take_vjp,
         text="take({}, {})", latex=r"\operatorname{{take}}\left({}, {}\right)",
         domain=lambda attr, i: "index" if i == 1 else "normal", call=ix.CALL["take"]),
    Rule("pick", "pick(S, y)", "each row's entry at its label y (n integers in range(k)): "
         "S[arange(n), y], n×1", ix.pick_shape, ix.pure_pick, ix.np_pick, ix.pick_jvp, ix.pick_vjp,
         text="pick({}, {})", latex=r"\operatorname{{pick}}\left({}, {}\right)",
         domain=lambda attr, i: "index" if i == 1 else "normal", call=ix.CALL["pick"]),
    Rule("onehot", "onehot(y)", "O_y: row i is 1 at column y[i], else 0 (eye(k)[y], n×k); no gradient",
         ix.onehot_shape, ix.onehot_pure, ix.onehot_np, None, None,
         text="O_{}", latex="O_{{{}}}", domain=lambda attr, i: "index", call=ix.CALL["onehot"]),
]}


def _one():
    return const(1)


def _shape_of(a):
    return (len(a), len(a[0]))


#: Operations that only appear inside derivations: [A > 0], the derivative of relu.
DERIVED = {r.op: r for r in [
    _function("step", "1 where A > 0, else 0", text="[{} > 0]", latex=r"\left[{} > 0\right]",
              value=lambda x: 1.0 if x > 0 else 0.0, source="{np}.heaviside({x}, 0.0)", jvp=None, vjp=None),
    _function("sign", "1 where A > 0, −1 where A < 0, 0 at 0", text="sign({})", latex=r"\operatorname{{sign}}\left({}\right)",
              value=lambda x: (x > 0) - (x < 0) + 0.0, source="{np}.sign({x})", jvp=None, vjp=None),
]}

#: Functions an expression may call.
FUNCTIONS = tuple(op for op, r in RULES.items() if r.text) + ("sum", "mean") + tuple(
    op for op, r in RULES.items() if r.call is not None and not r.text)
BINARY = ("add", "sub", "mul", "div")
#: The letter of the output of each function in a derivation.
LETTERS = {op: r.letter for op, r in RULES.items() if r.letter}
#: Element-wise and row-wise functions: their output and their argument get names.
ACTIVATIONS = tuple(LETTERS)
#: Activations whose derivative a reader's answer may forget (the answer checker tries it).
FORGETTABLE = tuple(op for op, r in RULES.items() if r.forgettable)

# forward of the operations that only appear inside derivations: a number, a dimension's
# size, [A > 0] and c·A, as (pure, numpy)
HELPERS = {
    "const": (lambda at, sz: [[float(at)]], lambda np, at, sz: np.full((1, 1), float(at))),
    "dim": (lambda at, sz: [[float(sz[at])]], lambda np, at, sz: np.full((1, 1), float(sz[at]))),
    "scale": (lambda at, sz, a: pm.scale(at.value(sz), a), lambda np, at, sz, a: at.value(sz) * a),
    **{op: (r.pure, r.numpy) for op, r in DERIVED.items()},
    "zeros": (cols.zeros_pure, cols.zeros_numpy),
    "argmax": (cols.argmax_pure, cols.argmax_numpy),
    **cv.HELPERS,
}
HELPERS[ix.SCATTER] = (ix.pure_scatter, ix.np_scatter)  # take's pullback O_yᵀG, a scatter-add


# -- numpy source of the functions, written into generated code and compiled for evaluation ----

def _row(op):
    return RULES[op] if op in RULES else DERIVED[op]


def _helper(op):
    return "return" in _row(op).source


#: The names the generated code uses besides the reader's: numpy's module and the helpers.
#: ``np_call`` and ``np_helper`` take a mapping of them to the names actually used (when a
#: reader's variable or dimension is called ``np``, numpy is imported under another name).
NAMES = {"np": "np", **{"_" + op: "_" + op for op in (*RULES, *DERIVED) if _row(op).source
                        and _helper(op)}, **{"_" + op: "_" + op for op in cv.SOURCE}}
NAMES["_" + ix.SCATTER] = "_" + ix.SCATTER  # take's pullback (derivlib.engine.indexing)


def np_call(op, x, names=NAMES):
    """Numpy source of function ``op`` applied to the source ``x``: its template, or a call of its helper."""
    if _helper(op):
        return f"{names['_' + op]}({x})"
    return _row(op).source.format(np=names["np"], x=x)


def np_helper(op, names=NAMES):
    """Lines defining the helper of function ``op`` (none when its template is written inline)."""
    if op in cv.SOURCE:  # im2col, col2im: helpers with the image's numbers as parameters
        return cv.helper_lines(op, names)
    if op == ix.SCATTER:
        return ix.helper_lines({**NAMES, **names})
    if not _helper(op):
        return []
    body = _row(op).source.format(np=names["np"])
    return [f"def {names['_' + op]}(x):"] + ["    " + line for line in body.splitlines()]


_COMPILED = {}  # id(numpy module) -> (module, op -> function)


def numpy_function(np, op):
    """Function ``op`` on arrays: every function's source, compiled once into a private namespace."""
    entry = _COMPILED.get(id(np))
    if entry is None or entry[0] is not np:
        ops = [o for o in (*RULES, *DERIVED) if _row(o).source]
        lines = []
        for o in ops:
            lines += np_helper(o) or [f"def _{o}(x):", f"    return {np_call(o, 'x')}"]
        namespace = {"np": np}
        exec(compile("\n".join(lines) + "\n", "<derivlib.engine.rules: numpy functions>", "exec"), namespace)
        entry = _COMPILED[id(np)] = (np, {o: namespace["_" + o] for o in ops})
    return entry[1][op]


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
    if op in ix.OPS:  # E p×q, S n×q, and y: n integers in range(p) (take) or range(q)
        y = ix.index_node("y", ("n", "p" if op == "take" else "q"))
        return {"take": [_symbol("E", ("p", "q")), y], "pick": [_symbol("S", ("n", "q")), y], "onehot": [y]}[op]
    return [_symbol("A", ("n", "q"))]


def _example_attr(op, attr):
    """The attribute of split's and concat's example: the columns as numbers (a named block width
    becomes 2), default the second of three 2-column blocks and a concat of 2 and 3 columns."""
    if op == "split":
        a, b, w, m = attr or (1, 2, 2, 3)
        return (a, b, w if isinstance(w, int) else 2, m)
    if attr and not all(isinstance(w, int) for w in attr):  # h, h, 2h: 2, 2, 4
        return tuple(2 * c for c in cols._unit(attr)[1])
    return attr or (2, 3)


def example_node(op, attr=None, cases=(None, None)):
    if op in ("split", "concat"):
        attr = _example_attr(op, attr)
        widths = [attr[3] * attr[2]] if op == "split" else list(attr)
        args = [_symbol(chr(65 + k) if k < 26 else f"A{k}", ("n", w)) for k, w in enumerate(widths)]
    elif op in cv.EXAMPLES:
        args, attr = cv.example(op, attr)
    else:
        args = example_args(op, cases)
    if op == "onehot":
        attr = ix.classes_of(args[0])
    node = Node(op, args, RULES[op].shape(args, attr, None), attr)
    if op in ACTIVATIONS:
        node.name = Sym(LETTERS[op])
        if op == "log_softmax":
            node.aux = Node("softmax", (args[0],), args[0].shape)
            node.aux.name = Sym("P")
    return node
