"""Strict numpy for the transcriptions: a product of shapes that do not conform raises
:class:`DoesNotConform` instead of broadcasting; and the numerical references.

These helpers only make numpy strict; they never fix a formula. The references are
derivlib's own finite differences (:func:`derivlib.check.numerical_gradient`, and
:mod:`verification.numerical` for Jacobians and differentials), with derivlib's default step.
"""

from __future__ import annotations

import numpy as np

from derivlib.check import numerical_gradient
from derivlib.primitives import sigmoid

from ..numerical import jacobian, jvp

__all__ = ["DoesNotConform", "Strict", "matmul", "had", "colon", "scalar", "sigma", "softmax_row",
           "dsigma", "grad", "jacobian", "jvp", "strict_data"]


class DoesNotConform(ValueError):
    """A product in a transcription is not defined for the shapes of its factors."""


def matmul(A, B):
    """Matrix product ``A @ B``; :class:`DoesNotConform` unless A's columns match B's rows."""
    A, B = np.asarray(A), np.asarray(B)
    inner_B = B.shape[-2] if B.ndim >= 2 else B.shape[0] if B.ndim == 1 else None
    if A.ndim == 0 or inner_B is None or A.shape[-1] != inner_B:
        raise DoesNotConform(f"matrix product of shapes {A.shape} and {B.shape}: they do not conform")
    return (A @ B).view(Strict)


class Strict(np.ndarray):
    """A float64 array whose ``@`` is :func:`matmul`: the data the transcriptions see."""

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)


def strict_data(data):
    """A copy of a claim's data in which every array (also in nested dicts) is :class:`Strict`."""
    if isinstance(data, dict):
        return {k: strict_data(v) for k, v in data.items()}
    if isinstance(data, np.ndarray):
        return data.view(Strict)
    return data


def had(A, B):
    """Element-wise (Hadamard) product of two arrays of the same shape.

    numpy would broadcast a (1, 3) against a (3, 1); the Hadamard product of the sources
    is defined only for equal shapes, so unequal shapes raise :class:`DoesNotConform`.
    """
    A, B = np.asarray(A), np.asarray(B)
    if A.shape != B.shape:
        raise DoesNotConform(f"element-wise product of shapes {A.shape} and {B.shape}: they differ")
    return (A * B).view(Strict)


def colon(A, B):
    """Frobenius product ``A : B = sum_ij A_ij B_ij``, defined for equal shapes only."""
    return float(np.sum(had(A, B)))


def scalar(v):
    """A 1x1 matrix read as the scalar it is (the sources write both)."""
    v = np.asarray(v, dtype=np.float64)
    if v.size != 1:
        raise DoesNotConform(f"expected a scalar or a 1x1 matrix, got shape {v.shape}")
    return float(v.reshape(()))


def sigma(z):
    """The sigmoid as source 002 defines it, 1 / (1 + exp(-z)), element-wise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def softmax_row(t):
    """softmax as defined: exp(t_j) / sum_l exp(t_l), for a row or a column."""
    e = np.exp(t)
    return e / e.sum()


def grad(f, args, i):
    """derivlib's central-difference gradient of scalar f(*args) w.r.t. args[i]."""
    return numerical_gradient(f, args, wrt=[i])[i]


def dsigma(z):
    """sigma'(z) element-wise: the finite-difference gradient of sum(sigmoid(z)) (the sources
    write sigma'(a) without giving a formula for it)."""
    return grad(lambda z_: float(np.sum(sigmoid(z_))), (np.asarray(z),), 0).view(Strict)
