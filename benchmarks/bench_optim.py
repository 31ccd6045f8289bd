"""One Adam step on a 1M-element float32 parameter: OpenCL against NumPy in the same run.

"numpy" is deepx.optim.Adam on the NumPy device (backend.adam_step_ in numpy_optim.py,
vectorised NumPy in place); "opencl" is the same optimizer on the default OpenCL device (one
optim_adam launch). Both start from the same weights and gradient, and must agree after one
step before anything is timed. Timed calls keep stepping, which costs the same every step.

    python -m pytest benchmarks/bench_optim.py --benchmark-enable
"""
from __future__ import annotations

import numpy as np
import pytest

import deepx as dx
from deepx.optim import Adam

N = 1 << 20


def _device(impl):
    if impl == "numpy":
        return dx.device("numpy"), lambda: None
    try:
        device = dx.device("opencl")
        backend = device.backend
    except Exception as exc:  # noqa: BLE001 - no pyopencl, no ICD or no device: no column
        pytest.skip(f"no usable OpenCL device: {exc}")
    return device, backend.runtime.finish


@pytest.mark.parametrize("impl", ["numpy", "opencl"])
def test_adam_step_1m(benchmark, impl):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(N).astype(np.float32)
    g = rng.standard_normal(N).astype(np.float32)
    device, sync = _device(impl)
    param = dx.tensor(p0, device=device, requires_grad=True)
    param.grad = dx.tensor(g, device=device)
    opt = Adam([param], lr=1e-3, weight_decay=1e-2, amsgrad=True)

    ref = dx.tensor(p0, device="numpy", requires_grad=True)
    ref.grad = dx.tensor(g, device="numpy")
    Adam([ref], lr=1e-3, weight_decay=1e-2, amsgrad=True).step()
    opt.step()
    np.testing.assert_allclose(param.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)

    def step():
        opt.step()
        sync()  # launches are asynchronous: time the finished update

    benchmark.group = f"optim:adam_step:({N},)"
    benchmark.extra_info.update(impl=impl, elements=N, bytes=4 * 9 * N)  # 5 arrays read, 4 written
    benchmark(step)
