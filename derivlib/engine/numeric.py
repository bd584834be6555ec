"""Derivations on numpy arrays: gradients, every step's value, and the check through derivlib.check.

The only module of the engine that imports numpy (when one of its functions is called).
"""

from __future__ import annotations

from typing import NamedTuple

from .evaluate import bind_sizes, evaluate
from .pure import N_DIRECTIONS, checked_steps, default_sizes, positive_variables

__all__ = ["gradients", "loss", "evaluate_steps", "check", "CheckReport", "random_arrays"]


def _arrays(d, values):
    import numpy as np

    from .._validate import real_array

    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict variable name -> array; got {type(values).__name__}")
    missing = [v for v in d.variables if v not in values]
    if missing:
        raise ValueError(f"values: no array for {', '.join(missing)} (the variables are {', '.join(d.variables)})")
    env = {}
    for name in d.variables:
        a = np.array(real_array(name, values[name]), dtype=np.float64)
        if a.ndim == 0:
            a = a.reshape(1, 1)
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array of shape {d.shapes[name]}; got shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf")
        env[name] = a
    sizes = bind_sizes({k: d.shapes[k] for k in d.variables}, {k: v.shape for k, v in env.items()})
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
    """Every adjoint of a derivation checked by :func:`derivlib.check.gradcheck`."""

    sizes: dict
    seed: int
    steps: tuple  # (step name, ArgReport)

    @property
    def max_rel_error(self):
        return max((r.max_rel_error for _, r in self.steps), default=0.0)

    @property
    def max_abs_error(self):
        return max((r.max_abs_error for _, r in self.steps), default=0.0)

    def __str__(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return (f"check ({sizes}, seed {self.seed}): {len(self.steps)} adjoints against finite differences, "
                f"max rel. error {self.max_rel_error:.0e}")


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

    For the step ``G_M``: ``f(M) =`` the loss with ``M`` replaced (the part of the graph
    downstream of M is re-evaluated), checked by :func:`derivlib.check.gradcheck` along
    random directions against ``G_M``. Raises :class:`derivlib.check.GradCheckError`
    naming the step.
    """
    import numpy as np

    from ..check import GradCheckError, gradcheck

    sizes = default_sizes(d, sizes)
    env = random_arrays(d, sizes, seed) if values is None else _arrays(d, values)[0]
    forward = {}
    with np.errstate(all="raise"):
        loss = evaluate(d.root, env, sizes, np, forward)
    if not np.isfinite(loss).all():
        raise ValueError(f"the loss is {loss.item()} at the random point (sizes {sizes}, seed {seed})")
    results = []
    for k, step in enumerate(checked_steps(d)):
        m = step.of
        label = f"{step.symbol} (step {step.name})"
        try:
            with np.errstate(all="raise"):
                value = forward[id(m)] if id(m) in forward else evaluate(m, env, sizes, np, dict(forward))
                g = np.asarray(evaluate(step.node, env, sizes, np, dict(forward)), dtype=float)
        except (ValueError, FloatingPointError, ArithmeticError) as exc:
            raise GradCheckError(f"{label}: the adjoint cannot be evaluated: {exc}", argument=label,
                                 diagnosis=str(exc), max_abs_error=float("nan"), max_rel_error=float("nan"),
                                 numerical=None, analytical=None) from None

        def f(M, m=m):
            return evaluate(d.root, env, sizes, np, {id(m): M})[0, 0]

        report = gradcheck(f, (value,), (g,), names=[label], seed=seed + k, n_directions=N_DIRECTIONS,
                           full_max_size=0)
        results.append((step.name, report.arguments[0]))
    return CheckReport(sizes, seed, tuple(results))
