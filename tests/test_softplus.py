"""softplus(A) = log(1 + exp(A)), one row of the rule table: its value, gradient and forms.

Expected values come from PyTorch at float64: ``torch.nn.functional.softplus`` and its
autograd. At the extremes torch's default threshold (x itself above 20, which differs from
log(1 + exp(x)) by exp(−x) < 1e-13 at the 30 used here) keeps its value finite; at the
random points the threshold is lifted so that torch computes log1p(exp(x)) throughout.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from derivlib.engine import derive, evaluate_pure, parse

A = {"A": ("n", "q")}
GA = {"A": ("n", "q"), "G": ("n", "q")}
EXTREMES = [[-1e308, -800.0, -30.0, -1e-12, 0.0], [1e-12, 0.5, 30.0, 800.0, 1e308]]


def _torch_softplus(a):
    return torch.nn.functional.softplus(torch.tensor(a, dtype=torch.float64))


def _torch_grads(a, g):
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    loss = (torch.tensor(g, dtype=torch.float64) * torch.nn.functional.softplus(ta, threshold=1e309)).sum()
    loss.backward()
    return ta.grad.numpy()


def _point(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 5)) * 4, rng.standard_normal((3, 5))


def test_numpy_value_matches_torch_with_extremes_finite():
    d = derive("sum(softplus(A))", A)
    got = d.evaluate({"A": np.array(EXTREMES)})
    value = next(v for k, v in got.items() if k not in ("L", "A"))
    assert np.all(np.isfinite(value))
    np.testing.assert_allclose(value, _torch_softplus(EXTREMES).numpy(), rtol=1e-14, atol=0)


def test_pure_value_matches_torch_with_extremes_finite():
    got = evaluate_pure("softplus(A)", {"A": EXTREMES}, A)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(np.array(got), _torch_softplus(EXTREMES).numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_gradient_is_sigmoid_against_torch_autograd(seed):
    a, g = _point(seed)
    grads = derive("sum(G * softplus(A))", GA, wrt=["A"]).gradients({"A": a, "G": g})
    np.testing.assert_allclose(grads["A"], _torch_grads(a, g), rtol=1e-13, atol=1e-15)


def test_gradient_at_the_extremes_is_torch_sigmoid():
    """torch's softplus autograd is x's 1 above its threshold (off by exp(−30) at 30) or NaN
    without it (exp(800) overflows): the derivative σ(A) itself is the reference here."""
    a, g = np.array(EXTREMES), np.ones((2, 5))
    grads = derive("sum(G * softplus(A))", GA, wrt=["A"]).gradients({"A": a, "G": g})
    expected = torch.sigmoid(torch.tensor(EXTREMES, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(grads["A"], expected, rtol=1e-15, atol=0)


def test_gradient_step_is_written_with_sigmoid():
    d = derive("sum(G * softplus(A))", GA, wrt=["A"])
    assert d.backward_steps[-1].expression == "G ∘ σ(A)"


def test_generated_numpy_source_runs_and_matches_torch():
    a, g = _point(3)
    namespace = {}
    exec(derive("sum(G * softplus(A))", GA, wrt=["A"]).numpy_source(), namespace)
    np.testing.assert_allclose(namespace["backward"](A=a, G=g)["A"], _torch_grads(a, g), rtol=1e-13, atol=1e-15)


def test_the_why_line_is_checked():
    d = derive("sum(G * softplus(X @ W))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", "q")})
    checked = [c.what for c in d.check_why().checked]
    assert "step Δ (Delta): dF = σ(Z) ∘ dZ" in checked and "softplus: dF = σ(A) ∘ dA" in checked


def test_the_derivation_passes_its_step_check():
    d = derive("sum(G * softplus(X @ W))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", "q")})
    assert d.check().ok and d.check_pure().ok


@pytest.mark.parametrize("form, expected", [
    ("text", "softplus(A)"),
    ("latex", r"\operatorname{softplus}\left(A\right)"),
], ids=["text", "latex"])
def test_rendering(form, expected):
    assert getattr(parse("softplus(A)", A), form) == expected
