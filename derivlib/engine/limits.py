"""How deep and how long an expression may be, and the guard of the engine's entry points.

The engine walks expressions recursively, one Python call (a few, while rendering) per
nested operation. CPython 3.11 does not use the C stack for a call from Python to Python,
so :func:`guard` raises the recursion limit while an entry point runs, to what
:data:`MAX_DEPTH` nested operations need. In the browser (Pyodide, ``sys.platform ==
"emscripten"``) the stack is the WebAssembly one and the limit stays: a walk that hits it
becomes an :class:`~derivlib.engine.ExpressionError` that names it. Standard library only.
"""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager

from .nodes import ExpressionError

__all__ = ["MAX_DEPTH", "MAX_OPERATIONS", "MAX_LENGTH", "guard", "guarded"]

#: Nested operations (the depth of the expression graph, through named intermediates).
MAX_DEPTH = 2_000
#: Operations in one expression (a sum of 1,000 terms has about 2,000).
MAX_OPERATIONS = 6_000
#: Characters in one expression.
MAX_LENGTH = 100_000
#: Python frames per nested operation: parsing (with ast.unparse), the derivation's walks,
#: rendering and evaluating an adjoint, which may nest twice as deep as the expression.
FRAMES_PER_LEVEL = 16
RECURSION_LIMIT = 2 * MAX_DEPTH * FRAMES_PER_LEVEL + 2_000
BROWSER = sys.platform == "emscripten"


@contextmanager
def guard(what):
    """Run an entry point with room for :data:`MAX_DEPTH` nested operations.

    ``what`` names the entry point for the message of a :class:`RecursionError`, which
    becomes an :class:`~derivlib.engine.ExpressionError` naming the limit.
    """
    old = sys.getrecursionlimit()
    raised = not BROWSER and old < RECURSION_LIMIT
    if raised:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        yield
    except RecursionError:
        limit = sys.getrecursionlimit()
        raise ExpressionError(
            f"{what}: the expression is nested too deeply for this Python (its recursion limit is {limit:,} "
            f"calls; this engine supports at most {MAX_DEPTH:,} nested operations, fewer in the browser): "
            f"name intermediate results (H1 = ...; H2 = ...) or split the expression") from None
    finally:
        if raised:
            sys.setrecursionlimit(old)


def guarded(what):
    """Decorator: run the function under :func:`guard` (``what`` names it in messages)."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with guard(what):
                return fn(*args, **kwargs)
        return run
    return wrap
