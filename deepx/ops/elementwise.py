"""Elementwise ops: unary math, binary arithmetic with broadcasting, where, clip.

Operand wrapping, type promotion and the dtype cast live in promotion.py.
"""
from __future__ import annotations

from .. import _host, dtypes
from ..autograd import Function
from ..backend import BinaryOp, UnaryOp
from ..errors import DeepxError, DTypeError
from ..shapes import broadcast_shapes
from .arrays import scalar_like, unbroadcast
from .promotion import (
    _ArrayOperand,
    _as_dtype,
    _as_float,
    _check_scalar,
    _host_operand,
    _no_bool,
    _operands,
    _tensor_types,
    _to,
)


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
    """y = ln x; dy/dx = 1/x (g/0 = +-inf at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.backend.unary(UnaryOp.LOG, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ctx.backend.binary(BinaryOp.DIV, grad, x)


class Sqrt(Function):
    """y = sqrt(x); dy/dx = 1 / (2y) (inf at 0, nan below: PyTorch's grad / (2 result))."""

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


class Rsqrt(Function):
    """y = 1 / sqrt(x); dy/dx = -y^3 / 2 (-inf at 0: PyTorch's -0.5 grad result^3)."""

    @staticmethod
    def forward(ctx, x):
        be = ctx.backend
        out = be.unary(UnaryOp.RECIPROCAL, be.unary(UnaryOp.SQRT, x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        cube = be.binary(BinaryOp.MUL, be.binary(BinaryOp.MUL, out, out), out)
        half_grad = be.binary(BinaryOp.MUL, grad, scalar_like(be, -0.5, grad))
        return be.binary(BinaryOp.MUL, half_grad, cube)


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


class TanhFunction(Function):
    """y = tanh x; dy/dx = 1 - y^2."""

    name = "tanh"

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


class SigmoidFunction(Function):
    """y = 1 / (1 + e^-x), computed without overflow; dy/dx = y (1 - y)."""

    name = "sigmoid"

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
    """z = a * b; dz/da = b, dz/db = a (an inf times a 0 gradient is nan, as PyTorch)."""

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
    """z = a / b; dz/da = 1/b, dz/db = -z/b (IEEE inf/nan at b = 0, as PyTorch's)."""

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
    """z = a ** b; dz/da = b a^(b-1), 0 where b == 0; dz/db = z ln a, 0 where a == 0, b >= 0.

    PyTorch's pow_backward_self / pow_backward_exponent: x ** 0 has gradient 0 even at x = 0,
    0 ** 0.5 has inf, a negative base gives nan for the exponent (ln a) as it does in PyTorch.
    """

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
        zero = scalar_like(be, 0, grad)
        if n[0]:
            a_pow = be.binary(BinaryOp.POW, a, be.binary(BinaryOp.SUB, b, scalar_like(be, 1, b)))
            d = be.binary(BinaryOp.MUL, grad, be.binary(BinaryOp.MUL, b, a_pow))
            d = be.where(be.binary(BinaryOp.EQ, b, zero), zero, d)  # x ** 0 is constant
            grad_a = unbroadcast(be, d, a.shape)
        if n[1]:
            flat_at_zero = be.binary(BinaryOp.AND, be.binary(BinaryOp.EQ, a, zero),
                                     be.binary(BinaryOp.GE, b, zero))  # 0 ** b, b >= 0
            d = be.where(flat_at_zero, zero,
                         be.binary(BinaryOp.MUL, out, be.unary(UnaryOp.LOG, a)))
            grad_b = unbroadcast(be, be.binary(BinaryOp.MUL, grad, d), b.shape)
        return grad_a, grad_b


class _Extremum(_Binary):
    """max/min of two tensors; a tie gives each side half the gradient, as PyTorch.

    PyTorch's rule exactly: grad * (a == b ? 1/2 : 1), zeroed on the side that lost; where a
    NaN is involved neither side lost and both get the whole gradient.
    """

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
        zero = scalar_like(be, 0, grad)
        halved = be.binary(BinaryOp.MUL, grad, scalar_like(be, 0.5, grad))
        shared = be.where(be.binary(BinaryOp.EQ, a, b), halved, grad)
        a_lost, b_lost = (BinaryOp.LT, BinaryOp.GT) if cls.op == BinaryOp.MAXIMUM else (
            BinaryOp.GT, BinaryOp.LT)
        grad_a = grad_b = None
        if n[0]:
            grad_a = unbroadcast(be, be.where(be.binary(a_lost, a, b), zero, shared), a.shape)
        if n[1]:
            grad_b = unbroadcast(be, be.where(be.binary(b_lost, a, b), zero, shared), b.shape)
        return grad_a, grad_b


class Maximum(_Extremum):
    """z = max(a, b) elementwise."""

    op = BinaryOp.MAXIMUM


class Minimum(_Extremum):
    """z = min(a, b) elementwise."""

    op = BinaryOp.MINIMUM


class Where(Function):
    """z = cond ? a : b with broadcasting; gradients flow to the chosen side, exact 0 to the other
    (even where that side is inf or nan, as PyTorch)."""

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
    """y = min(max(x, min), max), bounds tensors (broadcast) or None; PyTorch's clamp_backward:

    dy/dx = 1 where min <= x <= max (bounds included), else 0; the min bound gets the gradient
    where x < min (and min < max when both are given), the max bound where x > max or max < min.
    """

    name = "clamp"

    @staticmethod
    def forward(ctx, x, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        be = ctx.backend
        broadcast_shapes("clamp", *(tuple(t.shape) for t in (x, min, max) if t is not None))
        ctx.save_for_backward(x, min, max)
        out = x
        if min is not None:
            out = be.binary(BinaryOp.MAXIMUM, out, min)
        if max is not None:
            out = be.binary(BinaryOp.MINIMUM, out, max)
        return out if out is not x else be.cast(x, dtypes.of(x))

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        be, n = ctx.backend, ctx.needs_input_grad
        zero = scalar_like(be, 0, grad)
        both = lo is not None and hi is not None
        grads = [None, None, None]
        if n[0]:
            inside = None
            if lo is not None:
                inside = be.binary(BinaryOp.GE, x, lo)
            if hi is not None:
                below_hi = be.binary(BinaryOp.LE, x, hi)
                inside = below_hi if inside is None else be.binary(BinaryOp.AND, inside, below_hi)
            grads[0] = unbroadcast(be, be.where(inside, grad, zero), x.shape)
        if n[1] and lo is not None:
            picked = be.binary(BinaryOp.LT, x, lo)
            if both:
                picked = be.binary(BinaryOp.AND, picked, be.binary(BinaryOp.LT, lo, hi))
            grads[1] = unbroadcast(be, be.where(picked, grad, zero), lo.shape)
        if n[2] and hi is not None:
            picked = be.binary(BinaryOp.GT, x, hi)
            if both:
                picked = be.binary(BinaryOp.OR, picked, be.binary(BinaryOp.LT, hi, lo))
            grads[2] = unbroadcast(be, be.where(picked, grad, zero), hi.shape)
        return tuple(grads)


# ---------------------------------------------------------------- public functions
def add(a, b, alpha=1):
    """a + alpha * b with broadcasting. (*A), (*B) -> broadcast(A, B)."""
    return Add.apply(*_operands("add", a, _scaled("add", a, b, alpha)))


def sub(a, b, alpha=1):
    """a - alpha * b with broadcasting; a bool tensor operand raises DTypeError, as PyTorch."""
    _no_bool("sub", "subtraction with a bool tensor is not supported; use ^ or logical_xor()",
             a, b)
    return Sub.apply(*_operands("sub", a, _scaled("sub", a, b, alpha)))


def _scaled(op, a, b, alpha):
    """alpha * b for add/sub's alpha: a tensor product, or plain arithmetic on scalars. A float
    alpha with integer or bool operands raises DTypeError, as PyTorch."""
    if alpha == 1:
        return b
    tensor_cls = _tensor_types()

    def integral(x):
        return not x.dtype.is_floating_point if isinstance(x, tensor_cls) else \
            isinstance(x, int)

    if isinstance(alpha, float) and integral(a) and integral(b):
        raise DTypeError(f"{op}: for integral input tensors, argument alpha must not be a "
                         f"floating point number (alpha={alpha})")
    return mul(b, alpha) if isinstance(b, tensor_cls) else b * alpha


def mul(a, b):
    """a * b with broadcasting."""
    return Mul.apply(*_operands("mul", a, b))


def div(a, b, rounding_mode=None):
    """a / b with broadcasting (true division: integers give float32); rounding_mode 'floor'
    is floor_divide ('trunc' raises NotImplementedError)."""
    if rounding_mode is not None:
        if rounding_mode != "floor":
            raise NotImplementedError(f"div: rounding_mode={rounding_mode!r} is not supported "
                                      "(None or 'floor')")
        from .division import floor_divide

        return floor_divide(a, b)
    return Div.apply(*_operands("div", a, b, true_divide=True))


def pow(a, b):  # noqa: A001 - PyTorch's name
    """a ** b with broadcasting; an integer tensor to a negative Python int raises (PyTorch)."""
    tensor_cls = _tensor_types()
    if (isinstance(a, tensor_cls) and not a.dtype.is_floating_point and isinstance(b, int)
            and not isinstance(b, bool) and b < 0):
        raise DTypeError(f"pow: Integers to negative integer powers are not allowed. (tensor "
                         f"{a.dtype.name} {tuple(a.shape)} ** {b})")
    a, b = _operands("pow", a, b)
    if a.dtype is dtypes.bool_:
        _no_bool("pow", "not implemented for bool tensors", a, b)
    return Pow.apply(a, b)


def maximum(a, b):
    """Elementwise max of a and b with broadcasting."""
    return Maximum.apply(*_operands("maximum", a, b))


def minimum(a, b):
    """Elementwise min of a and b with broadcasting."""
    return Minimum.apply(*_operands("minimum", a, b))


def where(condition, input=None, other=None):  # noqa: A002 - PyTorch's argument names
    """condition ? input : other, all three broadcast together.

    where(condition) alone is nonzero(condition, as_tuple=True), as torch.where: a tuple of
    int64 index tensors, one per dim of condition.
    """
    tensor_cls = _tensor_types()
    if input is None and other is None:
        if not isinstance(condition, tensor_cls):
            raise DTypeError(f"where: condition must be a tensor, got "
                             f"{type(condition).__name__}")
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: expected where(condition) or where(condition, input, other)")
    if isinstance(condition, tensor_cls) and not isinstance(input, tensor_cls) \
            and not isinstance(other, tensor_cls):  # two scalars: 0-d tensors beside condition
        input = _host.host_operand(input)  # noqa: A001
        dt = dtypes.result_type(_check_scalar("where", input),
                                _check_scalar("where", _host.host_operand(other)))
        input = tensor_cls._wrap(condition.device.backend.full((), input, dt), condition.device)
    if not isinstance(condition, tensor_cls) or condition.dtype is not dtypes.bool_:
        raise DTypeError("where: condition must be a bool tensor, got "
                         f"{getattr(condition, 'dtype', type(condition).__name__)}")
    a, b = _operands("where", input, other)
    return Where.apply(condition, a, b)


def clip(input, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """Clamp every element into [min, max]; bounds are Python scalars, tensors or None.

    input (*S), tensor bounds broadcast with it -> broadcast shape; dtype by
    dtypes.result_type of all three. Raises DeepxError when both bounds are None.
    """
    if min is None and max is None:
        raise DeepxError("clamp: at least one of 'min' or 'max' must not be None")
    min, max = (b.tensor if isinstance(b, _ArrayOperand) else b  # noqa: A001
                for b in (_host_operand(min, input), _host_operand(max, input)))
    for bound in (min, max):
        if bound is not None:
            _check_scalar("clamp", bound)
    dt = dtypes.result_type(input, min, max)
    lo = None if min is None else _as_dtype(min, dt, input)
    hi = None if max is None else _as_dtype(max, dt, input)
    return Clip.apply(_to(input, dt), lo, hi)


clamp = clip


def clamp_min(input, min):  # noqa: A002 - PyTorch's argument names
    """max(input, min) with clamp's gradient (to input where input >= min)."""
    return clip(input, min=min)


def clamp_max(input, max):  # noqa: A002 - PyTorch's argument names
    """min(input, max) with clamp's gradient (to input where input <= max)."""
    return clip(input, max=max)


def exp(x):
    """Elementwise e^x."""
    return Exp.apply(_as_float(x))


def log(x):
    """Elementwise natural log."""
    return Log.apply(_as_float(x))


def sqrt(x):
    """Elementwise square root."""
    return Sqrt.apply(_as_float(x))


def rsqrt(x):
    """Elementwise 1 / sqrt(x); integers give float32."""
    return Rsqrt.apply(_as_float(x))


def abs(x):  # noqa: A001 - PyTorch's name
    """Elementwise |x|; bool raises DTypeError, as PyTorch."""
    _no_bool("abs", "not implemented for bool tensors", x)
    return Abs.apply(x)


def neg(x):
    """Elementwise -x; bool raises DTypeError (use ~), as PyTorch."""
    _no_bool("neg", "negation of a bool tensor is not supported; use ~ or logical_not()", x)
    return Neg.apply(x)


def tanh(x):
    """Elementwise tanh."""
    return TanhFunction.apply(_as_float(x))


def sigmoid(x):
    """Elementwise logistic sigmoid."""
    return SigmoidFunction.apply(_as_float(x))


class Compare(Function):
    """z = a op b for a comparison, logical or bitwise BinaryOp: bool or integer results, so
    never recorded."""

    name = "compare"

    @staticmethod
    def forward(ctx, a, b, op, name):
        broadcast_shapes(name, tuple(a.shape), tuple(b.shape))
        return ctx.backend.binary(op, a, b)


def compare(op: BinaryOp, name: str, a, b):
    """A comparison with broadcasting; returns a bool tensor and records nothing."""
    a, b = _operands(name, a, b)
    return Compare.apply(a, b, op=op, name=name)
