"""Three verdicts of Derivation.check and check_pure: right, wrong (raises / listed), cannot tell here."""

from __future__ import annotations

import math

import pytest

from derivlib.check import GradCheckError
from derivlib.engine import derive

GX = {"G": ("n", "p"), "X": ("n", "p")}
RELU_RELU = "sum(G * relu(relu(X)))"


@pytest.mark.parametrize("seed", range(20))
def test_relu_of_relu_is_right_on_every_seed(seed):
    assert derive(RELU_RELU, GX).check(seed=seed).verdict == "right"


@pytest.mark.parametrize("seed", range(20))
def test_relu_of_relu_is_right_on_every_seed_in_pure_python(seed):
    assert derive(RELU_RELU, GX).check_pure(seed=seed).verdict == "right"


def test_the_report_says_which_entries_sit_at_a_kink():
    assert "at a kink" in str(derive(RELU_RELU, GX).check(seed=0))


@pytest.mark.parametrize("method", ["check", "check_pure"])
def test_a_right_report_says_right_in_words(method):
    report = getattr(derive("sum(G * sigmoid(X))", GX), method)()
    assert str(report).startswith("right ")


# the gradient of the term in Y is 1e12 Y-sized, that of G * X about 1; the old figure divided by
# the tiniest float where a gradient is zero and printed 1e+308
@pytest.mark.parametrize("method", ["check", "check_pure"])
def test_a_passing_report_shows_an_error_below_the_gradients_size(method):
    d = derive("sum(G * X) + 1e12 * sum(Y)", {**GX, "Y": ("n", "p")})
    report = getattr(d, method)()
    assert report.verdict == "right" and report.max_rel_error < 1


@pytest.mark.parametrize("method", ["check", "check_pure"])
def test_a_point_outside_the_domain_cannot_tell(method):
    report = getattr(derive("sum(log(X @ W))", {"X": ("n", "p"), "W": ("p", "q")}), method)()
    assert report.verdict == "cannot tell" and "domain" in report.reason and "seed" in report.advice
    assert str(report).startswith("cannot tell here")


# with p = 1, relu(X) @ W has a zero row wherever X has a negative entry: a kink that a change of
# relu(X) reaches through a product, so that step cannot be checked at this point
@pytest.mark.parametrize("method", ["check", "check_pure"])
def test_a_kink_behind_a_product_cannot_tell(method):
    d = derive("sum(G * relu(relu(X) @ W))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", "q")})
    report = getattr(d, method)(sizes={"p": 1}, seed=0)
    assert report.verdict == "cannot tell" and "kink" in str(report)


def test_a_wrong_rule_still_raises(monkeypatch):
    from derivlib.engine import RULES
    from derivlib.engine import nodes as N

    rule = RULES["sigmoid"]
    monkeypatch.setitem(RULES, "sigmoid", rule._replace(vjp=lambda g, out, args: (N.mk_mul(g, N.ref(out)),)))
    d = derive("sum(G * sigmoid(X))", GX)
    with pytest.raises(GradCheckError) as err:
        d.check()
    assert err.value.kind is not None and not err.value.kind.finite_differences
    assert d.check_pure().verdict == "wrong" and str(d.check_pure()).startswith("wrong ")


def test_a_cannot_tell_step_has_no_error_figure():
    d = derive("sum(G * relu(relu(X) @ W))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", "q")})
    report = d.check_pure(sizes={"p": 1}, seed=0)
    assert all(math.isnan(s.max_rel_error) for s in report.steps if s.verdict == "cannot tell")


def test_a_huge_gradients_error_figure_is_finite_and_small():
    # G_X = 2e200 X: its Frobenius norm overflows float64 when squared (was a numpy warning and a
    # figure of 0 over inf); the error over the gradient's size is a rounding error, far below 1e-6
    report = derive("sum(1e200 * X * X)", {"X": ("n", "p")}).check()
    assert report.verdict == "right" and 0 < report.max_rel_error < 1e-6


def test_a_gradient_too_small_for_the_checks_arithmetic_is_not_blamed_on_the_domain(monkeypatch):
    # a wrong sigmoid pullback on a loss scaled by 1e-290: the checker's own arithmetic divides
    # by an underflowed 0; that is "cannot tell" for that reason, never "outside the domain"
    from derivlib.engine import RULES
    from derivlib.engine.nodes import mk_mul, ref

    monkeypatch.setitem(RULES, "sigmoid", RULES["sigmoid"]._replace(vjp=lambda g, out, args: (mk_mul(g, ref(out)),)))
    report = derive("sum(1e-290 * G * sigmoid(X))", {"G": ("n", "p"), "X": ("n", "p")}).check()
    assert report.verdict == "cannot tell"
    assert "too small for the check's float64 arithmetic" in str(report) and "domain" not in str(report)
