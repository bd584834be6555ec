"""Exercises from the gallery: write the backward pass, get it graded, ask for hints.

Each :class:`Exercise` is a network of :mod:`derivlib.playground.gallery` (the site's
three questions first, then the gallery) and the gradients it asks for, ``dW``, ``db``,
``dX``, ...: the variables whose gradient the learner can write in the engine's syntax
(a convolution's input gradient needs ``col2im``, which the syntax does not have, so it
is not asked). The learner's lines are graded by :func:`derivlib.playground.grade.grade`;
:func:`hint` names the next step to write (the first wrong one, else the first missing),
with its differential, the identity that turns it into the step, and the engine's
step itself, also as a line to type (:func:`typed`).
Standard library only: this module also runs in the browser, on Pyodide.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from ..engine import derive, dims
from ..engine.indexing import SCATTER
from ..engine.naming import topo
from ..engine.rules import RULES
from .gallery import GALLERY, HAND, Example
from .grade import grade

__all__ = ["Exercise", "Hint", "exercises", "find", "typed", "answer", "hint", "solved"]

#: A network the gallery does not list on its own: softmax regression.
SOFTMAX_REGRESSION = Example(
    "softmax_regression", "Softmax regression, mean cross-entropy", "-sum(Y * log_softmax(X @ W + b)) / n",
    {"X": ("n", "p"), "W": ("p", "k"), "b": (1, "k"), "Y": ("n", "k")}, ("W", "b"))

#: The order of the first exercises (by gallery key); the rest of the gallery follows in its order.
FIRST = ("sigmoid_layer", "linear_dot", "two_layer", "tanh_layer", "linear_regression", "logistic_regression",
         "softmax_regression", "relu_three_layer", "tied_autoencoder", "batch_norm", "layer_norm", "attention",
         "conv_layer", "lstm_cell", "gru_cell")


class Exercise(NamedTuple):
    """One exercise: the gallery's network and the gradients it asks for (``("W", "b")``);
    ``indices``: its index vectors (``{"y": ("n", "k")}``, labels read by take, pick, onehot)."""

    key: str
    title: str
    expr: str
    shapes: dict
    asks: tuple
    indices: dict = {}


class Untypeable(ValueError):
    """A step the engine's syntax cannot write (``col2im``, ``argmax``)."""


# -- a step as a line the learner could type ------------------------------------------------------

ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5
#: The functions of one matrix, written f(A): from the rule rows (a new row is typed as it is written).
FUNCTIONS = tuple(op for op, r in RULES.items() if r.text and r.call is None)


def _ones(node) -> bool:
    while node.op in ("ref", "T") and node.name is None:
        node = node.attr if node.op == "ref" else node.args[0]
    return node.op == "ones"


def _par(pair, need, strict=False) -> str:
    s, p = pair
    return f"({s})" if p < need or (strict and p == need) else s


def _number(f: Fraction) -> tuple:
    s = str(f.numerator) if f.denominator == 1 else repr(float(f))
    return s, (NEG if f < 0 else ATOM)


def _walk(node, names: dict, top=False, spread=False) -> tuple:
    """(source, precedence) of ``node``; ``spread``: a row or column of ones may stand as 1 (it broadcasts)."""
    op = node.op
    if node.name is not None and not top:
        return names.get(node.name.ident, node.name.ident), ATOM
    if op == "ref":
        return _walk(node.attr, names, spread=spread)
    if op == "let":
        return _walk(node.args[0], names, spread=spread)
    if op in ("var", "index"):
        return node.attr.ident, ATOM
    if op == "const":
        return _number(Fraction(node.attr))
    if op == "dim":
        return dims.py(node.attr), (ATOM if isinstance(node.attr, str) else MUL)
    if op == "ones":
        if spread or tuple(node.shape) == (1, 1):
            return "1", ATOM  # beside a matrix it broadcasts
        raise Untypeable("the engine's syntax has no matrix of ones")
    if op == "scale":
        sign, num, den = node.attr.parts()
        core = node.args[0]
        s = "1" if core.op == "ones" and core.shape == (1, 1) else None
        parts = [s] if s else [_par(_walk(core, names, spread=spread), MUL)]
        s = " * ".join([*num, *parts]) if num and parts != ["1"] else (" * ".join(num) or parts[0])
        if den:
            s += " / " + (den[0] if len(den) == 1 else "(" + " * ".join(den) + ")")
        return ("-" + _par((s, MUL), NEG), NEG) if sign == "-" else (s, MUL)
    if op == "matmul":
        a, b = node.args
        if _ones(a) and a.shape[0] == 1:  # 1ᵀA: the column sums
            return f"sum({_walk(b, names)[0]}, axis=0)", ATOM
        if _ones(b) and b.shape[1] == 1:  # A1: the row sums
            return f"sum({_walk(a, names)[0]}, axis=1)", ATOM
        if spread and _ones(a) and a.shape[1] == 1 and b.shape[0] == 1:  # 1b: a row, broadcast where used
            return _walk(b, names)
        if spread and _ones(b) and b.shape[0] == 1 and a.shape[1] == 1:  # c1ᵀ: a column, broadcast
            return _walk(a, names)
        left, right = _walk(a, names), _walk(b, names)
        sym = " * " if (1, 1) in (tuple(a.shape), tuple(b.shape)) else " @ "
        return _par(left, MUL) + sym + _par(right, MUL, strict=True), MUL
    args = [_walk(a, names, spread=op in ("add", "sub", "mul", "div")) for a in node.args]
    if op in ("add", "sub"):
        return _par(args[0], ADD) + (" + " if op == "add" else " - ") + _par(args[1], ADD, strict=op == "sub"), ADD
    if op in ("mul", "div"):
        return _par(args[0], MUL) + (" * " if op == "mul" else " / ") + _par(args[1], MUL, strict=True), MUL
    if op == "neg":
        return "-" + _par(args[0], NEG), NEG
    if op == "T":
        return (args[0] if tuple(node.shape) == (1, 1) else (_par(args[0], ATOM) + ".T", ATOM))
    if op == "pow":
        return _par(args[0], ATOM) + " ** " + _number(Fraction(node.attr))[0], POW
    if op in ("sum", "mean"):
        axis = "" if node.attr is None else f", axis={node.attr}"
        return f"{op}({args[0][0]}{axis})", ATOM
    if op == "step":
        return f"[{args[0][0]} > 0]", ATOM
    if op in FUNCTIONS:
        return f"{op}({args[0][0]})", ATOM
    if op == "onehot":
        return f"onehot({args[0][0]})", ATOM
    if op in ("take", "pick"):
        return f"{op}({args[0][0]}, {args[1][0]})", ATOM
    if op == SCATTER:  # O_yᵀG, a scatter-add: the same as onehot(y).T @ G
        return f"onehot({args[0][0]}).T @ " + _par(args[1], MUL, strict=True), MUL
    if op in ("group", "ungroup"):
        return f"{op}({args[0][0]}, {node.attr})", ATOM
    if op == "concat":
        if not all(isinstance(a.shape[1], int) for a in node.args):  # the parser's rule for concat
            raise Untypeable("the engine's syntax concatenates only blocks whose columns are numbers")
        return f"concat({', '.join(a[0] for a in args)})", ATOM
    raise Untypeable(f"the engine's syntax has no {op}")


def typed(step, names: dict, spread: bool = False) -> str:
    """The right-hand side of ``step`` in the engine's syntax, its steps named by ``names``.

    ``names`` maps a step's identifier (``"Delta"``) to the name a line gives it (``"dZ"``);
    a step not in it keeps its identifier. Raises :class:`Untypeable` (a ValueError) for a
    step the syntax cannot write. ``spread``: a row (column) of ones times a row may be
    written as the row itself, for a helper line that is only added to full matrices.
    """
    return _walk(step.node, names, top=True, spread=spread)[0]


# -- the exercises --------------------------------------------------------------------------------

def _graded_names(d) -> dict:
    """Step identifier -> ``dX`` for every step that is the gradient of a variable or a named forward step."""
    names = {}
    for s in d.backward_steps:
        if s.kind in ("backward", "paths") and s.of is not None:
            of = s.of.attr.ident if s.of.op == "var" else (s.of.name.ident if s.of.name else None)
            if of is not None and s.node is not d.root:
                names.setdefault(s.name, "d" + of)
    for v, s in d._adjoint_step.items():
        names[s.name] = "d" + v
    return names


def _needed(d, wanted: list) -> list:
    """The backward steps the gradients ``wanted`` (their steps) read, in the derivation's order."""
    by_name = {s.name: s for s in d.backward_steps}
    need, todo = set(), list(wanted)
    while todo:
        s = todo.pop()
        if s.name in need:
            continue
        need.add(s.name)
        for n in topo(s.node):
            ref = n.attr if n.op == "ref" else n
            if ref.name is not None and ref.name.ident in by_name and ref.name.ident != s.name:
                todo.append(by_name[ref.name.ident])
    return [s for s in d.backward_steps if s.name in need]


def _answer_steps(d, asks) -> list:
    """(line name, step) of the engine's answer for the gradients ``asks``: every step they need."""
    names = _graded_names(d)
    return [(names.get(s.name, s.name), s) for s in _needed(d, [d._adjoint_step[v] for v in asks])]


def answer(d, asks) -> list:
    """The engine's backward pass for the gradients ``asks`` as lines ``dX = ...`` in the engine's syntax.

    Raises :class:`Untypeable` when a step cannot be written in that syntax.
    """
    names = _graded_names(d)
    graded = set(names.values())
    return [f"{name} = {typed(s, names, spread=name not in graded)}" for name, s in _answer_steps(d, asks)]


def _typeable(d, v: str) -> bool:
    try:
        answer(d, [v])
    except Untypeable:
        return False
    return True


def _exercise(e: Example):
    """The exercise of a gallery network, or None (no gradient typeable)."""
    d = derive(e.expr, shapes=e.shapes, indices=e.indices)
    asks = tuple(v for v in e.wrt if _typeable(d, v))
    return Exercise(e.key, e.title, e.expr, e.shapes, asks, dict(e.indices)) if asks else None


def _exercises() -> list:
    examples = {e.key: e for e in [*HAND, *GALLERY, SOFTMAX_REGRESSION]}
    order = [k for k in FIRST if k in examples] + [k for k in examples if k not in FIRST]
    return [x for x in (_exercise(examples[k]) for k in order) if x is not None]


_CACHE = {}


def exercises() -> list:
    """Every exercise, in order (derived once per process)."""
    if "all" not in _CACHE:
        _CACHE["all"] = _exercises()
    return _CACHE["all"]


def find(key: str) -> Exercise:
    """The exercise ``key``; ValueError naming the keys when there is none."""
    for x in exercises():
        if x.key == key:
            return x
    raise ValueError(f"key: no exercise {key!r}; the exercises are {', '.join(x.key for x in exercises())}")


def _derivation(x: Exercise):
    key = ("d", x.key)
    if key not in _CACHE:
        _CACHE[key] = derive(x.expr, shapes=x.shapes, indices=x.indices)
    return _CACHE[key]


def solved(x: Exercise, graded: list) -> list:
    """The asked gradients (``"dW"``) that no line of ``graded`` has right yet."""
    right = {g.name for g in graded if g.verdict == "right"}
    return [f"d{v}" for v in x.asks if f"d{v}" not in right]


class Hint(NamedTuple):
    """The next step to write: its line name (``"dZ"``), why it is next, and the three hints."""

    name: str
    why: str
    differential: str
    differential_latex: str
    identity: str
    identity_latex: str
    text: str
    latex: str
    line: str


def hint(x: Exercise, text: str):
    """The next step of exercise ``x`` the learner's ``text`` lacks, or None when every asked gradient is right.

    The next step is the first wrong line's step, else the first step of the engine's
    answer whose gradient no line has right (a helper step of the engine, such as one path
    of a variable used twice, is skipped: the learner may fold it into the next line).
    """
    d = _derivation(x)
    graded = grade(d, text) if text.strip() and any(
        ln.strip() and not ln.strip().startswith("#") for ln in text.splitlines()) else []
    names = _graded_names(d)
    steps = _answer_steps(d, x.asks)
    wrong = next((g for g in graded if g.verdict == "wrong" and g.step is not None), None)
    right = {g.name for g in graded if g.verdict == "right"}
    if wrong is not None:
        name, step = wrong.name, wrong.step
        why = f"Line {wrong.line}, {name}, is not right yet ({wrong.kind})."
    else:
        todo = [(n, s) for n, s in steps if n.startswith("d") and n in names.values() and n not in right]
        if not todo and not solved(x, graded):
            return None
        name, step = todo[0] if todo else (f"d{x.asks[0]}", d._adjoint_step[x.asks[0]])
        why = f"Write {name} next."
    try:
        line = f"{name} = {typed(step, names)}"
    except Untypeable:
        line = ""
    return Hint(name, why, step.differential, step.differential_latex, step.identity, step.identity_latex,
                step.text, step.latex, line)


# -- the page -------------------------------------------------------------------------------------

def _shape_text(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "1×1"


def page_html() -> str:
    """The exercises as HTML sections for docs/exercises.md, each with its anchor ``ex-KEY``.

    Each section shows the network (expression, shapes and its forward steps in LaTeX), the
    gradients to write, a box for the lines, and Check and Hint buttons that
    ``_static/exercises.js`` wires to Python in the browser.
    """
    from html import escape

    out = []
    for k, x in enumerate(exercises(), start=1):
        d = _derivation(x)
        forward = r" \\ ".join(f"{s.symbol_latex} &= {s.expression_latex}" for s in d.forward_steps)
        shapes = ", ".join([f"<code>{escape(v)}</code>: {escape(_shape_text(s))}" for v, s in x.shapes.items()]
                           + [f"<code>{escape(y)}</code>: index vector, {escape(str(n))} integers in "
                              f"range({escape(str(k))})" for y, (n, k) in x.indices.items()])
        asks = ", ".join(f"<code>d{escape(v)}</code>" for v in x.asks)
        anchor = f"ex-{x.key.replace('_', '-')}"
        out.append(
            f'<section class="exercise playground" id="{anchor}" data-key="{escape(x.key)}">'
            f'<h3>{k}. {escape(x.title)} <a class="headerlink" href="#{anchor}" title="Link to this exercise">¶</a>'
            f'<span class="ex-solved" hidden> ✓ solved</span></h3>'
            f'<p>The network: <code>{escape(x.expr)}</code>, with {shapes}.</p>'
            f'<div class="math notranslate nohighlight">\\[\\begin{{aligned}}{escape(forward)}\\end{{aligned}}\\]</div>'
            f'<p>Write {asks} (and any step before them that you need).</p>'
            f'<div class="pg-field"><label for="{anchor}-lines">Your backward pass, one '
            f'<code>NAME = expression</code> per line</label>'
            f'<textarea id="{anchor}-lines" class="ex-lines" rows="5" spellcheck="false" autocomplete="off">'
            f'</textarea><div class="pg-error ex-error" role="alert"></div></div>'
            f'<button type="button" class="ex-check">Check</button> '
            f'<button type="button" class="ex-hint">Hint</button>'
            f'<div class="pg-output ex-output" aria-live="polite"></div>'
            f'<div class="ex-hints" aria-live="polite"></div></section>')
    return "".join(out)
