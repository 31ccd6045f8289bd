"""Strided views as OpenCL kernel arguments: shapes and strides packed into int8 / int4
vectors, dims merged where a view allows, broadcast strides, and the row form of the *_rows
fast paths. Pure functions of shapes and strides, shared by the OpenCL primitives.

Vector arguments are NumPy structured scalars of pyopencl's cltypes (its make_int8 builds them
through eval, ~10x slower: this is the launch path).
"""
from __future__ import annotations

import math

import numpy as np
import pyopencl.cltypes as cltypes

from ...errors import ShapeError
from ...shapes import contiguous_strides

MAX_DIMS = 8  # common.h's MAX_DIMS: kernels take shapes and strides as int8
_INT8, _INT4 = cltypes.int8, cltypes.int4
_INT8_FIELDS, _INT4_FIELDS = _INT8.names, _INT4.names


def int8_arg(values, op: str = "OpenCL kernel") -> np.ndarray:
    """An OpenCL int8 kernel argument holding up to 8 ints (the rest 0); more dims is a
    ShapeError naming `op`."""
    if len(values) > MAX_DIMS:
        raise ShapeError(f"{op}: the OpenCL kernels take at most {MAX_DIMS} dims, got "
                         f"{len(values)}")
    arg = np.zeros((), _INT8)
    for i, v in enumerate(values):
        arg[_INT8_FIELDS[i]] = v
    return arg


def int4_arg(values) -> np.ndarray:
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
    if len(dims) > MAX_DIMS:
        raise ShapeError(f"OpenCL kernels take at most {MAX_DIMS} non-mergeable dims, got "
                         f"shape {tuple(shape)}")
    return tuple(dims), tuple(tuple(m[k] for m in merged) for k in range(len(strides)))


def broadcast_strides(shape, out_shape, strides=None):
    """Element strides of a view (C-contiguous if strides is None) read along `out_shape`.

    0 where the view is broadcast (a new leading dim, or size 1 stretched).
    """
    lead = len(out_shape) - len(shape)
    own = contiguous_strides(shape) if strides is None else strides
    return (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(shape, own))


def trailing_run(shape, axes):
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


def row_view(dims, strides, offset=0):
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
