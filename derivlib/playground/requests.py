"""What the in-page playground (docs/playground.md) calls: text in, plain data out.

The page passes what the reader typed as strings (never as Python source) to
:func:`derive_request`, :func:`answer_request` and :func:`grade_request`, which take and return JSON. Every error
in the reader's input comes back as ``{"ok": False, "field": ..., "message": ...}``, the
field naming the input to show it next to. Standard library only: this runs in Pyodide.

Index vectors (class labels, word ids) are declared in the shapes box, one per line, as
``y: index n, k``: ``y`` holds ``n`` integers in ``range(k)`` and is read by ``take(E, y)``,
``pick(S, y)`` and ``onehot(y)`` (:func:`parse_declarations`). Deriving takes them; the
answer checker does not yet, and says so.
"""

from __future__ import annotations

import html
import json
import re

from ..engine import derive
from ..engine.loops import has_loop
from ..engine.parse import _syntax
from ..engine.shapes import check_name, check_shape
from .answer import check_answer
from .gallery import GALLERY, HAND, LOOPS
from .grade import grade

__all__ = ["EXAMPLES", "derive_request", "answer_request", "grade_request", "run_derive", "run_answer",
           "run_grade", "examples_html", "run_exercise", "run_hint", "exercise_request", "hint_request",
           "parse_shapes", "parse_declarations", "parse_wrt"]

MAX_DIM = 64  # an integer dimension larger than this would make the in-page check slow

def parse_shapes(text: str) -> dict:
    """Read ``name: dim, dim`` lines into ``{name: (dim, dim)}``; an index line is refused.

    See :func:`parse_declarations`, which reads index lines too.

    Examples
    --------
    >>> parse_shapes("X: n, p\\nb: 1, q\\nc: ()")
    {'X': ('n', 'p'), 'b': (1, 'q'), 'c': (1, 1)}
    """
    shapes, indices = parse_declarations(text)
    if indices:
        raise ValueError(f"{', '.join(indices)}: an index vector is not a matrix; read these lines with "
                         f"parse_declarations")
    return shapes


def parse_declarations(text: str, sequences: bool = False) -> tuple:
    """Read ``name: dim, dim`` and ``y: index n, k`` lines into ``(shapes, indices)``.

    ``name: dim, dim`` gives a variable's shape, dims names or integers; ``name: ()``
    declares a number (a scalar), as ``(1, 1)``; ``y: index n, k`` declares an index
    vector, ``n`` integers in ``range(k)`` (``indices={"y": ("n", "k")}``). With
    ``sequences`` (a program with a ``for`` loop), ``X: T, n, d`` declares a sequence of
    T matrices n×d (``("T", "n", "d")``), read as ``X[t]`` in the loop. Each line is read by the
    engine's shape rule (:mod:`derivlib.engine.shapes`), which names it ``line 2``; a
    numbered dimension is at most :data:`MAX_DIM` here.

    Examples
    --------
    >>> parse_declarations("S: n, k\\ny: index n, k")
    ({'S': ('n', 'k')}, {'y': ('n', 'k')})
    """
    if not isinstance(text, str):
        raise TypeError(f"shapes must be text; got {type(text).__name__}")
    shapes, indices = {}, {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, colon, dims = line.partition(":")
        if not colon:
            raise ValueError(f"line {number} ({line!r}): write one variable per line as `name: rows, columns`")
        where = f"line {number}"
        first, _, rest = dims.strip().partition(" ")
        if first == "index":
            where = f"line {number} (an index vector: `{name.strip()}: index n, k`)"
            indices[check_name(name.strip(), where, {**shapes, **indices})] = check_shape(rest, where, largest=MAX_DIM)
            continue
        if sequences and len(dims.split(",")) == 3:  # a sequence (T, n, d), read as X[t] in the loop
            shapes[check_name(name.strip(), where, {**shapes, **indices})] = _sequence(dims, where)
            continue
        shapes[check_name(name.strip(), where, {**shapes, **indices})] = check_shape(dims, where, largest=MAX_DIM)
    if not shapes:
        raise ValueError("no shapes given: write one variable per line as `name: rows, columns`")
    return shapes, indices


def _sequence(dims: str, where: str) -> tuple:
    """``T, n, d`` as a sequence's shape ``(T, n, d)`` (in a program with a loop)."""
    length, rest = dims.split(",", 1)
    return (check_shape(f"{length}, 1", where, largest=MAX_DIM)[0], *check_shape(rest, where, largest=MAX_DIM))


def parse_wrt(text: str, shapes: dict) -> list:
    """Comma-separated variable names, each of which must have a shape."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError("name at least one variable to differentiate with respect to, such as W")
    for name in names:
        if name not in shapes:
            raise ValueError(f"{name!r} has no shape; the variables are {', '.join(shapes)}")
    if len(set(names)) != len(names):
        raise ValueError("a variable is named twice")
    return names



_QUESTIONS = {"sigmoid_layer": 1, "linear_dot": 2, "two_layer": 3}


def _example(e) -> dict:
    question = _QUESTIONS.get(e.key)
    shapes = "\n".join([f"{k}: {', '.join(str(d) for d in v) if v else '()'}" for k, v in e.shapes.items()]
                       + [f"{y}: index {', '.join(str(d) for d in decl)}" for y, decl in e.indices.items()])
    return {"key": e.key, "name": f"{e.title} (question {question})" if question else e.title,
            "expr": e.expr, "shapes": shapes, "wrt": ", ".join(e.wrt)}


#: The networks offered as examples: the three source questions, the gallery, then its loops.
EXAMPLES = [_example(e) for e in HAND + GALLERY + LOOPS]


_DICT_HINT = re.compile(r"in shapes, e\.g\. shapes=\{'(\w+)': \('(\w+)', '(\w+)'\), \.\.\.\}")


def _error(field: str, err: Exception) -> dict:
    # the engine's hint for an undeclared name, in the syntax of the page's shapes box
    message = _DICT_HINT.sub(r"in the shapes box, e.g. \1: \2, \3", str(err))
    return {"ok": False, "field": field, "message": message}


def _loop_refused(field: str, what: str) -> dict:
    """The message for a request that takes a network without a loop, given one with a loop."""
    return _error(field, ValueError(f"{what} takes a network without a loop; this one has a `for` loop: "
                                    "derive it to see the recurrence, each gradient checked"))


def _internal(err: Exception, inputs: dict) -> dict:
    """An unexpected error as a plain message that quotes the input and asks to report it."""
    said = "; ".join(f"{k}: {v!r:.200}" for k, v in inputs.items())
    return {"ok": False, "field": "internal",
            "message": f"Something went wrong inside the engine ({type(err).__name__}: {str(err)[:200]}) for "
                       f"the input {said}. Please report it, with this input."}


def _never_raises(run):
    """Wrap a run_* function: an unexpected exception becomes the internal error shape."""
    import functools
    import inspect

    names = list(inspect.signature(run).parameters)

    @functools.wraps(run)
    def safe(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - the page shows a message, never a traceback
            return _internal(err, {**dict(zip(names, args)), **kwargs})
    return safe


@_never_raises
def run_derive(expr: str, shapes: str, wrt: str, *, seed: int = 0) -> dict:
    """Derive ``expr`` and check every step and every displayed differential; a dict for the page.

    Returns ``{"ok": True, "latex", "text", "numpy", "steps", "check"}`` (``numpy``: the
    generated ``backward``; each step with its own ``latex`` and its ``numpy`` line, None
    for a step that code leaves out) or, for an error in the
    input, ``{"ok": False, "field", "message"}`` with field one of ``"expr"``,
    ``"shapes"`` and ``"wrt"``, or ``"internal"`` for an error of the engine itself.
    The check's ``verdict`` is ``"right"``, ``"wrong"`` or ``"cannot tell"`` (then with
    the reason and what to try). A program with a ``for`` loop (sequences declared
    ``X: T, n, d``) gives ``"loop": True``, the recurrence's lines as the steps (no
    ``numpy`` line of their own) and the check's verdict per gradient (:func:`_loop_dict`).
    """
    expr = _lines(expr)
    loop = has_loop(expr)
    try:
        shape_map, indices = parse_declarations(shapes, sequences=loop)
    except ValueError as err:
        try:  # a program that does not parse may be a loop: its syntax error is said first, next to it
            _syntax(expr)
        except ValueError as syntax:
            return _error("expr", syntax)
        three = re.search(r"must have two dimensions .*; got '([^']*)'$", str(err))
        if three and three.group(1).count(",") == 2:
            err = ValueError(f"{err}: three entries declare a sequence, read as X[t] in a `for t in range(T):` "
                             f"loop, and this expression has no loop")
        return _error("shapes", err)
    try:
        names = parse_wrt(wrt, {**shape_map, **indices})
    except ValueError as err:
        return _error("wrt", err)
    if set(names) & set(indices):
        y = next(n for n in names if n in indices)
        return _error("wrt", ValueError(f"{y!r} is an index vector (integers): no gradient is taken with respect "
                                        f"to it; the variables are {', '.join(shape_map)}"))
    try:
        d = derive(expr, shapes=shape_map, wrt=names, indices=indices)
    except ValueError as err:
        return _error("expr", err)
    report = d.check_pure(seed=seed)
    if report.verdict == "right":  # every displayed differential; a wrong one is the engine's error, never shown
        d.check_why(seed=seed)
    if loop:
        return _loop_dict(d, report)
    code = d.numpy_source()
    lines = _numpy_lines(code)
    return {
        "ok": True,
        "latex": d.latex(),
        "text": d.text(),
        "numpy": code,
        "steps": [{"name": s.name, "shape": [str(x) for x in s.shape], "text": s.text,
                   "latex": f"{s.symbol_latex} = {s.expression_latex}", "numpy": lines.get(s.name)}
                  for s in d.steps],
        "check": _check_dict(report),
    }


def _lines(expr: str) -> str:
    """The program's lines as the engine reads them: Windows' and old Macs' line ends as newlines."""
    return expr.replace("\r\n", "\n").replace("\r", "\n") if isinstance(expr, str) else expr


def _loop_dict(d, report) -> dict:
    """:func:`run_derive`'s dict for a loop (a recurrence): its lines as the steps, no line of
    code of their own (the generated code's loops are copied whole), the check per gradient."""
    rows = []
    for text_part, latex_part in zip(d._lines("text"), d._lines("latex")):
        for t, tex in zip(text_part, latex_part):
            if t[0] != "blocks":
                rows.append({"name": t[0], "shape": [str(x) for x in t[2]], "text": _row_text(t),
                             "latex": f"{tex[0]} = {tex[1]}", "numpy": None})
    return {"ok": True, "loop": True, "latex": d.latex(), "text": d.text(), "numpy": d.numpy_source(),
            "steps": rows, "check": _loop_check_dict(report)}


def _row_text(row) -> str:
    lhs, rhs, shape, why = row
    return f"{lhs} = {rhs}" + (f"   ({why})" if why else "")


def _loop_check_dict(report) -> dict:
    """A loop's pure-Python check (each gradient against a central difference of the loss
    unrolled at a small length) in the shape of :func:`_check_dict`."""
    sizes = ", ".join(f"{k}={v}" for k, v in report.sizes.items())
    tell = [v for v, verdict in report.verdicts.items() if verdict == "cannot tell"]
    reason = (f"{', '.join('G_' + v for v in tell)}: the loss could not be compared at this random point "
              f"(outside the domain of a log, sqrt or division, or not finite)") if tell else ""
    return {"passed": report.verdict == "right", "verdict": report.verdict, "reason": reason,
            "advice": "try smaller weights, or a loss defined everywhere" if tell else "",
            "text": f"Each gradient of the recurrence checked against finite differences of the loss unrolled "
                    f"at {sizes}",
            # the pure check measures |directional derivative − central difference| over its tolerance
            "steps": [{"symbol": f"G_{v}", "verdict": verdict, "ok": verdict == "right", "rel_error": "",
                       "measure": f"{report.errors[v]:.0e} of the tolerance" if verdict != "cannot tell" else "",
                       "reason": "" if verdict != "cannot tell" else "not comparable at this random point"}
                      for v, verdict in report.verdicts.items()]}


def _numpy_lines(code: str) -> dict:
    """Step name -> its line of the generated ``backward`` (``Delta = G * S * (1 - S)``),
    without the indent and the shape comment; a step the code leaves out has none."""
    lines = {}
    for raw in code.splitlines():
        name, eq, _ = raw.strip().partition(" = ")
        if raw.startswith("    ") and eq and name.isidentifier():
            lines.setdefault(name, raw.strip().rsplit("  # ", 1)[0])
    return lines


def _check_dict(report) -> dict:
    return {"passed": report.verdict == "right", "verdict": report.verdict,
            "reason": report.reason or "; ".join(f"{s.symbol}: {s.reason}" for s in report.steps if s.reason),
            "advice": report.advice or next((s.advice for s in report.steps if s.advice), ""),
            "text": str(report).splitlines()[0],
            "steps": [{"symbol": s.symbol, "verdict": s.verdict, "ok": bool(s.ok),
                       "rel_error": f"{s.max_rel_error:.0e}" if s.verdict != "cannot tell" else "",
                       "reason": s.reason} for s in report.steps]}


@_never_raises
def run_answer(expr: str, shapes: str, wrt: str, answer_wrt: str, answer_expr: str, *, seed: int = 0) -> dict:
    """Check the reader's gradient ``answer_expr`` of ``expr`` with respect to ``answer_wrt``.

    Returns ``{"ok": True, "verdict": "right" | "wrong", "kind", "message"}`` or an input
    error as :func:`run_derive` does (field ``"answer-wrt"`` or ``"answer-expr"`` for the
    answer's own inputs).
    """
    if has_loop(_lines(expr)):
        return _loop_refused("answer-expr", "Checking an answer")
    try:
        shape_map, indices = parse_declarations(shapes)
    except ValueError as err:
        return _error("shapes", err)
    name = answer_wrt.strip()
    if name in indices:
        return _error("answer-wrt", ValueError(f"{name!r} is an index vector (integers, read by take, pick and "
                                               f"onehot): no gradient is taken with respect to it; the variables "
                                               f"are {', '.join(shape_map)}"))
    if name not in shape_map:
        known = ", ".join(shape_map)
        return _error("answer-wrt", ValueError(f"{name!r} is not a variable of the expression; the variables are {known}"))
    try:
        d = derive(expr, shapes=shape_map, wrt=[name], indices=indices)
    except ValueError as err:
        return _error("expr", err)
    try:
        verdict = check_answer(d, expr, shape_map, name, answer_expr, seed=seed)
    except ValueError as err:
        return _error("answer-expr", err)
    return {"ok": True, "verdict": "right" if verdict.right else "wrong", "kind": verdict.kind,
            "diagnosis": verdict.diagnosis.value if verdict.diagnosis else None, "message": verdict.message}


@_never_raises
def run_grade(expr: str, shapes: str, wrt: str, lines: str, *, seed: int = 0) -> dict:
    """Grade the reader's backward pass ``lines`` (``NAME = expression`` each) for ``expr``.

    Returns ``{"ok": True, "lines": [...], "first_wrong"}``, each line ``{"line", "name",
    "verdict", "kind", "diagnosis", "message", "step"}`` (``step``: the engine's version of a
    graded line, ``{"name", "text", "latex"}``, or None) and ``first_wrong`` the index of the
    first wrong line or None; or an input error as :func:`run_derive` does (field ``"steps"``
    for the lines themselves).
    """
    if has_loop(_lines(expr)):
        return _loop_refused("steps", "Checking steps")
    try:
        shape_map, indices = parse_declarations(shapes)
    except ValueError as err:
        return _error("shapes", err)
    try:
        d = derive(expr, shapes=shape_map, indices=indices)
    except ValueError as err:
        return _error("expr", err)
    try:
        graded = grade(d, lines, seed=seed)
    except ValueError as err:
        return _error("steps", err)
    return _graded_dict(graded)


def _graded_dict(graded) -> dict:
    out = [{"line": g.line, "name": g.name, "verdict": g.verdict, "kind": g.kind,
            "diagnosis": g.diagnosis.value if g.diagnosis else None, "message": g.message,
            "step": {"name": g.step.name, "text": g.step.text, "latex": g.step.latex} if g.step else None}
           for g in graded]
    wrong = [k for k, g in enumerate(graded) if g.verdict == "wrong"]
    return {"ok": True, "lines": out, "first_wrong": wrong[0] if wrong else None}


@_never_raises
def run_exercise(key: str, lines: str, *, seed: int = 0) -> dict:
    """Grade the reader's ``lines`` for the exercise ``key`` (docs/exercises.md).

    Returns :func:`run_grade`'s dict with ``"solved"`` (every asked gradient has a right
    line) and ``"missing"`` (the asked gradients, ``"dW"``, without one), or an input error
    (field ``"key"`` or ``"steps"``).
    """
    from .exercises import _derivation, find, solved

    try:
        x = find(key)
    except ValueError as err:
        return _error("key", err)
    try:
        graded = grade(_derivation(x), lines, seed=seed)
    except ValueError as err:
        return _error("steps", err)
    missing = solved(x, graded)
    return {**_graded_dict(graded), "solved": not missing, "missing": missing}


@_never_raises
def run_hint(key: str, lines: str) -> dict:
    """The next step of the exercise ``key`` the reader's ``lines`` lack, its three hints.

    Returns ``{"ok": True, "done": False, "name", "why", "differential", "differential_latex",
    "identity", "identity_latex", "text", "latex", "line"}`` (``line``: the step as a line
    to type, "" when the syntax cannot write it), ``{"ok": True, "done": True}`` when every
    asked gradient is right, or an input error (field ``"key"`` or ``"steps"``).
    """
    from .exercises import find, hint

    try:
        x = find(key)
    except ValueError as err:
        return _error("key", err)
    try:
        h = hint(x, lines)
    except ValueError as err:
        return _error("steps", err)
    return {"ok": True, "done": True} if h is None else {"ok": True, "done": False, **h._asdict()}


def _request(payload, keys, run) -> str:
    try:
        data = json.loads(payload)
        if not isinstance(data, dict) or any(k not in data for k in keys if k != "wrt"):
            raise ValueError(f"a JSON object with {', '.join(keys)} is expected")
        result = run(*(str(data.get(k, "")) for k in keys))
    except Exception as err:  # noqa: BLE001 - a malformed request is the page's error, not the reader's
        result = _internal(err, {"request": payload})
    return json.dumps(result)


def derive_request(payload: str) -> str:
    """JSON in ``{"expr", "shapes", "wrt"}``, JSON out: :func:`run_derive`'s dict."""
    return _request(payload, ("expr", "shapes", "wrt"), run_derive)


def answer_request(payload: str) -> str:
    """JSON in ``{"expr", "shapes", "wrt", "answer_wrt", "answer_expr"}``, JSON out."""
    return _request(payload, ("expr", "shapes", "wrt", "answer_wrt", "answer_expr"), run_answer)


def grade_request(payload: str) -> str:
    """JSON in ``{"expr", "shapes", "wrt", "lines"}``, JSON out: :func:`run_grade`'s dict."""
    return _request(payload, ("expr", "shapes", "wrt", "lines"), run_grade)


def exercise_request(payload: str) -> str:
    """JSON in ``{"key", "lines"}``, JSON out: :func:`run_exercise`'s dict."""
    return _request(payload, ("key", "lines"), run_exercise)


def hint_request(payload: str) -> str:
    """JSON in ``{"key", "lines"}``, JSON out: :func:`run_hint`'s dict."""
    return _request(payload, ("key", "lines"), run_hint)


class _HTML:
    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text


def examples_html():
    """The examples as a list for the page, with their data for the page's buttons."""
    items = "".join(
        f"<li><strong>{html.escape(e['name'])}</strong>: "
        + (f"<pre><code>{html.escape(e['expr'])}</code></pre>" if "\n" in e["expr"]
           else f"<code>{html.escape(e['expr'])}</code>") + "</li>"
        for e in EXAMPLES
    )
    data = json.dumps(EXAMPLES).replace("<", "\\u003c")
    return _HTML(f'<ul class="pg-example-list">{items}</ul>'
                 f'<script type="application/json" id="pg-examples-data">{data}</script>')
