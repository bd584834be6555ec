"""Interleaved timing: every contender runs once per round, in a rotating order, so
noise from other processes on a shared machine hits them alike.

For each contender both the wall-clock time and the process CPU time (all threads) of
each sample are kept; reported are the minimum over rounds (the least disturbed run,
the headline) and the median. Ratios can also be taken round by round (two contenders
timed one right after the other share the machine's load) and their median reported. With every engine pinned to one thread the two agree on
a quiet machine; on a busy one the CPU time leaves out the time the process spent
waiting for a core.
"""

from __future__ import annotations

import statistics
import time


def interleaved(contenders: dict, rounds: int, number: int = 1, warmup: int = 1) -> dict:
    """Time each zero-argument callable; return, per name, seconds per call:
    {"min", "median"} of wall-clock time, {"cpu_min", "cpu_median"} of CPU time, and
    "wall", the wall-clock time of every round (for ratios paired round by round).

    ``number`` calls make one sample (for microsecond-scale calls); each round takes
    one sample of every contender.
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    wall = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            fn = contenders[name]
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(number):
                fn()
            w1, c1 = time.perf_counter(), time.process_time()
            wall[name].append((w1 - w0) / number)
            cpu[name].append((c1 - c0) / number)
    return {
        name: {"min": min(wall[name]), "median": statistics.median(wall[name]),
               "cpu_min": min(cpu[name]), "cpu_median": statistics.median(cpu[name]), "wall": wall[name]}
        for name in names
    }


def once(fn) -> tuple:
    """Run ``fn`` once; return (wall-clock seconds, its result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result
