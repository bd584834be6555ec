"""Element-wise work on every core, one cache-sized block of rows at a time.

numpy's matrix products use every core, but its element-wise operations use one, and
each operation of an expression such as ``G * S * (1 - S)`` is a separate pass over
memory with a fresh temporary the size of the whole array. :func:`elementwise`
evaluates such a formula (a *kernel*) on blocks of rows that stay in the cache, spreads
the blocks over a pool of threads (numpy releases the GIL inside its loops) and writes
each block's result into one output.

A kernel writes into the block of the output it is given, through numpy's ``out=``
arguments, and may use one scratch block of the same shape. The scratch is the thread's
own and is reused from call to call: a fresh temporary the size of a block (512 KiB)
would be mapped from the operating system and zeroed page by page at each operation
(glibc maps every allocation above 128 KiB), which cost more than the arithmetic. The
blocks are large so that the threads rarely wait for each other's hold of the GIL
between operations. Arrays below :data:`SMALL` entries are not split: the kernel runs
once, in the calling thread.

This is the one piece of machinery behind the backward passes; the formulas stay in
the kernels, one operation of the math per line.
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["elementwise", "blocks", "threads", "BLOCK", "SMALL"]

#: Entries a kernel sees at once: 2**16 float64 are 512 KiB, so that a block of the output
#: and the scratch block stay in a core's second-level cache (1 MiB here) while each
#: operation costs the threads one hand-over of the GIL per 2**16 entries, not per 2**13.
BLOCK = 2**16
#: Arrays with fewer entries than this are not split: the kernel runs once, in the caller's thread.
SMALL = BLOCK
_HEAP = 2**12  # entries (32 KiB) up to which a scratch array is allocated afresh

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
            # a larger pool replaces the old one, which is not shut down: another thread may
            # still be submitting to it; its threads exit once nothing refers to it any more
            _pool, _pool_size = ThreadPoolExecutor(workers, thread_name_prefix="derivlib"), workers
        return _pool


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def elementwise(kernel, *arrays, out=None):
    """``kernel(out, scratch, *arrays)``, evaluated one block of rows at a time, the blocks
    spread over :func:`threads` threads.

    Parameters
    ----------
    kernel : callable
        ``kernel(out, scratch, *blocks)`` writes its result into ``out`` (a block of the
        result, the shape of ``arrays[0]``'s block) with numpy's ``out=`` arguments, and may
        use ``scratch``, a block of the same shape whose contents are undefined. Row ``i``
        of the result may depend only on row ``i`` of the arrays that are split. A kernel
        must not call :func:`elementwise` itself (the scratch is the thread's own).
    *arrays : ndarray
        The first sets the rows. Each other array with as many dimensions and rows is
        split alike (a column of row sums too); any other (a bias row) is passed whole
        to every block.
    out : ndarray, optional
        Where the result goes; may be one of ``arrays`` if the kernel reads each entry of
        that array before it writes the same entry. By default a new float64 array of
        ``arrays[0]``'s shape.

    Returns
    -------
    ndarray
        ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> from derivlib._elementwise import elementwise
    >>> S = np.random.default_rng(0).random((300, 400))
    >>> def sigma_prime(out, scratch, S):  # S o (1 - S)
    ...     return np.multiply(S, np.subtract(1.0, S, out=scratch), out=out)
    >>> np.array_equal(elementwise(sigma_prime, S), S * (1 - S))
    True
    """
    first = arrays[0]
    if out is None:
        out = np.empty(first.shape)
    if first.size < SMALL:
        kernel(out, _scratch(first.shape), *arrays)
        return out

    def write(i, j, *block):
        kernel(out[i:j], _scratch(block[0].shape), *block)

    _spread(write, arrays)
    return out


_local = threading.local()


def _scratch(shape) -> np.ndarray:
    """A block of ``shape`` from the calling thread's own buffer of :data:`BLOCK` entries,
    kept from call to call; a small one (the heap's, cheaper than the buffer) or a larger
    one (a row longer than the buffer) gets an array of its own."""
    size = math.prod(shape)
    if size <= _HEAP or size > BLOCK:
        return np.empty(shape)
    buffer = getattr(_local, "buffer", None)
    if buffer is None:
        buffer = _local.buffer = np.empty(BLOCK)
    return buffer[:size].reshape(shape)


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
