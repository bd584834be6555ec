"""Tests of derivlib.engine: the derivation engine behind ``derivlib.derive``.

References, each independent of the engine's rule table: central differences of the
loss (derivlib.check), the hand-derived modules on the shared cases of
verification.cases (a fourth oracle), and the pure-Python evaluator against the numpy one.
"""

from __future__ import annotations

import ast

import json
import subprocess
import sys

import numpy as np
import pytest

import derivlib
from derivlib.check import ATOL, EPS, RTOL, GradCheckError, gradcheck
from derivlib.engine import ExpressionError, RULES, derive, evaluate_pure, parse, rules_table
from derivlib.engine import pure
from derivlib.playground.gallery import EXAMPLES, GALLERY, HAND
from derivlib.engine.numeric import random_arrays
from verification.cases import CASES

ALL = [pytest.param(e, id=e.key) for e in HAND + GALLERY]
SIZES = {"n": 3}


def _derive(e):
    return derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices)


def _point(d, seed=0):
    sizes = pure.default_sizes(d)
    return sizes, random_arrays(d, sizes, seed)


# -- the public API as the issue writes it -------------------------------------------------------


def test_derive_is_reachable_from_the_package():
    assert derivlib.derive is derive


def test_the_sigmoid_layer_comes_out_as_the_page_writes_it():
    d = _derive(EXAMPLES["sigmoid_layer"])
    lines = [f"{s.symbol} = {s.expression}" for s in d.steps]
    assert lines == ["Z = XW + 1b", "S = σ(Z)", "L = 1ᵀ(G ∘ S)1", "G_S = G", "Δ = G ∘ S ∘ (1 − S)",
                     "G_W = XᵀΔ", "G_b = 1ᵀΔ", "G_X = ΔWᵀ"]


@pytest.mark.parametrize("name, expression", [
    ("delta2", "(Ŷ ∘ (Y1) − Y)/n"), ("G_W2", "Hᵀδ₂"), ("G_b2", "1ᵀδ₂"), ("G_H", "δ₂W₂ᵀ"),
    ("delta1", "G_H ∘ H ∘ (1 − H)"), ("G_W1", "Xᵀδ₁"), ("G_b1", "1ᵀδ₁"), ("G_X", "δ₁W₁ᵀ"),
], ids=lambda v: v if v.isascii() else "")
def test_the_two_layer_network_comes_out_as_the_page_writes_it(name, expression):
    d = _derive(EXAMPLES["two_layer"])
    assert {s.name: s.expression for s in d.backward_steps}[name] == expression


@pytest.mark.parametrize("name, expression", [
    ("G_W", "xᵀ1yᵀ"), ("G_b", "nyᵀ"), ("G_y", "(xW + 1b)ᵀ1"),
], ids=lambda v: v if v.isascii() else "")
def test_linear_dot_comes_out_as_the_page_writes_it(name, expression):
    d = _derive(EXAMPLES["linear_dot"])
    assert {s.name: s.expression for s in d.backward_steps}[name] == expression


def test_steps_have_name_shape_latex_text():
    d = _derive(EXAMPLES["sigmoid_layer"])
    step = d.steps[-1]
    assert (step.name, step.shape) == ("G_X", ("n", "p"))
    assert step.text.startswith("G_X = ΔWᵀ") and "n×p" in step.text
    assert step.latex.startswith(r"G_{X} &= \Delta W^T && n \times p")


def test_an_adjoint_that_is_an_intermediate_is_written_by_its_name():
    d = derive("sum(G * sigmoid(X))", {"G": ("n", "p"), "X": ("n", "p")})
    step = next(s for s in d.backward_steps if s.name == "G_G")
    assert step.expression == "S" and "G_G = S  #" in d.numpy_source()


def test_a_variable_used_twice_gets_a_step_that_adds_the_paths():
    d = _derive(EXAMPLES["residual_block"])
    kinds = [(s.kind, s.symbol) for s in d.backward_steps if s.of is d.variables["X"]]
    assert kinds == [("path", "G_X⁽¹⁾"), ("path", "G_X⁽²⁾"), ("paths", "G_X")]


# -- every network: derives, renders, checks --------------------------------------------------------


@pytest.mark.parametrize("e", ALL)
def test_renders_every_gradient(e):
    d = _derive(e)
    text, latex = d.text(), d.latex()
    for v in e.wrt:
        step = next(s for s in d.backward_steps if s.name == f"G_{v}")
        assert step.text in text and step.latex in latex
    assert latex.startswith(r"\begin{aligned}") and latex.endswith(r"\end{aligned}")


@pytest.mark.parametrize("e", ALL)
def test_check_passes(e):
    report = _derive(e).check(seed=0)
    assert report.max_rel_error < 1e-6
    assert len(report.steps) >= len(e.wrt)


@pytest.mark.parametrize("e", ALL)
def test_pure_check_passes(e):
    report = _derive(e).check_pure(seed=1)
    assert report.ok, str(report)
    assert report.max_rel_error < 1e-6


@pytest.mark.parametrize("e", ALL)
def test_gradients_equal_finite_differences_of_the_loss(e):
    d = _derive(e)
    _, values = _point(d, seed=3)
    grads = d.gradients(values)
    names = [k for k in values if k not in e.indices]  # an index vector (integers) is held fixed
    fixed = {y: values[y] for y in e.indices}
    report = gradcheck(lambda *args: d.loss({**fixed, **dict(zip(names, args))}), [values[k] for k in names],
                       [grads.get(k) for k in names], names=names)
    assert report.max_rel_error < 1e-6


@pytest.mark.parametrize("e", ALL)
def test_numpy_source_computes_no_step_the_gradients_do_not_need(e):
    body = ast.parse(_derive(e).numpy_source()).body[-1].body  # the statements of backward()
    for i, statement in enumerate(body):
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            later = {n.id for s in body[i + 1:] for n in ast.walk(s) if isinstance(n, ast.Name)}
            assert statement.targets[0].id in later, ast.unparse(statement)


@pytest.mark.parametrize("expr, kept", [pytest.param("sum(G * sigmoid(X))", False, id="loss-unread"),
                                        pytest.param("exp(sum(X))", True, id="loss-read-by-its-gradient")])
def test_numpy_source_keeps_the_loss_only_when_a_gradient_reads_it(expr, kept):
    d = derive(expr, {"G": ("n", "p"), "X": ("n", "p")} if "G" in expr else {"X": ("n", "p")})
    assert (f"    {d.forward_steps[-1].name} = " in d.numpy_source()) is kept


@pytest.mark.parametrize("e", ALL)
def test_numpy_source_equals_gradients(e):
    d = _derive(e)
    _, values = _point(d, seed=4)
    namespace = {}
    exec(compile(d.numpy_source(), f"<backward of {e.key}>", "exec"), namespace)
    generated = namespace["backward"](**values)
    expected = d.gradients(values)
    assert generated.keys() == expected.keys()
    for k in expected:
        assert generated[k].shape == values[k].shape
        np.testing.assert_allclose(generated[k], expected[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("e", ALL)
def test_pure_and_numpy_evaluators_agree_on_every_step(e):
    from derivlib.engine.evaluate import evaluate

    d = _derive(e)
    sizes, values = _point(d, seed=5)
    lists = {k: v.tolist() for k, v in values.items()}
    arrays = d.evaluate(values)
    cache = {}
    for s in d.steps:
        np.testing.assert_allclose(np.array(evaluate(s.node, lists, sizes, None, cache)), arrays[s.name],
                                   rtol=1e-12, atol=1e-12, err_msg=s.name)


# -- a fourth oracle: the hand-derived modules --------------------------------------------------------


HAND_CASES = [pytest.param(name, shape, variant, id=f"{name}-{shape}-{variant}")
              for name in CASES for shape in CASES[name].shapes for variant in CASES[name].variants]


@pytest.mark.parametrize("name, shape, variant", HAND_CASES)
def test_engine_equals_the_hand_derivation(name, shape, variant):
    """A fourth oracle: the engine against derivlib's hand-derived backward, on the shared cases."""
    case = CASES[name]
    expression, shapes = case.engine  # the case's network in the engine's syntax
    args = case.inputs(case.shapes[shape], seed=0, variant=variant)
    values = {}
    for arg_name, a in zip(case.arg_names, args):  # a 1-D bias is a 1×q row, a 1-D y a c×1 column
        values[arg_name] = a.reshape((1, -1) if shapes[arg_name][0] == 1 else (-1, 1)) if a.ndim == 1 else a
    got = derive(expression, shapes=shapes, wrt=list(case.wrt)).gradients(values)
    for arg_name, hand in zip(case.wrt, case.backward(*args)):
        assert got[arg_name].shape == values[arg_name].shape
        np.testing.assert_allclose(got[arg_name].ravel(), np.ravel(hand), rtol=1e-10, atol=1e-13, err_msg=arg_name)


def test_a_readers_answer_compares_on_the_same_inputs():
    """Logistic regression: the engine's G_w equals the textbook Xᵀ(P − y)/n."""
    d = _derive(EXAMPLES["logistic_regression"])
    rng = np.random.default_rng(13)
    env = {"X": rng.normal(size=(5, 3)).tolist(), "w": rng.normal(size=(3, 1)).tolist(),
           "b": [[0.3]], "y": rng.uniform(size=(5, 1)).round().tolist()}
    answer = parse("X.T @ (sigmoid(X @ w + b) - y) / n", EXAMPLES["logistic_regression"].shapes)
    np.testing.assert_allclose(evaluate_pure(answer, env), evaluate_pure(d.gradient_expressions["w"], env),
                               rtol=1e-12)


# -- the check names a wrong rule ------------------------------------------------------------------

def _wrong(op, i, new):
    """RULES[op] with the pullback of argument i replaced by new(g, out, args)."""
    rule = RULES[op]

    def vjp(g, out, args):
        backs = list(rule.vjp(g, out, args))
        backs[i] = new(g, out, args)
        return tuple(backs)

    return rule._replace(vjp=vjp)


def _nodes():
    from derivlib.engine import nodes

    return nodes


N = _nodes()
XWG = {"X": "n,p", "W": "p,q", "G": "n,q"}
XG = {"X": "n,p", "G": "n,p"}
# (op, argument i, its wrong pullback (g, out, args) -> adjoint, expression, shapes, wrt, the step to name)
WRONG = [
    ("matmul", 1, lambda g, out, a: N.mk_matmul(N.mk_T(g), a[0]), "sum(G * (X @ W))", XWG, "W", "G_W"),
    ("matmul", 0, lambda g, out, a: N.mk_matmul(g, a[1]), "sum(G * (X @ W))", XWG, "X", "G_X"),
    ("add", 1, lambda g, out, a: g, "sum(G * sigmoid(X @ W + b))", {**XWG, "b": "1,q"}, "b", "G_b"),
    ("sub", 1, lambda g, out, a: N.unbroadcast(g, a[1].shape), "sum(G * tanh(X - b))", {**XG, "b": "1,p"}, "b",
     "G_b"),
    ("mul", 0, lambda g, out, a: N.mk_mul(g, a[0]), "sum(G * (X * V))", {**XG, "V": "n,p"}, "X", "G_X"),
    ("div", 1, lambda g, out, a: N.unbroadcast(N.mk_div(N.mk_mul(g, a[0]), N.mk_pow(a[1], 2)), a[1].shape),
     "sum(G * (X / exp(b)))", {**XG, "b": "1,p"}, "b", "G_E"),
    ("neg", 0, lambda g, out, a: g, "sum(G * tanh(-X))", XG, "X", "G_X"),
    ("pow", 0, lambda g, out, a: N.mk_mul(g, N.mk_pow(a[0], out.attr - 1)), "sum(G * X ** 3)", XG, "X", "G_X"),
    ("T", 0, lambda g, out, a: g, "sum(G * (X.T @ W))", {"X": "n,p", "W": "n,p", "G": "p,p"}, "X", "G_X"),
    ("sum", 0, lambda g, out, a: N.expand(g, (a[0].shape[0], 1)), "sum(H * sum(X, axis=1))", {"X": "n,p", "H": "n,1"},
     "X", "G_X"),
    ("mean", 0, lambda g, out, a: N.expand(g, a[0].shape), "sum(G * tanh(mean(X, axis=0)))",
     {"X": "n,p", "G": "1,p"}, "X", "G_X"),
    ("sigmoid", 0, lambda g, out, a: N.mk_mul(N.mk_mul(g, N.ref(out)), N.mk_add(N.const(1), N.ref(out))),
     "sum(G * sigmoid(X @ W))", XWG, "W", "Delta"),
    ("tanh", 0, lambda g, out, a: N.mk_mul(g, N.mk_sub(N.const(1), N.ref(out))), "sum(G * tanh(X))", XG, "X",
     "G_X"),
    ("relu", 0, lambda g, out, a: g, "sum(G * relu(X @ W))", XWG, "W", "Delta"),
    ("exp", 0, lambda g, out, a: N.mk_mul(g, a[0]), "sum(G * exp(X))", XG, "X", "G_X"),
    ("log", 0, lambda g, out, a: N.mk_mul(g, a[0]), "sum(G * log(exp(X) + 1))", XG, "X", "G_Z"),
    ("sqrt", 0, lambda g, out, a: N.mk_div(g, N.ref(out)), "sum(G * sqrt(exp(X)))", XG, "X", "G_Z"),
    ("softmax", 0, lambda g, out, a: N.mk_mul(g, N.ref(out)), "sum(G * softmax(X @ W))", XWG, "W", "Delta"),
    ("log_softmax", 0, lambda g, out, a: N.mk_sub(g, N.ref(out.aux)), "-sum(Y * log_softmax(X @ W)) / n",
     {"X": "n,p", "W": "p,q", "Y": "n,q"}, "W", "Delta"),
]


@pytest.mark.parametrize("op, i, wrong, expr, shapes, wrt, step",
                         [pytest.param(*w, id=f"{w[0]}-arg{w[1]}") for w in WRONG])
def test_a_wrong_rule_fails_the_check_naming_the_step(monkeypatch, op, i, wrong, expr, shapes, wrt, step):
    assert derive(expr, shapes, wrt=[wrt]).check().max_rel_error < 1e-6  # right rule: passes
    monkeypatch.setitem(RULES, op, _wrong(op, i, wrong))
    d = derive(expr, shapes, wrt=[wrt])
    with pytest.raises(GradCheckError, match=f"step {step}\\b"):
        d.check()
    assert not d.check_pure().ok


# -- errors that say what to write ----------------------------------------------------------------

XW = {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", "q"), "b": (1, "q")}


@pytest.mark.parametrize("expr, shapes, wrt, match", [
    pytest.param("sum(W @ X)", XW, None, r"W @ X: matrix product of W \(p×q\) and X \(n×p\)", id="non-conforming"),
    pytest.param("sum(G * (X @ W + X))", XW, None, r"X @ W \+ X: element-wise .* \(n×q\) and X \(n×p\)",
                 id="no-broadcast"),
    pytest.param("sum(G * sigmoid(X @ V))", XW, None, r"unknown name 'V': give its shape", id="unknown-name"),
    pytest.param("sum(square(X))", XW, None, r"unknown function 'square' \(write A \*\* 2\)",
                 id="unknown-function"),
    pytest.param("sum(G * (X @ W))", XW, ["Z"], r"wrt: .*'Z'.*not a variable", id="wrt-not-variable"),
    pytest.param("sum(G * (X @ W))", XW, ["b"], r"wrt: .*'b'.*does not appear", id="wrt-not-used"),
    pytest.param("H = X @ W; sum(G * H)", XW, ["H"], r"wrt: .*'H'.*intermediate", id="wrt-intermediate"),
    pytest.param("sigmoid(X @ W)", XW, None, r"n×q, not a scalar.*Write sum\(G \* \(sigmoid\(X @ W\)\)\)",
                 id="not-scalar"),
    pytest.param("sum(X ** W)", XW, None, r"exponent must be a number", id="power-not-number"),
    pytest.param("sum(X % 2)", XW, None, r"operator % is not supported", id="operator"),
    pytest.param("sum(X, axis=2)", XW, None, r"axis must be 0 .* or None", id="axis"),
    pytest.param("sum(softmax(X, axis=0))", XW, None, r"softmax takes no keyword 'axis'", id="softmax-axis"),
    pytest.param("sum(X.shape)", XW, None, r"the only attribute is \.T", id="attribute"),
    pytest.param("sum(X[0])", XW, None, r"X\[0\]: not part of the expression language", id="subscript"),
    pytest.param("sum(X @", XW, None, r"not valid Python syntax", id="syntax"),
    pytest.param("sum(X)", {"X": ("n",)}, None, r"shapes\['X'\] must have two dimensions", id="shape-1d"),
    pytest.param("sum(X)", {"X": ("n", 0)}, None, r"whole number >= 1; got 0", id="shape-zero"),
])
def test_error_messages(expr, shapes, wrt, match):
    with pytest.raises(ExpressionError, match=match):
        derive(expr, shapes, wrt=wrt)


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)


@pytest.mark.parametrize("values, match", [
    pytest.param({"X": np.ones((3, 4))}, r"no array for G, W", id="missing"),
    pytest.param({"X": np.ones((3, 4)), "W": np.ones((5, 2)), "G": np.ones((3, 2))}, r"dimension 'p' is 4",
                 id="inconsistent"),
    pytest.param({"X": np.ones(3), "W": np.ones((3, 2)), "G": np.ones((3, 2))}, r"X must be a 2-D array",
                 id="one-dimensional"),
])
def test_gradients_reject_bad_values(values, match):
    d = derive("sum(G * (X @ W))", XW)
    with pytest.raises(ValueError, match=match):
        d.gradients(values)


def test_check_rejects_an_unknown_dimension():
    with pytest.raises(ValueError, match=r"sizes: 'z' is not a dimension"):
        _derive(EXAMPLES["sigmoid_layer"]).check(sizes={"z": 3})


# -- pure Python, the rule table, the command line -------------------------------------------------


def test_pure_check_uses_the_checkers_defaults():
    assert (pure.EPS, pure.ATOL, pure.RTOL) == (EPS, ATOL, RTOL)


def test_the_engine_runs_without_numpy():
    code = (
        "import sys, json\n"
        "from derivlib.engine import derive\n"
        "from derivlib.playground.gallery import EXAMPLES\n"
        "ok = []\n"
        "for e in EXAMPLES.values():\n"
        "    d = derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices)\n"
        "    d.text(); d.latex(); d.numpy_source()\n"
        "    ok.append(d.check_pure().ok)\n"
        "print(json.dumps({'ok': ok, 'numpy': 'numpy' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result == {"ok": [True] * len(EXAMPLES), "numpy": False}


@pytest.mark.parametrize("op", sorted(RULES))
def test_rules_table_has_every_operation(op):
    rows = [r for r in rules_table() if r["op"] == op]
    assert rows and all(r["pullback"][0] and r["differential"][0] for r in rows)


def test_parse_gives_a_typed_node():
    node = parse("softmax(Q @ K.T / 2) @ V", {"Q": ("n", "d"), "K": ("m", "d"), "V": ("m", "e")})
    assert node.shape == ("n", "e")
    assert node.text == "softmax(QKᵀ/2)V"


def test_evaluate_pure_of_an_expression():
    assert evaluate_pure("sum(relu(A) * 2)", {"A": [[1.0, -3.0]]}, {"A": (1, 2)}) == [[2.0]]


def _cli(*args):
    from derivlib.__main__ import main

    return main(list(args))


SIGMOID_CLI = ["derive", "sum(G * sigmoid(X @ W + b))", "--shape", "X=n,p", "--shape", "W=p,q", "--shape", "b=1,q",
               "--shape", "G=n,q", "--wrt", "W,b,X"]


def test_cli_prints_the_steps_and_the_check(capsys):
    assert _cli(*SIGMOID_CLI) == 0
    out = capsys.readouterr().out
    assert "G_W = XᵀΔ" in out and "right (n=3, p=5, q=7, seed 0): all 5 adjoints against finite differences agree" in out


def test_cli_prints_numpy_source_that_runs(capsys):
    assert _cli(*SIGMOID_CLI, "--numpy") == 0
    namespace = {}
    exec(capsys.readouterr().out, namespace)
    assert "backward" in namespace


def test_cli_prints_latex(capsys):
    assert _cli(*SIGMOID_CLI, "--latex") == 0
    assert capsys.readouterr().out.startswith(r"\begin{aligned}")


def test_cli_reports_an_error(capsys):
    assert _cli("derive", "sum(W @ X)", "--shape", "X=n,p", "--shape", "W=p,q") == 2
    assert "matrix product of W (p×q) and X (n×p)" in capsys.readouterr().err


def test_closed_form_substitutes_the_names_back():
    d = _derive(EXAMPLES["sigmoid_layer"])
    assert d.closed_form("W") == "Xᵀ(G ∘ σ(XW + 1b) ∘ (1 − σ(XW + 1b)))"
