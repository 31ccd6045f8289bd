"""Device limits honoured, not assumed; devices chosen by name; `python -m deepx info`.

The tuned paths (matmul tiles, tree reductions, softmax rows and trees, norm statistics) run
here under a small GPU's limits (256 work-items per group, 32 KiB of local memory) and a tiny
device's (64, 4 KiB), imposed on whatever device the session has (PoCL in CI, Oclgrind in
its stage), and must give NumPy's answers with every launch inside those limits.
"""
from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import deepx as dx
from deepx.backend import ArgReduceOp, ReduceOp, UnaryOp
from deepx.backend.numpy_backend import NumpyBackend
from deepx.errors import DeviceError, DTypeError

cl = pytest.importorskip("pyopencl")
from deepx.backend.opencl import devices  # noqa: E402 - needs pyopencl
from deepx.backend.opencl.backend import OpenCLBackend  # noqa: E402
from deepx.backend.opencl.matmul_config import LADDER  # noqa: E402

NB = NumpyBackend()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module", params=[(256, 32 * 1024), (64, 4 * 1024)],
                ids=["small-gpu", "tiny"])
def small(request, opencl_device):
    """A second backend on the session's device, with a smaller device's limits (and type GPU)."""
    p, d = opencl_device.index
    limits = devices.Limits.of(devices.get_device(p, d)).capped(*request.param)
    return OpenCLBackend(p, d, limits=limits)


@contextlib.contextmanager
def recorded(be):
    """(kernel name, local size, bytes of local-memory arguments) of each launch on be."""
    seen = []
    real = be.runtime.launch

    def launch(op, kernel, global_size, local_size, *args):
        local_bytes = sum(a.size for a in args if isinstance(a, cl.LocalMemory))
        seen.append((kernel.function_name, local_size, local_bytes))
        return real(op, kernel, global_size, local_size, *args)

    real_prepare = be.runtime.prepare

    def prepare(op, file, name, options, global_size, local_size, args):
        # a prepared launch fixes its local size and local memory once, when it is built
        local_bytes = sum(a.size for a in args if isinstance(a, cl.LocalMemory))
        seen.append((name, local_size, local_bytes))
        return real_prepare(op, file, name, options, global_size, local_size, args)

    be.runtime.launch = launch
    be.runtime.prepare = prepare
    try:
        yield seen
    finally:
        del be.runtime.launch
        del be.runtime.prepare


def check(be, got, want, tol=0.0):
    host = be.to_numpy(got)
    assert host.shape == np.shape(want) and host.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(host, want, rtol=tol, atol=tol, equal_nan=True)


def test_small_limits_choose_fitting_tiles(small):
    limits = small.runtime.limits
    cfg = small.matmul_config(np.float32)
    assert cfg.rts_m * cfg.rts_n <= limits.max_work_group_size
    assert cfg.local_bytes(4) <= limits.local_mem_size
    assert small.local_1d <= limits.max_work_group_size
    if limits.max_work_group_size < 256:
        assert cfg != LADDER[0]  # the tiny device gets a smaller rung of the ladder


def test_tuned_paths_under_small_limits(small):
    limits = small.runtime.limits
    rng = np.random.default_rng(31)
    cfg = small.matmul_config(np.float32)
    with recorded(small) as seen:
        for t in sorted({cfg.tile_m, cfg.tile_n, cfg.tile_k}):
            for m, n, k in ((t - 1, t + 1, t), (t + 1, t - 1, t + 1)):
                a = rng.standard_normal((2, k, m)).astype(np.float32)
                b = rng.standard_normal((1, k, n)).astype(np.float32)
                got = small.matmul(small.from_numpy(a), small.from_numpy(b), True, False)
                want = NB.matmul(a, b, True, False)
                bound = NB.matmul(np.abs(a), np.abs(b), True, False)
                err = np.abs(small.to_numpy(got) - want)
                assert np.all(err <= 2 * k * np.finfo(np.float32).eps * bound + 1e-30)
        x = rng.standard_normal((3, 300)).astype(np.float32)
        dev_x = small.from_numpy(x)
        check(small, small.reduce(ReduceOp.SUM, dev_x, (1,), False), x.sum(axis=1), 1e-4)
        for op in (ReduceOp.MAX, ReduceOp.MIN):
            check(small, small.reduce(op, dev_x, (1,), False), NB.reduce(op, x, (1,), False))
        for op in ArgReduceOp:
            check(small, small.arg_reduce(op, dev_x, 1, False), NB.arg_reduce(op, x, 1, False))
        for shape in ((3, 300), (64, 17)):  # a long row: the tree; many rows: a work-item each
            logits = rng.standard_normal(shape).astype(np.float32)
            dev = small.from_numpy(logits)
            for log in (False, True):
                y = small.softmax(dev, 1, log)
                check(small, y, NB.softmax(logits, 1, log), 1e-5)
                grad = small.softmax_backward(y, dev, 1, log)
                check(small, grad, NB.softmax_backward(small.to_numpy(y), logits, 1, log), 1e-4)
        z = rng.standard_normal((5, 3, 70)).astype(np.float32)
        check(small, small.norm_stats(small.from_numpy(z)), NB.norm_stats(z), 1e-5)
    names = {name for name, _, _ in seen}
    assert {"matmul_tiled", "reduce_tree", "argreduce_tree", "softmax_forward_tree",
            "softmax_forward", "softmax_backward_tree", "norm_stats"} <= names
    for name, local, local_bytes in seen:
        items = math.prod(local) if local else 1
        static = cfg.local_bytes(4) if name == "matmul_tiled" else 0
        assert items <= limits.max_work_group_size, (name, local)
        assert local_bytes + static <= limits.local_mem_size, (name, local_bytes)


def test_limits_from_the_environment(opencl_device, monkeypatch):
    device = devices.get_device(*opencl_device.index)
    monkeypatch.setenv("DEEPX_DEVICE_LIMITS", "small-gpu")
    limits = devices.limits_of(device)
    assert limits.max_work_group_size <= 256 and limits.local_mem_size <= 32 * 1024
    assert limits.type == cl.device_type.GPU
    monkeypatch.setenv("DEEPX_DEVICE_LIMITS", "work_group=64,local_mem=4096")
    assert devices.limits_of(device).max_work_group_size <= 64
    monkeypatch.setenv("DEEPX_DEVICE_LIMITS", "work_group=lots")
    with pytest.raises(DeviceError, match="DEEPX_DEVICE_LIMITS"):
        devices.limits_of(device)


class NoFp64:
    """A device-capability stub: the real device, reporting no double precision."""

    def __init__(self, device):
        self._device = device
        self.extensions = " ".join(e for e in device.extensions.split() if e != "cl_khr_fp64")
        self.double_fp_config = 0

    def __getattr__(self, name):
        return getattr(self._device, name)


def test_device_without_fp64_gives_the_clear_float64_error(opencl_device, monkeypatch):
    from deepx.backend.opencl import runtime

    p, d = opencl_device.index
    assert not devices.has_fp64(NoFp64(devices.get_device(p, d)))
    monkeypatch.setattr(runtime, "has_fp64", lambda device: devices.has_fp64(NoFp64(device)))
    be = OpenCLBackend(p, d)
    assert be.runtime.fp64 is False
    with pytest.raises(DTypeError, match=r"unary: float64 is not supported .*cl_khr_fp64"):
        be.unary(UnaryOp.EXP, be.from_numpy(np.ones(3)))
    with pytest.raises(DTypeError, match=r"float64 .*use float32"):
        be.full((2,), 1.0, dx.float64)
    x = np.arange(-3, 4, dtype=np.int32)  # integer math falls back to float, not double
    assert be.real_dtype(dx.int32) is dx.float32
    check(be, be.unary(UnaryOp.ABS, be.from_numpy(x)), np.abs(x))


# ---------------------------------------------------------------- choosing a device by name
def test_device_by_name_fragment(opencl_device):
    device = devices.get_device(*opencl_device.index)
    version = device.platform.version.strip()  # unique where two installs share a name
    assert dx.device(f"opencl:{version}") == opencl_device
    named = dx.device(f"opencl:{device.platform.name.split()[0]}")
    assert devices.get_device(*named.index).platform.name == device.platform.name
    with pytest.raises(DeviceError, match="no usable OpenCL device matches 'no-such-runtime'"):
        dx.device("opencl:no-such-runtime")
    assert dx.device(f"opencl:{opencl_device.index[0]}:{opencl_device.index[1]}") == opencl_device


class Stub:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def test_same_platform_name_told_apart_by_version(monkeypatch):
    pocl = "Portable Computing Language"
    cpu = Stub(name="pthread-AMD EPYC", vendor="AuthenticAMD", type=cl.device_type.CPU)
    first = Stub(name=pocl, version="OpenCL 3.0 PoCL 3.0-rc2", devs=[cpu])
    second = Stub(name=pocl, version="OpenCL 3.0 PoCL 3.1+debian", devs=[cpu])
    cpu.driver_version = ""
    monkeypatch.setattr(devices, "_platforms", lambda: [first, second])
    monkeypatch.setattr(devices, "_devices", lambda platform: platform.devs)
    monkeypatch.setattr(devices, "_build_problem",
                        lambda p, d: "error: unknown target CPU 'generic'" if p == 0 else None)
    assert devices.find_index("pocl") == (1, 0)  # the first match that builds
    assert devices.find_index("3.1+DEBIAN") == (1, 0)
    with pytest.raises(DeviceError, match=r"opencl:0:0 matches but cannot build: .*generic"):
        devices.find_index("3.0-rc2")
    monkeypatch.setattr(devices, "_DEFAULT", [])
    assert devices.default_index() == (1, 0)
    assert "skipped opencl:0:0" in devices.default_reason()


def _deepx(*args, **env):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                          cwd=ROOT, env=dict(os.environ, **env), check=True).stdout


def test_deepx_device_accepts_a_fragment_and_info_says_why(opencl_device):
    device = devices.get_device(*opencl_device.index)
    spec = f"opencl:{device.platform.version.strip()}"
    out = _deepx("-c", "import deepx; print(deepx.default_device())", DEEPX_DEVICE=spec)
    assert out.strip().splitlines()[-1] == str(opencl_device)
    info = _deepx("-m", "deepx", "info", DEEPX_DEVICE=spec)
    line, = [ln for ln in info.splitlines() if ln.startswith(f"{opencl_device}:")]
    assert "test build=passed" in line and line.endswith("<- default")
    assert f"platform_version={device.platform.version.strip()}" in line
    assert f"default device: {opencl_device} (DEEPX_DEVICE={spec})" in info


def test_a_simulator_is_never_the_default_before_a_real_device(monkeypatch):
    both = cl.device_type.CPU | cl.device_type.GPU | cl.device_type.ACCELERATOR
    oclgrind = Stub(name="Oclgrind Simulator", type=both)
    cpu = Stub(name="pthread-AMD EPYC", type=cl.device_type.CPU)
    gpu = Stub(name="NVIDIA GeForce", type=cl.device_type.GPU)
    platforms = [Stub(devs=[oclgrind]), Stub(devs=[cpu]), Stub(devs=[gpu])]
    monkeypatch.setattr(devices, "_platforms", lambda: platforms)
    monkeypatch.setattr(devices, "_devices", lambda platform: platform.devs)
    monkeypatch.setattr(devices, "_build_problem", lambda p, d: None)
    monkeypatch.setattr(devices, "_DEFAULT", [])
    assert devices.default_index() == (2, 0)
    assert devices.default_reason() == "the first OpenCL GPU that builds deepx's kernels"
    platforms.pop()  # no GPU: the CPU, not the simulator listed first
    monkeypatch.setattr(devices, "_DEFAULT", [])
    assert devices.default_index() == (1, 0)
    assert "first device that does (CPU)" in devices.default_reason()
    platforms.pop()
    monkeypatch.setattr(devices, "_DEFAULT", [])
    assert devices.default_index() == (0, 0)
    assert "simulator" in devices.default_reason()
