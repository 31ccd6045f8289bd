"""Per-element indexing: gather/scatter along a dim, masked_fill, index_fill, nonzero,
bincount, one_hot. Differentiable ones are Functions over take_along / scatter_along."""
from __future__ import annotations

import os

from .. import dtypes
from ..autograd import Function, no_grad
from ..backend import BinaryOp
from ..creation import arange, full, tensor
from ..errors import DTypeError, ShapeError
from ..shapes import broadcast_shapes, normalize_dim
from .elementwise import Where, add, compare, where
from .logical import any_
from .movement import expand, reshape, unsqueeze


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


def masked_fill(input, mask, value):  # noqa: A002 - PyTorch's argument names
    """input (*S) with value where mask (bool, broadcastable to S) is True; dtype kept."""
    tensor_cls = _tensor_cls()
    if not isinstance(mask, tensor_cls) or mask.dtype is not dtypes.bool_:
        raise DTypeError(f"masked_fill: mask must be a bool tensor, got "
                         f"{getattr(mask, 'dtype', type(mask).__name__)}")

    if broadcast_shapes("masked_fill", tuple(mask.shape), tuple(input.shape)) != input.shape:
        raise ShapeError(f"masked_fill: mask of shape {tuple(mask.shape)} is not broadcastable "
                         f"to the input's shape {tuple(input.shape)}")
    if isinstance(value, tensor_cls):
        if value.ndim:
            raise ShapeError(f"masked_fill: only supports a 0-dimensional value tensor, got "
                             f"shape {tuple(value.shape)}")
        fill = value.to(input.dtype).to(input.device)
    else:
        fill = full((), value, dtype=input.dtype, device=input.device)
    return Where.apply(mask.to(input.device), fill, input)


def index_fill(input, dim, index, value):  # noqa: A002 - PyTorch's argument names
    """input with every slice index[k] along dim set to value. index int, 0-d or 1-D."""
    index, from_host = _index_tensor("index_fill", index, input.device)
    if index.ndim > 1:
        raise ShapeError(f"index_fill: index should be 0-d or 1-D, got shape "
                         f"{tuple(index.shape)}")
    axis = normalize_dim("index_fill", dim, input.ndim, input.shape)
    n = input.shape[axis] if input.ndim else 1
    _check_range("index_fill", index, -n, n, f"dimension {axis} with size {n} (input shape "
                                             f"{tuple(input.shape)})", from_host)
    with no_grad():
        index = where(index < 0, add(index, n), index)
        hits = compare(BinaryOp.EQ, "index_fill", reshape(arange(n, device=input.device),
                                                            (n, 1)), reshape(index, (1, -1)))
        selected = any_(hits, dim=1)
        shape = [1] * input.ndim
        if input.ndim:
            shape[axis] = n
        mask = reshape(selected, tuple(shape))
    return masked_fill(input, mask, value)


class Nonzero(Function):
    """int64 (count, ndim) coordinates of x's nonzero elements; never recorded."""

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.nonzero(x)


class Bincount(Function):
    """Counts (int64) or weight sums of non-negative int64 values into `size` bins; never
    recorded (PyTorch gives bincount no gradient)."""

    @staticmethod
    def forward(ctx, x, weights, size):
        be = ctx.backend
        if weights is None:
            weights = be.full(tuple(x.shape), 1, dtypes.int64)
        return be.scatter_add(x, weights, 0, size)


def nonzero(input, as_tuple=False):  # noqa: A002 - PyTorch's argument names
    """int64 (count, ndim) coordinates of the nonzero elements in C order; as_tuple: one
    (count,) tensor per dim (a 0-d input counts as 1-D). Reads the count on the host."""
    coords = Nonzero.apply(input)
    if not as_tuple:
        return coords
    if input.ndim == 0:
        return (full((coords.shape[0],), 0, dtype=dtypes.int64, device=input.device),)
    return tuple(coords[:, d] for d in range(input.ndim))


def bincount(input, weights=None, minlength=0):  # noqa: A002 - PyTorch's argument names
    """Counts of each value of a 1-D non-negative int tensor: (max(input.max() + 1,
    minlength),), int64, or the sums of weights (1-D, input's length; weights' dtype)."""
    if input.ndim != 1 or input.dtype.is_floating_point or input.dtype is dtypes.bool_:
        raise ShapeError(f"bincount: input must be a 1-D integer tensor, got "
                         f"{input.dtype.name} {tuple(input.shape)}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is not None and tuple(weights.shape) != tuple(input.shape):
        raise ShapeError(f"bincount: weights {tuple(weights.shape)} should have the same "
                         f"shape as the input {tuple(input.shape)}")
    if input.numel() and int(input.min().item()) < 0:
        raise ShapeError(f"bincount: input values must be non-negative, got "
                         f"{int(input.min().item())} (input shape {tuple(input.shape)})")
    size = int(minlength)
    if input.numel():
        size = max(size, int(input.max().item()) + 1)
    if weights is not None and not weights.dtype.is_floating_point:
        weights = weights.to(dtypes.float64)  # PyTorch sums integer weights in double
    return Bincount.apply(input.to(dtypes.int64), weights, size=size)


def one_hot(tensor, num_classes=-1):
    """F.one_hot: int tensor (*S) of class indices -> int64 (*S, num_classes); -1 infers
    num_classes as max + 1 (a host read)."""
    if tensor.dtype is not dtypes.int64:
        raise DTypeError(f"one_hot: is only applicable to index tensor of dtype int64, got "
                         f"{tensor.dtype.name} {tuple(tensor.shape)}")
    if num_classes == -1:
        if not tensor.numel():
            raise ShapeError("one_hot: can not infer total number of classes from an empty "
                             f"tensor of shape {tuple(tensor.shape)}")
        num_classes = int(tensor.max().item()) + 1
    _check_range("one_hot", tensor, 0, num_classes, f"one_hot with num_classes={num_classes} "
                                                   "(class values must be in [0, num_classes))",
                 from_host=False)
    classes = arange(num_classes, device=tensor.device)
    hits = compare(BinaryOp.EQ, "one_hot", unsqueeze(tensor, -1), classes)
    return hits.to(dtypes.int64)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002
              scale_grad_by_freq=False, sparse=False):
    """F.embedding: rows of weight (V, D) picked by int input (*S) -> (*S, D). The row at
    padding_idx gets no gradient (its forward value is returned as stored). No host round
    trip: the rows are read with take_along (a bad index reads NaN on OpenCL)."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse=True are "
                                  "not supported by deepx")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    if isinstance(input, _tensor_cls()) and (input.dtype.is_floating_point
                                             or input.dtype is dtypes.bool_):
        raise DTypeError(f"embedding: expected an integer (long or int) input, got "
                         f"{input.dtype.name} of shape {tuple(input.shape)}")
    index, from_host = _index_tensor("embedding", input, weight.device)
    v, d = weight.shape
    _check_range("embedding", index, 0, v, f"an embedding of {v} rows (weight shape "
                                           f"{tuple(weight.shape)})", from_host)
    rows = expand(reshape(index, (-1, 1)), (index.numel(), d))
    out = reshape(GatherDim.apply(weight, rows, axis=0), tuple(index.shape) + (d,))
    if padding_idx is None:
        return out
    if not -v <= padding_idx < v:
        raise ValueError(f"Padding_idx must be within num_embeddings (embedding: padding_idx "
                         f"{padding_idx}, weight shape {tuple(weight.shape)})")
    # Same values either way; only the branch that is not the padding row carries gradient.
    keep = unsqueeze(compare(BinaryOp.NE, "embedding", index, padding_idx % v), -1)
    return Where.apply(keep, out, out.detach())
