"""The check's random points: dimension sizes (distinct primes) and random values with domains.

Pure Python (standard library only). One place says which sizes a check uses and which
variables are drawn positive; the numpy and the pure-Python backends only supply the
random generator (:func:`random_point` takes its two draws).
"""

from __future__ import annotations

from .dims import size as dim_size
from .rules import RULES

__all__ = ["PRIMES", "POSITIVE", "default_sizes", "prime_sizes", "positive_variables", "variable_shape",
           "random_point", "random_values", "check_seed"]

#: Default sizes of the dimensions, in order of first appearance: distinct, so a transpose cannot hide.
PRIMES = (3, 5, 7, 11, 13, 17, 19, 23)
#: The interval a variable that must be positive (the argument of log, sqrt, ...) is drawn from.
POSITIVE = (0.5, 2.0)


def prime_sizes(dims, given=None):
    """Each name of ``dims`` bound to its ``given`` size, or to the next prime of :data:`PRIMES`
    that no given size uses (in the order of ``dims``)."""
    given = given or {}
    free = [p for p in PRIMES if p not in given.values()]
    return {dname: given[dname] if dname in given else free.pop(0) for dname in dims}


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
    for dname, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"sizes[{dname!r}] must be a whole number >= 1; got {v!r}")
    return prime_sizes(dims, sizes)


def positive_variables(d):
    """Variables whose row's domain is positive where they are used (log, sqrt, a divisor, ...)."""
    return {a.attr.ident for n in d.nodes if n.op in RULES for i, a in enumerate(n.args)
            if a.op == "var" and RULES[n.op].domain(n.attr, i) == "positive"}


def variable_shape(shape, sizes):
    """A variable's shape as numbers: each named dimension replaced by its size."""
    return tuple(dim_size(s, sizes) for s in shape)


def random_point(d, sizes, normal, positive, index=None):
    """A random value for every variable of ``d``: ``positive(shape)`` for the variables
    that must be positive (uniform in :data:`POSITIVE`), ``normal(shape)`` for the others;
    and ``index(n, k)``, n integers drawn uniformly from range(k), for each index vector."""
    must = positive_variables(d)
    point = {name: (positive if name in must else normal)(variable_shape(v.shape, sizes))
             for name, v in d.variables.items()}
    for name, node in getattr(d, "index_vectors", {}).items():
        n, k = variable_shape((node.shape[0], node.attr.classes), sizes)
        point[name] = index(n, k)
    return point


def random_values(d, sizes, rng):
    """A random point on lists of lists from a :class:`random.Random`: normal entries, or
    uniform in :data:`POSITIVE` where a variable must be positive."""
    low, high = POSITIVE
    return random_point(d, sizes, lambda shape: [[rng.gauss(0.0, 1.0) for _ in range(shape[1])]
                                                 for _ in range(shape[0])],
                        lambda shape: [[rng.uniform(low, high) for _ in range(shape[1])] for _ in range(shape[0])],
                        lambda n, k: [rng.randrange(k) for _ in range(n)])


def check_seed(seed):
    """``seed`` if it is a whole number >= 0, else a TypeError naming it."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise TypeError(f"seed must be a whole number >= 0; got {seed!r:.40}")
    return seed
