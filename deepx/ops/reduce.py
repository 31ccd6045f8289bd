"""Reductions: sum, max, min (differentiable); mean, var, std composed; argmax/argmin."""
from __future__ import annotations

import builtins
import collections
import math

from .. import dtypes
from ..autograd import Function
from ..backend import ArgReduceOp, BinaryOp, ReduceOp, UnaryOp
from ..errors import DTypeError, ShapeError
from ..shapes import is_real, normalize_dim, normalize_dims
from . import elementwise as ew
from .arrays import broadcast_to, keepdim_shape, scalar_like
from .elementwise import div
from .promotion import _tensor_types

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
    """max/min values over axes; tied extremes share the gradient evenly (PyTorch's amax).

    `nan_shares` (the full max()/min(), PyTorch's evenly_distribute_backward): a NaN result
    sends the gradient evenly to the NaN inputs; amax/amin give NaN everywhere instead.
    """

    op = None

    @classmethod
    def forward(cls, ctx, x, axes, keepdim, nan_shares=False):
        if any(x.shape[a] == 0 for a in axes):
            raise ShapeError(f"{cls.op_name()}: cannot reduce over a zero-size dimension of a "
                             f"tensor of shape {tuple(x.shape)}")
        out = ctx.backend.reduce(cls.op, x, axes, keepdim)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.nan_shares = axes, nan_shares
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        be = ctx.backend
        kshape = keepdim_shape(x.shape, ctx.axes)
        out = be.reshape(out, kshape)
        hit = be.binary(BinaryOp.EQ, x, out)
        if ctx.nan_shares:
            both_nan = be.binary(BinaryOp.AND, be.binary(BinaryOp.NE, x, x),
                                 be.binary(BinaryOp.NE, out, out))
            hit = be.binary(BinaryOp.OR, hit, both_nan)
        hits = be.cast(hit, dtypes.of(grad))
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


class _ExtremeDim(Function):
    """Values of max/min(dim) at the given int64 `indices` (keepdim shape); the whole gradient
    goes to the returned index, ties or not (PyTorch's value_selecting_reduction_backward)."""

    op = None

    @classmethod
    def forward(cls, ctx, x, indices, axis, keepdim):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.axis = x.shape, axis
        return ctx.backend.reduce(cls.op, x, (axis,), keepdim)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        be, shape, axis = ctx.backend, ctx.shape, ctx.axis
        kshape = keepdim_shape(shape, (axis,))
        positions = be.reshape(be.arange(0, 1, shape[axis], dtypes.int64),
                               tuple(n if i == axis else 1 for i, n in enumerate(shape)))
        chosen = be.binary(BinaryOp.EQ, positions, be.reshape(indices, kshape))
        zero = be.full((), 0, dtypes.of(grad))
        return be.where(chosen, be.reshape(grad, kshape), zero), None


class MaxDim(_ExtremeDim):
    """max(x, dim).values."""

    name = "max"
    op = ReduceOp.MAX


class MinDim(_ExtremeDim):
    """min(x, dim).values."""

    name = "min"
    op = ReduceOp.MIN


class Var(Function):
    """Variance over `axes` with Bessel's `correction`; PyTorch's var_backward:

    dx = 2 / (N - correction) * g * (x - mean) (inf * 0 = nan where x == mean when N equals
    the correction); with dim=None and N - correction <= 0, g * (nan where x == mean, else inf).
    """

    name = "var"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, full):
        out, centered = Var.compute(ctx.backend, x, axes, correction, keepdim)
        ctx.save_for_backward(centered)
        Var.remember(ctx, x, axes, correction, full)
        return out

    @staticmethod
    def compute(be, x, axes, correction, keepdim):
        """(variance, x - mean); a zero or negative N - correction divides by 0 (inf or nan)."""
        count = math.prod(x.shape[a] for a in axes)
        mean = be.binary(BinaryOp.DIV, be.reduce(ReduceOp.SUM, x, axes, True),
                         scalar_like(be, count, x))
        centered = be.binary(BinaryOp.SUB, x, mean)
        total = be.reduce(ReduceOp.SUM, be.binary(BinaryOp.MUL, centered, centered), axes,
                          keepdim)
        return (be.binary(BinaryOp.DIV, total, scalar_like(be, builtins.max(count - correction, 0),
                                                          x)), centered)

    @staticmethod
    def remember(ctx, x, axes, correction, full):
        ctx.dof = math.prod(x.shape[a] for a in axes) - correction
        ctx.axes, ctx.full = axes, full

    @staticmethod
    def grad_input(ctx, grad, centered):
        """dvar/dx times grad (the keepdim=False shape is restored first)."""
        be = ctx.backend
        grad = be.reshape(grad, keepdim_shape(centered.shape, ctx.axes))
        if ctx.full and ctx.dof <= 0:
            at_mean = be.binary(BinaryOp.EQ, centered, scalar_like(be, 0, centered))
            scale = be.where(at_mean, scalar_like(be, math.nan, centered),
                             scalar_like(be, math.inf, centered))
            return be.binary(BinaryOp.MUL, grad, scale)
        factor = scalar_like(be, 2 / ctx.dof if ctx.dof else math.inf, centered)
        return be.binary(BinaryOp.MUL, be.binary(BinaryOp.MUL, factor, grad), centered)

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_tensors
        return Var.grad_input(ctx, grad, centered)


class Std(Function):
    """sqrt(var); PyTorch's std_backward: grad / (2 std), taken as 0 where std == 0 (no spread),
    then var's backward."""

    name = "std"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, full):
        be = ctx.backend
        var_out, centered = Var.compute(be, x, axes, correction, keepdim)
        out = be.unary(UnaryOp.SQRT, var_out)
        ctx.save_for_backward(centered, out)
        Var.remember(ctx, x, axes, correction, full)
        return out

    @staticmethod
    def backward(ctx, grad):
        centered, out = ctx.saved_tensors
        be = ctx.backend
        zero = scalar_like(be, 0, out)
        grad_var = be.binary(BinaryOp.DIV, grad, be.binary(BinaryOp.ADD, out, out))
        grad_var = be.where(be.binary(BinaryOp.EQ, out, zero), zero, grad_var)
        return Var.grad_input(ctx, grad_var, centered)


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
        raise DTypeError(f"mean: input dtype should be floating point, got {x.dtype.name}")
    axes = normalize_dims("mean", dim, x.ndim, x.shape)
    count = math.prod(x.shape[a] for a in axes)
    return div(Sum.apply(x, axes=axes, keepdim=keepdim), count if count else float("nan"))


def _var_args(op, x, dim, correction, unbiased):
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}: input dtype should be floating point, got {x.dtype.name} "
                         f"(shape {tuple(x.shape)})")
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return normalize_dims(op, dim, x.ndim, x.shape), correction, dim is None or x.ndim == 0


def var(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Variance over dim with Bessel's `correction` (1 = unbiased, PyTorch's default).

    Floating x (*S) -> (*S without dim); N - correction <= 0 gives inf (nan without spread).
    """
    axes, correction, full = _var_args("var", x, dim, correction, unbiased)
    return Var.apply(x, axes=axes, correction=correction, keepdim=keepdim, full=full)


def std(x, dim=None, correction=1, keepdim=False, unbiased=None):
    """Standard deviation: sqrt of var with the same arguments."""
    axes, correction, full = _var_args("std", x, dim, correction, unbiased)
    return Std.apply(x, axes=axes, correction=correction, keepdim=keepdim, full=full)


def _extreme(fn, fn_dim, arg_op, name, x, dim, keepdim):
    if dim is None:  # the full max()/min(): NaN results share the gradient among NaN inputs
        return fn.apply(x, axes=normalize_dims(name, dim, x.ndim, x.shape), keepdim=keepdim,
                        nan_shares=True)
    if isinstance(dim, _tensor_types()):  # torch.max(x, other): the elementwise maximum
        return (ew.maximum if fn is Max else ew.minimum)(x, dim)
    if not isinstance(dim, int) and not hasattr(dim, "__index__"):  # a tuple of dims
        return fn.apply(x, axes=normalize_dims(name, dim, x.ndim, x.shape), keepdim=keepdim)
    axis = normalize_dim(name, dim, x.ndim, x.shape)  # (a NumPy integer too: one dim)
    dim = axis
    indices = _arg(arg_op, name, x, dim, keepdim)
    if x.ndim == 0:
        return MaxMin(fn.apply(x, axes=(), keepdim=keepdim), indices)
    if x.shape[axis] == 0:
        raise ShapeError(f"{name}: cannot reduce over a zero-size dimension of a tensor of "
                         f"shape {tuple(x.shape)}")
    return MaxMin(fn_dim.apply(x, indices, axis=axis, keepdim=keepdim), indices)


def max(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Max over all (a tensor), over an int dim ((values, indices)) or a tuple of dims."""
    return _extreme(Max, MaxDim, ArgReduceOp.ARGMAX, "max", x, dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Min over all (a tensor), over an int dim ((values, indices)) or a tuple of dims."""
    return _extreme(Min, MinDim, ArgReduceOp.ARGMIN, "min", x, dim, keepdim)


def amax(x, dim=None, keepdim=False):
    """Max values over dim (int, tuple or None)."""
    return Max.apply(x, axes=normalize_dims("amax", dim, x.ndim, x.shape), keepdim=keepdim)


def amin(x, dim=None, keepdim=False):
    """Min values over dim (int, tuple or None)."""
    return Min.apply(x, axes=normalize_dims("amin", dim, x.ndim, x.shape), keepdim=keepdim)


class ArgReduce(Function):
    """int64 index of the max/min along one axis (all of a flattened input when axis is None);
    an index has no gradient, so this is never recorded."""

    name = "arg_reduce"

    @staticmethod
    def forward(ctx, x, op, axis, keepdim):
        be = ctx.backend
        if dtypes.of(x) is dtypes.bool_:  # bools compare as 0/1
            x = be.cast(x, dtypes.int32)
        if axis is None:
            x, axis, keepdim = be.reshape(x, (math.prod(x.shape),)), 0, False
        elif not x.shape:
            x, keepdim = be.reshape(x, (1,)), False
        return be.arg_reduce(op, x, axis, keepdim)


def _arg(op, name, x, dim, keepdim):
    if x.numel() == 0:
        raise ShapeError(f"{name}: cannot take {name} of an empty tensor of shape "
                         f"{tuple(x.shape)}")
    axis = None if dim is None else normalize_dim(name, dim, x.ndim, x.shape)
    return ArgReduce.apply(x, op=op, axis=axis, keepdim=keepdim)


def argmax(x, dim=None, keepdim=False):
    """Index of the max over dim (an int) or over the flattened tensor; int64."""
    return _arg(ArgReduceOp.ARGMAX, "argmax", x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    """Index of the min over dim (an int) or over the flattened tensor; int64."""
    return _arg(ArgReduceOp.ARGMIN, "argmin", x, dim, keepdim)



class Norm2(Function):
    """Euclidean norm sqrt(sum x^2) over `axes`; PyTorch's norm_backward for p = 2:
    dx = g * x / norm, taken as 0 where norm == 0 (the zero vector is a kink)."""

    name = "norm"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        be = ctx.backend
        out = be.unary(UnaryOp.SQRT, be.reduce(ReduceOp.SUM, be.binary(BinaryOp.MUL, x, x),
                                               axes, keepdim))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        be = ctx.backend
        kshape = keepdim_shape(x.shape, ctx.axes)
        out, grad = be.reshape(out, kshape), be.reshape(grad, kshape)
        zero = scalar_like(be, 0, out)
        scale = be.where(be.binary(BinaryOp.EQ, out, zero), zero,
                         be.binary(BinaryOp.DIV, grad, out))
        return be.binary(BinaryOp.MUL, x, scale)


def norm(x, p="fro", dim=None, keepdim=False):
    """Vector p-norm over dim (all elements by default): p = 2 or 'fro' (Euclidean), 1, inf,
    -inf, or any other positive number; as torch.norm / torch.linalg.vector_norm."""
    if not x.dtype.is_floating_point:
        raise DTypeError(f"norm: input dtype should be floating point, got {x.dtype.name} "
                         f"(shape {tuple(x.shape)})")
    axes = normalize_dims("norm", dim, x.ndim, x.shape)
    if p in ("fro", 2, 2.0):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p == math.inf:
        return amax(ew.abs(x), tuple(axes), keepdim)
    if p == -math.inf:
        return amin(ew.abs(x), tuple(axes), keepdim)
    if not is_real(p) or p <= 0:
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    if p == 1:
        return Sum.apply(ew.abs(x), axes=axes, keepdim=keepdim)
    return ew.pow(Sum.apply(ew.pow(ew.abs(x), p), axes=axes, keepdim=keepdim), 1.0 / p)
