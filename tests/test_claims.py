"""Tests of verification.claims: every formula of the three sources, checked as written.

Each claim's observed status (holds / fails / does not conform) must equal the status
recorded in the ledger, on two seeds of random data, and every corrected formula must
hold. The references are derivlib's finite differences (see verification/claims/), so
breaking derivlib's forward functions breaks these tests too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from verification import claims
from verification.claims.strict import DoesNotConform, dsigma, had, matmul

IDS = [c.id for c in claims.CLAIMS]
SEEDS = [0, 1]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
@pytest.mark.parametrize("claim_id", IDS)
def test_observed_status_is_the_recorded_one(claim_id, seed):
    result = claims.check(claims.get(claim_id), seed)
    assert result.observed == result.expected, result
    if result.observed == "holds":
        assert math.isfinite(result.max_error), result
    elif result.observed == "does not conform":
        assert result.shape is None and result.detail, result
    else:  # fails: either the wrong shape, or values far outside the tolerance
        assert result.shape != result.reference_shape or result.max_error > 1e-3, result


CORRECTED = [c.id for c in claims.CLAIMS if c.corrected is not None]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
@pytest.mark.parametrize("claim_id", CORRECTED)
def test_every_correction_holds(claim_id, seed):
    result = claims.check(claims.get(claim_id), seed)
    assert result.corrected_observed == "holds", result


@pytest.mark.parametrize("claim_id", IDS)
def test_record_is_complete(claim_id):
    c = claims.get(claim_id)
    assert c.expected in claims.STATUSES
    assert c.source in {"000_7d1027f9498c28b6.txt", "001_b43cd3788509c8e5.txt", "002_88e5b88fedbe3adc.txt"}
    assert c.id.startswith(c.source[:3] + "-")
    assert c.where.split(" ")[0] in {"question", "answer", "comment", "comments"}
    assert c.latex and c.shapes and c.reading and c.why and c.compared_with
    # a formula that fails or does not conform carries its correction; one that holds does not
    assert (c.corrected is None) == (c.expected == "holds")
    assert (c.corrected_latex is None) == (c.corrected is None)


def test_ids_are_unique_and_every_source_is_covered():
    assert len(IDS) == len(set(IDS))
    assert {c.source for c in claims.CLAIMS} == {
        "000_7d1027f9498c28b6.txt",
        "001_b43cd3788509c8e5.txt",
        "002_88e5b88fedbe3adc.txt",
    }
    for kind in ("q", "a", "c"):  # question, answer and comments of every thread
        for src in ("000", "001", "002"):
            assert any(i.startswith(f"{src}-{kind}-") for i in IDS), (src, kind)


@pytest.mark.parametrize("source", sorted({c.source for c in claims.CLAIMS}))
def test_source_file_exists(source, sources_dir):
    assert (sources_dir / source).is_file()


def test_summary_counts_add_up():
    results = claims.check_all()
    s = claims.summary(results)
    assert s["claims"] == len(claims.CLAIMS) == s["holds"] + s["fails"] + s["does not conform"]
    assert s["fails"] >= 1 and s["does not conform"] >= 1


def test_the_other_grouping_of_002_q_result_does_not_conform_either():
    # ((yhat - y) W2^T) o (sigma'(a) W1): sigma'(a) is (1, 3) and W1 is (5, 3)
    d = claims.get("002-q-result").setup(0)
    with pytest.raises(DoesNotConform, match=r"shapes \(1, 3\) and \(5, 3\)"):
        matmul(dsigma(d["a"]), d["W1"])


def test_a_broadcasting_hadamard_is_refused():
    # numpy would broadcast (1, 3) * (3, 1) to (3, 3); the sources' product is not defined there
    with pytest.raises(DoesNotConform, match="element-wise product"):
        had(np.ones((1, 3)), np.ones((3, 1)))


def test_a_wrong_transcription_would_be_caught():
    # the ledger's check is not vacuous: the same claim with its correction swapped in for
    # the transcription flips the status of a failing claim to "holds", and a holding
    # claim given a wrong transcription is observed to fail
    c = claims.get("001-q-chain")
    assert claims.check(c._replace(transcription=c.corrected)).observed == "holds"
    h = claims.get("001-a-grad-denominator")
    wrong = h._replace(transcription=lambda d: 2 * d["x"] @ d["y"].T)
    r = claims.check(wrong)
    assert r.observed == "fails" and not math.isnan(r.max_error)
