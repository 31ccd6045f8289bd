"""One OpenCL device in use: context, in-order profiling queue, memory pool, programs, launches.

`Runtime` is created once per device per process (see `get_backend`). Programs are built
lazily, memoised per (file, options), with `-I <kernels dir>` so each .cl file can include
common.h. Every kernel launch goes through `Runtime.launch`, which tells the functions in
`LAUNCH_LISTENERS` (empty by default; a profiler appends one) about each launch.
"""
from __future__ import annotations

import importlib.resources
import pathlib
import time

import numpy as np
import pyopencl as cl
import pyopencl.tools as cl_tools

from ...errors import OpenCLError
from .devices import Limits, get_device, has_fp64, limits_of

# Called as listener(op_name, kernel_name, global_size, event) after every launch.
LAUNCH_LISTENERS: list = []
# Called as listener(file, options, seconds) after each program build (progress for a cold cache).
BUILD_LISTENERS: list = []

_RETRY_CODES = frozenset({cl.status_code.MEM_OBJECT_ALLOCATION_FAILURE,
                          cl.status_code.OUT_OF_RESOURCES, cl.status_code.OUT_OF_HOST_MEMORY})


def kernels_dir() -> pathlib.Path:
    """Folder of the .cl files: package data `deepx.kernels` when installed, else repo kernels/."""
    try:
        # joinpath gives a real file path, also for a namespace package's MultiplexedPath
        header = importlib.resources.files("deepx.kernels") / "common.h"
        if isinstance(header, pathlib.Path) and header.is_file():
            return header.parent
    except ModuleNotFoundError:
        pass
    return pathlib.Path(__file__).resolve().parents[3] / "kernels"


def error_name(exc: cl.Error) -> str:
    """The CL status name (e.g. INVALID_WORK_GROUP_SIZE) of a pyopencl error, if it has one."""
    try:
        return cl.status_code.to_string(exc.code)
    except Exception:  # noqa: BLE001 - errors raised by pyopencl itself carry no CL code
        return "unknown CL error"


# How long finish() and host reads poll the last command before blocking: PoCL wakes a
# sleeping host thread 15-30 us after a short kernel ends, a poll sees it at once (a synced
# `a + b` went from ~59 to ~19 us, threads unpinned); long waits lose at most this much of
# one core.
SPIN_S = 50e-6
_COMPLETE = cl.command_execution_status.COMPLETE

# Marks an argument of a Launch that changes per call (a buffer); the others are set once.
PER_CALL = object()


class PerCallScalar:
    """Marks a scalar argument of a Launch given at each run (a learning rate a scheduler
    changes), with its NumPy dtype: `per_call(np.float32)`."""

    __slots__ = ("dtype",)

    def __init__(self, dtype) -> None:
        self.dtype = np.dtype(dtype)


def per_call(dtype) -> PerCallScalar:
    """A per-call scalar argument of a prepared launch (see Runtime.prepare)."""
    return PerCallScalar(dtype)


def arg_dtypes(args) -> list:
    """pyopencl's scalar argument dtypes of a kernel called with `args` (None for buffers):
    with them set, set_args packs NumPy scalars in ~0.05 us each, where set_arg on a scalar
    takes ~6.5 us (pyopencl 2026.1), which made a 16-argument launch cost ~100 us."""
    return [a.dtype if isinstance(a, (PerCallScalar, np.generic, np.ndarray)) else None
            for a in args]


# Prepared launches a backend keeps (keyed by op, shapes, strides, dtypes); shapes seen once,
# as in a sweep, must not pile up.
MAX_PLANS = 4096


class Launch:
    """A prepared launch: a private kernel object with its constant arguments already set.

    Per call only the buffers in `slots` change (kernel arguments are captured at enqueue
    time, so one kernel object may be enqueued again while earlier launches are pending).
    """

    __slots__ = ("op", "kernel", "name", "global_size", "local_size", "slots", "full")

    def __init__(self, op, kernel, global_size, local_size, slots, full=None) -> None:
        self.op = op
        self.kernel = kernel
        self.name = kernel.function_name
        self.global_size = global_size
        self.local_size = local_size
        self.slots = slots
        # with per-call scalars: every argument, set together per call (typed set_args)
        self.full = full


def geometry(global_size, local_size) -> tuple:
    """(global, local) as int tuples, global rounded up to a multiple of local (if given)."""
    global_size = tuple(int(g) for g in global_size)
    if local_size is not None:
        local_size = tuple(int(n) for n in local_size)
        global_size = tuple(round_up(g, n) for g, n in zip(global_size, local_size))
    return global_size, local_size


def round_up(n: int, multiple: int) -> int:
    """Smallest multiple of `multiple` that is >= n (and >= multiple)."""
    return max(multiple, -(-n // multiple) * multiple)


class Runtime:
    """Context, queue, pool and program cache of one OpenCL device."""

    def __init__(self, platform_index: int, device_index: int,
                 limits: Limits | None = None) -> None:
        self.index = (platform_index, device_index)
        self.device = get_device(platform_index, device_index)
        # launch geometry reads these, not self.device: a test can impose a smaller device's
        self.limits = limits if limits is not None else limits_of(self.device)
        self.name = f"opencl:{platform_index}:{device_index} ({self.device.name.strip()})"
        self.fp64 = has_fp64(self.device)
        self.context = cl.Context([self.device])
        self.queue = cl.CommandQueue(
            self.context, properties=cl.command_queue_properties.PROFILING_ENABLE)
        self.pool = cl_tools.MemoryPool(cl_tools.ImmediateAllocator(self.queue))
        self.kernels_dir = kernels_dir()
        self._programs: dict = {}
        self._kernels: dict = {}
        self._typed: set = set()  # kernels given their scalar argument dtypes (launch)
        self._uploads: list = []  # events of host-to-device copies still in flight (upload)
        self.last = None  # the event of the last launch (finish() polls it first)
        # what a training step costs beyond its kernels: read by tests and benchmarks
        self.counts = {"launches": 0, "transfers": 0, "waits": 0}
        # a list while a deepx.Graph captures this device's launches (see deepx/graphs.py)
        self.capture = None

    # ------------------------------------------------------------ memory
    def alloc(self, nbytes: int):
        """A pool buffer of nbytes (> 0); when out of memory, frees held blocks and retries once."""
        for attempt in range(2):
            try:
                return self.pool.allocate(nbytes)
            except cl.Error as exc:
                if exc.code not in _RETRY_CODES:
                    raise OpenCLError(f"allocating {nbytes} bytes on {self.name} failed: "
                                      f"{error_name(exc)} ({exc.code})") from exc
                if attempt == 0:
                    self.pool.free_held()
                    continue
                raise OpenCLError(
                    f"out of device memory on {self.name}: allocating {nbytes} bytes failed "
                    f"({error_name(exc)}) even after freeing the pool's "
                    f"held blocks; {self.pool.active_bytes} bytes are in use by live arrays"
                ) from exc
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ programs
    def program(self, file: str, options: tuple = (), kernel_name: str | None = None,
                directory=None) -> cl.Program:
        """The built program of kernels/<file> with `options`, memoised; OpenCLError on failure."""
        folder = pathlib.Path(directory) if directory is not None else self.kernels_dir
        key = (str(folder), file, tuple(options))
        prg = self._programs.get(key)
        if prg is not None:
            return prg
        path = folder / file
        full_options = [*options, "-I", str(self.kernels_dir)]
        if directory is not None:
            full_options += ["-I", str(folder)]
        try:
            source = path.read_text()
        except OSError as exc:
            raise OpenCLError(f"cannot read kernel source {path}: {exc}") from exc
        start = time.perf_counter()
        try:
            prg = cl.Program(self.context, source).build(options=full_options)
        except cl.Error as exc:
            what = f" (kernel {kernel_name})" if kernel_name else ""
            raise OpenCLError(
                f"building {file}{what} failed on {self.name} with options "
                f"{' '.join(full_options)!r}: {error_name(exc)}\nbuild log:\n{exc}") from exc
        self._programs[key] = prg
        for listener in BUILD_LISTENERS:
            listener(file, tuple(options), time.perf_counter() - start)
        return prg

    def kernel(self, file: str, name: str, options: tuple = ()) -> cl.Kernel:
        """The kernel `name` of kernels/<file> built with `options`, memoised."""
        key = (file, name, tuple(options))
        knl = self._kernels.get(key)
        if knl is None:
            prg = self.program(file, options, kernel_name=name)
            try:
                knl = cl.Kernel(prg, name)
            except cl.Error as exc:
                raise OpenCLError(f"kernel {name} not found in {file} (options "
                                  f"{' '.join(options)!r}): {error_name(exc)}") from exc
            self._kernels[key] = knl
        return knl

    # ------------------------------------------------------------ launches
    def launch(self, op: str, kernel: cl.Kernel, global_size, local_size, *args) -> cl.Event:
        """Set args and enqueue; global size is rounded up to the local size; errors name it all."""
        global_size, local_size = geometry(global_size, local_size)
        if self.capture is not None:
            self.capture.append((kernel, None, args, global_size, local_size))
        try:
            if kernel not in self._typed:  # pyopencl's fast path for scalar arguments
                kernel.set_scalar_arg_dtypes(arg_dtypes(args))
                self._typed.add(kernel)
            kernel.set_args(*args)
            event = cl.enqueue_nd_range_kernel(self.queue, kernel, global_size, local_size)
        except cl.Error as exc:
            raise self._launch_error(op, kernel.function_name, global_size, local_size,
                                     exc) from exc
        self._launched(op, kernel.function_name, global_size, event)
        return event

    def prepare(self, op: str, file: str, name: str, options: tuple, global_size, local_size,
                args) -> Launch:
        """A Launch of kernel `name` with `args` set now, except those given as PER_CALL
        (buffers) or per_call(dtype) (scalars): Runtime.run gives them."""
        prg = self.program(file, options, kernel_name=name)
        knl = cl.Kernel(prg, name)  # private: its argument slots belong to this Launch
        knl.set_scalar_arg_dtypes(arg_dtypes(args))
        global_size, local_size = geometry(global_size, local_size)
        slots = tuple(i for i, a in enumerate(args)
                      if a is PER_CALL or isinstance(a, PerCallScalar))
        if any(isinstance(a, PerCallScalar) for a in args):  # all arguments set per call
            return Launch(op, knl, global_size, local_size, slots, list(args))
        knl.set_args(*(None if a is PER_CALL else a for a in args))  # buffers come per call
        return Launch(op, knl, global_size, local_size, slots)

    def run(self, launch: Launch, buffers) -> cl.Event:
        """Set the per-call buffers of a prepared Launch and enqueue it."""
        knl = launch.kernel
        if launch.full is not None:  # per-call scalars: every argument, typed
            full = launch.full.copy()
            for i, value in zip(launch.slots, buffers):
                full[i] = value
            slots, buffers = None, tuple(full)
        else:
            slots = launch.slots
        if self.capture is not None:
            self.capture.append((knl, slots, tuple(buffers), launch.global_size,
                                 launch.local_size))
        try:
            if slots is None:
                knl.set_args(*buffers)
            else:
                for i, buf in zip(slots, buffers):
                    knl.set_arg(i, buf)
            event = cl.enqueue_nd_range_kernel(self.queue, knl, launch.global_size,
                                               launch.local_size)
        except cl.Error as exc:
            raise self._launch_error(launch.op, launch.name, launch.global_size,
                                     launch.local_size, exc) from exc
        self._launched(launch.op, launch.name, launch.global_size, event)
        return event

    def _launch_error(self, op, name, global_size, local_size, exc) -> OpenCLError:
        return OpenCLError(
            f"{op}: kernel {name} failed to launch on {self.name} with global size "
            f"{global_size}, local size {local_size}: {error_name(exc)} "
            f"({getattr(exc, 'code', '?')}): {exc}")

    def _launched(self, op, name, global_size, event) -> None:
        """Count a launch and tell the listeners (the profiler, tests) about it."""
        self.last = event
        self.counts["launches"] += 1
        for listener in LAUNCH_LISTENERS:
            listener(op, name, global_size, event)

    def copy(self, dst, src, nbytes: int) -> None:
        """Enqueue a device-to-device copy of nbytes (recorded while a graph captures)."""
        if self.capture is not None:
            self.capture.append((None, dst, src, nbytes, None))
        cl.enqueue_copy(self.queue, dst, src, byte_count=nbytes)

    def check_not_capturing(self, what: str) -> None:
        """OpenCLError when a graph is capturing: `what` (a host transfer, a wait) cannot be
        replayed without Python, as in CUDA graphs."""
        if self.capture is not None:
            raise OpenCLError(f"{what} is not allowed while a deepx.Graph captures launches on "
                              f"{self.name}: a graph replays kernels only (move data in and out "
                              "with copy_ into the graph's static tensors, outside the capture)")

    def replay(self, records) -> None:
        """Enqueue captured launches again, in order, with the buffers they had."""
        queue = self.queue
        for kernel, slots, args, global_size, local_size in records:
            if kernel is None:  # a copy: (None, dst, src, nbytes, None)
                cl.enqueue_copy(queue, slots, args, byte_count=global_size)
                continue
            if slots is None:
                kernel.set_args(*args)
            else:
                for i, buf in zip(slots, args):
                    kernel.set_arg(i, buf)
            cl.enqueue_nd_range_kernel(queue, kernel, global_size, local_size)
        self.counts["launches"] += len(records)

    def upload(self, dst, host) -> None:
        """Enqueue a copy of the host array to buffer dst without waiting for the queue.

        A blocking copy would wait for every kernel queued before it (the queue is in order),
        leaving the device idle while Python builds the next step, once per batch of a
        DataLoader. The copy reads a private C-ordered copy of `host` (the caller may change
        its array at once), kept alive by pyopencl's event until the transfer is done.
        """
        self.counts["transfers"] += 1
        private = np.array(host, order="C", copy=True)
        self._uploads.append(cl.enqueue_copy(self.queue, dst, private, is_blocking=False))
        if len(self._uploads) > 64:  # forget the finished ones (dropping a pending event waits)
            self._uploads = [e for e in self._uploads if e.command_execution_status != _COMPLETE]

    def finish(self) -> None:
        """Wait until every queued command has completed."""
        self.check_not_capturing("waiting for the queue")
        self.counts["waits"] += 1
        self.spin()
        self.queue.finish()
        self._uploads.clear()
        self.last = None

    def spin(self) -> None:
        """Poll the last enqueued command for up to SPIN_S (see there); then return."""
        event = self.last
        if event is None:
            return
        end = time.perf_counter() + SPIN_S
        while event.command_execution_status != _COMPLETE and time.perf_counter() < end:
            pass
