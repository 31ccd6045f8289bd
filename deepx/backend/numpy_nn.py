"""NumPy reference versions of the fused neural-network primitives (im2col, pooling, ...).

Sliding windows are written as a loop over the kernel taps (kh, kw), each tap one strided
slice over every output position: short, vectorised, and deterministic.
"""
from __future__ import annotations

import numpy as np

from . import conv_out_size


def _tap(xp, i, j, stride, dilation, out_hw):
    """The (N, C, OH, OW) slice of padded xp that kernel tap (i, j) sees."""
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, out_hw
    return xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]


def _pad_for(x, kernel_size, stride, padding, dilation, out_hw):
    """x zero-padded so that every tap of every window (ceil_mode overhang too) is in range."""
    n, c, h, w = x.shape
    pads = []
    for size, k, s, p, d, o in zip((h, w), kernel_size, stride, padding, dilation, out_hw):
        span = (o - 1) * s + d * (k - 1) + 1
        pads.append((p, max(0, span - p - size)))
    return np.pad(x, ((0, 0), (0, 0), pads[0], pads[1]))


def _tap_positions(i, j, in_hw, stride, padding, dilation, out_hw):
    """Input row and column of tap (i, j) for every output: (OH, 1) and (1, OW) int arrays."""
    rows = np.arange(out_hw[0]) * stride[0] - padding[0] + i * dilation[0]
    cols = np.arange(out_hw[1]) * stride[1] - padding[1] + j * dilation[1]
    return rows[:, None], cols[None, :]


def _avg_divisor(in_hw, kernel_size, stride, padding, out_hw, count_include_pad, divisor):
    """(OH, OW) divisor per window, following PyTorch's avg_pool2d."""
    if divisor:
        return np.full(out_hw, float(divisor))
    counts = []
    for size, k, s, p, o in zip(in_hw, kernel_size, stride, padding, out_hw):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return (counts[0][:, None] * counts[1][None, :]).astype(np.float64)


class NumpyNNPrimitives:
    """Mixin of NumpyBackend: the nn primitives declared in deepx/backend/__init__.py."""

    def im2col(self, x, kernel_size, stride, padding, dilation):
        n, c, h, w = x.shape
        (kh, kw) = kernel_size
        out_hw = tuple(conv_out_size(*a) for a in zip((h, w), kernel_size, stride, padding,
                                                        dilation))
        xp = _pad_for(x, kernel_size, stride, padding, dilation, out_hw)
        cols = np.empty((n, c, kh, kw) + out_hw, dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = _tap(xp, i, j, stride, dilation, out_hw)
        return cols.reshape(n, c * kh * kw, out_hw[0] * out_hw[1])

    def col2im(self, cols, input_shape, kernel_size, stride, padding, dilation):
        n, c, h, w = input_shape
        (kh, kw), (ph, pw) = kernel_size, padding
        out_hw = tuple(conv_out_size(*a) for a in zip((h, w), kernel_size, stride, padding,
                                                        dilation))
        xp = _pad_for(np.zeros(input_shape, cols.dtype), kernel_size, stride, padding,
                      dilation, out_hw)
        cols = cols.reshape((n, c, kh, kw) + out_hw)
        for i in range(kh):
            for j in range(kw):
                _tap(xp, i, j, stride, dilation, out_hw)[...] += cols[:, :, i, j]
        return np.ascontiguousarray(xp[:, :, ph:ph + h, pw:pw + w])

    def max_pool2d(self, x, kernel_size, stride, padding, dilation, output_size):
        n, c, h, w = x.shape
        xp = _pad_for(x, kernel_size, stride, padding, dilation, output_size)
        best = np.zeros((n, c) + tuple(output_size), dtype=x.dtype)  # the first tap replaces it
        argmax = np.zeros(best.shape, dtype=np.int64)
        found = np.zeros(output_size, dtype=bool)
        for i in range(kernel_size[0]):
            for j in range(kernel_size[1]):
                rows, cols = _tap_positions(i, j, (h, w), stride, padding, dilation, output_size)
                valid = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
                v = _tap(xp, i, j, stride, dilation, output_size)
                # PyTorch's rule: the first valid tap, then strictly greater values or any NaN.
                take = valid & (~found | (v > best) | np.isnan(v))
                best = np.where(take, v, best)
                argmax = np.where(take, rows * w + cols, argmax)
                found |= valid
        return best, argmax

    def max_pool2d_backward(self, grad, argmax, input_size, kernel_size, stride, padding,
                            dilation):
        n, c, oh, ow = grad.shape
        hw = input_size[0] * input_size[1]
        out = np.zeros((n * c, hw), dtype=grad.dtype)
        plane = np.arange(n * c, dtype=np.int64)[:, None] * hw
        np.add.at(out.reshape(-1), (argmax.reshape(n * c, oh * ow) + plane).reshape(-1),
                  grad.reshape(-1))
        return out.reshape((n, c) + tuple(input_size))

    def avg_pool2d(self, x, kernel_size, stride, padding, output_size, count_include_pad,
                   divisor):
        n, c, h, w = x.shape
        ones = (1, 1)
        xp = _pad_for(x, kernel_size, stride, padding, ones, output_size)
        total = np.zeros((n, c) + tuple(output_size), dtype=x.dtype)
        for i in range(kernel_size[0]):
            for j in range(kernel_size[1]):
                total += _tap(xp, i, j, stride, ones, output_size)
        div = _avg_divisor((h, w), kernel_size, stride, padding, output_size,
                           count_include_pad, divisor)
        return (total / div.astype(x.dtype)).astype(x.dtype)

    def avg_pool2d_backward(self, grad, input_size, kernel_size, stride, padding,
                            count_include_pad, divisor):
        n, c, oh, ow = grad.shape
        h, w = input_size
        ones = (1, 1)
        div = _avg_divisor((h, w), kernel_size, stride, padding, (oh, ow), count_include_pad,
                           divisor)
        share = grad / div.astype(grad.dtype)
        xp = _pad_for(np.zeros((n, c, h, w), grad.dtype), kernel_size, stride, padding, ones,
                      (oh, ow))
        for i in range(kernel_size[0]):
            for j in range(kernel_size[1]):
                _tap(xp, i, j, stride, ones, (oh, ow))[...] += share
        ph, pw = padding
        return np.ascontiguousarray(xp[:, :, ph:ph + h, pw:pw + w])

    def softmax(self, x, axis, log):
        with np.errstate(all="ignore"):
            z = x - np.max(x, axis=axis, keepdims=True) if x.size else x
            total = np.sum(np.exp(z), axis=axis, keepdims=True)
            out = z - np.log(total) if log else np.exp(z) / total
        return out.astype(x.dtype, copy=False)

    def softmax_backward(self, out, grad, axis, log):
        with np.errstate(all="ignore"):
            if log:
                dx = grad - np.exp(out) * np.sum(grad, axis=axis, keepdims=True)
            else:
                dx = out * (grad - np.sum(grad * out, axis=axis, keepdims=True))
        return dx.astype(out.dtype, copy=False)

    def cross_entropy(self, x, target, weight, ignore_index, label_smoothing):
        n, c = x.shape
        w = np.ones(c, dtype=x.dtype) if weight is None else weight
        valid = target != ignore_index
        bad = valid & ((target < 0) | (target >= c))  # NaN rows, as the kernel's device assert
        t = np.where(valid & ~bad, target, 0)
        with np.errstate(all="ignore"):
            m = np.max(x, axis=1, initial=-np.inf)
            lse = m + np.log(np.sum(np.exp(x - m[:, None]), axis=1))
            loss = w[t] * (lse - x[np.arange(n), t])
            if label_smoothing:
                smooth = np.sum(w[None, :] * (lse[:, None] - x), axis=1)
                loss = (1 - label_smoothing) * loss + label_smoothing / c * smooth
        loss = np.where(bad, np.nan, np.where(valid, loss, 0))
        return loss.astype(x.dtype), lse.astype(x.dtype)

    def cross_entropy_backward(self, x, lse, target, weight, grad, ignore_index,
                               label_smoothing):
        n, c = x.shape
        w = np.ones(c, dtype=x.dtype) if weight is None else weight
        valid = target != ignore_index
        bad = valid & ((target < 0) | (target >= c))
        t = np.where(valid & ~bad, target, 0)
        eps = label_smoothing
        with np.errstate(all="ignore"):
            p = np.exp(x - lse[:, None])
            # d loss / d x_j = p_j ((1-eps) w_t + eps W / C) - (1-eps) w_t [j = t] - eps w_j / C
            coef = (1 - eps) * w[t] + eps * np.sum(w) / c
            dx = p * coef[:, None] - eps / c * w[None, :]
            dx[np.arange(n), t] -= (1 - eps) * w[t]
            dx = np.where(valid[:, None], dx * grad[:, None], 0)
        return np.where(bad[:, None], np.nan, dx).astype(x.dtype)

    def norm_stats(self, x):
        with np.errstate(all="ignore"):
            mean = np.mean(x, axis=(0, 2))
            centered = x - mean[None, :, None]
            var = np.mean(centered * centered, axis=(0, 2))
        return np.stack([mean, var]).astype(x.dtype)
