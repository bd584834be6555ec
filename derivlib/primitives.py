r"""Numerically stable element-wise and row-wise primitives.

All functions work on float64 and stay finite, with no numpy warnings, for inputs
such as :math:`\sigma(\pm 1000)` or logits of :math:`\pm 10^4`, even under
``np.errstate(all='raise')`` (an underflow to 0 is the correctly rounded value, never
an error; a log-probability below -1.8e308 is -inf, and a zero target ignores it). Softmax-type
functions act on each **row** (a sample is a row).
"""

from __future__ import annotations

import numpy as np

from ._elementwise import elementwise
from ._validate import as_array, quiet_underflow, to_ndarray

__all__ = ["sigmoid", "softmax", "log_softmax", "cross_entropy", "softmax_jacobian"]


def _as_float(name, a):
    arr = to_ndarray(name, a)
    return as_array(name, arr, arr.ndim, "(any shape)")


def _as_logits(logits):
    t = as_array("logits", logits, 2, "(n, k)")
    if t.shape[1] == 0:
        raise ValueError(f"logits must have at least one class (k >= 1); got shape {t.shape}")
    return t


@quiet_underflow
def sigmoid(z):
    r"""Logistic sigmoid, element-wise, without overflow.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}}

    Evaluated with :math:`e = e^{-|z|}` as :math:`1/(1+e)` for :math:`z \ge 0` and
    :math:`e/(1+e)` for :math:`z < 0`, so ``exp`` only ever sees non-positive arguments.

    Parameters
    ----------
    z : array_like
        Any shape; real, finite.

    Returns
    -------
    ndarray
        float64 array of the same shape, entries in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.primitives import sigmoid
    >>> np.allclose(sigmoid([-1000.0, 0.0, 1000.0]), [0.0, 0.5, 1.0])
    True
    >>> np.allclose(sigmoid(2.0) + sigmoid(-2.0), 1.0)
    True
    """
    z = _as_float("z", z)
    return np.asarray(elementwise(_sigma, z))  # 0-d in, 0-d array out


def _sigma(out, e, Z, b=None):
    """The formula of :func:`sigmoid` alone, S = σ(Z + b), for a float64 array already
    checked (the layers' own): a kernel of ``elementwise``, writing into ``out`` (which may
    be ``Z``) with ``e`` as scratch."""
    Z = Z if b is None else np.add(Z, b, out=out)  # Z, plus a bias row
    np.exp(np.negative(np.abs(Z, out=e), out=e), out=e)  # e = exp(-|Z|), in (0, 1]: never overflows
    np.greater_equal(Z, 0.0, out=out)  # 1 where Z >= 0, 0 where Z < 0
    np.maximum(out, e, out=out)  # the numerator: 1 where Z >= 0, e where Z < 0 (as e <= 1)
    return np.divide(out, np.add(e, 1.0, out=e), out=out)  # 1/(1 + e) or e/(1 + e)


@quiet_underflow
def log_softmax(logits):
    r"""Row-wise log-softmax through the log-sum-exp trick.

    .. math:: \log \operatorname{softmax}(\theta)_j = \theta_j - m - \log \sum_l e^{\theta_l - m},
              \quad m = \max_l \theta_l

    Parameters
    ----------
    logits : array_like, shape (n, k)

    Returns
    -------
    ndarray, shape (n, k)
        Finite even where the softmax itself underflows to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.primitives import log_softmax
    >>> out = log_softmax([[1e4, 0.0, -1e4]])
    >>> np.allclose(out, [[0.0, -1e4, -2e4]])
    True
    """
    t = _as_logits(logits)
    with np.errstate(over="ignore"):  # a gap above 1.8e308 between logits: -inf, correctly rounded
        shifted = t - t.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@quiet_underflow
def softmax(logits):
    r"""Row-wise softmax, shifted by each row's maximum so ``exp`` cannot overflow.

    .. math:: \operatorname{softmax}(\theta)_j = \frac{e^{\theta_j - m}}{\sum_l e^{\theta_l - m}}

    Parameters
    ----------
    logits : array_like, shape (n, k)

    Returns
    -------
    ndarray, shape (n, k)
        Each row is non-negative and sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.primitives import softmax
    >>> p = softmax([[1e4, 0.0], [0.0, 0.0]])
    >>> np.allclose(p, [[1.0, 0.0], [0.5, 0.5]])
    True
    """
    t = _as_logits(logits)
    with np.errstate(over="ignore"):  # as in log_softmax: a gap above 1.8e308 is -inf, exp(-inf) = 0
        return _softmax(t)


def _softmax(t):
    """The formula of :func:`softmax` alone, for logits already checked (the layers' own),
    under an ``np.errstate`` that ignores overflow."""
    e = np.exp(t - t.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@quiet_underflow
def softmax_jacobian(logits):
    r"""Explicit Jacobian of the softmax of each row (for teaching, not for backprop).

    For a row :math:`\hat y = \operatorname{softmax}(\theta)` (1, k):

    .. math:: \frac{\partial \hat y}{\partial \theta} = \operatorname{Diag}(\hat y) - \hat y^T \hat y

    which is symmetric, so the row and column layouts agree.

    Parameters
    ----------
    logits : array_like, shape (n, k)

    Returns
    -------
    ndarray, shape (n, k, k)
        ``J[i, j, l] = d yhat[i, j] / d logits[i, l]``.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.primitives import softmax, softmax_jacobian
    >>> theta = np.array([[0.5, -1.0, 2.0]])
    >>> J = softmax_jacobian(theta)
    >>> J.shape
    (1, 3, 3)
    >>> np.allclose(J.sum(axis=1), 0.0)  # softmax rows always sum to 1
    True
    """
    p = softmax(logits)
    return p[:, :, None] * np.eye(p.shape[1]) - p[:, :, None] * p[:, None, :]


@quiet_underflow
def cross_entropy(logits, targets):
    r"""Cross-entropy of each row, computed from logits with the log-sum-exp trick.

    .. math:: \ell_i = -\sum_j y_{ij} \log \operatorname{softmax}(\theta_i)_j
              = \sum_j y_{ij} (m_i - \theta_{ij}) + \Big(\sum_j y_{ij}\Big) \log \sum_l e^{\theta_{il} - m_i}

    with :math:`m_i` the row maximum. Never forms ``log(softmax(...))``, so a predicted
    probability that underflows to 0 gives a large finite loss instead of ``inf``/``nan``;
    a zero target contributes 0 even where its log-probability is below -1.8e308.

    Parameters
    ----------
    logits : array_like, shape (n, k)
    targets : array_like, shape (n, k)
        Non-negative. Rows need not sum to 1; the formula above is used as stated.

    Returns
    -------
    ndarray, shape (n,)
        One loss per row (callers choose sum or mean).

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib.primitives import cross_entropy
    >>> np.allclose(cross_entropy([[0.0, 0.0]], [[1.0, 0.0]]), [np.log(2.0)])
    True
    >>> np.allclose(cross_entropy([[1e4, -1e4]], [[0.0, 1.0]]), [2e4])
    True
    >>> cross_entropy([[1e308, -1e308]], [[1.0, 0.0]]) == 0.0  # the second class has log-probability -inf
    array([ True])
    """
    t = _as_logits(logits)
    y = as_array("targets", targets, 2, "(n, k)")
    if y.shape != t.shape:
        raise ValueError(f"targets shape {y.shape} must equal logits shape {t.shape}")
    if (y < 0).any():
        raise ValueError(f"targets must be non-negative; found min {y.min():.3g} (shape {y.shape})")
    # -log softmax(t)_j = (m - t_j) + lse with m the row maximum, lse = log sum_l e^(t_l - m) in [0, log k]
    m = t.max(axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        gap = m - t  # >= 0; inf only when the logits differ by more than 1.8e308
        lse = np.log(np.exp(-gap).sum(axis=1))
        terms = np.multiply(y, gap, out=np.zeros_like(t), where=y != 0)  # 0 * gap = 0, also for gap = inf
        far = np.isinf(gap) & (y != 0)
        terms[far] = (y * m - y * t)[far]  # y m - y t: finite when the product is
        return terms.sum(axis=1) + y.sum(axis=1) * lse
