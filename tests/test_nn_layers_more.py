"""The nn names a PyTorch script reaches for beyond the basic layers: Embedding, Dropout2d,
ModuleDict, ParameterList, ParameterDict and nn.utils' clipping and vector helpers, each
against torch where installed and on both devices."""
from __future__ import annotations

import math

import numpy as np
import pytest

import deepx as dx
from deepx import nn
from deepx.errors import DeepxError, DTypeError, ShapeError


@pytest.fixture(params=["numpy", "opencl"])
def device(request):
    if request.param == "numpy":
        return dx.device("numpy")
    return request.getfixturevalue("opencl_device")


def _np(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- Embedding
def test_embedding_init_shapes_and_padding_row():
    dx.manual_seed(0)
    e = nn.Embedding(50, 8, padding_idx=-2)
    assert e.padding_idx == 48 and tuple(e.weight.shape) == (50, 8)
    w = e.weight.numpy()
    np.testing.assert_array_equal(w[48], 0.0)
    assert abs(w.std() - 1.0) < 0.15  # N(0, 1), as torch
    assert repr(e) == "Embedding(50, 8, padding_idx=48)"
    out = e(dx.tensor([[1, 48, 3]]))
    assert tuple(out.shape) == (1, 3, 8)
    np.testing.assert_array_equal(out.numpy()[0, 1], 0.0)


def test_embedding_matches_torch_forward_and_padding_gradient(device):
    torch = pytest.importorskip("torch")
    weight = _np(10, 4)
    idx = np.array([[0, 3, 3, 9], [3, 1, 0, 0]], dtype=np.int64)
    e = nn.Embedding(10, 4, padding_idx=3, device=device)
    with dx.no_grad():
        e.weight.copy_(dx.tensor(weight))  # a non-zero padding row is returned as it is
    te = torch.nn.Embedding(10, 4, padding_idx=3)
    with torch.no_grad():
        te.weight.copy_(torch.from_numpy(weight))
    up = _np(2, 4, 4, seed=1)
    out, tout = e(dx.tensor(idx, device=device)), te(torch.from_numpy(idx))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    out.backward(dx.tensor(up, device=device))
    tout.backward(torch.from_numpy(up))
    np.testing.assert_allclose(e.weight.grad.numpy(), te.weight.grad.numpy(), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_array_equal(e.weight.grad.numpy()[3], 0.0)


def test_embedding_from_pretrained_and_freeze():
    w = dx.tensor(_np(4, 3))
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and list(e.parameters()) == [e.weight]
    np.testing.assert_array_equal(e(dx.tensor([2])).numpy(), w.numpy()[[2]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_embedding_errors():
    with pytest.raises(NotImplementedError, match="max_norm"):
        nn.Embedding(5, 2, max_norm=1.0)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    e = nn.Embedding(5, 2)
    with pytest.raises(DTypeError, match="embedding: expected an integer.*float32"):
        e(dx.tensor([1.0]))
    with pytest.raises(ShapeError, match=r"index 5 is out of bounds.*\(5, 2\)"):
        e(dx.tensor([1, 5]))
    with pytest.raises(ShapeError, match=r"embedding: index -1 is out of range.*\(5, 2\)"):
        e(dx.tensor([-1]))


# ---------------------------------------------------------------- Dropout2d
def test_dropout2d_zeroes_whole_channels(device):
    dx.manual_seed(3)
    m = nn.Dropout2d(p=0.4)
    x = dx.ones(16, 32, 3, 3, device=device)
    y = m(x).numpy()
    planes = y.reshape(16, 32, 9)
    assert np.all((planes == 0).all(axis=2) | np.isclose(planes, 1 / 0.6).all(axis=2))
    kept = (planes[:, :, 0] != 0).mean()
    assert 0.5 < kept < 0.7  # 512 Bernoulli(0.6) draws
    y3 = m(dx.ones(8, 5, 5, device=device)).numpy()  # unbatched (C, H, W)
    assert np.all((y3 == 0).all(axis=(1, 2)) | (y3 != 0).all(axis=(1, 2)))
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), 1.0)
    with pytest.raises(ShapeError, match=r"dropout2d: expected a 3-D.*\(4, 5\)"):
        nn.Dropout2d()(dx.ones(4, 5))
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"


# ---------------------------------------------------------------- containers
def test_module_dict_registers_under_keys_like_torch():
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.ReLU()})
    ours["dec"] = nn.Linear(3, 2)
    theirs = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3), "act": torch.nn.ReLU()})
    theirs["dec"] = torch.nn.Linear(3, 2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours) == ["enc", "act", "dec"] and "act" in ours and len(ours) == 3
    assert [k for k, _ in ours.items()] == list(ours.keys())
    popped = ours.pop("act")
    assert isinstance(popped, nn.ReLU) and "act" not in ours
    ours.update([("extra", nn.Identity())])
    assert list(ours) == ["enc", "dec", "extra"]
    del ours["extra"]
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == []


def test_parameter_list_and_dict_names_and_optimizer_use():
    torch = pytest.importorskip("torch")

    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([dx.ones(2), nn.Parameter(dx.zeros(3))])
            self.ws.append(dx.ones(1))
            self.named = nn.ParameterDict({"a": dx.ones(2)})
            self.named["b"] = nn.Parameter(dx.ones(1))

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = torch.nn.ParameterList([torch.ones(2), torch.nn.Parameter(torch.zeros(3))])
            self.ws.append(torch.ones(1))
            self.named = torch.nn.ParameterDict({"a": torch.ones(2)})
            self.named["b"] = torch.nn.Parameter(torch.ones(1))

    ours, theirs = Ours(), Theirs()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.ws)
    assert len(ours.ws) == 3 and tuple(ours.ws[-1].shape) == (1,)
    assert len(ours.ws[1:]) == 2
    assert list(ours.named) == ["a", "b"] and ours.named.get("z") is None
    opt = dx.optim.SGD(ours.parameters(), lr=0.5)
    loss = sum((p * p).sum() for p in ours.parameters())
    loss.backward()
    opt.step()
    np.testing.assert_allclose(ours.named["a"].numpy(), [0.0, 0.0])
    with pytest.raises(TypeError, match="ParameterDict: cannot store a str"):
        ours.named["c"] = "text"
    with pytest.raises(IndexError, match="ParameterList: index 3 is out of range"):
        ours.ws[3]


# ---------------------------------------------------------------- nn.utils
def _grads_model(device, torch=None, scale=1.0):
    """A 2-layer MLP's parameters with gradients from one batch (deepx, or torch if given)."""
    w1, b1, w2 = _np(5, 4, seed=1), _np(5, seed=2), _np(3, 5, seed=3)
    x = _np(6, 4, seed=4) * scale
    if torch is None:
        ps = [dx.tensor(a, device=device, requires_grad=True) for a in (w1, b1, w2)]
        h = (dx.tensor(x, device=device) @ ps[0].T + ps[1]).tanh()
        (h @ ps[2].T).pow(2).sum().backward()
        return ps
    ps = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
    h = torch.tanh(torch.tensor(x) @ ps[0].T + ps[1])
    (h @ ps[2].T).pow(2).sum().backward()
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, device):
    torch = pytest.importorskip("torch")
    ps, tps = _grads_model(device), _grads_model(device, torch)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    assert total.shape == () and total.device == device
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_clip_grad_norm_edge_cases():
    p = dx.tensor([3.0, 4.0], requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients: zero, as torch
    p.grad = dx.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_(p, max_norm=1.0, foreach=True)  # a lone tensor works
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    p.grad = dx.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isnan(nn.utils.clip_grad_norm_([p], 1.0).item())


def test_clip_grad_value_matches_torch(device):
    torch = pytest.importorskip("torch")
    ps, tps = _grads_model(device), _grads_model(device, torch)
    assert nn.utils.clip_grad_value_(ps, 0.3) is None
    torch.nn.utils.clip_grad_value_(tps, 0.3)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-6)
        assert np.abs(p.grad.numpy()).max() <= 0.3 + 1e-7


def test_parameters_to_vector_and_back(device):
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(device)
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert tuple(vec.shape) == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(vec.numpy()[:12], net[0].weight.numpy().reshape(-1))
    (vec * vec).sum().backward()  # differentiable, as torch's (views then cat)
    np.testing.assert_allclose(net[2].bias.grad.numpy(), 2 * net[2].bias.numpy(), rtol=1e-6)
    nn.utils.vector_to_parameters(dx.arange(26, dtype=dx.float32, device=device),
                                  net.parameters())
    np.testing.assert_array_equal(net[0].weight.numpy(), np.arange(12).reshape(4, 3))
    np.testing.assert_array_equal(net[2].bias.numpy(), [24, 25])
    with pytest.raises(TypeError, match="expected deepx.Tensor"):
        nn.utils.vector_to_parameters([1.0], net.parameters())
    with pytest.raises(DeepxError, match=r"vec of shape \(5,\)"):
        nn.utils.vector_to_parameters(dx.ones(5, device=device), net.parameters())
