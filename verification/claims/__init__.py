"""The claims ledger: every formula stated in the three source threads, checked as written.

One module per source thread (``thread_000``, ``thread_001``, ``thread_002``) holds its
claims; :mod:`~verification.claims.ledger` defines a claim and how it is checked;
:mod:`~verification.claims.strict` the strict products and the numerical references.

Examples
--------
>>> from verification import claims
>>> row = claims.check(claims.get("002-a-row-form"))
>>> row.observed, row.corrected_observed
('does not conform', 'holds')
>>> all(r.observed == r.expected for r in claims.check_all())
True
"""

from __future__ import annotations

from . import thread_000, thread_001, thread_002
from .ledger import STATUSES, Claim, Result, check

__all__ = ["Claim", "Result", "CLAIMS", "STATUSES", "get", "check", "check_all", "summary"]

CLAIMS: tuple = thread_000.CLAIMS + thread_001.CLAIMS + thread_002.CLAIMS


def get(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` names the known ids otherwise."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise KeyError(f"no claim {claim_id!r}; known: {', '.join(c.id for c in CLAIMS)}")


def check_all(seed: int = 0) -> list:
    """:func:`check` every claim; one :class:`Result` per claim, in ledger order."""
    return [check(c, seed) for c in CLAIMS]


def summary(results) -> dict:
    """Counts of observed statuses: ``{"claims": N, "holds": .., "fails": .., "does not conform": ..}``."""
    out = {"claims": len(results)}
    for s in STATUSES:
        out[s] = sum(r.observed == s for r in results)
    return out
