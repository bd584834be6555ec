"""Reverse mode over the expression graph, one step per named intermediate (standard library only)."""

from __future__ import annotations

import ast

from typing import NamedTuple

from .limits import guarded
from .nodes import ExpressionError, Node, Sym, fmt_shape, mk_add, ones, ref, split, superscript, var
from .shapes import check_indices
from .parse import check_shapes, parse
from .identities import identity
from .render import latex, source, text
from .rules import ACTIVATIONS, LETTERS, NAMES, RULES, np_helper

__all__ = ["derive", "Derivation", "Step"]

#: The activations of a layer: the adjoint of an argument of one is Δ (δ₁, δ₂, ...); of exp, log
#: and sqrt, which are element-wise functions but not a layer's activation, it is G_name.
_LAYER_ACTIVATIONS = tuple(op for op, r in RULES.items() if r.layer)
#: The functions whose numpy source is a helper that the generated code defines (row order).
_HELPERS = tuple(k[1:] for k in NAMES if k != "np")


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


class _Contribution(NamedTuple):
    expr: Node
    consumer: Node  # the named node (or the loss) whose differential this use is part of
    path: tuple  # ((node, argument index), ...) from the consumer down to the use


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


def _topo(root):
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for a in node.args:
            visit(a)
        if node.aux is not None:
            visit(node.aux)
        order.append(node)

    visit(root)
    return order


def _simple(node):
    """An adjoint short enough to write in place of its name: G, −Y/n, 1."""
    c, core = split(node)
    return core.op in ("var", "ones", "const", "dim")


class Derivation:
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
        self.nodes = _topo(root)
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

    def _name_intermediates(self):
        taken = set(self.shapes) | set(self.indices) | set(self.dims())
        taken |= {n.name.ident for n in self.nodes if n.name is not None}
        wanted = []  # (node, letter)
        for n in self.nodes:
            if n.op in ACTIVATIONS and not _constant(n):  # √d is a number, not a step
                a = n.args[0]
                if a.name is None and a.op not in ("var", "const", "dim"):
                    wanted.append((a, "Z"))
                if n.name is None:
                    wanted.append((n, LETTERS[n.op]))
                if n.op == "log_softmax":
                    n.aux = Node("softmax", (a,), a.shape)
                    wanted.append((n.aux, "Yhat"))
        if self.root.name is None:
            wanted.append((self.root, "L"))
        letters = [w for _, w in wanted]
        counters = {}
        for node, letter in wanted:
            if letters.count(letter) == 1 and letter not in taken:
                ident = letter
            else:
                k = counters.get(letter, 0)
                while True:
                    k += 1
                    ident = f"{letter}{k}" if letter[-1].isalpha() else f"{letter}_{k}"
                    if ident not in taken:
                        break
                counters[letter] = k
            taken.add(ident)
            node.name = Sym(ident)
        self._taken = taken  # every name so far: the reader's and the forward steps' (see _fresh_sym)
        # ordered forward: the aux softmax right after its log_softmax
        self.nodes = _topo(self.root)
        self.active = set()
        for n in self.nodes:
            if (n.op == "var" and n.attr.ident in self.wrt) or any(id(a) in self.active for a in n.args):
                self.active.add(id(n))
        # Δ, δ₁, δ₂: only the adjoint of a pre-activation (the argument of a layer's activation, as
        # the pages write δ₂ = ∂L/∂Θ), numbered over the network's layers whatever wrt asks for
        pre = [n for n in self.nodes if n.name is not None and n.op != "var"
               and any(m.op in _LAYER_ACTIVATIONS and m.args[0] is n for m in self.nodes)]
        self._adjoint_ident = {}
        for k, n in enumerate(pre, 1):
            self._adjoint_ident[id(n)] = "Delta" if len(pre) == 1 else f"delta{k}"

    def _forward_step(self, n):
        return Step("forward", n.name.ident, n.name.text, n.name.latex, n.shape, n, None, "", "", "", "")

    # -- reverse mode -----------------------------------------------------------------------
    def _adj_sym(self, n):
        if n.op == "var":
            return self._fresh_sym(Sym("G_" + n.attr.ident))
        ident = self._adjoint_ident.get(id(n)) or "G_" + n.name.ident
        return self._fresh_sym(Sym(ident))

    def _fresh_sym(self, sym):
        """``sym``, or when its name is taken (a reader's variable called ``Delta``), a primed one (Δ′)."""
        ident = _fresh(sym.ident, self._taken)
        self._taken.add(ident)
        if ident == sym.ident:
            return sym
        primes = len(ident) - len(sym.ident)
        return Sym(ident, sym.text + "′" * primes, sym.latex + "'" * primes)

    def _backward(self):
        contribs = {id(self.root): [_Contribution(ones((1, 1)), None, ())]}
        self._adjoint_step = {}
        for n in reversed(self.nodes):
            if id(n) not in self.active or n.op == "var":
                continue
            cs = contribs.get(id(n), [])
            if not cs:
                continue
            if n is self.root:
                g = cs[0].expr
            elif n.name is not None:
                g = self._emit(n, cs)
            else:
                g = cs[0].expr
                for c in cs[1:]:
                    g = mk_add(g, c.expr)
            named = n.name is not None
            backs = RULES[n.op].vjp(g, n, list(n.args))
            for j, (a, b) in enumerate(zip(n.args, backs)):
                if id(a) not in self.active or b is None:
                    continue
                consumer = n if named else cs[0].consumer
                path = ((n, j),) if named else cs[0].path + ((n, j),)
                contribs.setdefault(id(a), []).append(_Contribution(b, consumer, path))
        for v in self.wrt:
            n = self.variables[v]
            self._emit(n, contribs.get(id(n), []))

    def _emit(self, n, cs):
        sym = self._adj_sym(n)
        if not cs:  # cannot happen for an active node; kept for a clear failure
            raise ExpressionError(f"{n.name.ident if n.name else n.attr.ident}: no path to the loss")
        if len(cs) == 1:
            g = cs[0].expr
            step = self._step("backward", sym, n, g, *self._why(n, cs[0]))
            self._uses[step.name] = cs[0]
        else:
            parts = []
            for k, c in enumerate(cs, 1):
                psym = self._fresh_sym(Sym(f"{sym.ident}_path{k}", f"{sym.text}⁽{superscript(k)}⁾",
                                           f"{sym.latex}^{{({k})}}"))
                parts.append(self._step("path", psym, n, c.expr, *self._why(n, c)))
                self._uses[psym.ident] = c
            total = None
            for p in parts:
                r = ref(p.node)
                try:
                    total = r if total is None else mk_add(total, r)
                except ExpressionError as exc:
                    raise ExpressionError(f"{sym.text}, the sum of the paths: {exc}") from None
            name = n.name or n.attr
            step = self._step("paths", sym, n, total,
                              f"{name.text} is used {len(cs)} times: add the paths",
                              rf"\text{{{len(cs)} uses of }} {name.latex}\text{{: add the paths}}", "", "")
        if n.op == "var":
            self._adjoint_step[n.attr.ident] = step
        g = step.node.args[0]
        return g if _simple(g) else ref(step.node)

    def _step(self, kind, sym, n, expr, dt="", dl="", it="", il=""):
        if expr.name is not None:  # a named intermediate itself (G_G = S): write its name
            expr = ref(expr)
        holder = Node("let", (expr,), expr.shape)
        holder.name = sym
        step = Step(kind, sym.ident, sym.text, sym.latex, n.shape, holder, n, dt, dl, it, il)
        self.backward_steps.append(step)
        return step

    def _differential(self, n, c):
        """(dn, dC, C) of one use c of n: the differential dC of its consumer C along dn, the
        jvps composed along the path (what the step's "why" shows)."""
        name = n.name or n.attr
        dn = var(Sym("d" + name.ident, "d" + name.text, r"\mathrm{d}" + name.latex), n.shape)
        d = dn
        for node, j in reversed(c.path):
            dargs = [None] * len(node.args)
            dargs[j] = d
            d = RULES[node.op].jvp(node, list(node.args), dargs)
        return dn, d, c.consumer or self.root

    def _why(self, n, c):
        """(differential text, latex, identity text, latex) of one use of n."""
        _, d, consumer = self._differential(n, c)
        cname = consumer.name
        ids = []
        for node, j in c.path:
            t, lx = identity(node, j)
            if not _trivial(t):
                ids.append((t, lx))
        return (f"d{cname.text} = {text(d)}", rf"\mathrm{{d}}{cname.latex} = {latex(d)}",
                "; ".join(t for t, _ in ids), r";\ ".join(lx for _, lx in ids))

    # -- renderings ----------------------------------------------------------------------------
    @guarded("Derivation.text")
    def text(self):
        """The derivation as Unicode text for a terminal."""
        lines = ["forward"] + ["  " + s.text for s in self.forward_steps] + ["", "backward"]
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

        rows = [r"&\textbf{forward} \\"] + [line(s) for s in self.forward_steps]
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
        params = [v for v in self.shapes if v in self.variables] + list(self.index_vectors)
        taken = set(self._taken) | {s.name for s in self.steps}
        ns = {k: _fresh(k, taken) for k in (*NAMES, "_")}  # numpy and the helpers: never a reader's name
        np = ns["np"]
        lines = ["import numpy" if np == "numpy" else f"import numpy as {np}", "", ""]
        used = {n.op for s in self.steps for n in _topo(s.node)}
        for op in (h for h in _HELPERS if h in used):  # the helpers the steps call, from their rows
            lines += np_helper(op, ns) + ["", ""]
        grads = {v: self._adjoint_step[v].name for v in self.wrt}
        body, needed = [], set(grads.values())
        for s in reversed(self.steps):  # only the steps the gradients need (not the loss itself)
            rhs = source(s.node.args[0] if s.node.op == "let" else s.node, top=True, names=ns)
            if s.name in needed:
                body.append(f"    {s.name} = {rhs}  # {fmt_shape(s.shape)}")
                needed |= {n.id for n in ast.walk(ast.parse(rhs)) if isinstance(n, ast.Name)}
        declared = {**self.shapes, **{y: self.indices[y][:1] for y in self.index_vectors}}  # y: (n,)
        sized = {d for v in params for d in declared[v]}
        for v, shape in self.shapes.items():  # a size the steps read from a variable the loss does not use
            if v not in params and any(d in needed and d not in sized for d in shape):
                params.append(v)
                sized |= set(shape)
        lines.append(f"def backward({', '.join(params)}):")
        lines.append(f'    """Gradients with respect to {", ".join(self.wrt)} of the loss L of')
        parts = [p.strip() for p in self.expr.replace("\\\n", " ").replace("\n", ";").split(";") if p.strip()]
        lines.append("    " + ";\n    ".join(parts))
        lines.append('    """')
        bound = set()
        for v in params:
            shape = declared[v]
            if any(isinstance(d, str) and d not in bound for d in shape):
                names = [d if isinstance(d, str) and d not in bound else ns["_"] for d in shape]
                lines.append(f"    {', '.join(names)}{',' if len(shape) == 1 else ''} = {np}.shape({v})  "
                             f"# {fmt_shape(shape) if len(shape) == 2 else 'index vector, ' + shape[0]}")
                bound |= {d for d in shape if isinstance(d, str)}
        lines += reversed(body)
        lines.append("    return {" + ", ".join(f"{v!r}: {g}" for v, g in grads.items()) + "}")
        return "\n".join(lines) + "\n"

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
                if isinstance(d, str) and d not in out:
                    out.append(d)
        return out

    def __repr__(self):
        return f"<Derivation of {self.expr.strip()!r} with respect to {', '.join(self.wrt)}>"


def _constant(node):
    """A node written with numbers and dimensions only (sqrt(d)): no variable below it."""
    return node.op != "var" and all(_constant(a) for a in node.args)


def _fresh(ident, taken):
    """``ident``, or ``ident`` followed by as few underscores as make it a name not in ``taken``."""
    while ident in taken:
        ident += "_"
    return ident


def _pad(s, width):
    """Pad to a display width: combining marks (the hat of Ŷ) take no column."""
    import unicodedata

    shown = sum(1 for ch in s if not unicodedata.combining(ch))
    return s + " " * max(0, width - shown)


def _trivial(t):
    left, right = t.split(" = ", 1)
    a = left.removeprefix("Ḡ : ").strip()
    b, _, da = right.rpartition(" : ")
    return a == da and b.strip() == "Ḡ"


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
