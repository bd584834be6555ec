r"""Check the displayed differentials: each is the adjoint of its pullback, and a derivative.

The site shows differentials that no gradient is computed from: each rule's ``dY``
(``Rule.jvp``) in the rules table and in the identities ``Ḡ : dY = (pullback) : dA``,
and each backward step's "why" line ``dC = ...``, the jvps composed along the path from
the consumer ``C`` down to one use. A wrong one would leave every gradient right, so
they are checked here, on random values (standard library only: the check runs in the
browser too):

* **adjoint**: ``⟨Ḡ, dY(dA)⟩ = ⟨pullback(Ḡ), dA⟩`` for random ``Ḡ`` and ``dA`` (for a
  step, ``⟨G_C, dC(dN)⟩ = ⟨the step's contribution, dN⟩``), exact up to rounding;
* **derivative**: ``dY(dA)`` against central differences of the forward along ``dA``
  (every entry, within the checker's relative tolerance of the largest), so that a
  differential and its pullback cannot be wrong together.

The dimensions are distinct primes, so a transpose cannot hide behind a square shape.

>>> from derivlib.engine.adjoint import check_rule
>>> report = check_rule("sigmoid")
>>> report.ok, len(report.checked)
(True, 1)
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

from . import dims
from . import puremat as pm
from .evaluate import evaluate
from .nodes import Node, Sym, fmt_shape, var
from .render import text
from .rules import _BAR, BINARY, RULES, _case, _dsymbol, example_node
from .sample import default_sizes, random_values
from .stepcheck import EPS, ROUND, RTOL, TIES, tied_entries

__all__ = ["DifferentialError", "Differential", "DifferentialReport", "SIZES", "ADJOINT_RTOL",
           "check_rule", "check_why", "verify"]

#: Sizes of the rules' symbolic dimensions (A is n×p and B p×q in A @ B; n×q otherwise).
SIZES = {"n": 3, "p": 5, "q": 7}
#: The adjoint identity is exact, so only rounding separates its two sides (relative to Σ|terms|).
ADJOINT_RTOL = 1e-9
#: Random (Ḡ, dA) drawn per differential.
N_DRAWS = 2


class DifferentialError(AssertionError):
    """A displayed differential that is not the adjoint of its pullback, or not a derivative."""


class Differential(NamedTuple):
    """How one displayed differential compared: the worst of ``N_DRAWS`` random draws.

    ``adjoint_error`` is ``|⟨Ḡ, dY⟩ − ⟨pullback, dA⟩|`` over the sum of the absolute terms;
    ``derivative_error`` the largest entry of ``|dY − central difference|`` over the largest
    ``|central difference|``; ``skipped`` says why the comparison with central differences
    was left out (the path runs through a max whose entries tie at this point: a kink),
    empty when it was made.
    """

    what: str
    adjoint_error: float
    derivative_error: float
    skipped: str = ""


class DifferentialReport(NamedTuple):
    """The differentials checked (all passed: a failure raises :class:`DifferentialError`)."""

    sizes: dict
    seed: int
    checked: tuple

    @property
    def ok(self):
        return True

    @property
    def max_adjoint_error(self):
        return max((c.adjoint_error for c in self.checked), default=0.0)

    @property
    def max_derivative_error(self):
        return max((c.derivative_error for c in self.checked), default=0.0)

    @property
    def skipped(self):
        """The differentials checked as adjoints only (no central differences at a kink)."""
        return [c for c in self.checked if c.skipped]

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        out = (f"{len(self.checked)} displayed differentials ({sizes}, seed {self.seed}): adjoint of the "
               f"pullback to {self.max_adjoint_error:.0e}, derivative to {self.max_derivative_error:.0e}")
        if self.skipped:
            out += (f"; {len(self.skipped)} checked as adjoints only, without finite differences ("
                    f"{self.skipped[0].skipped})")
        return out


# -- the two comparisons ------------------------------------------------------------------------


def _shape_error(what, role, got, want):
    return DifferentialError(f"{what}: {role} is {fmt_shape(got)} but should be {fmt_shape(want)}")


def _adjoint_gap(what, g, dy, pairs, sides=("Ḡ : dY", "(pullback) : dA")):
    """Relative gap of ⟨g, dy⟩ and Σ ⟨pullback, dA⟩ over ``pairs`` of (pullback, dA) values."""
    left = pm.frob(g, dy)
    right = math.fsum(pm.frob(x, da) for x, da in pairs)
    scale = pm.frob(pm.emap(abs, g), pm.emap(abs, dy)) + math.fsum(
        pm.frob(pm.emap(abs, x), pm.emap(abs, da)) for x, da in pairs)
    gap = abs(left - right)
    rel = gap / scale if scale > 0 else gap
    if not rel <= ADJOINT_RTOL:  # also NaN
        raise DifferentialError(f"{what}: not the adjoint of the pullback: {sides[0]} = {left:.6g} but "
                                f"{sides[1]} = {right:.6g} (relative gap {rel:.1e})")
    return rel


def _derivative_gap(what, dy, hi, lo, eps):
    """Largest entry of |dy − (hi − lo)/2ε| relative to the largest central difference.

    The comparison is normwise, as for a matrix: each entry may differ by RTOL of the
    largest central difference (a tiny entry carries the truncation error of its
    neighbours' size) plus the rounding allowance of its own central difference.
    """
    nums = [[(h - low) / (2 * eps) for h, low in zip(rh, rl)] for rh, rl in zip(hi, lo)]
    top = max((abs(x) for row in nums for x in row), default=0.0)
    worst = 0.0
    for i, (ry, rn, rh, rl) in enumerate(zip(dy, nums, hi, lo)):
        for j, (y, num, h, low) in enumerate(zip(ry, rn, rh, rl)):
            err = abs(y - num)
            if not err <= RTOL * top + ROUND * max(abs(h), abs(low)):  # also NaN
                raise DifferentialError(f"{what}: not the derivative of the forward: entry ({i}, {j}) is "
                                        f"{y:.6g}, central differences give {num:.6g}")
            worst = max(worst, err)
    return worst / top if top > 0 else worst


def _draw(rng, shape, domain="normal"):
    r, c = shape
    if domain == "positive":
        return [[rng.uniform(0.5, 2.0) for _ in range(c)] for _ in range(r)]
    if domain == "nonzero":  # away from relu's kink at 0
        return [[rng.choice((-1.0, 1.0)) * rng.uniform(0.25, 2.0) for _ in range(c)] for _ in range(r)]
    return [[rng.gauss(0.0, 1.0) for _ in range(c)] for _ in range(r)]


def _draw_index(rng, node, sizes):
    """An index vector's value: n integers drawn uniformly from range(k)."""
    n, k = _dims((node.shape[0], node.attr.classes), sizes)
    return [rng.randrange(k) for _ in range(n)]


def _dims(shape, sizes):
    return tuple(dims.size(d, sizes) for d in shape)


# -- one rule -----------------------------------------------------------------------------------


def _domain(op, attr, i):
    """Where argument i of an operation is drawn: log, sqrt, a fractional or negative power and
    a divisor positive; relu's argument away from 0; anything else standard normal."""
    return RULES[op].domain(attr, i)


def verify(node, dargs, dy, gbar, pullbacks, what=None, seed=0, sizes=None):
    """Check a displayed differential ``dy`` of ``node`` against the ``pullbacks`` it is shown with.

    Parameters
    ----------
    node : Node
        An operation whose arguments are variables (as ``derivlib.engine.rules.example_node``
        builds them); a reference to ``node`` (or its ``aux``) in ``dy`` or a pullback is
        its forward value.
    dargs : list
        Per argument, the variable node of its differential in ``dy``, or None (held fixed).
    dy : Node
        The differential, an expression in ``dargs`` (of ``node``'s shape).
    gbar : Node
        The variable node of the output's adjoint Ḡ in ``pullbacks``.
    pullbacks : list
        Per argument, the pullback expression (only those with a differential are used).
    what : str, optional
        How an error names the differential; default the operation and ``dy`` as text.
    seed : int
    sizes : dict, optional
        Dimension sizes; default :data:`SIZES`.

    Returns
    -------
    Differential

    Raises
    ------
    DifferentialError
        Where the differential is not the adjoint of its pullback or not a derivative.
    """
    sizes = dict(SIZES if sizes is None else sizes)
    what = what or f"{node.op}: d{text(node)} = {text(dy)}"
    rng = random.Random(seed)
    moving = [i for i, d in enumerate(dargs) if d is not None]
    if not moving:
        raise ValueError(f"verify: dargs holds every argument fixed; got {dargs!r}")
    out_shape = _dims(node.shape, sizes)
    if _dims(dy.shape, sizes) != out_shape:
        raise _shape_error(what, "the differential", _dims(dy.shape, sizes), out_shape)
    worst_adjoint, worst_derivative = 0.0, 0.0
    for _ in range(N_DRAWS):
        env = {a.attr.ident: _draw_index(rng, a, sizes) if a.op == "index" else
               _draw(rng, _dims(a.shape, sizes), _domain(node.op, node.attr, i)) for i, a in enumerate(node.args)}
        forward = {}
        evaluate(node, env, sizes, None, forward)
        directions = {i: _draw(rng, _dims(node.args[i].shape, sizes)) for i in moving}
        g = _draw(rng, out_shape)
        y = evaluate(dy, env, sizes, None, {**forward, **{id(dargs[i]): directions[i] for i in moving}})
        if pm.shape(y) != out_shape:
            raise _shape_error(what, "the differential's value", pm.shape(y), out_shape)
        pairs = []
        for i in moving:
            x = evaluate(pullbacks[i], env, sizes, None, {**forward, id(gbar): g})
            if pm.shape(x) != pm.shape(directions[i]):
                raise _shape_error(what, f"the pullback to argument {i + 1}", pm.shape(x), pm.shape(directions[i]))
            pairs.append((x, directions[i]))
        worst_adjoint = max(worst_adjoint, _adjoint_gap(what, g, y, pairs))
        hi, lo = (evaluate(node, env, sizes, None, {id(node.args[i]): pm.add_scaled(env[node.args[i].attr.ident],
                                                                                     s * EPS, directions[i])
                                                    for i in moving}) for s in (1, -1))
        worst_derivative = max(worst_derivative, _derivative_gap(what, y, hi, lo, EPS))
    return Differential(what, worst_adjoint, worst_derivative)


def check_rule(op, attr=None, cases=(None, None), args=None, seed=0):
    """Check the differential of one rule, on its symbols, for each argument and all at once.

    Parameters
    ----------
    op : str
        A key of ``RULES``.
    attr : optional
        What the operation needs: the axis of ``sum``/``mean`` (None, 0, 1), the power of
        ``pow`` (a Fraction).
    cases : (str or None, str or None)
        For ``+ − * /``, how each argument broadcasts (a key of ``rules.CASES``; None: full).
    args : tuple of int, optional
        The arguments whose differential alone is checked; default each argument alone
        and, for two arguments, both together (the rules table's line). An index vector
        (take, pick, onehot) has no differential: none is checked for it (onehot: none).
    seed : int

    Returns
    -------
    DifferentialReport

    Raises
    ------
    DifferentialError
        Naming the rule, case and argument whose displayed differential is wrong.
    """
    if op not in RULES:
        raise ValueError(f"check_rule: op must be one of {', '.join(RULES)}; got {op!r}")
    sym = example_node(op, attr, cases if op in BINARY else (None, None))
    free = [i for i, a in enumerate(sym.args) if a.op != "index"]  # an index vector has no differential
    subsets = [(i,) for i in free] + ([tuple(free)] if len(free) > 1 else []) if args is None else [tuple(args)]
    label = op + (f"({', '.join(c or 'full' for c in cases)})" if op in BINARY else "") + (
        f" [{attr}]" if attr is not None else "")
    checked = []
    for k, subset in enumerate(subsets):
        dargs = [_dsymbol(a.attr.ident, a.shape) if i in subset else None for i, a in enumerate(sym.args)]
        dy = RULES[op].jvp(sym, list(sym.args), dargs)
        gbar = var(_BAR, sym.shape)
        backs = RULES[op].vjp(gbar, sym, list(sym.args))
        what = f"{label}: d{_name(sym)} = {text(dy)}"
        checked.append(verify(sym, dargs, dy, gbar, backs, what=what, seed=seed + k))
    return DifferentialReport(dict(SIZES), seed, tuple(checked))


def _name(node):
    """How the output of an example node is written after a d: S, (AB), (A + B)."""
    if node.name is not None:
        return node.name.text
    s = text(node)
    return s if len(s) <= 2 else f"({s})"


# -- the "why" lines of a derivation ------------------------------------------------------------


def _with_use(path, leaf):
    """The consumer at the head of ``path`` rebuilt with the one use at its end replaced by ``leaf``."""
    node = leaf
    for parent, j in reversed(path):
        args = list(parent.args)
        args[j] = node
        node = Node(parent.op, args, parent.shape, parent.attr)
    return node


def _adjoint_of(d, consumer, env, sizes, forward):
    if consumer is d.root:
        return [[1.0]]
    step = next(s for s in d.backward_steps if s.of is consumer and s.kind in ("backward", "paths"))
    return evaluate(step.node, env, sizes, None, dict(forward))


def _check_step(d, step, env, sizes, forward, rng):
    use = d._uses[step.name]
    n = step.of
    dn, dc, consumer = d._differential(n, use)
    shown = f"d{consumer.name.text} = {text(dc)}"
    what = f"step {step.symbol} ({step.name}): {shown}"
    if step.differential != shown:
        raise DifferentialError(f"{what}: the step displays {step.differential!r}, not the differential checked")
    value = forward[id(n)] if id(n) in forward else evaluate(n, env, sizes, None, dict(forward))
    out = forward[id(consumer)]
    contribution = evaluate(step.node, env, sizes, None, dict(forward))
    if pm.shape(contribution) != pm.shape(value):
        raise _shape_error(what, "the step's value", pm.shape(contribution), pm.shape(value))
    g = _adjoint_of(d, consumer, env, sizes, forward)
    sides = (f"{'G_' + consumer.name.text if consumer is not d.root else '1'} : d{consumer.name.text}",
             f"{step.symbol} : {dn.attr.text}")
    leaf = Node("var", (), n.shape, Sym("_use"))
    moved = _with_use(use.path, leaf)  # C with this one use of N replaced by leaf
    # through a relu the forward has a kink wherever its argument is exactly 0 (relu(relu(X)):
    # every negative entry), where central differences mean nothing: there the derivative is
    # the rule's, checked by check_rule, and the step's value is checked by Derivation.check
    kinked = any(node.op == "relu" for node, _ in use.path)
    # a max whose entries tie has a kink there too (the derivative of each one-sided choice
    # differs): the adjoint identity is still checked, the central differences are skipped
    tied = [node for node, _ in use.path if node.op in TIES
            and tied_entries(evaluate(node.args[0], env, sizes, None, dict(forward)), node.attr)]
    skipped = (f"step {step.symbol}: a max on its path has entries tied for its largest at this point, a kink "
               f"where finite differences measure neither one-sided slope") if tied else ""
    worst_adjoint, worst_derivative = 0.0, 0.0
    for _ in range(N_DRAWS):
        direction = _draw(rng, pm.shape(value))
        y = evaluate(dc, env, sizes, None, {**forward, id(dn): direction})
        if pm.shape(y) != pm.shape(out):
            raise _shape_error(what, "the differential's value", pm.shape(y), pm.shape(out))
        worst_adjoint = max(worst_adjoint, _adjoint_gap(what, g, y, [(contribution, direction)], sides))
        if kinked or tied:
            continue
        hi, lo = (evaluate(moved, env, sizes, None, {**forward, id(leaf): pm.add_scaled(value, s * EPS, direction)})
                  for s in (1, -1))
        worst_derivative = max(worst_derivative, _derivative_gap(what, y, hi, lo, EPS))
    return Differential(what, worst_adjoint, worst_derivative, skipped)


def _side_by_side(mats):
    """Matrices of equal row counts as one (their Frobenius products add up to the product of these)."""
    return [[x for row in rows for x in row] for rows in zip(*mats)]


def _check_blocks(d, step, env, sizes, forward, rng):
    """The block row of a split's adjoint, ``G_A = [G_i G_f G_o G_g]``: its differential
    ``d[i f o g] = split(dA)`` (each block's, along one direction dA) is the adjoint of the step,
    ``Σⱼ ⟨G_j, d(block j)⟩ = ⟨G_A, dA⟩``, and each block's the derivative of that block."""
    uses = d._uses[step.name]
    n = step.of
    what = f"step {step.symbol} ({step.name}): {step.differential}"
    if step.differential != d._blocks_why(n, uses)[0]:
        raise DifferentialError(f"{what}: the step displays a differential other than the one checked")
    parts = [d._differential(n, c) for c in uses]  # (dA, d block, block)
    value = forward[id(n)] if id(n) in forward else evaluate(n, env, sizes, None, dict(forward))
    contribution = evaluate(step.node, env, sizes, None, dict(forward))
    if pm.shape(contribution) != pm.shape(value):
        raise _shape_error(what, "the step's value", pm.shape(contribution), pm.shape(value))
    g = _side_by_side([_adjoint_of(d, block, env, sizes, forward) for _, _, block in parts])
    names = " ".join(block.name.text for _, _, block in parts)
    sides = (f"[G of {names}] : d[{names}]", f"{step.symbol} : {parts[0][0].attr.text}")
    leaf = Node("var", (), n.shape, Sym("_use"))
    moved = [_with_use(c.path, leaf) for c in uses]
    worst_adjoint, worst_derivative = 0.0, 0.0
    for _ in range(N_DRAWS):
        direction = _draw(rng, pm.shape(value))
        y = _side_by_side([evaluate(dc, env, sizes, None, {**forward, id(dn): direction}) for dn, dc, _ in parts])
        if pm.shape(y) != pm.shape(g):
            raise _shape_error(what, "the differential's value", pm.shape(y), pm.shape(g))
        worst_adjoint = max(worst_adjoint, _adjoint_gap(what, g, y, [(contribution, direction)], sides))
        hi, lo = (_side_by_side([evaluate(m, env, sizes, None, {**forward, id(leaf): pm.add_scaled(value, s * EPS,
                                                                                                  direction)})
                                 for m in moved]) for s in (1, -1))
        worst_derivative = max(worst_derivative, _derivative_gap(what, y, hi, lo, EPS))
    return Differential(what, worst_adjoint, worst_derivative)


def _identities(step_use, seen, seed):
    """The rule identities a step shows (one per node of its path), each rule and case once."""
    out = []
    for node, j in step_use.path:
        cases = tuple(_case(a.shape, node.shape) for a in node.args) if node.op in BINARY else (None, None)
        key = (node.op, node.attr, cases, j)
        if key not in seen:
            seen.add(key)
            out.extend(check_rule(node.op, node.attr, cases, args=(j,), seed=seed).checked)
    return out


def check_why(d, sizes=None, seed=0):
    """Check every "why" line of a derivation: the differential and the identities of each step.

    For each backward step (one use of a node N by its consumer C): ``dC = ...`` as the
    step displays it is the adjoint of the step's value, ``⟨G_C, dC(dN)⟩ = ⟨step, dN⟩``
    with ``G_C`` the consumer's adjoint (1 for the loss), and it is the derivative of
    ``C`` along ``dN`` through that use alone (central differences); each identity
    ``Ḡ : dY = (pullback) : dA`` of the step holds for its rule (:func:`check_rule`).

    Parameters
    ----------
    d : Derivation
    sizes : dict, optional
        Dimension -> size; default distinct primes.
    seed : int

    Returns
    -------
    DifferentialReport

    Raises
    ------
    DifferentialError
        Naming the step whose displayed line is wrong.
    """
    sizes = default_sizes(d, sizes)
    rng = random.Random(seed)
    env = random_values(d, sizes, rng)
    forward = {}
    loss = evaluate(d.root, env, sizes, None, forward)[0][0]
    if not math.isfinite(loss):
        raise ValueError(f"check_why: the loss is {loss} at the random point (sizes {sizes}, seed {seed}): "
                         f"outside the domain of a log, sqrt or division; try another seed")
    checked, seen = [], set()
    for step in d.backward_steps:
        if step.name not in d._uses:  # the sum of several paths: no differential shown
            continue
        uses = d._uses[step.name]
        if isinstance(uses, list):  # a split's block row: one differential for all its blocks
            checked.append(_check_blocks(d, step, env, sizes, forward, rng))
        else:
            checked.append(_check_step(d, step, env, sizes, forward, rng))
            uses = [uses]
        try:
            for use in uses:
                checked.extend(_identities(use, seen, seed))
        except DifferentialError as exc:
            raise DifferentialError(f"step {step.symbol} ({step.name}), its identity: {exc}") from None
    return DifferentialReport(sizes, seed, tuple(checked))
