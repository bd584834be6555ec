"""The engine's entry point :func:`derive` (standard library only): an expression, or a program
with a ``for`` loop, which ``derivlib.engine.loops`` derives once as a recurrence.
"""

from __future__ import annotations

from .derivation import derive as derive_expression
from .limits import guarded
from .loops import derive_loop, has_loop

__all__ = ["derive"]


@guarded("derive")
def derive(expr, shapes, wrt=None, indices=None):
    if has_loop(expr):
        return derive_loop(expr, shapes, wrt, indices)
    return derive_expression(expr, shapes, wrt, indices)


_LOOPS = """
        A program with a loop, several lines: states bound before the loop (``H = H0``), at
        most one accumulator (``L = 0``), a ``for t in range(T):`` block of assignments
        reading sequences as ``X[t]`` (``L = L + ...`` adds a step's loss), then the loss:
        ``L``, a read-out of the states (``sum(G * H)``), or ``L`` plus or minus one.
        Its derivation is a ``LoopDerivation`` (``derivlib.engine.loops``): the loop body
        derived once, the backward pass as the loop t = T … 1, the weights' gradients as
        sums over t.
"""
_SEQUENCES = """
        A sequence has three entries, ``X: ("T", "n", "d")``: T matrices n×d, read as
        ``X[t]`` inside a loop over ``range(T)``.
"""
_doc = derive_expression.__doc__
_doc = _doc.replace('''``"H = sigmoid(X @ W1 + b1); -sum(Y * log_softmax(H @ W2 + b2)) / n"``.
''', '''``"H = sigmoid(X @ W1 + b1); -sum(Y * log_softmax(H @ W2 + b2)) / n"``.
''' + _LOOPS, 1)
_doc = _doc.replace('''        A dimension name in the expression stands for its size (``/ n``).
''', '''        A dimension name in the expression stands for its size (``/ n``).
''' + _SEQUENCES, 1)
_doc = _doc.replace('''    Returns
    -------
    Derivation
''', '''    Returns
    -------
    Derivation
        or, for a program with a loop, a ``LoopDerivation``.
''', 1)
derive.__doc__ = _doc
