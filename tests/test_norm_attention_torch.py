"""Layer normalization (torch.nn.functional.layer_norm) and one softmax attention head against
PyTorch autograd at float64: the gallery networks' gradients and the compact formulas that
docs/layer_norm.md and docs/attention.md state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from derivlib import derive
from derivlib.playground.gallery import EXAMPLES

RTOL = 1e-10
EPS = 1e-5
LN_PLAIN = "C = X - mean(X, axis=1); V = mean(C ** 2, axis=1); Y = C / sqrt(V + 0.00001); sum(G * Y)"


def _close(got, want):
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * max(1.0, float(np.abs(want).max())))


def _layer_norm_case(affine, seed=0, n=4, q=5):
    """Random X, gamma, beta, G and torch's gradients of G : layer_norm(X)."""
    rng = np.random.default_rng(seed)
    x, g = rng.standard_normal((n, q)), rng.standard_normal((n, q))
    gamma, beta = rng.standard_normal((1, q)), rng.standard_normal((1, q))
    tx = torch.tensor(x, requires_grad=True)
    tg, tb = (torch.tensor(a[0], requires_grad=True) for a in (gamma, beta))
    y = torch.nn.functional.layer_norm(tx, (q,), tg if affine else None, tb if affine else None, eps=EPS)
    (y * torch.tensor(g)).sum().backward()
    values = {"X": x, "G": g, **({"gamma": gamma, "beta": beta} if affine else {})}
    grads = {"X": tx.grad.numpy()}
    if affine:
        grads.update(gamma=tg.grad.numpy()[None], beta=tb.grad.numpy()[None])
    return values, grads


@pytest.mark.parametrize("var", ["X", "gamma", "beta"])
def test_layer_norm_gallery_gradient_equals_torch(var):
    e = EXAMPLES["layer_norm"]
    values, grads = _layer_norm_case(affine=True)
    _close(derive(e.expr, e.shapes, wrt=list(e.wrt)).gradients(values)[var], grads[var])


def test_layer_norm_without_scale_and_shift_equals_torch():
    values, grads = _layer_norm_case(affine=False)
    d = derive(LN_PLAIN, {"X": ("n", "q"), "G": ("n", "q")}, wrt=["X"])
    _close(d.gradients(values)["X"], grads["X"])


@pytest.mark.parametrize("affine", [True, False], ids=["with-scale-and-shift", "without"])
def test_the_compact_row_mean_layer_norm_gradient_equals_torch(affine):
    # G_X = (G_Y − mean_row(G_Y) − Y ∘ mean_row(G_Y ∘ Y)) ⊘ σ, G_Y = G ∘ γ (γ = 1 without affine)
    values, grads = _layer_norm_case(affine)
    x, g = values["X"], values["G"]
    gy = g * values["gamma"] if affine else g
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + EPS)
    y = (x - x.mean(axis=1, keepdims=True)) / sigma
    compact = (gy - gy.mean(axis=1, keepdims=True) - y * (gy * y).mean(axis=1, keepdims=True)) / sigma
    _close(compact, grads["X"])


def _attention_case(seed=0, n=4, m=3, d=5, e=2):
    """Random Q, K, V, c, G and torch's gradients of G : softmax(QKᵀ/c)V."""
    rng = np.random.default_rng(seed)
    values = {"Q": rng.standard_normal((n, d)), "K": rng.standard_normal((m, d)),
              "V": rng.standard_normal((m, e)), "c": np.float64(np.sqrt(d)), "G": rng.standard_normal((n, e))}
    t = {k: torch.tensor(values[k], requires_grad=k in ("Q", "K", "V")) for k in ("Q", "K", "V", "G")}
    out = torch.softmax(t["Q"] @ t["K"].T / float(values["c"]), dim=1) @ t["V"]
    (out * t["G"]).sum().backward()
    return values, {k: t[k].grad.numpy() for k in ("Q", "K", "V")}


@pytest.mark.parametrize("var", ["Q", "K", "V"])
def test_attention_gallery_gradient_equals_torch(var):
    e = EXAMPLES["attention"]
    values, grads = _attention_case()
    _close(derive(e.expr, e.shapes, wrt=list(e.wrt)).gradients(values)[var], grads[var])


def test_the_softmax_pullback_of_the_attention_head_equals_torch():
    # Δ = P ∘ (G_P − (G_P ∘ P)11ᵀ), G_P = G Vᵀ; then dQ = ΔK/c and dK = ΔᵀQ/c
    values, grads = _attention_case()
    q, k, v, c, g = (values[name] for name in ("Q", "K", "V", "c", "G"))
    z = q @ k.T / c
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gp = g @ v.T
    delta = p * (gp - (gp * p).sum(axis=1, keepdims=True))
    _close(delta @ k / c, grads["Q"])
    _close(delta.T @ q / c, grads["K"])
