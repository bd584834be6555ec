"""Claims of source thread 002, the question "What is dL/dx through a sigmoid layer and softmax cross-entropy?".

Every formula the thread states, as a :class:`~verification.claims.ledger.Claim`; the data
builders and reference functions its claims share. See :mod:`verification.claims`.
"""

from __future__ import annotations

import numpy as np

from derivlib import two_layer
from derivlib.primitives import cross_entropy, sigmoid

from .ledger import FD, Claim
from .strict import colon, dsigma, grad, had, jacobian, jvp, sigma, softmax_row

# -- data ---------------------------------------------------------------------------------


def _data_002(seed, d_in=5, h=3, k=5):
    """Source 002: x (1x5), W1 (5x3), b1 (1x3), W2 (3x5), b2 (1x5), y a one-hot label (1x5).

    The answer's column convention: x = x_row^T, b1, b2 transposed, the same W1, W2; its
    y is the prediction (yhat^T) and its p the label (y^T). dx is a random direction for
    the differentials (the weights held fixed, as in the source).
    """
    rng = np.random.default_rng(seed)
    x, W1, b1 = rng.standard_normal((1, d_in)), rng.standard_normal((d_in, h)), rng.standard_normal((1, h))
    W2, b2 = rng.standard_normal((h, k)), rng.standard_normal((1, k))
    y = np.zeros((1, k))
    y[0, rng.integers(k)] = 1.0
    D = dict(x=x, W1=W1, b1=b1, W2=W2, b2=b2, y=y, dx=rng.standard_normal((1, d_in)))
    D["a"] = x @ W1 + b1
    D["h"] = sigma(D["a"])
    D["theta"] = D["h"] @ W2 + b2
    D["yhat"] = softmax_row(D["theta"])

    def L(x_):  # derivlib's loss as a function of the row x (n = 1: mean = the one row)
        return two_layer.forward(x_, W1, b1, W2, b2, y)

    D["grad_x"] = grad(L, (x,), 0)  # (1, 5)
    D["dL"] = float(np.sum(D["grad_x"] * D["dx"]))

    # the answer's columns (its y is the prediction, its p the label)
    c = dict(x=x.T, b1=b1.T, b2=b2.T, p=y.T, dx=D["dx"].T)
    stage_a = lambda xc: W1.T @ xc + c["b1"]  # noqa: E731
    stage_h = lambda xc: sigma(stage_a(xc))  # noqa: E731
    stage_t = lambda xc: W2.T @ stage_h(xc) + c["b2"]  # noqa: E731
    stage_y = lambda xc: softmax_row(stage_t(xc))  # noqa: E731
    c["a"], c["h"], c["theta"], c["y"] = (s(c["x"]) for s in (stage_a, stage_h, stage_t, stage_y))
    c["H"], c["Y"] = np.diag(c["h"].ravel()), np.diag(c["y"].ravel())
    # the differentials da, dh, dtheta, dy along dx, each found numerically
    for name, stage in (("da", stage_a), ("dh", stage_h), ("dtheta", stage_t), ("dy", stage_y)):
        c[name] = jvp(stage, c["x"], c["dx"])
    D["col"] = c
    return D



def _ref_002_dL(d):
    return d["dL"]


def _ref_002_L(d):
    return two_layer.forward(d["x"], d["W1"], d["b1"], d["W2"], d["b2"], d["y"])


def _ref_002_grad_x(d):
    return d["grad_x"]


def _ref_002_grad_h(d):
    """dL/dh, with L = cross-entropy(h W2 + b2, y) (derivlib's primitive, finite differences)."""
    return grad(lambda h: float(cross_entropy(h @ d["W2"] + d["b2"], d["y"])[0]), (d["h"],), 0)


def _ref_002_grad_a(d):
    def L(a):
        return float(cross_entropy(sigmoid(a) @ d["W2"] + d["b2"], d["y"])[0])

    return grad(L, (d["a"],), 0)



_DIFF_002 = (
    "the differential dL along a random dx: derivlib.check.numerical_gradient of "
    "two_layer.forward with respect to x, dotted with dx"
)
_S002 = "002_88e5b88fedbe3adc.txt"
_SH002 = "x (1x5), W1 (5x3), b1 (1x3), h (1x3), W2 (3x5), b2 (1x5), yhat and y (1x5)"
_SH002A = "column convention: x (5, 1), W1 (5, 3), a and h (3, 1), W2 (3, 5), theta, y, p (5, 1)"
_READ_002A = (
    "The answer's column convention and names: x, a, h, theta are the question's rows "
    "transposed, W1 and W2 unchanged; its y is the prediction yhat and its p the label. "
    "H = Diag(h), Y = Diag(y); A : B = sum_ij A_ij B_ij. The differentials are the "
    "first-order changes along a random direction dx with the weights fixed; each d(.) on "
    "the right-hand side is found numerically (central differences of that stage), never "
    "from the answer's formulas."
)
_READ_002L = _READ_002A + " Each line of the chain must equal dL."


CLAIMS: tuple = (
    # ---------------------------------------------------------------- source 002 (question)
    Claim(
        id="002-q-forward",
        source=_S002, where="question",
        latex=(
            r"\textbf{a} = \textbf{x}\textbf{W}_{1}+\textbf{b}_{1},\; \textbf{h}=\sigma(\textbf{a}),\; "
            r"\theta = \textbf{h}\textbf{W}_{2}+\textbf{b}_2,\; \hat{\textbf{y}} = \text{softmax}(\theta),\; "
            r"L=\operatorname{xent}(y, \hat{y})"
        ),
        shapes=_SH002,
        reading=(
            "softmax(θ)_j = exp(θ_j) / sum_l exp(θ_l); xent(y, ŷ) = -sum_j y_j log ŷ_j with y the "
            "one-hot label (a comment says y is the actual label)."
        ),
        setup=_data_002,
        transcription=lambda d: -float(np.sum(d["y"] * np.log(d["yhat"]))),
        reference=_ref_002_L,
        compared_with="derivlib.two_layer.forward (one row: the mean is that row's loss)",
        expected="holds",
        why="The network derivlib implements.",
    ),
    Claim(
        id="002-q-sigma",
        source=_S002, where="question",
        latex=r"\sigma(\textbf{a}) =[\sigma(a_{1}),\sigma(a_{2}),...\sigma(a_{n})],\quad \sigma(a_i) = \frac{1}{1+exp(-a_{i})}",
        shapes="a (1x3)",
        reading="Element-wise, as written.",
        setup=_data_002,
        transcription=lambda d: np.array([[1.0 / (1.0 + np.exp(-ai)) for ai in d["a"].ravel()]]),
        reference=lambda d: sigmoid(d["a"]),
        compared_with="derivlib.primitives.sigmoid",
        expected="holds",
        why="The same function (derivlib evaluates it without overflow for large |a|).",
    ),
    Claim(
        id="002-q-chain",
        source=_S002, where="question",
        latex=(
            r"\frac{\partial L}{\partial{x}} =\frac{\partial L}{\partial \hat{y}}\frac{\partial \hat{y}}{\partial{\theta}}"
            r"\frac{\partial{\theta}}{\partial {h}}\frac{\partial{h}}{\partial{a}}\frac{\partial{a}}{\partial{x}}"
        ),
        shapes=_SH002,
        reading=(
            "Each factor is the Jacobian of the row above by the row below (rows: entries of the "
            "output; columns: entries of the input), found numerically; the product is taken left "
            "to right: (1x5)(5x5)(5x3)(3x3)(3x5). In that layout the written order conforms."
        ),
        setup=_data_002,
        transcription=lambda d: (
            jacobian(lambda yh: -np.sum(d["y"] * np.log(yh)), d["yhat"]).reshape(1, -1)
            @ jacobian(softmax_row, d["theta"]).reshape(d["theta"].size, -1)
            @ jacobian(lambda h: h @ d["W2"] + d["b2"], d["h"]).reshape(d["theta"].size, -1)
            @ jacobian(sigma, d["a"]).reshape(d["a"].size, -1)
            @ jacobian(lambda x: x @ d["W1"] + d["b1"], d["x"]).reshape(d["a"].size, -1)
        ),
        reference=_ref_002_grad_x,
        compared_with=FD.format("two_layer.forward with respect to x"),
        expected="holds",
        why="The chain rule for vectors: Jacobians multiply in the order of composition.",
    ),
    Claim(
        id="002-q-result",
        source=_S002, where="question (the result the asker was shown)",
        latex=r"((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T})\circ\sigma'(a)\textbf{W}_{1}",
        shapes=_SH002,
        reading=(
            "Grouped as ((ŷ - y) W2^T ∘ σ'(a)) W1; the other grouping, (ŷ - y) W2^T ∘ (σ'(a) W1), "
            "fails to conform at the same product. σ'(a) is the derivative of the sigmoid at each a_i."
        ),
        setup=_data_002,
        transcription=lambda d: had((d["yhat"] - d["y"]) @ d["W2"].T, dsigma(d["a"])) @ d["W1"],
        reference=_ref_002_grad_x,
        compared_with=FD.format("two_layer.forward with respect to x"),
        expected="does not conform",
        why=(
            "The row (ŷ - y) W2^T ∘ σ'(a) is 1x3 and W1 is 5x3: 3 columns cannot meet 5 rows. "
            "da = dx W1, so dL = δ1 : dx W1 = δ1 W1^T : dx: W1 enters transposed, for the same "
            "reason as W2 (not to make shapes fit)."
        ),
        corrected_latex=r"\big(((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T})\circ\sigma'(a)\big)\textbf{W}_{1}^T",
        corrected=lambda d: had((d["yhat"] - d["y"]) @ d["W2"].T, dsigma(d["a"])) @ d["W1"].T,
    ),
    Claim(
        id="002-q-transpose",
        source=_S002, where="question (point 1)",
        latex=r"\frac{\partial L}{\partial h} = (\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}",
        shapes=_SH002,
        reading="The factor of the result that question 1 is about, read as dL/dh (1x3).",
        setup=_data_002,
        transcription=lambda d: (d["yhat"] - d["y"]) @ d["W2"].T,
        reference=_ref_002_grad_h,
        compared_with=FD.format("cross_entropy(h W2 + b2, y) with respect to h"),
        expected="holds",
        why="dθ = dh W2, so (ŷ - y) : dh W2 = (ŷ - y) W2^T : dh. The transpose comes from the algebra.",
    ),
    Claim(
        id="002-q-untransposed",
        source=_S002, where="question (point 1: the product without the transpose)",
        latex=r"(\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}",
        shapes=_SH002,
        reading="The product question 1 contrasts with the transposed one, read as dL/dh.",
        setup=_data_002,
        transcription=lambda d: (d["yhat"] - d["y"]) @ d["W2"],
        reference=_ref_002_grad_h,
        compared_with=FD.format("cross_entropy(h W2 + b2, y) with respect to h"),
        expected="does not conform",
        why="(1x5) times (3x5). W2^T is not chosen to make the shapes fit: the differential gives it.",
        corrected_latex=r"(\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}",
        corrected=lambda d: (d["yhat"] - d["y"]) @ d["W2"].T,
    ),
    Claim(
        id="002-q-matmul",
        source=_S002, where="question (point 2: a matrix product in place of ∘)",
        latex=r"\big((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}\big)\,\sigma'(a)",
        shapes=_SH002,
        reading=(
            "Point 2 asks why σ' is not applied to each a_i and the result matrix-multiplied with "
            "the row on its left; read as dL/da (1x3)."
        ),
        setup=_data_002,
        transcription=lambda d: ((d["yhat"] - d["y"]) @ d["W2"].T) @ dsigma(d["a"]),
        reference=_ref_002_grad_a,
        compared_with=FD.format("cross_entropy(sigmoid(a) W2 + b2, y) with respect to a"),
        expected="does not conform",
        why=(
            "(1x3) times (1x3). An element-wise map has a diagonal Jacobian Diag(σ'(a)), and a row "
            "times a diagonal matrix is the element-wise product."
        ),
        corrected_latex=r"\big((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}\big)\,\mathrm{Diag}(\sigma'(a)) = \big((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}\big)\circ\sigma'(a)",
        corrected=lambda d: ((d["yhat"] - d["y"]) @ d["W2"].T) @ np.diag(dsigma(d["a"]).ravel()),
    ),
    # ---------------------------------------------------------------- source 002 (comment)
    Claim(
        id="002-c-softmax-xent",
        source=_S002, where="comment by the asker",
        latex=r"\frac{\partial(-\log \hat y)}{\partial \theta} = \hat y - y",
        shapes="θ, ŷ, y (1x5)",
        reading=(
            "-log ŷ is the cross-entropy with the one-hot label y, -sum_j y_j log ŷ_j. (For a "
            "target that does not sum to 1 the gradient is ŷ sum(y) - y.)"
        ),
        setup=_data_002,
        transcription=lambda d: d["yhat"] - d["y"],
        reference=lambda d: grad(lambda t: float(cross_entropy(t, d["y"])[0]), (d["theta"],), 0),
        compared_with=FD.format("derivlib.primitives.cross_entropy with respect to θ"),
        expected="holds",
        why="L = -y θ^T + sum(y) log sum_l exp(θ_l), whose gradient is ŷ sum(y) - y: ŷ - y when sum(y) = 1.",
    ),
    # ---------------------------------------------------------------- source 002 (answer)
    Claim(
        id="002-a-forward",
        source=_S002, where="answer",
        latex=(
            r"a = W_1^Tx + b_1,\; h = \sigma(a),\; \theta = W_2^Th + b_2,\; "
            r"y = {\rm softmax}(\theta),\; L = -p:\log y,\; (p,y) \doteq (y,{\hat y})"
        ),
        shapes=_SH002A,
        reading=_READ_002A,
        setup=_data_002,
        transcription=lambda d: -colon(d["col"]["p"], np.log(d["col"]["y"])),
        reference=_ref_002_L,
        compared_with="derivlib.two_layer.forward",
        expected="holds",
        why="The question's network, transposed, with the answer's names.",
    ),
    Claim(
        id="002-a-da",
        source=_S002, where="answer",
        latex=r"da = W_1^Tdx",
        shapes=_SH002A,
        reading=_READ_002A,
        setup=_data_002,
        transcription=lambda d: d["W1"].T @ d["col"]["dx"],
        reference=lambda d: d["col"]["da"],
        compared_with="da along dx by central differences",
        expected="holds",
        why="a is affine in x.",
    ),
    Claim(
        id="002-a-dh",
        source=_S002, where="answer",
        latex=r"dh = (H-H^2)\,da,\quad H={\rm Diag}(h)",
        shapes=_SH002A,
        reading=_READ_002A,
        setup=_data_002,
        transcription=lambda d: (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["col"]["da"],
        reference=lambda d: d["col"]["dh"],
        compared_with="dh along dx by central differences",
        expected="holds",
        why="σ' = σ(1 - σ), element-wise: the Jacobian of h is the diagonal matrix H - H².",
    ),
    Claim(
        id="002-a-dtheta",
        source=_S002, where="answer",
        latex=r"d\theta = W_2^Tdh",
        shapes=_SH002A,
        reading=_READ_002A,
        setup=_data_002,
        transcription=lambda d: d["W2"].T @ d["col"]["dh"],
        reference=lambda d: d["col"]["dtheta"],
        compared_with="dθ along dx by central differences",
        expected="holds",
        why="θ is affine in h.",
    ),
    Claim(
        id="002-a-dy",
        source=_S002, where="answer",
        latex=r"dy = (Y-yy^T)\,d\theta,\quad Y={\rm Diag}(y)",
        shapes=_SH002A,
        reading=_READ_002A,
        setup=_data_002,
        transcription=lambda d: (d["col"]["Y"] - d["col"]["y"] @ d["col"]["y"].T) @ d["col"]["dtheta"],
        reference=lambda d: d["col"]["dy"],
        compared_with="dy along dx by central differences",
        expected="holds",
        why="The softmax Jacobian, Diag(y) - y y^T (symmetric).",
    ),
    Claim(
        id="002-a-dL-1",
        source=_S002, where="answer (line 1 of the differential chain)",
        latex=r"dL = -p:Y^{-1}dy",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: -colon(d["col"]["p"], np.linalg.inv(d["col"]["Y"]) @ d["col"]["dy"]),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="d log y = Y^{-1} dy, element-wise 1/y.",
    ),
    Claim(
        id="002-a-dL-2",
        source=_S002, where="answer (line 2)",
        latex=r"dL = -p:Y^{-1}(Y-yy^T)d\theta",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: -colon(
            d["col"]["p"],
            np.linalg.inv(d["col"]["Y"]) @ (d["col"]["Y"] - d["col"]["y"] @ d["col"]["y"].T) @ d["col"]["dtheta"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Substitutes dy.",
    ),
    Claim(
        id="002-a-dL-3",
        source=_S002, where="answer (line 3)",
        latex=r"dL = -p:(I-1y^T)d\theta",
        shapes=_SH002A,
        reading=_READ_002L + " 1 is the column of ones.",
        setup=_data_002,
        transcription=lambda d: -colon(
            d["col"]["p"],
            (np.eye(d["col"]["y"].shape[0]) - np.ones_like(d["col"]["y"]) @ d["col"]["y"].T) @ d["col"]["dtheta"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Y^{-1} y = 1.",
    ),
    Claim(
        id="002-a-dL-4",
        source=_S002, where="answer (line 4)",
        latex=r"dL = (y1^T-I)p:d\theta",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: colon(
            (d["col"]["y"] @ np.ones_like(d["col"]["y"]).T - np.eye(d["col"]["y"].shape[0])) @ d["col"]["p"],
            d["col"]["dtheta"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="A : BC = B^T A : C, with B = -(I - 1 y^T).",
    ),
    Claim(
        id="002-a-dL-5",
        source=_S002, where="answer (line 5)",
        latex=r"dL = (y-p):W_2^Tdh",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: colon(d["col"]["y"] - d["col"]["p"], d["W2"].T @ d["col"]["dh"]),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="(y 1^T - I) p = y (1^T p) - p = y - p because the label sums to 1; dθ = W2^T dh.",
    ),
    Claim(
        id="002-a-dL-6",
        source=_S002, where="answer (line 6)",
        latex=r"dL = W_2(y-p):(H-H^2)da",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: colon(
            d["W2"] @ (d["col"]["y"] - d["col"]["p"]), (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["col"]["da"]
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Moves W2^T across the colon and substitutes dh.",
    ),
    Claim(
        id="002-a-dL-7",
        source=_S002, where="answer (line 7)",
        latex=r"dL = (H-H^2)W_2(y-p):W_1^Tdx",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: colon(
            (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["W2"] @ (d["col"]["y"] - d["col"]["p"]),
            d["W1"].T @ d["col"]["dx"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="H - H² is symmetric; da = W1^T dx.",
    ),
    Claim(
        id="002-a-dL-8",
        source=_S002, where="answer (line 8)",
        latex=r"dL = W_1(H-H^2)W_2(y-p):dx",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: colon(
            d["W1"] @ (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["W2"] @ (d["col"]["y"] - d["col"]["p"]),
            d["col"]["dx"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Moves W1^T across the colon.",
    ),
    Claim(
        id="002-a-grad",
        source=_S002, where="answer (the result)",
        latex=r"\frac{\partial L}{\partial x} = W_1(H-H^2)W_2(y-p)",
        shapes=_SH002A,
        reading=_READ_002A + " The gradient of the column x is a column (5, 1).",
        setup=_data_002,
        transcription=lambda d: d["W1"] @ (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["W2"]
        @ (d["col"]["y"] - d["col"]["p"]),
        reference=lambda d: d["grad_x"].T,
        compared_with=FD.format("two_layer.forward with respect to x") + ", as a column",
        expected="holds",
        why="Read off dL = G : dx.",
    ),
    Claim(
        id="002-a-colon",
        source=_S002, where="answer",
        latex=r"A:B = {\rm tr}(A^TB)",
        shapes="any A, B of equal shape; checked at (4, 3)",
        reading="The definition of the colon used in the chain: the sum of the entry-wise products.",
        setup=lambda seed: dict(
            A=np.random.default_rng(seed).standard_normal((4, 3)),
            B=np.random.default_rng(seed + 1).standard_normal((4, 3)),
        ),
        transcription=lambda d: float(np.trace(d["A"].T @ d["B"])),
        reference=lambda d: float(np.sum(d["A"] * d["B"])),
        compared_with="sum_ij A_ij B_ij",
        expected="holds",
        why="The diagonal of A^T B holds sum_i A_ij B_ij for each j.",
    ),
    Claim(
        id="002-a-row-form",
        source=_S002, where="answer (the result cast back into rows)",
        latex=r"\frac{\partial L}{\partial x} = \Big(({\hat y}-y)W_2^T\Big)\circ\Big((h-h\circ h)W_1^T\Big)",
        shapes=_SH002 + " (the question's rows and names)",
        reading="As written: both factors are formed, then multiplied element-wise.",
        setup=_data_002,
        transcription=lambda d: had((d["yhat"] - d["y"]) @ d["W2"].T, (d["h"] - had(d["h"], d["h"])) @ d["W1"].T),
        reference=_ref_002_grad_x,
        compared_with=FD.format("two_layer.forward with respect to x"),
        expected="does not conform",
        why=(
            "The left factor is 1x3 (hidden units) and the right one 1x5 (inputs): an element-wise "
            "product needs equal shapes. W1^T must act after the element-wise product, as in the "
            "column form W1 (H - H²) W2 (y - p), whose transpose this should be."
        ),
        corrected_latex=r"\frac{\partial L}{\partial x} = \Big(\big(({\hat y}-y)W_2^T\big)\circ(h-h\circ h)\Big)W_1^T",
        corrected=lambda d: had((d["yhat"] - d["y"]) @ d["W2"].T, d["h"] - had(d["h"], d["h"])) @ d["W1"].T,
    ),
)
