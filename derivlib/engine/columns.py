r"""max, abs, split and concat: kernels, shapes, pullbacks and renderings (standard library only).

The rule rows are in :mod:`derivlib.engine.rules` (the block headed "max, abs, split,
concat"); this module holds what they need, so the rows stay one line each:

* ``max(A, axis=1 | 0 | None)``: the largest entry of each row (n×1), of each column (1×q)
  or of all (1×1). Its pullback gives the whole upstream gradient to the **first** maximum,
  as numpy's ``argmax`` picks it: ``G_A = M ∘ (Ḡ broadcast)``, ``M`` the one-hot of the first
  maximum (the node ``argmax``, written ``onehot(argmax(A, axis=1))``).
* ``abs(A)``: its pullback is ``sign(A) ∘ Ḡ`` (0 at 0).
* ``i, f, o, g = split(A, 4)``: the column blocks of A. Each block is a node ``split`` whose
  ``attr`` is ``(a, b, w, m)``: columns ``a·w`` to ``b·w`` of a matrix of ``m·w`` columns
  (a block j of k is ``(j, j + 1, w, k)``; a column slice of a concat's adjoint is
  ``(start, stop, 1, total)``). Its pullback puts Ḡ into its block of zeros, and the
  adjoints of the blocks of one split add up to the block row ``[G_i G_f G_o G_g]``
  (:func:`merge`).
* ``concat(A, B, ...)``: the matrices side by side; its pullbacks are the column slices of Ḡ.

A derivation shows the blocks of one split as one forward line ``[i f o g] = split(A)``
(:func:`forward_lines`, :func:`blocks_line`). A block's width may be a number, a name or a
product of a number and names (``Coef``: a split of ``8*h`` columns into 4 has blocks of
``2h``, the second reads ``A[:, 2h:4h]``).
"""

from __future__ import annotations

import ast

from . import dims
from .dims import divide
from .nodes import Coef, ExpressionError, Node, Sym, expand, fmt_shape, mk_mul, mk_sum

__all__ = ["divide", "split_assign", "merge", "zeros", "forward_lines", "blocks_line"]


def _err(src, msg):
    raise ExpressionError(f"{src}: {msg}" if src else msg)


# -- dimensions -------------------------------------------------------------------------------


def _bound(j, w, sizes=None):
    """Column j·w: an int, or with ``sizes`` the size of a named or product w times j."""
    if isinstance(w, int):
        return j * w
    if sizes is not None:
        return j * dims.size(w, sizes)
    return None


def _bound_text(j, w):
    """Column j·w as the derivation writes it: 0, 6, h, 2h (a product: 2·(2h) is 4h)."""
    if j == 0:
        return "0"
    d = dims.times(w, j)
    return d if isinstance(d, str) else str(d) if isinstance(d, int) else repr(d)


def _bound_source(j, w):
    return "0" if j == 0 else dims.py(dims.times(w, j))


# -- shapes ------------------------------------------------------------------------------------


def max_shape(args, attr, src):
    s = args[0].shape
    return (1, 1) if attr is None else ((1, s[1]) if attr == 0 else (s[0], 1))


def split_shape(args, attr, src):
    a, b, w, m = attr
    width = w if b - a == 1 else dims.times(w, b - a)
    return (args[0].shape[0], width)


def concat_shape(args, attr, src):
    rows = args[0].shape[0]
    for a in args[1:]:
        if a.shape[0] != rows:
            _err(src, f"concat puts matrices side by side, so they need the same number of rows; "
                      f"{_what(args[0])} has {rows}, {_what(a)} has {a.shape[0]}")
    if len(args) == 1:
        return args[0].shape
    unit = _unit([a.shape[1] for a in args])
    if unit is not None:
        w, counts = unit
        return (rows, dims.times(w, sum(counts)))
    _err(src, f"concat of {', '.join(_what(a) for a in args)}: the columns add up to a dimension only when "
              f"they are all numbers (3, 4) or all multiples of one name (h, h, 2*h): declare them so")


def _unit(widths):
    """``(w, counts)`` with each width ``counts[i]·w``: w = 1 for numbers, else the one name (or product
    of names) every width is a whole multiple of (h, h, 2h: w = h, counts 1, 1, 2); None otherwise."""
    forms = [(w, ()) if isinstance(w, int) else (1, ((w, 1),)) if isinstance(w, str) else (w.num, w.dims)
             for w in widths]
    names = {f[1] for f in forms}
    if len(names) != 1:
        return None
    (common,) = names
    return dims.dim(Coef(1, common)), [int(f[0]) for f in forms]


def _what(node):
    return f"{node.src} ({fmt_shape(node.shape)})" if node.src else fmt_shape(node.shape)


# -- reading a call ----------------------------------------------------------------------------


def max_call(parser, e, src):
    """``max(A)``, ``max(A, axis=0)`` or ``max(A, axis=1)``: (arguments, axis)."""
    if len(e.args) != 1:
        _err(src, f"max takes one matrix argument and axis= (the maximum of each row: max(A, axis=1)); got "
                  f"{len(e.args)} arguments (for an element-wise maximum write relu(A - B) + B)")
    axis = None
    for kw in e.keywords:
        if kw.arg != "axis":
            _err(src, f"max takes no keyword {kw.arg!r} (only axis=0, axis=1 or axis=None)")
        if not (isinstance(kw.value, ast.Constant) and kw.value.value in (0, 1, None)
                and not isinstance(kw.value.value, bool)):
            _err(src, f"axis must be 0 (the maximum of each column, a 1×q row), 1 (of each row, an n×1 "
                      f"column) or None (of all entries); got {ast.unparse(kw.value)}")
        axis = kw.value.value
    return [parser.node(e.args[0])], axis


def concat_call(parser, e, src):
    """``concat(A, B, ...)``: the matrices side by side."""
    if e.keywords:
        _err(src, f"concat takes no keyword {e.keywords[0].arg!r}: it puts its matrices side by side "
                  f"(along the columns)")
    if not e.args:
        _err(src, "concat takes one or more matrices: concat(A, B)")
    args = [parser.node(a) for a in e.args]
    return args, tuple(a.shape[1] for a in args)  # the widths: what the rules table's example needs


def split_call(parser, e, src):
    """``split`` outside a tuple assignment: an error saying how to write it."""
    _err(src, "split gives several blocks: assign them to names, as in 'i, f, o, g = split(A, 4)'")


def split_assign(parser, stmt):
    """``i, f, o, g = split(A, 4)``: the names become the column blocks of A (nodes ``split``)."""
    names = stmt.targets[0].elts
    value = stmt.value
    src = ast.get_source_segment(parser.text, value) or ast.unparse(value)
    line = ast.unparse(stmt)
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "split"):
        raise ExpressionError(f"only split assigns several names at once ('i, f, o, g = split(A, 4)'); got "
                              f"{line!r}")
    if value.keywords or len(value.args) != 2:
        _err(src, "split takes a matrix and the number of blocks: split(A, 4)")
    k = value.args[1]
    if not (isinstance(k, ast.Constant) and isinstance(k.value, int) and not isinstance(k.value, bool)
            and k.value >= 2):
        _err(src, f"the number of blocks must be a whole number >= 2, like split(A, 4); got {ast.unparse(k)}")
    k = k.value
    if not all(isinstance(t, ast.Name) for t in names):
        raise ExpressionError(f"{line}: the blocks of split are assigned to names, as in "
                              f"'i, f, o, g = split(A, 4)'")
    if len(names) != k:
        raise ExpressionError(f"{line}: split(..., {k}) gives {k} blocks, assigned to {k} names; got "
                              f"{len(names)}")
    idents = [t.id for t in names]
    for ident in idents:
        parser.check_new_name(ident, ast.unparse(value))
    if len(set(idents)) != k:
        raise ExpressionError(f"{line}: each block needs its own name")
    a = parser.node(value.args[0])
    w = divide(a.shape[1], k)
    if w is None:
        _err(src, f"split into {k} blocks needs a column count divisible by {k}; {_what(a)} has "
                  f"{a.shape[1]} columns: declare the columns as {k}*h (or a multiple of {k})")
    for j, ident in enumerate(idents):
        node = parser.make("split", [a], (j, j + 1, w, k), src)
        node.name = Sym(ident)
        parser.assigned[ident] = node


# -- values --------------------------------------------------------------------------------------


def _first_max(values):
    best = 0
    for i, v in enumerate(values):
        if v > values[best] or (values[best] != values[best] and v == v):  # a NaN is never the max
            best = i
    return best


def max_pure(axis, sizes, a):
    if axis is None:
        return [[max(max(r) for r in a)]]
    if axis == 1:
        return [[max(r)] for r in a]
    return [[max(col) for col in zip(*a)]]


def max_numpy(np, axis, sizes, a):
    return a.max(axis=axis, keepdims=True)


def argmax_pure(axis, sizes, a):
    """The one-hot of the first maximum (of each row, column, or of all): 1 there, else 0."""
    r, c = len(a), len(a[0])
    out = [[0.0] * c for _ in range(r)]
    if axis == 1:
        for i, row in enumerate(a):
            out[i][_first_max(row)] = 1.0
    elif axis == 0:
        for j, col in enumerate(zip(*a)):
            out[_first_max(col)][j] = 1.0
    else:
        flat = [x for row in a for x in row]
        k = _first_max(flat)
        out[k // c][k % c] = 1.0
    return out


def argmax_numpy(np, axis, sizes, a):
    if axis == 1:
        return np.eye(a.shape[1])[a.argmax(axis=1)]
    if axis == 0:
        return np.eye(a.shape[0])[a.argmax(axis=0)].T
    return (np.arange(a.size) == a.argmax()).reshape(a.shape) * 1.0


def argmax_source(x, axis, np):
    """Numpy source of the one-hot of the first maximum of ``x`` (an atom), as :func:`argmax_numpy`."""
    if axis == 1:
        s = f"{np}.eye({x}.shape[1])[{x}.argmax(axis=1)]"
    elif axis == 0:
        s = f"{np}.eye({x}.shape[0])[{x}.argmax(axis=0)].T"
    else:
        s = f"(({np}.arange({x}.size) == {x}.argmax()).reshape({x}.shape) * 1.0)"
    return s


def split_pure(attr, sizes, a):
    lo, hi = _columns(attr, sizes)
    return [list(row[lo:hi]) for row in a]


def split_numpy(np, attr, sizes, a):
    lo, hi = _columns(attr, sizes)
    return a[:, lo:hi]


def _columns(attr, sizes):
    a, b, w, m = attr
    return _bound(a, w, sizes), _bound(b, w, sizes)


def concat_pure(attr, sizes, *parts):
    return [[x for p in row for x in p] for row in zip(*parts)]


def concat_numpy(np, attr, sizes, *parts):
    return np.concatenate(parts, axis=1)


def zeros_pure(shape, sizes):
    r, c = (dims.size(d, sizes) for d in shape)
    return [[0.0] * c for _ in range(r)]


def zeros_numpy(np, shape, sizes):
    return np.zeros(tuple(dims.size(d, sizes) for d in shape))


# -- differentials and pullbacks ------------------------------------------------------------------


def zeros(shape):
    """A matrix of zeros (a block of a pullback that gets nothing)."""
    return Node("zeros", (), shape, tuple(shape))


def _mask(out, a):
    return Node("argmax", (a,), a.shape, out.attr)


def max_jvp(out, args, d):
    return None if d[0] is None else mk_sum(mk_mul(_mask(out, args[0]), d[0]), out.attr)


def max_vjp(g, out, args):
    return (mk_mul(_mask(out, args[0]), expand(g, args[0].shape)),)


def split_jvp(out, args, d):
    return None if d[0] is None else Node("split", (d[0],), out.shape, out.attr)


def split_vjp(g, out, args):
    a, b, w, m = out.attr
    rows, shape = g.shape[0], args[0].shape
    if b - a == 1:  # one block of m: the block row with Ḡ in its place
        parts = [g if j == a else zeros((rows, w)) for j in range(m)]
    else:
        parts = ([zeros((rows, dims.times(w, a)))] if a else []) + [g] + (
            [zeros((rows, dims.times(w, m - b)))] if b < m else [])
    return (Node("concat", parts, shape),)


def concat_jvp(out, args, d):
    if all(x is None for x in d):
        return None
    return Node("concat", [x if x is not None else zeros(a.shape) for a, x in zip(args, d)], out.shape)


def concat_vjp(g, out, args):
    if len(args) == 1:
        return (g,)
    w, counts = _unit([a.shape[1] for a in args])
    total, start, backs = sum(counts), 0, []
    for a, c in zip(args, counts):  # columns start·w to (start + c)·w of Ḡ
        backs.append(Node("split", (g,), a.shape, (start, start + c, w, total)))
        start += c
    return tuple(backs)


def merge(terms):
    """The sum of block rows that each fill other blocks (the adjoints of the blocks of one split),
    as one block row ``[G_i G_f G_o G_g]``; None when ``terms`` are not such block rows."""
    if len(terms) < 2 or any(t.op != "concat" for t in terms):
        return None
    first = terms[0]
    if any(len(t.args) != len(first.args) or t.shape != first.shape for t in terms):
        return None
    parts = list(first.args)
    for t in terms[1:]:
        for j, p in enumerate(t.args):
            if p.op == "zeros":
                continue
            if parts[j].op != "zeros" or parts[j].shape != p.shape:
                return None
            parts[j] = p
    return Node("concat", parts, first.shape)


# -- renderings -------------------------------------------------------------------------------------


def _axis_text(axis):
    return "" if axis is None else f", axis={axis}"


def render(node, args, t, atom, par, latex):
    """(string, precedence) of a node of this module in text or LaTeX; None for another op."""
    op = node.op
    if op == "zeros":
        return "0", atom
    if op == "max":
        if latex:
            return rf"\max\left({args[0][0]}{_axis_text(node.attr)}\right)".replace("axis=", r"\mathrm{axis}="), atom
        return f"max({args[0][0]}{_axis_text(node.attr)})", atom
    if op == "argmax":
        if latex:
            inner = rf"\operatorname{{argmax}}\left({args[0][0]}{_axis_text(node.attr)}\right)"
            return (rf"\operatorname{{onehot}}\left({inner}\right)").replace("axis=", r"\mathrm{axis}="), atom
        return f"onehot(argmax({args[0][0]}{_axis_text(node.attr)}))", atom
    if op == "split":
        a, b, w, m = node.attr
        cols = f"{_bound_text(a, w)}:{_bound_text(b, w)}"
        if latex:
            return par(args[0]) + rf"_{{[:,\, {cols}]}}", atom
        return par(args[0]) + f"[:, {cols}]", atom
    if op == "concat":
        if latex:
            return r"\begin{bmatrix} " + " & ".join(s for s, _ in args) + r" \end{bmatrix}", atom
        return "[" + " ".join(s for s, _ in args) + "]", atom
    return None


def source(node, args, np):
    """Numpy source of a node of this module, given its arguments' sources (arrays); None for another op."""
    op = node.op
    if op == "zeros":
        r, c = node.shape
        return f"{np}.zeros(({dims.py(r)}, {dims.py(c)}))"
    if op == "max":
        axis = "" if node.attr is None else f"axis={node.attr}, "
        return f"{args[0]}.max({axis}keepdims=True)"
    if op == "argmax":
        return argmax_source(args[0], node.attr, np)
    if op == "split":
        a, b, w, m = node.attr
        return f"{args[0]}[:, {_bound_source(a, w)}:{_bound_source(b, w)}]"
    if op == "concat":
        return f"{np}.concatenate([{', '.join(args)}], axis=1)"
    return None


# -- the forward split as one line --------------------------------------------------------------------


def _same_split(a, b):
    return a.op == b.op == "split" and a.args[0] is b.args[0] and a.attr[2:] == b.attr[2:]


def forward_lines(steps):
    """The forward steps as lines: a step, or a list of the steps of the blocks of one split (side by
    side in the forward order, see ``naming.topo``), shown as one line ``[i f o g] = split(A)``."""
    blocks = {}  # (the split's argument, block width, number of blocks) -> the block indices shown
    for s in steps:
        if s.node.op == "split":
            blocks.setdefault((id(s.node.args[0]),) + s.node.attr[2:], []).append(s.node.attr[0])
    # two splits of one matrix into as many blocks (an index twice): a line per block, as written
    twice = {key for key, js in blocks.items() if len(set(js)) < len(js)}
    out = []
    for s in steps:
        prev = out[-1] if out else None
        if s.node.op != "split" or (id(s.node.args[0]),) + s.node.attr[2:] in twice:
            out.append(s)
        elif isinstance(prev, list) and _same_split(prev[0].node, s.node):
            prev.append(s)
        else:
            out.append([s])
    return out


def blocks_line(group, text, latex):
    """(symbol, expression) in text and LaTeX of the blocks of one split: ``[i f o g]``, ``split(A)``;
    a block no step uses is ``_``. ``text`` and ``latex`` render a node."""
    k = group[0].node.attr[3]
    by_block = {s.node.attr[0]: s for s in group}
    names_t = " ".join(by_block[j].symbol if j in by_block else "_" for j in range(k))
    names_l = " & ".join(by_block[j].symbol_latex if j in by_block else r"\_" for j in range(k))
    a = group[0].node.args[0]
    shown = Node("ref", (), a.shape, a) if a.name is not None else a
    return (f"[{names_t}]", f"split({text(shown)})", rf"\begin{{bmatrix}} {names_l} \end{{bmatrix}}",
            rf"\operatorname{{split}}\left({latex(shown)}\right)")
