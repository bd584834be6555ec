"""The check of a derivation's steps: one orchestration and one report, on either backend.

For every adjoint ``G_M`` of the derivation, the loss is re-evaluated with ``M`` moved
along random directions (only the part of the graph downstream of ``M``) and its
central differences are compared with ``G_M``. What is the same whichever arithmetic
runs it lives here: which steps, the random point, the loss there, the entries left out
at a relu's kink, the verdict and the report. A backend (numpy in
``derivlib.engine.numeric``, pure Python in ``derivlib.engine.pure``) evaluates
nodes and measures one step. Pure Python: no numpy.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ..diagnosis import GradCheckError
from . import puremat as pm
from .rules import RULES
from .sample import check_seed, default_sizes

__all__ = ["EPS", "ATOL", "RTOL", "ROUND", "N_DIRECTIONS", "KINKS", "ADVICE", "StepReport", "CheckReport",
           "run", "summary", "checked_steps", "consumers", "downstream", "kink_entries", "tied_entries"]

#: The defaults of :mod:`derivlib.check` (a test keeps them equal).
EPS, ATOL, RTOL = 1e-6, 0.0, 1e-5
#: The rounding allowance of :func:`derivlib.check.gradcheck`: 2 ulps of the largest abs(f), over eps.
ROUND = 2 * 2.220446049250313e-16 / EPS
#: Random directions per step.
N_DIRECTIONS = 3
#: Operations whose derivative jumps where their argument is exactly 0.
KINKS = ("relu",)
#: Operations with a kink where entries tie for their largest (see :func:`tied_entries`).
TIES = ("max",)
#: Two entries tie for a max when they differ by at most this many ulps of the max (0 ties only with 0).
TIE_ULPS = 4
#: Operations that act entry by entry (a kink's entries can be followed through them).
_ELEMENTWISE = frozenset({"scale", *(op for op, r in RULES.items() if r.entrywise)})
#: What to try, by the reason the check cannot tell.
ADVICE = {
    "kink": "try another seed (a relu's argument sits exactly at 0 here)",
    "tie": "try another seed or other sizes (entries tie for a max here; a relu before the max makes its "
           "negative entries tie at 0, so a window or row of negatives ties at most points)",
    "domain": "try another seed, or write log, sqrt or a division by a variable directly (the check draws "
              "such a variable positive)",
    "rounding": "try other sizes, or values of a similar size (the finite differences are lost in rounding)",
    "curvature": "try another seed (the loss bends sharply within the finite-difference step here)",
}


class StepReport(NamedTuple):
    """How one adjoint of a derivation compared with finite differences.

    ``verdict`` is ``"right"``, ``"wrong"`` or ``"cannot tell"`` (then ``reason`` says
    why, ``advice`` what to try); ``excluded`` counts the entries of the step left out of
    the random directions because they sit at a kink (a relu's argument exactly 0).
    ``max_rel_error`` is the error over the gradient's size (its Frobenius norm, or the
    finite differences' rounding noise when that is larger).
    """

    name: str
    symbol: str
    max_abs_error: float
    max_rel_error: float
    ok: bool
    verdict: str = "right"
    reason: str = ""
    advice: str = ""
    excluded: int = 0


class CheckReport(NamedTuple):
    """The check of every adjoint of a derivation: the sizes and seed, one entry per step.

    ``verdict``: ``"right"`` (every step agrees), ``"wrong"`` (a step disagrees: see
    ``failures``) or ``"cannot tell"`` (the finite differences cannot decide here: see
    ``reason`` and ``advice``, for the whole point, or each step's). ``ok`` is True only
    when right. The same type whichever backend (numpy or pure Python) ran the check.
    """

    sizes: dict
    seed: int
    steps: tuple
    reason: str = ""
    advice: str = ""

    @property
    def verdict(self):
        if any(s.verdict == "wrong" for s in self.steps):
            return "wrong"
        if self.reason or any(s.verdict == "cannot tell" for s in self.steps):
            return "cannot tell"
        return "right"

    @property
    def ok(self):
        return self.verdict == "right"

    @property
    def max_rel_error(self):
        return max((s.max_rel_error for s in self.steps if s.verdict != "cannot tell"), default=0.0)

    @property
    def max_abs_error(self):
        return max((s.max_abs_error for s in self.steps if s.verdict != "cannot tell"), default=0.0)

    @property
    def failures(self):
        return [s for s in self.steps if s.verdict == "wrong"]

    def __str__(self):
        return summary(self.verdict, self.sizes, self.seed, [(s.symbol, s.verdict, s.reason, s.advice, s.excluded)
                                                             for s in self.steps],
                       self.max_rel_error, self.reason, self.advice)


def summary(verdict, sizes, seed, steps, rel, reason="", advice=""):
    """The words of a check report: the verdict first, then what it rests on.

    ``steps``: (symbol, verdict, reason, advice, excluded entries) for each step.
    """
    where = ", ".join(f"{k}={v}" for k, v in sizes.items())
    where = f"({where}, seed {seed})" if where else f"(seed {seed})"
    checked = [s for s in steps if s[1] != "cannot tell"]
    if reason:
        return f"cannot tell here {where}: {reason}; {advice}"
    lines = []
    if verdict == "right":
        lines.append(f"right {where}: all {len(steps)} adjoints against finite differences agree, max error "
                     f"{rel:.0e} of the gradient's size")
    elif verdict == "wrong":
        lines.append(f"wrong {where}: " + "; ".join(f"{s[0]} is wrong" + (f" ({s[2]})" if s[2] else "")
                                                    for s in steps if s[1] == "wrong"))
    else:
        lines.append(f"cannot tell here {where}: {len(checked)} of {len(steps)} adjoints against finite "
                     f"differences agree (max error {rel:.0e} of the gradient's size); the others cannot be checked "
                     f"at this point")
    for symbol, v, why, what, excluded in steps:
        if v == "cannot tell":
            lines.append(f"  cannot tell {symbol}: {why}; {what}")
        if excluded:
            lines.append(f"  {symbol}: {excluded} entries at a kink (a relu's argument exactly 0, or entries "
                         f"tied for a max) left out of the directions")
    return "\n".join(lines)


def checked_steps(d):
    """The steps whose adjoint is a full gradient (not one path of several)."""
    return [s for s in d.backward_steps if s.kind != "path"]


def consumers(d):
    """id(node) -> the nodes of the forward graph that read it."""
    out = {}
    for n in d.nodes:
        for a in (*n.args, *((n.aux,) if n.aux is not None else ())):
            out.setdefault(id(a), []).append(n)
    return out


def downstream(d, m, users, order):
    """The nodes whose value depends on ``m`` (``m`` included), in evaluation order."""
    seen, todo = {id(m)}, [m]
    while todo:
        for u in users.get(id(todo.pop()), ()):
            if id(u) not in seen:
                seen.add(id(u))
                todo.append(u)
    return sorted((n for n in d.nodes if id(n) in seen), key=lambda n: order[id(n)]) if len(seen) > 1 else [m]


def kink_entries(m, below, value_of, kinked):
    """Entries of ``m`` to leave out of the check's directions: ``(set of (i, j), reason)``.

    ``below``: the nodes that depend on ``m`` in evaluation order; ``value_of(node)``: its
    value as lists of lists; ``kinked``: the ids of the relu nodes whose argument has an
    exact 0, and of the max nodes whose argument has a tie (:func:`tied_entries`). An
    entry of ``m`` is left out when moving it moves a relu's argument that sits at 0, or
    an entry tied for a max, entry by entry (through element-wise operations); when such
    an argument mixes entries (through a product, a sum or a transpose), ``reason`` says
    the step cannot be checked here (None otherwise).
    """
    if not any(id(n) in kinked for n in below):
        return set(), None
    r0, c0 = pm.shape(value_of(m))
    moves = {id(m): ("entrywise", [[True] * c0 for _ in range(r0)])}
    out = set()
    for n in below[1:]:
        ins = [(a, moves[id(a)]) for a in n.args if id(a) in moves]
        if not ins:
            continue
        r, c = pm.shape(value_of(n))
        if n.op in TIES and id(n) in kinked:
            kind, grid = moves[id(n.args[0])]
            tied = tied_entries(value_of(n.args[0]), n.attr)
            at = [(i, j) for i, j in tied if grid[i if len(grid) > 1 else 0][j if len(grid[0]) > 1 else 0]]
            if at and kind != "entrywise":
                return out, (f"{len(at)} entries of the argument of max in {_name(n, 'a max')} tie for its largest "
                             f"and a change of this step moves them through a product, sum, transpose or "
                             f"window: a tie is a kink of the max, where finite differences measure neither "
                             f"one-sided slope")
            out |= {(i if r0 > 1 else 0, j if c0 > 1 else 0) for i, j in at}
            moves[id(n)] = ("mixed", [[True] * c for _ in range(r)])
            continue
        if n.op not in _ELEMENTWISE:
            moves[id(n)] = ("mixed", [[True] * c for _ in range(r)])
            continue
        kind = "entrywise" if all(k == "entrywise" for _, (k, _) in ins) else "mixed"
        grid = [[any(mv[i if len(mv) > 1 else 0][j if len(mv[0]) > 1 else 0] for _, (_, mv) in ins)
                 for j in range(c)] for i in range(r)]
        if n.op == "relu":
            arg = value_of(n.args[0])
            at = [(i, j) for i in range(r) for j in range(c) if grid[i][j] and arg[i][j] == 0.0]
            if at and kind != "entrywise":
                return out, (f"the argument of relu in {_name(n, 'a relu')} is exactly 0 at "
                             f"{len(at)} entries that a change of this step moves through a product, sum or "
                             f"transpose: a kink, where finite differences measure neither slope")
            out |= {(i if r0 > 1 else 0, j if c0 > 1 else 0) for i, j in at}
            grid = [[grid[i][j] and arg[i][j] > 0.0 for j in range(c)] for i in range(r)]
        moves[id(n)] = (kind, grid)
    return out, None


def _name(n, default):
    return n.name.text if n.name else default


def tied_entries(value, axis):
    """The entries of ``value`` (lists of lists) that tie for the largest of their row
    (``axis`` 1), column (0) or of all (None): ``[(i, j), ...]``, empty where each maximum is
    alone. Entries tie when they differ by at most ``TIE_ULPS`` ulps of the maximum."""
    r, c = pm.shape(value)
    if axis == 1:
        groups = [[(i, j) for j in range(c)] for i in range(r)]
    elif axis == 0:
        groups = [[(i, j) for i in range(r)] for j in range(c)]
    else:
        groups = [[(i, j) for i in range(r) for j in range(c)]]
    out = []
    for g in groups:
        top = max(value[i][j] for i, j in g)
        if not math.isfinite(top):
            continue
        near = [(i, j) for i, j in g if top - value[i][j] <= TIE_ULPS * 2.220446049250313e-16 * abs(top)]
        if len(near) > 1:
            out.extend(near)
    return out


def relative(err, scale):
    """An error over the size it is measured against: 0 over 0 is 0, an error over 0 is infinite."""
    if scale > 0:
        return err / scale
    return 0.0 if err == 0 else math.inf


def cannot(step, reason, kind, excluded=0):
    """A step the finite differences cannot decide here: ``reason``, and the advice for ``kind``."""
    return StepReport(step.name, step.symbol, math.nan, math.nan, False, "cannot tell", reason, ADVICE[kind],
                      excluded)


def wrong(step, reason, excluded=0):
    """A step whose adjoint disagrees with the finite differences."""
    return StepReport(step.name, step.symbol, math.inf, math.inf, False, "wrong", reason, "", excluded)


class Point(NamedTuple):
    """What every step's measurement shares: the derivation, the random point, the forward values."""

    d: object
    env: dict
    sizes: dict
    seed: int
    forward: dict
    loss: float


def run(d, backend, sizes=None, seed=0, values=None, raise_wrong=False):
    """Check every adjoint of ``d`` with ``backend``; a :class:`CheckReport`.

    ``values``: the point (the backend's arrays), or None for a random one. With
    ``raise_wrong``, a wrong adjoint raises :class:`derivlib.check.GradCheckError` naming
    its step (the numpy backend's gradcheck raises its own, with its Diagnosis).
    """
    sizes = default_sizes(d, sizes)
    seed = check_seed(seed)
    env = backend.point(d, sizes, seed, values)
    forward = {}
    try:
        loss = backend.scalar(backend.evaluate(d.root, env, sizes, forward))
        why = f"the loss is {loss}"
    except (*backend.domain_errors, ValueError) as exc:
        loss, why = math.nan, f"the loss cannot be computed ({exc})"
    if not math.isfinite(loss):
        return CheckReport(sizes, seed, (), f"{why} at the random point: outside the domain of a log, sqrt "
                           f"or division, or too large", ADVICE["domain"])
    point = Point(d, env, sizes, seed, forward, loss)
    users, order = consumers(d), {id(n): k for k, n in enumerate(d.nodes)}
    lists = {}

    def value_of(n):
        if id(n) not in lists:
            if id(n) not in forward:  # a node the loss does not read (log_softmax's softmax Ŷ)
                backend.evaluate(n, env, sizes, forward)
            lists[id(n)] = backend.lists(forward[id(n)])
        return lists[id(n)]

    kinked = {id(n) for n in d.nodes if n.op in KINKS and backend.has_zero(forward[id(n.args[0])])}
    kinked |= {id(n) for n in d.nodes if n.op in TIES and tied_entries(value_of(n.args[0]), n.attr)}

    results = []
    for k, step in enumerate(checked_steps(d)):
        result = _check_step(backend, point, k, step, downstream(d, step.of, users, order), value_of, kinked)
        if raise_wrong and result.verdict == "wrong":
            _raise(step, result)
        results.append(result)
    return CheckReport(sizes, seed, tuple(results))


def _check_step(backend, point, k, step, below, value_of, kinked):
    """Evaluate one step and its adjoint, leave out the entries at a kink, and measure."""
    d, env, sizes, forward = point.d, point.env, point.sizes, point.forward
    m = step.of
    try:
        value = forward[id(m)] if id(m) in forward else backend.evaluate(m, env, sizes, dict(forward))
        g = backend.evaluate(step.node, env, sizes, dict(forward))
    except backend.domain_errors as exc:
        return cannot(step, f"the adjoint cannot be computed at this point ({exc})", "domain")
    except ValueError as exc:  # its products do not conform: the adjoint is wrong
        return wrong(step, f"it cannot be evaluated: {exc}")
    if backend.shape(g) != backend.shape(value):
        return backend.measure(point, k, step, value, g, below, set())  # the measurement says how
    out, why = kink_entries(m, below, value_of, kinked)
    tie = any(id(n) in kinked and n.op in TIES for n in below)
    if why:
        return cannot(step, why, "tie" if tie else "kink")
    r, c = backend.shape(value)
    if len(out) == r * c:
        return cannot(step, "every entry sits at a kink (a relu's argument exactly 0, or entries tied for a max)",
                      "tie" if tie else "kink", len(out))
    return backend.measure(point, k, step, value, g, below, out)


def _raise(step, result):
    label = f"{step.symbol} (step {step.name})"
    raise GradCheckError(f"{label}: the adjoint {result.reason}", argument=label, diagnosis=result.reason,
                         max_abs_error=float("nan"), max_rel_error=float("nan"), numerical=None, analytical=None)


def prefilled(forward, below):
    """The forward values of every node but those that depend on the moved step."""
    moved = {id(n) for n in below}
    return {key: v for key, v in forward.items() if key not in moved}
