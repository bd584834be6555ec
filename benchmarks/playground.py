"""Benchmark of the in-page playground (docs/playground.md), run by ``make bench``.

Needs the built site (``make docs``) and Debian's Chromium. Measures, in headless Chromium
with a fresh profile each round (an empty browser cache, as for a first visit), the site
served on 127.0.0.1:

- the first derivation: from the click on "Derive and check" to the derivation shown,
  Pyodide's download and start included (aim: under 5 s);
- the longest wait for the page's next animation frame while Python loads (from the
  click until Python is ready; Python runs in a Web Worker: the page should keep drawing,
  aim: under 0.2 s);
- a derivation after that, for each example network, and an answer check (aim: under 0.3 s);
- the bytes the playground adds to the site (Pyodide's files, the engine's zip, the page's
  script and style) and the bytes transferred for the first derivation.

Times are the page's own (``data-seconds``, click to result, measured with
``performance.now()``) and, for the first derivation, also the wall time seen by the
driver. Writes _build/benchmarks/playground/playground.json and prints a table.

    .venv/bin/python benchmarks/playground.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from verification.site import CHROMIUM, CHROMIUM_ARGS, FRAMES, LONGEST_WAIT, serve

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "benchmarks" / "playground"
AIM_FIRST, AIM_NEXT, AIM_FRAME = 5.0, 0.3, 0.2


def added_bytes(site: Path) -> dict:
    """Bytes of each part the playground adds to the built site."""
    parts = {
        "pyodide": sorted((site / "_static" / "pyodide").iterdir()),
        "engine zip": [site / "_static" / "playground" / "derivlib-py.zip"],
        "page script, worker and style": [site / "_static" / name
                                          for name in ("playground.js", "playground-worker.js", "playground.css")],
        "page": [site / "playground.html"],
    }
    out = {name: sum(p.stat().st_size for p in paths) for name, paths in parts.items()}
    out["files"] = {p.relative_to(site).as_posix(): p.stat().st_size for paths in parts.values() for p in paths}
    return out


def _round(pw, base: str) -> dict:
    profile = tempfile.mkdtemp(prefix="derivlib-bench-")
    try:
        context = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True,
                                                        args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(120_000)
        sizes = {}
        page = context.new_page()
        page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body()) if r.ok else 0))
        page.goto(base + "playground.html", wait_until="load")
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
        page.evaluate(FRAMES)
        page.wait_for_function("() => window.pgFrames.length > 2")
        before = set(sizes)
        t0 = time.perf_counter()
        page.click("#derive-run")
        page.wait_for_selector("#derive-output[data-state]")
        wall = time.perf_counter() - t0
        frame_wait = page.evaluate(LONGEST_WAIT)
        assert page.get_attribute("#derive-output", "data-state") == "done"
        first = float(page.get_attribute("#derive-output", "data-seconds"))
        # seconds from the click to: start, Pyodide's loader imported, Python started, engine unpacked, ready
        stages = [float(x) for x in page.get_attribute("#pg-status", "data-stages").split()]
        transferred = sum(v for k, v in sizes.items() if k not in before)
        after = {}
        for button in page.locator("button.pg-example").all():
            button.click()
            page.click("#derive-run")
            page.wait_for_selector("#derive-output[data-state]")
            assert page.get_attribute("#derive-output", "data-state") == "done"
            after[button.inner_text()] = float(page.get_attribute("#derive-output", "data-seconds"))
        page.locator("button.pg-example").first.click()
        page.fill("#answer-wrt", "W")
        page.fill("#answer-expr", "X.T @ G")
        page.click("#answer-check")
        page.wait_for_selector("#answer-output[data-state]")
        assert page.get_attribute("#answer-output", "data-kind") == "missing sigma'", page.inner_text("#answer-output")
        answer = float(page.get_attribute("#answer-output", "data-seconds"))
        context.close()
        return {"first_seconds": first, "first_wall_seconds": wall, "first_stages_seconds": stages, "first_transferred_bytes": transferred,
                "load_longest_frame_wait_seconds": frame_wait,
                "next_seconds": after, "answer_seconds": answer}
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def run(rounds: int) -> dict:
    from playwright.sync_api import sync_playwright

    if not (SITE / "playground.html").is_file():
        raise SystemExit(f"no playground page in {SITE}: run `make docs` first")
    with serve(SITE) as base, sync_playwright() as pw:
        results = [_round(pw, base) for _ in range(rounds)]
    firsts = [r["first_seconds"] for r in results]
    nexts = [s for r in results for s in r["next_seconds"].values()]
    waits = [r["load_longest_frame_wait_seconds"] for r in results]
    return {
        "rounds": results,
        "first_seconds": {"min": min(firsts), "median": statistics.median(firsts), "max": max(firsts)},
        "next_seconds": {"min": min(nexts), "median": statistics.median(nexts), "max": max(nexts)},
        "load_longest_frame_wait_seconds": {"min": min(waits), "median": statistics.median(waits), "max": max(waits)},
        "answer_seconds_max": max(r["answer_seconds"] for r in results),
        "aim_seconds": {"first": AIM_FIRST, "next": AIM_NEXT, "frame_wait": AIM_FRAME},
        "added_bytes": added_bytes(SITE),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="fresh-profile rounds (default 3)")
    args = ap.parse_args(argv)
    result = run(args.rounds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "playground.json").write_text(json.dumps(result, indent=1) + "\n")
    f, n, b = result["first_seconds"], result["next_seconds"], result["added_bytes"]
    mib = 1024 * 1024
    print(f"playground, {args.rounds} rounds with an empty browser cache")
    print(f"  first derivation (Pyodide loaded): median {f['median']:.2f} s, max {f['max']:.2f} s (aim < {AIM_FIRST} s)")
    w = result["load_longest_frame_wait_seconds"]
    print(f"  while Python loads, longest frame: median {w['median']:.3f} s, max {w['max']:.3f} s (aim < {AIM_FRAME} s)")
    print(f"  a derivation after that:           median {n['median']:.3f} s, max {n['max']:.3f} s (aim < {AIM_NEXT} s)")
    print(f"  an answer check:                   max {result['answer_seconds_max']:.3f} s")
    print(f"  added to the site: {sum(v for k, v in b.items() if k != 'files') / mib:.2f} MiB "
          + ", ".join(f"{k} {v / mib:.2f} MiB" for k, v in b.items() if k != "files"))
    print(f"  wrote {(OUT / 'playground.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
