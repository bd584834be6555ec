"""Evaluate and check derivations in pure Python, on lists of lists of floats (no numpy).

The check is the one :meth:`Derivation.check` makes with numpy: for every adjoint
``G_M`` of the derivation, random directions ``V`` of ``M``'s shape (from
``random.Random(seed)``), the central difference of the loss with ``M`` replaced by
``M ± εV``, compared with ``G_M : V``.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

from . import puremat as pm
from .evaluate import bind_sizes, evaluate
from .limits import guarded
from .rules import RULES

__all__ = ["evaluate_pure", "check_pure", "PureCheckReport", "StepError", "EPS", "ATOL", "RTOL",
           "PRIMES", "default_sizes", "random_values"]

#: The defaults of :mod:`derivlib.check` (a test keeps them equal).
EPS, ATOL, RTOL = 1e-6, 0.0, 1e-5
#: The rounding allowance of :func:`derivlib.check.gradcheck`: 2 ulps of the largest abs(f), over eps.
ROUND = 2 * 2.220446049250313e-16 / EPS
#: Default sizes of the dimensions, in order of first appearance: distinct, so a transpose cannot hide.
PRIMES = (3, 5, 7, 11, 13, 17, 19, 23)
N_DIRECTIONS = 3


@guarded("evaluate_pure")
def evaluate_pure(node, env, shapes=None, sizes=None):
    """The value of a node, or of an expression string, on lists of lists of floats.

    Parameters
    ----------
    node : Node or str
        A node (from :func:`parse`, a step, or ``Derivation.gradient_expressions``), or an
        expression string, parsed with ``shapes``.
    env : dict
        Variable name -> list of rows (each a list of floats); a number may be a float.
    shapes : dict, optional
        Needed for a string; for a node, the dimensions are read from the values.
    sizes : dict, optional
        Dimension name -> size, for the dimensions no value gives (a gradient such as
        ``1ᵀΔ`` or ``11ᵀ/(np)`` may need a size that only the shapes define); where a value
        gives one too, the two must agree.

    Raises
    ------
    ValueError
        A value is missing, the values' shapes disagree with each other or with ``sizes``,
        or a dimension has no size.

    Examples
    --------
    >>> from derivlib.engine import evaluate_pure
    >>> evaluate_pure("sum(A @ B)", {"A": [[1.0, 2.0]], "B": [[3.0], [4.0]]}, {"A": (1, 2), "B": (2, 1)})
    [[11.0]]
    """
    from .nodes import Node
    from .parse import parse

    env = {k: _matrix(k, v) for k, v in env.items()}
    if isinstance(node, str):
        if shapes is None:
            raise TypeError("evaluate_pure: give shapes with an expression string")
        node = parse(node, shapes)
    elif not isinstance(node, Node):
        raise TypeError(f"evaluate_pure: node must be a Node or an expression string; got {type(node).__name__}")
    nodes = _reachable(node)
    bound = _sizes_of(nodes, env)
    for dname, size in _check_sizes(sizes).items():
        if bound.setdefault(dname, size) != size:
            raise ValueError(f"sizes[{dname!r}] is {size}, but the values give {dname} = {bound[dname]}")
    missing = sorted({d for n in nodes for d in n.shape if isinstance(d, str) and d not in bound})
    if missing:
        raise ValueError(f"evaluate_pure: no size for the dimension {', '.join(map(repr, missing))}: "
                         f"no value gives it; pass sizes={{{missing[0]!r}: ...}}")
    return evaluate(node, env, bound)


def _check_sizes(sizes):
    if sizes is None:
        return {}
    if not isinstance(sizes, dict):
        raise TypeError(f"sizes must be a dict dimension name -> whole number; got {type(sizes).__name__}")
    for dname, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"sizes[{dname!r}] must be a whole number >= 1; got {size!r}")
    return sizes


def _matrix(name, v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [[float(v)]]
    try:
        rows = [[float(x) for x in row] for row in v]
    except (TypeError, ValueError):
        raise TypeError(f"env[{name!r}] must be a list of rows of numbers; got {v!r:.80}") from None
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"env[{name!r}] must be a non-empty list of rows of equal length")
    return rows


def _reachable(node):
    """Every node ``node`` reads, through the references to named steps too (no recursion)."""
    seen, out, todo = set(), [], [node]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        todo.extend(n.args)
        if n.op == "ref":
            todo.append(n.attr)
        if n.aux is not None:
            todo.append(n.aux)
    return out


def _sizes_of(nodes, env):
    shapes = {n.attr.ident: n.shape for n in nodes if n.op == "var"}
    missing = [v for v in shapes if v not in env]
    if missing:
        raise ValueError(f"evaluate_pure: no value for {', '.join(missing)}")
    return bind_sizes(shapes, {k: pm.shape(v) for k, v in env.items() if k in shapes})


def default_sizes(d, sizes=None):
    """Every dimension name of the derivation bound to a size: given, or distinct primes."""
    dims = d.dims()
    if sizes is None:
        sizes = {}
    if not isinstance(sizes, dict):
        raise TypeError(f"sizes must be a dict dimension -> whole number; got {type(sizes).__name__}")
    unknown = [k for k in sizes if k not in dims]
    if unknown:
        raise ValueError(f"sizes: {', '.join(map(repr, unknown))} is not a dimension of the expression "
                         f"(dimensions: {', '.join(dims) or 'none'})")
    out = {}
    free = [p for p in PRIMES if p not in sizes.values()]
    for dname in dims:
        if dname in sizes:
            v = sizes[dname]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"sizes[{dname!r}] must be a whole number >= 1; got {v!r}")
            out[dname] = v
        else:
            out[dname] = free.pop(0)
    return out


def positive_variables(d):
    """Variables whose row's domain is positive where they are used (log, sqrt, a divisor, ...)."""
    return {a.attr.ident for n in d.nodes if n.op in RULES for i, a in enumerate(n.args)
            if a.op == "var" and RULES[n.op].domain(n.attr, i) == "positive"}


def random_values(d, sizes, rng):
    """A random point: normal entries, or uniform in [0.5, 2] where a variable must be positive."""
    positive = positive_variables(d)
    values = {}
    for name, v in d.variables.items():
        r, c = (s if isinstance(s, int) else sizes[s] for s in v.shape)
        draw = (lambda: rng.uniform(0.5, 2.0)) if name in positive else (lambda: rng.gauss(0.0, 1.0))
        values[name] = [[draw() for _ in range(c)] for _ in range(r)]
    return values


#: Operations whose derivative jumps where their argument is exactly 0.
KINKS = ("relu",)
_ELEMENTWISE = frozenset({"scale", *(op for op, r in RULES.items() if r.entrywise)})
#: What to try, by the reason the check cannot tell.
ADVICE = {
    "kink": "try another seed (a relu's argument sits exactly at 0 here)",
    "domain": "try another seed, or write log, sqrt or a division by a variable directly (the check draws "
              "such a variable positive)",
    "rounding": "try other sizes, or values of a similar size (the finite differences are lost in rounding)",
    "curvature": "try another seed (the loss bends sharply within the finite-difference step here)",
}


class StepError(NamedTuple):
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


class PureCheckReport(NamedTuple):
    """The pure-Python check of every adjoint: the sizes and seed, one entry per step.

    ``verdict``: ``"right"`` (every step agrees), ``"wrong"`` (a step disagrees: see
    ``failures``) or ``"cannot tell"`` (the finite differences cannot decide here: see
    ``reason`` and ``advice``). ``ok`` is True only when right.
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
            lines.append(f"  {symbol}: {excluded} entries at a kink (a relu's argument exactly 0) left out of "
                         f"the directions")
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
    exact 0. An entry of ``m`` is left out when moving it moves a relu's argument that
    sits at 0 entry by entry (through element-wise operations); when such an argument
    mixes entries (through a product, a sum or a transpose), ``reason`` says the step
    cannot be checked here (None otherwise).
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
                return out, (f"the argument of relu in {n.name.text if n.name else 'a relu'} is exactly 0 at "
                             f"{len(at)} entries that a change of this step moves through a product, sum or "
                             f"transpose: a kink, where finite differences measure neither slope")
            out |= {(i if r0 > 1 else 0, j if c0 > 1 else 0) for i, j in at}
            grid = [[grid[i][j] and arg[i][j] > 0.0 for j in range(c)] for i in range(r)]
        moves[id(n)] = (kind, grid)
    return out, None


def _prefilled(forward, below):
    """The forward values of every node but those that depend on the moved step."""
    cache = dict(forward)
    for n in below:
        cache.pop(id(n), None)
    return cache


@guarded("check_pure")
def check_pure(d, sizes=None, seed=0):
    """Check every adjoint of a derivation in pure Python; see the module docstring.

    Returns a :class:`PureCheckReport` whose ``verdict`` is right, wrong (naming the
    steps) or cannot tell (with the reason and what to try).
    """
    sizes = default_sizes(d, sizes)
    seed = _seed(seed)
    rng = random.Random(seed)
    env = random_values(d, sizes, rng)
    forward = {}
    try:
        loss = evaluate(d.root, env, sizes, None, forward)[0][0]
    except (OverflowError, ZeroDivisionError, ValueError) as exc:
        loss, why = math.nan, str(exc)
    else:
        why = f"the loss is {loss}"
    if not math.isfinite(loss):
        return PureCheckReport(sizes, seed, (), f"{why} at the random point: outside the domain of a log, sqrt "
                               f"or division, or too large", ADVICE["domain"])
    users = consumers(d)
    order = {id(n): k for k, n in enumerate(d.nodes)}
    kinked = {id(n) for n in d.nodes if n.op in KINKS and any(x == 0.0 for row in forward[id(n.args[0])]
                                                              for x in row)}
    results = []
    for step in checked_steps(d):
        results.append(_check_step(d, step, env, sizes, forward, users, order, kinked, loss, rng))
    return PureCheckReport(sizes, seed, tuple(results))


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError(f"seed must be a whole number >= 0; got {seed!r:.40}")
    return seed


def _cannot(step, reason, kind, excluded=0):
    return StepError(step.name, step.symbol, math.nan, math.nan, False, "cannot tell", reason, ADVICE[kind],
                     excluded)


def _check_step(d, step, env, sizes, forward, users, order, kinked, loss, rng):
    """One adjoint against central differences along unit random directions."""
    m = step.of
    value = forward[id(m)] if id(m) in forward else evaluate(m, env, sizes, None, dict(forward))
    try:
        g = evaluate(step.node, env, sizes, None, dict(forward))
    except (OverflowError, ZeroDivisionError) as exc:
        return _cannot(step, f"the adjoint cannot be evaluated at this point ({exc})", "domain")
    except ValueError as exc:  # its products do not conform: the adjoint is wrong
        return StepError(step.name, step.symbol, math.inf, math.inf, False, "wrong",
                         f"it cannot be evaluated: {exc}")
    if pm.shape(g) != pm.shape(value):
        return StepError(step.name, step.symbol, math.inf, math.inf, False, "wrong",
                         f"it is {pm.shape(g)[0]}×{pm.shape(g)[1]}, not of the shape of its step")
    below = downstream(d, m, users, order)
    out, why = kink_entries(m, below, lambda n: forward[id(n)], kinked)
    if why:
        return _cannot(step, why, "kink")
    free = [(i, j) for i, row in enumerate(value) for j in range(len(row)) if (i, j) not in out]
    if not free:
        return _cannot(step, "every entry sits at a kink (a relu's argument exactly 0)", "kink", len(out))
    base = _prefilled(forward, below)

    def f(v, h):
        try:
            return evaluate(d.root, env, sizes, None, {**base, id(m): pm.add_scaled(value, h, v)})[0][0]
        except (OverflowError, ZeroDivisionError, ValueError):
            return math.nan

    norm_g = math.sqrt(pm.frob([[g[i][j] for i, j in free]], [[g[i][j] for i, j in free]]))
    worst_abs, worst, fmax = 0.0, None, abs(loss)
    for _ in range(N_DIRECTIONS):
        v = [[0.0] * len(row) for row in value]
        for i, j in free:
            v[i][j] = rng.gauss(0.0, 1.0)
        length = math.sqrt(pm.frob(v, v)) or 1.0
        v = pm.scale(1 / length, v)
        hi, lo = f(v, EPS), f(v, -EPS)
        if not (math.isfinite(hi) and math.isfinite(lo)):
            return _cannot(step, f"the loss is not finite at a point moved by {EPS:g} along a random direction: "
                           f"the point is within the step of the edge of the domain", "domain", len(out))
        fmax = max(fmax, abs(hi), abs(lo))
        num = (hi - lo) / (2 * EPS)
        ana = pm.frob(g, v)
        err = abs(num - ana)
        if worst is None or err - RTOL * abs(num) > worst[0] - RTOL * abs(worst[2]):
            worst = (err, v, num, ana)
        worst_abs = max(worst_abs, err)
    noise = ROUND * fmax
    scale = max(norm_g, noise)
    rel = worst_abs / scale if scale > 0 else (0.0 if worst_abs == 0 else math.inf)
    err, v, num, ana = worst
    if err <= ATOL + RTOL * abs(num) + noise:
        if err > ATOL + RTOL * abs(num) and norm_g > noise and err > 0.1 * norm_g:
            return _cannot(step, f"the finite differences' rounding noise (about {noise:.1e}) is not small next "
                           f"to the gradient (size {norm_g:.1e})", "rounding", len(out))
        return StepError(step.name, step.symbol, worst_abs, rel, True, "right", "", "", len(out))
    # the worst direction again with the steps 2 eps and eps / 2: do the differences move as much?
    d2 = (f(v, 2 * EPS) - f(v, -2 * EPS)) / (4 * EPS)
    dh = (f(v, EPS / 2) - f(v, -EPS / 2)) / EPS
    if not (math.isfinite(d2) and math.isfinite(dh)) or max(abs(num - d2), abs(num - dh)) >= err / 2:
        return _cannot(step, f"the finite differences change with the step (eps: {num:.6g}, 2 eps: {d2:.6g}, "
                       f"eps/2: {dh:.6g}; the adjoint gives {ana:.6g}): a kink or sharp curvature within the "
                       f"step", "curvature", len(out))
    return StepError(step.name, step.symbol, worst_abs, rel, False, "wrong",
                     f"along a random direction it gives {ana:.6g}, finite differences {num:.6g}", "", len(out))
