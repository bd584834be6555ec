"""Column blocks and max in the engine's own terms: the generated numpy of max computes its
argument once, and the blocks of a split whose columns are a product dimension (``8*h``, a
``nodes.Coef``) read, evaluate and are written as numpy at the right columns."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from derivlib import derive
from derivlib.engine import columns
from derivlib.engine.evaluate import evaluate
from derivlib.engine.nodes import Coef, Node, Sym, var
from derivlib.engine.render import latex, source, text

# -- max of an unnamed argument: computed once ----------------------------------------------------


def _products(src):
    """How many times ``X @ W`` is computed in ``src``."""
    return sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) and ast.unparse(n) == "X @ W"
               for n in ast.walk(ast.parse(src)))


@pytest.mark.parametrize("expr, shapes", [
    pytest.param("max(X @ W)", {"X": ("n", "p"), "W": ("p", "q")}, id="all"),
    pytest.param("sum(G * max(X @ W, axis=1))", {"X": ("n", "p"), "W": ("p", "q"), "G": ("n", 1)}, id="axis-1"),
    pytest.param("sum(G * max(X @ W, axis=0))", {"X": ("n", "p"), "W": ("p", "q"), "G": (1, "q")}, id="axis-0"),
])
def test_the_generated_numpy_computes_the_argument_of_max_once(expr, shapes):
    assert _products(derive(expr, shapes).numpy_source()) == 1


def test_the_argument_of_max_is_a_step_named_a():
    d = derive("max(X @ W)", {"X": ("n", "p"), "W": ("p", "q")})
    assert [(s.symbol, s.expression) for s in d.forward_steps] == [("A", "XW"), ("L", "max(A)")]


# -- a split of 8*h columns into 4 blocks of 2*h ---------------------------------------------------

H = 3
TWO_H = Coef(2, (("h", 1),))
A = var(Sym("A"), ("n", Coef(8, (("h", 1),))))
MATRIX = np.arange(2.0 * 8 * H).reshape(2, 8 * H)


def _block(j):
    return Node("split", [A], ("n", TWO_H), (j, j + 1, TWO_H, 4))


@pytest.mark.parametrize("j, want", [
    pytest.param(0, "A[:, 0:2h]", id="first"), pytest.param(1, "A[:, 2h:4h]", id="second"),
    pytest.param(3, "A[:, 6h:8h]", id="last"),
])
def test_a_block_of_a_product_dimension_reads_its_columns(j, want):
    assert text(_block(j)) == want


def test_a_block_of_width_h_reads_its_columns():
    a = var(Sym("A"), ("n", Coef(4, (("h", 1),))))
    assert text(Node("split", [a], ("n", "h"), (1, 2, "h", 4))) == "A[:, h:2h]"


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_in_latex(j):
    hi = f"{2 * (j + 1)}h"
    assert latex(_block(j)).endswith(f"{hi}]}}")


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_evaluates_in_pure_python(j):
    got = evaluate(_block(j), {"A": MATRIX.tolist()}, {"n": 2, "h": H})
    np.testing.assert_array_equal(np.array(got), MATRIX[:, 2 * H * j:2 * H * (j + 1)])


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_evaluates_on_numpy(j):
    got = evaluate(_block(j), {"A": MATRIX}, {"n": 2, "h": H}, np)
    np.testing.assert_array_equal(got, MATRIX[:, 2 * H * j:2 * H * (j + 1)])


@pytest.mark.parametrize("j", [0, 1, 3], ids=["first", "second", "last"])
def test_a_block_of_a_product_dimension_as_numpy_source_runs(j):
    got = eval(source(_block(j)), {"A": MATRIX, "h": H, "np": np})
    np.testing.assert_array_equal(got, MATRIX[:, 2 * H * j:2 * H * (j + 1)])


def test_the_pullback_of_a_product_dimension_block_runs_as_numpy_source():
    g = var(Sym("G"), ("n", TWO_H))
    (back,) = columns.split_vjp(g, _block(1), [A])
    gv = np.ones((2, 2 * H))
    want = np.zeros((2, 8 * H))
    want[:, 2 * H:4 * H] = 1.0
    np.testing.assert_array_equal(eval(source(back), {"G": gv, "h": H, "n": 2, "np": np}), want)
    np.testing.assert_array_equal(np.array(evaluate(back, {"G": gv.tolist()}, {"n": 2, "h": H})), want)


# -- the LSTM's split: one line forward, the block row of the blocks' adjoints backward -------------

LSTM = ("A = X @ Wx + H @ Wh + b; i, f, o, g = split(A, 4); C2 = sigmoid(f) * C + sigmoid(i) * tanh(g); "
        "H2 = sigmoid(o) * tanh(C2); sum(H2 * GH) + sum(C2 * GC)")
LSTM_SHAPES = {"X": ("n", 5), "H": ("n", 3), "C": ("n", 3), "Wx": (5, 12), "Wh": (3, 12), "b": (1, 12),
               "GH": ("n", 3), "GC": ("n", 3)}


def _lstm():
    return derive(LSTM, LSTM_SHAPES, wrt=["Wx", "b", "X"])


def _g_a(d):
    return next(s for s in d.backward_steps if s.name == "G_A")


def test_the_forward_split_is_one_line_in_text():
    lines = [line.split()[:5] for line in _lstm().text().splitlines()]
    assert ["[i", "f", "o", "g]", "="] in lines and not any(w[:2] == ["i", "="] for w in lines)


def test_the_forward_split_line_reads_split_of_a():
    line = next(x for x in _lstm().text().splitlines() if x.strip().startswith("[i f o g]"))
    assert line.split("=", 1)[1].split()[:2] == ["split(A)", "n×3"]


def test_the_forward_split_is_one_line_in_latex():
    shown = _lstm().latex()
    assert r"\begin{bmatrix} i & f & o & g \end{bmatrix} &= \operatorname{split}\left(A\right)" in shown
    assert r"i &= " not in shown


def test_the_blocks_follow_their_argument_in_split_order():
    names = [s.name for s in _lstm().forward_steps]
    assert names[:5] == ["A", "i", "f", "o", "g"]


def test_the_block_row_shows_the_blocks_adjoints_in_split_order():
    assert _g_a(_lstm()).expression == "[G_i G_f G_o G_g]"


def test_a_blocks_adjoint_is_named_after_the_block():
    d = _lstm()
    s = next(s.symbol for s in d.forward_steps if s.expression == "σ(i)")
    step = next(s for s in d.backward_steps if s.name == "G_i")
    assert step.expression == f"G_{s} ∘ {s} ∘ (1 − {s})"


def test_the_block_row_shows_its_differential():
    assert _g_a(_lstm()).differential == "d[i f o g] = split(dA)"


def test_check_why_checks_the_block_row():
    report = _lstm().check_why()
    assert any(c.what.startswith("step G_A") for c in report.checked)


def test_check_why_finds_a_block_row_in_the_wrong_order():
    # a split of a variable: no later step reads G_X, so only the block row's own check sees it
    from derivlib.engine.adjoint import DifferentialError

    d = derive("a, b = split(X, 2); sum(G * tanh(a)) + sum(b * b * b)", {"X": ("n", 4), "G": ("n", 2)})
    k = next(k for k, s in enumerate(d.backward_steps) if s.name == "G_X")
    step = d.backward_steps[k]
    row = step.node.args[0]
    swapped = Node("concat", [row.args[1], row.args[0], *row.args[2:]], row.shape)
    holder = Node("let", (swapped,), step.node.shape)
    holder.name = step.node.name
    d.backward_steps[k] = step._replace(node=holder)
    with pytest.raises(DifferentialError, match="G_X"):
        d.check_why()


def test_an_unused_block_is_a_placeholder_in_the_split_line():
    d = derive("A = X @ W; a, b = split(A, 2); sum(G * sigmoid(b))", {"X": ("n", "p"), "W": ("p", 4),
                                                                          "G": ("n", 2)})
    assert any(x.strip().startswith("[_ b] = split(A)") for x in d.text().splitlines())
    assert _g_a(d).expression == "[0 G_b]"


def test_two_splits_of_one_matrix_keep_every_block_on_the_page():
    d = derive("a, b = split(X, 2); c, e = split(X, 2); sum(a * e) + sum(b * c)", {"X": ("n", 4)})
    forward = d.text().split("backward")[0].splitlines()[1:]
    defined = {name for line in forward if "=" in line for name in line.split("=")[0].strip(" []").split()}
    assert {"a", "b", "c", "e"} <= defined


def test_two_splits_of_one_matrix_check():
    d = derive("a, b = split(X, 2); c, e = split(X, 2); sum(a * e) + sum(b * c)", {"X": ("n", 4)})
    assert d.check().ok and d.check_pure().ok and d.check_why().ok


# -- concat of named widths: h + h + 2h = 4h ---------------------------------------------------------

NAMED = {"A": ("n", "h"), "B": ("n", "h"), "C": ("n", "2*h"), "G": ("n", "4*h")}
NAMED_EXPR = "sum(G * tanh(concat(A, B, C)))"


def test_a_concat_of_multiples_of_one_name_has_their_sum_as_width():
    d = derive(NAMED_EXPR, NAMED)
    assert d.forward_steps[0].expression == "[A B C]" and d.forward_steps[0].shape == ("n", Coef(4, (("h", 1),)))


def test_a_concat_of_named_widths_slices_its_adjoint_by_the_name():
    d = derive(NAMED_EXPR, NAMED)
    assert [s.expression for s in d.backward_steps if s.name in ("G_A", "G_B", "G_C")] == [
        "Δ[:, 0:h]", "Δ[:, h:2h]", "Δ[:, 2h:4h]"]


def test_a_concat_of_named_widths_checks_right_on_both_backends_and_its_why_lines():
    d = derive(NAMED_EXPR, NAMED)
    assert d.check().verdict == "right" and d.check_pure().verdict == "right" and d.check_why().ok


def test_a_concat_of_named_widths_equals_torch_cat():
    torch = pytest.importorskip("torch")
    d = derive(NAMED_EXPR, NAMED)
    rng = np.random.default_rng(5)
    values = {k: rng.normal(size=(3, w)) for k, w in {"A": 2, "B": 2, "C": 4, "G": 8}.items()}
    namespace = {}
    exec(d.numpy_source(), namespace)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}
    (t["G"] * torch.tanh(torch.cat([t["A"], t["B"], t["C"]], 1))).sum().backward()
    for got in (d.gradients(values), namespace["backward"](**values)):
        for v in "ABC":
            np.testing.assert_allclose(got[v], t[v].grad.numpy(), rtol=1e-12, atol=1e-14, err_msg=v)
