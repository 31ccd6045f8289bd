"""One SGD training step, in one system per process: deepx OpenCL (eager, and its launches
captured once and replayed with deepx.graph), deepx NumPy, PyTorch CPU.

    python benchmarks/steps.py --system opencl|graph|numpy|torch [--json FILE] [--quick]

Workloads (every system starts from the same NumPy-generated weights and data, and records
its first loss so the report can check that they agree):
- mlp:   784-512-256-10 with ReLU, batch 128, cross-entropy.
- cnn:   conv3x3(1->16, pad 1)-ReLU-maxpool2-conv3x3(16->32, pad 1)-ReLU-maxpool2-fc(1568->10),
         batch 64 of 1x28x28, cross-entropy (LeNet-like, 3x3 convolutions).
- moons: micrograd's demo MLP(2, [16, 16, 1]) on 100 two-moons points: ReLU hidden layers,
         max-margin loss mean(relu(1 - y * score)) + 1e-4 * sum of squared weights.
A step is zero_grad, forward, loss, backward, SGD (lr 0.01), then a synchronize, timed until
its spread is within 5%. On OpenCL it also counts the kernel launches of one step.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from timing import measure, run_system

LR = 0.01
WORKLOADS = ("mlp", "cnn", "moons")


def layers(name: str) -> list[tuple]:
    """The model as (kind, *arguments) in order; both libraries build it from this list."""
    if name == "mlp":
        return [("linear", 784, 512), ("relu",), ("linear", 512, 256), ("relu",),
                ("linear", 256, 10)]
    if name == "cnn":
        return [("conv", 1, 16), ("relu",), ("pool",), ("conv", 16, 32), ("relu",), ("pool",),
                ("flatten",), ("linear", 32 * 7 * 7, 10)]
    return [("linear", 2, 16), ("relu",), ("linear", 16, 16), ("relu",), ("linear", 16, 1)]


def weights(name: str) -> dict:
    """Uniform(+-1/sqrt(fan_in)) weights, as nn.Linear/Conv2d draw them, from NumPy seed 0."""
    rng = np.random.default_rng(0)
    out = {}
    for i, layer in enumerate(layers(name)):
        if layer[0] == "linear":
            shape, fan_in = (layer[2], layer[1]), layer[1]
        elif layer[0] == "conv":
            shape, fan_in = (layer[2], layer[1], 3, 3), layer[1] * 9
        else:
            continue
        bound = 1 / np.sqrt(fan_in)
        out[f"{i}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
        out[f"{i}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
    return out


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    if name == "mlp":
        return (rng.standard_normal((128, 784)).astype(np.float32),
                rng.integers(0, 10, 128).astype(np.int64))
    if name == "cnn":
        return (rng.standard_normal((64, 1, 28, 28)).astype(np.float32),
                rng.integers(0, 10, 64).astype(np.int64))
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return x.astype(np.float32), (2 * y - 1).astype(np.float32)  # labels -1 / +1


def _build(nn, name: str):
    mods = []
    for layer in layers(name):
        kind = layer[0]
        if kind == "linear":
            mods.append(nn.Linear(layer[1], layer[2]))
        elif kind == "conv":
            mods.append(nn.Conv2d(layer[1], layer[2], 3, padding=1))
        elif kind == "relu":
            mods.append(nn.ReLU())
        elif kind == "pool":
            mods.append(nn.MaxPool2d(2))
        else:
            mods.append(nn.Flatten())
    return nn.Sequential(*mods)


def _loss(F, name, model, x, y):  # noqa: N803 - F is PyTorch's spelling of functional
    if name != "moons":
        return F.cross_entropy(model(x), y)
    score = model(x).reshape(-1)
    penalty = sum((p * p).sum() for p in model.parameters())
    return F.relu(1 - y * score).mean() + 1e-4 * penalty


def graph_step(name: str):
    """deepx OpenCL with the step captured once (dx.graph) and replayed: no Python per op."""
    import deepx as dx

    step = deepx_step(name, "opencl", synchronize=False)
    step()  # eager warm-up: programs, prepared launches, SGD's first step
    g = dx.Graph()
    with dx.graph(g, device="opencl"):
        loss = step()

    def replay():
        g.replay()
        dx.synchronize("opencl")
        return loss
    return replay


def deepx_step(name: str, device: str, synchronize: bool = True):
    """The step for deepx on `device` (ending with a synchronize unless told not to)."""
    import deepx as dx
    import deepx.nn as nn
    import deepx.nn.functional as F  # noqa: N812

    model = _build(nn, name).to(device)
    model.load_state_dict({k: dx.tensor(v, device=device) for k, v in weights(name).items()})
    opt = dx.optim.SGD(model.parameters(), lr=LR)
    x_host, y_host = data(name)
    x, y = dx.tensor(x_host, device=device), dx.tensor(y_host, device=device)

    def step():
        opt.zero_grad()
        loss = _loss(F, name, model, x, y)
        loss.backward()
        opt.step()
        if synchronize:
            dx.synchronize(device)
        return loss
    return step


def torch_step(name: str):
    import torch
    import torch.nn.functional as F  # noqa: N812

    model = _build(torch.nn, name)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights(name).items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x_host, y_host = data(name)
    x, y = torch.from_numpy(x_host), torch.from_numpy(y_host)

    def step():
        opt.zero_grad()
        loss = _loss(F, name, model, x, y)
        loss.backward()
        opt.step()
        return loss
    return step


def launches_per_step(step) -> int:
    """Kernel launches of one step, counted on the OpenCL runtime's launch hook."""
    from deepx.backend.opencl import runtime

    calls = []

    def count(*_):
        calls.append(1)
    runtime.LAUNCH_LISTENERS.append(count)
    try:
        step()
    finally:
        runtime.LAUNCH_LISTENERS.remove(count)
    return len(calls)


def run(system: str, quick: bool) -> dict:
    out = {"system": system, "workloads": {}}
    for name in WORKLOADS:
        if system == "torch":
            step = torch_step(name)
        elif system == "graph":
            first = deepx_step(name, "opencl")().item()  # a fresh model's first loss
            step = graph_step(name)
        else:
            step = deepx_step(name, system)
        first_loss = float(first if system == "graph" else step().item())
        entry = {"first_loss": first_loss}
        if system == "opencl":
            entry["launches_per_step"] = launches_per_step(step)
        entry.update(measure(step, max_seconds=1.5 if quick else 6.0,
                             min_reps=5 if quick else 7))
        out["workloads"][name] = entry
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--system", required=True, choices=("opencl", "graph", "numpy", "torch"))
    p.add_argument("--json", help="write the result here (default: print it)")
    p.add_argument("--quick", action="store_true", help="shorter timing budgets")
    args = p.parse_args(argv)
    return run_system(run, args.system, args.quick, args.json)

if __name__ == "__main__":
    sys.exit(main())
