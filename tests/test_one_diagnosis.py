"""One diagnosis of how a value is wrong: the playground's answer checker, the pages' formula
checker and derivlib.check.gradcheck give the same Diagnosis, decided once in pure Python
(derivlib.relation), on lists of lists as on numpy arrays."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from derivlib.check import Diagnosis, relation
from derivlib.playground.answer import diagnose

T = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]]  # a "true gradient", 2×3
SQUARE = [[1.0, 2.0], [-3.0, 4.0]]
ANTISYMMETRIC = [[0.0, 2.0], [-2.0, 0.0]]


def _scale(m, k):
    return [[k * x for x in row] for row in m]


def _t(m):
    return [list(c) for c in zip(*m)]


# (candidate, truth): each a mistake, with a dimension n of size 5
CASES = [
    pytest.param(_t(T), T, id="transposed-shape"),
    pytest.param([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0]], id="rows-not-summed"),
    pytest.param([[1.0, 2.0], [3.0, 4.0]], [[3.0], [7.0]], id="columns-not-summed"),
    pytest.param([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[1.0], [2.0], [3.0]], id="rows-not-summed-as-a-column"),
    pytest.param([[1.0, -2.0], [0.5, 3.0], [0.25, -1.5]], T, id="entries-in-another-shape"),
    pytest.param([[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]], [[1.0, 2.0, 3.0]], id="rows-averaged"),
    pytest.param([[1.0, 2.0]], T, id="wrong-shape"),
    pytest.param(_t(SQUARE), SQUARE, id="transposed-square"),
    pytest.param(_t(ANTISYMMETRIC), ANTISYMMETRIC, id="transposed-antisymmetric"),
    pytest.param(_scale(T, -1), T, id="sign"),
    pytest.param(_scale(T, 2), T, id="factor-2"),
    pytest.param(_scale(T, 1 / 2), T, id="half-no-dimension-of-size-2"),
    pytest.param(_scale(T, 1 / 5), T, id="divided-by-n"),
    pytest.param(_scale(T, 5), T, id="times-n"),
    pytest.param([[-3.0]], [[3.0]], id="one-value-sign"),
    pytest.param([[0.0] * 3] * 2, T, id="zero"),
    pytest.param(T, [[0.0] * 3] * 2, id="true-gradient-zero"),
    pytest.param([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], T, id="wrong-values"),
    pytest.param([[float("nan"), 0.0, 0.0], [0.0, 1.0, 0.0]], T, id="nan"),
]


@pytest.mark.parametrize(("candidate", "truth"), CASES)
def test_the_answer_checkers_diagnosis_is_the_checkers(candidate, truth):
    verdict = diagnose(candidate, truth, "W", sizes={"n": 5})
    assert verdict.diagnosis is relation(np.array(candidate), np.array(truth))[0], verdict


@pytest.mark.parametrize(("candidate", "truth"), CASES)
def test_lists_and_arrays_get_the_same_diagnosis(candidate, truth):
    from derivlib.relation import relation as on_lists

    assert on_lists(candidate, truth) == relation(np.array(candidate), np.array(truth))


def test_the_diagnosis_runs_without_numpy():
    code = ("import sys; sys.modules['numpy'] = None\n"
            "from derivlib.relation import relation\n"
            "print(relation([[-1.0, 2.0], [3.0, 4.0]], [[1.0, -2.0], [-3.0, -4.0]])[0].value)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == Diagnosis.SIGN_FLIPPED.value


def test_the_checker_has_one_relative_error_rule():
    from derivlib import check
    from derivlib.engine import stepcheck

    assert check._relative is stepcheck.relative
