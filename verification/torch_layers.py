"""PyTorch's own layers written in the engine's variables: where a torch weight goes in an
expression, so that a test or a benchmark can compare derivlib with ``torch.nn`` directly.

An LSTM cell in derivlib's language is

``A = X @ Wx + H @ Wh + b; i, f, o, g = split(A, 4); C2 = sigmoid(f) * C + sigmoid(i) * tanh(g);
H2 = sigmoid(o) * tanh(C2)``

while ``torch.nn.LSTMCell`` stacks its gates i, f, g, o in the rows of ``weight_ih`` (4h×d),
``weight_hh`` (4h×h), ``bias_ih`` and ``bias_hh`` (4h). So ``Wx = [W_ii W_if W_io W_ig]ᵀ``
(d×4h), ``Wh`` likewise from ``weight_hh``, and ``b = bias_ih + bias_hh`` in the same block
order; the gradient of ``b`` is the gradient of either torch bias.

Examples
--------
>>> import numpy as np
>>> w = np.arange(8.0)[:, None]  # 4 gate blocks of h = 2 rows, torch's order i, f, g, o
>>> lstm_blocks(w, 2).tolist()  # one row, the engine's order i, f, o, g
[[0.0, 1.0, 2.0, 3.0, 6.0, 7.0, 4.0, 5.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["LSTM_ORDER", "lstm_blocks", "lstm_cell_weights", "lstm_cell_gradients"]

LSTM_ORDER = (0, 1, 3, 2)  # the engine's gate block j is torch's block LSTM_ORDER[j]


def lstm_blocks(w, hidden):
    """torch's gate-stacked rows (4h, ·) as the engine's gate columns (·, 4h).

    Parameters
    ----------
    w : numpy.ndarray
        A torch LSTM weight (4h×d, 4h×h) or a bias as a column (4h×1), gates i, f, g, o.
    hidden : int
        h, the rows of one gate block.

    Returns
    -------
    numpy.ndarray
        ``[w_i w_f w_o w_g]ᵀ``, the blocks transposed and in the order i, f, o, g.
    """
    return np.concatenate([w[k * hidden:(k + 1) * hidden].T for k in LSTM_ORDER], axis=1)


def lstm_cell_weights(cell):
    """``Wx``, ``Wh`` and ``b`` of the engine's LSTM expression from a ``torch.nn.LSTMCell``.

    Parameters
    ----------
    cell : torch.nn.LSTMCell
        A cell with both biases (float64 for exact comparisons).

    Returns
    -------
    dict
        ``{"Wx": d×4h, "Wh": h×4h, "b": 1×4h}`` numpy arrays.
    """
    h = cell.hidden_size
    return {"Wx": lstm_blocks(cell.weight_ih.detach().numpy(), h),
            "Wh": lstm_blocks(cell.weight_hh.detach().numpy(), h),
            "b": lstm_blocks((cell.bias_ih + cell.bias_hh).detach().numpy()[:, None], h)}


def lstm_cell_gradients(cell):
    """The gradients torch accumulated in ``cell``'s weights, as the engine's ``Wx``, ``Wh``, ``b``.

    Parameters
    ----------
    cell : torch.nn.LSTMCell
        A cell after a ``backward`` call.

    Returns
    -------
    dict
        ``{"Wx": d×4h, "Wh": h×4h, "b": 1×4h}`` numpy arrays.
    """
    h = cell.hidden_size
    return {"Wx": lstm_blocks(cell.weight_ih.grad.numpy(), h), "Wh": lstm_blocks(cell.weight_hh.grad.numpy(), h),
            "b": lstm_blocks(cell.bias_ih.grad.numpy()[:, None], h)}
