"""Indexing: t[key] (basic views plus one integer or mask index), masked_fill, index_fill,
nonzero, bincount, one_hot, embedding. Gather/scatter along a dim live in ops/gather.py."""
from __future__ import annotations

from .. import _host, dtypes
from ..autograd import Function, no_grad
from ..backend import BinaryOp
from ..creation import arange, full
from ..errors import DTypeError, ShapeError
from ..shapes import broadcast_shapes, contiguous_strides, normalize_dim
from .elementwise import Where, add, compare, where
from .gather import GatherDim, _check_range, _index_tensor, _tensor_cls, index_select
from .logical import any_
from .movement import expand, reshape, unsqueeze
from .views import View


def basic_view(shape, key, strides=None):
    """Resolve an index key on a (shape, strides) view to (view shape, strides, offset, gather).

    strides default to C-contiguous ones. gather is None, or (axis, index) for the one
    integer-array index, applied after the view.
    """
    if not isinstance(key, tuple):
        key = (key,)
    advanced = [i for i, k in enumerate(key) if _is_array_index(k)]
    if len(advanced) > 1:
        raise IndexError("getitem: at most one integer-array index is supported per call "
                         "(index one dim at a time)")
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexError(f"getitem: too many indices for tensor of shape {tuple(shape)}: "
                         f"{n_real} were given")
    # An Ellipsis (explicit, or implied at the end) stands for the dims not indexed.
    i = next((j for j, k in enumerate(key) if k is Ellipsis), len(key))
    key = key[:i] + (slice(None),) * (len(shape) - n_real) + key[i + 1:]
    strides = contiguous_strides(shape) if strides is None else strides
    out_shape, out_strides, offset, dim, gather = [], [], 0, 0, None
    for k in key:
        if k is None:
            out_shape.append(1)
            out_strides.append(0)
            continue
        n = shape[dim]
        if _is_array_index(k):
            gather = (len(out_shape), k)
            out_shape.append(n)
            out_strides.append(strides[dim])
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:  # PyTorch has no negative steps; use flip
                raise ValueError("getitem: step must be greater than zero")
            start, stop, step = k.indices(n)
            out_shape.append(len(range(start, stop, step)))
            out_strides.append(strides[dim] * step)
            offset += start * strides[dim] if out_shape[-1] else 0
        else:
            i = _int_index(k)
            if not -n <= i < n:
                raise IndexError(f"getitem: index {i} is out of range for dimension {dim} "
                                 f"with size {n} (tensor of shape {tuple(shape)})")
            offset += (i % n) * strides[dim]
        dim += 1
    return tuple(out_shape), tuple(out_strides), offset, gather


def getitem(x, key):
    """Basic slicing (ints, slices with step > 0, None, ...) plus one integer or mask index."""
    from .._tensor import Tensor

    if _is_array_index(key) and _is_bool_index(key):
        mask = key if isinstance(key, Tensor) else Tensor._wrap(
            x.device.backend.from_numpy(_host.bool_array(key)), x.device)
        if tuple(mask.shape) != tuple(x.shape[:mask.ndim]):
            raise ShapeError(f"getitem: mask of shape {tuple(mask.shape)} does not match the "
                             f"indexed tensor of shape {tuple(x.shape)}")
        flat = reshape(x, (-1,) + tuple(x.shape[mask.ndim:]))
        # a mask's selected count is data-dependent: its positions are read on the host
        return index_select(flat, 0, _host.mask_positions(mask))
    gather = basic_view(x.shape, key, x.stride())[3]
    out = View.apply(x, geom=_IndexGeom(key))
    if gather is not None:
        out = index_select(out, *gather)
    return out


class _IndexGeom:
    """The view geometry of a basic index key (ints, slices, None, ...) on any strides."""

    __slots__ = ("key",)

    def __init__(self, key) -> None:
        self.key = key

    def __call__(self, shape, strides):
        return basic_view(shape, self.key, strides)[:3]


def _is_array_index(k) -> bool:
    from .._tensor import Tensor

    if isinstance(k, (Tensor, list)):
        return True
    # a NumPy integer (np.int64(1), from a loop over an array) indexes like an int: a view
    return (hasattr(k, "__array__") and not isinstance(k, (int, slice))
            and not _host.is_integer_scalar(k))


def _is_bool_index(k) -> bool:
    from .._tensor import Tensor

    if isinstance(k, Tensor):
        return k.dtype is dtypes.bool_
    return _host.is_bool_data(k)


def _int_index(k) -> int:
    try:
        return int(k.__index__())
    except (AttributeError, TypeError):
        raise IndexError(f"getitem: only integers, slices, None, Ellipsis and integer or bool "
                         f"tensors are valid indices, got {type(k).__name__}") from None


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
