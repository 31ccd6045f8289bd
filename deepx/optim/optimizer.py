"""Optimizer: the base of deepx.optim; param groups and state dicts laid out as torch.optim's."""
from __future__ import annotations

import copy
import itertools
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd import enable_grad, no_grad
from ..errors import DeepxError


class Optimizer:
    """Base class of all optimizers, shaped like torch.optim.Optimizer.

    `params` is an iterable of Tensors, of (name, Tensor) pairs, or of dicts each holding
    "params" plus options that override `defaults` for that group. `state` maps each parameter
    to a dict of its buffers (deepx Tensors on the parameter's device) and scalars.

    A subclass implements `_step_group(group)`, which updates every parameter of one group
    that has a `.grad` with ONE fused backend primitive, in place, and bumps the version
    counters of what it changed. `step()` runs it under `no_grad`, so it is never recorded.
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got deepx.Tensor")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False  # read by LRScheduler to warn about a step-order mistake
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}") from None
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a dict with "params" (and per-group options) to `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        param_group["params"] = params
        if names:
            param_group["param_names"] = names
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(param).__module__}.{type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's .grad: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a .grad; returns closure()'s loss if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():  # a fresh context per call: steps may nest (a closure may step)
            for group in self.param_groups:
                self._step_group(group)
        self._opt_called = True
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any]):
        """(param, grad) for each parameter of `group` whose .grad is set, checked to match."""
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if g.shape != p.shape or g.dtype is not p.dtype or g.device != p.device:
                raise DeepxError(
                    f"{type(self).__name__}.step: a parameter of shape {p.shape} "
                    f"({p.dtype.name} on {p.device}) has a .grad of shape {g.shape} "
                    f"({g.dtype.name} on {g.device}); they must match")
            if not p.dtype.is_floating_point:
                raise DeepxError(f"{type(self).__name__}.step: cannot update a parameter of "
                                 f"dtype {p.dtype.name} (shape {p.shape})")
            yield p, g

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}, as torch.

        Like torch, the state tensors are the optimizer's own (not copies): save or deep-copy
        the dict before stepping again if you need a snapshot.
        """
        index: dict[int, int] = {}
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            param_groups.append(packed)
        state = {index[id(k)] if isinstance(k, Tensor) else k: v for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state_dict() output; tensors are copied onto each parameter's device/dtype."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {k: _cast_state(param, k, v) for k, v in value.items()}
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups


def _cast_state(param: Tensor, key, value):
    """A fresh copy of one state value on param's device (floating state in param's dtype)."""
    if isinstance(value, np.ndarray):
        value = Tensor._wrap(param.device.backend.from_numpy(value), param.device)
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    with no_grad():
        value = value.to(param.device)
    dtype = param.dtype if param.dtype.is_floating_point and key != "step" else value.dtype
    # a same-dtype cast is a fresh copy: two optimizers never share a buffer
    return Tensor._wrap(value.device.backend.cast(value._data, dtype), value.device)


def refuse_differentiable(name: str, differentiable: bool) -> None:
    """torch's differentiable=True records the step for higher-order gradients; deepx's steps
    are never recorded. The other torch-only flags (foreach, fused, capturable) choose among
    torch's implementations; every deepx step is one fused primitive, so they are accepted."""
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True is not supported by deepx "
                                  "(optimizer steps are never recorded on the tape)")


def zeros_like(p: Tensor) -> Tensor:
    """A new zero-filled state buffer with p's shape, dtype and device."""
    return Tensor._wrap(p.device.backend.full(p.shape, 0.0, p.dtype), p.device)


def bump_versions(*tensors) -> None:
    """Record an in-place change of each tensor (None skipped), so stale graphs raise."""
    for t in tensors:
        if t is not None:
            t._version.value += 1
