"""Activation statistics through a deep MLP: normal(0, 1) vs Xavier vs Kaiming initialisation.

    python -m deepx.examples.init [--quick] [--out reports] [--device opencl]

A batch of N(0, 1) inputs goes through 50 bias-free linear layers of width 256, each followed
by tanh or ReLU, with the weights drawn three ways:

    normal   N(0, 1)                       each layer multiplies the scale by ~sqrt(fan_in)
    xavier   N(0, 2 / (fan_in + fan_out))  keeps the variance for a linear (or tanh near 0) unit
    kaiming  N(0, gain^2 / fan_in)         gain sqrt(2) for ReLU, 5/3 for tanh

With ReLU, normal(0, 1) explodes (x11 per layer, float32 overflow near layer 36) and Xavier
vanishes (x0.71 per layer); with tanh, normal(0, 1) saturates every unit at +-1. Kaiming keeps
the scale. Writes OUT/init.png (std per layer, log axis; fraction of saturated tanh units).
"""
from __future__ import annotations

import math
import time

import numpy as np

import deepx as dx
import deepx.nn as nn
import deepx.nn.functional as F
from deepx.examples import _common

SCHEMES = ("normal", "xavier", "kaiming")


def init_weight(weight: dx.Tensor, scheme: str, activation: str) -> None:
    """Fill a (fan_out, fan_in) weight in place with the named scheme."""
    if scheme == "normal":
        nn.init.normal_(weight, 0.0, 1.0)
    elif scheme == "xavier":
        nn.init.xavier_normal_(weight)
    elif scheme == "kaiming":
        nn.init.kaiming_normal_(weight, nonlinearity=activation)
    else:
        raise ValueError(f"unknown scheme {scheme!r}")


def layer_stats(activation: str, scheme: str, depth: int, width: int, batch: int,
                seed: int) -> dict:
    """Mean, std and saturated fraction (|h| > 0.99) of every layer's output, as (depth,) arrays."""
    dx.manual_seed(seed)
    act = dx.tanh if activation == "tanh" else F.relu
    h = dx.randn(batch, width)
    stats = {"mean": [], "std": [], "saturated": []}
    layer = nn.Linear(width, width, bias=False)
    with dx.no_grad():
        for _ in range(depth):
            init_weight(layer.weight, scheme, activation)  # a fresh draw per layer
            h = act(layer(h))
            # Scale by max |h| first: the std of 1e17-sized values would overflow float32 in
            # its sum of squares long before the activations themselves do (~3e38).
            scale = h.abs().max().item()
            unit = h / scale if 0 < scale < math.inf else h
            factor = scale if 0 < scale < math.inf else 1.0
            stats["mean"].append(unit.mean().item() * factor)
            stats["std"].append(unit.std().item() * factor)
            stats["saturated"].append((h.abs() > 0.99).float().mean().item())
    return {key: np.array(values) for key, values in stats.items()}


def _plot_std(ax, stats: dict, activation: str, depth: int) -> None:
    """One line per scheme of std per layer; non-finite values (overflow) are not drawn."""
    layers = np.arange(1, depth + 1)
    for scheme in SCHEMES:
        std = stats[activation, scheme]["std"]
        finite = np.isfinite(std) & (std > 0)
        (line,) = ax.plot(layers[finite], std[finite], marker=".", label=scheme)
        if not finite.all():
            last = int(np.flatnonzero(finite)[-1]) if finite.any() else 0
            ax.annotate(f"float32 overflow\nafter layer {last + 1}",
                        (layers[last], std[last]), textcoords="offset points",
                        xytext=(-30, 0), ha="right", va="center", fontsize=8,
                        color=line.get_color())
    ax.set_yscale("log")
    ax.set_xlabel("layer (index)")
    ax.set_ylabel("activation std (unitless)")
    ax.set_title(f"{activation}: std of each layer's output")
    _common.legend_below(ax, ncol=3)


def main(argv=None) -> dict:
    """Run the 6 configurations, plot; returns {"final_std": {(act, scheme): std}, "png"}."""
    p = _common.parser("init", __doc__.splitlines()[0])
    p.add_argument("--depth", type=int, default=None, help="layers (default 50)")
    p.add_argument("--width", type=int, default=None, help="units per layer (default 256)")
    args = p.parse_args(argv)
    device = _common.setup(args)
    depth = args.depth or (20 if args.quick else 50)
    width = args.width or (64 if args.quick else 256)
    batch = 128 if args.quick else 512

    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # the NumPy device overflows on purpose
        stats = {(act, scheme): layer_stats(act, scheme, depth, width, batch, args.seed)
                 for act in ("tanh", "relu") for scheme in SCHEMES}
    seconds = time.perf_counter() - start

    plt = _common.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    _plot_std(axes[0], stats, "tanh", depth)
    _plot_std(axes[1], stats, "relu", depth)
    layers = np.arange(1, depth + 1)
    for scheme in SCHEMES:
        axes[2].plot(layers, stats["tanh", scheme]["saturated"], marker=".", label=scheme)
    axes[2].set_xlabel("layer (index)")
    axes[2].set_ylabel("fraction of units with |h| > 0.99")
    axes[2].set_title("tanh: saturated units")
    axes[2].set_ylim(-0.02, 1.02)
    _common.legend_below(axes[2], ncol=3)
    fig.suptitle(f"{depth}-layer MLP, width {width}, batch of {batch} N(0, 1) inputs")
    fig.tight_layout()
    path = _common.png_path(args.out, "init.png")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)

    print(f"init: {depth} layers x {width} units, 6 configurations on {device} in "
          f"{seconds:.1f} s; layer {depth} output:")
    final_std = {}
    for (act, scheme), s in stats.items():
        final_std[act, scheme] = float(s["std"][-1])
        overflow = "" if math.isfinite(s["std"][-1]) else " (float32 overflow)"
        saturated = f"  saturated {s['saturated'][-1]:.0%}" if act == "tanh" else ""
        print(f"  {act:4s} {scheme:8s} mean {s['mean'][-1]:+.3e}  std {s['std'][-1]:.3e}"
              f"{saturated}{overflow}")
    print(f"wrote {path}")
    return {"final_std": final_std, "png": str(path)}


if __name__ == "__main__":
    main()
