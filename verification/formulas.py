r"""Display formulas of the pages, written once in the engine's syntax and checked numerically.

The Sphinx extension ``conf/checked_math.py`` renders what this module checks:

* :func:`check_formulas`: lines ``grad(W) = expr`` (a gradient of a loss, compared with
  central differences and with the engine's derivation), ``A == B`` (an identity) and
  ``d(A) == B`` (a differential along random directions), each evaluated on random
  matrices whose dimensions are distinct primes; returns the rows of an aligned LaTeX
  block rendered by the engine, or raises :class:`FormulaError` saying what is wrong and
  what the engine derives.
* :func:`render_derivation`: the engine's step-by-step derivation, after its check.
* :func:`raw_math_problem`, :func:`raw_inline_problem`: the rule that tells a hand-written
  definition from a result (in :mod:`verification.raw_math`, importable from here).

The rows' LaTeX is built by :mod:`verification.formula_latex`; the blocks' options are read,
and the random point drawn, by :mod:`verification.formula_options`.

Examples
--------
>>> check_formulas(["grad(W) = X.T @ G"], "X=n,p W=p,q G=n,q", loss="sum(G * (X @ W))")
['\\frac{\\partial L}{\\partial W} &= X^T G && p \\times q']
>>> check_formulas(["grad(W) = G @ X.T"], "X=n,p W=p,q G=n,q", loss="sum(G * (X @ W))")
Traceback (most recent call last):
...
verification.formulas.FormulaError: 'grad(W) = G @ X.T': G @ X.T: matrix product of G (n×q) and X.T (p×n): the inner dimensions q and p differ (transpose one factor with .T, or use * for an element-wise product)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from derivlib.check import Diagnosis, GradCheckError, gradcheck
from derivlib.relation import relation
from derivlib.engine import ExpressionError, derive, parse
from derivlib.engine.evaluate import evaluate
from derivlib.engine.sample import PRIMES
from derivlib.engine.nodes import Sym
from verification.formula_options import (FormulaError, dims_text, draw_values, option_pairs,
                                          parse_shapes, prime_sizes, rename)
from verification.formula_latex import atomic, differentials, name_or_render, render, shape_latex
from verification.raw_math import USE_INSTEAD, raw_inline_problem, raw_math_problem

__all__ = ["FormulaError", "check_formulas", "render_derivation", "raw_math_problem", "raw_inline_problem", "parse_shapes",
           "rename", "dims_text", "option_pairs", "prime_sizes", "PRIMES", "USE_INSTEAD"]

# -- nodes and words ----------------------------------------------------------------------------


def _walk(node, seen=None):
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    for a in node.args:
        yield from _walk(a, seen)
    if node.op == "ref":
        yield from _walk(node.attr, seen)


def _named(root, ident):
    for n in _walk(root):
        if n.op not in ("ref", "var") and n.name is not None and n.name.ident == ident:
            return n
    return None


def _relation(got, want, tol=1e-9):
    """How an array differs from the one it should equal, in words ("" if it does not): the
    checker's diagnosis (:func:`derivlib.relation.relation`), in the words of a page's formula."""
    found = relation(np.atleast_2d(got).tolist(), np.atleast_2d(want).tolist(), rtol=tol)
    if found is None:
        return ""
    kind, numbers = found
    if kind is Diagnosis.SHAPE_TRANSPOSED:
        return f"its shape is {got.shape}, not {want.shape}, and its transpose is right"
    if got.shape != want.shape:
        return f"its shape is {got.shape}, not {want.shape}"
    if kind in (Diagnosis.TRANSPOSED, Diagnosis.TRANSPOSED_OR_SIGN_FLIPPED):
        return "it is the transpose of the right value"
    if kind is Diagnosis.SIGN_FLIPPED:
        return "it has the wrong sign"
    if kind in (Diagnosis.CONSTANT_FACTOR, Diagnosis.MEAN_WHERE_SUM):
        return f"it is off by a factor: the right value is {1 / numbers['k']:.6g} times it"
    return f"its values are wrong (largest difference {np.abs(got - want).max():.3g})"


# -- checking ---------------------------------------------------------------------------------

_GRAD = re.compile(r"^(?:(?P<alias>[A-Za-z_]\w*)\s*=\s*)?grad\(\s*(?P<wrt>[A-Za-z_]\w*)\s*\)\s*=(?!=)\s*(?P<rhs>.+)$")
_NAMING = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*=\s*grad\(\s*(?P<wrt>[A-Za-z_]\w*)\s*\)$")


def check_formulas(lines, shapes, loss=None, where="", sizes=None, draw=None, seed=0, symbol="L"):
    """Check every formula line and return the LaTeX rows of an aligned block.

    Parameters
    ----------
    lines : list of str
        ``grad(V) = expr`` or ``NAME = grad(V) = expr``; ``NAME = grad(V)`` (a name given to a
        gradient, its value checked); ``A == B [== C ...]``;
        ``d(A) == B [== ...]``. Expressions in the engine's syntax (:mod:`derivlib.engine`).
    shapes : str or dict
        ``"X=n,p W=p,q"``, or a dict name -> (rows, cols); a ``dX`` of ``X``'s shape is a
        direction along which ``X`` moves in a ``d(...)`` line.
    loss : str, optional
        The scalar (an engine program, assignments allowed) that ``grad`` lines differentiate.
    where : str, optional
        Assignments (``S = sigmoid(Z); Delta = G * S * (1 - S)``) the lines may use.
    sizes : dict, optional
        Sizes of some dimensions; the others get distinct primes (3, 5, 7, ...).
    draw : dict, optional
        Variable -> ``normal`` (default), ``positive``, ``onehot`` or ``simplex`` (rows).
    seed : int
    symbol : str
        The loss's LaTeX on the left of ``grad`` lines.

    Returns
    -------
    list of str
        Rows ``lhs &= rhs && shape`` (a chain continues with ``&= ...``).

    Raises
    ------
    FormulaError
        Naming the line, what is wrong (shape, transpose, factor, sign, values) and what
        the engine derives.
    """
    point = _draw_point(shapes, sizes, draw, seed, where, loss)
    rows = []
    for text in _formula_lines(lines):
        grad = _grad_line(text)
        rows += _gradient_rows(point, text, grad, symbol) if grad else _chain_rows(point, text)
    names = set(point.shapes) | set(re.findall(r"(?:^|;)\s*([A-Za-z_]\w*)\s*=(?!=)", where + ";" + (loss or "")))
    return differentials(rows, names)


# -- the point every line of a block is checked at --------------------------------------------

@dataclass
class _Point:
    """The random point of one block: shapes, sizes, values, and the loss once parsed."""

    shapes: dict
    sizes: dict
    env: dict
    prefix: str  # the :where: assignments, ready to precede a line
    loss: str | None
    seed: int
    loss_root: object = None
    derivation: object = None


def _draw_point(shapes, sizes, draw, seed, where, loss):
    """Parse the options and draw the values every line of the block is evaluated at."""
    shapes = parse_shapes(shapes) if isinstance(shapes, str) else dict(shapes)
    sizes = prime_sizes(shapes, sizes or {})
    env = draw_values(shapes, sizes, draw or {}, seed)
    prefix = where.strip().rstrip(";")
    return _Point(shapes, sizes, env, prefix + "; " if prefix else "", loss, seed)


def _formula_lines(lines):
    """The non-blank lines, stripped; at least one."""
    lines = [ln.strip() for ln in lines if ln.strip()]
    if not lines:
        raise FormulaError("no formula: write one per line, 'grad(W) = ...' or 'A == B'")
    return lines


def _program(point, src, text):
    """A side of a line parsed after the :where: assignments."""
    try:
        return parse(point.prefix + src, point.shapes)
    except ExpressionError as exc:
        raise FormulaError(f"{text!r}: {exc}") from None


def _value(point, node):
    """A node's value at the point, as a float array; an overflow raises."""
    with np.errstate(all="raise"):
        return np.asarray(evaluate(node, point.env, point.sizes, np, {}), dtype=float)


def _derive_loss(point):
    """Parse and derive the :loss: once per block."""
    if point.loss_root is None:
        try:
            point.loss_root = parse(point.loss, point.shapes)
            point.derivation = derive(point.loss, point.shapes)
        except ExpressionError as exc:
            raise FormulaError(f":loss: {exc}") from None


# -- gradient lines: grad(V) = expr, ALIAS = grad(V) = expr, NAME = grad(V) -------------------

@dataclass
class _GradLine:
    wrt: str
    rhs: str
    alias: str | None  # ALIAS = grad(V) = expr
    name: str | None  # NAME = grad(V): the name's value is checked as the gradient


def _grad_line(text):
    """A gradient line read, or None if the line is not one."""
    naming = _NAMING.match(text)
    m = _GRAD.match(f"grad({naming['wrt']}) = {naming['name']}" if naming else text)
    if not m:
        return None
    return _GradLine(m["wrt"], m["rhs"], m["alias"], naming["name"] if naming else None)


def _gradient_rows(point, text, line, symbol):
    """Check a gradient line (shape, finite differences, the engine) and return its row."""
    if not point.loss:
        raise FormulaError(f"{text!r}: a grad(...) line needs the :loss: option")
    _derive_loss(point)
    claim = _program(point, line.rhs, text)
    target, at = _gradient_of(point, text, line.wrt)
    got = _value(point, claim)
    shown = _gradient_shown(line, claim, symbol)
    problem = (_gradient_shape_problem(point, shown, line.wrt, claim, got, at)
               or _finite_difference_problem(point, shown, line.wrt, target, at, got, symbol)
               or _engine_problem(point, shown, line.wrt, target, got))
    if problem:
        raise FormulaError(problem)
    return [_gradient_latex(line, claim, symbol)]


def _gradient_of(point, text, wrt):
    """What a gradient is taken with respect to: (None, a variable's value) or (an
    intermediate of the loss named ``wrt``, its value)."""
    inner = _named(point.loss_root, wrt)
    if wrt in point.shapes:
        return None, point.env[wrt]
    if inner is not None:
        return inner, _value(point, inner)
    raise FormulaError(f"{text!r}: {wrt!r} is neither a variable nor an intermediate named in the "
                       f":loss: (name one there, e.g. 'Z = X @ W + b; sum(G * sigmoid(Z))')")


def _loss_along(point, wrt, target):
    """The loss as a function of one matrix: a variable, or an intermediate with its inputs held."""
    def f(M):
        if target is None:
            return evaluate(point.loss_root, {**point.env, wrt: M}, point.sizes, np, {})[0, 0]
        return evaluate(point.loss_root, point.env, point.sizes, np, {id(target): M})[0, 0]
    return f


def _gradient_shape_problem(point, shown, wrt, claim, got, at):
    if got.shape == at.shape:
        return ""
    return (f"{shown} is wrong at {dims_text(point.sizes)}: it is {got.shape[0]}×{got.shape[1]}"
            f" ({'×'.join(map(str, claim.shape))}), but a gradient has the shape of "
            f"{wrt}, {at.shape[0]}×{at.shape[1]}{_engine_says(point.derivation, wrt)}")


def _finite_difference_problem(point, shown, wrt, target, at, got, symbol):
    try:
        gradcheck(_loss_along(point, wrt, target), (at,), (got,), names=[f"∂{symbol}/∂{wrt}"], seed=point.seed)
    except GradCheckError as exc:
        return (f"{shown} is wrong at {dims_text(point.sizes)}: {exc.diagnosis} (checked against "
                f"finite differences){_engine_says(point.derivation, wrt)}")
    return ""


def _engine_problem(point, shown, wrt, target, got):
    """A gradient of a variable against the engine's derivation (an intermediate's has none)."""
    if target is not None:
        return ""
    why = _relation(got, point.derivation.gradients(point.env)[wrt])
    if not why:
        return ""
    return f"{shown} disagrees with the engine's derivation: {why}{_engine_says(point.derivation, wrt)}"


def _gradient_shown(line, claim, symbol):
    """A gradient line in the words of its error messages."""
    if line.name:
        return f"{line.name} = ∂{symbol}/∂{line.wrt} (with {line.name} = {claim.text})"
    return f"∂{symbol}/∂{line.wrt} = {claim.text}"


def _gradient_latex(line, claim, symbol):
    lhs = rf"\frac{{\partial {symbol}}}{{\partial {Sym(line.wrt).latex}}}"
    if line.alias:
        lhs = f"{Sym(line.alias).latex} = {lhs}"
    left, right = (Sym(line.name).latex, lhs) if line.name else (lhs, render(claim))
    return rf"{left} &= {right} && {shape_latex(claim.shape)}"


# -- chains: A == B [== ...] and d(A) == B [== ...] -------------------------------------------

def _chain_rows(point, text):
    """Check an identity or a differential chain, each side against the one before it, and
    return its rows."""
    sides = [s.strip() for s in text.split("==")]
    if len(sides) < 2 or not all(sides):
        raise FormulaError(f"{text!r}: write 'grad(V) = expression', 'A == B' (an identity) or "
                           f"'d(A) == B' (a differential), one per line")
    differential = re.fullmatch(r"d\((.+)\)", sides[0])
    parsed, values = _chaindraw_values(point, text, sides, differential)
    problem = _chain_problem(point, parsed, values, differential)
    if problem:
        raise FormulaError(problem)
    return _chain_latex(sides, parsed, differential)


def _chaindraw_values(point, text, sides, differential):
    """Each side parsed and evaluated; a d(A) by central differences along the directions."""
    if differential:
        of = _program(point, differential[1], text)
        moved = [v for v in point.shapes if "d" + v in point.shapes]
        if not moved:
            raise FormulaError(f"{text!r}: a differential needs directions: give dX a shape for each X that moves")
        parsed = [of] + [_program(point, s, text) for s in sides[1:]]
        return parsed, [_directional(of, point.env, point.sizes, moved)] + [_value(point, p) for p in parsed[1:]]
    parsed = [_program(point, s, text) for s in sides]
    return parsed, [_value(point, p) for p in parsed]


def _chain_problem(point, parsed, values, differential):
    """The first side that differs from the one before it, in words ("" if none does)."""
    for k, ((a, va), (b, vb)) in enumerate(zip(zip(parsed, values), zip(parsed[1:], values[1:]))):
        why = _relation(vb, va, tol=1e-6 if differential and k == 0 else 1e-9)
        if why:
            a_text = f"d({a.text})" if differential and k == 0 else a.text
            return (f"{a_text} = {b.text} is wrong at {dims_text(point.sizes)}: the right-hand side: "
                    f"{why} (the left-hand side is the reference)")
    return ""


def _chain_latex(sides, parsed, differential):
    """``left &= B`` then ``&= C`` ..., the shape on the last row."""
    shown = [name_or_render(src, p) for src, p in zip([differential[1] if differential else sides[0],
                                                         *sides[1:]], parsed)]
    left = shown[0]
    if differential:
        left = (rf"\mathrm{{d}}{left}" if atomic(parsed[0]) or sides[0][2:-1].isidentifier()
                else rf"\mathrm{{d}}\left({left}\right)")
    first = rf"{left} &= {shown[1]}"
    rest = [rf"&= {p}" for p in shown[2:]]
    shape = rf" && {shape_latex(parsed[0].shape)}"
    return [first + (shape if not rest else "")] + rest[:-1] + ([rest[-1] + shape] if rest else [])


def _directional(node, env, sizes, moved, t=1e-6):
    """Central difference of a node along the directions: each X moves by t dX."""
    def at(sign):
        shifted = {**env, **{v: env[v] + sign * t * env["d" + v] for v in moved}}
        return np.asarray(evaluate(node, shifted, sizes, np, {}), dtype=float)

    with np.errstate(all="raise"):
        return (at(1) - at(-1)) / (2 * t)


def _engine_says(derivation, wrt):
    if derivation is None or wrt not in derivation.gradient_expressions:
        return ""
    step = next(s for s in derivation.backward_steps if s.name == f"G_{wrt}")
    closed = derivation.closed_form(wrt)
    said = f"; the engine derives ∂L/∂{wrt} = {step.expression}"
    return said + (f", that is {closed}" if closed != step.expression else "")


def render_derivation(expr, shapes, wrt=None, steps=None, forward=False, why=False, sizes=None, seed=0):
    """The engine's derivation as aligned LaTeX rows, after ``Derivation.check`` passed."""
    shapes = parse_shapes(shapes) if isinstance(shapes, str) else dict(shapes)
    try:
        d = derive(expr, shapes, wrt=wrt)
    except ExpressionError as exc:
        raise FormulaError(str(exc)) from None
    try:
        report = d.check(sizes=sizes or None, seed=seed)
    except GradCheckError as exc:
        raise FormulaError(f"the engine's derivation of {expr!r} fails its check: {exc}") from None
    if report.verdict != "right":
        raise FormulaError(f"the engine's derivation of {expr!r} is not checked at this point: {report}")
    chosen = d.steps if forward else d.backward_steps
    if steps:
        by_name = {s.name: s for s in d.steps}
        missing = [s for s in steps if s not in by_name]
        if missing:
            raise FormulaError(f":steps: {', '.join(missing)} is not a step; the steps are "
                               f"{', '.join(by_name)}")
        chosen = [by_name[s] for s in steps]
    rows = []
    for s in chosen:
        line = f"{s.symbol_latex} &= {s.expression_latex} && {shape_latex(s.shape)}"
        reason = r";\quad ".join(x for x in (s.differential_latex, s.identity_latex) if x)
        rows.append(line + (rf" && {reason}" if why and reason else ""))
    return rows
