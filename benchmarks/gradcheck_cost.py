"""Section 3: what a gradient check costs, directional vs full finite differences.

The sigmoid layer with n = 8 rows and a square W of s*s entries, s*s from 10^2 to 10^6.
Only W is checked (X's and b's gradients are passed as None), so the parameter count is
exactly W.size. Directional mode: n_directions = 3, full_max_size = 0. Full mode:
full_max_size = W.size, i.e. every entry too; run only up to FULL_UP_TO entries; beyond
that the count 1 + 2*3 + 2*size is computed, not measured.
"""

from __future__ import annotations

import numpy as np

from _timing import once
from derivlib import sigmoid_layer
from derivlib.check import GradCheckError, gradcheck
from verification.cases import CASES

SIDES = [10, 32, 100, 316, 1000]  # W.size = 100, 1024, 10^4, 99856, 10^6
N_ROWS = 8
N_DIRECTIONS = 3
FULL_UP_TO = 10_000


def _problem(s, seed=0):
    case = CASES["sigmoid_layer"]
    X, W, b, G = case.inputs((N_ROWS, s, s, "b1d"), seed)
    W = W / np.sqrt(s)  # X W stays O(1)

    def f(X, W, b):
        return case.loss(X, W, b, G)

    return f, (X, W, b), sigmoid_layer.backward(X, W, b, G)


def run(quick, log) -> dict:
    rows = []
    full_up_to = 1024 if quick else FULL_UP_TO
    f, args, g = _problem(SIDES[0])
    gradcheck(f, args, (None, g.dW, None))  # warm-up: first calls pay for imports and caches
    for s in SIDES:
        f, args, g = _problem(s)
        size = s * s
        t_f, _ = once(lambda: f(*args))
        t_dir, rep = once(lambda: gradcheck(f, args, (None, g.dW, None), n_directions=N_DIRECTIONS, full_max_size=0))
        row = {
            "parameters": size,
            "seconds_one_f": t_f,
            "directional": {"evaluations": rep.evaluations, "seconds": t_dir, "max_rel_error": rep.max_rel_error},
        }
        if size <= full_up_to:
            t_full, rep_full = once(lambda: gradcheck(f, args, (None, g.dW, None), n_directions=N_DIRECTIONS, full_max_size=size))
            row["full"] = {"evaluations": rep_full.evaluations, "seconds": t_full, "measured": True,
                           "max_rel_error": rep_full.max_rel_error}
        else:
            evaluations = 1 + 2 * N_DIRECTIONS + 2 * size
            row["full"] = {"evaluations": evaluations, "seconds": None, "measured": False,
                           "seconds_estimate": evaluations * t_f}
        rows.append(row)
        full = row["full"]
        log(f"  W.size {size:>8d}: directional {rep.evaluations} evaluations, {t_dir:.3f} s | full "
            f"{full['evaluations']} evaluations, " + (f"{full['seconds']:.2f} s" if full["measured"] else "computed, not run"))
    # The cheap check must still catch wrong gradients at the largest size.
    f, args, g = _problem(SIDES[-1])
    caught = {}
    for what, wrong in (("transposed dW", g.dW.T), ("dW times 2", 2 * g.dW), ("sign flipped", -g.dW)):
        try:
            rep = gradcheck(f, args, (None, wrong, None), n_directions=N_DIRECTIONS, full_max_size=0)
            caught[what] = f"NOT caught ({rep.evaluations} evaluations)"
        except GradCheckError as err:
            caught[what] = err.diagnosis
        log(f"  10^6 parameters, {what}: {caught[what]}")
    return {"n_rows": N_ROWS, "n_directions": N_DIRECTIONS, "checked": "W only (X and b passed as None)",
            "rows": rows, "wrong_gradients_at_1e6": caught, "target_evaluations_at_1e6": 20}
