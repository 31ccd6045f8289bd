"""Views and in-place ops with PyTorch's semantics (issue 12's table), on both backends."""
from __future__ import annotations

import numpy as np
import pytest

import deepx as dx


@pytest.fixture(params=["numpy", "opencl"])
def device(request):
    if request.param == "opencl":
        request.getfixturevalue("opencl_device")
    return request.param


def test_inplace_through_views_writes_the_base(device):
    x = dx.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    x[0].add_(10)
    x[:, 1].zero_()
    x.T.mul_(2)
    assert x.tolist() == [[22.0, 0.0], [6.0, 0.0]]


def test_a_view_sees_later_writes(device):
    x = dx.arange(12.0, device=device).reshape(4, 3)
    v = x[1:3, ::2]
    x.add_(1)
    assert v.tolist() == [[4.0, 6.0], [7.0, 9.0]]
    assert (v.stride(), v.storage_offset(), v.is_contiguous()) == ((3, 2), 3, False)


def test_writing_an_expanded_view_raises(device):
    a = dx.tensor([[1.0], [2.0]], device=device)
    b = a.expand(2, 3)
    with pytest.raises(dx.DeepxError, match="more than one element of the written-to tensor"):
        b += 1
    assert a.tolist() == [[1.0], [2.0]]


def test_inplace_on_a_non_leaf_is_recorded(device):
    x = dx.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = x * 2
    y *= 3
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 6.0]


def test_inplace_on_the_base_after_a_view_saved_nothing(device):
    x = dx.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    a = x * 1
    v = a[0]
    y = v.exp()  # exp saves its output, which the in-place op does not touch
    a.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [np.e, 0, 0], rtol=1e-6)


def test_modifying_saved_data_through_a_view_raises(device):
    x = dx.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    a = x * 1
    y = a * a  # saves a
    a[1:].add_(1)  # a view shares a's version counter
    with pytest.raises(dx.DeepxError, match="modified by an inplace operation"):
        y.sum().backward()


def test_leaf_and_view_of_leaf_refuse_inplace(device):
    w = dx.tensor([1.0, 2.0], requires_grad=True, device=device)
    with pytest.raises(dx.DeepxError, match="leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(dx.DeepxError, match="a view of a leaf Variable"):
        w[0].add_(1)
    with dx.no_grad():
        w[0].add_(1)
    assert w.tolist() == [2.0, 2.0]


def test_setitem_into_a_non_leaf_gives_gradients_to_both(device):
    w = dx.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    u = dx.tensor([5.0, 7.0], requires_grad=True, device=device)
    y = w * 2
    y[1:] = u * u           # CopySlices: y's first element from w, the rest from u
    (y * dx.tensor([1.0, 10.0, 100.0], device=device)).sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 0.0]
    assert u.grad.tolist() == [100.0, 1400.0]


def test_view_ops_share_storage_without_copies(device):
    flat = dx.arange(24.0, device=device)
    x = flat.reshape(2, 3, 4)  # itself a view: every view's base is the storage's owner, flat
    storage = x.untyped_storage()
    assert x._base is flat and storage == flat.untyped_storage()
    views = [x[1], x[:, 1:], x.transpose(0, 2), x.permute(2, 0, 1), x.view(6, 4),
             x.reshape(4, 6), x.unsqueeze(1), x[0].t(), x.narrow(2, 1, 2), x.select(1, 0),
             x.unbind(0)[1], x.split(2, dim=2)[1], x.chunk(2, dim=2)[0], x.diagonal(0, 1, 2),
             x.unfold(2, 2, 1), x[0:1].expand(5, 3, 4), x[..., None], x.mT, x.T, x.flatten()]
    for v in views:
        assert v.untyped_storage() == storage and v._base is flat
    x.zero_()
    assert all(float(v.abs().sum().item()) == 0.0 for v in views)


def test_view_requires_compatible_strides_and_reshape_copies(device):
    x = dx.arange(6.0, device=device).reshape(2, 3)
    with pytest.raises(dx.DeepxError, match="view size is not compatible"):
        x.T.view(6)
    r = x.T.reshape(6)  # a copy: the strides cannot show it
    assert r.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0] and r._base is None
    assert x.T.contiguous().is_contiguous() and x.contiguous() is x


def test_data_ptr_and_storage_offset(device):
    x = dx.arange(10.0, device=device)
    assert x[3:].data_ptr() - x.data_ptr() == 3 * x.element_size()
    assert x[3:].storage_offset() == 3 and x[::2].stride() == (2,)


@pytest.mark.parametrize("make", [
    lambda x: x[1:, ::2], lambda x: x.T, lambda x: x.diagonal(), lambda x: x.unfold(1, 2, 1),
    lambda x: x.narrow(0, 1, 2).select(1, 2), lambda x: x[:, None, 1:].expand(3, 2, 3),
])
def test_backward_of_view_ops_matches_torch_formula(make):
    base = np.arange(12.0).reshape(3, 4) / 7
    x = dx.tensor(base, requires_grad=True, device="numpy")
    assert dx.gradcheck(lambda t: make(t) * 1.5, (x,))


def test_opencl_kernels_read_views_in_place(opencl_device):
    """Elementwise, reductions and matmul on views make no contiguous copies on OpenCL."""
    from deepx.backend.opencl import runtime

    x = dx.randn(64, 32, device=opencl_device)
    w = dx.randn(64, 16, device=opencl_device)
    launched = []
    runtime.LAUNCH_LISTENERS.append(lambda op, name, size, event: launched.append(name))
    try:
        y = x[:, ::2] + 1.0          # strided elementwise
        s = x.T.sum(dim=1)           # reduction over a transposed view
        m = x.T @ w                  # matmul through its transpose flag
    finally:
        runtime.LAUNCH_LISTENERS.pop()
    assert "layout_strided_copy" not in launched, launched
    np.testing.assert_allclose(y.numpy(), x.numpy()[:, ::2] + 1, rtol=1e-6)
    np.testing.assert_allclose(s.numpy(), x.numpy().T.sum(1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m.numpy(), x.numpy().T @ w.numpy(), rtol=1e-4, atol=1e-4)
