"""Array-level helpers shared by backward rules: broadcasting a gradient and summing it back."""
from __future__ import annotations

from .. import dtypes
from ..backend import ReduceOp

_CONSTANTS: dict = {}  # (backend, value, dtype) -> 0-d array, shared by every backward rule


def scalar_like(backend, value, like):
    """A 0-d array holding `value` in the dtype of the array `like` (broadcasts in any op).

    The array is made once per (backend, value, dtype) and shared: a backward rule's constants
    then cost no fill launch per step. It is read-only by contract (only `*_` primitives write
    into their arguments, and never into these).
    """
    return constant(backend, value, dtypes.of(like))


def constant(backend, value, dtype):
    """The shared read-only 0-d array of `value` in `dtype` on `backend` (see scalar_like)."""
    key = (backend, value, dtype)
    array = _CONSTANTS.get(key)
    if array is None:
        array = backend.full((), value, dtype)
        if value == value and len(_CONSTANTS) < 4096:  # NaN keys would never hit
            _CONSTANTS[key] = array
    return array


def broadcast_to(backend, x, shape):
    """x broadcast (NumPy rules) to `shape`: a view with stride 0 where x is stretched."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    lead = len(shape) - len(x.shape)
    src = backend.strides(x)
    strides = [0] * lead + [0 if n == 1 else s for n, s in zip(x.shape, src)]
    return backend.as_strided(x, shape, tuple(strides), 0)


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
