"""Claims of source thread 001, the question "Why did the chain rule give a (10, m) array for L = (xW + b) y?".

Every formula the thread states, as a :class:`~verification.claims.ledger.Claim`; the data
builders and reference functions its claims share. See :mod:`verification.claims`.
"""

from __future__ import annotations

import numpy as np

from derivlib import linear_dot

from .ledger import FD, Claim
from .strict import grad, jacobian, jvp, scalar

# -- data ---------------------------------------------------------------------------------


def _data_001(seed, m=4, c=10):
    """Source 001: X (1, m), W (m, 10), b (1, 10), y (10, 1); m = 4 (the source leaves m open).

    The answer's column convention: x = X^T (m, 1), its b = b^T (10, 1), the same W and y.
    dW is a random direction for the differentials (X, b, y held fixed, as in the source).
    """
    rng = np.random.default_rng(seed)
    X, W = rng.standard_normal((1, m)), rng.standard_normal((m, c))
    b, y = rng.standard_normal((1, c)), rng.standard_normal((c, 1))
    d = dict(X=X, W=W, b=b, y=y, dW=rng.standard_normal((m, c)))
    d["f"] = X @ W + b  # (1, 10), the question's row
    d["x"], d["b_col"] = X.T, b.T  # the answer's columns
    d["f_col"] = W.T @ d["x"] + d["b_col"]  # the answer's f = W^T x + b, (10, 1)
    L = lambda W_: linear_dot.forward(X, W_, b, y)  # noqa: E731
    d["grad_W"] = grad(L, (W,), 0)  # derivlib's forward, differentiated numerically
    d["dL"] = float(np.sum(d["grad_W"] * d["dW"]))  # the differential dL along dW
    d["df_row"] = jvp(lambda W_: X @ W_ + b, W, d["dW"])  # (1, 10)
    d["df_col"] = jvp(lambda W_: W_.T @ d["x"] + d["b_col"], W, d["dW"])  # (10, 1)
    # delta = dL/df at the output, found numerically: as a row (1, 10) and as a column (10, 1)
    d["delta_row"] = grad(lambda f: scalar(f @ y), (d["f"],), 0)
    d["delta_col"] = grad(lambda f: scalar(f.T @ y), (d["f_col"],), 0)
    return d



def _ref_001_grad_W(d):
    return d["grad_W"]


def _ref_001_dL(d):
    return d["dL"]



_DIFF_001 = (
    "the differential dL along a random dW: derivlib.check.numerical_gradient of "
    "linear_dot.forward with respect to W, dotted with dW"
)
_S001 = "001_b43cd3788509c8e5.txt"
_SH001 = "X (1, m), W (m, 10), b (1, 10), y (10, 1); checked at m = 4"
_SH001A = "column convention: x (m, 1) = X^T, W (m, 10), b (10, 1), y (10, 1); m = 4"


CLAIMS: tuple = (
    # ---------------------------------------------------------------- source 001 (question)
    Claim(
        id="001-q-forward",
        source=_S001, where="question",
        latex=r"L = f \cdot y;\quad f = X \cdot W + b",
        shapes=_SH001,
        reading="The dots are matrix products: L is a 1x1 matrix, the scalar.",
        setup=_data_001,
        transcription=lambda d: scalar((d["X"] @ d["W"] + d["b"]) @ d["y"]),
        reference=lambda d: linear_dot.forward(d["X"], d["W"], d["b"], d["y"]),
        compared_with="derivlib.linear_dot.forward",
        expected="holds",
        why="The definition; derivlib computes the same scalar.",
    ),
    Claim(
        id="001-q-chain",
        source=_S001, where="question",
        latex=r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial f} \frac{\partial f}{\partial W}",
        shapes=_SH001,
        reading=(
            "The chain rule with the two factors the asker found (dL/df = y, df/dW = X) put in, "
            "in the written order: y X (the thread does not write the product out, it reports its "
            "shape). Checked as the gradient, which must have W's shape (m, 10), as the asker says."
        ),
        setup=_data_001,
        transcription=lambda d: d["y"] @ d["X"],
        reference=_ref_001_grad_W,
        compared_with=FD.format("linear_dot.forward with respect to W"),
        expected="fails",
        why=(
            "It is (10, m), as the asker observed; the gradient is (m, 10). The entries are right "
            "but transposed: y X is the gradient in the numerator layout. A matrix argument makes "
            "df/dW third-order (001-q-dfdW), and contracting it with dL/df gives X^T y^T."
        ),
        corrected_latex=r"\frac{\partial L}{\partial W} = X^T y^T",
        corrected=lambda d: d["X"].T @ d["y"].T,
    ),
    Claim(
        id="001-q-dLdf",
        source=_S001, where="question",
        latex=r"\frac{\partial L}{\partial f} = y",
        shapes=_SH001,
        reading="The gradient of L with respect to the row f, in f's shape (1, 10), the layout the asker expects.",
        setup=_data_001,
        transcription=lambda d: d["y"],
        reference=lambda d: d["delta_row"],
        compared_with="derivlib.check.numerical_gradient of L(f) = f y with respect to f",
        expected="fails",
        why="y is (10, 1) and f is (1, 10): the same numbers, transposed (the numerator layout).",
        corrected_latex=r"\frac{\partial L}{\partial f} = y^T",
        corrected=lambda d: d["y"].T,
    ),
    Claim(
        id="001-q-dfdW",
        source=_S001, where="question",
        latex=r"\frac{\partial f}{\partial W} = X",
        shapes=_SH001,
        reading="Checked literally: the derivative of the 10 entries of f by the m x 10 entries of W.",
        setup=_data_001,
        transcription=lambda d: d["X"],
        reference=lambda d: jacobian(lambda W: (d["X"] @ W + d["b"]).ravel(), d["W"]),
        compared_with="the finite-difference Jacobian of f = XW + b with respect to W, shape (10, m, 10)",
        expected="fails",
        why=(
            "df/dW is third-order, J[j, k, l] = X[k] [j = l] (the answer says so too). X (1, m) "
            "holds its nonzero values, not the array."
        ),
        corrected_latex=r"\frac{\partial f_j}{\partial W_{kl}} = X_k\,[j = l]",
        corrected=lambda d: np.einsum("k,jl->jkl", d["X"].ravel(), np.eye(d["W"].shape[1])),
    ),
    Claim(
        id="001-q-diff-df",
        source=_S001, where="question (the advised differential)",
        latex=r"d(L) = d(f \cdot y) = d(f)\cdot y = d(X \cdot W + b)\,y",
        shapes=_SH001,
        reading=(
            "Only W varies (X, b and y held fixed, as the last step of the chain shows): d(.) is "
            "the first-order change along a random direction dW; df is found numerically."
        ),
        setup=_data_001,
        transcription=lambda d: scalar(d["df_row"] @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="y does not vary, so d(f y) = df y.",
    ),
    Claim(
        id="001-q-diff-dW",
        source=_S001, where="question (the advised differential)",
        latex=r"d(X \cdot W + b)\,y = X \cdot dW \cdot y",
        shapes=_SH001,
        reading="As 001-q-diff-df: dX = 0 and db = 0.",
        setup=_data_001,
        transcription=lambda d: scalar(d["X"] @ d["dW"] @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="d(XW + b) = X dW when X and b are fixed.",
    ),
    # ---------------------------------------------------------------- source 001 (answer)
    Claim(
        id="001-a-forward",
        source=_S001, where="answer",
        latex=r"f = W^Tx + b, \quad \lambda = f^Ty",
        shapes=_SH001A,
        reading="The answer's columns: x = X^T, b = b^T; W and y are the question's.",
        setup=_data_001,
        transcription=lambda d: scalar((d["W"].T @ d["x"] + d["b_col"]).T @ d["y"]),
        reference=lambda d: linear_dot.forward(d["X"], d["W"], d["b"], d["y"]),
        compared_with="derivlib.linear_dot.forward",
        expected="holds",
        why="The question's L, transposed: (XW + b)^T = W^T X^T + b^T.",
    ),
    Claim(
        id="001-a-diff-df",
        source=_S001, where="answer",
        latex=r"d\lambda = df^Ty",
        shapes=_SH001A,
        reading="Only W varies, along a random dW; df (10, 1) is found numerically.",
        setup=_data_001,
        transcription=lambda d: scalar(d["df_col"].T @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="y is fixed.",
    ),
    Claim(
        id="001-a-diff-dWT",
        source=_S001, where="answer",
        latex=r"d\lambda = (dW^Tx)^Ty",
        shapes=_SH001A,
        reading="As 001-a-diff-df.",
        setup=_data_001,
        transcription=lambda d: scalar((d["dW"].T @ d["x"]).T @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="df = dW^T x when x and b are fixed.",
    ),
    Claim(
        id="001-a-diff-xdWy",
        source=_S001, where="answer",
        latex=r"d\lambda = x^TdW\,y",
        shapes=_SH001A,
        reading="As 001-a-diff-df.",
        setup=_data_001,
        transcription=lambda d: scalar(d["x"].T @ d["dW"] @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="(dW^T x)^T = x^T dW.",
    ),
    Claim(
        id="001-a-trace",
        source=_S001, where="answer",
        latex=r"d\lambda = {\rm Tr}(x^TdW\,y)",
        shapes=_SH001A,
        reading="As 001-a-diff-df; Tr of the 1x1 matrix.",
        setup=_data_001,
        transcription=lambda d: float(np.trace(d["x"].T @ d["dW"] @ d["y"])),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="The trace of a 1x1 matrix is its entry.",
    ),
    Claim(
        id="001-a-trace-cyclic",
        source=_S001, where="answer",
        latex=r"d\lambda = {\rm Tr}(yx^TdW)",
        shapes=_SH001A,
        reading="As 001-a-diff-df; y x^T dW is a 10 x 10 matrix.",
        setup=_data_001,
        transcription=lambda d: float(np.trace(d["y"] @ d["x"].T @ d["dW"])),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="Tr(ABC) = Tr(CAB): the trace is invariant under cyclic shifts.",
    ),
    Claim(
        id="001-a-grad-numerator",
        source=_S001, where="answer",
        latex=r"\frac{\partial\lambda}{\partial W} = yx^T \quad \text{(one layout)}",
        shapes=_SH001A,
        reading=(
            "The answer offers two forms, one per layout convention; this one, (10, m), is the "
            "numerator layout, checked against the transpose of the gradient."
        ),
        setup=_data_001,
        transcription=lambda d: d["y"] @ d["x"].T,
        reference=lambda d: d["grad_W"].T,
        compared_with=FD.format("linear_dot.forward with respect to W") + ", transposed",
        expected="holds",
        why="Read off dλ = Tr(y x^T dW): the factor in front of dW is the numerator-layout derivative.",
    ),
    Claim(
        id="001-a-grad-denominator",
        source=_S001, where="answer",
        latex=r"\frac{\partial\lambda}{\partial W} = xy^T \quad \text{(the other layout)}",
        shapes=_SH001A,
        reading="The denominator layout, the shape of W (m, 10): the one the asker expects.",
        setup=_data_001,
        transcription=lambda d: d["x"] @ d["y"].T,
        reference=_ref_001_grad_W,
        compared_with=FD.format("linear_dot.forward with respect to W"),
        expected="holds",
        why="dλ = Tr((x y^T)^T dW) = x y^T : dW.",
    ),
    Claim(
        id="001-a-third-order",
        source=_S001, where="answer",
        latex=r"\frac{\partial f}{\partial W} \neq X \;\text{: a 3rd order tensor}",
        shapes=_SH001A,
        reading="The statement is checked as: the derivative of f (10 entries) by W (m x 10) has 3 axes.",
        setup=_data_001,
        transcription=lambda d: 3,
        reference=lambda d: jacobian(lambda W: (W.T @ d["x"] + d["b_col"]).ravel(), d["W"]).ndim,
        compared_with="the number of axes of the finite-difference Jacobian of f with respect to W",
        expected="holds",
        why="Its shape is (10, m, 10); X has m entries. (001-q-dfdW shows it is not X.)",
    ),
    # ---------------------------------------------------------------- source 001 (comments)
    Claim(
        id="001-c-trace-scalar",
        source=_S001, where="comments (the asker asks, the answerer confirms)",
        latex=r"{\rm Tr}(\text{scalar}) = \text{scalar}",
        shapes=_SH001A,
        reading="Applied to the scalar of the derivation, x^T dW y (a 1x1 matrix).",
        setup=_data_001,
        transcription=lambda d: float(np.trace(d["x"].T @ d["dW"] @ d["y"])),
        reference=lambda d: float((d["x"].T @ d["dW"] @ d["y"])[0, 0]),
        compared_with="the entry of the 1x1 matrix x^T dW y",
        expected="holds",
        why="The trace of a 1x1 matrix is its only entry.",
    ),
    Claim(
        id="001-c-code",
        source=_S001, where="comment by the asker (a line of code it quotes)",
        latex=r"\texttt{nabla_w[-1] = np.dot(delta, activations[-2].transpose())}",
        shapes="delta (10, 1), activations[-2] = x (m, 1); the result has the shape of that code's weight matrix (10, m)",
        reading=(
            "In the code's own convention: activations are columns and the weight matrix maps "
            "the input column to the output column, so it is W^T here (f = W^T x + b); delta = "
            "dλ/df as a column, found numerically. (With the question's rows, delta (1, 10) and "
            "X (1, m), the line would not conform.)"
        ),
        setup=_data_001,
        transcription=lambda d: np.dot(d["delta_col"], d["x"].transpose()),
        reference=lambda d: d["grad_W"].T,
        compared_with=FD.format("linear_dot.forward with respect to W") + ", transposed (the gradient for W^T)",
        expected="holds",
        why="The gradient for the code's weight matrix W^T is delta x^T, the transpose of x delta^T.",
    ),
    Claim(
        id="001-c-XT-delta",
        source=_S001, where="comment by the asker",
        latex=r"\frac{\partial L}{\partial W} = X^T \cdot \delta",
        shapes=_SH001 + "; delta = dL/df (1, 10)",
        reading="The question's rows: X (1, m), delta = dL/df in f's shape (1, 10), found numerically.",
        setup=_data_001,
        transcription=lambda d: d["X"].T @ d["delta_row"],
        reference=_ref_001_grad_W,
        compared_with=FD.format("linear_dot.forward with respect to W"),
        expected="holds",
        why="dL = delta : X dW = X^T delta : dW. It is the chain rule, contracted over f's entries.",
    ),
)
