"""Claims of source thread 000, the question "Why is dL/dW = X^T (G o S o (1 - S)) for a batch sigmoid layer?".

Every formula the thread states, as a :class:`~verification.claims.ledger.Claim`; the data
builders and reference functions its claims share. See :mod:`verification.claims`.
"""

from __future__ import annotations

import numpy as np

from derivlib import sigmoid_layer

from .ledger import FD, Claim
from .strict import grad, had, jacobian, sigma

# -- data ---------------------------------------------------------------------------------


def _data_000(seed, n=4, p=3, q=2):
    """Source 000: x (n, n_in), W (n_in, n_out), b (1, n_out); the source gives no sizes."""
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, p)), rng.standard_normal((p, q)), rng.standard_normal((1, q))
    d = dict(x=x, W=W, b=b, G=rng.standard_normal((n, q)), zero_b=np.zeros((1, q)))
    d["out"] = sigma(x @ W + b)  # the question's definition of out
    d["out0"] = sigma(x @ W)  # the self-answer drops b
    return d


def _data_000_square(seed):
    """Source 000 at n = n_in = n_out = 3: the only sizes at which (out(1-out)) x^T has W's shape."""
    return _data_000(seed, n=3, p=3, q=3)



def _ref_000_grad_sum(d):
    """dL/dW for L = sum of all entries of out (derivlib's forward, finite differences)."""
    return grad(lambda W: float(sigmoid_layer.forward(d["x"], W, d["b"]).sum()), (d["W"],), 0)


def _ref_000_jac_Z(d):
    """d(xW + b)/dW as a finite-difference array of shape (n, q, p, q)."""
    return jacobian(lambda W: d["x"] @ W + d["b"], d["W"])


def _ref_000_jac_xW(d):
    return jacobian(lambda W: d["x"] @ W, d["W"])



_S000 = "000_7d1027f9498c28b6.txt"
_SH000 = r"x (n, n_in), W (n_in, n_out), b (1, n_out); checked at n = 4, n_in = 3, n_out = 2"
_SH000A = r"x (n, p), W (p, q), no bias; checked at n = 4, p = 3, q = 2"


CLAIMS: tuple = (
    # ---------------------------------------------------------------- source 000 (question)
    Claim(
        id="000-q-forward",
        source=_S000, where="question",
        latex=r"\text{out}=\sigma(\vec{x} \times W + \vec{b})",
        shapes=_SH000 + "; out (n, n_out)",
        reading="x is a batch of n rows; the row b is added to every row of x W.",
        setup=_data_000,
        transcription=lambda d: sigma(d["x"] @ d["W"] + d["b"]),
        reference=lambda d: sigmoid_layer.forward(d["x"], d["W"], d["b"]),
        compared_with="derivlib.sigmoid_layer.forward",
        expected="holds",
        why="The definition of the layer; derivlib computes the same (n, n_out) array.",
    ),
    Claim(
        id="000-q-textbook",
        source=_S000, where="question (the formula the textbook gives)",
        latex=r"\frac{\partial{\text{out}}}{\partial{w}} = \vec{x}^T \times (\text{out}\cdot(1-\text{out}))",
        shapes=_SH000,
        reading=(
            "× is the matrix product and the dot is element-wise (the only reading under which "
            "out(1-out) is defined for an (n, n_out) out). A derivative of the matrix out by the "
            "matrix W written as an (n_in, n_out) matrix, the shape of W, is read as the gradient "
            "of the scalar sum of all entries of out (upstream gradient all ones), which is what "
            "the textbook computes; the literal derivative of out by W is a 4-D array (see "
            "000-c-dZdW)."
        ),
        setup=_data_000,
        transcription=lambda d: d["x"].T @ had(d["out"], 1 - d["out"]),
        reference=_ref_000_grad_sum,
        compared_with=FD.format("sum(sigmoid_layer.forward(x, W, b)) with respect to W"),
        expected="holds",
        why=(
            "dL = 1 : (out ∘ (1-out) ∘ x dW) = x^T (out ∘ (1-out)) : dW for L = sum of out. "
            "For another loss the element-wise factor G ∘ out ∘ (1-out) replaces out ∘ (1-out)."
        ),
    ),
    Claim(
        id="000-q-reversed",
        source=_S000, where="question (the order the asker asks about)",
        latex=r"(\text{out}\cdot(1-\text{out})) \times \vec{x}^T",
        shapes=_SH000,
        reading="The same reading as 000-q-textbook, with the factors in the other order.",
        setup=_data_000,
        transcription=lambda d: had(d["out"], 1 - d["out"]) @ d["x"].T,
        reference=_ref_000_grad_sum,
        compared_with=FD.format("sum(sigmoid_layer.forward(x, W, b)) with respect to W"),
        expected="does not conform",
        why=(
            "(n, n_out) times (n_in, n): the inner sizes n_out and n_in differ. Even where they "
            "agree the result is wrong (000-q-reversed-square): the batch index must be summed, "
            "and it is the row index of both x and out, so x^T stands on the left."
        ),
        corrected_latex=r"\vec{x}^T \times (\text{out}\cdot(1-\text{out}))",
        corrected=lambda d: d["x"].T @ had(d["out"], 1 - d["out"]),
    ),
    Claim(
        id="000-q-reversed-square",
        source=_S000, where="question (the same order, at sizes where it conforms)",
        latex=r"(\text{out}\cdot(1-\text{out})) \times \vec{x}^T",
        shapes="x (n, n_in), W (n_in, n_out); checked at n = n_in = n_out = 3, the only sizes "
               "at which the product has the shape of W",
        reading="As 000-q-reversed.",
        setup=_data_000_square,
        transcription=lambda d: had(d["out"], 1 - d["out"]) @ d["x"].T,
        reference=_ref_000_grad_sum,
        compared_with=FD.format("sum(sigmoid_layer.forward(x, W, b)) with respect to W"),
        expected="fails",
        why=(
            "It multiplies and has W's shape, but entry (k, l) is sum_i out'(k, i) x(l, i): it "
            "pairs the batch index with an output unit. The true entry is sum_i x(i, k) out'(i, l)."
        ),
        corrected_latex=r"\vec{x}^T \times (\text{out}\cdot(1-\text{out}))",
        corrected=lambda d: d["x"].T @ had(d["out"], 1 - d["out"]),
    ),
    # ---------------------------------------------------------------- source 000 (comment)
    Claim(
        id="000-c-dZdW",
        source=_S000, where="comment by the asker",
        latex=r"\frac{\partial (xW + b)}{\partial w} = x^T",
        shapes=_SH000,
        reading=(
            "Checked literally: the derivative of the (n, n_out) matrix xW + b by the "
            "(n_in, n_out) matrix W, entry by entry. x^T (n_in, n) has the shape of neither W nor "
            "that derivative, so no gradient reading exists for it."
        ),
        setup=_data_000,
        transcription=lambda d: d["x"].T,
        reference=_ref_000_jac_Z,
        compared_with="the finite-difference Jacobian of xW + b with respect to W, shape (n, n_out, n_in, n_out)",
        expected="fails",
        why=(
            "The derivative is a 4-D array J[i, j, k, l] = x[i, k] [j = l]; x^T is a matrix with "
            "its nonzero values but not the array. x^T is what J does to an upstream gradient G "
            "(n, n_out): sum_ij G[i, j] J[i, j, k, l] = (x^T G)[k, l], so x^T multiplies G from the left."
        ),
        corrected_latex=r"\frac{\partial (xW + b)_{ij}}{\partial W_{kl}} = x_{ik}\,[j = l]",
        corrected=lambda d: np.einsum("ik,jl->ijkl", d["x"], np.eye(d["W"].shape[1])),
    ),
    # ---------------------------------------------------------------- source 000 (self-answer)
    Claim(
        id="000-a-x-columns",
        source=_S000, where="answer (the asker's self-answer)",
        latex=(
            r"x = \begin{bmatrix} x_{11}, &\cdots, &x_{1p}\\ \vdots & &\vdots\\ x_{n1}, &\cdots, &x_{np} \end{bmatrix}"
            r" = \begin{bmatrix} \vec{x}_{1}, &\vec{x}_{2}, &\cdots, &\vec{x}_{p} \end{bmatrix}"
        ),
        shapes=_SH000A,
        reading="x_k is column k of x, an (n x 1) column; side by side they rebuild x.",
        setup=_data_000,
        transcription=lambda d: np.hstack([d["x"][:, [k]] for k in range(d["x"].shape[1])]),
        reference=lambda d: d["x"],
        compared_with="x itself",
        expected="holds",
        why="A matrix is its columns side by side.",
    ),
    Claim(
        id="000-a-W-rows",
        source=_S000, where="answer (the asker's self-answer)",
        latex=(
            r"W = \begin{bmatrix} w_{11}, &\cdots, &w_{1q}\\ \vdots & &\vdots\\ w_{p1}, &w_{n2}, \cdots, &w_{pq} \end{bmatrix}"
            r" = \begin{bmatrix} \vec{w}_{1}\\ \vec{w}_{2} \\ \vdots \\ \vec{w}_{p} \end{bmatrix}"
        ),
        shapes=_SH000A,
        reading=(
            "w_k is row k of W, a (1 x q) row; stacked they rebuild W. The displayed last row "
            "has w_{n2} where w_{p2} is meant (a typo: W has p rows)."
        ),
        setup=_data_000,
        transcription=lambda d: np.vstack([d["W"][[k], :] for k in range(d["W"].shape[0])]),
        reference=lambda d: d["W"],
        compared_with="W itself",
        expected="holds",
        why="A matrix is its rows stacked (with the typo read as w_{p2}).",
    ),
    Claim(
        id="000-a-outer-sum",
        source=_S000, where="answer (the asker's self-answer)",
        latex=r"x\times W = \vec{x}_1 \vec{w}_1 + \vec{x}_2 \vec{w}_2 + \cdots + \vec{x}_p \vec{w}_p",
        shapes=_SH000A,
        reading=(
            "x_k is column k of x (n x 1) and w_k is row k of W (1 x q), so each term is an "
            "outer product (n x q). (See 000-a-W-rows for a typo in W.)"
        ),
        setup=_data_000,
        transcription=lambda d: sum(d["x"][:, [k]] @ d["W"][[k], :] for k in range(d["x"].shape[1])),
        reference=lambda d: np.matmul(d["x"], d["W"]),
        compared_with="numpy's matrix product x @ W",
        expected="holds",
        why="Matrix product as a sum of outer products: row k of W meets only column k of x.",
    ),
    Claim(
        id="000-a-derivative",
        source=_S000, where="answer (the asker's self-answer)",
        latex=(
            r"\frac{\partial(\vec{x}_1 \vec{w}_1 + \cdots + \vec{x}_p \vec{w}_p)}{\partial W} "
            r"= \begin{bmatrix} \vec{x}_{1}, &\cdots, &\vec{x}_{p} \end{bmatrix}^T"
        ),
        shapes=_SH000A,
        reading=(
            "Checked literally, as 000-c-dZdW: the derivative of the (n, q) matrix xW by W. The "
            "self-answer itself notes that the numerator is an (n, q) matrix, not a scalar."
        ),
        setup=_data_000,
        transcription=lambda d: np.hstack([d["x"][:, [k]] for k in range(d["x"].shape[1])]).T,
        reference=_ref_000_jac_xW,
        compared_with="the finite-difference Jacobian of xW with respect to W, shape (n, q, p, q)",
        expected="fails",
        why=(
            "The derivative of an (n, q) matrix by a (p, q) matrix is a 4-D array, not the (p, n) "
            "matrix x^T. The missing last step: for a scalar L with G = dL/d(xW), "
            "dL = G : x dW = x^T G : dW, so dL/dW = x^T G: x^T is the left factor of the gradient."
        ),
        corrected_latex=r"\frac{\partial L}{\partial W} = x^T \frac{\partial L}{\partial (xW)} \quad (L \text{ a scalar})",
        corrected=lambda d: d["x"].T @ d["G"],
        corrected_reference=lambda d: grad(lambda W: float(np.sum(d["G"] * (d["x"] @ W))), (d["W"],), 0),
    ),
)
