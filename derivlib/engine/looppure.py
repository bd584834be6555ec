"""A loop derivation evaluated in pure Python (standard library only, the playground's path):
the recurrence run step by step on lists of lists, and its check against central differences of
the program unrolled.

A sequence's value is a list of ``T`` matrices (each a list of rows); every other value a matrix.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

from . import puremat as pm
from .evaluate import bind_sizes, evaluate

__all__ = ["gradients_pure", "loss_pure", "check_pure", "LoopPureReport"]


def _add(a, b):
    return pm.zipwith(lambda x, y: x + y, a, b)


def _zeros_like(a):
    return [[0.0] * len(a[0]) for _ in a]


def _sizes(ld, values):
    p = ld.program
    shapes, got = {}, {}
    for v, a in values.items():
        if v in p.sequences:
            shapes[v], got[v] = p.sequences[v], (len(a), *pm.shape(a[0]))
        elif v in p.plain:
            shapes[v], got[v] = p.plain[v], pm.shape(a)
    return bind_sizes(shapes, got)


def _length(ld, values):
    lengths = {len(values[x]) for x in ld.program.sequences if x in values}
    if len(lengths) != 1:
        raise ValueError(f"values: the sequences must have one length; got {sorted(lengths)}")
    return lengths.pop()


def gradients_pure(ld, values):
    """dict variable -> gradient (lists of lists; a list of them for a sequence), the recurrence run in
    pure Python: the body's forward steps for t = 1 … T, the read-out, then the body's gradients for
    t = T … 1 with the adjoints arriving from step t+1."""
    p, b, r = ld.program, ld.body, ld.readout
    missing = [v for v in ld.variables if v not in values]
    if missing:
        raise ValueError(f"values: no value for {', '.join(missing)}")
    sizes, T = _sizes(ld, values), _length(ld, values)
    shared = {v: values[v] for v in p.plain if v in values}
    state_node = {s: next(n for n in b.nodes if n.name is not None and n.name.ident == s) for s in p.states}
    states = {s: [values[init]] for s, init in p.states.items()}
    forward = [s for s in b.forward_steps if s.node is not b.root]

    def env_at(t, arriving):
        env = dict(shared)
        env.update({x: values[x][t] for x in p.sequences if x in values})
        env.update({p.prev[s]: states[s][t] for s in p.states})
        env.update({p.arriving[s]: arriving[s] for s in p.states})
        return env

    zero = {s: _zeros_like(values[init]) for s, init in p.states.items()}
    for t in range(T):
        cache = {}
        env = env_at(t, zero)
        for s in forward:
            evaluate(s.node, env, sizes, None, cache)
        for s in p.states:
            states[s].append(cache[id(state_node[s])])
    grads = {v: None for v in ld.wrt}
    arriving = dict(zero)
    if r is not None:
        env = {**shared, **{s: states[s][T] for s in p.states}}
        cache = {}
        for st in r.steps:
            evaluate(st.node, env, sizes, None, cache)
        for v, node in r.gradient_expressions.items():
            value = evaluate(node, env, sizes, None, cache)
            if v in p.states:
                arriving[v] = value
            else:
                grads[v] = value
    per_step = {x: [None] * T for x in p.sequences if x in grads}
    for t in reversed(range(T)):
        cache = {}
        env = env_at(t, arriving)
        for st in b.steps:
            if st.node is not b.root:
                evaluate(st.node, env, sizes, None, cache)
        g = {v: evaluate(node, env, sizes, None, cache) for v, node in b.gradient_expressions.items()}
        for v, value in g.items():
            if v in per_step:
                per_step[v][t] = value
            elif v in grads:
                grads[v] = value if grads[v] is None else _add(grads[v], value)
        arriving = {s: g.get(p.prev[s], zero[s]) for s in p.states}
    for s, init in p.states.items():
        if init in grads:
            grads[init] = arriving[s] if grads[init] is None else _add(grads[init], arriving[s])
    grads.update(per_step)
    return grads


def _unrolled(ld, T):
    from .derivation import derive  # an ordinary expression: the program written out

    cache = getattr(ld, "_unrolled_cache", None)
    if cache is None:
        cache = ld._unrolled_cache = {}
    if T not in cache:
        expr, shapes = ld.unrolled(T)
        cache[T] = derive(expr, shapes)
    return cache[T]


def loss_pure(ld, values):
    """The loss, a float, from the program unrolled at the values' length, in pure Python."""
    T = _length(ld, values)
    d = _unrolled(ld, T)
    env = {v: a for v, a in values.items() if v not in ld.program.sequences}
    for x in ld.program.sequences:
        if x in values:
            env.update({f"{x}__{t}": values[x][t] for t in range(T)})
    shapes = {k: v for k, v in d.shapes.items() if k in env}
    sizes = bind_sizes(shapes, {k: pm.shape(env[k]) for k in shapes})
    return evaluate(d.root, env, sizes, None, {})[0][0]


class LoopPureReport(NamedTuple):
    """The pure-Python check of a loop derivation: ``verdicts`` maps each variable to ``"right"``,
    ``"wrong"`` or ``"cannot tell"``, ``errors`` to |directional derivative − finite difference| over
    the tolerance (at most 1 when right)."""

    sizes: dict
    seed: int
    verdicts: dict
    errors: dict

    @property
    def verdict(self):
        found = set(self.verdicts.values())
        return "wrong" if "wrong" in found else "right" if found == {"right"} else "cannot tell"

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return (f"check in pure Python, unrolled ({sizes}, seed {self.seed}): " +
                ", ".join(f"G_{v} {verdict}" for v, verdict in self.verdicts.items()))


#: Central-difference step and relative tolerance (as derivlib.check's defaults); the absolute part is
#: the rounding of the two losses over the step, 2·u·max|f|/ε (u the float64 machine epsilon).
EPS, RTOL, U = 1e-6, 1e-5, 2.0 ** -52


def random_values_pure(ld, sizes, seed):
    from .loopcode import _dim, _sizes as default_sizes

    sizes = default_sizes(ld, sizes)
    rng = random.Random(seed)
    out = {}
    for v in ld.variables:
        shape = [_dim(d, sizes) for d in (ld.program.sequences.get(v) or ld.program.plain[v])]
        if len(shape) == 3:
            out[v] = [[[rng.gauss(0, 1) for _ in range(shape[2])] for _ in range(shape[1])] for _ in range(shape[0])]
        else:
            out[v] = [[rng.gauss(0, 1) for _ in range(shape[1])] for _ in range(shape[0])]
    return sizes, out


def _map(f, a, depth):
    return [_map(f, x, depth - 1) for x in a] if depth else f(a)


def check_pure(ld, sizes=None, seed=0):
    """Each gradient of the recurrence (run in pure Python) against a central difference of the
    unrolled loss along a random direction: a :class:`LoopPureReport` (nothing raised)."""
    sizes, values = random_values_pure(ld, sizes, seed)
    grads = gradients_pure(ld, values)
    rng = random.Random(seed + 1)
    verdicts, errors = {}, {}
    for v in ld.wrt:
        depth = 1 if v in ld.program.sequences else 0
        direction = _map(lambda m: [[rng.gauss(0, 1) for _ in row] for row in m], values[v], depth)

        def moved(eps, v=v, direction=direction):
            if depth:
                a = [pm.add_scaled(m, eps, d) for m, d in zip(values[v], direction)]
            else:
                a = pm.add_scaled(values[v], eps, direction)
            return loss_pure(ld, {**values, v: a})

        try:
            up, down = moved(EPS), moved(-EPS)
        except (ArithmeticError, ValueError):
            verdicts[v], errors[v] = "cannot tell", None
            continue
        fd = (up - down) / (2 * EPS)
        g = grads[v]
        exact = sum(pm.frob(a, b) for a, b in zip(g, direction)) if depth else pm.frob(g, direction)
        tol = RTOL * abs(fd) + 2 * U * max(abs(up), abs(down)) / EPS
        if not (math.isfinite(fd) and math.isfinite(exact)):
            verdicts[v], errors[v] = "cannot tell", None
            continue
        errors[v] = abs(exact - fd) / tol if tol else math.inf
        verdicts[v] = "right" if abs(exact - fd) <= tol else "wrong"
    return LoopPureReport(sizes, seed, verdicts, errors)
