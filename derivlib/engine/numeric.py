"""Derivations on numpy arrays: gradients, every step's value, and the check through derivlib.check.

The only module of the engine that imports numpy (when one of its functions is called).
"""

from __future__ import annotations

from typing import NamedTuple

from .evaluate import bind_sizes, evaluate
from .pure import (ADVICE, KINKS, N_DIRECTIONS, ROUND, checked_steps, consumers, default_sizes, downstream,
                   kink_entries, positive_variables, summary)

__all__ = ["gradients", "loss", "evaluate_steps", "check", "CheckReport", "random_arrays"]


def _arrays(d, values):
    import numpy as np

    from .._validate import real_array

    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict variable name -> array; got {type(values).__name__}")
    missing = [v for v in d.variables if v not in values]
    if missing:
        raise ValueError(f"values: no array for {', '.join(missing)} (the variables are {', '.join(d.variables)})")
    unknown = [v for v in values if v not in d.shapes]
    if unknown:
        raise ValueError(f"values: {', '.join(map(repr, unknown))} has no shape in the derivation (the "
                         f"variables are {', '.join(d.variables)})")
    env = {}
    for name in [v for v in d.shapes if v in values]:  # a variable the loss does not use may give a size
        a = np.array(real_array(name, values[name]), dtype=np.float64)
        if a.ndim == 0:
            a = a.reshape(1, 1)
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array of shape {d.shapes[name]}; got shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf")
        env[name] = a
    sizes = bind_sizes({k: d.shapes[k] for k in env}, {k: v.shape for k, v in env.items()})
    used = {x for n in d.nodes for x in (*n.shape, n.attr if n.op == "dim" else 1) if isinstance(x, str)}
    unbound = [dim for dim in d.dims() if dim in used and dim not in sizes]
    if unbound:
        owners = [v for v in d.shapes if v not in d.variables and set(unbound) & set(d.shapes[v])]
        raise ValueError(f"values: no array gives the size of {', '.join(map(repr, unbound))}"
                         + (f": give {', '.join(owners)} too (the loss does not use it, but its shape names "
                            f"the size)" if owners else ""))
    return env, sizes


def errstate(np):
    """Overflow, an invalid operation (log of a negative number) and division by zero raise;
    underflow to zero or a subnormal is not an error."""
    return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")


def _steps_in_order(d, env, sizes, cache, last=None):
    """Evaluate the steps in order, up to the step ``last``, naming the step that overflows."""
    import numpy as np

    out = {}
    for s in d.steps:
        try:
            with errstate(np):
                out[s.name] = evaluate(s.node, env, sizes, np, cache)
        except (FloatingPointError, ArithmeticError) as exc:
            raise ValueError(f"values: {exc} in step {s.symbol} = {s.expression} (step {s.name}): the values "
                             f"are too large, or outside the domain of a log, sqrt or division") from None
        if s.name == last:
            break
    return out


def evaluate_steps(d, values):
    """Every step's value on arrays: dict step name -> ndarray.

    Raises ValueError naming the step where an overflow or an invalid operation happens.
    """
    env, sizes = _arrays(d, values)
    return _steps_in_order(d, env, sizes, {})


def loss(d, values):
    """The loss on arrays, a float."""
    env, sizes = _arrays(d, values)
    cache = {}
    _steps_in_order(d, env, sizes, cache, last=d.forward_steps[-1].name)
    return float(cache[id(d.root)][0, 0])


def gradients(d, values):
    """dict variable -> gradient array, each of its variable's shape."""
    import numpy as np

    env, sizes = _arrays(d, values)
    cache = {}
    _steps_in_order(d, env, sizes, cache)
    with errstate(np):
        return {v: evaluate(node, env, sizes, np, cache) for v, node in d.gradient_expressions.items()}


class CheckReport(NamedTuple):
    """Every adjoint of a derivation checked by :func:`derivlib.check.gradcheck`.

    ``steps``: (step name, ArgReport) for each adjoint that agrees, its ``max_rel_error``
    the error over the gradient's size (Frobenius norm, or the finite differences'
    rounding noise when larger); ``unchecked``: (step name, symbol, reason, advice) for
    each adjoint the finite differences cannot decide here; ``excluded``: (step name,
    symbol, entries) left out of the directions at a relu's kink; ``reason``/``advice``
    when the whole point cannot be used (the loss not finite there). ``verdict`` is
    ``"right"`` or ``"cannot tell"`` (a wrong adjoint raises GradCheckError).
    """

    sizes: dict
    seed: int
    steps: tuple
    unchecked: tuple = ()
    excluded: tuple = ()
    reason: str = ""
    advice: str = ""
    symbols: tuple = ()

    @property
    def verdict(self):
        return "cannot tell" if self.reason or self.unchecked else "right"

    @property
    def ok(self):
        return self.verdict == "right"

    @property
    def max_rel_error(self):
        return max((r.max_rel_error for _, r in self.steps), default=0.0)

    @property
    def max_abs_error(self):
        return max((r.max_abs_error for _, r in self.steps), default=0.0)

    def __str__(self):
        symbol = dict(self.symbols)
        excluded = {name: k for name, _, k in self.excluded}
        rows = [(symbol.get(name, name), "right", "", "", excluded.get(name, 0)) for name, _ in self.steps]
        rows += [(sym, "cannot tell", why, what, excluded.get(name, 0)) for name, sym, why, what in self.unchecked]
        return summary(self.verdict, self.sizes, self.seed, rows, self.max_rel_error, self.reason, self.advice)


def random_arrays(d, sizes, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    positive = positive_variables(d)
    out = {}
    for name, v in d.variables.items():
        shape = tuple(s if isinstance(s, int) else sizes[s] for s in v.shape)
        out[name] = rng.uniform(0.5, 2.0, shape) if name in positive else rng.standard_normal(shape)
    return out


def check(d, sizes=None, seed=0, values=None):
    """Compare every adjoint with central differences of the loss through its intermediate.

    For the step ``G_M``: ``f(M) =`` the loss with ``M`` replaced (only the part of the
    graph downstream of M is re-evaluated), checked by :func:`derivlib.check.gradcheck`
    along random directions against ``G_M``; entries of M at a relu's kink (its argument
    exactly 0) are left out of the directions. Returns a :class:`CheckReport` whose
    verdict is right or cannot tell (a :class:`~derivlib.check.FiniteDifferenceError`, or
    a point outside the domain, with the reason and what to try); raises
    :class:`derivlib.check.GradCheckError` naming the step whose adjoint is wrong.
    """
    import numpy as np

    from ..check import FiniteDifferenceError, GradCheckError, gradcheck

    sizes = default_sizes(d, sizes)
    seed = _seed(seed)
    env = random_arrays(d, sizes, seed) if values is None else _arrays(d, values)[0]
    symbols = tuple((s.name, s.symbol) for s in checked_steps(d))
    forward = {}
    try:
        with errstate(np):
            loss = evaluate(d.root, env, sizes, np, forward)
        why = f"the loss is {loss.item()}"
    except (FloatingPointError, ArithmeticError) as exc:
        loss, why = np.array([[np.nan]]), f"the loss cannot be computed ({exc})"
    if not np.isfinite(loss).all():
        return CheckReport(sizes, seed, (), reason=f"{why} at the random point: outside the domain of a log, sqrt "
                           f"or division, or too large", advice=ADVICE["domain"], symbols=symbols)
    users = consumers(d)
    order = {id(n): k for k, n in enumerate(d.nodes)}
    kinked = {id(n) for n in d.nodes if n.op in KINKS and not np.all(forward[id(n.args[0])])}
    lists = {}

    def value_of(n):
        if id(n) not in lists:
            lists[id(n)] = np.asarray(forward[id(n)]).tolist()
        return lists[id(n)]

    results, unchecked, excluded = [], [], []
    for k, step in enumerate(checked_steps(d)):
        m = step.of
        label = f"{step.symbol} (step {step.name})"
        try:
            with errstate(np):
                value = forward[id(m)] if id(m) in forward else evaluate(m, env, sizes, np, dict(forward))
                g = np.asarray(evaluate(step.node, env, sizes, np, dict(forward)), dtype=float)
        except (FloatingPointError, ArithmeticError) as exc:
            unchecked.append((step.name, step.symbol, f"the adjoint cannot be computed at this point ({exc})",
                              ADVICE["domain"]))
            continue
        except ValueError as exc:  # its products do not conform: the adjoint is wrong
            raise GradCheckError(f"{label}: the adjoint cannot be evaluated: {exc}", argument=label,
                                 diagnosis=str(exc), max_abs_error=float("nan"), max_rel_error=float("nan"),
                                 numerical=None, analytical=None) from None
        below = downstream(d, m, users, order)
        out, why = kink_entries(m, below, value_of, kinked) if g.shape == value.shape else (set(), None)
        if why:
            unchecked.append((step.name, step.symbol, why, ADVICE["kink"]))
            continue
        base = {key: v for key, v in forward.items() if key not in {id(n) for n in below}}
        free = np.ones(value.shape, dtype=bool)
        for i, j in out:
            free[i, j] = False
        if out:
            excluded.append((step.name, step.symbol, len(out)))
            if not free.any():
                unchecked.append((step.name, step.symbol, "every entry sits at a kink (a relu's argument exactly 0)",
                                  ADVICE["kink"]))
                continue

        def f(x, m=m, base=base, value=value, free=free, masked=bool(out)):
            if masked:
                M = value.copy()
                M[free] = x
            else:
                M = x
            with errstate(np):
                return evaluate(d.root, env, sizes, np, {**base, id(m): M})[0, 0]

        arg, grad = (value[free], g[free]) if out else (value, g)
        try:
            # gradcheck's own relative error divides by the tiniest float when the gradient is 0 (an
            # overflow to a figure such as 1e+292, replaced below by one over the gradient's size)
            with np.errstate(over="ignore"):
                report = gradcheck(f, (arg,), (grad,), names=[label], seed=seed + k, n_directions=N_DIRECTIONS,
                                   full_max_size=0)
        except FiniteDifferenceError as exc:
            unchecked.append((step.name, step.symbol, exc.diagnosis, ADVICE.get(_FD_ADVICE.get(exc.kind), "")
                              or ADVICE["curvature"]))
            continue
        except (FloatingPointError, ArithmeticError) as exc:
            unchecked.append((step.name, step.symbol, f"the loss cannot be computed next to this point ({exc})",
                              ADVICE["domain"]))
            continue
        arg_report = report.arguments[0]
        noise = ROUND * float(np.abs(loss).max())
        scale = max(float(np.linalg.norm(grad)), noise)
        abs_err = arg_report.max_abs_error
        rel = abs_err / scale if scale > 0 else (0.0 if abs_err == 0 else float("inf"))
        results.append((step.name, arg_report._replace(max_rel_error=rel)))
    return CheckReport(sizes, seed, tuple(results), tuple(unchecked), tuple(excluded), symbols=symbols)


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError(f"seed must be a whole number >= 0; got {seed!r:.40}")
    return seed


def _fd_advice():
    from ..diagnosis import Diagnosis

    return {Diagnosis.KINK: "kink", Diagnosis.NOT_FINITE_NEARBY: "domain", Diagnosis.ROUNDING: "rounding",
            Diagnosis.LOW_PRECISION: "rounding", Diagnosis.STEP_LOST: "rounding", Diagnosis.CURVATURE: "curvature"}


_FD_ADVICE = _fd_advice()
