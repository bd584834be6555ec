"""Grade a learner's backward pass line by line: "check my steps".

The learner writes lines ``NAME = expression`` in the engine's syntax. ``dW``, ``dS``,
``dZ``, ... (``d`` before the name of a variable, or of a forward step the derivation
shows) is their gradient of the loss with respect to it, and is graded; any other name is
their own helper, computed but not graded. Each line is evaluated at a random point (the
answer checker's: :mod:`derivlib.playground.answer`) with the *engine's* values of the
gradients it reads, so one mistake does not make every later line wrong, and a wrong line
gets the answer checker's diagnosis (transposed, a factor such as 1/n, sign, an
activation's derivative or a path left out, not summed over the batch).
Standard library only: this module also runs in the browser, on Pyodide.
"""

from __future__ import annotations

import ast
import math
import random
from typing import NamedTuple

from ..diagnosis import Diagnosis
from ..engine import Step, derive, parse
from ..engine.rules import FORGETTABLE as ACTIVATIONS
from ..engine.sample import positive_variables
from .answer import _evaluate, _missing_derivatives, _missing_paths, diagnose, dimension_sizes, random_env

__all__ = ["GradedLine", "grade"]

#: At most this many lines are graded (each is evaluated at a random point).
MAX_LINES = 60


class GradedLine(NamedTuple):
    """The grade of one line of :func:`grade`.

    ``line`` is its number (from 1, blank and ``#`` lines counted); ``name`` the name it
    assigns (``""`` when it does not parse); ``verdict`` ``"right"``, ``"wrong"`` or
    ``"ungraded"`` (a helper, a name the derivation does not have, or a line that cannot
    be read, ``message`` saying why); ``kind`` the answer checker's kind of mistake
    (:data:`derivlib.playground.answer.KINDS`) for a graded line, else None;
    ``diagnosis`` the :class:`~derivlib.diagnosis.Diagnosis` of a wrong line; ``step`` the
    engine's step for a graded name (its ``.text`` and ``.latex`` are the engine's version
    of the line), else None.
    """

    line: int
    name: str
    verdict: str
    kind: str | None
    message: str
    diagnosis: Diagnosis | None = None
    step: Step | None = None


class _Line(NamedTuple):
    number: int
    name: str
    source: str  # the right-hand side
    error: str  # why the line cannot be read, or ""


def _split(text: str) -> list:
    """The lines ``NAME = expression`` of ``text``, each with its number; a bad one with why."""
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(out) == MAX_LINES:
            raise ValueError(f"text: at most {MAX_LINES} lines are graded at once; got more")
        try:
            tree = ast.parse(line, mode="exec")
        except SyntaxError as exc:
            out.append(_Line(number, "", line, f"not valid syntax ({exc.msg}): write `NAME = expression`"))
            continue
        statement = tree.body[0] if len(tree.body) == 1 else None
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            out.append(_Line(number, "", line, "write one assignment per line, `NAME = expression`, "
                                               "such as dW = X.T @ dZ"))
            continue
        name = statement.targets[0].id
        out.append(_Line(number, name, ast.get_source_segment(line, statement.value), ""))
    if not out:
        raise ValueError("text: write your backward pass as lines `NAME = expression`, such as dW = X.T @ dZ")
    return out


class _Target(NamedTuple):
    """What a graded name ``dX`` is the gradient of."""

    of: str  # X
    node: object  # X's node: a variable or a named forward node
    step: Step  # the engine's step of its gradient (the total, for a name used several times)


def _targets(full) -> dict:
    """``dX`` -> :class:`_Target` for every variable and named forward step of ``full`` but the loss."""
    adjoint = {}
    for s in full.backward_steps:
        if s.kind in ("backward", "paths"):
            adjoint[id(s.of)] = s
    out = {}
    for name, node in full.variables.items():
        out["d" + name] = _Target(name, node, full._adjoint_step[name])
    for s in full.forward_steps:
        if s.node is not full.root and id(s.node) in adjoint:
            out["d" + s.name] = _Target(s.name, s.node, adjoint[id(s.node)])
    return out


def _ungraded_name(name: str, full, forward: dict) -> str:
    """Why ``name`` is not graded: a helper, or a ``d`` name the derivation does not have."""
    loss = next(k for k, v in forward.items() if v is full.root)
    if name == "d" + loss:
        return f"{name} is the gradient of the loss with respect to itself, 1: not graded."
    if name.startswith("d") and len(name) > 1:
        shown = ", ".join([*full.variables, *(k for k in forward if forward[k] is not full.root)])
        return (f"{name} is not graded: the derivation has no variable or forward step named {name[1:]} "
                f"(it has {shown}); it is kept as your own helper.")
    return f"{name} is your own helper: not graded itself, its value is used by the lines that read it."


def _point(full, sizes: dict, rng: random.Random) -> dict:
    """Random values of the variables where every gradient is finite (positive where needed)."""
    for positive in (positive_variables(full), True):
        env = random_env(full.shapes, sizes, rng, positive, full.indices)
        try:
            values = {v: _evaluate(full._adjoint_step[v].node, env, sizes=sizes) for v in full.variables}
        except (ValueError, OverflowError, ZeroDivisionError):
            continue
        if all(math.isfinite(x) for m in values.values() for row in m for x in row):
            return env
    raise ValueError("the expression cannot be evaluated at random points (a log or a division by zero)")


def _activation_skipped(full, target: _Target, env: dict, sizes: dict) -> list:
    """For a forward node ``Z`` read only by an activation ``S = f(Z)``: ``dZ`` equal to ``dS``,
    the activation's derivative left out (the answer checker's ``"missing sigma'"``)."""
    users = [n for n in full.nodes if any(a is target.node for a in n.args)]
    if len(users) != 1 or users[0].op not in ACTIVATIONS or users[0].name is None:
        return []
    (user,) = users
    step = next((s for s in full.backward_steps if s.of is user and s.kind in ("backward", "paths")), None)
    if step is None:
        return []
    what = (f"without the derivative {user.op}′ at {user.name.text} = {user.op}({target.of}): that is "
            f"d{user.name.ident} itself; an element-wise activation multiplies its incoming gradient by its "
            "derivative, element by element")
    return [("missing sigma'", what, _evaluate(step.node, env, sizes=sizes))]


def _unknown(source: str, named: dict, sizes: dict, indices=None) -> str:
    """The first name ``source`` reads that is neither in ``named``, an index vector nor a dimension ("" if none)."""
    tree = ast.parse(source, mode="eval")
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for n in ast.walk(tree):
        if (isinstance(n, ast.Name) and id(n) not in calls and n.id not in named and n.id not in sizes
                and n.id not in (indices or {})):
            return n.id
    return ""


def _parse_line(source: str, named: dict, sizes: dict, indices=None):
    """The node of a line and the 1×1 values of the dimensions it uses as numbers (``/ n``);
    ``indices``: the index vectors (name -> ``(n, k)``) the line may read through take, pick, onehot."""
    indices = indices or {}
    try:
        return parse(source, named, step=True, indices=indices), {}
    except ValueError:
        used = {n.id for n in ast.walk(ast.parse(source, mode="eval")) if isinstance(n, ast.Name)}
        numbers = {dim: [[float(size)]] for dim, size in sizes.items() if dim in used and dim not in named}
        if not numbers:
            raise
        sized = {k: tuple(sizes.get(x, x) for x in v) for k, v in named.items()}
        return parse(source, {**sized, **{k: (1, 1) for k in numbers}}, step=True,
                     indices={k: tuple(sizes.get(x, x) for x in v) for k, v in indices.items()}), numbers


def _grade_at(d, lines: list, sizes: dict, seed: int) -> list:
    """Every line's :class:`GradedLine` at one random point with the dimensions' ``sizes``."""
    full = derive(d.expr, shapes=d.shapes, indices=d.indices)  # every variable's gradient
    forward = {s.name: s.node for s in full.forward_steps}
    targets = _targets(full)
    env = _point(full, sizes, random.Random(seed))
    known = {**env, **{k: _evaluate(v, env, sizes=sizes) for k, v in forward.items() if v is not full.root}}
    named = {**full.shapes, **{k: v.shape for k, v in forward.items() if v is not full.root}}
    reserved = set(named) | set(forward) | set(full.indices)
    out = []
    for ln in lines:
        def result(verdict, message, kind=None, diagnosis=None, step=None):
            out.append(GradedLine(ln.number, ln.name, verdict, kind, f"Line {ln.number}: {message}", diagnosis, step))

        if ln.error:
            result("ungraded", ln.error)
            continue
        target = targets.get(ln.name)
        if ln.name in reserved:
            result("ungraded", f"{ln.name} is a name of the derivation ("
                   + ("a variable" if ln.name in full.shapes else
                      "an index vector" if ln.name in full.indices else "a forward step")
                   + "): give your line another name, such as d" + ln.name + " for its gradient.")
            continue
        unknown = _unknown(ln.source, named, sizes, full.indices)
        if unknown:
            why = (f"{unknown} is not defined: no earlier line assigns it. A line may read the variables, the "
                   f"forward steps ({', '.join(k for k in forward if forward[k] is not full.root)}) and the "
                   "names of earlier lines.")
            result("ungraded" if target is None else "wrong", why, step=None if target is None else target.step)
            named.pop(ln.name, None)
            known.pop(ln.name, None)
            continue
        try:
            node, numbers = _parse_line(ln.source, named, sizes, full.indices)
            value = _evaluate(node, {**known, **numbers}, sizes={k: v for k, v in sizes.items() if k not in numbers})
        except ValueError as err:
            message = str(err)
            if target is None:
                named.pop(ln.name, None)
                known.pop(ln.name, None)
                result("ungraded", f"{ln.name} cannot be evaluated: {message}")
            else:
                result("wrong", f"{ln.name} cannot be evaluated: {message}", step=target.step)
            continue
        except (OverflowError, ZeroDivisionError):
            value = [[math.nan]]
        if target is None:
            named[ln.name], known[ln.name] = node.shape, value
            result("ungraded", _ungraded_name(ln.name, full, forward))
            continue
        truth = _evaluate(target.step.node, env, sizes=sizes)
        alternatives = _missing_paths(full, target.of, env, sizes, node=target.node)
        if target.node.op == "var":
            alternatives += _missing_derivatives(full.expr, full.shapes, target.of, env, sizes, full.indices)
        else:
            alternatives += _activation_skipped(full, target, env, sizes)
        verdict = diagnose(value, truth, target.of, sizes=sizes, alternatives=alternatives)
        said = verdict.message.replace("your gradient", f"your {ln.name}").replace("yours", f"your {ln.name}")
        result("right" if verdict.right else "wrong", said, kind=verdict.kind,
               diagnosis=None if verdict.right else verdict.diagnosis, step=target.step)
        # later lines read the engine's value of dX, so that one mistake is counted once
        named[ln.name], known[ln.name] = target.step.shape, truth
    return out


def _check_sizes(sizes, d) -> None:
    if not isinstance(sizes, dict):
        raise TypeError(f"sizes must be a dict of dimension name -> size; got {type(sizes).__name__}")
    for dim in d.dims():
        size = sizes.get(dim)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes: dimension {dim!r} needs a positive integer size; got {size!r}")


def grade(d, text: str, sizes: dict | None = None, seed: int = 0) -> list:
    """Grade the learner's backward pass ``text`` for the derivation ``d``, line by line.

    Parameters
    ----------
    d : derivlib.engine.Derivation
        The derivation (its expression and shapes; every variable is graded, whatever its
        ``wrt``).
    text : str
        Lines ``NAME = expression`` in the engine's syntax; blank lines and lines that
        start with ``#`` are skipped. ``dX``, for a variable or a forward step ``X`` the
        derivation shows (``S``, ``Z``), is the gradient of the loss with respect to ``X``;
        any other name is a helper. A line may read the variables, the forward steps, the
        dimensions' names as numbers (``/ n``), ``[Z > 0]`` and the names of earlier lines.
    sizes : dict, optional
        Dimension name -> size; default distinct primes (3, 5, 7, ...), and a factor equal
        to a size is then confirmed at other sizes.
    seed : int
        The random point.

    Returns
    -------
    list of GradedLine
        One per line that is not blank or a comment, in order.

    Raises
    ------
    TypeError
        ``text`` is not a string.
    ValueError
        ``text`` has no line, or more than :data:`MAX_LINES`.

    Examples
    --------
    >>> from derivlib.engine import derive
    >>> d = derive("sum(G * sigmoid(X @ W))", shapes={"X": ("n", "p"), "W": ("p", "q"), "G": ("n", "q")})
    >>> [(g.name, g.verdict, g.kind) for g in grade(d, "dS = G\\ndZ = dS * S * (1 - S)\\ndW = dZ.T @ X")]
    [('dS', 'right', 'right'), ('dZ', 'right', 'right'), ('dW', 'wrong', 'wrong shape, its transpose is right')]
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string of lines `NAME = expression`; got {type(text).__name__}")
    lines = _split(text)
    if sizes is not None:
        _check_sizes(sizes, d)
        return _grade_at(d, lines, sizes, seed)
    declared = {**d.shapes, **d.indices}  # an index vector's n and k are dimensions too
    graded = _grade_at(d, lines, dimension_sizes(declared), seed)
    if any(g.kind == "off by 1/n" for g in graded):  # a factor equal to a size: that size at other sizes too?
        again = _grade_at(d, lines, dimension_sizes(declared, first=5), seed + 1)
        graded = [b if a.kind == "off by 1/n" else a for a, b in zip(graded, again)]
    return graded

