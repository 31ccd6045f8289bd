"""Convolution as im2col + matmul, and the dense (linear) layer with PyTorch's weight layout.

conv2d: cols = im2col(x) is (N, C*KH*KW, OH*OW), so the product with the (O, C*KH*KW) weight
is already NCHW: no transpose pass. Groups split the rows of cols into G blocks, which the
batched matmul takes as a batch of N*G products.
"""
from __future__ import annotations

import math
import operator

from ..autograd import Function
from ..backend import BinaryOp, ReduceOp, conv_out_size
from ..errors import DTypeError, ShapeError
from ..shapes import is_int
from .arrays import broadcast_to


def pair(op: str, arg: str, value, minimum: int) -> tuple:
    """An int or a pair of ints (each >= minimum) as an (h, w) tuple."""
    def as_int(v):  # ints and NumPy integers (operator.index), never floats
        return operator.index(v) if hasattr(v, "__index__") else None

    pr = (value, value) if as_int(value) is not None else (
        tuple(value) if isinstance(value, (tuple, list)) else (value,))
    pr = tuple(as_int(v) for v in pr)
    if len(pr) != 2 or not all(v is not None and v >= minimum for v in pr):
        raise ShapeError(f"{op}: {arg} must be an int or a pair of ints >= {minimum}, "
                         f"got {value!r}")
    return pr


def _group_weight(backend, weight, n, groups):
    """(O, C/G, KH, KW) -> (N*G, O/G, C/G*KH*KW): one copy of each group's filters per image."""
    o = weight.shape[0]
    k = math.prod(weight.shape[1:])
    w4 = backend.reshape(weight, (1, groups, o // groups, k))
    return backend.reshape(broadcast_to(backend, w4, (n, groups, o // groups, k)),
                           (n * groups, o // groups, k))


class Conv2dFunction(Function):
    """y = conv2d(x, w) + b: im2col, then one batched matmul; backward uses col2im.

    dW = sum_n dY_n cols_n^T (one matmul summing over n), dcols = W^T dY -> col2im,
    db = sum of dY over (N, OH, OW).
    When the weight needs a gradient the im2col matrix (KH*KW times the input's size) is saved
    for it, as PyTorch's CPU im2col convolution keeps its `finput`: rebuilding it in backward
    cost a second im2col launch, the largest kernel of a LeNet step on PoCL.
    """

    name = "conv2d"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        be = ctx.backend
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        geom = ((kh, kw), stride, padding, dilation)
        oh, ow = (conv_out_size(*a) for a in zip((h, w), *geom))
        cols = be.im2col(x, *geom)
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
        if groups == 1:  # the bias is added inside the matmul: one pass over the output
            out = be.matmul(be.reshape(weight, (1, o, cg * kh * kw)), cols,
                            bias=None if bias is None else be.reshape(bias, (o, 1)))
        else:
            cols = be.reshape(cols, (n * groups, cg * kh * kw, oh * ow))
            out = be.matmul(_group_weight(be, weight, n, groups), cols)
            if bias is not None:
                out = be.binary(BinaryOp.ADD, be.reshape(out, (n, o, oh * ow)),
                                be.reshape(bias, (o, 1)))
        out = be.reshape(out, (n, o, oh, ow))
        ctx.shapes = (x.shape, weight.shape, (oh, ow))
        ctx.geom, ctx.groups = geom, groups
        return out

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        x_shape, w_shape, (oh, ow) = ctx.shapes
        n, g = x_shape[0], ctx.groups
        o, cg, kh, kw = w_shape
        k = cg * kh * kw
        grad3 = be.reshape(grad, (n * g, o // g, oh * ow))
        grad_x = grad_w = grad_b = None
        if need_x:
            w3 = be.reshape(weight, (1, o, k)) if g == 1 else _group_weight(be, weight, n, g)
            grad_cols = be.matmul(w3, grad3, transpose_a=True)
            grad_x = be.col2im(be.reshape(grad_cols, (n, g * k, oh * ow)), x_shape, *ctx.geom)
        if need_w and g == 1:  # the sum over images inside the matmul: no (N, O, K) product
            grad_w = be.reshape(be.matmul(grad3, cols, transpose_b=True, sum_batch=True),
                                w_shape)
        elif need_w:
            cols = be.reshape(cols, (n * g, k, oh * ow))
            per_image = be.reshape(be.matmul(grad3, cols, transpose_b=True), (n, o * k))
            grad_w = be.reshape(be.reduce(ReduceOp.SUM, per_image, (0,), False), w_shape)
        if need_b:
            grad_b = be.reduce(ReduceOp.SUM, grad, (0, 2, 3), False)
        return grad_x, grad_w, grad_b


class LinearFunction(Function):
    """y = x W^T + b with W (out, in): the matmul primitive's transpose flag, no copy of W.

    dx = dy W, dW = dy^T x, db = sum of dy over the rows.
    """

    name = "linear"

    @staticmethod
    def forward(ctx, x, weight, bias):
        be = ctx.backend
        o, k = weight.shape
        m = math.prod(x.shape[:-1])
        out = be.matmul(be.reshape(x, (1, m, k)), be.reshape(weight, (1, o, k)),
                        transpose_b=True, bias=bias)  # bias inside the matmul kernel
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        ctx.shapes = (x.shape, (m, o, k))
        return be.reshape(out, tuple(x.shape[:-1]) + (o,))

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        x_shape, (m, o, k) = ctx.shapes
        grad3 = be.reshape(grad, (1, m, o))
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = be.reshape(be.matmul(grad3, be.reshape(weight, (1, o, k))), x_shape)
        if need_w:
            grad_w = be.reshape(be.matmul(grad3, be.reshape(x, (1, m, k)), transpose_a=True),
                                (o, k))
        if need_b:
            grad_b = be.reduce(ReduceOp.SUM, grad3, (0, 1), False)
        return grad_x, grad_w, grad_b


# ---------------------------------------------------------------- public functions
def _check_float(op, *named):
    """All given tensors share one floating dtype (None entries are skipped)."""
    present = [(k, t) for k, t in named if t is not None]
    first = present[0][1]
    for _, t in present:
        if not t.dtype.is_floating_point or t.dtype is not first.dtype:
            listed = ", ".join(f"{k} {t.dtype.name} {tuple(t.shape)}" for k, t in present)
            raise DTypeError(f"{op}: expected floating tensors of one dtype, got {listed}")


def _same_padding(op, padding, kernel, dilation, stride):
    """'valid' -> 0; 'same' -> (lo, hi) per dim, as PyTorch (extra padding at the end)."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding != "same":
        raise ShapeError(f"{op}: padding must be an int, a pair, 'valid' or 'same', "
                         f"got {padding!r}")
    if stride != (1, 1):
        raise ShapeError(f"{op}: padding='same' is not supported for strided convolutions "
                         f"(stride {stride})")
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in total)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D cross-correlation. input (N, C, H, W) or (C, H, W), weight (O, C/groups, KH, KW),
    bias (O,) -> (N, O, OH, OW)."""
    from .movement import pad, squeeze, unsqueeze

    op = "conv2d"
    if input.ndim not in (3, 4) or weight.ndim != 4:
        raise ShapeError(f"{op}: expected input (N, C, H, W) or (C, H, W) and weight "
                         f"(O, C/groups, KH, KW), got input {tuple(input.shape)} and weight "
                         f"{tuple(weight.shape)}")
    _check_float(op, ("input", input), ("weight", weight), ("bias", bias))
    unbatched = input.ndim == 3
    x = unsqueeze(input, 0) if unbatched else input
    stride = pair(op, "stride", stride, 1)
    dilation = pair(op, "dilation", dilation, 1)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        (top, bottom), (left, right) = _same_padding(op, padding, kernel, dilation, stride)
        if (top, left) == (bottom, right):
            padding = (top, left)
        else:  # an odd total: pad the end one more, as PyTorch, with an explicit pad
            x = pad(x, (left, right, top, bottom))
            padding = (0, 0)
    padding = pair(op, "padding", padding, 0)
    _check_conv(op, tuple(x.shape), tuple(weight.shape), bias, stride, padding, dilation,
                groups)
    out = Conv2dFunction.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation,
                       groups=groups)
    return squeeze(out, 0) if unbatched else out


def _check_conv(op, x_shape, w_shape, bias, stride, padding, dilation, groups):
    n, c, h, w = x_shape
    o, cg, kh, kw = w_shape
    shapes = f"input {x_shape} and weight {w_shape}"
    if not is_int(groups) or groups < 1 or c % groups or o % groups:
        raise ShapeError(f"{op}: groups={groups} must be a positive int dividing both the "
                         f"input channels {c} and the output channels {o} ({shapes})")
    if cg * groups != c:
        raise ShapeError(f"{op}: weight expects {cg * groups} input channels "
                         f"({cg} per group x {groups} groups) but the input has {c} ({shapes})")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ShapeError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)} "
                         f"({shapes})")
    if kh < 1 or kw < 1:
        raise ShapeError(f"{op}: empty kernel ({shapes})")
    for size, k, p, d, s, axis in zip((h, w), (kh, kw), padding, dilation, stride, "HW"):
        if conv_out_size(size, k, s, p, d) < 1:
            raise ShapeError(f"{op}: kernel size {d * (k - 1) + 1} (dilated) is larger than "
                             f"the padded input {size + 2 * p} along {axis} ({shapes}, "
                             f"padding {padding}, dilation {dilation})")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D cross-correlation via conv2d with H = 1. input (N, C, L), weight (O, C/groups, K)
    -> (N, O, OL)."""
    from .movement import squeeze, unsqueeze

    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise ShapeError(f"conv1d: expected input (N, C, L) or (C, L) and weight "
                         f"(O, C/groups, K), got input {tuple(input.shape)} and weight "
                         f"{tuple(weight.shape)}")

    def one(v, arg):
        if isinstance(v, str):
            return v
        v = v[0] if isinstance(v, (tuple, list)) and len(v) == 1 else v
        if not is_int(v):
            raise ShapeError(f"conv1d: {arg} must be an int, got {v!r}")
        return (0 if arg == "padding" else 1, int(v))

    out = conv2d(unsqueeze(input, -2), unsqueeze(weight, -2), bias, stride=one(stride, "stride"),
                 padding=one(padding, "padding"), dilation=one(dilation, "dilation"),
                 groups=groups)
    return squeeze(out, -2)


def linear(input, weight, bias=None):  # noqa: A002 - PyTorch's argument names
    """y = input @ weight^T + bias. input (*, in), weight (out, in), bias (out,) -> (*, out)."""
    if input.ndim < 1 or weight.ndim != 2 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input {tuple(input.shape)} and weight "
                         f"{tuple(weight.shape)} do not fit: expected input (*, in) and weight "
                         f"(out, in)")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)} (weight {tuple(weight.shape)})")
    _check_float("linear", ("input", input), ("weight", weight), ("bias", bias))
    return LinearFunction.apply(input, weight, bias)
