"""Finite-difference Jacobians and differentials of array-valued functions.

Built on derivlib's own central differences (:func:`derivlib.check.numerical_gradient`
and :func:`derivlib.check.numerical_jvp`, with their default step), one scalar output at
a time; for the small arrays of the pages and the claims ledger.

Examples
--------
>>> import numpy as np
>>> from verification.numerical import jacobian
>>> A = np.array([[1.0, 2.0]])
>>> np.allclose(jacobian(lambda A: A ** 2, A)[0, 1], [[0.0, 4.0]])
True
"""

from __future__ import annotations

import numpy as np

from derivlib.check import numerical_gradient, numerical_jvp

__all__ = ["jacobian", "jvp"]


def jacobian(fn, A):
    """Jacobian of the array-valued fn at A, shape ``fn(A).shape + A.shape``:
    entry [out_index, in_index] = d fn(A)[out_index] / d A[in_index]."""
    out = np.asarray(fn(A))
    J = np.empty(out.shape + np.shape(A))
    for idx in np.ndindex(out.shape):
        (J[idx],) = numerical_gradient(lambda B, idx=idx: np.asarray(fn(B))[idx], (A,))
    return J


def jvp(fn, A, V):
    """First-order change of the array-valued fn at A along the direction V (a differential)."""
    out = np.asarray(fn(A))
    return np.array([numerical_jvp(lambda B, k=k: np.asarray(fn(B))[k], (A,), 0, V) for k in np.ndindex(out.shape)]
                    ).reshape(out.shape)
