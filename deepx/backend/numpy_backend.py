"""The NumPy reference backend: every primitive, written for clarity, checked against by all."""
from __future__ import annotations

import math

import numpy as np

from ..errors import DTypeError
from . import BITWISE, ArgReduceOp, Backend, BinaryOp, ReduceOp, UnaryOp
from .numpy_index import NumpyIndexPrimitives
from .numpy_nn import NumpyNNPrimitives
from .numpy_optim import NumpyOptimPrimitives

_U32 = np.uint32


def fmix32(h):
    """MurmurHash3's 32-bit finalizer, the mixing step of deepx's counter-based RNG."""
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


def _float_to(a: np.ndarray, dtype, copy: bool) -> np.ndarray:
    """a as dtype (a new array if copy); a float to int32/int64 gives 0 for NaN and saturates
    out of range.

    C leaves both undefined (NumPy on x86 gives the type's minimum, on ARM it saturates);
    this is the kernels' FLOAT_TO (kernels/common.h), so both backends agree everywhere.
    """
    dtype = np.dtype(dtype)
    if a.dtype.kind != "f" or dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        return a.astype(dtype, copy=copy)
    info, limit = np.iinfo(dtype), 2.0 ** (np.iinfo(dtype).bits - 1)
    high, low = a >= limit, a < -limit
    out = np.where(np.isnan(a) | high | low, 0, a).astype(dtype)
    out[high], out[low] = info.max, info.min
    return out


def random_bits(seed: int, counters: np.ndarray) -> np.ndarray:
    """uint32 hash of (seed, counter); kernels/random.cl computes the same bits."""
    key = fmix32(np.array([(seed & 0xFFFFFFFF) ^ 0x9E3779B9], dtype=_U32))
    key = fmix32(key ^ np.array([(seed >> 32) & 0xFFFFFFFF], dtype=_U32))
    return fmix32(fmix32(counters.astype(_U32) ^ key) + key)


def _flat_index(shape, strides, offset) -> np.ndarray:
    """Flat source index of every element of a strided view, in C order."""
    idx = np.full(shape, offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[axis] = n
        idx = idx + (np.arange(n, dtype=np.int64) * s).reshape(view)
    return idx


_erf = np.frompyfunc(math.erf, 1, 1)

# Floating-point errors are silent in deepx (PyTorch computes inf and nan without warnings).
# np.errstate costs ~3 us per call, several times a small ufunc, so the elementwise hot path
# sets NumPy's error-state context variable to a prebuilt "ignore" state directly; other
# NumPy versions fall back to np.errstate.
try:
    from numpy._core import _ufunc_config as _ufunc_config

    _IGNORE = _ufunc_config._make_extobj(all="ignore")
    _ERRSTATE = _ufunc_config._extobj_contextvar
except (ImportError, AttributeError, TypeError):  # pragma: no cover - other NumPy versions
    _ERRSTATE = None


def _quiet(fn, *args):
    """fn(*args) with NumPy's floating-point warnings off."""
    if _ERRSTATE is None:
        with np.errstate(all="ignore"):
            return fn(*args)
    token = _ERRSTATE.set(_IGNORE)
    try:
        return fn(*args)
    finally:
        _ERRSTATE.reset(token)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_UNARY = {
    UnaryOp.NEG: lambda x, a: -x,
    UnaryOp.EXP: lambda x, a: np.exp(x),
    UnaryOp.LOG: lambda x, a: np.log(x),
    UnaryOp.SQRT: lambda x, a: np.sqrt(x),
    UnaryOp.ABS: lambda x, a: np.abs(x),
    UnaryOp.SIGN: lambda x, a: np.sign(x),
    UnaryOp.TANH: lambda x, a: np.tanh(x),
    UnaryOp.SIGMOID: lambda x, a: _sigmoid(x),
    UnaryOp.RELU: lambda x, a: np.maximum(x, 0),
    UnaryOp.ERF: lambda x, a: _erf(x),
    UnaryOp.SOFTPLUS: lambda x, a: np.logaddexp(0, x),
    UnaryOp.LEAKY_RELU: lambda x, a: np.where(x > 0, x, x * a),
    UnaryOp.ELU: lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
    UnaryOp.STEP: lambda x, a: x > a,
    UnaryOp.RECIPROCAL: lambda x, a: 1 / x,
    UnaryOp.NOT: lambda x, a: np.logical_not(x),
}

_BINARY = {
    BinaryOp.ADD: np.add,
    BinaryOp.SUB: np.subtract,
    BinaryOp.MUL: np.multiply,
    BinaryOp.DIV: np.divide,
    BinaryOp.POW: np.power,
    BinaryOp.MAXIMUM: np.maximum,
    BinaryOp.MINIMUM: np.minimum,
    BinaryOp.EQ: np.equal,
    BinaryOp.NE: np.not_equal,
    BinaryOp.LT: np.less,
    BinaryOp.LE: np.less_equal,
    BinaryOp.GT: np.greater,
    BinaryOp.GE: np.greater_equal,
    BinaryOp.AND: np.logical_and,
    BinaryOp.OR: np.logical_or,
    BinaryOp.BITWISE_AND: np.bitwise_and,
    BinaryOp.BITWISE_OR: np.bitwise_or,
    BinaryOp.BITWISE_XOR: np.bitwise_xor,
    BinaryOp.FLOOR_DIVIDE: np.floor_divide,  # NumPy: 0 for an integer zero divisor
    BinaryOp.REMAINDER: np.remainder,
    BinaryOp.RELU_BACKWARD: lambda a, b: np.where(b > 0, a, 0).astype(np.result_type(a, b),
                                                                     copy=False),
}


def _int_pow(a, b):
    """PyTorch's integer power: a negative exponent truncates 1 / a^|b| (1, +-1 or 0)."""
    b = np.asarray(b)
    out = np.power(a, np.where(b < 0, 0, b).astype(b.dtype))
    negative = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(b < 0, negative, out).astype(out.dtype)

_REDUCE = {ReduceOp.SUM: np.sum, ReduceOp.MAX: np.max, ReduceOp.MIN: np.min}
_ARG_REDUCE = {ArgReduceOp.ARGMAX: np.argmax, ArgReduceOp.ARGMIN: np.argmin}


class NumpyBackend(NumpyNNPrimitives, NumpyOptimPrimitives, NumpyIndexPrimitives, Backend):
    """Reference backend; NumPy's inf/nan semantics without its warnings, as in PyTorch."""

    name = "numpy"

    def from_numpy(self, a):
        return np.array(a, copy=True, order="C")

    def to_numpy(self, x):
        return np.array(x, copy=True)

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype.np)

    def arange(self, start, step, n, dtype):
        return (start + np.arange(n, dtype=np.float64) * step).astype(dtype.np)

    def rand(self, shape, dtype, seed, offset):
        n = math.prod(shape)
        bits = random_bits(seed, offset + np.arange(n, dtype=np.int64))
        return ((bits >> _U32(8)).astype(np.float64) * 2.0 ** -24).astype(dtype.np).reshape(shape)

    def randn(self, shape, dtype, seed, offset):
        n = math.prod(shape)
        counters = 2 * (offset + np.arange(n, dtype=np.int64))
        u1 = ((random_bits(seed, counters) >> _U32(8)).astype(np.float64) + 1) * 2.0 ** -24
        u2 = (random_bits(seed, counters + 1) >> _U32(8)).astype(np.float64) * 2.0 ** -24
        z = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
        return z.astype(dtype.np).reshape(shape)

    def cast(self, x, dtype):
        with np.errstate(all="ignore"):
            # a cast never aliases its input; C order as every primitive's output
            return _dense(_float_to(x, dtype.np, copy=True))

    def unary(self, op, x, alpha=0.0):
        with np.errstate(all="ignore"):
            out = _UNARY[op](x, alpha)
        return _dense(_float_to(np.asarray(out), bool if op in (UnaryOp.STEP, UnaryOp.NOT)
                                else x.dtype, copy=False))

    def binary(self, op, a, b):
        if op in BITWISE and np.result_type(a, b).kind == "f":
            raise DTypeError(f"binary: {BinaryOp(op).name} is not supported for float tensors")
        if op == BinaryOp.POW and np.result_type(a, b).kind in "iu":
            return _dense(_quiet(_int_pow, a, b))
        return _dense(_quiet(_BINARY[op], a, b))

    def where(self, cond, a, b):
        return _dense(np.where(cond, a, b))

    def reduce(self, op, x, axes, keepdim):
        # max/min of NaNs: NaN, without NumPy's warning
        return _dense(_quiet(lambda: _REDUCE[op](x, axis=tuple(axes), keepdims=keepdim)))

    def arg_reduce(self, op, x, axis, keepdim):
        return _dense(_ARG_REDUCE[op](x, axis=axis, keepdims=keepdim), np.int64)

    def matmul(self, a, b, transpose_a=False, transpose_b=False, bias=None, sum_batch=False):
        a = a.swapaxes(-1, -2) if transpose_a else a
        b = b.swapaxes(-1, -2) if transpose_b else b
        out = np.matmul(a, b)
        if sum_batch:
            out = out.sum(0, keepdims=True)
        return _dense(out if bias is None else _quiet(np.add, out, bias))

    def reshape(self, x, shape):
        return x.reshape(shape)

    def strided_copy(self, x, shape, strides, offset):
        return x.reshape(-1)[_flat_index(shape, strides, offset)]

    def strided_assign_(self, dst, shape, strides, offset, src):
        dst.reshape(-1)[_flat_index(shape, strides, offset)] = src

    def gather(self, x, index, axis):
        return np.take(x, index, axis=axis)

    def scatter_add(self, index, src, axis, size):
        outer, inner = src.shape[:axis], src.shape[axis + index.ndim:]
        out = np.zeros(outer + (size,) + inner, dtype=src.dtype)
        src = src.reshape(outer + (index.size,) + inner)
        np.add.at(np.moveaxis(out, axis, 0), index.reshape(-1), np.moveaxis(src, axis, 0))
        return out

    def assign_(self, dst, src):
        dst[...] = src

    # ---- views
    def as_strided(self, x, shape, strides, offset):
        item = x.itemsize
        # move the start `offset` elements on, then lay the view over x's memory from there
        start = np.lib.stride_tricks.as_strided(x, shape=(offset + 1,), strides=(item,))
        return np.lib.stride_tricks.as_strided(start[offset:], tuple(shape),
                                               tuple(s * item for s in strides))

    def contiguous(self, x):
        return np.array(x, copy=True, order="C")

    def packed(self, x):
        return _dense(x)

    def strides(self, x):
        item = x.itemsize
        return tuple(s // item for s in x.strides)

    def storage_offset(self, x):
        root = x
        while getattr(root, "base", None) is not None and hasattr(root.base,
                                                                   "__array_interface__"):
            root = root.base
        return (_address(x) - _address(root)) // x.itemsize

    def data_ptr(self, x):
        return _address(x)


def _dense(a, dtype=None):
    """a as a C-contiguous ndarray (a copy only when needed; 0-d stays 0-d, unlike
    np.ascontiguousarray)."""
    a = np.asarray(a, dtype=dtype)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _address(x) -> int:
    """Memory address of an array's first element."""
    return x.__array_interface__["data"][0]
