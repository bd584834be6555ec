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

__all__ = ["evaluate_pure", "check_pure", "PureCheckReport", "StepError", "EPS", "ATOL", "RTOL",
           "PRIMES", "default_sizes", "random_values"]

#: The defaults of :mod:`derivlib.check` (a test keeps them equal).
EPS, ATOL, RTOL = 1e-6, 0.0, 1e-5
#: The rounding allowance of :func:`derivlib.check.gradcheck`: 2 ulps of the largest abs(f), over eps.
ROUND = 2 * 2.220446049250313e-16 / EPS
#: Default sizes of the dimensions, in order of first appearance: distinct, so a transpose cannot hide.
PRIMES = (3, 5, 7, 11, 13, 17, 19, 23)
N_DIRECTIONS = 3


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
    """Variables that are the argument of log, sqrt or a fractional power: drawn positive."""
    out = set()
    for n in d.nodes:
        if n.op in ("log", "sqrt") or (n.op == "pow" and n.attr.denominator != 1) or (
                n.op == "div" and n.args[1].op == "var"):
            a = n.args[-1] if n.op == "div" else n.args[0]
            if a.op == "var":
                out.add(a.attr.ident)
    return out


def random_values(d, sizes, rng):
    """A random point: normal entries, or uniform in [0.5, 2] where a variable must be positive."""
    positive = positive_variables(d)
    values = {}
    for name, v in d.variables.items():
        r, c = (s if isinstance(s, int) else sizes[s] for s in v.shape)
        draw = (lambda: rng.uniform(0.5, 2.0)) if name in positive else (lambda: rng.gauss(0.0, 1.0))
        values[name] = [[draw() for _ in range(c)] for _ in range(r)]
    return values


class StepError(NamedTuple):
    """How one adjoint of a derivation compared with finite differences."""

    name: str
    symbol: str
    max_abs_error: float
    max_rel_error: float
    ok: bool


class PureCheckReport(NamedTuple):
    """The pure-Python check of every adjoint: ``ok``, the sizes and seed, one entry per step."""

    sizes: dict
    seed: int
    steps: tuple

    @property
    def ok(self):
        return all(s.ok for s in self.steps)

    @property
    def max_rel_error(self):
        return max((s.max_rel_error for s in self.steps), default=0.0)

    @property
    def max_abs_error(self):
        return max((s.max_abs_error for s in self.steps), default=0.0)

    @property
    def failures(self):
        return [s for s in self.steps if not s.ok]

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        head = (f"check ({sizes}, seed {self.seed}): {len(self.steps)} adjoints against finite differences, "
                f"max rel. error {self.max_rel_error:.0e}")
        if self.ok:
            return head
        return head + "\n" + "\n".join(f"  WRONG: {s.symbol} (rel. error {s.max_rel_error:.2e})" for s in self.failures)


def checked_steps(d):
    """The steps whose adjoint is a full gradient (not one path of several)."""
    return [s for s in d.backward_steps if s.kind != "path"]


def check_pure(d, sizes=None, seed=0):
    """Check every adjoint of a derivation in pure Python; see the module docstring."""
    sizes = default_sizes(d, sizes)
    rng = random.Random(seed)
    env = random_values(d, sizes, rng)
    forward = {}
    loss = evaluate(d.root, env, sizes, None, forward)[0][0]
    if not math.isfinite(loss):
        raise ValueError(f"the loss is {loss} at the random point (sizes {sizes}, seed {seed}): a log or sqrt of "
                         f"a negative number? Give such a variable as the argument of log or sqrt directly")
    results = []
    for step in checked_steps(d):
        m = step.of
        value = forward[id(m)] if id(m) in forward else evaluate(m, env, sizes, None, dict(forward))
        g = evaluate(step.node, env, sizes, None, dict(forward))
        worst_abs, scale = 0.0, 0.0
        ok = pm.shape(g) == pm.shape(value)
        for _ in range(N_DIRECTIONS):
            v = [[rng.gauss(0.0, 1.0) for _ in row] for row in value]
            hi = evaluate(d.root, env, sizes, None, {id(m): pm.add_scaled(value, EPS, v)})[0][0]
            lo = evaluate(d.root, env, sizes, None, {id(m): pm.add_scaled(value, -EPS, v)})[0][0]
            num = (hi - lo) / (2 * EPS)
            ana = pm.frob(g, v) if ok else math.nan
            err = abs(num - ana)
            ok = ok and err <= ATOL + RTOL * abs(num) + ROUND * max(abs(loss), abs(hi), abs(lo))
            worst_abs = max(worst_abs, err) if math.isfinite(err) else math.inf
            scale = max(scale, abs(num))
        rel = worst_abs / scale if scale > 0 else worst_abs
        results.append(StepError(step.name, step.symbol, worst_abs, rel, bool(ok)))
    return PureCheckReport(sizes, seed, tuple(results))
