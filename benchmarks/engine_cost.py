"""Section: the derivation engine as users run it.

1. ``derive`` and then ``check`` (every adjoint against finite differences) for each network
   of the engine's gallery: best of a few runs, wall-clock.
2. The numpy code the engine generates for the sigmoid layer (``numpy_source()``, executed
   as written) against derivlib's hand-written ``sigmoid_layer.backward``, side by side in
   the same rounds, after checking that both give the same gradients. Target: the
   generated code takes at most 1.15 times the hand-written backward at n = 4096, width 1024.
"""

from __future__ import annotations

import time

import numpy as np

import problems
from _timing import interleaved

GENERATED_TARGET = 1.15
TARGET_SHAPE = "n=4096, width 1024"
SHAPES = [
    ("source 000 example (n=4, p=3, q=2)", (4, 3, 2), 15, 200),
    ("n=4096, width 256", (4096, 256, 256), 15, 1),
    (TARGET_SHAPE, (4096, 1024, 1024), 7, 1),
]


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gallery(quick, log) -> list:
    from derivlib.engine import derive
    from derivlib.playground.gallery import EXAMPLES

    repeat = 2 if quick else 5
    rows = []
    for key, e in EXAMPLES.items():
        d = derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices)
        d.check()  # raises if any adjoint is wrong: nothing unchecked is timed
        t_derive = _best(lambda: derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices), repeat)
        t_check = _best(d.check, repeat)
        rows.append({"network": key, "steps": len(d.steps), "derive_seconds": t_derive, "check_seconds": t_check})
        log(f"    {key:20s} {len(d.steps):3d} steps  derive {t_derive * 1e3:7.1f} ms  check {t_check * 1e3:7.1f} ms")
    return rows


def generated_code():
    """The engine's numpy code for the sigmoid layer, executed as written: its ``backward``."""
    from derivlib.engine import derive
    from derivlib.playground.gallery import EXAMPLES

    e = EXAMPLES["sigmoid_layer"]
    source = derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices).numpy_source()
    namespace = {}
    exec(compile(source, "<derivlib.engine numpy_source>", "exec"), namespace)  # noqa: S102 (our own generated code)
    return source, namespace["backward"]


def generated_vs_hand(quick, log) -> dict:
    from derivlib import sigmoid_layer

    source, generated = generated_code()
    rows = []
    for label, (n, p, q), rounds, number in SHAPES:
        data = problems.sigmoid_data(n, p, q)
        X, W, G = data["X"], data["W"], data["G"]
        b = data["b"].reshape(1, q)  # the engine's bias is a (1, q) row
        hand = sigmoid_layer.backward(X, W, b, G)
        gen = generated(X, W, b, G)
        if not all(np.allclose(x, y) for x, y in ((gen["X"], hand.dX), (gen["W"], hand.dW), (gen["b"], hand.db))):
            raise AssertionError(f"the generated code's gradients differ from the hand-written ones at {label}")
        times = interleaved({"generated": lambda: generated(X, W, b, G),
                             "hand-written": lambda: sigmoid_layer.backward(X, W, b, G)},
                            rounds=max(2, rounds // 2) if quick else rounds, number=number)
        ratio = times["generated"]["min"] / times["hand-written"]["min"]
        paired = float(np.median([g / h for g, h in zip(times["generated"]["wall"], times["hand-written"]["wall"])]))
        rows.append({"label": label, "shape": [n, p, q], "calls_per_sample": number,
                     "seconds": {k: {s: v[s] for s in ("min", "median", "cpu_min")} for k, v in times.items()},
                     "generated_over_hand": {"min": ratio, "paired_median": paired},
                     "target": GENERATED_TARGET if label == TARGET_SHAPE else None})
        log(f"    {label:40s} generated / hand-written {ratio:.3f} (paired {paired:.3f})")
    return {"source": source, "rows": rows}


def run(quick, log) -> dict:
    log("  derive + check, each gallery network")
    rows = gallery(quick, log)
    log("  generated numpy code vs the hand-written sigmoid-layer backward")
    return {"gallery": rows, "generated": generated_vs_hand(quick, log)}
