"""The launch path (issue 11): prepared launches are reused, training steps make no hidden host
transfers or queue waits, and dx.synchronize waits for queued work. Timing is measured in
benchmarks/, never asserted here."""
from __future__ import annotations

import numpy as np
import pytest

import deepx as dx
import deepx.nn.functional as F
from deepx import nn


def _mlp(device):
    dx.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 10)).to(device)
    return model, dx.randn(16, 784, device=device), dx.randint(0, 10, (16,), device=device)


def _lenet(device):
    dx.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(16 * 5 * 5, 10)).to(device)
    return model, dx.randn(8, 1, 28, 28, device=device), dx.randint(0, 10, (8,), device=device)


@pytest.mark.parametrize("make", [_mlp, _lenet], ids=["mlp", "lenet"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_steps_make_no_host_round_trips(make, optimizer, opencl_device):
    model, x, y = make(opencl_device)
    opt = (dx.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if optimizer == "sgd"
           else dx.optim.Adam(model.parameters(), lr=1e-3))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step()  # builds programs and prepared launches
    counts = opencl_device.backend.runtime.counts
    before = dict(counts)
    for _ in range(3):
        loss = step()
    after = dict(counts)
    assert after["transfers"] == before["transfers"], "a training step copied to/from the host"
    assert after["waits"] == before["waits"], "a training step waited for the queue"
    assert after["launches"] > before["launches"]
    assert np.isfinite(loss.item())  # the read the user asks for: one transfer
    assert counts["transfers"] == after["transfers"] + 1


def test_cross_entropy_flags_bad_targets_on_the_device(opencl_device, monkeypatch):
    x = dx.randn(4, 3, device=opencl_device)
    bad = dx.tensor([0, 1, 3, 2], device=opencl_device)  # 3 is out of range, read by no host
    loss = F.cross_entropy(x, bad, reduction="none")
    assert np.isnan(loss.numpy()[2]) and np.isfinite(loss.numpy()[[0, 1, 3]]).all()
    with pytest.raises(dx.DeepxError, match="out of bounds for 3 classes"):
        F.cross_entropy(x, [0, 1, 3, 2])  # host data is checked for free
    with pytest.raises(dx.DeepxError, match="out of bounds for 3 classes"):
        F.cross_entropy(x.to("numpy"), bad.to("numpy"))
    monkeypatch.setenv("DEEPX_CHECK_TARGETS", "1")
    with pytest.raises(dx.DeepxError, match="out of bounds for 3 classes"):
        F.cross_entropy(x, bad)


def test_cross_entropy_mean_counts_ignored_rows_on_the_device(opencl_device):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    t = np.array([1, -100, 3, 0, -100])
    got = F.cross_entropy(dx.tensor(x, device=opencl_device), dx.tensor(t, device=opencl_device))
    ref = F.cross_entropy(dx.tensor(x, device="numpy"), dx.tensor(t, device="numpy"))
    np.testing.assert_allclose(got.item(), ref.item(), rtol=1e-6)


def test_prepared_launches_are_reused(opencl_device):
    backend = opencl_device.backend
    a, b = dx.randn(16, device=opencl_device), dx.randn(16, device=opencl_device)
    a + b
    plans = len(backend._plans)
    for _ in range(5):
        a + b
    assert len(backend._plans) == plans


def test_synchronize_waits_and_is_a_noop_on_numpy(opencl_device):
    dx.synchronize("numpy")
    counts = opencl_device.backend.runtime.counts
    waits = counts["waits"]
    x = dx.randn(1000, device=opencl_device)
    y = x * 2 + 1
    dx.synchronize(opencl_device)
    assert counts["waits"] == waits + 1
    np.testing.assert_allclose(y.numpy(), x.numpy() * 2 + 1, rtol=1e-6)


def _sgd_setup(device):
    model, x, y = _mlp(device)
    opt = dx.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, x, y, step


def test_graph_replay_is_the_eager_step(opencl_device):
    """Same model, same data: eager steps and graph replays give bit-identical parameters."""
    eager_model, eager_x, _, eager_step = _sgd_setup(opencl_device)
    graph_model, x, _, graph_step = _sgd_setup(opencl_device)
    eager_step()
    graph_step()  # warm-up: the first momentum step initialises the buffers
    g = dx.Graph()
    with dx.graph(g, device=opencl_device):
        static_loss = graph_step()  # runs once while recording
    eager_loss = eager_step()
    assert static_loss.item() == eager_loss.item()
    counts = opencl_device.backend.runtime.counts
    new_x = dx.randn(*x.shape, device=opencl_device)
    x.copy_(new_x)  # new data into the static input, outside the replay
    eager_x.copy_(new_x)
    launches = counts["launches"]
    for _ in range(3):
        g.replay()
        eager_loss = eager_step()
    assert static_loss.item() == eager_loss.item()
    for p_graph, p_eager in zip(graph_model.parameters(), eager_model.parameters()):
        np.testing.assert_array_equal(p_graph.numpy(), p_eager.numpy())
    assert counts["launches"] - launches >= 3 * len(g) and len(g) > 10


def test_graph_refuses_what_it_cannot_replay(opencl_device):
    x = dx.randn(4, device=opencl_device)
    g = dx.Graph()
    with pytest.raises(dx.DeepxError, match="not allowed while a deepx.Graph captures"):
        with dx.graph(g, device=opencl_device):
            (x * 2).sum().item()
    assert len(g) == 0
    with pytest.raises(dx.DeepxError, match="random numbers"):
        with dx.graph(g, device=opencl_device):
            dx.rand(3, device=opencl_device)
    with pytest.raises(dx.DeepxError, match="needs an OpenCL device"):
        dx.graph(g, device="numpy")
    with pytest.raises(dx.DeepxError, match="nothing was captured"):
        dx.Graph().replay()


@pytest.mark.parametrize("shape", [(1, 5, 7, 3), (2, 33, 13, 17), (1, 128, 64, 10),
                                   (3, 7, 129, 65)])
@pytest.mark.parametrize("per", ["column", "row"])
def test_matmul_fused_bias_matches_numpy(shape, per, opencl_device):
    """The bias added inside matmul_blocked equals matmul then add, on odd sizes too."""
    batch, m, k, n = shape
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal((batch, m, k)).astype(np.float32)
    b = rng.standard_normal((1, n, k)).astype(np.float32)
    bias = rng.standard_normal((n,) if per == "column" else (m, 1)).astype(np.float32)
    results = []
    for device in ("numpy", opencl_device):
        be = dx.device(device).backend
        out = be.matmul(be.from_numpy(a), be.from_numpy(b), transpose_b=True,
                        bias=be.from_numpy(bias))
        results.append(be.to_numpy(out))
    want = a @ np.swapaxes(b, 1, 2) + bias
    np.testing.assert_allclose(results[0], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(results[1], want, rtol=1e-4, atol=1e-4)
    be = opencl_device.backend
    with pytest.raises(dx.DeepxError, match="bias of shape"):
        be.matmul(be.from_numpy(a), be.from_numpy(b), transpose_b=True,
                  bias=be.from_numpy(np.zeros(n + 1, np.float32)))


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam", "amsgrad"])
def test_optimizer_step_is_one_launch_for_all_parameters(optimizer, opencl_device):
    """A multi-tensor step (torch's _fused_sgd_/_fused_adam_): one launch for the 8 parameters
    of LeNet, two for 20 (past a launch's 16 slots), the same updates as one launch each."""
    from deepx.backend.opencl import runtime

    def make(params):
        if optimizer.startswith("sgd"):
            return dx.optim.SGD(params, lr=0.1, momentum=0.9 if optimizer == "sgd_momentum" else 0)
        return dx.optim.Adam(params, lr=0.1, amsgrad=optimizer == "amsgrad")

    for count, want in ((8, 1), (20, 2)):
        rng = np.random.default_rng(count)
        host = [rng.standard_normal(i % 7 + 1 + 13 * (i % 3)).astype(np.float32)
                for i in range(count)]
        steps = {}
        for device in (opencl_device, "numpy"):
            params = [dx.tensor(h, device=device, requires_grad=True) for h in host]
            opt = make(params)
            for step in range(3):
                sum((p * p * (i + 1)).sum() for i, p in enumerate(params)).backward()
                names = []
                runtime.LAUNCH_LISTENERS.append(lambda op, name, *_, into=names: into.append(name))
                try:
                    opt.step()
                finally:
                    runtime.LAUNCH_LISTENERS.pop()
                if device is opencl_device and step:  # the first also fills the new state
                    kernel = "optim_sgd" if optimizer.startswith("sgd") else "optim_adam"
                    assert names == [kernel] * want, (count, names)
                opt.zero_grad()
            steps[device] = [p.detach().numpy() for p in params]
        for got, ref in zip(steps[opencl_device], steps["numpy"]):
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_synchronize_and_reads_wait_for_every_launch(opencl_device):
    """synchronize() polls the last launch briefly, then blocks: either way every launch has
    completed when it returns; a host read (.item()) too."""
    import pyopencl as cl

    from deepx.backend.opencl import runtime

    events = []
    runtime.LAUNCH_LISTENERS.append(lambda op, name, size, event: events.append(event))
    try:
        a = dx.randn(512, 512, device=opencl_device)
        b = a @ a @ a  # a few ms of work: longer than the poll
        dx.synchronize(opencl_device)
        assert events and all(e.command_execution_status == cl.command_execution_status.COMPLETE
                              for e in events)
        events.clear()
        total = (b @ a).sum()
        value = total.item()
        assert all(e.command_execution_status == cl.command_execution_status.COMPLETE
                   for e in events)
        assert np.isfinite(value)
    finally:
        runtime.LAUNCH_LISTENERS.pop()


def test_pocl_worker_threads_are_pinned_unless_the_user_says_otherwise(opencl_device):
    """deepx sets POCL_AFFINITY=1 before PoCL starts (steadier steps); a user's value wins."""
    import os
    import subprocess
    import sys

    code = ("import os, deepx as dx; dx.randn(2, device='opencl'); "
            "print(os.environ.get('POCL_AFFINITY'))")
    for given, want in ((None, "1"), ("0", "0")):
        env = {k: v for k, v in os.environ.items() if k != "POCL_AFFINITY"}
        if given is not None:
            env["POCL_AFFINITY"] = given
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, timeout=120)
        assert out.stdout.strip().splitlines()[-1] == want


def test_uploads_do_not_wait_and_copy_the_host_data(opencl_device):
    """A host-to-device copy does not wait for queued kernels, and reads its own copy of the
    host array: changing the array right after dx.tensor() changes nothing."""
    import pyopencl as cl

    from deepx.backend.opencl import runtime

    a = dx.randn(2048, 2048, device=opencl_device)
    dx.synchronize(opencl_device)
    events = []
    runtime.LAUNCH_LISTENERS.append(lambda op, name, size, event: events.append(event))
    try:
        b = a @ a  # ~0.1 s of queued work on a CPU: an upload must not wait for it
    finally:
        runtime.LAUNCH_LISTENERS.pop()
    host = np.arange(12, dtype=np.float32)
    t = dx.tensor(host, device=opencl_device)
    still_running = events[-1].command_execution_status != cl.command_execution_status.COMPLETE
    host[:] = -1  # at once, before the copy has necessarily run
    assert still_running, "dx.tensor() waited for the queued matmul"
    np.testing.assert_array_equal(t.numpy(), np.arange(12, dtype=np.float32))
    assert np.isfinite(b[0, 0].item())
