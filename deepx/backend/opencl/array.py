"""CLArray: a C-contiguous array in one OpenCL buffer (none at all when it has no elements)."""
from __future__ import annotations

import math

import numpy as np


class CLArray:
    """shape, dtype (a NumPy dtype) and `data`, a device buffer holding the elements in C order.

    `data` is None exactly when size == 0 (PoCL rejects size-0 buffers). The buffer is usually
    a pool block; it may be any cl.Buffer (e.g. a sub-buffer, as the bounds tests use) whose
    first `nbytes` bytes hold the array. Views share the buffer: reshape never copies.
    """

    __slots__ = ("shape", "dtype", "data", "__weakref__")

    def __init__(self, shape, dtype, data) -> None:
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.data = data

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def reshape(self, shape) -> CLArray:
        """The same buffer seen with another shape of the same size."""
        shape = tuple(int(n) for n in shape)
        if math.prod(shape) != self.size:
            raise ValueError(f"cannot reshape array of shape {self.shape} into {shape}")
        return CLArray(shape, self.dtype, self.data)

    def __repr__(self) -> str:
        return f"CLArray(shape={self.shape}, dtype={self.dtype.name})"
