"""What the playground's copy buttons copy: each step as LaTeX, and as its line of the
generated numpy code (derivlib/playground/requests.py, ``run_derive``)."""

from __future__ import annotations

import pytest

from derivlib.playground.requests import run_derive

SIGMOID = ("sum(G * sigmoid(X @ W + b))", "X: n, p\nW: p, q\nb: 1, q\nG: n, q", "W, b, X")


@pytest.fixture(scope="module")
def derived():
    result = run_derive(*SIGMOID)
    assert result["ok"], result
    return result


def _step(result, name):
    return next(s for s in result["steps"] if s["name"] == name)


def test_a_steps_latex_is_its_equation(derived):
    assert _step(derived, "G_W")["latex"] == r"G_{W} = X^T \Delta"


def test_a_steps_numpy_is_its_line_of_the_generated_code(derived):
    line = _step(derived, "G_W")["numpy"]
    assert line == "G_W = X.T @ Delta"
    assert f"    {line}  # p×q" in derived["numpy"].splitlines()


@pytest.mark.parametrize("name", [pytest.param("L", id="the-loss"), pytest.param("G_S", id="an-adjoint-equal-to-G")])
def test_a_step_the_generated_code_leaves_out_has_no_numpy(derived, name):
    assert f"    {name} = " not in derived["numpy"]
    assert _step(derived, name)["numpy"] is None


def test_the_generated_code_runs_and_gives_the_gradients(derived):
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, W, b, G = (rng.standard_normal(s) for s in ((3, 5), (5, 7), (1, 7), (3, 7)))
    scope = {}
    exec(derived["numpy"], scope)  # noqa: S102 - the engine's own generated code
    got = scope["backward"](X=X, W=W, b=b, G=G)
    tX, tW, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    (torch.tensor(G) * torch.sigmoid(tX @ tW + tb)).sum().backward()
    for name, t in (("X", tX), ("W", tW), ("b", tb)):
        np.testing.assert_allclose(got[name], t.grad.numpy(), rtol=1e-12, atol=1e-12)
