"""Every public entry point raises only ValueError/TypeError naming the input, or returns the
playground's error shape; deep and long expressions work up to the engine's limits."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from derivlib.__main__ import main
from derivlib.engine import derive, evaluate_pure, parse
from derivlib.playground import requests as playground
from derivlib.engine.limits import MAX_DEPTH

XP = {"X": ("n", "p")}


def _chain(n):
    return "; ".join(["H1 = tanh(X)"] + [f"H{i + 1} = tanh(H{i})" for i in range(1, n)]) + f"; sum(H{n})"


def _network(layers):
    body = ["H1 = relu(X @ W + b)"] + [f"H{i + 1} = relu(H{i} @ W + b)" for i in range(1, layers)]
    return "; ".join(body) + f"; mean((H{layers} - Y) ** 2)"


NET = {"X": ("n", "p"), "W": ("p", "p"), "b": (1, "p"), "Y": ("n", "p")}
DEEP = [
    pytest.param(" + ".join(["sum(X)"] * 330), XP, id="330-term-sum"),
    pytest.param(" + ".join(["sum(X)"] * 1000), XP, id="1000-term-sum"),
    pytest.param("sum(" + "-" * 1000 + "X)", XP, id="1000-nested-negations"),
    pytest.param(_chain(1000), XP, id="1000-nested-tanh"),
    pytest.param(_network(500), NET, id="500-layer-network"),
]


@pytest.mark.parametrize(("expr", "shapes"), DEEP)
def test_a_deep_or_long_expression_is_derived_and_rendered(expr, shapes):
    d = derive(expr, shapes)
    assert d.text() and d.latex() and d.numpy_source() and all(s.text for s in d.steps)


def _torch_chain(x, depth):
    import torch

    h = torch.tensor(x, requires_grad=True)
    out = h
    for _ in range(depth):
        out = torch.tanh(out)
    out.sum().backward()
    return h.grad.numpy()


def _torch_network(values, layers):
    import torch

    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    h = t["X"]
    for _ in range(layers):
        h = torch.relu(h @ t["W"] + t["b"])
    ((h - t["Y"]) ** 2).mean().backward()
    return {k: v.grad.numpy() for k, v in t.items()}


def test_the_gradient_of_a_1000_deep_chain_equals_torch():
    x = np.random.default_rng(0).standard_normal((2, 3))
    got = derive(_chain(1000), XP).gradients({"X": x})["X"]
    np.testing.assert_allclose(got, _torch_chain(x, 1000), rtol=1e-12, atol=0)


def test_the_gradients_of_a_500_layer_network_equal_torch():
    rng = np.random.default_rng(1)
    values = {"X": rng.standard_normal((4, 3)), "W": np.eye(3) + 0.1 * rng.standard_normal((3, 3)),
              "b": 0.01 * rng.standard_normal((1, 3)), "Y": rng.standard_normal((4, 3))}
    got = derive(_network(500), NET).gradients(values)
    want = _torch_network(values, 500)
    for k in values:  # float64 through 500 products: agreement to rounding of the larger entries
        scale = np.abs(want[k]).max()
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=1e-10 * scale, err_msg=k)


def test_the_why_lines_of_a_330_deep_chain_are_checked():  # was a RecursionError
    assert derive(_chain(330), XP).check_why(sizes={"n": 2, "p": 3}).ok


# checked at full depth the finite differences re-evaluate the chain below each step (quadratic):
# the check is run on the same expressions 100 deep, the derivation's walks at full depth above
# (a hundred relu layers shrink the early adjoints below the finite differences' rounding noise in
# pure Python, and put pre-activations near a kink: it says so, "cannot tell", with those reasons)
@pytest.mark.parametrize(("expr", "shapes", "pure"), [
    pytest.param(" + ".join(["sum(X)"] * 330), XP, "right", id="330-term-sum"),
    pytest.param("sum(" + "-" * 1000 + "X)", XP, "right", id="1000-nested-negations"),
    pytest.param(_chain(100), XP, "right", id="100-nested-tanh"),
    pytest.param(_network(100), NET, "cannot tell", id="100-layer-network"),
])
def test_a_deep_expression_is_checked(expr, shapes, pure):
    d = derive(expr, shapes)
    assert d.check(sizes={"n": 2, "p": 3}).verdict == "right"
    report = d.check_pure(sizes={"n": 2, "p": 3})
    assert report.verdict == pure
    assert pure == "right" or all("rounding noise" in s.reason or "a kink" in s.reason
                                  for s in report.steps if s.verdict == "cannot tell")


def test_the_numpy_source_of_a_deep_chain_runs():
    d = derive(_chain(1000), XP)
    namespace = {}
    exec(d.numpy_source(), namespace)  # noqa: S102 - the engine's own output
    x = np.random.default_rng(0).standard_normal((2, 3)) * 0.1
    np.testing.assert_allclose(namespace["backward"](X=x)["X"], d.gradients({"X": x})["X"], rtol=1e-12)


def test_too_deep_is_refused_naming_the_limit():
    with pytest.raises(ValueError, match=f"at most {MAX_DEPTH:,}"):
        derive(_chain(MAX_DEPTH + 1), XP)


def test_in_the_browser_a_recursion_error_names_the_limit(monkeypatch):
    from derivlib.engine import limits

    monkeypatch.setattr(limits, "BROWSER", True)
    with pytest.raises(ValueError, match="nested too deeply.*recursion limit"):
        derive(_chain(1000), XP).text()


# -- the command line -------------------------------------------------------------------------

CLI_DOMAIN = [
    pytest.param(["sum(log(X @ W))", "--shape", "X=n,p", "--shape", "W=p,q"], id="log-of-a-product"),
    pytest.param(["sum(sqrt(X - Y))", "--shape", "X=n,p", "--shape", "Y=n,p"], id="sqrt-of-a-difference"),
]


@pytest.mark.parametrize("argv", CLI_DOMAIN)
def test_the_cli_cannot_tell_outside_the_domain(argv, capsys):
    assert main(["derive", *argv]) == 3
    out, err = capsys.readouterr()
    assert "cannot tell here" in out and "try another seed" in out and "Traceback" not in out + err


def test_the_cli_refuses_huge_sizes_before_allocating(capsys):
    with pytest.raises(SystemExit) as code:
        main(["derive", "sum(X @ W)", "--shape", "X=n,p", "--shape", "W=p,q", "--size", "n=100000",
              "--size", "p=100000"])
    assert code.value.code == 2 and "at most 10,000" in capsys.readouterr().err


def test_the_cli_refuses_a_variable_too_large(capsys):
    assert main(["derive", "sum(X @ W)", "--shape", "X=n,p", "--shape", "W=p,q", "--size", "n=5000",
                 "--size", "p=5000"]) == 2
    assert "at most 1,000,000" in capsys.readouterr().err


def test_the_cli_says_right(capsys):
    assert main(["derive", "sum(G * relu(relu(X)))", "--shape", "G=n,p", "--shape", "X=n,p"]) == 0
    assert "\nright (" in capsys.readouterr().out


def test_the_cli_turns_an_internal_error_into_a_message(monkeypatch, capsys):
    import derivlib.engine

    monkeypatch.setattr(derivlib.engine, "derive", lambda *a, **k: {}["boom"])
    assert main(["derive", "sum(X)", "--shape", "X=n,p"]) == 4
    err = capsys.readouterr().err
    assert "internal error" in err and "please report" in err and "Traceback" not in err


# -- the playground -------------------------------------------------------------------------------

def test_the_playground_turns_an_internal_error_into_a_message(monkeypatch):
    monkeypatch.setattr(playground, "derive", lambda *a, **k: {}["boom"])
    result = playground.run_derive("sum(X)", "X: n, p", "X")
    assert result["ok"] is False and result["field"] == "internal"
    assert "'sum(X)'" in result["message"] and "report" in result["message"]


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", json.dumps({"expr": "sum(X)"})])
def test_a_malformed_request_is_answered(payload):
    for request in (playground.derive_request, playground.answer_request):
        assert json.loads(request(payload))["field"] == "internal"


@pytest.mark.parametrize(("expr", "shapes", "verdict"), [
    pytest.param("sum(G * relu(relu(X)))", "G: n, p\nX: n, p", "right", id="right"),
    pytest.param("sum(log(X @ W))", "X: n, p\nW: p, q", "cannot tell", id="cannot-tell"),
])
def test_the_playground_check_has_a_verdict(expr, shapes, verdict):
    check = playground.run_derive(expr, shapes, shapes.split(":")[0])["check"]
    assert check["verdict"] == verdict and check["passed"] == (verdict == "right")


def test_the_playground_answers_a_deep_expression():
    result = playground.run_derive(" + ".join(["sum(X)"] * 330), "X: n, p", "X")
    assert result["ok"] and result["check"]["verdict"] == "right"


# -- hostile inputs: only ValueError / TypeError naming the argument -----------------------------

D = None


def _d():
    global D
    D = D or derive("sum(G * sigmoid(X))", {"G": ("n", "p"), "X": ("n", "p")})
    return D


HOSTILE = [
    pytest.param(lambda: derive(3, XP), "expr", id="derive-expr-int"),
    pytest.param(lambda: derive("sum(X)", "X"), "shapes", id="derive-shapes-str"),
    pytest.param(lambda: derive("sum(X)", XP, wrt=3), "wrt", id="derive-wrt-int"),
    pytest.param(lambda: derive("sum(X)", XP, wrt=[None]), "wrt", id="derive-wrt-none"),
    pytest.param(lambda: derive("(" * 300 + "X" + ")" * 300, XP), "expr", id="derive-300-parentheses"),
    pytest.param(lambda: derive("sum(X) + " * 20000 + "sum(X)", XP), "expr", id="derive-too-long"),
    pytest.param(lambda: parse("X +", XP), "expr", id="parse-syntax"),
    pytest.param(lambda: evaluate_pure(3, {}), "node", id="evaluate-node-int"),
    pytest.param(lambda: evaluate_pure("sum(X)", {"X": "a"}, XP), "env", id="evaluate-env-str"),
    pytest.param(lambda: evaluate_pure("sum(X)", {"X": [[1.0]]}, XP, sizes={"n": 0}), "sizes",
                 id="evaluate-size-zero"),
    pytest.param(lambda: _d().gradients([1]), "values", id="gradients-list"),
    pytest.param(lambda: _d().gradients({"G": np.ones((2, 3)), "X": np.ones((3, 3))}), "dimension",
                 id="gradients-shapes-disagree"),
    pytest.param(lambda: _d().gradients({"G": np.ones((2, 3)), "X": np.full((2, 3), np.nan)}), "X",
                 id="gradients-nan"),
    pytest.param(lambda: derive("sum(exp(X))", XP).gradients({"X": np.full((2, 3), 1e3)}), "step",
                 id="gradients-overflow"),
    pytest.param(lambda: derive("sum(log(X))", XP).gradients({"X": -np.ones((2, 3))}), "step",
                 id="gradients-log-negative"),
    pytest.param(lambda: _d().check(sizes={"z": 3}), "sizes", id="check-unknown-size"),
    pytest.param(lambda: _d().check(sizes=[3]), "sizes", id="check-sizes-list"),
    pytest.param(lambda: _d().check(seed=-1), "seed", id="check-seed-negative"),
    pytest.param(lambda: _d().check_pure(seed="a"), "seed", id="check-pure-seed-str"),
    pytest.param(lambda: _d().closed_form("Q"), "Q", id="closed-form-unknown"),
]


@pytest.mark.parametrize(("call", "named"), HOSTILE)
def test_a_hostile_input_raises_a_named_value_or_type_error(call, named):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert type(err.value).__name__ in ("ValueError", "TypeError", "ExpressionError")
    assert named in str(err.value)
