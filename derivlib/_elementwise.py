"""Element-wise work on every core, one cache-sized block of rows at a time.

numpy's matrix products use every core, but its element-wise operations use one, and
each operation of an expression such as ``G * S * (1 - S)`` is a separate pass over
memory with a fresh temporary the size of the whole array. :func:`elementwise`
evaluates such an expression (a *kernel*: a plain numpy function of arrays) on blocks of
rows small enough for the cache, spreads the blocks over a pool of threads (numpy
releases the GIL inside its loops) and writes each block's result into one output.
Arrays below :data:`SMALL` entries skip all of it: the kernel runs once, directly.

This is the one piece of machinery behind the backward passes; the formulas stay in
the kernels, where they read like the math.
"""

from __future__ import annotations

import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["elementwise", "blocks", "threads", "BLOCK", "SMALL"]

#: Entries of the first array that a kernel sees at once: 2**13 float64 are 64 KiB. A
#: kernel's temporaries then stay in the cache and below the size (128 KiB) from which the
#: C library maps fresh pages for each one and returns them on free: with 2**14 entries a
#: kernel ran 3.5 times slower. Smaller blocks would cost more in hand-overs between threads.
BLOCK = 2**13
#: Arrays with fewer entries than this are not split: the kernel runs once, in the caller's thread.
SMALL = 2**15

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_lock = threading.Lock()
_pool = None
_pool_size = 0


def threads() -> int:
    """Threads for element-wise work: the CPUs this process may run on, capped by
    ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` or ``MKL_NUM_THREADS`` when one is set
    (the limits numpy's BLAS honours), so one setting limits both."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS, Windows)
        count = os.cpu_count() or 1
    for var in _THREAD_VARS:
        value = os.environ.get(var, "")
        if value.strip().isdigit() and int(value) > 0:
            count = min(count, int(value))
    return max(1, count)


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)  # its threads finish what they run, then exit
            _pool, _pool_size = ThreadPoolExecutor(workers, thread_name_prefix="derivlib"), workers
        return _pool


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def elementwise(kernel, *arrays, out=None):
    """``kernel(*arrays)``, evaluated one block of rows at a time, the blocks spread over
    :func:`threads` threads, into ``out``.

    Parameters
    ----------
    kernel : callable
        Element-wise in the rows: row ``i`` of its result depends only on row ``i`` of
        the arrays that are split. Its result has the shape of ``arrays[0]``.
    *arrays : ndarray
        The first sets the rows. Each other array with as many dimensions and rows is
        split alike (a column of row sums too); any other (a bias row) is passed whole
        to every block.
    out : ndarray, optional
        Where the result goes; may be one of ``arrays`` (each block is read before it
        is written). By default a new float64 array of ``arrays[0]``'s shape.

    Returns
    -------
    ndarray
        ``out``, or the kernel's own result for a small array.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib._elementwise import elementwise
    >>> S = np.random.default_rng(0).random((300, 400))
    >>> np.array_equal(elementwise(lambda S: S * (1 - S), S), S * (1 - S))
    True
    """
    first = arrays[0]
    if first.size < SMALL:
        result = kernel(*arrays)
        if out is None:
            return result
        out[...] = result
        return out
    if out is None:
        out = np.empty(first.shape)

    def write(i, j, *block):
        out[i:j] = kernel(*block)

    _spread(write, arrays)
    return out


def blocks(func, *arrays) -> list:
    """``func`` of each block of rows, split and spread as in :func:`elementwise`: the
    list of its results in the order of the rows (one result for a small array).

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib._elementwise import blocks
    >>> A = np.arange(300_000.0).reshape(3000, 100)
    >>> all(blocks(lambda a: bool(np.isfinite(a).all()), A))
    True
    """
    if arrays[0].size < SMALL:
        return [func(*arrays)]
    results = {}

    def keep(i, j, *block):
        results[i] = func(*block)

    _spread(keep, arrays)
    return [results[i] for i in sorted(results)]


def _spread(task, arrays) -> None:
    """``task(i, j, *blocks)`` for each block of rows ``i:j``; the calling thread takes
    the first share of the blocks, the pool's threads the others."""
    first = arrays[0]
    n = first.shape[0]
    rows = max(1, BLOCK * n // first.size)  # rows per block
    split = [a.ndim == first.ndim and a.shape[0] == n for a in arrays]

    def run(lo, hi):
        for i in range(lo, hi, rows):
            j = min(i + rows, hi)
            task(i, j, *(a[i:j] if s else a for a, s in zip(arrays, split)))

    count = -(-n // rows)
    workers = min(threads(), count)
    bounds = [rows * (count * t // workers) for t in range(workers)] + [n]
    if workers == 1:
        run(0, n)
        return
    # each task runs in a copy of the caller's context, so np.errstate applies there too
    pool = _executor(workers)
    tasks = [pool.submit(contextvars.copy_context().run, run, bounds[t], bounds[t + 1]) for t in range(1, workers)]
    try:
        run(bounds[0], bounds[1])
    finally:
        errors = [t.exception() for t in tasks]  # waits for every task before anything is raised
    for error in errors:
        if error is not None:
            raise error
