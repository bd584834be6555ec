"""The problem cases: one definition per derivation of its inputs, loss, argument names
and magnitude bound. Tests, pages, tools and benchmarks build their problems from here,
so a new derivation is covered by every cross-cutting check by adding one :class:`Case`.
A case also carries its two references: its loss written in ``autograd.numpy`` from the
definition (no derivlib code; ``verification.oracles`` differentiates it) and its network
in the engine's expression syntax (the docstring-math test and the engine's tests derive it).
The site's "Layers" pages, the API page and ``tests/test_layers.py`` take the list of
layers from :data:`CASES`, in its order.

Each case's loss is a scalar function of all of its arguments, and its backward returns
the gradients of that loss with respect to the first ``len(wrt)`` of them.

Examples
--------
>>> import numpy as np
>>> from verification.cases import CASES
>>> case = CASES["sigmoid_layer"]
>>> args = case.inputs(case.shapes["n4-p3-q2-b2d"], seed=0)
>>> [a.shape for a in args]
[(4, 3), (3, 2), (1, 2), (4, 2)]
>>> [g.shape for g in case.backward(*args)]
[(4, 3), (3, 2), (1, 2)]
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from derivlib import linear_dot, sigmoid_layer, two_layer

__all__ = ["Case", "CASES", "instances"]


class Case(NamedTuple):
    """One derivation as the evidence sees it."""

    name: str  # the derivlib module
    arg_names: tuple  # the loss's arguments, in order
    wrt: tuple  # those with a gradient (a prefix of arg_names)
    shapes: dict  # readable id -> sizes passed to inputs
    variants: tuple  # kinds of inputs beyond the shape ("default" first)
    inputs: Callable  # (sizes, seed, variant="default") -> tuple of float64 arrays
    loss: Callable  # *args -> float
    backward: Callable  # *args -> the gradients of loss for the arguments in wrt
    magnitude: Callable  # *args -> bound on the magnitudes the loss adds up (rounding scale)
    autograd: Callable  # *args -> the loss, in autograd.numpy, written from the definition
    engine: tuple  # (expression, shapes): the network in derivlib.derive's syntax, one name per argument


def _bias(rng, size, layout):
    return rng.normal(size=(size,) if layout == "b1d" else (1, size))


# -- sigmoid layer: L = sum(G o sigma(X W + 1 b)) ---------------------------------------------


def _sigmoid_inputs(sizes, seed, variant="default"):
    n, p, q, layout = sizes
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, p)), rng.normal(size=(p, q)), _bias(rng, q, layout), rng.normal(size=(n, q))


def _ag_sigmoid_layer(X, W, b, G):
    """L = sum(G o sigmoid(X W + 1 b)), in autograd.numpy."""
    return anp.sum(G / (1.0 + anp.exp(-(anp.dot(X, W) + b))))


SIGMOID_LAYER = Case(
    name="sigmoid_layer",
    arg_names=("X", "W", "b", "G"),
    wrt=("X", "W", "b"),
    shapes={
        "n1-p3-q2-b1d": (1, 3, 2, "b1d"),
        "n1-p1-q1-b2d": (1, 1, 1, "b2d"),
        "n4-p3-q2-b2d": (4, 3, 2, "b2d"),  # a batch, b (1, q): the source's layout
        "n3-p4-q4-square": (3, 4, 4, "b1d"),  # p == q: Delta X^T would conform
        "n6-p2-q5-b2d": (6, 2, 5, "b2d"),
    },
    variants=("default",),
    inputs=_sigmoid_inputs,
    loss=lambda X, W, b, G: float(np.sum(G * sigmoid_layer.forward(X, W, b))),
    backward=sigmoid_layer.backward,
    magnitude=lambda X, W, b, G: float(np.abs(G).sum()),  # S lies in (0, 1)
    autograd=_ag_sigmoid_layer,
    engine=("Z = X @ W + b; S = sigmoid(Z); sum(G * S)",
            {"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q"), "G": ("n", "q")}),
)


# -- linear map then dot product: L = sum over rows of (x W + b) y ----------------------------


def _linear_inputs(sizes, seed, variant="default"):
    n, m, c, layout = sizes
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(c, 1) if variant == "default" else (c,))
    return rng.normal(size=(n, m)), rng.normal(size=(m, c)), _bias(rng, c, layout), y


def _linear_magnitude(x, W, b, y):
    """Sum of the absolute values of the terms that L adds up."""
    yv = np.abs(y).reshape(-1)
    return float((np.abs(x) @ np.abs(W) @ yv).sum() + x.shape[0] * np.abs(b).reshape(-1) @ yv)


def _ag_linear_dot(x, W, b, y):
    """L = sum over rows of (x W + b) y."""
    return anp.sum(anp.dot(anp.dot(x, W) + b, y))


LINEAR_DOT = Case(
    name="linear_dot",
    arg_names=("x", "W", "b", "y"),
    wrt=("x", "W", "b", "y"),
    shapes={
        "n1-m4-c10-b2d": (1, 4, 10, "b2d"),  # the source's shapes
        "n1-m1-c10-b1d": (1, 1, 10, "b1d"),
        "n3-m4-c10-b1d": (3, 4, 10, "b1d"),
        "n5-m2-c3-b2d": (5, 2, 3, "b2d"),
        "n1-m1-c1-b2d": (1, 1, 1, "b2d"),
    },
    variants=("default", "y(c,)"),
    inputs=_linear_inputs,
    loss=linear_dot.forward,
    backward=linear_dot.backward,
    magnitude=_linear_magnitude,
    autograd=_ag_linear_dot,
    engine=("sum((x @ W + b) @ y)", {"x": ("n", "m"), "W": ("m", "c"), "b": (1, "c"), "y": ("c", 1)}),
)


# -- two-layer network: mean cross-entropy of softmax(sigma(X W1 + b1) W2 + b2) ---------------


def _targets(kind, n, k, rng):
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    if kind in ("default", "onehot"):
        return Y
    if kind == "2x-onehot":
        return 2 * Y  # rows sum to 2
    if kind == "onehot-plus-0.1":
        return Y + 0.1  # rows sum to 1 + 0.1 k
    if kind == "label-smoothed":
        return 0.9 * Y + 0.1 / k  # rows sum to 1
    if kind == "zero-row":
        Y[0] = 0.0  # that row contributes nothing to L
        return Y
    if kind == "random-nonneg":
        return rng.uniform(0.0, 2.0, size=(n, k))
    raise ValueError(f"unknown target kind {kind!r}")


def _two_layer_inputs(sizes, seed, variant="default"):
    n, d, h, k, layout = sizes
    rng = np.random.default_rng(seed)
    X, W1, b1 = rng.normal(size=(n, d)), rng.normal(size=(d, h)), _bias(rng, h, layout)
    W2, b2 = rng.normal(size=(h, k)), _bias(rng, k, layout)
    return X, W1, b1, W2, b2, _targets(variant, n, k, rng)


def _two_layer_magnitude(X, W1, b1, W2, b2, Y):
    """(sum Y / n) (2 max|Theta| + log k) bounds the terms of L = -(1/n) sum Y o log_softmax(Theta),
    with |Theta_ij| <= sum_l |W2_lj| + |b2_j| because the hidden activations lie in (0, 1)."""
    n, k = Y.shape
    theta_max = float((np.abs(W2).sum(axis=0) + np.abs(b2).reshape(-1)).max())
    return float(Y.sum() / n * (2 * theta_max + np.log(k)))


def _ag_two_layer(X, W1, b1, W2, b2, Y):
    """Mean over rows of -sum_j Y_ij log softmax(sigmoid(X W1 + b1) W2 + b2)_ij."""
    H = 1.0 / (1.0 + anp.exp(-(anp.dot(X, W1) + b1)))
    T = anp.dot(H, W2) + b2
    logp = T - logsumexp(T, axis=1, keepdims=True)
    return -anp.sum(Y * logp) / X.shape[0]


TWO_LAYER = Case(
    name="two_layer",
    arg_names=("X", "W1", "b1", "W2", "b2", "Y"),
    wrt=("X", "W1", "b1", "W2", "b2"),
    shapes={
        "n1-d5-h3-k5-b2d": (1, 5, 3, 5, "b2d"),  # the source's shapes
        "n1-d5-h3-k5-b1d": (1, 5, 3, 5, "b1d"),
        "n4-d5-h3-k5-b1d": (4, 5, 3, 5, "b1d"),
        "n6-d2-h4-k3-b2d": (6, 2, 4, 3, "b2d"),
        "n3-d1-h1-k2-b1d": (3, 1, 1, 2, "b1d"),
    },
    variants=("default", "2x-onehot", "onehot-plus-0.1", "label-smoothed", "zero-row", "random-nonneg"),
    inputs=_two_layer_inputs,
    loss=two_layer.forward,
    backward=two_layer.backward,
    magnitude=_two_layer_magnitude,
    autograd=_ag_two_layer,
    engine=("A = X @ W1 + b1; H = sigmoid(A); Theta = H @ W2 + b2; -sum(Y * log_softmax(Theta)) / n",
            {"X": ("n", "d"), "W1": ("d", "h"), "b1": (1, "h"), "W2": ("h", "k"), "b2": (1, "k"),
             "Y": ("n", "k")}),
)

#: Every derivation, by name.
CASES = {c.name: c for c in (SIGMOID_LAYER, LINEAR_DOT, TWO_LAYER)}


def instances(seeds=(0,), variants=False):
    """(id, case, sizes, seed, variant) for every case, shape and seed (and every variant)."""
    out = []
    for case in CASES.values():
        for key, sizes in case.shapes.items():
            for variant in case.variants if variants else case.variants[:1]:
                for seed in seeds:
                    tail = "" if variant == "default" else f"-{variant}"
                    out.append((f"{case.name}-{key}{tail}-seed{seed}", case, sizes, seed, variant))
    return out
