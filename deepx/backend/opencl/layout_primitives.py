"""OpenCL versions of the layout primitives: reshape, strided copy and assignment through views.

Kernels: kernels/layout.cl. A strided copy reads any view into a new C-contiguous array (a
prepared launch, OpenCLBackend._copy_plan); assignment writes a source, broadcast and cast,
into the elements of a view of a dense buffer, or copies buffer to buffer when both are
packed alike.
"""
from __future__ import annotations

import math

import numpy as np

from ...errors import ShapeError
from ...shapes import view_strides
from .array import CLArray
from .strided import broadcast_strides, collapse, int8_arg


class CLLayoutPrimitives:
    """Mixin of OpenCLBackend: reshape, strided_copy, strided_assign_, assign_."""

    def reshape(self, x, shape):
        shape = tuple(int(n) for n in shape)
        if x.dense:
            return x.reshape(shape)
        strides = view_strides(x.shape, x.strides, shape)
        if strides is not None:
            return CLArray(shape, x.dtype, x.data, strides, x.offset)
        return self.contiguous(x).reshape(shape)

    def strided_copy(self, x, shape, strides, offset):
        if not x.dense:
            x = self.contiguous(x)
        shape, strides = tuple(shape), tuple(strides)
        key = ("strided_copy", x.dtype, shape, strides, x.offset + offset)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._copy_plan(key, "strided_copy", x.dtype, shape, strides,
                                   x.offset + offset)
        return self._run(plan, x)

    def strided_assign_(self, dst, shape, strides, offset, src):
        if not dst.dense:
            raise ShapeError(f"strided_assign_: the destination must be dense, got strides "
                             f"{dst.strides} for shape {dst.shape}")
        self._assign_view(dst.data, dst.dtype, tuple(shape), tuple(strides),
                          dst.offset + offset, src)

    def _assign_view(self, buffer, dt, shape, strides, offset, src):
        """buffer's elements at offset + idx . strides = src (broadcast to shape, cast to dt)."""
        src = self._to(src, dt)
        if tuple(src.shape) != shape:
            src = self.strided_copy(src, shape, broadcast_strides(src.shape, shape), 0)
        src = self.packed(src)
        n = math.prod(shape)
        if not n:
            return
        dims, (st,) = collapse(shape, strides)
        knl = self.kernel("layout.cl", "layout_strided_assign", dt, op="strided_assign_")
        self.launch_1d("strided_assign_", knl, n, np.int32(n), np.int32(len(dims)),
                       int8_arg(dims), int8_arg(st), np.int32(offset), src.data, buffer)

    def assign_(self, dst, src):
        src = self._to(src, dst.dtype)
        if dst.packed and tuple(src.shape) == tuple(dst.shape):
            src = self.packed(src)
            if dst.size and src.data is not dst.data:
                self.runtime.copy(dst.data, src.data, dst.nbytes)
            return
        self._assign_view(dst.data, dst.dtype, tuple(dst.shape), tuple(dst.strides),
                          dst.offset, src)
