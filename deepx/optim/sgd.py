"""SGD with momentum, dampening, Nesterov momentum and weight decay, as torch.optim.SGD."""
from __future__ import annotations

from .optimizer import Optimizer, bump_versions, refuse_differentiable, zeros_like


class SGD(Optimizer):
    """torch.optim.SGD: g = grad (+ wd * p); buf = m * buf + (1 - dampening) * g; p -= lr * buf.

    The first momentum step sets buf = g (no dampening); nesterov uses g + m * buf instead of
    buf; maximize negates the gradient. State: "momentum_buffer" (only when momentum != 0).
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        refuse_differentiable("SGD", differentiable)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _step_group(self, group) -> None:
        momentum = float(group["momentum"])
        # one multi-tensor step per (device, first momentum step or not)
        batches: dict = {}
        for p, grad in self._params_with_grad(group):
            buf, first_step = None, False
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                first_step = buf is None
                if first_step:
                    buf = state["momentum_buffer"] = zeros_like(p)
            batches.setdefault((p.device, first_step), []).append((p, grad, buf))
        for (device, first_step), items in batches.items():
            device.backend.sgd_step_(
                [p._data for p, _, _ in items], [g._data for _, g, _ in items],
                [b._data for _, _, b in items] if momentum != 0 else None,
                lr=float(group["lr"]), momentum=momentum, dampening=float(group["dampening"]),
                weight_decay=float(group["weight_decay"]), nesterov=bool(group["nesterov"]),
                maximize=bool(group["maximize"]), first_step=first_step)
            for p, _, buf in items:
                bump_versions(p, buf)
