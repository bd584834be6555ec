"""Networks the engine derives on the site and in the tests: expression, shapes, wrt.

The first three are the site's hand derivations (sigmoid layer, linear map then dot
product, two-layer network with a mean cross-entropy); the rest is the gallery of
"Derive your own". Pure data (standard library only), shared by the tests, the pages,
the benchmark and the in-browser playground.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Example", "HAND", "GALLERY", "EXAMPLES"]


class Example(NamedTuple):
    key: str
    title: str
    expr: str
    shapes: dict
    wrt: tuple


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
]

EXAMPLES = {e.key: e for e in HAND + GALLERY}
