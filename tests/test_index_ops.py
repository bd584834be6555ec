"""Index vectors and take / pick / onehot, against PyTorch's own layers at float64.

The expected values come from torch: ``torch.nn.functional.embedding``, ``cross_entropy``
and ``multi_margin_loss`` (forward, and every gradient by autograd), and for each operation
alone the torch oracle (verification/torch_oracle.py). The engine's three evaluations are
compared with them: ``Derivation.gradients`` (numpy), the generated ``numpy_source()``
executed, and the pure-Python evaluator of the gradient expressions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from derivlib import derive
from derivlib.engine import ExpressionError, evaluate_pure
from derivlib.engine.derivation import Derivation
from derivlib.engine.parse import parse
from verification.torch_oracle import torch_gradients, torch_loss

Y = {"y": ("n", "k")}
RTOL, ATOL = 1e-10, 1e-12
#: n = 8 labels in range(k = 5), several repeated: the scatter-add must add them
LABELS = np.array([3, 1, 3, 0, 3, 1, 4, 1])


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _generated(d, values):
    """The gradients from executing ``d.numpy_source()``."""
    namespace = {}
    exec(compile(d.numpy_source(), "<generated>", "exec"), namespace)
    return namespace["backward"](**values)


def _pure(d, values):
    """The gradients from the pure-Python evaluator (lists of lists; an index vector a list of ints)."""
    env = {k: v.tolist() for k, v in values.items()}
    sizes = {dim: values[v].shape[i] for v, shape in d.shapes.items() for i, dim in enumerate(shape)
             if isinstance(dim, str)}  # O_yᵀG reads k, which only E's shape gives
    return {w: np.array(evaluate_pure(g, env, sizes={k: v for k, v in sizes.items()
                                                     if k in _dims_of(g)})) for w, g in d.gradient_expressions.items()}


def _dims_of(node):
    from derivlib.engine.pure import _reachable

    return {dim for n in _reachable(node) for dim in n.shape if isinstance(dim, str)}


def _three(d, values):
    """The engine's gradients three ways: numpy evaluation, generated source, pure Python."""
    return {"gradients": d.gradients(values), "numpy_source": _generated(d, values), "pure": _pure(d, values)}


BACKENDS = ["gradients", "numpy_source", "pure"]


# -- take vs embedding ---------------------------------------------------------------------------


def _embedding_case():
    rng = np.random.default_rng(1)
    E, G = rng.standard_normal((5, 3)), rng.standard_normal((8, 3))
    weight = _t(E, grad=True)
    out = F.embedding(torch.tensor(LABELS), weight)
    (grad,) = torch.autograd.grad((out * _t(G)).sum(), weight)
    d = derive("sum(G * take(E, y))", {"G": ("n", "d"), "E": ("k", "d")}, wrt=["E"], indices=Y)
    return d, {"G": G, "E": E, "y": LABELS}, out.detach().numpy(), grad.numpy()


def test_take_equals_embedding_forward():
    d, values, expected, _ = _embedding_case()
    steps = derive("sum(take(E, y))", {"E": ("k", "d")}, indices=Y)
    value = steps.root.args[0]  # take(E, y), below the sum
    from derivlib.engine.evaluate import evaluate
    got = evaluate(value, {"E": values["E"], "y": LABELS}, {"n": 8, "k": 5, "d": 3}, np)
    np.testing.assert_allclose(got, expected, rtol=0, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_take_weight_gradient_equals_embeddings_with_repeated_ids(backend):
    d, values, _, expected = _embedding_case()
    assert len(set(LABELS.tolist())) < len(LABELS)  # repeated ids: the rows must add
    np.testing.assert_allclose(_three(d, values)[backend]["E"], expected, rtol=RTOL, atol=ATOL)


def test_take_gradient_is_a_scatter_add_in_the_generated_numpy():
    d, _, _, _ = _embedding_case()
    src = d.numpy_source()
    line = next(s for s in src.splitlines() if s.strip().startswith("G_E ="))
    assert "np.add.at(out, y, G)" in src and "_scatter_add(y, G, k)" in line and "eye" not in src


def test_take_derivation_shows_the_scatter_as_o_transpose_g_and_checks_right():
    d, _, _, _ = _embedding_case()
    step = next(s for s in d.backward_steps if s.name == "G_E")
    assert step.expression == "O_yᵀ G" and step.expression_latex == "O_{y}^T G"
    assert d.check().verdict == "right" and d.check_pure().verdict == "right" and d.check_why().ok


# -- softmax cross-entropy with integer labels ----------------------------------------------------

CE = "-mean(pick(log_softmax(X @ W + b), y))"
CE_SHAPES = {"X": ("n", "p"), "W": ("p", "k"), "b": (1, "k")}


def _ce_case():
    rng = np.random.default_rng(2)
    values = {"X": rng.standard_normal((8, 4)), "W": rng.standard_normal((4, 5)), "b": rng.standard_normal((1, 5)),
              "y": LABELS}
    X, W, b = (_t(values[k], grad=True) for k in "XWb")
    loss = F.cross_entropy(X @ W + b, torch.tensor(LABELS))
    grads = dict(zip("XWb", (g.numpy() for g in torch.autograd.grad(loss, [X, W, b]))))
    return derive(CE, CE_SHAPES, indices=Y), values, loss.item(), grads


def test_cross_entropy_loss_equals_torch():
    d, values, expected, _ = _ce_case()
    assert d.loss(values) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("wrt", ["X", "W", "b"])
def test_cross_entropy_gradient_equals_torch(backend, wrt):
    d, values, _, expected = _ce_case()
    np.testing.assert_allclose(_three(d, values)[backend][wrt], expected[wrt], rtol=RTOL, atol=ATOL)


def test_cross_entropy_gradient_of_the_log_probabilities_reads_minus_o_y_over_n():
    d, _, _, _ = _ce_case()
    assert next(s.expression for s in d.backward_steps if s.name == "G_Lambda") == "−O_y/n"


# -- the multiclass SVM loss ---------------------------------------------------------------------

# CS231n's loss: (1/n) Σ_i Σ_{j ≠ y_i} max(0, S_ij − S_iy_i + 1), S = XW + 1b.
SVM = "S = X @ W + b; sum(relu(S - pick(S, y) + 1) * (1 - onehot(y))) / n"


def _svm_case():
    rng = np.random.default_rng(3)
    values = {"X": rng.standard_normal((8, 4)), "W": rng.standard_normal((4, 5)), "b": rng.standard_normal((1, 5)),
              "y": LABELS}
    X, W, b = (_t(values[k], grad=True) for k in "XWb")
    # torch's multi_margin_loss divides each sample's sum over j ≠ y_i by the number of
    # classes k as well as by n (reduction="mean"): CS231n's loss is k times it
    k = 5
    loss = k * F.multi_margin_loss(X @ W + b, torch.tensor(LABELS), margin=1.0)
    grads = dict(zip("XWb", (g.numpy() for g in torch.autograd.grad(loss, [X, W, b]))))
    return derive(SVM, CE_SHAPES, indices=Y), values, loss.item(), grads


def test_svm_loss_equals_torch_multi_margin_loss_times_k():
    d, values, expected, _ = _svm_case()
    assert d.loss(values) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("wrt", ["X", "W", "b"])
def test_svm_gradient_equals_torch(backend, wrt):
    d, values, _, expected = _svm_case()
    np.testing.assert_allclose(_three(d, values)[backend][wrt], expected[wrt], rtol=RTOL, atol=ATOL)


# -- each operation alone, on random inputs, against autograd --------------------------------------

ALONE = [
    pytest.param("sum(G * take(E, y))", {"G": ("n", "d"), "E": ("k", "d")}, id="take"),
    pytest.param("sum(G * take(E @ V, y))", {"G": ("n", "q"), "E": ("k", "d"), "V": ("d", "q")}, id="take-of-a-product"),
    pytest.param("sum(G * pick(S, y))", {"G": ("n", 1), "S": ("n", "k")}, id="pick"),
    pytest.param("sum(tanh(pick(S, y)))", {"S": ("n", "k")}, id="pick-under-tanh"),
    pytest.param("sum(A * onehot(y))", {"A": ("n", "k")}, id="onehot"),
    pytest.param("sum(G * (onehot(y) @ E))", {"G": ("n", "d"), "E": ("k", "d")}, id="onehot-product-is-take"),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("expr, shapes", ALONE)
def test_each_operation_alone_matches_autograd_on_random_inputs(expr, shapes, seed):
    d = derive(expr, shapes, indices=Y)
    values = d.random_inputs(sizes={"n": 9, "k": 4}, seed=seed)
    sizes = {"n": 9, "k": 4, **{dim: values[v].shape[i] for v, s in shapes.items() for i, dim in enumerate(s)
                                if isinstance(dim, str)}}
    expected = torch_gradients(expr, values, sizes, classes={"y": 4})
    assert torch_loss(expr, values, sizes, classes={"y": 4}) == pytest.approx(d.loss(values), rel=RTOL)
    for backend, grads in _three(d, values).items():
        for w in d.wrt:
            np.testing.assert_allclose(grads[w], expected[w], rtol=RTOL, atol=ATOL, err_msg=f"{backend} {w}")


def test_the_random_point_draws_labels_in_range():
    d = derive("sum(G * pick(S, y))", {"G": ("n", 1), "S": ("n", "k")}, indices=Y)
    y = d.random_inputs(sizes={"n": 200, "k": 3}, seed=0)["y"]
    assert y.shape == (200,) and np.issubdtype(y.dtype, np.integer) and set(y.tolist()) == {0, 1, 2}


# -- clear errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("expr", ["sum(y @ W)", "sum(y + 1)", "sum(y)", "sum(W.T @ y.T)", "sum(take(W, y) * y)"],
                         ids=["matmul", "add", "sum", "transpose", "elementwise"])
def test_an_index_vector_used_as_a_matrix_is_refused_naming_take_pick_onehot(expr):
    with pytest.raises(ExpressionError, match=r"y is an index vector .*take\(E, y\).*pick\(S, y\).*onehot\(y\)"):
        derive(expr, {"W": ("k", "d")}, indices=Y)


def test_a_gradient_asked_of_an_index_vector_names_the_variables():
    with pytest.raises(ValueError, match=r"'y': it is an index vector .* no gradient .* the variables are E"):
        derive("sum(take(E, y))", {"E": ("k", "d")}, wrt=["E", "y"], indices=Y)


@pytest.mark.parametrize("expr, words", [
    ("sum(take(E))", "take takes two arguments"),
    ("sum(take(E, E))", "second argument of take must be an index vector"),
    ("sum(pick(E, y))", r"S must be n×k .* got S = E \(k×d\)"),
    ("sum(take(E.T, y))", r"E must have k rows .* got E = E.T \(d×k\)"),
    ("sum(onehot(y, 3))", "onehot takes one argument"),
    ("sum(onehot(y=y))", "onehot takes no keyword 'y'"),
], ids=["take-one-argument", "take-matrix-for-labels", "pick-wrong-shape", "take-wrong-rows", "onehot-two",
        "onehot-keyword"])
def test_a_misused_call_says_what_to_write(expr, words):
    with pytest.raises(ExpressionError, match=words):
        derive(expr, {"E": ("k", "d")}, indices=Y)


def _take_values(y):
    return {"E": np.ones((5, 3)), "G": np.ones((4, 3)), "y": y}


@pytest.mark.parametrize("y, error, words", [
    (np.array([0.0, 1.0, 2.0, 3.0]), TypeError, "y is an index vector: it must be an array of integers"),
    (np.array([True, False, True, False]), TypeError, "dtype bool"),
    (np.array([[0, 1, 2, 3]]), ValueError, r"one-dimensional, shape \(n,\); got shape \(1, 4\)"),
    (np.array([0, 1, 5, 3]), ValueError, r"y\[2\] is 5: each entry of the index vector y must be in range\(5\)"),
    (np.array([0, -1, 2, 3]), ValueError, r"y\[1\] is -1"),
    (np.array([0, 1, 2]), ValueError, "dimension 'n' is 4 .* the index vector y has 3 entries"),
], ids=["floats", "booleans", "two-dimensional", "too-large", "negative", "wrong-length"])
def test_bad_index_values_name_y_and_the_entry(y, error, words):
    d = derive("sum(G * take(E, y))", {"G": ("n", "d"), "E": ("k", "d")}, indices=Y)
    with pytest.raises(error, match=words):
        d.gradients(_take_values(y))


def test_the_pure_evaluator_checks_the_range_too():
    node = parse("take(E, y)", {"E": ("k", "d")}, indices=Y)
    with pytest.raises(ValueError, match=r"y\[0\] is 2: .* range\(2\)"):
        evaluate_pure(node, {"E": [[1.0], [2.0]], "y": [2]})


@pytest.mark.parametrize("indices, words", [
    ({"E": ("n", "k")}, "also given a shape"),
    ({"y": ("n",)}, r"must be \(n, k\)"),
    ({"y": ("n", 0)}, "whole number >= 1"),
], ids=["name-taken", "one-dimension", "zero-classes"])
def test_a_bad_declaration_is_named(indices, words):
    with pytest.raises(ExpressionError, match=words):
        derive("sum(E)", {"E": ("k", "d")}, indices=indices)


# -- the entry points ------------------------------------------------------------------------------


def test_the_four_argument_derivation_api_still_works():
    shapes = {"X": ("n", "p")}
    d = Derivation("sum(X)", shapes, parse("sum(X)", shapes), None)
    assert d.indices == {} and d.check().verdict == "right"


def test_the_cli_reads_index(capsys):
    from derivlib.__main__ import main

    assert main(["derive", CE, "--shape", "X=n,p", "--shape", "W=p,k", "--shape", "b=1,k", "--index", "y=n,k"]) == 0
    out = capsys.readouterr().out
    assert "G_Λ = −O_y/n" in out and "right" in out


def test_the_playground_reads_an_index_line():
    from derivlib.playground.requests import run_derive

    result = run_derive(CE, "X: n, p\nW: p, k\nb: 1, k\ny: index n, k", "W, b")
    assert result["ok"] and result["check"]["verdict"] == "right" and "O_y" in result["text"]


def test_the_playground_refuses_a_gradient_of_the_labels_in_the_wrt_field():
    from derivlib.playground.requests import run_derive

    result = run_derive(CE, "X: n, p\nW: p, k\nb: 1, k\ny: index n, k", "y")
    assert result["field"] == "wrt" and "index vector" in result["message"]


def test_a_range_no_variable_gives_is_refused_at_derive():
    with pytest.raises(ExpressionError, match=r"indices\['y'\]: its range 'k' is in no variable's shape"):
        derive("sum(sigmoid(c) - onehot(y))", {"c": ("n", 1)}, indices=Y)


def test_a_numbered_range_needs_no_variable():
    d = derive("sum(c * onehot(y))", {"c": ("n", 1)}, indices={"y": ("n", 4)})
    values = {"c": np.arange(3.0)[:, None], "y": np.array([3, 0, 3])}
    assert d.loss(values) == pytest.approx(3.0) and d.check().verdict == "right"
    np.testing.assert_array_equal(_generated(d, values)["c"], np.ones((3, 1)))


def test_evaluate_pure_reads_an_expression_with_indices():
    assert evaluate_pure("pick(S, y)", {"S": [[1.0, 2.0], [3.0, 4.0]], "y": [1, 0]}, {"S": ("n", "k")},
                         indices=Y) == [[2.0], [3.0]]


def test_a_variable_named_like_the_scatter_helper_keeps_its_name():
    d = derive("sum(_scatter_add * take(E, y))", {"_scatter_add": ("n", "d"), "E": ("k", "d")}, indices=Y)
    values = {"_scatter_add": np.ones((3, 2)), "E": np.zeros((4, 2)), "y": np.array([1, 1, 2])}
    np.testing.assert_array_equal(_generated(d, values)["E"], [[0, 0], [2, 2], [1, 1], [0, 0]])


@pytest.mark.parametrize("key", ["embedding", "softmax_labels", "svm_labels"])
def test_a_gallery_example_with_labels_gives_the_playground_its_index_line(key):
    from derivlib.playground.requests import EXAMPLES, run_derive

    example = next(e for e in EXAMPLES if e["key"] == key)
    assert example["shapes"].splitlines()[-1] == "y: index n, k"
    assert run_derive(example["expr"], example["shapes"], example["wrt"])["check"]["verdict"] == "right"
