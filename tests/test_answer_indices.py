"""The answer checker and the grader with index vectors (``y: index n, k``).

A reader's gradient may read the labels through ``onehot(y)``, ``pick(S, y)`` or
``take(E, y)``; the random point draws ``y`` (integers in ``range(k)``) as the engine's
check does, and the diagnosis names a transposed, sign-flipped or 1/n-off answer as it does
without labels. The networks: softmax cross-entropy with labels (on logits ``Theta`` and
the gallery's ``softmax_labels``), the embedding and the multiclass SVM of the gallery.
"""

from __future__ import annotations

import json

import pytest

from derivlib.playground.requests import answer_request, run_answer, run_grade

SOFTMAX = ("-mean(pick(log_softmax(Theta), y))", "Theta: n, k\ny: index n, k")
SOFTMAX_LABELS = ("-mean(pick(log_softmax(X @ W + b), y))", "X: n, p\nW: p, k\nb: 1, k\ny: index n, k")
EMBEDDING = ("H = take(E, y); sum(G * (H @ W + b))", "E: k, d\nW: d, q\nb: 1, q\nG: n, q\ny: index n, k")
SVM = ("S = X @ W + b; sum(relu(S - pick(S, y) + 1) * (1 - onehot(y))) / n",
       "X: n, p\nW: p, k\nb: 1, k\ny: index n, k")
MARGIN = "[Z > 0] * (1 - onehot(y)) / n"  # the SVM's ∂L/∂Z: each margin that counts, over n
SVM_DS = f"{MARGIN} - onehot(y) * sum({MARGIN}, axis=1)"  # both paths through S

ANSWERS = [
    pytest.param(SOFTMAX, "Theta", "(softmax(Theta) - onehot(y)) / n", "right", id="softmax-Theta-right"),
    pytest.param(SOFTMAX, "Theta", "(onehot(y) - softmax(Theta)) / n", "sign flipped", id="softmax-Theta-sign"),
    pytest.param(SOFTMAX, "Theta", "softmax(Theta) - onehot(y)", "off by 1/n", id="softmax-Theta-times-n"),
    pytest.param(SOFTMAX, "Theta", "(softmax(Theta) - onehot(y)).T / n", "wrong shape, its transpose is right",
                 id="softmax-Theta-transposed"),
    pytest.param(SOFTMAX, "Theta", "softmax(Theta) / n", "unrelated", id="softmax-Theta-labels-left-out"),
    pytest.param(SOFTMAX_LABELS, "W", "X.T @ (softmax(X @ W + b) - onehot(y)) / n", "right",
                 id="softmax-labels-W-right"),
    pytest.param(SOFTMAX_LABELS, "W", "X.T @ (Yhat - onehot(y)) / n", "right", id="softmax-labels-W-right-step-name"),
    pytest.param(SOFTMAX_LABELS, "b", "sum(Yhat - onehot(y), axis=0) / n", "right", id="softmax-labels-b-right"),
    pytest.param(SOFTMAX_LABELS, "b", "(Yhat - onehot(y)) / n", "not summed over the batch",
                 id="softmax-labels-b-not-summed"),
    pytest.param(EMBEDDING, "E", "onehot(y).T @ (G @ W.T)", "right", id="embedding-E-right"),
    pytest.param(EMBEDDING, "E", "(G @ W.T).T @ onehot(y)", "wrong shape, its transpose is right",
                 id="embedding-E-transposed"),
    pytest.param(EMBEDDING, "E", "onehot(y).T @ (G @ W.T) / n", "off by 1/n", id="embedding-E-divided-by-n"),
    pytest.param(EMBEDDING, "W", "take(E, y).T @ G", "right", id="embedding-W-right-take"),
    pytest.param(EMBEDDING, "W", "H.T @ G", "right", id="embedding-W-right-step-name"),
    pytest.param(SVM, "W", f"X.T @ ({SVM_DS})", "right", id="svm-W-right"),
    pytest.param(SVM, "W", "X.T @ ((1 - onehot(y)) / n - onehot(y) * sum((1 - onehot(y)) / n, axis=1))",
                 "missing sigma'", id="svm-W-missing-relu-prime"),
    pytest.param(SVM, "W", f"-X.T @ ({SVM_DS})", "sign flipped", id="svm-W-sign"),
]


@pytest.mark.parametrize(("network", "wrt", "answer", "kind"), ANSWERS)
def test_an_answer_reading_the_labels_is_diagnosed(network, wrt, answer, kind):
    result = run_answer(*network, "", wrt, answer)
    assert (result["ok"], result["kind"]) == (True, kind), result


@pytest.mark.parametrize("answer", ["(softmax(Theta) - y) / n", "y.T @ Theta", "softmax(Theta) * y"],
                         ids=["minus-y", "y-transposed", "times-y"])
def test_an_answer_using_the_labels_as_a_matrix_is_a_clear_message(answer):
    result = run_answer(*SOFTMAX, "", "Theta", answer)
    assert (result["ok"], result["field"]) == (False, "answer-expr"), result
    assert "y is an index vector" in result["message"] and "onehot(y)" in result["message"], result


def test_asking_for_the_gradient_of_the_labels_is_a_clear_message():
    result = run_answer(*SOFTMAX, "", "y", "onehot(y)")
    assert (result["ok"], result["field"]) == (False, "answer-wrt"), result
    assert "index vector" in result["message"], result


def test_the_answer_request_takes_and_gives_json_with_labels():
    out = json.loads(answer_request(json.dumps({"expr": SOFTMAX_LABELS[0], "shapes": SOFTMAX_LABELS[1], "wrt": "W",
                                                "answer_wrt": "W", "answer_expr": "X.T @ (Yhat - onehot(y))"})))
    assert (out["ok"], out["verdict"], out["kind"]) == (True, "wrong", "off by 1/n"), out


def test_run_grade_grades_the_embeddings_lines():
    result = run_grade(*EMBEDDING, "", "dH = G @ W.T\ndE = onehot(y).T @ dH\ndW = H.T @ G\ndb = sum(G, axis=0)")
    assert result["ok"], result
    assert [(g["name"], g["verdict"]) for g in result["lines"]] == [
        ("dH", "right"), ("dE", "right"), ("dW", "right"), ("db", "right")]


def test_run_grade_names_the_first_wrong_line_with_labels():
    result = run_grade(*EMBEDDING, "", "dH = G @ W.T\ndE = dH.T @ onehot(y)")
    assert (result["ok"], result["first_wrong"]) == (True, 1), result
    assert result["lines"][1]["kind"] == "wrong shape, its transpose is right", result


def test_run_grade_names_a_path_missing_through_the_svms_scores():
    result = run_grade(*SVM, "", f"dZ = {MARGIN}\ndS = dZ")
    assert result["ok"], result
    assert [(g["name"], g["kind"]) for g in result["lines"]] == [("dZ", "right"), ("dS", "a path missing")], result


def test_run_grade_says_a_line_using_the_labels_as_a_matrix_cannot_be_evaluated():
    result = run_grade(*SOFTMAX, "", "dTheta = (softmax(Theta) - y) / n")
    assert result["ok"], result
    line = result["lines"][0]
    assert line["verdict"] == "wrong" and "y is an index vector" in line["message"], result
