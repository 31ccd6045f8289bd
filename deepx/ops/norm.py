"""Normalisation (batch_norm, layer_norm) and dropout.

Both norms share one shape of math: xhat = (x - mean) * rstd with statistics from the fused
norm_stats primitive, y = xhat * w + b, and when the statistics depend on x,
dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) with gh = g * w, means over the
normalised elements.
"""
from __future__ import annotations

import math

from .. import dtypes, rng
from ..autograd import Function, no_grad
from ..backend import BinaryOp, ReduceOp, UnaryOp
from ..errors import DeepxError, DTypeError, ShapeError
from ..shapes import is_int
from .arrays import scalar_like


def _normalize(be, x, mean, var, eps, stat_shape):
    """xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), stats reshaped to stat_shape."""
    var = be.binary(BinaryOp.ADD, be.reshape(var, stat_shape), scalar_like(be, eps, x))
    rstd = be.unary(UnaryOp.RECIPROCAL, be.unary(UnaryOp.SQRT, var))
    xhat = be.binary(BinaryOp.MUL, be.binary(BinaryOp.SUB, x, be.reshape(mean, stat_shape)),
                     rstd)
    return xhat, rstd


def _affine(be, xhat, weight, bias, param_shape):
    out = xhat
    if weight is not None:
        out = be.binary(BinaryOp.MUL, out, be.reshape(weight, param_shape))
    if bias is not None:
        out = be.binary(BinaryOp.ADD, out, be.reshape(bias, param_shape))
    return out if out is not xhat else be.cast(xhat, dtypes.of(xhat))


def _mean(be, x, axes, count):
    total = be.reduce(ReduceOp.SUM, x, axes, True)
    return be.binary(BinaryOp.DIV, total, scalar_like(be, count, x))


def _normalize_backward(be, grad_xhat, xhat, rstd, axes, count):
    """dx when mean and var were taken from x itself over `axes` (count elements)."""
    centered = be.binary(BinaryOp.SUB, grad_xhat, _mean(be, grad_xhat, axes, count))
    proj = _mean(be, be.binary(BinaryOp.MUL, grad_xhat, xhat), axes, count)
    centered = be.binary(BinaryOp.SUB, centered, be.binary(BinaryOp.MUL, xhat, proj))
    return be.binary(BinaryOp.MUL, centered, rstd)


def _rows(be, stats):
    """(mean, var) as views of norm_stats' (2, C) output."""
    c = stats.shape[1]
    return be.as_strided(stats, (c,), (1,), 0), be.as_strided(stats, (c,), (1,), c)


class BatchStats(Function):
    """Per-channel (mean, biased var) of x (P, C, Q) as a (2, C) tensor; batch_norm calls it
    under no_grad (BatchNorm differentiates through its statistics itself)."""

    name = "batch_stats"

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.norm_stats(x)

    @staticmethod
    def backward(ctx, grad):
        raise DeepxError("batch_stats: the statistics are differentiated by batch_norm itself")


def _param_grads(ctx, grad, xhat, axes, shape):
    """(dweight, dbias) summed over `axes` to `shape`, each only when needed."""
    be, need = ctx.backend, ctx.needs_input_grad
    grad_w = grad_b = None
    if need[1]:
        grad_w = be.reshape(be.reduce(ReduceOp.SUM, be.binary(BinaryOp.MUL, grad, xhat), axes,
                                      False), shape)
    if need[2]:
        grad_b = be.reshape(be.reduce(ReduceOp.SUM, grad, axes, False), shape)
    return grad_w, grad_b


class BatchNorm(Function):
    """Per-channel normalisation of x (P, C, Q) with given (C,) mean and var.

    batch_stats=True: mean and var were computed from x, so backward differentiates them too;
    False (eval): they are constants and dx = g * w * rstd.
    """

    name = "batch_norm"

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, batch_stats):
        be = ctx.backend
        c = x.shape[1]
        xhat, rstd = _normalize(be, x, mean, var, eps, (1, c, 1))
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.batch_stats = batch_stats
        return _affine(be, xhat, weight, bias, (1, c, 1))

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, weight = ctx.saved_tensors
        be = ctx.backend
        p, c, q = xhat.shape
        grad_xhat = grad if weight is None else be.binary(BinaryOp.MUL, grad,
                                                          be.reshape(weight, (1, c, 1)))
        grad_x = None
        if ctx.needs_input_grad[0]:
            if ctx.batch_stats:
                grad_x = _normalize_backward(be, grad_xhat, xhat, rstd, (0, 2), p * q)
            else:
                grad_x = be.binary(BinaryOp.MUL, grad_xhat, rstd)
        return (grad_x, *_param_grads(ctx, grad, xhat, (0, 2), (c,)), None, None)


class LayerNormFunction(Function):
    """Per-row normalisation of x (M, D) over D, statistics from norm_stats; w, b are (D,)."""

    name = "layer_norm"

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        be = ctx.backend
        m, d = x.shape
        mean, var = _rows(be, be.norm_stats(be.reshape(x, (1, m, d))))
        xhat, rstd = _normalize(be, x, mean, var, eps, (m, 1))
        ctx.save_for_backward(xhat, rstd, weight)
        return _affine(be, xhat, weight, bias, (1, d))

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, weight = ctx.saved_tensors
        be = ctx.backend
        m, d = xhat.shape
        grad_xhat = grad if weight is None else be.binary(BinaryOp.MUL, grad,
                                                          be.reshape(weight, (1, d)))
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = _normalize_backward(be, grad_xhat, xhat, rstd, (1,), d)
        return (grad_x, *_param_grads(ctx, grad, xhat, (0,), (d,)))


class DropoutFunction(Function):
    """y = x * mask / (1 - p), mask = (u >= p) for u uniform from the counter-based generator.

    The threshold is p rounded up to the generator's 2^-24 grid, so float32 and float64 (and
    every backend) keep exactly the same elements for one (seed, offset).
    """

    name = "dropout"

    @staticmethod
    def forward(ctx, x, p, seed, offset):
        be = ctx.backend
        u = be.rand(x.shape, dtypes.of(x), seed, offset)
        threshold = math.ceil(p * 2 ** 24) / 2 ** 24
        keep = be.binary(BinaryOp.GE, u, scalar_like(be, threshold, x))
        kept = scalar_like(be, 1 / (1 - p) if p < 1 else 0.0, x)
        scale = be.where(keep, kept, scalar_like(be, 0, x))
        ctx.save_for_backward(scale)
        return be.binary(BinaryOp.MUL, x, scale)

    @staticmethod
    def backward(ctx, grad):
        (scale,) = ctx.saved_tensors
        return ctx.backend.binary(BinaryOp.MUL, grad, scale)


# ---------------------------------------------------------------- public functions
def _check_params(op, channels, x, **params):
    for key, t in params.items():
        if t is None:
            continue
        if tuple(t.shape) != (channels,):
            raise ShapeError(f"{op}: {key} must have shape ({channels},) for input "
                             f"{tuple(x.shape)}, got {tuple(t.shape)}")
        if t.dtype is not x.dtype:
            raise DTypeError(f"{op}: {key} has dtype {t.dtype.name} but the input has "
                             f"{x.dtype.name}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None,  # noqa: A002
               training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel. input (N, C) or (N, C, *), running stats / weight / bias (C,).

    In training the batch statistics are used and the running ones updated in place (unbiased
    variance), never recorded; in eval the running statistics are used.
    """
    from .movement import reshape

    op = "batch_norm"
    if input.ndim < 2:
        raise ShapeError(f"{op}: expected input (N, C) or (N, C, *), got {tuple(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating input, got {input.dtype.name}")
    n, c = input.shape[:2]
    q = math.prod(input.shape[2:])
    _check_params(op, c, input, running_mean=running_mean, running_var=running_var,
                  weight=weight, bias=bias)
    x = reshape(input, (n, c, q))
    if training:
        if n * q <= 1:
            raise ShapeError(f"{op}: expected more than 1 value per channel when training, "
                             f"got input {tuple(input.shape)}")
        with no_grad():
            stats = BatchStats.apply(x)
        mean, var = stats[0], stats[1]
        with no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(var, alpha=momentum * n * q / (n * q - 1))
    else:
        if running_mean is None or running_var is None:
            raise DeepxError(f"{op}: running_mean and running_var must be given when "
                             f"training=False (input {tuple(input.shape)})")
        mean, var = running_mean, running_var
    out = BatchNorm.apply(x, weight, bias, mean, var, eps=float(eps), batch_stats=bool(training))
    return reshape(out, input.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise over the trailing dims `normalized_shape`. input (*, *S), weight, bias (*S)."""
    from .movement import reshape

    op = "layer_norm"
    shape = (int(normalized_shape),) if is_int(normalized_shape) else \
        tuple(int(n) for n in normalized_shape)
    k = len(shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k:]) != shape:
        raise ShapeError(f"{op}: normalized_shape {shape} does not match the trailing dims of "
                         f"input {tuple(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating input, got {input.dtype.name}")
    for key, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"{op}: {key} must have shape {shape}, got {tuple(t.shape)} "
                             f"(input {tuple(input.shape)})")
    d = math.prod(shape)
    x = reshape(input, (input.numel() // d if d else 0, d))
    w = None if weight is None else reshape(weight, (d,))
    b = None if bias is None else reshape(bias, (d,))
    _check_params(op, d, x, weight=w, bias=b)
    return reshape(LayerNormFunction.apply(x, w, b, eps=float(eps)), input.shape)


def _dropout(op, input, p, training):  # noqa: A002
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating input, got {input.dtype.name} "
                         f"{tuple(input.shape)}")
    if not training:
        return input
    seed, offset = rng.next_offset(input.shape)
    return DropoutFunction.apply(input, p=float(p), seed=seed, offset=offset)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""
    return _dropout("dropout", input, p, training)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels: input (N, C, H, W) or unbatched (C, H, W); each (n, c) plane is
    kept with probability 1 - p and scaled by 1/(1-p). Identity in eval. inplace is ignored."""
    from ..creation import rand
    from .elementwise import mul

    op = "dropout2d"
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating input, got {input.dtype.name} "
                         f"{tuple(input.shape)}")
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    if not training or p == 0:
        return input
    if p == 1:
        return mul(input, 0.0)
    # one uniform draw per channel plane; the mask broadcasts over H and W
    u = rand(*input.shape[:-2], 1, 1, dtype=input.dtype, device=input.device)
    return mul(input, mul((u >= p).to(input.dtype), 1.0 / (1.0 - p)))


def dropconnect(weight, p=0.5, training=True):
    """DropConnect: dropout applied to a weight matrix (each connection kept with 1 - p)."""
    return _dropout("dropconnect", weight, p, training)
