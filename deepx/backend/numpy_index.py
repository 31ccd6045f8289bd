"""NumPy reference of the per-element indexing and sorting primitives (backend/__init__.py)."""
from __future__ import annotations

import numpy as np


def _targets(shape, index, axis):
    """Flat positions in an array of `shape` that index (in C order) addresses along axis."""
    coords = list(np.indices(index.shape, dtype=np.int64))
    coords[axis] = index.astype(np.int64)
    return np.ravel_multi_index(tuple(coords), shape).reshape(-1)


class NumpyIndexPrimitives:
    """Mixin of NumpyBackend: take_along, scatter_along, argsort, nonzero."""

    def take_along(self, x, index, axis):
        out_shape = index.shape
        if not index.size:
            return np.zeros(out_shape, dtype=x.dtype)
        return np.ascontiguousarray(x).reshape(-1)[_targets(x.shape, index, axis)].reshape(
            out_shape)

    def scatter_along(self, x, index, src, axis, accumulate, distinct=False):
        out = np.array(x, copy=True, order="C")  # C order: written through reshape(-1)
        if not index.size:
            return out
        flat, values = out.reshape(-1), np.asarray(src).reshape(-1)
        targets = _targets(x.shape, index, axis)
        if accumulate:
            np.add.at(flat, targets, values)
            return out
        # Duplicate targets: the last in C order wins (np.unique on the reversed list finds it).
        _, first_of_reversed = np.unique(targets[::-1], return_index=True)
        keep = targets.size - 1 - first_of_reversed
        flat[targets[keep]] = values[keep]
        return out

    def argsort(self, x, axis, descending):
        if not descending:
            return np.argsort(x, axis=axis, kind="stable").astype(np.int64, order="C")
        # Stable descending: sort the reversed array ascending (ties then come last-first),
        # reverse that order and map positions back; NaN, last ascending, comes first.
        n = x.shape[axis]
        order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
        return (n - 1 - np.flip(order, axis)).astype(np.int64, order="C")

    def nonzero(self, x):
        if x.ndim == 0:  # a 0-d array has one element and no coordinates
            return np.zeros((int(x != 0), 0), dtype=np.int64)
        return np.argwhere(x != 0).astype(np.int64, order="C")  # argwhere gives a transpose
