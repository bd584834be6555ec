"""A tie in a max is a kink: the checks say right away from it, "cannot tell" at it, never wrong.

A relu before a 2×2 max-pool gives four tied zeros in a window of four negatives; the max has
no derivative there (the gradient to the first maximum is one of its one-sided slopes).
"""

from __future__ import annotations

import pytest

from derivlib.engine import derive, numeric
from derivlib.engine.rules import RULES
from derivlib.playground.requests import run_derive

POOL = "sum(G * group(max(ungroup(im2col(relu(A), image=(4, 4, 4), kernel=(2, 2), stride=2), 4), axis=1), 16))"
POOL_SHAPES = {"A": ("n", 64), "G": ("n", 16)}
ROWS = "sum(max(relu(X), axis=1))"
ROWS_SHAPES = {"X": ("n", "p")}
CASES = {"relu-then-pool": (POOL, POOL_SHAPES), "max-of-relu-rows": (ROWS, ROWS_SHAPES)}
POINTS = [(name, n, seed) for name in CASES for n in (1, 2, 3, 5) for seed in range(3)]
IDS = [f"{name}-n{n}-seed{seed}" for name, n, seed in POINTS]


def _derive(name):
    expr, shapes = CASES[name]
    return derive(expr, shapes)


@pytest.mark.parametrize("name, n, seed", POINTS, ids=IDS)
def test_check_is_never_wrong_at_a_tie(name, n, seed):
    report = _derive(name).check(sizes={"n": n}, seed=seed)
    assert report.verdict in ("right", "cannot tell")


@pytest.mark.parametrize("name, n, seed", POINTS, ids=IDS)
def test_check_pure_is_never_wrong_at_a_tie(name, n, seed):
    report = _derive(name).check_pure(sizes={"n": n}, seed=seed)
    assert report.verdict in ("right", "cannot tell")


@pytest.mark.parametrize("name, n, seed", POINTS, ids=IDS)
def test_check_why_does_not_raise_at_a_tie(name, n, seed):
    assert _derive(name).check_why(sizes={"n": n}, seed=seed).ok


@pytest.mark.parametrize("method", ["check", "check_pure"])
def test_cannot_tell_names_the_tie(method):
    report = getattr(derive(POOL, POOL_SHAPES), method)(sizes={"n": 3}, seed=0)
    assert report.verdict == "cannot tell" and "tied" in str(report)


def test_check_why_says_it_skipped_the_finite_differences_at_a_tie():
    assert "tied" in str(derive(POOL, POOL_SHAPES).check_why(sizes={"n": 3}, seed=0))


# max(relu(X)) with X positive somewhere in each row: no tie, every step is checked and right
@pytest.mark.parametrize("method", ["check", "check_pure"])
def test_a_tie_free_point_is_right(method):
    d = derive(ROWS, ROWS_SHAPES)
    values = {"X": [[0.5, -1.0, 2.0], [3.0, 1.0, -2.0]]}
    report = numeric.check(d, values=values) if method == "check" else d.check_pure(sizes={"n": 2, "p": 7})
    assert report.verdict == "right"


def test_the_playground_shows_a_verdict_not_a_traceback():
    out = run_derive(POOL, "A: n, 64\nG: n, 16", "A", seed=0)
    assert out["ok"] and out["check"]["verdict"] in ("right", "cannot tell")


def test_the_playground_says_cannot_tell_at_a_tie_with_the_reason():
    out = run_derive(ROWS, "X: n, p", "X", seed=0)
    check = out["check"]
    assert check["verdict"] == "right" or ("tied" in check["reason"] and check["advice"])


# a planted wrong max rule (the whole gradient to every entry, not to the first maximum) is
# still caught at a tie-free point
@pytest.fixture
def wrong_max_rule(monkeypatch):
    from derivlib.engine.nodes import expand

    monkeypatch.setitem(RULES, "max", RULES["max"]._replace(vjp=lambda g, out, args: (expand(g, args[0].shape),)))


def test_a_wrong_max_rule_is_still_wrong_in_check(wrong_max_rule):
    from derivlib.check import GradCheckError

    d = derive(ROWS, ROWS_SHAPES)
    with pytest.raises(GradCheckError):
        numeric.check(d, values={"X": [[0.5, -1.0, 2.0], [3.0, 1.0, -2.0]]})


def test_a_wrong_max_rule_is_still_wrong_in_check_pure(wrong_max_rule):
    assert derive("sum(G * max(X, axis=1))", {"G": ("n", 1), "X": ("n", "p")}).check_pure().verdict == "wrong"


# at a tie the finite differences are skipped, but the exact adjoint identity still catches a
# displayed differential that is not the adjoint of the pullback (here twice the right one)
def test_check_why_still_checks_the_adjoint_at_a_tie(monkeypatch):
    from derivlib.engine.adjoint import DifferentialError
    from derivlib.engine.nodes import Coef, mk_scale

    right = RULES["max"].jvp
    monkeypatch.setitem(RULES, "max", RULES["max"]._replace(
        jvp=lambda out, args, d: None if d[0] is None else mk_scale(Coef(2), right(out, args, d))))
    with pytest.raises(DifferentialError, match="not the adjoint"):
        derive(POOL, POOL_SHAPES).check_why(sizes={"n": 3}, seed=0)
