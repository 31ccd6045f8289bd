"""Adagrad and Adadelta, as torch.optim.Adagrad / torch.optim.Adadelta."""
from __future__ import annotations

from .optimizer import Optimizer, bump_versions, refuse_differentiable, zeros_like


class Adagrad(Optimizer):
    """torch.optim.Adagrad: sum += g^2; p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps).

    weight_decay adds wd * p to g; maximize negates g. State: "step" and "sum", made for every
    parameter when the optimizer is built (sum filled with initial_accumulator_value), as torch
    does. `foreach` and `fused` are accepted for torch's signature: every deepx step is fused.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        refuse_differentiable("Adagrad", differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize, "differentiable": False,
                    "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> None:
        state = self.state[p]
        state["step"] = 0
        state["sum"] = zeros_like(p)
        if group["initial_accumulator_value"] != 0:
            state["sum"].fill_(float(group["initial_accumulator_value"]))

    def _step_group(self, group) -> None:
        for p, grad in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:  # a group added after construction
                self._init_state(p, group)
            state["step"] += 1
            state_sum = state["sum"]
            p.device.backend.adagrad_step_(
                p._data, grad._data, state_sum._data, lr=float(group["lr"]),
                lr_decay=float(group["lr_decay"]), weight_decay=float(group["weight_decay"]),
                eps=float(group["eps"]), step=state["step"], maximize=bool(group["maximize"]))
            bump_versions(p, state_sum)


class Adadelta(Optimizer):
    """torch.optim.Adadelta: sq = rho sq + (1 - rho) g^2;
    d = sqrt(acc + eps) / sqrt(sq + eps) * g; acc = rho acc + (1 - rho) d^2; p -= lr * d.

    weight_decay adds wd * p to g; maximize negates g. State: "step", "square_avg",
    "acc_delta". `foreach` and `capturable` are accepted for torch's signature.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        refuse_differentiable("Adadelta", differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "capturable": capturable, "maximize": maximize,
                    "differentiable": False}
        super().__init__(params, defaults)

    def _step_group(self, group) -> None:
        for p, grad in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["square_avg"] = zeros_like(p)
                state["acc_delta"] = zeros_like(p)
            state["step"] += 1
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            p.device.backend.adadelta_step_(
                p._data, grad._data, square_avg._data, acc_delta._data, lr=float(group["lr"]),
                rho=float(group["rho"]), eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]), maximize=bool(group["maximize"]))
            bump_versions(p, square_avg, acc_delta)
