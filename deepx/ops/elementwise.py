"""Elementwise ops: unary math, binary arithmetic with broadcasting, where, clip, cast."""
from __future__ import annotations

from .. import dtypes
from ..autograd import Function, _Tensor
from ..backend import BinaryOp, UnaryOp
from ..errors import DTypeError
from ..shapes import broadcast_shapes
from .arrays import scalar_like, unbroadcast


# ---------------------------------------------------------------- unary
class Neg(Function):
    """y = -x."""

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.unary(UnaryOp.NEG, x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.unary(UnaryOp.NEG, grad)


class Exp(Function):
    """y = e^x; dy/dx = y."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.unary(UnaryOp.EXP, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.backend.binary(BinaryOp.MUL, grad, out)


class Log(Function):
    """y = ln x; dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.unary(UnaryOp.LOG, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.binary(BinaryOp.DIV, grad, x)


class Sqrt(Function):
    """y = sqrt(x); dy/dx = 1 / (2y)."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.unary(UnaryOp.SQRT, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        b = ctx.backend
        two_out = b.binary(BinaryOp.ADD, out, out)
        return b.binary(BinaryOp.DIV, grad, two_out)


class Abs(Function):
    """y = |x|; dy/dx = sign(x) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.unary(UnaryOp.ABS, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        b = ctx.backend
        return b.binary(BinaryOp.MUL, grad, b.unary(UnaryOp.SIGN, x))


class Tanh(Function):
    """y = tanh x; dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.unary(UnaryOp.TANH, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        b = ctx.backend
        one = scalar_like(b, 1, out)
        return b.binary(BinaryOp.MUL, grad,
                        b.binary(BinaryOp.SUB, one, b.binary(BinaryOp.MUL, out, out)))


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed without overflow; dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.unary(UnaryOp.SIGMOID, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        b = ctx.backend
        one = scalar_like(b, 1, out)
        return b.binary(BinaryOp.MUL, grad,
                        b.binary(BinaryOp.MUL, out, b.binary(BinaryOp.SUB, one, out)))


# ---------------------------------------------------------------- binary
class _Binary(Function):
    """Shared shape check: both shapes must broadcast (error names op and shapes)."""

    @classmethod
    def out_shape(cls, a, b):
        return broadcast_shapes(cls.op_name(), tuple(a.shape), tuple(b.shape))


class Add(_Binary):
    """z = a + b."""

    @staticmethod
    def forward(ctx, a, b):
        Add.out_shape(a, b)
        ctx.shapes = (a.shape, b.shape)
        return ctx.backend.binary(BinaryOp.ADD, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        n = ctx.needs_input_grad
        return (unbroadcast(ctx.backend, grad, sa) if n[0] else None,
                unbroadcast(ctx.backend, grad, sb) if n[1] else None)


class Sub(_Binary):
    """z = a - b."""

    @staticmethod
    def forward(ctx, a, b):
        Sub.out_shape(a, b)
        ctx.shapes = (a.shape, b.shape)
        return ctx.backend.binary(BinaryOp.SUB, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        n, be = ctx.needs_input_grad, ctx.backend
        return (unbroadcast(be, grad, sa) if n[0] else None,
                unbroadcast(be, be.unary(UnaryOp.NEG, grad), sb) if n[1] else None)


class Mul(_Binary):
    """z = a * b; dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        Mul.out_shape(a, b)
        ctx.save_for_backward(a, b)
        return ctx.backend.binary(BinaryOp.MUL, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        n, be = ctx.needs_input_grad, ctx.backend
        return (unbroadcast(be, be.binary(BinaryOp.MUL, grad, b), a.shape) if n[0] else None,
                unbroadcast(be, be.binary(BinaryOp.MUL, grad, a), b.shape) if n[1] else None)


class Div(_Binary):
    """z = a / b; dz/da = 1/b, dz/db = -z/b."""

    @staticmethod
    def forward(ctx, a, b):
        Div.out_shape(a, b)
        out = ctx.backend.binary(BinaryOp.DIV, a, b)
        ctx.save_for_backward(b, out)
        ctx.shape_a = a.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        b, out = ctx.saved_tensors
        n, be = ctx.needs_input_grad, ctx.backend
        grad_a = grad_b = None
        g_over_b = be.binary(BinaryOp.DIV, grad, b)
        if n[0]:
            grad_a = unbroadcast(be, g_over_b, ctx.shape_a)
        if n[1]:
            grad_b = unbroadcast(be, be.unary(UnaryOp.NEG, be.binary(BinaryOp.MUL, g_over_b, out)),
                                 b.shape)
        return grad_a, grad_b


class Pow(_Binary):
    """z = a ** b; dz/da = b a^(b-1), dz/db = z ln a (taken as 0 where a <= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        Pow.out_shape(a, b)
        out = ctx.backend.binary(BinaryOp.POW, a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        n, be = ctx.needs_input_grad, ctx.backend
        grad_a = grad_b = None
        if n[0]:
            one = scalar_like(be, 1, a)
            a_pow = be.binary(BinaryOp.POW, a, be.binary(BinaryOp.SUB, b, one))
            d = be.binary(BinaryOp.MUL, b, a_pow)
            grad_a = unbroadcast(be, be.binary(BinaryOp.MUL, grad, d), a.shape)
        if n[1]:
            zero = scalar_like(be, 0, a)
            positive = be.binary(BinaryOp.GT, a, zero)
            safe_a = be.where(positive, a, scalar_like(be, 1, a))  # log of <= 0 would be nan
            log_a = be.where(positive, be.unary(UnaryOp.LOG, safe_a), zero)
            d = be.binary(BinaryOp.MUL, out, log_a)
            grad_b = unbroadcast(be, be.binary(BinaryOp.MUL, grad, d), b.shape)
        return grad_a, grad_b


class _Extremum(_Binary):
    """max/min of two tensors; on ties the gradient is split evenly, as in PyTorch."""

    op = None

    @classmethod
    def forward(cls, ctx, a, b):
        cls.out_shape(a, b)
        ctx.save_for_backward(a, b)
        return ctx.backend.binary(cls.op, a, b)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        n, be = ctx.needs_input_grad, ctx.backend
        half, one, zero = (scalar_like(be, v, grad) for v in (0.5, 1, 0))
        wins = BinaryOp.GT if cls.op == BinaryOp.MAXIMUM else BinaryOp.LT
        share_a = be.where(be.binary(wins, a, b), one,
                           be.where(be.binary(BinaryOp.EQ, a, b), half, zero))
        share_b = be.binary(BinaryOp.SUB, one, share_a)
        return (unbroadcast(be, be.binary(BinaryOp.MUL, grad, share_a), a.shape) if n[0] else None,
                unbroadcast(be, be.binary(BinaryOp.MUL, grad, share_b), b.shape) if n[1] else None)


class Maximum(_Extremum):
    """z = max(a, b) elementwise."""

    op = BinaryOp.MAXIMUM


class Minimum(_Extremum):
    """z = min(a, b) elementwise."""

    op = BinaryOp.MINIMUM


class Where(Function):
    """z = cond ? a : b with broadcasting; gradients flow to the chosen side."""

    @staticmethod
    def forward(ctx, cond, a, b):
        broadcast_shapes("where", tuple(cond.shape), tuple(a.shape), tuple(b.shape))
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, b.shape)
        return ctx.backend.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        be, n = ctx.backend, ctx.needs_input_grad
        zero = scalar_like(be, 0, grad)
        return (None,
                unbroadcast(be, be.where(cond, grad, zero), ctx.shapes[0]) if n[1] else None,
                unbroadcast(be, be.where(cond, zero, grad), ctx.shapes[1]) if n[2] else None)


class Clip(Function):
    """y = min(max(x, min), max); dy/dx = 1 inside [min, max] (bounds included), else 0."""

    name = "clip"

    @staticmethod
    def forward(ctx, x, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        be, dt = ctx.backend, dtypes.of(x)
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        out = x
        if min is not None:
            out = be.binary(BinaryOp.MAXIMUM, out, scalar_like(be, min, x))
        if max is not None:
            out = be.binary(BinaryOp.MINIMUM, out, scalar_like(be, max, x))
        return out if out is not x else be.cast(x, dt)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be = ctx.backend
        lo, hi = ctx.bounds
        zero = scalar_like(be, 0, grad)
        if lo is not None:
            grad = be.where(be.binary(BinaryOp.GE, x, scalar_like(be, lo, grad)), grad, zero)
        if hi is not None:
            grad = be.where(be.binary(BinaryOp.LE, x, scalar_like(be, hi, grad)), grad, zero)
        return grad


class Cast(Function):
    """y = x converted to `dtype`; the gradient is cast back."""

    name = "to"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype_in = dtypes.of(x)
        return ctx.backend.cast(x, dtype)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.cast(grad, ctx.dtype_in)


# ---------------------------------------------------------------- public functions
def _tensor_types():
    from ..tensor import Tensor

    return Tensor


def _as_float(x):
    """Float-only math (exp, log, ...) promotes integer tensors to float32, as PyTorch."""
    return x if x.dtype.is_floating_point else Cast.apply(x, dtype=dtypes.float32)


def _operands(op: str, a, b, true_divide=False):
    """Wrap a Python scalar and promote both operands to one dtype (PyTorch's rules)."""
    tensor_cls = _Tensor[0]
    if type(a) is tensor_cls and type(b) is tensor_cls:  # the common case, on every op
        dt = dtypes.of(a._data)
        if dt is dtypes.of(b._data) and (dt.is_floating_point or not true_divide):
            return a, b
    if not isinstance(a, tensor_cls) and not isinstance(b, tensor_cls):
        raise DTypeError(f"{op}: expected at least one tensor, got {type(a).__name__} and "
                         f"{type(b).__name__}")
    if not isinstance(a, tensor_cls):
        dt = dtypes.promote_scalar(b.dtype, _check_scalar(op, a))
        if true_divide and not dt.is_floating_point:
            dt = dtypes.float32
        return tensor_cls._wrap(b.device.backend.full((), a, dt), b.device), _to(b, dt)
    if not isinstance(b, tensor_cls):
        dt = dtypes.promote_scalar(a.dtype, _check_scalar(op, b))
        if true_divide and not dt.is_floating_point:
            dt = dtypes.float32
        return _to(a, dt), tensor_cls._wrap(a.device.backend.full((), b, dt), a.device)
    dt = dtypes.promote(a.dtype, b.dtype)
    if true_divide and not dt.is_floating_point:
        dt = dtypes.float32
    return _to(a, dt), _to(b, dt)


def _check_scalar(op, value):
    if not isinstance(value, (bool, int, float)):
        raise DTypeError(f"{op}: unsupported operand of type {type(value).__name__}")
    return value


def _to(x, dt):
    return x if x.dtype is dt else Cast.apply(x, dtype=dt)


def add(a, b):
    """a + b with broadcasting. (*A), (*B) -> broadcast(A, B)."""
    return Add.apply(*_operands("add", a, b))


def sub(a, b):
    """a - b with broadcasting."""
    return Sub.apply(*_operands("sub", a, b))


def mul(a, b):
    """a * b with broadcasting."""
    return Mul.apply(*_operands("mul", a, b))


def div(a, b):
    """a / b with broadcasting (true division: integers give float32)."""
    return Div.apply(*_operands("div", a, b, true_divide=True))


def pow(a, b):  # noqa: A001 - PyTorch's name
    """a ** b with broadcasting."""
    return Pow.apply(*_operands("pow", a, b))


def maximum(a, b):
    """Elementwise max of a and b with broadcasting."""
    return Maximum.apply(*_operands("maximum", a, b))


def minimum(a, b):
    """Elementwise min of a and b with broadcasting."""
    return Minimum.apply(*_operands("minimum", a, b))


def where(condition, input, other):  # noqa: A002 - PyTorch's argument names
    """condition ? input : other, all three broadcast together."""
    tensor_cls = _tensor_types()
    if not isinstance(condition, tensor_cls) or condition.dtype is not dtypes.bool_:
        raise DTypeError("where: condition must be a bool tensor, got "
                         f"{getattr(condition, 'dtype', type(condition).__name__)}")
    a, b = _operands("where", input, other)
    return Where.apply(condition, a, b)


def clip(input, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """Clamp every element into [min, max] (either bound may be None)."""
    return Clip.apply(input, min=min, max=max)


def exp(x):
    """Elementwise e^x."""
    return Exp.apply(_as_float(x))


def log(x):
    """Elementwise natural log."""
    return Log.apply(_as_float(x))


def sqrt(x):
    """Elementwise square root."""
    return Sqrt.apply(_as_float(x))


def abs(x):  # noqa: A001 - PyTorch's name
    """Elementwise |x|."""
    return Abs.apply(x)


def neg(x):
    """Elementwise -x."""
    return Neg.apply(x)


def tanh(x):
    """Elementwise tanh."""
    return Tanh.apply(_as_float(x))


def sigmoid(x):
    """Elementwise logistic sigmoid."""
    return Sigmoid.apply(_as_float(x))


def compare(op: BinaryOp, name: str, a, b):
    """A comparison with broadcasting; returns a bool tensor and records nothing."""
    a, b = _operands(name, a, b)
    if a.device != b.device:
        Add.apply(a, b)  # raises the device-mismatch error with both shapes
    broadcast_shapes(name, tuple(a.shape), tuple(b.shape))
    return _tensor_types()._wrap(a.device.backend.binary(op, a._data, b._data), a.device)
