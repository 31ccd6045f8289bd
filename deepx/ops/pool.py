"""Pooling: max (with argmax kept for backward) and average over 2-D windows; adaptive average.

Output sizes, ceil_mode and the padding limits follow PyTorch; they are computed here once and
handed to the primitives, which only fill the output.
"""
from __future__ import annotations

from .. import dtypes
from ..autograd import Function
from ..errors import DTypeError, ShapeError
from ..shapes import is_int
from .conv import pair


class MaxPool2dFunction(Function):
    """y = max over each window; the gradient goes to the (first) max of each window.

    With return_indices the int64 argmax (h*W + w) is a second, non-differentiable output.
    """

    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, output_size,
                return_indices=False):
        out, argmax = ctx.backend.max_pool2d(x, kernel_size, stride, padding, dilation,
                                             output_size)
        ctx.save_for_backward(argmax)
        ctx.geom = (tuple(x.shape[2:]), kernel_size, stride, padding, dilation)
        return (out, argmax) if return_indices else out

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        return ctx.backend.max_pool2d_backward(grad, argmax, *ctx.geom)


class AvgPool2dFunction(Function):
    """y = window sum / divisor; each input pixel gets grad / divisor of every window it is in."""

    name = "avg_pool2d"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, output_size, count_include_pad, divisor):
        ctx.geom = (tuple(x.shape[2:]), kernel_size, stride, padding, count_include_pad,
                    divisor)
        return ctx.backend.avg_pool2d(x, kernel_size, stride, padding, output_size,
                                      count_include_pad, divisor)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.avg_pool2d_backward(grad, *ctx.geom)


# ---------------------------------------------------------------- public functions
def _pool_out(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size; with ceil_mode the last window must start in the input."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(op, input, kernel_size, stride, padding, dilation, ceil_mode,  # noqa: A002
               integers=False):
    """Validate a pooling call; returns (kernel, stride, padding, out). integers: int32 and
    int64 inputs are allowed too (max pooling, as PyTorch's CPU kernel; an average is not)."""
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected input (N, C, H, W) or (C, H, W), got "
                         f"{tuple(input.shape)}")
    if not (input.dtype.is_floating_point
            or integers and input.dtype in (dtypes.int32, dtypes.int64)):
        kinds = "a floating or int32/int64" if integers else "a floating"
        raise DTypeError(f"{op}: expected {kinds} input, got {input.dtype.name} "
                         f"{tuple(input.shape)}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    stride = kernel if no_stride else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    h, w = input.shape[-2:]
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ShapeError(f"{op}: pad should be at most half of effective kernel size, "
                             f"got padding {padding}, kernel_size {kernel} and dilation "
                             f"{dilation} (input {tuple(input.shape)})")
    out = tuple(_pool_out(*a, ceil_mode) for a in zip((h, w), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ShapeError(f"{op}: given input size {tuple(input.shape)}, kernel_size {kernel}, "
                         f"stride {stride}, padding {padding}, dilation {dilation}: calculated "
                         f"output size {out} is too small")
    return kernel, stride, padding, out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode=False, return_indices=False):
    """Max over KHxKW windows. (N, C, H, W) -> (N, C, OH, OW) [, int64 indices h*W + w]."""
    from .movement import squeeze, unsqueeze

    op = "max_pool2d"
    dilation = pair(op, "dilation", dilation, 1)
    geom = _pool_args(op, input, kernel_size, stride, padding, dilation, ceil_mode,
                      integers=True)
    kernel, stride, padding, out_size = geom
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    res = MaxPool2dFunction.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                                  dilation=dilation, output_size=out_size,
                                  return_indices=return_indices)
    if not return_indices:
        return squeeze(res, 0) if input.ndim == 3 else res
    out, indices = res
    if input.ndim == 3:
        return squeeze(out, 0), squeeze(indices, 0)
    return out, indices


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True, divisor_override=None):
    """Mean over KHxKW windows. (N, C, H, W) -> (N, C, OH, OW)."""
    from .movement import squeeze, unsqueeze

    op = "avg_pool2d"
    kernel, stride, padding, out_size = _pool_args(op, input, kernel_size, stride, padding,
                                                   (1, 1), ceil_mode)
    if divisor_override is not None and (not is_int(divisor_override)
                                         or divisor_override < 1):
        raise ShapeError(f"{op}: divisor_override must be a positive int, got "
                         f"{divisor_override!r}")
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    out = AvgPool2dFunction.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                          output_size=out_size, count_include_pad=bool(count_include_pad),
                          divisor=divisor_override or 0)
    return squeeze(out, 0) if input.ndim == 3 else out


def _adaptive_matrix(size, out, like):
    """(out, size) matrix averaging PyTorch's adaptive windows [floor(i n/o), ceil((i+1) n/o))."""
    from ..creation import tensor

    rows = []
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        rows.append([1.0 / (end - start) if start <= j < end else 0.0 for j in range(size)])
    return tensor(rows, dtype=like.dtype, device=like.device)


def adaptive_avg_pool2d(input, output_size):  # noqa: A002 - PyTorch's argument names
    """Average into an OHxOW grid of near-equal windows. (N, C, H, W) -> (N, C, OH, OW)."""
    from .matmul import matmul
    from .movement import transpose
    from .reduce import mean

    op = "adaptive_avg_pool2d"
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected input (N, C, H, W) or (C, H, W), got "
                         f"{tuple(input.shape)}")
    h, w = input.shape[-2:]
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else \
        tuple(output_size)
    if len(sizes) != 2:
        raise ShapeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (n if o is None else o for o, n in zip(sizes, (h, w)))
    oh, ow = (int(v) if is_int(v) else v for v in (oh, ow))
    if not all(is_int(v) and v >= 1 for v in (oh, ow)) or min(h, w) < 1:
        raise ShapeError(f"{op}: cannot pool input {tuple(input.shape)} to output size "
                         f"{output_size!r}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating input, got {input.dtype.name}")
    if (oh, ow) == (1, 1):
        return mean(input, dim=(-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(input, (h // oh, w // ow))
    # Unequal windows: averaging is linear along each axis, so out = A_h x A_w^T.
    rows = matmul(_adaptive_matrix(h, oh, input), input)
    return matmul(rows, transpose(_adaptive_matrix(w, ow, input), 0, 1))
