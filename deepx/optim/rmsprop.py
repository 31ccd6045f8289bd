"""RMSprop, plain or centered, with momentum and weight decay, as torch.optim.RMSprop."""
from __future__ import annotations

from .optimizer import Optimizer, bump_versions, refuse_differentiable, zeros_like


class RMSprop(Optimizer):
    """torch.optim.RMSprop: v = alpha * v + (1 - alpha) * g^2; p -= lr * g / (sqrt(v) + eps).

    centered subtracts the square of a running mean of g under the root; momentum > 0 keeps
    buf = momentum * buf + g / (sqrt(.) + eps) and steps by lr * buf. State: "step",
    "square_avg", and "momentum_buffer" / "grad_avg" when those options are on.
    capturable and foreach are accepted for torch's signature (every deepx step is fused).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        refuse_differentiable("RMSprop", differentiable)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _step_group(self, group) -> None:
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        for p, grad in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["square_avg"] = zeros_like(p)
            # created when first needed: a scheduler may switch momentum on later
            if momentum > 0 and state.get("momentum_buffer") is None:
                state["momentum_buffer"] = zeros_like(p)
            if centered and state.get("grad_avg") is None:
                state["grad_avg"] = zeros_like(p)
            state["step"] += 1
            square_avg = state["square_avg"]
            grad_avg = state["grad_avg"] if centered else None
            buf = state["momentum_buffer"] if momentum > 0 else None
            p.device.backend.rmsprop_step_(
                p._data, grad._data, square_avg._data,
                None if grad_avg is None else grad_avg._data,
                None if buf is None else buf._data,
                lr=float(group["lr"]), alpha=float(group["alpha"]), eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]), momentum=momentum,
                centered=centered, maximize=bool(group["maximize"]))
            bump_versions(p, square_avg, grad_avg, buf)
