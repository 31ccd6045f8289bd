"""Shape and layout ops: reshape, view, permute, expand, squeeze, cat, stack, pad.

Indexing (t[key], index_select) lives in ops/indexing.py and ops/gather.py."""
from __future__ import annotations

import math

from .. import dtypes
from ..autograd import Function
from ..errors import ShapeError
from ..shapes import contiguous_strides, infer_shape, is_int, normalize_dim, view_strides
from .views import Contiguous, Expand, Permute, Reshape, ReshapeView, View


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
                for d in ((dim,) if is_int(dim) else dim)]
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


def _tensor_list(op: str, tensors) -> list:
    """The sequence as a list; TypeError naming the first element that is not a tensor."""
    from .._tensor import Tensor

    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of tensors, got {type(t).__name__} at "
                            f"position {i} (make it one with deepx.tensor)")
    return tensors


def cat(tensors, dim=0):
    """Concatenate tensors of equal shapes except along dim."""
    tensors = _tensor_list("cat", tensors)
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
    tensors = _tensor_list("stack", tensors)
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
