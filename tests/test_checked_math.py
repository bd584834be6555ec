"""The checked display math of the site: right formulas render, wrong ones and raw result math
fail, in the checker (verification/formulas.py) and in a real Sphinx build (conf/checked_math.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from verification.formulas import FormulaError, check_formulas, raw_inline_problem, raw_math_problem, render_derivation

CONF = Path(__file__).resolve().parent.parent / "conf"

SHAPES = "X=n,p W=p,q b=1,q G=n,q"
LOSS = "Z = X @ W + b; sum(G * sigmoid(Z))"
WHERE = "S = sigmoid(X @ W + b); Delta = G * S * (1 - S)"


def check(line, **kw):
    return check_formulas([line], kw.pop("shapes", SHAPES), loss=kw.pop("loss", LOSS), where=WHERE, **kw)


@pytest.mark.parametrize(("line", "latex"), [
    ("grad(W) = X.T @ Delta", r"\frac{\partial L}{\partial W} &= X^T \Delta && p \times q"),
    ("grad(X) = Delta @ W.T", r"\frac{\partial L}{\partial X} &= \Delta W^T && n \times p"),
    ("grad(b) = sum(Delta, axis=0)", r"\frac{\partial L}{\partial b} &= \mathbf{1}^T \Delta && 1 \times q"),
    ("Delta = grad(Z) = G * S * (1 - S)", r"\Delta = \frac{\partial L}{\partial Z} &= G \circ S \circ \left(1 - S\right) && n \times q"),
    ("(X @ W).T == W.T @ X.T", r"\left(X W\right)^T &= W^T X^T && q \times n"),
    ("sum(G * (X @ W)) == sum((X.T @ G) * W)", r"G : \left(X W\right) &= \left(X^T G\right) : W && 1 \times 1"),
], ids=["dW", "dX", "db", "Delta-of-intermediate", "identity", "frobenius-product"])
def test_right_formula_renders(line, latex):
    assert check(line) == [latex]


@pytest.mark.parametrize(("line", "message"), [
    ("grad(W) = Delta.T @ X", "it is 7×5 (q×p), but a gradient has the shape of W, 5×7"),
    ("grad(W) = 2 * (X.T @ Delta)", "off by a constant factor k = 2"),
    ("grad(X) = -(Delta @ W.T)", "sign"),
    ("grad(Z) = G * S", "wrong values"),
    ("grad(X) = Delta @ W", "inner dimensions q and p differ"),
    ("X @ W == W.T @ X.T", "its transpose is right"),
    ("grad(Q) = X", "neither a variable nor an intermediate"),
], ids=["transposed", "scaled", "sign", "activation-derivative-dropped", "not-conforming", "wrong-identity",
        "unknown-name"])
def test_wrong_formula_raises(line, message):
    with pytest.raises(FormulaError, match=re.escape(message)):
        check(line)


def test_naming_line_renders_the_name_of_the_gradient():
    assert check("Delta = grad(Z)") == [r"\Delta &= \frac{\partial L}{\partial Z} && n \times q"]


def test_wrong_naming_line_raises():
    with pytest.raises(FormulaError, match=re.escape("Delta = ∂L/∂S (with Delta = G ∘ S ∘ (1 − S)) is wrong at n=3")):
        check("Delta = grad(S)", loss="Z = X @ W + b; S = sigmoid(Z); sum(G * S)")


DIFF_SHAPES = SHAPES + " dX=n,p dW=p,q db=1,q"
DIFF_WHERE = WHERE + "; Z = X @ W + b; dZ = dX @ W + X @ dW + db"


@pytest.mark.parametrize(("line", "latex"), [
    ("d(Z) == dX @ W + X @ dW + db", r"\mathrm{d}Z &= \mathrm{d}X W + X \mathrm{d}W + \mathbf{1} \mathrm{d}b && n \times q"),
    ("d(S) == S * (1 - S) * dZ", r"\mathrm{d}S &= S \circ \left(1 - S\right) \circ \mathrm{d}Z && n \times q"),
], ids=["linear", "sigmoid"])
def test_right_differential_renders(line, latex):
    assert check_formulas([line], DIFF_SHAPES, where=DIFF_WHERE) == [latex]


@pytest.mark.parametrize("line", ["d(S) == S * dZ", "d(Z) == X @ dW + db"], ids=["sigma-prime-dropped", "term-missing"])
def test_wrong_differential_raises(line):
    with pytest.raises(FormulaError, match="is wrong at n=3, p=5, q=7"):
        check_formulas([line], DIFF_SHAPES, where=DIFF_WHERE)


def test_wrong_formula_message_gives_the_engines_formula():
    with pytest.raises(FormulaError, match="the engine derives ∂L/∂W = XᵀΔ"):
        check("grad(W) = X.T @ (G * S)")


def test_equal_dimensions_do_not_hide_a_transpose():
    with pytest.raises(FormulaError, match="transpose"):
        check("grad(W) = Delta.T @ X", sizes={"n": 5, "p": 3, "q": 3})


def test_derivation_is_rendered_and_checked():
    rows = render_derivation("sum(G * sigmoid(X @ W + b))", SHAPES, wrt=["W"], steps=["Delta", "G_W"])
    assert rows == [r"\Delta &= G \circ S \circ \left(1 - S\right) && n \times q", r"G_{W} &= X^T \Delta && p \times q"]


@pytest.mark.parametrize(("latex", "classes", "message"), [
    (r"\frac{\partial L}{\partial W} = X^T \Delta", [], "raw LaTeX"),
    (r"XW = \sum_k x_k w_k", [], "raw LaTeX"),
    (r"\frac{\partial L}{\partial W} = X^T \Delta", ["definition"], "states a derivative"),
    (r"J := \frac{\partial S}{\partial W} = X", ["definition"], "states a derivative"),
], ids=["raw-result", "raw-identity", "definition-with-result", "definition-with-result-after-:="])
def test_raw_math_is_refused(latex, classes, message):
    assert message in raw_math_problem(latex, classes)


@pytest.mark.parametrize(("latex", "classes"), [
    (r"A : B = \sum_{ij} A_{ij} B_{ij}", ["definition"]),
    (r"J_{ijkl} := \frac{\partial S_{ij}}{\partial W_{kl}}", ["definition"]),
    (r"\frac{\partial L}{\partial W} = X^T \Delta", ["checked"]),
], ids=["definition", "derivative-defined-with-:=", "checked"])
def test_allowed_math(latex, classes):
    assert raw_math_problem(latex, classes) == ""


@pytest.mark.parametrize("latex", [
    r"\partial L/\partial X = \Delta W^T",
    r"\partial L/\partial X = W^T\Delta",
    r"\frac{\partial L}{\partial W} = X^T \Delta",
    r"\nabla_W L = X^T\Delta",
    r"\frac{dL}{dx} = 2x",
    r"\frac{\mathrm{d}\sigma}{\mathrm{d}a} = \sigma(1 - \sigma)",
    r"∂L/∂W = XᵀΔ",
    r"\partial L/\partial W \approx X^T\Delta",
    r"G = \partial L/\partial S",
    r"J := \partial S/\partial W = X",
    r"\frac{\partial L}{\partial W} := X^T\Delta",
    r"dL/dW = X^T\Delta",
    r"\mathrm{d}L/\mathrm{d}W = X^T\Delta",
], ids=["slashed", "slashed-wrong", "frac", "nabla", "frac-d", "frac-mathrm-d", "unicode", "approx",
        "derivative-on-the-right", "definition-with-result-after-:=", "result-given-with-:=", "slashed-d",
        "slashed-mathrm-d"])
def test_raw_inline_derivative_is_refused(latex):
    assert "{checked}" in raw_inline_problem(latex)


@pytest.mark.parametrize("latex", [
    r"\partial L/\partial W",
    r"\frac{\partial L}{\partial W}",
    r"L = G : Y",
    r"J_{ij} := \partial S_i/\partial W_j",
    r"\partial L/\partial W \neq \Delta X^T",
], ids=["notation-slashed", "notation-frac", "no-derivative", "derivative-named-with-:=", "not-equal"])
def test_raw_inline_notation_is_allowed(latex):
    assert raw_inline_problem(latex) == ""


def test_raw_inline_message_says_how_to_check_it():
    why = raw_inline_problem(r"\partial L/\partial X = W^T\Delta")
    assert "{formula-context}" in why and "inline math states a derivative" in why


PAGE = """# A page

```{{checked-math}}
:shapes: X=n,p W=p,q b=1,q G=n,q
:loss: sum(G * sigmoid(X @ W + b))
:where: S = sigmoid(X @ W + b); Delta = G * S * (1 - S)
grad(W) = {formula}
```

{extra}
"""


def build(tmp_path, formula="X.T @ Delta", extra=""):
    """Build a one-page site holding the sigmoid layer's grad(W) as ``formula``, then ``extra``."""
    result, _ = build_page(tmp_path, PAGE.format(formula=formula, extra=extra), anchors=False)
    return result


def test_build_passes_with_checked_math(tmp_path):
    result = build(tmp_path, extra="```{math}\n:class: definition\nA : B = \\sum_{ij} A_{ij}B_{ij}\n```")
    assert result.returncode == 0, result.stderr
    assert r"X^T \Delta" in (tmp_path / "out" / "index.html").read_text()


def test_build_fails_on_a_wrong_formula(tmp_path):
    result = build(tmp_path, formula="Delta @ X.T")
    assert result.returncode != 0
    assert "index.md:3: ERROR: wrong or unchecked formula: 'grad(W) = Delta @ X.T'" in result.stderr


def test_build_fails_on_raw_result_math(tmp_path):
    result = build(tmp_path, extra="$$\n\\frac{\\partial L}{\\partial W} = X^T\\Delta\n$$")
    assert result.returncode != 0
    assert "display math typed as raw LaTeX; write a result with ```{checked-math}```" in result.stderr


def test_build_fails_on_a_raw_inline_derivative(tmp_path):
    result = build(tmp_path, extra="So $\\partial L/\\partial X = W^T\\Delta$ here.")
    assert result.returncode != 0
    assert "index.md:10: ERROR: inline math states a derivative as raw LaTeX; write it with the role {checked}" \
        in result.stderr


def test_build_allows_inline_notation(tmp_path):
    result = build(tmp_path, extra="The gradient $\\partial L/\\partial W$ has the shape of $W$.")
    assert result.returncode == 0, result.stderr


def build_page(tmp_path, text, anchors=True):
    """Build a one-page site from ``text`` with the checked_math extension, as the docs are
    built (-W -n); ``anchors`` puts the claims pages' labels above it. (result, html).
    Skipped without the docs extra, which brings Sphinx and MyST."""
    for module in ("sphinx", "myst_parser"):
        pytest.importorskip(module, reason=f"building a page needs {module}, from the docs extra: pip install -e '.[docs]'")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(CONF)!r})\n"
        'extensions = ["myst_parser", "sphinx.ext.mathjax", "checked_math"]\n'
        'myst_enable_extensions = ["dollarmath", "amsmath"]\n')
    head = "# A page\n\n(claims-000)=\n(claims-002)=\n## Ledger\n\n" if anchors else ""
    (src / "index.md").write_text(head + text)
    result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-n", "-b", "html",
                             str(src), str(tmp_path / "out")], capture_output=True, text=True)
    html = (tmp_path / "out" / "index.html").read_text() if result.returncode == 0 else ""
    return result, html


def test_asked_shows_the_formula_and_the_ledgers_verdict(tmp_path):
    result, html = build_page(tmp_path, "```{asked} 002-q-result\n```\n\nInline: {verdict}`000-q-textbook`.\n")
    assert result.returncode == 0, result.stderr
    assert r"\textbf{W}_{1}" in html  # the formula as the thread wrote it
    assert '<span class="verdict verdict-does-not-conform">does not conform</span>' in html
    assert '<span class="verdict verdict-holds">holds</span>' in html


def test_asked_unknown_claim_fails_the_build(tmp_path):
    result, _ = build_page(tmp_path, "```{asked} 002-q-nothing\n```\n")
    assert result.returncode != 0
    assert "no claim '002-q-nothing'" in result.stderr


def test_differential_names_render_as_differentials():
    rows = check_formulas(["d(L) == -sum(y * (dyhat / yhat)) == -sum((y / yhat) * dyhat)"], "theta=1,k y=1,k dtheta=1,k",
                          where="yhat = softmax(theta); L = -sum(y * log(yhat)); "
                                "dyhat = yhat * dtheta - sum(yhat * dtheta, axis=1) * yhat")
    assert rows == [r"\mathrm{d}L &= -y : \left(\mathrm{d}\hat{y} \oslash \hat{y}\right)",
                    r"&= -\left(y \oslash \hat{y}\right) : \mathrm{d}\hat{y} && 1 \times 1"]


CONTEXT = """```{formula-context} layer
:shapes: X=n,p W=p,q b=1,q G=n,q
:loss: Z = X @ W + b; sum(G * sigmoid(Z))
:where: S = sigmoid(X @ W + b); Delta = G * S * (1 - S)
```

"""


def test_inline_checked_formula_renders(tmp_path):
    result, html = build_page(tmp_path, CONTEXT + "So {checked}`layer: grad(W) = X.T @ Delta`.\n")
    assert result.returncode == 0, result.stderr
    assert r"\(\partial L/\partial W = X^T \Delta\)" in html


@pytest.mark.parametrize(("text", "message"), [
    ("{checked}`layer: grad(W) = Delta.T @ X`", "∂L/∂W = ΔᵀX is wrong at n=3, p=5, q=7"),
    ("{checked}`other: grad(W) = X.T @ Delta`", "with NAME a {formula-context} given earlier on the page"),
], ids=["wrong-formula", "unknown-context"])
def test_inline_checked_formula_fails_the_build(tmp_path, text, message):
    result, _ = build_page(tmp_path, CONTEXT + f"So {text}.\n")
    assert result.returncode != 0
    assert message in result.stderr


def test_asked_role_shows_the_threads_formula_inline(tmp_path):
    result, html = build_page(tmp_path, "The asker wrote {asked}`001-q-dLdf`.\n")
    assert result.returncode == 0, result.stderr
    assert r'<span class="checked claim math notranslate nohighlight">\(\partial L/\partial f = y\)</span>' in html


def test_asked_role_unknown_claim_fails_the_build(tmp_path):
    result, _ = build_page(tmp_path, "The asker wrote {asked}`001-q-nothing`.\n")
    assert result.returncode != 0
    assert "no claim '001-q-nothing'" in result.stderr

