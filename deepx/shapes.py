"""Shape arithmetic shared by ops: broadcasting, dim normalisation, strides. Pure Python."""
from __future__ import annotations

import math

from .errors import ShapeError


def broadcast_shapes(op: str, *shapes) -> tuple:
    """NumPy broadcasting of several shapes; a ShapeError names the op and the shapes."""
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


def normalize_dim(op: str, dim: int, ndim: int, shape=None) -> int:
    """A dim in [-ndim, ndim) mapped to [0, ndim); 0-d tensors accept dim 0 and -1."""
    n = max(ndim, 1)
    if not isinstance(dim, int) or not -n <= dim < n:
        where = f" of shape {tuple(shape)}" if shape is not None else f" with {ndim} dims"
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor{where} "
                         f"(expected in [{-n}, {n - 1}])")
    return dim % n if ndim else 0


def normalize_dims(op: str, dim, ndim: int, shape=None) -> tuple:
    """None -> all dims; an int or a tuple -> sorted tuple of non-negative dims, no repeats."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
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
