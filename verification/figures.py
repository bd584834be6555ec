"""Figure helpers the pages share: matrices drawn to their shape with matplotlib.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from verification.figures import draw_grid
>>> fig, ax = plt.subplots()
>>> draw_grid(ax, 0, 0, 2, 3, "$A$ (2×3)", "#9ecae1")
3
>>> plt.close(fig)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

__all__ = ["draw_grid", "show_values"]

HIGHLIGHT = "#d62728"


def draw_grid(ax, top, left, rows, cols, name, color, highlight=None, label="above"):
    """A rows x cols grid of unit cells, top-left corner at (left, top); y grows downward.

    ``highlight`` lists (row, col, height, width) blocks drawn in red; ``label`` puts the
    name "above" or "below" the grid. Returns the grid's right edge, ``left + cols``.
    """
    ax.add_patch(Rectangle((left, top), cols, rows, facecolor=color, edgecolor="black", lw=1.5))
    for r in range(1, rows):
        ax.plot([left, left + cols], [top + r, top + r], color="white", lw=0.8)
    for c in range(1, cols):
        ax.plot([left + c, left + c], [top, top + rows], color="white", lw=0.8)
    for r0, c0, h, w in highlight or []:
        ax.add_patch(Rectangle((left + c0, top + r0), w, h, facecolor=HIGHLIGHT, alpha=0.75,
                               edgecolor="black", lw=1.2))
    if label == "above":
        ax.text(left + cols / 2, top - 0.35, name, ha="center", va="bottom", fontsize=13)
    else:
        ax.text(left + cols / 2, top + rows + 0.3, name, ha="center", va="top", fontsize=12)
    return left + cols


def show_values(ax, M, left, top, name, lim, where="above"):
    """Draw the matrix M with its top-left corner at (left, top), each entry coloured by value."""
    rows, cols = M.shape
    ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(left, left + cols, top + rows, top))
    ax.add_patch(plt.Rectangle((left, top), cols, rows, fill=False, edgecolor="black", lw=1.5))
    if where == "left":
        ax.text(left - 0.4, top + rows / 2, name, ha="right", va="center", fontsize=12)
    else:
        ax.text(left + cols / 2, top - 0.4, name, ha="center", va="bottom", fontsize=12)
