"""One training step end to end: forward, cross-entropy, backward, SGD with momentum.

Models from BENCH_SHAPES.md: the MLP 784-512-256-10 at batch 128 and the LeNet-style CNN at
batch 64 on 1x28x28. Implementations: deepx on its NumPy backend, deepx on its OpenCL device,
and PyTorch on the CPU when torch is installed (skipped otherwise). All start from the same
weights and data; the losses of two steps must agree before anything is timed. The OpenCL run
also profiles a few steps and stores the device time per op (the report's breakdown chart)
and the Chrome trace of one step.

    python -m pytest benchmarks/bench_e2e.py --benchmark-enable
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from shapes import IMAGE_HW, LENET_BATCH, MLP_BATCH, MLP_SIZES, opencl_backend, record, run

import deepx as dx
from deepx import models
from deepx.nn import functional as F  # noqa: N812 - PyTorch's spelling
from deepx.optim import SGD
from deepx.profiler import profile

LR, MOMENTUM = 0.01, 0.9
PROFILED_STEPS = 3

MODELS = {
    "mlp": (lambda: models.mlp(MLP_SIZES), (MLP_BATCH, MLP_SIZES[0])),
    "lenet": (models.lenet, (LENET_BATCH, 1, IMAGE_HW, IMAGE_HW)),
}


def _flops(name: str) -> int:
    """FLOPs of one training step: ~3x the forward's multiply-adds (forward, two backward GEMMs)."""
    if name == "mlp":
        forward = sum(2 * MLP_BATCH * a * b for a, b in zip(MLP_SIZES, MLP_SIZES[1:]))
    else:  # conv1 6@5x5 on 28x28, conv2 16@5x5x6 on 10x10, fc 400-120-84-10
        forward = 2 * LENET_BATCH * (6 * 28 * 28 * 25 + 16 * 10 * 10 * 150
                                     + 400 * 120 + 120 * 84 + 84 * 10)
    return 3 * forward


def _data(name: str):
    shape = MODELS[name][1]
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape).astype(np.float32),
            rng.integers(0, MLP_SIZES[-1], shape[0]).astype(np.int64))


def _deepx_step(name: str, device: str):
    """A zero-argument training step of deepx on `device`, returning the loss as a float."""
    dx.manual_seed(0)
    model = MODELS[name][0]().to(device)
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    x_host, y_host = _data(name)
    x, y = dx.tensor(x_host, device=device), dx.tensor(y_host, device=device)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        dx.synchronize(device)  # OpenCL launches return before the kernels run
        return loss
    return step, model


def _torch_step(name: str, weights: dict):
    """The same model in PyTorch on the CPU, loaded with deepx's initial weights."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    if name == "mlp":
        layers = []
        for i, (a, b) in enumerate(zip(MLP_SIZES, MLP_SIZES[1:])):
            layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(MLP_SIZES) - 2 else [])
        model = nn.Sequential(*layers)
    else:
        model = nn.Module()
        model.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        model.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))
        model.forward = lambda x: model.classifier(model.features(x))
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    x_host, y_host = _data(name)
    x, y = torch.from_numpy(x_host), torch.from_numpy(y_host)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _initial_weights(name: str) -> dict:
    dx.manual_seed(0)
    model = MODELS[name][0]().to("numpy")
    return {k: v.numpy() for k, v in model.state_dict().items()}


_LOSSES: dict = {}


def _reference_losses(name: str) -> list:
    """Losses of the first two steps on deepx's NumPy backend (the reference)."""
    if name not in _LOSSES:
        step, _ = _deepx_step(name, "numpy")
        _LOSSES[name] = [float(step().item()) for _ in range(2)]
    return _LOSSES[name]


def _profile(step, model) -> dict:
    """Device ms per op over PROFILED_STEPS steps, per kernel, and one step's Chrome trace."""
    with profile() as prof:
        for _ in range(PROFILED_STEPS):
            step()
    with profile() as one:
        step()
    per_op = {op: ns / 1e6 / PROFILED_STEPS for op, ns in prof.by_op().items()}
    per_kernel = {f"{s.key[0]}/{s.key[1]}": s.total_ns / 1e6 / PROFILED_STEPS
                  for s in prof.stats(("op", "kernel"))}
    return {"ms_per_op": per_op, "ms_per_kernel": per_kernel,
            "launches_per_step": len(prof.records) / PROFILED_STEPS,
            "device_ms_per_step": prof.total_ns / 1e6 / PROFILED_STEPS,
            "table": prof.table(limit=25), "trace": one.chrome_trace()}


@pytest.mark.parametrize("impl", ["numpy", "opencl", "torch"])
@pytest.mark.parametrize("name", list(MODELS))
def test_train_step(benchmark, name, impl):
    want = _reference_losses(name)
    model = None
    if impl == "torch":
        step = _torch_step(name, _initial_weights(name))
    else:
        if impl == "opencl":
            opencl_backend()
        step, model = _deepx_step(name, impl)
    got = [float(step().item())]  # builds the programs on a cold cache
    start = time.perf_counter()
    got.append(float(step().item()))
    seconds = time.perf_counter() - start
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                               err_msg=f"{name}: {impl} losses vs deepx numpy")
    batch = MODELS[name][1][0]
    shape = "x".join(map(str, MODELS[name][1]))
    record(benchmark, "train_step", name, impl, shape, batch, _flops(name), 0,
           role={"numpy": "numpy", "opencl": "opencl", "torch": "other"}[impl])
    run(benchmark, step, seconds)
    if impl == "opencl":
        benchmark.extra_info["profile"] = _profile(step, model)
