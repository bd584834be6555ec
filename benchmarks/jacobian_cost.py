"""Section 4: the explicit 4-D Jacobian route vs backward, as n = p = q = s grows.

Jacobian route: J = sigmoid_layer.jacobian(X, W, b), shape (n, q, p, q), then
dW = einsum("ij,ijkl->kl", G, J). Backward: sigmoid_layer.backward(X, W, b, G).dW.
Measured while J stays under MAX_BYTES; for larger shapes the size n*q*p*q*8 bytes is
computed, never allocated, and compared with the machine's memory.
"""

from __future__ import annotations

import tracemalloc

import numpy as np

from _timing import once
from derivlib import sigmoid_layer
from verification.cases import CASES

MEASURED_SIDES = [4, 8, 16, 32, 48, 64, 80]
COMPUTED_SIDES = [128, 256, 512, 1024, 2048, 4096]
MAX_BYTES = 2 * 10**9
REALISTIC = [(4096, 256, 256), (4096, 1024, 1024), (4096, 2048, 2048)]


def _peak(fn):
    """Peak bytes numpy allocated while fn ran (numpy reports to tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def jacobian_bytes(n, p, q) -> int:
    return n * q * p * q * 8


def inputs_and_gradients_bytes(n, p, q) -> int:
    """X, W, b, G and dX, dW, db: what backward cannot avoid holding."""
    return 8 * (2 * (n * p + p * q + q) + n * q)


def run(quick, log, memory_gib) -> dict:
    rows = []
    sides = MEASURED_SIDES[:-2] if quick else MEASURED_SIDES
    for s in sides:
        if jacobian_bytes(s, s, s) > MAX_BYTES:
            break
        X, W, b, G = CASES["sigmoid_layer"].inputs((s, s, s, "b1d"), seed=s)

        def via_jacobian():
            return np.einsum("ij,ijkl->kl", G, sigmoid_layer.jacobian(X, W, b))

        def via_backward():
            return sigmoid_layer.backward(X, W, b, G).dW

        t_jac, dW_jac = once(via_jacobian)
        t_bwd, dW_bwd = once(via_backward)
        t_jac = min(t_jac, once(via_jacobian)[0])
        t_bwd = min([t_bwd] + [once(via_backward)[0] for _ in range(4)])
        assert np.allclose(dW_jac, dW_bwd), f"the two routes disagree at s={s}"
        row = {"n": s, "p": s, "q": s, "measured": True, "jacobian_bytes": jacobian_bytes(s, s, s),
               "seconds_jacobian": t_jac, "seconds_backward": t_bwd,
               "peak_bytes_jacobian": _peak(via_jacobian), "peak_bytes_backward": _peak(via_backward)}
        rows.append(row)
        log(f"  n=p=q={s:>4d}: jacobian route {t_jac * 1e3:9.2f} ms, peak {row['peak_bytes_jacobian'] / 2**20:9.1f} MiB"
            f" | backward {t_bwd * 1e3:7.3f} ms, peak {row['peak_bytes_backward'] / 2**20:7.3f} MiB")
    for s in COMPUTED_SIDES:
        rows.append({"n": s, "p": s, "q": s, "measured": False, "jacobian_bytes": jacobian_bytes(s, s, s),
                     "inputs_and_gradients_bytes": inputs_and_gradients_bytes(s, s, s)})
    realistic = [{"n": n, "p": p, "q": q, "jacobian_bytes": jacobian_bytes(n, p, q),
                  "inputs_and_gradients_bytes": inputs_and_gradients_bytes(n, p, q)} for n, p, q in REALISTIC]
    return {"rows": rows, "realistic": realistic, "memory_gib": memory_gib, "max_allocated_bytes": MAX_BYTES}
