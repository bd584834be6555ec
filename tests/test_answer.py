"""derivlib.playground.answer: the playground's answer check, in pure Python.

The diagnosis is tested on small hand-made matrices (each wrong answer built from the true
gradient by the mistake it names); the whole check, through the engine, on the sigmoid
layer, a mean-squared-error regression and the two-layer network, with the wrong answers
people write.
"""

from __future__ import annotations

import random

import pytest

from derivlib.playground.answer import diagnose, dimension_sizes, random_env
from derivlib.playground.requests import parse_shapes, parse_wrt

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
    pytest.param("X: n, 0", "whole number >= 1; got 0", id="zero"),
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


# -- the whole check, through the engine ---------------------------------------------------

SIGMOID = ("sum(G * sigmoid(X @ W + b))", "X: n, p\nW: p, q\nb: 1, q\nG: n, q")
REGRESSION = ("mean((X @ w + b - y) ** 2)", "X: n, p\nw: p, 1\nb: 1, 1\ny: n, 1")
TWO_LAYER = ("-mean(sum(Y * log_softmax(sigmoid(X @ W1 + b1) @ W2 + b2), axis=1))",
             "X: n, d\nW1: d, h\nb1: 1, h\nW2: h, k\nb2: 1, k\nY: n, k")
DELTA = "G * S * (1 - S)"
DELTA2 = "(Yhat * sum(Y, axis=1) - Y) / n"  # the two-layer output's adjoint, for any target rows

ANSWERS = [
    pytest.param(SIGMOID, "W", f"X.T @ ({DELTA})", "right", id="sigmoid-W-right"),
    pytest.param(SIGMOID, "W", "X.T @ (G * sigmoid(X @ W + b) * (1 - sigmoid(X @ W + b)))", "right",
                 id="sigmoid-W-right-without-names"),
    pytest.param(SIGMOID, "b", f"sum({DELTA}, axis=0)", "right", id="sigmoid-b-right"),
    pytest.param(SIGMOID, "X", f"({DELTA}) @ W.T", "right", id="sigmoid-X-right"),
    pytest.param(SIGMOID, "W", f"({DELTA}).T @ X", "wrong shape, its transpose is right", id="sigmoid-W-transposed"),
    pytest.param(SIGMOID, "W", "X.T @ G", "missing sigma'", id="sigmoid-W-missing-sigma-prime"),
    pytest.param(SIGMOID, "b", DELTA, "not summed over the batch", id="sigmoid-b-not-summed"),
    pytest.param(SIGMOID, "X", f"-({DELTA}) @ W.T", "sign flipped", id="sigmoid-X-sign"),
    pytest.param(SIGMOID, "W", f"X.T @ ({DELTA}) / n", "off by 1/n", id="sigmoid-W-divided-by-n"),
    pytest.param(SIGMOID, "W", f"2 * X.T @ ({DELTA})", "off by a factor", id="sigmoid-W-factor-2"),
    pytest.param(SIGMOID, "W", f"3 * X.T @ ({DELTA})", "off by a factor", id="sigmoid-W-factor-3-not-n"),
    pytest.param(SIGMOID, "W", f"n * X.T @ ({DELTA})", "off by 1/n", id="sigmoid-W-times-n"),
    pytest.param(SIGMOID, "W", f"X.T @ ({DELTA} * S)", "unrelated", id="sigmoid-W-unrelated"),
    pytest.param(REGRESSION, "w", "2 * X.T @ (X @ w + b - y) / n", "right", id="regression-w-right"),
    pytest.param(REGRESSION, "w", "2 * X.T @ (X @ w + b - y)", "off by 1/n", id="regression-w-times-n"),
    pytest.param(TWO_LAYER, "W2", f"S.T @ ({DELTA2})", "right", id="two-layer-W2-right"),
    pytest.param(TWO_LAYER, "W1", f"X.T @ (({DELTA2}) @ W2.T * S * (1 - S))", "right", id="two-layer-W1-right"),
    pytest.param(TWO_LAYER, "W1", f"X.T @ (({DELTA2}) @ W2.T)", "missing sigma'", id="two-layer-W1-missing-sigma-prime"),
    pytest.param(TWO_LAYER, "W1", f"X.T @ (({DELTA2}) @ W1.T * S * (1 - S))", None, id="two-layer-W1-wrong-weight"),
]


def _run(network, wrt, answer):
    from derivlib.playground.requests import run_answer

    expr, shapes = network
    return run_answer(expr, shapes, "", wrt, answer)


@pytest.mark.parametrize(("network", "wrt", "answer", "kind"), ANSWERS)
def test_check_answer_diagnoses_through_the_engine(network, wrt, answer, kind):
    result = _run(network, wrt, answer)
    if kind is None:  # W1.T where W2.T belongs does not conform: shown next to the answer
        assert (result["ok"], result["field"]) == (False, "answer-expr"), result
        assert "W1.T" in result["message"], result
    else:
        assert (result["ok"], result["kind"]) == (True, kind), result
        assert result["verdict"] == ("right" if kind == "right" else "wrong")


@pytest.mark.parametrize(("field", "expr", "shapes", "wrt", "words"), [
    pytest.param("shapes", SIGMOID[0], "X n p", "W", "line 1", id="shape-line"),
    pytest.param("wrt", SIGMOID[0], SIGMOID[1], "W, Q", "'Q' has no shape", id="wrt-unknown"),
    pytest.param("expr", "sum(G * sigmoid(X @ W.T + b))", SIGMOID[1], "W", "X @ W.T", id="not-conforming"),
    pytest.param("expr", "__import__('os').system('true')", SIGMOID[1], "W", "", id="no-calls-but-the-engine's"),
])
def test_run_derive_puts_an_input_error_next_to_its_input(field, expr, shapes, wrt, words):
    from derivlib.playground.requests import run_derive

    result = run_derive(expr, shapes, wrt)
    assert (result["ok"], result["field"]) == (False, field), result
    assert words in result["message"]


def test_run_derive_hints_an_undeclared_name_in_the_boxs_syntax():
    from derivlib.playground.requests import run_derive

    result = run_derive("sum(G * sigmoid(X @ W + c))", SIGMOID[1], "W")
    assert (result["ok"], result["field"]) == (False, "expr"), result
    assert "give its shape in the shapes box, e.g. c: n, q" in result["message"]
    assert "shapes={" not in result["message"]


def test_the_requests_take_and_give_json():
    import json

    from derivlib.playground.requests import answer_request, derive_request

    derived = json.loads(derive_request(json.dumps({"expr": SIGMOID[0], "shapes": SIGMOID[1], "wrt": "W, b"})))
    assert derived["ok"] and derived["check"]["passed"]
    answered = json.loads(answer_request(json.dumps({"expr": SIGMOID[0], "shapes": SIGMOID[1], "wrt": "W",
                                                     "answer_wrt": "W", "answer_expr": "X.T @ G"})))
    assert answered["kind"] == "missing sigma'"


def test_the_playground_runs_without_numpy():
    """What the browser runs imports only the standard library (numpy is blocked here)."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['numpy'] = None\n"
            "from derivlib.playground.requests import run_answer, run_derive\n"
            f"assert run_derive({SIGMOID[0]!r}, {SIGMOID[1]!r}, 'W, b, X')['check']['passed']\n"
            f"assert run_answer({SIGMOID[0]!r}, {SIGMOID[1]!r}, '', 'W', 'X.T @ G')['kind'] == \"missing sigma'\"\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the same wrong answers through derivlib.check.gradcheck: the same kind ---------------

def _sigmoid_point():
    import numpy as np

    rng = np.random.default_rng(1)
    X, W, b, G = (rng.standard_normal(s) for s in ((3, 5), (5, 7), (1, 7), (3, 7)))
    S = 1 / (1 + np.exp(-(X @ W + b)))
    return {"X": X, "W": W, "b": b, "G": G, "S": S, "D": G * S * (1 - S)}


def _sigmoid_loss(X, W, b, G):
    import numpy as np

    return float(np.sum(G / (1 + np.exp(-(X @ W + b)))))


# (which gradient, the wrong answer in the playground's syntax, the same answer in numpy)
SAME_ANSWERS = [
    pytest.param("W", f"({DELTA}).T @ X", lambda v: v["D"].T @ v["X"], id="transposed"),
    pytest.param("W", "X.T @ G", lambda v: v["X"].T @ v["G"], id="missing-sigma-prime"),
    pytest.param("b", DELTA, lambda v: v["D"], id="not-summed"),
    pytest.param("X", f"-({DELTA}) @ W.T", lambda v: -v["D"] @ v["W"].T, id="sign"),
    pytest.param("W", f"X.T @ ({DELTA}) / n", lambda v: v["X"].T @ v["D"] / 3, id="divided-by-n"),
    pytest.param("W", f"2 * X.T @ ({DELTA})", lambda v: 2 * v["X"].T @ v["D"], id="factor-2"),
    pytest.param("W", f"X.T @ ({DELTA} * S)", lambda v: v["X"].T @ (v["D"] * v["S"]), id="unrelated"),
]


@pytest.mark.parametrize(("wrt", "answer", "numpy_answer"), SAME_ANSWERS)
def test_the_diagnosis_is_gradchecks_kind(wrt, answer, numpy_answer):
    from derivlib.check import GradCheckError, gradcheck

    point = _sigmoid_point()
    names = ["X", "W", "b", "G"]
    grads = [numpy_answer(point) if name == wrt else None for name in names]
    with pytest.raises(GradCheckError) as caught:
        gradcheck(_sigmoid_loss, [point[name] for name in names], grads)
    ours = _run(SIGMOID, wrt, answer)
    assert ours["diagnosis"] == caught.value.kind.value, (ours, caught.value.diagnosis)




def _example(key):
    from derivlib.playground.requests import EXAMPLES

    return next((e["expr"], e["shapes"]) for e in EXAMPLES if e["key"] == key)


@pytest.mark.parametrize(("key", "wrt", "answer", "kind"), [
    pytest.param("two_layer", "W2", "H.T @ (Yhat - Y) / n", "right only if the rows of the target sum to 1",
                 id="two-layer-one-hot-formula"),
    pytest.param("two_layer", "W2", "H.T @ (Yhat - Y)", "off by 1/n", id="two-layer-one-hot-formula-times-n"),
    pytest.param("two_layer", "W1", "X.T @ ((Yhat * sum(Y, axis=1) - Y) / n @ W2.T)", "missing sigma'",
                 id="two-layer-named-steps-missing-sigma-prime"),
    pytest.param("logistic_regression", "w", "X.T @ ((P - y) / (P * (1 - P))) / n", "missing sigma'",
                 id="logistic-missing-sigma-prime"),
    pytest.param("logistic_regression", "w", "X.T @ (P - y) / n", "right", id="logistic-right"),
    pytest.param("attention", "V", "G.T @ softmax(Q @ K.T / c)", "wrong shape, its transpose is right",
                 id="attention-V-transposed"),
    pytest.param("relu_three_layer", "W3", "H2.T @ (softmax(H2 @ W3 + b3) * sum(Y, axis=1) - Y) / n", "right",
                 id="relu-W3-right"),
])
def test_check_answer_on_the_gallery(key, wrt, answer, kind):
    result = _run(_example(key), wrt, answer)
    assert (result["ok"], result["kind"]) == (True, kind), result


# -- the answer language accepts what the derivation shows; two precise diagnoses ---------------

def _check(key, wrt, answer):
    from derivlib.engine import derive
    from derivlib.playground.answer import check_answer
    from derivlib.playground.gallery import EXAMPLES

    e = EXAMPLES[key]
    return check_answer(derive(e.expr, e.shapes, wrt=[wrt]), e.expr, e.shapes, wrt, answer)


@pytest.mark.parametrize(("key", "wrt", "answer"), [
    pytest.param("residual_block", "W1", "X.T @ (G @ W2.T * [Z > 0])", id="relu-step-in-brackets"),
    pytest.param("residual_block", "W1", "X.T @ (G @ W2.T * (Z > 0))", id="relu-step-in-parentheses"),
    pytest.param("residual_block", "W1", "X.T @ (G_R * [Z > 0])", id="backward-name-G_R"),
    pytest.param("residual_block", "W1", "X.T @ Delta", id="backward-name-Delta"),
    pytest.param("sigmoid_layer", "W", "X.T @ Delta", id="sigmoid-Delta"),
    pytest.param("two_layer", "W1", "X.T @ delta1", id="two-layer-delta1"),
    pytest.param("two_layer", "W1", "X.T @ (G_H * H * (1 - H))", id="two-layer-G_H"),
    pytest.param("two_layer", "W2", "H.T @ delta2", id="two-layer-delta2-asked-alone"),
    pytest.param("relu_three_layer", "W1", "X.T @ (delta2 @ W2.T * [Z1 > 0])", id="relu-three-layer-delta2"),
])
def test_an_answer_may_use_what_the_derivation_shows(key, wrt, answer):
    assert _check(key, wrt, answer).right


def test_an_answer_may_not_name_the_gradient_it_is_asked_for():
    with pytest.raises(ValueError, match="G_W is ∂L/∂W itself"):
        _check("sigmoid_layer", "W", "X.T @ G + G_W")


@pytest.mark.parametrize(("answer", "missing"), [
    pytest.param("(Xhat - X).T @ S", "dZ = X dW", id="only-the-decoder-path"),
    pytest.param("X.T @ ((Xhat - X) @ W * S * (1 - S))", "dX̂ = S dWᵀ", id="only-the-encoder-path"),
])
def test_a_tied_weight_answer_with_one_path_names_the_missing_one(answer, missing):
    verdict = _check("tied_autoencoder", "W", answer)
    assert verdict.kind == "a path missing", verdict
    assert missing in verdict.message, verdict.message


def test_a_tied_weight_answer_without_names_names_the_missing_path():
    from derivlib.engine import derive
    from derivlib.playground.answer import check_answer

    expr, shapes = "sum((sigmoid(X @ W) @ W.T - X) ** 2)", {"X": ("n", "p"), "W": ("p", "h")}
    answer = "2 * (sigmoid(X @ W) @ W.T - X).T @ sigmoid(X @ W)"
    assert check_answer(derive(expr, shapes, wrt=["W"]), expr, shapes, "W", answer).kind == "a path missing"


@pytest.mark.parametrize(("key", "wrt", "answer"), [
    pytest.param("two_layer", "b2", "(Yhat - Y) / n", id="two-layer-one-hot-formula"),
    pytest.param("relu_three_layer", "b3", "(Yhat - Y) / n", id="relu-one-hot-formula"),
])
def test_an_unsummed_softmax_cross_entropy_bias_is_not_summed(key, wrt, answer):
    assert _check(key, wrt, answer).kind == "not summed over the batch"


def test_the_playground_says_an_unsummed_bias_is_not_summed():
    result = _run(_example("two_layer"), "b2", "(Yhat - Y) / n")
    assert (result["ok"], result["kind"]) == (True, "not summed over the batch"), result


def test_the_playground_echoes_the_parentheses_the_reader_typed():
    result = _run(SIGMOID, "W", "(S * (1 - S)) @ X.T")
    assert (result["ok"], result["field"]) == (False, "answer-expr"), result
    assert result["message"].startswith("(S * (1 - S)) @ X.T:"), result["message"]


@pytest.mark.parametrize("answer", ["X.T @ (G * [Z >= 0])", "X.T @ (G * [Z > 1])", "X.T @ (G * [Z, Z])"],
                         ids=["greater-or-equal", "not-zero", "a-list"])
def test_only_the_step_function_is_a_comparison(answer):
    with pytest.raises(ValueError, match=r"\[A > 0\]"):
        _check("residual_block", "W1", answer)
