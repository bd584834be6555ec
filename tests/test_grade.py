"""derivlib.playground.grade: a learner's backward pass graded line by line ("check my steps").

The sigmoid layer ``sum(G * sigmoid(X @ W + b))``: its right backward pass is written by hand
(dS = G, dZ = dS ∘ S ∘ (1 − S), dW = Xᵀ dZ, db = 1ᵀ dZ, dX = dZ Wᵀ); each wrong line below
is that pass with one textbook mistake planted by hand.
"""

from __future__ import annotations

import pytest

from derivlib.diagnosis import Diagnosis
from derivlib.engine import derive
from derivlib.playground.grade import grade

SHAPES = {"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q"), "G": ("n", "q")}
RIGHT = ["dS = G", "dZ = dS * S * (1 - S)", "dW = X.T @ dZ", "db = sum(dZ, axis=0)", "dX = dZ @ W.T"]


@pytest.fixture(scope="module")
def d():
    return derive("sum(G * sigmoid(X @ W + b))", shapes=SHAPES, wrt=["W", "b", "X"])


def _with(line: int, text: str) -> str:
    """The right pass with line ``line`` (from 0) replaced by ``text``."""
    return "\n".join(text if k == line else right for k, right in enumerate(RIGHT))


def test_a_right_backward_pass_is_right_line_by_line(d):
    assert [(g.name, g.verdict, g.kind) for g in grade(d, "\n".join(RIGHT))] == [
        (line.split(" =")[0], "right", "right") for line in RIGHT]


def test_each_graded_line_offers_the_engines_step(d):
    assert [g.step.name for g in grade(d, "\n".join(RIGHT))] == ["G_S", "Delta", "G_W", "G_b", "G_X"]


MISTAKES = [
    pytest.param(2, "dW = dZ.T @ X", "wrong shape, its transpose is right", Diagnosis.SHAPE_TRANSPOSED,
                 id="dW-transposed"),
    pytest.param(1, "dZ = dS", "missing sigma'", Diagnosis.WRONG_VALUES, id="dZ-missing-sigma-prime"),
    pytest.param(4, "dX = dZ @ W.T / n", "off by 1/n", Diagnosis.MEAN_WHERE_SUM, id="dX-over-n"),
    pytest.param(3, "db = dZ", "not summed over the batch", Diagnosis.SHAPE_NOT_SUMMED, id="db-not-summed"),
    pytest.param(0, "dS = -G", "sign flipped", Diagnosis.SIGN_FLIPPED, id="dS-sign"),
]


@pytest.mark.parametrize(("line", "text", "kind", "diagnosis"), MISTAKES)
def test_a_wrong_line_gets_its_kind(d, line, text, kind, diagnosis):
    g = grade(d, _with(line, text))[line]
    assert (g.verdict, g.kind, g.diagnosis) == ("wrong", kind, diagnosis), g.message


@pytest.mark.parametrize(("line", "text", "kind", "diagnosis"), MISTAKES)
def test_the_other_lines_stay_right(d, line, text, kind, diagnosis):
    verdicts = [g.verdict for g in grade(d, _with(line, text))]
    assert verdicts[:line] + verdicts[line + 1:] == ["right"] * (len(RIGHT) - 1)


def test_a_missing_sigma_prime_in_a_variables_gradient_is_named(d):
    (g,) = grade(d, "dW = X.T @ G")
    assert (g.verdict, g.kind) == ("wrong", "missing sigma'"), g.message


def test_a_helper_line_is_ungraded_and_its_value_is_used(d):
    graded = grade(d, "dS = G\nDelta = dS * S * (1 - S)\ndW = X.T @ Delta")
    assert [(g.name, g.verdict) for g in graded] == [("dS", "right"), ("Delta", "ungraded"), ("dW", "right")]
    assert "your own helper" in graded[1].message and graded[1].kind is None


def test_a_name_the_derivation_does_not_have_is_ungraded_with_why(d):
    (g,) = grade(d, "dQ = X")
    assert (g.verdict, g.kind) == ("ungraded", None)
    assert "no variable or forward step named Q" in g.message


def test_a_syntax_error_is_named_on_its_line_and_the_others_are_graded(d):
    graded = grade(d, "dS = G\n\ndZ = dS * (S\ndW = X.T @ (dS * S * (1 - S))")
    assert [(g.line, g.verdict) for g in graded] == [(1, "right"), (3, "ungraded"), (4, "right")]
    assert graded[1].message.startswith("Line 3: not valid syntax")


def test_a_product_that_does_not_conform_is_a_wrong_line_with_the_shapes(d):
    (g,) = grade(d, "dW = X @ G")
    assert g.verdict == "wrong" and g.kind is None and "n×p" in g.message and "n×q" in g.message


def test_a_line_that_renames_a_forward_step_is_ungraded(d):
    (g,) = grade(d, "S = G")
    assert g.verdict == "ungraded" and "a forward step" in g.message


def test_a_line_reading_a_name_no_earlier_line_assigned_says_so(d):
    (g,) = grade(d, "dW = X.T @ Delta")
    assert g.verdict == "wrong" and "Delta is not defined: no earlier line assigns it" in g.message


def test_a_gradient_not_in_wrt_is_graded_too(d):
    (g,) = grade(d, "dG = S")
    assert g.verdict == "right"


@pytest.mark.parametrize(("text", "error"), [
    pytest.param(None, TypeError, id="not-a-string"),
    pytest.param("\n# nothing\n", ValueError, id="no-line"),
])
def test_bad_text_raises_naming_it(d, text, error):
    with pytest.raises(error, match="text"):
        grade(d, text)


SHAPES_BOX = "X: n, p\nW: p, q\nb: 1, q\nG: n, q"


def test_the_playground_request_marks_the_first_wrong_line_with_the_engines_step():
    import json

    from derivlib.playground.requests import grade_request

    payload = json.dumps({"expr": "sum(G * sigmoid(X @ W + b))", "shapes": SHAPES_BOX, "wrt": "W",
                          "lines": _with(2, "dW = dZ.T @ X")})
    result = json.loads(grade_request(payload))
    assert result["ok"] and result["first_wrong"] == 2
    wrong = result["lines"][2]
    assert (wrong["kind"], wrong["diagnosis"], wrong["step"]["name"]) == (
        "wrong shape, its transpose is right", "shape-transposed", "G_W")
    assert wrong["step"]["latex"].startswith("G_{W} &= X^T")


@pytest.mark.parametrize(("lines", "field"), [
    pytest.param("", "steps", id="no-line"),
    pytest.param(None, "internal", id="not-text"),
])
def test_the_playground_request_never_raises(lines, field):
    from derivlib.playground.requests import run_grade

    result = run_grade("sum(G * sigmoid(X @ W + b))", SHAPES_BOX, "W", lines)
    assert (result["ok"], result["field"]) == (False, field) and result["message"]
