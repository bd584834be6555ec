"""derivlib benchmarks: ``make bench`` (or ``.venv/bin/python benchmarks/run.py``).

Sections (all by default; pick with ``--sections``):

side       backward vs the bare matrix products (the limit), vs the same formulas in bare
           numpy without input checks, and vs PyTorch / HIPS autograd / JAX, timed in the
           same interleaved rounds (min of rounds is the headline, median also stored), with
           every contender's default threading on all the cores: how users run it;
side1      the same on one core, in a child process confined to one CPU (the second table);
engine     derive + check per gallery network; the engine's generated numpy code vs the
           hand-written sigmoid-layer backward;
gradcheck  directional vs full finite-difference gradient checks, 10^2..10^6 parameters;
jacobian   the explicit 4-D Jacobian route vs backward, time and memory;
layers     the layer pack: the engine's generated numpy backward of a convolution, an LSTM
           cell and batch norm vs PyTorch's own layers (forward + backward), same rounds;
docs       docs build cost in a scratch copy: cold, no-op, one page edited, derivlib edited.

Writes <section>.json and PNG plots to _build/benchmarks/ and prints a table. A full run
(every section) also publishes them to docs/_generated/benchmarks/ for the performance page
(``--no-publish`` to skip, ``--publish`` to force it for a partial run).

``--cores all`` (the default) changes no thread setting: numpy's BLAS, derivlib's
element-wise kernels, PyTorch and XLA each use their default, every core; the threads each
one used are recorded. ``--cores 1`` confines the process to one CPU before numpy is
imported (sched_setaffinity: threads inherit it, so no engine can use more whatever its own
settings) and sets OMP/OPENBLAS/MKL_NUM_THREADS, XLA_FLAGS and torch.set_num_threads to 1.
The docs builds run with the environment the command was started with.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, when set, make numpy's OpenBLAS run an older
kernel than the CPU supports; ``make bench`` unsets both for this command alone, and the
kernel numpy's BLAS ran is recorded (threadpoolctl's ``architecture``).
"""

from __future__ import annotations

import os
import sys


def _early_cores(argv):
    """The --cores value, read before numpy is imported: None for all the cores."""
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--cores" and i + 1 < len(argv) else (
            arg.split("=", 1)[1] if arg.startswith("--cores=") else None)
        if value is not None:
            return None if value == "all" else int(value)
    return None


CORES = _early_cores(sys.argv[1:])
ORIGINAL_ENV = dict(os.environ)  # the docs builds and the one-core child start from this
ORIGINAL_CPUS = sorted(os.sched_getaffinity(0))
if CORES is not None:
    # Confine the process to CORES CPUs before any library starts a thread pool: threads
    # inherit it, so no engine can use more cores than another whatever its own settings
    # (XLA, for one, does not honour the flags below in every version).
    os.sched_setaffinity(0, ORIGINAL_CPUS[:CORES])
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(CORES)
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_cpu_multi_thread_eigen={'false' if CORES == 1 else 'true'}"
        + f" intra_op_parallelism_threads={CORES}"
    ).strip()

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402, F401  (imported after the thread variables are set)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
import plots  # noqa: E402

SECTIONS = ("side", "side1", "engine", "gradcheck", "jacobian", "layers", "docs")
SIDE_NAME = "side_by_side" if CORES is None else f"side_by_side_{CORES}core"  # the results file of "side"
PUBLISH_DIR = ROOT / "docs" / "_generated" / "benchmarks"  # the generated folder pages read
START = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f} s] {msg}", flush=True)


def _engines_setup(names) -> dict:
    import engines

    info = {"versions": engines.versions()}
    for name in names:
        try:
            if name == "torch":
                info["torch"] = engines.torch_setup(CORES)
            elif name == "jax":
                info["jax"] = engines.jax_setup(CORES)
        except Exception as exc:
            info[name] = f"setup failed: {type(exc).__name__}: {exc}"
            log(f"  {name} setup failed: {exc}")
    return info


def _write(out: Path, name: str, payload: dict) -> Path:
    path = out / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    log(f"  wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def _table(results: dict) -> str:
    lines = []
    if "side" in results:
        rows = results["side"]["rows"]
        engines = sorted({e for r in rows for e in r["engine_over_derivlib"]})
        head = f"{'problem':10s} {'case':42s} {'derivlib ms':>12s} {'bare ms':>10s} {'d/bare':>7s} {'target':>6s} {'d/numpy':>7s}"
        head += "".join(f" {e + '/d':>11s}" for e in engines)
        lines += ["Backward vs the bare products and the engines (min of rounds; ratios > 1 mean slower)", head]
        for r in rows:
            t = r["target_derivlib_over_bare"]
            line = (f"{r['problem']:10s} {r['label']:42s} {r['seconds']['derivlib']['min'] * 1e3:12.3f} "
                    f"{r['seconds']['bare products']['min'] * 1e3:10.3f} {r['derivlib_over_bare']['min']:7.3f} "
                    f"{(f'{t:.2f}' if t else ''):>6s} {r['derivlib_over_numpy']['min']:7.3f}")
            line += "".join(f" {r['engine_over_derivlib'][e]['min']:11.2f}" if e in r["engine_over_derivlib"]
                            else f" {'-':>11s}" for e in engines)
            lines.append(line)
    if "side" in results:
        lines += ["", "Targets (min of rounds)"]
        for t in results["side"]["targets"]:
            lines.append(f"  {t['problem']:10s} {t['shape']:42s} {t['target']:36s} {t['min']:6.3f} "
                         f"{'<=' if t['at_most'] else '>='} {t['limit']:.2f}: {'met' if t['met'] else 'NOT met'}")
    if "engine" in results:
        lines += ["", "Engine: derive + check (ms)"]
        for r in results["engine"]["gallery"]:
            lines.append(f"  {r['network']:20s} {r['derive_seconds'] * 1e3:8.1f} {r['check_seconds'] * 1e3:8.1f}")
        for r in results["engine"]["generated"]["rows"]:
            lines.append(f"  generated / hand-written at {r['label']}: {r['generated_over_hand']['min']:.3f}"
                         + (f" (target <= {r['target']})" if r["target"] else ""))
    if "gradcheck" in results:
        lines += ["", "Gradient check of W (evaluations of f; seconds)",
                  f"{'W.size':>8s} {'directional':>12s} {'dir s':>8s} {'full':>10s} {'full s':>8s}"]
        for r in results["gradcheck"]["rows"]:
            full = r["full"]
            lines.append(f"{r['parameters']:8d} {r['directional']['evaluations']:12d} {r['directional']['seconds']:8.3f} "
                         f"{full['evaluations']:10d} " + (f"{full['seconds']:8.2f}" if full["measured"] else "computed"))
    if "jacobian" in results:
        lines += ["", "Jacobian route vs backward (n = p = q)",
                  f"{'n':>5s} {'J bytes':>12s} {'jac ms':>10s} {'bwd ms':>9s} {'time x':>8s} {'peak x':>8s}"]
        for r in results["jacobian"]["rows"]:
            if r["measured"]:
                lines.append(f"{r['n']:5d} {r['jacobian_bytes']:12.3g} {r['seconds_jacobian'] * 1e3:10.2f} "
                             f"{r['seconds_backward'] * 1e3:9.3f} {r['seconds_jacobian'] / r['seconds_backward']:8.1f} "
                             f"{r['peak_bytes_jacobian'] / max(1, r['peak_bytes_backward']):8.1f}")
            else:
                lines.append(f"{r['n']:5d} {r['jacobian_bytes']:12.3g}  (computed, not allocated)")
    if "layers" in results:
        lines += ["", "Layers: generated numpy backward vs torch's layer, forward + backward (min of rounds)"]
        for r in results["layers"]["rows"]:
            if "skipped" in r:
                lines.append(f"  {r['layer']:12s} {r['label']:42s} {r['skipped']}")
                continue
            lines.append(f"  {r['layer']:12s} {r['label']:42s} {r['seconds']['derivlib']['min'] * 1e3:9.3f} ms "
                         f"{r['seconds']['torch']['min'] * 1e3:9.3f} ms  {r['derivlib_over_torch']['min']:5.2f} "
                         f"<= {r['target']:.2f}: {'met' if r['met'] else 'NOT met'}")
    if "docs" in results:
        lines += ["", "Docs build (scratch copy)"]
        for step, r in results["docs"]["steps"].items():
            lines.append(f"{step:14s} {r['seconds']:7.1f} s exit {r['returncode']} executed {r['executed_count']}: "
                         f"{', '.join(r['executed_pages']) or '-'}")
    return "\n".join(lines)


def publish(out: Path) -> None:
    # docs/_generated/ is part of the docs' execution cache key (conf/derivlib_sphinx.py):
    # refreshed results re-execute the pages; no page is edited.
    PUBLISH_DIR.mkdir(parents=True, exist_ok=True)
    for path in sorted(out.glob("*.json")) + sorted(out.glob("*.png")):
        shutil.copy2(path, PUBLISH_DIR / path.name)
    log(f"  published to {PUBLISH_DIR.relative_to(ROOT)}")


def _one_core_child(args, out: Path) -> None:
    """The side section again in a child process confined to one CPU (set before its imports)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--cores", "1", "--sections", "side",
           "--engines", args.engines, "--out", str(out), "--no-publish"] + (["--quick"] if args.quick else [])
    log("  one core: " + " ".join(cmd[1:]))
    done = subprocess.run(cmd, env=ORIGINAL_ENV, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the one-core run failed (exit {done.returncode})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    ap.add_argument("--engines", default="torch,autograd,jax", help="engines to compare ('' for none)")
    ap.add_argument("--cores", default="all", help="'all' (every engine's default threads) or a number of CPUs to confine to")
    ap.add_argument("--quick", action="store_true", help="fewer rounds and sizes, for a smoke test")
    ap.add_argument("--out", default=str(ROOT / "_build" / "benchmarks"))
    ap.add_argument("--publish", dest="publish", action="store_true", default=None,
                    help="copy results to docs/_generated/benchmarks (default: only when every section ran)")
    ap.add_argument("--no-publish", dest="publish", action="store_false")
    args = ap.parse_args(argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    engine_names = [e for e in args.engines.split(",") if e]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    log(f"cores: {'all (' + str(len(ORIGINAL_CPUS)) + ')' if CORES is None else CORES}; "
        + ", ".join(f"{k}={os.environ.get(k)}" for k in machine.THREAD_VARS))
    engine_info = _engines_setup(engine_names if "side" in sections else ["torch"] if "layers" in sections else [])
    desc = machine.describe(CORES, engine_info)
    log(f"derivlib from {desc['derivlib']}")
    log(f"machine: {desc['cpu']}, {desc['logical_cpus']} logical CPUs, numpy {desc['numpy']}, "
        f"BLAS {desc['numpy_blas'].get('name')} {desc['numpy_blas'].get('version')}")
    for pool in desc["threadpools"]:
        log(f"  threadpool: {pool}")
    results = {}
    failed = []
    for section in sections:
        log(f"section {section}")
        t0 = time.perf_counter()
        try:
            if section == "side":
                import side_by_side

                payload = {"cores": CORES or "all", "rows": side_by_side.run(engine_names, args.quick, log)}
                payload["targets"] = side_by_side.targets(payload["rows"])
                log("  element-wise steps at (4096, 1024)")
                payload["elementwise"] = side_by_side.elementwise_costs(args.quick, log)
                if CORES is None:
                    import blas_spin

                    log("  the same kernel right after a product, with OpenBLAS's default spin and a short one")
                    payload["blas_spin"] = blas_spin.run(5 if args.quick else 9, ORIGINAL_ENV)
                    for name, r in payload["blas_spin"].items():
                        log(f"    {name:10s} one thread {r['one thread'] * 1e3:6.2f} ms, every core {r['every core'] * 1e3:6.2f} ms")
                    plots.limit(payload["rows"], out)
                    plots.engines(payload["rows"], out)
            elif section == "side1":
                _one_core_child(args, out)  # writes side_by_side_1core.json itself
                continue
            elif section == "engine":
                import engine_cost

                payload = engine_cost.run(args.quick, log)
            elif section == "gradcheck":
                import gradcheck_cost

                payload = gradcheck_cost.run(args.quick, log)
                plots.gradcheck(payload, out)
            elif section == "layers":
                import layers

                payload = layers.run(args.quick, log, CORES)
            elif section == "jacobian":
                import jacobian_cost

                payload = jacobian_cost.run(args.quick, log, desc["memory_gib"])
                plots.jacobian(payload, out)
            else:
                import docs_build

                payload = docs_build.run(ROOT, log, ORIGINAL_ENV, ORIGINAL_CPUS)
                plots.docs_build(payload, out)
        except Exception as exc:
            import traceback

            traceback.print_exc()
            log(f"section {section} FAILED: {type(exc).__name__}: {exc}")
            failed.append(section)
            continue
        payload = {"section": section, "seconds": time.perf_counter() - t0, "quick": args.quick,
                   "timing": "interleaved rounds; min of rounds is the headline, median stored too",
                   "machine": desc, **payload}
        results[section] = payload
        _write(out, {"side": SIDE_NAME, "docs": "docs_build"}.get(section, section), payload)
    print()
    print(_table(results))
    print()
    do_publish = args.publish if args.publish is not None else (set(sections) == set(SECTIONS) and not failed)
    if do_publish:
        publish(out)
    log(f"done in {time.perf_counter() - START:.0f} s" + (f"; FAILED sections: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
