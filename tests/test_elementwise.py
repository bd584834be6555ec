"""Tests of derivlib._elementwise: the same numbers as the formula on the whole array,
whatever the blocks and threads, a scratch block of each thread's own, and the caller's
numpy error state in every thread.

Expected values are the formula written as a plain numpy expression on the whole array:
element-wise operations give bit-identical results block by block and into ``out=``
buffers, so equality is exact.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from derivlib import _elementwise
from derivlib._elementwise import BLOCK, SMALL, blocks, elementwise, threads


def sigma_prime(out, e, S):  # S o (1 - S)
    return np.multiply(S, np.subtract(1.0, S, out=e), out=out)


def delta(out, e, G, S):  # G o S o (1 - S), into out, which may be G
    np.multiply(S, np.subtract(1.0, S, out=e), out=e)
    return np.multiply(G, e, out=out)


def plus(out, e, Z, b):
    return np.add(Z, b, out=out)


def times(out, e, Y, s):
    return np.multiply(Y, s, out=out)


def copy(out, e, S):
    out[...] = S
    return out


@pytest.fixture
def two_threads(monkeypatch):
    """Two threads whatever the machine, so that work is really split."""
    monkeypatch.setattr(_elementwise, "threads", lambda: 2)


def data(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


SHAPES = [
    pytest.param((4, 3), id="small-4x3"),
    pytest.param((SMALL - 1,), id="small-1d-just-below"),
    pytest.param((4096, 256), id="4096x256"),
    pytest.param((999, 301), id="rows-not-a-multiple-of-the-block"),
    pytest.param((3, BLOCK * 5 + 7), id="rows-longer-than-a-block"),
    pytest.param((SMALL * 3 + 1,), id="1d"),
    pytest.param((70, 40, 30), id="3d"),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_same_numbers_as_the_kernel_on_the_whole_array(two_threads, shape):
    S = data(shape)
    assert np.array_equal(elementwise(sigma_prime, S), S * (1 - S))


@pytest.mark.parametrize("shape", SHAPES)
def test_two_arrays_are_split_alike(two_threads, shape):
    G, S = data(shape, 1), data(shape, 2)
    assert np.array_equal(elementwise(delta, G, S), G * (S * (1 - S)))


@pytest.mark.parametrize("bias_shape", [pytest.param((256,), id="bias-(q,)"), pytest.param((1, 256), id="bias-(1,q)")])
def test_a_bias_row_is_passed_whole_to_every_block(two_threads, bias_shape):
    Z, b = data((4096, 256)), data(bias_shape, 3)
    assert np.array_equal(elementwise(plus, Z, b), Z + b)


def test_a_column_with_one_entry_per_row_is_split(two_threads):
    Y, s = data((4096, 64)), data((4096, 1), 4)
    assert np.array_equal(elementwise(times, Y, s), Y * s)


@pytest.mark.parametrize("shape", [pytest.param((4, 3), id="small"), pytest.param((4096, 256), id="large")])
def test_out_may_be_an_input(two_threads, shape):
    D, H = data(shape, 5), data(shape, 6)
    expected = D * (H * (1 - H))
    result = elementwise(delta, D, H, out=D)
    assert result is D
    assert np.array_equal(D, expected)


def test_a_small_array_runs_once_in_the_calling_thread(two_threads):
    calls = []
    elementwise(lambda out, e, S: calls.append(threading.get_ident()), data((SMALL - 1,)))
    assert calls == [threading.get_ident()]


def test_a_large_array_is_spread_over_the_threads(two_threads):
    seen = set()

    def kernel(out, e, S):
        seen.add(threading.get_ident())

    elementwise(kernel, data((4096, 256)))
    assert len(seen) == 2


def test_one_thread_runs_every_block_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(_elementwise, "threads", lambda: 1)
    seen = set()

    def kernel(out, e, S):
        seen.add(threading.get_ident())

    elementwise(kernel, data((4096, 256)))
    assert seen == {threading.get_ident()}


def test_blocks_are_cache_sized(two_threads):
    sizes = []
    elementwise(lambda out, e, S: sizes.append(S.size), data((4096, 256)))
    assert max(sizes) <= BLOCK


def test_the_callers_error_state_applies_in_every_thread(two_threads):
    Z = np.ones((4096, 256))
    Z[-1, -1] = 1e300  # in the last block: the other thread's share
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        elementwise(lambda out, e, Z: np.multiply(Z, Z, out=out), Z)


def test_a_kernel_error_in_another_thread_is_raised_here(two_threads):
    def kernel(out, e, S):
        if S[-1, 0] == -1.0:
            raise ArithmeticError("last block")

    S = data((4096, 256))
    S[-1, 0] = -1.0
    with pytest.raises(ArithmeticError, match="last block"):
        elementwise(kernel, S)


def test_a_pool_forgotten_after_fork_is_made_again(two_threads):
    _elementwise._forget_pool()
    S = data((4096, 256))
    assert np.array_equal(elementwise(sigma_prime, S), S * (1 - S))


@pytest.mark.parametrize("var", ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"])
def test_threads_honour_the_blas_thread_limit(monkeypatch, var):
    monkeypatch.setenv(var, "1")
    assert threads() == 1


@pytest.mark.parametrize("value", ["", "0", "many"])
def test_threads_ignore_a_limit_that_is_not_a_positive_number(monkeypatch, value):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    unlimited = threads()
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert threads() == unlimited


def test_blocks_gives_one_result_per_block_in_the_order_of_the_rows(two_threads):
    A = np.repeat(np.arange(4096.0)[:, None], 256, axis=1)  # row i holds i
    firsts = blocks(lambda a: a[0, 0], A)
    rows = BLOCK // 256
    assert firsts == [float(i) for i in range(0, 4096, rows)]


def test_blocks_of_a_small_array_is_one_call_on_the_whole(two_threads):
    A = data((4, 3))
    assert blocks(lambda a: a.shape, A) == [(4, 3)]


def test_the_scratch_is_the_shape_of_the_block_and_kept_from_call_to_call(two_threads):
    seen = []

    def kernel(out, e, S):
        assert e.shape == S.shape
        seen.append((threading.get_ident(), e.base if e.base is not None else e))
        return copy(out, e, S)

    S = data((4096, 256))
    elementwise(kernel, S)
    first = dict(seen)
    seen.clear()
    elementwise(kernel, S)
    assert all(first[t] is buffer for t, buffer in seen)  # no new buffer: nothing allocated per block


def test_each_thread_has_its_own_scratch(two_threads):
    buffers = {}

    def kernel(out, e, S):
        buffers.setdefault(threading.get_ident(), set()).add(id(e.base))
        return copy(out, e, S)

    elementwise(kernel, data((4096, 256)))
    first, second = buffers.values()
    assert first.isdisjoint(second)


@pytest.mark.parametrize("shape", [pytest.param((), id="0-d"), pytest.param((0, 5), id="empty"),
                                   pytest.param((2, BLOCK + 1), id="a-row-longer-than-the-scratch")])
def test_the_scratch_fits_any_shape(two_threads, shape):
    S = data(shape)
    assert np.array_equal(elementwise(sigma_prime, S), S * (1 - S))
