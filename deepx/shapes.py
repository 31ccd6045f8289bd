"""Shape arithmetic shared by ops: broadcasting, dim normalisation, strides. Pure Python."""
from __future__ import annotations

import math
import numbers
import operator

from .errors import ShapeError

_BROADCAST: dict = {}  # (op, shapes) -> result: broadcasting runs on every elementwise call


def broadcast_shapes(op: str, *shapes) -> tuple:
    """NumPy broadcasting of several shapes; a ShapeError names the op and the shapes."""
    key = (op, shapes)
    try:
        return _BROADCAST[key]
    except KeyError:
        out = _broadcast(op, shapes)
    except TypeError:  # a shape given as a list: not hashable, not cached
        return _broadcast(op, tuple(tuple(s) for s in shapes))
    if len(_BROADCAST) >= 4096:
        _BROADCAST.clear()
    _BROADCAST[key] = out
    return out


def _broadcast(op: str, shapes) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            listed = " and ".join(str(tuple(s)) for s in shapes)
            raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together "
                             f"(dimension {i - ndim} differs)")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def is_int(value) -> bool:
    """A Python int or a NumPy integer scalar (numbers.Integral): what PyTorch takes for a dim,
    a size or a count. NumPy integers come from loops over arrays and from array shapes."""
    return isinstance(value, numbers.Integral)


def is_real(value) -> bool:
    """A Python or NumPy int or float (numbers.Real), not a bool's sibling types or a tensor."""
    return isinstance(value, numbers.Real)


def normalize_dim(op: str, dim: int, ndim: int, shape=None) -> int:
    """A dim in [-ndim, ndim) mapped to [0, ndim); 0-d tensors accept dim 0 and -1."""
    n = max(ndim, 1)
    if not isinstance(dim, int) and hasattr(dim, "__index__"):  # a NumPy integer, as PyTorch
        dim = operator.index(dim)
    if not isinstance(dim, int) or not -n <= dim < n:
        where = f" of shape {tuple(shape)}" if shape is not None else f" with {ndim} dims"
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor{where} "
                         f"(expected in [{-n}, {n - 1}])")
    return dim % n if ndim else 0


def normalize_dims(op: str, dim, ndim: int, shape=None) -> tuple:
    """None -> all dims; an int or a tuple -> sorted tuple of non-negative dims, no repeats."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) or hasattr(dim, "__index__") else tuple(dim)
    out = sorted({normalize_dim(op, d, ndim, shape) for d in dims})
    if len(out) != len(dims):
        raise ShapeError(f"{op}: dim {dim} repeats a dimension")
    return tuple(d for d in out if d < ndim)


def contiguous_strides(shape) -> tuple:
    """Element strides of a C-ordered array of `shape`."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def numel(shape) -> int:
    """Number of elements of a shape."""
    return math.prod(shape)


def infer_shape(op: str, shape, total: int) -> tuple:
    """Resolve one -1 in a requested shape so that it holds `total` elements."""
    shape = tuple(int(s) for s in shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in shape):
        raise ShapeError(f"{op}: invalid shape {shape}")
    known = math.prod(s for s in shape if s != -1)
    if unknown:
        if known == 0 or total % known:
            raise ShapeError(f"{op}: shape {shape} is invalid for input of size {total}")
        shape = shape[:unknown[0]] + (total // known,) + shape[unknown[0] + 1:]
    if math.prod(shape) != total:
        raise ShapeError(f"{op}: shape {shape} is invalid for input of size {total}")
    return shape


def is_contiguous(shape, strides) -> bool:
    """True when a view with these element strides is C-contiguous (size-1 dims ignored)."""
    step = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 0:
            return True
        if n != 1:
            if s != step:
                return False
            step *= n
    return True


def view_strides(shape, strides, new_shape):
    """Strides that show a (shape, strides) view as new_shape without a copy, else None.

    PyTorch's computeStride (aten/src/ATen/TensorUtils.cpp): each run of old dims that are
    contiguous with each other can be split or merged freely; a new dim may not straddle two.
    """
    if not shape or math.prod(shape) == 0:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = strides[-1] if strides else 1
    tensor_numel, view_numel = 1, 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        # a run ends where the next (outer) dim is not laid out right after this one
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base_stride = strides[d - 1]
                tensor_numel, view_numel = 1, 1
    if view_d != -1:
        return None
    return tuple(new_strides)
