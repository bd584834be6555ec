"""derivlib.playground.exercises: the exercises page's requests (docs/exercises.md).

Each exercise's engine answer (the derivation's own steps, written as lines in the engine's
syntax) must be graded right line by line; a hint names the next step to write, first
the one a wrong line got wrong, then the first one missing; the requests never raise.
"""

from __future__ import annotations

import json

import pytest

from derivlib.playground.exercises import _derivation, answer, exercises, find, hint
from derivlib.playground.grade import grade
from derivlib.playground.requests import exercise_request, hint_request, run_exercise, run_hint

EXERCISES = exercises()
KEYS = [x.key for x in EXERCISES]


@pytest.mark.parametrize("key", KEYS)
def test_the_engines_answer_is_graded_right(key):
    x = find(key)
    graded = grade(_derivation(x), "\n".join(answer(_derivation(x), x.asks)))
    assert [g.name for g in graded if g.verdict == "wrong"] == []


@pytest.mark.parametrize("key", KEYS)
def test_the_engines_answer_solves_the_exercise(key):
    x = find(key)
    result = run_exercise(key, "\n".join(answer(_derivation(x), x.asks)))
    assert (result["solved"], result["missing"]) == (True, [])


def test_a_cell_with_blocks_of_columns_is_an_exercise():  # its dimensions are 4*h: 4 times h's size
    assert "lstm_cell" in KEYS


@pytest.mark.parametrize("key", ["sigmoid_layer", "two_layer", "tanh_layer", "linear_regression",
                                 "softmax_regression", "tied_autoencoder", "batch_norm", "attention",
                                 "conv_layer"])
def test_the_issues_networks_are_exercises(key):
    assert key in KEYS


def test_the_seed_networks_come_first():
    assert KEYS[:3] == ["sigmoid_layer", "linear_dot", "two_layer"]


@pytest.mark.parametrize(("key", "asks"), [
    pytest.param("softmax_labels", ("W", "b", "X"), id="softmax-labels"),
    pytest.param("embedding", ("E", "W", "b"), id="embedding"),
    pytest.param("svm_labels", ("W", "b", "X"), id="svm-labels"),
])
def test_a_network_with_an_index_vector_is_an_exercise(key, asks):
    assert find(key).asks == asks


def test_the_embeddings_answer_writes_the_scatter_as_a_product_with_onehot():
    x = find("embedding")
    assert "dE = onehot(y).T @ dH" in answer(_derivation(x), x.asks)


def test_the_embeddings_hint_after_dH_is_dE():
    h = hint(find("embedding"), "dH = G @ W.T")
    assert (h.name, h.line) == ("dE", "dE = onehot(y).T @ dH")


def test_the_exercise_request_grades_labels():
    result = run_exercise("softmax_labels", "dLambda = -onehot(y) / n\ndZ = dLambda - Yhat * sum(dLambda, axis=1)\n"
                                            "dW = X.T @ dZ\ndb = sum(dZ, axis=0)\ndX = dZ @ W.T")
    assert (result["solved"], result["first_wrong"]) == (True, None), result


def test_the_page_declares_the_index_vector():
    from derivlib.playground.exercises import page_html

    section = page_html().split('data-key="svm_labels"')[1].split("</section>")[0]
    assert "<code>y</code>: index vector, n integers in range(k)" in section


def test_a_convolutions_input_gradient_is_not_asked():  # it needs col2im, which the syntax lacks
    assert find("conv_layer").asks == ("K", "b")


SIGMOID = find("sigmoid_layer")


def test_the_first_hint_of_an_empty_answer_is_the_first_step():
    # the engine's dZ reads G itself (dS = G), so its first step is dZ
    h = hint(SIGMOID, "")
    assert (h.name, h.differential) == ("dZ", "dS = S ∘ (1 − S) ∘ dZ")


def test_the_hints_of_a_step_are_its_differential_identity_and_line():
    h = hint(SIGMOID, "dS = G")
    assert (h.name, h.differential, h.line) == ("dZ", "dS = S ∘ (1 − S) ∘ dZ", "dZ = G * S * (1 - S)")
    assert h.identity == "Ḡ : (S ∘ (1 − S) ∘ dA) = (Ḡ ∘ S ∘ (1 − S)) : dA"


def test_a_hint_points_at_the_first_wrong_line():
    h = hint(SIGMOID, "dS = G\ndZ = dS\ndW = X.T @ dZ")
    assert (h.name, h.why) == ("dZ", "Line 2, dZ, is not right yet (missing sigma').")


def test_the_hints_follow_the_answer_to_the_end():
    names, text = [], ""
    while (h := hint(SIGMOID, text)) is not None:
        names.append(h.name)
        text += h.line + "\n"
    assert names == ["dZ", "dX", "dW", "db"]


def test_the_hint_request_says_done_when_solved():
    result = run_hint("sigmoid_layer", "\n".join(answer(_derivation(SIGMOID), SIGMOID.asks)))
    assert (result["ok"], result["done"]) == (True, True)


def test_the_hint_request_carries_the_three_hints():
    result = json.loads(hint_request(json.dumps({"key": "sigmoid_layer", "lines": "dS = G"})))
    assert [result[k] for k in ("name", "line")] == ["dZ", "dZ = G * S * (1 - S)"]
    assert all(result[k] for k in ("differential_latex", "identity_latex", "latex"))


def test_the_exercise_request_grades_and_names_what_is_missing():
    result = json.loads(exercise_request(json.dumps({"key": "sigmoid_layer", "lines": "dS = G\ndW = X.T @ G"})))
    assert (result["solved"], result["missing"], result["first_wrong"]) == (False, ["dW", "db", "dX"], 1)


@pytest.mark.parametrize("request_", [
    pytest.param("not json", id="not-json"),
    pytest.param(json.dumps({"key": "nope", "lines": "dW = X"}), id="unknown-key"),
    pytest.param(json.dumps({"key": "sigmoid_layer"}), id="no-lines"),
    pytest.param(json.dumps({"key": "sigmoid_layer", "lines": "dW = ("}), id="bad-syntax"),
    pytest.param(json.dumps([1, 2]), id="a-list"),
])
@pytest.mark.parametrize("ask", [exercise_request, hint_request], ids=["exercise", "hint"])
def test_a_request_never_raises(request_, ask):
    assert isinstance(json.loads(ask(request_))["ok"], bool)
