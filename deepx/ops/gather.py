"""Gather and scatter along one dim: index_select (Gather), gather (GatherDim), scatter and
scatter_add (Scatter). Forward is one backend primitive; backward is its adjoint."""
from __future__ import annotations

import os

from .. import _host, dtypes
from ..autograd import Function
from ..creation import full, tensor
from ..errors import DTypeError, ShapeError
from ..shapes import normalize_dim
from .movement import reshape


class Gather(Function):
    """out = x indexed along `axis` by an int64 index tensor; backward is a scatter-add."""

    name = "index"

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.save_for_backward(index)
        ctx.axis, ctx.size = axis, x.shape[axis]
        return ctx.backend.gather(x, index, axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return ctx.backend.scatter_add(index, grad, ctx.axis, ctx.size), None


class GatherDim(Function):
    """torch.gather: out[i] = x[i with i[dim] = index[i]]; backward scatter-adds into zeros.
    distinct=True (sort, topk) says no two index entries of a row are equal."""
    name = "gather"

    @staticmethod
    def forward(ctx, x, index, axis, distinct=False):
        ctx.save_for_backward(index)
        ctx.axis, ctx.shape, ctx.distinct = axis, x.shape, distinct
        return ctx.backend.take_along(x, index, axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        be = ctx.backend
        zeros = be.full(ctx.shape, 0, dtypes.of(grad))
        return be.scatter_along(zeros, index, grad, ctx.axis, True, ctx.distinct), None


class Scatter(Function):
    """torch.scatter / scatter_add with a src tensor of index's shape.

    Overwriting (accumulate False): dx is grad with the written places zeroed, dsrc is grad
    gathered at index. Adding: dx is grad, dsrc the same gather.
    """

    name = "scatter"

    @staticmethod
    def forward(ctx, x, src, index, axis, accumulate):
        ctx.save_for_backward(index)
        ctx.axis, ctx.accumulate = axis, accumulate
        return ctx.backend.scatter_along(x, index, src, axis, accumulate)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        be, n = ctx.backend, ctx.needs_input_grad
        grad_x = grad_src = None
        if n[0]:
            grad_x = grad
            if not ctx.accumulate:
                zeros = be.full(tuple(index.shape), 0, dtypes.of(grad))
                grad_x = be.scatter_along(grad, index, zeros, ctx.axis, False)
        if n[1]:
            grad_src = be.take_along(grad, index, ctx.axis)
        return grad_x, grad_src, None


# ---------------------------------------------------------------- helpers
def _tensor_cls():
    from .._tensor import Tensor

    return Tensor


def _index_tensor(op, index, device):
    """(int64 tensor, came from host data) from an index tensor or Python/NumPy data; floats
    and bools refused."""
    tensor_cls = _tensor_cls()
    from_host = not isinstance(index, tensor_cls)
    if from_host:
        index = tensor(index, device=device)
    if index.dtype.is_floating_point or index.dtype is dtypes.bool_:
        raise DTypeError(f"{op}: index must be an integer tensor (int64 or int32), got "
                         f"{index.dtype.name} {tuple(index.shape)}")
    return index.to(dtypes.int64), from_host


def _check_range(op, index, low, high, what, from_host=True):
    """Every index value in [low, high); a ShapeError naming op and the bad value otherwise.

    Reading the values costs a device round trip, so as cross_entropy's targets they are
    checked only for host data, on the NumPy device, or with DEEPX_CHECK_TARGETS=1; on an
    OpenCL device a bad index otherwise reads NaN (gather, embedding: take_along's flag) or
    touches nothing (scatter, index_fill, one_hot); PyTorch's CUDA kernels assert instead.
    """
    if not index.numel():
        return
    if not (from_host or index.device.type == "numpy"
            or os.environ.get("DEEPX_CHECK_TARGETS") == "1"):
        return
    lo, hi = int(index.min().item()), int(index.max().item())
    if lo < low or hi >= high:
        bad = lo if lo < low else hi
        raise ShapeError(f"{op}: index {bad} is out of bounds for {what} (index shape "
                         f"{tuple(index.shape)})")


def _along_args(op, x, dim, index):
    """Validate a gather/scatter call: same ndim, index no larger than x off dim, in range."""
    index, from_host = _index_tensor(op, index, x.device)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim <= 1):
        raise ShapeError(f"{op}: index {tuple(index.shape)} should have the same number of "
                         f"dimensions as the input {tuple(x.shape)}")
    axis = normalize_dim(op, dim, x.ndim, x.shape)
    for d, (a, b) in enumerate(zip(index.shape, x.shape)):
        if d != axis and a > b:
            raise ShapeError(f"{op}: index {tuple(index.shape)} is larger than the input "
                             f"{tuple(x.shape)} apart from dimension {axis}")
    n = x.shape[axis] if x.ndim else 1
    _check_range(op, index, 0, n, f"dimension {axis} with size {n} (input shape "
                                  f"{tuple(x.shape)})", from_host)
    return axis, index


def _as_1d(x):
    """0-d tensors act as shape (1,) in gather/scatter, as PyTorch's."""
    return reshape(x, (1,)) if x.ndim == 0 else x


# ---------------------------------------------------------------- public functions
def gather(input, dim, index):  # noqa: A002 - PyTorch's argument names
    """torch.gather. input (*S), index int (*I) with I[d] <= S[d] off dim -> (*I)."""
    axis, index = _along_args("gather", input, dim, index)
    if input.ndim == 0:
        return reshape(GatherDim.apply(_as_1d(input), _as_1d(index), axis=0), index.shape)
    return GatherDim.apply(input, index, axis=axis)


def _scatter(op, input, dim, index, src, value, accumulate):  # noqa: A002
    axis, index = _along_args(op, input, dim, index)
    if src is None:
        src = full(index.shape, value, dtype=input.dtype, device=input.device)
    else:
        if not isinstance(src, _tensor_cls()):
            raise DTypeError(f"{op}: src must be a tensor (or pass value=), got "
                             f"{type(src).__name__}")
        if src.ndim != index.ndim or any(a > b for a, b in zip(index.shape, src.shape)):
            raise ShapeError(f"{op}: index {tuple(index.shape)} is larger than src "
                             f"{tuple(src.shape)}")
        if tuple(src.shape) != tuple(index.shape):  # PyTorch reads only index's window of src
            src = src[tuple(slice(0, n) for n in index.shape)]
        src = src.to(input.dtype)
    if input.ndim == 0:
        out = Scatter.apply(_as_1d(input), _as_1d(src), _as_1d(index), axis=0,
                            accumulate=accumulate)
        return reshape(out, ())
    return Scatter.apply(input, src, index, axis=axis, accumulate=accumulate)


def scatter(input, dim, index, src=None, value=None, reduce=None):  # noqa: A002
    """torch.scatter: a copy of input with src (or the scalar value) written at index along
    dim. input (*S), index int (*I), src (*I) or larger. Duplicate indices: the last wins."""
    if reduce is not None:
        if reduce != "add":
            raise ValueError(f"scatter: reduce={reduce!r} is not supported (only 'add')")
        return scatter_add(input, dim, index, src)
    if src is not None and not isinstance(src, _tensor_cls()):
        src, value = None, src  # scatter(input, dim, index, 1.5): the value overload
    if src is None and value is None:
        raise ValueError("scatter: expected src or value")
    return _scatter("scatter", input, dim, index, src, value, False)


def scatter_add(input, dim, index, src):  # noqa: A002 - PyTorch's argument names
    """torch.scatter_add: a copy of input with src (*I) summed in at index along dim."""
    return _scatter("scatter_add", input, dim, index, src, None, True)



def index_select(x, dim, index):
    """x indexed along dim by an integer index tensor of any shape, like x[:, index]."""
    from .._tensor import Tensor

    axis = normalize_dim("index", dim, x.ndim, x.shape)
    if not isinstance(index, Tensor):
        index = Tensor._wrap(x.device.backend.from_numpy(_host.index_array("index", index)),
                             x.device)
    if index.dtype.is_floating_point or index.dtype is dtypes.bool_:
        raise DTypeError(f"index: tensors used as indices must be long or int, got "
                         f"{index.dtype.name}")
    n = x.shape[axis] if x.ndim else 1
    if index.numel():
        lo, hi = int(index.min().item()), int(index.max().item())
        if lo < -n or hi >= n:
            bad = hi if hi >= n else lo
            raise ShapeError(f"index: index {bad} is out of bounds for dimension {axis} with "
                             f"size {n} (tensor of shape {tuple(x.shape)}, index shape "
                             f"{tuple(index.shape)})")
        if lo < 0:
            from .elementwise import add, where

            index = where(index < 0, add(index, n), index)
    index = index.to(dtypes.int64)
    return Gather.apply(x, index, axis=axis)
