r"""Linear map then dot product, ``L = (x W + b) y``: why the chain rule gave (10, m), not (m, 10).

Shapes: x (n, m) with n = 1 in the source, W (m, c), b (c,) or (1, c), y (c, 1) or (c,).
For a batch, L sums the rows: :math:`L = \mathbf 1^T (xW + \mathbf 1 b)\, y`.
The differential is

.. math:: dL = \mathbf 1^T dx\, W y + \mathbf 1^T x\, dW\, y + n\, db\, y + \mathbf 1^T f\, dy

and reading off each term with :math:`A : B = \operatorname{tr}(A^T B)` gives

.. math::

    \frac{\partial L}{\partial W} = x^T \mathbf 1\, y^T \qquad (m \times c)

    \frac{\partial L}{\partial x} = \mathbf 1\, y^T W^T \qquad (n \times m)

    \frac{\partial L}{\partial b} = n\, y^T \qquad (1 \times c)

    \frac{\partial L}{\partial y} = (xW + \mathbf 1 b)^T \mathbf 1 \qquad (c \times 1)

For n = 1 this is :math:`x^T y^T`: the shape of W (denominator layout). Its transpose
:math:`y x` (c, m) is the same numbers in the numerator layout.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import as_array, as_row_vector, check_inner, to_ndarray

__all__ = ["Grads", "forward", "backward", "jacobian"]


class Grads(NamedTuple):
    """Gradients of L with respect to each input; each has its input's shape."""

    #: dL/dx, shape (n, m)
    dx: np.ndarray
    #: dL/dW = x^T 1 y^T, shape (m, c)
    dW: np.ndarray
    #: dL/db, in b's layout ((c,) or (1, c))
    db: np.ndarray
    #: dL/dy, in y's layout ((c, 1) or (c,))
    dy: np.ndarray


def _inputs(x, W, b, y=None):
    x = as_array("x", x, 2, "(n, m)")
    W = as_array("W", W, 2, "(m, c)")
    check_inner("x", x.shape, "W", W.shape)
    c = W.shape[1]
    b = as_row_vector("b", b, c, "c")
    if y is None:
        return x, W, b
    y = to_ndarray("y", y)
    y = as_array("y", y, y.ndim, f"({c}, 1) or ({c},)")
    if y.shape not in ((c, 1), (c,)):
        raise ValueError(f"y must have shape ({c}, 1) or ({c},) to match W {W.shape}; got {y.shape}")
    return x, W, b, y


def forward(x, W, b, y) -> float:
    r"""The scalar :math:`L = \sum_i (x W + b)_{i,:}\, y`.

    Parameters
    ----------
    x : array_like, shape (n, m)
    W : array_like, shape (m, c)
    b : array_like, shape (c,) or (1, c)
    y : array_like, shape (c, 1) or (c,)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import linear_dot
    >>> x, W, b, y = np.ones((1, 2)), np.ones((2, 3)), np.zeros(3), np.ones((3, 1))
    >>> np.allclose(linear_dot.forward(x, W, b, y), 6.0)
    True
    """
    x, W, b, y = _inputs(x, W, b, y)
    return float(((x @ W + b) @ y.reshape(-1)).sum())


def backward(x, W, b, y) -> Grads:
    r"""Gradients of L, each in the shape of its argument.

    .. math::

        \frac{\partial L}{\partial x} = \mathbf 1\, y^T W^T \qquad (n \times m)

        \frac{\partial L}{\partial W} = x^T \mathbf 1\, y^T \qquad (m \times c)

        \frac{\partial L}{\partial b} = n\, y^T \qquad (1 \times c)

        \frac{\partial L}{\partial y} = (xW + \mathbf 1 b)^T \mathbf 1 \qquad (c \times 1)

    Returns
    -------
    Grads
        ``(dx, dW, db, dy)``; dW has W's shape (m, c), not the (c, m) of the numerator layout.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import linear_dot
    >>> rng = np.random.default_rng(0)
    >>> x, W, b, y = rng.normal(size=(1, 4)), rng.normal(size=(4, 10)), rng.normal(size=(1, 10)), rng.normal(size=(10, 1))
    >>> g = linear_dot.backward(x, W, b, y)
    >>> g.dW.shape
    (4, 10)
    >>> np.allclose(g.dW, x.T @ y.T)
    True
    """
    x, W, b, y = _inputs(x, W, b, y)
    n = x.shape[0]
    ycol = y.reshape(-1, 1)  # (c, 1)
    ones = np.ones((n, 1))
    f = x @ W + b  # (n, c)
    return Grads(
        dx=ones @ (W @ ycol).T,  # (n, 1)(1, m) -> (n, m)
        dW=(x.T @ ones) @ ycol.T,  # (m, 1)(1, c) -> (m, c)
        db=(n * ycol.T).reshape(b.shape),  # (1, c)
        dy=(f.T @ ones).reshape(y.shape),  # (c, 1)
    )


def jacobian(x, W, b):
    r"""The explicit third-order df/dW of ``f = x W + b``, for teaching only.

    .. math:: J_{ijkl} = \frac{\partial f_{ij}}{\partial W_{kl}} = x_{ik}\,[j = l]

    For n = 1 drop the first axis to get the (c, m, c) tensor of the source. Contracting
    with :math:`\partial L/\partial f = \mathbf 1 y^T` over (i, j) gives ``backward(...).dW``.

    Returns
    -------
    J : ndarray, shape (n, c, m, c)

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib import linear_dot
    >>> rng = np.random.default_rng(2)
    >>> x, W, b, y = rng.normal(size=(1, 3)), rng.normal(size=(3, 10)), rng.normal(size=10), rng.normal(size=(10, 1))
    >>> J = linear_dot.jacobian(x, W, b)
    >>> J.shape
    (1, 10, 3, 10)
    >>> dLdf = np.ones((1, 1)) @ y.T  # (n, c)
    >>> np.allclose(np.einsum("ij,ijkl->kl", dLdf, J), linear_dot.backward(x, W, b, y).dW)
    True
    """
    x, W, b = _inputs(x, W, b)
    c = W.shape[1]
    return np.einsum("ik,jl->ijkl", x, np.eye(c))
