"""Weight penalties to add to a loss (PyTorch has none; the formulas are stated exactly).

    l1(params) = sum_p sum_i |p_i|        gradient sign(p)
    l2(params) = sum_p sum_i p_i ** 2     gradient 2 p   (no 1/2 factor)

So `loss + lam * l2(model.parameters())` matches torch.optim.SGD(weight_decay=2 * lam).
Pass only the tensors to penalise, e.g. the weights and not the biases:
`l2(p for name, p in model.named_parameters() if name.endswith("weight"))`.
"""
from __future__ import annotations

from typing import Iterable

from .. import creation
from .._tensor import Tensor
from ..ops import elementwise as ew
from ..ops import reduce as rd
from .module import Module

__all__ = ["l1", "l2"]


def _tensors(params) -> list:
    if isinstance(params, Module):
        return list(params.parameters())
    if isinstance(params, Tensor):
        return [params]
    return list(params)


def _total(terms: list) -> Tensor:
    if not terms:
        return creation.zeros(())
    total = terms[0]
    for term in terms[1:]:
        total = ew.add(total, term)
    return total


def l1(params: Iterable[Tensor] | Module | Tensor) -> Tensor:
    """0-d sum of |w| over every element of every tensor; differentiable."""
    return _total([rd.sum(ew.abs(p)) for p in _tensors(params)])


def l2(params: Iterable[Tensor] | Module | Tensor) -> Tensor:
    """0-d sum of w ** 2 over every element of every tensor (no 1/2); differentiable."""
    return _total([rd.sum(ew.mul(p, p)) for p in _tensors(params)])
