"""OpenCL device discovery: what `python -m deepx info` lists and which device is the default."""
from __future__ import annotations

import dataclasses
import os
import pathlib

import pyopencl as cl

_TYPES = ((cl.device_type.GPU, "GPU"), (cl.device_type.CPU, "CPU"),
          (cl.device_type.ACCELERATOR, "ACCELERATOR"), (cl.device_type.CUSTOM, "CUSTOM"))


def device_type_name(device) -> str:
    """'GPU', 'CPU', 'ACCELERATOR', 'CUSTOM' or 'OTHER' for a pyopencl Device."""
    for bit, name in _TYPES:
        if device.type & bit:
            return name
    return "OTHER"


@dataclasses.dataclass(frozen=True)
class Limits:
    """The device limits deepx's launch geometry reads, named as pyopencl.Device's attributes.

    Every work-group size, local-memory tile and vector width comes from these, never from a
    constant, so a test can run a big device with a small one's limits (`small_gpu()`).
    """

    type: int                          # a cl.device_type bit field (CPU, GPU, ...)
    max_work_group_size: int
    max_work_item_sizes: tuple
    local_mem_size: int                # bytes
    preferred_vector_width_float: int
    preferred_vector_width_double: int

    @classmethod
    def of(cls, device) -> Limits:
        """The limits a pyopencl Device reports."""
        return cls(device.type, device.max_work_group_size, tuple(device.max_work_item_sizes),
                   device.local_mem_size, device.preferred_vector_width_float,
                   device.preferred_vector_width_double)

    def capped(self, work_group: int, local_mem: int, gpu: bool = True) -> Limits:
        """These limits, at most `work_group` work-items and `local_mem` bytes (a GPU's type)."""
        return dataclasses.replace(
            self, type=cl.device_type.GPU if gpu else self.type,
            max_work_group_size=min(self.max_work_group_size, work_group),
            max_work_item_sizes=tuple(min(n, work_group) for n in self.max_work_item_sizes),
            local_mem_size=min(self.local_mem_size, local_mem))


# A small GPU: 256 work-items per group, 32 KiB of local memory (DEEPX_DEVICE_LIMITS=small-gpu).
SMALL_GPU = {"work_group": 256, "local_mem": 32 * 1024}


def limits_of(device) -> Limits:
    """The device's limits, capped as DEEPX_DEVICE_LIMITS says: 'small-gpu' or
    'work_group=N,local_mem=BYTES' (the device then also counts as a GPU)."""
    limits = Limits.of(device)
    spec = os.environ.get("DEEPX_DEVICE_LIMITS", "").strip().lower()
    if not spec:
        return limits
    from ...errors import DeviceError

    try:
        caps = SMALL_GPU if spec == "small-gpu" else {
            key.strip(): int(value) for key, value in (item.split("=") for item in spec.split(","))}
        return limits.capped(**caps)
    except (ValueError, TypeError) as exc:
        raise DeviceError(f"bad DEEPX_DEVICE_LIMITS={spec!r} ({exc}); use 'small-gpu' or "
                          "'work_group=256,local_mem=32768'") from None


def _platforms() -> list:
    # PoCL pins its CPU worker threads to cores when POCL_AFFINITY=1. Unpinned, the OS often
    # ran both on one core for tens of steps, while Python held the other: an MLP step took
    # 2.7 or 4.0 ms by turns, pinned a steady 2.5 ms (a host-bound step of tiny kernels, the
    # moons MLP, pays ~0.3 ms). Read when PoCL starts (the first platform query); the user's
    # own setting wins.
    os.environ.setdefault("POCL_AFFINITY", "1")
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
                "platform_version": platform.version.strip(),
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
_REASON: list = []  # why default_index chose it, for `python -m deepx info`


def default_reason() -> str:
    """Why default_index() chose its device (call default_index first)."""
    return _REASON[0] if _REASON else "no OpenCL device found"


def _rank(device) -> int:
    """0 for a GPU, 2 for a simulator (Oclgrind claims every device type), 1 for the rest."""
    gpu, cpu = device.type & cl.device_type.GPU, device.type & cl.device_type.CPU
    return 2 if gpu and cpu else 0 if gpu else 1


def default_index() -> tuple[int, int] | None:
    """(platform, device) of the first usable GPU, else of the first usable device, else None.

    A device claiming to be both CPU and GPU (Oclgrind, a simulator thousands of times slower)
    comes last: installing it for the CI stage must not make it everyone's default.

    Usable means it compiles deepx's kernels: a runtime can list a device it cannot build for
    (PoCL 3.0's LLVM 14 fails with "unknown target CPU 'generic'" on CPUs newer than it).
    DeviceError, naming each device and why, when devices exist but none is usable.
    """
    if not _DEFAULT:
        found = [(p, d, device) for p, platform in enumerate(_platforms())
                 for d, device in enumerate(_devices(platform))]
        found.sort(key=lambda item: _rank(item[2]))  # stable: in listing order within a rank
        failures = []
        for p, d, device in found:
            problem = _build_problem(p, d)
            if problem is None:
                _DEFAULT.append((p, d))
                why = (("the first OpenCL GPU that builds deepx's kernels",
                        "no OpenCL GPU builds deepx's kernels; the first device that does "
                        f"({device_type_name(device)})",
                        "no GPU or CPU device builds deepx's kernels; the first simulator that "
                        "does")[_rank(device)])
                _REASON[:] = [why + "".join(f"; skipped {f}" for f in failures)]
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
    from ... import dtypes
    from ...errors import OpenCLError
    from . import get_backend

    try:
        get_backend(platform_index, device_index).kernel("elementwise.cl", "elementwise_fill",
                                                         dtypes.float32)
    except (OpenCLError, cl.Error) as exc:
        lines = str(exc).splitlines()
        compiler = [line.strip() for line in lines if line.strip().startswith("error:")]
        return (compiler or lines)[0]
    return None


def build_status() -> dict:
    """{(platform, device): None when it builds deepx's kernels, else why not}, every device.

    `python -m deepx info` shows it. Each device builds in its own process: two runtimes
    that each bring an LLVM (two PoCL installs) can abort a process that compiles on both.
    """
    import ast
    import os
    import subprocess
    import sys

    root = str(pathlib.Path(__file__).resolve().parents[3])  # the folder holding deepx/
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    status = {}
    for p, platform in enumerate(_platforms()):
        for d, _ in enumerate(_devices(platform)):
            code = ("from deepx.backend.opencl.devices import _build_problem; "
                    f"print(repr(_build_problem({p}, {d})))")
            try:
                run = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, timeout=600, env=env)
                lines = run.stdout.strip().splitlines()
                # PyPI's PoCL 3.0 prints its answer, then aborts at exit: the answer counts
                status[p, d] = (ast.literal_eval(lines[-1]) if lines
                                else f"the test build crashed (exit code {run.returncode})")
            except subprocess.TimeoutExpired:
                status[p, d] = "the test build took over 10 minutes"
    return status


def _haystack(platform, device) -> str:
    """The names a fragment is matched against: platform, its version, device, vendor, driver."""
    fields = (platform.name, platform.version, device.name, device.vendor, device.driver_version)
    return " | ".join(f.strip() for f in fields).lower()


def find_index(fragment: str) -> tuple[int, int]:
    """(platform, device) of the first device whose names contain `fragment` and that builds.

    Indices shift when a second OpenCL runtime is installed; a name fragment ('pocl',
    'oclgrind', 'nvidia', '3.1+debian') keeps naming the same device. Case-insensitive;
    matched against platform name and version, device name, vendor and driver version, in
    `python -m deepx info` order. DeviceError naming the candidates otherwise.
    """
    from ...errors import DeviceError

    needle = fragment.strip().lower()
    found, problems = [], []
    for p, platform in enumerate(_platforms()):
        for d, device in enumerate(_devices(platform)):
            found.append(f"opencl:{p}:{d} ({platform.name.strip()}: {device.name.strip()})")
            if needle and needle in _haystack(platform, device):
                problem = _build_problem(p, d)
                if problem is None:
                    return (p, d)
                problems.append(f"opencl:{p}:{d} matches but cannot build: {problem}")
    what = "; ".join(problems) if problems else "found " + ("; ".join(found) or "none")
    raise DeviceError(f"no usable OpenCL device matches {fragment!r} ({what}); "
                      "see `python -m deepx info`")


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
