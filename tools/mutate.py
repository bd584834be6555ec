"""Plant each wrong formula of the catalogue in a scratch copy and see what kills it.

Usage (from the repository root)::

    .venv/bin/python tools/mutate.py              # unit tests and docs build (make mutate)
    .venv/bin/python tools/mutate.py --unit-only  # unit tests only (make mutate-unit, CI)
    .venv/bin/python tools/mutate.py --only sl-db-mean,tl-W2-not-W2T
    .venv/bin/python tools/mutate.py --list

For every mutant in ``verification/mutants.py``: copy the working tree (without .venv, .git and
build output) to a temporary directory, apply the edit there (never to the working tree),
then

* unit half: ``python -W error -m pytest -x -q -p no:cacheprovider tests derivlib`` in
  the copy, with ``PYTHONPATH`` set to the copy (checked: ``derivlib.__file__`` must lie
  in the copy, not in the editable install of the working tree);
* docs half: the project's build command (``make html`` in the copy) with
  ``nb_execution_mode=force`` into a directory inside the copy. A failing cell is
  reported as a warning (``nb_execution_raise_on_error=0``), which ``-W`` turns into a
  failed build after every page has run, so the table names every page that kills the
  mutant. An extra orphan page asserts in its kernel that ``derivlib`` is imported from
  the copy.

A mutant is killed when the command fails. First the unmutated copy must pass both
halves, or the run stops (a red baseline would make every mutant look killed). The table
(mutant, description, tests, docs, seconds) is printed and written to
``_build/mutation.md``; a full run of the whole catalogue also refreshes the copy shown by
the reliability page, ``docs/_generated/mutation.md`` (the generated folder pages read). Exit status 1 if a mutant survives.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verification.mutants import CATALOGUE
from verification.mutants import LAYER_PACK
from verification.mutants import LOOPS as LOOP_MUTANTS

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "docs" / "_generated"

IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "_build", ".hypothesis", ".pytest_cache", "__pycache__", "*.egg-info",
    "jupyter_cache", "node_modules",
)
UNIT_TIMEOUT = 900
DOCS_TIMEOUT = 1800

SENTINEL = """---
file_format: mystnb
kernelspec:
  name: python3
  display_name: Python 3
orphan: true
---

# Mutation sentinel

```{{code-cell}} python3
import derivlib
from pathlib import Path
assert Path(derivlib.__file__).resolve().is_relative_to(Path({copy!r}).resolve()), derivlib.__file__
```
"""


def _edits(mutant):
    olds = mutant.old if isinstance(mutant.old, tuple) else (mutant.old,)
    news = mutant.new if isinstance(mutant.new, tuple) else (mutant.new,)
    if len(olds) != len(news):
        raise SystemExit(f"mutant {mutant.name}: old and new have different numbers of edits")
    return list(zip(olds, news))


def apply(mutant, tree: Path) -> None:
    """Apply ``mutant`` to the file under ``tree``; each old text must occur exactly once."""
    path = tree / mutant.path
    text = path.read_text()
    for old, new in _edits(mutant):
        count = text.count(old)
        if count != 1:
            raise SystemExit(
                f"mutant {mutant.name}: expected the text {old!r} exactly once in {mutant.path}, "
                f"found it {count} times. derivlib changed: update verification/mutants.py."
            )
        text = text.replace(old, new)
    path.write_text(text)


def validate(catalogue) -> None:
    """Fail before running anything if a mutant no longer applies to the working tree."""
    names = [m.name for m in catalogue]
    if len(set(names)) != len(names):
        raise SystemExit("mutant names must be unique")
    for m in catalogue:
        text = (ROOT / m.path).read_text()
        for old, new in _edits(m):
            if text.count(old) != 1:
                raise SystemExit(
                    f"mutant {m.name}: expected {old!r} exactly once in {m.path}, found "
                    f"{text.count(old)}. derivlib changed: update verification/mutants.py."
                )
            if old == new:
                raise SystemExit(f"mutant {m.name}: old and new text are the same")


def make_copy(workdir: Path) -> Path:
    tree = workdir / "repo"
    shutil.copytree(ROOT, tree, ignore=IGNORE)
    # the copy's reliability page shows the table of this very run, not yet written: it gets
    # every mutant of the catalogue, each "not yet run" (the committed table may list an
    # older catalogue, and the page refuses a table that does not match the catalogue)
    pending = [(m, {half: (None, "not yet run", 0.0) for half in ("tests", "docs")}) for m in CATALOGUE]
    (tree / "docs" / "_generated" / "mutation.md").write_text(table(pending, True, True, 0.0))
    return tree


def _env(tree: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def _run(cmd, tree: Path, timeout: int):
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=tree, env=_env(tree), capture_output=True, text=True,
                              timeout=timeout)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = "timeout"
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    return code, out, time.perf_counter() - start


def check_import(tree: Path) -> None:
    code = "import derivlib; print(derivlib.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=_env(tree),
                         capture_output=True, text=True, check=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"derivlib imported from {out}, not from the copy {tree}")


TEST_PATHS = ["tests", "derivlib", "verification"]


def unit_half(tree: Path):
    """(killed, detail, seconds) for the unit tests and doctests in ``tree``."""
    check_import(tree)
    cmd = [sys.executable, "-W", "error", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
           *TEST_PATHS]
    code, out, secs = _run(cmd, tree, UNIT_TIMEOUT)
    if code == 0:
        return False, "survived", secs, out
    if code == "timeout":
        return True, f"killed (timeout after {UNIT_TIMEOUT} s)", secs, out
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
    if failed:
        # the first exception pytest shows ("E   ValueError: matmul: ..."): a crash inside
        # numpy (non-conforming shapes) kills a mutant too, but the table says so
        exc = re.search(r"^E[ \t]+([A-Za-z_][\w.]*(?:Error|Exception|Warning))\b:?[ \t]*(.*)$", out, re.M)
        why = ""
        if exc:
            msg = exc.group(2).strip()
            why = exc.group(1) + (": " + (msg[:40] + "…" if len(msg) > 40 else msg) if msg else "")
        test = failed[0].removeprefix("tests/")  # plain text, so a long test id can wrap
        return True, f"killed by {test}" + (f" ({why})" if why else ""), secs, out
    return True, f"killed (pytest exit {code})", secs, out


def docs_half(tree: Path):
    """(killed, detail, seconds) for a forced, warnings-as-errors docs build in ``tree``."""
    (tree / "docs" / "_mutation_sentinel.md").write_text(SENTINEL.format(copy=str(tree)))
    build = tree / "_mutate_build"
    # a failing cell becomes a warning (an error under -W) instead of stopping the build
    # at the first page, so the table can name every page that kills it
    opts = f"-d {build / 'doctrees'} -D nb_execution_mode=force -D nb_execution_raise_on_error=0 -q"
    cmd = ["make", "--no-print-directory", "-C", str(tree), "html", f"BIN={Path(sys.executable).parent}",
           f"BUILDDIR={build}", f"SPHINXOPTS={opts}"]
    code, out, secs = _run(cmd, tree, DOCS_TIMEOUT)
    if code == 0:
        return False, "survived", secs, out
    if code == "timeout":
        return True, f"killed (timeout after {DOCS_TIMEOUT} s)", secs, out
    pages = []
    for line in out.splitlines():
        m = re.search(r"docs/([\w/.-]+?)\.(?:md|ipynb|rst)(?::\d+)?: (?:WARNING|ERROR|CRITICAL)", line)
        if m and m.group(1) not in pages:
            pages.append(m.group(1))
    if "_mutation_sentinel" in pages:
        raise SystemExit("the docs build did not import derivlib from the copy:\n" + out[-3000:])
    detail = "killed by " + ", ".join(pages) if pages else f"killed (sphinx exit {code})"
    return True, detail, secs, out


def run_one(mutant, unit: bool, docs: bool, keep_logs: Path | None):
    with tempfile.TemporaryDirectory(prefix="derivlib-mutant-") as work:
        tree = make_copy(Path(work))
        if mutant is not None:
            apply(mutant, tree)
        row = {}
        name = mutant.name if mutant else "baseline"
        for half, enabled, fn in (("tests", unit, unit_half), ("docs", docs, docs_half)):
            if not enabled:
                row[half] = (None, "not run", 0.0)
                continue
            killed, detail, secs, out = fn(tree)
            row[half] = (killed, detail, secs)
            if keep_logs is not None:
                (keep_logs / f"{name}.{half}.log").write_text(out)
        return row


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (no pipes, raw HTML, emphasis or code)."""
    for ch in "\\|*`_<>[]":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def table(rows, unit: bool, docs: bool, total: float) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    halves = " and ".join(h for h, on in (("unit tests", unit), ("docs build", docs)) if on)
    killed_t = sum(1 for _, r in rows if r["tests"][0])
    killed_d = sum(1 for _, r in rows if r["docs"][0])
    lines = [
        f"Produced by `tools/mutate.py` on {stamp} ({halves}; {len(rows)} mutants; "
        f"{total:.0f} s in all on {platform.machine()}, Python {platform.python_version()}).",
        "",
        f"Killed by the unit tests: {killed_t}/{len(rows)}"
        + (f"; killed by the docs build: {killed_d}/{len(rows)}." if docs else "."),
        "",
        "| mutant | description | tests | docs | seconds (tests / docs) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m, r in rows:
        t, d = r["tests"], r["docs"]
        mark = {True: "", False: "**SURVIVED** ", None: ""}
        lines.append(
            f"| `{m.name}` | {_cell(m.description)} | {mark[t[0]]}{_cell(t[1])} | "
            f"{mark[d[0]]}{_cell(d[1])} | {t[2]:.1f} / {d[2]:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--unit-only", action="store_true", help="skip the docs half (what CI runs)")
    ap.add_argument("--docs-only", action="store_true", help="skip the unit half")
    ap.add_argument("--only", help="comma-separated mutant names")
    ap.add_argument("--list", action="store_true", help="list the catalogue and exit")
    ap.add_argument("--logs", type=Path, help="directory to keep each run's output in")
    ap.add_argument("--tests", help="comma-separated test paths for the unit half, to see which "
                    "tests alone kill what (default: tests,derivlib); the report is not saved")
    args = ap.parse_args(argv)
    if args.tests:
        TEST_PATHS[:] = args.tests.split(",")

    catalogue = CATALOGUE
    extra = LAYER_PACK + LOOP_MUTANTS  # run by the unit half (CI); not yet in the published table
    validate(catalogue)
    validate(extra)
    if args.list:
        for m in catalogue + extra:
            print(f"{m.name:28} {m.path:26} {m.description}")
        return 0
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {m.name for m in catalogue + extra}
        if unknown:
            raise SystemExit(f"unknown mutants: {sorted(unknown)}")
        catalogue = [m for m in catalogue + extra if m.name in wanted]
    elif args.unit_only:  # CI: every wrong formula must fail the unit tests
        catalogue = catalogue + extra
    unit, docs = not args.docs_only, not args.unit_only
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    base = run_one(None, unit, docs, args.logs)
    for half in ("tests", "docs"):
        if base[half][0]:
            print(f"baseline: the unmutated copy fails the {half} half; fix that first "
                  f"({base[half][1]})", file=sys.stderr)
            return 2
    print(f"baseline passes: tests {base['tests'][2]:.1f} s, docs {base['docs'][2]:.1f} s", flush=True)

    rows = []
    for m in catalogue:
        r = run_one(m, unit, docs, args.logs)
        rows.append((m, r))
        status = "  ".join(f"{h}: {r[h][1]} ({r[h][2]:.1f} s)" for h in ("tests", "docs") if r[h][0] is not None)
        print(f"{m.name}: {status}", flush=True)
    report = table(rows, unit, docs, time.perf_counter() - start)
    print()
    print(report)
    if args.tests:
        return 1 if any(r["tests"][0] is False for _, r in rows) else 0
    out = ROOT / "_build" / "mutation.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    print(f"written to {out}")
    if unit and docs and not args.only:
        GENERATED.mkdir(exist_ok=True)
        shutil.copyfile(out, GENERATED / "mutation.md")
        print(f"and to {GENERATED / 'mutation.md'} (shown by the reliability page)")
    survivors = [m.name for m, r in rows if r["tests"][0] is False or r["docs"][0] is False]
    if survivors:
        print(f"SURVIVED: {', '.join(survivors)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
