"""Random well-shaped expressions over the whole grammar of :mod:`derivlib.engine`, one per seed.

``example(seed)`` draws, from ``random.Random(seed)`` alone, one :class:`Example`: an
expression string, the shapes of its variables, the dimension sizes, the variables to
differentiate (``wrt``) and a point (the variables' values, as lists of rows). The same
seed always gives the same example, so a failure is replayed from its seed.

The grammar covered (every construct of ``derivlib.engine.parse``):

* ``A @ B`` over a shared inner dimension (a named one or 1);
* ``A + B``, ``A - B``, ``A * B``, ``A / B`` with each operand full, a 1×q row, an n×1
  column or a 1×1 number (also a row against a column), the divisor kept positive;
* ``-A``; ``A ** k`` for k in 2, 3, -1, -2, 0.5, 1.5, -0.5 (a negative or fractional
  power of something positive); ``A.T``, also of a number (``(2).T``);
* ``sigmoid tanh relu exp log sqrt softplus abs softmax log_softmax`` (``log``, ``sqrt`` of
  something positive, ``exp`` of something bounded), ``sum``, ``mean`` and ``max`` with ``axis``
  None, 0 and 1 (the argument of ``max`` is a sum with a fresh variable, so that no two
  entries tie: on a tie torch's choice of the maximum is not documented);
* column blocks: ``concat(A, B, ...)`` of matrices with numbered columns, and
  ``a, b, c = split(E, 3)`` as a statement whose blocks are named intermediates (used once,
  reused, or not used at all); a numbered dimension (2, 3, 4) appears where they need one;
* numbers (integers and fractions, negative too: ``(-2) ** 2``), functions of numbers
  (``exp(2)``, ``sqrt(n)``, ``log_softmax(3)``), dimension names used as numbers (``/ n``);
* index vectors (``indices``: n integers in range(k), drawn with repeats) read by
  ``take(E, y)``, ``pick(S, y)`` and ``onehot(y)``;
* convolution windows, where an n×q block with q a whole number is asked for (and now and
  then as the argument of the final sum, q in 4, 6, 8, 9, 12): a convolution
  ``group(im2col(A, image=(H, W, C), kernel=(kh, kw), stride=s, pad=p) @ K + b, H'W')``
  (q = H'W'c', K of Ckh·kw × c', b of 1×c', each generated), a max-pool
  ``group(max(ungroup(im2col(A + V, ...), C), axis=1), H'W'C)`` (V a fresh variable, so no
  two entries of a window tie) and a round trip ``group(f(ungroup(B, m)), m)`` with f
  element-wise, a row softmax, a product with a matrix or with a row; images of at most
  4×4, kernels of at most 3×3, strides 1 to 3 that divide exactly, pad 0 or 1;
* named intermediates (``H1 = ...; ...``), each used once or reused; variables reused;
* variable, dimension and intermediate names drawn from a pool that includes the names
  the engine and its numpy code make up (``Delta``, ``delta1``, ``X_path1``, ``G_X``,
  ``Z``, ``S``, ``L``, ``np``, ``_sigmoid``, ...), so that a collision shows.

Values stay in the domain and magnitudes stay sane: each subexpression carries an upper
bound of its absolute value and, when positive, a lower bound; ``log``, ``sqrt``, ``/``
and negative or fractional powers get an argument whose lower bound is at least
``LOW`` (a variable drawn uniform in [0.5, 2], ``exp(tanh(A))``, ``A * A + 1``, a
sigmoid of something bounded, ...), and an argument of ``exp``, ``*``, ``@`` or ``**``
is bounded by ``BOUND`` (a ``tanh`` around it otherwise).

Examples
--------
>>> from verification.exprgen import example
>>> e = example(0)
>>> e == example(0) and e.expr != example(1).expr
True
>>> sorted(e.wrt) == sorted(set(e.wrt)) and set(e.wrt) <= set(e.shapes)
True
"""

from __future__ import annotations

import ast
import math
import random
from typing import NamedTuple

__all__ = ["Example", "example", "DIM_NAMES", "VAR_NAMES", "LOW", "BOUND"]

#: Dimension names: the usual ones and some the engine or its numpy code also uses.
DIM_NAMES = ("n", "p", "q", "k", "m", "np", "S", "G_A", "delta2")
#: Variable and intermediate names: plain ones and the engine's own step and helper names.
VAR_NAMES = ("A", "B", "C", "W", "X", "Y", "b", "c", "H", "Delta", "delta1", "delta2", "X_path1",
             "A_path1", "G_A", "G_X", "G_S", "G_Z", "np", "Z", "S", "L", "E", "T", "P", "R", "Q", "ell",
             "Lambda", "Yhat", "_sigmoid", "_softmax", "_log_softmax", "_", "backward", "Z1", "S1", "L1",
             "_scatter_add", "O_y")
#: The smallest lower bound of an argument of log, sqrt, / or a negative or fractional power.
LOW = 0.02
#: The largest bound on the magnitude of an argument of exp, *, @ and **.
BOUND = 4.0
_POWERS = (2, 3, -1, -2, 0.5, 1.5, -0.5)
_NUMBERS = (2, 3, 0.5, 1.5, 0.25, -1, -2, -0.5, 1)
_ELEMENTWISE = ("sigmoid", "tanh", "relu", "exp", "log", "sqrt", "softplus", "abs")
#: Numbered dimensions: the columns of a concat's parts and of a split's blocks.
_WIDTHS = (1, 2, 3)


#: The columns of a sum's argument made of convolution windows (see ``_Gen.example``).
_WINDOW_WIDTHS = (4, 6, 8, 9, 12)
#: (stride, pad) of the convolution windows drawn.
_STRIDES_PADS = ((1, 0), (1, 1), (2, 0), (2, 1), (3, 0))


def _divisors(q):
    return [d for d in range(1, q + 1) if q % d == 0]


def _sides():
    """(H', stride, pad) -> [(H, kh), ...]: an image side H <= 4 and a kernel side kh <= 3 that give
    H' output positions, the stride dividing H + 2·pad − kh exactly."""
    out = {}
    for s, p in _STRIDES_PADS:
        for side in range(1, 5):
            for k in range(1, min(3, side + 2 * p) + 1):
                if (side + 2 * p - k) % s == 0:
                    out.setdefault(((side + 2 * p - k) // s + 1, s, p), []).append((side, k))
    return out


_SIDES = _sides()


class Example(NamedTuple):
    """One random expression, its shapes, sizes, ``wrt`` and a point in its domain."""

    seed: int
    expr: str
    shapes: dict  # variable -> (rows, columns), each a dimension name or a whole number
    sizes: dict  # dimension name -> size
    wrt: list
    values: dict  # variable -> list of rows of floats; index vector -> list of ints
    indices: dict = {}  # index vector -> (n, k): n integers in range(k)

    def __str__(self):
        return (f"seed {self.seed}: {self.expr!r} shapes={self.shapes} sizes={self.sizes} wrt={self.wrt}"
                + (f" indices={self.indices}" if self.indices else ""))

    @property
    def classes(self):
        """Index vector -> k, its range's size (what the torch oracle's onehot needs)."""
        return {y: self.sizes[k] for y, (n, k) in self.indices.items()}


class _E(NamedTuple):
    """A generated subexpression: its AST, shape, and bounds (``lo`` > 0 when positive, else None)."""

    node: ast.expr
    shape: tuple
    mag: float
    lo: float | None = None


def example(seed):
    """The example of ``seed`` (see the module docstring)."""
    return _Gen(random.Random(seed)).example(seed)


def _names(expr):
    return {n.id for n in ast.walk(ast.parse(expr)) if isinstance(n, ast.Name)}


def _folded(node):
    """A name, or a number that the parser folds (-2, --0.5): not an operation to name."""
    while isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, (ast.Name, ast.Constant))


def _call(fn, e, axis=False):
    kw = [] if axis is False else [ast.keyword("axis", ast.Constant(axis))]
    return ast.Call(ast.Name(fn), [e.node], kw)


def _bin(a, op, b):
    return ast.BinOp(a.node, op, b.node)


def _num(v):
    node = ast.Constant(abs(v))
    return ast.UnaryOp(ast.USub(), node) if v < 0 else node


class _Gen:
    def __init__(self, rng):
        self.r = rng
        dims = rng.sample(DIM_NAMES, 3)
        sizes = rng.sample(range(2, 7), 3)  # distinct: a transpose cannot hide behind a square
        self.sizes = dict(zip(dims, sizes))
        self.vars = {}  # name -> (shape, positive)
        self.named = []  # (name, _E) of the assigned intermediates
        self.statements = []
        self.indices = {}  # name -> (n, k)

    def size(self, d):
        """The size of dimension ``d``: a name's size, or the number itself."""
        return d if isinstance(d, int) else self.sizes[d]

    def dims(self):
        """The dimensions an inner shape may take: the names, 1, and now and then a number."""
        return sorted(self.sizes) + [1] + ([self.r.choice(_WIDTHS[1:])] if self.r.random() < 0.5 else [])

    # -- names -----------------------------------------------------------------------------
    def _fresh_name(self):
        used = set(self.vars) | {n for n, _ in self.named} | set(self.sizes) | set(self.indices)
        free = [v for v in VAR_NAMES if v not in used]
        return self.r.choice(free) if free else f"V{len(used)}"

    def variable(self, shape, positive=False, fresh=False):
        same = [v for v, (s, pos) in self.vars.items() if s == shape and (pos or not positive)]
        if same and not fresh and self.r.random() < 0.5:
            name = self.r.choice(same)
        else:
            name = self._fresh_name()
            self.vars[name] = (shape, positive or self.r.random() < 0.3)
        pos = self.vars[name][1]
        return _E(ast.Name(name), shape, 2.0 if pos else 4.0, 0.5 if pos else None)

    # -- the walk ------------------------------------------------------------------------------
    def leaf(self, shape):
        r = self.r
        named = [e for _, e in self.named if e.shape == shape]
        if named and r.random() < 0.3:
            return r.choice(named)
        if shape == (1, 1) and r.random() < 0.6:
            if r.random() < 0.4:
                d = r.choice(sorted(self.sizes))
                self.number_dims.add(d)
                return _E(ast.Name(d), (1, 1), self.sizes[d], self.sizes[d])
            v = r.choice(_NUMBERS)
            return _E(_num(v), (1, 1), abs(v), v if v > 0 else None)
        return self.variable(shape)

    def gen(self, shape, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.2:
            return self.leaf(shape)
        kinds = ["matmul", "add", "sub", "mul", "div", "neg", "pow", "T", "elementwise", "elementwise", "row"]
        if shape[0] == 1 or shape[1] == 1:
            kinds += ["reduce", "reduce", "max"] + (["max"] if shape == (1, 1) else [])
        if shape[0] != 1:  # a row per entry of an index vector
            kinds += ["index"]
        if isinstance(shape[1], int):
            kinds += ["split"] + (["concat"] * 4 if shape[1] >= 2 else []) + (["windows"] if shape[1] >= 2 else [])
        kind = r.choice(kinds)
        e = getattr(self, "_" + kind)(shape, depth - 1)
        if e.mag > 1e3:
            e = _E(_call("tanh", e), shape, 1.0)
        if r.random() < 0.15 and not _folded(e.node):
            name = self._fresh_name()
            self.statements.append(f"{name} = {ast.unparse(e.node)}")
            e = e._replace(node=ast.Name(name))
            self.named.append((name, e))
        return e

    def bounded(self, e):
        return e if e.mag <= BOUND else _E(_call("tanh", e), e.shape, 1.0)

    def positive(self, e):
        """e itself when its lower bound is at least LOW, else a positive function of it."""
        if e.lo is not None and e.lo >= LOW:
            return e
        r, b = self.r, self.bounded(e)
        choice = r.randrange(4 if isinstance(e.node, ast.Name) and e.node.id in self.vars else 3)
        if choice == 0:
            return _E(_call("exp", b), e.shape, math.exp(b.mag), math.exp(-b.mag))
        if choice == 1:
            sq = _E(_bin(b, ast.Mult(), b), e.shape, b.mag ** 2)
            return _E(ast.BinOp(sq.node, ast.Add(), ast.Constant(1)), e.shape, b.mag ** 2 + 1, 1.0)
        if choice == 2:
            return _E(_call("sigmoid", b), e.shape, 1.0, 1 / (1 + math.exp(b.mag)))
        return self.variable(e.shape, positive=True)

    def operands(self, shape, depth):
        """Two operands whose shapes broadcast to ``shape``."""
        r = self.r
        shapes = []
        for _ in range(2):
            rows = shape[0] if shape[0] == 1 or r.random() < 0.7 else 1
            cols = shape[1] if shape[1] == 1 or r.random() < 0.7 else 1
            shapes.append((rows, cols))
        if shapes[0][0] != shape[0] and shapes[1][0] != shape[0]:
            shapes[r.randrange(2)] = (shape[0], shapes[0][1])
        if shapes[0][1] != shape[1] and shapes[1][1] != shape[1]:
            i = r.randrange(2)
            shapes[i] = (shapes[i][0], shape[1])
        return self.gen(shapes[0], depth), self.gen(shapes[1], depth)

    def _matmul(self, shape, depth):
        k = self.r.choice(self.dims())
        a = self.bounded(self.gen((shape[0], k), depth))
        b = self.bounded(self.gen((k, shape[1]), depth))
        size = self.size(k)
        lo = size * a.lo * b.lo if a.lo and b.lo else None
        return _E(_bin(a, ast.MatMult(), b), shape, size * a.mag * b.mag, lo)

    def _add(self, shape, depth, op=ast.Add):
        a, b = self.operands(shape, depth)
        lo = a.lo + b.lo if op is ast.Add and a.lo and b.lo else None
        return _E(_bin(a, op(), b), shape, a.mag + b.mag, lo)

    def _sub(self, shape, depth):
        return self._add(shape, depth, ast.Sub)

    def _mul(self, shape, depth):
        a, b = self.operands(shape, depth)
        a, b = self.bounded(a), self.bounded(b)
        return _E(_bin(a, ast.Mult(), b), shape, a.mag * b.mag, a.lo * b.lo if a.lo and b.lo else None)

    def _div(self, shape, depth):
        a, b = self.operands(shape, depth)
        a, b = self.bounded(a), self.positive(b)
        return _E(_bin(a, ast.Div(), b), shape, a.mag / b.lo, a.lo / b.mag if a.lo else None)

    def _neg(self, shape, depth):
        a = self.gen(shape, depth)
        return _E(ast.UnaryOp(ast.USub(), a.node), shape, a.mag)

    def _pow(self, shape, depth):
        p = self.r.choice(_POWERS)
        if shape == (1, 1) and p == int(p) and self.r.random() < 0.3:  # a negative number: (-2) ** 2
            v = -self.r.choice(_NUMBERS[:5])
            return _E(ast.BinOp(_num(v), ast.Pow(), _num(p)), shape, abs(v) ** p, abs(v) ** p if p % 2 == 0 else None)
        a = self.bounded(self.gen(shape, depth))
        if p < 0 or p != int(p):
            a = self.positive(a)
        exponent = _num(p)
        mag = a.mag ** p if p > 0 else a.lo ** p
        lo = (a.lo ** p if p > 0 else a.mag ** p) if a.lo else None
        if p == 2 and self.r.random() < 0.5 and a.lo is None:  # (-A) ** 2, -A ** 2
            a = _E(ast.UnaryOp(ast.USub(), a.node), shape, a.mag)
        return _E(ast.BinOp(a.node, ast.Pow(), exponent), shape, mag, lo)

    def _T(self, shape, depth):
        a = self.gen(shape[::-1], depth)
        return _E(ast.Attribute(a.node, "T"), shape, a.mag, a.lo)

    def _elementwise(self, shape, depth):
        return self.elementwise(self.r.choice(_ELEMENTWISE), self.gen(shape, depth), shape)

    def elementwise(self, fn, a, shape):
        """``fn(a)`` with its argument kept in the domain of ``fn`` (a of ``shape``)."""
        if fn == "sigmoid":  # above 1/(1 + e^mag): no float once e^mag overflows
            return _E(_call(fn, a), shape, 1.0, 1 / (1 + math.exp(a.mag)) if a.mag < 700 else None)
        if fn == "tanh":
            return _E(_call(fn, a), shape, 1.0)
        if fn == "relu":
            return _E(_call(fn, a), shape, a.mag)
        if fn == "softplus":  # log(1 + exp(A)): above log(1 + exp(−|A|)) > 0, below |A| + log 2
            return _E(_call(fn, a), shape, a.mag + math.log(2), math.log1p(math.exp(-a.mag)) or None)
        if fn == "exp":
            a = self.bounded(a)
            return _E(_call(fn, a), shape, math.exp(a.mag), math.exp(-a.mag))
        a = self.positive(a)
        if fn == "log":
            return _E(_call(fn, a), shape, max(abs(math.log(a.lo)), abs(math.log(a.mag))))
        return _E(_call(fn, a), shape, math.sqrt(a.mag), math.sqrt(a.lo))

    def index_vector(self, n):
        """An index vector of n entries (reused or new), in range(k) for a dimension k."""
        same = [y for y, (m, _) in self.indices.items() if m == n]
        if same and self.r.random() < 0.5:
            return self.r.choice(same)
        name = self._fresh_name()
        self.indices[name] = (n, self.r.choice(sorted(self.sizes)))
        return name

    def _index(self, shape, depth):
        """take(E, y) (n×d), pick(S, y) (n×1) or onehot(y) (n×k) with y of n = shape[0] entries."""
        r = self.r
        y = self.index_vector(shape[0])
        k = self.indices[y][1]
        if shape[1] == k and r.random() < 0.3:
            return _E(ast.Call(ast.Name("onehot"), [ast.Name(y)], []), shape, 1.0)
        if shape[1] == 1 and r.random() < 0.5:
            a = self.gen((shape[0], k), depth)
            return _E(ast.Call(ast.Name("pick"), [a.node, ast.Name(y)], []), shape, a.mag, a.lo)
        a = self.gen((k, shape[1]), depth)
        return _E(ast.Call(ast.Name("take"), [a.node, ast.Name(y)], []), shape, a.mag, a.lo)

    def _row(self, shape, depth):
        a = self.bounded(self.gen(shape, depth))
        cols = self.size(shape[1])
        if self.r.random() < 0.5:
            return _E(_call("softmax", a), shape, 1.0, math.exp(-2 * a.mag) / cols)
        return _E(_call("log_softmax", a), shape, 2 * a.mag + math.log(cols))

    def _reduce(self, shape, depth):
        r = self.r
        fn = r.choice(("sum", "mean"))
        axes = [None] if shape == (1, 1) else []
        if shape[0] == 1:
            axes.append(0)
        if shape[1] == 1:
            axes.append(1)
        axis = r.choice(axes)
        dims = self.dims()
        if axis is None:
            inner = (r.choice(dims), r.choice(dims))
        else:
            inner = (r.choice(dims), shape[1]) if axis == 0 else (shape[0], r.choice(dims))
        a = self.gen(inner, depth)
        count = math.prod(self.size(d) for d in (inner if axis is None else [inner[axis]]))
        scale = count if fn == "sum" else 1
        lo = a.lo * scale if a.lo else None
        return _E(_call(fn, a, axis if axis is not None or r.random() < 0.5 else False), shape, a.mag * scale, lo)

    def _max(self, shape, depth):
        """max of each row (n×1), of each column (1×q) or of all (1×1) of ``inner + V``, V a fresh
        variable: continuous, so no two entries of the argument tie."""
        r = self.r
        axes = [None] if shape == (1, 1) else []
        if shape[0] == 1:
            axes.append(0)
        if shape[1] == 1:
            axes.append(1)
        axis = r.choice(axes)
        dims = self.dims()
        if axis is None:
            inner = (r.choice(dims), r.choice(dims))
        else:
            inner = (r.choice(dims), shape[1]) if axis == 0 else (shape[0], r.choice(dims))
        a = self.gen(inner, depth)
        v = self.variable(inner, fresh=True)
        arg = _E(_bin(a, ast.Add(), v), inner, a.mag + v.mag)
        kw = False if axis is None and r.random() < 0.5 else axis
        return _E(_call("max", arg, kw), shape, arg.mag)

    def _concat(self, shape, depth):
        """concat of two or three matrices whose columns add up to ``shape[1]`` (a number >= 2)."""
        r = self.r
        cuts = sorted(r.sample(range(1, shape[1]), min(shape[1] - 1, r.choice((1, 2)))))
        widths = [b - a for a, b in zip([0] + cuts, cuts + [shape[1]])]
        parts = [self.gen((shape[0], w), depth) for w in widths]
        node = ast.Call(ast.Name("concat"), [p.node for p in parts], [])
        return _E(node, shape, max(p.mag for p in parts), min((p.lo or 0) for p in parts) or None)

    def _split(self, shape, depth):
        """A statement ``a, b, c = split(E, 3)`` (E of 3·w columns, w = ``shape[1]``); its blocks are
        named intermediates, and one of them is the result."""
        r = self.r
        k = r.choice((2, 3, 4))
        e = self.gen((shape[0], k * shape[1]), depth)
        names = []
        for _ in range(k):
            names.append(self._fresh_name())
            self.named.append((names[-1], _E(ast.Name(names[-1]), shape, e.mag, e.lo)))
        self.statements.append(f"{', '.join(names)} = split({ast.unparse(e.node)}, {k})")
        return _E(ast.Name(r.choice(names)), shape, e.mag, e.lo)

    def _windows(self, shape, depth):
        """A block of n×q (q a whole number) made of convolution windows: a convolution
        ``group(im2col(A, ...) @ K + b, H'W')`` (q = H'W'c'), a max-pool
        ``group(max(ungroup(im2col(A + V, ...), C), axis=1), H'W'C)`` (q = H'W'C, V a fresh
        variable: no two entries of a window tie) or a round trip ``group(f(ungroup(B, m)), m)``."""
        r = self.r
        q = shape[1]
        kinds = ["conv", "pool"] + (["trip"] if q >= 2 else [])
        kind = r.choice(kinds)
        if kind == "trip":
            return self._round_trip(shape, depth)
        channels = r.choice(_divisors(q))  # c' of a convolution, C of a max-pool
        found = self._geometry(q // channels)
        if found is None:
            return self._round_trip(shape, depth) if q >= 2 else self.gen(shape, depth)
        (H, kh), (W, kw), s, p = found
        Ho, Wo = (H + 2 * p - kh) // s + 1, (W + 2 * p - kw) // s + 1
        C = r.randint(1, 3) if kind == "conv" else channels
        a = self.gen((shape[0], H * W * C), depth)
        if kind == "pool":
            v = self.variable(a.shape, fresh=True)
            a = _E(_bin(a, ast.Add(), v), a.shape, a.mag + v.mag)
        else:
            a = self.bounded(a)
        keywords = [ast.keyword("image", ast.Tuple([ast.Constant(x) for x in (H, W, C)])),
                    ast.keyword("kernel", ast.Tuple([ast.Constant(kh), ast.Constant(kw)]))]
        if s != 1 or r.random() < 0.3:
            keywords.append(ast.keyword("stride", ast.Constant(s)))
        if p != 0 or r.random() < 0.3:
            keywords.append(ast.keyword("pad", ast.Constant(p)))
        windows = ast.Call(ast.Name("im2col"), [a.node], keywords)
        if kind == "pool":
            rows = ast.Call(ast.Name("ungroup"), [windows, ast.Constant(C)], [])
            inner = ast.Call(ast.Name("max"), [rows], [ast.keyword("axis", ast.Constant(1))])
            node = ast.Call(ast.Name("group"), [inner, ast.Constant(Ho * Wo * C)], [])
            return _E(node, shape, a.mag)
        k = self.bounded(self.gen((C * kh * kw, channels), depth))
        b = self.bounded(self.gen((1, channels), depth))
        z = ast.BinOp(ast.BinOp(windows, ast.MatMult(), k.node), ast.Add(), b.node)
        node = ast.Call(ast.Name("group"), [z, ast.Constant(Ho * Wo)], [])
        return _E(node, shape, C * kh * kw * a.mag * k.mag + b.mag)

    def _geometry(self, positions):
        """((H, kh), (W, kw), stride, pad) with H'·W' = ``positions`` output positions, H, W <= 4
        and a stride that divides (H + 2·pad − kh) exactly; None when no image gives them."""
        r = self.r
        choices = []
        for ho in _divisors(positions):
            wo = positions // ho
            for s, p in _STRIDES_PADS:
                if _SIDES.get((ho, s, p)) and _SIDES.get((wo, s, p)):
                    choices.append((ho, wo, s, p))
        if not choices:
            return None
        ho, wo, s, p = r.choice(choices)
        return r.choice(_SIDES[ho, s, p]), r.choice(_SIDES[wo, s, p]), s, p

    def _round_trip(self, shape, depth):
        """``group(f(ungroup(B, m)), m)``: f element-wise, a row softmax, a product with a c×c2
        matrix or a product with a 1×c row, on the m rows each row of B becomes."""
        r = self.r
        q = shape[1]
        m = r.choice([d for d in _divisors(q) if d >= 2])
        width = q // m
        f = r.choice(("elementwise", "elementwise", "row", "matmul", "scale"))
        if f == "matmul":
            c = r.choice((1, 2, 3))
            b = self.bounded(self.gen((shape[0], m * c), depth))
        else:
            c = width
            b = self.gen((shape[0], m * c), depth)
        rows = _E(ast.Call(ast.Name("ungroup"), [b.node, ast.Constant(m)], []), ("rows", c), b.mag, b.lo)
        if f == "elementwise":
            e = self.elementwise(r.choice(_ELEMENTWISE), rows, rows.shape)
        elif f == "row":
            rows = self.bounded(rows)
            fn = r.choice(("softmax", "log_softmax"))
            e = _E(_call(fn, rows), rows.shape, 1.0 if fn == "softmax" else 2 * rows.mag + math.log(c))
        elif f == "matmul":
            w = self.bounded(self.gen((c, width), depth))
            e = _E(_bin(rows, ast.MatMult(), w), rows.shape, c * rows.mag * w.mag)
        else:
            w = self.bounded(self.gen((1, width), depth))
            rows = self.bounded(rows)
            e = _E(_bin(rows, ast.Mult(), w), rows.shape, rows.mag * w.mag)
        return _E(ast.Call(ast.Name("group"), [e.node, ast.Constant(m)], []), shape, e.mag, e.lo)

    # -- one example -------------------------------------------------------------------------
    def example(self, seed):
        r = self.r
        for _ in range(100):
            self.vars, self.named, self.statements, self.number_dims = {}, [], [], set()
            self.indices = {}
            if r.random() < 0.5:
                root = self.gen((1, 1), r.randint(3, 6))
            elif r.random() < 0.25:  # a layer of windows over a few positions
                inner = self._windows((r.choice(self.dims()), r.choice(_WINDOW_WIDTHS)), r.randint(2, 4))
                root = _E(_call(r.choice(("sum", "mean")), inner), (1, 1), inner.mag)
            else:
                dims = self.dims()
                inner = self.gen((r.choice(dims), r.choice(dims)), r.randint(3, 5))
                root = _E(_call(r.choice(("sum", "mean")), inner), (1, 1), inner.mag)
            expr = "; ".join(self.statements + [ast.unparse(root.node)])
            names = [v for v in self.vars if v in _names(expr)]
            in_shapes = {d for v in names for d in self.vars[v][0]}
            used_indices = {y: self.indices[y] for y in self.indices if y in _names(expr)}
            classes_given = all(k in in_shapes for _, k in used_indices.values())  # a variable gives k
            in_shapes |= {d for decl in used_indices.values() for d in decl}
            if names and self.number_dims <= in_shapes and classes_given:
                break
        wrt = sorted(r.sample(names, r.randint(1, len(names))), key=names.index)
        values = {}
        for name in names:
            shape, pos = self.vars[name]
            rows, cols = (self.size(d) for d in shape)
            draw = (lambda: r.uniform(0.5, 2.0)) if pos else (lambda: r.gauss(0.0, 1.0))
            values[name] = [[draw() for _ in range(cols)] for _ in range(rows)]
        for y, (n, k) in used_indices.items():  # n integers in range(k): with repeats when n > k
            values[y] = [r.randrange(self.sizes[k]) for _ in range(self.size(n))]
        shapes = {name: self.vars[name][0] for name in names}
        sizes = {d: s for d, s in self.sizes.items() if d in in_shapes}
        return Example(seed, expr, shapes, sizes, wrt, values, used_indices)
