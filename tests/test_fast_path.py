"""Tests of the input checks' fast path (derivlib._validate): an array that is already a
finite float64 ndarray is returned as it is after one pass, and everything else still
gets the full checks, with the same errors."""

from __future__ import annotations

import numpy as np
import pytest

from derivlib._validate import affine, all_finite, as_array, as_row_vector, product

BIG = 1e200  # finite, but its square overflows: the sum of squares is inf


@pytest.mark.parametrize("values, expected", [
    pytest.param([1.0, -2.0, 3.0], True, id="finite"),
    pytest.param([], True, id="empty"),
    pytest.param([BIG, -BIG], True, id="finite-with-overflowing-squares"),
    pytest.param([1.7e308, 1.7e308], True, id="largest-floats"),
    pytest.param([1.0, np.nan], False, id="nan"),
    pytest.param([1.0, np.inf], False, id="inf"),
    pytest.param([-np.inf, 1.0], False, id="minus-inf"),
    pytest.param([np.inf, -np.inf], False, id="inf-and-minus-inf"),
    pytest.param([BIG, np.nan], False, id="nan-beside-overflowing-squares"),
])
def test_all_finite(values, expected):
    assert all_finite(np.array(values, dtype=np.float64)) is expected


@pytest.mark.parametrize("where", [pytest.param(0, id="first"), pytest.param(-1, id="last"),
                                   pytest.param(123_456, id="middle")])
@pytest.mark.parametrize("bad", [pytest.param(np.nan, id="nan"), pytest.param(np.inf, id="inf")])
def test_all_finite_finds_one_bad_entry_in_a_large_array(where, bad):
    a = np.random.default_rng(0).standard_normal((512, 512))  # several blocks: the entry-by-entry test, threaded
    a.reshape(-1)[where] = bad
    assert all_finite(a) is False


def test_all_finite_of_a_strided_view():
    a = np.ones((300, 400))
    a[::2, ::3] = np.nan
    assert all_finite(a[1::2, :]) is True
    assert all_finite(a[:, ::3]) is False


def test_a_valid_float64_array_is_returned_as_it_is():
    X = np.random.default_rng(0).standard_normal((5, 3))
    assert as_array("X", X, 2, "(n, p)") is X


@pytest.mark.parametrize("b", [pytest.param(np.zeros(3), id="(q,)"), pytest.param(np.zeros((1, 3)), id="(1,q)")])
def test_a_valid_bias_is_returned_as_it_is(b):
    assert as_row_vector("b", b, 3, "q") is b


def test_finite_entries_whose_squares_overflow_pass():
    X = np.full((2, 2), BIG)
    assert as_array("X", X, 2, "(n, p)") is X


@pytest.mark.parametrize("bad", [pytest.param(np.nan, id="nan"), pytest.param(-np.inf, id="minus-inf")])
def test_a_bad_entry_still_names_the_argument_and_index(bad):
    X = np.zeros((300, 300))
    X[7, 11] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at index \(7, 11\)"):
        as_array("X", X, 2, "(n, p)")


@pytest.mark.parametrize("a", [
    pytest.param(np.zeros((2, 3), dtype=np.float32), id="float32"),
    pytest.param(np.zeros((2, 3), dtype=">f8"), id="big-endian-float64"),
    pytest.param(np.zeros((2, 3), dtype=int), id="int"),
    pytest.param([[0.0, 0.0, 0.0]] * 2, id="list"),
])
def test_other_inputs_take_the_full_path_to_native_float64(a):
    out = as_array("X", a, 2, "(n, p)")
    assert out.dtype == np.float64 and out.dtype.isnative and out.shape == (2, 3)


def test_a_masked_array_is_not_taken_for_a_plain_one():
    with pytest.raises(TypeError, match="masked array"):
        as_array("X", np.ma.masked_array(np.zeros((2, 3))), 2, "(n, p)")


def test_the_wrong_rank_is_still_an_error():
    with pytest.raises(ValueError, match="must be 2-D"):
        as_array("X", np.zeros(3), 2, "(n, p)")


def test_affine_without_overflow_is_the_product_plus_the_bias():
    rng = np.random.default_rng(0)
    A, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    assert np.array_equal(affine("A", A, "W", W, "b", b), A @ W + b)


def test_affine_with_entries_whose_squares_overflow_is_not_an_overflow():
    A, W, b = np.full((2, 1), BIG), np.ones((1, 2)), np.zeros(2)
    assert np.array_equal(affine("A", A, "W", W, "b", b), np.full((2, 2), BIG))


@pytest.mark.parametrize("saturates", [pytest.param(True, id="saturates"), pytest.param(False, id="no-saturation")])
def test_product_with_entries_whose_squares_overflow_is_not_an_overflow(saturates):
    A, W = np.full((2, 1), BIG), np.ones((1, 2))
    assert np.array_equal(product("A", A, "W", W, saturates=saturates), np.full((2, 2), BIG))


def test_a_saturating_product_keeps_an_entry_that_overflowed():
    A, W = np.array([[1e200, -1e200]]), np.array([[1e200], [0.0]])
    with np.errstate(over="ignore"):
        assert product("A", A, "W", W, saturates=True).tolist() == [[np.inf]]


@pytest.mark.parametrize("saturates", [pytest.param(True, id="saturates"), pytest.param(False, id="no-saturation")])
def test_a_product_whose_terms_overflow_but_cancel_is_exact(saturates):
    # 1e200 * 1e200 - 1e200 * 1e200 is 0; BLAS returns NaN, or inf with a fused multiply-add
    A, W = np.array([[1e200, -1e200]]), np.array([[1e200], [1e200]])
    with np.errstate(over="ignore", invalid="ignore"):
        assert product("A", A, "W", W, saturates=saturates).tolist() == [[0.0]]


def test_a_product_that_truly_overflows_names_both_inputs():
    A, W = np.array([[1e200, 1e200]]), np.array([[1e200], [1e200]])
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError, match=r"A @ W overflows float64 at entry \(0, 0\)"):
        product("A", A, "W", W, saturates=False)
