"""The derivation of one expression (standard library only): :func:`derive`, its steps
(:class:`Step`) and :class:`Derivation`, with its renderings, evaluation and checks.

The derivation's parts are modules of their own: the names of its steps
(:mod:`~derivlib.engine.naming`), reverse mode, one step per named intermediate
(:mod:`~derivlib.engine.reverse`), and the generated numpy ``backward``
(:mod:`~derivlib.engine.codegen`).
"""

from __future__ import annotations

from typing import NamedTuple

from . import dims
from .codegen import numpy_source
from .columns import blocks_line, forward_lines
from .limits import guarded
from .naming import Naming, topo
from .nodes import ExpressionError, Node, fmt_shape, ref
from .parse import check_shapes, parse
from .shapes import check_indices
from .render import latex, text
from .reverse import ReverseMode

__all__ = ["derive", "Derivation", "Step"]


class Step(NamedTuple):
    """One line of a derivation.

    ``kind`` is ``"forward"``, ``"backward"``, ``"path"`` (the adjoint through one use of a
    name used several times) or ``"paths"`` (the sum of those). ``name`` is an identifier
    (``"G_W"``, ``"Delta"``), ``symbol`` its Unicode spelling, ``shape`` the dimensions as
    given, ``node`` the expression (its value is this step's value), ``of`` the forward node
    whose adjoint this is (None for forward steps).
    """

    kind: str
    name: str
    symbol: str
    symbol_latex: str
    shape: tuple
    node: Node
    of: Node | None
    differential: str
    differential_latex: str
    identity: str
    identity_latex: str

    @property
    @guarded("Step.expression")
    def expression(self):
        """The right-hand side in Unicode text."""
        return text(self.node.args[0] if self.node.op == "let" else self.node)

    @property
    @guarded("Step.expression_latex")
    def expression_latex(self):
        return latex(self.node.args[0] if self.node.op == "let" else self.node)

    @property
    @guarded("Step.text")
    def text(self):
        """This line in Unicode text, e.g. ``Δ = G ∘ S ∘ (1 − S)   n×q   dS = ...; identity``."""
        why = "; ".join(s for s in (self.differential, self.identity) if s)
        line = _pad(f"{self.symbol} = {self.expression}", 28) + "  " + fmt_shape(self.shape).ljust(6)
        return (line + "  " + why) if why else line.rstrip()

    @property
    @guarded("Step.latex")
    def latex(self):
        """This line in LaTeX, for an ``aligned`` block (``&`` before ``=`` and each column)."""
        why = r";\quad ".join(s for s in (self.differential_latex, self.identity_latex) if s)
        shape = r" \times ".join(str(d) for d in self.shape)
        return (f"{self.symbol_latex} &= {self.expression_latex} && {shape}"
                + (rf" && {why}" if why else ""))


@guarded("derive")
def derive(expr, shapes, wrt=None, indices=None):
    """Derive the gradients of a scalar expression, step by step in matrix form.

    Parameters
    ----------
    expr : str
        A scalar expression in Python syntax, optionally preceded by assignments naming
        intermediates, e.g. ``"sum(G * sigmoid(X @ W + b))"`` or
        ``"H = sigmoid(X @ W1 + b1); -sum(Y * log_softmax(H @ W2 + b2)) / n"``.
    shapes : dict
        Variable name -> (rows, columns); each dimension a name (``"n"``) or an integer.
        A dimension name in the expression stands for its size (``/ n``).
    wrt : list of str, optional
        The variables to differentiate with respect to; default all.
    indices : dict, optional
        Index vector name -> (n, k): ``n`` integers in ``range(k)`` (class labels, word
        ids), read only by ``take(E, y)``, ``pick(S, y)`` and ``onehot(y)``; their values are
        integer arrays of shape ``(n,)``. No gradient is taken with respect to them.

    Returns
    -------
    Derivation

    Raises
    ------
    ExpressionError
        (a ValueError) for an expression outside the language, shapes that do not conform,
        a ``wrt`` that is not a variable, or an expression that is not a scalar.

    Examples
    --------
    >>> from derivlib.engine import derive
    >>> d = derive("sum(G * sigmoid(X @ W + b))",
    ...            shapes={"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q"), "G": ("n", "q")},
    ...            wrt=["W", "b", "X"])
    >>> [f"{s.symbol} = {s.expression}" for s in d.backward_steps]
    ['G_S = G', 'Δ = G ∘ S ∘ (1 − S)', 'G_W = XᵀΔ', 'G_b = 1ᵀΔ', 'G_X = ΔWᵀ']
    """
    shapes = check_shapes(shapes)
    indices = check_indices(indices, shapes)
    root = parse(expr, shapes, indices=indices)
    if root.shape != (1, 1):
        raise ExpressionError(
            f"the expression is {fmt_shape(root.shape)}, not a scalar: a matrix needs an upstream gradient. "
            f"Write sum(G * ({expr.strip().split(';')[-1].strip()})) with G of shape "
            f"{tuple(root.shape)}, or sum(...) or mean(...) of it")
    return Derivation(expr, shapes, root, wrt, indices)


class Derivation(Naming, ReverseMode):
    """The derivation of one expression: steps, renderings, evaluation and checks.

    Made by :func:`derive`. ``steps`` lists the forward steps (``forward_steps``) then the
    backward steps (``backward_steps``), each a :class:`Step`; ``wrt`` the variables
    differentiated; ``root`` the loss node; ``gradient_expressions`` maps each variable of
    ``wrt`` to the node of its gradient, which :func:`evaluate_pure` evaluates on lists
    of lists (to compare an answer typed by a reader on the same inputs).
    """

    def __init__(self, expr, shapes, root, wrt, indices=None):
        self.expr, self.shapes, self.root = expr, shapes, root
        self.indices = dict(indices or {})  # index vector -> (n, k); read by take, pick, onehot
        self.nodes = topo(root)
        self.variables = {n.attr.ident: n for n in self.nodes if n.op == "var"}
        self.index_vectors = {n.attr.ident: n for n in self.nodes if n.op == "index"}
        self.wrt = self._check_wrt(wrt)
        self._name_intermediates()
        self.forward_steps = [self._forward_step(n) for n in self.nodes if n.name is not None]
        self.backward_steps = []
        self._uses = {}  # backward or path step name -> the use (_Contribution) its "why" shows
        self._backward()
        self.steps = self.forward_steps + self.backward_steps
        self.gradient_expressions = {v: self._adjoint_step[v].node for v in self.wrt}

    # -- setup ---------------------------------------------------------------------------
    def _check_wrt(self, wrt):
        if wrt is None:
            return list(self.variables)
        if isinstance(wrt, str):
            wrt = [w.strip() for w in wrt.split(",")]
        if not isinstance(wrt, (list, tuple)):
            raise TypeError(f"wrt must be a variable name, names separated by commas, or a list of names, "
                            f"e.g. ['W', 'b']; got {type(wrt).__name__} {wrt!r:.60}")
        wrt = list(wrt)
        for w in wrt:
            if not isinstance(w, str):
                raise TypeError(f"wrt: each entry must be a variable's name (a string); got "
                                f"{type(w).__name__} {w!r:.60} in {wrt!r:.80}")
            if w not in self.variables:
                used = ", ".join(self.variables)
                if w in self.indices:
                    why = ("it is an index vector (integers, read by take, pick and onehot): no gradient is taken "
                           "with respect to it")
                elif w in self.shapes:
                    why = "it has a shape but does not appear in the expression"
                elif any(n.name is not None and n.name.ident == w for n in self.nodes):
                    why = "it is an intermediate assigned in the expression, not a variable"
                else:
                    why = "it is not a variable of the expression"
                raise ExpressionError(f"wrt: cannot differentiate with respect to {w!r}: {why}; the variables "
                                      f"are {used}")
        if len(set(wrt)) != len(wrt):
            raise ExpressionError(f"wrt: each variable once; got {wrt}")
        if not wrt:
            raise ExpressionError("wrt: name at least one variable")
        return wrt

    def _forward_step(self, n):
        return Step("forward", n.name.ident, n.name.text, n.name.latex, n.shape, n, None, "", "", "", "")

    def _step(self, kind, sym, n, expr, dt="", dl="", it="", il=""):
        if expr.name is not None:  # a named intermediate itself (G_G = S): write its name
            expr = ref(expr)
        holder = Node("let", (expr,), expr.shape)
        holder.name = sym
        step = Step(kind, sym.ident, sym.text, sym.latex, n.shape, holder, n, dt, dl, it, il)
        self.backward_steps.append(step)
        return step

    # -- renderings ----------------------------------------------------------------------------
    @guarded("Derivation.text")
    def text(self):
        """The derivation as Unicode text for a terminal."""
        lines = ["forward"] + ["  " + _forward_text(s) for s in forward_lines(self.forward_steps)] + ["", "backward"]
        lines += ["  " + s.text for s in self.backward_steps]
        return "\n".join(lines)

    @guarded("Derivation.latex")
    def latex(self, why=True):
        """The derivation as one LaTeX ``aligned`` block, each line with its shape.

        With ``why``, each backward line also shows the differential and the identity.
        """
        def line(s):
            if why:
                return s.latex + r" \\"
            shape = r" \times ".join(str(d) for d in s.shape)
            return f"{s.symbol_latex} &= {s.expression_latex} && {shape}" + r" \\"

        rows = [r"&\textbf{forward} \\"] + [
            line(s) if isinstance(s, Step) else _blocks_latex(s) + r" \\" for s in forward_lines(self.forward_steps)]
        rows += [r"&\textbf{backward} \\"] + [line(s) for s in self.backward_steps]
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}"

    @guarded("Derivation.closed_form")
    def closed_form(self, name):
        """The gradient of variable ``name`` with the intermediate names substituted back (text)."""
        if name not in self._adjoint_step:
            raise ValueError(f"closed_form: {name!r} is not a variable differentiated here; wrt is "
                             f"{', '.join(self.wrt)}")
        return text(_inline(self._adjoint_step[name].node.args[0]))

    @guarded("Derivation.numpy_source")
    def numpy_source(self):
        """Source of a standalone ``backward(**variables)`` returning a dict of gradients: the
        steps the gradients need, in order (a step no gradient reads, usually the loss itself,
        is left out)."""
        return numpy_source(self)

    # -- evaluation and checks (numeric ones import numpy when called) ---------------------------
    @guarded("Derivation.gradients")
    def gradients(self, values):
        """Gradients on numpy arrays: dict variable -> array of the variable's shape."""
        from .numeric import gradients

        return gradients(self, values)

    @guarded("Derivation.loss")
    def loss(self, values):
        """The loss (a float) on numpy arrays."""
        from .numeric import loss

        return loss(self, values)

    @guarded("Derivation.random_inputs")
    def random_inputs(self, sizes=None, seed=0):
        """A random point as numpy arrays (the check's): dict variable -> array.

        Dimensions get ``sizes`` or distinct primes; entries are standard normal, or
        uniform in [0.5, 2] for a variable that must be positive (under log or sqrt).
        """
        from .numeric import random_arrays
        from .sample import default_sizes

        return random_arrays(self, default_sizes(self, sizes), seed)

    @guarded("Derivation.evaluate")
    def evaluate(self, values):
        """Every step's value on numpy arrays: dict step name -> array."""
        from .numeric import evaluate_steps

        return evaluate_steps(self, values)

    @guarded("Derivation.check")
    def check(self, sizes=None, seed=0):
        """Check every adjoint against finite differences of the loss (numpy, derivlib.check).

        Returns a report; raises GradCheckError naming the step whose adjoint is wrong.
        """
        from .numeric import check

        return check(self, sizes=sizes, seed=seed)

    @guarded("Derivation.check_pure")
    def check_pure(self, sizes=None, seed=0):
        """The same check in pure Python (no numpy): the same report, where a wrong adjoint is a step
        whose verdict is wrong (nothing raised)."""
        from .pure import check_pure

        return check_pure(self, sizes=sizes, seed=seed)

    @guarded("Derivation.check_why")
    def check_why(self, sizes=None, seed=0):
        """Check every displayed differential ("why" line) in pure Python.

        For each backward step: the differential of its consumer is the adjoint of the
        step's contribution and a derivative (central differences); and each identity the
        step shows holds for its rule. Returns a report; raises
        ``derivlib.engine.adjoint.DifferentialError`` naming the step if a line is wrong.
        """
        from .adjoint import check_why

        return check_why(self, sizes=sizes, seed=seed)

    def dims(self):
        """Dimension names in order of first appearance."""
        out = []
        for s in (*self.shapes.values(), *self.indices.values()):
            for d in s:
                out += [x for x in dims.names(d) if x not in out]
        return out

    def __repr__(self):
        return f"<Derivation of {self.expr.strip()!r} with respect to {', '.join(self.wrt)}>"


def _forward_text(s):
    """A forward line: a step's, or the blocks of one split as one line ``[i f o g] = split(A)``."""
    if isinstance(s, Step):
        return s.text
    sym, rhs, _, _ = blocks_line(s, text, latex)
    return (_pad(f"{sym} = {rhs}", 28) + "  " + fmt_shape(s[0].shape) + " each").rstrip()


def _blocks_latex(group):
    _, _, sym, rhs = blocks_line(group, text, latex)
    shape = r" \times ".join(str(d) for d in group[0].shape)
    return rf"{sym} &= {rhs} && {shape} \text{{ each}}"


def _pad(s, width):
    """Pad to a display width: combining marks (the hat of Ŷ) take no column."""
    import unicodedata

    shown = sum(1 for ch in s if not unicodedata.combining(ch))
    return s + " " * max(0, width - shown)


def _inline(node):
    if node.op == "ref":
        return _inline(node.attr.args[0] if node.attr.op == "let" else _strip(node.attr))
    if node.op == "let":
        return _inline(node.args[0])
    if node.args:
        new = Node(node.op, [_inline(a) for a in node.args], node.shape, node.attr)
        return new
    return node


def _strip(node):
    new = Node(node.op, [_inline(a) for a in node.args], node.shape, node.attr)
    new.aux = node.aux
    return new
