"""Sorting: sort, argsort, topk. The order comes from the stable argsort primitive (ties keep
index order, NaN largest); values are gathered with GatherDim, whose backward scatters the
gradient back to where each value came from. The OpenCL argsort ranks each element against its
row in parallel for short rows and merge-sorts longer rows (see kernels/sort.cl)."""
from __future__ import annotations

import collections

from ..autograd import Function
from ..errors import ShapeError
from ..shapes import normalize_dim
from .gather import GatherDim

# torch.sort and torch.topk return these pairs (torch.return_types.sort / topk).
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopKResult = collections.namedtuple("topk", ["values", "indices"])


class Argsort(Function):
    """int64 stable sort order of x along axis (0-d x sorts as shape (1,)); an order has no
    gradient, so this is never recorded."""

    name = "argsort"

    @staticmethod
    def forward(ctx, x, axis, descending):
        if not x.shape:
            x = ctx.backend.reshape(x, (1,))
        return ctx.backend.argsort(x, axis, descending)


def _order(op, x, dim, descending):
    """(axis, int64 stable sort order along axis); 0-d tensors sort as shape (1,)."""
    axis = normalize_dim(op, dim, x.ndim, x.shape)
    return axis, Argsort.apply(x, axis=axis, descending=descending)


def _values(x, order, axis):
    from .movement import reshape

    if x.ndim == 0:
        values = GatherDim.apply(reshape(x, (1,)), order, axis=0, distinct=True)
        return reshape(values, ()), reshape(order, ())
    return GatherDim.apply(x, order, axis=axis, distinct=True), order


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002 - PyTorch's names
    """Indices (int64, input's shape) that sort input along dim. Always stable: ties keep
    their index order (so `stable` changes nothing); NaN sorts as the largest value."""
    axis, order = _order("argsort", input, dim, descending)
    return order if input.ndim else order.reshape(())


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002 - PyTorch's names
    """(values, indices) of input sorted along dim; stable (ties keep index order), NaN
    largest, as torch.sort(stable=True). Differentiable in values."""
    axis, order = _order("sort", input, dim, descending)
    return SortResult(*_values(input, order, axis))


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's names
    """(values, indices) of the k largest (or smallest) elements along dim, in sorted order.
    Ties: the lower index first (PyTorch leaves their order unspecified)."""
    axis = normalize_dim("topk", dim, input.ndim, input.shape)
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= n:
        raise ShapeError(f"topk: k ({k}) is out of range for dimension {axis} of size {n} "
                         f"(input shape {tuple(input.shape)})")
    axis, order = _order("topk", input, dim, largest)
    if input.ndim:
        order = order[(slice(None),) * axis + (slice(0, k),)]
    values, order = _values(input, order, axis)
    return TopKResult(values, order)
