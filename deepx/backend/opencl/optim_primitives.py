"""OpenCL versions of the fused optimizer-step primitives."""
from __future__ import annotations


class CLOptimPrimitives:
    """Mixin of OpenCLBackend: one in-place update primitive per optimizer."""
