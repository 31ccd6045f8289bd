"""Every op of the op table on non-contiguous inputs: transposed, sliced with a step,
expanded and offset views of leaf tensors, on both backends.

Each float input of an op's first sample is rebuilt as a view of a differently laid-out leaf
holding the same values (expanded views repeat the values along a size-1 dim). The op must
give the same forward as on contiguous inputs, a float64 gradcheck through the view to the
leaf must pass, and OpenCL must agree with NumPy in float32.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest
from op_table import OPS

import deepx as dx

LAYOUTS = ("transposed", "strided", "offset", "expanded")


def _first_sample(op):
    rng = np.random.default_rng(zlib.crc32(op.name.encode()))
    return next(s for s in op.samples(rng) if not s.big)


def _cases():
    cases = []
    for op in OPS:
        sample = _first_sample(op)
        if not any(_transformed(sample, i, a) for i, a in enumerate(sample.inputs)):
            continue
        # a view needs strides it can reinterpret: a transpose or an expand has none
        for layout in (("strided", "offset") if op.name == "view" else LAYOUTS):
            cases.append(pytest.param(op, sample, layout, id=f"{op.name}-{layout}"))
    return cases


def _layout(a, layout):
    """(leaf array, view function, values the view shows) for one float input array."""
    if layout == "transposed" and a.ndim >= 2 and min(a.shape[-2:]) > 1:
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)), lambda t: t.transpose(-1, -2), a
    if layout == "expanded" and a.shape[0] > 1:
        # the first entry along dim 0, repeated: a stride-0 view
        small = a[:1]
        return (np.ascontiguousarray(small), lambda t: t.expand(*a.shape),
                np.broadcast_to(small, a.shape).copy())
    if layout == "offset":
        flat = np.concatenate([np.full(3, 7.0), a.reshape(-1)])
        return flat, lambda t: t[3:].view(a.shape), a
    # strided (also the fallback where a transpose or expand would still be contiguous):
    # every other element of the last dim
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    return big, lambda t: t[..., ::2], a


def _transformed(sample, i, a) -> bool:
    """Float inputs the sample differentiates (not buffers such as running statistics)."""
    wants = sample.requires_grad[i] if sample.requires_grad else True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim > 0 and wants


def _prepare(sample, layout):
    leaves, makers, values = [], [], []
    for i, a in enumerate(sample.inputs):
        if _transformed(sample, i, a):
            leaf, make, shown = _layout(a, layout)
            leaves.append(leaf)
            makers.append(make)
            values.append(shown)
        else:
            leaves.append(a)
            makers.append(None)
            values.append(a)
    return leaves, makers, values


def _plain(a, dtype, device):
    """An input left as it is: arrays become tensors (floats in dtype), other values pass."""
    if not isinstance(a, np.ndarray):
        return a
    return dx.tensor(a.astype(dtype.np) if a.dtype.kind == "f" else a, device=device)


def _call(op, sample, leaves, makers, dtype, device, grad):
    tensors = []
    for leaf, make in zip(leaves, makers):
        if make is None:
            tensors.append(_plain(leaf, dtype, device))
            continue
        tensors.append(dx.tensor(leaf.astype(dtype.np), device=device, requires_grad=grad))
    views = [t if make is None else make(t) for t, make in zip(tensors, makers)]
    return tensors, views, op.fn(*views, **sample.kwargs)


@pytest.mark.parametrize("op,sample,layout", _cases())
def test_noncontiguous_forward_and_gradcheck(op, sample, layout):
    leaves, makers, values = _prepare(sample, layout)
    views = [None if m is None else m(dx.tensor(leaf, device="numpy"))
             for leaf, m in zip(leaves, makers)]
    assert any(v is not None and not v.is_contiguous() or v is not None and v.storage_offset()
               for v in views), "the layout must really be non-contiguous"
    _, _, out = _call(op, sample, leaves, makers, dx.float64, "numpy", grad=False)
    dense = [_plain(v, dx.float64, "numpy") for v in values]
    want = op.fn(*dense, **sample.kwargs)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    if not op.grad:
        return
    leaf_tensors = [dx.tensor(leaf, requires_grad=True, device="numpy") if m is not None else leaf
                    for leaf, m in zip(leaves, makers)]

    def through_views(*ts):
        it = iter(ts)
        args = [m(next(it)) if m is not None else _plain(leaf, dx.float64, "numpy")
                for leaf, m in zip(leaves, makers)]
        return op.fn(*args, **sample.kwargs)

    grad_inputs = [t for t, m in zip(leaf_tensors, makers) if m is not None]
    assert dx.gradcheck(through_views, grad_inputs, eps=op.gc_eps, atol=op.gc_atol,
                        rtol=op.gc_rtol)


@pytest.mark.parametrize("op,sample,layout", _cases())
def test_noncontiguous_opencl_matches_numpy(op, sample, layout, opencl_device):
    leaves, makers, _ = _prepare(sample, layout)
    results = []
    for device in ("numpy", opencl_device):
        tensors, _, out = _call(op, sample, leaves, makers, dx.float32, device, op.grad)
        grads = []
        if op.grad and out.requires_grad:
            upstream = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
            out.backward(dx.tensor(upstream, device=device))
            grads = [t.grad.numpy() for t, m in zip(tensors, makers) if m is not None]
        results.append((out.numpy(), grads))
    (ref, ref_grads), (got, got_grads) = results
    np.testing.assert_allclose(got, ref, atol=op.atol32, rtol=op.rtol32,
                               err_msg=f"{op.name} forward on {layout} inputs")
    for g_cl, g_ref in zip(got_grads, ref_grads):
        np.testing.assert_allclose(g_cl, g_ref, atol=10 * op.atol32, rtol=10 * op.rtol32,
                                   err_msg=f"{op.name} gradient on {layout} inputs")
