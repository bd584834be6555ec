"""Interleaved timing: every contender runs once per round, in a rotating order, so
noise from other processes on a shared machine hits them alike. Reported per
contender: the minimum over rounds (the least disturbed run; the headline number)
and the median."""

from __future__ import annotations

import statistics
import time


def interleaved(contenders: dict, rounds: int, number: int = 1, warmup: int = 1) -> dict:
    """Time each zero-argument callable; return {name: {"min": s, "median": s}} per call.

    ``number`` calls make one sample (for microsecond-scale calls); each round takes
    one sample of every contender.
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    samples = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            fn = contenders[name]
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: {"min": min(s), "median": statistics.median(s)} for name, s in samples.items()}


def once(fn) -> tuple:
    """Run ``fn`` once; return (seconds, its result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result
