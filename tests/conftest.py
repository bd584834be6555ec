"""Shared pieces of the unit tests: the finite-difference tolerance, and where the source threads are.

Every derivation test compares an analytic gradient with
``derivlib.check.numerical_gradient`` (central differences, step ``EPS``). The
error of a central difference has two parts:

* truncation, ``EPS**2 * |f'''| / 6``: about 1.7e-13 * |f'''|, so below 1e-10
  for third derivatives up to a few hundred (ours are O(1) to O(10));
* rounding: each evaluation of f is off by a few ulps of the magnitudes it adds up,
  and the difference of two is divided by ``2 * EPS``. With 16 ulps of margin for
  the handful of operations inside f this is ``16 * 2.2e-16 * scale / 1e-6``,
  about 3.6e-9 per unit of scale, where scale bounds the magnitudes summed in f
  (we pass ``1 + |L|`` or a larger bound that the test states).

``fd_atol(scale)`` returns that bound; tests use it as ``atol`` with ``rtol=0``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

EPS = 1e-6  # numerical_gradient's default step

TRUNCATION = 1e-10
ULPS = 16


def _fd_atol(scale: float) -> float:
    return TRUNCATION + ULPS * np.finfo(np.float64).eps * max(1.0, float(scale)) / EPS


@pytest.fixture
def fd_atol():
    """Absolute tolerance of a central difference of a function whose magnitudes are ``scale``."""
    return _fd_atol


SOURCES_ENV = "DERIVLIB_SOURCES"


@pytest.fixture
def sources_dir():
    """The three source threads: ``$DERIVLIB_SOURCES``, else ``../shared/sources`` beside the
    checkout. The one place a test reads outside the repository; skipped when neither exists."""
    root = Path(__file__).resolve().parent.parent
    path = Path(os.environ.get(SOURCES_ENV) or root.parent / "shared" / "sources")
    if not path.is_dir():
        pytest.skip(f"the source threads are not at {path} (set {SOURCES_ENV})")
    return path
