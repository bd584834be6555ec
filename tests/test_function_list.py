"""The pages' lists of the functions an expression may call are built from the rule rows,
so a new row (softplus) is listed without editing a page."""

from __future__ import annotations

import pathlib
import re

import pytest

from derivlib.engine.identities import function_kinds, function_list
from derivlib.engine.rules import FUNCTIONS

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def test_each_function_is_of_one_kind():
    kinds = function_kinds()
    assert sorted(op for ops in kinds.values() for op in ops) == sorted(FUNCTIONS)


@pytest.mark.parametrize(("op", "kind"), [
    pytest.param("softplus", "elementwise", id="softplus-element-wise"),
    pytest.param("tanh", "elementwise", id="tanh-element-wise"),
    pytest.param("log_softmax", "rowwise", id="log_softmax-over-each-row"),
    pytest.param("mean", "reduction", id="mean-a-reduction"),
    pytest.param("max", "reduction", id="max-a-reduction"),
    pytest.param("abs", "elementwise", id="abs-element-wise"),
    pytest.param("split", "blocks", id="split-blocks-of-columns"),
    pytest.param("concat", "blocks", id="concat-blocks-of-columns"),
])
def test_a_function_is_listed_under_its_kind(op, kind):
    assert op in function_kinds()[kind]


def test_the_list_is_markdown_code_joined_by_and():
    assert function_list("rowwise") == "`softmax` and `log_softmax`"


@pytest.mark.parametrize("page", ["playground.md", "engine.md"])
def test_the_page_types_no_list_of_functions(page):
    source = (DOCS / page).read_text()
    assert not re.search(r"`(sigmoid|tanh|relu|exp|log|sqrt)`,", source)


@pytest.mark.parametrize("page", ["playground.md", "engine.md"])
@pytest.mark.parametrize("kind", ["elementwise", "rowwise", "reduction", "blocks", "index"])
def test_the_page_shows_the_list_built_from_the_rows(page, kind):
    assert f"{{glue:md}}`functions_{kind}`" in (DOCS / page).read_text()


def test_the_kinds_are_in_the_order_the_pages_list_them():
    assert list(function_kinds()) == ["elementwise", "rowwise", "reduction", "blocks", "index"]
