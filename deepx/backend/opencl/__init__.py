"""The OpenCL backend: hand-written kernels in kernels/*.cl for every primitive.

Nothing happens at import. `get_backend(p, d)` creates (once per process) the context, queue
and memory pool of device (p, d) and the OpenCLBackend computing on it.
"""
from __future__ import annotations

try:
    import pyopencl  # noqa: F401 - only to fail early, as ImportError, when it is missing
except ImportError as exc:  # deepx.device falls back to NumPy on ImportError
    raise ImportError(f"the OpenCL backend needs pyopencl: {exc}") from exc

_BACKENDS: dict = {}


def get_backend(platform_index: int = 0, device_index: int = 0):
    """The OpenCLBackend of device (platform_index, device_index), created on first use."""
    key = (int(platform_index), int(device_index))
    if key not in _BACKENDS:
        from .backend import OpenCLBackend

        _BACKENDS[key] = OpenCLBackend(*key)
    return _BACKENDS[key]


def is_available() -> bool:
    """True when at least one OpenCL device can be found."""
    from .devices import default_index

    return default_index() is not None
