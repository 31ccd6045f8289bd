"""OpenCLBackend: every primitive of deepx/backend/__init__.py as a hand-written kernel.

Semantics match NumpyBackend exactly (the tests check each primitive against it). Arrays are
CLArrays (C-contiguous, one buffer each); data stays on the device between primitives and
only `from_numpy` / `to_numpy` cross to the host.

Helpers for the primitives in nn_primitives.py and optim_primitives.py (use only these):

    self.empty(shape, np_dtype) -> CLArray
        A new uninitialised array; a size-0 shape gets no buffer (data is None).
    self.kernel(file, name, np_dtype, op="my_op", **defines) -> pyopencl.Kernel
        Kernel `name` of kernels/<file> built (once per process) with -D DTYPE=<C type of
        np_dtype>, -D REAL=<C type of real_dtype(np_dtype)> unless given, plus `-D KEY=VALUE`
        per define (NumPy dtypes become C type names, e.g. OUT_DTYPE=np.dtype("int64") gives
        -D OUT_DTYPE=long). Raises DTypeError naming `op` when the device cannot compute
        in np_dtype (float64 without cl_khr_fp64). No fast-math, except for matmul.cl.
    self.launch(op, kernel, global_size, local_size, *args) -> pyopencl.Event
        Enqueue a launch: sizes are tuples (local may be None); global is rounded up to a
        multiple of local, so guard every index in the kernel. Buffers are passed as
        `array.data`, scalars as NumPy scalars (np.int32(n), np.float32(x), ...).
    self.launch_chunks(op, kernel, n, *args) -> pyopencl.Event | None
        One work-item per chunk of CHUNK (16) consecutive elements of n, for kernels that
        switch once and compute a chunk with vector types (PoCL does not vectorise a
        per-element runtime switch); the last chunk may be ragged. Nothing when n == 0.
    self.launch_1d(op, kernel, n, *args) -> pyopencl.Event | None
        One work-item per element for n elements at the standard local size; does nothing
        when n == 0. Use this for elementwise kernels.
    self.scalar(value, np_dtype) -> NumPy scalar of the C type a kernel takes for np_dtype.
    self.real_dtype(np_dtype) -> the NumPy dtype of REAL (math type) for np_dtype.
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
from ...shapes import broadcast_shapes, contiguous_strides
from .. import COMPARISONS, ArgReduceOp, Backend, BinaryOp, ReduceOp, UnaryOp
from .array import CLArray
from .matmul_config import MatmulConfig, blocked_defines, blocked_rows, candidate_configs
from .nn_primitives import CLNNPrimitives
from .optim_primitives import CLOptimPrimitives
from .runtime import Runtime

C_TYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long",
           "bool": "uchar"}
_SCALAR_TYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32,
                 "int64": np.int64, "bool": np.uint8}
_BOOL = np.dtype(bool)
_INT32 = np.dtype(np.int32)
_INT64 = np.dtype(np.int64)
_MAX_DIMS = 8
_INT_LIMIT = 2 ** 31 - 1  # kernels index with 32-bit ints
# Reductions longer than this use one work-group per output with a tree in local memory,
# when there are few enough outputs to keep the device busy that way.
_TREE_MIN_LENGTH = 256
_TREE_MAX_OUTPUTS = 1024
# matmul_blocked reads B in place (no packed copy) up to this many rows of C
_IN_PLACE_B_MAX_M = 64
_ROWS_VEC = 16  # elements per work-item of elementwise_binary_rows (ROWS_VEC)
CHUNK = 16  # elements per work-item of the chunked kernels (ROWS_VEC, optim.cl's CHUNK)
# Only matmul may reassociate and fuse (its order of summation is its own anyway); the other
# families match NumPy's rounding and NaN behaviour, which fast-math would give up.
_FILE_OPTIONS = {"matmul.cl": ("-cl-fast-relaxed-math", "-cl-mad-enable")}


def c_type(np_dtype) -> str:
    """OpenCL C type of a NumPy dtype (bool is stored as uchar)."""
    name = np.dtype(np_dtype).name
    if name not in C_TYPES:
        raise DTypeError(f"dtype {name} is not supported by the OpenCL backend")
    return C_TYPES[name]


def _int8(values) -> np.ndarray:
    """An OpenCL int8 kernel argument holding up to 8 ints (the rest 0)."""
    values = list(values)
    return cltypes.make_int8(*(values + [0] * (_MAX_DIMS - len(values))))


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


def _broadcast_strides(shape, out_shape):
    """Element strides of a C-contiguous `shape` read along `out_shape` (0 where broadcast)."""
    lead = len(out_shape) - len(shape)
    own = contiguous_strides(shape)
    return (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(shape, own))


def _row_view(dims, strides):
    """(period, row stride, column stride) of an operand over the output as (rows, dims[-1]).

    Row r reads the operand from (r % period) * row_stride on, so its strides over the leading
    dims must be zeros, then C-contiguous (a bias, a row, a column); None where they are not,
    or where the last dim is neither contiguous nor broadcast.
    """
    if not dims:
        return (1, 0, 0)
    lead, lead_strides, col = dims[:-1], strides[:-1], strides[-1]
    t = len(lead)  # lead[t:] is read contiguously, lead[:t] is broadcast
    while t > 0 and lead_strides[t - 1] and (
            t == len(lead) or lead_strides[t - 1] == lead_strides[t] * lead[t]):
        t -= 1
    if col not in (0, 1) or any(lead_strides[:t]):
        return None
    return (math.prod(lead[t:]), lead_strides[-1] if t < len(lead) else 0, col)


class OpenCLBackend(CLNNPrimitives, CLOptimPrimitives, Backend):
    """Primitives on one OpenCL device; see the module docstring for the helper API."""

    name = "opencl"

    def __init__(self, platform_index: int = 0, device_index: int = 0, limits=None) -> None:
        self.runtime = Runtime(platform_index, device_index, limits)
        dev = self.runtime.limits  # (a smaller device's, where a test or DEEPX_DEVICE_LIMITS says)
        self.local_1d = 1 << (min(256, dev.max_work_group_size, dev.max_work_item_sizes[0])
                              .bit_length() - 1)
        self._matmul_configs: dict = {}
        self._kernel_groups: dict = {}

    def __repr__(self) -> str:
        return f"OpenCLBackend({self.runtime.name})"

    # ------------------------------------------------------------ helpers
    def empty(self, shape, np_dtype) -> CLArray:
        """A new uninitialised C-contiguous array; no buffer when it has no elements."""
        shape = tuple(int(n) for n in shape)
        np_dtype = np.dtype(np_dtype)
        c_type(np_dtype)
        size = math.prod(shape)
        if size > _INT_LIMIT:
            raise OpenCLError(f"array of shape {shape} has {size} elements; the OpenCL "
                              f"kernels index with 32-bit ints (at most {_INT_LIMIT})")
        data = self.runtime.alloc(size * np_dtype.itemsize) if size else None
        return CLArray(shape, np_dtype, data)

    def require(self, op: str, np_dtype) -> None:
        """DTypeError naming `op` when this device cannot compute in np_dtype."""
        np_dtype = np.dtype(np_dtype)
        if np_dtype == np.float64 and not self.runtime.fp64:
            raise DTypeError(f"{op}: float64 is not supported on {self.runtime.name} (the "
                             "device lacks cl_khr_fp64); use float32")
        c_type(np_dtype)

    def real_dtype(self, np_dtype) -> np.dtype:
        """Type that transcendental math on np_dtype runs in (REAL in the kernels)."""
        np_dtype = np.dtype(np_dtype)
        if np_dtype.kind == "f":
            return np_dtype
        return np.dtype(np.float64 if self.runtime.fp64 else np.float32)

    def scalar(self, value, np_dtype):
        """`value` as the NumPy scalar type a kernel argument of np_dtype's C type takes."""
        return _SCALAR_TYPES[np.dtype(np_dtype).name](value)

    def kernel(self, file: str, name: str, np_dtype, op: str | None = None, **defines):
        """Kernel `name` of kernels/<file> built with -D DTYPE=<np_dtype> and `defines`."""
        self.require(op or name, np_dtype)
        defines.setdefault("REAL", self.real_dtype(np_dtype))
        options = [f"-DDTYPE={c_type(np_dtype)}"]
        for key, value in sorted(defines.items()):
            if isinstance(value, np.dtype):
                self.require(op or name, value)
                value = c_type(value)
            options.append(f"-D{key}={value}")
        options += _FILE_OPTIONS.get(file, ())
        return self.runtime.kernel(file, name, tuple(options))

    def launch(self, op: str, kernel, global_size, local_size, *args):
        """Enqueue `kernel` (global rounded up to a multiple of local); see Runtime.launch."""
        return self.runtime.launch(op, kernel, global_size, local_size, *args)

    def launch_1d(self, op: str, kernel, n: int, *args):
        """One work-item per element of n at the standard local size; nothing when n == 0."""
        if n == 0:
            return None
        return self.runtime.launch(op, kernel, (n,), (self.local_1d,), *args)

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
        chunks = -(-n // CHUNK)
        local = min(self.local_1d, 1 << (chunks - 1).bit_length())  # small n: no idle items
        return self.runtime.launch(op, kernel, (chunks,), (local,), *args)

    # ------------------------------------------------------------ transfer and creation
    def from_numpy(self, a):
        a = np.asarray(a, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        dt = dtypes.get(a.dtype)
        out = self.empty(a.shape, dt.np)
        if out.size:
            cl.enqueue_copy(self.runtime.queue, out.data, a, is_blocking=True)
        return out

    def to_numpy(self, x):
        host = np.empty(x.shape, dtype=x.dtype)
        if x.size:
            cl.enqueue_copy(self.runtime.queue, host, x.data, is_blocking=True)
        return host

    def full(self, shape, value, dtype):
        dt = dtypes.get(dtype).np
        value = np.full((), value, dtype=dt)[()]  # NumPy's conversion of the fill value
        out = self.empty(shape, dt)
        if out.size:
            knl = self.kernel("elementwise.cl", "elementwise_fill", dt, op="full")
            self.launch_1d("full", knl, out.size, np.int32(out.size), self.scalar(value, dt),
                           out.data)
        return out

    def arange(self, start, step, n, dtype):
        dt = dtypes.get(dtype).np
        out = self.empty((int(n),), dt)
        if out.size:
            knl = self.kernel("elementwise.cl", "elementwise_arange", dt, op="arange")
            real = np.float64 if self.runtime.fp64 else np.float32
            self.launch_1d("arange", knl, out.size, np.int32(out.size), real(start),
                           real(step), out.data)
        return out

    def _random(self, op, name, shape, dtype, seed, offset):
        dt = dtypes.get(dtype).np
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
        dt = dtypes.get(dtype).np
        out = self.empty(x.shape, dt)
        if not out.size:
            return out
        if dt == x.dtype:
            self.require("cast", dt)
            cl.enqueue_copy(self.runtime.queue, out.data, x.data, byte_count=x.nbytes)
            return out
        knl = self.kernel("elementwise.cl", "elementwise_cast", x.dtype, op="cast",
                          OUT_DTYPE=dt)
        self.launch_chunks("cast", knl, out.size, np.int32(out.size), x.data, out.data)
        return out

    def _to(self, x, np_dtype):
        return x if x.dtype == np_dtype else self.cast(x, dtypes.get(np_dtype))

    # ------------------------------------------------------------ elementwise
    def unary(self, op, x, alpha=0.0):
        op = UnaryOp(op)
        predicate = op in (UnaryOp.STEP, UnaryOp.NOT)
        out = self.empty(x.shape, _BOOL if predicate else x.dtype)
        if not out.size:
            return out
        real = self.real_dtype(x.dtype)
        name = "elementwise_predicate" if predicate else "elementwise_unary"
        knl = self.kernel("elementwise.cl", name, x.dtype, op="unary")
        self.launch_chunks("unary", knl, out.size, np.int32(op), np.int32(out.size),
                       real.type(alpha), x.data, out.data)
        return out

    def binary(self, op, a, b):
        op = BinaryOp(op)
        dt = np.promote_types(a.dtype, b.dtype)
        if op not in COMPARISONS and dt == _BOOL:
            if op in (BinaryOp.SUB, BinaryOp.POW):
                raise DTypeError(f"binary: {op.name} is not supported for bool tensors")
            if op is not BinaryOp.DIV:  # NumPy's bool +, *, max, min are or/and: via int32
                wide = self.binary(op, self._to(a, _INT32), self._to(b, _INT32))
                return self.cast(wide, dtypes.bool_)
        if op is BinaryOp.DIV and dt.kind != "f":  # NumPy divides integers to float64
            dt = self.real_dtype(dt)
        a, b = self._to(a, dt), self._to(b, dt)
        shape = broadcast_shapes("binary", a.shape, b.shape)
        out = self.empty(shape, _BOOL if op in COMPARISONS else dt)
        if not out.size:
            return out
        dims, (sa, sb) = collapse(shape, _broadcast_strides(a.shape, shape),
                                  _broadcast_strides(b.shape, shape))
        name = "elementwise_compare" if op in COMPARISONS else "elementwise_binary"
        views = (_row_view(dims, sa), _row_view(dims, sb))
        if name == "elementwise_binary" and None not in views:  # no per-element index math
            self._launch_rows("binary", "elementwise_binary_rows", dt, dims, out.size, views,
                              a.data, b.data, out.data, op_code=op)
            return out
        knl = self.kernel("elementwise.cl", name, dt, op="binary")
        self.launch_1d("binary", knl, out.size, np.int32(op), np.int32(out.size),
                       np.int32(len(dims)), _int8(dims), _int8(sa), _int8(sb),
                       a.data, b.data, out.data)
        return out

    def _launch_rows(self, op, name, dt, dims, size, views, *buffers, op_code=None):
        """Launch a *_rows fast path over the output as (rows, dims[-1]), ROWS_VEC per item."""
        inner = dims[-1] if dims else 1
        rows = size // inner
        chunks = -(-inner // _ROWS_VEC)
        local_x = min(self.local_1d, 1 << (chunks - 1).bit_length())
        local_y = min(self.local_1d // local_x, 1 << (rows - 1).bit_length())
        knl = self.kernel("elementwise.cl", name, dt, op=op)
        leading = () if op_code is None else (np.int32(op_code),)
        self.launch(op, knl, (chunks, rows), (local_x, local_y), *leading, np.int32(inner),
                    np.int32(rows), *(cltypes.make_int4(*view, 0) for view in views), *buffers)

    def where(self, cond, a, b):
        dt = np.promote_types(a.dtype, b.dtype)
        cond, a, b = self._to(cond, _BOOL), self._to(a, dt), self._to(b, dt)
        shape = broadcast_shapes("where", cond.shape, a.shape, b.shape)
        out = self.empty(shape, dt)
        if not out.size:
            return out
        dims, (sc, sa, sb) = collapse(shape, _broadcast_strides(cond.shape, shape),
                                      _broadcast_strides(a.shape, shape),
                                      _broadcast_strides(b.shape, shape))
        views = (_row_view(dims, sc), _row_view(dims, sa), _row_view(dims, sb))
        if None not in views:  # no per-element index math
            self._launch_rows("where", "elementwise_where_rows", dt, dims, out.size, views,
                              cond.data, a.data, b.data, out.data)
            return out
        knl = self.kernel("elementwise.cl", "elementwise_where", dt, op="where")
        self.launch_1d("where", knl, out.size, np.int32(out.size), np.int32(len(dims)),
                       _int8(dims), _int8(sc), _int8(sa), _int8(sb), cond.data, a.data,
                       b.data, out.data)
        return out

    # ------------------------------------------------------------ reductions
    def _reduce_launch(self, op_name, kernel_prefix, op, x, out, kept, reduced, length,
                       local_args):
        """Launch the serial or tree variant over `kept` x `reduced` (shape, strides) views."""
        (kdims, (kst,)), (rdims, (rst,)) = kept, reduced
        n_out = out.size
        args = (np.int32(op), np.int32(n_out), np.int32(length), np.int32(len(kdims)),
                _int8(kdims), _int8(kst), np.int32(len(rdims)), _int8(rdims), _int8(rst),
                x.data, out.data)
        if length > _TREE_MIN_LENGTH and n_out < _TREE_MAX_OUTPUTS:
            knl = self.kernel("reduce.cl", kernel_prefix + "_tree", x.dtype, op=op_name,
                              OUT_DTYPE=out.dtype)
            local = self.tree_local(knl, sum(np.dtype(d).itemsize for d in local_args))
            scratch = [cl.LocalMemory(local * np.dtype(d).itemsize) for d in local_args]
            self.launch(op_name, knl, (n_out * local,), (local,), *args, *scratch)
        else:
            knl = self.kernel("reduce.cl", kernel_prefix + "_serial", x.dtype, op=op_name,
                              OUT_DTYPE=out.dtype)
            self.launch_1d(op_name, knl, n_out, *args)

    def reduce(self, op, x, axes, keepdim):
        op = ReduceOp(op)
        axes = tuple(sorted(int(a) for a in axes))
        out_dtype = x.dtype
        if op is ReduceOp.SUM and x.dtype in (_BOOL, _INT32):
            out_dtype = _INT64  # NumPy sums small integers in int64
        kept_axes = [i for i in range(len(x.shape)) if i not in axes]
        if keepdim:
            shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        else:
            shape = tuple(x.shape[i] for i in kept_axes)
        out = self.empty(shape, out_dtype)
        length = math.prod(x.shape[a] for a in axes)
        if not out.size:
            return out
        if length == 0:
            if op is not ReduceOp.SUM:
                raise ShapeError(f"reduce: zero-size array to reduction operation "
                                 f"{op.name.lower()} which has no identity (shape {x.shape}, "
                                 f"axes {axes})")
            return self.full(shape, 0, dtypes.get(out_dtype))
        strides = contiguous_strides(x.shape)
        kept = collapse([x.shape[i] for i in kept_axes], [strides[i] for i in kept_axes])
        reduced = collapse([x.shape[a] for a in axes], [strides[a] for a in axes])
        self._reduce_launch("reduce", "reduce", op, x, out, kept, reduced, length,
                            (out_dtype,))
        return out

    def arg_reduce(self, op, x, axis, keepdim):
        op = ArgReduceOp(op)
        axis = int(axis)
        n = x.shape[axis]
        outer, inner = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
        if keepdim:
            shape = x.shape[:axis] + (1,) + x.shape[axis + 1:]
        else:
            shape = x.shape[:axis] + x.shape[axis + 1:]
        out = self.empty(shape, _INT64)
        if not out.size:
            return out
        if n == 0:
            raise ShapeError(f"arg_reduce: attempt to get {op.name.lower()} of an empty "
                             f"sequence (shape {x.shape}, axis {axis})")
        kept = collapse((outer, inner), (n * inner, 1))
        reduced = ((n,), ((inner,),))
        self._reduce_launch("arg_reduce", "argreduce", op, x, out, kept, reduced, n,
                            (x.dtype, _INT64))
        return out

    # ------------------------------------------------------------ matmul
    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        return self.matmul_variant(None, a, b, transpose_a, transpose_b)

    def matmul_config(self, np_dtype) -> MatmulConfig:
        """Tile sizes of matmul_tiled for np_dtype on this device (chosen once)."""
        np_dtype = np.dtype(np_dtype)
        if np_dtype not in self._matmul_configs:
            device = self.runtime.device
            for cfg in candidate_configs(self.runtime.limits, np_dtype.itemsize):
                knl = self.kernel("matmul.cl", "matmul_tiled", np_dtype, op="matmul",
                                  **cfg.defines())
                # a kernel's own limit (registers, local memory) may be below the device's
                fits = knl.get_work_group_info(cl.kernel_work_group_info.WORK_GROUP_SIZE,
                                               device) >= cfg.rts_m * cfg.rts_n
                if fits:
                    self._matmul_configs[np_dtype] = cfg
                    break
            else:
                raise OpenCLError(f"matmul: no tile configuration fits {self.runtime.name}")
        return self._matmul_configs[np_dtype]

    def matmul_variant(self, variant, a, b, transpose_a=False, transpose_b=False):
        """matmul with kernel variant 'naive', 'tiled', 'blocked' (CPU) or None (the best one)."""
        (ba, a0, a1), (bb, b0, b1) = a.shape, b.shape
        m, k = (a1, a0) if transpose_a else (a0, a1)
        k2, n = (b1, b0) if transpose_b else (b0, b1)
        if k != k2 or (ba != bb and 1 not in (ba, bb)) or a.dtype != b.dtype:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} (transpose_a="
                             f"{transpose_a}, transpose_b={transpose_b}, dtypes {a.dtype}, "
                             f"{b.dtype}) do not multiply")
        batch = max(ba, bb) if min(ba, bb) else 0
        if a.dtype == _BOOL:  # NumPy's bool matmul is an or of ands: count in int32
            wide = self.matmul_variant(variant, self._to(a, _INT32), self._to(b, _INT32),
                                       transpose_a, transpose_b)
            return self.cast(wide, dtypes.bool_)
        out = self.empty((batch, m, n), a.dtype)
        if not out.size:
            return out
        if k == 0:
            return self.full(out.shape, 0, dtypes.get(a.dtype))
        args = (np.int32(m), np.int32(n), np.int32(k),
                np.int32(m * k if ba > 1 else 0), np.int32(k * n if bb > 1 else 0),
                np.int32(bool(transpose_a)), np.int32(bool(transpose_b)),
                a.data, b.data, out.data)
        blocked = blocked_defines(self.runtime.limits, a.dtype.itemsize)
        if variant is None:  # on PoCL the blocked kernel beats the tiled one at every shape
            variant = "blocked" if blocked else "tiled"
        if variant == "naive":
            knl = self.kernel("matmul.cl", "matmul_naive", a.dtype, op="matmul")
            side = 8 if self.local_1d >= 64 else 1  # a device below 64 work-items per group
            self.launch("matmul", knl, (n, m, batch), (side, side, 1), *args)
            return out
        if variant == "blocked":
            if blocked is None:
                raise DTypeError(f"matmul: the blocked kernel needs a CPU device and a float "
                                 f"dtype, got {self.runtime.name} and {a.dtype}")
            return self._matmul_blocked(a, b, out, transpose_a, transpose_b, blocked)
        cfg = self.matmul_config(a.dtype)
        knl = self.kernel("matmul.cl", "matmul_tiled", a.dtype, op="matmul", **cfg.defines())
        self.launch("matmul", knl,
                    (-(-n // cfg.tile_n) * cfg.rts_n, -(-m // cfg.tile_m) * cfg.rts_m, batch),
                    (cfg.rts_n, cfg.rts_m, 1), *args)
        return out

    def _pack(self, x, rows, k, width, stride_r, stride_k, defines):
        """x (batch, ...) as panels of `width` rows of its (rows x k) view: see matmul_pack."""
        batch, panels = x.shape[0], -(-rows // width)
        out = self.empty((batch, panels * width * k), x.dtype)
        # built with matmul_blocked's defines: one program for both
        knl = self.kernel("matmul.cl", "matmul_pack", x.dtype, op="matmul", **defines)
        local = min(self.local_1d, 1 << (k - 1).bit_length())  # a short K wastes no items
        self.launch("matmul", knl, (k, panels, batch), (local, 1, 1), np.int32(rows),
                    np.int32(k), np.int32(width), np.int32(stride_r), np.int32(stride_k),
                    np.int32(rows * k), x.data, out.data)
        return out

    def _matmul_blocked(self, a, b, out, transpose_a, transpose_b, defines):
        """matmul_blocked over a packed copy of a and a packed copy of b, or b in place."""
        m, n, k = out.shape[1], out.shape[2], a.shape[1] if transpose_a else a.shape[2]
        defines = dict(defines, WPT_M=blocked_rows(m, defines["WPT_M"]))
        wpt_m, vec = defines["WPT_M"], defines["VEC"]
        pa = self._pack(a, m, k, wpt_m, *((1, m) if transpose_a else (k, 1)), defines)
        # b's rows already hold VEC contiguous columns; packing pays only when they are
        # read by many row blocks (and power-of-two row strides thrash the cache sets)
        b_packed = transpose_b or m > _IN_PLACE_B_MAX_M
        if b_packed:
            pb = self._pack(b, n, k, vec, *((k, 1) if transpose_b else (1, n)), defines)
            batch_b = pb.shape[1] if pb.shape[0] > 1 else 0
        else:
            pb, batch_b = b, (k * n if b.shape[0] > 1 else 0)
        knl = self.kernel("matmul.cl", "matmul_blocked", a.dtype, op="matmul", **defines)
        self.launch("matmul", knl, (-(-m // wpt_m), -(-n // vec), out.shape[0]), (1, 1, 1),
                    np.int32(m), np.int32(n), np.int32(k),
                    np.int32(pa.shape[1] if pa.shape[0] > 1 else 0), np.int32(batch_b),
                    np.int32(b_packed), pa.data, pb.data, out.data)
        return out

    # ------------------------------------------------------------ layout
    def reshape(self, x, shape):
        return x.reshape(shape)

    def strided_copy(self, x, shape, strides, offset):
        out = self.empty(shape, x.dtype)
        if not out.size:
            return out
        dims, (st,) = collapse(out.shape, tuple(strides))
        knl = self.kernel("layout.cl", "layout_strided_copy", x.dtype, op="strided_copy")
        self.launch_1d("strided_copy", knl, out.size, np.int32(out.size), np.int32(len(dims)),
                       _int8(dims), _int8(st), np.int32(offset), x.data, out.data)
        return out

    def strided_assign_(self, dst, shape, strides, offset, src):
        src = self._to(src, dst.dtype)
        n = math.prod(shape)
        if tuple(src.shape) != tuple(shape):
            src = self.strided_copy(src, tuple(shape),
                                    _broadcast_strides(src.shape, tuple(shape)), 0)
        if not n:
            return
        dims, (st,) = collapse(tuple(shape), tuple(strides))
        knl = self.kernel("layout.cl", "layout_strided_assign", dst.dtype,
                          op="strided_assign_")
        self.launch_1d("strided_assign_", knl, n, np.int32(n), np.int32(len(dims)),
                       _int8(dims), _int8(st), np.int32(offset), src.data, dst.data)

    # ------------------------------------------------------------ indexing
    def gather(self, x, index, axis):
        index = self._to(index, _INT64)
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
        if src.dtype == _BOOL:  # NumPy's add.at on bools is an or: count in int32
            wide = self.scatter_add(index, self._to(src, _INT32), axis, size)
            return self.cast(wide, dtypes.bool_)
        index = self._to(index, _INT64)
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
        if tuple(src.shape) != tuple(dst.shape):
            src = self.strided_copy(src, dst.shape, _broadcast_strides(src.shape, dst.shape), 0)
        if dst.size:
            cl.enqueue_copy(self.runtime.queue, dst.data, src.data, byte_count=dst.nbytes)
