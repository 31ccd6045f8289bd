"""Logical reductions and comparisons that give bools or Python bools: all, any, isclose,
allclose, equal; and the bitwise ops on integer and bool tensors. Nothing here is recorded
(PyTorch gives these no gradient)."""
from __future__ import annotations

import math

from .. import dtypes
from ..autograd import Function, no_grad
from ..backend import BinaryOp, ReduceOp
from ..errors import DTypeError
from ..shapes import normalize_dims
from .arrays import scalar_like


class _Logical(Function):
    """all/any over a sorted tuple of axes: x != 0 reduced by min (all) or max (any); bool,
    so never recorded. Over no elements all() is True and any() False, as in PyTorch."""

    want_all = True

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        be = ctx.backend
        if not math.prod(x.shape):
            shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape)) if keepdim \
                else tuple(n for i, n in enumerate(x.shape) if i not in axes)
            return be.full(shape, cls.want_all, dtypes.bool_)
        truth = be.cast(be.binary(BinaryOp.NE, x, scalar_like(be, 0, x)), dtypes.int32)
        op = ReduceOp.MIN if cls.want_all else ReduceOp.MAX
        return be.cast(be.reduce(op, truth, axes, keepdim), dtypes.bool_)


class All(_Logical):
    """True where every element over the axes is nonzero."""

    name = "all"
    want_all = True


class Any(_Logical):
    """True where some element over the axes is nonzero."""

    name = "any"
    want_all = False


def all_(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's argument names
    """True where every element (over dim: int, tuple or None = all) is nonzero; bool."""
    return All.apply(input, axes=normalize_dims("all", dim, input.ndim, input.shape),
                     keepdim=keepdim)


def any_(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's argument names
    """True where some element (over dim: int, tuple or None = all) is nonzero; bool."""
    return Any.apply(input, axes=normalize_dims("any", dim, input.ndim, input.shape),
                     keepdim=keepdim)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Elementwise |input - other| <= atol + rtol * |other| (finite error) or equal; bool,
    broadcast shape. NaN is close to NaN only with equal_nan."""
    from .elementwise import abs as abs_
    from .elementwise import add, compare, mul, sub
    from .promotion import _operands

    a, b = _operands("isclose", input, other)
    with no_grad():
        close = compare(BinaryOp.EQ, "isclose", a, b)
        if equal_nan:
            close = close | ((a != a) & (b != b))
        if a.dtype.is_floating_point:
            error = abs_(sub(a, b))
            allowed = add(mul(abs_(b), rtol), atol)
            close = close | ((error < float("inf")) & (error <= allowed))
        else:
            error = abs_(sub(a, b)).to(dtypes.float64)
            close = close | (error <= add(mul(abs_(b).to(dtypes.float64), rtol), atol))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:  # noqa: A002
    """True when isclose holds everywhere (a Python bool)."""
    return bool(all_(isclose(input, other, rtol, atol, equal_nan)).item())


def equal(input, other) -> bool:  # noqa: A002 - PyTorch's argument names
    """True when both tensors have the same shape and equal elements (a Python bool)."""
    from .elementwise import compare

    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(all_(compare(BinaryOp.EQ, "equal", input, other)).item())


def _compare(op, name, input, other):  # noqa: A002
    from .elementwise import compare

    return compare(op, name, input, other)


def eq(input, other):  # noqa: A002 - PyTorch's argument names
    """input == other elementwise with broadcasting; bool."""
    return _compare(BinaryOp.EQ, "eq", input, other)


def ne(input, other):  # noqa: A002
    """input != other elementwise with broadcasting; bool."""
    return _compare(BinaryOp.NE, "ne", input, other)


def lt(input, other):  # noqa: A002
    """input < other elementwise with broadcasting; bool."""
    return _compare(BinaryOp.LT, "lt", input, other)


def le(input, other):  # noqa: A002
    """input <= other elementwise with broadcasting; bool."""
    return _compare(BinaryOp.LE, "le", input, other)


def gt(input, other):  # noqa: A002
    """input > other elementwise with broadcasting; bool."""
    return _compare(BinaryOp.GT, "gt", input, other)


def ge(input, other):  # noqa: A002
    """input >= other elementwise with broadcasting; bool."""
    return _compare(BinaryOp.GE, "ge", input, other)


def _bitwise(op, name, input, other):  # noqa: A002
    """input op other for integer and bool tensors (after promotion); DTypeError otherwise,
    as PyTorch has no bitwise ops on floating types."""
    from .elementwise import Compare
    from .promotion import _operands

    a, b = _operands(name, input, other)
    if a.dtype.is_floating_point:
        raise DTypeError(f"{name}: not implemented for {a.dtype.name} tensors (integer and bool "
                         f"only; shapes {tuple(a.shape)} and {tuple(b.shape)})")
    return Compare.apply(a, b, op=op, name=name)  # an integer or bool result: never recorded


def bitwise_and(input, other):  # noqa: A002 - PyTorch's argument names
    """input & other elementwise with broadcasting, integer or bool (logical and for bool)."""
    return _bitwise(BinaryOp.BITWISE_AND, "bitwise_and", input, other)


def bitwise_or(input, other):  # noqa: A002
    """input | other elementwise with broadcasting, integer or bool (logical or for bool)."""
    return _bitwise(BinaryOp.BITWISE_OR, "bitwise_or", input, other)


def bitwise_xor(input, other):  # noqa: A002
    """input ^ other elementwise with broadcasting, integer or bool (logical xor for bool)."""
    return _bitwise(BinaryOp.BITWISE_XOR, "bitwise_xor", input, other)
