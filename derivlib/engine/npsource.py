"""Expression nodes as numpy source (standard library only): the code a derivation generates.

:func:`source` writes a node as a Python expression over ``np`` and the names; a number
stays a Python number where numpy broadcasts it and becomes a 1×1 array where an array is
needed. Each function's numpy call is its rule row's (:func:`derivlib.engine.rules.np_call`).
:mod:`derivlib.engine.render` re-exports :func:`source` and :data:`NP_FN`.
"""

from __future__ import annotations

from . import columns, conv, dims
from .indexing import OPS, SCATTER
from .indexing import np_source as index_source
from .nodes import Coef, Node
from .rules import DERIVED, NAMES, RULES, np_call

__all__ = ["source", "NP_FN"]

PY_ADD, PY_MUL, PY_NEG, PY_POW, PY_ATOM = 1, 2, 3, 4, 6
#: The functions numpy code can write (their source is their row's, see ``rules.np_call``).
NP_FN = tuple(op for op, r in {**RULES, **DERIVED}.items() if r.source) + OPS


def source(node, top=True, names=None):
    """Python source of a node, with numpy as ``np`` (or ``names["np"]``) and the names as identifiers.

    A number (a constant, a dimension's size, or arithmetic of them) stays a Python number
    where numpy broadcasts it, and becomes a 1×1 float array where an array is needed: as
    the operand of ``@``, ``.T``, ``.sum``, ``.mean`` or a function, and as the value of a
    step (``top``), so that every step and every gradient is an array of its shape.
    """
    ns = dict(NAMES, **(names or {}))
    s, _, scalar = _src(node, top, ns)
    return _array((s, PY_ATOM, scalar), node, ns)[0] if top and scalar else s


def _array(triple, node, ns):
    """A Python number as a 1×1 float array; an array as it is."""
    s, p, scalar = triple
    if not scalar:
        return triple
    if node.op == "const":
        return f"{ns['np']}.full((1, 1), {float(node.attr)!r})", PY_ATOM, False
    if node.op == "ones":
        return f"{ns['np']}.ones((1, 1))", PY_ATOM, False
    return f"{ns['np']}.full((1, 1), {s}, dtype={ns['np']}.float64)", PY_ATOM, False


def _coef_src(c):
    sign, num, den = c.parts()
    num = " * ".join(num)
    den = " * ".join(den)
    return sign, num, den


def _spar(pair, need, strict=False):
    s, p = pair[:2]
    return f"({s})" if p < need or (strict and p == need) else s


def _broadcast(a, other, node):
    """The row (column) that ``a`` spreads when ``a`` is 1 r (c 1ᵀ), an unnamed outer product with
    ones, and the other operand of ``node`` (a product or quotient) already has ``node``'s shape:
    numpy broadcasts it to the same numbers without building the full array first."""
    if a.name is not None or a.op not in ("matmul", "mul", "div") or tuple(other.shape) != tuple(node.shape):
        return a
    left, right = a.args
    if a.op in ("mul", "div"):  # ones(n×q) ∘ B is B, ones(n×q) ⊘ B is 1 ⊘ B: numpy broadcasts them
        if left.op == "ones" and tuple(left.shape) == tuple(a.shape):
            return right if a.op == "mul" else Node("div", (Node("ones", (), (1, 1)), right), right.shape)
        if right.op == "ones" and tuple(right.shape) == tuple(a.shape):
            return left
        return a
    if left.op == "ones" and left.shape[1] == 1 and right.shape[0] == 1:
        return right
    if right.op == "ones" and right.shape[0] == 1 and left.shape[1] == 1:
        return left
    return a


def spread(node):
    """The row (column) ``r`` when ``node`` is an unnamed outer product with ones, 1 r (c 1ᵀ),
    possibly scaled or negated, as that scaling of ``r``; else None. Where every use of such a
    value broadcasts it against a full array, the generated code keeps the row."""
    if node.name is not None:
        return None
    if node.op in ("scale", "neg"):
        inner = spread(node.args[0])
        return None if inner is None else Node(node.op, (inner,), inner.shape, node.attr)
    if node.op != "matmul":
        return None
    left, right = node.args
    if left.op == "ones" and left.shape[1] == 1 and right.shape[0] == 1:
        return right
    if right.op == "ones" and right.shape[0] == 1 and left.shape[1] == 1:
        return left
    return None


def _small_first(core, c):
    """``c · (A ∘ B)`` with A (or B) a row, a column or a broadcast one, as ``(c · A) ∘ B``: the
    number scales the small operand instead of passing over the full product; else None."""
    if core.op != "mul" or core.name is not None or len(core.args) != 2:
        return None
    a, b = core.args
    full = tuple(core.shape)
    for i, (x, other) in enumerate(((a, b), (b, a))):
        y = _broadcast(x, other, core)
        if tuple(other.shape) == full and tuple(y.shape) != full:
            scaled = Node("scale", (y,), y.shape, c)
            return Node("mul", (scaled, other) if i == 0 else (other, scaled), full)
    return None


def _hoisted(node):
    """``sum(A ∘ r, axis=0)`` (or ``⊘ r``, or ``mean``) with r a row as ``sum(A, axis=0) ∘ r``; the
    same over axis 1 with a column: the factor taken out of the sum, one pass less; else None."""
    if node.op not in ("sum", "mean") or node.attr not in (0, 1):
        return None
    arg = node.args[0]
    if arg.name is not None or arg.op not in ("mul", "div") or len(arg.args) != 2:
        return None
    keep = 1 - node.attr  # the axis a factor must span: a row for a sum over rows
    full = tuple(arg.shape)
    if full[node.attr] == 1:
        return None
    factors = (arg.args[1],) if arg.op == "div" else arg.args[::-1]
    for f in factors:
        rest = arg.args[0] if f is arg.args[1] else arg.args[1]
        if f.shape[node.attr] == 1 and f.shape[keep] == full[keep] and tuple(rest.shape) == full:
            reduced = Node(node.op, (rest,), node.shape, node.attr)
            return Node(arg.op, (reduced, f) if f is arg.args[1] else (f, reduced), node.shape)
    return None


def _src(node, top=False, ns=NAMES):
    """(source, precedence, is a Python number) of a node."""
    op = node.op
    if node.name is not None and not top:
        return node.name.ident, PY_ATOM, False  # a step: an array (see source)
    if op == "ref":
        return _src(node.attr, False, ns)
    if op == "let":  # a gradient held as its own step: the expression it holds
        return _src(node.args[0], top, ns)
    if op in ("var", "index"):
        return node.attr.ident, PY_ATOM, False
    if op == "const":
        s = repr(float(node.attr)) if node.attr.denominator != 1 else str(node.attr.numerator)
        return s, (PY_NEG if node.attr < 0 else PY_ATOM), True
    if op == "dim":
        return dims.py(node.attr), (PY_ATOM if not isinstance(node.attr, Coef) else PY_MUL), True
    if op == "ones":
        if tuple(node.shape) == (1, 1):
            return "1", PY_ATOM, True
        return f"{ns['np']}.ones(({dims.py(node.shape[0])}, {dims.py(node.shape[1])}))", PY_ATOM, False
    if op == "scale":
        small = _small_first(node.args[0], node.attr)
        if small is not None:
            return _src(small, False, ns)
        sign, num, den = _coef_src(node.attr)
        core = node.args[0]
        den = f" / {den}" if den and "*" not in den else f" / ({den})" if den else ""
        if core.op == "ones" and core.shape == (1, 1):
            s = (num or "1") + den
            return ("-" if sign == "-" else "") + s, PY_MUL if den else (PY_NEG if sign == "-" else PY_ATOM), True
        c = _src(core, False, ns)
        s = (f"{num} * " + _spar(c, PY_MUL, strict=True) if num else _spar(c, PY_MUL)) + den
        if sign == "-":
            return "-" + _spar((s, PY_MUL), PY_NEG), PY_NEG, c[2]
        return s, PY_MUL, c[2]
    args = [_src(_broadcast(a, b, node), False, ns) for a, b in zip(node.args, node.args[::-1])] \
        if op in ("mul", "div") and len(node.args) == 2 else [_src(a, False, ns) for a in node.args]
    if op in ("add", "sub"):
        s = _spar(args[0], PY_ADD) + (" + " if op == "add" else " - ") + _spar(args[1], PY_ADD, op == "sub")
        return s, PY_ADD, args[0][2] and args[1][2]
    if op in ("mul", "div"):
        sym = " * " if op == "mul" else " / "
        return _spar(args[0], PY_MUL) + sym + _spar(args[1], PY_MUL, strict=True), PY_MUL, args[0][2] and args[1][2]
    if op == "matmul":
        a, b = (_array(x, n, ns) for x, n in zip(args, node.args))
        return _spar(a, PY_MUL) + " @ " + _spar(b, PY_MUL, strict=True), PY_MUL, False
    if op == "neg":
        return "-" + _spar(args[0], PY_NEG), PY_NEG, args[0][2]
    if op == "pow":
        p = node.attr
        exponent = str(p.numerator) if p.denominator == 1 else repr(float(p))
        return _spar(args[0], PY_ATOM) + " ** " + exponent, PY_POW, args[0][2]
    if op in OPS or op == SCATTER:  # take, pick, onehot and take's pullback (derivlib.engine.indexing)
        arrays = [_array(x, n, ns) for x, n in zip(args, node.args)]
        srcs = [_spar(x, PY_ATOM) if op == "take" else x[0] for x in arrays]  # (A @ B)[y]
        return index_source(op, srcs, node, ns), PY_ATOM, False
    a = _array(args[0], node.args[0], ns) if node.args else None
    if op == "T":
        return _spar(a, PY_ATOM) + ".T", PY_ATOM, False
    if op in ("sum", "mean"):
        hoisted = _hoisted(node)
        if hoisted is not None:
            return _src(hoisted, False, ns)
        inner = node.args[0]
        pair = None
        if node.attr in (0, 1) and inner.name is None and inner.op == "mul" \
                and all(tuple(x.shape) == tuple(inner.shape) for x in inner.args):
            pair = inner.args  # Σ over rows (columns) of A ∘ B, both full
        elif node.attr in (0, 1) and inner.name is None and inner.op == "pow" and inner.attr == 2 \
                and tuple(inner.args[0].shape) == tuple(inner.shape):
            pair = (inner.args[0],) * 2  # of A ** 2
        if pair is not None:  # one pass, no product array
            a = _array(_src(pair[0], False, ns), pair[0], ns)
            b = a if pair[1] is pair[0] else _array(_src(pair[1], False, ns), pair[1], ns)
            out, index = ("j", "[None, :]") if node.attr == 0 else ("i", "[:, None]")
            s = f'{ns["np"]}.einsum("ij,ij->{out}", {a[0]}, {b[0]}){index}'
            if op == "sum":
                return s, PY_ATOM, False
            count = inner.shape[node.attr]
            return f"{s} / {_spar((dims.py(count), PY_ATOM if not isinstance(count, Coef) else PY_MUL), PY_MUL, strict=True)}", PY_MUL, False
        axis = "" if node.attr is None else f"axis={node.attr}, "
        return _spar(a, PY_ATOM) + f".{op}({axis}keepdims=True)", PY_ATOM, False
    if op in NP_FN:
        return np_call(op, a[0], ns), PY_ATOM, False
    shown = columns.source(node, [_spar(_array(x, n, ns), PY_ATOM) for x, n in zip(args, node.args)],
                           ns["np"])
    if shown is not None:  # max, split, concat and their pullbacks' nodes
        return shown, PY_ATOM, False
    shown = conv.source(node, _spar(a, PY_ATOM) if op in ("group", "ungroup") else a[0], ns)
    if shown is not None:  # im2col, col2im, group, ungroup
        return shown, PY_ATOM, False
    raise ValueError(f"cannot write operation {op!r} as numpy")
