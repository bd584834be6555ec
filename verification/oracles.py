"""Oracles that share no code with derivlib: autograd losses and SymPy helpers.

* :data:`AUTOGRAD` maps each case of :mod:`verification.cases` to its loss written in
  ``autograd.numpy`` from the definition (not taken from derivlib; the case carries it);
  ``autograd.grad`` differentiates it.
* SymPy: :data:`SIGMA` (the sigmoid as a Lambda), :class:`MatrixPrinter` (lambdify with an
  entry-wise function of a matrix expression), :func:`matrix_derivative`, and explicit
  matrices of symbols differentiated entry by entry where SymPy's matrix calculus stops.

Examples
--------
>>> import numpy as np
>>> from verification.cases import CASES
>>> from verification.oracles import autograd_gradients
>>> case = CASES["linear_dot"]
>>> args = case.inputs(case.shapes["n3-m4-c10-b1d"], seed=0)
>>> all(np.allclose(a, d) for a, d in zip(autograd_gradients(case, args), case.backward(*args)))
True
"""

from __future__ import annotations

import autograd
import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from verification.cases import CASES

__all__ = ["AUTOGRAD", "autograd_gradients", "SIGMA", "MatrixPrinter", "matrix_derivative", "evaluate",
           "explicit", "entrywise_gradients", "lambdify_explicit"]


# -- autograd -------------------------------------------------------------------------------


#: The loss of each case (by name), in autograd.numpy, with the case's arguments
#: (each case carries its own: :attr:`verification.cases.Case.autograd`).
AUTOGRAD = {name: case.autograd for name, case in CASES.items()}


def autograd_gradients(case, args) -> list:
    """autograd's gradient of the case's loss for each argument in ``case.wrt``."""
    return [autograd.grad(AUTOGRAD[case.name], argnum=i)(*args) for i in range(len(case.wrt))]


# -- SymPy ------------------------------------------------------------------------------------

_t = sp.Symbol("t")
#: The sigmoid as a SymPy Lambda, applied entry-wise with ``applyfunc``.
SIGMA = sp.Lambda(_t, 1 / (1 + sp.exp(-_t)))


class MatrixPrinter(NumPyPrinter):
    """NumPy printer that also prints an entry-wise function of a matrix expression."""

    def _print_ElementwiseApplyFunction(self, expr):
        (var,) = expr.function.variables
        return f"(lambda {self._print(var)}: {self._print(expr.function.expr)})({self._print(expr.expr)})"


def matrix_derivative(L, A):
    """SymPy's matrix-calculus derivative of the scalar matrix expression L by the
    MatrixSymbol A; None when SymPy raises or gives something other than a matrix
    expression of A's shape."""
    try:
        d = L.diff(A)
    except (IndexError, ValueError):  # SymPy's ShapeError is a ValueError
        return None
    return d if isinstance(d, sp.MatrixExpr) and d.shape == A.shape else None


def evaluate(expr, matrix_symbols, values):
    """The matrix expression evaluated with numpy at the given values of its MatrixSymbols."""
    f = sp.lambdify(matrix_symbols, expr, modules="numpy", printer=MatrixPrinter)
    return np.asarray(f(*values), dtype=np.float64)


def explicit(name, rows, cols):
    """A matrix of scalar symbols name_i_j."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}"))


def entrywise_gradients(L, wrt):
    """dL/dM for each explicit matrix M in wrt, entry by entry (sympy.diff)."""
    return [sp.Matrix(M.shape[0], M.shape[1], lambda i, j: sp.diff(L, M[i, j])) for M in wrt]


def lambdify_explicit(exprs, matrices):
    """A numpy function of the matrices' values (flattened in order) for explicit exprs."""
    f = sp.lambdify([s for M in matrices for s in M], exprs, "numpy", cse=True)
    return lambda *values: [np.asarray(e, dtype=np.float64) for e in f(*np.concatenate([np.ravel(v) for v in values]))]
