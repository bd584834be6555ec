r"""Batch sigmoid layer ``S = sigmoid(X W + b)``: why is dL/dW = Xᵀ(G ∘ S ∘ (1 − S))?

Shapes (a sample is a row): X (n, p), W (p, q), b (q,) or (1, q), S (n, q).
With ``G = dL/dS`` (n, q) from whatever comes after the layer:

.. math::

    \Delta = \frac{\partial L}{\partial Z} = G \circ S \circ (1 - S) \qquad (n \times q)

    \frac{\partial L}{\partial W} = X^T \Delta \qquad (p \times q)

    \frac{\partial L}{\partial b} = \mathbf 1^T \Delta \qquad (1 \times q)

    \frac{\partial L}{\partial X} = \Delta W^T \qquad (n \times p)

with :math:`Z = XW + \mathbf 1 b`. (Each formula is the derivation engine's, as a test
checks: see ``tests/test_docstring_math.py``.)

The batch index is summed in ``X^T Delta``: it is the row index of both X and Delta,
which is why X^T stands on the left.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._elementwise import elementwise
from ._validate import all_finite, as_array, as_row_vector, check_bytes, check_inner, checked, finite_results, product
from .primitives import _sigma

__all__ = ["Grads", "forward", "backward", "jacobian", "JACOBIAN_MAX_BYTES"]

#: :func:`jacobian` refuses, before allocating, a result larger than this many bytes (1 GiB).
JACOBIAN_MAX_BYTES = 2**30


class Grads(NamedTuple):
    """Gradients of L with respect to each input; each has its input's shape."""

    #: dL/dX, shape (n, p)
    dX: np.ndarray
    #: dL/dW = X^T Delta, shape (p, q)
    dW: np.ndarray
    #: dL/db = the column sums of Delta, in b's layout ((q,) or (1, q))
    db: np.ndarray


def _inputs(X, W, b):
    X = as_array("X", X, 2, "(n, p)")
    W = as_array("W", W, 2, "(p, q)")
    check_inner("X", X.shape, "W", W.shape)
    b = as_row_vector("b", b, W.shape[1], "q")
    return X, W, b


def _xw(X, W):
    # an entry of X W that overflows to +-inf saturates the sigmoid exactly; terms that overflow
    # but cancel are recomputed (product)
    return product("X", X, "W", W, saturates=True)


def _sigma_prime(out, e, XW, b):
    """S o (1 - S) = sigma'(Z), S = sigma(Z), Z = XW + b: a kernel of ``elementwise``, with
    ``e`` as scratch; ``out`` may be ``XW`` (read whole before ``out`` is written). As
    1 - sigma(z) = sigma(-z), S o (1 - S) = e / (1 + e)^2 with e = exp(-|Z|), for either
    sign of Z: no 1 - S is lost to rounding where S is near 1."""
    np.add(XW, b, out=e)  # Z = XW + 1b
    np.exp(np.negative(np.abs(e, out=e), out=e), out=e)  # e = exp(-|Z|)
    np.square(np.add(e, 1.0, out=out), out=out)  # (1 + e)^2
    return np.divide(e, out, out=out)  # S o (1 - S)


def _delta(out, e, G, XW, b):
    """Delta = G o S o (1 - S): a kernel of ``elementwise``, as :func:`_sigma_prime`."""
    return np.multiply(G, _sigma_prime(out, e, XW, b), out=out)


@checked
def forward(X, W, b):
    r"""Layer output :math:`S = \sigma(XW + \mathbf 1 b)`.

    Parameters
    ----------
    X : array_like, shape (n, p)
        A batch of n samples, one per row.
    W : array_like, shape (p, q)
    b : array_like, shape (q,) or (1, q)
        Added to every row.

    Returns
    -------
    S : ndarray, shape (n, q)

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import sigmoid_layer
    >>> X, W, b = np.zeros((4, 3)), np.ones((3, 2)), np.zeros(2)
    >>> np.allclose(sigmoid_layer.forward(X, W, b), 0.5)
    True
    """
    X, W, b = _inputs(X, W, b)
    XW = _xw(X, W)
    return elementwise(_sigma, XW, b, out=XW)  # S = sigma(XW + 1b), where XW was


@checked
def backward(X, W, b, G=None) -> Grads:
    r"""Vector-Jacobian product of the layer: gradients of L given ``G = dL/dS``.

    .. math::

        \Delta = \frac{\partial L}{\partial Z} = G \circ S \circ (1 - S) \qquad (n \times q)

        \frac{\partial L}{\partial X} = \Delta W^T \qquad (n \times p)

        \frac{\partial L}{\partial W} = X^T \Delta \qquad (p \times q)

        \frac{\partial L}{\partial b} = \mathbf 1^T \Delta \qquad (1 \times q)

    Parameters
    ----------
    X, W, b : array_like
        As in :func:`forward`.
    G : array_like, shape (n, q), optional
        Upstream gradient dL/dS. ``None`` means all ones, i.e. L = sum of every entry
        of S, which gives the textbook :math:`X^T (S \circ (1-S))`.

    Returns
    -------
    Grads
        ``(dX, dW, db)``, each the shape of its argument (db keeps b's shape).

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import sigmoid_layer
    >>> from derivlib.check import gradcheck
    >>> rng = np.random.default_rng(0)
    >>> X, W, b, G = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 2))
    >>> grads = sigmoid_layer.backward(X, W, b, G)
    >>> S = sigmoid_layer.forward(X, W, b)
    >>> np.allclose(grads.dW, X.T @ (G * S * (1 - S)))
    True
    >>> report = gradcheck(lambda X, W, b: np.sum(G * sigmoid_layer.forward(X, W, b)), (X, W, b), grads)
    >>> report.max_abs_error < 1e-6
    True
    """
    X, W, b = _inputs(X, W, b)
    shape = (X.shape[0], W.shape[1])  # (n, q)
    # G's entries and X W's are checked through the gradients: a NaN or inf in either reaches db
    G = np.ones(shape) if G is None else as_array("G", G, 2, "(n, q)", finite=False)
    if G.shape != shape:
        raise ValueError(f"G must have the shape of S = sigmoid(X W + b), {shape}; got {G.shape}")
    XW = X @ W  # (n, q); Z = XW + 1b
    if not all_finite(XW):  # a term overflowed: recompute those entries (1e309 - 1e309 is 0, whatever BLAS says)
        XW = _xw(X, W)
    Delta = elementwise(_delta, G, XW, b, out=XW)  # dL/dZ = G o S o (1 - S), S = sigma(Z), (n, q), where XW was
    grads = Grads(
        dX=Delta @ W.T,  # (n, q)(q, p) -> (n, p)
        dW=X.T @ Delta,  # (p, n)(n, q) -> (p, q): the batch index n is summed
        db=Delta.sum(axis=0).reshape(b.shape),  # every row gets the same b
    )
    return finite_results(grads, _FORMULAS, {"X": X, "W": W, "G": G}, bad_input=lambda: _bad_input(X, W, G))


def _bad_input(X, W, G):
    as_array("G", G, 2, "(n, q)")  # a NaN or inf in G


_FORMULAS = {"dX": "Delta W^T", "dW": "X^T Delta", "db": "1^T Delta"}


@checked
def jacobian(X, W, b, max_bytes=JACOBIAN_MAX_BYTES):
    r"""The explicit fourth-order array dS/dW, for teaching only.

    .. math:: J_{ijkl} = \frac{\partial S_{ij}}{\partial W_{kl}} = S_{ij}(1-S_{ij})\, X_{ik}\, [j = l]

    It has n*q*p*q entries; backpropagation never builds it. Contracting it with G over
    (i, j) gives ``backward(X, W, b, G).dW``.

    Parameters
    ----------
    X, W, b : array_like
        As in :func:`forward`.
    max_bytes : int, default :data:`JACOBIAN_MAX_BYTES` (1 GiB)
        The result needs ``8 * n * q * p * q`` bytes; above this limit a ``MemoryError``
        that states the number is raised before anything is allocated.

    Returns
    -------
    J : ndarray, shape (n, q, p, q)

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import sigmoid_layer
    >>> rng = np.random.default_rng(1)
    >>> X, W, b, G = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 2))
    >>> J = sigmoid_layer.jacobian(X, W, b)
    >>> J.shape
    (5, 2, 3, 2)
    >>> np.allclose(np.einsum("ij,ijkl->kl", G, J), sigmoid_layer.backward(X, W, b, G).dW)
    True
    """
    X, W, b = _inputs(X, W, b)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)):
        raise TypeError(f"max_bytes must be a whole number of bytes; got {type(max_bytes).__name__} {max_bytes!r:.60}")
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0; got {max_bytes}")
    (n, p), q = X.shape, W.shape[1]
    check_bytes("the Jacobian dS/dW", (n, q, p, q), max_bytes)
    S_prime = elementwise(_sigma_prime, _xw(X, W), b)  # S o (1 - S) = sigma'(XW + 1b), (n, q)
    return np.einsum("ij,ik,jl->ijkl", S_prime, X, np.eye(q))
