"""Convolution as rows: im2col, group, ungroup, checked against torch's own layers at float64.

The convolution ``group(im2col(X, image=(H, W, C), kernel=(kh, kw), stride=s, pad=p) @ K + b, H'W')``
is compared with ``torch.nn.functional.conv2d`` on the NCHW batch of the same numbers (torch's
weight (C', C, kh, kw) is K reshaped: K = weight.reshape(C', C·kh·kw).T), forward and the
gradients with respect to X, K and b from torch's autograd.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from derivlib import derive
from derivlib.engine import evaluate_pure
from derivlib.engine.nodes import Coef, ExpressionError
from derivlib.playground.gallery import EXAMPLES
from verification.torch_oracle import torch_gradients

RTOL = 1e-12


class Case:
    def __init__(self, H, W, C, C2, kh, kw, stride, pad, n=2):
        self.H, self.W, self.C, self.C2, self.kh, self.kw, self.stride, self.pad, self.n = (
            H, W, C, C2, kh, kw, stride, pad, n)
        self.Ho = (H + 2 * pad - kh) // stride + 1
        self.Wo = (W + 2 * pad - kw) // stride + 1

    @property
    def conv(self):
        return (f"group(im2col(X, image=({self.H}, {self.W}, {self.C}), kernel=({self.kh}, {self.kw}), "
                f"stride={self.stride}, pad={self.pad}) @ K + b, {self.Ho * self.Wo})")

    @property
    def expr(self):
        return f"Y = {self.conv}; sum(G * Y)"

    @property
    def shapes(self):
        ckk = self.C * self.kh * self.kw
        return {"X": ("n", self.H * self.W * self.C), "K": (ckk, self.C2), "b": (1, self.C2),
                "G": ("n", self.Ho * self.Wo * self.C2)}

    def values(self, seed=0):
        rng = np.random.default_rng(seed)
        return {name: rng.normal(size=(self.n if r == "n" else r, c)) for name, (r, c) in self.shapes.items()}


CASES = [
    pytest.param(Case(6, 6, 3, 4, 3, 3, 1, 1), id="6x6x3-to-4-3x3-stride1-pad1"),
    pytest.param(Case(5, 7, 2, 3, 3, 2, 1, 0), id="5x7x2-to-3-3x2-stride1-pad0"),
    pytest.param(Case(7, 5, 3, 2, 3, 3, 2, 0), id="7x5x3-to-2-3x3-stride2-pad0"),
    pytest.param(Case(6, 8, 1, 5, 2, 4, 2, 1), id="6x8x1-to-5-2x4-stride2-pad1"),
    pytest.param(Case(4, 5, 2, 3, 7, 7, 1, 3), id="4x5x2-to-3-7x7-stride1-pad3"),
]


def _torch_conv(case, values):
    """torch's own conv2d on the same numbers, and the gradients of sum(G * Y) by its autograd."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in "XKb") for k, v in values.items()}
    x = t["X"].reshape(case.n, case.H, case.W, case.C).permute(0, 3, 1, 2)
    weight = t["K"].T.reshape(case.C2, case.C, case.kh, case.kw)
    y = torch.nn.functional.conv2d(x, weight, t["b"].reshape(-1), stride=case.stride, padding=case.pad)
    y = y.permute(0, 2, 3, 1).reshape(case.n, -1)  # channels last, one row per sample
    grads = torch.autograd.grad((t["G"] * y).sum(), [t["X"], t["K"], t["b"]])
    return y.detach().numpy(), dict(zip("XKb", (g.numpy() for g in grads)))


def _close(got, want):
    return np.abs(got - want).max() <= RTOL * np.abs(want).max()


@pytest.mark.parametrize("case", CASES)
def test_the_convolution_equals_torchs_conv2d(case):
    got = derive(case.expr, case.shapes, wrt=["X", "K", "b"]).evaluate(case.values())["Y"]
    assert _close(got, _torch_conv(case, case.values())[0])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("wrt", ["X", "K", "b"])
def test_the_convolutions_gradient_equals_torchs_autograd(case, wrt):
    want = _torch_conv(case, case.values())[1][wrt]
    got = derive(case.expr, case.shapes, wrt=["X", "K", "b"]).gradients(case.values())[wrt]
    assert _close(got, want)


@pytest.mark.parametrize("case", CASES)
def test_the_generated_numpy_equals_torchs_autograd(case):
    d = derive(case.expr, case.shapes, wrt=["X", "K", "b"])
    ns = {}
    exec(d.numpy_source(), ns)  # noqa: S102 (the engine's own generated code)
    got = ns["backward"](**case.values())
    want = _torch_conv(case, case.values())[1]
    assert all(_close(got[k], want[k]) for k in "XKb")


@pytest.mark.parametrize("case", CASES[:3])
def test_the_pure_evaluator_equals_torchs_conv2d(case):
    values = case.values()
    got = evaluate_pure(case.conv, {k: v.tolist() for k, v in values.items() if k != "G"},
                        {k: s for k, s in case.shapes.items() if k != "G"})
    assert _close(np.array(got), _torch_conv(case, values)[0])


@pytest.mark.parametrize("case", CASES)
def test_the_torch_oracle_reads_the_convolution_as_conv2d(case):
    got = torch_gradients(case.expr, case.values(), {"n": case.n}, wrt=["X", "K", "b"])
    want = _torch_conv(case, case.values())[1]
    assert all(_close(got[k], want[k]) for k in "XKb")


# -- the derivation reads as LAYERS.md's target --------------------------------------------------

LAYER = Case(6, 6, 3, 4, 3, 3, 1, 1)
N36 = Coef(36, (("n", 1),))


def _steps():
    d = derive(LAYER.expr, LAYER.shapes, wrt=["X", "K", "b"])
    return {s.symbol: (s.expression, s.shape) for s in d.steps}


@pytest.mark.parametrize(("symbol", "expression", "shape"), [
    pytest.param("P", "im2col(X)", (N36, 27), id="P-the-windows"),
    pytest.param("Z", "PK + 1b", (N36, 4), id="Z-one-product"),
    pytest.param("Y", "group(Z)", ("n", 144), id="Y-grouped"),
    pytest.param("G_Z", "ungroup(G)", (N36, 4), id="G_Z-ungrouped"),
    pytest.param("G_K", "Pᵀ G_Z", (27, 4), id="G_K-summed-over-windows"),
    pytest.param("G_b", "1ᵀ G_Z", (1, 4), id="G_b"),
    pytest.param("G_P", "G_Z Kᵀ", (N36, 27), id="G_P"),
    pytest.param("G_X", "col2im(G_P)", ("n", 108), id="G_X-col2im"),
])
def test_the_convolutions_derivation_reads_as_the_target(symbol, expression, shape):
    assert _steps()[symbol] == (expression, shape)


def test_the_convolutions_derivation_checks_right():
    d = derive(LAYER.expr, LAYER.shapes, wrt=["X", "K", "b"])
    assert (d.check().verdict, d.check_pure().verdict, d.check_why().ok) == ("right", "right", True)


# -- errors that say what to write -------------------------------------------------------------------

ERRORS = [
    pytest.param("sum(im2col(X, image=(6, 6, 3), kernel=(2, 2), stride=3))",
                 r"stride 3 does not divide the height 6 \+ 2·0 − 2 = 4 that the kernel moves over; use stride=2 "
                 r"or pad=1", id="stride-does-not-divide"),
    pytest.param("sum(im2col(X, image=(5, 6, 3), kernel=(3, 3)))",
                 r"image=\(5, 6, 3\) needs 90 = H·W·C columns", id="image-does-not-match-columns"),
    pytest.param("sum(group(X, 5))", r"m = 5 must divide the rows n", id="m-does-not-divide-rows"),
    pytest.param("sum(ungroup(X, 5))", r"m = 5 must divide the columns 108", id="m-does-not-divide-columns"),
    pytest.param("sum(group(X, n))", r"the m of group must be a whole number >= 1; got n", id="m-a-name"),
    pytest.param("sum(group(X))", r"write group\(A, m\)", id="m-missing"),
    pytest.param("sum(im2col(X, image=(6, 6), kernel=(3, 3)))", r"image must be a tuple of 3 whole numbers",
                 id="image-of-two"),
    pytest.param("sum(im2col(X, image=(6, 6, 3), kernel=(3, 3), pad=-1))", r"pad must be a whole number >= 0",
                 id="negative-pad"),
    pytest.param("sum(im2col(X, image=(6, 6, 3), kernel=(3, 3), stride=1.5))",
                 r"stride must be a whole number >= 1; got 1.5", id="fractional-stride"),
    pytest.param("sum(im2col(X, image=(6, 6, 3)))", r"im2col needs image= and kernel=", id="kernel-missing"),
    pytest.param("sum(im2col(X, image=(6, 6, 3), kernel=(3, 3), dilation=2))", r"not dilation=",
                 id="unknown-keyword"),
    pytest.param("sum(im2col(X, image=(6, 6, 3), kernel=(9, 3)))", r"kernel's height 9 is larger",
                 id="kernel-too-large"),
]


@pytest.mark.parametrize(("expr", "words"), ERRORS)
def test_misuse_is_refused_saying_what_to_write(expr, words):
    with pytest.raises(ExpressionError, match=words):
        derive(expr, {"X": ("n", 108), "K": (27, 4)})


# -- the max-pool equals torch's max_pool2d -------------------------------------------------------------


class Pool:
    """A k×k max-pool with stride s of a batch of n H×W×C images (channels last, one row per sample)."""

    def __init__(self, H, W, C, k, stride, n=2):
        self.H, self.W, self.C, self.k, self.stride, self.n = H, W, C, k, stride, n
        self.positions = ((H - k) // stride + 1) * ((W - k) // stride + 1)

    @property
    def pool(self):
        return (f"group(max(ungroup(im2col(A, image=({self.H}, {self.W}, {self.C}), kernel=({self.k}, {self.k}), "
                f"stride={self.stride}), {self.C}), axis=1), {self.positions * self.C})")

    @property
    def expr(self):
        return f"Y = {self.pool}; sum(G * Y)"

    @property
    def shapes(self):
        return {"A": ("n", self.H * self.W * self.C), "G": ("n", self.positions * self.C)}

    def values(self, seed=0):
        """Distinct entries (a permutation of a grid, so no window has a tie), and a random G."""
        rng = np.random.default_rng(seed)
        size = self.n * self.H * self.W * self.C
        a = rng.permutation(size).reshape(self.n, -1) / size - 0.5
        return {"A": a, "G": rng.normal(size=(self.n, self.positions * self.C))}


POOLS = [
    pytest.param(Pool(6, 6, 4, 2, 2), id="6x6x4-2x2-stride2"),
    pytest.param(Pool(6, 6, 2, 3, 3), id="6x6x2-3x3-stride3"),
    pytest.param(Pool(5, 6, 3, 3, 1), id="5x6x3-3x3-stride1-overlapping"),
]


def _torch_pool(pool, values):
    """torch's own max_pool2d on the NCHW batch, and the gradient of sum(G * Y) by its autograd."""
    a = torch.tensor(values["A"], dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.max_pool2d(a.reshape(pool.n, pool.H, pool.W, pool.C).permute(0, 3, 1, 2),
                                       pool.k, stride=pool.stride)
    y = y.permute(0, 2, 3, 1).reshape(pool.n, -1)  # channels last, one row per sample
    (grad,) = torch.autograd.grad((torch.tensor(values["G"]) * y).sum(), [a])
    return y.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("pool", POOLS)
def test_the_max_pool_equals_torchs_max_pool2d(pool):
    got = derive(pool.expr, pool.shapes, wrt=["A"]).evaluate(pool.values())["Y"]
    assert _close(got, _torch_pool(pool, pool.values())[0])


@pytest.mark.parametrize("pool", POOLS)
def test_the_max_pools_gradient_equals_torchs_autograd(pool):
    got = derive(pool.expr, pool.shapes, wrt=["A"]).gradients(pool.values())["A"]
    assert _close(got, _torch_pool(pool, pool.values())[1])


@pytest.mark.parametrize("pool", POOLS)
def test_the_max_pools_generated_numpy_equals_torchs_autograd(pool):
    ns = {}
    exec(derive(pool.expr, pool.shapes, wrt=["A"]).numpy_source(), ns)  # noqa: S102 (the engine's own code)
    assert _close(ns["backward"](**pool.values())["A"], _torch_pool(pool, pool.values())[1])


@pytest.mark.parametrize("pool", POOLS)
def test_the_pure_evaluator_equals_torchs_max_pool2d(pool):
    values = pool.values()
    got = evaluate_pure(pool.pool, {"A": values["A"].tolist()}, {"A": pool.shapes["A"]})
    assert _close(np.array(got), _torch_pool(pool, values)[0])


@pytest.mark.parametrize("pool", POOLS)
def test_the_torch_oracle_reads_the_max_pool_as_max_pool2d(pool):
    got = torch_gradients(pool.expr, pool.values(), {"n": pool.n}, wrt=["A"])["A"]
    assert _close(got, _torch_pool(pool, pool.values())[1])


# -- the CS231n three-layer convnet equals torch's layers ----------------------------------------------

CONVNET = EXAMPLES["three_layer_convnet"]
CONVNET_SIZES = {"n": 3, "h": 5, "k": 7}


def _convnet_values(seed=0):
    rng = np.random.default_rng(seed)
    sizes = {**CONVNET_SIZES, **{d: d for d in (4, 16, 27, 48)}}
    values = {name: rng.normal(size=(sizes.get(r, r), sizes.get(c, c))) for name, (r, c) in CONVNET.shapes.items()}
    values["Y"] = np.eye(CONVNET_SIZES["k"])[rng.integers(CONVNET_SIZES["k"], size=CONVNET_SIZES["n"])]
    return values


def _torch_convnet(values):
    """CS231n's order with torch's own layers: conv2d, relu, max_pool2d, linear, relu, linear, cross_entropy."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k != "X" and k != "Y") for k, v in values.items()}
    F = torch.nn.functional
    n = CONVNET_SIZES["n"]
    x = t["X"].reshape(n, 4, 4, 3).permute(0, 3, 1, 2)
    a = F.relu(F.conv2d(x, t["K"].T.reshape(4, 3, 3, 3), t["b"].reshape(-1), padding=1))
    m = F.max_pool2d(a, 2, stride=2).permute(0, 2, 3, 1).reshape(n, -1)  # channels last, as the engine's group
    h = F.relu(F.linear(m, t["W1"].T, t["b1"].reshape(-1)))
    loss = F.cross_entropy(F.linear(h, t["W2"].T, t["b2"].reshape(-1)), t["Y"].argmax(axis=1))
    wrt = list(CONVNET.wrt)
    return float(loss.detach()), dict(zip(wrt, (g.numpy() for g in torch.autograd.grad(loss, [t[w] for w in wrt]))))


def test_the_convnets_loss_equals_torchs_layers():
    d = derive(CONVNET.expr, CONVNET.shapes, wrt=list(CONVNET.wrt))
    got = d.evaluate(_convnet_values())["L"]
    assert _close(np.array(got), np.array(_torch_convnet(_convnet_values())[0]))


@pytest.mark.parametrize("wrt", list(CONVNET.wrt))
def test_the_convnets_gradient_equals_torchs_layers(wrt):
    got = derive(CONVNET.expr, CONVNET.shapes, wrt=list(CONVNET.wrt)).gradients(_convnet_values())[wrt]
    assert _close(got, _torch_convnet(_convnet_values())[1][wrt])


def test_the_convnets_generated_numpy_equals_torchs_layers():
    ns = {}
    exec(derive(CONVNET.expr, CONVNET.shapes, wrt=list(CONVNET.wrt)).numpy_source(), ns)  # noqa: S102
    got, want = ns["backward"](**_convnet_values()), _torch_convnet(_convnet_values())[1]
    assert all(_close(got[w], want[w]) for w in CONVNET.wrt)
