"""Evaluate and check derivations in pure Python, on lists of lists of floats (no numpy).

The check is :func:`derivlib.engine.stepcheck.run`, the one :meth:`Derivation.check` runs
with numpy, on this module's backend: for every adjoint ``G_M`` of the derivation, random
directions ``V`` of ``M``'s shape (from ``random.Random(seed)``), the central difference
of the loss with ``M`` replaced by ``M ± εV``, compared with ``G_M : V``.
"""

from __future__ import annotations

import math
import random

from . import puremat as pm
from .dims import names as dim_names
from .evaluate import bind_sizes, evaluate
from .indexing import check_index_values
from .limits import guarded
from .sample import PRIMES, default_sizes, positive_variables, random_values
from .stepcheck import (ATOL, EPS, N_DIRECTIONS, ROUND, RTOL, CheckReport, StepReport, cannot, prefilled, relative, run,
                        wrong)

__all__ = ["evaluate_pure", "check_pure", "PureBackend", "PureCheckReport", "StepError", "EPS", "ATOL", "RTOL",
           "PRIMES", "default_sizes", "positive_variables", "random_values"]

#: The one report type of the check, under the names it had when pure Python had its own.
PureCheckReport, StepError = CheckReport, StepReport


@guarded("evaluate_pure")
def evaluate_pure(node, env, shapes=None, sizes=None, indices=None):
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
    indices : dict, optional
        Index vector name -> (n, k), for a string (a node carries its own); the value of
        an index vector in ``env`` is a list of ``n`` ints in ``range(k)``.

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

    if not isinstance(env, dict):
        raise TypeError(f"evaluate_pure: env must be a dict variable name -> list of rows; got {type(env).__name__}")
    if isinstance(node, str):
        if shapes is None:
            raise TypeError("evaluate_pure: give shapes with an expression string")
        node = parse(node, shapes, indices=indices)
    elif not isinstance(node, Node):
        raise TypeError(f"evaluate_pure: node must be a Node or an expression string; got {type(node).__name__}")
    nodes = _reachable(node)
    index = {n.attr.ident: n for n in nodes if n.op == "index"}
    env = {k: v if k in index else _matrix(k, v) for k, v in env.items()}
    bound = _sizes_of(nodes, env)
    for name, n in index.items():  # whole numbers in range(k), one per row
        if name not in env:
            raise ValueError(f"evaluate_pure: no value for the index vector {name}")
        decl = (n.shape[0], n.attr.classes)
        env[name], length = check_index_values(name, env[name], decl, {**_check_sizes(sizes), **bound})
        if isinstance(decl[0], str) and bound.setdefault(decl[0], length) != length:
            raise ValueError(f"dimension {decl[0]!r} is {bound[decl[0]]} from the other values but the index "
                             f"vector {name} has {length} entries")
    for dname, size in _check_sizes(sizes).items():
        if bound.setdefault(dname, size) != size:
            raise ValueError(f"sizes[{dname!r}] is {size}, but the values give {dname} = {bound[dname]}")
    missing = sorted({x for n in nodes for d in n.shape for x in dim_names(d) if x not in bound})
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


class PureBackend:
    """The check's arithmetic on lists of lists of floats (see :func:`derivlib.engine.stepcheck.run`).

    One per check: the random generator draws the point, then the directions of every step.
    """

    domain_errors = (OverflowError, ZeroDivisionError)

    def point(self, d, sizes, seed, values):
        self.rng = random.Random(seed)
        return random_values(d, sizes, self.rng)

    @staticmethod
    def evaluate(node, env, sizes, cache):
        return evaluate(node, env, sizes, None, cache)

    @staticmethod
    def scalar(value):
        return value[0][0]

    @staticmethod
    def has_zero(value):
        return any(x == 0.0 for row in value for x in row)

    @staticmethod
    def lists(value):
        return value

    shape = staticmethod(pm.shape)

    def measure(self, point, k, step, value, g, below, out):
        """One adjoint against central differences along unit random directions."""
        if pm.shape(g) != pm.shape(value):
            return wrong(step, f"it is {pm.shape(g)[0]}×{pm.shape(g)[1]}, not of the shape of its step")
        d, env, sizes = point.d, point.env, point.sizes
        free = [(i, j) for i, row in enumerate(value) for j in range(len(row)) if (i, j) not in out]
        base = prefilled(point.forward, below)

        def f(v, h):
            try:
                return evaluate(d.root, env, sizes, None, {**base, id(step.of): pm.add_scaled(value, h, v)})[0][0]
            except (OverflowError, ZeroDivisionError, ValueError):
                return math.nan

        return _judge(step, f, g, value, free, point.loss, self.rng, len(out))


@guarded("check_pure")
def check_pure(d, sizes=None, seed=0):
    """Check every adjoint of a derivation in pure Python; see the module docstring.

    Returns a :class:`~derivlib.engine.stepcheck.CheckReport` whose ``verdict`` is right,
    wrong (naming the steps) or cannot tell (with the reason and what to try).
    """
    return run(d, PureBackend(), sizes=sizes, seed=seed)


def _judge(step, f, g, value, free, loss, rng, excluded):
    """The verdict on one adjoint ``g`` from the central differences of ``f(v, h)``, the loss
    with the step moved by ``h`` along ``v``, over the ``free`` entries."""
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
            return cannot(step, f"the loss is not finite at a point moved by {EPS:g} along a random direction: "
                          f"the point is within the step of the edge of the domain", "domain", excluded)
        fmax = max(fmax, abs(hi), abs(lo))
        num = (hi - lo) / (2 * EPS)
        ana = pm.frob(g, v)
        err = abs(num - ana)
        if worst is None or err - RTOL * abs(num) > worst[0] - RTOL * abs(worst[2]):
            worst = (err, v, num, ana)
        worst_abs = max(worst_abs, err)
    noise = ROUND * fmax
    scale = max(norm_g, noise)
    rel = relative(worst_abs, scale)
    err, v, num, ana = worst
    if err <= ATOL + RTOL * abs(num) + noise:
        if err > ATOL + RTOL * abs(num) and norm_g > noise and err > 0.1 * norm_g:
            return cannot(step, f"the finite differences' rounding noise (about {noise:.1e}) is not small next "
                          f"to the gradient (size {norm_g:.1e})", "rounding", excluded)
        return StepReport(step.name, step.symbol, worst_abs, rel, True, "right", "", "", excluded)
    # the worst direction again with the steps 2 eps and eps / 2: do the differences move as much?
    d2 = (f(v, 2 * EPS) - f(v, -2 * EPS)) / (4 * EPS)
    dh = (f(v, EPS / 2) - f(v, -EPS / 2)) / EPS
    if not (math.isfinite(d2) and math.isfinite(dh)) or max(abs(num - d2), abs(num - dh)) >= err / 2:
        return cannot(step, f"the finite differences change with the step (eps: {num:.6g}, 2 eps: {d2:.6g}, "
                      f"eps/2: {dh:.6g}; the adjoint gives {ana:.6g}): a kink or sharp curvature within the "
                      f"step", "curvature", excluded)
    return wrong(step, f"along a random direction it gives {ana:.6g}, finite differences {num:.6g}", excluded)._replace(
        max_abs_error=worst_abs, max_rel_error=rel)
