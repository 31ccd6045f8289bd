"""OpenCLBackend: every primitive of deepx/backend/__init__.py as a hand-written kernel.

Semantics match NumpyBackend exactly (the tests check each primitive against it). Arrays are
CLArrays: strided views (shape, strides, offset) of a device buffer that several views may
share; data stays on the device between primitives and only `from_numpy` / `to_numpy` cross
to the host. Elementwise, reduction, copy and matmul primitives read views in place; the
others take `self.packed(x)` (x itself when dense from its buffer's start, else a copy).

The primitives live in mixins by family (elementwise_, reduce_, layout_, matmul_, nn_,
optim_ and index_primitives.py); this file holds the helpers they share, transfers, creation,
casts and contiguous copies. strided.py turns views into kernel arguments.

The hot primitives (elementwise, reductions, copies, fill, matmul, SGD) run prepared
launches: `_plans` maps (op, shapes, strides, offsets, dtypes) to a private kernel object
with its constant arguments already set (Runtime.prepare), so a call only allocates its
output, sets the buffers and enqueues (Runtime.run).

Helpers for the primitives in the mixins (use only these):

    self.packed(x) -> CLArray
        x when its elements fill its buffer from the start in C order, else a contiguous copy.

    Dtypes are deepx DTypes throughout (`x.dtype` of a CLArray is one); `dt.np` appears only
    where NumPy itself needs a dtype (host arrays, kernel scalar arguments).

    self.empty(shape, dt) -> CLArray
        A new uninitialised array; a size-0 shape gets no buffer (data is None).
    self.kernel(file, name, dt, op="my_op", **defines) -> pyopencl.Kernel
        Kernel `name` of kernels/<file> built (once per process) with -D DTYPE=<dt.cl>,
        -D REAL=<C type of real_dtype(dt)> unless given, plus `-D KEY=VALUE` per define
        (DTypes become C type names, e.g. OUT_DTYPE=dtypes.int64 gives -D OUT_DTYPE=long).
        Raises DTypeError naming `op` when the device cannot compute in dt (float64
        without cl_khr_fp64). No fast-math, except for matmul.cl.
    self.launch(op, kernel, global_size, local_size, *args) -> pyopencl.Event
        Enqueue a launch: sizes are tuples (local may be None); global is rounded up to a
        multiple of local, so guard every index in the kernel. Buffers are passed as
        `array.data`, scalars as NumPy scalars (np.int32(n), np.float32(x), ...).
    self.launch_chunks(op, kernel, n, *args) -> pyopencl.Event | None
        One work-item per chunk of CHUNK (-D CHUNK) consecutive elements of n, for kernels that
        switch once and compute a chunk with vector types (PoCL does not vectorise a
        per-element runtime switch); the last chunk may be ragged. Nothing when n == 0.
    self.launch_1d(op, kernel, n, *args) -> pyopencl.Event | None
        One work-item per element for n elements at the standard local size; does nothing
        when n == 0. Use this for elementwise kernels.
    self.scalar(value, dt) -> NumPy scalar of the C type a kernel takes for dt.
    self.real_dtype(dt) -> the DType of REAL (the math type) for dt.
    self.runtime -> Runtime (context, queue, pool, fp64 flag), see runtime.py.
Never launch a kernel on a size-0 array; return the empty output instead.
"""
from __future__ import annotations

import math

import numpy as np
import pyopencl as cl

from ... import dtypes
from ...errors import DTypeError, OpenCLError
from .. import Backend
from .array import CLArray
from .elementwise_primitives import CLElementwisePrimitives
from .index_primitives import CLIndexPrimitives
from .layout_primitives import CLLayoutPrimitives
from .matmul_primitives import CLMatmulPrimitives
from .nn_primitives import CLNNPrimitives
from .optim_primitives import CLOptimPrimitives
from .reduce_primitives import CLReducePrimitives
from .runtime import MAX_PLANS, PER_CALL, Runtime
from .strided import collapse, int8_arg

_INT64 = dtypes.int64
_INT_LIMIT = 2 ** 31 - 1  # kernels index with 32-bit ints
# elements per work-item of the chunked and *_rows kernels: passed to every build as -D CHUNK
CHUNK = 16
# Only matmul may reassociate and fuse (its order of summation is its own anyway); the other
# families match NumPy's rounding and NaN behaviour, which fast-math would give up.
_FILE_OPTIONS = {"matmul.cl": ("-cl-fast-relaxed-math", "-cl-mad-enable")}


# The NumPy scalar type a kernel argument of each dtype's C type (DType.cl) takes: bool is
# stored as uchar.
_SCALARS = {d: (np.uint8 if d is dtypes.bool_ else d.np.type) for d in dtypes.ALL}


def c_type(dt) -> str:
    """OpenCL C type of a deepx DType (DType.cl; bool is stored as uchar)."""
    if dt not in _SCALARS:  # a DType outside dtypes.ALL (float16) or not a DType at all
        raise DTypeError(f"dtype {dt!r} is not supported by the OpenCL backend")
    return dt.cl


class OpenCLBackend(CLElementwisePrimitives, CLReducePrimitives, CLLayoutPrimitives,
                    CLMatmulPrimitives, CLNNPrimitives, CLOptimPrimitives, CLIndexPrimitives,
                    Backend):
    """Primitives on one OpenCL device; see the module docstring for the helper API."""

    name = "opencl"
    CHUNK = CHUNK  # for the primitive mixins, which cannot import this module

    def __init__(self, platform_index: int = 0, device_index: int = 0, limits=None) -> None:
        self.runtime = Runtime(platform_index, device_index, limits)
        dev = self.runtime.limits  # (a smaller device's, where a test or DEEPX_DEVICE_LIMITS says)
        self.local_1d = 1 << (min(256, dev.max_work_group_size, dev.max_work_item_sizes[0])
                              .bit_length() - 1)
        self.compute_units = max(1, self.runtime.device.max_compute_units)
        self._matmul_configs: dict = {}
        # prepared launches: what a primitive call needs beyond its buffers, by (op, layout)
        self._plans: dict = {}
        self._kernels: dict = {}
        self._kernel_groups: dict = {}

    def __repr__(self) -> str:
        return f"OpenCLBackend({self.runtime.name})"

    # ------------------------------------------------------------ helpers
    def empty(self, shape, dtype) -> CLArray:
        """A new uninitialised C-contiguous array of a DType (or anything dtypes.get takes);
        no buffer when it has no elements."""
        shape = tuple(int(n) for n in shape)
        dt = dtypes.get(dtype)  # one of dtypes.ALL, or a DTypeError
        size = math.prod(shape)
        if size > _INT_LIMIT:
            raise OpenCLError(f"array of shape {shape} has {size} elements; the OpenCL "
                              f"kernels index with 32-bit ints (at most {_INT_LIMIT})")
        data = self.runtime.alloc(size * dt.itemsize) if size else None
        return CLArray(shape, dt, data)

    def require(self, op: str, dt) -> None:
        """DTypeError naming `op` when this device cannot compute in the DType dt."""
        if dt is dtypes.float64 and not self.runtime.fp64:
            raise DTypeError(f"{op}: float64 is not supported on {self.runtime.name} (the "
                             "device lacks cl_khr_fp64); use float32")
        c_type(dt)

    def real_dtype(self, dt):
        """DType that transcendental math on dt runs in (REAL in the kernels)."""
        if dt.is_floating_point:
            return dt
        return dtypes.float64 if self.runtime.fp64 else dtypes.float32

    def scalar(self, value, dt):
        """`value` as the NumPy scalar type a kernel argument of dt's C type takes."""
        return _SCALARS[dt](value)

    def kernel_options(self, file: str, dt, op: str, defines: dict) -> tuple:
        """Build options: -D DTYPE=<dt.cl>, then -D KEY=VALUE per define (a DType value
        becomes its C type), then the file's own."""
        options = [f"-DDTYPE={c_type(dt)}", f"-DCHUNK={CHUNK}"]
        for key, value in sorted(defines.items()):
            if isinstance(value, dtypes.DType):
                self.require(op, value)
                value = c_type(value)
            options.append(f"-D{key}={value}")
        return tuple(options) + _FILE_OPTIONS.get(file, ())

    def kernel(self, file: str, name: str, dt, op: str | None = None, **defines):
        """Kernel `name` of kernels/<file> built with -D DTYPE=<dt.cl> and `defines`; dt a
        DType (or anything dtypes.get takes)."""
        key = (file, name, dt, tuple(defines.items()))
        knl = self._kernels.get(key)
        if knl is None:
            dt = dtypes.get(dt)
            self.require(op or name, dt)
            defines.setdefault("REAL", self.real_dtype(dt))
            options = self.kernel_options(file, dt, op or name, defines)
            knl = self._kernels[key] = self.runtime.kernel(file, name, options)
        return knl

    def launch(self, op: str, kernel, global_size, local_size, *args):
        """Enqueue `kernel` (global rounded up to a multiple of local); see Runtime.launch."""
        return self.runtime.launch(op, kernel, global_size, local_size, *args)

    def launch_1d(self, op: str, kernel, n: int, *args):
        """One work-item per element of n at the standard local size; nothing when n == 0."""
        if n == 0:
            return None
        return self.runtime.launch(op, kernel, (n,), (self.local_1d,), *args)

    def launch_planes(self, op: str, kernel, n: int, *args):
        """One work-item per plane (n heavy work-items, each a loop over a whole image plane):
        work-groups small enough that every compute unit gets several; nothing when n == 0."""
        if n == 0:
            return None
        fill = max(1, n // (4 * self.compute_units))
        local = 1 << (min(self.local_1d, fill).bit_length() - 1)
        return self.runtime.launch(op, kernel, (-(-n // local) * local,), (local,), *args)

    def tree_local(self, kernel, bytes_per_item: int) -> int:
        """Work-group size of a local-memory tree kernel: a power of two within local_1d, the
        kernel's own work-group limit and the local memory (bytes_per_item per work-item)."""
        key = (kernel.function_name, id(kernel))
        if key not in self._kernel_groups:
            self._kernel_groups[key] = kernel.get_work_group_info(
                cl.kernel_work_group_info.WORK_GROUP_SIZE, self.runtime.device)
        fit = min(self.local_1d, self._kernel_groups[key],
                  self.runtime.limits.local_mem_size // max(1, bytes_per_item))
        return 1 << (max(1, fit).bit_length() - 1)

    def launch_chunks(self, op: str, kernel, n: int, *args):
        """One work-item per CHUNK consecutive elements of n; nothing when n == 0."""
        if n == 0:
            return None
        return self.runtime.launch(op, kernel, *self._chunks_geometry(n), *args)

    # ------------------------------------------------------------ views and prepared launches
    def packed(self, x) -> CLArray:
        """x itself when its elements fill its buffer from the start in C order, else a copy."""
        return x if x.dense and not x.offset else self.contiguous(x)

    def contiguous(self, x) -> CLArray:
        """A new C-contiguous copy of the view x (a strided-copy launch)."""
        key = ("contiguous", x.dtype, x.shape, x.strides, x.offset)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._copy_plan(key, "contiguous", x.dtype, x.shape, x.strides, x.offset)
        return self._run(plan, x)

    def as_strided(self, x, shape, strides, offset):
        return CLArray(tuple(shape), x.dtype, x.data, tuple(strides), x.offset + offset)

    def strides(self, x):
        return x.strides

    def storage_offset(self, x):
        return x.offset

    def data_ptr(self, x):
        return 0 if x.data is None else x.data.int_ptr + x.offset * x.dtype.itemsize

    def _prepare(self, key, op, file, name, dt, out_shape, out_dtype, global_size,
                 local_size, args, **defines):
        """Build, remember under `key` and return a plan: (out shape, DType, bytes, Launch)."""
        size = math.prod(out_shape)
        if size > _INT_LIMIT:
            raise OpenCLError(f"{op}: array of shape {out_shape} has {size} elements; the "
                              f"OpenCL kernels index with 32-bit ints (at most {_INT_LIMIT})")
        launch = None
        if size:
            self.require(op, dt)
            defines.setdefault("REAL", self.real_dtype(dt))
            options = self.kernel_options(file, dt, op, defines)
            launch = self.runtime.prepare(op, file, name, options, global_size, local_size,
                                          args)
        return self._remember(key, (tuple(out_shape), out_dtype, size * out_dtype.itemsize,
                                    launch))

    def chunk_launch(self, key, op, file, name, dt, n, args):
        """A prepared chunked launch over n elements writing its arguments in place (the
        optimizer steps), remembered under `key`; None when n == 0."""
        launch = self._plans.get(key, False)
        if launch is False:
            launch = None
            if n:
                self.require(op, dt)
                options = self.kernel_options(file, dt, op, {"REAL": self.real_dtype(dt)})
                launch = self.runtime.prepare(op, file, name, options,
                                              *self._chunks_geometry(n), args)
            self._remember(key, launch)
        return launch

    def _empty_plan(self, key, shape, dtype):
        """Plan of a primitive whose output has no elements: allocate nothing, launch nothing."""
        return self._remember(key, (tuple(shape), dtype, 0, None))

    def _remember(self, key, plan):
        """plan stored under key; shapes seen once (a sweep) must not pile up: past MAX_PLANS
        the cache starts over."""
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def _run(self, plan, *inputs):
        """Allocate the plan's output and launch it on the inputs' buffers."""
        shape, dtype, nbytes, launch = plan
        out = CLArray(shape, dtype, self.runtime.alloc(nbytes) if nbytes else None)
        if launch is not None:
            self.runtime.run(launch, [a.data for a in inputs] + [out.data])
        return out

    def _chunks_geometry(self, n):
        """(global, local) of a chunked launch over n elements (one work-item per CHUNK)."""
        chunks = -(-n // CHUNK)
        local = min(self.local_1d, 1 << (chunks - 1).bit_length())  # small n: no idle items
        return (chunks,), (local,)

    def _copy_plan(self, key, op, dt, shape, strides, offset):
        n = math.prod(shape)
        dims, (st,) = collapse(shape, tuple(strides)) if n else ((), ((),))
        return self._prepare(key, op, "layout.cl", "layout_strided_copy", dt, shape, dt,
                             (max(n, 1),), (self.local_1d,),
                             (np.int32(n), np.int32(len(dims)), int8_arg(dims), int8_arg(st),
                              np.int32(offset), PER_CALL, PER_CALL))

    # ------------------------------------------------------------ transfer and creation
    def from_numpy(self, a):
        a = np.asarray(a)  # (Runtime.upload makes the private C-ordered copy)
        out = self.empty(a.shape, dtypes.get(a.dtype))
        if out.size:
            self.runtime.check_not_capturing("copying host data to the device")
            self.runtime.upload(out.data, a)
        return out

    def to_numpy(self, x):
        x = self.packed(x)
        host = np.empty(x.shape, dtype=x.dtype.np)
        if x.size:
            self.runtime.check_not_capturing("reading device data on the host")
            self.runtime.counts["transfers"] += 1  # a blocking read: a wait for the queue too
            self.runtime.spin()  # (then the read finds the queue idle, and waits no more)
            cl.enqueue_copy(self.runtime.queue, host, x.data, is_blocking=True)
        return host

    def full(self, shape, value, dtype):
        dt = dtypes.get(dtype)
        value = np.full((), value, dtype=dt.np)[()]  # NumPy's conversion of the fill value
        key = ("full", tuple(shape), dt, value.tobytes())
        plan = self._plans.get(key)
        if plan is None:
            shape = tuple(int(n) for n in shape)
            n = math.prod(shape)
            plan = self._prepare(key, "full", "elementwise.cl", "elementwise_fill", dt, shape,
                                 dt, (max(n, 1),), (self.local_1d,),
                                 (np.int32(n), self.scalar(value, dt), PER_CALL))
        return self._run(plan)

    def arange(self, start, step, n, dtype):
        dt = dtypes.get(dtype)
        out = self.empty((int(n),), dt)
        if out.size:
            knl = self.kernel("elementwise.cl", "elementwise_arange", dt, op="arange")
            real = self.real_dtype(_INT64)  # arange_t: double with cl_khr_fp64, else float
            self.launch_1d("arange", knl, out.size, np.int32(out.size),
                           self.scalar(start, real), self.scalar(step, real), out.data)
        return out

    def _random(self, op, name, shape, dtype, seed, offset):
        # the seed and counter are launch arguments: a replay would repeat the same numbers
        self.runtime.check_not_capturing(f"{op} (random numbers)")
        dt = dtypes.get(dtype)
        out = self.empty(shape, dt)
        if out.size:
            knl = self.kernel("random.cl", name, dt, op=op)
            self.launch_1d(op, knl, out.size, np.int32(out.size),
                           np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF),
                           np.uint64(int(offset) & 0xFFFFFFFFFFFFFFFF), out.data)
        return out

    def rand(self, shape, dtype, seed, offset):
        return self._random("rand", "random_uniform", shape, dtype, seed, offset)

    def randn(self, shape, dtype, seed, offset):
        return self._random("randn", "random_normal", shape, dtype, seed, offset)

    def cast(self, x, dtype):
        dt = dtypes.get(dtype)
        if dt is x.dtype:
            self.require("cast", dt)
            return self.contiguous(x)  # a same-dtype cast is a fresh copy
        if not x.dense:
            x = self.contiguous(x)
        key = ("cast", x.dtype, dt, x.shape, x.offset)
        plan = self._plans.get(key)
        if plan is None:
            n = x.size
            plan = self._prepare(key, "cast", "elementwise.cl", "elementwise_cast", x.dtype,
                                 x.shape, dt, *self._chunks_geometry(max(n, 1)),
                                 (np.int32(n), np.int32(x.offset), PER_CALL, PER_CALL),
                                 OUT_DTYPE=dt)
        return self._run(plan, x)

    def _to(self, x, dt):
        return x if x.dtype is dt else self.cast(x, dt)
