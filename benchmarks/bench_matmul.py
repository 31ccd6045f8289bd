"""float32 square matmul, deepx's OpenCL kernel against NumPy (BLAS) in the same run.

Run: POCL_MAX_PTHREAD_COUNT=2 python -m pytest benchmarks/bench_matmul.py --benchmark-enable
Each OpenCL call is timed until queue.finish(), so the time is the kernel's, not its enqueue.
extra_info records flops = 2 n^3, so GFLOP/s = flops / time (printed in the summary).
"""
from __future__ import annotations

import numpy as np
import pytest
from shapes import opencl_backend, record

SIZES = (256, 512, 1024, 2048)


@pytest.mark.parametrize("impl", ["numpy", "opencl"])
@pytest.mark.parametrize("n", SIZES)
def test_matmul_square(benchmark, n, impl):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    if impl == "numpy":
        def fn():
            return a @ b
    else:
        be = opencl_backend()
        da, db = be.from_numpy(a[None]), be.from_numpy(b[None])

        def fn():
            out = be.matmul(da, db)
            be.runtime.finish()
            return out
    got = fn()  # warm-up: program build and first launch happen outside the timing
    host = got if impl == "numpy" else be.to_numpy(got)[0]
    np.testing.assert_allclose(host, a @ b, rtol=1e-3, atol=1e-3 * np.sqrt(n))
    record(benchmark, "matmul", "matmul", impl, f"{n}x{n}x{n}", n, 2 * n ** 3, 3 * n * n * 4)
    benchmark(fn)
