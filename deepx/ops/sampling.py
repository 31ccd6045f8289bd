"""Resampling by index: F.pad's reflect/replicate/circular modes and F.interpolate(nearest).

Each picks source positions along one dim at a time, computed here in Python (kept on the
device per shape), and reads them with the differentiable Gather of ops/gather.py, whose
backward sums the gradient back into every source position that was read (so a pixel used
twice gets both gradients)."""
from __future__ import annotations

import array
import functools
import math

from .. import dtypes
from ..errors import ShapeError
from ..shapes import is_int, is_real

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


@functools.lru_cache(maxsize=256)
def _positions_tensor(device, positions):
    """positions (a tuple) as an int64 tensor on device, made once: a training step that pads
    or resizes the same shapes again copies nothing to the device and reads nothing back."""
    from ..creation import tensor

    return tensor(list(positions), dtype=dtypes.int64, device=device)


def _select(x, dim, positions):
    from .gather import Gather

    positions = tuple(positions)
    if positions == tuple(range(x.shape[dim])):
        return x
    # The positions are valid by construction: no range check (index_select reads the device).
    return Gather.apply(x, _positions_tensor(x.device, positions), axis=dim)


def _pad_positions(mode, n, lo, hi, shape):
    if mode == "reflect" and (lo >= n or hi >= n):
        raise ShapeError(f"pad: padding ({lo}, {hi}) should be less than the input dimension "
                         f"{n} for mode 'reflect' (input shape {shape})")
    if mode == "circular" and (lo > n or hi > n):
        raise ShapeError(f"pad: padding ({lo}, {hi}) should be at most the input dimension "
                         f"{n} for mode 'circular' (input shape {shape})")
    if mode == "replicate" and n == 0:
        raise ShapeError(f"pad: cannot replicate-pad an empty dimension (input shape {shape})")
    out = []
    for p in range(-lo, n + hi):
        if mode == "reflect":
            p = -p if p < 0 else (2 * (n - 1) - p if p >= n else p)
        elif mode == "replicate":
            p = min(max(p, 0), n - 1)
        else:
            p %= n
        out.append(p)
    return out


def pad(input, pad, mode="constant", value=None):  # noqa: A002 - PyTorch's argument names
    """F.pad: pad = (last_lo, last_hi, prev_lo, prev_hi, ...). 'constant' pads any dims with
    value (default 0); 'reflect', 'replicate' and 'circular' pad the last 1, 2 or 3 dims of a
    2-3-D, 3-4-D or 4-5-D input (PyTorch's combinations)."""
    from .movement import pad as constant_pad

    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    if mode == "constant":
        return constant_pad(input, pad, value=0.0 if value is None else value)
    pad = tuple(int(p) for p in pad)
    k = len(pad) // 2
    shape = tuple(input.shape)
    if len(pad) % 2 or k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise ShapeError(f"pad: padding size {len(pad)} is not supported for a {input.ndim}-D "
                         f"input (shape {shape}) in mode {mode!r}: 2-D or 3-D input takes 2 "
                         "values, 3-D or 4-D takes 4, 4-D or 5-D takes 6")
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    if any(p < 0 for p in pad):
        raise ShapeError(f"pad: negative padding {pad} is not supported in mode {mode!r}")
    out = input
    for i in range(k):
        dim = input.ndim - 1 - i
        positions = _pad_positions(mode, shape[dim], pad[2 * i], pad[2 * i + 1], shape)
        out = _select(out, dim, positions)
    return out


def _f32(v):
    """v rounded to float32, as PyTorch's nearest-neighbour index math runs in float."""
    return array.array("f", [v])[0]


def _nearest_positions(n_in, n_out, scale_factor):
    if n_out == n_in:
        return list(range(n_out))
    if n_out == 2 * n_in:
        return [j >> 1 for j in range(n_out)]
    scale = _f32(1.0 / scale_factor) if scale_factor else _f32(_f32(n_in) / n_out)
    return [min(int(math.floor(_f32(_f32(j) * scale))), n_in - 1) for j in range(n_out)]


def interpolate(input, size=None, scale_factor=None, mode="nearest",  # noqa: A002
                align_corners=None, recompute_scale_factor=None, antialias=False):
    """F.interpolate with mode='nearest' on (N, C, L), (N, C, H, W) or (N, C, D, H, W):
    out[j] = in[min(floor(j * scale), n - 1)], scale = 1 / scale_factor or in / out."""
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is supported, got {mode!r}")
    if align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if antialias:
        raise ValueError("interpolate: anti-alias option is only supported for bilinear and "
                         "bicubic modes")
    shape = tuple(input.shape)
    if input.ndim not in (3, 4, 5):
        raise ShapeError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial), "
                         f"got shape {shape}")
    spatial = input.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        sizes = [int(size)] * spatial if is_int(size) else [int(s) for s in size]
        scales = [None] * spatial
    else:
        scales = ([float(scale_factor)] * spatial if is_real(scale_factor)
                  else [float(s) for s in scale_factor])
        sizes = [int(math.floor(n * s)) for n, s in zip(shape[2:], scales)]
        if recompute_scale_factor:
            scales = [None] * spatial
    if len(sizes) != spatial or len(scales) != spatial:
        raise ShapeError(f"interpolate: size/scale_factor needs {spatial} values for input "
                         f"shape {shape}, got size={size} scale_factor={scale_factor}")
    if any(s <= 0 for s in sizes):
        raise ShapeError(f"interpolate: output size {tuple(sizes)} should be positive for "
                         f"input shape {shape}")
    out = input
    for i, (n_out, scale) in enumerate(zip(sizes, scales)):
        out = _select(out, 2 + i, _nearest_positions(shape[2 + i], n_out, scale))
    return out
