"""Module: the base class of layers and models, with PyTorch's registration and state API."""
from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Callable, Iterator, NamedTuple

from .. import autograd, dtypes
from .._device import Device
from .._tensor import Tensor
from ..errors import CheckpointError, DeepxError
from .parameter import Parameter


class StateDictError(CheckpointError):
    """load_state_dict found missing, unexpected or mis-shaped keys (names them all)."""


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) skipped, like torch's _IncompatibleKeys."""

    missing_keys: list
    unexpected_keys: list


class RemovableHandle:
    """Returned by register_*_hook; remove() unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _rebind(t: Tensor, new: Tensor) -> None:
    """Point t at new's data and device, keeping t's identity (optimizers hold t itself)."""
    # Tensor has no public setter for its storage; Module.to is the one place that needs it.
    t._data = new._data
    t.device = new.device
    t._version.value += 1  # graphs that saved the old data must not backward into it


class Module:
    """Base class of every layer and model: subclass it, assign layers in __init__, write forward.

    Assigning a Parameter, a Module or (after register_buffer) a Tensor to an attribute files
    it under _parameters, _modules or _buffers, exactly as torch.nn.Module does, so
    parameters(), state_dict(), to(), train()/eval() and repr() find it. Calling the module
    runs forward pre-hooks, forward(*args, **kwargs) and forward hooks.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(deepx.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if self.__dict__.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name)
            self._modules[name] = value
        elif self.__dict__.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (deepx.nn.Module or None expected)")
            self._modules[name] = None
        elif self.__dict__.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(deepx.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the three registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        """Drop `name` from every registry and the instance dict before it is re-registered."""
        for registry in (self.__dict__, self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent.discard(name)

    def _check_name(self, kind: str, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')
        if name in self.__dict__ or (hasattr(type(self), name) and
                                     name not in self._parameters and
                                     name not in self._buffers and name not in self._modules):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared-but-absent one like bias=False)."""
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (deepx.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (running_mean); saved if persistent."""
        self._check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (deepx.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name` (used by containers with names like '0')."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name("module", name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as 'features.0' ('' is self)."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' "
                                     f"(looking up '{target}')")
            module = module._modules[part]
        return module

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, args) runs before forward; a non-None return replaces args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, args, output) runs after forward; a non-None return replaces output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for self and every descendant, depth first, each once."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Self and every descendant module."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct child."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Each direct child module."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in registration order: '0.weight', 'features.0.bias'."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in registration order (what an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) in registration order: 'bn.running_mean'."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer once."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every descendant (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode on self and every descendant (Dropout, BatchNorm read it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter (freeze with False)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's .grad: to None (default) or to zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                with autograd.no_grad():
                    param.grad.zero_()

    # ------------------------------------------------------------ device and dtype
    def to(self, *args, device=None, dtype=None) -> Module:
        """Move parameters and buffers in place: m.to('opencl'), m.to(deepx.float64), both.

        Parameters keep their identity, so an optimizer built before the move still holds
        them. Like torch, a dtype converts only floating-point parameters and buffers.
        """
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, dtypes.DType) or (isinstance(a, str) and a in dtypes.NAMES):
                dtype = a
            else:
                device = a
        device = None if device is None else Device(device)
        dtype = None if dtype is None else dtypes.get(dtype)
        if dtype is not None and not dtype.is_floating_point:
            raise DeepxError(f"Module.to: only floating point dtypes are accepted, got {dtype}")

        def convert(t: Tensor) -> None:
            target = dtype if dtype is not None and t.dtype.is_floating_point else None
            if (target is None or target is t.dtype) and (device is None or device == t.device):
                return
            with autograd.no_grad():
                _rebind(t, t.to(device=device, dtype=target))

        with autograd.no_grad():
            for param in self.parameters():
                convert(param)
                if param.grad is not None:
                    convert(param.grad)
            for buf in self.buffers():
                convert(buf)
        return self

    def cpu(self) -> Module:
        """Move to the NumPy (host) device."""
        return self.to("numpy")

    def float(self) -> Module:
        """Floating-point parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Module:
        """Floating-point parameters and buffers to float64."""
        return self.to(dtypes.float64)

    # ------------------------------------------------------------ state
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> dict:
        """OrderedDict name -> tensor of every parameter and persistent buffer (shares data)."""
        destination = OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy tensors (or arrays) into parameters and buffers in place, matched by name.

        Raises StateDictError naming every mis-shaped key, and with strict=True every missing
        and unexpected key too; with strict=False returns those two lists.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                shape = tuple(getattr(state_dict[key], "shape", ()))
                if shape != tuple(target.shape):
                    mismatched.append(f"size mismatch for {key}: copying a param with shape "
                                      f"{shape} from checkpoint, the shape in current model "
                                      f"is {tuple(target.shape)}.")
        errors = list(mismatched)
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:"
                                 "\n\t" + "\n\t".join(errors))
        with autograd.no_grad():
            for key, target in own.items():
                value = state_dict.get(key)
                # Loading a model's own state dict: the data is already there.
                if value is not None and getattr(value, "_data", None) is not target._data:
                    target.copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in repr (layer settings)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    def summary(self, input_shape, device=None) -> str:
        """Print and return a table of each layer's output shape and parameter count.

        input_shape excludes the batch dim, as in torchsummary: (1, 28, 28) for MNIST. The
        returned str has a one-line repr, so a REPL shows the table once, not twice.
        """
        from .summary import summary

        return SummaryText(summary(self, input_shape, device=device))


class SummaryText(str):
    """Module.summary's table: a str whose repr is one line (the table was just printed)."""

    def __repr__(self) -> str:
        return f"<summary table, {len(self.splitlines())} lines, printed above>"
