"""The five dtypes deepx supports and PyTorch-style type promotion between them."""
from __future__ import annotations

import numpy as np


class DType:
    """A tensor element type; `np` is the matching NumPy dtype, `cl` the OpenCL C type."""

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
NAMES = frozenset(_BY_NAME)


def get(dtype) -> DType:
    """Resolve a DType, a name, a NumPy dtype or a Python type to a DType."""
    if isinstance(dtype, DType):
        return dtype
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name not in _BY_NAME:
        from .errors import DTypeError

        raise DTypeError(f"dtype {dtype!r} is not supported; use one of "
                         f"{', '.join(d.name for d in ALL)}")
    return _BY_NAME[name]


_BY_NP = {d.np: d for d in ALL}


def of(array) -> DType:
    """The DType of a backend array (anything with a NumPy-style `.dtype`)."""
    return _BY_NP[array.dtype]


def promote(a: DType, b: DType) -> DType:
    """Result dtype of a binary op between two tensors."""
    return a if a.rank >= b.rank else b


def promote_scalar(t: DType, value) -> DType:
    """Result dtype of a tensor with a Python scalar: the scalar only lifts the category."""
    if isinstance(value, bool):
        return t
    if isinstance(value, int):
        return t if t.rank >= int32.rank else int64
    if isinstance(value, float):
        return t if t.is_floating_point else float32
    raise TypeError(f"unsupported scalar {value!r}")
