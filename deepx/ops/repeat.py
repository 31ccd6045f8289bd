"""Copies that rearrange whole slices: repeat, tile, flip, roll. repeat and roll compose
reshape/expand/slice/cat; flip is one strided copy with negative strides."""
from __future__ import annotations

from ..autograd import Function
from ..errors import ShapeError
from ..shapes import contiguous_strides, is_int, normalize_dim


class Flip(Function):
    """Reverse the order along `dims`: one strided copy; the gradient is flipped back."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.view = _flipped_view(x.shape, dims)
        return ctx.backend.strided_copy(x, *ctx.view)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.strided_copy(grad, *ctx.view)


def _flipped_view(shape, dims):
    """(shape, strides, offset) reading a C-contiguous array backwards along dims."""
    strides = list(contiguous_strides(shape))
    offset = 0
    for d in dims:
        if shape[d] > 1:
            offset += (shape[d] - 1) * strides[d]
        strides[d] = -strides[d]
    return tuple(shape), tuple(strides), offset


def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


def flip(input, dims):  # noqa: A002 - PyTorch's argument names
    """Reverse input along each dim in dims (int or sequence); same shape."""
    dims = (dims,) if is_int(dims) else tuple(dims)
    axes = tuple(normalize_dim("flip", d, input.ndim, input.shape) for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"flip: dims {dims} has a repeated dim (input shape "
                         f"{tuple(input.shape)})")
    if input.ndim == 0 or all(input.shape[a] <= 1 for a in axes):
        return Flip.apply(input, dims=())  # still a copy, as PyTorch's flip
    return Flip.apply(input, dims=axes)


def repeat(input, *sizes):  # noqa: A002 - PyTorch's argument names
    """Tensor.repeat: (*S) repeated r_i times along each dim -> (*(r_i * s_i)); sizes may add
    leading dims (len(sizes) >= ndim)."""
    from .movement import expand, reshape

    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise ShapeError(f"repeat: number of repeat dims {len(sizes)} can not be smaller than "
                         f"the number of dims of the tensor (shape {tuple(input.shape)})")
    if any(r < 0 for r in sizes):
        raise ShapeError(f"repeat: repeats {sizes} must be non-negative")
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    interleaved, expanded = [], []
    for r, n in zip(sizes, shape):
        interleaved += [1, n]
        expanded += [r, n]
    x = expand(reshape(input, tuple(interleaved)), tuple(expanded))
    return reshape(x, tuple(r * n for r, n in zip(sizes, shape)))


def tile(input, dims):  # noqa: A002 - PyTorch's argument names
    """torch.tile: repeat with dims padded by leading 1s to input.ndim."""
    dims = _sizes((dims,))
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def roll(input, shifts, dims=None):  # noqa: A002 - PyTorch's argument names
    """Shift elements cyclically by shifts along dims (both int or sequences of one length);
    dims None rolls the flattened tensor and restores the shape."""
    from .movement import cat, reshape

    if dims is None:
        if not is_int(shifts) and len(shifts) != 1:
            raise ShapeError(f"roll: shifts {shifts} needs dims when it has several values")
        shift = shifts if is_int(shifts) else shifts[0]
        return reshape(roll(reshape(input, (-1,)), shift, 0), tuple(input.shape))
    shifts = (shifts,) if is_int(shifts) else tuple(shifts)
    dims = (dims,) if is_int(dims) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} should have the same length")
    out = input
    for shift, dim in zip(shifts, dims):
        axis = normalize_dim("roll", dim, input.ndim, input.shape)
        n = input.shape[axis] if input.ndim else 1
        s = shift % n if n else 0
        if s:
            lead = (slice(None),) * axis
            out = cat([out[lead + (slice(n - s, n),)], out[lead + (slice(0, n - s),)]], axis)
    return out
