"""Section: the layer pack's generated numpy backward against PyTorch's own layers.

For the convolution, the LSTM cell and batch normalization, derivlib's contender is the
numpy code the engine writes (``derive(expr, shapes, wrt).numpy_source()``, executed once):
one call of its ``backward``, which runs the forward steps it needs and then the backward
ones. PyTorch's contender is its own layer at float64 on the CPU (``F.conv2d``,
``nn.LSTMCell``, ``F.batch_norm(training=True)``): the forward call and
``backward(upstream)`` with the same upstream gradient, gradients with respect to the same
inputs. Before anything is timed both gradients are compared (to 1e-9 of the largest entry
of each); then both are timed in the same interleaved rounds, every core, each library
with its default threads. Target: derivlib at most 2× PyTorch's time (min of rounds).

Sizes: the convolution of CS231n's assignment 2 (50 images 32×32×3, 32 filters 7×7,
stride 1, pad 3); an LSTM cell with a batch of 50, input and hidden width 128; batch norm
of 256 rows of 1024 features. The convolution needs ``im2col`` in the engine; without it
the row records why it was skipped.
"""

from __future__ import annotations

import time

import numpy as np

from _timing import interleaved

TARGET = 2.0  # derivlib's generated backward / torch's forward + backward, at most
RTOL = 1e-9  # the gradients must agree to this fraction of the largest entry of each
SAMPLE_SECONDS = 0.02  # calls per sample: enough for about this long
ROUNDS = 41  # interleaved rounds of a full run (the machine may be shared: the min of many is the headline)


def _generated_backward(expr, shapes, wrt):
    """``backward`` of the engine's numpy code for ``expr``, and the source."""
    from derivlib import derive

    d = derive(expr, shapes, wrt=wrt)
    source = d.numpy_source()
    namespace = {}
    exec(compile(source, "<derivlib.engine numpy_source>", "exec"), namespace)  # noqa: S102 (our own generated code)
    return namespace["backward"], source


# ------------------------------------------------------------------------------- LSTM cell
LSTM_SIZES = {"n": 50, "d": 128, "h": 128}
LSTM = ("A = X @ Wx + H @ Wh + b; i, f, o, g = split(A, 4); C2 = sigmoid(f) * C + sigmoid(i) * tanh(g); "
        "H2 = sigmoid(o) * tanh(C2); sum(GH * H2) + sum(GC * C2)")


def lstm(rng):
    import torch

    from verification.torch_layers import lstm_cell_gradients, lstm_cell_weights

    n, d, h = LSTM_SIZES["n"], LSTM_SIZES["d"], LSTM_SIZES["h"]
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(d, h).double()
    x, hh, c, gh, gc = (rng.standard_normal((n, k)) for k in (d, h, h, h, h))
    values = {"X": x, "H": hh, "C": c, "GH": gh, "GC": gc, **lstm_cell_weights(cell)}
    shapes = {k: v.shape for k, v in values.items()}
    wrt = ["X", "H", "C", "Wx", "Wh", "b"]
    tx, th, tc = (torch.from_numpy(v).requires_grad_() for v in (x, hh, c))
    upstream = (torch.from_numpy(gh), torch.from_numpy(gc))
    leaves = (tx, th, tc, *cell.parameters())

    def run():
        for t in leaves:
            t.grad = None
        h2, c2 = cell(tx, (th, tc))
        torch.autograd.backward((h2, c2), upstream)

    def grads():
        return {"X": tx.grad.numpy(), "H": th.grad.numpy(), "C": tc.grad.numpy(), **lstm_cell_gradients(cell)}

    return LSTM, shapes, wrt, values, run, grads


# ----------------------------------------------------------------------------- batch norm
BN_SIZES = {"n": 256, "d": 1024}
BN_EPS = 1e-5
BN = "C = X - mean(X, axis=0); V = mean(C ** 2, axis=0); Y = C / sqrt(V + 0.00001); sum(G * (Y * gamma + beta))"


def batch_norm(rng):
    import torch
    import torch.nn.functional as F

    n, d = BN_SIZES["n"], BN_SIZES["d"]
    values = {"X": rng.standard_normal((n, d)), "gamma": rng.uniform(0.5, 2.0, (1, d)),
              "beta": rng.standard_normal((1, d)), "G": rng.standard_normal((n, d))}
    shapes = {k: v.shape for k, v in values.items()}
    tx, tg, tb = (torch.from_numpy(v).requires_grad_() for v in (values["X"], values["gamma"][0], values["beta"][0]))
    upstream = torch.from_numpy(values["G"])

    def run():
        for t in (tx, tg, tb):
            t.grad = None
        F.batch_norm(tx, None, None, weight=tg, bias=tb, training=True, eps=BN_EPS).backward(upstream)

    def grads():
        return {"X": tx.grad.numpy(), "gamma": tg.grad.numpy()[None], "beta": tb.grad.numpy()[None]}

    return BN, shapes, ["X", "gamma", "beta"], values, run, grads


# ---------------------------------------------------------------------------- convolution
CONV_SIZES = {"n": 50, "H": 32, "W": 32, "C": 3, "F": 32, "k": 7, "pad": 3}
CONV = "sum(G * group(im2col(X, image=(32, 32, 3), kernel=(7, 7), pad=3) @ K + b, 1024))"


def convolution(rng):
    """Rows of X are channels-last images; K is torch's weight (F, C, k, k) reshaped to
    (F, C·k·k) and transposed (column (c·k + di)·k + dj, torch unfold's order); the output
    row of a sample is its H'×W'×F result, channels last."""
    import torch
    import torch.nn.functional as F

    s = CONV_SIZES
    n, hh, ww, c, f, k, pad = s["n"], s["H"], s["W"], s["C"], s["F"], s["k"], s["pad"]
    x = rng.standard_normal((n, hh, ww, c))  # channels last, as the engine reads a row
    weight = rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k)
    bias = rng.standard_normal(f)
    g = rng.standard_normal((n, hh, ww, f))  # H' = W' = 32 with pad 3
    values = {"X": x.reshape(n, -1), "K": weight.reshape(f, -1).T.copy(), "b": bias[None].copy(),
              "G": g.reshape(n, -1)}
    shapes = {k_: v.shape for k_, v in values.items()}
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_()  # torch's NCHW, made outside the timing
    tw, tb = torch.from_numpy(weight).requires_grad_(), torch.from_numpy(bias).requires_grad_()
    upstream = torch.from_numpy(g.transpose(0, 3, 1, 2).copy())

    def run():
        for t in (tx, tw, tb):
            t.grad = None
        F.conv2d(tx, tw, tb, padding=pad).backward(upstream)

    def grads():
        return {"X": tx.grad.numpy().transpose(0, 2, 3, 1).reshape(n, -1),
                "K": tw.grad.numpy().reshape(f, -1).T, "b": tb.grad.numpy()[None]}

    return CONV, shapes, ["X", "K", "b"], values, run, grads


LAYERS = [
    ("convolution", "50 images 32×32×3, 32 filters 7×7, pad 3", convolution, "im2col"),
    ("LSTM cell", "n=50, d=128, h=128", lstm, None),
    ("batch norm", "n=256, d=1024", batch_norm, None),
]


def _relative_difference(mine, theirs) -> float:
    return float(np.abs(mine - theirs).max() / max(np.abs(theirs).max(), np.finfo(float).tiny))


def _page_faults_per_call(fn, number) -> float | None:
    """Minor page faults of the process per call of ``fn`` (after one warm-up call): each is a
    page of memory the call got fresh from the system. None where ``resource`` is missing."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(number * 5):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / (number * 5)


def one_layer(name, label, make, quick, log) -> dict:
    rng = np.random.default_rng(0)
    expr, shapes, wrt, values, torch_run, torch_grads = make(rng)
    backward, source = _generated_backward(expr, shapes, wrt)
    args = {k: values[k] for k in shapes}
    mine = backward(**args)
    torch_run()
    theirs = torch_grads()
    differences = {}
    for k in wrt:
        if np.shape(mine[k]) != np.shape(theirs[k]):
            raise AssertionError(f"{name}: gradient {k} has shape {np.shape(mine[k])}, torch's {np.shape(theirs[k])}")
        differences[k] = _relative_difference(mine[k], theirs[k])
        if not differences[k] <= RTOL:
            raise AssertionError(f"{name}: gradient {k} differs from torch's by {differences[k]:.3g} of its largest entry")
    contenders = {"derivlib": lambda: backward(**args), "torch": torch_run}
    start = time.perf_counter()
    for fn in contenders.values():
        fn()
    per_call = (time.perf_counter() - start) / 2
    number = max(1, int(SAMPLE_SECONDS / per_call))
    rounds = 5 if quick else ROUNDS
    times = interleaved(contenders, rounds=rounds, number=number)
    faults = {k: _page_faults_per_call(fn, number) for k, fn in contenders.items()}
    ratio = times["derivlib"]["min"] / times["torch"]["min"]
    paired = float(np.median([a / b for a, b in zip(times["derivlib"]["wall"], times["torch"]["wall"])]))
    log(f"    {name:12s} {label:42s} derivlib {times['derivlib']['min'] * 1e3:8.3f} ms  "
        f"torch {times['torch']['min'] * 1e3:8.3f} ms  ratio {ratio:.2f} (paired {paired:.2f})  "
        f"page faults/call {faults['derivlib']} vs {faults['torch']}")
    return {"layer": name, "label": label, "expression": expr, "wrt": wrt,
            "shapes": {k: list(v) for k, v in shapes.items()}, "rounds": rounds, "calls_per_sample": number,
            "max_relative_difference": differences,
            "seconds": {k: {s: v[s] for s in ("min", "median", "cpu_min", "cpu_median")} for k, v in times.items()},
            "cpu_over_wall": {k: v["cpu_min"] / v["min"] for k, v in times.items()},
            "derivlib_over_torch": {"min": ratio, "paired_median": paired},
            "minor_page_faults_per_call": faults,
            "target": TARGET, "met": ratio <= TARGET, "source": source}


def run(quick, log, cores=None) -> dict:
    import torch

    from derivlib.engine.rules import RULES
    from engines import torch_setup

    info = torch_setup(cores)
    log(f"  torch {torch.__version__}: {info['num_threads']} intra-op threads")
    rows = []
    for name, label, make, needs in LAYERS:
        if needs is not None and needs not in RULES:
            note = f"skipped: this derivlib has no {needs!r} (derivlib.engine.rules.RULES)"
            print(f"    {name}: {note}", flush=True)
            rows.append({"layer": name, "label": label, "skipped": note, "target": TARGET})
            continue
        rows.append(one_layer(name, label, make, quick, log))
    return {"rows": rows, "target": TARGET, "gradient_rtol": RTOL, "torch": info}
