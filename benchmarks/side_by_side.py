"""Sections 1 and 2: derivlib's backward against the bare matrix products it needs
(the limit), against the same formulas in bare numpy without input checks, and against
PyTorch, HIPS autograd and JAX, all in the same rounds.

Every target of the performance work is judged here, on ratios measured side by side:
see TARGETS and ``targets``."""

from __future__ import annotations

import statistics
import traceback

import problems
from _timing import interleaved
from engines import ENGINES, same_gradients

# (label, shape, rounds, calls per sample); rounds are halved with --quick
SIGMOID_CASES = [
    ("source 000 example (n=4, p=3, q=2)", {"n": 4, "p": 3, "q": 2}, 15, 200),
    ("n=4096, width 256", {"n": 4096, "p": 256, "q": 256}, 15, 1),
    ("n=4096, width 1024", {"n": 4096, "p": 1024, "q": 1024}, 7, 1),
    ("n=4096, width 2048", {"n": 4096, "p": 2048, "q": 2048}, 3, 1),
]
TWO_LAYER_CASES = [
    ("source 002 example (n=1, d=5, h=3, k=5)", {"n": 1, "d": 5, "h": 3, "k": 5}, 15, 200),
    ("n=4096, width 256, k=10", {"n": 4096, "d": 256, "h": 256, "k": 10}, 15, 1),
    ("n=4096, width 1024, k=10", {"n": 4096, "d": 1024, "h": 1024, "k": 10}, 7, 1),
    ("n=4096, width 2048, k=10", {"n": 4096, "d": 2048, "h": 2048, "k": 10}, 3, 1),
]
SOURCE_SIZES = {"sigmoid": SIGMOID_CASES[0][0], "two_layer": TWO_LAYER_CASES[0][0]}
# derivlib / its matrix products, at most
TARGETS = {("sigmoid", "n=4096, width 1024"): 1.10, ("two_layer", "n=4096, width 1024, k=10"): 1.20}
NUMPY_TARGET = 1.5  # derivlib / the bare numpy formula at the sources' sizes, at most
ENGINE_TARGET_WIDTHS = ("width 256", "width 1024", "width 2048")  # engine / derivlib >= 1 there
ENGINES_WITH_TARGETS = ("torch", "jax")


def _ratios(a, b) -> dict:
    """a / b for each statistic: min and median of wall-clock and of CPU time, and the
    median over rounds of a's time over b's in the same round ("paired_median")."""
    out = {k: a[k] / b[k] for k in ("min", "median", "cpu_min", "cpu_median")}
    out["paired_median"] = statistics.median(x / y for x, y in zip(a["wall"], b["wall"]))
    return out


def _case(problem, label, shape, rounds, number, engines, log):
    if problem == "sigmoid":
        data = problems.sigmoid_data(**shape)
        contenders = {"derivlib": problems.sigmoid_derivlib(data), "bare products": problems.sigmoid_bare(data),
                      "numpy formula": problems.sigmoid_numpy(data)}
    else:
        data = problems.two_layer_data(**shape)
        contenders = {"derivlib": problems.two_layer_derivlib(data), "bare products": problems.two_layer_bare(data),
                      "numpy formula": problems.two_layer_numpy(data)}
    reference = contenders["derivlib"]()  # every contender runs once before timing (JAX compiles here)
    contenders["bare products"]()
    if not same_gradients(reference, contenders["numpy formula"]()):
        raise AssertionError(f"the bare numpy formula disagrees with derivlib at {label}")
    status = {}
    for name in engines:
        try:
            run = ENGINES[name][problem](data)
            ok = same_gradients(reference, run())
        except Exception as exc:  # an engine that fails is reported, the rest go on
            status[name] = f"failed: {type(exc).__name__}: {exc}"
            log(f"    {name}: {status[name]}")
            log(traceback.format_exc(limit=2))
            continue
        if not ok:
            status[name] = "gradients differ from derivlib's: not timed"
            log(f"    {name}: {status[name]}")
            continue
        status[name] = "gradients match derivlib (np.allclose)"
        contenders[name] = run
    times = interleaved(contenders, rounds=rounds, number=number, warmup=0)
    mine = times["derivlib"]
    row = {
        "problem": problem,
        "label": label,
        "shape": shape,
        "rounds": rounds,
        "calls_per_sample": number,
        "seconds": times,
        "derivlib_over_bare": _ratios(mine, times["bare products"]),
        "derivlib_over_numpy": _ratios(mine, times["numpy formula"]),
        "engine_over_derivlib": {name: _ratios(times[name], mine) for name in engines if name in times},
        "engine_status": status,
        # CPU time over wall-clock time: about the number of cores a contender kept busy
        "cpu_over_wall": {name: t["cpu_min"] / t["min"] for name, t in times.items()},
        "target_derivlib_over_bare": TARGETS.get((problem, label)),
    }
    return row


def targets(rows) -> list:
    """Each target, its measured ratio (min of rounds; paired median beside it) and whether it is met."""
    out = []

    def add(what, row, ratio, limit, at_most):
        value = ratio["min"]
        out.append({"target": what, "problem": row["problem"], "shape": row["label"], "limit": limit,
                    "at_most": at_most, "min": value, "paired_median": ratio["paired_median"],
                    "met": value <= limit if at_most else value >= limit})

    for r in rows:
        if r["target_derivlib_over_bare"]:
            add("derivlib / its matrix products", r, r["derivlib_over_bare"], r["target_derivlib_over_bare"], True)
        if r["label"] == SOURCE_SIZES[r["problem"]]:
            add("derivlib / the bare numpy formula", r, r["derivlib_over_numpy"], NUMPY_TARGET, True)
        if any(w in r["label"] for w in ENGINE_TARGET_WIDTHS):
            for e in ENGINES_WITH_TARGETS:
                if e in r["engine_over_derivlib"]:
                    add(f"{e} / derivlib", r, r["engine_over_derivlib"][e], 1.0, False)
    return out


def run(engines, quick, log) -> list:
    rows = []
    for problem, cases in (("sigmoid", SIGMOID_CASES), ("two_layer", TWO_LAYER_CASES)):
        for label, shape, rounds, number in cases:
            if quick:
                rounds = max(2, rounds // 2)
            log(f"  {problem}: {label} ({rounds} rounds)")
            row = _case(problem, label, shape, rounds, number, engines, log)
            rows.append(row)
            log("    " + table_line(row))
    return rows


def table_line(row) -> str:
    s = row["seconds"]
    parts = [f"derivlib {s['derivlib']['min'] * 1e3:9.3f} ms", f"bare {s['bare products']['min'] * 1e3:9.3f} ms",
             f"derivlib/bare {row['derivlib_over_bare']['min']:.3f} (median {row['derivlib_over_bare']['median']:.3f}, "
             f"paired {row['derivlib_over_bare']['paired_median']:.3f}, CPU time {row['derivlib_over_bare']['cpu_min']:.3f})",
             f"derivlib/numpy {row['derivlib_over_numpy']['min']:.3f}"]
    for name, r in row["engine_over_derivlib"].items():
        parts.append(f"{name}/derivlib {r['min']:.2f}")
    return " | ".join(parts)


def elementwise_costs(quick, log) -> dict:
    """What the element-wise steps of a backward pass cost, next to one product, on an
    (n, q) = (4096, 1024) array: derivlib's blocked, threaded kernels against the same
    formulas as plain numpy expressions (one pass over memory per operation)."""
    import numpy as np

    from derivlib._elementwise import elementwise, threads
    from derivlib._validate import all_finite
    from derivlib.primitives import sigmoid
    from derivlib.sigmoid_layer import _delta

    rng = np.random.default_rng(0)
    n, q = 4096, 1024
    Z, G = 1.3 * rng.standard_normal((n, q)), rng.standard_normal((n, q))
    W = rng.standard_normal((q, q)) / np.sqrt(q)
    b = np.zeros(q)
    S = sigmoid(Z)
    assert np.array_equal(problems._stable_sigmoid(Z), S)  # the same formula, the same numbers

    def delta_numpy(G, Z):  # derivlib's formula for G o S o (1 - S), as plain numpy expressions
        return G * problems._stable_sigma_prime(Z + b)

    assert np.allclose(elementwise(_delta, G, Z, b), delta_numpy(G, Z), rtol=1e-15, atol=0)
    steps = {
        "one product Z @ W (n x q x q)": lambda: Z @ W,
        "sigmoid(Z): derivlib (blocks of rows, every core)": lambda: sigmoid(Z),
        "sigmoid(Z): the same formula in plain numpy": lambda: problems._stable_sigmoid(Z),
        "G o S o (1 - S): derivlib's kernel (blocks, every core)": lambda: elementwise(_delta, G, Z, b),
        "G o S o (1 - S): the same formula in plain numpy": lambda: delta_numpy(G, Z),
        "finiteness check of one input (derivlib's fast path)": lambda: all_finite(Z),
        "column sums S.sum(axis=0)": lambda: S.sum(axis=0),
    }
    times = interleaved(steps, rounds=5 if quick else 9)
    for name, t in times.items():
        log(f"    {name:56s} {t['min'] * 1e3:8.2f} ms")
    return {"shape": [n, q], "elementwise_threads": threads(),
            "seconds": {k: {s: v[s] for s in ("min", "median", "cpu_min")} for k, v in times.items()}}
