"""Tensor creation: from data, constants, ranges and the counter-based random generator."""
from __future__ import annotations

import numpy as np

from . import dtypes, rng
from ._device import Device, default_device
from .errors import DTypeError
from .shapes import is_int


def _device(device) -> Device:
    return default_device() if device is None else Device(device)


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _finish(array, device, requires_grad):
    from ._tensor import Tensor

    t = Tensor._wrap(array, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(data, host: np.ndarray) -> dtypes.DType:
    """PyTorch's rules: NumPy arrays and scalars keep their dtype (also inside lists: a list of
    np.float64 values is float64), Python floats become float32."""
    kind = host.dtype.kind
    if kind == "b":
        return dtypes.bool_
    if kind in "iu":
        return dtypes.int32 if host.dtype == np.int32 else dtypes.int64
    if kind == "f":
        keep = host.dtype == np.float64 and _holds_numpy_float64(data)
        return dtypes.float64 if keep else dtypes.float32
    raise DTypeError(f"tensor: cannot build a tensor from data of dtype {host.dtype}")


def _holds_numpy_float64(data) -> bool:
    """True when data is NumPy float64 data, or a nested list or tuple whose first leaf is.
    (The first leaf only: a walk over every element made tensor(list of 10^6 floats) 10x
    slower; PyTorch looks at all of them, which differs only for lists mixing the two.)"""
    for _ in range(64):
        if isinstance(data, (np.ndarray, np.generic)):
            return data.dtype == np.float64
        if not isinstance(data, (list, tuple)) or not data:
            return False
        data = data[0]
    return False


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data` (nested lists, scalars, arrays, tensors)."""
    from ._tensor import Tensor

    if isinstance(data, Tensor):
        device = data.device if device is None else device
        data = data.numpy()
    host = np.asarray(data)
    dt = _infer_dtype(data, host) if dtype is None else dtypes.get(dtype)
    # datetimes, text and objects never; complex only when a dtype asks for the cast (PyTorch
    # keeps the real part then, and has complex dtypes deepx lacks otherwise)
    if host.dtype.kind not in "biufc" or host.dtype.kind == "c" and dtype is None:
        raise DTypeError(f"tensor: cannot build a {dt.name} tensor from data of dtype "
                         f"{host.dtype}")
    dev = _device(device)
    return _finish(dev.backend.from_numpy(host.astype(dt.np, copy=False)), dev, requires_grad)


def from_numpy(ndarray) -> "Tensor":  # noqa: F821 - Tensor is imported lazily
    """A tensor of ndarray's shape and dtype (bool, int32, int64, float32, float64) on the
    default device. Unlike torch.from_numpy it shares no memory with the array: OpenCL
    devices hold their own buffers, so later writes to either side are not seen by the other
    (on the NumPy device too, for the same semantics everywhere)."""
    host = np.asarray(ndarray)
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(ndarray).__name__}")
    if host.dtype.name not in dtypes.NAMES:
        raise DTypeError(f"from_numpy: arrays of dtype {host.dtype} are not supported; "
                         "deepx has bool, int32, int64, float32 and float64")
    return tensor(host, dtype=dtypes.get(host.dtype))


def as_tensor(data, dtype=None, device=None):
    """Like tensor(); returns `data` itself when it already matches."""
    from ._tensor import Tensor

    if isinstance(data, Tensor) and (dtype is None or dtypes.get(dtype) is data.dtype) and (
            device is None or Device(device) == data.device):
        return data
    return tensor(data, dtype=dtype, device=device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of `size` filled with fill_value (dtype from the value if not given)."""
    if isinstance(fill_value, complex) or (isinstance(fill_value, np.generic)
                                           and fill_value.dtype.kind not in "biuf"):
        raise DTypeError(f"full: cannot fill with {fill_value!r} ({type(fill_value).__name__});"
                         " deepx has bool, integer and floating dtypes only")
    if dtype is None:
        dtype = (dtypes.bool_ if isinstance(fill_value, bool) else
                 dtypes.int64 if is_int(fill_value) else dtypes.float32)
    dev, dt = _device(device), dtypes.get(dtype)
    return _finish(dev.backend.full(tuple(size), fill_value, dt), dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros. zeros(2, 3) or zeros((2, 3))."""
    return full(_shape(size), 0, dtype or dtypes.float32, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return full(_shape(size), 1, dtype or dtypes.float32, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor in PyTorch; deepx fills it with zeros."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _like(t, dtype, device):
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """Zeros with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return full(input.shape, 0, dt, dev, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """Ones with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return full(input.shape, 1, dt, dev, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):  # noqa: A002
    """fill_value with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dt, dev, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values start, start + step, ... below end; integer dtype when all arguments are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    n = max(0, int(np.ceil((end - start) / step)))
    if dtype is None:
        ints = all(is_int(v) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.float32
    dev = _device(device)
    return _finish(dev.backend.arange(start, step, n, dtypes.get(dtype)), dev, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive."""
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    dev = _device(device)
    return _finish(dev.backend.arange(start, step, int(steps), dtypes.get(dtype or "float32")),
                   dev, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """(n, m) identity matrix."""
    dt = dtypes.get(dtype or dtypes.float32)
    return tensor(np.eye(n, m if m is not None else n), dtype=dt, device=device,
                  requires_grad=requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) samples drawn on the device from deepx's seeded generator."""
    shape, dev = _shape(size), _device(device)
    seed, offset = rng.next_offset(shape)
    dt = dtypes.get(dtype or dtypes.float32)
    return _finish(dev.backend.rand(shape, dt, seed, offset), dev, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples drawn on the device from deepx's seeded generator."""
    shape, dev = _shape(size), _device(device)
    seed, offset = rng.next_offset(shape)
    dt = dtypes.get(dtype or dtypes.float32)
    return _finish(dev.backend.randn(shape, dt, seed, offset), dev, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None):
    """Integers uniform in [low, high)."""
    from .ops.elementwise import add, mul

    if high is None:
        low, high = 0, low
    u = rand(*tuple(size), dtype=dtypes.float64, device=device)
    return add(mul(u, high - low), low).to(dtypes.get(dtype or dtypes.int64))


def rand_like(input, dtype=None, device=None):  # noqa: A002
    """rand with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return rand(*input.shape, dtype=dt, device=dev)


def randn_like(input, dtype=None, device=None):  # noqa: A002
    """randn with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return randn(*input.shape, dtype=dt, device=dev)
