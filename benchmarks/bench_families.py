"""Op families, three ways: pure-Python loops, NumPy vectorised, deepx on its OpenCL device.

Families: elementwise activations (relu, sigmoid, tanh), reductions (row sums, softmax),
softmax-cross-entropy (forward, mean over the batch), max pooling (BENCH_SHAPES.md's pooling
set) and one Adam step. The loops run only at sizes where they finish in about a second.
Before anything is timed, each implementation's result is checked against NumPy's.
The `probe` family measures the OpenCL device's roofline: peak FMA rate and triad bandwidth.

    python -m pytest benchmarks/bench_families.py --benchmark-enable
"""
from __future__ import annotations

import math
import time

import naive
import numpy as np
import pytest
from shapes import POOL, QUICK, opencl_backend, record, run

import deepx as dx
from deepx.nn import functional as F  # noqa: N812 - PyTorch's spelling
from deepx.optim import Adam

IMPLS = ["naive", "numpy", "opencl"]
ELEMENTS = [1 << 12, 1 << 16] if QUICK else [1 << p for p in range(12, 24, 2)]
NAIVE_ELEMENTS = 1 << 18  # ~0.1 s of list comprehension
ROW_LENGTH = 1024  # softmax / sum rows of 1024, like a wide classifier
CE_SHAPES = [(128, 10), (64, 1000)] if QUICK else [(128, 10), (64, 1000), (256, 1000),
                                                    (1024, 1000)]
POOL_SHAPES = [POOL[0], POOL[2]] if QUICK else POOL


def _sync(t: dx.Tensor) -> dx.Tensor:
    dx.synchronize(t.device)  # OpenCL launches return before the kernels run
    return t


def _opencl(array: np.ndarray) -> dx.Tensor:
    """`array` as a tensor on deepx's default OpenCL device (skips when there is none)."""
    opencl_backend()
    return dx.tensor(array, device="opencl")


def _bench(benchmark, impl, fns, check, **labels) -> None:
    """Check `impl`'s result against NumPy's at this size, then time it.

    The check comes first, before any further call: the Adam step updates its state in place.
    """
    if impl not in fns:
        pytest.skip(f"{impl}: not run above {NAIVE_ELEMENTS} elements (too slow)")
    want = fns["numpy"]()
    got = fns[impl]()  # also the warm-up: builds the OpenCL programs
    check(got, want, f"{labels['family']} {labels['op']}: {impl} vs numpy at {labels['shape']}")
    start = time.perf_counter()
    fns[impl]()
    seconds = time.perf_counter() - start
    record(benchmark, impl=impl, role=impl, **labels)
    run(benchmark, fns[impl], seconds)


def _close(rtol, atol):
    def check(got, want, msg):
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64).reshape(np.shape(want)),
                                   want, rtol=rtol, atol=atol, err_msg=msg)
    return check


# ---------------------------------------------------------------- elementwise activations
def _sigmoid_np(x):
    # the tanh identity never overflows and avoids np.where, which took 17 ms of a 20 ms
    # sigmoid over 4M random floats (its mask is unpredictable)
    return 0.5 + 0.5 * np.tanh(0.5 * x)


ACTIVATIONS = {
    # name: (naive, numpy, deepx, nominal FLOPs per element)
    "relu": (naive.relu, lambda x: np.maximum(x, 0), F.relu, 1),
    "sigmoid": (naive.sigmoid, _sigmoid_np, F.sigmoid, 4),
    "tanh": (naive.tanh, np.tanh, F.tanh, 4),
}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("n", ELEMENTS)
@pytest.mark.parametrize("op", list(ACTIVATIONS))
def test_activation(benchmark, op, n, impl):
    naive_fn, numpy_fn, dx_fn, flops = ACTIVATIONS[op]
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    fns = {"numpy": lambda: numpy_fn(x)}
    if n <= NAIVE_ELEMENTS:
        x_list = x.tolist()
        fns["naive"] = lambda: naive_fn(x_list)
    if impl == "opencl":
        xd = _opencl(x)

        def on_device():
            with dx.no_grad():
                return _sync(dx_fn(xd))
        fns["opencl"] = on_device
    check = _close(1e-5, 1e-6)
    _bench(benchmark, impl, fns, lambda got, want, msg: check(
        got.numpy() if isinstance(got, dx.Tensor) else got, want, msg),
        family="activation", op=op, shape=f"({n},)", size=n, flops=flops * n, nbytes=8 * n)


# ---------------------------------------------------------------- reductions and softmax
REDUCTIONS = {
    # name: (naive on rows, numpy, deepx, FLOPs per element, bytes per element written)
    "sum": (naive.sum_rows, lambda x: x.sum(axis=1), lambda t: t.sum(dim=1), 1, 0),
    "softmax": (naive.softmax_rows, lambda x: _softmax_np(x), lambda t: F.softmax(t, dim=1), 5,
                4),
}


def _softmax_np(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("n", ELEMENTS)
@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_reduction(benchmark, op, n, impl):
    naive_fn, numpy_fn, dx_fn, flops, out_bytes = REDUCTIONS[op]
    rows = max(1, n // ROW_LENGTH)
    cols = n // rows
    x = np.random.default_rng(n).standard_normal((rows, cols)).astype(np.float32)
    fns = {"numpy": lambda: numpy_fn(x)}
    if n <= NAIVE_ELEMENTS:
        x_list = x.tolist()
        fns["naive"] = lambda: naive_fn(x_list)
    if impl == "opencl":
        xd = _opencl(x)

        def on_device():
            with dx.no_grad():
                return _sync(dx_fn(xd))
        fns["opencl"] = on_device
    # float32 sums of 1024 normals: rounding ~ sqrt(1024) * 6e-8 * 32
    check = _close(1e-4, 1e-4 if op == "sum" else 1e-6)
    _bench(benchmark, impl, fns, lambda got, want, msg: check(
        got.numpy() if isinstance(got, dx.Tensor) else got, want, msg),
        family="reduction", op=op, shape=f"({rows},{cols})", size=n, flops=flops * n,
        nbytes=4 * n + (out_bytes * n if out_bytes else 4 * rows))


# ---------------------------------------------------------------- softmax cross-entropy
def _cross_entropy_np(x, target):
    top = x.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(x - top).sum(axis=1))
    return float((lse - x[np.arange(len(x)), target]).mean())


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cross_entropy(benchmark, shape, impl):
    n, c = shape
    rng = np.random.default_rng(n * c)
    x = rng.standard_normal((n, c)).astype(np.float32)
    target = rng.integers(0, c, n)
    x_list, t_list = x.tolist(), target.tolist()
    fns = {"numpy": lambda: _cross_entropy_np(x, target),
           "naive": lambda: naive.cross_entropy(x_list, t_list)}
    if impl == "opencl":
        xd, td = _opencl(x), _opencl(target)

        def on_device():
            with dx.no_grad():
                return _sync(F.cross_entropy(xd, td))
        fns["opencl"] = on_device
    check = _close(1e-5, 1e-5)
    _bench(benchmark, impl, fns, lambda got, want, msg: check(
        got.item() if isinstance(got, dx.Tensor) else got, want, msg),
        family="cross_entropy", op="forward", shape=f"({n},{c})", size=n * c,
        flops=4 * n * c, nbytes=4 * n * c + 8 * n)


# ---------------------------------------------------------------- max pooling
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("pool", POOL_SHAPES, ids=lambda p: "x".join(map(str, p)))
def test_max_pool2d(benchmark, pool, impl):
    n, c, h, w, k, s = pool
    x = np.random.default_rng(h * c).standard_normal((n, c, h, w)).astype(np.float32)
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    view = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    x_list = x.tolist()
    fns = {"numpy": lambda: view.max(axis=(4, 5)),
           "naive": lambda: naive.max_pool2d(x_list, k, s)}
    if impl == "opencl":
        xd = _opencl(x)

        def on_device():
            with dx.no_grad():
                return _sync(F.max_pool2d(xd, k, s))
        fns["opencl"] = on_device
    check = _close(0, 0)
    _bench(benchmark, impl, fns, lambda got, want, msg: check(
        got.numpy() if isinstance(got, dx.Tensor) else got, want, msg),
        family="pooling", op="max_pool2d", shape=f"({n},{c},{h},{w}) k{k} s{s}",
        size=n * c * h * w, flops=n * c * oh * ow * k * k, nbytes=4 * (n * c * h * w
                                                                    + n * c * oh * ow))


# ---------------------------------------------------------------- one Adam step
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8


class NumpyAdam:
    """Adam on float32 arrays, vectorised and in place, like torch.optim.Adam."""

    def __init__(self, param: np.ndarray) -> None:
        self.param = param
        self.m = np.zeros_like(param)
        self.v = np.zeros_like(param)
        self.step_count = 0
        self.tmp = np.empty_like(param)

    def step(self, grad: np.ndarray) -> None:
        self.step_count += 1
        c1 = 1 - BETA1 ** self.step_count
        c2 = 1 - BETA2 ** self.step_count
        self.m *= BETA1
        self.m += (1 - BETA1) * grad
        self.v *= BETA2
        np.multiply(grad, grad, out=self.tmp)
        self.tmp *= 1 - BETA2
        self.v += self.tmp
        np.sqrt(self.v, out=self.tmp)
        self.tmp /= math.sqrt(c2)
        self.tmp += EPS
        np.divide(self.m, self.tmp, out=self.tmp)
        self.tmp *= LR / c1
        self.param -= self.tmp


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("n", ELEMENTS)
def test_adam_step(benchmark, n, impl):
    rng = np.random.default_rng(n)
    p0 = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)

    # one step from the same start state for the check; the timed calls keep stepping
    np_adam = NumpyAdam(p0.copy())
    fns = {"numpy": lambda: (np_adam.step(g), np_adam.param)[1]}
    if n <= NAIVE_ELEMENTS:
        p_list, g_list = p0.tolist(), g.tolist()
        m_list, v_list = [0.0] * n, [0.0] * n
        steps = [0]

        def on_lists():
            steps[0] += 1
            naive.adam_step(p_list, g_list, m_list, v_list, steps[0], LR, BETA1, BETA2, EPS)
            return p_list
        fns["naive"] = on_lists
    if impl == "opencl":
        param = _opencl(p0).requires_grad_()
        param.grad = _opencl(g)
        opt = Adam([param], lr=LR, betas=(BETA1, BETA2), eps=EPS)

        def on_device():
            opt.step()
            return _sync(param)
        fns["opencl"] = on_device
    check = _close(1e-5, 1e-6)
    _bench(benchmark, impl, fns, lambda got, want, msg: check(
        got.detach().numpy() if isinstance(got, dx.Tensor) else got, want, msg),
        family="optimizer", op="adam_step", shape=f"({n},)", size=n, flops=14 * n,
        nbytes=28 * n)


# ---------------------------------------------------------------- roofline probes
def _warm_seconds(fn) -> float:
    """Seconds of one warm call (the first call builds the program)."""
    fn()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


PROBE_ITERS = 2000 if QUICK else 20000
PROBE_GLOBAL = 64  # work-items of local size 1: plenty for any CPU's cores
TRIAD_N = 1 << 22 if QUICK else 1 << 24  # a multiple of 16: the kernel reads float16


def test_probe_fma(benchmark):
    """Peak FLOP rate of the device: independent float16 fused multiply-add chains."""
    be = opencl_backend()
    knl = be.kernel("probe.cl", "probe_fma", np.float32, op="probe_fma")
    out = be.empty((PROBE_GLOBAL,), np.float32)

    def fn():
        be.launch("probe_fma", knl, (PROBE_GLOBAL,), (1,), np.int32(PROBE_ITERS),
                  np.float32(0.5), out.data)
        be.runtime.finish()
    seconds = _warm_seconds(fn)
    assert np.isfinite(be.to_numpy(out)).all()
    record(benchmark, "probe", "fma_peak", "opencl", f"{PROBE_GLOBAL} x {PROBE_ITERS} rounds",
           PROBE_GLOBAL, PROBE_GLOBAL * PROBE_ITERS * 384, 4 * PROBE_GLOBAL, role="probe")
    run(benchmark, fn, seconds)


def test_probe_triad(benchmark):
    """Peak bandwidth of the device: STREAM's triad out = a + s * b, in float16 vectors."""
    be = opencl_backend()
    knl = be.kernel("probe.cl", "probe_triad", np.float32, op="probe_triad")
    a = be.from_numpy(np.ones(TRIAD_N, np.float32))
    b = be.from_numpy(np.full(TRIAD_N, 2.0, np.float32))
    out = be.empty((TRIAD_N,), np.float32)

    def fn():
        be.launch_1d("probe_triad", knl, TRIAD_N // 16, np.int32(TRIAD_N // 16),
                     np.float32(3.0), a.data, b.data, out.data)
        be.runtime.finish()
    seconds = _warm_seconds(fn)
    assert (be.to_numpy(out) == 7.0).all()
    record(benchmark, "probe", "triad_bandwidth", "opencl", f"({TRIAD_N},)", TRIAD_N,
           2 * TRIAD_N, 12 * TRIAD_N, role="probe")
    run(benchmark, fn, seconds)


def test_numpy_stream(benchmark):
    """The host's bandwidth through NumPy: out = a + b moves the triad's 12 bytes per element."""
    a = np.ones(TRIAD_N, np.float32)
    b = np.full(TRIAD_N, 2.0, np.float32)
    out = np.empty_like(a)

    def fn():
        np.add(a, b, out=out)
    seconds = _warm_seconds(fn)
    assert (out == 3.0).all()
    record(benchmark, "probe", "triad_bandwidth", "numpy", f"({TRIAD_N},)", TRIAD_N,
           TRIAD_N, 12 * TRIAD_N, role="numpy")
    run(benchmark, fn, seconds)
