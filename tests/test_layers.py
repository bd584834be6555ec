"""A layer is found by discovery: its module, its case, its test file and its page agree.

A hand-derived layer is four files: ``derivlib/<name>.py`` (``forward``, ``backward``
returning ``Grads``), ``tests/test_<name>.py``, ``docs/<name>.md`` and one case in
``verification/cases.py``. These tests fail when one of the four is missing, and check the
Sphinx extension that lists the layers on the home page and the API page.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import derivlib
from verification.cases import CASES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "conf"))
import layers_ext  # noqa: E402  (conf/layers_ext.py: standard library only)


def _is_layer(module):
    return all(hasattr(module, name) for name in ("forward", "backward", "Grads"))


LAYER_MODULES = [name for name in derivlib._MODULES if _is_layer(importlib.import_module(f"derivlib.{name}"))]


def test_every_layer_module_has_a_case():
    assert sorted(LAYER_MODULES) == sorted(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_the_layer_has_its_test_file(name):
    assert (ROOT / "tests" / f"test_{name}.py").is_file()


@pytest.mark.parametrize("name", list(CASES))
def test_the_layer_has_its_page(name):
    assert (ROOT / "docs" / f"{name}.md").is_file()


@pytest.mark.parametrize("name", list(CASES))
def test_the_layer_loads_from_the_package(name):
    assert getattr(derivlib, name) is importlib.import_module(f"derivlib.{name}")


@pytest.mark.parametrize("name", list(CASES))
def test_the_case_names_its_engine_variables_after_its_arguments(name):
    expression, shapes = CASES[name].engine
    assert list(shapes) == list(CASES[name].arg_names)


def test_the_toctree_placeholder_becomes_one_line_per_layer():
    page = "```{toctree}\n:caption: Layers\n\n{LAYER_PAGES}\n```"
    assert layers_ext.expand(page, ["a_layer", "b_layer"]) == "```{toctree}\n:caption: Layers\n\na_layer\nb_layer\n```"


def test_the_api_placeholder_becomes_one_automodule_per_layer():
    text = layers_ext.expand("# API\n{LAYER_MODULES}\n", ["a_layer"])
    assert text == "# API\n## derivlib.a_layer\n\n```{eval-rst}\n.. automodule:: derivlib.a_layer\n```\n\n"


def test_the_extension_lists_the_cases_in_order():
    assert layers_ext.layer_names() == list(CASES)
