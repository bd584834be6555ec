"""derivlib: the matrix calculus of backpropagation, derived by hand and checked by code.

One module per derivation (forward, hand-derived backward, and where it teaches
something, the explicit Jacobian), numerically stable primitives, and one gradient
checker used by the tests, the doctests and the documentation pages.
"""

from . import check, linear_dot, primitives, sigmoid_layer, two_layer
from .check import GradCheckError, GradCheckReport, gradcheck, numerical_gradient

__all__ = [
    "check",
    "linear_dot",
    "primitives",
    "sigmoid_layer",
    "two_layer",
    "GradCheckError",
    "GradCheckReport",
    "gradcheck",
    "numerical_gradient",
]
__version__ = "0.1.0"
