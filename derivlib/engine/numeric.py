"""Derivations on numpy arrays: gradients, every step's value, and the check's numpy backend.

The only module of the engine that imports numpy (when one of its functions is called).
"""

from __future__ import annotations

from . import dims
from .evaluate import bind_sizes, evaluate
from .indexing import check_index_values
from .sample import POSITIVE, random_point
from .stepcheck import N_DIRECTIONS, ROUND, CheckReport, StepReport, cannot, prefilled, relative, run

__all__ = ["gradients", "loss", "evaluate_steps", "check", "CheckReport", "NumpyBackend", "random_arrays"]


def _arrays(d, values):
    import numpy as np

    from .._validate import real_array

    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict variable name -> array; got {type(values).__name__}")
    indices = getattr(d, "index_vectors", {})
    missing = [v for v in (*d.variables, *indices) if v not in values]
    if missing:
        raise ValueError(f"values: no array for {', '.join(missing)} (the variables are {', '.join(d.variables)}"
                         + (f"; the index vectors {', '.join(indices)}" if indices else "") + ")")
    unknown = [v for v in values if v not in d.shapes and v not in indices]
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
    for y in indices:  # integers of shape (n,), each in range(k): checked once n and k are known
        decl = d.indices[y]
        value, n = check_index_values(y, values[y], decl, sizes, np)
        if isinstance(decl[0], str) and sizes.setdefault(decl[0], n) != n:
            raise ValueError(f"dimension {decl[0]!r} is {sizes[decl[0]]} from the other values but the index "
                             f"vector {y} has {n} entries (declared {decl})")
        env[y] = value
    used = {x for n in d.nodes for y in (*n.shape, n.attr if n.op == "dim" else 1) for x in dims.names(y)}
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


def random_arrays(d, sizes, seed):
    """The check's random point as numpy arrays (see :func:`derivlib.engine.sample.random_point`)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return random_point(d, sizes, rng.standard_normal, lambda shape: rng.uniform(*POSITIVE, shape),
                        lambda n, k: rng.integers(0, k, n))


class _Domain(Exception):
    """An error of the loss next to the check's point (outside the domain of a log, sqrt, ...)."""


class NumpyBackend:
    """The check's arithmetic on numpy arrays; each step measured by :func:`derivlib.check.gradcheck`
    (see :func:`derivlib.engine.stepcheck.run`)."""

    def __init__(self):
        import numpy

        self.np = numpy
        self.domain_errors = (FloatingPointError, ArithmeticError)

    def point(self, d, sizes, seed, values):
        return random_arrays(d, sizes, seed) if values is None else _arrays(d, values)[0]

    def evaluate(self, node, env, sizes, cache):
        with errstate(self.np):
            return self.np.asarray(evaluate(node, env, sizes, self.np, cache), dtype=float)

    @staticmethod
    def scalar(value):
        return float(value[0, 0])

    def has_zero(self, value):
        return not self.np.all(value)

    def lists(self, value):
        return self.np.asarray(value).tolist()

    @staticmethod
    def shape(value):
        return value.shape

    def measure(self, point, k, step, value, g, below, out):
        """One adjoint against :func:`derivlib.check.gradcheck` along random directions of the
        entries not at a kink; a wrong adjoint raises its GradCheckError."""
        from ..check import FiniteDifferenceError, gradcheck

        np, d, env, sizes, m = self.np, point.d, point.env, point.sizes, step.of
        label = f"{step.symbol} (step {step.name})"
        base = prefilled(point.forward, below)
        free = np.ones(value.shape, dtype=bool)
        for i, j in out:
            free[i, j] = False

        def f(x):
            M = x
            if out:
                M = value.copy()
                M[free] = x
            try:
                with errstate(np):
                    return evaluate(d.root, env, sizes, np, {**base, id(m): M})[0, 0]
            except self.domain_errors as exc:  # the loss itself, not the checker's arithmetic
                raise _Domain(exc) from None

        arg, grad = (value[free], g[free]) if out else (value, g)
        top = float(np.abs(grad).max(initial=0.0))
        try:
            # gradcheck's own figures may overflow for huge gradients: the figure reported is
            # computed below, against the gradient's norm
            with np.errstate(over="ignore"):
                report = gradcheck(f, (arg,), (grad,), names=[label], seed=point.seed + k,
                                   n_directions=N_DIRECTIONS, full_max_size=0)
        except FiniteDifferenceError as exc:
            return cannot(step, exc.diagnosis, _FD_ADVICE.get(exc.kind, "curvature"), len(out))
        except _Domain as exc:
            return cannot(step, f"the loss cannot be computed next to this point ({exc.args[0]})", "domain",
                          len(out))
        except self.domain_errors as exc:  # the checker's own arithmetic, on numbers near float64's smallest
            return cannot(step, f"the gradient's entries (up to {top:.1e}) are too small for the check's float64 "
                          f"arithmetic ({exc})", "rounding", len(out))
        abs_err = report.arguments[0].max_abs_error
        norm = top * float(np.linalg.norm(grad / top)) if top > 0 else 0.0  # no overflow (grad ~ 1e200)
        rel = relative(abs_err, max(norm, ROUND * abs(point.loss)))
        return StepReport(step.name, step.symbol, abs_err, rel, True, "right", "", "", len(out))


def check(d, sizes=None, seed=0, values=None):
    """Compare every adjoint with central differences of the loss through its intermediate.

    For the step ``G_M``: ``f(M) =`` the loss with ``M`` replaced (only the part of the
    graph downstream of M is re-evaluated), checked by :func:`derivlib.check.gradcheck`
    along random directions against ``G_M``; entries of M at a relu's kink (its argument
    exactly 0) are left out of the directions. Returns a
    :class:`~derivlib.engine.stepcheck.CheckReport` whose verdict is right or cannot tell
    (a :class:`~derivlib.check.FiniteDifferenceError`, or a point outside the domain, with
    the reason and what to try); raises :class:`derivlib.check.GradCheckError` naming the
    step whose adjoint is wrong.
    """
    return run(d, NumpyBackend(), sizes=sizes, seed=seed, values=values, raise_wrong=True)


def _fd_advice():
    from ..diagnosis import Diagnosis

    return {Diagnosis.KINK: "kink", Diagnosis.NOT_FINITE_NEARBY: "domain", Diagnosis.ROUNDING: "rounding",
            Diagnosis.LOW_PRECISION: "rounding", Diagnosis.STEP_LOST: "rounding", Diagnosis.CURVATURE: "curvature"}


_FD_ADVICE = _fd_advice()
