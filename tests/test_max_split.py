"""abs, max, concat and split (tuple assignment) against PyTorch at float64, and the layers built
with them: an LSTM cell (torch.nn.LSTMCell), a GRU cell (torch.nn.GRUCell) and batch norm in
training mode (torch.nn.functional.batch_norm), forward and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from derivlib import derive
from derivlib.engine import ExpressionError
from derivlib.engine.dims import divide
from derivlib.engine.evaluate import evaluate
from derivlib.engine.nodes import Coef
from verification.torch_layers import lstm_cell_gradients, lstm_cell_weights
from verification.torch_oracle import torch_gradients

RTOL = 1e-10
SIZES = {"n": 4, "p": 3, "q": 5}

OPS = [
    pytest.param("sum(G * abs(X))", {"X": ("n", "q"), "G": ("n", "q")}, id="abs"),
    pytest.param("sum(G * max(X @ W, axis=1))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", 1)}, id="max-axis-1"),
    pytest.param("sum(G * max(X @ W, axis=0))", {"X": ("n", "p"), "W": ("p", "q"), "G": (1, "q")}, id="max-axis-0"),
    pytest.param("max(X @ W)", {"X": ("n", "p"), "W": ("p", "q")}, id="max-all"),
    pytest.param("sum(G * concat(X, tanh(Y), X))", {"X": ("n", 2), "Y": ("n", 3), "G": ("n", 7)}, id="concat"),
    pytest.param("a, b, c = split(X @ W, 3); sum(G * tanh(a) * b) + sum(c * c)",
                 {"X": ("n", "p"), "W": ("p", 6), "G": ("n", 2)}, id="split-unnamed"),
    pytest.param("A = X @ W; a, b = split(A, 2); sum(G * sigmoid(b))",
                 {"X": ("n", "p"), "W": ("p", 4), "G": ("n", 2)}, id="split-one-block-unused"),
]


def _values(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(tuple(SIZES.get(d, d) for d in s)) for k, s in shapes.items()}


def _close(got, want):
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * max(1.0, float(np.abs(want).max())))


def _run_source(d, values):
    namespace = {}
    exec(compile(d.numpy_source(), "<generated>", "exec"), namespace)
    return namespace["backward"](**{k: values[k] for k in d.shapes if k in d.variables})


@pytest.mark.parametrize("expr, shapes", OPS)
def test_gradients_equal_torch(expr, shapes):
    values = _values(shapes)
    want = torch_gradients(expr, values, SIZES)
    got = derive(expr, shapes).gradients(values)
    for k in want:
        _close(got[k], want[k])


@pytest.mark.parametrize("expr, shapes", OPS)
def test_generated_numpy_equals_torch(expr, shapes):
    values = _values(shapes, seed=1)
    want = torch_gradients(expr, values, SIZES)
    got = _run_source(derive(expr, shapes), values)
    for k in want:
        _close(got[k], want[k])


@pytest.mark.parametrize("expr, shapes", OPS)
def test_pure_evaluator_equals_torch(expr, shapes):
    values = _values(shapes, seed=2)
    want = torch_gradients(expr, values, SIZES)
    d = derive(expr, shapes)
    env = {k: v.tolist() for k, v in values.items()}
    for k, node in d.gradient_expressions.items():
        _close(np.array(evaluate(node, env, SIZES)), want[k])


@pytest.mark.parametrize("expr, shapes", OPS)
def test_every_check_says_right(expr, shapes):
    d = derive(expr, shapes)
    assert d.check().ok and d.check_pure().ok and d.check_why().ok


# -- ties: the first maximum gets the gradient, as numpy's argmax ---------------------------------

TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0], [5.0, 4.0, 3.0]])  # ties in rows 0-2 and column 2


@pytest.mark.parametrize("axis", [1, 0, None], ids=["axis-1", "axis-0", "all"])
def test_a_tie_gives_the_gradient_to_the_first_maximum(axis):
    shapes = {"X": (4, 3)}
    d = derive("sum(max(X)) " if axis is None else f"sum(max(X, axis={axis}))", shapes)
    want = np.zeros_like(TIES)
    if axis == 1:
        want[np.arange(4), TIES.argmax(axis=1)] = 1.0
    elif axis == 0:
        want[TIES.argmax(axis=0), np.arange(3)] = 1.0
    else:
        want.flat[TIES.argmax()] = 1.0
    np.testing.assert_array_equal(d.gradients({"X": TIES})["X"], want)
    np.testing.assert_array_equal(_run_source(d, {"X": TIES})["X"], want)
    np.testing.assert_array_equal(np.array(evaluate(d.gradient_expressions["X"], {"X": TIES.tolist()}, {})), want)


def test_the_max_pullback_is_displayed_as_the_one_hot_of_the_first_maximum():
    d = derive("sum(G * max(X, axis=1))", {"X": ("n", "q"), "G": ("n", 1)}, wrt=["X"])
    assert d.backward_steps[-1].expression == "onehot(argmax(X, axis=1)) ∘ (G1ᵀ)"


# -- split: the block row --------------------------------------------------------------------------

LSTM = ("A = X @ Wx + H @ Wh + b; i, f, o, g = split(A, 4); C2 = sigmoid(f) * C + sigmoid(i) * tanh(g); "
        "H2 = sigmoid(o) * tanh(C2); sum(H2 * GH) + sum(C2 * GC)")
D, HID, N = 5, 3, 4
LSTM_SHAPES = {"X": ("n", D), "H": ("n", HID), "C": ("n", HID), "Wx": (D, 4 * HID), "Wh": (HID, 4 * HID),
               "b": (1, 4 * HID), "GH": ("n", HID), "GC": ("n", HID)}


def test_the_split_adjoint_is_one_block_row():
    d = derive(LSTM, LSTM_SHAPES, wrt=["Wx"])
    step = next(s for s in d.backward_steps if s.name == "G_A")
    assert step.expression.startswith("[") and len(step.expression.split()) == 4
    assert "np.concatenate" in d.numpy_source()


def test_the_split_blocks_read_as_column_slices():
    d = derive(LSTM, LSTM_SHAPES, wrt=["Wx"])
    assert {s.name: s.expression for s in d.forward_steps}["f"] == "A[:, 3:6]"


def _torch_lstm(seed=0):
    """torch.nn.LSTMCell and the engine's variables with its weights mapped (verification.torch_layers)."""
    torch.manual_seed(seed)
    cell = torch.nn.LSTMCell(D, HID).double()
    rng = np.random.default_rng(seed)
    x, h, c, gh, gc = (rng.standard_normal((N, k)) for k in (D, HID, HID, HID, HID))
    values = {"X": x, "H": h, "C": c, "GH": gh, "GC": gc, **lstm_cell_weights(cell)}
    tx, th, tc = (torch.tensor(v, requires_grad=True) for v in (x, h, c))
    h2, c2 = cell(tx, (th, tc))
    (h2 * torch.tensor(gh)).sum().add((c2 * torch.tensor(gc)).sum()).backward()
    grads = {"X": tx.grad.numpy(), "H": th.grad.numpy(), "C": tc.grad.numpy(), **lstm_cell_gradients(cell)}
    return values, {"H2": h2.detach().numpy(), "C2": c2.detach().numpy()}, grads


def test_the_lstm_cell_forward_equals_torch():
    values, forward, _ = _torch_lstm()
    got = derive(LSTM, LSTM_SHAPES).evaluate(values)
    _close(got["H2"], forward["H2"])
    _close(got["C2"], forward["C2"])


@pytest.mark.parametrize("var", ["X", "H", "C", "Wx", "Wh", "b"])
def test_the_lstm_cell_gradients_equal_torch(var):
    values, _, grads = _torch_lstm()
    d = derive(LSTM, LSTM_SHAPES, wrt=["X", "H", "C", "Wx", "Wh", "b"])
    _close(d.gradients(values)[var], grads[var])
    _close(_run_source(d, values)[var], grads[var])


def test_the_lstm_derivation_checks():
    d = derive(LSTM, LSTM_SHAPES)
    assert d.check().ok and d.check_pure().ok and d.check_why().ok


# -- GRU: torch's gate order r, z, n; r multiplies (H W_hn + b_hn); H2 = (1 − z) ∘ n + z ∘ H ---------

GRU = ("A = X @ Wx + bx; B = H @ Wh + bh; ar, az, an = split(A, 3); br, bz, bn = split(B, 3); "
       "r = sigmoid(ar + br); z = sigmoid(az + bz); m = tanh(an + r * bn); H2 = (1 - z) * m + z * H; "
       "sum(H2 * GH)")
GRU_SHAPES = {"X": ("n", D), "H": ("n", HID), "Wx": (D, 3 * HID), "Wh": (HID, 3 * HID), "bx": (1, 3 * HID),
              "bh": (1, 3 * HID), "GH": ("n", HID)}


def _torch_gru(seed=0):
    """torch.nn.GRUCell: weight_ih (3h×d) in the order r, z, n, the expression's too: Wx = weight_ihᵀ,
    Wh = weight_hhᵀ, bx = bias_ih, bh = bias_hh (kept apart: r multiplies b_hn, not b_in)."""
    torch.manual_seed(seed)
    cell = torch.nn.GRUCell(D, HID).double()
    rng = np.random.default_rng(seed)
    x, h, gh = (rng.standard_normal((N, k)) for k in (D, HID, HID))
    values = {"X": x, "H": h, "GH": gh, "Wx": cell.weight_ih.detach().numpy().T,
              "Wh": cell.weight_hh.detach().numpy().T, "bx": cell.bias_ih.detach().numpy()[None],
              "bh": cell.bias_hh.detach().numpy()[None]}
    tx, th = (torch.tensor(v, requires_grad=True) for v in (x, h))
    h2 = cell(tx, th)
    (h2 * torch.tensor(gh)).sum().backward()
    grads = {"X": tx.grad.numpy(), "H": th.grad.numpy(), "Wx": cell.weight_ih.grad.numpy().T,
             "Wh": cell.weight_hh.grad.numpy().T, "bx": cell.bias_ih.grad.numpy()[None],
             "bh": cell.bias_hh.grad.numpy()[None]}
    return values, h2.detach().numpy(), grads


def test_the_gru_cell_forward_equals_torch():
    values, h2, _ = _torch_gru()
    _close(derive(GRU, GRU_SHAPES).evaluate(values)["H2"], h2)


@pytest.mark.parametrize("var", ["X", "H", "Wx", "Wh", "bx", "bh"])
def test_the_gru_cell_gradients_equal_torch(var):
    values, _, grads = _torch_gru()
    d = derive(GRU, GRU_SHAPES, wrt=["X", "H", "Wx", "Wh", "bx", "bh"])
    _close(d.gradients(values)[var], grads[var])
    _close(_run_source(d, values)[var], grads[var])


# -- batch norm in training mode -------------------------------------------------------------------

EPS = 1e-5
BN = ("Xhat = (X - mean(X, axis=0)) / sqrt(mean((X - mean(X, axis=0)) ** 2, axis=0) + 1e-05); "
      "Y = gamma * Xhat + beta; sum(Y * GY)")
BN_SHAPES = {"X": ("n", "d"), "gamma": (1, "d"), "beta": (1, "d"), "GY": ("n", "d")}


def _torch_bn(seed=0, n=6, d=4):
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    gamma, beta = rng.uniform(0.5, 2.0, (1, d)), rng.standard_normal((1, d))
    tx, tg, tb = (torch.tensor(v, requires_grad=True) for v in (x, gamma[0], beta[0]))
    y = torch.nn.functional.batch_norm(tx, None, None, weight=tg, bias=tb, training=True, eps=EPS)
    (y * torch.tensor(gy)).sum().backward()
    values = {"X": x, "gamma": gamma, "beta": beta, "GY": gy}
    return values, y.detach().numpy(), {"X": tx.grad.numpy(), "gamma": tg.grad.numpy()[None],
                                        "beta": tb.grad.numpy()[None]}


def test_batch_norm_forward_equals_torch():
    values, y, _ = _torch_bn()
    _close(derive(BN, BN_SHAPES).evaluate(values)["Y"], y)


@pytest.mark.parametrize("var", ["X", "gamma", "beta"])
def test_batch_norm_gradients_equal_torch(var):
    values, _, grads = _torch_bn()
    d = derive(BN, BN_SHAPES, wrt=["X", "gamma", "beta"])
    _close(d.gradients(values)[var], grads[var])
    _close(_run_source(d, values)[var], grads[var])


def test_the_compact_three_term_batch_norm_gradient_equals_torch():
    # G_X = (1/n)(γ ⊘ σ) ∘ (n G_Y − 1 1ᵀG_Y − X̂ ∘ (1 1ᵀ(G_Y ∘ X̂))), σ = √(v + ε), from torch's values
    values, y, grads = _torch_bn()
    x, gamma, gy = values["X"], values["gamma"], values["GY"]
    n = x.shape[0]
    sigma = np.sqrt(x.var(axis=0, keepdims=True) + EPS)  # the biased variance, as training mode uses
    xhat = (x - x.mean(axis=0, keepdims=True)) / sigma
    ones = np.ones((n, 1))
    compact = (gamma / sigma) / n * (n * gy - ones @ (ones.T @ gy) - xhat * (ones @ (ones.T @ (gy * xhat))))
    _close(compact, grads["X"])


# -- clear errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("expr, shapes, message", [
    pytest.param("sum(split(X, 2))", {"X": ("n", 4)}, "assign them to names", id="split-not-assigned"),
    pytest.param("a, b, c = split(X, 2); sum(a)", {"X": ("n", 4)}, "gives 2 blocks", id="split-count"),
    pytest.param("a, b = split(X, 3); sum(a)", {"X": ("n", 4)}, "gives 3 blocks", id="split-count-short"),
    pytest.param("a, b = split(X, 2); sum(a)", {"X": ("n", 5)}, "divisible by 2", id="split-not-divisible"),
    pytest.param("a, b = split(X, 2); sum(a)", {"X": ("n", "h")}, "declare the columns as 2\\*h",
                 id="split-named-columns"),
    pytest.param("a, b = tanh(X); sum(a)", {"X": ("n", 4)}, "only split assigns several names",
                 id="tuple-of-another-function"),
    pytest.param("a, a = split(X, 2); sum(a)", {"X": ("n", 4)}, "its own name", id="split-same-name"),
    pytest.param("X, b = split(X, 2); sum(b)", {"X": ("n", 4)}, "already a variable", id="split-taken-name"),
    pytest.param("a, b = split(X, k=2); sum(a)", {"X": ("n", 4)}, "split\\(A, 4\\)", id="split-keyword"),
    pytest.param("a, b = split(X, 1.5); sum(a)", {"X": ("n", 4)}, "whole number", id="split-not-int"),
    pytest.param("sum(concat(X, Y))", {"X": ("n", 2), "Y": ("m", 2)}, "same number of rows", id="concat-rows"),
    pytest.param("sum(concat(X, Y))", {"X": ("n", "p"), "Y": ("n", 2)}, "all multiples of one name",
                 id="concat-a-name-and-a-number"),
    pytest.param("sum(concat(X, Y))", {"X": ("n", "p"), "Y": ("n", "q")}, "all multiples of one name",
                 id="concat-two-names"),
    pytest.param("sum(max(X, axis=2))", {"X": ("n", 4)}, "axis must be", id="max-axis"),
    pytest.param("sum(max(X, Y))", {"X": ("n", 4), "Y": ("n", 4)}, "element-wise maximum", id="max-two-args"),
    pytest.param("sum(max(X, dim=1))", {"X": ("n", 4)}, "no keyword 'dim'", id="max-keyword"),
])
def test_misuse_is_a_clear_error(expr, shapes, message):
    with pytest.raises(ExpressionError, match=message):
        derive(expr, shapes)


@pytest.mark.parametrize("d, k, want", [
    pytest.param(12, 4, 3, id="int"), pytest.param(10, 4, None, id="int-not-divisible"),
    pytest.param("h", 4, None, id="name"), pytest.param(Coef(4, (("h", 1),)), 4, "h", id="4h-by-4"),
    pytest.param(Coef(8, (("h", 1),)), 4, Coef(2, (("h", 1),)), id="8h-by-4"),
    pytest.param(Coef(6, (("h", 1),)), 4, None, id="6h-by-4"),
])
def test_divide(d, k, want):
    assert divide(d, k) == want


@pytest.mark.parametrize("fn", ["abs", "max"])
def test_abs_and_max_are_functions_now(fn):
    d = derive(f"sum({fn}(X))", {"X": ("n", "q")})
    assert d.check().ok
