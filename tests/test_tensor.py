"""The Tensor API users reach for first: creation, dtypes, conversion, printing, indexing."""
from __future__ import annotations

import numpy as np
import pytest

import deepx as dx


def test_creation_and_dtypes():
    assert dx.tensor([1.0, 2.0]).dtype is dx.float32
    assert dx.tensor([1, 2]).dtype is dx.int64
    assert dx.tensor([True]).dtype is dx.bool_
    assert dx.tensor(np.zeros(2)).dtype is dx.float64  # NumPy arrays keep their dtype
    assert dx.tensor(np.zeros(2, dtype=np.int32)).dtype is dx.int32
    assert dx.zeros(2, 3).shape == (2, 3) and dx.ones((4,)).numpy().sum() == 4
    assert dx.full((2,), 7).dtype is dx.int64
    np.testing.assert_array_equal(dx.arange(5).numpy(), np.arange(5))
    np.testing.assert_allclose(dx.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(dx.eye(3).numpy(), np.eye(3))
    t = dx.ones(2, 3, dtype=dx.float64)
    assert dx.zeros_like(t).dtype is dx.float64 and dx.ones_like(t).shape == (2, 3)


def test_random_is_seeded_and_reproducible():
    dx.manual_seed(123)
    a = dx.rand(1000).numpy()
    b = dx.randn(1000).numpy()
    dx.manual_seed(123)
    np.testing.assert_array_equal(dx.rand(1000).numpy(), a)
    np.testing.assert_array_equal(dx.randn(1000).numpy(), b)
    assert 0.0 <= a.min() and a.max() < 1.0 and abs(a.mean() - 0.5) < 0.05
    assert abs(b.mean()) < 0.1 and abs(b.std() - 1) < 0.1
    r = dx.randint(3, 7, (500,)).numpy()
    assert r.min() == 3 and r.max() == 6


def test_host_access():
    t = dx.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t[1, 0].item() == 3.0 and float(t[0, 1]) == 2.0
    assert len(t) == 2 and t.ndim == 2 and t.numel() == 4 and t.size(-1) == 2
    assert np.asarray(t).shape == (2, 2)


def test_repr():
    assert repr(dx.tensor([1.0, 2.0], device="numpy")) == "tensor([1., 2.])"
    r = repr(dx.tensor([1.0], dtype=dx.float64, device="numpy", requires_grad=True))
    assert r == "tensor([1.], dtype=deepx.float64, requires_grad=True)"


def test_to_device_and_dtype():
    t = dx.tensor([1.5, 2.5], device="numpy")
    assert t.to(dx.int64).tolist() == [1, 2]
    assert t.double().dtype is dx.float64
    assert t.to("numpy") is t
    assert t.cpu().device == dx.Device("numpy")


def test_slicing_matches_numpy():
    a = np.arange(60.0).reshape(3, 4, 5)
    t = dx.tensor(a, device="numpy")
    for key in [(1,), (slice(None), 2), (Ellipsis, slice(1, 4, 2)), (None, 0, slice(None, -1)),
                (-1, -2, -3), (slice(10, 20),), ([2, 0],), (slice(None), [1, 1, 3])]:
        np.testing.assert_array_equal(t[key].numpy(), a[key], err_msg=str(key))
    mask = a[:, 0, 0] > 10
    np.testing.assert_array_equal(t[dx.tensor(mask, device="numpy")].numpy(), a[mask])


def test_setitem():
    t = dx.zeros(3, 4)
    t[1] = 5.0
    t[:, 0] = dx.tensor([1.0, 2.0, 3.0])
    t[2, 1::2] = dx.tensor([7.0, 8.0])
    expect = np.zeros((3, 4))
    expect[1] = 5
    expect[:, 0] = [1, 2, 3]
    expect[2, 1::2] = [7, 8]
    np.testing.assert_array_equal(t.numpy(), expect)


def test_comparisons_and_logic():
    a = dx.tensor([1.0, 2.0, 3.0])
    assert (a > 1.5).tolist() == [False, True, True]
    assert (a == dx.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (~(a <= 2)).tolist() == [False, False, True]
    assert ((a > 1) & (a < 3)).tolist() == [False, True, False]
    assert (2 < a).tolist() == [False, False, True]


def test_scalar_promotion():
    i = dx.tensor([1, 2])
    assert (i + 1).dtype is dx.int64
    assert (i * 0.5).dtype is dx.float32
    assert (i / 2).dtype is dx.float32 and (i / 2).tolist() == [0.5, 1.0]
    assert (dx.tensor([1.0], dtype=dx.float64) + dx.tensor([1.0])).dtype is dx.float64
    assert (1 - dx.tensor([3.0])).tolist() == [-2.0]
    assert (2 ** dx.tensor([3.0])).tolist() == [8.0]


def test_reductions_match_numpy():
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    t = dx.tensor(a, device="numpy")
    np.testing.assert_allclose(t.sum(dim=(0, 2)).numpy(), a.sum(axis=(0, 2)))
    np.testing.assert_allclose(t.mean(1, keepdim=True).numpy(), a.mean(1, keepdims=True))
    np.testing.assert_allclose(t.var().numpy(), a.var(ddof=1))
    np.testing.assert_allclose(t.std(dim=2, correction=0).numpy(), a.std(axis=2))
    values, indices = t.max(dim=1)
    np.testing.assert_allclose(values.numpy(), a.max(1))
    np.testing.assert_array_equal(indices.numpy(), a.argmax(1))
    assert t.argmin().item() == a.argmin()
    np.testing.assert_array_equal(t.argmax(dim=-1, keepdim=True).numpy(),
                                  a.argmax(-1)[..., None])
    assert dx.tensor([1, 2, 3]).sum().dtype is dx.int64


def test_shape_ops():
    t = dx.zeros(2, 3, 4)
    assert t.flatten(1).shape == (2, 12) and t.T.shape == (4, 3, 2)
    assert t.permute(2, 0, 1).shape == (4, 2, 3) and t.transpose(0, 1).shape == (3, 2, 4)
    assert t.unsqueeze(-1).shape == (2, 3, 4, 1) and dx.zeros(1, 3, 1).squeeze().shape == (3,)
    assert dx.zeros(3, 1).expand(3, 5).shape == (3, 5)
    assert dx.stack([dx.zeros(2), dx.ones(2)], dim=1).shape == (2, 2)
    assert dx.pad(dx.zeros(2, 2), (1, 1, 2, 0)).shape == (4, 4)
    assert dx.matmul(dx.zeros(5, 2, 3), dx.zeros(3)).shape == (5, 2)


@pytest.mark.parametrize("device", ["numpy", None])
def test_tiny_regression_trains(device):
    dx.manual_seed(0)
    x = dx.randn(64, 3, device=device)
    y = x @ dx.tensor([[2.0], [-1.0], [0.5]], device=device) + 0.3
    w = dx.zeros(3, 1, device=device, requires_grad=True)
    b = dx.zeros(1, device=device, requires_grad=True)
    for _ in range(200):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with dx.no_grad():
            w.sub_(w.grad * 0.1)
            b.sub_(b.grad * 0.1)
        w.grad = b.grad = None
    assert loss.item() < 1e-6
    np.testing.assert_allclose(w.numpy().ravel(), [2.0, -1.0, 0.5], atol=1e-3)
