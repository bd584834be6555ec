"""Loops derived once as recurrences (backpropagation through time), compared with PyTorch's
recurrent layers at float64 and with finite differences of the program unrolled."""

import re

import numpy as np
import pytest

from derivlib.check import GradCheckError
from derivlib.engine import ExpressionError, derive
from verification.torch_layers import lstm_blocks

torch = pytest.importorskip("torch")

RNN_EVERY_STEP = """
H = H0
L = 0
for t in range(T):
    H = tanh(X[t] @ Wx + H @ Wh + b)
    L = L - sum(Y[t] * log_softmax(H @ V + c)) / n
L
"""
RNN_SHAPES = {"X": ("T", "n", "d"), "Y": ("T", "n", "k"), "H0": ("n", "h"), "Wx": ("d", "h"),
              "Wh": ("h", "h"), "b": (1, "h"), "V": ("h", "k"), "c": (1, "k")}

RNN_LAST_STEP = """
H = H0
for t in range(T):
    H = tanh(X[t] @ Wx + H @ Wh + b)
-sum(Y * log_softmax(H @ V + c)) / n
"""
RNN_LAST_SHAPES = {**RNN_SHAPES, "Y": ("n", "k")}

LSTM = """
H = H0
C = C0
L = 0
for t in range(T):
    A = X[t] @ Wx + H @ Wh + b
    i, f, o, g = split(A, 4)
    C = sigmoid(f) * C + sigmoid(i) * tanh(g)
    H = sigmoid(o) * tanh(C)
    L = L + sum(G[t] * H)
L
"""
LSTM_SHAPES = {"X": ("T", "n", "d"), "G": ("T", "n", "h"), "H0": ("n", "h"), "C0": ("n", "h"),
               "Wx": ("d", "4*h"), "Wh": ("h", "4*h"), "b": (1, "4*h")}

DEEP = """
H = X
for l in range(D):
    H = sigmoid(H @ W[l] + b[l])
sum(G * H)
"""
DEEP_SHAPES = {"X": ("n", "h"), "W": ("D", "h", "h"), "b": ("D", 1, "h"), "G": ("n", "h")}

T_, N, D_IN, H_, K = 4, 3, 5, 6, 4


def _rng(seed=0):
    return np.random.default_rng(seed)


def _onehot_sequence(rng, shape, k):
    return np.eye(k)[rng.integers(0, k, shape)]


def _rnn_module(seed):
    torch.manual_seed(seed)
    return torch.nn.RNN(D_IN, H_, nonlinearity="tanh").double()


def _rnn_values(rnn, rng, y):
    return {"X": rng.standard_normal((T_, N, D_IN)), "Y": y, "H0": rng.standard_normal((N, H_)),
            "Wx": rnn.weight_ih_l0.detach().numpy().T.copy(), "Wh": rnn.weight_hh_l0.detach().numpy().T.copy(),
            "b": (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()[None, :],
            "V": rng.standard_normal((H_, K)), "c": rng.standard_normal((1, K))}


def _torch_rnn(rnn, values, every_step):
    X = torch.tensor(values["X"], requires_grad=True)
    H0 = torch.tensor(values["H0"][None], requires_grad=True)
    V = torch.tensor(values["V"], requires_grad=True)
    c = torch.tensor(values["c"], requires_grad=True)
    out, h_last = rnn(X, H0)
    Y = torch.tensor(values["Y"])
    if every_step:
        loss = -(Y * torch.log_softmax(out @ V + c, dim=-1)).sum() / N
    else:
        loss = -(Y * torch.log_softmax(h_last[0] @ V + c, dim=-1)).sum() / N
    loss.backward()
    return loss.item(), {"X": X.grad.numpy(), "H0": H0.grad.numpy()[0], "Wx": rnn.weight_ih_l0.grad.numpy().T,
                         "Wh": rnn.weight_hh_l0.grad.numpy().T, "b": rnn.bias_ih_l0.grad.numpy()[None, :],
                         "V": V.grad.numpy(), "c": c.grad.numpy()}


@pytest.fixture(scope="module")
def rnn_every_step():
    return derive(RNN_EVERY_STEP, RNN_SHAPES)


@pytest.fixture(scope="module")
def rnn_last_step():
    return derive(RNN_LAST_STEP, RNN_LAST_SHAPES)


@pytest.fixture(scope="module")
def lstm():
    return derive(LSTM, LSTM_SHAPES)


@pytest.fixture(scope="module")
def deep():
    return derive(DEEP, DEEP_SHAPES)


@pytest.fixture(scope="module")
def rnn_every_step_torch():
    rnn, rng = _rnn_module(1), _rng(1)
    values = _rnn_values(rnn, rng, _onehot_sequence(rng, (T_, N), K))
    return values, _torch_rnn(rnn, values, every_step=True)


@pytest.fixture(scope="module")
def rnn_last_step_torch():
    rnn, rng = _rnn_module(2), _rng(2)
    values = _rnn_values(rnn, rng, _onehot_sequence(rng, (N,), K))
    return values, _torch_rnn(rnn, values, every_step=False)


@pytest.mark.parametrize("name", ["X", "H0", "Wx", "Wh", "b", "V", "c"])
def test_rnn_loss_at_every_step_gradient_equals_torch_rnn(rnn_every_step, rnn_every_step_torch, name):
    values, (_, expected) = rnn_every_step_torch
    np.testing.assert_allclose(rnn_every_step.gradients(values)[name], expected[name], rtol=1e-10, atol=1e-12)


def test_rnn_loss_at_every_step_loss_equals_torch_rnn(rnn_every_step, rnn_every_step_torch):
    values, (expected, _) = rnn_every_step_torch
    assert rnn_every_step.loss(values) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["X", "H0", "Wx", "Wh", "b", "V", "c"])
def test_rnn_read_out_at_last_step_gradient_equals_torch_rnn(rnn_last_step, rnn_last_step_torch, name):
    values, (_, expected) = rnn_last_step_torch
    np.testing.assert_allclose(rnn_last_step.gradients(values)[name], expected[name], rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def lstm_torch():
    torch.manual_seed(3)
    rng = _rng(3)
    net = torch.nn.LSTM(D_IN, H_).double()
    blocks = lambda w: lstm_blocks(w, H_)  # noqa: E731
    values = {"X": rng.standard_normal((T_, N, D_IN)), "G": rng.standard_normal((T_, N, H_)),
              "H0": rng.standard_normal((N, H_)), "C0": rng.standard_normal((N, H_)),
              "Wx": blocks(net.weight_ih_l0.detach().numpy()), "Wh": blocks(net.weight_hh_l0.detach().numpy()),
              "b": blocks((net.bias_ih_l0 + net.bias_hh_l0).detach().numpy()[:, None])}
    X = torch.tensor(values["X"], requires_grad=True)
    H0 = torch.tensor(values["H0"][None], requires_grad=True)
    C0 = torch.tensor(values["C0"][None], requires_grad=True)
    out, _ = net(X, (H0, C0))
    (torch.tensor(values["G"]) * out).sum().backward()
    grads = {"X": X.grad.numpy(), "H0": H0.grad.numpy()[0], "C0": C0.grad.numpy()[0],
             "Wx": blocks(net.weight_ih_l0.grad.numpy()), "Wh": blocks(net.weight_hh_l0.grad.numpy()),
             "b": blocks(net.bias_ih_l0.grad.numpy()[:, None])}
    return values, grads


@pytest.mark.parametrize("name", ["X", "H0", "C0", "Wx", "Wh", "b"])
def test_lstm_over_time_gradient_equals_torch_lstm(lstm, lstm_torch, name):
    values, expected = lstm_torch
    np.testing.assert_allclose(lstm.gradients(values)[name], expected[name], rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def deep_torch():
    rng = _rng(4)
    values = {"X": rng.standard_normal((N, H_)), "W": rng.standard_normal((3, H_, H_)),
              "b": rng.standard_normal((3, 1, H_)), "G": rng.standard_normal((N, H_))}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    H = t["X"]
    for layer in range(3):
        H = torch.sigmoid(H @ t["W"][layer] + t["b"][layer])
    (t["G"] * H).sum().backward()
    return values, {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("name", ["X", "W", "b", "G"])
def test_stack_of_sigmoid_layers_gradient_equals_torch(deep, deep_torch, name):
    values, expected = deep_torch
    np.testing.assert_allclose(deep.gradients(values)[name], expected[name], rtol=1e-10, atol=1e-12)


def test_stack_of_sigmoid_layers_derives_the_layer_recurrence(deep):
    assert "Δₗ = (Δₗ₊₁ Wₗ₊₁ᵀ) ∘ Hₗ ∘ (1 − Hₗ)" in deep.text()


@pytest.mark.parametrize("line", ["G_Wh = Σₜ Hₜ₋₁ᵀ δ₁,ₜ", "G_Wx = Σₜ Xₜᵀ δ₁,ₜ", "G_H₀ = δ₁,₁ Whᵀ",
                                  "G_Hₜ⁽¹⁾ = δ₁,ₜ₊₁ Whᵀ", "Hₜ = tanh(Z₁,ₜ)", "Z₁,ₜ = Xₜ Wx + Hₜ₋₁ Wh + 1b"])
def test_rnn_text_shows_the_recurrence(rnn_every_step, line):
    assert line in rnn_every_step.text()


@pytest.mark.parametrize("program", [RNN_EVERY_STEP, LSTM], ids=["rnn", "lstm"])
def test_text_does_not_grow_with_the_length(program):
    shapes = RNN_SHAPES if program is RNN_EVERY_STEP else LSTM_SHAPES

    def text(length):
        s = {k: (length, *v[1:]) if len(v) == 3 else v for k, v in shapes.items()}
        return derive(program.replace("range(T)", f"range({length})"), s).text()

    assert re.sub(r"\b30\b", "N", text(30)) == re.sub(r"\b3\b", "N", text(3))


@pytest.mark.parametrize("program", [RNN_EVERY_STEP, LSTM], ids=["rnn", "lstm"])
def test_numpy_source_has_a_backward_loop(program):
    shapes = RNN_SHAPES if program is RNN_EVERY_STEP else LSTM_SHAPES
    assert "    for t in reversed(range(T)):\n" in derive(program, shapes).numpy_source()


@pytest.mark.parametrize("fixture", ["rnn_every_step", "rnn_last_step", "lstm", "deep"])
def test_check_unrolled_finds_every_gradient_right(request, fixture):
    report = request.getfixturevalue(fixture).check()
    assert set(report.verdicts.values()) == {"right"}


def test_check_unrolled_names_a_wrong_gradient(monkeypatch):
    import derivlib.engine.loopcode as lc

    d = derive(RNN_EVERY_STEP, RNN_SHAPES)
    right = lc.gradients

    def wrong(ld, values):  # G_Wh scaled by 0.9: a recurrence that drops part of a sum over t
        g = right(ld, values)
        return {**g, "Wh": 0.9 * g["Wh"]}

    monkeypatch.setattr(lc, "gradients", wrong)
    with pytest.raises(GradCheckError) as info:
        d.check()
    assert "the gradient of Wh from the recurrence" in "\n".join(getattr(info.value, "__notes__", []))


@pytest.mark.parametrize("program, message", [
    ("H = H0\nfor t in range(T):\n    for s in range(T):\n        H = tanh(H)\nsum(H)", "loop inside a loop"),
    ("H = H0\nfor t in range(T):\n    H = tanh(X[t + 1] @ Wx + H)\nsum(H)", "at the loop variable only"),
    ("H = H0\nfor t in range(T):\n    H = tanh(X[0] @ Wx + H)\nsum(H)", "at the loop variable only"),
    ("H = H0\nfor t in range(n):\n    H = tanh(X[t] @ Wx + H)\nsum(H)", "declared sequence length"),
    ("H = H0\nfor t in range(T):\n    H = tanh(X @ Wx + H)\nsum(H)", "read it as X"),
    ("H = H0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H) @ Wo\nsum(H)", "changes shape"),
    ("H = H0\nfor t in range(T):\n    Z = tanh(X[t] @ Wx)\nsum(H)", "not rebound"),
    ("H = H0\nL = 0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H)\n    L = L * sum(H)\nL", "accumulator"),
    ("H = H0\nfor t in range(T):\n    H = tanh(W[t] @ Wx + H)\nsum(H)", "has D entries"),
    ("H = H0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H)\nsum(X[0])", "after the loop"),
], ids=["nested", "shifted-index", "constant-index", "range-not-a-length", "unindexed-sequence",
        "state-changes-shape", "state-not-rebound", "accumulator-misused", "other-length", "sequence-after"])
def test_loop_outside_the_language_is_refused(program, message):
    shapes = {"X": ("T", "n", "d"), "W": ("D", "n", "d"), "H0": ("n", "h"), "Wx": ("d", "h"), "Wo": ("h", "k")}
    with pytest.raises(ExpressionError, match=message):
        derive(program, shapes)


def test_latex_sums_the_shared_weights_over_t(rnn_every_step):
    assert r"\sum_{t} H_{t-1}" in rnn_every_step.latex()


GRU = """
H = H0
L = 0
for t in range(T):
    A = X[t] @ Wx + bx
    B = H @ Wh + bh
    ar, az, an = split(A, 3)
    br, bz, bn = split(B, 3)
    r = sigmoid(ar + br)
    z = sigmoid(az + bz)
    N = tanh(an + r * bn)
    H = (1 - z) * N + z * H
    L = L + sum(G[t] * H)
L
"""
GRU_SHAPES = {"X": ("T", "n", "d"), "G": ("T", "n", "h"), "H0": ("n", "h"), "Wx": ("d", "3*h"),
              "Wh": ("h", "3*h"), "bx": (1, "3*h"), "bh": (1, "3*h")}


@pytest.fixture(scope="module")
def gru_torch():
    torch.manual_seed(5)
    rng = _rng(5)
    net = torch.nn.GRU(D_IN, H_).double()
    values = {"X": rng.standard_normal((T_, N, D_IN)), "G": rng.standard_normal((T_, N, H_)),
              "H0": rng.standard_normal((N, H_)),
              "Wx": net.weight_ih_l0.detach().numpy().T.copy(), "Wh": net.weight_hh_l0.detach().numpy().T.copy(),
              "bx": net.bias_ih_l0.detach().numpy()[None, :], "bh": net.bias_hh_l0.detach().numpy()[None, :]}
    X = torch.tensor(values["X"], requires_grad=True)
    H0 = torch.tensor(values["H0"][None], requires_grad=True)
    out, _ = net(X, H0)
    (torch.tensor(values["G"]) * out).sum().backward()
    grads = {"X": X.grad.numpy(), "H0": H0.grad.numpy()[0], "Wx": net.weight_ih_l0.grad.numpy().T,
             "Wh": net.weight_hh_l0.grad.numpy().T, "bx": net.bias_ih_l0.grad.numpy()[None, :],
             "bh": net.bias_hh_l0.grad.numpy()[None, :]}
    return values, grads


@pytest.mark.parametrize("name", ["X", "H0", "Wx", "Wh", "bx", "bh"])
def test_gru_over_time_gradient_equals_torch_gru(gru_torch, name):
    values, expected = gru_torch
    np.testing.assert_allclose(derive(GRU, GRU_SHAPES).gradients(values)[name], expected[name],
                               rtol=1e-10, atol=1e-12)


def test_gru_check_unrolled_finds_every_gradient_right():
    assert set(derive(GRU, GRU_SHAPES).check().verdicts.values()) == {"right"}


@pytest.mark.parametrize("line", ["G_Hₜ⁽¹⁾ = G_Aₜ₊₁ Whᵀ", "Δₜ⁽¹⁾ = Δₜ₊₁ ∘ S₂,ₜ₊₁", "G_C₀ = Δ₁ ∘ S₂,₁",
                                  "G_Wh = Σₜ Hₜ₋₁ᵀ G_Aₜ"])
def test_lstm_text_passes_both_states_adjoints_back(lstm, line):
    assert line in lstm.text()


_CLI_SHAPES = ["--shape", "X=T,n,d", "--shape", "H0=n,h", "--shape", "Wx=d,h", "--shape", "Wh=h,h",
               "--shape", "G=n,h"]
_CLI_PROGRAM = "H = H0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H @ Wh)\nsum(G * H)\n"


def test_cli_reads_a_loop_program_from_a_file(tmp_path, capsys):
    from derivlib.__main__ import main

    path = tmp_path / "rnn.py"
    path.write_text(_CLI_PROGRAM, encoding="utf-8")
    assert main(["derive", "--file", str(path), *_CLI_SHAPES]) == 0
    assert "G_Wh = Σₜ Hₜ₋₁ᵀ Δₜ" in capsys.readouterr().out


def test_cli_reads_a_loop_program_from_stdin(monkeypatch, capsys):
    import io

    from derivlib.__main__ import main

    monkeypatch.setattr("sys.stdin", io.StringIO(_CLI_PROGRAM))
    assert main(["derive", "-", *_CLI_SHAPES, "--numpy"]) == 0
    assert "for t in reversed(range(T)):" in capsys.readouterr().out


def test_cli_refuses_both_an_expression_and_a_file(tmp_path):
    from derivlib.__main__ import main

    with pytest.raises(SystemExit):
        main(["derive", "sum(G)", "--file", str(tmp_path / "x.py"), "--shape", "G=n,h"])


# -- the gallery's loops: pure Python (the playground's path) and numpy agree ---------------------------
from derivlib.playground.gallery import LOOPS  # noqa: E402

LOOP_PARAMS = [pytest.param(e, id=e.key) for e in LOOPS]


def _derive_example(e):
    return derive(e.expr, e.shapes, wrt=list(e.wrt))


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_gallery_loop_checks_right_in_pure_python(example):
    assert _derive_example(example).check_pure().verdict == "right"


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_gallery_loop_checks_right_with_numpy(example):
    assert _derive_example(example).check().verdict == "right"


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_gallery_loop_pure_gradients_equal_the_generated_code(example):
    d = _derive_example(example)
    values = d.random_inputs(seed=7)
    pure = d.gradients_pure({k: v.tolist() for k, v in values.items()})
    for name, g in d.gradients(values).items():
        np.testing.assert_allclose(np.array(pure[name]), g, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("example", LOOP_PARAMS)
def test_gallery_loop_text_is_the_same_for_3_and_30_steps_but_the_number(example):
    length = "D" if "range(D)" in example.expr else "T"

    def text(k):
        shapes = {v: (k, *s[1:]) if len(s) == 3 else s for v, s in example.shapes.items()}
        return derive(example.expr.replace(f"range({length})", f"range({k})"), shapes, wrt=list(example.wrt)).text()

    def number_as_n(text, k):  # the length as a number (… 3) and as the last state's subscript (H₃)
        sub = str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
        text = re.sub(rf"(?<!\d){k}(?!\d)", "N", text)
        text = re.sub(rf"(?<![₀-₉]){sub}(?![,₀-₉])", "ₙ", text)
        return re.sub(" +", " ", text)  # a column padded one space less after H₃₀ than after H₃

    assert number_as_n(text(30), 30) == number_as_n(text(3), 3)


def test_check_pure_finds_a_wrong_recurrence(monkeypatch):
    import derivlib.engine.looppure as lp

    right = lp.gradients_pure

    def wrong(ld, values):  # G_Wh doubled: the check must say wrong
        g = right(ld, values)
        return {**g, "Wh": [[2 * x for x in row] for row in g["Wh"]]}

    monkeypatch.setattr(lp, "gradients_pure", wrong)
    report = _derive_example(LOOPS[0]).check_pure()
    assert (report.verdicts["Wh"], report.verdict) == ("wrong", "wrong")


def test_gallery_loops_run_without_numpy():
    import json
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from derivlib.engine import derive\n"
        "from derivlib.playground.gallery import LOOPS\n"
        "ok = [derive(e.expr, e.shapes, wrt=list(e.wrt)).check_pure().verdict for e in LOOPS]\n"
        "[(derive(e.expr, e.shapes).text(), derive(e.expr, e.shapes).latex(), derive(e.expr, e.shapes).numpy_source())"
        " for e in LOOPS]\n"
        "print(json.dumps({'ok': ok, 'numpy': 'numpy' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"ok": ["right"] * len(LOOPS), "numpy": False}


@pytest.mark.parametrize("words", ["LoopDerivation", "three entries", "for t in range(T):"])
def test_derive_documents_loop_programs(words):
    import derivlib

    assert words in derivlib.derive.__doc__


def test_latex_writes_the_adjoint_from_the_next_layer_without_parentheses_on_its_own(deep):
    assert r"G_{H_{l}} &= \Delta_{l+1} W_{l+1}^T &&" in deep.latex()


def test_latex_without_why_leaves_out_the_read_outs_differentials(deep):
    assert r"\mathrm{d}" not in deep.latex(why=False)


@pytest.mark.parametrize("change, words", [
    ({"Wx": np.zeros((5, 4))}, "5 in Wx"),
    ({"X": np.zeros((2, 3))}, "X must be a 3-D array"),
    ({"G": np.zeros((3, 2, 4))}, "G must be a 2-D array"),
], ids=["rows-disagree", "sequence-as-matrix", "matrix-as-sequence"])
def test_gradients_refuse_values_of_the_wrong_shape(change, words):
    d = derive("H = H0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H @ Wh)\nsum(G * H)",
               {"X": ("T", "n", "d"), "H0": ("n", "h"), "Wx": ("d", "h"), "Wh": ("h", "h"), "G": ("n", "h")})
    values = {"X": np.zeros((3, 2, 3)), "H0": np.zeros((2, 4)), "Wx": np.zeros((3, 4)), "Wh": np.zeros((4, 4)),
              "G": np.zeros((2, 4)), **change}
    with pytest.raises(ValueError, match=words):
        d.gradients(values)


# -- truncated backpropagation through time (the BPTT page's claim) ------------------------------


def test_truncated_bptt_is_the_derivation_over_the_last_k_steps_from_the_detached_state(rnn_last_step):
    # torch truncates by detaching the state k steps before the end; the engine's derivation
    # run over the last k steps from that state gives the same weight gradients
    torch = pytest.importorskip("torch")
    rng, T, k, n, d, h, c = _rng(7), 8, 3, 2, 3, 4, 5
    v = {"X": rng.normal(size=(T, n, d)), "H0": rng.normal(size=(n, h)), "Wx": rng.normal(size=(d, h)),
         "Wh": rng.normal(size=(h, h)) / 2, "b": rng.normal(size=(1, h)), "V": rng.normal(size=(h, c)),
         "c": rng.normal(size=(1, c)), "Y": np.eye(c)[[1, 4]]}
    w = {name: torch.tensor(v[name], requires_grad=True) for name in ("Wx", "Wh", "b", "V", "c")}
    state = torch.tensor(v["H0"])
    for t in range(T):
        if t == T - k:
            state = state.detach()
        state = torch.tanh(torch.tensor(v["X"][t]) @ w["Wx"] + state @ w["Wh"] + w["b"])
    loss = -(torch.tensor(v["Y"]) * torch.log_softmax(state @ w["V"] + w["c"], dim=1)).sum() / n
    loss.backward()
    H = v["H0"]
    for t in range(T - k):
        H = np.tanh(v["X"][t] @ v["Wx"] + H @ v["Wh"] + v["b"])
    got = rnn_last_step.gradients({**v, "X": v["X"][T - k:], "H0": H})
    for name in ("Wx", "Wh", "b", "V", "c"):
        np.testing.assert_allclose(got[name], w[name].grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


# -- regressions found by the random loop programs (tests/test_differential_loops.py) ---------------
def _torch_loop(program, values):
    from verification.torch_oracle import torch_loop_gradients

    sizes = {}
    d = derive(program, {k: s for k, s in _REGRESSION_SHAPES[program].items()})
    for v, a in values.items():
        shape = d.program.sequences.get(v) or d.program.plain[v]
        sizes.update({str(n): k for n, k in zip(shape, np.shape(a)) if isinstance(n, str)})
    return torch_loop_gradients(program, values, sizes, d.wrt)


# the initial state is called R, and the body's relu, not a variable of the body, was named R too:
# numpy_source() then started the adjoint as zeros_like(R), R the list of the relu's values
# (seed 0 of the first random loop programs, the same with Z1 against a |G_S| step)
INIT_NAMED_LIKE_A_STEP = """
H = R
L = 0
for t in range(T):
    H = tanh(relu(X[t] @ W) @ V + H)
    L = L + sum(H)
L
"""
# a weight called G_X next to a sequence X: numpy_source() started the sum of X's gradients as
# G_X = zeros_like(X), and then read that as the weight (seed 40 of the random loop programs)
WEIGHT_NAMED_LIKE_A_GRADIENT = """
H = H0
for t in range(T):
    H = tanh(X[t] @ G_X + H)
sum(H)
"""
# the read-out's adjoint of U + V starts the sums of both U's and V's gradients; U's sum went on
# with += in the backward loop, in place, and so changed V's gradient too (seed 5)
READOUT_ADJOINT_SHARED = """
H = H0
for t in range(T):
    H = tanh(X[t] @ W + H + U)
sum(H) + sum(max(U + V, axis=1))
"""
# a dimension used as a number in the read-out, declared only by variables of the loop body:
# derive() said "unknown name 'k'" (seed 16)
READOUT_READS_A_DIMENSION = """
H = H0
for t in range(T):
    H = tanh(X[t] @ W + H)
k + sum(H)
"""
# a dimension used as a number in the loop body, declared only by a variable of the read-out:
# derive() said "unknown name 'k'" (seeds 683, 711, 917, 942)
BODY_READS_A_DIMENSION = """
H = H0
for t in range(T):
    H = tanh(X[t] @ W + H / k)
sum(H) + sum(V)
"""
# a dimension of a variable of the read-out only, called Z like the body's pre-activation: the step
# Z of numpy_source()'s loop overwrote the size Z, and V's gradient had the wrong shape (seeds 79, 90)
BODY_STEP_NAMED_LIKE_A_DIMENSION = """
H = H0
for t in range(T):
    H = tanh(X[t] @ W + H)
sum(H) + sum(V)
"""
# the read-out's adjoint of W is U.T, a view of the value of U: the sum of W's gradients started
# as that view and grew in place (+=), so gradients() changed the caller's U (seed 2730, the
# executed numpy_source() then off after gradients() had run on the same arrays)
READOUT_ADJOINT_A_VIEW = """
S = S0
for t in range(T):
    S = tanh(X[t] @ W + S)
sum(S) + U @ W
"""
_REGRESSION_SHAPES = {
    READOUT_ADJOINT_A_VIEW: {"X": ("T", "n", "d"), "S0": ("n", 1), "W": ("d", 1), "U": (1, "d")},
    BODY_READS_A_DIMENSION: {"X": ("T", "n", "d"), "H0": ("n", "h"), "W": ("d", "h"), "V": ("n", "k")},
    BODY_STEP_NAMED_LIKE_A_DIMENSION: {"X": ("T", "n", "d"), "H0": ("n", "h"), "W": ("d", "h"), "V": ("n", "Z")},
    READOUT_READS_A_DIMENSION: {"X": ("T", "n", "k"), "H0": ("n", "h"), "W": ("k", "h")},
    READOUT_ADJOINT_SHARED: {"X": ("T", "n", "d"), "H0": ("n", "h"), "W": ("d", "h"), "U": ("n", "h"),
                             "V": ("n", "h")},
    INIT_NAMED_LIKE_A_STEP: {"X": ("T", "n", "d"), "R": ("n", "h"), "W": ("d", "d"), "V": ("d", "h")},
    WEIGHT_NAMED_LIKE_A_GRADIENT: {"X": ("T", "n", "d"), "H0": ("n", "h"), "G_X": ("d", "h")},
}


def _regression_values(program, seed=0):
    return derive(program, _REGRESSION_SHAPES[program]).random_inputs(seed=seed)


@pytest.mark.parametrize("name", ["X", "R", "W", "V"])
def test_initial_state_named_like_a_step_of_the_body_gradient_equals_torch(name):
    values = _regression_values(INIT_NAMED_LIKE_A_STEP)
    got = derive(INIT_NAMED_LIKE_A_STEP, _REGRESSION_SHAPES[INIT_NAMED_LIKE_A_STEP]).gradients(values)
    np.testing.assert_allclose(got[name], _torch_loop(INIT_NAMED_LIKE_A_STEP, values)[name], rtol=1e-10, atol=1e-12)


def test_a_step_of_the_body_is_not_named_after_a_variable_of_the_program():
    text = derive(INIT_NAMED_LIKE_A_STEP, _REGRESSION_SHAPES[INIT_NAMED_LIKE_A_STEP]).text()
    assert "R = relu" not in text


@pytest.mark.parametrize("name", ["X", "H0", "G_X"])
def test_weight_named_like_a_gradient_gradient_equals_torch(name):
    values = _regression_values(WEIGHT_NAMED_LIKE_A_GRADIENT)
    got = derive(WEIGHT_NAMED_LIKE_A_GRADIENT, _REGRESSION_SHAPES[WEIGHT_NAMED_LIKE_A_GRADIENT]).gradients(values)
    np.testing.assert_allclose(got[name], _torch_loop(WEIGHT_NAMED_LIKE_A_GRADIENT, values)[name], rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("name", ["X", "H0", "W", "U", "V"])
def test_two_gradients_started_by_one_adjoint_of_the_read_out_equal_torch(name):
    values = _regression_values(READOUT_ADJOINT_SHARED)
    got = derive(READOUT_ADJOINT_SHARED, _REGRESSION_SHAPES[READOUT_ADJOINT_SHARED]).gradients(values)
    np.testing.assert_allclose(got[name], _torch_loop(READOUT_ADJOINT_SHARED, values)[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["X", "H0", "W"])
def test_a_dimension_read_only_in_the_read_out_gradient_equals_torch(name):
    values = _regression_values(READOUT_READS_A_DIMENSION)
    got = derive(READOUT_READS_A_DIMENSION, _REGRESSION_SHAPES[READOUT_READS_A_DIMENSION]).gradients(values)
    np.testing.assert_allclose(got[name], _torch_loop(READOUT_READS_A_DIMENSION, values)[name], rtol=1e-10,
                               atol=1e-12)


def test_a_dimension_read_only_in_the_read_out_loss_equals_torch():
    from verification.torch_oracle import torch_loss

    values = _regression_values(READOUT_READS_A_DIMENSION)
    d = derive(READOUT_READS_A_DIMENSION, _REGRESSION_SHAPES[READOUT_READS_A_DIMENSION])
    sizes = {"T": 3, "n": values["H0"].shape[0], "k": values["W"].shape[0], "h": values["W"].shape[1]}
    assert d.loss(values) == pytest.approx(torch_loss(READOUT_READS_A_DIMENSION, values, sizes), rel=1e-12)


@pytest.mark.parametrize("name", ["X", "H0", "W", "V"])
def test_a_dimension_read_only_in_the_body_gradient_equals_torch(name):
    values = _regression_values(BODY_READS_A_DIMENSION)
    got = derive(BODY_READS_A_DIMENSION, _REGRESSION_SHAPES[BODY_READS_A_DIMENSION]).gradients(values)
    np.testing.assert_allclose(got[name], _torch_loop(BODY_READS_A_DIMENSION, values)[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["X", "H0", "W", "V"])
def test_a_dimension_read_only_in_the_body_pure_gradient_equals_torch(name):
    values = _regression_values(BODY_READS_A_DIMENSION)
    got = derive(BODY_READS_A_DIMENSION, _REGRESSION_SHAPES[BODY_READS_A_DIMENSION]).gradients_pure(
        {k: v.tolist() for k, v in values.items()})
    np.testing.assert_allclose(np.array(got[name]), _torch_loop(BODY_READS_A_DIMENSION, values)[name], rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("name", ["X", "H0", "W", "V"])
def test_a_step_of_the_body_named_like_a_dimension_gradient_equals_torch(name):
    program = BODY_STEP_NAMED_LIKE_A_DIMENSION
    values = _regression_values(program)
    got = derive(program, _REGRESSION_SHAPES[program]).gradients(values)
    np.testing.assert_allclose(got[name], _torch_loop(program, values)[name], rtol=1e-10, atol=1e-12)


def test_a_read_out_reading_a_name_never_bound_is_refused():
    program = """
H = H0
for t in range(T):
    H = tanh(X[t] @ W + H)
sum(H) + sum(Yhat)
"""
    with pytest.raises(ExpressionError, match="unknown name 'Yhat'"):
        derive(program, {"X": ("T", "n", "d"), "H0": ("n", "h"), "W": ("d", "h")})


def test_gradients_leave_the_values_unchanged():
    program = READOUT_ADJOINT_A_VIEW
    values = _regression_values(program)
    before = {k: v.copy() for k, v in values.items()}
    derive(program, _REGRESSION_SHAPES[program]).gradients(values)
    assert all(np.array_equal(values[k], before[k]) for k in values)


@pytest.mark.parametrize("name", ["X", "S0", "W", "U"])
def test_gradients_a_second_time_on_the_same_values_equal_torch(name):
    program = READOUT_ADJOINT_A_VIEW
    values = _regression_values(program)
    want = _torch_loop(program, {k: v.copy() for k, v in values.items()})[name]
    d = derive(program, _REGRESSION_SHAPES[program])
    d.gradients(values)
    np.testing.assert_allclose(d.gradients(values)[name], want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("key", ["rnn_every_step", "rnn_last_step", "lstm_over_time", "sigmoid_stack"])
def test_the_latex_writes_no_name_as_plain_text(key):
    # a subscripted name inside \text{...} shows its underscores (G_H_D) instead of G_{H_D}
    from derivlib.playground.gallery import LOOPS

    e = next(x for x in LOOPS if x.key == key)
    latex = derive(e.expr, e.shapes, list(e.wrt)).latex()
    assert not [t for t in re.findall(r"\\text\{([^}]*)\}", latex) if "_" in t]


# -- a variable that starts a state and is read elsewhere too (found by an adversarial read) ------

_H0_SHAPES = {"X": ("T", "n", "h"), "H0": ("n", "h"), "W": ("h", "h")}
_H0_PROGRAMS = {
    "read-in-the-body": ("H = H0\nfor t in range(T):\n    H = tanh(H @ W + X[t] + H0)\nsum(H)",
                         lambda H0, W, X: _h0_run(H0, W, X, lambda H, x: torch_tanh(H @ W + x + H0)).sum()),
    "read-in-the-read-out": ("H = H0\nfor t in range(T):\n    H = tanh(H @ W + X[t])\nsum(H * H0)",
                             lambda H0, W, X: (_h0_run(H0, W, X, lambda H, x: torch_tanh(H @ W + x)) * H0).sum()),
}


def torch_tanh(a):
    import torch

    return torch.tanh(a)


def _h0_run(H0, W, X, step):
    H = H0
    for t in range(X.shape[0]):
        H = step(H, X[t])
    return H


@pytest.mark.parametrize("how", ["gradients", "numpy_source", "pure"])
@pytest.mark.parametrize("key", list(_H0_PROGRAMS))
def test_a_variable_starting_the_state_and_read_elsewhere_gets_every_path(key, how):
    torch = pytest.importorskip("torch")
    program, loss = _H0_PROGRAMS[key]
    d = derive(program, _H0_SHAPES)
    rng = _rng(11)
    v = {"X": rng.normal(size=(3, 2, 4)), "H0": rng.normal(size=(2, 4)), "W": rng.normal(size=(4, 4)) / 2}
    t = {k: torch.tensor(x, requires_grad=True) for k, x in v.items()}
    loss(t["H0"], t["W"], t["X"]).backward()
    if how == "gradients":
        got = d.gradients(v)
    elif how == "numpy_source":
        scope = {}
        exec(d.numpy_source(), scope)
        got = scope["backward"](**v)
    else:
        got = {k: np.array(g) for k, g in d.gradients_pure({k: x.tolist() for k, x in v.items()}).items()}
    for name in ("H0", "W", "X"):
        np.testing.assert_allclose(got[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("key", list(_H0_PROGRAMS))
def test_the_text_adds_the_paths_of_a_variable_reached_two_ways(key):
    gradients = derive(_H0_PROGRAMS[key][0], _H0_SHAPES).text().split("\ngradients\n")[1]
    assert "G_H₀ = G_H₀⁽¹⁾ + G_H₀⁽²⁾" in gradients and gradients.count("G_H₀ =") == 1


@pytest.mark.parametrize("program, words", [
    ("H = H0\nfor t in range(T):\n    H = tanh(H @ W + X[t])\nsum(X * H)", "X is a sequence"),
    ("H = H0\nL = 0\nfor t in range(T):\n    H = tanh(H @ W + X[t])\n    L = L + H\nL", "not a number"),
    ("H = H0\nL = 0\nfor t in range(T):\n    H = tanh(H @ W + X[t])\n    L = L + sum(H)\nL - 1", "a constant"),
], ids=["a-sequence-after-the-loop", "a-matrix-added-to-the-loss", "a-constant-read-out"])
def test_a_program_the_loop_cannot_mean_is_refused_at_derive(program, words):
    with pytest.raises(ExpressionError, match=words):
        derive(program, _H0_SHAPES)
