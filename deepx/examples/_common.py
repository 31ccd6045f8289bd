"""What every example shares: the command line, the device, headless matplotlib, plots."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import deepx as dx


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """The parser of example `name` with the options all take: --quick, --out, --device, --seed."""
    p = argparse.ArgumentParser(prog=f"python -m deepx.examples.{name}", description=description)
    p.add_argument("--quick", action="store_true", help="a short run (seconds), for tests")
    p.add_argument("--out", default="reports", help="folder for the outputs (default: reports)")
    p.add_argument("--device", default=None,
                   help="numpy, opencl or opencl:P:D (default: DEEPX_DEVICE or the best device)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of deepx")
    return p


def setup(args: argparse.Namespace) -> dx.Device:
    """Seed deepx and make args.device the default device; returns the device in use."""
    if args.device is not None:
        dx.set_default_device(args.device)
    dx.manual_seed(args.seed)
    return dx.default_device()


# Okabe and Ito's colour-blind-safe palette, the colour cycle of every example's plot.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442"]


def pyplot():
    """matplotlib.pyplot on the Agg backend (headless: CI, ssh), cycling PALETTE's colours."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)
    return plt


def legend_below(ax, ncol: int = 2) -> None:
    """The legend under the axes, where it cannot cover a curve (save with bbox_inches)."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=8,
              frameon=False)


def png_path(out: str | os.PathLike, name: str) -> Path:
    """out/name, creating out if needed."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def accuracy(logits: dx.Tensor, target: dx.Tensor) -> float:
    """Fraction of rows whose argmax equals target. logits: (N, C), target: (N,) int."""
    return float((logits.argmax(dim=1) == target).float().mean().item())


def plot_decision_boundary(model, x: np.ndarray, y: np.ndarray, path: Path, title: str,
                           steps: int = 200) -> None:
    """Filled contour of model's argmax class over the box around x (N, 2), points on top."""
    plt = pyplot()
    lo = x.min(axis=0) - 0.5
    hi = x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    model.eval()
    with dx.no_grad():
        classes = model(dx.tensor(grid)).argmax(dim=1).numpy().reshape(gx.shape)
    model.train()
    from matplotlib.colors import ListedColormap, to_rgb

    n_classes = int(y.max()) + 1
    colors = PALETTE[:n_classes]
    # regions: each class's colour mixed 70% with white, so every point (full colour, black
    # edge, its own marker) stands out on any region
    tints = [tuple(0.3 * c + 0.7 for c in to_rgb(color)) for color in colors]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5,
                cmap=ListedColormap(tints))
    for k, color in enumerate(colors):
        ax.scatter(x[y == k, 0], x[y == k, 1], s=28, color=color, marker="osD^v"[k % 5],
                   edgecolors="k", linewidths=0.6, label=f"class {k}")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x1 (input feature 1, unitless)")
    ax.set_ylabel("x2 (input feature 2, unitless)")
    ax.set_title(title + "\n(shaded: the class the model predicts there)", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="training points",
              fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
