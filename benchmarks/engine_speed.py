"""Time of derivlib.derive on every network of the engine's gallery: derive, render, check.

Usage: ``.venv/bin/python benchmarks/engine_speed.py [--repeat 5]``. Prints a table (the
best of ``--repeat`` runs, in milliseconds); no assertions (the tests assert the 1 s budget).
"""

from __future__ import annotations

import argparse
import time

from derivlib.engine import derive
from derivlib.engine.gallery import EXAMPLES


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"{'network':20} {'steps':>5} {'derive':>8} {'render':>8} {'check':>8} {'pure':>8} {'total':>8}  (ms)")
    for key, e in EXAMPLES.items():
        d = derive(e.expr, shapes=e.shapes, wrt=list(e.wrt))
        t_derive = best(lambda: derive(e.expr, shapes=e.shapes, wrt=list(e.wrt)), args.repeat)
        t_render = best(lambda: (d.text(), d.latex(), d.numpy_source()), args.repeat)
        t_check = best(d.check, args.repeat)
        t_pure = best(d.check_pure, args.repeat)
        print(f"{key:20} {len(d.steps):5} {t_derive:8.1f} {t_render:8.1f} {t_check:8.1f} {t_pure:8.1f} "
              f"{t_derive + t_check:8.1f}")


if __name__ == "__main__":
    main()
