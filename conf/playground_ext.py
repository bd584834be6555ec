"""Sphinx extension: the files the in-page playground (docs/playground.md) loads.

When an HTML build succeeds it writes, under ``_static/`` of the built site:

- ``pyodide/``: only the files of Pyodide's core that ``loadPyodide({indexURL})`` fetches
  (taken from ``node_modules/pyodide``, installed from package-lock.json by ``npm ci``,
  which ``make docs`` runs);
- ``playground/derivlib-py.zip``: derivlib's pure-Python engine and the application on it
  (``derivlib/engine/*.py``, ``derivlib/playground/*.py``, ``derivlib/diagnosis.py``,
  ``derivlib/relation.py`` and a
  minimal ``derivlib/__init__.py``), which the page unpacks
  into Pyodide's file system.

Nothing is committed and nothing comes from another host at read time. The page's own
script and style (``_static/playground.js`` and ``.css``) are added to that page only;
the script starts ``_static/playground-worker.js`` (copied from docs/_static/ like them),
the Web Worker in which Pyodide loads and derives, off the page's main thread.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parent.parent
PYODIDE = ROOT / "node_modules" / "pyodide"
# What loadPyodide fetches with no packages requested (the browser test asserts that the
# page's requests stay within these): the loader, the Emscripten module, the WebAssembly
# binary, the standard library and the package lock file.
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
PAGE = "playground"
EXERCISES_PAGE = "exercises"  # docs/exercises.md: its own script, on the same worker
# A fixed timestamp keeps the zip identical from build to build.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
INIT = '"""derivlib\'s pure-Python derivation engine, as unpacked in the browser."""\n'


def engine_files() -> list[tuple[str, Path]]:
    """(name in the zip, file) for every pure-Python file the playground needs."""
    lib = ROOT / "derivlib"
    files = [(f"derivlib/{package}/{p.name}", p)
             for package in ("engine", "playground") for p in sorted((lib / package).glob("*.py"))]
    # the answer check's kinds, and the one diagnosis that decides them
    return files + [(f"derivlib/{name}", lib / name) for name in ("diagnosis.py", "relation.py")]


def write_engine_zip(target: Path) -> None:
    """Write derivlib's pure-Python engine to ``target`` as a zip, byte-identical each build."""
    files = engine_files()
    missing = [str(path) for _, path in files if not path.is_file()]
    if not any(name.startswith("derivlib/engine/") for name, _ in files) or missing:
        raise ExtensionError(f"playground: derivlib's engine files are missing under {ROOT}: {missing or 'engine/'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("derivlib/__init__.py", ZIP_TIME), INIT, zipfile.ZIP_DEFLATED)
        for name, path in files:
            zf.writestr(zipfile.ZipInfo(name, ZIP_TIME), path.read_bytes(), zipfile.ZIP_DEFLATED)


def copy_pyodide(target: Path) -> None:
    """Copy Pyodide's core files into ``target``."""
    missing = [name for name in PYODIDE_FILES if not (PYODIDE / name).is_file()]
    if missing:
        raise ExtensionError(
            f"playground: {', '.join(missing)} missing from {PYODIDE}: run `npm ci` at the "
            "repository root (make docs does; it needs Node and npm)"
        )
    target.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copyfile(PYODIDE / name, target / name)


def _page_assets(app, pagename, templatename, context, doctree):
    if pagename == PAGE:
        app.add_js_file("playground.js", loading_method="defer")
        app.add_css_file("playground.css")
    elif pagename == EXERCISES_PAGE:
        app.add_js_file("exercises.js", loading_method="defer")
        app.add_css_file("playground.css")


def _write_files(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    copy_pyodide(static / "pyodide")
    write_engine_zip(static / "playground" / "derivlib-py.zip")


def setup(app):
    app.connect("html-page-context", _page_assets)
    app.connect("build-finished", _write_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
