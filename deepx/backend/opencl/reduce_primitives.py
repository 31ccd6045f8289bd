"""OpenCL versions of the reduction primitives: reduce (sum, prod, max, min...) and
arg_reduce (argmax, argmin).

Kernels: kernels/reduce.cl (its header gives the launch geometry). The input is read in
place; kept and reduced dims travel as (shape, strides) int8 arguments. Long reductions with
few outputs use one work-group per output and a tree in local memory (kernels/tree.h), the
others one work-item per output.
"""
from __future__ import annotations

import math

import numpy as np
import pyopencl as cl

from ... import dtypes
from ...errors import ShapeError
from .. import ArgReduceOp, ReduceOp
from .runtime import PER_CALL
from .strided import collapse, int8_arg, trailing_run

_BOOL, _INT32, _INT64 = dtypes.bool_, dtypes.int32, dtypes.int64
# Reductions longer than this use one work-group per output with a tree in local memory,
# when there are few enough outputs to keep the device busy that way.
_TREE_MIN_LENGTH = 256
_TREE_MAX_OUTPUTS = 1024


class CLReducePrimitives:
    """Mixin of OpenCLBackend: reduce, arg_reduce."""

    def _reduce_plan(self, key, op_name, kernels, op, x, out_shape, out_dtype, kept,
                     reduced, length, local_args):
        """Plan of kernels = (serial, tree) over `kept` x `reduced` (shape, strides) views."""
        (kdims, (kst,)), (rdims, (rst,)) = kept, reduced
        n_out = math.prod(out_shape)
        args = (np.int32(op), np.int32(n_out), np.int32(length), np.int32(len(kdims)),
                int8_arg(kdims), int8_arg(kst), np.int32(len(rdims)), int8_arg(rdims),
                int8_arg(rst),
                np.int32(x.offset), PER_CALL, PER_CALL)
        if length > _TREE_MIN_LENGTH and n_out < _TREE_MAX_OUTPUTS:
            knl = self.kernel("reduce.cl", kernels[1], x.dtype, op=op_name,
                              OUT_DTYPE=out_dtype)
            local = self.tree_local(knl, sum(d.itemsize for d in local_args))
            scratch = tuple(cl.LocalMemory(local * d.itemsize) for d in local_args)
            return self._prepare(key, op_name, "reduce.cl", kernels[1], x.dtype,
                                 out_shape, out_dtype, (n_out * local,), (local,),
                                 args + scratch, OUT_DTYPE=out_dtype)
        return self._prepare(key, op_name, "reduce.cl", kernels[0], x.dtype,
                             out_shape, out_dtype, (n_out,), (self.local_1d,), args,
                             OUT_DTYPE=out_dtype)

    def reduce(self, op, x, axes, keepdim):
        key = ("reduce", op, x.dtype, x.shape, x.strides, x.offset, axes, keepdim)
        plan = self._plans.get(key)
        if plan is None:
            inner = trailing_run(x.shape, axes)
            if inner:  # reduced axes on both sides of a kept one (a conv bias gradient over
                # N, H, W): sum the contiguous trailing run first, then the rest, instead of
                # one strided gather per output
                outer = tuple(a for a in axes if a not in inner)
                return self.reduce(op, self.reduce(op, x, inner, keepdim), outer, keepdim)
            op = ReduceOp(op)
            axes = tuple(sorted(int(a) for a in axes))
            out_dtype = x.dtype
            if op is ReduceOp.SUM and (x.dtype is _BOOL or x.dtype is _INT32):
                out_dtype = _INT64  # NumPy sums small integers in int64
            kept_axes = [i for i in range(len(x.shape)) if i not in axes]
            if keepdim:
                shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
            else:
                shape = tuple(x.shape[i] for i in kept_axes)
            length = math.prod(x.shape[a] for a in axes)
            if math.prod(shape) and length == 0:
                if op is not ReduceOp.SUM:
                    raise ShapeError(f"reduce: zero-size array to reduction operation "
                                     f"{op.name.lower()} which has no identity (shape "
                                     f"{x.shape}, axes {axes})")
                return self.full(shape, 0, out_dtype)
            if not math.prod(shape):
                return self._run(self._empty_plan(key, shape, out_dtype))
            kept = collapse([x.shape[i] for i in kept_axes], [x.strides[i] for i in kept_axes])
            reduced = collapse([x.shape[a] for a in axes], [x.strides[a] for a in axes])
            plan = self._reduce_plan(key, "reduce", ("reduce_serial", "reduce_tree"), op, x,
                                     shape, out_dtype, kept, reduced, length, (out_dtype,))
        return self._run(plan, x)

    def arg_reduce(self, op, x, axis, keepdim):
        key = ("arg_reduce", op, x.dtype, x.shape, x.strides, x.offset, axis, keepdim)
        plan = self._plans.get(key)
        if plan is None:
            op = ArgReduceOp(op)
            axis = int(axis)
            n = x.shape[axis]
            if keepdim:
                shape = x.shape[:axis] + (1,) + x.shape[axis + 1:]
            else:
                shape = x.shape[:axis] + x.shape[axis + 1:]
            if math.prod(shape) and n == 0:
                raise ShapeError(f"arg_reduce: attempt to get {op.name.lower()} of an empty "
                                 f"sequence (shape {x.shape}, axis {axis})")
            if not math.prod(shape):
                return self._run(self._empty_plan(key, shape, _INT64))
            others = [i for i in range(x.ndim) if i != axis]
            kept = collapse([x.shape[i] for i in others], [x.strides[i] for i in others])
            reduced = ((n,), ((x.strides[axis] if x.ndim else 1,),))
            plan = self._reduce_plan(key, "arg_reduce", ("argreduce_serial", "argreduce_tree"),
                                     op, x, shape, _INT64, kept, reduced, n, (x.dtype, _INT64))
        return self._run(plan, x)
