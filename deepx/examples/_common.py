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


def pyplot():
    """matplotlib.pyplot on the Agg backend, so examples run headless (CI, ssh)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
    n_classes = int(y.max()) + 1
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap="Spectral",
                alpha=0.7)
    ax.scatter(x[:, 0], x[:, 1], c=y, s=25, cmap="Spectral", edgecolors="k", linewidths=0.5)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
