"""The "why" column of a loop's derivation checked (standard library only): :func:`check_why`.

A :class:`~derivlib.engine.loops.LoopDerivation` shows three kinds of "why":

* the differentials of the loop body's steps (``dHₜ = (1 − Hₜ ∘ Hₜ) ∘ dZₜ``) and of the
  read-out's: the body and the read-out are ordinary derivations, and each is checked by
  :func:`derivlib.engine.adjoint.check_why` (the adjoint of each step's pullback, and a
  derivative by central differences);
* "from step t+1" on the adjoint a state receives from the next step: exact, by the
  chain rule through the state (the body's loss holds ``sum(Ḡ ∘ Hₜ)``, whose differential
  ``Ḡ : dHₜ`` is checked with the body, and ``Ḡ`` is the next step's adjoint of its
  previous state, a step of the body whose differential is checked too);
* "a sum over t" on a weight shared by every step: exact, because the weight is the same
  at every step, so the loss's differential in it is the sum of each step's (the summand's
  line is the body's step, checked). The gradients these lines add up to are compared
  with finite differences of the unrolled loss by ``check`` and ``check_pure``.
"""

from __future__ import annotations

from typing import NamedTuple

from .adjoint import DifferentialError, DifferentialReport

__all__ = ["LoopDifferentialReport", "check_why"]


class LoopDifferentialReport(NamedTuple):
    """The "why" column of a loop derivation checked (a wrong line raises :class:`DifferentialError`).

    Attributes
    ----------
    body : DifferentialReport
        Every differential of the loop body's steps.
    readout : DifferentialReport or None
        Every differential of the read-out's steps (None without a read-out).
    exact : tuple of (str, str)
        Each displayed line whose "why" is no differential (``G_Hₜ = Δₜ₊₁ Whᵀ``, from step
        t+1; ``G_Wh = Σₜ Hₜ₋₁ᵀ Δₜ``, a sum over t; ``G_H₀ = Δ₁ Whᵀ``), with why it is exact.
    """

    body: DifferentialReport
    readout: object
    exact: tuple

    @property
    def ok(self):
        return True

    @property
    def checked(self):
        return self.body.checked + (self.readout.checked if self.readout is not None else ())

    # measured over ``checked`` as for any derivation's report
    max_adjoint_error = DifferentialReport.max_adjoint_error
    max_derivative_error = DifferentialReport.max_derivative_error
    skipped = DifferentialReport.skipped

    def __str__(self):
        lines = [f"the loop body: {self.body}"]
        if self.readout is not None:
            lines.append(f"the read-out: {self.readout}")
        lines.append("exact, by the chain rule (the gradients they add up to are checked against finite "
                     "differences of the unrolled loss):")
        lines += [f"  {line}: {why}" for line, why in self.exact]
        return "\n".join(lines)


def _sizes(ld, sizes, part):
    """The loop's ``sizes`` that are dimensions of ``part`` (the body or the read-out)."""
    known = part.dims()
    return {k: v for k, v in sizes.items() if k in known}


def _exact(ld):
    """(displayed line, why it is exact) for each line whose "why" is no differential."""
    _, backward, sums = ld._lines("text")
    i, T = ld.index, ld.length
    out = []
    for lhs, rhs, shape, why in backward:
        if why.startswith(f"from step {i}+1"):
            out.append((f"{lhs} = {rhs}", f"from step {i}+1: the adjoint the state receives from step {i}+1 is that "
                        f"step's adjoint of its previous state (its differential checked with the body); at "
                        f"{i} = {T} it is 0 or the read-out's"))
    for lhs, rhs, shape, why in sums:
        if why.startswith("the same weights"):
            how = (f"a sum over {i}: the same weights at every step, so the loss's differential in them is the sum "
                   f"of each step's; the summand is the body's step (its differential checked)")
            if "(read-out)" in rhs:
                how += ", the last term the read-out's (checked with the read-out)"
            out.append((f"{lhs} = {rhs}", how))
        elif why.startswith("the adjoint of"):
            out.append((f"{lhs} = {rhs}", f"the initial state is the previous state of step 1: the body's adjoint "
                        f"of the previous state at {i} = 1 (its differential checked with the body)"))
    return tuple(out)


def check_why(ld, sizes=None, seed=0):
    """Check every displayed "why" of a loop derivation: see the module's docstring.

    Parameters
    ----------
    ld : LoopDerivation
    sizes : dict, optional
        Dimension -> size for the body and the read-out (the loop's length is not one of
        theirs and is left out); default distinct primes.
    seed : int

    Returns
    -------
    LoopDifferentialReport

    Raises
    ------
    DifferentialError
        Naming the part (the loop body or the read-out) and the step whose line is wrong.
    ValueError
        A size that is not a dimension of the loop.
    """
    sizes = {} if sizes is None else sizes
    if not isinstance(sizes, dict):
        raise TypeError(f"sizes must be a dict dimension -> whole number; got {type(sizes).__name__}")
    parts = [("the loop body", ld.body)] + ([("the read-out", ld.readout)] if ld.readout is not None else [])
    known = {ld.length} | {x for _, part in parts for x in part.dims()}
    unknown = [k for k in sizes if k not in known]
    if unknown:
        raise ValueError(f"sizes: {', '.join(map(repr, unknown))} is not a dimension of the loop "
                         f"(dimensions: {', '.join(sorted(map(str, known)))})")
    reports = []
    for name, part in parts:
        try:
            reports.append(part.check_why(sizes=_sizes(ld, sizes, part), seed=seed))
        except DifferentialError as exc:
            raise DifferentialError(f"{name}, {exc}") from None
    return LoopDifferentialReport(reports[0], reports[1] if len(reports) > 1 else None, _exact(ld))
