"""Host-side reading and checking of index data: the one place where ops look at values.

Ops compute only through backend primitives; these helpers are what is left on the host:
operands and indices given as Python or NumPy data, a boolean mask's positions (a
data-dependent count), and the class indices that nll_loss and multi_margin_loss turn into
flat positions. Reading a device tensor here is a device round trip, so each caller says why
it needs one.
"""
from __future__ import annotations

import numpy as np

from .errors import DTypeError, ShapeError


def host_operand(value):
    """An operand given as NumPy data, as PyTorch takes it: a NumPy bool, integer or float
    scalar becomes the Python scalar (weakly typed, so x * np.float32(2) keeps x's dtype);
    anything else is returned as it is (ops make an ndarray a tensor on the other operand's
    device, is_array; a complex or datetime scalar stays, for the op to refuse by name)."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    return value


def array_result_dtype(operands, true_divide: bool):
    """The NumPy dtype of `tensor op ndarray` (operands: their NumPy dtypes). PyTorch hands
    that arithmetic to NumPy, so NumPy's promotion decides (float32 with an int64 array is
    float64, NEP 50); true division of integers is float64, as np.true_divide."""
    dt = np.result_type(*operands)
    if true_divide and dt.kind in "biu":
        return np.dtype(np.float64)
    return dt


def is_integer_scalar(value) -> bool:
    """True for a NumPy integer scalar (np.int64(1)): an index like a Python int, not an array."""
    return isinstance(value, np.integer)


def is_array(value) -> bool:
    """True for a NumPy ndarray (an operand that becomes a tensor with its own dtype)."""
    return isinstance(value, np.ndarray)


def index_array(op: str, index) -> np.ndarray:
    """Python/NumPy index data as int64; DTypeError for floats and bools."""
    host = np.asarray(index)
    if host.dtype == bool or host.size and not np.issubdtype(host.dtype, np.integer):
        raise DTypeError(f"{op}: tensors used as indices must be long or int, got {host.dtype}")
    return host.astype(np.int64)


def is_bool_data(key) -> bool:
    """True when Python/NumPy index data is boolean (a mask)."""
    return np.asarray(key).dtype == bool


def bool_array(key) -> np.ndarray:
    return np.asarray(key, dtype=bool)


def mask_positions(mask) -> np.ndarray:
    """Flat positions of the True elements of a bool tensor (its count depends on the data)."""
    return np.flatnonzero(mask.numpy())


def class_indices(target) -> np.ndarray:
    """A class-index tensor as a flat int64 host array (a device read on OpenCL)."""
    return target.numpy().astype(np.int64).reshape(-1)


def check_class_range(op: str, host: np.ndarray, c: int, ignore_index, shapes: str) -> None:
    """ShapeError naming the first class index outside [0, c) that is not ignore_index."""
    valid = host != ignore_index if ignore_index is not None else np.ones(host.shape, bool)
    bad = valid & ((host < 0) | (host >= c))
    if bad.any():
        raise ShapeError(f"{op}: target {int(host[bad][0])} is out of bounds for {c} classes "
                         f"({shapes})")


def row_positions(host: np.ndarray, c: int, valid=None) -> np.ndarray:
    """Flat position r * c + host[r] of each row's class in an (M, c) matrix (0 where invalid)."""
    picked = host if valid is None else np.where(valid, host, 0)
    return np.arange(len(host), dtype=np.int64) * c + picked


def all_but_class(host: np.ndarray, c: int, dtype) -> np.ndarray:
    """(M, c) ones with a 0 at each row's class."""
    out = np.ones((len(host), c), dtype=dtype)
    out[np.arange(len(host)), host] = 0
    return out


def valid_rows(host: np.ndarray, ignore_index) -> np.ndarray:
    """bool (M,): the rows whose class is not ignore_index."""
    return host != ignore_index if ignore_index is not None else np.ones(host.shape, bool)
