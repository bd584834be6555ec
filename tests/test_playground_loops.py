"""Loops in the playground (derivlib/playground/requests.py) and the check of a loop's "why"
column (``LoopDerivation.check_why``): the gallery's loops derive from what a reader types,
with their verdict; every displayed differential of the body and the read-out is checked."""

from __future__ import annotations

import json

import pytest

from derivlib.engine import derive
from derivlib.engine.adjoint import DifferentialError
from derivlib.engine.nodes import mk_mul, ref
from derivlib.engine.rules import RULES
from derivlib.playground.gallery import LOOPS
from derivlib.playground.requests import EXAMPLES, answer_request, derive_request, run_answer, run_derive, run_grade

LOOP_PARAMS = [pytest.param(e, id=e.key) for e in LOOPS]
BOX = {e["key"]: e for e in EXAMPLES}  # what an example's button puts in the boxes
RNN_SHAPES = "X: T, n, d\nY: T, n, k\nH0: n, h\nWx: d, h\nWh: h, h\nb: 1, h\nV: h, k\nc: 1, k"


def _typed(e):
    box = BOX[e.key]
    return box["expr"], box["shapes"], box["wrt"]


# -- the playground derives a loop ------------------------------------------------------------------


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_a_gallery_loop_is_among_the_playgrounds_examples(example):
    assert BOX[example.key]["expr"] == example.expr  # the newlines kept: the program's lines


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_a_loops_sequences_fill_the_shapes_box_with_three_entries(example):
    seq = next(k for k, v in example.shapes.items() if len(v) == 3)
    line = f"{seq}: {', '.join(str(d) for d in example.shapes[seq])}"
    assert line in BOX[example.key]["shapes"].splitlines()


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_a_gallery_loop_derives_in_the_playground_and_checks_right(example):
    result = run_derive(*_typed(example))
    assert result["ok"], result
    assert (result["check"]["verdict"], result["check"]["passed"]) == ("right", True), result["check"]


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_a_loops_check_has_a_verdict_per_gradient(example):
    check = run_derive(*_typed(example))["check"]
    assert [s["symbol"] for s in check["steps"]] == [f"G_{v}" for v in example.wrt]
    assert all(s["verdict"] == "right" and s["ok"] for s in check["steps"]), check


def test_a_loops_check_says_its_error_as_a_share_of_the_tolerance_not_a_relative_error():
    d = derive(LOOPS[0].expr, LOOPS[0].shapes, list(LOOPS[0].wrt))
    ratio = d.check_pure().errors["Wh"]  # |directional derivative − central difference| / tolerance
    step = next(s for s in run_derive(*_typed(LOOPS[0]))["check"]["steps"] if s["symbol"] == "G_Wh")
    assert (step["rel_error"], step["measure"]) == ("", f"{ratio:.0e} of the tolerance")


def test_a_wrong_loop_gradient_is_shown_wrong_not_raised(monkeypatch):
    import derivlib.engine.looppure as lp

    right = lp.gradients_pure

    def wrong(ld, values):  # G_Wh doubled
        g = right(ld, values)
        return {**g, "Wh": [[2 * x for x in row] for row in g["Wh"]]}

    monkeypatch.setattr(lp, "gradients_pure", wrong)
    check = run_derive(*_typed(LOOPS[0]))["check"]
    assert (check["verdict"], check["passed"]) == ("wrong", False)
    assert [s["symbol"] for s in check["steps"] if not s["ok"]] == ["G_Wh"]


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_a_loops_text_latex_and_code_are_the_derivations(example):
    result = run_derive(*_typed(example))
    d = derive(example.expr, example.shapes, list(example.wrt))
    assert (result["text"], result["latex"], result["numpy"]) == (d.text(), d.latex(), d.numpy_source())


def test_a_loops_steps_are_its_lines_each_with_its_latex():
    result = run_derive(*_typed(LOOPS[0]))  # rnn_every_step
    step = next(s for s in result["steps"] if s["name"] == "G_Wh")
    assert step["text"].startswith("G_Wh = Σₜ Hₜ₋₁ᵀ δ₁,ₜ") and step["latex"] == r"G_{\mathrm{Wh}} = \sum_{t} H_{t-1}^T \delta_{1,t}"
    assert step["numpy"] is None  # a line of a loop: the generated code is copied whole


def test_a_loop_derives_through_the_json_request():
    expr, shapes, wrt = _typed(LOOPS[3])
    result = json.loads(derive_request(json.dumps({"expr": expr, "shapes": shapes, "wrt": wrt})))
    assert result["ok"] and result["check"]["verdict"] == "right", result


def test_a_program_typed_with_windows_line_ends_derives():
    expr, shapes, wrt = _typed(LOOPS[1])
    result = run_derive(expr.replace("\n", "\r\n"), shapes, wrt)
    assert result["ok"] and result["check"]["passed"], result


@pytest.mark.parametrize(("field", "expr", "shapes", "words"), [
    pytest.param("shapes", "sum(G * X)", "X: T, n, d\nG: n, d", "three entries declare a sequence",
                 id="a-sequence-without-a-loop"),
    pytest.param("shapes", LOOPS[0].expr, "X: T, n, d, e", "line 1", id="four-entries"),
    pytest.param("expr", LOOPS[0].expr.replace("X[t]", "X[0]"), RNN_SHAPES,
                 "read at the loop variable only", id="indexing-other-than-t"),
    pytest.param("expr", "H = H0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H @ Wh\nsum(H)",
                 RNN_SHAPES, "not valid Python syntax", id="syntax-error"),
])
def test_an_error_in_a_loop_is_a_plain_message_next_to_its_input(field, expr, shapes, words):
    result = run_derive(expr, shapes, "X")
    assert (result["ok"], result["field"]) == (False, field), result
    assert words in result["message"] and "Traceback" not in result["message"]


@pytest.mark.parametrize("run", [
    pytest.param(lambda e, s, w: run_answer(e, s, w, "Wx", "X.T @ G"), id="check-my-answer"),
    pytest.param(lambda e, s, w: run_grade(e, s, w, "dWx = X.T @ G"), id="check-my-steps"),
])
def test_checking_an_answer_on_a_loop_says_it_takes_a_network_without_loops(run):
    result = run(*_typed(LOOPS[0]))
    assert result["ok"] is False and result["field"] in ("answer-expr", "steps"), result
    assert "without a loop" in result["message"], result


def test_checking_an_answer_on_a_loop_through_the_json_request_is_the_same_message():
    expr, shapes, _ = _typed(LOOPS[0])
    result = json.loads(answer_request(json.dumps({"expr": expr, "shapes": shapes, "wrt": "",
                                                   "answer_wrt": "Wx", "answer_expr": "X.T @ G"})))
    assert result["field"] == "answer-expr" and "without a loop" in result["message"], result


def test_a_loop_derives_in_the_playground_without_numpy():
    import subprocess
    import sys

    code = ("import sys; sys.modules['numpy'] = None\n"
            "from derivlib.playground.requests import EXAMPLES, run_derive\n"
            "e = next(e for e in EXAMPLES if e['key'] == 'lstm_over_time')\n"
            "assert run_derive(e['expr'], e['shapes'], e['wrt'])['check']['passed']\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- LoopDerivation.check_why: the "why" column ---------------------------------------------------------


def _loop(example):
    return derive(example.expr, example.shapes, list(example.wrt))


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_check_why_checks_every_differential_of_the_body(example):
    d = _loop(example)
    report = d.check_why()
    assert report.body.checked == d.body.check_why().checked


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_the_bodys_differentials_check_after_the_text_is_shown(example):
    d = _loop(example)
    d.text()  # spells the adjoint from step t+1 as the next step's expression, for the display
    assert d.body.check_why().checked


@pytest.mark.parametrize("key", ["rnn_last_step", "sigmoid_stack"])
def test_check_why_checks_every_differential_of_the_read_out(key):
    d = _loop(next(e for e in LOOPS if e.key == key))
    report = d.check_why()
    assert report.readout is not None and report.readout.checked == d.readout.check_why().checked
    assert len(report.checked) == len(report.body.checked) + len(report.readout.checked)


def test_check_why_of_a_loop_without_a_read_out_has_none():
    assert _loop(LOOPS[0]).check_why().readout is None


@pytest.mark.parametrize("line", [
    pytest.param("G_Hₜ = Δₜ₊₁ Whᵀ", id="from-step-t+1"),
    pytest.param("G_Wh = Σₜ Hₜ₋₁ᵀ Δₜ", id="sum-over-t"),
    pytest.param("G_H₀ = Δ₁ Whᵀ", id="initial-state"),
])
def test_check_why_explains_the_lines_it_does_not_check_as_differentials(line):
    d = _loop(LOOPS[1])  # rnn_last_step
    exact = dict(d.check_why().exact)
    assert line in exact and exact[line], exact


def test_check_why_report_says_what_was_checked_and_what_is_exact():
    said = str(_loop(LOOPS[1]).check_why())
    assert "the loop body:" in said and "the read-out:" in said
    assert "from step t+1" in said and "a sum over t" in said


def test_check_why_keeps_the_loops_sizes():
    report = _loop(LOOPS[0]).check_why(sizes={"T": 4, "h": 3})
    assert report.body.sizes["h"] == 3


def test_check_why_names_a_size_that_is_no_dimension_of_the_loop():
    with pytest.raises(ValueError, match="'q' is not a dimension"):
        _loop(LOOPS[0]).check_why(sizes={"q": 3})


def _sigmoid_without_one_minus_s(out, args, d):  # dS = S ∘ dZ
    return mk_mul(ref(out), d[0])


def test_check_why_names_a_wrong_differential_of_the_body(monkeypatch):
    monkeypatch.setitem(RULES, "sigmoid", RULES["sigmoid"]._replace(jvp=_sigmoid_without_one_minus_s))
    d = _loop(LOOPS[3])  # sigmoid_stack
    with pytest.raises(DifferentialError, match=r"the loop body, step .*: not the adjoint"):
        d.check_why()


def test_check_why_names_a_wrong_differential_of_the_read_out(monkeypatch):
    # dΛ = dZ, without the row sums: log_softmax is in the read-out only
    monkeypatch.setitem(RULES, "log_softmax", RULES["log_softmax"]._replace(jvp=lambda out, args, d: d[0]))
    d = _loop(LOOPS[1])  # rnn_last_step: -sum(Y * log_softmax(H @ V + c)) / n after the loop
    with pytest.raises(DifferentialError, match=r"^the read-out, step .*: not the adjoint"):
        d.check_why()
