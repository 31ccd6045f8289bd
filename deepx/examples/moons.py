"""Two moons: an MLP trained with the multi-class hinge loss plus an L2 penalty (micrograd's demo).

    python -m deepx.examples.moons [--quick] [--out reports] [--device opencl]

Prints the training accuracy (100% after the full run) and writes the decision boundary to
OUT/moons.png.
"""
from __future__ import annotations

import time

import numpy as np

import deepx as dx
import deepx.nn as nn
import deepx.nn.functional as F
import deepx.optim as optim
from deepx.examples import _common
from deepx.nn.regularizers import l2


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles, as sklearn.datasets.make_moons: x (N, 2) float32, y (N,)."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1)])
    x += rng.normal(scale=noise, size=x.shape)
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order]


def main(argv=None) -> dict:
    """Train, print the accuracy and the PNG path; returns {"accuracy", "loss", "png"}."""
    p = _common.parser("moons", __doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=None, help="full-batch steps (default 500)")
    args = p.parse_args(argv)
    device = _common.setup(args)
    steps = args.steps or (60 if args.quick else 500)

    x_np, y_np = make_moons(200, noise=0.1, seed=args.seed)
    x, y = dx.tensor(x_np), dx.tensor(y_np)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.02)
    weights = [w for name, w in model.named_parameters() if name.endswith("weight")]
    alpha = 1e-4  # micrograd's L2 strength: a smoother boundary, same 100%

    start = time.perf_counter()
    for _ in range(steps):
        scores = model(x)
        loss = F.multi_margin_loss(scores, y) + alpha * l2(weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with dx.no_grad():
        acc = _common.accuracy(model(x), y)
    seconds = time.perf_counter() - start

    path = _common.png_path(args.out, "moons.png")
    _common.plot_decision_boundary(model, x_np, y_np, path,
                                   f"two moons: hinge loss + L2, train accuracy {acc:.1%}")
    print(f"moons: {steps} steps on {device} in {seconds:.1f} s, loss {loss.item():.4f}, "
          f"train accuracy {acc:.1%}")
    print(f"wrote {path}")
    return {"accuracy": acc, "loss": loss.item(), "png": str(path)}


if __name__ == "__main__":
    main()
