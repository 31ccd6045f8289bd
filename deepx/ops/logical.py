"""Logical reductions and comparisons that give bools or Python bools: all, any, isclose,
allclose, equal. Nothing here is recorded (PyTorch gives these no gradient)."""
from __future__ import annotations

from .. import dtypes
from ..autograd import no_grad
from ..backend import BinaryOp, ReduceOp
from ..shapes import normalize_dims
from .arrays import scalar_like


def _tensor_cls():
    from ..tensor import Tensor

    return Tensor


def _logical_reduce(op, x, dim, keepdim, want_all):
    axes = normalize_dims(op, dim, x.ndim, x.shape)
    be = x.device.backend
    truth = be.binary(BinaryOp.NE, x._data, scalar_like(be, 0, x._data))
    as_int = be.cast(truth, dtypes.int32)
    if not x.numel():  # all() of nothing is True, any() is False
        shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape)) if keepdim else \
            tuple(s for i, s in enumerate(x.shape) if i not in axes)
        return _tensor_cls()._wrap(be.full(shape, want_all, dtypes.bool_), x.device)
    red = be.reduce(ReduceOp.MIN if want_all else ReduceOp.MAX, as_int, axes, keepdim)
    return _tensor_cls()._wrap(be.cast(red, dtypes.bool_), x.device)


def all_(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's argument names
    """True where every element (over dim: int, tuple or None = all) is nonzero; bool."""
    return _logical_reduce("all", input, dim, keepdim, True)


def any_(input, dim=None, keepdim=False):  # noqa: A002 - PyTorch's argument names
    """True where some element (over dim: int, tuple or None = all) is nonzero; bool."""
    return _logical_reduce("any", input, dim, keepdim, False)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Elementwise |input - other| <= atol + rtol * |other| (finite error) or equal; bool,
    broadcast shape. NaN is close to NaN only with equal_nan."""
    from .elementwise import _operands, add, compare, mul, sub
    from .elementwise import abs as abs_

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
