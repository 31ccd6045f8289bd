"""NumPy reference versions of the fused optimizer-step primitives."""
from __future__ import annotations


class NumpyOptimPrimitives:
    """Mixin of NumpyBackend: one in-place update primitive per optimizer."""
