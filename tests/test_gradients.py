"""Every derivation's backward equals the finite-difference gradient of its loss.

One test over the shared cases (verification/cases.py): every case, shape, input variant
and two seeds. Reference: ``derivlib.check.numerical_gradient`` of the case's loss;
tolerance: the ``fd_atol`` fixture of conftest.py with the case's magnitude bound.
"""

from __future__ import annotations

import numpy as np
import pytest

from derivlib.check import numerical_gradient
from verification.cases import instances

INSTANCES = [pytest.param(*rest, id=id_) for id_, *rest in instances(seeds=(0, 1), variants=True)]


@pytest.mark.parametrize("case, sizes, seed, variant", INSTANCES)
def test_backward_matches_numerical_gradient(case, sizes, seed, variant, fd_atol):
    args = case.inputs(sizes, seed, variant)
    grads = case.backward(*args)
    num = numerical_gradient(case.loss, args, wrt=range(len(case.wrt)))
    atol = fd_atol(case.magnitude(*args))
    assert len(grads) == len(case.wrt)
    for name, analytic, numeric in zip(case.wrt, grads, num):
        np.testing.assert_allclose(analytic, numeric, rtol=0, atol=atol, err_msg=name)
