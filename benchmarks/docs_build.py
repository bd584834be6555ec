"""Section 5: what building the docs costs, in a scratch copy of the repository.

Four builds with the project's own command (``make html``, what ``make docs`` runs),
timed wall-clock:

1. cold: no _build and no execution cache, every page executes;
2. no-op: nothing changed;
3. one page edited (a comment added to one code cell of EDIT_PAGE);
4. derivlib edited (a comment appended to derivlib/primitives.py).

Wall-clock time is the headline; the CPU time of the build and of everything it waited
for (kernels included) is stored too, since on a busy machine the wall clock mostly
measures the wait for a core. Which pages executed is read from myst-nb's log lines ("Executing notebook ..."),
which pages were re-read from Sphinx's "reading sources" lines.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EDIT_PAGE = "sigmoid_layer"
IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", "*.egg-info", "__pycache__", ".pytest_cache",
                                ".hypothesis", ".jupyter_cache", "jupyter_execute")
TARGETS = {"cold_seconds": 60.0, "noop_seconds": 5.0}


def _pages(output: str, pattern: str) -> list:
    found = []
    for line in output.splitlines():
        if pattern in line:
            m = re.search(r"docs/([\w/.-]+?)\.(?:md|ipynb)", line)
            name = m.group(1) if m else line.strip()
            if name not in found:
                found.append(name)
    return sorted(found)


def _reread(output: str) -> list:
    pages = []
    for line in output.splitlines():
        m = re.search(r"reading sources\.\.\. \[\s*\d+%\]\s+(\S+)", line)
        if m and m.group(1) not in pages:
            pages.append(m.group(1))
    return sorted(pages)


def _build(copy: Path, env: dict, sphinx: str, cpus) -> dict:
    cmd = ["make", "--no-print-directory", "-C", str(copy), "html", f"BIN={Path(sphinx).parent}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True,
                          preexec_fn=lambda: os.sched_setaffinity(0, cpus))  # every core, as `make docs`
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = proc.stdout + proc.stderr
    executed = _pages(output, "Executing notebook")
    return {"seconds": seconds, "cpu_seconds": cpu, "returncode": proc.returncode, "executed_pages": executed,
            "executed_count": len(executed), "cached_pages": _pages(output, "Using cached notebook"),
            "reread_pages": _reread(output),
            "sphinx_warnings": sum("WARNING:" in line and "[IPKernelApp]" not in line for line in output.splitlines()),
            "summary": [line for line in output.splitlines() if line.startswith("build ")][-1:]}


def _edit_page(copy: Path) -> str:
    """Add a comment line at the end of the first code cell of EDIT_PAGE."""
    path = copy / "docs" / f"{EDIT_PAGE}.md"
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("```{code-cell}"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].rstrip() == "```")
    lines.insert(end, "# edited by the docs build benchmark\n")
    path.write_text("".join(lines))
    return f"docs/{EDIT_PAGE}.md: one comment line added to its first code cell"


def _edit_derivlib(copy: Path) -> str:
    path = copy / "derivlib" / "primitives.py"
    path.write_text(path.read_text() + "\n# edited by the docs build benchmark\n")
    return "derivlib/primitives.py: one comment line appended"


def run(repo: Path, log, base_env: dict, cpus, keep=False) -> dict:
    sphinx = str(Path(sys.executable).with_name("sphinx-build"))
    scratch = Path(tempfile.mkdtemp(prefix="derivlib-docs-bench-"))
    copy = scratch / "repo"
    shutil.copytree(repo, copy, ignore=IGNORE)
    env = dict(base_env, PYTHONPATH=str(copy))
    where = subprocess.run([sys.executable, "-c", "import derivlib; print(derivlib.__file__)"], cwd=scratch,
                           env=env, capture_output=True, text=True).stdout.strip()
    if not where.startswith(str(copy)):
        raise RuntimeError(f"the scratch copy's derivlib is not the one imported ({where})")
    log(f"  scratch copy: {copy} (derivlib imported from {where})")
    steps = {}
    for step, edit in (("cold", None), ("noop", None), ("edit_one_page", _edit_page), ("edit_derivlib", _edit_derivlib)):
        what = edit(copy) if edit else ("nothing (first build, no _build)" if step == "cold" else "nothing changed")
        steps[step] = {"edit": what, **_build(copy, env, sphinx, cpus)}
        r = steps[step]
        log(f"  {step:14s} {r['seconds']:7.1f} s (CPU {r['cpu_seconds']:5.1f} s)  exit {r['returncode']}  "
            f"executed {r['executed_count']}: "
            f"{', '.join(r['executed_pages']) or '-'}")
    if not keep:
        shutil.rmtree(scratch, ignore_errors=True)
    total_pages = len(list((repo / "docs").glob("*.md")))
    return {"steps": steps, "pages": total_pages, "edited_page": EDIT_PAGE, "targets": TARGETS,
            "command": "make html"}
