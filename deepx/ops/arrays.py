"""Array-level helpers shared by backward rules: broadcasting a gradient and summing it back."""
from __future__ import annotations

from .. import dtypes
from ..backend import ReduceOp
from ..shapes import contiguous_strides


def scalar_like(backend, value, like):
    """A 0-d array holding `value` in the dtype of the array `like` (broadcasts in any op)."""
    return backend.full((), value, dtypes.of(like))


def broadcast_to(backend, x, shape):
    """x broadcast (NumPy rules) to `shape`, materialised by one strided copy."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    lead = len(shape) - len(x.shape)
    src = contiguous_strides(x.shape)
    strides = [0] * lead + [0 if n == 1 else s for n, s in zip(x.shape, src)]
    return backend.strided_copy(x, shape, tuple(strides), 0)


def unbroadcast(backend, grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = backend.reduce(ReduceOp.SUM, grad, axes, False)
    return backend.reshape(grad, shape)


def keepdim_shape(shape, axes):
    """`shape` with each reduced axis kept as size 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
