"""The engine's entry point :func:`derive` (standard library only): an expression, or a program
with a ``for`` loop, which :mod:`derivlib.engine.loops` derives once as a recurrence.
"""

from __future__ import annotations

from .derivation import derive as derive_expression
from .limits import guarded
from .loops import derive_loop, has_loop

__all__ = ["derive"]


@guarded("derive")
def derive(expr, shapes, wrt=None, indices=None):
    """Derive the gradients of a scalar expression, or of a program with a loop.

    An expression (optionally preceded by assignments) gives a
    :class:`~derivlib.engine.derivation.Derivation`: see
    :func:`derivlib.engine.derivation.derive` for the parameters. A program with a
    ``for t in range(T):`` block, sequences declared with three entries
    (``X: ("T", "n", "d")``) and read as ``X[t]``, gives a
    :class:`~derivlib.engine.loops.LoopDerivation`: the loop body derived once, the backward
    pass as the reverse loop t = T … 1, the shared weights' gradients as sums over t.

    Examples
    --------
    >>> from derivlib.engine import derive
    >>> d = derive("H = H0\\nfor t in range(T):\\n    H = tanh(X[t] @ Wx + H @ Wh)\\nsum(G * H)",
    ...            {"X": ("T", "n", "d"), "H0": ("n", "h"), "Wx": ("d", "h"), "Wh": ("h", "h"),
    ...             "G": ("n", "h")})
    >>> print([line for line in d.text().splitlines() if "G_Wh" in line][0].split("  ")[1])
    G_Wh = Σₜ Hₜ₋₁ᵀ Δₜ
    """
    if has_loop(expr):
        return derive_loop(expr, shapes, wrt, indices)
    return derive_expression(expr, shapes, wrt, indices)
