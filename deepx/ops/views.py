"""View ops: outputs that share their input's storage (no copy, no kernel launch).

A view is described by a geometry function `geom(shape, strides) -> (shape, strides, offset)`,
linear in `strides`. Forward applies it to the input's memory strides (a view of the same
storage); backward applies it to the C-contiguous strides of the input's shape, which locates
each view element in a dense gradient of the input's shape (PyTorch's as_strided backward).
The output shares the input's version counter and records the input's base, so in-place ops
through any view are seen by every other view of the storage (Function.apply does that).
"""
from __future__ import annotations

from .. import dtypes
from ..autograd import Function
from ..backend import BinaryOp
from ..errors import ShapeError
from ..shapes import contiguous_strides, is_int


class View(Function):
    """out = x seen through `geom`; the gradient is scattered back into zeros of x's shape."""

    name = "view"
    is_view = True

    @staticmethod
    def forward(ctx, x, geom):
        be = ctx.backend
        ctx.geom, ctx.shape = geom, tuple(x.shape)
        return be.as_strided(x, *geom(tuple(x.shape), be.strides(x)))

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        shape, strides, offset = ctx.geom(ctx.shape, contiguous_strides(ctx.shape))
        out = be.full(ctx.shape, 0, dtypes.of(grad))
        if not _overlaps(shape, strides):
            be.strided_assign_(out, shape, strides, offset, grad)
            return out
        # elements seen more than once (unfold with step < size): sum them one window
        # position at a time, each position being a non-overlapping strided view
        return _accumulate_overlapping(be, out, shape, strides, offset, grad)


class Permute(Function):
    """out.shape[i] = x.shape[dims[i]], a view; the gradient is permuted back (also a view)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _permute(ctx.backend, x, dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return _permute(ctx.backend, grad, tuple(inverse))


def _permute(be, x, dims):
    strides = be.strides(x)
    return be.as_strided(x, tuple(x.shape[d] for d in dims), tuple(strides[d] for d in dims), 0)


class Expand(Function):
    """Broadcast x to `shape` as a view with stride 0 where a dim is stretched or added."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        be = ctx.backend
        ctx.shape = tuple(x.shape)
        lead = len(shape) - len(x.shape)
        own = be.strides(x)
        strides = (0,) * lead + tuple(0 if n == 1 and m != 1 else s
                                      for n, m, s in zip(x.shape, shape[lead:], own))
        return be.as_strided(x, tuple(shape), strides, 0)

    @staticmethod
    def backward(ctx, grad):
        from .arrays import unbroadcast

        return unbroadcast(ctx.backend, grad, ctx.shape)


class Reshape(Function):
    """Same elements, new shape: a view when the strides allow (PyTorch's view), else a copy."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = tuple(x.shape)
        return ctx.backend.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.reshape(grad, ctx.shape)


class ReshapeView(Reshape):
    """Reshape whose strides allow a view: shares storage (Tensor.view)."""

    name = "view"
    is_view = True


class Contiguous(Function):
    """A C-contiguous copy of a non-contiguous view; the gradient passes through."""

    name = "contiguous"

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.contiguous(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class CopySlices(Function):
    """base with the region `view` replaced by src: the record an in-place op through a view
    leaves on its base (PyTorch's CopySlices). forward does not compute: the data was already
    written through the view; it hands back the base's own array."""

    name = "copy_slices"

    @staticmethod
    def forward(ctx, base, src, view):
        ctx.view = view
        return base

    @staticmethod
    def backward(ctx, grad):
        be = ctx.backend
        grad_base = grad_src = None
        if ctx.needs_input_grad[0]:
            grad_base = be.contiguous(grad)
            be.strided_assign_(grad_base, *ctx.view, be.full((), 0, dtypes.of(grad)))
        if ctx.needs_input_grad[1]:
            grad_src = be.strided_copy(grad, *ctx.view)
        return grad_base, grad_src


def _overlaps(shape, strides) -> bool:
    """True when two elements of a (shape, strides) view may share memory (stride 0 or an
    unfold whose step is below its window)."""
    dims = sorted((s, n) for n, s in zip(shape, strides) if n > 1)
    span = 0
    for s, n in dims:
        if s <= span:
            return True
        span += (n - 1) * s
    return False


def _accumulate_overlapping(be, out, shape, strides, offset, grad):
    """out (zeros) += grad scattered through an overlapping view, one last-dim index at a time."""
    last = len(shape) - 1
    for i in range(shape[last]):
        sub_shape = shape[:last]
        sub = (sub_shape, strides[:last], offset + i * strides[last])
        piece = be.strided_copy(grad, shape[:last] + (1,), contiguous_strides(shape)[:last] +
                                (1,), i)
        piece = be.reshape(piece, sub_shape)
        current = be.strided_copy(out, *sub)
        be.strided_assign_(out, *sub, be.binary(BinaryOp.ADD, current, piece))
    return out


# ---------------------------------------------------------------- public view functions
class _Geom:
    """A view geometry: a named function of (shape, strides) and its integer parameters."""

    __slots__ = ("fn", "args")

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __call__(self, shape, strides):
        return self.fn(tuple(shape), tuple(strides), *self.args)


def _narrow_geom(shape, strides, dim, start, length):
    return shape[:dim] + (length,) + shape[dim + 1:], strides, start * strides[dim]


def _select_geom(shape, strides, dim, index):
    return shape[:dim] + shape[dim + 1:], strides[:dim] + strides[dim + 1:], index * strides[dim]


def _diagonal_geom(shape, strides, offset, dim1, dim2):
    rest = [i for i in range(len(shape)) if i not in (dim1, dim2)]
    if offset >= 0:
        n, start = max(0, min(shape[dim1], shape[dim2] - offset)), offset * strides[dim2]
    else:
        n, start = max(0, min(shape[dim1] + offset, shape[dim2])), -offset * strides[dim1]
    return (tuple(shape[i] for i in rest) + (n,),
            tuple(strides[i] for i in rest) + (strides[dim1] + strides[dim2],),
            start if n else 0)


def _unfold_geom(shape, strides, dim, size, step):
    count = (shape[dim] - size) // step + 1
    return (shape[:dim] + (count,) + shape[dim + 1:] + (size,),
            strides[:dim] + (step * strides[dim],) + strides[dim + 1:] + (strides[dim],), 0)


def _dim(op, x, dim):
    from ..shapes import normalize_dim

    if x.ndim == 0:
        raise ShapeError(f"{op}: a 0-d tensor has no dim {dim} to index (shape ())")
    return normalize_dim(op, dim, x.ndim, x.shape)


def narrow(x, dim, start, length):
    """x[..., start:start + length, ...] along dim, as a view."""
    d = _dim("narrow", x, dim)
    n = x.shape[d]
    start = int(start)
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise ShapeError(f"narrow: start {start} and length {length} exceed dimension {d} of "
                         f"size {n} (shape {tuple(x.shape)})")
    return View.apply(x, geom=_Geom(_narrow_geom, d, start, int(length)))


def select(x, dim, index):
    """x indexed by one integer along dim (that dim removed), as a view."""
    d = _dim("select", x, dim)
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dimension {d} with size "
                         f"{n} (shape {tuple(x.shape)})")
    return View.apply(x, geom=_Geom(_select_geom, d, index % n))


def unbind(x, dim=0):
    """The slices of x along dim, each a view without that dim."""
    d = _dim("unbind", x, dim)
    return tuple(select(x, d, i) for i in range(x.shape[d]))


def split(x, split_size_or_sections, dim=0):
    """Views of x along dim: pieces of split_size (the last may be smaller) or listed sizes."""
    d = _dim("split", x, dim)
    n = x.shape[d]
    if is_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise ShapeError(f"split: split_size must be positive, got {size} for shape "
                             f"{tuple(x.shape)}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(f"split: sections {sizes} do not sum to dimension {d} of size {n} "
                             f"(shape {tuple(x.shape)})")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(x, d, start, s))
        start += s
    return tuple(out)


def chunk(x, chunks, dim=0):
    """At most `chunks` views of x along dim, of equal size except perhaps the last."""
    if chunks <= 0:
        raise ShapeError(f"chunk: chunks must be positive, got {chunks}")
    d = _dim("chunk", x, dim)
    n = x.shape[d]
    return split(x, max(1, -(-n // chunks)), d)


def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) as the last dim of a view."""
    from ..shapes import normalize_dim

    a = normalize_dim("diagonal", dim1, x.ndim, x.shape)
    b = normalize_dim("diagonal", dim2, x.ndim, x.shape)
    if a == b or x.ndim < 2:
        raise ShapeError(f"diagonal: dim1 {dim1} and dim2 {dim2} must be two different dims "
                         f"of shape {tuple(x.shape)}")
    return View.apply(x, geom=_Geom(_diagonal_geom, int(offset), a, b))


def unfold(x, dimension, size, step):
    """All windows of `size` along dimension, `step` apart, as a new last dim (a view)."""
    d = _dim("unfold", x, dimension) if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0 or step <= 0:
        raise ShapeError(f"unfold: size {size} and step {step} do not fit dimension {d} of "
                         f"size {n} (shape {tuple(x.shape)})")
    return View.apply(x, geom=_Geom(_unfold_geom, d, int(size), int(step)))


class Region:
    """A fixed (shape, strides, offset) view of an input whose own strides are given; used to
    re-record a view after an in-place op through it rebased its base."""

    __slots__ = ("shape", "strides", "offset")

    def __init__(self, shape, strides, offset) -> None:
        self.shape, self.strides, self.offset = tuple(shape), tuple(strides), offset

    def __call__(self, shape, strides):
        return self.shape, self.strides, self.offset
