"""A check follows kinks and ties through every node below a step, also one the loss never
reads (log_softmax's softmax Ŷ, which the derivation names for its backward): no KeyError."""

from __future__ import annotations

import pytest

from derivlib import derive
from derivlib.engine.stepcheck import run
from derivlib.engine.numeric import NumpyBackend
from derivlib.engine.pure import PureBackend

# a relu before a 2×2 max-pool ties whole windows at 0, then a softmax cross-entropy: the
# tie follower walks down to Ŷ, which the forward pass of the loss does not evaluate
EXPR = ("A = relu(group(im2col(X, image=(4, 4, 2), kernel=(3, 3), pad=1) @ K, 16)); "
        "M = group(max(ungroup(im2col(A, image=(4, 4, 3), kernel=(2, 2), stride=2), 3), axis=1), 12); "
        "-sum(Y * log_softmax(M @ W)) / n")
SHAPES = {"X": ("n", 32), "K": (18, 3), "W": (12, "k"), "Y": ("n", "k")}


@pytest.mark.parametrize("backend", [NumpyBackend, PureBackend], ids=["numpy", "pure"])
@pytest.mark.parametrize("seed", range(4))
def test_a_check_through_a_tie_above_a_softmax_gives_a_verdict(backend, seed):
    d = derive(EXPR, SHAPES, ["K", "W"])
    report = run(d, backend(), sizes={"n": 2, "k": 3}, seed=seed)
    assert report.verdict in ("right", "cannot tell")
