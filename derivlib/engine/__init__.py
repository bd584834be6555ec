r"""The derivation engine: any composition of the supported operations, derived step by step.

>>> from derivlib import derive
>>> d = derive("sum(G * sigmoid(X @ W + b))",
...            shapes={"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q"), "G": ("n", "q")},
...            wrt=["W", "b", "X"])
>>> print(d.backward_steps[1].symbol, "=", d.backward_steps[1].expression)
Δ = G ∘ S ∘ (1 − S)

Public names (stable; the in-browser playground builds on them):

* :func:`derive` ``(expr, shapes, wrt=None)`` -> :class:`Derivation`, with ``.steps``
  (each with ``.name .shape .latex .text``), ``.latex()``, ``.text()``,
  ``.numpy_source()``, ``.gradients(values)``, ``.check(sizes=None, seed=0)``,
  ``.check_pure(sizes=None, seed=0)`` and ``.gradient_expressions`` (variable -> node).
* :func:`parse` ``(expr, shapes)`` -> the typed expression node (with ``.shape``,
  ``.text``, ``.latex``), raising :class:`ExpressionError` (a ValueError) that names the
  subexpression and the shapes.
* :func:`evaluate_pure` ``(node_or_expr, env, shapes=None)``: the value of a node (or of an
  expression string, then with ``shapes``) on lists of lists of floats; ``env`` maps
  variable names to values.
* ``RULES`` and ``rules_table()``: the rule table and its rows for display.

The modules that parse, derive, render and check in pure Python import only the standard
library; :meth:`Derivation.gradients` and :meth:`Derivation.check` import numpy when
called.
"""

from .derivation import Derivation, Step
from .program import derive
from .nodes import ExpressionError, Node
from .parse import parse
from .pure import PureCheckReport, evaluate_pure
from .rules import FUNCTIONS, RULES
from .identities import table as rules_table

__all__ = ["derive", "parse", "evaluate_pure", "Derivation", "Step", "Node", "ExpressionError",
           "PureCheckReport", "RULES", "FUNCTIONS", "rules_table"]
