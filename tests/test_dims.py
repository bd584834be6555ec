"""Dimension arithmetic: a dimension is an int, a name, or a whole number times a name (``4*h``).

One canonical form (equal dimensions compare equal), one size, one rendering, typed the same
way at the four entry points, bound from values (``4*h`` with 12 columns gives h = 3).
"""

from __future__ import annotations

import numpy as np
import pytest

from derivlib import derive
from derivlib.engine import dims
from derivlib.engine.evaluate import bind_sizes
from derivlib.engine.nodes import Coef, ExpressionError
from tests.test_shapes import _cli, _engine, _page, _playground

H4 = Coef(4, (("h", 1),))


@pytest.mark.parametrize(("typed", "canonical"), [
    pytest.param("4*h", H4, id="number-times-name"),
    pytest.param("h*4", H4, id="name-times-number"),
    pytest.param(" 4 * h ", H4, id="spaces"),
    pytest.param("2*h*2", H4, id="two-numbers"),
    pytest.param("1*h", "h", id="one-times-name-is-the-name"),
    pytest.param("h", "h", id="a-name"),
    pytest.param("12", 12, id="digits"),
    pytest.param(12, 12, id="an-int"),
    pytest.param(Coef(12), 12, id="a-product-without-names-is-an-int"),
    pytest.param(Coef(1, (("n", 1),)), "n", id="a-product-of-one-name-is-the-name"),
])
def test_a_dimension_reads_to_its_canonical_form(typed, canonical):
    assert dims.read(typed, "x") == canonical


def test_equal_products_compare_and_hash_equal():
    assert {dims.read("4*h", "x"), dims.read("h*4", "x")} == {H4}


@pytest.mark.parametrize("typed", [
    pytest.param("0*h", id="zero-times"),
    pytest.param("h*k", id="two-names"),
    pytest.param("1.5*h", id="a-fraction"),
    pytest.param("4*", id="a-missing-factor"),
    pytest.param("-4*h", id="negative"),
    pytest.param("4*h-1", id="an-expression"),
])
def test_a_bad_product_is_refused_naming_the_forms(typed):
    with pytest.raises(ExpressionError, match=r"shapes\['Wx'\]: each dimension must be a name like 'n', a whole "
                                              r"number times a name like '4\*h', or a whole number >= 1; got"):
        dims.read(typed, "shapes['Wx']")


def test_each_entry_point_accepts_a_product(capsys):
    assert (_engine("d,4*h"), _playground("d,4*h"), _cli("d,4*h", capsys), _page("d,4*h")) == (
        ("d", H4), ("d", H4), "accepted", ("d", H4))


def test_each_entry_point_refuses_a_bad_product_in_the_same_words(capsys):
    verdicts = [_engine("d,h*k"), _playground("d,h*k"), _cli("d,h*k", capsys), _page("d,h*k")]
    assert verdicts == [verdicts[0]] * 4 and verdicts[0][0] == "refused"


@pytest.mark.parametrize(("d", "sizes", "size"), [
    pytest.param(5, {}, 5, id="an-int"),
    pytest.param("h", {"h": 3}, 3, id="a-name"),
    pytest.param(H4, {"h": 3}, 12, id="a-product"),
])
def test_one_function_sizes_a_dimension(d, sizes, size):
    assert dims.size(d, sizes) == size


@pytest.mark.parametrize(("render", "written"), [
    pytest.param(dims.text, "4h", id="text"),
    pytest.param(dims.latex, "4h", id="latex"),
    pytest.param(dims.py, "4 * h", id="numpy-source"),
])
def test_one_function_renders_a_product(render, written):
    assert render(H4) == written


@pytest.mark.parametrize(("d", "m", "result"), [
    pytest.param(Coef(36, (("n", 1),)), 36, "n", id="36n-by-36-is-n"),
    pytest.param(Coef(36, (("n", 1),)), 4, Coef(9, (("n", 1),)), id="36n-by-4-is-9n"),
    pytest.param(72, 36, 2, id="numbers"),
    pytest.param("n", 36, None, id="36-does-not-divide-n"),
    pytest.param(Coef(6, (("n", 1),)), 4, None, id="4-does-not-divide-6n"),
])
def test_divide_a_dimension(d, m, result):
    assert dims.divide(d, m) == result


def test_bind_sizes_infers_the_name_of_a_product():
    assert bind_sizes({"Wx": ("d", H4)}, {"Wx": (5, 12)}) == {"d": 5, "h": 3}


def test_bind_sizes_says_when_the_size_is_not_a_multiple():
    with pytest.raises(ValueError, match=r"Wx must have shape \('d', '4\*h'\): dimension 1 is 4h, a multiple of 4; "
                                         r"got 13 \(shape \(5, 13\)\), which 4 does not divide"):
        bind_sizes({"Wx": ("d", H4)}, {"Wx": (5, 13)})


def test_bind_sizes_checks_a_product_against_an_earlier_name():
    with pytest.raises(ValueError, match=r"dimension '4h' is 12 \(h = 3 from an earlier variable\) but 8 in Wx"):
        bind_sizes({"Wh": ("h", "h"), "Wx": ("d", H4)}, {"Wh": (3, 3), "Wx": (5, 8)})


GATES = {"X": ("n", "d"), "Wx": ("d", "4*h"), "H": ("n", "h"), "Wh": ("h", "4*h")}
GATE_EXPR = "sum(tanh(X @ Wx + H @ Wh) / h)"


def test_a_product_dimension_derives_and_checks():
    d = derive(GATE_EXPR, GATES)
    assert (d.check().verdict, d.check_pure().verdict, d.check_why().ok) == ("right", "right", True)


def test_a_product_dimension_shows_in_the_steps():
    d = derive(GATE_EXPR, GATES)
    assert d.steps[0].shape == ("n", H4) and "n×4h" in d.text()


def test_dims_lists_only_names():
    assert derive(GATE_EXPR, GATES).dims() == ["n", "d", "h"]


def test_the_generated_numpy_binds_the_name_of_a_product_and_agrees():
    d = derive(GATE_EXPR, GATES)
    rng = np.random.default_rng(0)
    values = {"X": rng.normal(size=(2, 5)), "Wx": rng.normal(size=(5, 12)), "H": rng.normal(size=(2, 3)),
              "Wh": rng.normal(size=(3, 12))}
    ns = {}
    exec(d.numpy_source(), ns)  # noqa: S102 (the engine's own generated code)
    got, want = ns["backward"](**values), d.gradients(values)
    assert all(np.allclose(got[k], want[k], rtol=1e-13, atol=0) for k in want)
