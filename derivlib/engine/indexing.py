r"""Index vectors and the operations that read them: ``take``, ``pick``, ``onehot`` (standard library only).

An index vector ``y``, declared ``indices={"y": ("n", "k")}``, holds ``n`` integers in
``range(k)`` (class labels, word ids). It is a leaf of its own kind (``op == "index"``,
shape ``n×1``) whose name carries ``k`` (:class:`IndexSym`); no gradient is taken with
respect to it, and the only operations that read it are

* ``take(E, y)``: ``E[y]``, the rows of ``E`` (k×d) that ``y`` names, n×d; its pullback
  ``G_E = O_yᵀ G`` adds the rows of ``G`` that used the same row of ``E``, executed as a
  scatter-add (:data:`SCATTER`, ``np.add.at``), never as a dense product;
* ``pick(S, y)``: ``S[arange(n), y][:, None]``, each row's entry at its label, n×1; its
  pullback is ``G_S = O_y ∘ (G 1ᵀ)``;
* ``onehot(y)``: ``eye(k)[y]``, n×k, written ``O_y``; no gradient.

This module holds their kernels (pure Python and numpy), the reading of their calls, the
check of an index vector's values and the numpy source they write; their rows are at the
end of :data:`derivlib.engine.rules.RULES`.
"""

from __future__ import annotations

import ast

from .nodes import ExpressionError, Node, Sym, fmt_shape, split, mk_scale

__all__ = ["IndexSym", "OPS", "SCATTER", "index_node", "check_index_values", "refuse_use",
           "classes_of", "np_source", "helper_lines"]

#: The operations an index vector may be an argument of.
OPS = ("take", "pick", "onehot")
#: The node kind of take's pullback: O_yᵀG as a scatter-add.
SCATTER = "scatter_add"


class IndexSym(Sym):
    """The name of an index vector, with ``classes``: the dimension of its range, ``k``."""

    __slots__ = ("classes",)

    def __init__(self, ident, classes):
        super().__init__(ident)
        self.classes = classes


def index_node(name, decl, src=None):
    """The leaf of index vector ``name`` declared ``(n, k)``: n×1, its name carrying k."""
    n, k = decl
    return Node("index", (), (n, 1), IndexSym(name, k), src)


def classes_of(node):
    """``k`` of an index leaf."""
    return node.attr.classes


def refuse_use(op, args, src):
    """An ExpressionError when an index vector is used other than as take(E, y), pick(S, y) or onehot(y)."""
    for i, a in enumerate(args):
        if a.op != "index":
            continue
        if op in OPS and i == len(args) - 1:
            continue
        y = a.attr.ident
        raise ExpressionError(f"{src}: {y} is an index vector ({a.shape[0]} integers in range({classes_of(a)})), "
                              f"not a matrix: use it only in "
                              f"take(E, {y}) (the rows of E it names), pick(S, {y}) (each row's entry at its "
                              f"label) or onehot({y}) (an {a.shape[0]}×{classes_of(a)} matrix of 0 and 1)")


# -- reading a call ---------------------------------------------------------------------------


def _read(fn, want):
    """The ``call`` of a rule row: ``fn(A, y)`` (want 2) or ``fn(y)`` (want 1), no keywords."""
    usage = f"{fn}(y)" if want == 1 else f"{fn}({'E' if fn == 'take' else 'S'}, y)"

    def call(parser, e, src):
        if e.keywords:
            raise ExpressionError(f"{src}: {fn} takes no keyword {e.keywords[0].arg!r}; write {usage}")
        if len(e.args) != want or any(isinstance(a, ast.Starred) for a in e.args):
            raise ExpressionError(f"{src}: {fn} takes {'one argument' if want == 1 else 'two arguments'}, "
                                  f"{usage} with y an index vector (declared in indices); got {len(e.args)}")
        args = [parser.node(a) for a in e.args]
        y = args[-1]
        if y.op != "index":
            raise ExpressionError(f"{src}: the {'argument' if want == 1 else 'second argument'} of {fn} must be "
                                  f"an index vector declared in indices (e.g. indices={{'y': ('n', 'k')}}); got "
                                  f"{ast.unparse(e.args[-1])} ({fmt_shape(y.shape)})")
        if want == 2 and args[0].op == "index":
            raise ExpressionError(f"{src}: the first argument of {fn} must be a matrix, not the index vector "
                                  f"{args[0].attr.ident}")
        return args, (classes_of(y) if fn == "onehot" else None)
    return call


CALL = {"take": _read("take", 2), "pick": _read("pick", 2), "onehot": _read("onehot", 1)}


# -- shapes -----------------------------------------------------------------------------------


def _what(node):
    return f"{node.src} ({fmt_shape(node.shape)})" if node.src else fmt_shape(node.shape)


def take_shape(args, attr, src):
    e, y = args
    if e.shape[0] != classes_of(y):
        raise ExpressionError(f"{src}: take(E, {y.attr.ident}) reads row {y.attr.ident}[i] of E, so E must have "
                              f"{classes_of(y)} rows (the range of {y.attr.ident}); got E = {_what(e)}")
    return (y.shape[0], e.shape[1])


def pick_shape(args, attr, src):
    s, y = args
    if s.shape != (y.shape[0], classes_of(y)):
        raise ExpressionError(f"{src}: pick(S, {y.attr.ident}) reads S[i, {y.attr.ident}[i]], so S must be "
                              f"{fmt_shape((y.shape[0], classes_of(y)))} (a row per entry of {y.attr.ident}, a "
                              f"column per class); got S = {_what(s)}")
    return (y.shape[0], 1)


def onehot_shape(args, attr, src):
    (y,) = args
    return (y.shape[0], classes_of(y))


# -- values -----------------------------------------------------------------------------------


def _size(d, sizes):
    return d if isinstance(d, int) else sizes[d]


def pure_take(at, sz, e, y):
    return [list(e[i]) for i in y]


def pure_pick(at, sz, s, y):
    return [[row[i]] for row, i in zip(s, y)]


def pure_onehot(at, sz, y):
    k = at
    return [[1.0 if j == i else 0.0 for j in range(k)] for i in y]


def pure_scatter(at, sz, y, g):
    k = _size(at, sz)
    out = [[0.0] * len(g[0]) for _ in range(k)]
    for i, row in zip(y, g):
        out[i] = [a + b for a, b in zip(out[i], row)]
    return out


def np_take(np, at, sz, e, y):
    return e[y]


def np_pick(np, at, sz, s, y):
    return np.take_along_axis(s, y[:, None], axis=1)


def np_onehot(np, at, sz, y):
    return np.eye(at)[y]


def np_scatter(np, at, sz, y, g):
    out = np.zeros((_size(at, sz), g.shape[1]))
    np.add.at(out, y, g)
    return out


def onehot_pure(at, sz, y):
    return pure_onehot(_size(at, sz), sz, y)


def onehot_np(np, at, sz, y):
    return np_onehot(np, _size(at, sz), sz, y)


# -- differentials and pullbacks --------------------------------------------------------------


def onehot_of(y):
    """The node O_y = onehot(y), n×k."""
    return Node("onehot", (y,), (y.shape[0], classes_of(y)), classes_of(y))


def scatter(y, g):
    """O_yᵀ g as a scatter-add node, k×d (a number in front of g stays in front)."""
    c, core = split(g)
    return mk_scale(c, Node(SCATTER, (y, core), (classes_of(y), g.shape[1]), classes_of(y)))


def take_jvp(out, args, d):
    return None if d[0] is None else Node("take", (d[0], args[1]), out.shape)


def take_vjp(g, out, args):
    return (scatter(args[1], g), None)


def pick_jvp(out, args, d):
    return None if d[0] is None else Node("pick", (d[0], args[1]), out.shape)


def pick_vjp(g, out, args):
    from .nodes import expand, mk_mul

    return (mk_mul(onehot_of(args[1]), expand(g, args[0].shape)), None)


# -- values given by a caller -----------------------------------------------------------------


def check_index_values(name, value, decl, sizes, np=None):
    """An index vector's value checked: whole numbers, one per row, each in range(k).

    ``np``: numpy, for an array (its dtype must be an integer type); None for a list of ints.
    Returns ``(value, n)``: the value (an int array, or a list of ints) and its length.
    ``sizes`` gives k when it is a name bound by another variable (else the range's upper
    end is not checked here: no value gives it).

    Raises
    ------
    TypeError
        Not integers (floats, booleans), or not a sequence.
    ValueError
        Not one-dimensional, of the wrong length, or an entry outside range(k), naming the
        index vector and the entry.
    """
    n_dim, k_dim = decl
    if np is not None:
        a = np.asarray(value)
        if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name} is an index vector: it must be an array of integers (e.g. np.array([0, 2, 1])) "
                            f"of shape ({n_dim},); got dtype {a.dtype}")
        if a.ndim != 1:
            raise ValueError(f"{name} is an index vector: it must be one-dimensional, shape ({n_dim},); got shape "
                             f"{a.shape}")
        entries = a.tolist()
        value = a.astype(np.intp)
    else:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(f"{name} is an index vector: it must be a list of whole numbers; got "
                            f"{type(value).__name__}")
        entries = list(value)
        for i, x in enumerate(entries):
            if isinstance(x, bool) or not isinstance(x, int):
                raise TypeError(f"{name} is an index vector: each entry must be a whole number (an int); entry "
                                f"{i} is {x!r:.40}")
        value = entries
    n = len(entries)
    if n == 0:
        raise ValueError(f"{name} is an index vector of {n_dim} entries: it is empty")
    if isinstance(n_dim, int) and n != n_dim:
        raise ValueError(f"{name} must have {n_dim} entries; got {n}")
    k = k_dim if isinstance(k_dim, int) else sizes.get(k_dim)
    for i, x in enumerate(entries):
        if x < 0 or (k is not None and x >= k):
            where = f"range({k})" if k is not None else "0, 1, ..."
            raise ValueError(f"{name}[{i}] is {x}: each entry of the index vector {name} must be in {where} "
                             f"({k_dim} = {k})" if k is not None else
                             f"{name}[{i}] is {x}: each entry of the index vector {name} must be in {where}")
    return value, n


# -- numpy source -----------------------------------------------------------------------------


def np_source(op, args, node, names):
    """The numpy source of take, pick, onehot or the scatter-add, from its arguments' sources
    (``names``: numpy's name and the helper's, as the generated code uses them)."""
    np = names["np"]
    if op == "take":
        return f"{args[0]}[{args[1]}]"
    if op == "pick":
        return f"{np}.take_along_axis({args[0]}, {args[1]}[:, None], axis=1)"
    if op == "onehot":
        return f"{np}.eye({node.attr})[{args[0]}]"
    if op == SCATTER:
        return f"{names['_' + SCATTER]}({args[0]}, {args[1]}, {node.attr})"
    raise ValueError(f"cannot write operation {op!r} as numpy")


def helper_lines(names):
    """The definition of ``_scatter_add`` that generated code calls: O_yᵀG with ``np.add.at``."""
    np = names["np"]
    return [f"def {names['_' + SCATTER]}(y, G, k):",
            '    """O_yᵀ G: row i of G added to row y[i] of a k-row zero matrix (np.add.at adds repeats)."""',
            f"    out = {np}.zeros((k, G.shape[1]))",
            f"    {np}.add.at(out, y, G)",
            "    return out"]
