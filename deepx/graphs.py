"""Capture a step's kernel launches once, replay them without Python: PyTorch's CUDA graphs
(torch.cuda.CUDAGraph, torch.cuda.graph) for OpenCL devices, and tinygrad's TinyJit idea.

    static_x = dx.zeros(128, 784, device="opencl")          # inputs live in fixed buffers
    static_y = dx.zeros(128, dtype=dx.int64, device="opencl")
    step(static_x, static_y)                                 # warm up eagerly (at least once)
    g = dx.Graph()
    with dx.graph(g):
        static_loss = step(static_x, static_y)               # runs once, and is recorded
    for x, y in loader:
        static_x.copy_(x); static_y.copy_(y)                 # new data into the same buffers
        g.replay()                                           # every launch of the step again
        print(static_loss.item())

What a graph keeps: every kernel launch and device copy of the capture, in order, with the
buffers it used (they stay allocated for the graph's lifetime, so a replay writes the same
tensors: the loss, the gradients, the parameters updated in place). What it cannot keep:
anything Python decided during the capture. So, as in PyTorch: shapes are fixed; scalars
baked into launches stay (a learning rate changed later by a scheduler is not seen; Adam,
whose bias correction changes every step, refuses to be captured, as do random numbers and
SGD's first momentum step); host transfers and queue waits inside the capture raise. Unlike
CUDA graphs, the capture also executes the step once.
"""
from __future__ import annotations

from ._device import Device, default_device
from .errors import DeviceError


class Graph:
    """A recorded sequence of launches on one OpenCL device; `replay()` enqueues it again."""

    def __init__(self) -> None:
        self.records: list = []
        self.runtime = None

    def replay(self) -> None:
        """Enqueue every captured launch again (asynchronously, as the step would)."""
        if self.runtime is None:
            raise DeviceError("Graph.replay: nothing was captured; use `with deepx.graph(g):`")
        self.runtime.replay(self.records)

    def __len__(self) -> int:
        """Number of captured launches and copies."""
        return len(self.records)

    def reset(self) -> None:
        """Forget the capture and release the buffers it kept."""
        self.records, self.runtime = [], None


class graph:  # noqa: N801 - PyTorch's name (torch.cuda.graph)
    """Context manager recording every launch on `device` (default: the default device)."""

    def __init__(self, cuda_graph: Graph, device=None) -> None:
        self.graph = cuda_graph
        self.device = default_device() if device is None else Device(device)
        if self.device.type != "opencl":
            raise DeviceError(f"deepx.graph: capturing needs an OpenCL device (got "
                              f"{self.device}); the NumPy device computes eagerly")

    def __enter__(self) -> Graph:
        runtime = self.device.backend.runtime
        if runtime.capture is not None:
            raise DeviceError(f"deepx.graph: {runtime.name} is already capturing")
        self.graph.reset()
        runtime.capture = self.graph.records
        self.graph.runtime = runtime
        return self.graph

    def __exit__(self, *exc) -> bool:
        runtime = self.graph.runtime
        runtime.capture = None
        if exc[0] is not None:
            self.graph.reset()
        return False
