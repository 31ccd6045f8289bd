"""The report's PNG plots (matplotlib, Agg): ladder, GFLOP/s vs size, speed-ups, training step,
roofline. Each function takes the report's Results and a path, and returns True if it drew.
"""
from __future__ import annotations

import math
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.ticker import NullFormatter  # noqa: E402

from .report import Result, find, impl_rank, numpy_time  # noqa: E402

DPI = 90
COLORS = {"naive": "#d62728", "loops": "#d62728", "rows": "#ff7f0e", "broadcast": "#bcbd22",
          "einsum": "#8c564b", "numpy": "#1f77b4", "cl_naive": "#9467bd", "cl_tiled": "#17becf",
          "cl_tuned": "#2ca02c", "opencl": "#2ca02c", "torch": "#7f7f7f"}
LADDER_LABELS = {"loops": "Python\ntriple loop", "rows": "loops +\nrow dot", "broadcast":
                 "broadcast", "einsum": "einsum", "numpy": "NumPy @\n(BLAS)",
                 "cl_naive": "OpenCL\nmatmul_naive", "cl_tiled": "OpenCL\nmatmul_tiled",
                 "cl_tuned": "OpenCL\ndeepx default"}
# (family, op, title) of each panel of the GFLOP/s and speed-up figures
SWEEPS = [("matmul", "square", "matmul n x n"), ("activation", "relu", "relu"),
          ("activation", "sigmoid", "sigmoid"), ("activation", "tanh", "tanh"),
          ("reduction", "sum", "row sum"), ("reduction", "softmax", "softmax"),
          ("cross_entropy", "forward", "cross-entropy"), ("pooling", "max_pool2d", "max pool"),
          ("optimizer", "adam_step", "Adam step")]


def _save(fig, path: pathlib.Path) -> bool:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return True


def _empty(path: pathlib.Path, title: str, why: str) -> bool:
    """A small placeholder figure, so the report's set of files never depends on the data."""
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.4, why, ha="center", va="center", wrap=True)
    return _save(fig, path)


def ladder(results: list[Result], path: pathlib.Path) -> bool:
    """Bars: speed-up of each rung over the triple loop at (64, 32) @ (32, 64), log scale."""
    rungs = sorted((r for r in results if r.family == "matmul" and r.op == "classic"),
                   key=lambda r: impl_rank(r.impl))
    base = find(results, "matmul", "classic", "loops")
    if not rungs or base is None:
        return _empty(path, "matmul ladder", "no (64, 32) @ (32, 64) results with the loop")
    speedups = [base.median / r.median for r in rungs]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bars = ax.bar([_ladder_label(r) for r in rungs], speedups,
                  color=[COLORS.get(r.impl, "#333333") for r in rungs])
    ax.set_yscale("log")
    ax.set_ylim(0.5, max(speedups) * 4)
    for bar, s, r in zip(bars, speedups, rungs):
        ax.text(bar.get_x() + bar.get_width() / 2, s * 1.15, f"{s:,.0f}x\n{_t(r.median)}",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("speed-up over the triple loop (log)")
    ax.set_title("(64, 32) @ (32, 64) float32: each rung of the matmul ladder")
    ax.tick_params(axis="x", labelsize=8)
    return _save(fig, path)


def _ladder_label(r: Result) -> str:
    """The rung's name; for deepx's default matmul, the kernel it ran (packing aside)."""
    label = LADDER_LABELS.get(r.impl, r.impl)
    main = [k for k in r.extra.get("kernels", []) if "pack" not in k]
    return f"{label}\n({main[0]})" if r.impl == "cl_tuned" and main else label


def _t(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _loglog(ax) -> None:
    """Log axes labelled at powers of ten only (minor labels crowd short ranges)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def _grid(n: int):
    cols = 3
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.1 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig, axes.flat


def gflops_vs_size(results: list[Result], path: pathlib.Path) -> bool:
    """One panel per sweep: GFLOP/s against size for each implementation, log-log."""
    panels = [(f, o, t) for f, o, t in SWEEPS
              if any(r.family == f and r.op == o for r in results)]
    if not panels:
        return _empty(path, "GFLOP/s against size", "no size sweeps in the results")
    fig, axes = _grid(len(panels))
    for ax, (family, op, title) in zip(axes, panels):
        rows = [r for r in results if r.family == family and r.op == op and r.gflops]
        for impl in sorted({r.impl for r in rows}, key=impl_rank):
            pts = sorted((r.size, r.gflops) for r in rows if r.impl == impl)
            ax.plot(*zip(*pts), marker="o", ms=3, label=impl, color=COLORS.get(impl))
        _loglog(ax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("n" if family == "matmul" else "elements", fontsize=8)
        ax.set_ylabel("GFLOP/s", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, path)


def speedup(results: list[Result], path: pathlib.Path) -> bool:
    """Two panels: OpenCL / naive loops and OpenCL / NumPy, against size, one line per sweep."""
    opencl = [r for r in results if r.role == "opencl" and r.family != "train_step"]
    if not opencl:
        return _empty(path, "OpenCL speed-up", "no OpenCL results")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for family, op, title in SWEEPS:
        rows = sorted((r for r in opencl if r.family == family and r.op == op),
                      key=lambda r: r.size)
        over_naive, over_numpy = [], []
        for r in rows:
            naive = [o for o in results if o.family == family and o.op == op
                     and o.shape == r.shape and o.role == "naive"]
            if naive:
                over_naive.append((r.size, naive[0].median / r.median))
            base = numpy_time(results, r)
            if base:
                over_numpy.append((r.size, base / r.median))
        if over_naive:
            left.plot(*zip(*over_naive), marker="o", ms=3, label=title)
        if over_numpy:
            right.plot(*zip(*over_numpy), marker="o", ms=3, label=title)
    for ax, what in ((left, "naive Python loops"), (right, "NumPy")):
        ax.axhline(1.0, color="black", lw=0.8)
        _loglog(ax)
        ax.set_xlabel("size (n for matmul, elements otherwise)")
        ax.set_ylabel(f"OpenCL speed-up over {what}")
        ax.set_title(f"deepx OpenCL vs {what} (above 1: OpenCL faster)", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, path)


def train_step(results: list[Result], path: pathlib.Path, top: int = 7) -> bool:
    """Left: step wall time per model and impl. Right: OpenCL device ms per op (stacked)."""
    steps = [r for r in results if r.family == "train_step"]
    if not steps:
        return _empty(path, "training step", "no training-step results")
    models = sorted({r.op for r in steps})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    impls = sorted({r.impl for r in steps}, key=impl_rank)
    width = 0.8 / len(impls)
    for j, impl in enumerate(impls):
        xs, ys = [], []
        for i, model in enumerate(models):
            r = find(results, "train_step", model, impl)
            if r:
                xs.append(i + (j - (len(impls) - 1) / 2) * width)
                ys.append(r.median * 1e3)
        left.bar(xs, ys, width, label=impl, color=COLORS.get(impl))
    left.set_xticks(range(len(models)), models)
    left.set_ylabel("ms per step (median)")
    left.set_title("training step wall time", fontsize=10)
    left.legend(fontsize=8)
    profiled = [(m, find(results, "train_step", m, "opencl")) for m in models]
    profiled = [(m, r.extra["profile"]["ms_per_op"]) for m, r in profiled
                if r and "profile" in r.extra]
    totals: dict = {}
    for _, per_op in profiled:
        for op, ms in per_op.items():
            totals[op] = totals.get(op, 0.0) + ms
    keep = sorted(totals, key=totals.get, reverse=True)[:top]
    bottoms = [0.0] * len(profiled)
    for op in keep + ["other"]:
        values = [sum(ms for o, ms in per_op.items() if o not in keep) if op == "other"
                  else per_op.get(op, 0.0) for _, per_op in profiled]
        right.bar([m for m, _ in profiled], values, bottom=bottoms, label=op)
        bottoms = [b + v for b, v in zip(bottoms, values)]
    right.set_ylabel("device ms per step")
    right.set_title("OpenCL device time by op (deepx.profile)", fontsize=10)
    right.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def roofline(results: list[Result], path: pathlib.Path) -> bool:
    """Ceilings min(peak, bandwidth x intensity) from the probes; OpenCL kernels as points."""
    fma = find(results, "probe", "fma_peak", "opencl")
    triad = find(results, "probe", "triad_bandwidth", "opencl")
    if fma is None or triad is None:
        return _empty(path, "roofline", "no probe results (no OpenCL device?)")
    peak, bandwidth = fma.peak_gflops, triad.peak_gbps
    # launch-bound edge cases (1x1x1 matmul...) measure overhead, not a kernel's throughput
    points = [r for r in results if r.impl.startswith(("cl_", "opencl")) and r.family not in
              ("probe", "train_step") and r.op != "edge" and r.intensity and r.gflops]
    xs = [r.intensity for r in points] + [peak / bandwidth]
    lo, hi = min(xs) / 2, max(xs) * 2
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.plot(grid, [min(peak, bandwidth * x) for x in grid], color="black", lw=1.5,
            label=f"roof: {peak:.3g} GFLOP/s, {bandwidth:.3g} GB/s")
    host = find(results, "probe", "triad_bandwidth", "numpy")
    if host and host.peak_gbps:
        ax.plot(grid, [min(peak, host.peak_gbps * x) for x in grid], color="gray", ls="--",
                lw=1, label=f"NumPy a + b bandwidth: {host.peak_gbps:.3g} GB/s")
    for family in sorted({r.family for r in points}):
        rows = [r for r in points if r.family == family]
        ax.scatter([r.intensity for r in rows], [r.gflops for r in rows], s=14,
                   label=family, alpha=0.8)
    _loglog(ax)
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("GFLOP/s")
    ax.set_title("roofline of the OpenCL device (probes) with deepx's kernels", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def draw_all(results: list[Result], out: pathlib.Path) -> dict:
    """Every plot into `out`; {file name: True} for those drawn."""
    drawn = {}
    for name, fn in (("ladder.png", ladder), ("gflops_vs_size.png", gflops_vs_size),
                     ("speedup.png", speedup), ("train_step.png", train_step),
                     ("roofline.png", roofline)):
        drawn[name] = fn(results, out / name)
    return drawn
