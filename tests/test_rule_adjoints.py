"""The displayed differentials: every rule's dY and every step's "why" line, checked.

A differential is only displayed (the rules table, each step's "why" column); the
gradients come from the pullbacks. So each displayed differential is checked two ways
that do not use it to compute anything else (derivlib.engine.adjoint): the adjoint
identity ⟨Ḡ, dY(dA)⟩ = ⟨pullback(Ḡ), dA⟩ on random values, and dY(dA) against central
differences of the forward along dA (so the differential and the pullback cannot be
wrong together). The tests of the checker's teeth plant a wrong differential, as a page
would show it, and expect the error to name it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from derivlib.engine import RULES, derive, rules_table
from derivlib.engine.adjoint import ADJOINT_RTOL, DifferentialError, check_rule
from derivlib.playground.gallery import GALLERY, HAND
from derivlib.engine.nodes import mk_add, mk_matmul, mk_mul, mk_neg, mk_sum, ref
from derivlib.engine.rules import BINARY, CASES

CONF = Path(__file__).resolve().parent.parent / "conf"
UNARY = [op for op in RULES if op not in BINARY and op not in ("matmul", "pow", "sum", "mean", "max", "concat")
         and RULES[op].jvp is not None]
#: Rows with no gradient (onehot(y): its argument is an index vector).
CONSTANT = [op for op in RULES if RULES[op].jvp is None]
SIDES = [pytest.param(op, cases, id=f"{op}-{cases[0] or 'full'}-{cases[1] or 'full'}")
         for op in BINARY for cases in [(None, c) for c in CASES] + [(c, None) for c in CASES if c != "full"]
         + [("row", "column"), ("column", "row"), ("number", "row"), ("column", "number")]]
ATTRS = ([pytest.param(op, axis, id=f"{op}-axis-{axis}") for op in ("sum", "mean", "max") for axis in (None, 0, 1)]
         + [pytest.param("pow", Fraction(p), id=f"pow-{p}") for p in ("2", "3", "-1", "1/2", "-1/2")])
NETWORKS = [pytest.param(e, id=e.key) for e in HAND + GALLERY]


def _derive(e):
    return derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices)


# -- every rule, case and attribute -------------------------------------------------------------


@pytest.mark.parametrize("op", UNARY)
def test_a_functions_differential_is_the_adjoint_of_its_pullback_and_a_derivative(op):
    report = check_rule(op)
    assert len(report.checked) == 1 and report.max_adjoint_error <= ADJOINT_RTOL
    assert report.max_derivative_error < 1e-6


@pytest.mark.parametrize("widths", [(2, 3), (1, 2, 3)], ids=["two", "three"])
def test_concats_differential_is_the_adjoint_of_its_pullbacks(widths):
    report = check_rule("concat", widths)
    assert len(report.checked) == len(widths) + 1 and report.max_adjoint_error <= ADJOINT_RTOL


@pytest.mark.parametrize("attr", [(0, 1, 2, 3), (2, 3, 2, 3), (1, 3, 1, 4)], ids=["first-block", "last-block",
                                                                                  "two-columns"])
def test_a_split_blocks_differential_is_the_adjoint_of_its_pullback(attr):
    report = check_rule("split", attr)
    assert len(report.checked) == 1 and report.max_adjoint_error <= ADJOINT_RTOL
    assert report.max_derivative_error < 1e-6


@pytest.mark.parametrize("op", CONSTANT)
def test_a_row_without_a_gradient_shows_no_differential(op):
    assert RULES[op].vjp is None and check_rule(op).checked == ()
    assert [r["differential"] for r in rules_table() if r["op"] == op] == [("none: no gradient", r"\text{none: no gradient}")]


def test_the_matrix_products_differential_is_the_adjoint_of_its_pullbacks():
    report = check_rule("matmul")
    assert len(report.checked) == 3 and report.max_adjoint_error <= ADJOINT_RTOL


@pytest.mark.parametrize("op, cases", SIDES)
def test_a_broadcast_differential_is_the_adjoint_of_its_pullback(op, cases):
    report = check_rule(op, cases=cases)
    assert len(report.checked) == 3  # dA alone, dB alone, both (the table's line)
    assert report.max_adjoint_error <= ADJOINT_RTOL


@pytest.mark.parametrize("op, attr", ATTRS)
def test_a_differential_with_an_axis_or_a_power_is_checked(op, attr):
    report = check_rule(op, attr)
    assert len(report.checked) == 1 and report.max_adjoint_error <= ADJOINT_RTOL


def test_the_rules_table_checks_every_row():
    rows = rules_table()
    assert {r["op"] for r in rows} == set(RULES)


# -- every "why" line of every network the site derives -----------------------------------------


@pytest.mark.parametrize("e", NETWORKS)
def test_every_why_line_of_a_network_is_checked(e):
    d = _derive(e)
    report = d.check_why()
    steps = {c.what.split(":")[0] for c in report.checked if c.what.startswith("step ")}
    # every step but a sum of paths; a split's block row [G_i G_f] shows its differential and is checked
    assert len(steps) == sum(1 for s in d.backward_steps if s.kind != "paths" or s.identity)
    assert report.max_adjoint_error <= ADJOINT_RTOL


def test_each_use_of_a_name_used_twice_is_checked_alone():
    d = _derive(next(e for e in GALLERY if e.key == "residual_block"))
    paths = [s.name for s in d.backward_steps if s.kind == "path"]
    checked = " ".join(c.what for c in d.check_why().checked)
    assert paths and all(f"({p})" in checked for p in paths)


# -- a wrong displayed differential is caught and named -----------------------------------------


def _plant(monkeypatch, op, jvp=None, vjp=None):
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, rule._replace(jvp=jvp or rule.jvp, vjp=vjp or rule.vjp))


def _sigmoid_without_one_minus_s(out, args, d):  # dS = S ∘ dZ
    return mk_mul(ref(out), d[0])


def _softmax_without_p_in_the_row_sum(out, args, d):  # dP = P ∘ dA − P ∘ (dA 1)
    return mk_add(mk_mul(ref(out), d[0]), mk_mul(ref(out), mk_sum(d[0], 1)), sub=True)


def _quotient_without_minus(out, args, d):  # d(A/B) = dA/B + A ∘ dB / B²
    from derivlib.engine.nodes import mk_div, mk_pow

    terms = [mk_div(d[0], args[1]) if d[0] is not None else None,
             mk_div(mk_mul(args[0], d[1]), mk_pow(args[1], 2)) if d[1] is not None else None]
    return mk_add(*terms) if all(terms) else terms[0] or terms[1]


def _matmul_transposed(out, args, d):  # d(AB) = (A dB)ᵀ along dB: 7×3, not 3×7
    from derivlib.engine.nodes import mk_T

    return mk_T(mk_matmul(args[0], d[1])) if d[0] is None else mk_matmul(d[0], args[1])


@pytest.mark.parametrize("op, jvp, cases, message", [
    pytest.param("sigmoid", _sigmoid_without_one_minus_s, (None, None), "not the adjoint", id="sigmoid-S-dZ"),
    pytest.param("softmax", _softmax_without_p_in_the_row_sum, (None, None), "not the adjoint",
                 id="softmax-row-sum-without-P"),
    pytest.param("div", _quotient_without_minus, (None, None), "not the adjoint", id="quotient-sign"),
    pytest.param("matmul", _matmul_transposed, (None, None), "is 7×3 but should be 3×7", id="matmul-transposed"),
])
def test_a_wrong_rule_differential_is_named(monkeypatch, op, jvp, cases, message):
    _plant(monkeypatch, op, jvp=jvp)
    with pytest.raises(DifferentialError, match=message) as err:
        check_rule(op, cases=cases)
    assert str(err.value).startswith(op)


def test_a_differential_wrong_with_its_pullback_is_not_a_derivative(monkeypatch):
    _plant(monkeypatch, "sigmoid", jvp=_sigmoid_without_one_minus_s,
           vjp=lambda g, out, args: (mk_mul(g, ref(out)),))  # Ḡ ∘ S: the adjoint of S ∘ dZ
    with pytest.raises(DifferentialError, match="sigmoid: dS = S ∘ dA: not the derivative of the forward"):
        check_rule("sigmoid")


def test_the_rules_table_refuses_a_wrong_row(monkeypatch):
    _plant(monkeypatch, "sigmoid", jvp=_sigmoid_without_one_minus_s)
    with pytest.raises(DifferentialError, match=r"rules table, sigmoid: d\(σ\(A\)\) = S ∘ dA: not the adjoint"):
        rules_table()


def test_a_wrong_why_line_names_its_step(monkeypatch):
    _plant(monkeypatch, "sigmoid", jvp=_sigmoid_without_one_minus_s)
    d = _derive(HAND[0])
    assert [s.differential for s in d.backward_steps if s.name == "Delta"] == ["dS = S ∘ dZ"]
    with pytest.raises(DifferentialError, match=r"step Δ \(Delta\): dS = S ∘ dZ: not the adjoint"):
        d.check_why()


def test_a_wrong_differential_along_a_path_names_its_step(monkeypatch):
    # L = sum(G ∘ S): the "why" of G_S composes the jvps of sum and of ∘; the product rule
    # planted here loses G in dL = 1ᵀ(G ∘ dS)1
    _plant(monkeypatch, "mul", jvp=lambda out, args, d: d[1] if d[0] is None else d[0] if d[1] is None
           else mk_add(d[0], d[1]))
    d = _derive(HAND[0])
    with pytest.raises(DifferentialError, match=r"step G_S \(G_S\): dL = 1ᵀ dS 1: not the adjoint of the pullback: 1 : dL = "):
        d.check_why()


def test_a_negated_why_line_is_caught(monkeypatch):
    # the whole composite negated, as a sign lost in the displayed line would be
    original = type(_derive(HAND[0]))._differential

    def negated(self, n, c):
        dn, dc, consumer = original(self, n, c)
        return dn, mk_neg(dc), consumer

    monkeypatch.setattr(type(_derive(HAND[0])), "_differential", negated)
    with pytest.raises(DifferentialError, match=r"step G_S \(G_S\): dL = −"):
        _derive(HAND[0]).check_why()


# -- where it runs: without numpy, and in the docs build --------------------------------------------


def test_the_why_check_runs_without_numpy():
    code = ("import sys, json\n"
            "sys.modules['numpy'] = None\n"
            "from derivlib.engine import derive, rules_table\n"
            "from derivlib.playground.gallery import EXAMPLES\n"
            "n = [len(derive(e.expr, shapes=e.shapes, wrt=list(e.wrt), indices=e.indices).check_why().checked) for e in EXAMPLES.values()]\n"
            "print(json.dumps({'rows': len(rules_table()), 'all checked': all(n)}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"rows": len(rules_table()), "all checked": True}


PAGE = """# A page

```{derivation}
:shapes: X=n,p W=p,q b=1,q G=n,q
:wrt: W
:why:
sum(G * sigmoid(X @ W + b))
```
"""

PLANT = """
from derivlib.engine import RULES
from derivlib.engine.nodes import mk_mul, ref
RULES["sigmoid"] = RULES["sigmoid"]._replace(jvp=lambda out, args, d: mk_mul(ref(out), d[0]))
"""


def _build(tmp_path, plant=""):
    """Build a one-page site with the checked_math extension; skipped without the docs extra."""
    for module in ("sphinx", "myst_parser"):
        pytest.importorskip(module, reason=f"building a page needs {module}, from the docs extra: pip install -e '.[docs]'")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(CONF)!r})\n{plant}\n"
                                 'extensions = ["myst_parser", "sphinx.ext.mathjax", "checked_math"]\n'
                                 'myst_enable_extensions = ["dollarmath", "amsmath"]\n')
    (src / "index.md").write_text(PAGE)
    return subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-n", "-b", "html",
                           str(src), str(tmp_path / "out")], capture_output=True, text=True)


def test_a_derivation_with_why_lines_builds(tmp_path):
    result = _build(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "every differential shown checked" in (tmp_path / "out" / "index.html").read_text()


def test_a_wrong_why_line_fails_the_build_naming_its_step(tmp_path):
    result = _build(tmp_path, PLANT)
    assert result.returncode != 0
    assert "index.md:3: ERROR: wrong or unchecked formula: a displayed differential" in result.stderr
    assert "step Δ (Delta): dS = S ∘ dZ: not the adjoint of the pullback" in result.stderr


def test_the_cli_says_wrong_for_a_wrong_why_line(monkeypatch, capsys):
    from derivlib.__main__ import main

    _plant(monkeypatch, "sigmoid", jvp=_sigmoid_without_one_minus_s)
    assert main(["derive", "sum(G * sigmoid(X @ W))", "--shape", "X=n,p", "--shape", "W=p,q",
                 "--shape", "G=n,q"]) == 1
    assert "dS = S ∘ dZ: not the adjoint" in capsys.readouterr().err


def test_the_playground_never_shows_a_wrong_why_line(monkeypatch):
    from derivlib.playground import requests as playground

    _plant(monkeypatch, "sigmoid", jvp=_sigmoid_without_one_minus_s)
    result = playground.run_derive("sum(G * sigmoid(X @ W))", "X: n, p\nW: p, q\nG: n, q", "W")
    assert result["ok"] is False and result["field"] == "internal" and "text" not in result


@pytest.mark.parametrize("seed", range(10))
def test_why_lines_through_a_relu_of_a_relu_are_right(seed):
    d = derive("sum(G * relu(relu(X)))", {"G": ("n", "p"), "X": ("n", "p")})
    assert d.check_why(seed=seed).ok


def test_why_lines_outside_the_domain_are_a_named_error():
    d = derive("sum(log(X @ W))", {"X": ("n", "p"), "W": ("p", "q")})
    with pytest.raises(ValueError, match=r"check_why: the loss is nan at the random point"):
        d.check_why()
