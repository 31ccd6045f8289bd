"""NumPy reference versions of the fused neural-network primitives (im2col, pooling, ...)."""
from __future__ import annotations


class NumpyNNPrimitives:
    """Mixin of NumpyBackend: the nn primitives declared in deepx/backend/__init__.py."""
