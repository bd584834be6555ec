r"""The rule for hand-written math on the pages: a result is checked, a definition may stay raw.

:mod:`conf.checked_math` applies it to every math node of a page that its checked
directives and roles did not produce:

* :func:`raw_math_problem`: a display math block typed as raw LaTeX is refused unless it
  is a definition (``:class: definition``) that states no derivative as a result.
* :func:`raw_inline_problem`: the same rule for inline math in running text.

Both return "" when the math may stand, or the reason and what to write instead.
"""

from __future__ import annotations

import re

__all__ = ["raw_math_problem", "raw_inline_problem", "USE_INSTEAD", "USE_ROLE"]

USE_INSTEAD = (
    "write a result with ```{checked-math}``` (engine syntax, checked numerically) or "
    "```{derivation}``` (the engine's steps); a definition or notation may stay raw LaTeX as "
    "```{math}``` with ':class: definition' (see 'How these pages are checked' in CONTRIBUTING.md)"
)


_DERIVATIVE = re.compile(r"\\partial|\\nabla|\\frac\{\s*(?:\\mathrm\{d\}|d)\s*[A-Za-z\\]"
                         r"|(?<![A-Za-z\\])d[A-Za-z]\w*\s*/\s*d[A-Za-z]"  # dL/dW
                         r"|\\mathrm\{d\}\s*[^/]{1,40}/\s*\\mathrm\{d\}")  # \mathrm{d}L/\mathrm{d}W


def raw_math_problem(latex, classes):
    """Why a hand-written display math block may not stand on a page, or "" if it may."""
    if "checked" in classes:
        return ""
    if "definition" not in classes:
        return "display math typed as raw LaTeX; " + USE_INSTEAD
    if _DERIVATIVE.search(latex):
        parts = latex.split(":=")
        if len(parts) != 2 or _DERIVATIVE.search(parts[0]) or "=" in parts[1].replace(r"\neq", ""):
            return ("a definition block states a derivative: a derivative is a result. Use ```{checked-math}```, "
                    "or write the definition as 'NAME := derivative' with nothing after it")
    return ""


_INLINE_DERIVATIVE = re.compile(_DERIVATIVE.pattern + "|∂|∇")
_STATES = re.compile(r"(?<!:)=|\\approx|\\equiv|≈")
USE_ROLE = (
    "write it with the role {checked}`NAME: grad(W) = ...` (engine syntax, checked numerically) against a "
    "```{formula-context}``` NAME given earlier on the page; quote a thread's formula with ```{asked}``` or "
    "{verdict}; a name for a derivative may stay raw as 'NAME := derivative' (see 'How these pages are "
    "checked' in CONTRIBUTING.md)"
)


def raw_inline_problem(latex):
    r"""Why a hand-written inline formula may not stand in running text, or "" if it may.

    Inline math that *states* a derivative, one that contains ``\partial``, ``\nabla``,
    ``\frac{d...}``, ``∂`` or ``∇`` together with ``=``, ``\approx`` or ``\equiv``, is a
    result, and a result is checked. Notation stays allowed: a derivative alone
    (``\partial L/\partial W``), or named as ``NAME := derivative`` with nothing after it.

    Examples
    --------
    >>> raw_inline_problem(r"\partial L/\partial W")
    ''
    >>> raw_inline_problem(r"\partial L/\partial X = W^T\Delta").split(";")[0]
    'inline math states a derivative as raw LaTeX'
    """
    if not _INLINE_DERIVATIVE.search(latex):
        return ""
    parts = latex.split(":=")
    if len(parts) == 2 and not _INLINE_DERIVATIVE.search(parts[0]) and not _STATES.search(parts[1]):
        return ""  # a name given to a derivative
    if not _STATES.search(latex) and ":=" not in latex:  # a := left over is a result given a derivative's name
        return ""
    return "inline math states a derivative as raw LaTeX; " + USE_ROLE
