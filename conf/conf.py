"""Sphinx configuration for the derivlib site (``make docs`` is the one command that builds it).

Every page is a MyST text notebook executed at build time; a failing cell fails the
build. Executed outputs are cached, keyed on everything a page reads besides itself
(derivlib, the evidence package, the generated data: see ``derivlib_sphinx.py`` beside
this file), so a stale output can never let a broken library pass. Math is typeset by a
MathJax copied from a Python package into the built site: the site loads nothing from
any other host.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # the extension beside this file

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
    "derivlib_sphinx",  # conf/derivlib_sphinx.py: the execution cache key, the notebook downloads
    "checked_math",  # conf/checked_math.py: displayed results rendered from checked formulas
    "playground_ext",  # conf/playground_ext.py: Pyodide and the engine for docs/playground.md
    "layers_ext",  # conf/layers_ext.py: the layers' toctree and API sections, from verification/cases.py
]
exclude_patterns = ["_build", "_static", "_generated", "**.ipynb_checkpoints"]

# -- MyST and execution ----------------------------------------------------------------

myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
nb_execution_mode = "cache"  # re-execute a page only when it or an input changed (derivlib_sphinx)
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True  # print the traceback in the build log
nb_execution_timeout = 300
nb_merge_streams = True
nb_render_markdown_format = "myst"  # Markdown outputs (tables built by cells) are MyST
nb_ipywidgets_js = {}  # no widgets: never add the widget loader scripts from a CDN

# -- Math: served with the site --------------------------------------------------------

mathjax_path = "mathjax/tex-chtml.js"  # relative to _static: the copy made at build time
# A derivation is typeset as one aligned block; an LSTM over time is over 5 kB of TeX, past
# MathJax's default buffer (5120 characters, a guard against recursive macros).
mathjax3_config = {"tex": {"maxBuffer": 64 * 1024}}

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

nitpicky = True  # every cross-reference must resolve (as -n on the command line)

nitpick_ignore = [
    # numpy's names, which the site cannot resolve: it has no intersphinx to numpy (that
    # would fetch an inventory from another host at build time).
    # GradCheckError's "Attributes" section renders "numerical, analytical : ndarray"
    # as an attribute with a cross-referenced type.
    ("py:class", "ndarray"),
    # check.gradcheck's docstring says its tolerances work "as in :func:`numpy.allclose`".
    ("py:func", "numpy.allclose"),
]

