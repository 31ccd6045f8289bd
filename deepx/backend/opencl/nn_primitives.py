"""OpenCL versions of the fused neural-network primitives (im2col, pooling, ...).

Kernels: kernels/conv.cl, pool.cl, softmax.cl, loss.cl, norm.cl; each file's header says the
launch geometry. Every primitive allocates its output, launches nothing for a size-0 output
and passes sizes and window geometry as int32 scalars.
"""
from __future__ import annotations

import math

import numpy as np
import pyopencl as cl

from ... import dtypes
from .. import ReduceOp, conv_out_size

_INT64 = dtypes.int64
# Fewer than _ROWS_MIN_COUNT contiguous softmax rows at least _TREE_MIN_LENGTH long use one
# work-group per row; others one work-item per row.
_TREE_MIN_LENGTH = 256
_ROWS_MIN_COUNT = 64
# norm_stats work-group size for short channels; long ones use the standard local size.
_SMALL_GROUP = 64


def _ints(*values):
    return tuple(np.int32(v) for v in values)


def _window(kernel_size, stride, padding, dilation=None):
    """The (KH, KW, SH, SW, PH, PW[, DH, DW]) kernel arguments."""
    values = tuple(kernel_size) + tuple(stride) + tuple(padding)
    return _ints(*(values + (tuple(dilation) if dilation is not None else ())))


def _plain_2x2(kernel_size, stride, padding, dilation, input_size, output_size) -> bool:
    """A 2x2 window with stride 2, no padding or dilation, every window inside the input
    (not the last one of ceil_mode): pool_max_forward_2x2 applies."""
    return (tuple(kernel_size) == (2, 2) and tuple(stride) == (2, 2)
            and tuple(padding) == (0, 0) and tuple(dilation) == (1, 1)
            and all(2 * o <= i for o, i in zip(output_size, input_size)))


class CLNNPrimitives:
    """Mixin of OpenCLBackend: the nn primitives; use self.empty / self.kernel / self.launch."""

    # ------------------------------------------------------------ convolution
    def im2col(self, x, kernel_size, stride, padding, dilation):
        x = self.packed(x)
        n, c, h, w = x.shape
        (kh, kw) = kernel_size
        oh, ow = (conv_out_size(*a) for a in zip((h, w), kernel_size, stride, padding,
                                                  dilation))
        out = self.empty((n, c * kh * kw, oh * ow), x.dtype)
        if not out.size:
            return out
        if not x.size:  # only padding is read
            return self.full(out.shape, 0, x.dtype)
        knl = self.kernel("conv.cl", "conv_im2col", x.dtype, op="im2col")
        planes = n * c * kh * kw  # one work-item per (OH, OW) plane of cols
        self.launch_planes("im2col", knl, planes, *_ints(planes, c, h, w),
                       *_window(kernel_size, stride, padding, dilation), *_ints(oh, ow),
                       x.data, out.data)
        return out

    def col2im(self, cols, input_shape, kernel_size, stride, padding, dilation):
        cols = self.packed(cols)
        n, c, h, w = input_shape
        oh, ow = (conv_out_size(*a) for a in zip((h, w), kernel_size, stride, padding,
                                                  dilation))
        out = self.empty(input_shape, cols.dtype)
        if not out.size:
            return out
        if not cols.size:
            return self.full(out.shape, 0, cols.dtype)
        knl = self.kernel("conv.cl", "conv_col2im", cols.dtype, op="col2im")
        planes = n * c  # one work-item per input plane
        self.launch_planes("col2im", knl, planes, *_ints(planes, c, h, w),
                       *_window(kernel_size, stride, padding, dilation), *_ints(oh, ow),
                       cols.data, out.data)
        return out

    # ------------------------------------------------------------ pooling
    def max_pool2d(self, x, kernel_size, stride, padding, dilation, output_size):
        x = self.packed(x)
        n, c, h, w = x.shape
        shape = (n, c) + tuple(output_size)
        out, argmax = self.empty(shape, x.dtype), self.empty(shape, _INT64)
        if not out.size:
            return out, argmax
        rows = n * c * output_size[0]
        if _plain_2x2(kernel_size, stride, padding, dilation, (h, w), output_size):
            knl = self.kernel("pool.cl", "pool_max_forward_2x2", x.dtype, op="max_pool2d")
            self.launch_1d("max_pool2d", knl, rows, *_ints(rows, h, w, *output_size),
                           x.data, out.data, argmax.data)
            return out, argmax
        knl = self.kernel("pool.cl", "pool_max_forward", x.dtype, op="max_pool2d")
        self.launch_1d("max_pool2d", knl, rows, *_ints(rows, h, w, *output_size),
                       *_window(kernel_size, stride, padding, dilation), x.data, out.data,
                       argmax.data)
        return out, argmax

    def max_pool2d_backward(self, grad, argmax, input_size, kernel_size, stride, padding,
                            dilation):
        grad, argmax = self.packed(grad), self.packed(argmax)
        n, c, oh, ow = grad.shape
        out = self.empty((n, c) + tuple(input_size), grad.dtype)
        if not out.size:
            return out
        if not grad.size:
            return self.full(out.shape, 0, grad.dtype)
        knl = self.kernel("pool.cl", "pool_max_backward", grad.dtype, op="max_pool2d_backward")
        planes = n * c
        self.launch_planes("max_pool2d_backward", knl, planes,
                           *_ints(planes, *input_size, oh, ow),
                       *_window(kernel_size, stride, padding, dilation), grad.data,
                       argmax.data, out.data)
        return out

    def avg_pool2d(self, x, kernel_size, stride, padding, output_size, count_include_pad,
                   divisor):
        x = self.packed(x)
        n, c, h, w = x.shape
        out = self.empty((n, c) + tuple(output_size), x.dtype)
        if not out.size:
            return out
        knl = self.kernel("pool.cl", "pool_avg_forward", x.dtype, op="avg_pool2d")
        rows = n * c * output_size[0]
        self.launch_1d("avg_pool2d", knl, rows, *_ints(rows, h, w, *output_size),
                       *_window(kernel_size, stride, padding),
                       *_ints(count_include_pad, divisor), x.data, out.data)
        return out

    def avg_pool2d_backward(self, grad, input_size, kernel_size, stride, padding,
                            count_include_pad, divisor):
        grad = self.packed(grad)
        n, c, oh, ow = grad.shape
        out = self.empty((n, c) + tuple(input_size), grad.dtype)
        if not out.size:
            return out
        if not grad.size:
            return self.full(out.shape, 0, grad.dtype)
        knl = self.kernel("pool.cl", "pool_avg_backward", grad.dtype, op="avg_pool2d_backward")
        rows = n * c * input_size[0]
        self.launch_1d("avg_pool2d_backward", knl, rows, *_ints(rows, *input_size, oh, ow),
                       *_window(kernel_size, stride, padding),
                       *_ints(count_include_pad, divisor), grad.data, out.data)
        return out

    # ------------------------------------------------------------ softmax
    def _softmax_launch(self, op, names, x, axis, log, arrays):
        """One launch over rows along axis of softmax.cl's kernel `names` = (one work-item
        per row, one work-group per row) picked for the row length and count."""
        out = self.empty(x.shape, x.dtype)
        if not out.size:
            return out
        axis %= x.ndim  # a negative axis would make the row arithmetic below read out of bounds
        n = x.shape[axis]
        outer, inner = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
        buffers = [self.packed(a).data for a in arrays] + [out.data]
        if inner == 1 and n >= _TREE_MIN_LENGTH and outer < _ROWS_MIN_COUNT:
            knl = self.kernel("softmax.cl", names[1], x.dtype, op=op)
            local = self.tree_local(knl, x.dtype.itemsize)
            self.launch(op, knl, (outer * local,), (local,), *_ints(log, outer, n), *buffers,
                        cl.LocalMemory(local * x.dtype.itemsize))
        else:
            # element loops only for rows without a whole vector block (faster) and strided
            # rows (the vector build reads contiguous rows only); see kernels/softmax.cl
            scalar = int(n < self.CHUNK or inner > 1)
            knl = self.kernel("softmax.cl", names[0], x.dtype, op=op, SCALAR_ROWS=scalar)
            self.launch_1d(op, knl, outer * inner, *_ints(log, outer * inner, n, inner),
                           *buffers)
        return out

    def softmax(self, x, axis, log):
        return self._softmax_launch("softmax", ("softmax_forward", "softmax_forward_tree"), x,
                                    axis, log, (x,))

    def softmax_backward(self, out, grad, axis, log):
        names = ("softmax_backward", "softmax_backward_tree")
        return self._softmax_launch("softmax_backward", names, out, axis, log, (out, grad))

    # ------------------------------------------------------------ cross-entropy
    def _ce_args(self, x, weight, ignore_index, label_smoothing):
        n, c = x.shape
        return (*_ints(n, c), np.int64(ignore_index), self.scalar(label_smoothing, x.dtype),
                np.int32(weight is not None))

    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        x, target = self.packed(x), self.packed(target)
        weight = None if weight is None else self.packed(weight)
        n, c = x.shape
        loss, lse = self.empty((n,), x.dtype), self.empty((n,), x.dtype)
        if not n:
            return loss, lse
        target = self._to(target, _INT64)
        knl = self.kernel("loss.cl", "loss_cross_entropy_forward", x.dtype, op="cross_entropy")
        self.launch_1d("cross_entropy", knl, n,
                       *self._ce_args(x, weight, ignore_index, label_smoothing), x.data,
                       target.data, None if weight is None else weight.data, loss.data,
                       lse.data)
        return loss, lse

    def cross_entropy_backward(self, x, lse, target, weight, grad, ignore_index,
                               label_smoothing):
        x, lse, target, grad = (self.packed(a) for a in (x, lse, target, grad))
        weight = None if weight is None else self.packed(weight)
        out = self.empty(x.shape, x.dtype)
        if not out.size:
            return out
        target = self._to(target, _INT64)
        total = None if weight is None else self.reduce(ReduceOp.SUM, weight, (0,), False)
        knl = self.kernel("loss.cl", "loss_cross_entropy_backward", x.dtype,
                          op="cross_entropy_backward")
        self.launch_1d("cross_entropy_backward", knl, out.size,
                       *self._ce_args(x, weight, ignore_index, label_smoothing), x.data,
                       lse.data, target.data, None if weight is None else weight.data,
                       None if total is None else total.data, grad.data, out.data)
        return out

    # ------------------------------------------------------------ normalisation
    def norm_stats(self, x):
        x = self.packed(x)
        p, c, q = x.shape
        stats = self.empty((2, c), x.dtype)
        if not c:
            return stats
        if not p * q:  # the mean of nothing, as NumPy
            return self.full((2, c), float("nan"), x.dtype)
        knl = self.kernel("norm.cl", "norm_stats", x.dtype, op="norm_stats")
        local = self.tree_local(knl, x.dtype.itemsize)
        local = min(local, _SMALL_GROUP) if p * q <= 16 * _SMALL_GROUP else local
        self.launch("norm_stats", knl, (c * local,), (local,), *_ints(p, c, q), x.data,
                    stats.data, cl.LocalMemory(local * x.dtype.itemsize))
        return stats
