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
from report import Result, find, impl_rank, numpy_time  # noqa: E402

DPI = 90
# Okabe and Ito's colour-blind-safe palette; lines also differ by marker, so no pair of series
# is told apart by hue alone.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442", "#999999"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h"]
COLORS = {"naive": "#D55E00", "loops": "#D55E00", "rows": "#E69F00", "broadcast": "#F0E442",
          "einsum": "#CC79A7", "numpy": "#0072B2", "cl_naive": "#56B4E9", "cl_tiled": "#000000",
          "cl_tuned": "#009E73", "opencl": "#009E73", "torch": "#999999"}
IMPL_MARKERS = {"naive": "s", "loops": "s", "numpy": "o", "opencl": "^", "cl_tuned": "^",
                "torch": "D", "einsum": "v", "rows": "P", "broadcast": "X", "cl_naive": "h",
                "cl_tiled": "*"}
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
    fig.savefig(path, dpi=DPI, bbox_inches="tight")  # keeps legends placed outside the axes
    plt.close(fig)
    return True


def _legend_outside(ax, **kw) -> None:
    """A legend to the right of the axes, where it cannot cover data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=8, **kw)


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
                  color=[COLORS.get(r.impl, "#333333") for r in rungs], edgecolor="black",
                  linewidth=0.6)
    ax.set_yscale("log")
    ax.set_ylim(0.5, max(speedups) * 4)
    for bar, s, r in zip(bars, speedups, rungs):
        ax.text(bar.get_x() + bar.get_width() / 2, s * 1.15, f"{s:,.0f}x\n{_t(r.median)}",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("speed-up over the triple loop (x, log scale)")
    ax.set_xlabel("implementation (bar label: speed-up and median time per product)")
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
    handles: dict = {}
    for ax, (family, op, title) in zip(axes, panels):
        rows = [r for r in results if r.family == family and r.op == op and r.gflops]
        for impl in sorted({r.impl for r in rows}, key=impl_rank):
            pts = sorted((r.size, r.gflops) for r in rows if r.impl == impl)
            (line,) = ax.plot(*zip(*pts), marker=IMPL_MARKERS.get(impl, "o"), ms=4,
                              label=impl, color=COLORS.get(impl))
            handles.setdefault(impl, line)
        _loglog(ax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("n (matrix side)" if family == "matmul" else "size (elements)",
                      fontsize=8)
        ax.set_ylabel("GFLOP/s (median)", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
    order = sorted(handles, key=impl_rank)
    fig.suptitle("Throughput against problem size, per implementation (log-log)")
    fig.tight_layout()
    # below the panels (bbox_inches="tight" keeps it in the file), never over a curve
    fig.legend([handles[i] for i in order], order, loc="upper center", ncol=len(order),
               bbox_to_anchor=(0.5, 0.0), fontsize=8, frameon=False)
    return _save(fig, path)


def speedup(results: list[Result], path: pathlib.Path) -> bool:
    """Two panels: OpenCL / naive loops and OpenCL / NumPy, against size, one line per sweep."""
    opencl = [r for r in results if r.role == "opencl" and r.family != "train_step"]
    if not opencl:
        return _empty(path, "OpenCL speed-up", "no OpenCL results")
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    for i, (family, op, title) in enumerate(SWEEPS):
        style = {"marker": MARKERS[i % len(MARKERS)], "ms": 4, "label": title,
                 "color": PALETTE[i % len(PALETTE)]}
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
            left.plot(*zip(*over_naive), **style)
        if over_numpy:
            right.plot(*zip(*over_numpy), **style)
    for ax, what in ((left, "naive Python loops"), (right, "NumPy")):
        ax.axhline(1.0, color="black", lw=0.8)
        _loglog(ax)
        ax.set_xlabel("size (n for matmul, elements otherwise)")
        ax.set_ylabel(f"OpenCL speed-up over {what} (x)")
        ax.set_title(f"deepx OpenCL vs {what} (above 1: OpenCL faster)", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    _legend_outside(right, title="sweep")
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
        left.bar(xs, ys, width, label=impl, color=COLORS.get(impl), edgecolor="black",
                 linewidth=0.6)
    left.set_xticks(range(len(models)), models)
    left.set_xlabel("model")
    left.set_ylabel("wall time per step (ms, median)")
    left.set_title("training step wall time", fontsize=10)
    _legend_outside(left, title="implementation")
    profiled = [(m, find(results, "train_step", m, "opencl")) for m in models]
    profiled = [(m, r.extra["profile"]["ms_per_op"]) for m, r in profiled
                if r and "profile" in r.extra]
    totals: dict = {}
    for _, per_op in profiled:
        for op, ms in per_op.items():
            totals[op] = totals.get(op, 0.0) + ms
    keep = sorted(totals, key=totals.get, reverse=True)[:top]
    bottoms = [0.0] * len(profiled)
    hatches = ["", "//", "..", "xx", "\\\\", "oo", "--", "++"]
    for i, op in enumerate(keep + ["other"]):
        values = [sum(ms for o, ms in per_op.items() if o not in keep) if op == "other"
                  else per_op.get(op, 0.0) for _, per_op in profiled]
        right.bar([m for m, _ in profiled], values, bottom=bottoms, label=op,
                  color=PALETTE[i % len(PALETTE)], hatch=hatches[i % len(hatches)],
                  edgecolor="white", linewidth=0.5)
        bottoms = [b + v for b, v in zip(bottoms, values)]
    right.set_xlabel("model")
    right.set_ylabel("OpenCL device time per step (ms)")
    right.set_title("OpenCL device time by op (deepx.profile)", fontsize=10)
    _legend_outside(right, title="op")
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
    for i, family in enumerate(sorted({r.family for r in points})):
        rows = [r for r in points if r.family == family]
        ax.scatter([r.intensity for r in rows], [r.gflops for r in rows], s=18,
                   label=family, alpha=0.85, color=PALETTE[i % len(PALETTE)],
                   marker=MARKERS[i % len(MARKERS)])
    _loglog(ax)
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("throughput (GFLOP/s, median)")
    ax.set_title("roofline of the OpenCL device (probes) with deepx's kernels", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    _legend_outside(ax)
    return _save(fig, path)


def draw_all(results: list[Result], out: pathlib.Path) -> dict:
    """Every plot into `out`; {file name: True} for those drawn."""
    drawn = {}
    for name, fn in (("ladder.png", ladder), ("gflops_vs_size.png", gflops_vs_size),
                     ("speedup.png", speedup), ("train_step.png", train_step),
                     ("roofline.png", roofline)):
        drawn[name] = fn(results, out / name)
    return drawn
