"""OpenCL versions of the fused neural-network primitives (im2col, pooling, ...)."""
from __future__ import annotations


class CLNNPrimitives:
    """Mixin of OpenCLBackend: the nn primitives; use self.empty / self.kernel / self.launch."""
