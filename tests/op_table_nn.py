"""Op-table entries for deepx.nn.functional: convolution, pooling, activations, norms, losses.

References are written independently of the primitives: windows come from NumPy's
sliding_window_view (not from a tap loop or im2col), losses from their textbook formulas.
Gradcheck samples stay under ~150 input elements; larger shapes are `big` (agreement only).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from op_table import OpInfo, Sample, away_from_zero, distinct, rand, torch_fn

import deepx as dx
import deepx.nn.functional as F
from deepx.backend.numpy_backend import random_bits
from deepx.ops import activation as act
from deepx.ops import conv, loss, norm, pool
from deepx.ops import elementwise as ew
from deepx.ops import gather as gs
from deepx.ops import matmul as mm
from deepx.ops import movement as mv
from deepx.ops import reduce as rd


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------- convolution
def _windows(xp, kernel, stride, dilation):
    """(N, C, OH, OW, KH, KW) view of every (dilated, strided) window of padded xp."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    view = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def _conv2d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if x.ndim == 3:  # unbatched (C, H, W)
        return _conv2d_ref(x[None], w, b, stride, padding, dilation, groups)[0]
    kernel, dil = w.shape[2:], _pair(dilation)
    if padding == "same":
        total = [d * (k - 1) for k, d in zip(kernel, dil)]
        pads = [(t // 2, t - t // 2) for t in total]
    else:
        pads = [(p, p) for p in _pair(padding)]
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    win = _windows(xp, kernel, _pair(stride), dil)
    n, c, oh, ow, kh, kw = win.shape
    o = w.shape[0]
    win = win.reshape(n, groups, c // groups, oh, ow, kh, kw)
    wg = w.reshape(groups, o // groups, c // groups, kh, kw)
    out = np.einsum("ngchwij,gocij->ngohw", win, wg).reshape(n, o, oh, ow)
    return out if b is None else out + b[None, :, None, None]


def _conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    out = _conv2d_ref(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding),
                      (1, dilation), groups)
    return out[:, :, 0]


def _conv_samples(rng):
    cases = [  # (x shape, w shape, bias, kwargs, name)
        ((1, 1, 5, 5), (1, 1, 3, 3), True, {}, "batch1-c1"),
        ((1, 3, 4, 5), (2, 3, 2, 3), True, {"stride": 2, "padding": 1}, "c3-s2-p1-nonsquare"),
        ((2, 2, 5, 4), (2, 1, 3, 2), False, {"padding": (1, 0), "dilation": (2, 1),
                                             "groups": 2}, "groups2-dilated"),
        ((1, 4, 3, 5), (4, 2, 1, 3), True, {"stride": (1, 2), "padding": (0, 1), "groups": 2},
         "groups2-1x3"),
        ((2, 1, 7, 6), (3, 1, 2, 2), True, {"stride": 3, "padding": 1}, "odd-s3"),
        ((1, 2, 4, 4), (2, 2, 2, 2), False, {"padding": "same"}, "same-asymmetric"),
        ((2, 4, 9, 8), (6, 2, 3, 2), True, {"stride": (2, 1), "padding": (1, 2),
                                            "dilation": (1, 2), "groups": 2}, "all-pairs"),
        ((1, 3, 6, 7), (2, 3, 4, 3), False, {"padding": "same", "dilation": (1, 2)},
         "same-dilated"),
        ((3, 6, 6), (2, 3, 3, 3), False, {"stride": 2}, "unbatched"),
    ]
    big = [
        ((4, 1, 28, 28), (6, 1, 5, 5), True, {"padding": 2}, "lenet1"),
        ((2, 6, 14, 14), (16, 6, 5, 5), True, {}, "lenet2"),
        ((2, 16, 9, 9), (32, 16, 3, 3), True, {"stride": 2, "padding": 1}, "s2p1"),
        ((2, 8, 13, 11), (8, 2, 3, 3), False, {"padding": 1, "groups": 4}, "groups4"),
        ((1, 3, 17, 19), (5, 3, 3, 5), True, {"dilation": 2, "padding": (2, 4)}, "dilated"),
    ]
    out = []
    for (xs, ws, bias, kw, name), is_big in [(c, False) for c in cases] + [(c, True)
                                                                            for c in big]:
        inputs = (rand(rng, *xs), rand(rng, *ws)) + ((rand(rng, ws[0]),) if bias else ())
        out.append(Sample(inputs, kw, name=name, big=is_big))
    return out


def _conv1d_samples(rng):
    return [Sample((rand(rng, 2, 3, 9), rand(rng, 4, 3, 3), rand(rng, 4)),
                   {"stride": 2, "padding": 1}, name="s2p1"),
            Sample((rand(rng, 1, 4, 8), rand(rng, 2, 2, 2)), {"dilation": 3, "groups": 2},
                   name="dilated-groups"),
            Sample((rand(rng, 2, 3, 11), rand(rng, 4, 3, 3), rand(rng, 4)),
                   {"stride": 2, "padding": 2, "dilation": 2}, name="s2p2d2"),
            Sample((rand(rng, 8, 16, 100), rand(rng, 32, 16, 5), rand(rng, 32)),
                   {"padding": 2}, name="big", big=True)]


def _linear_ref(x, w, b=None):
    out = x @ w.T
    return out if b is None else out + b


def _linear_samples(rng):
    return [Sample((rand(rng, 3, 4), rand(rng, 5, 4), rand(rng, 5)), name="bias"),
            Sample((rand(rng, 2, 3, 4), rand(rng, 2, 4)), name="3d-nobias"),
            Sample((rand(rng, 4), rand(rng, 3, 4), rand(rng, 3)), name="1d"),
            Sample((rand(rng, 2, 3, 5), rand(rng, 4, 5), rand(rng, 4)), name="3d-bias"),
            Sample((rand(rng, 127, 257), rand(rng, 33, 257), rand(rng, 33)), name="big",
                   big=True)]


# ---------------------------------------------------------------- pooling
def _pool_out(size, k, s, p, d, ceil_mode):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    return out - 1 if ceil_mode and (out - 1) * s >= size + p else out


def _pool_pad(x, kernel, stride, padding, dilation, ceil_mode, value):
    """x padded with `value`, with room for the ceil_mode overhang; and the output size."""
    out = [_pool_out(n, k, s, p, d, ceil_mode)
           for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)]
    pads = [(p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
            for n, k, s, p, d, o in zip(x.shape[2:], kernel, stride, padding, dilation, out)]
    return np.pad(x, [(0, 0), (0, 0)] + pads, constant_values=value), out


def _max_pool_ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    k, p, d = _pair(kernel_size), _pair(padding), _pair(dilation)
    s = k if stride is None else _pair(stride)
    xp, (oh, ow) = _pool_pad(x, k, s, p, d, ceil_mode, -np.inf)
    return _windows(xp, k, s, d)[:, :, :oh, :ow].max(axis=(-2, -1))


def _avg_pool_ref(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                  count_include_pad=True, divisor_override=None):
    k, p = _pair(kernel_size), _pair(padding)
    s, one = (k if stride is None else _pair(stride)), (1, 1)
    xp, (oh, ow) = _pool_pad(x, k, s, p, one, ceil_mode, 0.0)
    total = _windows(xp, k, s, one)[:, :, :oh, :ow].sum(axis=(-2, -1))
    if divisor_override:
        return total / divisor_override
    # Count the window cells inside the input (or inside the padded input) with a mask.
    h, w = x.shape[2:]
    mask = np.zeros((1, 1) + xp.shape[2:])
    lo = (0, 0) if count_include_pad else p
    hi = (h + 2 * p[0], w + 2 * p[1]) if count_include_pad else (h + p[0], w + p[1])
    mask[:, :, lo[0]:hi[0], lo[1]:hi[1]] = 1
    return total / _windows(mask, k, s, one)[:, :, :oh, :ow].sum(axis=(-2, -1))


def _max_pool_samples(rng):
    cases = [((1, 1, 5, 5), {"kernel_size": 2}, "k2"),
             ((2, 3, 5, 7), {"kernel_size": 3, "stride": 2, "padding": 1}, "k3s2p1"),
             ((1, 2, 6, 5), {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (2, 1)},
              "dilated-nonsquare"),
             ((1, 1, 7, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}, "ceil"),
             ((1, 3, 4, 4), {"kernel_size": 2, "stride": 1, "padding": 1}, "overlap-pad"),
             ((2, 3, 9, 8), {"kernel_size": (3, 2), "stride": 2, "padding": 1,
                             "dilation": (1, 2), "ceil_mode": True}, "ceil-dilated")]
    big = [((4, 6, 28, 28), {"kernel_size": 2}, "lenet"),
           ((2, 8, 13, 13), {"kernel_size": 3, "stride": 2}, "alexnet"),
           ((1, 16, 56, 56), {"kernel_size": 3, "stride": 2, "padding": 1}, "resnet")]
    return ([Sample((distinct(rng, *s),), kw, name=n) for s, kw, n in cases]
            + [Sample((distinct(rng, *s),), kw, name=n, big=True) for s, kw, n in big])


def _max_pool_int_samples(rng):
    """Integer inputs (PyTorch's CPU max pooling takes them): many ties, negatives."""
    def ints(*shape, dtype=np.int64):
        return rng.integers(-5, 5, size=shape).astype(dtype)

    return [Sample((ints(2, 3, 7, 9),), {"kernel_size": 2}, name="k2-int64"),
            Sample((ints(1, 2, 6, 5, dtype=np.int32),), {"kernel_size": 3, "stride": 2,
                                                          "padding": 1}, name="k3s2p1-int32"),
            Sample((ints(1, 1, 7, 7),), {"kernel_size": 2, "ceil_mode": True}, name="ceil")]


def _avg_pool_samples(rng):
    cases = [((1, 1, 5, 5), {"kernel_size": 2}, "k2"),
             ((2, 3, 5, 7), {"kernel_size": 3, "stride": 2, "padding": 1}, "k3s2p1"),
             ((1, 2, 5, 6), {"kernel_size": (3, 2), "padding": (1, 1),
                             "count_include_pad": False}, "exclude-pad"),
             ((1, 1, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
              "ceil"),
             ((1, 2, 4, 5), {"kernel_size": 2, "divisor_override": 3}, "divisor"),
             ((2, 3, 9, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                             "count_include_pad": False}, "ceil-exclude"),
             ((1, 2, 7, 7), {"kernel_size": 2, "divisor_override": 3}, "divisor-odd")]
    big = [((4, 6, 28, 28), {"kernel_size": 2}, "lenet"),
           ((2, 8, 15, 13), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                             "count_include_pad": False}, "ceil-exclude")]
    return ([Sample((rand(rng, *s),), kw, name=n) for s, kw, n in cases]
            + [Sample((rand(rng, *s),), kw, name=n, big=True) for s, kw, n in big])


def _adaptive_ref(x, output_size):
    oh, ow = _pair(output_size)
    h, w = x.shape[2:]
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
            c0, c1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return out


def _adaptive_samples(rng):
    return [Sample((rand(rng, 2, 3, 4, 5),), {"output_size": 1}, name="global"),
            Sample((rand(rng, 1, 2, 4, 6),), {"output_size": (2, 3)}, name="divisible"),
            Sample((rand(rng, 1, 2, 5, 7),), {"output_size": (3, 2)}, name="uneven"),
            Sample((rand(rng, 2, 3, 7, 5),), {"output_size": (3, 2)}, name="uneven-batch"),
            Sample((rand(rng, 2, 3, 7, 5),), {"output_size": 1}, name="global-odd"),
            Sample((rand(rng, 8, 64, 7, 7),), {"output_size": 1}, name="big", big=True)]


# ---------------------------------------------------------------- activations
_erf = np.vectorize(math.erf)


def _gelu_ref(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _softplus_ref(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax_ref(x, dim):
    return np.log(_softmax_ref(x, dim))


def _prelu_ref(x, w):
    wb = w.reshape((-1,) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())
    return np.where(x > 0, x, wb * x)


def _act_samples(make, **kwargs):
    def gen(rng):
        shapes = [(7,), (3, 5), (2, 3, 4)]
        return ([Sample((make(rng, *s),), dict(kwargs), name=str(s)) for s in shapes]
                + [Sample((make(rng, 3, 7) * 3,), dict(kwargs), name="wide")]
                + [Sample((make(rng, 1000),), dict(kwargs), name="big", big=True)])
    return gen


def _off_kinks(kinks, scale):
    """Samples rand * scale with every value at least 0.05 away from each kink."""
    def make(rng, *shape):
        x = rand(rng, *shape) * scale
        for k in kinks:
            x = np.where(np.abs(x - k) < 0.05, k + 0.1 * np.sign(x - k + 1e-9), x)
        return x
    return make


def _softplus_samples(rng):
    return _act_samples(rand, beta=2.0, threshold=3.0)(rng) + [
        Sample((rand(rng, 3, 7) * 5,), {"beta": 2.0, "threshold": 4.0}, name="threshold4")]


def _softmax_samples(rng):
    cases = [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), -1), ((), 0),
             ((2, 5, 3), 1), ((4, 300), -1)]
    big = [((64, 1000), 1), ((127, 33), 0)]
    out = [Sample((rand(rng, *s),), {"dim": d}, name=f"{s}d{d}") for s, d in cases]
    out.append(Sample((rand(rng, 4, 5) * 40,), {"dim": 1}, name="wide-range"))
    return out + [Sample((rand(rng, *s),), {"dim": d}, name=f"{s}d{d}", big=True)
                  for s, d in big]


def _prelu_samples(rng):
    return [Sample((away_from_zero(rng, 2, 3, 4), rand(rng, 3)), name="channels"),
            Sample((away_from_zero(rng, 4, 5), rand(rng, 1)), name="shared"),
            Sample((away_from_zero(rng, 2, 3, 4, 4), rand(rng, 3)), name="4d"),
            Sample((away_from_zero(rng, 8, 16, 9, 9), rand(rng, 16)), name="big", big=True)]


# ---------------------------------------------------------------- normalisation, dropout
def _batch_norm_fn(x, rm, rv, w=None, b=None, **kw):
    return F.batch_norm(x, rm, rv, w, b, **kw)


def _batch_norm_ref(x, rm, rv, w=None, b=None, training=False, momentum=0.1, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = (x.mean(axis=axes), x.var(axis=axes)) if training else (rm, rv)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        out = out * w.reshape(shape)
    return out if b is None else out + b.reshape(shape)


def _batch_norm_samples(rng):
    def stats(c):
        return rand(rng, c), rng.uniform(0.5, 2.0, c)

    no, yes = (False,), (True,)
    cases = [((4, 3), True, True, {"training": True}, "2d-train"),
             ((2, 3, 2, 3), True, True, {"training": True}, "4d-train"),
             ((3, 2, 5), False, False, {"training": True, "eps": 1e-3}, "3d-noaffine"),
             ((2, 3, 2, 2), True, True, {"training": False}, "4d-eval"),
             ((5, 4), True, False, {"training": False}, "2d-eval")]
    big = [((8, 64, 14, 14), True, True, {"training": True}, "resnet"),
           ((128, 256), True, True, {"training": True}, "mlp")]
    out = []
    for (s, has_w, has_b, kw, name), is_big in ([(c, False) for c in cases]
                                                + [(c, True) for c in big]):
        c = s[1]
        inputs = (rand(rng, *s),) + stats(c)
        grads = yes + no + no
        if has_w:
            inputs += (rng.uniform(0.5, 1.5, c),)
            grads += yes
        if has_b:
            inputs += (rand(rng, c),)
            grads += yes
        out.append(Sample(inputs, kw, name=name, big=is_big, requires_grad=grads))
    return out


def _layer_norm_fn(x, w=None, b=None, **kw):
    return F.layer_norm(x, kw.pop("normalized_shape"), w, b, **kw)


def _layer_norm_ref(x, w=None, b=None, normalized_shape=None, eps=1e-5):
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    out = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if w is not None:
        out = out * w
    return out if b is None else out + b


def _layer_norm_samples(rng):
    return [Sample((rand(rng, 3, 5), rand(rng, 5), rand(rng, 5)), {"normalized_shape": 5},
                   name="rows"),
            Sample((rand(rng, 2, 3, 4), rand(rng, 3, 4), rand(rng, 3, 4)),
                   {"normalized_shape": (3, 4)}, name="2dims"),
            Sample((rand(rng, 4, 6),), {"normalized_shape": (6,), "eps": 1e-3}, name="plain"),
            Sample((rand(rng, 2, 5, 3, 4), rand(rng, 3, 4), rand(rng, 3, 4)),
                   {"normalized_shape": (3, 4)}, name="4d"),
            Sample((rand(rng, 64, 49, 96), rand(rng, 96), rand(rng, 96)),
                   {"normalized_shape": 96}, name="big", big=True)]


def _seeded(fn):
    """Reseed before each call so every evaluation (gradcheck, both devices) draws one mask."""
    def call(*args, **kwargs):
        dx.manual_seed(0)
        return fn(*args, **kwargs)
    return call


def _dropout_ref(x, p=0.5, training=True):
    if not training:
        return x
    u = (random_bits(0, np.arange(x.size)) >> np.uint32(8)).astype(np.float64) * 2.0 ** -24
    keep = u.reshape(x.shape) >= p
    return np.where(keep, x / (1 - p), 0.0) if p < 1 else np.zeros_like(x)


def _dropout_samples(rng):
    return [Sample((rand(rng, 5, 7),), {"p": 0.3}, name="p0.3"),
            Sample((rand(rng, 64),), {"p": 0.5}, name="p0.5"),
            Sample((rand(rng, 2, 3),), {"p": 0.0}, name="p0"),
            Sample((rand(rng, 3, 4),), {"p": 1.0}, name="p1"),
            Sample((rand(rng, 4, 5),), {"p": 0.5, "training": False}, name="eval"),
            Sample((rand(rng, 127, 129),), {"p": 0.25}, name="big", big=True)]


def _dropout2d_ref(x, p=0.5, training=True):
    if not training or p == 0:
        return x
    planes = x.shape[:-2]
    u = (random_bits(0, np.arange(math.prod(planes))) >> np.uint32(8)) * 2.0 ** -24
    keep = (u.reshape(*planes, 1, 1) >= p).astype(np.float64)
    return x * (keep * (1.0 / (1.0 - p))) if p < 1 else np.zeros_like(x)


def _dropout2d_samples(rng):
    return [Sample((rand(rng, 3, 5, 2, 7),), {"p": 0.5}, name="nchw"),
            Sample((rand(rng, 13, 1, 3),), {"p": 0.3}, name="chw"),
            Sample((rand(rng, 2, 3, 4, 1),), {"p": 1.0}, name="p1"),
            Sample((rand(rng, 2, 3, 4, 4),), {"p": 0.5, "training": False}, name="eval"),
            Sample((rand(rng, 8, 64, 9, 9),), {"p": 0.2}, name="big", big=True)]


# ---------------------------------------------------------------- losses
def _reduce_ref(loss, reduction):
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def _rows(x, t):
    """(N, C, *) logits and (N, *) targets as (M, C) rows and (M,) targets."""
    if x.ndim == 1:
        return x[None], np.asarray(t).reshape(1)
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]), t.reshape(-1)


def _cross_entropy_fn(x, t, w=None, **kw):
    return F.cross_entropy(x, t, weight=w, **kw)


def _cross_entropy_ref(x, t, w=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    rows, tt = _rows(x, t)
    m, c = rows.shape
    w = np.ones(c) if w is None else w
    top = rows.max(axis=1, keepdims=True)
    logp = rows - top - np.log(np.exp(rows - top).sum(axis=1, keepdims=True))
    valid = tt != ignore_index
    safe = np.where(valid, tt, 0)
    nll = -w[safe] * logp[np.arange(m), safe] * valid
    smooth = -(w * logp).sum(axis=1) * valid
    loss = (1 - label_smoothing) * nll + label_smoothing / c * smooth
    if reduction == "mean":
        return loss.sum() / (w[safe] * valid).sum()
    return loss.reshape(np.shape(t)) if reduction == "none" else loss.sum()


def _nll_fn(x, t, w=None, **kw):
    return F.nll_loss(x, t, weight=w, **kw)


def _nll_ref(x, t, w=None, ignore_index=-100, reduction="mean"):
    rows, tt = _rows(x, t)
    m, c = rows.shape
    w = np.ones(c) if w is None else w
    valid = tt != ignore_index
    safe = np.where(valid, tt, 0)
    loss = -w[safe] * rows[np.arange(m), safe] * valid
    if reduction == "mean":
        return loss.sum() / (w[safe] * valid).sum()
    return loss.reshape(np.shape(t)) if reduction == "none" else loss.sum()


def _class_samples(rng, extreme=False):
    def targets(*shape, c):
        return rng.integers(0, c, size=shape).astype(np.int64)

    ignored = targets(6, c=4)
    ignored[[1, 4]] = -100
    no_grad_w = (True, False, False)
    cases = [Sample((rand(rng, 4, 5), targets(4, c=5)), name="mean"),
             Sample((rand(rng, 4, 5), targets(4, c=5)), {"reduction": "sum"}, name="sum"),
             Sample((rand(rng, 3, 6), targets(3, c=6)), {"reduction": "none"}, name="none"),
             Sample((rand(rng, 6, 4), ignored), name="ignore_index"),
             Sample((rand(rng, 5, 3), targets(5, c=3), rng.uniform(0.5, 2, 3)),
                    name="weight", requires_grad=no_grad_w),
             Sample((rand(rng, 6, 5), np.array([-100, 1, 4, -100, 0, 2], dtype=np.int64),
                     rng.uniform(0.5, 2, 5)), name="weight-ignore", requires_grad=no_grad_w),
             Sample((rand(rng, 2, 3, 2, 2), targets(2, 2, 2, c=3)), name="k-dim"),
             Sample((rand(rng, 5), np.array(3, dtype=np.int64)), name="unbatched"),
             Sample((rand(rng, 64, 10), targets(64, c=10)), name="big", big=True),
             Sample((rand(rng, 32, 1000), targets(32, c=1000)), {"reduction": "sum"},
                    name="big-wide", big=True)]
    if extreme:
        cases.append(Sample((rand(rng, 4, 6) * 5000, targets(4, c=6)), name="extreme"))
    return cases


def _cross_entropy_samples(rng):
    cases = _class_samples(rng, extreme=True)
    cases.append(Sample((rand(rng, 6, 4), np.array([0, -100, 3, 1, 2, 3], dtype=np.int64),
                         rng.uniform(0.5, 2, 4)), {"label_smoothing": 0.2},
                        name="smoothing-weight-ignore", requires_grad=(True, False, False)))
    cases.append(Sample((rand(rng, 5, 4), np.array([0, 1, 2, 3, 0], dtype=np.int64)),
                        {"label_smoothing": 0.1, "reduction": "none"}, name="smoothing"))
    cases.append(Sample((rand(rng, 6, 5), np.array([1, 0, -100, 4, 2, 3], dtype=np.int64),
                         rng.uniform(0.5, 2, 5)), {"label_smoothing": 0.15},
                        name="smoothing0.15-weight-ignore", requires_grad=(True, False, False)))
    cases.append(Sample((rand(rng, 2, 4, 3, 2), rng.integers(0, 4, (2, 3, 2)).astype(np.int64)),
                        {"reduction": "none"}, name="k-dim-none"))
    return cases


def _pair_samples(make_y, big_shape=(64, 100)):
    def gen(rng):
        shapes = [(7,), (3, 4), (2, 3, 2)]
        out = []
        for i, s in enumerate(shapes):
            x = rand(rng, *s)
            kw = {"reduction": ("mean", "sum", "none")[i]}
            out.append(Sample((x, make_y(rng, x)), kw, name=f"{s}-{kw['reduction']}"))
        x = rand(rng, *big_shape)
        out.append(Sample((x, make_y(rng, x)), name="big", big=True))
        return out
    return gen


def _off_kink(rng, x):
    """A target whose difference from x keeps |d| away from 0 and from beta = 1."""
    d = rng.choice([0.2, 0.5, 1.5, 1.8], size=x.shape) + rng.uniform(-0.1, 0.1, x.shape)
    return x - d * rng.choice([-1.0, 1.0], size=x.shape)


def _smooth_l1_samples(rng):
    x = rand(rng, 3, 4) * 2
    d = rng.choice([0.2, 0.8, 1.5], size=x.shape) * rng.choice([-1.0, 1.0], size=x.shape)
    return _pair_samples(_off_kink)(rng) + [Sample((x, x - d), {"beta": 0.5}, name="beta0.5")]


def _any_target(rng, x):
    return rand(rng, *x.shape)


def _smooth_l1_ref(x, y, reduction="mean", beta=1.0):
    d = np.abs(x - y)
    return _reduce_ref(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def _bce_fn(x, y, w=None, **kw):
    return F.binary_cross_entropy(x, y, weight=w, **kw)


def _bce_ref(x, y, w=None, reduction="mean"):
    loss = -(y * np.log(x) + (1 - y) * np.log(1 - x))
    return _reduce_ref(loss if w is None else loss * w, reduction)


def _bce_samples(rng):
    def probs(*s):
        return rng.uniform(0.05, 0.95, size=s)
    return [Sample((probs(7), probs(7))),
            Sample((probs(3, 4), (probs(3, 4) > 0.5).astype(np.float64)), {"reduction": "sum"},
                   name="hard-targets"),
            Sample((probs(2, 5), probs(2, 5), rng.uniform(0.5, 2, 5)), {"reduction": "none"},
                   name="weight", requires_grad=(True, True, False)),
            Sample((probs(3, 4), rng.uniform(0, 1, (3, 4)), rng.uniform(0.5, 2, 4)),
                   name="weight-mean", requires_grad=(True, True, False)),
            Sample((probs(64, 100), probs(64, 100)), name="big", big=True)]


def _bce_logits_fn(x, y, w=None, pw=None, **kw):
    return F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, **kw)


def _bce_logits_ref(x, y, w=None, pw=None, reduction="mean"):
    log_sig, log_sig_neg = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    pw = 1.0 if pw is None else pw
    loss = -(pw * y * log_sig + (1 - y) * log_sig_neg)
    return _reduce_ref(loss if w is None else loss * w, reduction)


def _bce_logits_samples(rng):
    def probs(*s):
        return rng.uniform(0, 1, size=s)
    return [Sample((rand(rng, 7), probs(7))),
            Sample((rand(rng, 3, 4) * 30, (probs(3, 4) > 0.5).astype(np.float64)),
                   {"reduction": "sum"}, name="large-logits"),
            Sample((rand(rng, 3, 4) * 4, probs(3, 4)), name="wide-logits"),
            Sample((rand(rng, 2, 5), probs(2, 5), rng.uniform(0.5, 2, 5),
                    rng.uniform(0.5, 3, 5)), {"reduction": "none"}, name="weights",
                   requires_grad=(True, True, False, False)),
            Sample((rand(rng, 64, 100), probs(64, 100)), name="big", big=True)]


def _multi_margin_fn(x, t, w=None, **kw):
    return F.multi_margin_loss(x, t, weight=w, **kw)


def _multi_margin_ref(x, t, w=None, p=1, margin=1.0, reduction="mean"):
    rows, tt = _rows(x, t)
    m, c = rows.shape
    w = np.ones(c) if w is None else w
    picked = rows[np.arange(m), tt][:, None]
    h = np.maximum(0, margin - picked + rows) ** p * w[tt][:, None]
    h[np.arange(m), tt] = 0
    loss = (h.sum(axis=1) / c).reshape(np.shape(t))
    return _reduce_ref(loss, reduction)


def _multi_margin_samples(rng):
    def targets(n, c):
        return rng.integers(0, c, size=n).astype(np.int64)
    return [Sample((rand(rng, 4, 5), targets(4, 5)), name="p1"),
            Sample((rand(rng, 4, 5), targets(4, 5)), {"p": 2, "margin": 0.5,
                                                      "reduction": "sum"}, name="p2"),
            Sample((rand(rng, 3, 4), targets(3, 4), rng.uniform(0.5, 2, 4)),
                   {"reduction": "none"}, name="weight", requires_grad=(True, False, False)),
            Sample((rand(rng, 5, 4), targets(5, 4), rng.uniform(0.5, 2, 4)),
                   {"p": 2, "margin": 0.7}, name="p2-weight", requires_grad=(True, False, False)),
            Sample((rand(rng, 6), np.array(2, dtype=np.int64)), name="unbatched"),
            Sample((rand(rng, 64, 10), targets(64, 10)), name="big", big=True)]


def _hinge_ref(x, y, margin=1.0, reduction="mean"):
    loss = np.where(y == 1, x, np.maximum(0, margin - x))
    return _reduce_ref(loss, reduction)


def _hinge_samples(rng):
    def signs(*s):
        return rng.choice([-1, 1], size=s).astype(np.int64)
    return [Sample((rand(rng, 7), signs(7))),
            Sample((rand(rng, 3, 4), signs(3, 4).astype(np.float64)), {"margin": 0.5,
                                                                       "reduction": "sum"},
                   name="float-target", requires_grad=(True, False)),
            Sample((rand(rng, 2, 5), signs(2, 5)), {"reduction": "none"}, name="none"),
            Sample((rand(rng, 3, 4), signs(3, 4).astype(np.float64)),
                   {"margin": 0.5, "reduction": "none"}, name="float-target-none",
                   requires_grad=(True, False)),
            Sample((rand(rng, 64, 100), signs(64, 100)), name="big", big=True)]


# PyTorch twins of the calls above whose arguments torch spells differently.
def _torch_layer_norm(x, w=None, b=None, normalized_shape=None, eps=1e-5):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    return torch_fn("nn.functional.layer_norm")(x, tuple(shape), w, b, eps)


def _torch_cross_entropy(x, t, w=None, **kw):
    return torch_fn("nn.functional.cross_entropy")(x, t, weight=w, **kw)


def _torch_nll(x, t, w=None, **kw):
    return torch_fn("nn.functional.nll_loss")(x, t, weight=w, **kw)


def _torch_bce(x, y, w=None, **kw):
    return torch_fn("nn.functional.binary_cross_entropy")(x, y, weight=w, **kw)


def _torch_bce_logits(x, y, w=None, pw=None, **kw):
    return torch_fn("nn.functional.binary_cross_entropy_with_logits")(x, y, weight=w,
                                                                        pos_weight=pw, **kw)


def _torch_multi_margin(x, t, w=None, **kw):
    return torch_fn("nn.functional.multi_margin_loss")(x, t, weight=w, **kw)


def _tf(name):
    return torch_fn(f"nn.functional.{name}")


_LOSS_TOL = "float32 exp/log in the loss and a mean over the rows"
_CONV_TOL = ("K = C*KH*KW-long float32 dot products (K <= 400) summed in another order than "
             "NumPy's BLAS; col2im/weight sums add over up to N*OH*OW terms")

NN_OPS = [
    OpInfo("conv2d", F.conv2d, _conv2d_ref, _conv_samples, covers=(conv.Conv2dFunction, mv.Pad),
           atol32=1e-4, rtol32=1e-4, tol_reason=_CONV_TOL, torch=_tf("conv2d")),
    OpInfo("conv1d", F.conv1d, _conv1d_ref, _conv1d_samples, covers=(conv.Conv2dFunction,),
           atol32=1e-4, rtol32=1e-4, tol_reason=_CONV_TOL, torch=_tf("conv1d")),
    OpInfo("linear", F.linear, _linear_ref, _linear_samples, covers=(conv.LinearFunction,),
           atol32=1e-4, rtol32=1e-4, tol_reason="in-long float32 dot products",
           torch=_tf("linear")),
    OpInfo("max_pool2d", F.max_pool2d, _max_pool_ref, _max_pool_samples,
           covers=(pool.MaxPool2dFunction,), tol_reason="exact: a max selects one input",
           torch=_tf("max_pool2d")),
    OpInfo("max_pool2d_int", F.max_pool2d,
           lambda x, **kw: _max_pool_ref(x.astype(np.float64), **kw).astype(x.dtype),
           _max_pool_int_samples, covers=(pool.MaxPool2dFunction,), grad=False,
           tol_reason="exact: a max selects one input", torch=_tf("max_pool2d")),
    OpInfo("avg_pool2d", F.avg_pool2d, _avg_pool_ref, _avg_pool_samples,
           covers=(pool.AvgPool2dFunction,), tol_reason="sums of <= 9 terms and one division",
           torch=_tf("avg_pool2d")),
    OpInfo("adaptive_avg_pool2d", F.adaptive_avg_pool2d, _adaptive_ref, _adaptive_samples,
           covers=(pool.AvgPool2dFunction, rd.Sum, mm.MatMul), tol_reason="window means",
           torch=_tf("adaptive_avg_pool2d")),
    OpInfo("relu", F.relu, lambda x: np.maximum(x, 0), _act_samples(away_from_zero),
           covers=(act.ReLUFunction,), tol_reason="exact", torch=_tf("relu")),
    OpInfo("hardtanh", F.hardtanh, lambda x, min_val=-1.0, max_val=1.0: np.clip(
        x, min_val, max_val), _act_samples(_off_kinks((-1.0, 1.0, -0.5, 0.7), 1.0)),
        covers=(act.Hardtanh,), tol_reason="exact", torch=_tf("hardtanh")),
    OpInfo("hardtanh_bounds", F.hardtanh, lambda x, min_val=-1.0, max_val=1.0: np.clip(
        x, min_val, max_val), _act_samples(_off_kinks((-0.5, 0.7), 1.0), min_val=-0.5,
                                           max_val=0.7),
        covers=(act.Hardtanh,), tol_reason="exact", torch=_tf("hardtanh")),
    OpInfo("relu6", F.relu6, lambda x: np.clip(x, 0, 6), _act_samples(_off_kinks((0.0, 6.0), 3.0)),
           covers=(act.Hardtanh,), tol_reason="exact", torch=_tf("relu6")),
    OpInfo("leaky_relu", F.leaky_relu, lambda x, negative_slope=0.01: np.where(
        x > 0, x, negative_slope * x), _act_samples(away_from_zero, negative_slope=0.2),
        covers=(act.LeakyReLUFunction,), tol_reason="one multiplication", torch=_tf("leaky_relu")),
    OpInfo("prelu", F.prelu, _prelu_ref, _prelu_samples, covers=(act.PReLUFunction,),
           tol_reason="one multiplication; weight grads sum over N*H*W", torch=_tf("prelu")),
    OpInfo("elu", F.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(x)),
           _act_samples(away_from_zero, alpha=0.7), covers=(act.ELUFunction,), atol32=2e-6,
           tol_reason="float32 expm1: a few ulps", torch=_tf("elu")),
    OpInfo("gelu", F.gelu, _gelu_ref, _act_samples(rand), covers=(act.GELUFunction,), atol32=2e-6,
           rtol32=1e-5, tol_reason="float32 erf and exp: a few ulps", torch=_tf("gelu")),
    OpInfo("gelu_tanh", F.gelu, _gelu_ref, _act_samples(rand, approximate="tanh"),
           covers=(act.GELUFunction,), atol32=2e-6, rtol32=1e-5,
           tol_reason="float32 tanh: a few ulps",
           torch=_tf("gelu")),
    OpInfo("softplus", F.softplus, _softplus_ref, _softplus_samples,
           covers=(act.SoftplusFunction,), atol32=2e-6, tol_reason="float32 log1p(exp): a few ulps",
           torch=_tf("softplus")),
    OpInfo("silu", F.silu, lambda x: x / (1 + np.exp(-x)), _act_samples(rand),
           covers=(act.SiLUFunction,), atol32=2e-6, tol_reason="float32 exp inside the sigmoid",
           torch=_tf("silu")),
    OpInfo("softmax", F.softmax, _softmax_ref, _softmax_samples, covers=(act.SoftmaxFunction,),
           atol32=1e-6, rtol32=1e-5, tol_reason="float32 exp and a sum along the dim",
           torch=_tf("softmax")),
    OpInfo("log_softmax", F.log_softmax, _log_softmax_ref, _softmax_samples,
           covers=(act.LogSoftmaxFunction,), atol32=1e-5, rtol32=1e-5,
           tol_reason="float32 log of a sum of exps", torch=_tf("log_softmax")),
    OpInfo("batch_norm", _batch_norm_fn, _batch_norm_ref, _batch_norm_samples,
           covers=(norm.BatchNorm, norm.BatchStats, mv.Reshape), atol32=1e-4, rtol32=1e-4,
           tol_reason="float32 mean/var over N*H*W values, then rsqrt; the backward's "
           "projections subtract nearly equal sums", torch=_tf("batch_norm")),
    OpInfo("layer_norm", _layer_norm_fn, _layer_norm_ref, _layer_norm_samples,
           covers=(norm.LayerNormFunction,), atol32=1e-4, rtol32=1e-4,
           tol_reason="float32 mean/var over the row, then rsqrt", torch=_torch_layer_norm),
    OpInfo("dropout", _seeded(F.dropout), _dropout_ref, _dropout_samples,
           covers=(norm.DropoutFunction,), tol_reason="same mask bits on both backends; one scale"),
    OpInfo("dropconnect", _seeded(F.dropconnect), _dropout_ref,
           lambda rng: [Sample((rand(rng, 6, 5),), {"p": 0.4}, name="weight")],
           covers=(norm.DropoutFunction,), tol_reason="dropout on a weight matrix"),
    OpInfo("dropout2d", _seeded(F.dropout2d), _dropout2d_ref, _dropout2d_samples,
           covers=(ew.Mul,), tol_reason="same mask bits on both backends; one scale"),
    OpInfo("cross_entropy", _cross_entropy_fn, _cross_entropy_ref, _cross_entropy_samples,
           covers=(loss.CrossEntropy, mv.Permute, ew.Div), atol32=1e-5, rtol32=1e-5,
           tol_reason=_LOSS_TOL, torch=_torch_cross_entropy),
    OpInfo("nll_loss", _nll_fn, _nll_ref, lambda rng: _class_samples(rng),
           covers=(gs.Gather, ew.Mul, ew.Neg), tol_reason="picks and one weighted mean",
           torch=_torch_nll),
    OpInfo("mse_loss", F.mse_loss, lambda x, y, reduction="mean": _reduce_ref(
        (x - y) ** 2, reduction), _pair_samples(_any_target), covers=(ew.Sub, ew.Mul),
        tol_reason="squares and a float32 mean", torch=_tf("mse_loss")),
    OpInfo("l1_loss", F.l1_loss, lambda x, y, reduction="mean": _reduce_ref(
        np.abs(x - y), reduction), _pair_samples(_off_kink), covers=(ew.Abs,),
        tol_reason="a float32 mean", torch=_tf("l1_loss")),
    OpInfo("smooth_l1_loss", F.smooth_l1_loss, _smooth_l1_ref, _smooth_l1_samples,
           covers=(ew.Where,), tol_reason="squares and a float32 mean",
           torch=_tf("smooth_l1_loss")),
    OpInfo("binary_cross_entropy", _bce_fn, _bce_ref, _bce_samples,
           covers=(loss.BinaryCrossEntropy,), atol32=1e-5, rtol32=1e-5, tol_reason=_LOSS_TOL,
           torch=_torch_bce),
    OpInfo("binary_cross_entropy_with_logits", _bce_logits_fn, _bce_logits_ref,
           _bce_logits_samples, covers=(act.SoftplusFunction,), atol32=1e-5, rtol32=1e-5,
           tol_reason=_LOSS_TOL, torch=_torch_bce_logits),
    OpInfo("multi_margin_loss", _multi_margin_fn, _multi_margin_ref, _multi_margin_samples,
           covers=(act.ReLUFunction, gs.Gather), tol_reason="sums over C and a float32 mean",
           torch=_torch_multi_margin),
    OpInfo("hinge_embedding_loss", F.hinge_embedding_loss, _hinge_ref, _hinge_samples,
           covers=(ew.Clip, ew.Where), tol_reason="a float32 mean",
           torch=_tf("hinge_embedding_loss")),
]


# ---------------------------------------------------------------- PyTorch API breadth (issue 15)
def _pad_mode_samples(rng):
    out = []
    for mode in ("reflect", "replicate", "circular"):
        out += [Sample((rand(rng, 2, 7),), {"pad": (2, 3), "mode": mode}, name=f"{mode}-2d"),
                Sample((rand(rng, 1, 2, 5),), {"pad": (1, 0), "mode": mode}, name=f"{mode}-3d"),
                Sample((rand(rng, 1, 1, 3, 4),), {"pad": (1, 2, 2, 1), "mode": mode},
                       name=f"{mode}-4d"),
                Sample((rand(rng, 1, 1, 2, 3, 3),), {"pad": (1, 1, 0, 1, 1, 0), "mode": mode},
                       name=f"{mode}-5d"),
                Sample((rand(rng, 4, 3, 33, 65),), {"pad": (2, 2, 2, 2), "mode": mode},
                       name=f"{mode}-big", big=True)]
    return out


def _np_pad_mode(x, pad, mode):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return np.pad(x, widths, mode=np_mode)


def _interp_samples(rng):
    return [Sample((rand(rng, 1, 2, 3, 4),), {"scale_factor": 2}, name="x2"),
            Sample((rand(rng, 2, 1, 5, 7),), {"size": (3, 11)}, name="size"),
            Sample((rand(rng, 1, 1, 7),), {"scale_factor": 1.7}, name="1d"),
            Sample((rand(rng, 1, 1, 2, 3, 4),), {"scale_factor": (1.5, 1, 0.5)}, name="3d"),
            Sample((rand(rng, 4, 3, 33, 65),), {"scale_factor": 2}, name="big", big=True)]


def _interp_ref(x, size=None, scale_factor=None):
    spatial = x.shape[2:]
    if size is None:
        factors = (scale_factor,) * len(spatial) if np.isscalar(scale_factor) else scale_factor
        size = [int(math.floor(n * f)) for n, f in zip(spatial, factors)]
        scales = [np.float32(1.0 / f) for f in factors]
    else:
        scales = [np.float32(np.float32(n) / m) for n, m in zip(spatial, size)]
    out = x
    for d, (n, m, s) in enumerate(zip(spatial, size, scales)):
        src = np.minimum(np.floor(np.arange(m, dtype=np.float32) * s).astype(int), n - 1)
        out = np.take(out, src, axis=2 + d)
    return out


def _embedding_samples(rng):
    return [Sample((rng.integers(0, 5, (3, 4)), rand(rng, 5, 3)), {"padding_idx": 1},
                   name="padding"),
            Sample((rng.integers(0, 7, (6,)), rand(rng, 7, 2)), {}, name="plain"),
            Sample((np.array([[0, 0, 2]]), rand(rng, 3, 1)), {"padding_idx": -1}, name="neg"),
            Sample((rng.integers(0, 3, (13,)), rand(rng, 3, 1)), {}, name="repeats"),
            Sample((np.array(4, dtype=np.int64), rand(rng, 5, 3)), {}, name="0d-input"),
            Sample((rng.integers(0, 1000, (64, 13)), rand(rng, 1000, 33)), {"padding_idx": 0},
                   name="big", big=True)]


def _embedding_fn(idx, w, padding_idx=None, embedding=F.embedding):
    out = embedding(idx, w, padding_idx=padding_idx)
    if padding_idx is None:
        return out
    return out * (idx != padding_idx % w.shape[0]).unsqueeze(-1)


def _embedding_torch(idx, w, padding_idx=None):
    return _embedding_fn(idx, w, padding_idx, embedding=_tf("embedding"))


def _embedding_ref(idx, w, padding_idx=None):
    if padding_idx is None:
        return w[idx]
    return w[idx] * (idx != padding_idx % w.shape[0])[..., None]


def _prob_targets(rng, *shape, dim=1):
    t = rng.uniform(0.05, 1.0, size=shape)
    return t / t.sum(axis=dim, keepdims=True)


def _ce_prob_samples(rng):
    return [Sample((rand(rng, 4, 5), _prob_targets(rng, 4, 5)), name="mean"),
            Sample((rand(rng, 3, 7), _prob_targets(rng, 3, 7)),
                   {"reduction": "sum", "label_smoothing": 0.2}, name="smoothing"),
            Sample((rand(rng, 2, 3, 2, 2), _prob_targets(rng, 2, 3, 2, 2)),
                   {"reduction": "none"}, name="k-dim"),
            Sample((rand(rng, 5), _prob_targets(rng, 5, dim=0)), name="unbatched"),
            Sample((rand(rng, 5, 3), _prob_targets(rng, 5, 3), rng.uniform(0.5, 2, 3)),
                   {"label_smoothing": 0.1}, name="weight", requires_grad=(True, True, False)),
            Sample((rand(rng, 64, 100), _prob_targets(rng, 64, 100)), name="big", big=True)]


def _ce_prob_fn(x, t, w=None, **kw):
    return F.cross_entropy(x, t, weight=w, **kw)


def _ce_prob_ref(x, t, w=None, reduction="mean", label_smoothing=0.0):
    dim = 0 if x.ndim == 1 else 1
    c = x.shape[dim]
    t = t * (1 - label_smoothing) + label_smoothing / c
    logp = x - x.max(axis=dim, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=dim, keepdims=True))
    wb = 1.0 if w is None else w.reshape((c,) + (1,) * (x.ndim - 1 - dim))
    loss = -(wb * t * logp).sum(axis=dim)
    return _reduce_ref(loss, reduction)


NN_OPS += [
    OpInfo("pad_modes", lambda x, **kw: F.pad(x, **kw), _np_pad_mode, _pad_mode_samples,
           covers=(gs.Gather,), torch=_tf("pad")),
    OpInfo("interpolate_nearest", lambda x, **kw: F.interpolate(x, mode="nearest", **kw),
           _interp_ref, _interp_samples, covers=(gs.Gather,),
           torch=lambda x, **kw: _tf("interpolate")(x, mode="nearest", **kw)),
    # The padding row's zero gradient is PyTorch's rule, not the derivative, so finite
    # differences would disagree there: the table masks those outputs (the rule itself is
    # checked against torch in test_api_tensor.py).
    OpInfo("embedding", _embedding_fn, _embedding_ref, _embedding_samples,
           covers=(gs.GatherDim, ew.Where), torch=_embedding_torch),
    OpInfo("cross_entropy_probs", _ce_prob_fn, _ce_prob_ref, _ce_prob_samples,
           covers=(act.LogSoftmaxFunction, ew.Mul, rd.Sum), atol32=1e-5, rtol32=1e-4,
           tol_reason="log-softmax then a C-long float32 sum",
           torch=lambda x, t, w=None, **kw: _tf("cross_entropy")(x, t, weight=w, **kw)),
    OpInfo("one_hot", lambda idx, **kw: F.one_hot(idx, **kw).float(),
           lambda idx, num_classes=-1: np.eye(idx.max() + 1 if num_classes < 0 else num_classes)
           [idx], lambda rng: [Sample((rng.integers(0, 5, (3, 4)),), {"num_classes": 7}),
                               Sample((np.array([0, 3, 1]),), {}, name="inferred")],
           grad=False, torch=lambda idx, **kw: _tf("one_hot")(idx, **kw).float()),
]
