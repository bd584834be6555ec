r"""How the engine writes a number (a 1×1 operand or a literal) next to a matrix.

A number times a matrix is scalar multiplication, written by juxtaposition (``cA``,
``(1/n)A``, ``\frac{1}{n} A``), never as a Hadamard product ``∘`` with a number. The
expected strings are written here by hand, in the notation of the pages (``Ḡ11ᵀ`` for
the pullback of ``sum``, a number times a matrix of ones). A rendering never changes
what is computed: ``tests/test_engine.py`` runs every derivation's numpy source and
checks every step against finite differences, and the site's checked math
(``verification/formulas.py``) evaluates every displayed formula from the same nodes.
"""

from __future__ import annotations

import re

import pytest

from derivlib.engine import derive, parse
from derivlib.playground.gallery import GALLERY, HAND
from derivlib.engine.render import latex, text

SHAPES = {"A": ("n", "q"), "X": ("n", "p"), "W": ("p", "q"), "Y": ("n", "q"), "c": (), "d": (),
          "y": (1, "k"), "yhat": (1, "k"), "v": ("n", 1), "beta": (1, "q")}


def _parse(expr):
    return parse(expr, {k: v for k, v in SHAPES.items() if re.search(rf"\b{k}\b", expr)})


def _derive(expr):
    return derive(expr, {k: v for k, v in SHAPES.items() if re.search(rf"\b{k}\b", expr)})


# -- one expression, its text and its LaTeX ----------------------------------------------------

WRITTEN = [
    ("(1/n) * A", "(1/n)A", r"\frac{1}{n} A"),
    ("A * (1/n)", "(1/n)A", r"\frac{1}{n} A"),
    ("c * A", "cA", "c A"),
    ("A * c", "cA", "c A"),
    ("2 * A", "2A", "2 A"),
    ("A * 0.5", "0.5A", "0.5 A"),
    ("-c * A", "−cA", "-c A"),
    ("A * (-c)", "−cA", "-c A"),
    ("-2 * A", "−2A", "-2 A"),
    ("1 * A", "A", "A"),
    ("A * -1", "−A", "-A"),
    ("c * (X @ W)", "c XW", "c X W"),
    ("Y * (c * (X @ W))", "Y ∘ (c XW)", r"Y \circ \left(c X W\right)"),
    ("(c * A) * Y", "cA ∘ Y", r"c A \circ Y"),
    ("c * (A + Y)", "c(A + Y)", r"c \left(A + Y\right)"),
    ("(1/n) * sum(A)", "(1/n)(1ᵀA1)", r"\frac{1}{n} \left(\mathbf{1}^T A \mathbf{1}\right)"),
    ("c * sum(A)", "c(1ᵀA1)", r"c \left(\mathbf{1}^T A \mathbf{1}\right)"),
    ("sum(A) * c", "c(1ᵀA1)", r"c \left(\mathbf{1}^T A \mathbf{1}\right)"),
    ("c * d", "cd", "c d"),
    ("A / c", "A/c", r"\frac{A}{c}"),
    ("A / n", "A/n", r"\frac{A}{n}"),
    ("c.T * A", "cA", "c A"),
    ("c ** 2", "c²", "c^{2}"),
    ("c ** 0.5", "c^(0.5)", "c^{0.5}"),
    ("A ** 2", "A∘²", r"A^{\circ 2}"),
    ("sum(yhat * y, axis=1) * yhat", "((ŷ ∘ y)1)ŷ",
     r"\left(\left(\hat{y} \circ y\right) \mathbf{1}\right) \hat{y}"),
    ("yhat * sum(y, axis=1)", "ŷ(y1)", r"\hat{y} \left(y \mathbf{1}\right)"),
    ("A + 0.00001", "A + 1e-05", r"A + 10^{-5}"),
    ("A * 0.000025", "2.5e-05·A", r"\left(2.5 \times 10^{-5}\right) A"),
    ("0.00001 ** 0.5", "(1e-05)^(0.5)", r"\left(10^{-5}\right)^{0.5}"),
    ("0.00001 ** 2", "1e-10", r"10^{-10}"),
    ("-sum(A)", "−1ᵀA1", r"-\mathbf{1}^T A \mathbf{1}"),
    ("-sum(A * Y, axis=1)", "−(A ∘ Y)1", r"-\left(A \circ Y\right) \mathbf{1}"),
    ("sum(A, axis=1) * A", "(A1) ∘ A", r"\left(A \mathbf{1}\right) \circ A"),
    ("v * A", "v ∘ A", r"v \circ A"),
]


@pytest.mark.parametrize(("expr", "want", "_"), WRITTEN, ids=[w[0] for w in WRITTEN])
def test_text_as_written(expr, want, _):
    assert text(_parse(expr)) == want


@pytest.mark.parametrize(("expr", "_", "want"), WRITTEN, ids=[w[0] for w in WRITTEN])
def test_latex_as_written(expr, _, want):
    assert latex(_parse(expr)) == want


# -- the steps of whole derivations: the mean losses and the number cases --------------------

STEPS = [
    ("sum((1/n) * A)", "G_A", "(1/n)11ᵀ", r"\frac{1}{n} \mathbf{1}\mathbf{1}^T"),
    ("sum(A * c)", "G_A", "c11ᵀ", r"c \mathbf{1}\mathbf{1}^T"),
    ("sum(2 * A)", "G_A", "2·11ᵀ", r"2 \mathbf{1}\mathbf{1}^T"),
    ("sum(-c * A)", "G_c", "−1ᵀA1", r"-\mathbf{1}^T A \mathbf{1}"),
    ("mean(A)", "G_A", "11ᵀ/(nq)", r"\frac{\mathbf{1}\mathbf{1}^T}{nq}"),
    ("mean(c * A)", "G_A", "c11ᵀ/(nq)", r"\frac{c \mathbf{1}\mathbf{1}^T}{nq}"),
    ("mean((X @ W - Y) ** 2)", "G_Y", "2(Y − XW)/(nq)", r"\frac{2 \left(Y - X W\right)}{nq}"),
    ("mean((X @ W - Y) ** 2) / 2", "G_Y", "(Y − XW)/(nq)", r"\frac{Y - X W}{nq}"),
]


@pytest.mark.parametrize(("expr", "name", "want", "_"), STEPS, ids=[f"{s[0]}:{s[1]}" for s in STEPS])
def test_text_of_a_step(expr, name, want, _):
    assert {s.name: s.expression for s in _derive(expr).backward_steps}[name] == want


@pytest.mark.parametrize(("expr", "name", "_", "want"), STEPS, ids=[f"{s[0]}:{s[1]}" for s in STEPS])
def test_latex_of_a_step(expr, name, _, want):
    assert {s.name: s.expression_latex for s in _derive(expr).backward_steps}[name] == want


DIFFERENTIALS = [
    ("sum((1/n) * A)", "G_A", "dL = 1ᵀ((1/n) dA)1"),
    ("(1/n) * sum(A)", "G_A", "dL = (1/n)(1ᵀ dA 1)"),
    ("sum(c * A)", "G_c", "dL = 1ᵀ(dc A)1"),
    ("mean(A ** 2)", "G_A", "dL = 2(1ᵀ(A ∘ dA)1)/(nq)"),
]


@pytest.mark.parametrize(("expr", "name", "want"), DIFFERENTIALS, ids=[f"{d[0]}:{d[1]}" for d in DIFFERENTIALS])
def test_differential_of_a_step(expr, name, want):
    assert {s.name: s.differential for s in _derive(expr).backward_steps}[name] == want


def test_a_long_mean_puts_its_whole_factor_in_front():
    step = {s.name: s for s in _derive("mean(A ** 2)").backward_steps}["G_A"]
    assert step.differential_latex.startswith(r"\mathrm{d}L = \frac{2}{nq}\mathbf{1}^T")


def test_the_pullback_of_a_sum_is_the_number_times_ones():
    step = _derive("sum(A)").backward_steps[0]
    assert "Ḡ : (1ᵀ dA 1) = (Ḡ11ᵀ) : dA" in step.identity


def test_an_identity_names_a_number_with_a_lowercase_letter():
    step = {s.name: s for s in _derive("sum(c * A)").backward_steps}["G_A"]
    assert "Ḡ : (a dB) = aḠ : dB" in step.identity


def test_a_number_broadcast_is_the_number_times_ones():
    d = _derive("sum(Y * (A + c))")
    assert {s.name: s.differential for s in d.backward_steps}["G_c"] == "dL = 1ᵀ(Y ∘ (dc 11ᵀ))1"


def test_a_greek_differential_is_spaced_like_a_latin_one():
    d = _derive("sum(Y * (A + beta))")
    assert {s.name: s.differential for s in d.backward_steps}["G_beta"] == "dL = 1ᵀ(Y ∘ (1 dβ))1"


# -- every network of the site: no ∘ beside a number -------------------------------------------

NUMBER_CASES = ["sum((1/n) * A)", "sum(A * (1/n))", "sum(c * A)", "sum(A * c)", "sum(2 * A)", "sum(-c * A)",
                "(1/n) * sum(A)", "sum(A) * c", "mean(c * A)", "sum(Y * (X @ W) * c)", "sum(c * c * A)",
                "sum(c.T * A)", "mean((X @ W - Y) ** 2)", "0.5 * sum(A ** 2)", "sum(A / c)"]
NETWORKS = ([pytest.param(e.expr, e.shapes, e.indices, id=e.key) for e in HAND + GALLERY]
            + [pytest.param(x, None, {}, id=x) for x in NUMBER_CASES])


def _numbers_beside_circ(node, seen=None):
    """The 1×1 operands of products (∘ or @) in node's tree that are written beside a ∘."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    found = []
    if node.op in ("mul", "matmul"):
        for arg in node.args:
            if arg.shape == (1, 1):
                for render, circ in ((text, "∘"), (latex, r"\circ")):
                    whole, part = render(node, top=False), render(arg, top=False)
                    pattern = rf"(\({re.escape(part)}\)|{re.escape(part)}) {re.escape(circ)} "
                    if re.match(pattern, whole) or whole.endswith(f" {circ} {part}") or \
                            whole.endswith(f" {circ} ({part})") or whole.endswith(rf" {circ} \left({part}\right)"):
                        found.append(whole)
    children = list(node.args) + ([node.attr] if node.op == "ref" else [])
    for child in children:
        found += _numbers_beside_circ(child, seen)
    return found


@pytest.mark.parametrize(("expr", "shapes", "indices"), NETWORKS)
def test_no_number_is_written_as_a_hadamard_factor(expr, shapes, indices):
    d = derive(expr, shapes, indices=indices) if shapes else _derive(expr)
    found = [w for s in d.steps for w in _numbers_beside_circ(s.node)]
    assert not found, found


@pytest.mark.parametrize(("expr", "shapes", "indices"), NETWORKS)
def test_no_number_is_transposed_or_hadamard_powered(expr, shapes, indices):
    d = derive(expr, shapes, indices=indices) if shapes else _derive(expr)
    rendered = d.text() + d.latex()
    numbers = {"c", "n", "d"} & {ch for ch in re.findall(r"\b\w\b", expr)}
    for c in numbers:
        assert f"{c}ᵀ" not in rendered and f"{c}∘" not in rendered and f"{c}^T" not in rendered


@pytest.mark.parametrize(("expr", "shapes", "indices"), NETWORKS)
def test_latex_groups_balance(expr, shapes, indices):
    d = derive(expr, shapes, indices=indices) if shapes else _derive(expr)
    source = d.latex()
    depth = 0
    for ch in source.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, source
    assert depth == 0
    assert len(re.findall(r"\\left\W", source)) == len(re.findall(r"\\right\W", source))


@pytest.mark.parametrize(("expr", "shapes", "indices"), NETWORKS)
def test_no_doubled_parentheses(expr, shapes, indices):
    d = derive(expr, shapes, indices=indices) if shapes else _derive(expr)
    for s in d.steps:
        assert not re.search(r"\(\([^()]*\)\)", s.text), s.text
        assert r"{\left(" not in s.latex, s.latex


def test_the_cli_writes_a_mean_as_a_number_times_a_matrix(capsys):
    from derivlib.__main__ import main

    assert main(["derive", "sum((1/n) * A)", "--shape", "A=n,q", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "L = 1ᵀ((1/n)A)1" in out and "G_A = (1/n)11ᵀ" in out


# -- renderings that read as the formula they are --------------------------------------------

READS = [
    # an element-wise power that is not a positive whole number: a caret, never "∘(−2)"
    ("A ** -2", "A^∘(−2)", r"A^{\circ -2}"),
    ("A ** 0.5", "A^∘(0.5)", r"A^{\circ 0.5}"),
    ("A ** 2", "A∘²", r"A^{\circ 2}"),
    ("c ** -1", "c^(−1)", "c^{-1}"),
    # ∘ beside ⊘ and beside a matrix product: the parentheses that fix the order
    ("A / Y * Y", "(A ⊘ Y) ∘ Y", r"\left(A \oslash Y\right) \circ Y"),
    ("A * Y / Y", "(A ∘ Y) ⊘ Y", r"\left(A \circ Y\right) \oslash Y"),
    ("Y * (X @ W)", "Y ∘ (XW)", r"Y \circ \left(X W\right)"),
    ("(X @ W) * Y", "(XW) ∘ Y", r"\left(X W\right) \circ Y"),
    # a number made of numbers is the number; a literal goes before a name; a division by a product
    ("A * (-2) ** 2", "4A", "4 A"),
    ("c * 2", "2c", "2 c"),
    ("A / (c * 2)", "A/(2c)", r"\frac{A}{2 c}"),
    ("(c * 2) ** -1 * A", "A/(2c)", r"\frac{A}{2 c}"),
]


@pytest.mark.parametrize(("expr", "want", "_"), READS, ids=[w[0] for w in READS])
def test_text_reads_as_the_formula(expr, want, _):
    assert text(_parse(expr)) == want


@pytest.mark.parametrize(("expr", "_", "want"), READS, ids=[w[0] for w in READS])
def test_latex_reads_as_the_formula(expr, _, want):
    assert latex(_parse(expr)) == want


READ_STEPS = [
    ("sum(A * (-2) ** 2)", "G_A", "4·11ᵀ"),
    ("sum(2 * v)", "G_v", "2·𝟏"),
    ("sum((c * 2) ** -1 * A)", "G_A", "11ᵀ/(2c)"),
]


@pytest.mark.parametrize(("expr", "name", "want"), READ_STEPS, ids=[f"{s[0]}:{s[1]}" for s in READ_STEPS])
def test_a_step_reads_as_the_formula(expr, name, want):
    assert {s.name: s.expression for s in _derive(expr).backward_steps}[name] == want


def _gallery(key, wrt=None):
    e = next(e for e in HAND + GALLERY if e.key == key)
    return derive(e.expr, e.shapes, list(wrt or e.wrt), indices=e.indices)


def test_a_matrix_product_inside_a_hadamard_product_has_parentheses():
    step = {s.name: s for s in _gallery("attention").backward_steps}["G_P"]
    assert step.differential == "dL = 1ᵀ(G ∘ (dP V))1"


def test_a_quotient_inside_a_hadamard_product_has_parentheses():
    step = {s.name: s for s in _gallery("layer_norm").backward_steps}["G_Q"]
    assert step.expression == "−((G_Y ∘ C) ⊘ Q∘²)1"


def test_the_mean_identity_has_the_factor_of_the_step():
    """mean over an n×1 column divides by n, not by nq."""
    step = {s.name: s for s in _gallery("linear_regression").backward_steps}["G_w"]
    assert "/n" in step.identity and "nq" not in step.identity and "nq" not in step.identity_latex


def test_the_full_mean_identity_divides_by_every_entry():
    step = _derive("mean(A)").backward_steps[0]
    assert "Ḡ : (1ᵀ dA 1/(nq))" in step.identity


def test_a_division_by_a_number_is_never_an_oslash():
    d = _gallery("two_layer")
    assert not [s.identity for s in d.steps if "⊘" in s.identity or r"\oslash" in s.identity_latex]


def test_a_square_root_of_a_dimension_is_a_number_not_a_step():
    d = derive("sum(G * (softmax(Q @ K.T / sqrt(d)) @ V))",
               {"Q": ("n", "d"), "K": ("m", "d"), "V": ("m", "e"), "G": ("n", "e")})
    assert [s.name for s in d.forward_steps] == ["Z", "P", "L"]
    assert {s.name: s.expression for s in d.backward_steps}["G_Q"] == "(Δ/√d)K"


ACTIVATION_FUNCTIONS = ("sigmoid", "tanh", "relu", "softmax", "log_softmax")


@pytest.mark.parametrize("example", HAND + GALLERY, ids=lambda e: e.key)
def test_delta_names_only_the_adjoint_of_a_pre_activation(example):
    d = derive(example.expr, example.shapes, list(example.wrt), indices=example.indices)
    deltas = [s for s in d.backward_steps if re.fullmatch(r"(Delta|delta\d+)(_path\d+)?", s.name)]
    for s in deltas:
        assert any(n.op in ACTIVATION_FUNCTIONS and n.args[0] is s.of for n in d.nodes), s.text


def test_the_logistic_regression_adjoints_of_log_arguments_are_g_names():
    names = [s.name for s in _gallery("logistic_regression").backward_steps]
    assert names == ["G_ell2", "G_Z2", "G_ell1", "G_P_path1", "G_P_path2", "G_P", "Delta", "G_w", "G_b"]


def test_delta_numbers_do_not_depend_on_wrt():
    assert "delta2" in [s.name for s in _gallery("two_layer", wrt=["W2"]).backward_steps]
