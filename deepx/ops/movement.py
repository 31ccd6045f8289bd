"""Shape and layout ops: reshape, permute, expand, slicing, gather, cat, pad."""
from __future__ import annotations

import math

from .. import _host, dtypes
from ..autograd import Function
from ..errors import DTypeError, ShapeError
from ..shapes import contiguous_strides, infer_shape, normalize_dim, view_strides
from .views import Contiguous, Expand, Permute, Reshape, ReshapeView, View


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


class Cat(Function):
    """Concatenate along `dim`; each input's gradient is its slice of the output gradient."""

    @staticmethod
    def forward(ctx, *xs, dim):
        be = ctx.backend
        shape = list(xs[0].shape)
        shape[dim] = sum(x.shape[dim] for x in xs)
        out = be.full(tuple(shape), 0, dtypes.of(xs[0]))
        ctx.pieces = []
        start = 0
        for x in xs:
            view = _dim_slice(shape, dim, start, x.shape[dim])
            if math.prod(x.shape):
                be.strided_assign_(out, *view, x)
            ctx.pieces.append(view)
            start += x.shape[dim]
        return out

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        return tuple(be.strided_copy(grad, *view) if need else None
                     for view, need in zip(ctx.pieces, ctx.needs_input_grad))


def _dim_slice(shape, dim, start, length):
    """(shape, strides, offset) of out[..., start:start + length, ...] along dim."""
    strides = contiguous_strides(shape)
    sub = tuple(length if i == dim else n for i, n in enumerate(shape))
    return sub, strides, start * strides[dim]


class Pad(Function):
    """Constant padding; `pads` lists (before, after) per dim; backward crops the gradient."""

    @staticmethod
    def forward(ctx, x, pads, value):
        be = ctx.backend
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pads))
        out = be.full(shape, value, dtypes.of(x))
        strides = contiguous_strides(shape)
        offset = sum(lo * s for (lo, _), s in zip(pads, strides))
        ctx.view = (tuple(x.shape), strides, offset)
        if math.prod(x.shape):
            be.strided_assign_(out, *ctx.view, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.strided_copy(grad, *ctx.view)


# ---------------------------------------------------------------- public functions
def reshape(x, *shape):
    """x with a new shape holding the same elements (one -1 is inferred)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = infer_shape("reshape", shape, x.numel())
    if shape == tuple(x.shape):
        return x
    if view_strides(x.shape, x.stride(), shape) is not None:
        return ReshapeView.apply(x, shape=shape)
    return Reshape.apply(x, shape=shape)


def view(x, *shape):
    """x with a new shape sharing its storage; ShapeError when the strides do not allow it."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = infer_shape("view", shape, x.numel())
    if view_strides(x.shape, x.stride(), shape) is None:
        raise ShapeError(f"view: view size is not compatible with input tensor's size and "
                         f"stride (at least one dimension spans across two contiguous "
                         f"subspaces): shape {tuple(x.shape)}, strides {x.stride()}, requested "
                         f"{shape}. Use .reshape(...) instead.")
    if shape == tuple(x.shape):
        return ReshapeView.apply(x, shape=shape) if x.requires_grad else _alias(x)
    return ReshapeView.apply(x, shape=shape)


def _alias(x):
    """A new tensor object viewing all of x (x.view(x.shape), x[...])."""
    return View.apply(x, geom=_identity_geom)


def _identity_geom(shape, strides):
    return tuple(shape), tuple(strides), 0


def contiguous(x):
    """x itself when C-contiguous, else a contiguous copy that stays in the graph."""
    return x if x.is_contiguous() else Contiguous.apply(x)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one. (*A, *M, *B) -> (*A, prod(M), *B)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s = normalize_dim("flatten", start_dim, x.ndim, x.shape)
    e = normalize_dim("flatten", end_dim, x.ndim, x.shape)
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {tuple(x.shape)}")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


def permute(x, *dims):
    """Reorder dims: out.shape[i] = x.shape[dims[i]]."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    dims = tuple(normalize_dim("permute", d, x.ndim, x.shape) for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ShapeError(f"permute: dims {dims} are not a permutation of the "
                         f"{x.ndim} dims of shape {tuple(x.shape)}")
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    """Swap two dims."""
    dims = list(range(x.ndim))
    a = normalize_dim("transpose", dim0, x.ndim, x.shape)
    b = normalize_dim("transpose", dim1, x.ndim, x.shape)
    if x.ndim == 0:
        return x
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


def unsqueeze(x, dim):
    """Insert a size-1 dim at `dim` (which may equal ndim)."""
    d = normalize_dim("unsqueeze", dim, x.ndim + 1, x.shape)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x, dim=None):
    """Drop size-1 dims (all of them, or those listed in dim)."""
    if dim is None:
        dims = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        dims = [normalize_dim("squeeze", d, x.ndim, x.shape)
                for d in ((dim,) if isinstance(dim, int) else dim)]
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def expand(x, *sizes):
    """Broadcast to `sizes`; -1 keeps a dim; new leading dims may be added."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    sizes = tuple(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the number of sizes {len(sizes)} is smaller than the "
                         f"number of dims of shape {tuple(x.shape)}")
    shape = []
    for i, n in enumerate(sizes):
        old = x.shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ShapeError(f"expand: -1 is not allowed for a new leading dim {sizes}")
            n = old
        if old is not None and old != 1 and old != n:
            raise ShapeError(f"expand: shape {tuple(x.shape)} cannot be expanded to {sizes}")
        shape.append(n)
    shape = tuple(shape)
    return x if shape == tuple(x.shape) else Expand.apply(x, shape=shape)


def cat(tensors, dim=0):
    """Concatenate tensors of equal shapes except along dim."""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    d = normalize_dim("cat", dim, ref.ndim, ref.shape)
    if ref.ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated")
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if i != d):
            raise ShapeError(f"cat: sizes of tensors must match except in dimension {d}; got "
                             f"shapes {tuple(ref.shape)} and {tuple(t.shape)}")
    dt = ref.dtype
    for t in tensors[1:]:
        dt = dtypes.promote(dt, t.dtype)
    tensors = [t if t.dtype is dt else t.to(dt) for t in tensors]
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    """Stack equal-shape tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack: expected a non-empty list of tensors")
    for t in tensors[1:]:
        if tuple(t.shape) != tuple(tensors[0].shape):
            raise ShapeError(f"stack: expects each tensor to be equal size, but got "
                             f"{tuple(tensors[0].shape)} and {tuple(t.shape)}")
    d = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], dim=d)


def pad(input, pad, mode="constant", value=0.0):  # noqa: A002 - PyTorch's argument names
    """Constant padding; pad = (last_lo, last_hi, prev_lo, prev_hi, ...) as F.pad."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported here, got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ShapeError(f"pad: padding {pad} does not fit a tensor of shape "
                         f"{tuple(input.shape)}")
    if any(p < 0 for p in pad):
        raise ShapeError(f"pad: negative padding {pad} is not supported")
    pads = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        pads[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(input, pads=tuple(pads), value=value)


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
    return hasattr(k, "__array__") and not isinstance(k, (int, slice))


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
