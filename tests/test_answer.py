"""derivlib.engine.answer: the playground's answer check, in pure Python.

The diagnosis is tested on small hand-made matrices (each wrong answer built from the true
gradient by the mistake it names); the whole check, through the engine, on the sigmoid
layer, a mean-squared-error regression and the two-layer network, with the wrong answers
people write.
"""

from __future__ import annotations

import random

import pytest

from derivlib.engine.answer import diagnose, dimension_sizes, parse_shapes, parse_wrt, random_env

T = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]]  # a "true gradient", 2×3
SQUARE = [[1.0, 2.0], [-3.0, 4.0]]


def _scale(m, k):
    return [[k * x for x in row] for row in m]


def _t(m):
    return [list(c) for c in zip(*m)]


# (candidate, truth, sizes, alternatives, expected kind)
CASES = [
    pytest.param(T, T, {}, (), "right", id="right"),
    pytest.param([[x + 1e-12 for x in r] for r in T], T, {}, (), "right", id="right-up-to-rounding"),
    pytest.param(_t(SQUARE), SQUARE, {}, (), "transposed", id="transposed-square"),
    pytest.param(_t(T), T, {}, (), "wrong shape, its transpose is right", id="transposed-shape"),
    pytest.param(_scale(T, -1), T, {}, (), "sign flipped", id="sign"),
    pytest.param(_scale(T, 1 / 5), T, {"n": 5, "p": 7}, (), "off by 1/n", id="divided-by-n"),
    pytest.param(_scale(T, 7), T, {"n": 5, "p": 7}, (), "off by 1/n", id="times-p"),
    pytest.param(_scale(T, 2), T, {"n": 5, "p": 7}, (), "off by a factor", id="factor-2"),
    pytest.param([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0]], {}, (), "not summed over the batch",
                 id="rows-not-summed"),
    pytest.param([[1.0, 2.0], [3.0, 4.0]], [[3.0], [7.0]], {}, (), "not summed over the batch",
                 id="columns-not-summed"),
    pytest.param([[1.0, 2.0]], T, {}, (), "wrong shape", id="wrong-shape"),
    pytest.param([[9.0, 9.0, 9.0], [9.0, 9.0, 9.0]], T, {}, [("missing sigma'", "x", [[9.0] * 3] * 2)],
                 "missing sigma'", id="an-alternative"),
    pytest.param([[0.0] * 3] * 2, T, {}, (), "unrelated", id="zero"),
    pytest.param([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], T, {}, (), "unrelated", id="unrelated"),
    pytest.param([[float("nan"), 0.0, 0.0], [0.0, 1.0, 0.0]], T, {}, (), "not finite", id="nan"),
]


@pytest.mark.parametrize(("candidate", "truth", "sizes", "alternatives", "kind"), CASES)
def test_diagnose_names_the_mistake(candidate, truth, sizes, alternatives, kind):
    assert diagnose(candidate, truth, "W", sizes=sizes, alternatives=alternatives).kind == kind


def test_only_the_right_answer_is_right():
    assert diagnose(T, T, "W", sizes={}).right
    assert not diagnose(_scale(T, -1), T, "W", sizes={}).right


def test_the_message_names_the_dimension_of_a_missing_mean():
    assert "divided by n (= 5 here)" in diagnose(_scale(T, 0.2), T, "W", sizes={"n": 5}).message


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("X: n, p", {"X": ("n", "p")}, id="names"),
    pytest.param("b: 1, q\n\n  G : n,q  ", {"b": (1, "q"), "G": ("n", "q")}, id="numbers-blank-lines-spaces"),
])
def test_parse_shapes_reads_lines(text, expected):
    assert parse_shapes(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    pytest.param("X n, p", "line 1", id="no-colon"),
    pytest.param("X: n", "two dimensions", id="one-dim"),
    pytest.param("X: n, p, q", "two dimensions", id="three-dims"),
    pytest.param("X: n, 0", "between 1 and 64", id="zero"),
    pytest.param("X: n, 100000", "between 1 and 64", id="too-large"),
    pytest.param("X: n, p-1", "must be a name", id="expression-dim"),
    pytest.param("X: n, p\nX: n, p", "twice", id="twice"),
    pytest.param("1X: n, p", "line 1", id="bad-name"),
    pytest.param("", "no shapes", id="empty"),
])
def test_parse_shapes_says_what_is_wrong(text, words):
    with pytest.raises(ValueError, match=words):
        parse_shapes(text)


def test_parse_shapes_rejects_non_text():
    with pytest.raises(TypeError, match="shapes must be text"):
        parse_shapes(["X: n, p"])


@pytest.mark.parametrize(("text", "words"), [
    pytest.param("", "at least one", id="empty"),
    pytest.param("W, Z", "'Z' has no shape", id="unknown"),
    pytest.param("W, W", "twice", id="twice"),
])
def test_parse_wrt_says_what_is_wrong(text, words):
    with pytest.raises(ValueError, match=words):
        parse_wrt(text, {"W": ("p", "q"), "X": ("n", "p")})


def test_dimension_sizes_are_distinct_primes_avoiding_given_numbers():
    sizes = dimension_sizes({"X": ("n", "p"), "W": ("p", 5), "G": ("n", "q")})
    assert sizes == {"n": 3, "p": 7, "q": 11}


def test_random_env_has_each_variables_shape():
    env = random_env({"X": ("n", 2), "b": (1, "n")}, {"n": 3}, random.Random(0))
    assert [len(env["X"]), len(env["X"][0]), len(env["b"]), len(env["b"][0])] == [3, 2, 1, 3]
