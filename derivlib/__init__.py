"""derivlib: the matrix calculus of backpropagation, derived by hand and checked by code.

One module per derivation (forward, hand-derived backward, and where it teaches
something, the explicit Jacobian), numerically stable primitives, one gradient
checker used by the tests, the doctests and the documentation pages, and
:func:`derive`, which derives any composition of the supported operations.

``import derivlib`` imports no numpy: the numeric modules load on first use
(PEP 562), so the pure-Python derivation engine also runs where numpy does not.
"""

import pkgutil
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("derivlib")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"

# Every public module and subpackage beside this file, found without importing it (a new
# derivation module loads as ``derivlib.<name>`` on first use with no line added here).
_MODULES = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))
_FROM_CHECK = ("GradCheckError", "GradCheckReport", "gradcheck", "numerical_gradient", "numerical_jvp",
               "Diagnosis", "FiniteDifferenceError")

__all__ = ["derive", *_MODULES, *_FROM_CHECK]


def __getattr__(name):
    if name == "derive":
        return import_module(".engine", __name__).derive
    if name in _MODULES:
        return import_module(f".{name}", __name__)
    if name in _FROM_CHECK:
        return getattr(import_module(".check", __name__), name)
    raise AttributeError(f"module 'derivlib' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
