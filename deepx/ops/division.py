"""Floor division and remainder (Python's // and %) for integer and floating tensors."""
from __future__ import annotations

from .. import dtypes
from ..backend import BinaryOp, ReduceOp, UnaryOp
from ..errors import DTypeError
from ..shapes import broadcast_shapes
from .arrays import unbroadcast
from .elementwise import _Binary
from .promotion import _operands, _tensor_types


class FloorDivide(_Binary):
    """z = floor(a / b) (Python's //); not differentiable: no gradient flows (PyTorch has none)."""

    name = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        FloorDivide.out_shape(a, b)
        return ctx.backend.binary(BinaryOp.FLOOR_DIVIDE, a, b)

    @staticmethod
    def backward(ctx, grad):
        return None, None


class Remainder(_Binary):
    """z = a - floor(a / b) b, the sign of b; dz/da = 1, dz/db = -floor(a / b) (PyTorch's)."""

    name = "remainder"

    @staticmethod
    def forward(ctx, a, b):
        Remainder.out_shape(a, b)
        ctx.save_for_backward(a, b)
        return ctx.backend.binary(BinaryOp.REMAINDER, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        n, be = ctx.needs_input_grad, ctx.backend
        grad_b = None
        if n[1]:
            quotient = be.binary(BinaryOp.FLOOR_DIVIDE, a, b)
            grad_b = unbroadcast(be, be.unary(UnaryOp.NEG, be.binary(BinaryOp.MUL, grad, quotient)),
                                 b.shape)
        return unbroadcast(be, grad, a.shape) if n[0] else None, grad_b


def _integer_operands(op: str, a, b):
    """Promote for // and %: bool is refused and an integer zero divisor raises, as PyTorch."""
    a, b = _operands(op, a, b)
    if a.dtype is dtypes.bool_:
        raise DTypeError(f"{op}: not implemented for bool tensors (shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)})")
    broadcast_shapes(op, tuple(a.shape), tuple(b.shape))
    if not a.dtype.is_floating_point and b.numel() and _has_zero(b):
        raise ZeroDivisionError(f"{op}: integer division by zero (shapes {tuple(a.shape)} and "
                                f"{tuple(b.shape)})")
    return a, b


def _has_zero(x) -> bool:
    """Whether integer tensor x holds a 0 (one host read, as PyTorch's CPU check)."""
    be = x.device.backend
    hit = be.cast(be.binary(BinaryOp.EQ, x._data, be.full((), 0, x.dtype)), dtypes.int32)
    found = be.reduce(ReduceOp.MAX, hit, tuple(range(x.ndim)), False)
    return bool(_tensor_types()._wrap(found, x.device).item())


def floor_divide(a, b):
    """floor(a / b) with broadcasting (Python's //); integers stay integers. Not differentiable.

    Raises ZeroDivisionError for an integer zero divisor and DTypeError for bool, as PyTorch.
    """
    return FloorDivide.apply(*_integer_operands("floor_divide", a, b))


def remainder(a, b):
    """a - floor(a / b) * b with broadcasting (Python's %): the sign of the divisor.

    Raises ZeroDivisionError for an integer zero divisor and DTypeError for bool, as PyTorch.
    """
    return Remainder.apply(*_integer_operands("remainder", a, b))
