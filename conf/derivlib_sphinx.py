"""derivlib's Sphinx extension: the execution cache keyed on every input of a page.

Each page is a notebook executed at build time. Its outputs depend on the page itself
(which myst-nb hashes) and on three folders it reads: the library (``derivlib/``), the
evidence package (``verification/``) and the generated data (``docs/_generated/``:
mutation table, benchmark results). :func:`cache_key` hashes all three; the execution
cache lives at ``<build dir>/jupyter_cache/<key>``, so a change to any of them finds an
empty cache and every page executes again, and Sphinx re-reads every page.

It also puts the repository root on the kernels' ``PYTHONPATH`` (``verification`` is
imported from the checkout, not installed), offers each executed notebook for download,
and documents NamedTuple fields on the API page (autodoc would say "Alias for field
number N").
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import re
import shutil
from pathlib import Path

import nbformat
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parent.parent
#: What an executed page may read besides itself, relative to the repository root.
INPUTS = ("derivlib", "verification", "docs/_generated")
SKIP = {"__pycache__", ".ipynb_checkpoints"}


def input_files(root: Path = ROOT) -> list:
    """Every file under :data:`INPUTS`, sorted (bytecode caches left out)."""
    files = []
    for folder in INPUTS:
        files += [p for p in (root / folder).rglob("*") if p.is_file() and not SKIP & set(p.parts)]
    return sorted(files)


def cache_key(root: Path = ROOT) -> str:
    """SHA-256 (16 hex digits) of the names and contents of :func:`input_files`."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def use_keyed_cache(app, config):
    """Put the execution cache at <build dir>/jupyter_cache/<key>; delete the other keys'.

    ``-D nb_execution_cache_path=...`` wins.
    """
    if config.nb_execution_cache_path:
        return
    parent = Path(app.outdir).resolve().parent / "jupyter_cache"
    for stale in parent.glob("*"):
        if stale.is_dir() and stale.name != config.derivlib_inputs_key:
            shutil.rmtree(stale, ignore_errors=True)
    config.nb_execution_cache_path = str(parent / config.derivlib_inputs_key)


def offer_notebook(app, pagename, templatename, context, doctree):
    """Put the executed notebook next to the page's source, for the download button.

    myst-nb writes each page to <build dir>/jupyter_execute/<page>.ipynb, but when the
    outputs came from the execution cache (myst-nb 1.4) that file has none: the outputs
    were merged into a copy. So in cache mode the outputs are merged again here from the
    same cache. The book theme links ``_sources/<ipynb_source>`` when the context names it.
    """
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if doctree is None or not executed.is_file():
        return
    notebook = nbformat.read(executed, as_version=4)
    nb_config = app.env.mystnb_config
    if nb_config.execution_mode == "cache" and Path(nb_config.execution_cache_path).is_dir():
        try:
            _, notebook = get_cache(nb_config.execution_cache_path).merge_match_into_notebook(notebook)
        except KeyError:  # not in the cache: the file is the executed notebook itself
            pass
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def document_namedtuple_field(app, what, name, obj, options, lines):
    """Replace "Alias for field number N" by the field's own words.

    A field documented with a ``#:`` comment never gets here (autodoc uses the comment);
    otherwise the trailing ``# comment`` of the field's line in the class, and its type.
    """
    if not (len(lines) == 1 and re.fullmatch(r"Alias for field number \d+", lines[0])):
        return
    owner, field = name.rsplit(".", 1)
    module_name, _, class_path = owner.partition(".")
    module = importlib.import_module(module_name)
    while class_path and not hasattr(module, class_path.split(".")[0]):
        head, _, class_path = class_path.partition(".")
        module = importlib.import_module(f"{module.__name__}.{head}")
    cls = module
    for part in class_path.split("."):
        cls = getattr(cls, part)
    line = re.search(rf"^\s+{field}\s*:\s*([^#\n]+?)\s*(?:#\s*(.*))?$", inspect.getsource(cls), re.M)
    annotation, comment = (line.group(1), line.group(2)) if line else (None, None)
    words = comment[0].upper() + comment[1:] if comment else f"The ``{field}`` field."
    lines[:] = [words.rstrip(".") + "." + (f" Type: ``{annotation}``." if annotation else "")]


def setup(app):
    path = os.environ.get("PYTHONPATH")
    if str(ROOT) not in (path or "").split(os.pathsep):
        os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    # a change of this value (any edit to an input) makes Sphinx re-read every page
    app.add_config_value("derivlib_inputs_key", cache_key(), "env", types=frozenset({str}))
    app.connect("config-inited", use_keyed_cache, priority=400)
    app.connect("html-page-context", offer_notebook, priority=400)
    app.connect("autodoc-process-docstring", document_namedtuple_field)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
