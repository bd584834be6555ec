"""Networks the engine derives on the site and in the tests: expression, shapes, wrt.

The first three are the site's hand derivations (sigmoid layer, linear map then dot
product, two-layer network with a mean cross-entropy); the rest is the gallery of
"Derive your own". An example with integer labels or word ids declares them in
``indices`` (``{"y": ("n", "k")}``, passed to ``derive(..., indices=)``). Pure data (standard library only), shared by the tests, the pages,
the benchmark and the in-browser playground.

``LOOPS`` are programs with a ``for`` loop (sequences declared with three entries), which
``derive`` gives as a :class:`derivlib.engine.loops.LoopDerivation`: a recurrence, checked
unrolled (``check``, or ``check_pure`` in pure Python). They are not in ``EXAMPLES``,
whose entries are ordinary derivations.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Example", "HAND", "GALLERY", "EXAMPLES", "LOOPS"]


class Example(NamedTuple):
    key: str
    title: str
    expr: str
    shapes: dict
    wrt: tuple
    #: index vectors (class labels, word ids): ``{"y": ("n", "k")}``, as ``derive(..., indices=)``
    indices: dict = {}


HAND = [
    Example("sigmoid_layer", "Sigmoid layer", "sum(G * sigmoid(X @ W + b))",
            {"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q"), "G": ("n", "q")}, ("W", "b", "X")),
    Example("linear_dot", "Linear map then dot product", "sum((x @ W + b) @ y)",
            {"x": ("n", "m"), "W": ("m", "c"), "b": (1, "c"), "y": ("c", 1)}, ("x", "W", "b", "y")),
    Example("two_layer", "Two-layer network, mean cross-entropy",
            "A = X @ W1 + b1; H = sigmoid(A); Theta = H @ W2 + b2; -sum(Y * log_softmax(Theta)) / n",
            {"X": ("n", "d"), "W1": ("d", "h"), "b1": (1, "h"), "W2": ("h", "k"), "b2": (1, "k"), "Y": ("n", "k")},
            ("X", "W1", "b1", "W2", "b2")),
]

GALLERY = [
    Example("tanh_layer", "tanh layer", "sum(G * tanh(X @ W + b))",
            {"X": ("n", "p"), "W": ("p", "q"), "b": (1, "q"), "G": ("n", "q")}, ("W", "b", "X")),
    Example("relu_three_layer", "Three-layer ReLU network, softmax cross-entropy",
            "H1 = relu(X @ W1 + b1); H2 = relu(H1 @ W2 + b2); -sum(Y * log_softmax(H2 @ W3 + b3)) / n",
            {"X": ("n", "d"), "W1": ("d", "h"), "b1": (1, "h"), "W2": ("h", "h"), "b2": (1, "h"),
             "W3": ("h", "k"), "b3": (1, "k"), "Y": ("n", "k")},
            ("W1", "b1", "W2", "b2", "W3", "b3")),
    Example("linear_regression", "Linear regression, mean squared error", "mean((X @ w + b - y) ** 2)",
            {"X": ("n", "p"), "w": ("p", 1), "b": (1, 1), "y": ("n", 1)}, ("w", "b")),
    Example("logistic_regression", "Logistic regression, binary cross-entropy from log and sigmoid",
            "P = sigmoid(X @ w + b); -mean(y * log(P) + (1 - y) * log(1 - P))",
            {"X": ("n", "p"), "w": ("p", 1), "b": (1, 1), "y": ("n", 1)}, ("w", "b")),
    Example("residual_block", "Residual block", "sum(G * (X + relu(X @ W1) @ W2))",
            {"X": ("n", "d"), "W1": ("d", "h"), "W2": ("h", "d"), "G": ("n", "d")}, ("X", "W1", "W2")),
    Example("tied_autoencoder", "Autoencoder with tied weights, squared error",
            "Xhat = sigmoid(X @ W) @ W.T; sum((Xhat - X) ** 2) / 2",
            {"X": ("n", "p"), "W": ("p", "h")}, ("W",)),
    Example("layer_norm", "Layer normalisation over rows",
            "C = X - mean(X, axis=1); V = mean(C ** 2, axis=1); Y = C / sqrt(V + 0.00001); "
            "sum(G * (Y * gamma + beta))",
            {"X": ("n", "q"), "gamma": (1, "q"), "beta": (1, "q"), "G": ("n", "q")}, ("X", "gamma", "beta")),
    Example("attention", "One softmax attention head", "sum(G * (softmax(Q @ K.T / c) @ V))",
            {"Q": ("n", "d"), "K": ("m", "d"), "V": ("m", "e"), "c": (), "G": ("n", "e")}, ("Q", "K", "V")),
    Example("batch_norm", "Batch normalization",
            "C = X - mean(X, axis=0); V = mean(C ** 2, axis=0); Xhat = C / sqrt(V + 0.00001); "
            "sum(G * (gamma * Xhat + beta))",
            {"X": ("n", "d"), "gamma": (1, "d"), "beta": (1, "d"), "G": ("n", "d")}, ("X", "gamma", "beta")),
    Example("dropout", "Dropout with a fixed mask", "H = relu(X @ W1 + b1); D = H * M / p; sum(G * (D @ W2))",
            {"X": ("n", "d"), "W1": ("d", "h"), "b1": (1, "h"), "M": ("n", "h"), "p": (), "W2": ("h", "k"),
             "G": ("n", "k")}, ("W1", "b1", "W2", "X")),
    Example("lstm_cell", "LSTM cell",
            "A = X @ Wx + H @ Wh + b; i, f, o, g = split(A, 4); C2 = sigmoid(f) * C + sigmoid(i) * tanh(g); "
            "H2 = sigmoid(o) * tanh(C2); sum(GH * H2) + sum(GC * C2)",
            {"X": ("n", "d"), "H": ("n", "h"), "C": ("n", "h"), "Wx": ("d", "4*h"), "Wh": ("h", "4*h"),
             "b": (1, "4*h"), "GH": ("n", "h"), "GC": ("n", "h")}, ("Wx", "Wh", "b", "X", "H", "C")),
    Example("gru_cell", "GRU cell",
            "A = X @ Wx + bx; B = H @ Wh + bh; ar, az, an = split(A, 3); br, bz, bn = split(B, 3); "
            "r = sigmoid(ar + br); z = sigmoid(az + bz); Hhat = tanh(an + r * bn); H2 = (1 - z) * Hhat + z * H; "
            "sum(G * H2)",
            {"X": ("n", "d"), "H": ("n", "h"), "Wx": ("d", "3*h"), "Wh": ("h", "3*h"), "bx": (1, "3*h"),
             "bh": (1, "3*h"), "G": ("n", "h")}, ("Wx", "Wh", "bx", "bh", "X", "H")),
    Example("conv_layer", "Convolution layer: 4×4×3 images, 4 filters 3×3, pad 1",
            "sum(G * group(im2col(X, image=(4, 4, 3), kernel=(3, 3), pad=1) @ K + b, 16))",
            {"X": ("n", 48), "K": (27, 4), "b": (1, 4), "G": ("n", 64)}, ("K", "b", "X")),
    Example("max_pool", "2×2 max-pool, stride 2, of 4×4×4 images",
            "sum(G * group(max(ungroup(im2col(A, image=(4, 4, 4), kernel=(2, 2), stride=2), 4), axis=1), 16))",
            {"A": ("n", 64), "G": ("n", 16)}, ("A",)),
    Example("three_layer_convnet", "Three-layer convnet (CS231n): conv, 2×2 max-pool, ReLU, affine, ReLU, affine, "
            "softmax cross-entropy",
            "A = group(im2col(X, image=(4, 4, 3), kernel=(3, 3), pad=1) @ K + b, 16); "
            "M = relu(group(max(ungroup(im2col(A, image=(4, 4, 4), kernel=(2, 2), stride=2), 4), axis=1), 16)); "
            "H = relu(M @ W1 + b1); -sum(Y * log_softmax(H @ W2 + b2)) / n",
            {"X": ("n", 48), "K": (27, 4), "b": (1, 4), "W1": (16, "h"), "b1": (1, "h"), "W2": ("h", "k"),
             "b2": (1, "k"), "Y": ("n", "k")},
            ("K", "b", "W1", "b1", "W2", "b2")),
    Example("embedding", "Embedding layer, then a linear layer",
            "H = take(E, y); sum(G * (H @ W + b))",
            {"E": ("k", "d"), "W": ("d", "q"), "b": (1, "q"), "G": ("n", "q")}, ("E", "W", "b"),
            {"y": ("n", "k")}),
    Example("softmax_labels", "Softmax cross-entropy with integer labels",
            "-mean(pick(log_softmax(X @ W + b), y))",
            {"X": ("n", "p"), "W": ("p", "k"), "b": (1, "k")}, ("W", "b", "X"), {"y": ("n", "k")}),
    Example("svm_labels", "Multiclass SVM loss (CS231n)",
            "S = X @ W + b; sum(relu(S - pick(S, y) + 1) * (1 - onehot(y))) / n",
            {"X": ("n", "p"), "W": ("p", "k"), "b": (1, "k")}, ("W", "b", "X"), {"y": ("n", "k")}),
]

EXAMPLES = {e.key: e for e in HAND + GALLERY}

LOOPS = [
    Example("rnn_every_step", "Vanilla RNN, softmax cross-entropy at every step",
            "H = H0\nL = 0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H @ Wh + b)\n"
            "    L = L - sum(Y[t] * log_softmax(H @ V + c)) / n\nL",
            {"X": ("T", "n", "d"), "Y": ("T", "n", "k"), "H0": ("n", "h"), "Wx": ("d", "h"), "Wh": ("h", "h"),
             "b": (1, "h"), "V": ("h", "k"), "c": (1, "k")}, ("X", "H0", "Wx", "Wh", "b", "V", "c")),
    Example("rnn_last_step", "Vanilla RNN read out at the last step",
            "H = H0\nfor t in range(T):\n    H = tanh(X[t] @ Wx + H @ Wh + b)\n"
            "-sum(Y * log_softmax(H @ V + c)) / n",
            {"X": ("T", "n", "d"), "Y": ("n", "k"), "H0": ("n", "h"), "Wx": ("d", "h"), "Wh": ("h", "h"),
             "b": (1, "h"), "V": ("h", "k"), "c": (1, "k")}, ("X", "H0", "Wx", "Wh", "b", "V", "c")),
    Example("lstm_over_time", "LSTM over time",
            "H = H0\nC = C0\nL = 0\nfor t in range(T):\n    A = X[t] @ Wx + H @ Wh + b\n"
            "    i, f, o, g = split(A, 4)\n    C = sigmoid(f) * C + sigmoid(i) * tanh(g)\n"
            "    H = sigmoid(o) * tanh(C)\n    L = L + sum(G[t] * H)\nL",
            {"X": ("T", "n", "d"), "G": ("T", "n", "h"), "H0": ("n", "h"), "C0": ("n", "h"),
             "Wx": ("d", "4*h"), "Wh": ("h", "4*h"), "b": (1, "4*h")}, ("X", "H0", "C0", "Wx", "Wh", "b")),
    Example("sigmoid_stack", "A stack of D sigmoid layers",
            "H = X\nfor l in range(D):\n    H = sigmoid(H @ W[l] + b[l])\nsum(G * H)",
            {"X": ("n", "h"), "W": ("D", "h", "h"), "b": ("D", 1, "h"), "G": ("n", "h")}, ("X", "W", "b")),
]
