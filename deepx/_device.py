"""Devices: names like 'numpy', 'opencl', 'opencl:0:1'; the default one; their backends."""
from __future__ import annotations

import os
import warnings

from .errors import DeviceError


class Device:
    """Where a tensor lives: the NumPy reference or one OpenCL device (platform, device)."""

    def __init__(self, spec="numpy") -> None:
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        parts = str(spec).strip().lower().split(":")
        if parts[0] == "cpu":  # PyTorch habit: 'cpu' means host memory, our NumPy device
            parts = ["numpy"]
        if parts[0] not in ("numpy", "opencl") or (parts[0] == "numpy" and len(parts) > 1):
            raise DeviceError(f"unknown device {spec!r}; use 'numpy', 'opencl', "
                              "'opencl:PLATFORM:DEVICE' or 'opencl:NAME' (a platform or device "
                              "name fragment, e.g. 'opencl:pocl'; see `python -m deepx info`)")
        self.type = parts[0]
        if self.type == "opencl" and len(parts) == 1:
            self.index = _default_opencl_index()
        elif self.type == "opencl":
            self.index = _opencl_index(spec, parts[1:])
        else:
            self.index = None

    @property
    def backend(self):
        """The backend object whose primitives compute on this device."""
        cached = self.__dict__.get("_backend")  # looked up on every op: resolve it once
        if cached is not None:
            return cached
        if self.type == "numpy":
            backend = _numpy_backend()
        else:
            from .backend.opencl import get_backend

            backend = get_backend(*self.index)
        self._backend = backend
        return backend

    def __eq__(self, other) -> bool:
        if isinstance(other, Device):  # the common case, on every op: no parsing
            return self.type == other.type and self.index == other.index
        try:
            other = Device(other)
        except DeviceError:
            return False
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return "numpy" if self.type == "numpy" else f"opencl:{self.index[0]}:{self.index[1]}"

    def __repr__(self) -> str:
        return f"device('{self}')"


_NUMPY = []
_DEFAULT = []
_DEFAULT_REASON = []


def _opencl_index(spec, rest) -> tuple:
    """(platform, device) of 'opencl:P[:D]' (indices) or 'opencl:NAME' (a name fragment)."""
    if rest[0].strip().isdigit():
        try:
            return (int(rest[0]), int(rest[1]) if len(rest) > 1 else 0)
        except ValueError:
            raise DeviceError(f"bad OpenCL device {spec!r}; expected 'opencl:P:D' or "
                              "'opencl:NAME'") from None
    from .backend.opencl.devices import find_index

    return find_index(":".join(rest))


def _numpy_backend():
    if not _NUMPY:
        from .backend.numpy_backend import NumpyBackend

        _NUMPY.append(NumpyBackend())
    return _NUMPY[0]


def _default_opencl_index():
    """(platform, device) of the first GPU, else the first OpenCL device of any type."""
    from .backend.opencl.devices import default_index

    index = default_index()
    if index is None:
        raise DeviceError("no OpenCL device found; install a runtime, e.g. "
                          "`pip install pocl-binary-distribution`, or use device='numpy'")
    return index


def default_device() -> Device:
    """DEEPX_DEVICE if set, else an OpenCL GPU, else an OpenCL CPU, else NumPy (with a warning)."""
    if _DEFAULT:
        return _DEFAULT[0]
    spec = os.environ.get("DEEPX_DEVICE")
    if spec:
        dev = Device(spec)
        reason = f"DEEPX_DEVICE={spec}"
    else:
        try:
            dev = Device("opencl")
            from .backend.opencl.devices import default_reason

            reason = default_reason()
        except (ImportError, DeviceError) as exc:
            reason = f"no usable OpenCL runtime ({exc})"
            warnings.warn(f"deepx: no usable OpenCL runtime ({exc}); computing on the NumPy "
                          "reference backend. Install one with `pip install pyopencl "
                          "pocl-binary-distribution`, your distribution's PoCL (Debian/Ubuntu: "
                          "`apt-get install pocl-opencl-icd`, needed where PyPI's LLVM 14 "
                          "build cannot target the CPU) or a GPU vendor's OpenCL driver.",
                          RuntimeWarning, stacklevel=2)
            dev = Device("numpy")
    _DEFAULT.append(dev)
    _DEFAULT_REASON[:] = [reason]
    return dev


def default_device_reason() -> str:
    """Why default_device() is the device it is (for `python -m deepx info`)."""
    default_device()
    return _DEFAULT_REASON[0]


def set_default_device(spec) -> None:
    """Make `spec` the device new tensors go to when no device= is given."""
    _DEFAULT[:] = [Device(spec)]
    _DEFAULT_REASON[:] = [f"set_default_device({spec!r})"]


def synchronize(device=None) -> None:
    """Wait until all work queued on `device` (default: the default device) has finished.

    Like torch.cuda.synchronize: OpenCL launches return before the kernel runs, so time deepx
    as `start; work; synchronize(); stop`. A no-op on the NumPy device, which computes eagerly.
    """
    if device is None:
        dev = default_device()
    elif isinstance(device, Device):
        dev = device
    else:  # a name: parsed once (timing loops call this after every step)
        dev = _NAMED.get(device)
        if dev is None:
            dev = _NAMED[device] = Device(device)
    if dev.type == "opencl":
        dev.backend.runtime.finish()


_NAMED: dict = {}  # device name -> Device, for synchronize


def device(spec) -> Device:
    """Parse a device name, like torch.device: 'numpy', 'opencl', 'opencl:P:D' or 'opencl:NAME'.

    NAME is a platform or device name fragment ('pocl', 'oclgrind', 'nvidia'): the first
    matching device that builds deepx's kernels; unlike indices it stays put when another
    OpenCL runtime is installed. DeviceError when nothing matches.
    """
    return Device(spec)


def devices() -> list:
    """Every device deepx can use: the NumPy reference, then each OpenCL platform's devices."""
    found = [{"name": "numpy", "type": "reference", "description": "NumPy reference backend"}]
    try:
        from .backend.opencl.devices import list_devices
    except ImportError:
        return found
    return found + list_devices()
