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

__all__ = ["draw_grid", "show_values", "transpose_figure", "norms_over_time_figure"]

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


def transpose_figure(n=6, p=4, q=3, k=1, l=2):
    """The sigmoid page's figure: :math:`X^T\\Delta` laid out so that row ``k`` of :math:`X^T`
    meets column ``l`` of :math:`\\Delta` in entry ``(k, l)`` of the ``p×q`` result (top), and the
    reversed product :math:`\\Delta X^T`, which does not conform when ``q != p`` (bottom).
    Returns the figure.
    """
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 14))

    ax = axes[0]
    gap = 1.5
    draw_grid(
        ax,
        0,
        n + gap,
        n,
        q,
        rf"$\Delta$  ({n}×{q}) = n×q",
        "#9ecae1",
        highlight=[(0, l, n, 1)],
    )
    draw_grid(
        ax,
        n + gap,
        0,
        p,
        n,
        rf"$X^T$  ({p}×{n}) = p×n",
        "#a1d99b",
        highlight=[(k, 0, 1, n)],
        label="below",
    )
    draw_grid(ax, n + gap, n + gap, p, q, "", "#fdd0a2", highlight=[(k, l, 1, 1)])
    ax.text(
        n + gap + q + 0.3,
        n + gap + p / 2,
        f"$X^T\\Delta$\n({p}×{q})\n= shape\nof W",
        ha="left",
        va="center",
        fontsize=13,
    )
    ax.annotate(
        "",
        xy=(n + gap - 0.1, n + gap + k + 0.5),
        xytext=(n, n + gap + k + 0.5),
        arrowprops=dict(arrowstyle="->", lw=1.5),
    )
    ax.annotate(
        "",
        xy=(n + gap + l + 0.5, n + gap - 0.1),
        xytext=(n + gap + l + 0.5, n),
        arrowprops=dict(arrowstyle="->", lw=1.5),
    )
    ax.text(
        0,
        n + gap + p + 1.5,
        "row k of $X^T$ (input k of every sample) meets\n"
        "column l of $\\Delta$ (error at output l of every sample):\n"
        "$\\sum_{i=1}^{n} X_{ik}\\,\\Delta_{il}$, the batch index i is summed",
        va="top",
        fontsize=11,
    )
    ax.set_title("right: $X^T\\Delta$, the batch index meets itself", fontsize=13)

    ax = axes[1]
    draw_grid(
        ax, n + gap, 0, n, q, rf"$\Delta$  ({n}×{q})", "#9ecae1", label="below"
    )
    draw_grid(ax, 0, q + gap, p, n, rf"$X^T$  ({p}×{n})", "#a1d99b")
    ax.text(
        q + gap + n / 2,
        n + gap + n / 2,
        f"$\\Delta X^T$ needs\nq = p\n({q} ≠ {p}):\ndoes not conform",
        ha="center",
        va="center",
        fontsize=12,
        color="#d62728",
    )
    ax.text(
        0,
        n + gap + n + 1.6,
        "it would pair output j of $\\Delta$ with input j of $X$,\n"
        "and its result is n×n (sample by sample), not p×q",
        va="top",
        fontsize=11,
    )
    ax.set_title(
        "wrong: $\\Delta X^T$, output index against input index", fontsize=13
    )

    for ax in axes:
        ax.set_xlim(-0.5, 14)
        ax.set_ylim(n + gap + max(p, n) + 4.4, -1.5)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.tight_layout()
    return fig


def norms_over_time_figure(curves, title):
    """Norms against the time step on a log scale, one line per entry of ``curves``.

    ``curves`` maps a label to ``(norms, style)``: ``norms[t]`` is plotted at step ``t``
    (``t = 0 … T``) and ``style`` is a matplotlib format such as ``"o-"``. Returns the figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = norms_over_time_figure({"halving": ([4.0, 2.0, 1.0], "o-")}, "a test")
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['halving']
    >>> plt.close(fig)
    """
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for label, (norms, style) in curves.items():
        ax.semilogy(range(len(norms)), norms, style, label=label, markersize=4)
    ax.set_xlabel("time step t")
    ax.set_ylabel("norm of $G_{H_t}$ (log scale)")
    ax.set_title(title, fontsize=12)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig
