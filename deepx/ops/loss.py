"""Losses. cross_entropy is one fused, stable log-sum-exp primitive; binary_cross_entropy has
its own Function for PyTorch's clamped logs; the rest compose existing ops.

cross_entropy never reads class-index targets on the host of an OpenCL device: its kernels
flag an out-of-range target with a NaN loss (a device-side assert; DEEPX_CHECK_TARGETS=1
checks on the host instead, at the cost of a device round trip). nll_loss and
multi_margin_loss read the targets on the host to build the flat indices that pick each row's
target.
"""
from __future__ import annotations

import math
import os

from .. import _host, dtypes
from ..autograd import Function
from ..backend import BinaryOp, UnaryOp
from ..errors import DeviceError, DTypeError, ShapeError
from ..shapes import broadcast_shapes
from . import elementwise as ew
from .activation import relu, softplus
from .arrays import scalar_like
from .gather import Gather
from .movement import permute, reshape
from .promotion import _tensor_types
from .reduce import mean, sum


class CrossEntropy(Function):
    """Per-row loss of logits x (N, C) against class indices; backward from the saved lse.

    loss = (1 - eps) w_t (lse - x_t) + eps / C sum_c w_c (lse - x_c), 0 for ignored rows.
    """

    name = "cross_entropy"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing):
        loss, lse = ctx.backend.cross_entropy(x, target, weight, ignore_index, label_smoothing)
        ctx.save_for_backward(x, lse, target, weight)
        ctx.args = (ignore_index, label_smoothing)
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, lse, target, weight = ctx.saved_tensors
        grad_x = ctx.backend.cross_entropy_backward(x, lse, target, weight, grad, *ctx.args)
        return grad_x, None, None


class BinaryCrossEntropy(Function):
    """l = -(y log x + (1 - y) log(1 - x)), each log clamped at -100 as PyTorch.

    dl/dx = (x - y) / max(x (1 - x), 1e-12), dl/dy = log(1 - x) - log x (clamped).
    """

    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, x, y):
        be = ctx.backend
        floor, one = scalar_like(be, -100, x), scalar_like(be, 1, x)
        log_x = be.binary(BinaryOp.MAXIMUM, be.unary(UnaryOp.LOG, x), floor)
        log_1mx = be.binary(BinaryOp.MAXIMUM,
                            be.unary(UnaryOp.LOG, be.binary(BinaryOp.SUB, one, x)), floor)
        diff = be.binary(BinaryOp.SUB, log_x, log_1mx)
        ctx.save_for_backward(x, y, diff)
        return be.unary(UnaryOp.NEG, be.binary(BinaryOp.ADD, log_1mx,
                                               be.binary(BinaryOp.MUL, y, diff)))

    @staticmethod
    def backward(ctx, grad):
        x, y, diff = ctx.saved_tensors
        be = ctx.backend
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            spread = be.binary(BinaryOp.MUL, x, be.binary(BinaryOp.SUB, scalar_like(be, 1, x), x))
            spread = be.binary(BinaryOp.MAXIMUM, spread, scalar_like(be, 1e-12, x))
            grad_x = be.binary(BinaryOp.DIV, be.binary(BinaryOp.MUL, grad,
                                                       be.binary(BinaryOp.SUB, x, y)), spread)
        if ctx.needs_input_grad[1]:
            grad_y = be.unary(UnaryOp.NEG, be.binary(BinaryOp.MUL, grad, diff))
        return grad_x, grad_y


# ---------------------------------------------------------------- helpers
def _reduction(op, reduction, size_average=None, reduce=None):
    """PyTorch's legacy size_average/reduce flags folded into `reduction`, then checked."""
    if size_average is not None or reduce is not None:
        reduction = "none" if reduce is False else ("sum" if size_average is False else "mean")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return sum(loss) if reduction == "sum" else mean(loss)


def _class_targets(op, input, target, weight, ignore_index=None):  # noqa: A002
    """Check logits (N, C, *) / (C,) against int targets (N, *) / (); flatten to rows.

    Returns x (M, C), the targets as an int64 tensor (M,) on x's device and the target's
    shape. Target values are range-checked here only where that costs no device round trip
    (targets given as host data, the NumPy device) or when DEEPX_CHECK_TARGETS=1; otherwise
    the kernels flag an out-of-range target with a NaN loss, as a device-side assert would.
    """
    from ..creation import tensor

    from_host = not isinstance(target, _tensor_types())
    if from_host:
        target = tensor(target, device=input.device)
    shapes = f"input {tuple(input.shape)}, target {tuple(target.shape)}"
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected floating input, got {input.dtype.name} ({shapes})")
    if target.dtype.is_floating_point or target.dtype is dtypes.bool_:
        raise DTypeError(f"{op}: expected class-index targets of an integer dtype, got "
                         f"{target.dtype.name} ({shapes})")
    if target.device != input.device:
        raise DeviceError(f"{op}: target is on {target.device} but input is on {input.device} "
                         f"({shapes})")
    if input.ndim == 0 or input.ndim == 1 and target.ndim != 0 or input.ndim >= 2 and (
            tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:])):
        raise ShapeError(f"{op}: expected input (N, C, *) with target (N, *), or input (C,) "
                         f"with a 0-d target; got {shapes}")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if c < 1:
        raise ShapeError(f"{op}: input has no classes ({shapes})")
    if weight is not None and (tuple(weight.shape) != (c,) or weight.dtype is not input.dtype):
        raise ShapeError(f"{op}: weight must be a ({c},) tensor of dtype {input.dtype.name}, "
                         f"got {weight.dtype.name} {tuple(weight.shape)} ({shapes})")
    if from_host or input.device.type == "numpy" or os.environ.get("DEEPX_CHECK_TARGETS") == "1":
        _host.check_class_range(op, _host.class_indices(target), c, ignore_index, shapes)
    if input.ndim == 1:
        x = reshape(input, (1, c))
    elif input.ndim == 2:
        x = input
    else:  # (N, C, *) -> (N, *, C) -> rows
        dims = (0,) + tuple(range(2, input.ndim)) + (1,)
        x = reshape(permute(input, dims), (-1, c))
    t = reshape(target, (-1,))
    return x, t if t.dtype is dtypes.int64 else t.to(dtypes.int64), tuple(target.shape)


def _host_tensor(array, like):
    return _tensor_types()._wrap(like.device.backend.from_numpy(array), like.device)


def _target_weights(x, host, valid, weight):
    """(M,) weight of each row's target class, 0 for ignored rows; never recorded."""
    valid_x = _host_tensor(valid.astype(x.dtype.np), x)
    if weight is None:
        return valid_x
    picked = Gather.apply(weight.detach(), _host_tensor(host * valid, x), axis=0)
    return ew.mul(picked, valid_x)


def _device_target_weights(x, t, ignore_index, weight):
    """(M,) weight of each row's target class, 0 for ignored rows, computed on the device."""
    valid = t != ignore_index
    if weight is None:
        return valid.to(x.dtype)
    safe = ew.where(valid, t, 0)
    c = x.shape[1]
    safe = ew.where((safe >= 0) & (safe < c), safe, 0)  # out-of-range rows are NaN already
    picked = Gather.apply(weight.detach(), safe, axis=0)
    return ew.mul(picked, valid.to(x.dtype))


def _weighted_mean(loss, total_weight):
    return ew.div(sum(loss), total_weight)


# ---------------------------------------------------------------- public functions
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,  # noqa: A002
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy. input logits (N, C, *) or (C,), target int (N, *) or (), or
    class probabilities of input's shape and dtype (PyTorch 1.10+; label_smoothing applies)."""
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if isinstance(target, _tensor_types()) and target.dtype.is_floating_point:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    x, t, t_shape = _class_targets(op, input, target, weight, ignore_index)
    loss = CrossEntropy.apply(x, t, None if weight is None else weight.detach(),
                              ignore_index=int(ignore_index),
                              label_smoothing=float(label_smoothing))
    if reduction == "none":
        return reshape(loss, t_shape)
    if reduction == "sum":
        return sum(loss)
    # PyTorch's mean: over the rows that count (their weights), all on the device
    return _weighted_mean(loss, sum(_device_target_weights(x, t, ignore_index, weight)))


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):  # noqa: A002
    """-sum_c w_c t_c log_softmax(x)_c per sample, t smoothed to t (1 - eps) + eps / C; the
    mean divides by the number of samples (N * prod(*)), as PyTorch does for these targets."""
    from .activation import log_softmax

    op = "cross_entropy"
    shapes = f"input {tuple(input.shape)}, target {tuple(target.shape)}"
    if not input.dtype.is_floating_point or target.dtype is not input.dtype:
        raise DTypeError(f"{op}: class-probability targets must have the input's floating "
                         f"dtype, got {input.dtype.name} and {target.dtype.name} ({shapes})")
    if input.ndim == 0 or tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: class-probability targets must have the input's shape "
                         f"(N, C, *) or (C,); got {shapes}")
    dim = 0 if input.ndim == 1 else 1
    c = input.shape[dim]
    if weight is not None and (tuple(weight.shape) != (c,) or weight.dtype is not input.dtype):
        raise ShapeError(f"{op}: weight must be a ({c},) tensor of dtype {input.dtype.name}, "
                         f"got {weight.dtype.name} {tuple(weight.shape)} ({shapes})")
    if label_smoothing:
        target = ew.add(ew.mul(target, 1.0 - label_smoothing), label_smoothing / c)
    terms = ew.mul(log_softmax(input, dim), target)
    if weight is not None:
        terms = ew.mul(terms, reshape(weight, (c,) + (1,) * (input.ndim - 1 - dim)))
    loss = ew.neg(sum(terms, dim))
    if reduction == "none":
        return loss
    return sum(loss) if reduction == "sum" else mean(loss)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100,  # noqa: A002
             reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities input (N, C, *) at int targets (N, *)."""
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t, t_shape = _class_targets(op, input, target, weight, ignore_index)
    host = _host.class_indices(t)  # read anyway, to build flat indices: check them for free
    m, c = x.shape
    shapes = f"input {tuple(input.shape)}, target {t_shape}"
    _host.check_class_range(op, host, c, ignore_index, shapes)
    valid = _host.valid_rows(host, ignore_index)
    flat = _host_tensor(_host.row_positions(host, c, valid), x)
    w = _target_weights(x, host, valid, weight)
    loss = ew.neg(ew.mul(Gather.apply(reshape(x, (m * c,)), flat, axis=0), w))
    if reduction == "none":
        return reshape(loss, t_shape)
    if reduction == "sum":
        return sum(loss)
    return _weighted_mean(loss, int(valid.sum()) if weight is None else sum(w))


def _pair_loss(op, input, target):  # noqa: A002
    """Check two tensors broadcast (error names the op and both shapes)."""
    if not isinstance(target, _tensor_types()):
        from ..creation import tensor

        target = tensor(target, dtype=input.dtype, device=input.device)
    broadcast_shapes(op, tuple(input.shape), tuple(target.shape))
    return input, target


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """(input - target)^2, reduced. Shapes broadcast."""
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    x, y = _pair_loss("mse_loss", input, target)
    d = ew.sub(x, y)
    return _reduce(ew.mul(d, d), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """|input - target|, reduced. Shapes broadcast."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    x, y = _pair_loss("l1_loss", input, target)
    return _reduce(ew.abs(ew.sub(x, y)), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None,  # noqa: A002
                   reduction="mean", beta=1.0):
    """0.5 d^2 / beta where d = |input - target| < beta, else d - 0.5 beta; reduced."""
    op = "smooth_l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta}")
    x, y = _pair_loss(op, input, target)
    d = ew.abs(ew.sub(x, y))
    if beta == 0:
        return _reduce(d, reduction)
    quadratic = ew.div(ew.mul(ew.mul(d, d), 0.5), beta)
    return _reduce(ew.where(d < beta, quadratic, ew.sub(d, 0.5 * beta)), reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None,  # noqa: A002
                         reduce=None, reduction="mean"):
    """-(y log x + (1 - y) log(1 - x)) for probabilities x; target and input of one shape."""
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: using a target size {tuple(target.shape)} that is different "
                         f"to the input size {tuple(input.shape)} is not supported")
    if not input.dtype.is_floating_point or target.dtype is not input.dtype:
        raise DTypeError(f"{op}: expected floating input and target of one dtype, got "
                         f"{input.dtype.name} {tuple(input.shape)} and {target.dtype.name} "
                         f"{tuple(target.shape)}")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        broadcast_shapes(op, tuple(weight.shape), tuple(input.shape))
        loss = ew.mul(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,  # noqa: A002
                                     reduce=None, reduction="mean", pos_weight=None):
    """Sigmoid + BCE in one stable formula: (1 - y) x + (1 + (pw - 1) y) softplus(-x)."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: target size {tuple(target.shape)} must be the same as input "
                         f"size {tuple(input.shape)}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected floating input, got {input.dtype.name}")
    # softplus without a threshold is exact and stable at any |x|.
    log_sig_neg = softplus(ew.neg(input), threshold=math.inf)
    if pos_weight is not None:
        broadcast_shapes(op, tuple(pos_weight.shape), tuple(input.shape))
        log_sig_neg = ew.mul(log_sig_neg, ew.add(ew.mul(ew.sub(pos_weight, 1), target), 1))
    loss = ew.add(ew.mul(ew.sub(1, target), input), log_sig_neg)
    if weight is not None:
        broadcast_shapes(op, tuple(weight.shape), tuple(input.shape))
        loss = ew.mul(loss, weight)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None,  # noqa: A002
                      size_average=None, reduce=None, reduction="mean"):
    """Multi-class hinge: sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C per row."""
    op = "multi_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got {p}")
    if input.ndim > 2:
        raise ShapeError(f"{op}: expected input (N, C) or (C,), got {tuple(input.shape)}")
    x, t, t_shape = _class_targets(op, input, target, weight)
    host = _host.class_indices(t)
    shapes = f"input {tuple(input.shape)}, target {t_shape}"
    _host.check_class_range(op, host, x.shape[1], None, shapes)
    m, c = x.shape
    flat = _host_tensor(_host.row_positions(host, c), x)
    picked = reshape(Gather.apply(reshape(x, (m * c,)), flat, axis=0), (m, 1))
    hinge = relu(ew.add(ew.sub(x, picked), float(margin)))
    if p == 2:
        hinge = ew.mul(hinge, hinge)
    hinge = ew.mul(hinge, _host_tensor(_host.all_but_class(host, c, x.dtype.np), x))
    if weight is not None:
        w = _target_weights(x, host, _host.valid_rows(host, None), weight)
        hinge = ew.mul(hinge, reshape(w, (m, 1)))
    loss = reshape(ew.div(sum(hinge, dim=1), c), t_shape)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None,  # noqa: A002
                         reduce=None, reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1; shapes broadcast."""
    op = "hinge_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, y = _pair_loss(op, input, target)
    # clamp_min, not relu: at x == margin PyTorch passes the gradient (clamp's bounds count)
    below = ew.where(y != 1, ew.clamp_min(ew.sub(float(margin), x), 0.0), 0.0)
    return _reduce(ew.add(below, ew.where(y != -1, x, 0.0)), reduction)
