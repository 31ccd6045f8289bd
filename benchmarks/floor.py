"""The per-op floor: `a + b` on 16 floats, in one system per process.

    python benchmarks/floor.py --system opencl|numpy|pyopencl|torch [--json FILE] [--quick]

Two timings per system, each per op: (i) `batched`: 100 adds enqueued, then one
`dx.synchronize()`; (ii) `synced`: a synchronize after every add. Systems: deepx on its
default OpenCL device, deepx on its NumPy backend, a raw pyopencl enqueue of the same add
kernel (arguments set once: the least Python can do per launch) on the same device, and
PyTorch on the CPU. Each number repeats until its spread is within 5% (timing.measure).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from timing import measure, run_system

N, OPS = 16, 100
ADD_CL = """
__kernel void add(__global const float *a, __global const float *b, __global float *out) {
    size_t i = get_global_id(0);
    out[i] = a[i] + b[i];
}
"""


def _deepx(device: str):
    import deepx as dx

    a = dx.tensor(np.arange(N, dtype=np.float32), device=device)
    b = dx.tensor(np.ones(N, dtype=np.float32), device=device)
    assert np.array_equal((a + b).numpy(), np.arange(N) + 1.0), "deepx a + b is wrong"

    def add():
        return a + b
    return add, lambda: dx.synchronize(device), str(dx.device(device))


def _pyopencl():
    import pyopencl as cl

    from deepx.backend.opencl.devices import default_index, get_device

    index = default_index()
    if index is None:
        raise RuntimeError("no usable OpenCL device")
    device = get_device(*index)
    ctx = cl.Context([device])
    # the same queue properties as deepx's runtime: profiling on, in order
    queue = cl.CommandQueue(ctx, properties=cl.command_queue_properties.PROFILING_ENABLE)
    knl = cl.Program(ctx, ADD_CL).build().add
    host = np.arange(N, dtype=np.float32)
    flags = cl.mem_flags
    a, b, out = (cl.Buffer(ctx, flags.READ_WRITE, host.nbytes) for _ in range(3))
    cl.enqueue_copy(queue, a, host)
    cl.enqueue_copy(queue, b, np.ones_like(host))
    knl.set_args(a, b, out)
    cl.enqueue_nd_range_kernel(queue, knl, (N,), None)
    got = np.empty_like(host)
    cl.enqueue_copy(queue, got, out)
    queue.finish()
    assert np.array_equal(got, host + 1), "pyopencl add is wrong"

    # _keep: set_args holds no reference to the buffers, and freed ones crash PoCL
    def add(_keep=(a, b, out)):
        return cl.enqueue_nd_range_kernel(queue, knl, (N,), None)
    return add, queue.finish, f"opencl:{index[0]}:{index[1]} ({device.name.strip()})"


def _torch():
    import torch

    a, b = torch.arange(N, dtype=torch.float32), torch.ones(N)

    def add():
        return a + b
    return add, lambda: None, f"torch {torch.__version__} CPU, {torch.get_num_threads()} threads"


def setup(system: str):
    if system == "opencl":
        return _deepx("opencl")
    if system == "numpy":
        return _deepx("numpy")
    if system == "pyopencl":
        return _pyopencl()
    if system == "torch":
        return _torch()
    raise SystemExit(f"floor.py: unknown system {system!r}")


def run(system: str, quick: bool) -> dict:
    add, sync, where = setup(system)

    def batched():
        for _ in range(OPS):
            add()
        sync()

    def synced():
        for _ in range(OPS):
            add()
            sync()
    budget = 1.0 if quick else 4.0
    return {"system": system, "device": where, "n": N, "ops": OPS,
            "batched": measure(batched, per_call=OPS, max_seconds=budget),
            "synced": measure(synced, per_call=OPS, max_seconds=budget)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--system", required=True)
    p.add_argument("--json", help="write the result here (default: print it)")
    p.add_argument("--quick", action="store_true", help="a 1 s budget per timing, not 4 s")
    args = p.parse_args(argv)
    return run_system(run, args.system, args.quick, args.json)

if __name__ == "__main__":
    sys.exit(main())
