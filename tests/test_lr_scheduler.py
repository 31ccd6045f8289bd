"""deepx.optim.lr_scheduler: each scheduler's lr (and momentum) sequence against its formula
written out below, and against torch.optim.lr_scheduler where installed."""
from __future__ import annotations

import math
import warnings
from bisect import bisect_right

import numpy as np
import pytest

import deepx as dx
from deepx import optim
from deepx.optim import lr_scheduler as sched


def _sgd(lrs=(0.1,), momentum=0.9, cls=None):
    """An optimizer with one group per lr, built by deepx or (cls given) by torch."""
    if cls is None:
        groups = [{"params": [dx.tensor([1.0], device="numpy", requires_grad=True)], "lr": lr}
                  for lr in lrs]
        return optim.SGD(groups, lr=lrs[0], momentum=momentum)
    import torch

    groups = [{"params": [torch.ones(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], momentum=momentum)


def _adam(lrs=(0.1,), cls=None):
    """Adam (momentum lives in betas[0]) with one group per lr, by deepx or by torch."""
    if cls is None:
        groups = [{"params": [dx.tensor([1.0], device="numpy", requires_grad=True)], "lr": lr}
                  for lr in lrs]
        return optim.Adam(groups, lr=lrs[0])
    import torch

    groups = [{"params": [torch.ones(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0])


def _run(scheduler, opt, steps, key=None):
    """lrs (or group[key] values) of the first group: after construction, then each step."""
    def read():
        group = opt.param_groups[0]
        if key == "beta1":
            return group["betas"][0]
        return group["lr"] if key is None else group[key]

    values = [read()]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        values.append(read())
    return values


# ---------------------------------------------------------------- formulas
def test_step_lr():
    opt = _sgd((0.1, 0.3))
    s = sched.StepLR(opt, step_size=3, gamma=0.5)
    got = _run(s, opt, 10)
    np.testing.assert_allclose(got, [0.1 * 0.5 ** (e // 3) for e in range(11)], rtol=1e-12)
    np.testing.assert_allclose(s.get_last_lr(), [0.1 * 0.5 ** 3, 0.3 * 0.5 ** 3], rtol=1e-12)


def test_multistep_lr():
    opt = _sgd()
    s = sched.MultiStepLR(opt, milestones=[2, 5, 5, 8], gamma=0.1)
    want = [0.1 * 0.1 ** bisect_right([2, 5, 5, 8], e) for e in range(11)]
    np.testing.assert_allclose(_run(s, opt, 10), want, rtol=1e-12)


def test_exponential_lr():
    opt = _sgd()
    s = sched.ExponentialLR(opt, gamma=0.9)
    np.testing.assert_allclose(_run(s, opt, 10), [0.1 * 0.9 ** e for e in range(11)],
                               rtol=1e-12)


def test_cosine_annealing_lr_is_the_closed_form_across_restarts():
    opt = _sgd()
    s = sched.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    want = [0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(13)]
    np.testing.assert_allclose(_run(s, opt, 12), want, rtol=1e-10, atol=1e-15)


def test_linear_lr():
    opt = _sgd()
    s = sched.LinearLR(opt, start_factor=0.25, end_factor=0.75, total_iters=4)
    want = [0.1 * (0.25 + 0.5 * min(4, e) / 4) for e in range(9)]
    np.testing.assert_allclose(_run(s, opt, 8), want, rtol=1e-12)
    opt = _sgd()
    s = sched.LinearLR(opt)  # torch's defaults: 1/3 -> 1 over 5 steps
    got = _run(s, opt, 6)
    np.testing.assert_allclose(got, [0.1 * (1 / 3 + 2 / 3 * min(5, e) / 5) for e in range(7)],
                               rtol=1e-12)


def _triangle(e, step_size):
    """The CLR paper's triangle: cycle number and the rise in [0, 1] at iteration e."""
    cycle = math.floor(1 + e / (2 * step_size))
    x = abs(e / step_size - 2 * cycle + 1)
    return cycle, max(0.0, 1 - x)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_modes_and_momentum(mode):
    opt = _sgd()
    s = sched.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, mode=mode, gamma=0.9)
    lrs, momenta = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(20):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
    for e in range(21):
        cycle, rise = _triangle(e, 3)
        scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1),
                 "exp_range": 0.9 ** e}[mode]
        assert lrs[e] == pytest.approx(0.01 + 0.09 * rise * scale, rel=1e-12), e
        assert momenta[e] == pytest.approx(0.9 - 0.1 * rise * scale, rel=1e-12), e


def test_cyclic_lr_custom_scale_fn_and_beta1():
    opt = _adam()
    s = sched.CyclicLR(opt, 0.001, 0.01, step_size_up=2, scale_fn=lambda x: 0.5 ** x,
                       scale_mode="iterations", base_momentum=0.85, max_momentum=0.95)
    betas = _run(s, opt, 8, key="beta1")
    for e, beta1 in enumerate(betas):
        _, rise = _triangle(e, 2)
        assert beta1 == pytest.approx(0.95 - 0.1 * rise * 0.5 ** e, rel=1e-12)
    assert opt.param_groups[0]["betas"][1] == 0.999


def _one_cycle_reference(e, total, max_lr, pct, anneal, three_phase, div=25.0, final=1e4):
    """(lr, momentum) of the 1cycle policy at step e, phase by phase."""
    def interp(start, end, frac):
        if anneal == "cos":
            return end + (start - end) / 2 * (1 + math.cos(math.pi * frac))
        return start + (end - start) * frac

    initial = max_lr / div
    lowest = initial / final
    if three_phase:
        phases = [(pct * total - 1, initial, max_lr, 0.95, 0.85),
                  (2 * pct * total - 2, max_lr, initial, 0.85, 0.95),
                  (total - 1, initial, lowest, 0.95, 0.95)]
    else:
        phases = [(pct * total - 1, initial, max_lr, 0.95, 0.85),
                  (total - 1, max_lr, lowest, 0.85, 0.95)]
    start = 0.0
    for i, (end, lr0, lr1, m0, m1) in enumerate(phases):
        if e <= end or i == len(phases) - 1:
            frac = (e - start) / (end - start)
            return interp(lr0, lr1, frac), interp(m0, m1, frac)
        start = end
    raise AssertionError


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_lr(anneal, three_phase):
    opt = _sgd()
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=20, anneal_strategy=anneal,
                         three_phase=three_phase)
    lrs, momenta = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(19):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
    for e in range(20):
        lr, momentum = _one_cycle_reference(e, 20, 1.0, 0.3, anneal, three_phase)
        assert lrs[e] == pytest.approx(lr, rel=1e-12) and momenta[e] == pytest.approx(momentum)
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    opt.step()
    s.step()  # step 20 of 20 is allowed, as in torch; the next one is not
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        s.step()


def test_one_cycle_lr_from_epochs_and_steps_per_epoch():
    opt = _sgd()
    s = sched.OneCycleLR(opt, max_lr=[0.5], epochs=2, steps_per_epoch=5, cycle_momentum=False)
    assert s.total_steps == 10 and opt.param_groups[0]["momentum"] == 0.9


# ---------------------------------------------------------------- against torch, value for value
TORCH_CASES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 4, 4, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.8}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.001}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.5, "end_factor": 0.1, "total_iters": 7}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3}),
    ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": 0.2, "step_size_up": 2,
                  "step_size_down": 5, "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "exp_range",
                  "gamma": 0.95, "base_momentum": 0.7, "max_momentum": 0.95}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 30}),
    ("OneCycleLR", {"max_lr": [0.5, 1.0], "total_steps": 30, "three_phase": True,
                    "anneal_strategy": "linear", "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 3, "steps_per_epoch": 10, "div_factor": 10.0,
                    "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9}),
]


@pytest.mark.parametrize("name,kwargs", TORCH_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_matches_torch(name, kwargs, kind):
    torch = pytest.importorskip("torch")
    ours_opt = _sgd((0.1, 0.05)) if kind == "sgd" else _adam((0.1, 0.05))
    torch_opt = (_sgd((0.1, 0.05), cls=torch.optim.SGD) if kind == "sgd"
                 else _adam((0.1, 0.05), cls=torch.optim.Adam))
    ours = getattr(sched, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    steps = 29 if name == "OneCycleLR" else 25
    for _ in range(steps + 1):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-13, abs=1e-16)
        for g, tg in zip(ours_opt.param_groups, torch_opt.param_groups):
            for key in ("momentum", "betas"):
                if key in g:
                    assert g[key] == pytest.approx(tg[key], rel=1e-13)
        ours_opt.step()
        torch_opt.step()
        ours.step()
        theirs.step()


def test_training_with_a_scheduler_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(5) for _ in range(12)]
    w = dx.tensor(np.ones(5), device="numpy", requires_grad=True)
    tw = torch.ones(5, dtype=torch.float64, requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.1, momentum=0.9), torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    s = sched.OneCycleLR(opt, max_lr=0.5, total_steps=12)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.5, total_steps=12)
    for g in grads:
        w.grad, tw.grad = dx.tensor(g, device="numpy"), torch.tensor(g)
        opt.step()
        topt.step()
        s.step()
        ts.step()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)


# ---------------------------------------------------------------- bookkeeping
@pytest.mark.parametrize("make", [
    lambda opt: sched.StepLR(opt, 2, gamma=0.5),
    lambda opt: sched.CosineAnnealingLR(opt, T_max=6),
    lambda opt: sched.CyclicLR(opt, 0.01, 0.1, step_size_up=3, mode="triangular2"),
    lambda opt: sched.OneCycleLR(opt, 0.3, total_steps=20),
], ids=["StepLR", "CosineAnnealingLR", "CyclicLR", "OneCycleLR"])
def test_state_dict_round_trip_resumes_identically(make):
    opt_a = _sgd()
    a = make(opt_a)
    _run(a, opt_a, 5)
    state = a.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 5
    opt_b = _sgd()
    b = make(opt_b)
    opt_b.load_state_dict(opt_a.state_dict())
    b.load_state_dict(state)
    assert _run(b, opt_b, 8) == _run(a, opt_a, 8)


def test_cyclic_lr_state_dict_keeps_a_callable_objects_state():
    class Halving:
        def __init__(self):
            self.base = 0.5

        def __call__(self, x):
            return self.base ** x

    opt = _sgd()
    fn = Halving()
    s = sched.CyclicLR(opt, 0.01, 0.1, scale_fn=fn)
    fn.base = 0.25
    state = s.state_dict()
    assert state["_scale_fn_custom"] == {"base": 0.25}
    fresh = Halving()
    s2 = sched.CyclicLR(_sgd(), 0.01, 0.1, scale_fn=fresh)
    s2.load_state_dict(state)
    assert fresh.base == 0.25


def test_step_with_epoch_uses_the_closed_form_and_warns():
    opt = _sgd()
    s = sched.StepLR(opt, step_size=2, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        s.step(7)
    assert s.last_epoch == 7 and opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)


def test_get_lr_outside_step_warns():
    s = sched.ExponentialLR(_sgd(), gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert s.get_last_lr() == [0.1]


def test_errors():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched.StepLR([], 1)
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(_sgd(), 1, last_epoch=3)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        sched.LinearLR(_sgd(), start_factor=0)
    with pytest.raises(ValueError, match="mode is invalid"):
        sched.CyclicLR(_sgd(), 0.01, 0.1, mode="square")
    with pytest.raises(ValueError, match="base_lr must have the same length"):
        sched.CyclicLR(_sgd(), [0.01, 0.02], 0.1)
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(_sgd(), 0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        sched.OneCycleLR(_sgd(), 0.1, total_steps=10, anneal_strategy="step")

    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    with pytest.raises(ValueError, match="must support momentum or beta1"):
        sched.OneCycleLR(Plain([dx.tensor([1.0], requires_grad=True)]), 0.1, total_steps=5)
    sched.OneCycleLR(Plain([dx.tensor([1.0], requires_grad=True)]), 0.1, total_steps=5,
                     cycle_momentum=False)


# ---------------------------------------------------------------- LambdaLR, SequentialLR, plateau
def test_lambda_lr_per_group_functions():
    opt = _sgd((0.1, 0.3))
    s = sched.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: 1 / (1 + e)])
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(6):
        opt.step()
        s.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(lrs, [[0.1 * 0.5 ** e, 0.3 / (1 + e)] for e in range(7)],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        sched.LambdaLR(opt, [lambda e: 1.0])


def _sequential(opt, last=None):
    warm = sched.LinearLR(opt, start_factor=0.1, total_iters=3)
    second = sched.ExponentialLR(opt, gamma=0.5) if last is None else last(opt)
    return sched.SequentialLR(opt, [warm, second], milestones=[3])


def test_sequential_lr_warmup_then_decay():
    opt = _sgd()
    got = _run(_sequential(opt), opt, 8)
    want = [0.1 * (0.1 + 0.9 * e / 3) for e in range(3)] + [0.1 * 0.5 ** e for e in range(6)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_plateau_reduces_after_patience_with_cooldown_and_min_lr():
    opt = _sgd()
    s = sched.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.02)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    lrs = []
    for m in metrics:
        opt.step()
        s.step(dx.tensor(m))  # a 0-d tensor works, as torch's float(metrics)
        lrs.append(opt.param_groups[0]["lr"])
    # bad epochs at 0.95: the 2nd one reduces; one cooldown step; then every 2nd again
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02])
    assert s.get_last_lr() == [0.02]
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        sched.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        sched.SequentialLR(opt, [sched.ExponentialLR(opt, 0.5), s], milestones=[2])


PLATEAU_METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 2.0, 2.5, 2.6, 2.7,
                   2.8, 2.9, 3.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("kwargs", [
    {}, {"patience": 2, "factor": 0.3}, {"mode": "max", "patience": 1, "threshold_mode": "abs",
                                         "threshold": 0.5, "cooldown": 2},
    {"patience": 0, "min_lr": [0.01, 0.001], "eps": 1e-3},
])
def test_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _sgd((0.1, 0.05)), _sgd((0.1, 0.05), cls=torch.optim.SGD)
    s = sched.ReduceLROnPlateau(opt, **kwargs)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for m in PLATEAU_METRICS:
        opt.step()
        topt.step()
        s.step(m)
        ts.step(m)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13)
        assert (s.best, s.num_bad_epochs, s.cooldown_counter) == (ts.best, ts.num_bad_epochs,
                                                                  ts.cooldown_counter)


@pytest.mark.parametrize("which", ["lambda", "sequential", "sequential3"])
def test_lambda_and_sequential_match_torch(which):
    torch = pytest.importorskip("torch")

    def build(mod, opt):
        if which == "lambda":
            return mod.LambdaLR(opt, lambda e: 0.9 ** e + 0.01 * e)
        warm = mod.LinearLR(opt, start_factor=0.2, total_iters=4)
        cos = mod.CosineAnnealingLR(opt, T_max=5, eta_min=0.001)
        if which == "sequential":
            return mod.SequentialLR(opt, [warm, cos], milestones=[4])
        step = mod.StepLR(opt, step_size=2, gamma=0.5)
        return mod.SequentialLR(opt, [warm, step, cos], milestones=[3, 8])

    opt, topt = _sgd((0.1, 0.05)), _sgd((0.1, 0.05), cls=torch.optim.SGD)
    s, ts = build(sched, opt), build(torch.optim.lr_scheduler, topt)
    for _ in range(20):
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-16)
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-12, abs=1e-16)
        opt.step()
        topt.step()
        s.step()
        ts.step()


@pytest.mark.parametrize("make", [
    lambda opt: sched.LambdaLR(opt, lambda e: 0.8 ** e),
    _sequential,
    lambda opt: _sequential(opt, lambda o: sched.CosineAnnealingLR(o, T_max=4)),
], ids=["LambdaLR", "SequentialLR", "SequentialLR-cosine"])
def test_new_schedulers_state_dict_round_trip(make, tmp_path):
    opt_a = _sgd()
    a = make(opt_a)
    _run(a, opt_a, 5)
    # through a checkpoint file: nested scheduler states are plain values
    dx.save({"optimizer": opt_a.state_dict(), "scheduler": a.state_dict()}, tmp_path / "s.st")
    loaded = dx.load(tmp_path / "s.st")
    opt_b = _sgd()
    b = make(opt_b)
    opt_b.load_state_dict(loaded["optimizer"])
    b.load_state_dict(loaded["scheduler"])
    assert _run(b, opt_b, 8) == _run(a, opt_a, 8)


def test_plateau_state_dict_round_trip(tmp_path):
    opt_a = _sgd()
    a = sched.ReduceLROnPlateau(opt_a, mode="max", patience=1)
    for m in [1.0, 0.5, 0.5]:
        a.step(m)
    dx.save(a.state_dict(), tmp_path / "p.st")
    b = sched.ReduceLROnPlateau(_sgd())
    b.load_state_dict(dx.load(tmp_path / "p.st"))
    assert (b.mode, b.best, b.num_bad_epochs, b.mode_worse) == ("max", 1.0, 0, -math.inf)
    b.step(0.2)
    a.step(0.2)
    assert b.num_bad_epochs == a.num_bad_epochs == 1


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.Adadelta])
def test_param_group_lr_edit_mid_training_takes_effect(cls):
    w = dx.tensor([1.0, 2.0], device="numpy", requires_grad=True)
    ref = dx.tensor([1.0, 2.0], device="numpy", requires_grad=True)
    opt, opt_ref = cls([w], lr=0.1), cls([ref], lr=0.5)
    for step in range(2):
        w.grad = dx.tensor([1.0, -1.0], device="numpy")
        ref.grad = dx.tensor([1.0, -1.0], device="numpy")
        if step == 1:  # the edit: from here w steps as if built with lr=0.5
            opt.param_groups[0]["lr"] = 0.5
            before, before_ref = w.numpy(), ref.numpy()
        opt.step()
        opt_ref.step()
    np.testing.assert_allclose(w.numpy() - before, ref.numpy() - before_ref, rtol=1e-6)
    assert not np.allclose(w.numpy() - before, 0.2 * (ref.numpy() - before_ref))
