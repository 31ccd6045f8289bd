"""The five dtypes deepx supports and PyTorch-style type promotion between them."""
from __future__ import annotations

import numpy as np


class DType:
    """A tensor element type; `np` is the matching NumPy dtype, `cl` the OpenCL C type.

    The dtype of Tensors and of the OpenCL backend's arrays. One instance per dtype (the
    module's constants): compare with `is`; hashing is by identity, cheap in plan keys.
    """

    def __init__(self, name: str, cl: str, rank: int, is_floating_point: bool) -> None:
        self.name = name
        self.np = np.dtype("bool" if name == "bool" else name)
        self.cl = cl
        self.rank = rank  # position in the promotion lattice bool < int32 < int64 < f32 < f64
        self.is_floating_point = is_floating_point
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"deepx.{self.name}"


bool_ = DType("bool", "uchar", 0, False)
int32 = DType("int32", "int", 1, False)
int64 = DType("int64", "long", 2, False)
float32 = DType("float32", "float", 3, True)
float64 = DType("float64", "double", 4, True)

ALL = (bool_, int32, int64, float32, float64)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME["bool_"] = bool_
# Half precision exists as a name (torch.float16 / torch.half ports) but no op computes in it:
# resolving it raises a DTypeError that says so. It is not in ALL.
float16 = DType("float16", "half", -1, True)
_UNSUPPORTED = frozenset({"float16", "half", "bfloat16"})
NAMES = frozenset(_BY_NAME) | _UNSUPPORTED


def _unsupported(dtype):
    from .errors import DTypeError

    return DTypeError(f"dtype {dtype!r}: float16/bfloat16 (half precision) is not supported by "
                      "deepx; use float32 (x.float()) or float64")


def get(dtype) -> DType:
    """Resolve a DType, a name, a NumPy dtype or a Python type to a DType."""
    if dtype is float16:
        raise _unsupported(dtype)
    if isinstance(dtype, DType):
        return dtype
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name in _UNSUPPORTED:
        raise _unsupported(dtype)
    if name not in _BY_NAME:
        from .errors import DTypeError

        raise DTypeError(f"dtype {dtype!r} is not supported; use one of "
                         f"{', '.join(d.name for d in ALL)}")
    return _BY_NAME[name]


# dtypes.of's one lookup: a NumPy ndarray's dtype (NumpyBackend) maps to its DType; a DType
# (an OpenCL CLArray's own .dtype) to itself. DTypes hash by identity, so no key of one kind
# ever compares equal to a key of the other.
_OF = {d.np: d for d in ALL} | {d: d for d in ALL}


def of(array) -> DType:
    """The DType of a backend array: a CLArray's `.dtype` (a DType) or an ndarray's NumPy
    dtype resolved to its DType."""
    return _OF[array.dtype]


def promote(a: DType, b: DType) -> DType:
    """Result dtype of a binary op between two tensors of the same priority."""
    return a if a.rank >= b.rank else b


def promote_scalar(t: DType, value) -> DType:
    """Result dtype of a tensor (with dims) and a Python scalar; see result_type."""
    return result_type(_Operand(t, 1), value)


def _category(dt: DType) -> int:
    return 2 if dt.is_floating_point else (0 if dt is bool_ else 1)


def can_cast(from_: DType, to: DType) -> bool:
    """torch.can_cast: a cast may not move down the categories bool < integer < floating
    (what an in-place op may write into a tensor of dtype `to`)."""
    return _category(from_) <= _category(to)


def _combine(higher: DType | None, lower: DType | None) -> DType | None:
    """Fold a lower-priority result in: it only counts when it lifts the category."""
    if higher is None or lower is None:
        return higher or lower
    return promote(higher, lower) if _category(lower) > _category(higher) else higher


class _Operand:
    """A (dtype, ndim) stand-in for a tensor in result_type."""

    def __init__(self, dtype: DType, ndim: int) -> None:
        self.dtype, self.ndim = dtype, ndim


def result_type(*operands, floating: bool = False) -> DType:
    """PyTorch's result dtype of an op on tensors (anything with .dtype and .ndim) and scalars.

    Priority as torch.result_type: tensors with dims > 0-d tensors > Python scalars; a lower
    priority operand only matters when it lifts the category (bool < integer < floating), e.g.
    int32 + 2 -> int32, int32 + 2.5 -> float32, float32 (3,) + float64 0-d -> float32.
    `floating`: the op computes in floating point (true division, sqrt, exp, ...); an integer
    or bool result becomes float32, the default dtype. Raises TypeError for other operands.
    """
    dims = zero = scalars = None
    for x in operands:
        if x is None:
            continue
        if isinstance(x, (bool, int, float)):
            dt = bool_ if isinstance(x, bool) else (int64 if isinstance(x, int) else float32)
            scalars = dt if scalars is None else promote(scalars, dt)
        elif hasattr(x, "dtype") and isinstance(x.dtype, DType):
            if x.ndim:
                dims = x.dtype if dims is None else promote(dims, x.dtype)
            else:
                zero = x.dtype if zero is None else promote(zero, x.dtype)
        else:
            raise TypeError(f"unsupported operand of type {type(x).__name__}")
    out = _combine(_combine(dims, zero), scalars)
    if out is None:
        raise TypeError("result_type: expected at least one operand")
    return float32 if floating and not out.is_floating_point else out
