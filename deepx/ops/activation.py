"""Activations: relu family, gelu, softplus, silu, and softmax / log_softmax (fused, stable).

Each Function saves what its derivative needs: the output where the derivative is a function
of it (relu), else the input. sigmoid and tanh live in ops/elementwise.py.
"""
from __future__ import annotations

import math
import warnings

from .. import dtypes
from ..autograd import Function
from ..backend import BinaryOp, UnaryOp
from ..errors import DTypeError, ShapeError
from ..shapes import normalize_dim
from .arrays import scalar_like, unbroadcast
from .elementwise import sigmoid, tanh  # noqa: F401 - re-exported for F.sigmoid/tanh
from .promotion import _as_float


def _positive(backend, x):
    """Bool mask x > 0 (the derivative switch of the relu family)."""
    return backend.unary(UnaryOp.STEP, x, 0.0)


class ReLUFunction(Function):
    """y = max(x, 0); dy/dx = 1 where y > 0 (0 at the kink, as PyTorch)."""

    name = "relu"

    @staticmethod
    def forward(ctx, x):
        out = ctx.backend.unary(UnaryOp.RELU, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.backend.binary(BinaryOp.RELU_BACKWARD, grad, out)  # one fused pass


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val); dy/dx = 1 strictly inside (min_val, max_val), else 0.

    Unlike clamp, the bounds themselves get 0: PyTorch's hardtanh_backward (x <= min or x >= max).
    """

    name = "hardtanh"

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        be = ctx.backend
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        low = be.binary(BinaryOp.MAXIMUM, x, scalar_like(be, min_val, x))
        return be.binary(BinaryOp.MINIMUM, low, scalar_like(be, max_val, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be = ctx.backend
        lo, hi = (scalar_like(be, v, x) for v in ctx.bounds)
        inside = be.binary(BinaryOp.AND, be.binary(BinaryOp.GT, x, lo),
                           be.binary(BinaryOp.LT, x, hi))
        return be.where(inside, grad, scalar_like(be, 0, grad))


class LeakyReLUFunction(Function):
    """y = x if x > 0 else slope * x; dy/dx = 1 or slope (slope at 0, as PyTorch's x > 0)."""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return ctx.backend.unary(UnaryOp.LEAKY_RELU, x, negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be = ctx.backend
        scaled = be.binary(BinaryOp.MUL, grad, scalar_like(be, ctx.slope, grad))
        return be.where(_positive(be, x), grad, scaled)


class PReLUFunction(Function):
    """y = x if x > 0 else w * x, w broadcast per channel; dw sums g * x where x <= 0.

    At 0 (PyTorch's x > 0 test): dy/dx = w and dw gets g * 0.
    """

    name = "prelu"

    @staticmethod
    def forward(ctx, x, weight):
        be = ctx.backend
        ctx.save_for_backward(x, weight)
        return be.where(_positive(be, x), x, be.binary(BinaryOp.MUL, x, weight))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        be = ctx.backend
        need_x, need_w = ctx.needs_input_grad
        pos, zero = _positive(be, x), scalar_like(be, 0, grad)
        grad_x = grad_w = None
        if need_x:
            grad_x = be.where(pos, grad, be.binary(BinaryOp.MUL, grad, weight))
        if need_w:
            grad_w = unbroadcast(be, be.where(pos, zero, be.binary(BinaryOp.MUL, grad, x)),
                                 weight.shape)
        return grad_x, grad_w


class ELUFunction(Function):
    """y = x if x > 0 else alpha (e^x - 1); dy/dx = 1 or y + alpha (alpha at 0, as PyTorch)."""

    name = "elu"

    @staticmethod
    def forward(ctx, x, alpha):
        out = ctx.backend.unary(UnaryOp.ELU, x, alpha)
        ctx.save_for_backward(x, out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        be = ctx.backend
        slope = be.binary(BinaryOp.ADD, out, scalar_like(be, ctx.alpha, out))
        return be.where(_positive(be, x), grad, be.binary(BinaryOp.MUL, grad, slope))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


class GELUFunction(Function):
    """y = x Phi(x) (exact, erf) or 0.5 x (1 + tanh(k (x + 0.044715 x^3))) (approximate='tanh').

    Exact: dy/dx = Phi(x) + x phi(x). Tanh: dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3c x^2).
    """

    name = "gelu"

    @staticmethod
    def forward(ctx, x, approximate):
        be = ctx.backend
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        half_x = be.binary(BinaryOp.MUL, x, scalar_like(be, 0.5, x))
        return be.binary(BinaryOp.MUL, half_x, GELUFunction._one_plus(be, x, approximate))

    @staticmethod
    def _one_plus(be, x, approximate):
        """1 + erf(x / sqrt 2), or 1 + tanh(k (x + c x^3))."""
        if approximate == "tanh":
            inner = GELUFunction._tanh_inner(be, x)
            core = be.unary(UnaryOp.TANH, inner)
        else:
            core = be.unary(UnaryOp.ERF, be.binary(BinaryOp.MUL, x, scalar_like(be, 0.5 ** 0.5, x)))
        return be.binary(BinaryOp.ADD, core, scalar_like(be, 1, x))

    @staticmethod
    def _tanh_inner(be, x):
        x3 = be.binary(BinaryOp.MUL, be.binary(BinaryOp.MUL, x, x), x)
        cubic = be.binary(BinaryOp.MUL, x3, scalar_like(be, _GELU_CUBIC, x))
        poly = be.binary(BinaryOp.ADD, x, cubic)
        return be.binary(BinaryOp.MUL, poly, scalar_like(be, _SQRT_2_OVER_PI, x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        be = ctx.backend
        mul, add = BinaryOp.MUL, BinaryOp.ADD
        half = scalar_like(be, 0.5, x)
        if ctx.approximate == "tanh":
            t = be.unary(UnaryOp.TANH, GELUFunction._tanh_inner(be, x))
            one_minus_t2 = be.binary(BinaryOp.SUB, scalar_like(be, 1, x), be.binary(mul, t, t))
            dpoly = be.binary(add, scalar_like(be, _SQRT_2_OVER_PI, x),
                              be.binary(mul, be.binary(mul, x, x),
                                        scalar_like(be, 3 * _GELU_CUBIC * _SQRT_2_OVER_PI, x)))
            left = be.binary(mul, half, be.binary(add, t, scalar_like(be, 1, x)))
            right = be.binary(mul, be.binary(mul, be.binary(mul, half, x), one_minus_t2), dpoly)
        else:
            cdf = be.binary(mul, half, GELUFunction._one_plus(be, x, "none"))
            x2 = be.binary(mul, x, x)
            gauss = be.unary(UnaryOp.EXP, be.binary(mul, x2, scalar_like(be, -0.5, x)))
            pdf = be.binary(mul, gauss, scalar_like(be, 1 / math.sqrt(2 * math.pi), x))
            left, right = cdf, be.binary(mul, x, pdf)
        return be.binary(mul, grad, be.binary(add, left, right))


class SoftplusFunction(Function):
    """y = log(1 + e^(beta x)) / beta, or x where beta x > threshold; dy/dx = sigmoid(beta x).

    At beta x == threshold the smooth branch, as PyTorch (the test is strict).
    """

    name = "softplus"

    @staticmethod
    def forward(ctx, x, beta, threshold):
        be = ctx.backend
        bx = be.binary(BinaryOp.MUL, x, scalar_like(be, beta, x))
        linear = be.unary(UnaryOp.STEP, bx, threshold)
        ctx.save_for_backward(bx, linear)
        smooth = be.binary(BinaryOp.DIV, be.unary(UnaryOp.SOFTPLUS, bx), scalar_like(be, beta, x))
        return be.where(linear, x, smooth)

    @staticmethod
    def backward(ctx, grad):
        bx, linear = ctx.saved_tensors
        be = ctx.backend
        return be.where(linear, grad,
                        be.binary(BinaryOp.MUL, grad, be.unary(UnaryOp.SIGMOID, bx)))


class SiLUFunction(Function):
    """y = x sigmoid(x); dy/dx = s (1 + x (1 - s))."""

    name = "silu"

    @staticmethod
    def forward(ctx, x):
        be = ctx.backend
        s = be.unary(UnaryOp.SIGMOID, x)
        ctx.save_for_backward(x, s)
        return be.binary(BinaryOp.MUL, x, s)

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        be = ctx.backend
        one = scalar_like(be, 1, x)
        d = be.binary(BinaryOp.MUL, s, be.binary(BinaryOp.ADD, one, be.binary(
            BinaryOp.MUL, x, be.binary(BinaryOp.SUB, one, s))))
        return be.binary(BinaryOp.MUL, grad, d)


class SoftmaxFunction(Function):
    """y = e^(x - max) / sum e^(x - max) along `axis`; dx = y (g - sum(g y))."""

    name = "softmax"
    log = False

    @classmethod
    def forward(cls, ctx, x, axis):
        out = ctx.backend.softmax(x, axis, cls.log)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @classmethod
    def backward(cls, ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.backend.softmax_backward(out, grad, ctx.axis, cls.log)


class LogSoftmaxFunction(SoftmaxFunction):
    """y = x - max - log sum e^(x - max) along `axis`; dx = g - e^y sum(g)."""

    name = "log_softmax"
    log = True


# ---------------------------------------------------------------- public functions
# `inplace` is accepted for PyTorch signatures; deepx always returns a new tensor.
def relu(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    """max(x, 0) elementwise; any shape; bool raises DTypeError, as PyTorch."""
    if input.dtype is dtypes.bool_:
        raise DTypeError(f"relu: Boolean inputs not supported for relu (shape "
                         f"{tuple(input.shape)})")
    return ReLUFunction.apply(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """clamp(x, min_val, max_val) with 0 gradient at the bounds; any shape."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > "
                         f"{max_val}")
    return Hardtanh.apply(_as_float(input), min_val=float(min_val), max_val=float(max_val))


def relu6(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    """min(max(x, 0), 6): hardtanh(x, 0, 6); any shape."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x if x > 0 else negative_slope * x; any shape."""
    return LeakyReLUFunction.apply(_as_float(input), negative_slope=float(negative_slope))


def prelu(input, weight):  # noqa: A002 - PyTorch's argument names
    """x if x > 0 else weight[c] * x, c = dim 1. input (N, C, *), weight (C,) or (1,)."""
    from .movement import reshape

    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ShapeError(f"prelu: weight must hold 1 or {channels} (channel) values, got "
                         f"weight {tuple(weight.shape)} for input {tuple(input.shape)}")
    if weight.numel() == 1:
        weight = reshape(weight, ())
    else:
        weight = reshape(weight, (channels,) + (1,) * (input.ndim - 2))
    return PReLUFunction.apply(input, weight)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002 - PyTorch's argument names
    """x if x > 0 else alpha (e^x - 1); any shape."""
    return ELUFunction.apply(_as_float(input), alpha=float(alpha))


def gelu(input, approximate="none"):  # noqa: A002 - PyTorch's argument names
    """x Phi(x), exactly (approximate='none') or with the tanh formula; any shape."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELUFunction.apply(_as_float(input), approximate=approximate)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002 - PyTorch's argument names
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold; any shape."""
    return SoftplusFunction.apply(_as_float(input), beta=float(beta), threshold=float(threshold))


def silu(input, inplace=False):  # noqa: A002 - PyTorch's argument names
    """x * sigmoid(x); any shape."""
    return SiLUFunction.apply(_as_float(input))


def _softmax_dim(op, x, dim):
    if dim is None:  # PyTorch's legacy implicit choice
        warnings.warn(f"{op}: implicit dimension choice is deprecated; pass dim=",
                      UserWarning, stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return normalize_dim(op, dim, x.ndim, x.shape)


def _softmax(fn, op, input, dim, dtype):  # noqa: A002
    from .movement import reshape

    x = _as_float(input) if dtype is None else input.to(dtype)
    axis = _softmax_dim(op, x, dim)
    if x.ndim == 0:
        return reshape(fn.apply(reshape(x, (1,)), axis=0), ())
    return fn.apply(x, axis=axis)


def softmax(input, dim=None, dtype=None):  # noqa: A002 - PyTorch's argument names
    """e^x / sum e^x along dim, computed max-subtracted; same shape."""
    return _softmax(SoftmaxFunction, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, dtype=None):  # noqa: A002 - PyTorch's argument names
    """x - logsumexp(x) along dim, computed max-subtracted; same shape."""
    return _softmax(LogSoftmaxFunction, "log_softmax", input, dim, dtype)
