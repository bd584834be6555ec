"""The element-wise kernel of the sigmoid layer's backward right after a matrix product,
on one thread and on every core, in two child processes: one with the environment the
benchmark was started with, one with ``OPENBLAS_THREAD_TIMEOUT=4``. OpenBLAS reads that
variable when numpy loads it; it shortens the time its worker threads keep spinning on
the other cores after a product, waiting for the next one (a busy core for derivlib's
element-wise threads).

    .venv/bin/python benchmarks/blas_spin.py          # prints the JSON of both runs
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT_VAR = "OPENBLAS_THREAD_TIMEOUT"


def _measure(rounds: int) -> dict:
    """In this process: min over rounds of the kernel's time right after a product."""
    import time

    import numpy as np

    from derivlib import _elementwise
    from derivlib.sigmoid_layer import _delta

    rng = np.random.default_rng(0)
    n, q = 4096, 1024
    X, W = rng.standard_normal((n, q)), rng.standard_normal((q, q)) / np.sqrt(q)
    G, b = rng.standard_normal((n, q)), np.zeros(q)
    every_core = _elementwise.threads()
    out = {"elementwise_threads": every_core, TIMEOUT_VAR: os.environ.get(TIMEOUT_VAR)}
    for label, count in (("one thread", 1), ("every core", every_core)):
        _elementwise.threads = lambda count=count: count
        times = []
        for _ in range(rounds + 1):
            XW = X @ W
            start = time.perf_counter()
            _elementwise.elementwise(_delta, G, XW, b, out=XW)
            times.append(time.perf_counter() - start)
        out[label] = min(times[1:])
    return out


def run(rounds: int, env: dict) -> dict:
    """Both child processes; each prints its measurement as JSON."""
    results = {}
    for name, extra in (("default", {}), ("short spin", {TIMEOUT_VAR: "4"})):
        child_env = {k: v for k, v in env.items() if k != TIMEOUT_VAR} | extra
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(rounds)],
                              env=child_env, cwd=HERE.parent, capture_output=True, text=True, check=True)
        results[name] = json.loads(done.stdout)
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_measure(int(sys.argv[2]))))
    else:
        print(json.dumps(run(9, dict(os.environ)), indent=1))
