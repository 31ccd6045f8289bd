"""Training on the OpenCL device: memory stays flat, results are deterministic."""
from __future__ import annotations

import gc

import numpy as np

import deepx as dx
import deepx.nn as nn
import deepx.nn.functional as F
from deepx import optim
from deepx.autograd import tape


def _pool(device):
    return device.backend.runtime.pool


def _mlp_step(device):
    dx.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 3)).to(device)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = dx.randn(16, 20, device=device)
    y = dx.randint(0, 3, (16,), device=device)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return model, step


def test_thousand_training_steps_keep_pool_and_tape_flat(opencl_device):
    _, step = _mlp_step(opencl_device)
    for _ in range(20):  # momentum buffers and the pool's free lists settle first
        first = step()
    gc.collect()
    pool, nodes = _pool(opencl_device), len(tape)
    active = pool.active_bytes
    for _ in range(1000):
        last = step()
    gc.collect()
    assert pool.active_bytes == active, "device memory in use grew over 1,000 steps"
    assert len(tape) == nodes
    assert last < first  # it trained


def test_inference_without_no_grad_keeps_memory_flat(opencl_device):
    model, _ = _mlp_step(opencl_device)
    x = dx.randn(64, 20, device=opencl_device)
    for _ in range(5):
        out = model(x)
    gc.collect()
    pool, nodes = _pool(opencl_device), len(tape)
    active = pool.active_bytes
    for _ in range(500):
        out = model(x)
    del out
    gc.collect()
    assert pool.active_bytes <= active and len(tape) <= nodes


def _lenet_grads(device):
    dx.manual_seed(3)
    model = dx.models.lenet().to(device)
    x = dx.randn(8, 1, 28, 28, device=device)
    y = dx.randint(0, 10, (8,), device=device)
    F.cross_entropy(model(x), y).backward()
    return [p.grad.numpy() for p in model.parameters()]


def test_forward_backward_is_bit_identical_across_runs(opencl_device):
    first, second = _lenet_grads(opencl_device), _lenet_grads(opencl_device)
    for a, b in zip(first, second):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
