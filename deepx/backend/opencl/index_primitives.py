"""OpenCL versions of the per-element indexing and sorting primitives.

Kernels: kernels/index.cl (gather, scatter_add), kernels/select.cl (take_along,
scatter_along, nonzero) and kernels/sort.cl (argsort); each file's header gives the launch
geometry. Kernels read packed inputs; shapes and strides travel as int8 arguments, so at most
8 dims. Strided views are packed first.
"""
from __future__ import annotations

import math

import numpy as np

from ... import dtypes
from ...shapes import contiguous_strides
from .strided import int8_arg

_BOOL, _INT32, _INT64 = dtypes.bool_, dtypes.int32, dtypes.int64
# argsort ranks every element against its row (parallel, O(n^2)) up to this row length and
# merge-sorts each row in one work-item (O(n log n), serial per row) beyond it.
SORT_RANK_MAX_LENGTH = 1024
# Elements per work-item of nonzero's two passes: long enough to amortise the host prefix sum.
_NONZERO_BLOCK = 256


def _sorting_pays(out_size, index_size, m):
    """scatter_along: is argsort + a binary search per output cheaper than a scan of all m
    candidates per output? (Work counts of the kernels, not timings.) Scans of up to 32 stay:
    the sort is a second launch, which such short scans never repay."""
    if m <= 32:
        return False
    log_m = m.bit_length()
    sort = index_size * (m if m <= SORT_RANK_MAX_LENGTH else log_m)
    return sort + out_size * log_m < out_size * m


class CLIndexPrimitives:
    """Mixin of OpenCLBackend: gather, scatter_add, take_along, scatter_along, argsort,
    nonzero."""

    def take_along(self, x, index, axis):
        x, index = self.packed(x), self.packed(self._to(index, _INT64))
        out = self.empty(index.shape, x.dtype)
        if not out.size:
            return out
        knl = self.kernel("select.cl", "select_take_along", x.dtype, op="take_along")
        self.launch_1d("take_along", knl, out.size, np.int32(out.size), np.int32(x.ndim),
                       np.int32(axis), np.int32(x.shape[axis]),
                       int8_arg(index.shape, "take_along"),
                       int8_arg(contiguous_strides(x.shape), "take_along"), x.data, index.data,
                       out.data)
        return out

    def scatter_along(self, x, index, src, axis, accumulate, distinct=False):
        x, index = self.packed(x), self.packed(self._to(index, _INT64))
        src = self.packed(self._to(src, x.dtype))
        out = self.empty(x.shape, x.dtype)
        if not out.size:
            return out
        if not index.size or distinct:
            self.assign_(out, x)
        if not index.size:
            return out
        if distinct:  # one writer per target: O(index.size) instead of a search per output
            knl = self.kernel("select.cl", "select_scatter_distinct", x.dtype,
                              op="scatter_along")
            self.launch_1d("scatter_along", knl, index.size, np.int32(index.size),
                           np.int32(x.ndim), np.int32(axis), np.int32(bool(accumulate)),
                           int8_arg(index.shape, "scatter_along"),
                           int8_arg(contiguous_strides(x.shape), "scatter_along"), index.data,
                           src.data, out.data)
            return out
        m = index.shape[axis]
        geometry = (np.int32(x.ndim), np.int32(axis), np.int32(m), np.int32(bool(accumulate)),
                    int8_arg(x.shape, "scatter_along"),
                    int8_arg(contiguous_strides(index.shape), "scatter_along"),
                    int8_arg(index.shape, "scatter_along"))
        if _sorting_pays(out.size, index.size, m):
            # each output binary-searches its run in the stable order: same sums, same order
            order = self.argsort(index, axis, False)
            knl = self.kernel("select.cl", "select_scatter_sorted", x.dtype, op="scatter_along")
            self.launch_1d("scatter_along", knl, out.size, np.int32(out.size), *geometry,
                           x.data, index.data, order.data, src.data, out.data)
            return out
        knl = self.kernel("select.cl", "select_scatter_along", x.dtype, op="scatter_along")
        self.launch_1d("scatter_along", knl, out.size, np.int32(out.size), *geometry, x.data,
                       index.data, src.data, out.data)
        return out

    def argsort(self, x, axis, descending):
        x = self.packed(x)
        out = self.empty(x.shape, _INT64)
        if not out.size:
            return out
        n, inner = x.shape[axis], math.prod(x.shape[axis + 1:])
        if n > SORT_RANK_MAX_LENGTH:  # O(n^2) ranking no longer pays: merge sort each row
            rows = out.size // n
            scratch = self.empty((rows, 2, n), _INT64)
            knl = self.kernel("sort.cl", "sort_merge", x.dtype, op="argsort")
            self.launch_1d("argsort", knl, rows, np.int32(rows), np.int32(n), np.int32(inner),
                           np.int32(bool(descending)), x.data, scratch.data, out.data)
            return out
        knl = self.kernel("sort.cl", "sort_rank", x.dtype, op="argsort")
        self.launch_1d("argsort", knl, out.size, np.int32(out.size), np.int32(n),
                       np.int32(inner), np.int32(bool(descending)), x.data, out.data)
        return out

    def nonzero(self, x):
        x = self.packed(x)
        n, ndim = x.size, len(x.shape)
        shape = int8_arg(x.shape, "nonzero")
        if not n:
            return self.empty((0, ndim), _INT64)
        blocks = -(-n // _NONZERO_BLOCK)
        counts = self.empty((blocks,), dtypes.int32)
        knl = self.kernel("select.cl", "select_count_blocks", x.dtype, op="nonzero")
        self.launch_1d("nonzero", knl, blocks, np.int32(n), np.int32(_NONZERO_BLOCK), x.data,
                       counts.data)
        host = self.to_numpy(counts).astype(np.int64)  # the output's size is data-dependent
        offsets = np.concatenate(([0], np.cumsum(host)[:-1])).astype(np.int64)
        out = self.empty((int(host.sum()), ndim), _INT64)
        if not out.size:
            return out
        knl = self.kernel("select.cl", "select_nonzero_write", x.dtype, op="nonzero")
        self.launch_1d("nonzero", knl, blocks, np.int32(n), np.int32(_NONZERO_BLOCK),
                       np.int32(ndim), shape, x.data, self.from_numpy(offsets).data, out.data)
        return out

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
