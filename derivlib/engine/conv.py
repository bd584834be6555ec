"""Convolution windows as rows: ``im2col``, its pullback ``col2im``, and ``group`` / ``ungroup``.

Pure Python (standard library only); numpy is passed in. The rows of ``derivlib.engine.rules``
read their shapes, values, differentials, renderings and numpy source from here.

* ``im2col(X, image=(H, W, C), kernel=(kh, kw), stride=1, pad=0)``: each row of X (n×HWC)
  is a channels-last image, zero-padded by ``pad``; row ``(s·H' + i)·W' + j`` of the result
  is the window at output position (i, j) of sample s, its column ``(c·kh + di)·kw + dj``
  is ``Xpad[s, i·stride + di, j·stride + dj, c]`` (torch ``unfold``'s order): (nH'W')×(Ckh·kw).
* ``col2im(G, ...)``: the adjoint, each window's gradient added back where it came from.
* ``group(Y, m)``: (n·m)×c → n×(m·c), every m consecutive rows one row; ``ungroup(Z, m)`` back.

The numpy of im2col and col2im is one source text each (:data:`SOURCE`), run by numpy
evaluation and written into the generated ``backward`` code, so both run the same lines.
"""

from __future__ import annotations

import ast

from . import dims
from .nodes import ExpressionError, Node, fmt_shape, var, Sym

__all__ = ["SOURCE", "EXAMPLES"]

OPS = ("im2col", "group", "ungroup")

# -- the numpy of the windows: one text, evaluated and generated -----------------------------

#: Helper name -> (parameters, body in ``{np}``): the functions the generated code defines.
SOURCE = {
    "im2col": ("x, H, W, C, kh, kw, stride, pad", """
x = {np}.pad(x.reshape(-1, H, W, C), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
windows = {np}.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
return windows.reshape(-1, C * kh * kw)  # rows (s, i, j), columns (c, di, dj)
"""),
    "col2im": ("g, H, W, C, kh, kw, stride, pad", """
Ho, Wo = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
g = g.reshape(-1, Ho, Wo, C, kh, kw)
x = {np}.zeros((g.shape[0], H + 2 * pad, W + 2 * pad, C))
for di in range(kh):  # each kernel offset adds every window's entry back: overlaps add
    for dj in range(kw):
        x[:, di:di + stride * Ho:stride, dj:dj + stride * Wo:stride] += g[..., di, dj]
return x[:, pad:pad + H, pad:pad + W].reshape(g.shape[0], H * W * C)
"""),
}


def helper_lines(op, names):
    """Lines defining the numpy helper of ``op`` (``im2col`` or ``col2im``) under ``names``."""
    params, body = SOURCE[op]
    body = body.strip().format(np=names["np"])
    return [f"def {names['_' + op]}({params}):"] + ["    " + line for line in body.splitlines()]


_COMPILED = {}  # id(numpy) -> (numpy, name -> function)


def _np_function(np, op):
    entry = _COMPILED.get(id(np))
    if entry is None or entry[0] is not np:
        names = {"np": "np", "_im2col": "_im2col", "_col2im": "_col2im"}
        lines = helper_lines("im2col", names) + helper_lines("col2im", names)
        namespace = {"np": np}
        exec(compile("\n".join(lines) + "\n", "<derivlib.engine.conv: numpy helpers>", "exec"), namespace)
        entry = _COMPILED[id(np)] = (np, {o: namespace["_" + o] for o in SOURCE})
    return entry[1][op]


# -- geometry --------------------------------------------------------------------------------


def positions(attr):
    """(H', W'): the output positions of im2col with ``attr = (H, W, C, kh, kw, stride, pad)``."""
    H, W, C, kh, kw, s, p = attr
    return (H + 2 * p - kh) // s + 1, (W + 2 * p - kw) // s + 1


def _err(src, msg):
    raise ExpressionError(f"{src}: {msg}" if src else msg)


def _what(node):
    return f"{node.src} ({fmt_shape(node.shape)})" if node.src else fmt_shape(node.shape)


# -- reading a call ------------------------------------------------------------------------------


def _number(e, what, src, low=1):
    if isinstance(e, ast.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool) and e.value >= low:
        return e.value
    _err(src, f"{what} must be a whole number >= {low}; got {ast.unparse(e)}")


def _numbers(e, k, what, example, src):
    if not (isinstance(e, ast.Tuple) and len(e.elts) == k):
        _err(src, f"{what} must be a tuple of {k} whole numbers, e.g. {what}={example}; got {ast.unparse(e)}")
    return tuple(_number(x, what, src) for x in e.elts)


def im2col_call(parser, e, src):
    """``im2col(X, image=(H, W, C), kernel=(kh, kw), stride=1, pad=0)``."""
    usage = "write im2col(X, image=(H, W, C), kernel=(kh, kw), stride=1, pad=0)"
    if len(e.args) != 1:
        _err(src, f"im2col takes one matrix and keywords: {usage}")
    kw = {k.arg: k.value for k in e.keywords}
    unknown = [k for k in kw if k not in ("image", "kernel", "stride", "pad")]
    if unknown or "image" not in kw or "kernel" not in kw:
        _err(src, f"im2col needs image= and kernel= (and optionally stride=, pad=)"
                  + (f", not {unknown[0]}=" if unknown else "") + f": {usage}")
    image = _numbers(kw["image"], 3, "image", "(6, 6, 3)", src)
    kernel = _numbers(kw["kernel"], 2, "kernel", "(3, 3)", src)
    stride = _number(kw["stride"], "stride", src) if "stride" in kw else 1
    pad = _number(kw["pad"], "pad", src, low=0) if "pad" in kw else 0
    return [parser.node(e.args[0])], (*image, *kernel, stride, pad)


def group_call(parser, e, src):
    """``group(Y, m)`` and ``ungroup(Z, m)``."""
    fn = e.func.id
    if len(e.args) != 2 or e.keywords:
        _err(src, f"{fn} takes a matrix and a whole number: write {fn}(A, m), e.g. {fn}(A, 36)")
    m = _number(e.args[1], f"the m of {fn}", src)
    return [parser.node(e.args[0])], m


# -- shapes ------------------------------------------------------------------------------------


def im2col_shape(args, attr, src):
    (x,) = args
    H, W, C, kh, kw, s, p = attr
    if x.shape[1] != H * W * C:
        _err(src, f"im2col of {_what(x)}: image=({H}, {W}, {C}) needs {H * W * C} = H·W·C columns, one image "
                  f"per row; give the image size of X's rows")
    for size, k, axis in ((H, kh, "height"), (W, kw, "width")):
        if k > size + 2 * p:
            _err(src, f"im2col: the kernel's {axis} {k} is larger than the padded image's {size + 2 * p}")
        if (size + 2 * p - k) % s:
            fits = [t for t in range(1, s) if (size + 2 * p - k) % t == 0]
            pads = [q for q in range(p + 1, p + s + 1) if (size + 2 * q - k) % s == 0]
            _err(src, f"im2col: stride {s} does not divide the {axis} {size} + 2·{p} − {k} = {size + 2 * p - k} "
                      f"that the kernel moves over; use stride={fits[-1]}"
                      + (f" or pad={pads[0]}" if pads else ""))
    Ho, Wo = positions(attr)
    return dims.times(x.shape[0], Ho * Wo), C * kh * kw


def col2im_shape(args, attr, src):
    Ho, Wo = positions(attr)
    H, W, C = attr[:3]
    return dims.divide(args[0].shape[0], Ho * Wo), H * W * C


def group_shape(args, attr, src):
    a, m = args[0], attr
    rows = dims.divide(a.shape[0], m)
    if rows is None:
        _err(src, f"group of {_what(a)}: m = {m} must divide the rows {a.shape[0]} (every {m} consecutive rows "
                  f"become one row)")
    return rows, dims.times(a.shape[1], m)


def ungroup_shape(args, attr, src):
    a, m = args[0], attr
    cols = dims.divide(a.shape[1], m)
    if cols is None:
        _err(src, f"ungroup of {_what(a)}: m = {m} must divide the columns {a.shape[1]} (each row becomes {m} "
                  f"rows)")
    return dims.times(a.shape[0], m), cols


SHAPES = {"im2col": im2col_shape, "col2im": col2im_shape, "group": group_shape, "ungroup": ungroup_shape}


def make(op, a, attr):
    """The node ``op(a)``: ungroup(group(A)) and group(ungroup(A)) with the same m are A."""
    if op in ("group", "ungroup") and a.op == ("ungroup" if op == "group" else "group") and a.attr == attr \
            and a.name is None:
        return a.args[0]
    return Node(op, (a,), SHAPES[op]([a], attr, None), attr)


# -- values: lists of lists ---------------------------------------------------------------------


def group_pure(m, sz, a):
    return [[x for r in a[i:i + m] for x in r] for i in range(0, len(a), m)]


def ungroup_pure(m, sz, a):
    c = len(a[0]) // m
    return [list(r[k * c:(k + 1) * c]) for r in a for k in range(m)]


def _window_index(attr):
    """For each (window position, column): the (row, column) of the padded image, or None in the padding."""
    H, W, C, kh, kw, s, p = attr
    Ho, Wo = positions(attr)
    out = []
    for i in range(Ho):
        for j in range(Wo):
            row = []
            for c in range(C):
                for di in range(kh):
                    for dj in range(kw):
                        y, x = i * s + di - p, j * s + dj - p
                        row.append((y * W + x) * C + c if 0 <= y < H and 0 <= x < W else None)
            out.append(row)
    return out


def im2col_pure(attr, sz, a):
    index = _window_index(attr)
    return [[0.0 if k is None else r[k] for k in row] for r in a for row in index]


def col2im_pure(attr, sz, g):
    index = _window_index(attr)
    H, W, C = attr[:3]
    out = []
    for s in range(len(g) // len(index)):
        x = [0.0] * (H * W * C)
        for row, grow in zip(index, g[s * len(index):(s + 1) * len(index)]):
            for k, v in zip(row, grow):
                if k is not None:
                    x[k] += v
        out.append(x)
    return out


def im2col_numpy(np, attr, sz, a):
    return _np_function(np, "im2col")(a, *attr)


def col2im_numpy(np, attr, sz, g):
    return _np_function(np, "col2im")(g, *attr)


def group_numpy(np, m, sz, a):
    return a.reshape(a.shape[0] // m, -1)


def ungroup_numpy(np, m, sz, a):
    return a.reshape(a.shape[0] * m, -1)


#: Forward of the node that appears only in derivations, (pure, numpy), for ``rules.HELPERS``.
HELPERS = {"col2im": (col2im_pure, col2im_numpy)}


# -- differentials and pullbacks: each operation is linear ------------------------------------------


def linear_jvp(out, args, d):
    return None if d[0] is None else make(out.op, d[0], out.attr)


_ADJOINT = {"im2col": "col2im", "group": "ungroup", "ungroup": "group"}


def linear_vjp(g, out, args):
    return (make(_ADJOINT[out.op], g, out.attr),)


# -- how they are written --------------------------------------------------------------------------


def render(node, args, latex):
    """(text, precedence-is-atom) of a node of this module, or None for another node."""
    if node.op not in (*OPS, "col2im"):
        return None
    return (rf"\operatorname{{{node.op}}}\left({args[0]}\right)" if latex else f"{node.op}({args[0]})")


def source(node, arg, names):
    """Numpy source of a node of this module with its argument's source ``arg``, or None."""
    op = node.op
    if op in ("group", "ungroup"):
        return f"{arg}.reshape(-1, {dims.py(node.shape[1])})"
    if op in SOURCE:
        return f"{names['_' + op]}({arg}, {', '.join(map(str, node.attr))})"
    return None


# -- the examples the rule checks draw (test_rule_adjoints) ------------------------------------------

#: op -> the attr of the example the rule checks draw: a group of 3 rows, an image 4×3×2 under a
#: 2×2 kernel with pad 1.
EXAMPLES = {"group": 3, "ungroup": 3, "im2col": (4, 3, 2, 2, 2, 1, 1)}


def example(op, attr):
    """(argument variables, attr) of the example of ``op`` with ``attr`` (default :data:`EXAMPLES`'):
    A of (m·n)×q for group, n×(m·q) for ungroup, n×(H·W·C) for im2col."""
    attr = EXAMPLES[op] if attr is None else attr
    shape = {"group": lambda: (dims.times("n", attr), "q"), "ungroup": lambda: ("n", dims.times("q", attr)),
             "im2col": lambda: ("n", attr[0] * attr[1] * attr[2])}[op]()
    return [var(Sym("A"), shape)], attr
