"""Sphinx configuration for the derivlib site: ``sphinx-build -c conf docs _build/html``.

Every page is a MyST text notebook executed at build time; a failing cell fails the
build. Executed outputs are cached, and the cache is keyed on a hash of derivlib's
source, so that a change to derivlib re-executes every page (a stale output can never
let a broken library pass). Math is typeset by a MathJax copied from a Python package
into the built site: the site loads nothing from any other host.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import nbformat
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conf"))  # this folder's extension modules


def _source_hash() -> str:
    """SHA-256 (first 16 hex digits) of every derivlib/**/*.py file, names and contents."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "derivlib").rglob("*.py")):
        name = path.relative_to(ROOT / "derivlib").as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


DERIVLIB_HASH = _source_hash()

# -- Project ---------------------------------------------------------------------------

project = "derivlib"
author = "the derivlib authors"
copyright = "the derivlib authors"
html_title = "derivlib"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    # A wheel that carries MathJax 3.2.2 (its name has hyphens: it is imported by that
    # name); it copies MathJax into _build/html/_static/mathjax when the build succeeds.
    "sphinx-mathjax-offline",
    "playground_ext",  # conf/playground_ext.py: Pyodide and the engine for docs/playground.md
]
exclude_patterns = ["_build", "_static", "**.ipynb_checkpoints"]

# -- MyST and execution ----------------------------------------------------------------

myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
nb_execution_mode = "cache"  # re-execute a page only when it (or derivlib, below) changed
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True  # print the traceback in the build log
nb_execution_timeout = 300
nb_merge_streams = True
nb_ipywidgets_js = {}  # no widgets: never add the widget loader scripts from a CDN

# -- Math: served with the site --------------------------------------------------------

mathjax_path = "mathjax/tex-chtml.js"  # relative to _static: the copy made at build time

# -- HTML --------------------------------------------------------------------------------

html_theme = "sphinx_book_theme"
html_static_path = [str(ROOT / "docs" / "_static")]  # relative paths would be to conf/
html_css_files = ["derivlib.css"]
html_copy_source = True  # _sources/<page>.md and, added below, _sources/<page>.ipynb
html_last_updated_fmt = None
# The theme's script logs a console error on a first visit (empty localStorage) unless
# the default colour mode is set; "auto" follows the reader's system preference.
html_context = {"default_mode": "auto"}
html_theme_options = {
    "repository_url": "",
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "use_source_button": False,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {},
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "navbar_persistent": [],  # the sidebar has the search field: no second one on top
}
copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True

# -- autodoc / napoleon ------------------------------------------------------------------

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the numpy-style docstrings carry the types
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Types such as "array_like, shape (n, p)" are descriptions, not class names: render
# them as text (with :type: fields or preprocessing, Sphinx would try to cross-reference
# "shape (n" and "p)" as classes and nitpicky mode would fail).
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_use_ivar = False
napoleon_preprocess_types = False

# -- nitpicky -----------------------------------------------------------------------------

nitpick_ignore = [
    # numpy's names, which the site cannot resolve: it has no intersphinx to numpy (that
    # would fetch an inventory from another host at build time).
    # GradCheckError's "Attributes" section renders "numerical, analytical : ndarray"
    # as an attribute with a cross-referenced type.
    ("py:class", "ndarray"),
    # check.gradcheck's docstring says its tolerances work "as in :func:`numpy.allclose`".
    ("py:func", "numpy.allclose"),
]


# -- derivlib's hash: cache path and full re-read ---------------------------------------


def _use_hashed_cache(app, config):
    """Put the execution cache at <build dir>/jupyter_cache/<derivlib hash>.

    A new hash finds an empty cache, so every page executes again; caches for other
    hashes are deleted so they don't pile up. ``-D nb_execution_cache_path=...`` wins.
    """
    if config.nb_execution_cache_path:
        return
    parent = Path(app.outdir).resolve().parent / "jupyter_cache"
    for stale in parent.glob("*"):
        if stale.is_dir() and stale.name != DERIVLIB_HASH:
            shutil.rmtree(stale, ignore_errors=True)
    config.nb_execution_cache_path = str(parent / DERIVLIB_HASH)


def _offer_notebook(app, pagename, templatename, context, doctree):
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


def setup(app):
    # A change of this value (any edit to derivlib/*.py) makes Sphinx re-read every page.
    app.add_config_value("derivlib_source_hash", DERIVLIB_HASH, "env", types=frozenset({str}))
    app.connect("config-inited", _use_hashed_cache, priority=400)
    app.connect("html-page-context", _offer_notebook, priority=400)
