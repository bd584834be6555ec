"""The engine against PyTorch at float64, on random expressions over its whole grammar.

Each seed gives one expression, its shapes, ``wrt`` and a point in its domain
(:mod:`verification.exprgen`); PyTorch autograd (:mod:`verification.torch_oracle`, which
reads the expression with ``ast`` and shares no code with the engine) gives the expected
gradients. Three ways the engine evaluates its gradients are compared with them:
``Derivation.gradients``, the executed ``numpy_source()`` and the pure-Python evaluator.

``DERIVLIB_DIFFERENTIAL_N`` sets the number of seeds (default 300; ``make differential``
runs 5,000); ``DERIVLIB_DIFFERENTIAL_SEED=123`` replays one seed. A failure found here
becomes a named test in ``tests/test_generated_code.py``.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager

import numpy as np
import pytest

from derivlib.engine import derive
from derivlib.engine.evaluate import evaluate
from verification.exprgen import example
from verification.torch_oracle import torch_gradients

N = int(os.environ.get("DERIVLIB_DIFFERENTIAL_N", "300"))
SEEDS = ([int(os.environ["DERIVLIB_DIFFERENTIAL_SEED"])] if os.environ.get("DERIVLIB_DIFFERENTIAL_SEED")
         else range(N))

#: Two correct float64 evaluations of the same gradient in a different order of operations
#: differ by rounding alone: a few ulps (2.2e-16) per operation, times the condition of the
#: expression. The generator keeps every magnitude below 1e3 and the expressions have a few
#: dozen operations, which bounds that difference near 1e-12 of the largest magnitude; 1e-9
#: leaves a margin of a thousand for it, while any wrong formula (a missing term, a transpose,
#: a factor) is off by far more. The scale is the gradient's largest entry, or 1 for a
#: gradient whose entries are all below 1 (the inputs are of order 1, so its terms are).
RTOL = 1e-9


def check_close(got, want, what, ex):
    """Assert ``got`` is an ndarray of ``want``'s shape within RTOL of it (see RTOL)."""
    assert isinstance(got, np.ndarray), f"{_replay(ex)}\n{what}: a {type(got).__name__}, not an ndarray"
    assert got.shape == want.shape, f"{_replay(ex)}\n{what}: shape {got.shape}, expected {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want))) if np.isfinite(got).all() else np.inf
    assert err <= RTOL * scale, (f"{_replay(ex)}\n{what}: off by {err:.3g} (scale {scale:.3g})\n"
                                 f"got\n{got}\nPyTorch\n{want}")


def _replay(ex):
    return f"replay with DERIVLIB_DIFFERENTIAL_SEED={ex.seed}: {ex}"


@contextmanager
def _context(ex, what):
    """An exception from the engine fails the test with the seed and the expression."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"{_replay(ex)}\n{what} raised {type(exc).__name__}: {exc}") from exc


@functools.lru_cache(maxsize=None)
def _case(seed):
    ex = example(seed)
    values = {k: np.array(v) for k, v in ex.values.items()}
    expected = torch_gradients(ex.expr, values, ex.sizes, ex.wrt, classes=ex.classes)
    return ex, values, expected


def _derivation(ex):
    with _context(ex, "derive"):
        return derive(ex.expr, ex.shapes, wrt=ex.wrt, indices=ex.indices)


@pytest.mark.parametrize("seed", SEEDS)
def test_gradients_equal_torch(seed):
    ex, values, expected = _case(seed)
    d = _derivation(ex)
    with _context(ex, "Derivation.gradients"):
        got = d.gradients(values)
    assert list(got) == ex.wrt, _replay(ex)
    for v in ex.wrt:
        check_close(got[v], expected[v], f"gradients()[{v!r}]", ex)


@pytest.mark.parametrize("seed", SEEDS)
def test_executed_numpy_source_equals_torch(seed):
    ex, values, expected = _case(seed)
    d = _derivation(ex)
    namespace = {}
    with _context(ex, "numpy_source(), executed,"):
        source = d.numpy_source()
        exec(compile(source, f"<numpy_source of seed {seed}>", "exec"), namespace)
        got = namespace["backward"](**values)
    assert list(got) == ex.wrt, _replay(ex)
    for v in ex.wrt:
        check_close(got[v], expected[v], f"numpy_source()'s backward()[{v!r}] of\n{source}\n", ex)


@pytest.mark.parametrize("seed", SEEDS)
def test_pure_python_evaluator_equals_torch(seed):
    ex, values, expected = _case(seed)
    d = _derivation(ex)
    for v in ex.wrt:
        with _context(ex, f"evaluate(gradient_expressions[{v!r}]) in pure Python"):
            got = np.array(evaluate(d.gradient_expressions[v], ex.values, ex.sizes))
        check_close(got, expected[v], f"the pure-Python evaluator's gradient of {v}", ex)


# -- the generator reaches every operation -----------------------------------------------------------


def _calls(expr):
    """(function, axis) of every call in ``expr``; axis is the keyword's value, or 'none' without one."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(expr)):
        if isinstance(node, ast.Call):
            axis = next((k.value.value for k in node.keywords if k.arg == "axis"), "none")
            out.add((node.func.id, axis))
    return out


@functools.lru_cache(maxsize=None)
def _default_run_calls():
    return [_calls(example(seed).expr) for seed in range(300)]


@pytest.mark.parametrize("fn, axis", [
    pytest.param("abs", "none", id="abs"),
    pytest.param("max", 1, id="max-axis-1"),
    pytest.param("max", 0, id="max-axis-0"),
    pytest.param("max", "all", id="max-all"),
    pytest.param("concat", "none", id="concat"),
    pytest.param("split", "none", id="split"),
    pytest.param("im2col", "none", id="im2col"),
    pytest.param("group", "none", id="group"),
    pytest.param("ungroup", "none", id="ungroup"),
])
def test_the_default_run_draws_each_column_operation_often(fn, axis):
    # at least 10 of the 300 default seeds call it (max of all entries: without axis or axis=None)
    axes = ("none", None) if axis == "all" else (axis,)
    hits = sum(any((fn, a) in calls for a in axes) for calls in _default_run_calls())
    assert hits >= 10, f"{fn} (axis {axis}) in {hits} of the 300 default expressions"


# -- the generator's own bounds ---------------------------------------------------------------------


@pytest.mark.parametrize("mag", [3.0, 800.0], ids=["moderate", "beyond-exp-overflow"])
def test_the_lower_bound_of_a_sigmoid_is_its_value_at_minus_the_bound(mag):
    # sigmoid(a) >= 1/(1 + e^mag) for |a| <= mag; for mag 800 that is below the smallest float (no
    # positive bound, None), not an OverflowError from math.exp(800) (seed 4283 of the first 5,000)
    import ast
    import math
    import random

    from verification.exprgen import _E, _Gen

    e = _Gen(random.Random(0)).elementwise("sigmoid", _E(ast.Name("A"), ("n", 1), mag), ("n", 1))
    want = 1 / (1 + math.exp(mag)) if mag < 700 else None
    assert (e.mag, e.lo) == (1.0, want)
