"""OpenCL device discovery: what `python -m deepx info` lists and which device is the default."""
from __future__ import annotations

import pyopencl as cl

_TYPES = ((cl.device_type.GPU, "GPU"), (cl.device_type.CPU, "CPU"),
          (cl.device_type.ACCELERATOR, "ACCELERATOR"), (cl.device_type.CUSTOM, "CUSTOM"))


def device_type_name(device) -> str:
    """'GPU', 'CPU', 'ACCELERATOR', 'CUSTOM' or 'OTHER' for a pyopencl Device."""
    for bit, name in _TYPES:
        if device.type & bit:
            return name
    return "OTHER"


def _platforms() -> list:
    try:
        return cl.get_platforms()
    except cl.Error:  # no ICD loader entries: the same as no platform at all
        return []


def _devices(platform) -> list:
    try:
        return platform.get_devices()
    except cl.Error:
        return []


def list_devices() -> list[dict]:
    """One dict per OpenCL device, named 'opencl:P:D', with its main limits."""
    found = []
    for p, platform in enumerate(_platforms()):
        for d, device in enumerate(_devices(platform)):
            found.append({
                "name": f"opencl:{p}:{d}",
                "platform": platform.name.strip(),
                "device": device.name.strip(),
                "type": device_type_name(device),
                "compute_units": device.max_compute_units,
                "global_mem_bytes": device.global_mem_size,
                "local_mem_bytes": device.local_mem_size,
                "max_work_group_size": device.max_work_group_size,
                "fp64": has_fp64(device),
                "driver_version": device.driver_version.strip(),
                "opencl_version": device.version.strip(),
            })
    return found


def has_fp64(device) -> bool:
    """True when the device computes in double precision (cl_khr_fp64)."""
    return "cl_khr_fp64" in device.extensions.split() or bool(device.double_fp_config)


_DEFAULT: list = []  # the memoised answer of default_index


def default_index() -> tuple[int, int] | None:
    """(platform, device) of the first usable GPU, else of the first usable device, else None.

    Usable means it compiles deepx's kernels: a runtime can list a device it cannot build for
    (PoCL 3.0's LLVM 14 fails with "unknown target CPU 'generic'" on CPUs newer than it).
    DeviceError, naming each device and why, when devices exist but none is usable.
    """
    if not _DEFAULT:
        found = [(p, d, device) for p, platform in enumerate(_platforms())
                 for d, device in enumerate(_devices(platform))]
        found.sort(key=lambda item: not item[2].type & cl.device_type.GPU)  # stable: GPUs first
        failures = []
        for p, d, device in found:
            problem = _build_problem(p, d)
            if problem is None:
                _DEFAULT.append((p, d))
                break
            failures.append(f"opencl:{p}:{d} ({device.name.strip()}): {problem}")
        else:
            if failures:
                from ...errors import DeviceError

                raise DeviceError("no OpenCL device can build deepx's kernels: "
                                  + "; ".join(failures))
            _DEFAULT.append(None)
    return _DEFAULT[0]


def _build_problem(platform_index: int, device_index: int) -> str | None:
    """None when device (p, d) builds a kernel deepx needs anyway, else the first log line."""
    import numpy as np

    from ...errors import OpenCLError
    from . import get_backend

    try:
        get_backend(platform_index, device_index).kernel("elementwise.cl", "elementwise_fill",
                                                         np.float32)
    except (OpenCLError, cl.Error) as exc:
        lines = str(exc).splitlines()
        compiler = [line.strip() for line in lines if line.strip().startswith("error:")]
        return (compiler or lines)[0]
    return None


def get_device(platform_index: int, device_index: int):
    """The pyopencl Device at (platform, device); DeviceError naming what exists otherwise."""
    from ...errors import DeviceError

    platforms = _platforms()
    if not 0 <= platform_index < len(platforms):
        raise DeviceError(f"no OpenCL platform {platform_index}: {len(platforms)} found "
                          "(see `python -m deepx info`)")
    devices = _devices(platforms[platform_index])
    if not 0 <= device_index < len(devices):
        raise DeviceError(f"no OpenCL device {device_index} on platform {platform_index}: "
                          f"{len(devices)} found (see `python -m deepx info`)")
    return devices[device_index]
