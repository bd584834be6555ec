"""PNG figures from the results dicts (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TITLES = {"sigmoid": "sigmoid layer", "two_layer": "two-layer network"}


def _short(label: str) -> str:
    if label.startswith("source"):
        return "source\nexample"
    return label.replace("n=4096, ", "").replace(", k=10", "").replace("width ", "w=")


def limit(rows, out: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, problem in zip(axes, ("sigmoid", "two_layer")):
        sel = [r for r in rows if r["problem"] == problem]
        xs = range(len(sel))
        ax.bar(xs, [r["derivlib_over_bare"]["min"] for r in sel], color="tab:blue", label="min of rounds")
        ax.plot(xs, [r["derivlib_over_bare"]["median"] for r in sel], "ko", label="median of rounds")
        for x, r in zip(xs, sel):
            if r["target_derivlib_over_bare"]:
                t = r["target_derivlib_over_bare"]
                ax.plot([x - 0.45, x + 0.45], [t, t], "r--", label=f"target {t}")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xticks(list(xs), [_short(r["label"]) for r in sel])
        ax.set_title(f"{TITLES[problem]}: backward / bare products")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("time ratio (1 = the matrix products alone)")
    fig.tight_layout()
    path = out / "limit.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def engines(rows, out: Path) -> Path:
    names = sorted({e for r in rows for e in r["engine_over_derivlib"]})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    width = 0.8 / max(1, len(names))
    for ax, problem in zip(axes, ("sigmoid", "two_layer")):
        sel = [r for r in rows if r["problem"] == problem]
        for j, name in enumerate(names):
            xs = [i + (j - (len(names) - 1) / 2) * width for i in range(len(sel))]
            ys = [r["engine_over_derivlib"].get(name, {}).get("min", float("nan")) for r in sel]
            ax.bar(xs, ys, width=width, label=name)
        ax.axhline(1.0, color="k", lw=1)
        ax.set_xticks(range(len(sel)), [_short(r["label"]) for r in sel])
        ax.set_yscale("log")
        ax.set_title(f"{TITLES[problem]}: engine time / derivlib time")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("ratio (> 1: derivlib is faster)")
    fig.tight_layout()
    path = out / "engines.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gradcheck(result, out: Path) -> Path:
    rows = result["rows"]
    sizes = [r["parameters"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.loglog(sizes, [r["directional"]["evaluations"] for r in rows], "o-", label="directional (measured)")
    meas = [r for r in rows if r["full"]["measured"]]
    comp = [r for r in rows if not r["full"]["measured"]]
    a1.loglog([r["parameters"] for r in meas], [r["full"]["evaluations"] for r in meas], "s-", color="tab:red",
              label="full finite differences (measured)")
    if comp:
        a1.loglog([meas[-1]["parameters"]] + [r["parameters"] for r in comp],
                  [meas[-1]["full"]["evaluations"]] + [r["full"]["evaluations"] for r in comp], "s--",
                  color="tab:red", mfc="none", label="full (computed: 1 + 6 + 2 size)")
    a1.axhline(result["target_evaluations_at_1e6"], color="grey", ls=":", label="20 evaluations")
    a1.set_xlabel("parameters checked (W.size)")
    a1.set_ylabel("evaluations of f")
    a1.legend(fontsize=8)
    a2.loglog(sizes, [r["directional"]["seconds"] for r in rows], "o-", label="directional (measured)")
    a2.loglog([r["parameters"] for r in meas], [r["full"]["seconds"] for r in meas], "s-", color="tab:red",
              label="full (measured)")
    a2.set_xlabel("parameters checked (W.size)")
    a2.set_ylabel("seconds")
    a2.legend(fontsize=8)
    fig.tight_layout()
    path = out / "gradcheck.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def jacobian(result, out: Path) -> Path:
    rows = result["rows"]
    meas = [r for r in rows if r["measured"]]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.loglog([r["n"] for r in rows], [r["jacobian_bytes"] for r in rows], "--", color="tab:red",
              label="Jacobian n·q·p·q·8 bytes (computed)")
    a1.loglog([r["n"] for r in meas], [r["peak_bytes_jacobian"] for r in meas], "s", color="tab:red",
              label="Jacobian route, peak (measured)")
    a1.loglog([r["n"] for r in meas], [r["peak_bytes_backward"] for r in meas], "o-", color="tab:blue",
              label="backward, peak (measured)")
    a1.axhline(result["memory_gib"] * 2**30, color="k", ls=":", label=f"RAM {result['memory_gib']} GiB")
    a1.set_xlabel("n = p = q")
    a1.set_ylabel("bytes")
    a1.legend(fontsize=8)
    a2.loglog([r["n"] for r in meas], [r["seconds_jacobian"] for r in meas], "s-", color="tab:red",
              label="jacobian + einsum")
    a2.loglog([r["n"] for r in meas], [r["seconds_backward"] for r in meas], "o-", color="tab:blue", label="backward")
    sides = [r["n"] for r in meas]
    a2.set_xticks(sides, [str(x) for x in sides])
    a2.minorticks_off()
    a2.set_xlabel("n = p = q")
    a2.set_ylabel("seconds")
    a2.legend(fontsize=8)
    fig.tight_layout()
    path = out / "jacobian.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def docs_build(result, out: Path) -> Path:
    steps = result["steps"]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    names = list(steps)
    ax.bar(range(len(names)), [steps[s]["seconds"] for s in names], color="tab:blue")
    for i, s in enumerate(names):
        ax.text(i, steps[s]["seconds"], f"{steps[s]['executed_count']} executed", ha="center", va="bottom", fontsize=8)
    ax.axhline(result["targets"]["cold_seconds"], color="r", ls="--", label="cold target 60 s")
    ax.axhline(result["targets"]["noop_seconds"], color="orange", ls="--", label="no-op target 5 s")
    ax.set_xticks(range(len(names)), [s.replace("_", " ") for s in names])
    ax.set_ylabel("seconds (wall clock)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "docs_build.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
