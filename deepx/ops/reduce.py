"""Reductions: sum, max, min (differentiable); mean, var, std composed; argmax/argmin."""
from __future__ import annotations

import builtins
import collections
import math

from .. import dtypes
from ..autograd import Function
from ..backend import ArgReduceOp, BinaryOp, ReduceOp
from ..errors import ShapeError
from ..shapes import normalize_dim, normalize_dims
from .arrays import broadcast_to, keepdim_shape
from .elementwise import div, mul, sqrt, sub

# torch.max(x, dim) returns this pair.
MaxMin = collections.namedtuple("MaxMin", ["values", "indices"])


class Sum(Function):
    """y = sum of x over `axes`; the gradient is broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return ctx.backend.reduce(ReduceOp.SUM, x, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        grad = be.reshape(grad, keepdim_shape(ctx.shape, ctx.axes))
        return broadcast_to(be, grad, ctx.shape)


class _Extreme(Function):
    """max/min over axes; the gradient is shared evenly among tied maxima, as PyTorch's amax."""

    op = None

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        if any(x.shape[a] == 0 for a in axes):
            raise ShapeError(f"{cls.op_name()}: cannot reduce over a zero-size dimension of a "
                             f"tensor of shape {tuple(x.shape)}")
        out = ctx.backend.reduce(cls.op, x, axes, keepdim)
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        be = ctx.backend
        kshape = keepdim_shape(x.shape, ctx.axes)
        hit = be.binary(BinaryOp.EQ, x, be.reshape(out, kshape))
        dt = dtypes.of(grad)
        hits = be.cast(hit, dt)
        count = be.reduce(ReduceOp.SUM, hits, ctx.axes, True)
        share = be.binary(BinaryOp.DIV, be.reshape(grad, kshape), count)
        return be.binary(BinaryOp.MUL, hits, share)


class Max(_Extreme):
    """y = max of x over `axes`."""

    name = "max"
    op = ReduceOp.MAX


class Min(_Extreme):
    """y = min of x over `axes`."""

    name = "min"
    op = ReduceOp.MIN


def sum(x, dim=None, keepdim=False, dtype=None):  # noqa: A001 - PyTorch's name
    """Sum over dim (int, tuple or None = all). (*S) -> (*S without dim)."""
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype in (dtypes.bool_, dtypes.int32):
        x = x.to(dtypes.int64)  # PyTorch sums integers and bools in int64
    return Sum.apply(x, axes=normalize_dims("sum", dim, x.ndim, x.shape), keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    """Mean over dim; floating tensors only, as in PyTorch."""
    if not x.dtype.is_floating_point:
        from ..errors import DTypeError

        raise DTypeError(f"mean: input dtype should be floating point, got {x.dtype.name}")
    axes = normalize_dims("mean", dim, x.ndim, x.shape)
    count = math.prod(x.shape[a] for a in axes)
    return div(Sum.apply(x, axes=axes, keepdim=keepdim), count if count else float("nan"))


def var(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Variance over dim with Bessel's `correction` (1 = unbiased, PyTorch's default)."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = normalize_dims("var", dim, x.ndim, x.shape)
    count = math.prod(x.shape[a] for a in axes)
    centered = sub(x, mean(x, dim=axes, keepdim=True))
    total = Sum.apply(mul(centered, centered), axes=axes, keepdim=keepdim)
    return div(total, builtins.max(count - correction, 0))


def std(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Standard deviation: sqrt of var with the same arguments."""
    return sqrt(var(x, dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased))


def _extreme(fn, arg_op, name, x, dim, keepdim):
    if dim is None or not isinstance(dim, int):
        return fn.apply(x, axes=normalize_dims(name, dim, x.ndim, x.shape), keepdim=keepdim)
    axis = normalize_dim(name, dim, x.ndim, x.shape)
    values = fn.apply(x, axes=(axis,) if x.ndim else (), keepdim=keepdim)
    return MaxMin(values, _arg(arg_op, name, x, dim, keepdim))


def max(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Max over all (a tensor), over an int dim ((values, indices)) or a tuple of dims."""
    return _extreme(Max, ArgReduceOp.ARGMAX, "max", x, dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Min over all (a tensor), over an int dim ((values, indices)) or a tuple of dims."""
    return _extreme(Min, ArgReduceOp.ARGMIN, "min", x, dim, keepdim)


def amax(x, dim=None, keepdim=False):
    """Max values over dim (int, tuple or None)."""
    return Max.apply(x, axes=normalize_dims("amax", dim, x.ndim, x.shape), keepdim=keepdim)


def amin(x, dim=None, keepdim=False):
    """Min values over dim (int, tuple or None)."""
    return Min.apply(x, axes=normalize_dims("amin", dim, x.ndim, x.shape), keepdim=keepdim)


def _arg(op, name, x, dim, keepdim):
    from ..tensor import Tensor

    if x.numel() == 0:
        raise ShapeError(f"{name}: cannot take {name} of an empty tensor of shape "
                         f"{tuple(x.shape)}")
    be = x.device.backend
    data = x._data if x.dtype is not dtypes.bool_ else be.cast(x._data, dtypes.int32)
    if dim is None:
        data = be.reshape(data, (x.numel(),))
        axis, keepdim = 0, False
    else:
        axis = normalize_dim(name, dim, x.ndim, x.shape)
        if x.ndim == 0:
            data, keepdim = be.reshape(data, (1,)), False
    return Tensor._wrap(be.arg_reduce(op, data, axis, keepdim), x.device)


def argmax(x, dim=None, keepdim=False):
    """Index of the max over dim (an int) or over the flattened tensor; int64."""
    return _arg(ArgReduceOp.ARGMAX, "argmax", x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    """Index of the min over dim (an int) or over the flattened tensor; int64."""
    return _arg(ArgReduceOp.ARGMIN, "argmin", x, dim, keepdim)

