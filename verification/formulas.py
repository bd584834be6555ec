r"""Display formulas of the pages, written once in the engine's syntax and checked numerically.

The Sphinx extension ``conf/checked_math.py`` renders what this module checks:

* :func:`check_formulas`: lines ``grad(W) = expr`` (a gradient of a loss, compared with
  central differences and with the engine's derivation), ``A == B`` (an identity) and
  ``d(A) == B`` (a differential along random directions), each evaluated on random
  matrices whose dimensions are distinct primes; returns the rows of an aligned LaTeX
  block rendered by the engine, or raises :class:`FormulaError` saying what is wrong and
  what the engine derives.
* :func:`render_derivation`: the engine's step-by-step derivation, after its check.
* :func:`raw_math_problem`: the rule that tells a hand-written definition from a result.
* :func:`raw_inline_problem`: the same rule for inline math in running text.

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

import numpy as np

from derivlib.check import Diagnosis, GradCheckError, gradcheck, relation
from derivlib.engine import ExpressionError, derive, parse
from derivlib.engine import sample
from derivlib.engine.evaluate import evaluate
from derivlib.engine.sample import PRIMES
from derivlib.engine.shapes import check_name, check_shape
from derivlib.engine.nodes import GREEK, Sym
from derivlib.engine.render import latex

__all__ = ["FormulaError", "check_formulas", "render_derivation", "raw_math_problem", "raw_inline_problem", "parse_shapes",
           "rename", "dims_text", "option_pairs", "prime_sizes", "PRIMES", "USE_INSTEAD"]

DRAWS = ("normal", "positive", "onehot", "simplex")
USE_INSTEAD = (
    "write a result with ```{checked-math}``` (engine syntax, checked numerically) or "
    "```{derivation}``` (the engine's steps); a definition or notation may stay raw LaTeX as "
    "```{math}``` with ':class: definition' (see 'How these pages are checked' in CONTRIBUTING.md)"
)


class FormulaError(ValueError):
    """A displayed formula that is wrong, or that cannot be read or checked."""


# -- options ----------------------------------------------------------------------------------


def parse_shapes(spec):
    """``"X=n,p W=p,q b=1,q"`` (spaces or ``;`` between) -> ``{"X": ("n", "p"), ...}``.

    Each shape is read by the engine's shape rule (:mod:`derivlib.engine.shapes`), which
    names it ``:shapes: X``; ``c=()`` is a number.
    """
    shapes = {}
    for item in re.split(r"[;\s]+", (spec or "").strip()):
        if not item:
            continue
        name, eq, dims = item.partition("=")
        if not eq:
            raise FormulaError(f":shapes: each entry is NAME=rows,cols (e.g. X=n,p); got {item!r}")
        where = f":shapes: {name}"
        try:
            shapes[check_name(name, where, shapes)] = check_shape(dims, where)
        except ValueError as exc:
            raise FormulaError(str(exc)) from None
    if not shapes:
        raise FormulaError(":shapes: is required, e.g. ':shapes: X=n,p W=p,q'")
    return shapes


def option_pairs(spec, what, convert=str):
    out = {}
    for item in re.split(r"[;\s,]+", (spec or "").strip()):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq:
            raise FormulaError(f":{what}: each entry is NAME=VALUE; got {item!r}")
        try:
            out[key] = convert(value)
        except ValueError:
            raise FormulaError(f":{what}: {key}={value!r} is not valid") from None
    return out


def prime_sizes(shapes, given):
    dims = []
    for shape in shapes.values():
        dims += [d for d in shape if isinstance(d, str) and d not in dims]
    unknown = [d for d in given if d not in dims]
    if unknown:
        raise FormulaError(f":sizes: {', '.join(unknown)} is not a dimension (dimensions: {', '.join(dims)})")
    return sample.prime_sizes(dims, given)


def _values(shapes, sizes, draw, seed):
    rng = np.random.default_rng(seed)
    env = {}
    for name, shape in shapes.items():
        r, c = sample.variable_shape(shape, sizes)
        kind = draw.get(name, "normal")
        if kind == "normal":
            env[name] = rng.standard_normal((r, c))
        elif kind == "positive":
            env[name] = rng.uniform(*sample.POSITIVE, (r, c))
        elif kind == "onehot":
            env[name] = np.eye(c)[rng.integers(0, c, r)]
        elif kind == "simplex":
            a = rng.uniform(0.1, 1.0, (r, c))
            env[name] = a / a.sum(axis=1, keepdims=True)
        else:
            raise FormulaError(f":draw: {name}={kind!r}; use one of {', '.join(DRAWS)}")
    return env


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


def dims_text(sizes):
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def _shape_latex(shape):
    return r" \times ".join(Sym(d).latex if isinstance(d, str) else str(d) for d in shape)


def _relation(got, want, tol=1e-9):
    """How an array differs from the one it should equal, in words ("" if it does not): the
    checker's diagnosis (:func:`derivlib.check.relation`), in the words of a page's formula."""
    found = relation(got, want, rtol=tol)
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


# -- rendering --------------------------------------------------------------------------------

def _inner(node):
    while node.op == "ref" or (node.op == "let" and node.name is None):
        node = node.attr if node.op == "ref" else node.args[0]
    return node


def _atomic(node):
    node = _inner(node)
    return node.name is not None or node.op in ("var", "const", "dim") or (
        node.op == "T" and _inner(node.args[0]).op == "var")


def _factor(node):
    body = latex(node, top=False)
    return body if _atomic(node) else rf"\left({body}\right)"


def render(node, top=True):
    """The engine's LaTeX, with a sum of all entries of a product written as a Frobenius
    product, ``1ᵀ(A ∘ B)1`` as ``A : B``, and a differential ``dW`` as ``\\mathrm{d}W``."""
    n = node if top else _inner(node)
    core = _inner(n) if top and n.op in ("ref", "let") and n.name is None else n
    if core.name is None or top:
        c = core.args[0] if core.op == "let" else core
        c = _inner(c) if c.name is None else c
        if c.op == "sum" and c.attr is None and _inner(c.args[0]).op == "mul" and _inner(c.args[0]).name is None:
            a, b = _inner(c.args[0]).args
            return f"{_factor(a)} : {_factor(b)}"
        if c.op == "neg" and c.name is None and _frobenius(c.args[0]):
            return "-" + render(c.args[0], top=False)
        if c.op in ("add", "sub") and c.name is None and all(_frobenius(a) for a in c.args):
            sign = " + " if c.op == "add" else " - "
            return render(c.args[0], top=False) + sign + render(c.args[1], top=False)
    return latex(node, top=top)


def _differentials(rows, names):
    """``dX`` written as the differential of ``X``: ``\\mathrm{d}X``, ``\\mathrm{d}\\theta``, ``\\mathrm{d}\\hat{y}``."""
    def is_differential(n):
        rest = n[1:]
        return n.startswith("d") and (rest in names or rest in GREEK or re.fullmatch(r"[A-Za-z]\d*(hat)?", rest))

    pairs = sorted(((Sym(n).latex, r"\mathrm{d}" + Sym(n[1:]).latex) for n in names if is_differential(n)),
                   key=lambda p: -len(p[0]))
    for plain, shown in pairs:
        rows = [re.sub(re.escape(plain) + r"(?![A-Za-z_{])", lambda m: shown, r) for r in rows]
    return rows


def _name_or_render(src, node):
    """A side written as a bare name shows the name (Z), not its definition (XW + 1b)."""
    if src.strip().isidentifier():
        return Sym(src.strip()).latex
    return render(node)


def _frobenius(node):
    c = _inner(node)
    if c.name is not None:
        return False
    if c.op == "sum" and c.attr is None and _inner(c.args[0]).op == "mul":
        return True
    if c.op == "neg":
        return _frobenius(c.args[0])
    return c.op in ("add", "sub") and all(_frobenius(a) for a in c.args)


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
    shapes = parse_shapes(shapes) if isinstance(shapes, str) else dict(shapes)
    sizes = prime_sizes(shapes, sizes or {})
    env = _values(shapes, sizes, draw or {}, seed)
    prefix = where.strip().rstrip(";")
    prefix = prefix + "; " if prefix else ""

    def program(src, text):
        try:
            return parse(prefix + src, shapes)
        except ExpressionError as exc:
            raise FormulaError(f"{text!r}: {exc}") from None

    def value(node):
        with np.errstate(all="raise"):
            return np.asarray(evaluate(node, env, sizes, np, {}), dtype=float)

    loss_root = derivation = None
    rows = []
    lines = [ln.strip() for ln in lines if ln.strip()]
    if not lines:
        raise FormulaError("no formula: write one per line, 'grad(W) = ...' or 'A == B'")
    for text in lines:
        naming = _NAMING.match(text)  # NAME = grad(V): the name's value is checked as the gradient
        m = _GRAD.match(f"grad({naming['wrt']}) = {naming['name']}" if naming else text)
        if m:
            if not loss:
                raise FormulaError(f"{text!r}: a grad(...) line needs the :loss: option")
            if loss_root is None:
                try:
                    loss_root = parse(loss, shapes)
                    derivation = derive(loss, shapes)
                except ExpressionError as exc:
                    raise FormulaError(f":loss: {exc}") from None
            wrt, claim = m["wrt"], program(m["rhs"], text)
            inner = _named(loss_root, wrt)
            if wrt in shapes:
                target, at = None, env[wrt]
            elif inner is not None:
                target, at = inner, value(inner)
            else:
                raise FormulaError(f"{text!r}: {wrt!r} is neither a variable nor an intermediate named in the "
                                   f":loss: (name one there, e.g. 'Z = X @ W + b; sum(G * sigmoid(Z))')")
            got = value(claim)

            def f(M, wrt=wrt, target=target):
                if target is None:
                    return evaluate(loss_root, {**env, wrt: M}, sizes, np, {})[0, 0]
                return evaluate(loss_root, env, sizes, np, {id(target): M})[0, 0]

            lhs = rf"\frac{{\partial {symbol}}}{{\partial {Sym(wrt).latex}}}"
            shown = f"∂{symbol}/∂{wrt} = {claim.text}"
            if naming:
                shown = f"{naming['name']} = ∂{symbol}/∂{wrt} (with {naming['name']} = {claim.text})"
            if got.shape != at.shape:
                raise FormulaError(f"{shown} is wrong at {dims_text(sizes)}: it is {got.shape[0]}×{got.shape[1]}"
                                   f" ({'×'.join(map(str, claim.shape))}), but a gradient has the shape of "
                                   f"{wrt}, {at.shape[0]}×{at.shape[1]}{_engine_says(derivation, wrt)}")
            try:
                gradcheck(f, (at,), (got,), names=[f"∂{symbol}/∂{wrt}"], seed=seed)
            except GradCheckError as exc:
                raise FormulaError(f"{shown} is wrong at {dims_text(sizes)}: {exc.diagnosis} (checked against "
                                   f"finite differences){_engine_says(derivation, wrt)}") from None
            if target is None:
                want = derivation.gradients(env)[wrt]
                why = _relation(got, want)
                if why:
                    raise FormulaError(f"{shown} disagrees with the engine's derivation: {why}"
                                       f"{_engine_says(derivation, wrt)}")
            if m["alias"]:
                lhs = f"{Sym(m['alias']).latex} = {lhs}"
            left, right = (Sym(naming["name"]).latex, lhs) if naming else (lhs, render(claim))
            rows.append(rf"{left} &= {right} && {_shape_latex(claim.shape)}")
            continue
        sides = [s.strip() for s in text.split("==")]
        if len(sides) < 2 or not all(sides):
            raise FormulaError(f"{text!r}: write 'grad(V) = expression', 'A == B' (an identity) or "
                               f"'d(A) == B' (a differential), one per line")
        differential = re.fullmatch(r"d\((.+)\)", sides[0])
        if differential:
            of = program(differential[1], text)
            moved = [v for v in shapes if "d" + v in shapes]
            if not moved:
                raise FormulaError(f"{text!r}: a differential needs directions: give dX a shape for each X that moves")
            parsed = [of] + [program(s, text) for s in sides[1:]]
            values = [_directional(of, env, sizes, moved)] + [value(p) for p in parsed[1:]]
        else:
            parsed = [program(s, text) for s in sides]
            values = [value(p) for p in parsed]
        for k, ((a, va), (b, vb)) in enumerate(zip(zip(parsed, values), zip(parsed[1:], values[1:]))):
            why = _relation(vb, va, tol=1e-6 if differential and k == 0 else 1e-9)
            if why:
                a_text = f"d({a.text})" if differential and k == 0 else a.text
                raise FormulaError(f"{a_text} = {b.text} is wrong at {dims_text(sizes)}: the right-hand side: "
                                   f"{why} (the left-hand side is the reference)")
        shown = [_name_or_render(src, p) for src, p in zip([differential[1] if differential else sides[0],
                                                             *sides[1:]], parsed)]
        left = shown[0]
        if differential:
            left = (rf"\mathrm{{d}}{left}" if _atomic(parsed[0]) or sides[0][2:-1].isidentifier()
                    else rf"\mathrm{{d}}\left({left}\right)")
        first = rf"{left} &= {shown[1]}"
        rest = [rf"&= {p}" for p in shown[2:]]
        shape = rf" && {_shape_latex(parsed[0].shape)}"
        rows.extend([first + (shape if not rest else "")] + rest[:-1] + ([rest[-1] + shape] if rest else []))
    names = set(shapes) | set(re.findall(r"(?:^|;)\s*([A-Za-z_]\w*)\s*=(?!=)", where + ";" + (loss or "")))
    return _differentials(rows, names)


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
        line = f"{s.symbol_latex} &= {s.expression_latex} && {_shape_latex(s.shape)}"
        reason = r";\quad ".join(x for x in (s.differential_latex, s.identity_latex) if x)
        rows.append(line + (rf" && {reason}" if why and reason else ""))
    return rows


def rename(spec, rows):
    """``:names: xk=\\vec x_k; wk=\\vec w_k``: the LaTeX of names longer than a letter."""
    for item in (spec or "").split(";"):
        if not item.strip():
            continue
        ident, eq, tex = item.partition("=")
        ident, tex = ident.strip(), tex.strip()
        if not eq or not ident.isidentifier() or not tex:
            raise FormulaError(f":names: each entry is NAME=LaTeX, separated by ';'; got {item.strip()!r}")
        plain = Sym(ident).latex
        rows = [re.sub(r"\\mathrm\{d\}" + re.escape(ident) + r"(?![A-Za-z])", lambda m: r"\mathrm{d}" + tex, r)
                .replace(plain, tex) for r in rows]
    return rows



# -- the rule for hand-written display math ---------------------------------------------------

_DERIVATIVE = re.compile(r"\\partial|\\nabla|\\frac\{\s*(?:\\mathrm\{d\}|d)\s*[A-Za-z\\]"
                         r"|(?<![A-Za-z\\])d[A-Za-z]\w*\s*/\s*d[A-Za-z]"  # dL/dW
                         r"|\\mathrm\{d\}\s*[^/]{1,40}/\s*\\mathrm\{d\}")  # \mathrm{d}L/\mathrm{d}W


def raw_math_problem(latex, classes):
    """Why a hand-written display math block may not stand on a page, or "" if it may."""
    if "checked" in classes:
        return ""
    if "definition" not in classes:
        return "display math typed as raw LaTeX; " + USE_INSTEAD
    if _DERIVATIVE.search(latex):
        parts = latex.split(":=")
        if len(parts) != 2 or _DERIVATIVE.search(parts[0]) or "=" in parts[1].replace(r"\neq", ""):
            return ("a definition block states a derivative: a derivative is a result. Use ```{checked-math}```, "
                    "or write the definition as 'NAME := derivative' with nothing after it")
    return ""


_INLINE_DERIVATIVE = re.compile(_DERIVATIVE.pattern + "|∂|∇")
_STATES = re.compile(r"(?<!:)=|\\approx|\\equiv|≈")
USE_ROLE = (
    "write it with the role {checked}`NAME: grad(W) = ...` (engine syntax, checked numerically) against a "
    "```{formula-context}``` NAME given earlier on the page; quote a thread's formula with ```{asked}``` or "
    "{verdict}; a name for a derivative may stay raw as 'NAME := derivative' (see 'How these pages are "
    "checked' in CONTRIBUTING.md)"
)


def raw_inline_problem(latex):
    r"""Why a hand-written inline formula may not stand in running text, or "" if it may.

    Inline math that *states* a derivative, one that contains ``\partial``, ``\nabla``,
    ``\frac{d...}``, ``∂`` or ``∇`` together with ``=``, ``\approx`` or ``\equiv``, is a
    result, and a result is checked. Notation stays allowed: a derivative alone
    (``\partial L/\partial W``), or named as ``NAME := derivative`` with nothing after it.

    Examples
    --------
    >>> raw_inline_problem(r"\partial L/\partial W")
    ''
    >>> raw_inline_problem(r"\partial L/\partial X = W^T\Delta").split(";")[0]
    'inline math states a derivative as raw LaTeX'
    """
    if not _INLINE_DERIVATIVE.search(latex):
        return ""
    parts = latex.split(":=")
    if len(parts) == 2 and not _INLINE_DERIVATIVE.search(parts[0]) and not _STATES.search(parts[1]):
        return ""  # a name given to a derivative
    if not _STATES.search(latex) and ":=" not in latex:  # a := left over is a result given a derivative's name
        return ""
    return "inline math states a derivative as raw LaTeX; " + USE_ROLE
