"""The two problems every contender solves, on the same float64 data.

sigmoid layer: S = sigmoid(X W + b), L = sum(G * S); gradients (dX, dW, db).
two-layer:     mean cross-entropy of softmax(sigmoid(X W1 + b1) W2 + b2) against one-hot Y;
               gradients (dX, dW1, db1, dW2, db2).
"""

from __future__ import annotations

import numpy as np

from derivlib import sigmoid_layer, two_layer
from verification.cases import CASES


def sigmoid_data(n, p, q, seed=0) -> dict:
    """The shared sigmoid-layer case, with W scaled by 1/sqrt(p) so that X W stays O(1)."""
    X, W, b, G = CASES["sigmoid_layer"].inputs((n, p, q, "b1d"), seed)
    return {"X": X, "W": W / np.sqrt(p), "b": b, "G": G}


def two_layer_data(n, d, h, k, seed=0) -> dict:
    """The shared two-layer case (one-hot Y), weights scaled by 1/sqrt(fan-in)."""
    X, W1, b1, W2, b2, Y = CASES["two_layer"].inputs((n, d, h, k, "b1d"), seed)
    return {"X": X, "W1": W1 / np.sqrt(d), "b1": b1, "W2": W2 / np.sqrt(h), "b2": b2, "Y": Y}


def sigmoid_derivlib(data):
    X, W, b, G = data["X"], data["W"], data["b"], data["G"]
    return lambda: tuple(sigmoid_layer.backward(X, W, b, G))


def sigmoid_bare(data):
    """The three matrix products backward needs, with Delta precomputed (the limit)."""
    X, W = data["X"], data["W"]
    Delta = np.random.default_rng(1).standard_normal(data["G"].shape)

    def run():
        return X @ W, X.T @ Delta, Delta @ W.T

    return run


def two_layer_derivlib(data):
    args = tuple(data[k] for k in ("X", "W1", "b1", "W2", "b2", "Y"))
    return lambda: tuple(two_layer.backward(*args))


def two_layer_bare(data):
    """The six matrix products backward needs (forward two, backward four)."""
    X, W1, W2 = data["X"], data["W1"], data["W2"]
    n, h, k = X.shape[0], W1.shape[1], W2.shape[1]
    rng = np.random.default_rng(1)
    H, D1, D2 = rng.random((n, h)), rng.standard_normal((n, h)), rng.standard_normal((n, k))

    def run():
        return X @ W1, H @ W2, D2 @ W2.T, X.T @ D1, D1 @ W1.T, H.T @ D2

    return run


def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.maximum(e, z >= 0) / (1.0 + e)


def _stable_sigma_prime(z):
    """S o (1 - S), S = sigmoid(z), as derivlib writes it: e / (1 + e)^2 with e = exp(-|z|)."""
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2


def sigmoid_numpy(data):
    """derivlib's formulas written out in bare numpy, without input checks: what a user
    would type at the sources' sizes."""
    X, W, b, G = data["X"], data["W"], data["b"], data["G"]

    def run():
        Delta = G * _stable_sigma_prime(X @ W + b)
        return Delta @ W.T, X.T @ Delta, Delta.sum(axis=0)

    return run


def two_layer_numpy(data):
    """derivlib's two-layer formulas in bare numpy, without input checks (one-hot targets)."""
    X, W1, b1, W2, b2, Y = (data[k] for k in ("X", "W1", "b1", "W2", "b2", "Y"))
    n = X.shape[0]

    def run():
        H = _stable_sigmoid(X @ W1 + b1)
        Theta = H @ W2 + b2
        E = np.exp(Theta - Theta.max(axis=1, keepdims=True))
        D2 = (E / E.sum(axis=1, keepdims=True) - Y) / n
        D1 = (D2 @ W2.T) * H * (1 - H)
        return D1 @ W1.T, X.T @ D1, D1.sum(axis=0), H.T @ D2, D2.sum(axis=0)

    return run
