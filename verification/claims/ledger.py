r"""The claims ledger's types and its check: one formula of a source thread, checked as written.

Each formula in ``shared/sources`` (question, answers, comments, and every intermediate
step of a derivation) is one :class:`Claim`. A claim records where it comes from, the
formula in the source's own notation (LaTeX), the shapes the source gives, the reading
taken where the notation is ambiguous, and a *transcription*: a function that evaluates
the formula exactly as written on random float64 data of those shapes. It is never
quietly fixed: the transcription sees its data as :class:`~verification.claims.strict.Strict`
arrays, so a product whose shapes do not conform raises
:class:`~verification.claims.strict.DoesNotConform` and is reported as ``"does not conform"``; a formula that evaluates to the wrong array is
reported as ``"fails"``. Each transcription is compared with a *reference*: derivlib's
finite-difference gradient (:func:`derivlib.check.numerical_gradient`) of derivlib's own
forward function, or, for an intermediate identity, a finite-difference evaluation of
the quantity the formula claims to be (a Jacobian, a differential along a random
direction). A claim that fails or does not conform carries the reason and a corrected
formula, which is transcribed and checked the same way.

The sources write in two conventions. Questions use **rows** (a sample is a row, as in
derivlib). The answers in sources 001 and 002 restate the problem with **column**
vectors: their ``x`` is the question's row ``x`` transposed, their ``b`` likewise, and
their weight matrices are the question's matrices unchanged (``f = W^T x + b`` is the
transpose of ``f = x W + b``). The answer in source 002 also renames: its ``y`` is the
prediction :math:`\hat y` and its ``p`` is the label (the question's ``y``). The
transcriptions follow each source's own convention and names; the mapping is done only
when building the data.

Tolerances: a value matches its reference when ``|value - ref| <= ATOL + RTOL * |ref|``
entry by entry (the defaults of :func:`derivlib.check.gradcheck`); the shapes must be
equal, except that a 1x1 matrix and a scalar are the same thing (the sources use both).

The claims themselves are in ``thread_000.py``, ``thread_001.py`` and ``thread_002.py``,
one module per source thread; :mod:`verification.claims` gathers them.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from derivlib.check import ATOL, RTOL

from .strict import DoesNotConform, strict_data

__all__ = ["Claim", "Result", "STATUSES", "FD", "check"]

STATUSES = ("holds", "fails", "does not conform")
FD = "derivlib.check.numerical_gradient of {}"


class Claim(NamedTuple):
    """One formula from a source thread, with what it is checked against.

    ``transcription``, ``reference`` and ``corrected`` take the data dictionary built by
    ``setup(seed)`` and return an array (or a scalar).
    """

    id: str
    source: str  # file name in shared/sources
    where: str  # "question", "answer", "comment by ..."
    latex: str  # the formula in the source's notation
    shapes: str  # the shapes the source gives (and the sizes used where it gives none)
    reading: str  # how the notation was read, where it is ambiguous
    setup: Callable  # seed -> dict of float64 arrays
    transcription: Callable  # data -> the formula evaluated as written
    reference: Callable  # data -> what the formula claims to equal, computed numerically
    compared_with: str
    expected: str  # one of STATUSES
    why: str  # why it holds / fails / does not conform
    corrected_latex: str | None = None
    corrected: Callable | None = None
    corrected_reference: Callable | None = None  # default: the claim's own reference


class Result(NamedTuple):
    """What :func:`check` observed for one claim."""

    id: str
    expected: str
    observed: str
    max_error: float  # nan when the shapes differ or it does not conform
    shape: tuple | None  # shape of the transcription's value (None: does not conform)
    reference_shape: tuple
    detail: str  # the DoesNotConform message when it does not conform, else ""
    corrected_observed: str | None
    corrected_max_error: float | None


def _evaluate(fn, data, ref):
    """(status, max_error, shape, detail) of fn(data) against the reference array."""
    try:
        value = fn(strict_data(data))
    except DoesNotConform as err:
        return "does not conform", float("nan"), None, str(err)
    value = np.asarray(value, dtype=np.float64)
    if value.size == 1 and ref.size == 1:
        value, ref = value.reshape(()), ref.reshape(())
    if value.shape != ref.shape:
        return "fails", float("nan"), value.shape, ""
    err = np.abs(value - ref)
    ok = bool(np.all(err <= ATOL + RTOL * np.abs(ref)))
    return ("holds" if ok else "fails"), float(err.max(initial=0.0)), value.shape, ""


def check(claim: Claim, seed: int = 0) -> Result:
    """Evaluate one claim (and its correction) on the data of ``claim.setup(seed)``.

    Returns
    -------
    Result
        The observed status, the largest absolute error against the reference (``nan``
        when the shapes differ or it does not conform), and the same for the correction.

    Examples
    --------
    >>> from verification import claims
    >>> r = claims.check(claims.get("001-q-chain"))
    >>> r.expected == r.observed == "fails", r.shape, r.reference_shape
    (True, (10, 4), (4, 10))
    >>> r.corrected_observed
    'holds'
    """
    data = claim.setup(seed)
    ref = np.asarray(claim.reference(data), dtype=np.float64)
    status, err, shape, detail = _evaluate(claim.transcription, data, ref)
    c_status = c_err = None
    if claim.corrected is not None:
        c_ref = ref if claim.corrected_reference is None else np.asarray(claim.corrected_reference(data), dtype=np.float64)
        c_status, c_err, _, _ = _evaluate(claim.corrected, data, c_ref)
    return Result(claim.id, claim.expected, status, err, shape, ref.shape, detail, c_status, c_err)
