"""A loop derivation as code and numbers: the generated numpy ``backward`` with real loops, the
program unrolled at a given length, and the check (numpy only inside the functions that need it).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from . import dims
from .naming import fresh, topo
from .nodes import Coef, fmt_shape
from .npsource import source
from .rules import NAMES, np_helper

__all__ = ["numpy_source", "gradients", "loss", "unroll", "random_values", "check", "LoopCheckReport"]

_HELPERS = tuple(k[1:] for k in NAMES if k != "np")


def _rename(src, mapping):
    """``src`` (Python source) with each name in ``mapping`` replaced by its source (``X`` -> ``X[t]``)."""
    class R(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in mapping:
                return ast.parse(mapping[node.id], mode="eval").body
            return node

    return ast.unparse(R().visit(ast.parse(src, mode="eval")).body)


def _rhs(step, ns):
    node = step.node.args[0] if step.node.op == "let" else step.node
    return source(node, top=True, names=ns)


def _reads(src):
    return {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}


def numpy_source(ld):
    """Source of ``backward(**variables)`` for the loop derivation ``ld``: the forward loop keeping
    what the backward reads, the read-out, then ``for t in reversed(range(T))``, one line a step."""
    p, b, r = ld.program, ld.body, ld.readout
    i, T = p.index, p.length
    params = [v for v in ld.shapes if v in ld.variables]
    taken = set(b._taken) | {s.name for s in b.steps} | set(ld.shapes) | {i, T}
    if r is not None:
        taken |= set(r._taken) | {s.name for s in r.steps}
    ns = {k: fresh(k, taken) for k in (*NAMES, "_")}
    np = ns["np"]
    carry = {s: fresh(f"G_{s}_next", taken) for s in p.states}
    gname = {}  # variable -> the name of its gradient's sum (G_X; G_X_ when a variable is called G_X)
    for v in ld.wrt:
        gname[v] = fresh(f"G_{v}", taken | set(carry.values()) | set(gname.values()))
    lines = ["import numpy" if np == "numpy" else f"import numpy as {np}", "", ""]
    steps = list(b.steps) + (list(r.steps) if r is not None else [])
    used = {n.op for s in steps for n in topo(s.node)}
    for op in (h for h in _HELPERS if h in used):
        lines += np_helper(op, ns) + ["", ""]
    # the body's steps: forward (the loss left out) and the backward steps the gradients need
    fwd = [s for s in b.forward_steps if s.node is not b.root]
    carry_steps = {p.prev[s]: b._adjoint_step[p.prev[s]] for s in p.states if p.prev[s] in b._adjoint_step}
    grad_steps = {v: b._adjoint_step[v] for v in b.wrt if v not in carry_steps}
    needed = {s.name for s in (*carry_steps.values(), *grad_steps.values())}
    bwd = []
    for s in reversed(b.backward_steps):
        if s.name in needed:
            src = _rhs(s, ns)
            bwd.append((s, src))
            needed |= _reads(src)
    bwd.reverse()
    stored = {s.name for s in fwd if s.name in needed} | set(p.states)
    mapping = {x: f"{x}[{i}]" for x in p.sequences}
    mapping.update({p.prev[s]: f"{s}[{i}]" for s in p.states})
    mapping.update({name: f"{name}[{i} + 1]" if name in p.states else f"{name}[{i}]" for name in stored})
    mapping.update({p.arriving[s]: carry[s] for s in p.states})

    lines.append(f"def backward({', '.join(params)}):")
    lines.append(f'    """Gradients with respect to {", ".join(ld.wrt)} of the loss of')
    lines += ["    " + x for x in ld.expr.strip("\n").splitlines()]
    lines.append('    """')
    lines += _bind_dims(ld, params, ns)
    lines.append(f"    # forward, {i} = 0 … {T}−1, keeping what the backward reads")
    for s, init in p.states.items():
        lines.append(f"    {s} = [{init}] + [None] * {T}  # {s}[{i}] is the state after {i} steps")
    for s in fwd:
        if s.name in stored and s.name not in p.states:
            lines.append(f"    {s.name} = [None] * {T}")
    lines.append(f"    for {i} in range({T}):")
    for s in fwd:
        target = mapping.get(s.name, s.name)
        lines.append(f"        {target} = {_rename(_rhs(s, ns), mapping)}  # {fmt_shape(s.shape)}")
    # the read-out after the last step: its gradients start the backward loop
    start = {}
    if r is not None:
        rmap = {s: f"{s}[{T}]" for s in p.states}
        rnames = {st.name: fresh(st.name + "_out", taken) for st in r.steps}
        rmap.update(rnames)
        lines.append("    # the read-out after the last step")
        rgrads = {st.name: v for v, st in r._adjoint_step.items()}
        for st in r.steps:
            if st.node is r.root:
                continue
            if st.name in rgrads:
                v = rgrads[st.name]
                start[v] = _rename(_rhs(st, ns), rmap)
            else:
                lines.append(f"    {rnames[st.name]} = {_rename(_rhs(st, ns), rmap)}  # {fmt_shape(st.shape)}")
    lines.append(f"    # backward, {i} = {T}−1 … 0: {', '.join(carry.values())} is the adjoint arriving from step {i}+1")
    for s, init in p.states.items():
        lines.append(f"    {carry[s]} = {start.get(s, f'{np}.zeros_like({init})')}")
    for v, st in grad_steps.items():  # a copy of a read-out's step (a step, or a view U.T): the sum grows in place
        first = _copy(start[v]) if v in start else None
        lines.append(f"    {gname[v]} = {first or f'{np}.zeros_like({v})'}" if v in p.plain else
                     f"    {gname[v]} = {np}.zeros_like({v})")
    lines.append(f"    for {i} in reversed(range({T})):")
    grad_names = {st.name: v for v, st in grad_steps.items()}
    carry_names = {st.name: s for s in p.states for st in [carry_steps.get(p.prev[s])] if st is not None}
    for s, src in bwd:
        rhs, shape = _rename(src, mapping), fmt_shape(s.shape)
        if s.name in carry_names:
            continue
        if s.name in grad_names:
            v = grad_names[s.name]
            op = "+=" if v in p.plain else "="
            target = gname[v] if v in p.plain else f"{gname[v]}[{i}]"
            lines.append(f"        {target} {op} {rhs}  # {shape}")
        else:
            lines.append(f"        {s.name} = {rhs}  # {shape}")
    for s, src in bwd:  # last: the adjoints passed to step t−1 (read above as the ones from step t+1)
        if s.name in carry_names:
            st = carry_names[s.name]
            lines.append(f"        {carry[st]} = {_rename(src, mapping)}  # {fmt_shape(s.shape)}, to step {i}−1")
    out = {}
    for v in ld.wrt:  # every way v reaches the loss: each state it starts, the steps, the read-out
        terms = [carry[s] for s, init in p.states.items() if init == v]
        if v in grad_steps:
            terms.append(gname[v])  # (it starts from the read-out's term, if any)
        elif v in start:
            terms.append(start[v])
        out[v] = " + ".join(terms)
    lines.append("    return {" + ", ".join(f"{v!r}: {g}" for v, g in out.items()) + "}")
    return "\n".join(lines) + "\n"


def _copy(src):
    """``src.copy()``, parenthesized when ``src`` is not an atom (``U.T.copy()``, ``(a + b).copy()``)."""
    atom = isinstance(ast.parse(src, mode="eval").body, (ast.Name, ast.Attribute, ast.Subscript, ast.Call))
    return f"{src}.copy()" if atom else f"({src}).copy()"


def _bind_dims(ld, params, ns):
    lines, bound = [], set()
    for v in params:
        shape = ld.shapes[v]
        shape = ld.program.sequences.get(v) or ld.program.plain.get(v)
        if any(isinstance(d, str) and d not in bound for d in shape):
            names = [d if isinstance(d, str) and d not in bound else ns["_"] for d in shape]
            lines.append(f"    {', '.join(names)} = {ns['np']}.shape({v})  # {'×'.join(map(str, shape))}")
            bound |= {d for d in shape if isinstance(d, str)}
        for axis, d in enumerate(shape):
            if isinstance(d, Coef) and dims.names(d)[0] not in bound:
                lines.append(f"    {dims.names(d)[0]} = {ns['np']}.shape({v})[{axis}] // {d.num}")
                bound.add(dims.names(d)[0])
    return lines


# ------------------------------------------------------------------------------------ numbers
def _backward_function(ld):
    if getattr(ld, "_backward", None) is None:
        scope = {}
        exec(compile(ld.numpy_source(), "<derivlib loop backward>", "exec"), scope)  # noqa: S102 - our own code
        ld._backward = scope["backward"]
    return ld._backward


def _arrays(ld, values):
    import numpy as np

    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict variable name -> array; got {type(values).__name__}")
    missing = [v for v in ld.variables if v not in values]
    if missing:
        raise ValueError(f"values: no array for {', '.join(missing)} (the variables are {', '.join(ld.variables)})")
    out = {}
    for v in ld.variables:
        a = np.asarray(values[v], dtype=np.float64)
        want = 3 if v in ld.program.sequences else 2
        if a.ndim != want:
            raise ValueError(f"{v} must be a {want}-D array of shape {ld.shapes[v]}; got shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{v} contains NaN or inf")
        out[v] = a
    from .evaluate import bind_sizes

    declared = {v: ld.program.sequences.get(v) or ld.program.plain[v] for v in out}
    bind_sizes(declared, {v: a.shape for v, a in out.items()})  # a ValueError naming the disagreement
    return out


def gradients(ld, values):
    """dict variable -> gradient, from the generated ``backward``."""
    import numpy as np

    env = _arrays(ld, values)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        return _backward_function(ld)(**env)


def unroll(ld, length):
    """(expression, shapes) of the program written out for ``length`` steps, every sequence entry
    a variable ``X__t`` of its own (t from 0)."""
    if not isinstance(length, int) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length must be a positive integer; got {length!r}")
    p = ld.program
    current = {s: init for s, init in p.states.items()}
    shapes = {v: p.plain[v] for v in p.plain}
    lines, terms = [], []
    for t in range(length):
        names = {}
        for x in p.sequences:
            names[x] = f"{x}__{t}"
            shapes[f"{x}__{t}"] = p.sequences[x][1:]
        names.update({p.prev[s]: current[s] for s in p.states})
        for line in p.body:
            target, value = line.split(" = ", 1)
            rhs = _rename(value, names)
            new = [x.strip() for x in target.split(",")]
            for x in new:
                names[x] = f"{x}__{t}"
            lines.append(f"{', '.join(names[x] for x in new)} = {rhs}")
        terms += [f"({_rename(term, names)})" for term in p.terms]
        for s in p.states:
            current[s] = names[s]
    parts = []
    if terms:
        parts.append(" + ".join(terms))
    if p.readout is not None:
        parts.append(f"({_rename(p.readout, current)})")
    return "\n".join(lines + [" + ".join(parts)]), shapes


def _unrolled_values(ld, env):
    out = {v: a for v, a in env.items() if v not in ld.program.sequences}
    for x in ld.program.sequences:
        if x in env:
            for t in range(env[x].shape[0]):
                out[f"{x}__{t}"] = env[x][t]
    return out


def _length(env, ld):
    return next(env[x].shape[0] for x in ld.program.sequences if x in env)


def loss(ld, values):
    """The loss, a float, from the program unrolled at the values' length."""
    from .derivation import derive  # an ordinary expression: the program unrolled

    env = _arrays(ld, values)
    expr, shapes = unroll(ld, _length(env, ld))
    d = derive(expr, shapes)
    vals = _unrolled_values(ld, env)
    return d.loss({k: v for k, v in vals.items() if k in d.variables})


def _sizes(ld, sizes):
    names = []
    for v in ld.variables:
        shape = ld.program.sequences.get(v) or ld.program.plain[v]
        for d in shape:
            names += [x for x in dims.names(d) if x not in names]
    primes = iter([2, 3, 5, 7, 11, 13, 17, 19, 23])
    out = {}
    for x in names:
        out[x] = 3 if x in {s[0] for s in ld.program.sequences.values()} else next(primes)
    out.update(sizes or {})
    return out


def _dim(d, sizes):
    if isinstance(d, int):
        return d
    if isinstance(d, Coef):
        return int(round(d.value(sizes)))
    return sizes[d]


def random_values(ld, sizes=None, seed=0):
    """Random standard-normal values of every variable (sequences of the sizes' length)."""
    import numpy as np

    sizes = _sizes(ld, sizes)
    rng = np.random.default_rng(seed)
    out = {}
    for v in ld.variables:
        shape = ld.program.sequences.get(v) or ld.program.plain[v]
        out[v] = rng.standard_normal(tuple(_dim(d, sizes) for d in shape))
    return out


class LoopCheckReport(NamedTuple):
    """The check of a loop derivation: ``verdicts`` maps each variable to ``"right"``, ``"wrong"`` or
    ``"cannot tell"``; ``errors`` to its largest relative error (None when not measured)."""

    sizes: dict
    seed: int
    verdicts: dict
    errors: dict

    @property
    def ok(self):
        return all(v == "right" for v in self.verdicts.values())

    @property
    def verdict(self):
        """``"right"`` when every gradient is, ``"wrong"`` when one is, else ``"cannot tell"``."""
        found = set(self.verdicts.values())
        return "wrong" if "wrong" in found else "right" if found == {"right"} else "cannot tell"

    def __str__(self):
        return self.text()

    def text(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        rows = [f"  G_{v}: {verdict}" + (f" (max rel. error {self.errors[v]:.1e})" if self.errors[v] is not None
                                         else "") for v, verdict in self.verdicts.items()]
        return (f"check, unrolled ({sizes}, seed {self.seed}): each gradient of the recurrence against finite "
                f"differences of the unrolled loss\n" + "\n".join(rows))


def check(ld, sizes=None, seed=0):
    """Unroll at small sizes; compare each gradient of the recurrence (the generated code) with central
    differences of the unrolled loss. Returns a :class:`LoopCheckReport`; raises
    :class:`derivlib.check.GradCheckError` (naming the variable) when one is wrong."""
    import numpy as np

    from ..check import FiniteDifferenceError, GradCheckError, gradcheck
    from .derivation import derive  # an ordinary expression: the program unrolled

    sizes = _sizes(ld, sizes)
    env = random_values(ld, sizes, seed)
    grads = gradients(ld, env)
    expr, shapes = unroll(ld, _length(env, ld))
    d = derive(expr, shapes)
    verdicts, errors, wrong = {}, {}, None
    for v in ld.wrt:
        def f(a, v=v):
            vals = _unrolled_values(ld, {**env, v: a})
            return d.loss({k: x for k, x in vals.items() if k in d.variables})

        try:
            rep = gradcheck(f, [env[v]], [np.asarray(grads[v])], seed=seed, names=[v])
            verdicts[v], errors[v] = "right", rep.max_rel_error
        except FiniteDifferenceError:
            verdicts[v], errors[v] = "cannot tell", None
        except GradCheckError as exc:
            verdicts[v], errors[v] = "wrong", None
            wrong = wrong or (v, exc)
    report = LoopCheckReport(sizes, seed, verdicts, errors)
    if wrong is not None:
        exc = wrong[1]
        exc.add_note(f"the gradient of {wrong[0]} from the recurrence disagrees with the unrolled loss\n"
                     + report.text())
        raise exc
    return report
