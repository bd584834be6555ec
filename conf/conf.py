"""Sphinx configuration for the derivlib site (sphinx-build -c conf docs _build/html)."""

project = "derivlib"
author = "the derivlib authors"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
html_theme = "sphinx_book_theme"
nb_execution_mode = "force"
nb_execution_raise_on_error = True
exclude_patterns = ["_build"]
