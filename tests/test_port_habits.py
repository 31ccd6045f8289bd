"""Small PyTorch habits a port trips over, checked against torch where it is importable:
torch.where(condition), is_tensor / numel, nn.Unflatten, and backward's keywords."""
import numpy as np
import pytest

import deepx as dx
import deepx.nn as nn
from deepx.errors import ShapeError


def test_where_with_only_a_condition_is_nonzero_as_tuple(device):
    host = np.array([[0, 3, 0], [2, 0, 1]])
    got = dx.where(dx.tensor(host, device=device) > 0)
    want = np.nonzero(host > 0)
    assert len(got) == 2 and all(g.dtype is dx.int64 for g in got)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w)
    torch = pytest.importorskip("torch")
    for g, t in zip(got, torch.where(torch.tensor(host) > 0)):
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    with pytest.raises(TypeError, match="where"):
        dx.where(dx.tensor(host, device=device) > 0, 1.0)


def test_is_tensor_and_numel():
    x = dx.zeros(2, 3, 5)
    assert dx.is_tensor(x) and not dx.is_tensor(x.numpy()) and not dx.is_tensor(3.0)
    assert dx.numel(x) == 30 and dx.numel(dx.tensor(1.0)) == 1


@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 4), (3, 8, 5)), (-1, (1, 5), (3, 8, 5)),
                                             (1, (2, -1), (3, 8, 5)), (0, (3,), (3, 8, 5))])
def test_unflatten_splits_a_dim(device, dim, sizes, shape):
    x = dx.randn(*shape, device=device, requires_grad=True)
    out = nn.Unflatten(dim, sizes)(x)
    out.sum().backward()
    torch = pytest.importorskip("torch")
    ref = torch.nn.Unflatten(dim, sizes)(torch.tensor(x.detach().numpy()))
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.detach().numpy(), ref.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape, np.float32))


def test_unflatten_sizes_must_match():
    with pytest.raises(ShapeError):
        nn.Unflatten(1, (3, 3))(dx.zeros(2, 8))
    assert repr(nn.Unflatten(1, (2, 4))) == "Unflatten(dim=1, unflattened_size=(2, 4))"


def test_backward_takes_pytorchs_keywords_and_refuses_what_it_cannot_do():
    x = dx.randn(3, requires_grad=True)
    (x * x).sum().backward(retain_graph=None, create_graph=False)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="higher-order"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="inputs"):
        (x * x).sum().backward(inputs=[x])


@pytest.mark.parametrize("dt", [dx.int64, dx.int32])
@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                                {"kernel_size": 2, "ceil_mode": True}])
def test_max_pool_of_integers(device, dt, kw):
    """PyTorch's CPU max pooling takes integer tensors: the same maxima and indices as the
    float path (ties keep the first tap), in the input's dtype; bool and average refuse."""
    import deepx.nn.functional as F
    from deepx.errors import DTypeError

    host = np.random.default_rng(3).integers(-4, 4, (2, 3, 7, 9))
    x = dx.tensor(host, device=device).to(dt)
    out, idx = F.max_pool2d(x, return_indices=True, **kw)
    ref, ref_idx = F.max_pool2d(x.double(), return_indices=True, **kw)
    assert out.dtype is dt
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    with pytest.raises(DTypeError, match="max_pool2d: expected a floating or int32/int64"):
        F.max_pool2d(x > 0, 2)
    with pytest.raises(DTypeError, match="avg_pool2d: expected a floating input"):
        F.avg_pool2d(x, 2)


def test_bitwise_operators_and_in_place_forms(device):
    """& | ^ ~ are bitwise on integers and logical on bools (PyTorch); &= |= ^= **= write in
    place (an alias sees it); in-place results may not move down bool < int < float."""
    from deepx.errors import DTypeError

    i = dx.tensor([5, -3, 12], device=device)
    assert (i & 6).tolist() == [4, 4, 4] and (6 | i).tolist() == [7, -1, 14]
    assert (i ^ i).tolist() == [0, 0, 0] and (~i).tolist() == [-6, 2, -13]
    b = dx.tensor([True, False, True], device=device)
    assert (b ^ True).tolist() == [False, True, False] and (b & b).dtype is dx.bool_
    alias = i
    i &= 6
    assert alias.tolist() == [4, 4, 4]
    v = dx.tensor([1.0, 2.0, 3.0], device=device)
    alias = v
    v **= 2
    assert alias.tolist() == [1.0, 4.0, 9.0]
    with pytest.raises(DTypeError, match="bitwise_and: not implemented for float32"):
        v & 1
    with pytest.raises(DTypeError, match="add_: result type int64 can't be cast"):
        b += 2
    with pytest.raises(DTypeError, match="mul_: result type float32 can't be cast"):
        alias_i = dx.tensor([1, 2], device=device)
        alias_i *= 1.5


def test_scalar_where_alpha_and_arithmetic_methods(device):
    torch = pytest.importorskip("torch")
    host = np.array([1.0, 2.0, 3.0], np.float32)
    v, tv = dx.tensor(host, device=device), torch.tensor(host)
    for expr in ("where(v > 1, 1.5, 0)", "where(v > 1, 1, 0)",
                 "where(v > 1, np.float32(1), np.float32(0))", "add(v, 2, alpha=3)",
                 "sub(v, v, alpha=2)", "add(v.long(), 2, alpha=3)"):
        got = eval("dx." + expr, {"dx": dx, "np": np, "v": v})  # noqa: S307
        want = eval("torch." + expr, {"torch": torch, "np": np, "v": tv})  # noqa: S307
        assert got.tolist() == want.tolist() and str(want.dtype) == f"torch.{got.dtype.name}"
    for expr in ("v.clone().sub_(np.float32(1), alpha=2)", "v.clone().add_(v, alpha=0.5)",
                 "v.add(1)", "v.sub(v, alpha=3)", "v.mul(2)", "v.div(2)",
                 "v.div(2, rounding_mode='floor')"):
        got = eval(expr, {"np": np, "v": v})  # noqa: S307
        want = eval(expr, {"np": np, "v": tv})  # noqa: S307
        assert got.tolist() == want.tolist(), expr
    with pytest.raises(NotImplementedError, match="rounding_mode"):
        v.div(2, rounding_mode="trunc")


def test_alpha_rounding_mode_max_of_two_tensors_and_boolean_p(device):
    from deepx.errors import DTypeError

    i = dx.tensor([1, 2], device=device)
    with pytest.raises(DTypeError, match="alpha must not be a floating point number"):
        dx.add(i, i, alpha=0.5)
    x = dx.tensor([1.0, -2.0, 3.0], device=device)
    assert dx.add(x, 1, alpha=0.5).tolist() == [1.5, -1.5, 3.5]
    assert dx.div(x, 2, rounding_mode="floor").tolist() == [0.0, -1.0, 1.0]
    assert dx.max(x, dx.zeros(3, device=device)).tolist() == [1.0, 0.0, 3.0]  # torch.max(x, y)
    assert dx.min(x, dx.zeros(3, device=device)).tolist() == [0.0, -2.0, 0.0]
    assert float(x.norm(p=True)) == 6.0  # True is 1, as torch


def test_integer_ops_read_non_contiguous_views(device):
    """The non-contiguous harness transforms float inputs only: the integer ops added here
    (bitwise, integer max pooling) are checked on transposed, sliced and permuted views."""
    import deepx.nn.functional as F

    rng = np.random.default_rng(11)
    a, b = rng.integers(-50, 50, (6, 5)), rng.integers(-50, 50, (5, 6))
    ta, tb = dx.tensor(a, device=device), dx.tensor(b, device=device)
    np.testing.assert_array_equal((ta.t() & tb).numpy(), a.T & b)
    np.testing.assert_array_equal((ta[::2] | tb.t()[1::2]).numpy(), a[::2] | b.T[1::2])
    np.testing.assert_array_equal((~ta.t()).numpy(), ~a.T)
    host = rng.integers(-4, 4, (2, 7, 9, 3))  # (N, H, W, C): permuted to NCHW, a view
    x = dx.tensor(host, device=device).permute(0, 3, 1, 2)
    assert not x.is_contiguous()
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    ref, ref_idx = F.max_pool2d(x.double().contiguous(), 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
