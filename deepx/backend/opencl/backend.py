"""OpenCLBackend: every primitive of deepx/backend/__init__.py as a hand-written kernel.

Semantics match NumpyBackend exactly (the tests check each primitive against it). Arrays are
CLArrays: strided views (shape, strides, offset) of a device buffer that several views may
share; data stays on the device between primitives and only `from_numpy` / `to_numpy` cross
to the host. Elementwise, reduction, copy and matmul primitives read views in place; the
others take `self.packed(x)` (x itself when dense from its buffer's start, else a copy).

The hot primitives (elementwise, reductions, copies, fill, matmul, SGD) run prepared
launches: `_plans` maps (op, shapes, strides, offsets, dtypes) to a private kernel object
with its constant arguments already set (Runtime.prepare), so a call only allocates its
output, sets the buffers and enqueues (Runtime.run).

Helpers for the primitives in nn_primitives.py and optim_primitives.py (use only these):

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
import pyopencl.cltypes as cltypes

from ... import dtypes
from ...errors import DTypeError, OpenCLError, ShapeError
from ...shapes import broadcast_shapes, contiguous_strides, view_strides
from .. import COMPARISONS, ArgReduceOp, Backend, BinaryOp, ReduceOp, UnaryOp
from .array import CLArray
from .index_primitives import CLIndexPrimitives
from .matmul_primitives import CLMatmulPrimitives
from .nn_primitives import CLNNPrimitives
from .optim_primitives import CLOptimPrimitives
from .runtime import MAX_PLANS, PER_CALL, Runtime

_BOOL, _INT32, _INT64 = dtypes.bool_, dtypes.int32, dtypes.int64
_MAX_DIMS = 8
# Vector kernel arguments as plain structured scalars (pyopencl's make_int8 goes through eval).
_INT8, _INT4 = cltypes.int8, cltypes.int4
_INT8_FIELDS, _INT4_FIELDS = _INT8.names, _INT4.names
_INT_LIMIT = 2 ** 31 - 1  # kernels index with 32-bit ints
# Reductions longer than this use one work-group per output with a tree in local memory,
# when there are few enough outputs to keep the device busy that way.
_TREE_MIN_LENGTH = 256
_TREE_MAX_OUTPUTS = 1024
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


def _np_promote(a, b):
    """The result dtype NumPy (so NumpyBackend) gives a primitive on dtypes a and b: as
    dtypes.promote, except that int32/int64 with float32 give float64."""
    return dtypes.get(np.promote_types(a.np, b.np))


def _int8(values) -> np.ndarray:
    """An OpenCL int8 kernel argument holding up to 8 ints (the rest 0)."""
    arg = np.zeros((), _INT8)
    for i, v in enumerate(values):
        arg[_INT8_FIELDS[i]] = v
    return arg


def _int4(values) -> np.ndarray:
    """An OpenCL int4 kernel argument holding 4 ints."""
    arg = np.zeros((), _INT4)
    for i, v in enumerate(values):
        arg[_INT4_FIELDS[i]] = v
    return arg


def collapse(shape, *strides):
    """Drop size-1 dims and merge neighbours contiguous for every stride set -> (shape, strides)."""
    dims, merged = [], []
    for i, n in enumerate(shape):
        if n == 1:
            continue
        st = [s[i] for s in strides]
        if dims and all(prev == s * n for prev, s in zip(merged[-1], st)):
            dims[-1] *= n
            merged[-1] = st
        else:
            dims.append(n)
            merged.append(st)
    if len(dims) > _MAX_DIMS:
        raise ShapeError(f"OpenCL kernels take at most {_MAX_DIMS} non-mergeable dims, got "
                         f"shape {tuple(shape)}")
    return tuple(dims), tuple(tuple(m[k] for m in merged) for k in range(len(strides)))


def _broadcast_strides(shape, out_shape, strides=None):
    """Element strides of a view (C-contiguous if strides is None) read along `out_shape`.

    0 where the view is broadcast (a new leading dim, or size 1 stretched).
    """
    lead = len(out_shape) - len(shape)
    own = contiguous_strides(shape) if strides is None else strides
    return (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(shape, own))


def _trailing_run(shape, axes):
    """The trailing reduced axes, when a kept axis separates them from other reduced axes and
    they hold enough elements to be worth a pass of their own; else ()."""
    axes = tuple(sorted(int(a) for a in axes))
    run = []
    for a in range(len(shape) - 1, -1, -1):
        if a not in axes:
            break
        run.append(a)
    if not run or len(run) == len(axes) or math.prod(shape[a] for a in run) < 64:
        return ()
    return tuple(sorted(run))


def _row_view(dims, strides, offset=0):
    """(period, row stride, column stride, offset) of an operand over the output (rows, dims[-1]).

    Row r reads the operand from offset + (r % period) * row_stride on, so its strides over the
    leading dims must be zeros, then C-contiguous (a bias, a row, a column); None where they
    are not, or where the last dim is neither contiguous nor broadcast.
    """
    if not dims:
        return (1, 0, 0, offset)
    lead, lead_strides, col = dims[:-1], strides[:-1], strides[-1]
    t = len(lead)  # lead[t:] is read contiguously, lead[:t] is broadcast
    while t > 0 and lead_strides[t - 1] and (
            t == len(lead) or lead_strides[t - 1] == lead_strides[t] * lead[t]):
        t -= 1
    if col not in (0, 1) or any(lead_strides[:t]):
        return None
    return (math.prod(lead[t:]), lead_strides[-1] if t < len(lead) else 0, col, offset)


class OpenCLBackend(CLMatmulPrimitives, CLNNPrimitives, CLOptimPrimitives, CLIndexPrimitives,
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
                             (np.int32(n), np.int32(len(dims)), _int8(dims), _int8(st),
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

    # ------------------------------------------------------------ elementwise
    def unary(self, op, x, alpha=0.0):
        if not x.dense:
            x = self.contiguous(x)
        key = ("unary", op, x.dtype, x.shape, x.offset, alpha)
        plan = self._plans.get(key)
        if plan is None:
            op = UnaryOp(op)
            predicate = op in (UnaryOp.STEP, UnaryOp.NOT)
            n = x.size
            name = "elementwise_predicate" if predicate else "elementwise_unary"
            plan = self._prepare(key, "unary", "elementwise.cl", name, x.dtype, x.shape,
                                 _BOOL if predicate else x.dtype,
                                 *self._chunks_geometry(max(n, 1)),
                                 (np.int32(op), np.int32(n),
                                  self.scalar(alpha, self.real_dtype(x.dtype)),
                                  np.int32(x.offset),
                                  PER_CALL, PER_CALL))
        return self._run(plan, x)

    def binary(self, op, a, b):
        key = ("binary", op, a.dtype, a.shape, a.strides, a.offset, b.dtype, b.shape, b.strides,
               b.offset)
        plan = self._plans.get(key)
        if plan is None:
            op = BinaryOp(op)
            dt = _np_promote(a.dtype, b.dtype)
            if op not in COMPARISONS and dt is _BOOL:
                if op in (BinaryOp.SUB, BinaryOp.POW, BinaryOp.FLOOR_DIVIDE, BinaryOp.REMAINDER):
                    raise DTypeError(f"binary: {op.name} is not supported for bool tensors")
                if op is not BinaryOp.DIV:  # NumPy's bool +, *, max, min are or/and: via int32
                    wide = self.binary(op, self._to(a, _INT32), self._to(b, _INT32))
                    return self.cast(wide, dtypes.bool_)
            if op is BinaryOp.DIV and not dt.is_floating_point:  # NumPy divides integers to float64
                dt = self.real_dtype(dt)
            if a.dtype is not dt or b.dtype is not dt:
                return self.binary(op, self._to(a, dt), self._to(b, dt))
            plan = self._binary_plan(key, op, a, b)
        return self._run(plan, a, b)

    def _binary_plan(self, key, op, a, b):
        dt = a.dtype
        shape = broadcast_shapes("binary", a.shape, b.shape)
        out_dtype = _BOOL if op in COMPARISONS else dt
        n = math.prod(shape)
        if not n:
            return self._empty_plan(key, shape, out_dtype)
        dims, (sa, sb) = collapse(shape, _broadcast_strides(a.shape, shape, a.strides),
                                  _broadcast_strides(b.shape, shape, b.strides))
        views = (_row_view(dims, sa, a.offset), _row_view(dims, sb, b.offset))
        if op not in COMPARISONS and None not in views:  # no per-element index math
            return self._rows_plan(key, "binary", "elementwise_binary_rows", dt, shape,
                                   out_dtype, dims, n, views, (np.int32(op),), 2)
        return self._prepare(key, "binary", "elementwise.cl", "elementwise_binary", dt, shape,
                             out_dtype, (max(n, 1),), (self.local_1d,),
                             (np.int32(op), np.int32(n), np.int32(len(dims)), _int8(dims),
                              _int8(sa), _int8(sb), np.int32(a.offset), np.int32(b.offset),
                              PER_CALL, PER_CALL, PER_CALL), OUT_DTYPE=out_dtype)

    def _rows_plan(self, key, op, name, dt, shape, out_dtype, dims, size, views, leading,
                   n_inputs):
        """Plan of a *_rows fast path over the output as (rows, dims[-1]), CHUNK per item."""
        inner = dims[-1] if dims else 1
        rows = max(size // inner, 1)
        chunks = -(-inner // CHUNK)
        local_x = min(self.local_1d, 1 << (chunks - 1).bit_length())
        local_y = min(self.local_1d // local_x, 1 << (rows - 1).bit_length())
        return self._prepare(key, op, "elementwise.cl", name, dt, shape, out_dtype,
                             (chunks, rows), (local_x, local_y),
                             (*leading, np.int32(inner), np.int32(rows),
                              *(_int4(view) for view in views),
                              *(PER_CALL,) * (n_inputs + 1)))

    def where(self, cond, a, b):
        key = ("where", cond.dtype, cond.shape, cond.strides, cond.offset, a.dtype, a.shape,
               a.strides, a.offset, b.dtype, b.shape, b.strides, b.offset)
        plan = self._plans.get(key)
        if plan is None:
            dt = _np_promote(a.dtype, b.dtype)
            if cond.dtype is not _BOOL or a.dtype is not dt or b.dtype is not dt:
                return self.where(self._to(cond, _BOOL), self._to(a, dt), self._to(b, dt))
            shape = broadcast_shapes("where", cond.shape, a.shape, b.shape)
            n = math.prod(shape)
            if not n:
                return self._run(self._empty_plan(key, shape, dt))
            dims, (sc, sa, sb) = collapse(
                shape, _broadcast_strides(cond.shape, shape, cond.strides),
                _broadcast_strides(a.shape, shape, a.strides),
                _broadcast_strides(b.shape, shape, b.strides))
            views = (_row_view(dims, sc, cond.offset), _row_view(dims, sa, a.offset),
                     _row_view(dims, sb, b.offset))
            if None not in views:  # no per-element index math
                plan = self._rows_plan(key, "where", "elementwise_where_rows", dt, shape, dt,
                                       dims, n, views, (), 3)
            else:
                plan = self._prepare(
                    key, "where", "elementwise.cl", "elementwise_where", dt, shape, dt,
                    (max(n, 1),), (self.local_1d,),
                    (np.int32(n), np.int32(len(dims)), _int8(dims), _int8(sc), _int8(sa),
                     _int8(sb), _int4((cond.offset, a.offset, b.offset, 0)),
                     PER_CALL, PER_CALL, PER_CALL, PER_CALL))
        return self._run(plan, cond, a, b)

    # ------------------------------------------------------------ reductions
    def _reduce_plan(self, key, op_name, kernels, op, x, out_shape, out_dtype, kept,
                     reduced, length, local_args):
        """Plan of kernels = (serial, tree) over `kept` x `reduced` (shape, strides) views."""
        (kdims, (kst,)), (rdims, (rst,)) = kept, reduced
        n_out = math.prod(out_shape)
        args = (np.int32(op), np.int32(n_out), np.int32(length), np.int32(len(kdims)),
                _int8(kdims), _int8(kst), np.int32(len(rdims)), _int8(rdims), _int8(rst),
                np.int32(x.offset), PER_CALL, PER_CALL)
        if length > _TREE_MIN_LENGTH and n_out < _TREE_MAX_OUTPUTS:
            knl = self.kernel("reduce.cl", kernels[1], x.dtype, op=op_name,
                              OUT_DTYPE=out_dtype)
            local = self.tree_local(knl, sum(d.itemsize for d in local_args))
            scratch = tuple(cl.LocalMemory(local * d.itemsize) for d in local_args)
            return self._prepare(key, op_name, "reduce.cl", kernels[1], x.dtype,
                                 out_shape, out_dtype, (n_out * local,), (local,),
                                 args + scratch, OUT_DTYPE=out_dtype)
        return self._prepare(key, op_name, "reduce.cl", kernels[0], x.dtype,
                             out_shape, out_dtype, (n_out,), (self.local_1d,), args,
                             OUT_DTYPE=out_dtype)

    def reduce(self, op, x, axes, keepdim):
        key = ("reduce", op, x.dtype, x.shape, x.strides, x.offset, axes, keepdim)
        plan = self._plans.get(key)
        if plan is None:
            inner = _trailing_run(x.shape, axes)
            if inner:  # reduced axes on both sides of a kept one (a conv bias gradient over
                # N, H, W): sum the contiguous trailing run first, then the rest, instead of
                # one strided gather per output
                outer = tuple(a for a in axes if a not in inner)
                return self.reduce(op, self.reduce(op, x, inner, keepdim), outer, keepdim)
            op = ReduceOp(op)
            axes = tuple(sorted(int(a) for a in axes))
            out_dtype = x.dtype
            if op is ReduceOp.SUM and (x.dtype is _BOOL or x.dtype is _INT32):
                out_dtype = _INT64  # NumPy sums small integers in int64
            kept_axes = [i for i in range(len(x.shape)) if i not in axes]
            if keepdim:
                shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
            else:
                shape = tuple(x.shape[i] for i in kept_axes)
            length = math.prod(x.shape[a] for a in axes)
            if math.prod(shape) and length == 0:
                if op is not ReduceOp.SUM:
                    raise ShapeError(f"reduce: zero-size array to reduction operation "
                                     f"{op.name.lower()} which has no identity (shape "
                                     f"{x.shape}, axes {axes})")
                return self.full(shape, 0, out_dtype)
            if not math.prod(shape):
                return self._run(self._empty_plan(key, shape, out_dtype))
            kept = collapse([x.shape[i] for i in kept_axes], [x.strides[i] for i in kept_axes])
            reduced = collapse([x.shape[a] for a in axes], [x.strides[a] for a in axes])
            plan = self._reduce_plan(key, "reduce", ("reduce_serial", "reduce_tree"), op, x,
                                     shape, out_dtype, kept, reduced, length, (out_dtype,))
        return self._run(plan, x)

    def arg_reduce(self, op, x, axis, keepdim):
        key = ("arg_reduce", op, x.dtype, x.shape, x.strides, x.offset, axis, keepdim)
        plan = self._plans.get(key)
        if plan is None:
            op = ArgReduceOp(op)
            axis = int(axis)
            n = x.shape[axis]
            if keepdim:
                shape = x.shape[:axis] + (1,) + x.shape[axis + 1:]
            else:
                shape = x.shape[:axis] + x.shape[axis + 1:]
            if math.prod(shape) and n == 0:
                raise ShapeError(f"arg_reduce: attempt to get {op.name.lower()} of an empty "
                                 f"sequence (shape {x.shape}, axis {axis})")
            if not math.prod(shape):
                return self._run(self._empty_plan(key, shape, _INT64))
            others = [i for i in range(x.ndim) if i != axis]
            kept = collapse([x.shape[i] for i in others], [x.strides[i] for i in others])
            reduced = ((n,), ((x.strides[axis] if x.ndim else 1,),))
            plan = self._reduce_plan(key, "arg_reduce", ("argreduce_serial", "argreduce_tree"),
                                     op, x, shape, _INT64, kept, reduced, n, (x.dtype, _INT64))
        return self._run(plan, x)

    # ------------------------------------------------------------ layout
    def reshape(self, x, shape):
        shape = tuple(int(n) for n in shape)
        if x.dense:
            return x.reshape(shape)
        strides = view_strides(x.shape, x.strides, shape)
        if strides is not None:
            return CLArray(shape, x.dtype, x.data, strides, x.offset)
        return self.contiguous(x).reshape(shape)

    def strided_copy(self, x, shape, strides, offset):
        if not x.dense:
            x = self.contiguous(x)
        shape, strides = tuple(shape), tuple(strides)
        key = ("strided_copy", x.dtype, shape, strides, x.offset + offset)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._copy_plan(key, "strided_copy", x.dtype, shape, strides,
                                   x.offset + offset)
        return self._run(plan, x)

    def strided_assign_(self, dst, shape, strides, offset, src):
        if not dst.dense:
            raise ShapeError(f"strided_assign_: the destination must be dense, got strides "
                             f"{dst.strides} for shape {dst.shape}")
        self._assign_view(dst.data, dst.dtype, tuple(shape), tuple(strides),
                          dst.offset + offset, src)

    def _assign_view(self, buffer, dt, shape, strides, offset, src):
        """buffer's elements at offset + idx . strides = src (broadcast to shape, cast to dt)."""
        src = self._to(src, dt)
        if tuple(src.shape) != shape:
            src = self.strided_copy(src, shape, _broadcast_strides(src.shape, shape), 0)
        src = self.packed(src)
        n = math.prod(shape)
        if not n:
            return
        dims, (st,) = collapse(shape, strides)
        knl = self.kernel("layout.cl", "layout_strided_assign", dt, op="strided_assign_")
        self.launch_1d("strided_assign_", knl, n, np.int32(n), np.int32(len(dims)),
                       _int8(dims), _int8(st), np.int32(offset), src.data, buffer)

    # ------------------------------------------------------------ indexing
    def gather(self, x, index, axis):
        x, index = self.packed(x), self.packed(self._to(index, _INT64))
        axis = int(axis)
        n, inner = x.shape[axis], math.prod(x.shape[axis + 1:])
        out = self.empty(x.shape[:axis] + index.shape + x.shape[axis + 1:], x.dtype)
        if not out.size:
            return out
        knl = self.kernel("index.cl", "index_gather", x.dtype, op="gather")
        self.launch_1d("gather", knl, out.size, np.int32(out.size), np.int32(index.size),
                       np.int32(n), np.int32(inner), x.data, index.data, out.data)
        return out

    def scatter_add(self, index, src, axis, size):
        if src.dtype is _BOOL:  # NumPy's add.at on bools is an or: count in int32
            wide = self.scatter_add(index, self._to(src, _INT32), axis, size)
            return self.cast(wide, dtypes.bool_)
        index, src = self.packed(self._to(index, _INT64)), self.packed(src)
        axis = int(axis)
        outer_shape, inner_shape = src.shape[:axis], src.shape[axis + index.ndim:]
        out = self.empty(outer_shape + (int(size),) + inner_shape, src.dtype)
        if not out.size:
            return out
        knl = self.kernel("index.cl", "index_scatter_add", src.dtype, op="scatter_add")
        self.launch_1d("scatter_add", knl, out.size, np.int32(out.size),
                       np.int32(index.size), np.int32(size), np.int32(math.prod(inner_shape)),
                       index.data, src.data, out.data)
        return out

    # ------------------------------------------------------------ in-place updates
    def assign_(self, dst, src):
        src = self._to(src, dst.dtype)
        if dst.packed and tuple(src.shape) == tuple(dst.shape):
            src = self.packed(src)
            if dst.size and src.data is not dst.data:
                self.runtime.copy(dst.data, src.data, dst.nbytes)
            return
        self._assign_view(dst.data, dst.dtype, tuple(dst.shape), tuple(dst.strides),
                          dst.offset, src)
