"""OpenCL versions of the elementwise primitives: unary, binary (broadcasting) and where.

Kernels: kernels/elementwise.cl (its header gives the launch geometry). Operands are read in
place as strided views; where every operand is a row pattern over the output (contiguous,
a broadcast bias, row or column) the *_rows kernels run with no per-element index math. Each
call runs a prepared launch keyed by op, dtypes, shapes, strides and offsets (OpenCLBackend's
_prepare / _run).
"""
from __future__ import annotations

import math

import numpy as np

from ... import dtypes
from ...errors import DTypeError
from ...shapes import broadcast_shapes
from .. import BITWISE, COMPARISONS, BinaryOp, UnaryOp
from .runtime import PER_CALL
from .strided import broadcast_strides, collapse, int4_arg, int8_arg, row_view

_BOOL, _INT32 = dtypes.bool_, dtypes.int32


def np_promote(a, b):
    """The result dtype NumPy (so NumpyBackend) gives a primitive on dtypes a and b: as
    dtypes.promote, except that int32/int64 with float32 give float64."""
    return dtypes.get(np.promote_types(a.np, b.np))


class CLElementwisePrimitives:
    """Mixin of OpenCLBackend: unary, binary, where."""

    def unary(self, op, x, alpha=0.0):
        if not x.dense:
            x = self.contiguous(x)
        key = ("unary", op, x.dtype, x.shape, x.offset, alpha)
        plan = self._plans.get(key)
        if plan is None:
            op = UnaryOp(op)
            predicate = op in (UnaryOp.STEP, UnaryOp.NOT)
            n = x.size
            name = "elementwise_predicate" if predicate else "elementwise_unary"
            plan = self._prepare(key, "unary", "elementwise.cl", name, x.dtype, x.shape,
                                 _BOOL if predicate else x.dtype,
                                 *self._chunks_geometry(max(n, 1)),
                                 (np.int32(op), np.int32(n),
                                  self.scalar(alpha, self.real_dtype(x.dtype)),
                                  np.int32(x.offset),
                                  PER_CALL, PER_CALL))
        return self._run(plan, x)

    def binary(self, op, a, b):
        key = ("binary", op, a.dtype, a.shape, a.strides, a.offset, b.dtype, b.shape, b.strides,
               b.offset)
        plan = self._plans.get(key)
        if plan is None:
            op = BinaryOp(op)
            dt = np_promote(a.dtype, b.dtype)
            if op in BITWISE and dt.is_floating_point:
                raise DTypeError(f"binary: {op.name} is not supported for float tensors")
            if op not in COMPARISONS and dt is _BOOL:
                if op in (BinaryOp.SUB, BinaryOp.POW, BinaryOp.FLOOR_DIVIDE, BinaryOp.REMAINDER):
                    raise DTypeError(f"binary: {op.name} is not supported for bool tensors")
                if op is not BinaryOp.DIV:  # NumPy's bool +, *, max, min are or/and: via int32
                    wide = self.binary(op, self._to(a, _INT32), self._to(b, _INT32))
                    return self.cast(wide, dtypes.bool_)
            if op is BinaryOp.DIV and not dt.is_floating_point:  # NumPy divides integers to float64
                dt = self.real_dtype(dt)
            if a.dtype is not dt or b.dtype is not dt:
                return self.binary(op, self._to(a, dt), self._to(b, dt))
            plan = self._binary_plan(key, op, a, b)
        return self._run(plan, a, b)

    def _binary_plan(self, key, op, a, b):
        dt = a.dtype
        shape = broadcast_shapes("binary", a.shape, b.shape)
        out_dtype = _BOOL if op in COMPARISONS else dt
        n = math.prod(shape)
        if not n:
            return self._empty_plan(key, shape, out_dtype)
        dims, (sa, sb) = collapse(shape, broadcast_strides(a.shape, shape, a.strides),
                                  broadcast_strides(b.shape, shape, b.strides))
        views = (row_view(dims, sa, a.offset), row_view(dims, sb, b.offset))
        if op not in COMPARISONS and None not in views:  # no per-element index math
            return self._rows_plan(key, "binary", "elementwise_binary_rows", dt, shape,
                                   out_dtype, dims, n, views, (np.int32(op),), 2)
        return self._prepare(key, "binary", "elementwise.cl", "elementwise_binary", dt, shape,
                             out_dtype, (max(n, 1),), (self.local_1d,),
                             (np.int32(op), np.int32(n), np.int32(len(dims)), int8_arg(dims),
                              int8_arg(sa), int8_arg(sb), np.int32(a.offset), np.int32(b.offset),
                              PER_CALL, PER_CALL, PER_CALL), OUT_DTYPE=out_dtype)

    def _rows_plan(self, key, op, name, dt, shape, out_dtype, dims, size, views, leading,
                   n_inputs):
        """Plan of a *_rows fast path over the output as (rows, dims[-1]), self.CHUNK per item."""
        inner = dims[-1] if dims else 1
        rows = max(size // inner, 1)
        chunks = -(-inner // self.CHUNK)
        local_x = min(self.local_1d, 1 << (chunks - 1).bit_length())
        local_y = min(self.local_1d // local_x, 1 << (rows - 1).bit_length())
        return self._prepare(key, op, "elementwise.cl", name, dt, shape, out_dtype,
                             (chunks, rows), (local_x, local_y),
                             (*leading, np.int32(inner), np.int32(rows),
                              *(int4_arg(view) for view in views),
                              *(PER_CALL,) * (n_inputs + 1)))

    def where(self, cond, a, b):
        key = ("where", cond.dtype, cond.shape, cond.strides, cond.offset, a.dtype, a.shape,
               a.strides, a.offset, b.dtype, b.shape, b.strides, b.offset)
        plan = self._plans.get(key)
        if plan is None:
            dt = np_promote(a.dtype, b.dtype)
            if cond.dtype is not _BOOL or a.dtype is not dt or b.dtype is not dt:
                return self.where(self._to(cond, _BOOL), self._to(a, dt), self._to(b, dt))
            shape = broadcast_shapes("where", cond.shape, a.shape, b.shape)
            n = math.prod(shape)
            if not n:
                return self._run(self._empty_plan(key, shape, dt))
            dims, (sc, sa, sb) = collapse(
                shape, broadcast_strides(cond.shape, shape, cond.strides),
                broadcast_strides(a.shape, shape, a.strides),
                broadcast_strides(b.shape, shape, b.strides))
            views = (row_view(dims, sc, cond.offset), row_view(dims, sa, a.offset),
                     row_view(dims, sb, b.offset))
            if None not in views:  # no per-element index math
                plan = self._rows_plan(key, "where", "elementwise_where_rows", dt, shape, dt,
                                       dims, n, views, (), 3)
            else:
                plan = self._prepare(
                    key, "where", "elementwise.cl", "elementwise_where", dt, shape, dt,
                    (max(n, 1),), (self.local_1d,),
                    (np.int32(n), np.int32(len(dims)), int8_arg(dims), int8_arg(sc), int8_arg(sa),
                     int8_arg(sb), int4_arg((cond.offset, a.offset, b.offset, 0)),
                     PER_CALL, PER_CALL, PER_CALL, PER_CALL))
        return self._run(plan, cond, a, b)
