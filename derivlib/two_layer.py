r"""Two-layer network: sigmoid hidden layer, softmax output, cross-entropy: what is dL/dx?

Shapes (a sample is a row): X (n, d), W1 (d, h), b1 (h,) or (1, h), W2 (h, k),
b2 (k,) or (1, k), Y (n, k) non-negative targets.

.. math::

    A = X W_1 + b_1, \quad H = \sigma(A), \quad \Theta = H W_2 + b_2, \quad
    \hat Y = \operatorname{softmax}(\Theta), \quad
    L = \frac1n \sum_i \Big(-\sum_j Y_{ij} \log \hat Y_{ij}\Big)

The loss is the **mean** over the n rows. Backward, with :math:`G_H = \partial L/\partial H`:

.. math::

    \delta_2 = \frac{\partial L}{\partial \Theta} = \frac1n\big(\hat Y \circ (Y \mathbf 1) - Y\big) \qquad (n \times k)

    \frac{\partial L}{\partial H} = \delta_2 W_2^T \qquad (n \times h)

    \delta_1 = \frac{\partial L}{\partial A} = G_H \circ H \circ (1 - H) \qquad (n \times h)

    \frac{\partial L}{\partial X} = \delta_1 W_1^T \qquad (n \times d)

:math:`Y \mathbf 1` holds each target row's sum: :math:`\delta_2` is the familiar
:math:`\tfrac1n(\hat Y - Y)` only when every target row sums to 1; derivlib uses the
exact form for any non-negative target.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._elementwise import elementwise
from ._validate import affine, as_array, as_row_vector, check_inner, checked, finite_results, product
from .primitives import _sigma, _softmax, cross_entropy

__all__ = ["Grads", "forward", "backward"]


class Grads(NamedTuple):
    """Gradients of the mean loss with respect to each input; each has its input's shape."""

    #: dL/dX, shape (n, d)
    dX: np.ndarray
    #: dL/dW1, shape (d, h)
    dW1: np.ndarray
    #: dL/db1, in b1's layout ((h,) or (1, h))
    db1: np.ndarray
    #: dL/dW2, shape (h, k)
    dW2: np.ndarray
    #: dL/db2, in b2's layout ((k,) or (1, k))
    db2: np.ndarray


def _inputs(X, W1, b1, W2, b2, Y):
    X = as_array("X", X, 2, "(n, d)")
    W1 = as_array("W1", W1, 2, "(d, h)")
    W2 = as_array("W2", W2, 2, "(h, k)")
    check_inner("X", X.shape, "W1", W1.shape)
    check_inner("W1", W1.shape, "W2", W2.shape)
    if W2.shape[1] == 0:
        raise ValueError(f"W2 must have at least one column (k >= 1 classes); got shape {W2.shape}")
    b1 = as_row_vector("b1", b1, W1.shape[1], "h")
    b2 = as_row_vector("b2", b2, W2.shape[1], "k")
    Y = as_array("Y", Y, 2, "(n, k)")
    expected = (X.shape[0], W2.shape[1])
    if Y.shape != expected:
        raise ValueError(f"Y must have shape (n, k) = {expected} to match X {X.shape} and W2 {W2.shape}; got {Y.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X has no rows (shape {X.shape}): the mean loss over an empty batch is undefined")
    if Y.min() < 0:  # Y has n >= 1 rows and k >= 1 columns here
        raise ValueError(f"Y must be non-negative (a distribution over k classes per row); found min {Y.min():.3g}")
    return X, W1, b1, W2, b2, Y


def _h(X, W1, b1):
    """H = sigma(X W1 + b1), computed where X W1 was."""
    XW1 = product("X", X, "W1", W1, saturates=True)  # +-inf saturates the sigmoid exactly
    return elementwise(_sigma, XW1, b1, out=XW1)


def _theta(H, W2, b2):
    return affine("H", H, "W2", W2, "b2", b2)  # H = sigmoid(X W1 + b1), in [0, 1]


def _delta1(out, e, G_H, H):
    """delta1 = G_H o H o (1 - H): a kernel of ``elementwise``, with ``e`` as scratch."""
    np.multiply(H, np.subtract(1.0, H, out=e), out=e)  # H o (1 - H) = sigma'(A)
    return np.multiply(G_H, e, out=out)


def _delta2(Yhat, Y, n):
    """(Yhat o s - Y) / n, with s = each target row's sum (1 for one-hot rows)."""
    if math.isfinite(np.vdot(Y, Y)):  # then no row sum overflows: s_i <= sqrt(k) |Y_i| (Cauchy-Schwarz)
        return (Yhat * Y.sum(axis=1, keepdims=True) - Y) / n
    # a row sum may overflow: each target row over its largest entry first, whose sum cannot
    c = Y.max(axis=1, keepdims=True)
    c[c == 0] = 1.0
    U = Y / c
    return (Yhat * U.sum(axis=1, keepdims=True) - U) * (c / n)


@checked
def forward(X, W1, b1, W2, b2, Y) -> float:
    r"""Mean cross-entropy of the network over the n rows of X.

    .. math:: L = -\frac1n \sum_{i,j} Y_{ij} \log \operatorname{softmax}(\sigma(X W_1 + b_1) W_2 + b_2)_{ij}

    Computed with log-softmax, so it stays finite when a predicted probability underflows.

    Parameters
    ----------
    X : array_like, shape (n, d)
    W1 : array_like, shape (d, h)
    b1 : array_like, shape (h,) or (1, h)
    W2 : array_like, shape (h, k)
    b2 : array_like, shape (k,) or (1, k)
    Y : array_like, shape (n, k)
        Non-negative targets, typically one-hot rows.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import two_layer
    >>> X, W1, b1 = np.zeros((1, 5)), np.zeros((5, 3)), np.zeros(3)
    >>> W2, b2, Y = np.zeros((3, 5)), np.zeros(5), np.eye(5)[[2]]
    >>> np.allclose(two_layer.forward(X, W1, b1, W2, b2, Y), np.log(5))  # uniform prediction
    True
    """
    X, W1, b1, W2, b2, Y = _inputs(X, W1, b1, W2, b2, Y)
    Theta = _theta(_h(X, W1, b1), W2, b2)
    return float(cross_entropy(Theta, Y / X.shape[0]).sum())  # divided before summing: no overflow


@checked
def backward(X, W1, b1, W2, b2, Y) -> Grads:
    r"""Gradients of the mean loss of :func:`forward`.

    .. math::

        \delta_2 = \frac{\partial L}{\partial \Theta} = \frac1n\big(\hat Y \circ (Y \mathbf 1) - Y\big) \qquad (n \times k)

        \frac{\partial L}{\partial W_2} = H^T \delta_2 \qquad (h \times k)

        \frac{\partial L}{\partial b_2} = \mathbf 1^T \delta_2 \qquad (1 \times k)

        G_H = \frac{\partial L}{\partial H} = \delta_2 W_2^T \qquad (n \times h)

        \delta_1 = \frac{\partial L}{\partial A} = G_H \circ H \circ (1 - H) \qquad (n \times h)

        \frac{\partial L}{\partial W_1} = X^T \delta_1 \qquad (d \times h)

        \frac{\partial L}{\partial b_1} = \mathbf 1^T \delta_1 \qquad (1 \times h)

        \frac{\partial L}{\partial X} = \delta_1 W_1^T \qquad (n \times d)

    where :math:`Y \mathbf 1` holds each target row's sum (1 for one-hot targets).

    Returns
    -------
    Grads
        ``(dX, dW1, db1, dW2, db2)``, each the shape of its argument.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import two_layer
    >>> from derivlib.check import gradcheck
    >>> rng = np.random.default_rng(0)
    >>> X, W1, b1 = rng.normal(size=(1, 5)), rng.normal(size=(5, 3)), rng.normal(size=(1, 3))
    >>> W2, b2, Y = rng.normal(size=(3, 5)), rng.normal(size=(1, 5)), np.eye(5)[[1]]
    >>> g = two_layer.backward(X, W1, b1, W2, b2, Y)
    >>> g.dX.shape
    (1, 5)
    >>> gradcheck(two_layer.forward, (X, W1, b1, W2, b2, Y), (*g, None)).max_abs_error < 1e-6
    True
    """
    X, W1, b1, W2, b2, Y = _inputs(X, W1, b1, W2, b2, Y)
    n = X.shape[0]
    H = _h(X, W1, b1)  # H = sigma(X W1 + b1), (n, h)
    Yhat = _softmax(_theta(H, W2, b2))  # softmax(Theta), (n, k)
    D2 = _delta2(Yhat, Y, n)  # dL/dTheta = (Yhat o s - Y) / n, (n, k)
    D1 = D2 @ W2.T  # G_H = dL/dH = D2 W2^T, (n, h): W2^T from the algebra,
    D1 = elementwise(_delta1, D1, H, out=D1)  # then dL/dA = G_H o H o (1 - H), sigma'(A) = H o (1 - H)
    grads = Grads(
        dX=D1 @ W1.T,  # (n, h)(h, d) -> (n, d)
        dW1=X.T @ D1,  # (d, n)(n, h) -> (d, h)
        db1=D1.sum(axis=0).reshape(b1.shape),
        dW2=H.T @ D2,  # (h, n)(n, k) -> (h, k)
        db2=D2.sum(axis=0).reshape(b2.shape),
    )
    return finite_results(grads, _FORMULAS, {"X": X, "W1": W1, "W2": W2, "Y": Y})


_FORMULAS = {"dX": "delta1 W1^T", "dW1": "X^T delta1", "db1": "1^T delta1", "dW2": "H^T delta2", "db2": "1^T delta2"}
