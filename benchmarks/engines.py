"""The autodiff engines people would use instead, each differentiating the same loss.

Each ``make_*`` returns ``run`` (a zero-argument callable producing numpy gradients in
derivlib's order) or raises ImportError. Gradients are compared with derivlib's before
anything is timed (see run.py).
"""

from __future__ import annotations

import numpy as np


def versions() -> dict:
    from importlib import metadata

    out = {}
    for name in ("torch", "autograd", "jax", "jaxlib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # report and carry on
            out[name] = "not installed"
    return out


# ---------------------------------------------------------------- PyTorch (CPU, eager autograd)
def torch_setup(threads) -> dict:
    """Pin PyTorch to ``threads`` threads, or leave its default (every core) for None."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # already set once in this process
            pass
    return {"num_threads": torch.get_num_threads(), "num_interop_threads": torch.get_num_interop_threads(),
            "parallel_info": torch.__config__.parallel_info().strip().splitlines()[:6]}


def torch_sigmoid(data):
    import torch

    X, W, b, G = (torch.from_numpy(data[k]) for k in ("X", "W", "b", "G"))

    def run():
        Xg, Wg, bg = (t.detach().requires_grad_() for t in (X, W, b))
        L = (G * torch.sigmoid(Xg @ Wg + bg)).sum()
        return tuple(g.numpy() for g in torch.autograd.grad(L, (Xg, Wg, bg)))

    return run


def torch_two_layer(data):
    import torch

    X, W1, b1, W2, b2, Y = (torch.from_numpy(data[k]) for k in ("X", "W1", "b1", "W2", "b2", "Y"))
    n = X.shape[0]

    def run():
        leaves = tuple(t.detach().requires_grad_() for t in (X, W1, b1, W2, b2))
        Xg, W1g, b1g, W2g, b2g = leaves
        Theta = torch.sigmoid(Xg @ W1g + b1g) @ W2g + b2g
        L = -(Y * torch.log_softmax(Theta, dim=1)).sum() / n
        return tuple(g.numpy() for g in torch.autograd.grad(L, leaves))

    return run


# ---------------------------------------------------------------- HIPS autograd (numpy tracing)
def _autograd_sigmoid(z):
    import autograd.numpy as anp

    return 0.5 * (anp.tanh(0.5 * z) + 1.0)  # autograd's own examples' stable logistic


def autograd_sigmoid(data):
    from autograd import grad

    G = data["G"]
    args = tuple(data[k] for k in ("X", "W", "b"))

    def loss(X, W, b):
        return (G * _autograd_sigmoid(X @ W + b)).sum()

    g = grad(loss, argnum=(0, 1, 2))
    return lambda: tuple(g(*args))


def autograd_two_layer(data):
    from autograd import grad
    from autograd.scipy.special import logsumexp

    Y = data["Y"]
    n = Y.shape[0]
    args = tuple(data[k] for k in ("X", "W1", "b1", "W2", "b2"))

    def loss(X, W1, b1, W2, b2):
        Theta = _autograd_sigmoid(X @ W1 + b1) @ W2 + b2
        return -(Y * (Theta - logsumexp(Theta, axis=1, keepdims=True))).sum() / n

    g = grad(loss, argnum=(0, 1, 2, 3, 4))
    return lambda: tuple(g(*args))


# ---------------------------------------------------------------- JAX (jit, float64, CPU)
def jax_setup(threads) -> dict:
    """float64 on the CPU; XLA's threads follow XLA_FLAGS, set by run.py before the import
    (nothing for every core, its default)."""
    import os

    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return {"devices": [str(d) for d in jax.devices()], "x64": bool(jax.config.read("jax_enable_x64")),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS") or "(not set: XLA's default, every core)"}


def jax_sigmoid(data):
    import jax
    import jax.numpy as jnp

    X, W, b, G = (jax.device_put(data[k]) for k in ("X", "W", "b", "G"))

    def loss(X, W, b):
        return jnp.sum(G * jax.nn.sigmoid(X @ W + b))

    g = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))

    def run():
        return jax.block_until_ready(g(X, W, b))

    return run


def jax_two_layer(data):
    import jax
    import jax.numpy as jnp

    X, W1, b1, W2, b2, Y = (jax.device_put(data[k]) for k in ("X", "W1", "b1", "W2", "b2", "Y"))
    n = X.shape[0]

    def loss(X, W1, b1, W2, b2):
        Theta = jax.nn.sigmoid(X @ W1 + b1) @ W2 + b2
        return -jnp.sum(Y * jax.nn.log_softmax(Theta, axis=1)) / n

    g = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3, 4)))

    def run():
        return jax.block_until_ready(g(X, W1, b1, W2, b2))

    return run


ENGINES = {
    "torch": {"sigmoid": torch_sigmoid, "two_layer": torch_two_layer},
    "autograd": {"sigmoid": autograd_sigmoid, "two_layer": autograd_two_layer},
    "jax": {"sigmoid": jax_sigmoid, "two_layer": jax_two_layer},
}


def same_gradients(mine, theirs) -> bool:
    """True when every gradient matches derivlib's (np.allclose, default tolerances)."""
    return len(mine) == len(theirs) and all(
        np.shape(a) == np.shape(b) and np.allclose(a, np.asarray(b)) for a, b in zip(mine, theirs)
    )
