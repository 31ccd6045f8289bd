"""Adam and AdamW (decoupled weight decay), with AMSGrad, as torch.optim.Adam / AdamW."""
from __future__ import annotations

from .optimizer import Optimizer, bump_versions, refuse_differentiable, zeros_like


class Adam(Optimizer):
    """torch.optim.Adam: bias-corrected first and second moments of the gradient.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (amsgrad: v_max = max(v_max, v))
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    weight_decay adds wd * p to g, or with decoupled_weight_decay (AdamW) scales
    p *= 1 - lr * wd first. State: "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq" (amsgrad).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        refuse_differentiable(type(self).__name__, differentiable)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _step_group(self, group) -> None:
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad = bool(group["amsgrad"])
        # one multi-tensor step per (device, step number): parameters added later lag behind
        batches: dict = {}
        for p, grad in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
            if amsgrad and state.get("max_exp_avg_sq") is None:
                state["max_exp_avg_sq"] = zeros_like(p)
            state["step"] += 1
            batches.setdefault((p.device, state["step"]), []).append((p, grad, state))
        for (device, step), items in batches.items():
            states = [state for _, _, state in items]
            device.backend.adam_step_(
                [p._data for p, _, _ in items], [g._data for _, g, _ in items],
                [s["exp_avg"]._data for s in states], [s["exp_avg_sq"]._data for s in states],
                [s["max_exp_avg_sq"]._data for s in states] if amsgrad else None,
                lr=float(group["lr"]), beta1=beta1, beta2=beta2, eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]), step=step,
                amsgrad=amsgrad, decoupled=bool(group["decoupled_weight_decay"]),
                maximize=bool(group["maximize"]))
            for p, _, s in items:
                bump_versions(p, s["exp_avg"], s["exp_avg_sq"], s.get("max_exp_avg_sq"))


class AdamW(Adam):
    """torch.optim.AdamW: Adam whose weight decay scales p by 1 - lr * wd (default wd 1e-2)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         differentiable=differentiable, decoupled_weight_decay=True)
