r"""The claims ledger: every formula stated in the three source threads, checked as written.

Each formula in ``shared/sources`` (question, answers, comments, and every intermediate
step of a derivation) is one :class:`Claim`. A claim records where it comes from, the
formula in the source's own notation (LaTeX), the shapes the source gives, the reading
taken where the notation is ambiguous, and a *transcription*: a function that evaluates
the formula exactly as written on random float64 data of those shapes. It is never
quietly fixed: a formula whose shapes do not multiply raises numpy's ``ValueError`` and
is reported as ``"does not conform"``; a formula that evaluates to the wrong array is
reported as ``"fails"``. Each transcription is compared with a *reference*: derivlib's
finite-difference gradient (:func:`derivlib.check.numerical_gradient`) of derivlib's own
forward function, or, for an intermediate identity, a finite-difference evaluation of
the quantity the formula claims to be (a Jacobian, a differential along a random
direction). A claim that fails or does not conform carries the reason and a corrected
formula, which is transcribed and checked the same way.

The sources write in two conventions. Questions use **rows** (a sample is a row, as in
derivlib). The answers in sources 001 and 002 restate the problem with **column**
vectors: their ``x`` is the question's row ``x`` transposed, their ``b`` likewise, and
their weight matrices are the question's matrices unchanged (``f = W^T x + b`` is the
transpose of ``f = x W + b``). The answer in source 002 also renames: its ``y`` is the
prediction :math:`\hat y` and its ``p`` is the label (the question's ``y``). The
transcriptions follow each source's own convention and names; the mapping is done only
when building the data.

Tolerances: a value matches its reference when ``|value - ref| <= ATOL + RTOL * |ref|``
entry by entry (the defaults of :func:`derivlib.check.gradcheck`); the shapes must be
equal, except that a 1x1 matrix and a scalar are the same thing (the sources use both).

Examples
--------
>>> from derivlib import claims
>>> row = claims.check(claims.get("002-a-row-form"))
>>> row.observed, row.corrected_observed
('does not conform', 'holds')
>>> all(r.observed == r.expected for r in claims.check_all())
True
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from . import linear_dot, sigmoid_layer, two_layer
from .check import numerical_gradient
from .primitives import cross_entropy, sigmoid, softmax

__all__ = ["Claim", "Result", "CLAIMS", "STATUSES", "ATOL", "RTOL", "get", "check", "check_all", "summary"]

STATUSES = ("holds", "fails", "does not conform")
ATOL = 1e-6
RTOL = 1e-5
EPS = 1e-6  # finite-difference step for Jacobians and differentials


class Claim(NamedTuple):
    """One formula from a source thread, with what it is checked against.

    ``transcription``, ``reference`` and ``corrected`` take the data dictionary built by
    ``setup(seed)`` and return an array (or a scalar).
    """

    id: str
    source: str  # file name in shared/sources
    where: str  # "question", "answer", "comment by ..."
    latex: str  # the formula in the source's notation
    shapes: str  # the shapes the source gives (and the sizes used where it gives none)
    reading: str  # how the notation was read, where it is ambiguous
    setup: Callable  # seed -> dict of float64 arrays
    transcription: Callable  # data -> the formula evaluated as written
    reference: Callable  # data -> what the formula claims to equal, computed numerically
    compared_with: str
    expected: str  # one of STATUSES
    why: str  # why it holds / fails / does not conform
    corrected_latex: str | None = None
    corrected: Callable | None = None
    corrected_reference: Callable | None = None  # default: the claim's own reference


class Result(NamedTuple):
    """What :func:`check` observed for one claim."""

    id: str
    expected: str
    observed: str
    max_error: float  # nan when the shapes differ or it does not conform
    shape: tuple | None  # shape of the transcription's value (None: does not conform)
    reference_shape: tuple
    detail: str  # numpy's message when it does not conform, else ""
    corrected_observed: str | None
    corrected_max_error: float | None


# -- helpers used by the transcriptions (they only make numpy strict, never fix a formula)


def _had(A, B):
    """Element-wise (Hadamard) product of two arrays of the same shape.

    numpy would broadcast a (1, 3) against a (3, 1); the Hadamard product of the sources
    is defined only for equal shapes, so unequal shapes raise ``ValueError``.
    """
    A, B = np.asarray(A), np.asarray(B)
    if A.shape != B.shape:
        raise ValueError(f"element-wise product of shapes {A.shape} and {B.shape}: they differ")
    return A * B


def _colon(A, B):
    """Frobenius product ``A : B = sum_ij A_ij B_ij``, defined for equal shapes only."""
    return float(np.sum(_had(A, B)))


def _scalar(v):
    """A 1x1 matrix read as the scalar it is (the sources write both)."""
    v = np.asarray(v, dtype=np.float64)
    if v.size != 1:
        raise ValueError(f"expected a scalar or a 1x1 matrix, got shape {v.shape}")
    return float(v.reshape(()))


def _sigma(z):
    """The sigmoid as source 002 defines it, 1 / (1 + exp(-z)), element-wise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z)))


def _softmax_row(t):
    """softmax as defined: exp(t_j) / sum_l exp(t_l), for a row or a column."""
    e = np.exp(t)
    return e / e.sum()


def _dsigma(z):
    """sigma'(z) element-wise, as a central difference of derivlib's sigmoid (the sources
    write sigma'(a) without giving a formula for it)."""
    return (sigmoid(z + EPS) - sigmoid(z - EPS)) / (2 * EPS)


# -- numerical references ---------------------------------------------------------------


def _grad(f, args, i):
    """derivlib's central-difference gradient of scalar f(*args) w.r.t. args[i]."""
    return numerical_gradient(f, args, EPS, wrt=[i])[i]


def _jacobian(fn, A):
    """Finite-difference Jacobian of the array-valued fn at A: shape fn(A).shape + A.shape,
    entry [out_index, in_index] = d fn(A)[out_index] / d A[in_index]."""
    out = np.asarray(fn(A))
    J = np.empty(out.shape + A.shape)
    for idx in np.ndindex(out.shape):
        J[idx] = _grad(lambda B, idx=idx: np.asarray(fn(B))[idx], (A,), 0)
    return J


def _jvp(fn, A, V):
    """First-order change of fn at A along the direction V (a differential), by central
    differences: (fn(A + eps V) - fn(A - eps V)) / (2 eps)."""
    return (np.asarray(fn(A + EPS * V)) - np.asarray(fn(A - EPS * V))) / (2 * EPS)


# -- the data of each source -------------------------------------------------------------


def _data_000(seed, n=4, p=3, q=2):
    """Source 000: x (n, n_in), W (n_in, n_out), b (1, n_out); the source gives no sizes."""
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, p)), rng.standard_normal((p, q)), rng.standard_normal((1, q))
    d = dict(x=x, W=W, b=b, G=rng.standard_normal((n, q)), zero_b=np.zeros((1, q)))
    d["out"] = _sigma(x @ W + b)  # the question's definition of out
    d["out0"] = _sigma(x @ W)  # the self-answer drops b
    return d


def _data_000_square(seed):
    """Source 000 at n = n_in = n_out = 3: the only sizes at which (out(1-out)) x^T has W's shape."""
    return _data_000(seed, n=3, p=3, q=3)


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
    d["grad_W"] = _grad(L, (W,), 0)  # derivlib's forward, differentiated numerically
    d["dL"] = float(np.sum(d["grad_W"] * d["dW"]))  # the differential dL along dW
    d["df_row"] = _jvp(lambda W_: X @ W_ + b, W, d["dW"])  # (1, 10)
    d["df_col"] = _jvp(lambda W_: W_.T @ d["x"] + d["b_col"], W, d["dW"])  # (10, 1)
    # delta = dL/df at the output, found numerically: as a row (1, 10) and as a column (10, 1)
    d["delta_row"] = _grad(lambda f: _scalar(f @ y), (d["f"],), 0)
    d["delta_col"] = _grad(lambda f: _scalar(f.T @ y), (d["f_col"],), 0)
    return d


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
    D["h"] = _sigma(D["a"])
    D["theta"] = D["h"] @ W2 + b2
    D["yhat"] = _softmax_row(D["theta"])

    def L(x_):  # derivlib's loss as a function of the row x (n = 1: mean = the one row)
        return two_layer.forward(x_, W1, b1, W2, b2, y)

    D["grad_x"] = _grad(L, (x,), 0)  # (1, 5)
    D["dL"] = float(np.sum(D["grad_x"] * D["dx"]))

    # the answer's columns (its y is the prediction, its p the label)
    c = dict(x=x.T, b1=b1.T, b2=b2.T, p=y.T, dx=D["dx"].T)
    stage_a = lambda xc: W1.T @ xc + c["b1"]  # noqa: E731
    stage_h = lambda xc: _sigma(stage_a(xc))  # noqa: E731
    stage_t = lambda xc: W2.T @ stage_h(xc) + c["b2"]  # noqa: E731
    stage_y = lambda xc: _softmax_row(stage_t(xc))  # noqa: E731
    c["a"], c["h"], c["theta"], c["y"] = (s(c["x"]) for s in (stage_a, stage_h, stage_t, stage_y))
    c["H"], c["Y"] = np.diag(c["h"].ravel()), np.diag(c["y"].ravel())
    # the differentials da, dh, dtheta, dy along dx, each found numerically
    for name, stage in (("da", stage_a), ("dh", stage_h), ("dtheta", stage_t), ("dy", stage_y)):
        c[name] = _jvp(stage, c["x"], c["dx"])
    D["col"] = c
    return D


# -- reference functions shared by several claims ---------------------------------------


def _ref_000_grad_sum(d):
    """dL/dW for L = sum of all entries of out (derivlib's forward, finite differences)."""
    return _grad(lambda W: float(sigmoid_layer.forward(d["x"], W, d["b"]).sum()), (d["W"],), 0)


def _ref_000_jac_Z(d):
    """d(xW + b)/dW as a finite-difference array of shape (n, q, p, q)."""
    return _jacobian(lambda W: d["x"] @ W + d["b"], d["W"])


def _ref_000_jac_xW(d):
    return _jacobian(lambda W: d["x"] @ W, d["W"])


def _ref_001_grad_W(d):
    return d["grad_W"]


def _ref_001_dL(d):
    return d["dL"]


def _ref_002_dL(d):
    return d["dL"]


def _ref_002_L(d):
    return two_layer.forward(d["x"], d["W1"], d["b1"], d["W2"], d["b2"], d["y"])


def _ref_002_grad_x(d):
    return d["grad_x"]


def _ref_002_grad_h(d):
    """dL/dh, with L = cross-entropy(h W2 + b2, y) (derivlib's primitive, finite differences)."""
    return _grad(lambda h: float(cross_entropy(h @ d["W2"] + d["b2"], d["y"])[0]), (d["h"],), 0)


def _ref_002_grad_a(d):
    def L(a):
        return float(cross_entropy(sigmoid(a) @ d["W2"] + d["b2"], d["y"])[0])

    return _grad(L, (d["a"],), 0)


_FD = "derivlib.check.numerical_gradient of {}"
_DIFF_002 = (
    "the differential dL along a random dx: derivlib.check.numerical_gradient of "
    "two_layer.forward with respect to x, dotted with dx"
)
_DIFF_001 = (
    "the differential dL along a random dW: derivlib.check.numerical_gradient of "
    "linear_dot.forward with respect to W, dotted with dW"
)
_S000 = "000_7d1027f9498c28b6.txt"
_S001 = "001_b43cd3788509c8e5.txt"
_S002 = "002_88e5b88fedbe3adc.txt"
_SH000 = r"x (n, n_in), W (n_in, n_out), b (1, n_out); checked at n = 4, n_in = 3, n_out = 2"
_SH000A = r"x (n, p), W (p, q), no bias; checked at n = 4, p = 3, q = 2"
_SH001 = "X (1, m), W (m, 10), b (1, 10), y (10, 1); checked at m = 4"
_SH001A = "column convention: x (m, 1) = X^T, W (m, 10), b (10, 1), y (10, 1); m = 4"
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


def _c(**kw):
    return Claim(**kw)


CLAIMS: tuple = (
    # ---------------------------------------------------------------- source 000 (question)
    _c(
        id="000-q-forward",
        source=_S000, where="question",
        latex=r"\text{out}=\sigma(\vec{x} \times W + \vec{b})",
        shapes=_SH000 + "; out (n, n_out)",
        reading="x is a batch of n rows; the row b is added to every row of x W.",
        setup=_data_000,
        transcription=lambda d: _sigma(d["x"] @ d["W"] + d["b"]),
        reference=lambda d: sigmoid_layer.forward(d["x"], d["W"], d["b"]),
        compared_with="derivlib.sigmoid_layer.forward",
        expected="holds",
        why="The definition of the layer; derivlib computes the same (n, n_out) array.",
    ),
    _c(
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
        transcription=lambda d: d["x"].T @ _had(d["out"], 1 - d["out"]),
        reference=_ref_000_grad_sum,
        compared_with=_FD.format("sum(sigmoid_layer.forward(x, W, b)) with respect to W"),
        expected="holds",
        why=(
            "dL = 1 : (out ∘ (1-out) ∘ x dW) = x^T (out ∘ (1-out)) : dW for L = sum of out. "
            "For another loss the element-wise factor G ∘ out ∘ (1-out) replaces out ∘ (1-out)."
        ),
    ),
    _c(
        id="000-q-reversed",
        source=_S000, where="question (the order the asker asks about)",
        latex=r"(\text{out}\cdot(1-\text{out})) \times \vec{x}^T",
        shapes=_SH000,
        reading="The same reading as 000-q-textbook, with the factors in the other order.",
        setup=_data_000,
        transcription=lambda d: _had(d["out"], 1 - d["out"]) @ d["x"].T,
        reference=_ref_000_grad_sum,
        compared_with=_FD.format("sum(sigmoid_layer.forward(x, W, b)) with respect to W"),
        expected="does not conform",
        why=(
            "(n, n_out) times (n_in, n): the inner sizes n_out and n_in differ. Even where they "
            "agree the result is wrong (000-q-reversed-square): the batch index must be summed, "
            "and it is the row index of both x and out, so x^T stands on the left."
        ),
        corrected_latex=r"\vec{x}^T \times (\text{out}\cdot(1-\text{out}))",
        corrected=lambda d: d["x"].T @ _had(d["out"], 1 - d["out"]),
    ),
    _c(
        id="000-q-reversed-square",
        source=_S000, where="question (the same order, at sizes where it conforms)",
        latex=r"(\text{out}\cdot(1-\text{out})) \times \vec{x}^T",
        shapes="x (n, n_in), W (n_in, n_out); checked at n = n_in = n_out = 3, the only sizes "
               "at which the product has the shape of W",
        reading="As 000-q-reversed.",
        setup=_data_000_square,
        transcription=lambda d: _had(d["out"], 1 - d["out"]) @ d["x"].T,
        reference=_ref_000_grad_sum,
        compared_with=_FD.format("sum(sigmoid_layer.forward(x, W, b)) with respect to W"),
        expected="fails",
        why=(
            "It multiplies and has W's shape, but entry (k, l) is sum_i out'(k, i) x(l, i): it "
            "pairs the batch index with an output unit. The true entry is sum_i x(i, k) out'(i, l)."
        ),
        corrected_latex=r"\vec{x}^T \times (\text{out}\cdot(1-\text{out}))",
        corrected=lambda d: d["x"].T @ _had(d["out"], 1 - d["out"]),
    ),
    # ---------------------------------------------------------------- source 000 (comment)
    _c(
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
    _c(
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
    _c(
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
    _c(
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
    _c(
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
        corrected_reference=lambda d: _grad(lambda W: float(np.sum(d["G"] * (d["x"] @ W))), (d["W"],), 0),
    ),
    # ---------------------------------------------------------------- source 001 (question)
    _c(
        id="001-q-forward",
        source=_S001, where="question",
        latex=r"L = f \cdot y;\quad f = X \cdot W + b",
        shapes=_SH001,
        reading="The dots are matrix products: L is a 1x1 matrix, the scalar.",
        setup=_data_001,
        transcription=lambda d: _scalar((d["X"] @ d["W"] + d["b"]) @ d["y"]),
        reference=lambda d: linear_dot.forward(d["X"], d["W"], d["b"], d["y"]),
        compared_with="derivlib.linear_dot.forward",
        expected="holds",
        why="The definition; derivlib computes the same scalar.",
    ),
    _c(
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
        compared_with=_FD.format("linear_dot.forward with respect to W"),
        expected="fails",
        why=(
            "It is (10, m), as the asker observed; the gradient is (m, 10). The entries are right "
            "but transposed: y X is the gradient in the numerator layout. A matrix argument makes "
            "df/dW third-order (001-q-dfdW), and contracting it with dL/df gives X^T y^T."
        ),
        corrected_latex=r"\frac{\partial L}{\partial W} = X^T y^T",
        corrected=lambda d: d["X"].T @ d["y"].T,
    ),
    _c(
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
    _c(
        id="001-q-dfdW",
        source=_S001, where="question",
        latex=r"\frac{\partial f}{\partial W} = X",
        shapes=_SH001,
        reading="Checked literally: the derivative of the 10 entries of f by the m x 10 entries of W.",
        setup=_data_001,
        transcription=lambda d: d["X"],
        reference=lambda d: _jacobian(lambda W: (d["X"] @ W + d["b"]).ravel(), d["W"]),
        compared_with="the finite-difference Jacobian of f = XW + b with respect to W, shape (10, m, 10)",
        expected="fails",
        why=(
            "df/dW is third-order, J[j, k, l] = X[k] [j = l] (the answer says so too). X (1, m) "
            "holds its nonzero values, not the array."
        ),
        corrected_latex=r"\frac{\partial f_j}{\partial W_{kl}} = X_k\,[j = l]",
        corrected=lambda d: np.einsum("k,jl->jkl", d["X"].ravel(), np.eye(d["W"].shape[1])),
    ),
    _c(
        id="001-q-diff-df",
        source=_S001, where="question (the advised differential)",
        latex=r"d(L) = d(f \cdot y) = d(f)\cdot y = d(X \cdot W + b)\,y",
        shapes=_SH001,
        reading=(
            "Only W varies (X, b and y held fixed, as the last step of the chain shows): d(.) is "
            "the first-order change along a random direction dW; df is found numerically."
        ),
        setup=_data_001,
        transcription=lambda d: _scalar(d["df_row"] @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="y does not vary, so d(f y) = df y.",
    ),
    _c(
        id="001-q-diff-dW",
        source=_S001, where="question (the advised differential)",
        latex=r"d(X \cdot W + b)\,y = X \cdot dW \cdot y",
        shapes=_SH001,
        reading="As 001-q-diff-df: dX = 0 and db = 0.",
        setup=_data_001,
        transcription=lambda d: _scalar(d["X"] @ d["dW"] @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="d(XW + b) = X dW when X and b are fixed.",
    ),
    # ---------------------------------------------------------------- source 001 (answer)
    _c(
        id="001-a-forward",
        source=_S001, where="answer",
        latex=r"f = W^Tx + b, \quad \lambda = f^Ty",
        shapes=_SH001A,
        reading="The answer's columns: x = X^T, b = b^T; W and y are the question's.",
        setup=_data_001,
        transcription=lambda d: _scalar((d["W"].T @ d["x"] + d["b_col"]).T @ d["y"]),
        reference=lambda d: linear_dot.forward(d["X"], d["W"], d["b"], d["y"]),
        compared_with="derivlib.linear_dot.forward",
        expected="holds",
        why="The question's L, transposed: (XW + b)^T = W^T X^T + b^T.",
    ),
    _c(
        id="001-a-diff-df",
        source=_S001, where="answer",
        latex=r"d\lambda = df^Ty",
        shapes=_SH001A,
        reading="Only W varies, along a random dW; df (10, 1) is found numerically.",
        setup=_data_001,
        transcription=lambda d: _scalar(d["df_col"].T @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="y is fixed.",
    ),
    _c(
        id="001-a-diff-dWT",
        source=_S001, where="answer",
        latex=r"d\lambda = (dW^Tx)^Ty",
        shapes=_SH001A,
        reading="As 001-a-diff-df.",
        setup=_data_001,
        transcription=lambda d: _scalar((d["dW"].T @ d["x"]).T @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="df = dW^T x when x and b are fixed.",
    ),
    _c(
        id="001-a-diff-xdWy",
        source=_S001, where="answer",
        latex=r"d\lambda = x^TdW\,y",
        shapes=_SH001A,
        reading="As 001-a-diff-df.",
        setup=_data_001,
        transcription=lambda d: _scalar(d["x"].T @ d["dW"] @ d["y"]),
        reference=_ref_001_dL,
        compared_with=_DIFF_001,
        expected="holds",
        why="(dW^T x)^T = x^T dW.",
    ),
    _c(
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
    _c(
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
    _c(
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
        compared_with=_FD.format("linear_dot.forward with respect to W") + ", transposed",
        expected="holds",
        why="Read off dλ = Tr(y x^T dW): the factor in front of dW is the numerator-layout derivative.",
    ),
    _c(
        id="001-a-grad-denominator",
        source=_S001, where="answer",
        latex=r"\frac{\partial\lambda}{\partial W} = xy^T \quad \text{(the other layout)}",
        shapes=_SH001A,
        reading="The denominator layout, the shape of W (m, 10): the one the asker expects.",
        setup=_data_001,
        transcription=lambda d: d["x"] @ d["y"].T,
        reference=_ref_001_grad_W,
        compared_with=_FD.format("linear_dot.forward with respect to W"),
        expected="holds",
        why="dλ = Tr((x y^T)^T dW) = x y^T : dW.",
    ),
    _c(
        id="001-a-third-order",
        source=_S001, where="answer",
        latex=r"\frac{\partial f}{\partial W} \neq X \;\text{: a 3rd order tensor}",
        shapes=_SH001A,
        reading="The statement is checked as: the derivative of f (10 entries) by W (m x 10) has 3 axes.",
        setup=_data_001,
        transcription=lambda d: 3,
        reference=lambda d: _jacobian(lambda W: (W.T @ d["x"] + d["b_col"]).ravel(), d["W"]).ndim,
        compared_with="the number of axes of the finite-difference Jacobian of f with respect to W",
        expected="holds",
        why="Its shape is (10, m, 10); X has m entries. (001-q-dfdW shows it is not X.)",
    ),
    # ---------------------------------------------------------------- source 001 (comments)
    _c(
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
    _c(
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
        compared_with=_FD.format("linear_dot.forward with respect to W") + ", transposed (the gradient for W^T)",
        expected="holds",
        why="The gradient for the code's weight matrix W^T is delta x^T, the transpose of x delta^T.",
    ),
    _c(
        id="001-c-XT-delta",
        source=_S001, where="comment by the asker",
        latex=r"\frac{\partial L}{\partial W} = X^T \cdot \delta",
        shapes=_SH001 + "; delta = dL/df (1, 10)",
        reading="The question's rows: X (1, m), delta = dL/df in f's shape (1, 10), found numerically.",
        setup=_data_001,
        transcription=lambda d: d["X"].T @ d["delta_row"],
        reference=_ref_001_grad_W,
        compared_with=_FD.format("linear_dot.forward with respect to W"),
        expected="holds",
        why="dL = delta : X dW = X^T delta : dW. It is the chain rule, contracted over f's entries.",
    ),
    # ---------------------------------------------------------------- source 002 (question)
    _c(
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
    _c(
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
    _c(
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
            _jacobian(lambda yh: -np.sum(d["y"] * np.log(yh)), d["yhat"]).reshape(1, -1)
            @ _jacobian(_softmax_row, d["theta"]).reshape(d["theta"].size, -1)
            @ _jacobian(lambda h: h @ d["W2"] + d["b2"], d["h"]).reshape(d["theta"].size, -1)
            @ _jacobian(_sigma, d["a"]).reshape(d["a"].size, -1)
            @ _jacobian(lambda x: x @ d["W1"] + d["b1"], d["x"]).reshape(d["a"].size, -1)
        ),
        reference=_ref_002_grad_x,
        compared_with=_FD.format("two_layer.forward with respect to x"),
        expected="holds",
        why="The chain rule for vectors: Jacobians multiply in the order of composition.",
    ),
    _c(
        id="002-q-result",
        source=_S002, where="question (the result the asker was shown)",
        latex=r"((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T})\circ\sigma'(a)\textbf{W}_{1}",
        shapes=_SH002,
        reading=(
            "Grouped as ((ŷ - y) W2^T ∘ σ'(a)) W1; the other grouping, (ŷ - y) W2^T ∘ (σ'(a) W1), "
            "fails to conform at the same product. σ'(a) is the derivative of the sigmoid at each a_i."
        ),
        setup=_data_002,
        transcription=lambda d: _had((d["yhat"] - d["y"]) @ d["W2"].T, _dsigma(d["a"])) @ d["W1"],
        reference=_ref_002_grad_x,
        compared_with=_FD.format("two_layer.forward with respect to x"),
        expected="does not conform",
        why=(
            "The row (ŷ - y) W2^T ∘ σ'(a) is 1x3 and W1 is 5x3: 3 columns cannot meet 5 rows. "
            "da = dx W1, so dL = δ1 : dx W1 = δ1 W1^T : dx: W1 enters transposed, for the same "
            "reason as W2 (not to make shapes fit)."
        ),
        corrected_latex=r"\big(((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T})\circ\sigma'(a)\big)\textbf{W}_{1}^T",
        corrected=lambda d: _had((d["yhat"] - d["y"]) @ d["W2"].T, _dsigma(d["a"])) @ d["W1"].T,
    ),
    _c(
        id="002-q-transpose",
        source=_S002, where="question (point 1)",
        latex=r"\frac{\partial L}{\partial h} = (\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}",
        shapes=_SH002,
        reading="The factor of the result that question 1 is about, read as dL/dh (1x3).",
        setup=_data_002,
        transcription=lambda d: (d["yhat"] - d["y"]) @ d["W2"].T,
        reference=_ref_002_grad_h,
        compared_with=_FD.format("cross_entropy(h W2 + b2, y) with respect to h"),
        expected="holds",
        why="dθ = dh W2, so (ŷ - y) : dh W2 = (ŷ - y) W2^T : dh. The transpose comes from the algebra.",
    ),
    _c(
        id="002-q-untransposed",
        source=_S002, where="question (point 1: the product without the transpose)",
        latex=r"(\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}",
        shapes=_SH002,
        reading="The product question 1 contrasts with the transposed one, read as dL/dh.",
        setup=_data_002,
        transcription=lambda d: (d["yhat"] - d["y"]) @ d["W2"],
        reference=_ref_002_grad_h,
        compared_with=_FD.format("cross_entropy(h W2 + b2, y) with respect to h"),
        expected="does not conform",
        why="(1x5) times (3x5). W2^T is not chosen to make the shapes fit: the differential gives it.",
        corrected_latex=r"(\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}",
        corrected=lambda d: (d["yhat"] - d["y"]) @ d["W2"].T,
    ),
    _c(
        id="002-q-matmul",
        source=_S002, where="question (point 2: a matrix product in place of ∘)",
        latex=r"\big((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}\big)\,\sigma'(a)",
        shapes=_SH002,
        reading=(
            "Point 2 asks why σ' is not applied to each a_i and the result matrix-multiplied with "
            "the row on its left; read as dL/da (1x3)."
        ),
        setup=_data_002,
        transcription=lambda d: ((d["yhat"] - d["y"]) @ d["W2"].T) @ _dsigma(d["a"]),
        reference=_ref_002_grad_a,
        compared_with=_FD.format("cross_entropy(sigmoid(a) W2 + b2, y) with respect to a"),
        expected="does not conform",
        why=(
            "(1x3) times (1x3). An element-wise map has a diagonal Jacobian Diag(σ'(a)), and a row "
            "times a diagonal matrix is the element-wise product."
        ),
        corrected_latex=r"\big((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}\big)\,\mathrm{Diag}(\sigma'(a)) = \big((\hat{\textbf{y}}-\textbf{y}) \textbf{W}_{2}^{T}\big)\circ\sigma'(a)",
        corrected=lambda d: ((d["yhat"] - d["y"]) @ d["W2"].T) @ np.diag(_dsigma(d["a"]).ravel()),
    ),
    # ---------------------------------------------------------------- source 002 (comment)
    _c(
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
        reference=lambda d: _grad(lambda t: float(cross_entropy(t, d["y"])[0]), (d["theta"],), 0),
        compared_with=_FD.format("derivlib.primitives.cross_entropy with respect to θ"),
        expected="holds",
        why="L = -y θ^T + sum(y) log sum_l exp(θ_l), whose gradient is ŷ sum(y) - y: ŷ - y when sum(y) = 1.",
    ),
    # ---------------------------------------------------------------- source 002 (answer)
    _c(
        id="002-a-forward",
        source=_S002, where="answer",
        latex=(
            r"a = W_1^Tx + b_1,\; h = \sigma(a),\; \theta = W_2^Th + b_2,\; "
            r"y = {\rm softmax}(\theta),\; L = -p:\log y,\; (p,y) \doteq (y,{\hat y})"
        ),
        shapes=_SH002A,
        reading=_READ_002A,
        setup=_data_002,
        transcription=lambda d: -_colon(d["col"]["p"], np.log(d["col"]["y"])),
        reference=_ref_002_L,
        compared_with="derivlib.two_layer.forward",
        expected="holds",
        why="The question's network, transposed, with the answer's names.",
    ),
    _c(
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
    _c(
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
    _c(
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
    _c(
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
    _c(
        id="002-a-dL-1",
        source=_S002, where="answer (line 1 of the differential chain)",
        latex=r"dL = -p:Y^{-1}dy",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: -_colon(d["col"]["p"], np.linalg.inv(d["col"]["Y"]) @ d["col"]["dy"]),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="d log y = Y^{-1} dy, element-wise 1/y.",
    ),
    _c(
        id="002-a-dL-2",
        source=_S002, where="answer (line 2)",
        latex=r"dL = -p:Y^{-1}(Y-yy^T)d\theta",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: -_colon(
            d["col"]["p"],
            np.linalg.inv(d["col"]["Y"]) @ (d["col"]["Y"] - d["col"]["y"] @ d["col"]["y"].T) @ d["col"]["dtheta"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Substitutes dy.",
    ),
    _c(
        id="002-a-dL-3",
        source=_S002, where="answer (line 3)",
        latex=r"dL = -p:(I-1y^T)d\theta",
        shapes=_SH002A,
        reading=_READ_002L + " 1 is the column of ones.",
        setup=_data_002,
        transcription=lambda d: -_colon(
            d["col"]["p"],
            (np.eye(d["col"]["y"].shape[0]) - np.ones_like(d["col"]["y"]) @ d["col"]["y"].T) @ d["col"]["dtheta"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Y^{-1} y = 1.",
    ),
    _c(
        id="002-a-dL-4",
        source=_S002, where="answer (line 4)",
        latex=r"dL = (y1^T-I)p:d\theta",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: _colon(
            (d["col"]["y"] @ np.ones_like(d["col"]["y"]).T - np.eye(d["col"]["y"].shape[0])) @ d["col"]["p"],
            d["col"]["dtheta"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="A : BC = B^T A : C, with B = -(I - 1 y^T).",
    ),
    _c(
        id="002-a-dL-5",
        source=_S002, where="answer (line 5)",
        latex=r"dL = (y-p):W_2^Tdh",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: _colon(d["col"]["y"] - d["col"]["p"], d["W2"].T @ d["col"]["dh"]),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="(y 1^T - I) p = y (1^T p) - p = y - p because the label sums to 1; dθ = W2^T dh.",
    ),
    _c(
        id="002-a-dL-6",
        source=_S002, where="answer (line 6)",
        latex=r"dL = W_2(y-p):(H-H^2)da",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: _colon(
            d["W2"] @ (d["col"]["y"] - d["col"]["p"]), (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["col"]["da"]
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Moves W2^T across the colon and substitutes dh.",
    ),
    _c(
        id="002-a-dL-7",
        source=_S002, where="answer (line 7)",
        latex=r"dL = (H-H^2)W_2(y-p):W_1^Tdx",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: _colon(
            (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["W2"] @ (d["col"]["y"] - d["col"]["p"]),
            d["W1"].T @ d["col"]["dx"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="H - H² is symmetric; da = W1^T dx.",
    ),
    _c(
        id="002-a-dL-8",
        source=_S002, where="answer (line 8)",
        latex=r"dL = W_1(H-H^2)W_2(y-p):dx",
        shapes=_SH002A,
        reading=_READ_002L,
        setup=_data_002,
        transcription=lambda d: _colon(
            d["W1"] @ (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["W2"] @ (d["col"]["y"] - d["col"]["p"]),
            d["col"]["dx"],
        ),
        reference=_ref_002_dL,
        compared_with=_DIFF_002,
        expected="holds",
        why="Moves W1^T across the colon.",
    ),
    _c(
        id="002-a-grad",
        source=_S002, where="answer (the result)",
        latex=r"\frac{\partial L}{\partial x} = W_1(H-H^2)W_2(y-p)",
        shapes=_SH002A,
        reading=_READ_002A + " The gradient of the column x is a column (5, 1).",
        setup=_data_002,
        transcription=lambda d: d["W1"] @ (d["col"]["H"] - d["col"]["H"] @ d["col"]["H"]) @ d["W2"]
        @ (d["col"]["y"] - d["col"]["p"]),
        reference=lambda d: d["grad_x"].T,
        compared_with=_FD.format("two_layer.forward with respect to x") + ", as a column",
        expected="holds",
        why="Read off dL = G : dx.",
    ),
    _c(
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
    _c(
        id="002-a-row-form",
        source=_S002, where="answer (the result cast back into rows)",
        latex=r"\frac{\partial L}{\partial x} = \Big(({\hat y}-y)W_2^T\Big)\circ\Big((h-h\circ h)W_1^T\Big)",
        shapes=_SH002 + " (the question's rows and names)",
        reading="As written: both factors are formed, then multiplied element-wise.",
        setup=_data_002,
        transcription=lambda d: _had((d["yhat"] - d["y"]) @ d["W2"].T, (d["h"] - _had(d["h"], d["h"])) @ d["W1"].T),
        reference=_ref_002_grad_x,
        compared_with=_FD.format("two_layer.forward with respect to x"),
        expected="does not conform",
        why=(
            "The left factor is 1x3 (hidden units) and the right one 1x5 (inputs): an element-wise "
            "product needs equal shapes. W1^T must act after the element-wise product, as in the "
            "column form W1 (H - H²) W2 (y - p), whose transpose this should be."
        ),
        corrected_latex=r"\frac{\partial L}{\partial x} = \Big(\big(({\hat y}-y)W_2^T\big)\circ(h-h\circ h)\Big)W_1^T",
        corrected=lambda d: _had((d["yhat"] - d["y"]) @ d["W2"].T, d["h"] - _had(d["h"], d["h"])) @ d["W1"].T,
    ),
)


def get(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` names the known ids otherwise."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise KeyError(f"no claim {claim_id!r}; known: {', '.join(c.id for c in CLAIMS)}")


def _evaluate(fn, data, ref):
    """(status, max_error, shape, detail) of fn(data) against the reference array."""
    try:
        value = fn(data)
    except ValueError as err:
        msg = str(err)
        if "matmul" in msg or "element-wise product" in msg or "not aligned" in msg:
            return "does not conform", float("nan"), None, msg
        raise
    value = np.asarray(value, dtype=np.float64)
    if value.size == 1 and ref.size == 1:
        value, ref = value.reshape(()), ref.reshape(())
    if value.shape != ref.shape:
        return "fails", float("nan"), value.shape, ""
    err = np.abs(value - ref)
    ok = bool(np.all(err <= ATOL + RTOL * np.abs(ref)))
    return ("holds" if ok else "fails"), float(err.max(initial=0.0)), value.shape, ""


def check(claim: Claim, seed: int = 0) -> Result:
    """Evaluate one claim (and its correction) on the data of ``claim.setup(seed)``.

    Returns
    -------
    Result
        The observed status, the largest absolute error against the reference (``nan``
        when the shapes differ or it does not conform), and the same for the correction.

    Examples
    --------
    >>> from derivlib import claims
    >>> r = claims.check(claims.get("001-q-chain"))
    >>> r.expected == r.observed == "fails", r.shape, r.reference_shape
    (True, (10, 4), (4, 10))
    >>> r.corrected_observed
    'holds'
    """
    data = claim.setup(seed)
    ref = np.asarray(claim.reference(data), dtype=np.float64)
    status, err, shape, detail = _evaluate(claim.transcription, data, ref)
    c_status = c_err = None
    if claim.corrected is not None:
        c_ref = ref if claim.corrected_reference is None else np.asarray(claim.corrected_reference(data), dtype=np.float64)
        c_status, c_err, _, _ = _evaluate(claim.corrected, data, c_ref)
    return Result(claim.id, claim.expected, status, err, shape, ref.shape, detail, c_status, c_err)


def check_all(seed: int = 0) -> list:
    """:func:`check` every claim; one :class:`Result` per claim, in ledger order."""
    return [check(c, seed) for c in CLAIMS]


def summary(results) -> dict:
    """Counts of observed statuses: ``{"claims": N, "holds": .., "fails": .., "does not conform": ..}``."""
    out = {"claims": len(results)}
    for s in STATUSES:
        out[s] = sum(r.observed == s for r in results)
    return out
