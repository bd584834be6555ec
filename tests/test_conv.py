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
