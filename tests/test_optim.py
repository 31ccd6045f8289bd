"""deepx.optim: each optimizer against its update equations written out below in NumPy (on every
device), against torch.optim where installed, and its bookkeeping: param groups, zero_grad,
state dicts, the tape and version counters, and torch's errors."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import deepx as dx
from deepx import optim
from deepx.autograd import tape
from deepx.errors import DeepxError

STEPS = 5
SHAPES = [(7, 13), (127,)]


# ---------------------------------------------------------------- the update equations
# Written from torch.optim's documented algorithms, in float64, one step per loop pass.

def ref_sgd(p, grads, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    out, buf = [], None
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    m, v, v_max, out = 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if weight_decay != 0 and decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay != 0:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_adamw(p, grads, weight_decay=1e-2, **kwargs):
    return ref_adam(p, grads, weight_decay=weight_decay, decoupled=True, **kwargs)


def ref_rmsprop(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                centered=False, maximize=False):
    v, mean, buf, out = 0.0, 0.0, 0.0, []
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            mean = alpha * mean + (1 - alpha) * g
            v_tilde = v - mean * mean
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(p)
    return out


def ref_adagrad(p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                eps=1e-10, maximize=False):
    total, out = initial_accumulator_value, []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
        out.append(p)
    return out


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    sq, acc, out = 0.0, 0.0, []
    for g in grads:
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        sq = rho * sq + (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        acc = rho * acc + (1 - rho) * delta * delta
        p = p - lr * delta
        out.append(p)
    return out


CASES = [
    (optim.SGD, ref_sgd, {"lr": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    (optim.Adam, ref_adam, {"lr": 0.01}),
    (optim.Adam, ref_adam, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.01, "amsgrad": True, "maximize": True, "eps": 1e-6}),
    (optim.AdamW, ref_adamw, {"lr": 0.01}),
    (optim.AdamW, ref_adamw, {"lr": 0.02, "weight_decay": 0.5, "amsgrad": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "momentum": 0.5, "maximize": True, "eps": 1e-4}),
    (optim.Adagrad, ref_adagrad, {}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1,
                                  "initial_accumulator_value": 0.3}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.05, "eps": 1e-3, "maximize": True}),
    (optim.Adadelta, ref_adadelta, {}),
    (optim.Adadelta, ref_adadelta, {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
    (optim.Adadelta, ref_adadelta, {"maximize": True}),
]
CASE_IDS = [f"{cls.__name__}-" + "-".join(f"{k}={v}" for k, v in kw.items())
            for cls, _, kw in CASES]


def _data(seed, steps=STEPS):
    """Initial values and `steps` gradients for each shape in SHAPES (float64)."""
    rng = np.random.default_rng(seed)
    inits = [rng.standard_normal(shape) for shape in SHAPES]
    grads = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]
    return inits, grads


def _params(inits, dtype, device):
    return [dx.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in inits]


def _set_grads(params, grads, dtype):
    for p, g in zip(params, grads):
        p.grad = dx.tensor(g, dtype=dtype, device=p.device)


@pytest.mark.parametrize("cls,ref,kwargs", CASES, ids=CASE_IDS)
def test_matches_update_equations(cls, ref, kwargs, device):
    inits, grads = _data(0)
    params = _params(inits, dx.float32, device)
    opt = cls(params, **kwargs)
    want = [ref(a, [g[i] for g in grads], **kwargs) for i, a in enumerate(inits)]
    for t in range(STEPS):
        _set_grads(params, grads[t], dx.float32)
        opt.step()
        for i, p in enumerate(params):
            # float32 arithmetic against float64 equations: a few ulps per step
            np.testing.assert_allclose(p.numpy(), want[i][t], rtol=1e-5, atol=1e-5,
                                       err_msg=f"{cls.__name__} step {t + 1} param {i}")


@pytest.mark.parametrize("cls,ref,kwargs", CASES, ids=CASE_IDS)
def test_float64_is_exact_to_rounding(cls, ref, kwargs):
    inits, grads = _data(1)
    params = _params(inits, dx.float64, "numpy")
    opt = cls(params, **kwargs)
    want = [ref(a, [g[i] for g in grads], **kwargs) for i, a in enumerate(inits)]
    for t in range(STEPS):
        _set_grads(params, grads[t], dx.float64)
        opt.step()
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.numpy(), want[i][-1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls,ref,kwargs", CASES, ids=CASE_IDS)
def test_matches_torch(cls, ref, kwargs):
    torch = pytest.importorskip("torch")
    inits, grads = _data(2)
    params = _params(inits, dx.float64, "numpy")
    tparams = [torch.tensor(a, requires_grad=True) for a in inits]
    opt = cls(params, **kwargs)
    topt = getattr(torch.optim, cls.__name__)(tparams, **kwargs)
    for t in range(STEPS):
        for i, (p, tp) in enumerate(zip(params, tparams)):
            # the second parameter has no gradient at step 3: both skip it
            skip = t == 2 and i == 1
            p.grad = None if skip else dx.tensor(grads[t][i], device="numpy")
            tp.grad = None if skip else torch.tensor(grads[t][i])
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-13)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert set(ours["state"]) == set(theirs["state"])
    for index, state in ours["state"].items():
        assert set(state) == set(theirs["state"][index])
        for key, value in state.items():
            if key == "step":
                assert value == theirs["state"][index][key].item()
            else:
                np.testing.assert_allclose(value.numpy(), theirs["state"][index][key].numpy(),
                                           rtol=1e-12, atol=1e-13)
    assert [g["params"] for g in ours["param_groups"]] == [[0, 1]]
    assert set(ours["param_groups"][0]) <= set(theirs["param_groups"][0])


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop,
                                 optim.Adagrad, optim.Adadelta])
def test_signature_follows_torch(cls):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(cls).parameters
    theirs = inspect.signature(getattr(torch.optim, cls.__name__)).parameters
    for name, param in ours.items():
        assert name in theirs, name
        assert param.default == theirs[name].default, name
    # the same positional order, as far as torch's positional arguments go
    positional = [n for n, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == list(theirs)[:len(positional)]
    # every torch argument is accepted, so a torch call never fails on a keyword
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    w = dx.tensor([1.0], requires_grad=True)
    cls([w], foreach=False)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        cls([w], differentiable=True)


def test_param_groups_with_their_own_options(device):
    inits, grads = _data(3)
    w, b = _params(inits, dx.float32, device)
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["params"] == [b]
    for t in range(STEPS):
        _set_grads([w, b], grads[t], dx.float32)
        opt.step()
    want_w = ref_sgd(inits[0], [g[0] for g in grads], lr=0.1)[-1]
    want_b = ref_sgd(inits[1], [g[1] for g in grads], lr=0.5, momentum=0.9)[-1]
    np.testing.assert_allclose(w.numpy(), want_w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.numpy(), want_b, rtol=1e-5, atol=1e-5)
    # a group added later takes the defaults; changing a group's lr takes effect at once
    c = dx.tensor([1.0, 2.0], device=device, requires_grad=True)
    opt.add_param_group({"params": [c]})
    opt.param_groups[2]["lr"] = 1.0
    c.grad = dx.tensor([1.0, 1.0], device=device)
    opt.step()
    np.testing.assert_allclose(c.numpy(), [0.0, 1.0])


def test_named_parameters_are_accepted():
    w = dx.tensor([1.0], device="numpy", requires_grad=True)
    opt = optim.Adam([("weight", w)])
    assert opt.param_groups[0]["params"] == [w]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none, device):
    w = dx.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (w * w).sum().backward()
    grad = w.grad
    version = grad._version.value
    opt = optim.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert w.grad is None
    else:
        assert w.grad is grad and grad._version.value > version
        np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0, 0.0])
    before = w.numpy()
    opt.step()  # a zero or absent gradient leaves the parameter where it is
    np.testing.assert_array_equal(w.numpy(), before)
    optim.SGD([w]).zero_grad()  # the default is set_to_none=True
    assert w.grad is None


@pytest.mark.parametrize("cls,kwargs", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.1}),
    (optim.Adadelta, {"lr": 0.5}),
])
def test_state_dict_round_trip_resumes_identically(cls, kwargs, device):
    inits, grads = _data(4, steps=6)
    a = _params(inits, dx.float32, "numpy")
    opt_a = cls([{"params": a[:1]}, {"params": a[1:], "lr": 0.02}], **kwargs)
    for t in range(3):
        _set_grads(a, grads[t], dx.float32)
        opt_a.step()
    saved = opt_a.state_dict()
    assert sorted(saved) == ["param_groups", "state"]
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert set(saved["state"]) == {0, 1}
    # a second model with the same weights, possibly on another device, resumes from `saved`
    b = [dx.tensor(p.numpy(), device=device, requires_grad=True) for p in a]
    opt_b = cls([{"params": b[:1]}, {"params": b[1:]}], lr=0.5)
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[1]["lr"] == 0.02 and opt_b.param_groups[1]["params"] == [b[1]]
    for t in range(3, 6):
        _set_grads(a, grads[t], dx.float32)
        _set_grads(b, grads[t], dx.float32)
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(a, b):
        np.testing.assert_allclose(pb.numpy(), pa.numpy(), rtol=1e-6, atol=1e-6)
    for state in opt_b.state.values():  # loaded buffers live on the new device, not shared
        for value in state.values():
            if isinstance(value, dx.Tensor):
                assert value.device == device
                assert all(value is not v for s in opt_a.state.values() for v in s.values())


def test_state_dict_survives_a_checkpoint_file(tmp_path):
    inits, grads = _data(5)
    a = _params(inits, dx.float32, "numpy")
    opt_a = optim.Adam(a, lr=0.01, amsgrad=True)
    _set_grads(a, grads[0], dx.float32)
    opt_a.step()
    dx.checkpoint.save(opt_a.state_dict(), tmp_path / "opt.safetensors")
    b = [dx.tensor(p.numpy(), requires_grad=True, device="numpy") for p in a]
    opt_b = optim.Adam(b)
    opt_b.load_state_dict(dx.checkpoint.load(tmp_path / "opt.safetensors", device="numpy"))
    assert opt_b.param_groups[0]["betas"] == (0.9, 0.999) and opt_b.param_groups[0]["amsgrad"]
    for t in range(1, STEPS):
        _set_grads(a, grads[t], dx.float32)
        _set_grads(b, grads[t], dx.float32)
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pb.numpy(), pa.numpy())


@pytest.mark.parametrize("cls,kwargs", [(optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                        (optim.Adam, {"lr": 0.1}), (optim.AdamW, {"lr": 0.1}),
                                        (optim.RMSprop, {"lr": 0.1, "momentum": 0.9})])
def test_step_is_not_recorded_and_bumps_versions(cls, kwargs, device):
    w = dx.tensor([0.5, -1.0, 2.0], device=device, requires_grad=True)
    y = w * w  # saves w for backward
    y.sum().backward(retain_graph=True)
    records = len(tape)
    version = w._version.value
    opt = cls([w], **kwargs)
    with dx.enable_grad():
        opt.step()
    assert len(tape) == records
    assert w._version.value == version + 1 and w.grad_fn is None and w.requires_grad
    with pytest.raises(DeepxError, match="modified by an inplace operation"):
        y.sum().backward()


def test_params_without_grad_are_skipped(device):
    w = dx.tensor([1.0, 2.0], device=device, requires_grad=True)
    frozen = dx.tensor([3.0, 4.0], device=device)  # torch accepts it too and never touches it
    opt = optim.Adam([w, frozen], lr=0.1)
    w.grad = dx.tensor([1.0, 1.0], device=device)
    opt.step()
    assert frozen.tolist() == [3.0, 4.0] and frozen not in opt.state
    assert opt.state[w]["step"] == 1 and w.tolist() != [1.0, 2.0]


def test_closure_runs_with_grad_enabled_and_returns_the_loss():
    x = dx.tensor([1.0, 2.0, 3.0], device="numpy")
    w = dx.tensor([0.0], device="numpy", requires_grad=True)
    opt = optim.SGD([w], lr=0.01)

    def closure():
        opt.zero_grad()
        loss = ((w * x - 2 * x) ** 2).sum()
        loss.backward()
        return loss

    with dx.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(56.0)
    assert w.item() == pytest.approx(0.01 * 56.0)


@pytest.mark.parametrize("cls,kwargs", [(optim.SGD, {"lr": 0.05, "momentum": 0.9}),
                                        (optim.Adam, {"lr": 0.1}),
                                        (optim.RMSprop, {"lr": 0.05})])
def test_fits_a_line(cls, kwargs, device):
    x = dx.tensor(np.linspace(-1, 1, 32, dtype=np.float32).reshape(32, 1), device=device)
    y = 3 * x - 1
    w = dx.tensor([[0.0]], device=device, requires_grad=True)
    b = dx.tensor([0.0], device=device, requires_grad=True)
    opt = cls([w, b], **kwargs)
    for _ in range(150):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-2
    assert w.item() == pytest.approx(3, abs=0.1) and b.item() == pytest.approx(-1, abs=0.1)


def test_size_zero_parameter(device):
    w = dx.zeros(0, 3, device=device, requires_grad=True)
    opt = optim.Adam([w])
    w.grad = dx.zeros(0, 3, device=device)
    opt.step()
    assert w.shape == (0, 3)


# ---------------------------------------------------------------- errors, as torch raises them
def test_constructor_errors():
    w = dx.tensor([1.0], device="numpy", requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got deepx.Tensor"):
        optim.SGD(w)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got int"):
        optim.SGD(3)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.Adam([w, np.zeros(2)])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.Adam([w * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.Adam([{"params": {w}}])
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        optim.Adam([{"params": [w]}, {"params": [w]}])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.Adam([w, w])
    with pytest.raises(TypeError, match="param_group must be a dict"):
        optim.Adam([w]).add_param_group([w])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD([w], momentum=-0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero"):
        optim.SGD([w], momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.AdamW([w], eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.RMSprop([w], alpha=-0.5)


def test_step_and_load_errors():
    w = dx.tensor([1.0, 2.0], device="numpy", requires_grad=True)
    opt = optim.Adam([w])
    w.grad = dx.tensor([1.0, 2.0, 3.0], device="numpy")
    with pytest.raises(DeepxError, match=r"Adam.step: .* shape \(2,\) .* shape \(3,\)"):
        opt.step()
    w.grad = dx.tensor([1.0, 2.0], dtype=dx.float64, device="numpy")
    with pytest.raises(DeepxError, match="float32.*float64"):
        opt.step()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})


def test_repr_lists_groups():
    w = dx.tensor([1.0], device="numpy", requires_grad=True)
    text = repr(optim.SGD([w], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text


def test_scheduler_step_before_optimizer_step_warns():
    w = dx.tensor([1.0], device="numpy", requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, 1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = optim.SGD([w], lr=0.1)
    sched2 = optim.lr_scheduler.StepLR(opt2, 1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


@pytest.mark.parametrize("cls,kwargs,replayable", [
    (optim.Adadelta, {"weight_decay": 0.1}, True),
    (optim.Adagrad, {"lr": 0.1}, True),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.1}, False),
])
def test_graph_capture_replays_the_eager_step(cls, kwargs, replayable, opencl_device):
    inits, grads = _data(6, steps=1)
    eager, graphed = (_params(inits, dx.float32, opencl_device) for _ in range(2))
    _set_grads(eager, grads[0], dx.float32)
    _set_grads(graphed, grads[0], dx.float32)
    opt_eager, opt_graph = cls(eager, **kwargs), cls(graphed, **kwargs)
    opt_eager.step()
    opt_graph.step()
    g = dx.Graph()
    if not replayable:  # the decayed lr is a launch argument that changes every step
        with pytest.raises(DeepxError, match="lr_decay"):
            with dx.graph(g, device=opencl_device):
                opt_graph.step()
        return
    with dx.graph(g, device=opencl_device):
        opt_graph.step()  # runs once while recording
    opt_eager.step()
    for _ in range(3):
        g.replay()
        opt_eager.step()
    for p_graph, p_eager in zip(graphed, eager):
        np.testing.assert_array_equal(p_graph.numpy(), p_eager.numpy())
