"""CLArray: a strided view of elements in one OpenCL buffer (none at all when it is empty)."""
from __future__ import annotations

import math

from ...shapes import contiguous_strides, is_contiguous


class CLArray:
    """shape, dtype (a deepx DType), `data` (the buffer), element `strides` and `offset`.

    Element idx lives at `offset + sum(idx * strides)` elements into `data`; several CLArrays
    may share one buffer (views, as in PyTorch's storage and CMU needle's NDArray). `dense`
    is True when the elements fill `data` from `offset` on in C order, with no gaps.
    `data` is None exactly when size == 0 (PoCL rejects size-0 buffers). The buffer is usually
    a pool block; it may be any cl.Buffer (e.g. a sub-buffer, as the bounds tests use).
    """

    __slots__ = ("shape", "dtype", "data", "strides", "offset", "dense", "__weakref__")

    def __init__(self, shape, dtype, data, strides=None, offset=0) -> None:
        self.shape = shape
        self.dtype = dtype
        self.data = data
        self.offset = offset
        if strides is None:
            self.strides = contiguous_strides(shape)
            self.dense = True
        else:
            self.strides = strides
            self.dense = is_contiguous(shape, strides)

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

    @property
    def packed(self) -> bool:
        """Dense and starting at the buffer's first element: kernels may read it as flat."""
        return self.dense and not self.offset

    def reshape(self, shape) -> CLArray:
        """The same buffer seen with another shape of the same size; self must be dense."""
        shape = tuple(int(n) for n in shape)
        if math.prod(shape) != self.size or not self.dense:
            raise ValueError(f"cannot reshape array of shape {self.shape} (strides "
                             f"{self.strides}) into {shape} without a copy")
        return CLArray(shape, self.dtype, self.data, None, self.offset)

    def __repr__(self) -> str:
        return (f"CLArray(shape={self.shape}, dtype={self.dtype.name}, strides={self.strides}, "
                f"offset={self.offset})")
