"""One diagnosis of how a value is wrong: the checker's, which the pages' formula checker words."""

from __future__ import annotations

import numpy as np
import pytest

from derivlib.check import Diagnosis, relation
from verification.formulas import _relation

W = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 4.0], [0.25, 5.0, -2.0]])


@pytest.mark.parametrize("got, kind, words", [
    pytest.param(W.T, Diagnosis.TRANSPOSED, "transpose of the right value", id="transposed"),
    pytest.param(-W, Diagnosis.SIGN_FLIPPED, "wrong sign", id="sign"),
    pytest.param(W / 3, Diagnosis.MEAN_WHERE_SUM, "the right value is 3 times it", id="mean-where-sum"),
    pytest.param(2.5 * W, Diagnosis.CONSTANT_FACTOR, "the right value is 0.4 times it", id="factor"),
    pytest.param(W[:2], Diagnosis.SHAPE_UNRELATED, "its shape is (2, 3), not (3, 3)", id="shape"),
])
def test_the_formula_checker_words_the_checkers_diagnosis(got, kind, words):
    assert relation(got, W)[0] is kind and words in _relation(got, W)


def test_equal_values_have_no_diagnosis():
    assert relation(W + 1e-12, W) is None and _relation(W + 1e-12, W) == ""


def test_an_antisymmetric_value_is_a_transpose_or_a_sign_flip():
    A = np.array([[0.0, 2.0], [-2.0, 0.0]])
    assert relation(-A, A)[0] is Diagnosis.TRANSPOSED_OR_SIGN_FLIPPED
