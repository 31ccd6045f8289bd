"""torch.nn.utils' training helpers: gradient clipping and flattening parameters to a vector."""
from __future__ import annotations

import math
from collections.abc import Iterable

from .. import autograd
from .._tensor import Tensor
from ..errors import DeepxError

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(x: Tensor, ord: float) -> Tensor:  # noqa: A002 - torch's name
    """torch.linalg.vector_norm of all elements of x -> 0-d tensor (ord inf, -inf, 0 or p)."""
    a = x.abs()
    if ord == math.inf:
        return a.amax()
    if ord == -math.inf:
        return a.amin()
    if ord == 0:
        return (a != 0).to(x.dtype).sum()
    if ord == 1:
        return a.sum()
    if ord == 2:
        return (a * a).sum().sqrt()
    return (a ** ord).sum() ** (1.0 / ord)


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale every .grad in place so that their joint norm is at most max_norm; returns the
    joint norm (0-d tensor) from before clipping, as torch.nn.utils.clip_grad_norm_.

    The norm is the norm_type-norm of the per-gradient norms (inf: the largest |g|). The scale
    is min(1, max_norm / (norm + 1e-6)), applied without a host round trip; `foreach` is
    accepted for torch's signature. error_if_nonfinite=True raises RuntimeError on a NaN or
    infinite norm (one host read).
    """
    norm_type = float(norm_type)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        import deepx

        return deepx.tensor(0.0)
    with autograd.no_grad():
        device = grads[0].device
        norms = [_vector_norm(g, norm_type).to(device) for g in grads]
        import deepx

        total_norm = _vector_norm(deepx.stack(norms), norm_type)
        if error_if_nonfinite and not math.isfinite(total_norm.item()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To "
                               "disable this error and scale the gradients by the non-finite "
                               "norm anyway, set `error_if_nonfinite=False`")
        clip_coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(clip_coef.to(g.device, dtype=g.dtype))
    return total_norm


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every .grad in place into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with autograd.no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter flattened and joined: (sum of numels,), differentiable, one device."""
    import deepx

    params = list(parameters)
    if not params:
        raise DeepxError("parameters_to_vector: got no parameters")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise DeepxError(f"parameters_to_vector: found parameters on {device} and "
                             f"{p.device}; all must be on one device")
    return deepx.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of vec (N,) into each parameter, in place (not recorded)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected deepx.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise DeepxError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} does not hold "
                         f"the {total} elements of the parameters")
    pointer = 0
    with autograd.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[pointer:pointer + n].reshape(p.shape))
            pointer += n
