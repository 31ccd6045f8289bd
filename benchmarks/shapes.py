"""Reference shapes for the benchmarks (from /work/shared/BENCH_SHAPES.md) and the quick switch.

DEEPX_BENCH_QUICK=1 (set by `python -m deepx report --quick`) keeps only the small sizes, so
the whole suite finishes in well under three minutes on a 2-core CPU. Every benchmark records
what it measured with `record()`, so the report can turn a median time into GFLOP/s and GB/s.
"""
from __future__ import annotations

import os

QUICK = os.environ.get("DEEPX_BENCH_QUICK", "") not in ("", "0")
# DEEPX_BENCH_SYSTEM=python|numpy|opencl|torch (set by `python -m deepx report`): this process
# times only that system's benchmarks, so no library's thread pool competes with another's.
SYSTEM = os.environ.get("DEEPX_BENCH_SYSTEM", "")
# impl name of a benchmark -> the system (process) that times it
SYSTEM_OF_IMPL = {"naive": "python", "loops": "python", "rows": "python",
                  "numpy": "numpy", "broadcast": "numpy", "einsum": "numpy",
                  "opencl": "opencl", "cl_naive": "opencl", "cl_tiled": "opencl",
                  "cl_tuned": "opencl", "torch": "torch"}

# ---------------------------------------------------------------- GEMM, DeepBench-style
# (M, N, K, transpose_a, transpose_b)
GEMM = [
    (512, 16, 512, False, False), (512, 16, 512, False, True), (1024, 32, 512, False, False),
    (1024, 700, 512, False, False), (1024, 700, 512, True, False),
    (1760, 16, 1760, False, False), (1760, 16, 1760, True, False),
    (1760, 128, 1760, False, False), (2560, 64, 2560, False, False),
    (3072, 32, 1024, False, False), (3072, 1, 1024, False, False), (35, 700, 2048, False, False),
    (128, 1500, 1280, False, False), (176, 1500, 1408, False, False),
    (3072, 1500, 128, False, False),
]
GEMM_EDGE = [(1, 1, 1), (7, 13, 127), (127, 1, 1000), (1000, 7, 13), (65, 63, 129)]  # (M, N, K)
SQUARE = [64, 128] if QUICK else [64, 128, 256, 512, 1024, 2048]
CLASSIC = (64, 32, 64)  # (64, 32) @ (32, 64) as (M, K, N): the loops-vs-library example

# ---------------------------------------------------------------- convolution and pooling
# (N, C, H, W, K, R, S, pad_h, pad_w, stride_h, stride_w)
LENET_CONV = [(64, 1, 28, 28, 6, 5, 5, 2, 2, 1, 1), (64, 6, 14, 14, 16, 5, 5, 0, 0, 1, 1)]
# (N, C, H, W, kernel, stride)
POOL = [(64, 6, 28, 28, 2, 2), (1, 64, 112, 112, 3, 2), (1, 256, 13, 13, 3, 2)]

# ---------------------------------------------------------------- end to end
MLP_SIZES = (784, 512, 256, 10)
MLP_BATCH = 128
LENET_BATCH = 64
IMAGE_HW = 28


def limit(sizes, largest):
    """The sizes not above `largest` (the cap where an implementation still finishes fast)."""
    return [s for s in sizes if s <= largest]


def record(benchmark, family, op, impl, shape, size, flops, nbytes, **extra) -> None:
    """Label one result: family/op/impl, a shape string, a size for the x axis, FLOPs, bytes.

    `flops` counts the arithmetic of the textbook algorithm (2MNK for matmul); `nbytes` the
    least traffic (every input read once, every output written once), so GB/s is a lower bound.
    """
    benchmark.group = f"{family}:{op}:{shape}"
    benchmark.extra_info.update(family=family, op=op, impl=impl, shape=str(shape),
                                size=int(size), flops=int(flops), bytes=int(nbytes), **extra)


def run(benchmark, fn, seconds_per_call=None) -> None:
    """Time fn(); calls that take a second or more run a fixed 3 rounds (1 in quick mode).

    `seconds_per_call` is the time of the agreement check's call; pytest-benchmark's own
    calibration would otherwise spend its whole budget on one slow pure-Python call.
    """
    if seconds_per_call is not None and seconds_per_call >= 0.25:
        rounds = 1 if QUICK else 3
        benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)
    else:
        benchmark(fn)


def _opencl_backend_or_error():
    import deepx as dx

    try:
        return dx.device("opencl").backend, None
    except Exception as exc:  # noqa: BLE001 - no pyopencl, no ICD or no device: no column
        return None, exc


def opencl_usable() -> bool:
    """True when deepx has an OpenCL device that builds its kernels (and this process may use it).

    A process timing another system never creates an OpenCL context (PoCL's threads would
    share its cores): its results are then checked against a NumPy neighbour instead.
    """
    if SYSTEM and SYSTEM != "opencl":
        return False
    return _opencl_backend_or_error()[0] is not None


def opencl_backend():
    """The OpenCL backend of deepx's default OpenCL device; skips the benchmark when none works."""
    import pytest

    backend, exc = _opencl_backend_or_error()
    if backend is None:
        pytest.skip(f"no usable OpenCL device: {exc}")
    return backend
