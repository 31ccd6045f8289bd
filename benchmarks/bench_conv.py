"""Convolution and pooling: deepx's OpenCL path against NumPy's im2col + BLAS in the same run.

conv2d forward, conv2d forward + backward (input, weight and bias gradients) and max_pool2d
on shapes from real networks (LeNet on 28x28, a ResNet-18 stage, pooling layers from
BENCH_SHAPES.md). "numpy" is deepx's NumPy reference backend: im2col by strided slices, then
NumPy's matmul (BLAS). "opencl" is deepx's OpenCL backend: the im2col/col2im kernels around
the tiled matmul kernel. Both run through deepx.nn.functional, so the autograd tape is timed
too. A "matmul" entry times the OpenCL matmul kernel alone on the ResNet layer's GEMM, so the
report can show how much of the convolution is the product itself.

    python -m pytest benchmarks/bench_conv.py --benchmark-enable
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from shapes import LENET_CONV, POOL, QUICK, opencl_backend, record, run

import deepx as dx
import deepx.nn.functional as F

# (N, C, H, W, K, R, S, pad_h, pad_w, stride_h, stride_w): LeNet's two layers and one 3x3
# layer of a ResNet-18 stage (56x56x64, batch 8).
RESNET_CONV = (8, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1)
CONV = LENET_CONV + ([] if QUICK else [RESNET_CONV])
POOLS = POOL[:1] if QUICK else POOL


def _label(shape) -> str:
    n, c, h, w, k, r, s, ph, pw, sh, sw = shape
    return f"N={n} C={c} {h}x{w} K={k} {r}x{s} pad={ph},{pw} stride={sh},{sw}"


def _conv_flops(shape) -> int:
    """2 N K OH OW C R S: one multiply-add per weight tap per output."""
    n, c, h, w, k, r, s, ph, pw, sh, sw = shape
    oh, ow = (h + 2 * ph - r) // sh + 1, (w + 2 * pw - s) // sw + 1
    return 2 * n * k * oh * ow * c * r * s


def _conv_bytes(shape) -> int:
    n, c, h, w, k, r, s, ph, pw, sh, sw = shape
    oh, ow = (h + 2 * ph - r) // sh + 1, (w + 2 * pw - s) // sw + 1
    return 4 * (n * c * h * w + k * c * r * s + k + n * k * oh * ow)


def _device(impl):
    if impl == "numpy":
        return "numpy", lambda: None
    be = opencl_backend()
    return dx.device("opencl"), be.runtime.finish


def _conv_inputs(shape, device, requires_grad):
    n, c, h, w, k, r, s, *_ = shape
    rng = np.random.default_rng(sum(shape))
    arrays = (rng.uniform(-1, 1, (n, c, h, w)), rng.uniform(-0.1, 0.1, (k, c, r, s)),
              rng.uniform(-0.1, 0.1, k))
    return [dx.tensor(a.astype(np.float32), device=device, requires_grad=requires_grad)
            for a in arrays]


def _timed_first_call(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


@pytest.mark.parametrize("impl", ["numpy", "opencl"])
@pytest.mark.parametrize("shape", CONV, ids=_label)
def test_conv2d_forward(benchmark, shape, impl):
    """y = conv2d(x, w, b), synchronised."""
    device, finish = _device(impl)
    x, w, b = _conv_inputs(shape, device, False)
    stride, padding = shape[9:11], shape[7:9]

    def fn():
        out = F.conv2d(x, w, b, stride=stride, padding=padding)
        finish()
        return out

    got, seconds = _timed_first_call(fn)
    ref = F.conv2d(*[t.to("numpy") for t in (x, w, b)], stride=stride, padding=padding)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-3, atol=1e-4)
    record(benchmark, "conv", "conv2d_forward", impl, _label(shape), shape[0] * shape[2],
           _conv_flops(shape), _conv_bytes(shape), role=impl)
    run(benchmark, fn, seconds)


@pytest.mark.parametrize("impl", ["numpy", "opencl"])
@pytest.mark.parametrize("shape", CONV, ids=_label)
def test_conv2d_forward_backward(benchmark, shape, impl):
    """conv2d forward, then backward to the input, the weight and the bias (3x the FLOPs)."""
    device, finish = _device(impl)
    x, w, b = _conv_inputs(shape, device, True)
    stride, padding = shape[9:11], shape[7:9]
    out_shape = F.conv2d(x.detach(), w.detach(), stride=stride, padding=padding).shape
    upstream = dx.tensor(np.random.default_rng(1).uniform(-1, 1, out_shape).astype(np.float32),
                         device=device)

    def fn():
        for t in (x, w, b):
            t.grad = None
        F.conv2d(x, w, b, stride=stride, padding=padding).backward(upstream)
        finish()
        return x.grad

    _, seconds = _timed_first_call(fn)
    record(benchmark, "conv", "conv2d_forward_backward", impl, _label(shape),
           shape[0] * shape[2], 3 * _conv_flops(shape), 3 * _conv_bytes(shape), role=impl)
    run(benchmark, fn, seconds)


def _pool_label(shape) -> str:
    n, c, h, w, k, s = shape
    return f"N={n} C={c} {h}x{w} k={k} stride={s}"


@pytest.mark.parametrize("impl", ["numpy", "opencl"])
@pytest.mark.parametrize("shape", POOLS, ids=_pool_label)
def test_max_pool2d(benchmark, shape, impl):
    """y = max_pool2d(x, k, s), argmax kept for backward, synchronised."""
    device, finish = _device(impl)
    n, c, h, w, k, s = shape
    host = np.random.default_rng(sum(shape)).uniform(-1, 1, (n, c, h, w)).astype(np.float32)
    x = dx.tensor(host, device=device)

    def fn():
        out = F.max_pool2d(x, k, s)
        finish()
        return out

    got, seconds = _timed_first_call(fn)
    ref = F.max_pool2d(dx.tensor(host, device="numpy"), k, s)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    record(benchmark, "pool", "max_pool2d", impl, _pool_label(shape), n * h,
           n * c * oh * ow * k * k, 4 * (n * c * h * w) + 12 * n * c * oh * ow, role=impl)
    run(benchmark, fn, seconds)


@pytest.mark.skipif(QUICK, reason="the ResNet layer is not part of the quick set")
def test_resnet_layer_gemm_alone(benchmark):
    """The OpenCL matmul kernel on the ResNet layer's GEMM: (K, C*R*S) @ (C*R*S, OH*OW) x N.

    The same FLOPs as the convolution's forward: the gap is im2col plus the bias add.
    """
    be = opencl_backend()
    n, c, h, w, k, r, s, *_ = RESNET_CONV
    rng = np.random.default_rng(0)
    wt = be.from_numpy(rng.uniform(-1, 1, (1, k, c * r * s)).astype(np.float32))
    cols = be.from_numpy(rng.uniform(-1, 1, (n, c * r * s, h * w)).astype(np.float32))

    def fn():
        out = be.matmul(wt, cols)
        be.runtime.finish()
        return out

    _, seconds = _timed_first_call(fn)
    record(benchmark, "conv", "conv2d_forward", "opencl_gemm_only", _label(RESNET_CONV),
           n * h, _conv_flops(RESNET_CONV), 4 * (k * c * r * s + n * c * r * s * h * w
                                                  + n * k * h * w), role="other")
    run(benchmark, fn, seconds)
