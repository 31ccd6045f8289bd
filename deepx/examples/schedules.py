"""Learning-rate policies side by side: step, cosine, cyclical (triangular) and one-cycle.

    python -m deepx.examples.schedules [--quick] [--out reports] [--device opencl]

Each policy trains the same model from the same initial weights (the spiral example's one
hidden layer of 100 ReLUs, full batch, SGD with momentum 0.9) for the same number of steps,
the scheduler stepping once per batch. Writes OUT/schedules.png: the learning rate (left) and
the loss (right) per step; prints each policy's final loss.
"""
from __future__ import annotations

import time

import deepx as dx
import deepx.nn as nn
import deepx.nn.functional as F
import deepx.optim as optim
from deepx.examples import _common
from deepx.examples.spiral import make_spiral
from deepx.optim import lr_scheduler

MAX_LR = 0.2


def make_scheduler(name: str, optimizer, steps: int):
    """The named policy over `steps` batches; every one peaks at (or starts from) MAX_LR."""
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=steps // 4, gamma=0.5)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    if name == "cyclic":
        return lr_scheduler.CyclicLR(optimizer, base_lr=MAX_LR / 20, max_lr=MAX_LR,
                                     step_size_up=steps // 8, mode="triangular")
    if name == "one-cycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, total_steps=steps)
    raise ValueError(f"unknown schedule {name!r}")


def run(name: str, x: dx.Tensor, y: dx.Tensor, steps: int, seed: int) -> tuple[list, list]:
    """Train a fresh model (same init for every policy) under one policy: (lrs, losses) per step."""
    dx.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    optimizer = optim.SGD(model.parameters(), lr=MAX_LR, momentum=0.9)
    scheduler = make_scheduler(name, optimizer, steps)
    lrs, losses = [], []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return lrs, losses


def main(argv=None) -> dict:
    """Run the four policies, plot them; returns {"final_loss": {policy: loss}, "png"}."""
    p = _common.parser("schedules", __doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=None, help="steps per policy (default 400)")
    args = p.parse_args(argv)
    device = _common.setup(args)
    steps = args.steps or (40 if args.quick else 400)

    x_np, y_np = make_spiral(100, 3, seed=args.seed)
    x, y = dx.tensor(x_np), dx.tensor(y_np)
    plt = _common.pyplot()
    fig, (ax_lr, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    final = {}
    start = time.perf_counter()
    for name in ("step", "cosine", "cyclic", "one-cycle"):
        lrs, losses = run(name, x, y, steps, args.seed)
        final[name] = losses[-1]
        ax_lr.plot(lrs, label=name)
        ax_loss.plot(losses, label=f"{name} (final {losses[-1]:.3f})")
    seconds = time.perf_counter() - start
    ax_lr.set_xlabel("optimizer step")
    ax_lr.set_ylabel("learning rate (per step)")
    ax_lr.set_title("learning rate per step")
    _common.legend_below(ax_lr, ncol=4)
    ax_loss.set_xlabel("optimizer step")
    ax_loss.set_ylabel("training loss (cross-entropy, nats)")
    ax_loss.set_yscale("log")
    ax_loss.set_title("spiral, 100 hidden ReLUs, SGD momentum 0.9")
    _common.legend_below(ax_loss, ncol=2)
    fig.suptitle("Learning-rate policies on one model")
    fig.tight_layout()
    path = _common.png_path(args.out, "schedules.png")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)

    print(f"schedules: 4 x {steps} steps on {device} in {seconds:.1f} s; final loss "
          + ", ".join(f"{name} {loss:.4f}" for name, loss in final.items()))
    print(f"wrote {path}")
    return {"final_loss": final, "png": str(path)}


if __name__ == "__main__":
    main()
