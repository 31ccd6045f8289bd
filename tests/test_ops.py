"""Generic tests driven by the op table: forward vs NumPy formula, float64 gradcheck,
OpenCL-vs-NumPy agreement in float32 (forward and every gradient), agreement with PyTorch
(value, dtype and every gradient, both backends, where torch is importable) and coverage."""
from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
from op_table import OPS, SAME_CALL

import deepx as dx
from deepx.autograd import Function

# The Oclgrind CI stage (.ci/oclgrind) sets this: a simulated GPU checks every memory access,
# so it runs the samples small enough for finite differences, not the big ones.
SMALL = os.environ.get("DEEPX_TEST_SMALL") == "1"


def _cases(include_big):
    cases = []
    for op in OPS:
        rng = np.random.default_rng(zlib.crc32(op.name.encode()))
        for i, s in enumerate(op.samples(rng)):
            if s.big and not include_big:
                continue
            cases.append(pytest.param(op, s, id=f"{op.name}-{s.name or i}"))
    return cases


def _tensors(sample, dtype, device, grad=True):
    """Sample inputs as tensors: float arrays in `dtype` (requiring grad), others as they are."""
    out = []
    for i, a in enumerate(sample.inputs):
        if isinstance(a, np.ndarray):
            is_float = a.dtype.kind == "f"
            wants = sample.requires_grad[i] if sample.requires_grad else is_float
            t = dx.tensor(a.astype(dtype.np) if is_float else a, device=device,
                          requires_grad=bool(grad and wants and is_float))
            out.append(t)
        else:
            out.append(a)
    return out


@pytest.mark.parametrize("op,sample", _cases(include_big=True))
def test_forward_matches_numpy_formula(op, sample):
    if op.ref is None:
        pytest.skip(f"{op.name} has no closed-form NumPy formula")
    inputs = _tensors(sample, dx.float64, "numpy", grad=False)
    got = op.fn(*inputs, **sample.kwargs).numpy()
    arrays = [a for a in sample.inputs]
    want = np.asarray(op.ref(*arrays, **sample.kwargs))
    assert got.shape == want.shape, f"{op.name}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("op,sample", _cases(include_big=False))
def test_gradcheck_float64(op, sample):
    if not op.grad:
        pytest.skip(f"{op.name} is not differentiable")
    inputs = _tensors(sample, dx.float64, "numpy")
    assert any(getattr(t, "requires_grad", False) for t in inputs), "sample has no grad input"
    assert dx.gradcheck(lambda *ts: op.fn(*ts, **sample.kwargs), inputs, eps=op.gc_eps,
                        atol=op.gc_atol, rtol=op.gc_rtol)


@pytest.mark.parametrize("op,sample", _cases(include_big=not SMALL))
def test_opencl_matches_numpy_float32(op, sample, opencl_device):
    device = opencl_device
    results = []
    for dev in ("numpy", device):
        inputs = _tensors(sample, dx.float32, dev, grad=op.grad)
        out = op.fn(*inputs, **sample.kwargs)
        grads = []
        if op.grad and out.requires_grad:
            rng = np.random.default_rng(1)
            upstream = rng.standard_normal(out.shape).astype(np.float32)
            out.backward(dx.tensor(upstream, device=dev))
            grads = [t.grad.numpy() for t in inputs if getattr(t, "requires_grad", False)]
        results.append((out.numpy(), grads))
    (ref_out, ref_grads), (cl_out, cl_grads) = results
    assert cl_out.dtype == ref_out.dtype and cl_out.shape == ref_out.shape
    np.testing.assert_allclose(cl_out, ref_out, atol=op.atol32, rtol=op.rtol32,
                               err_msg=f"{op.name} forward ({op.tol_reason})")
    assert len(cl_grads) == len(ref_grads)
    for i, (g_cl, g_ref) in enumerate(zip(cl_grads, ref_grads)):
        # Backward chains a few primitives more than forward: allow 10x the forward tolerance.
        np.testing.assert_allclose(g_cl, g_ref, atol=10 * op.atol32, rtol=10 * op.rtol32,
                                   err_msg=f"{op.name} gradient of input {i} ({op.tol_reason})")


def _torch_inputs(torch, sample, dtype):
    """Sample inputs as float64 torch tensors holding the values deepx sees in `dtype`."""
    out = []
    for i, a in enumerate(sample.inputs):
        if not isinstance(a, np.ndarray):
            out.append(a)
        elif a.dtype.kind == "f":
            wants = sample.requires_grad[i] if sample.requires_grad else True
            out.append(torch.tensor(a.astype(dtype.np).astype(np.float64), requires_grad=wants))
        else:
            out.append(torch.tensor(a))
    return out


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.filterwarnings("ignore:The use of `x.T`", "ignore:Tensor.T is deprecated")
@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("op,sample", [c for c in _cases(include_big=False)
                                       if c.values[0].torch is not None])
def test_matches_pytorch(op, sample, backend, request):
    """Value, dtype and every gradient against PyTorch: float64 on NumPy (to 1e-9), float32 on
    OpenCL against PyTorch's float64 on the same float32 inputs (to 2e-4 relative)."""
    torch = pytest.importorskip("torch")
    device = "numpy" if backend == "numpy" else request.getfixturevalue("opencl_device")
    dtype = dx.float64 if backend == "numpy" else dx.float32
    tol = {"rtol": 1e-9, "atol": 1e-11} if dtype is dx.float64 else {"rtol": 2e-4, "atol": 2e-5}
    call = op.fn if op.torch == SAME_CALL else op.torch
    ref_inputs = _torch_inputs(torch, sample, dtype)
    ref = call(*ref_inputs, **sample.kwargs)
    inputs = _tensors(sample, dtype, device, grad=op.grad)
    got = op.fn(*inputs, **sample.kwargs)
    assert got.shape == tuple(ref.shape), op.name
    if not ref.dtype.is_floating_point or dtype is dx.float64:
        assert got.dtype.name == str(ref.dtype).removeprefix("torch."), op.name
    np.testing.assert_allclose(got.numpy(), ref.detach().numpy(), **tol, err_msg=op.name)
    if not (op.grad and ref.requires_grad):
        return
    upstream = np.random.default_rng(1).standard_normal(tuple(ref.shape)).astype(dtype.np)
    ref.backward(torch.tensor(upstream.astype(np.float64)))
    got.backward(dx.tensor(upstream, device=device))
    for i, (t, r) in enumerate(zip(inputs, ref_inputs)):
        if getattr(r, "requires_grad", False):
            np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), **tol,
                                       err_msg=f"{op.name} gradient of input {i}")


# Functions that no table entry can exercise on one device, with the test that covers them.
EXEMPT = {
    "Transfer": "moves between devices; test_autograd.py::test_transfer_between_devices",
}


def _all_functions():
    seen, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_") and cls not in seen:
            seen.append(cls)
    return seen


def test_every_function_has_an_op_table_entry():
    import deepx.nn.functional  # noqa: F401 - registers the nn Functions

    covered = {cls for op in OPS for cls in op.covers}
    missing = [f"{c.__module__}.{c.__name__}" for c in _all_functions()
               if c not in covered and c.__name__ not in EXEMPT]
    assert not missing, f"ops without an op-table entry: {missing}"
