"""deepx.nn modules: registration and naming as in PyTorch, state dicts, modes, devices, repr,
summary, default initialisation, layers against torch, regularizers, models, and a tiny
end-to-end training run. Everything runs on the default device unless a test says otherwise."""
from __future__ import annotations

import math
import re
from collections import OrderedDict

import numpy as np
import pytest

import deepx as dx
from deepx import checkpoint, models, nn
from deepx.errors import CheckpointError, DeepxError, ShapeError
from deepx.nn import functional as F
from deepx.nn import regularizers


class Net(nn.Module):
    """A small model with a buffer, a nested Sequential and a bias-free layer."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4, bias=False))
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Linear(4, 2)
        self.register_buffer("scale", dx.ones(2))

    def forward(self, x):
        return self.head(self.bn(self.features(x))) * self.scale


def _rand(*shape, seed=0):
    return dx.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


# ------------------------------------------------------------------ Parameter
def test_parameter_is_a_leaf_sharing_data():
    t = dx.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, dx.Tensor) and p.requires_grad and p.is_leaf and p.shape == (2, 3)
    assert not t.requires_grad  # the source tensor is left as it was
    with dx.no_grad():
        p.fill_(1.0)
    np.testing.assert_array_equal(t.numpy(), np.ones((2, 3)))  # same storage, like torch
    out = p * 2
    assert type(out) is dx.Tensor and not isinstance(out, nn.Parameter)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(dx.zeros(1), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.Parameter([1.0, 2.0])


# ------------------------------------------------------------------ registration and traversal
def test_named_parameters_follow_torch_naming_and_order():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "features.0.weight", "features.0.bias", "features.2.weight", "bn.weight", "bn.bias",
        "head.weight", "head.bias"]
    assert [p.shape for p in net.parameters()] == [(4, 3), (4,), (4, 4), (4,), (4,), (2, 4),
                                                   (2,)]
    assert net.features[2].bias is None
    assert [name for name, _ in net.named_buffers()] == [
        "scale", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert list(net.state_dict()) == [
        "scale", "features.0.weight", "features.0.bias", "features.2.weight", "bn.weight",
        "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
        "head.weight", "head.bias"]


def test_sequential_names_and_torch_agree():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8, 3))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_children_and_modules():
    net = Net()
    assert [name for name, _ in net.named_children()] == ["features", "bn", "head"]
    assert list(net.children()) == [net.features, net.bn, net.head]
    assert [name for name, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "bn", "head"]
    assert next(net.modules()) is net
    assert net.get_submodule("features.2") is net.features[2]
    with pytest.raises(AttributeError, match="no submodule 'nine'"):
        net.get_submodule("features.nine")


def test_shared_modules_and_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch


def test_setattr_rules():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(dx.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = dx.zeros(2, 2)
    lin.bias = None  # allowed: a declared-but-absent parameter
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.extra = nn.Parameter(dx.zeros(3))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "extra"]
    del lin.extra
    assert not hasattr(lin, "extra")
    lin.note = "plain attributes stay plain"
    assert "note" in lin.__dict__
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        _ = lin.nope
    with pytest.raises(KeyError, match="contain"):
        lin.register_buffer("a.b", dx.zeros(1))


def test_non_persistent_buffer_is_not_saved():
    m = nn.Module()
    m.register_buffer("kept", dx.zeros(1))
    m.register_buffer("scratch", dx.zeros(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict()) == ["kept"]


def test_module_without_forward_and_hooks():
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        nn.Module()(dx.zeros(1))
    lin = nn.Identity()
    seen = []
    pre = lin.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape))
    post = lin.register_forward_hook(lambda m, args, out: out * 2)
    np.testing.assert_array_equal(lin(dx.ones(3)).numpy(), [2.0, 2.0, 2.0])
    pre.remove()
    post.remove()
    np.testing.assert_array_equal(lin(dx.ones(3)).numpy(), [1.0, 1.0, 1.0])
    assert seen == [(3,)]


def test_apply_visits_children_first():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "ReLU", "Linear", "Sequential", "BatchNorm1d", "Linear", "Net"]

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(zero_linear)
    assert all(not m.weight.numpy().any() for m in net.modules() if isinstance(m, nn.Linear))


# ------------------------------------------------------------------ containers
def test_sequential_indexing_slicing_and_ordered_dict_form():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head.state_dict()) == ["2.weight", "2.bias"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]
    x = _rand(5, 2)
    np.testing.assert_allclose(seq(x).numpy(), seq[2](seq[1](seq[0](x))).numpy())
    seq.append(nn.Sigmoid())
    del seq[1]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear", "Sigmoid"]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 3))
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and isinstance(layers[0], nn.Identity)
    assert [n for n, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]
    layers.extend([nn.ReLU()])
    del layers[0]
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "Linear", "ReLU"]
    assert list(layers.state_dict())[0] == "0.weight"
    with pytest.raises(NotImplementedError):
        layers(dx.zeros(2))


# ------------------------------------------------------------------ state dicts
def test_state_dict_round_trip_through_a_checkpoint(tmp_path):
    dx.manual_seed(0)
    a, b = Net(), Net()
    a.train()
    a(_rand(8, 3))  # moves a's running statistics off their initial values
    sd = a.state_dict()
    assert not any(v.requires_grad for v in sd.values())
    checkpoint.save(sd, tmp_path / "net.safetensors")
    result = b.load_state_dict(checkpoint.load(tmp_path / "net.safetensors"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, va), vb in zip(sd.items(), b.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=name)
    a.eval()
    b.eval()
    x = _rand(5, 3, seed=1)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_copies_in_place_and_accepts_arrays():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    lin.load_state_dict({"weight": np.eye(2, dtype=np.float32), "bias": np.zeros(2)})
    assert lin.weight is weight and weight.requires_grad
    np.testing.assert_array_equal(weight.numpy(), np.eye(2))


def test_load_state_dict_strict_errors_name_keys_and_shapes():
    net = Net()
    sd = dict(net.state_dict())
    del sd["head.bias"]
    sd["head.extra"] = dx.zeros(1)
    sd["features.0.weight"] = dx.zeros(5, 3)
    with pytest.raises(CheckpointError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert isinstance(info.value, DeepxError) and isinstance(info.value, nn.StateDictError)
    assert re.search(r'Missing key\(s\) in state_dict: "head.bias"', message)
    assert re.search(r'Unexpected key\(s\) in state_dict: "head.extra"', message)
    assert re.search(r"size mismatch for features.0.weight: copying a param with shape "
                     r"\(5, 3\) from checkpoint, the shape in current model is \(4, 3\)",
                     message)
    assert "for Net" in message


def test_load_state_dict_non_strict():
    net = Net()
    sd = dict(net.state_dict())
    del sd["head.bias"]
    sd["head.extra"] = dx.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["head.extra"]
    sd["head.weight"] = dx.zeros(9, 9)
    with pytest.raises(CheckpointError, match="size mismatch for head.weight"):
        net.load_state_dict(sd, strict=False)  # shapes are checked even when not strict


# ------------------------------------------------------------------ modes, grads, devices
def test_train_eval_propagate():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.features.eval()
    assert net.training and not net.features[0].training


def test_zero_grad():
    lin = nn.Linear(3, 2)
    lin(_rand(4, 3)).sum().backward()
    assert lin.weight.grad is not None
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(lin.weight.grad.numpy(), np.zeros((2, 3)))
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_requires_grad_freezes():
    net = Net()
    net.features.requires_grad_(False)
    assert [n for n, p in net.named_parameters() if p.requires_grad] == [
        "bn.weight", "bn.bias", "head.weight", "head.bias"]


@pytest.mark.parametrize("target", ["numpy", None])
def test_to_keeps_parameter_identity(target):
    device = dx.default_device() if target is None else dx.device(target)
    net = Net()
    params = list(net.parameters())  # what an optimizer would hold
    net(_rand(4, 3)).sum().backward()
    assert net.to(device) is net
    assert all(p is q for p, q in zip(params, net.parameters()))
    assert all(p.device == device and p.grad.device == device for p in params)
    assert all(b.device == device for b in net.buffers())
    net.to(dx.float64)
    assert all(p is q for p, q in zip(params, net.parameters()))
    assert all(p.dtype is dx.float64 and p.requires_grad and p.is_leaf for p in params)
    assert net.bn.running_mean.dtype is dx.float64
    assert net.bn.num_batches_tracked.dtype is dx.int64  # integer buffers keep their dtype
    out = net(_rand(4, 3).to(device=device, dtype=dx.float64))
    assert out.dtype is dx.float64


def test_repr_shows_the_tree():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (features): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=4, out_features=4, bias=False)\n"
        "  )\n"
        "  (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)\n"
        "  (head): Linear(in_features=4, out_features=2, bias=True)\n"
        ")")


def test_leaf_reprs_match_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Conv2d(1, 6, 5, padding=2), torch.nn.Conv2d(1, 6, 5, padding=2)),
        (nn.Conv2d(4, 8, 3, stride=2, bias=False), torch.nn.Conv2d(4, 8, 3, stride=2,
                                                                   bias=False)),
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)), (nn.AvgPool2d(3, 1), torch.nn.AvgPool2d(3, 1)),
        (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
        (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)), (nn.Dropout(0.2), torch.nn.Dropout(0.2)),
        (nn.Flatten(), torch.nn.Flatten()), (nn.ReLU(), torch.nn.ReLU()),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.PReLU(), torch.nn.PReLU()),
        (nn.ELU(), torch.nn.ELU()), (nn.GELU(), torch.nn.GELU()),
        (nn.Softplus(), torch.nn.Softplus()), (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Linear(2, 3), torch.nn.Linear(2, 3)), (nn.Identity(), torch.nn.Identity()),
        (nn.LayerNorm(3), torch.nn.LayerNorm(3)), (nn.PReLU(3), torch.nn.PReLU(3)),
        (nn.BatchNorm1d(3, bias=False), torch.nn.BatchNorm1d(3, bias=False)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------ summary
def test_lenet_parameter_count_and_summary_table(capsys):
    model = models.lenet()
    # conv 1*6*25+6, conv 6*16*25+16, fc 400*120+120, 120*84+84, 84*10+10
    expected = (6 * 25 + 6) + (6 * 16 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (
        84 * 10 + 10)
    assert expected == 61_706
    assert sum(p.numel() for p in model.parameters()) == expected
    text = model.summary((1, 28, 28))
    assert text in capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in text.splitlines() if "(" in line}
    assert rows["features.0"][1:] == ["(Conv2d)", "[-1,", "6,", "28,", "28]", "156"]
    assert rows["features.2"][1:] == ["(MaxPool2d)", "[-1,", "6,", "14,", "14]", "0"]
    assert rows["features.3"][1:] == ["(Conv2d)", "[-1,", "16,", "10,", "10]", "2,416"]
    assert rows["features.5"][2:6] == ["[-1,", "16,", "5,", "5]"]
    assert rows["classifier.0"][2:] == ["[-1,", "400]", "0"]
    assert rows["classifier.1"][2:] == ["[-1,", "120]", "48,120"]
    assert rows["classifier.3"][2:] == ["[-1,", "84]", "10,164"]
    assert rows["classifier.5"][2:] == ["[-1,", "10]", "850"]
    assert "Total params: 61,706" in text and "Trainable params: 61,706" in text


def test_summary_leaves_state_alone():
    model = models.resnet_small()
    model.train()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    dx.manual_seed(3)
    expected_next = dx.rand(4).numpy()
    dx.manual_seed(3)
    text = nn.summary(model, (1, 28, 28))
    assert "layer2.0.downsample.0 (Conv2d)" in text and "[-1, 64, 7, 7]" in text
    assert all(m.training for m in model.modules())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    np.testing.assert_array_equal(dx.rand(4).numpy(), expected_next)


# ------------------------------------------------------------------ default initialisation
def test_linear_default_init_matches_pytorch_bounds():
    dx.manual_seed(0)
    lin = nn.Linear(1000, 1000)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    bound = 1 / math.sqrt(1000)
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.999 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(b).max() <= bound * (1 + 1e-6) and np.abs(b).max() > 0.9 * bound


def test_conv_and_norm_default_init():
    conv = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    assert np.abs(conv.weight.numpy()).max() <= bound * (1 + 1e-6)
    assert np.abs(conv.bias.numpy()).max() <= bound * (1 + 1e-6)
    bn = nn.BatchNorm2d(5)
    np.testing.assert_array_equal(bn.weight.numpy(), np.ones(5))
    np.testing.assert_array_equal(bn.bias.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(5))
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype is dx.int64
    ln = nn.LayerNorm((2, 3))
    np.testing.assert_array_equal(ln.weight.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(ln.bias.numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(nn.PReLU(4).weight.numpy(), np.full(4, 0.25))
    assert nn.BatchNorm1d(3, affine=False).weight is None
    assert nn.BatchNorm1d(3, track_running_stats=False).running_mean is None
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


# ------------------------------------------------------------------ layers against torch
def _copy_to_torch(ours, theirs):
    import torch

    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def test_linear_conv_forward_and_backward_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        (nn.Linear(7, 5), torch.nn.Linear(7, 5), (3, 7)),
        (nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Conv2d(3, 4, 3, stride=2, padding=1),
         (2, 3, 9, 9)),
        (nn.Conv2d(4, 6, (3, 2), bias=False, groups=2),
         torch.nn.Conv2d(4, 6, (3, 2), bias=False, groups=2), (2, 4, 6, 5)),
    ]
    for ours, theirs, shape in cases:
        _copy_to_torch(ours, theirs)
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        out = ours(dx.tensor(x))
        ref = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_batchnorm2d_train_then_eval_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3, momentum=0.2), torch.nn.BatchNorm2d(3, momentum=0.2)
    with dx.no_grad():
        ours.weight.copy_(np.array([1.0, 2.0, 0.5], dtype=np.float32))
        ours.bias.copy_(np.array([0.0, -1.0, 3.0], dtype=np.float32))
    _copy_to_torch(ours, theirs)
    rng = np.random.default_rng(2)
    for _ in range(2):
        x = (rng.standard_normal((4, 3, 5, 5)) * 3 + 1).astype(np.float32)
        out = ours(dx.tensor(x))
        ref = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-4)
    for name, ref in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), ref.numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=name)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(dx.tensor(x)).numpy(), theirs(torch.tensor(x)).detach()
                               .numpy(), rtol=1e-5, atol=1e-5)


def test_lenet_and_resnet_match_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    ours = models.lenet()
    theirs = tnn.Module()
    theirs.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(),
                                     tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
                                     tnn.MaxPool2d(2))
    theirs.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                                       tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    _copy_to_torch(ours, theirs)
    x = np.random.default_rng(3).standard_normal((2, 1, 28, 28)).astype(np.float32)
    ref = theirs.classifier(theirs.features(torch.tensor(x))).detach().numpy()
    np.testing.assert_allclose(ours(dx.tensor(x)).numpy(), ref, rtol=1e-4, atol=1e-5)


def test_torch_state_dict_loads_into_deepx():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4),
                                 torch.nn.GELU(), torch.nn.Linear(4, 2))
    ours = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.GELU(), nn.Linear(4, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(dx.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


ACTIVATIONS = [
    ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("PReLU", {}), ("ELU", {"alpha": 0.5}),
    ("Sigmoid", {}), ("Tanh", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}),
    ("Softplus", {"beta": 2.0}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation_modules_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32) * 3
    ours = getattr(nn, name)(**kwargs)(dx.tensor(x)).numpy()
    ref = getattr(torch.nn, name)(**kwargs)(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def _loss_inputs(name, rng):
    x = rng.standard_normal((6, 4)).astype(np.float32)
    if name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"):
        if name == "NLLLoss":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        return x, rng.integers(0, 4, 6)
    if name == "BCELoss":
        return 1 / (1 + np.exp(-x)), rng.random((6, 4)).astype(np.float32)
    if name == "BCEWithLogitsLoss":
        return x, rng.random((6, 4)).astype(np.float32)
    if name == "HingeEmbeddingLoss":
        return x, np.where(rng.random((6, 4)) < 0.5, -1.0, 1.0).astype(np.float32)
    return x, rng.standard_normal((6, 4)).astype(np.float32)


LOSSES = [
    ("CrossEntropyLoss", {}), ("CrossEntropyLoss", {"label_smoothing": 0.1}),
    ("CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5, 1.0], "reduction": "sum"}),
    ("NLLLoss", {"ignore_index": 2}), ("MSELoss", {}), ("MSELoss", {"reduction": "none"}),
    ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}), ("BCELoss", {}),
    ("BCEWithLogitsLoss", {"pos_weight": [1.0, 2.0, 3.0, 0.5]}),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}), ("HingeEmbeddingLoss", {"margin": 0.7}),
]


@pytest.mark.parametrize("name, kwargs", LOSSES)
def test_loss_modules_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    x, target = _loss_inputs(name, np.random.default_rng(6))
    ours_kw = {k: dx.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    theirs_kw = {k: torch.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    ours = getattr(nn, name)(**ours_kw)(dx.tensor(x), dx.tensor(target)).numpy()
    ref = getattr(torch.nn, name)(**theirs_kw)(torch.tensor(x), torch.tensor(target))
    np.testing.assert_allclose(ours, ref.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_loss_legacy_flags_and_weight_buffer():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"
    loss = nn.CrossEntropyLoss(weight=dx.ones(3))
    assert list(loss.state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.L1Loss(reduction="avg")


# ------------------------------------------------------------------ norm and dropout modes
def test_batchnorm_module_train_vs_eval():
    bn = nn.BatchNorm1d(3)
    x = _rand(64, 3) * 2 + 5
    out = bn(x).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-3)
    xs = x.numpy()
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * xs.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * xs.var(0, ddof=1),
                               rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = _rand(4, 3, seed=1)
    expected = (y.numpy() - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(bn(y).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert bn.num_batches_tracked.item() == 1  # eval leaves the statistics alone
    with pytest.raises(ShapeError, match=r"expected 2D or 3D input \(got 4D input"):
        bn(dx.zeros(2, 3, 4, 4))


def test_batchnorm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None)
    a, b = _rand(8, 2, seed=1), _rand(8, 2, seed=2)
    bn(a)
    bn(b)
    expected = (a.numpy().mean(0) + b.numpy().mean(0)) / 2
    np.testing.assert_allclose(bn.running_mean.numpy(), expected, rtol=1e-5, atol=1e-6)
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    np.testing.assert_allclose(free(a).numpy().mean(0), 0, atol=1e-5)  # batch stats in eval


def test_dropout_and_dropconnect_modes():
    dx.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = dx.ones(200, 50)
    out = drop(x).numpy()
    zero_fraction = (out == 0).mean()
    assert abs(zero_fraction - 0.25) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    dc = nn.DropConnect(6, 4, p=0.5)
    plain = F.linear(_rand(3, 6), dc.weight, dc.bias).numpy()
    assert not np.allclose(dc(_rand(3, 6)).numpy(), plain)
    dc.eval()
    np.testing.assert_allclose(dc(_rand(3, 6)).numpy(), plain, rtol=1e-6)
    assert "p=0.5" in repr(dc)


def test_flatten_identity_pools_shapes():
    x = dx.zeros(2, 3, 8, 8)
    assert nn.Flatten()(x).shape == (2, 192)
    assert nn.Flatten(0, 1)(x).shape == (6, 8, 8)
    assert nn.Identity(54, unused=1)(x) is x
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, stride=1, padding=1)(x).shape == (2, 3, 8, 8)
    assert nn.AdaptiveAvgPool2d((2, 1))(x).shape == (2, 3, 2, 1)
    assert nn.LayerNorm(8)(x).shape == x.shape


# ------------------------------------------------------------------ regularizers
def test_l1_l2_values_and_gradients():
    w = dx.tensor([[1.0, -2.0], [0.5, 0.0]], requires_grad=True)
    b = dx.tensor([-3.0], requires_grad=True)
    l1 = regularizers.l1([w, b])
    assert l1.shape == () and l1.item() == pytest.approx(6.5)
    l1.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, -1.0], [1.0, 0.0]])  # sign(0) = 0
    np.testing.assert_array_equal(b.grad.numpy(), [-1.0])
    w.grad = b.grad = None
    l2 = regularizers.l2(p for p in [w, b])
    assert l2.item() == pytest.approx(1 + 4 + 0.25 + 9)  # no 1/2 factor
    l2.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.numpy())
    np.testing.assert_allclose(b.grad.numpy(), [-6.0])


def test_regularizers_take_a_module():
    lin = nn.Linear(3, 2)
    expected = sum((p.numpy() ** 2).sum() for p in lin.parameters())
    assert regularizers.l2(lin).item() == pytest.approx(expected, rel=1e-5)
    assert regularizers.l1([]).item() == 0.0


# ------------------------------------------------------------------ models
def test_mlp_structure():
    model = models.mlp([4, 8, 8, 2], activation=nn.Tanh)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert model(dx.zeros(5, 4)).shape == (5, 2)
    with pytest.raises(ValueError, match="at least an input and an output"):
        models.mlp([3])


def test_resnet_small_composes_and_trains_one_step():
    dx.manual_seed(0)
    model = models.resnet_small(num_classes=10, in_channels=1)
    names = [n for n, _ in model.named_parameters()]
    assert "layer2.0.downsample.0.weight" in names and "layer1.0.downsample.0.weight" not in names
    assert names[-2:] == ["fc.weight", "fc.bias"]
    x = _rand(2, 1, 28, 28)
    loss = nn.CrossEntropyLoss()(model(x), dx.tensor([3, 7]))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    block = models.BasicBlock(8, 8)
    assert block(dx.zeros(1, 8, 6, 6)).shape == (1, 8, 6, 6) and block.downsample is None


def test_mlp_learns_xor_with_manual_sgd():
    dx.manual_seed(0)
    x = dx.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = dx.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = models.mlp([2, 8, 1], activation=nn.Tanh)
    loss_fn = nn.MSELoss()
    for _ in range(250):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with dx.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.2)
    assert loss.item() < 0.05
