"""Containers: Sequential (modules run in order), ModuleList and ModuleDict (registered
collections of modules), ParameterList and ParameterDict (of parameters)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Iterable, Iterator

from .._tensor import Tensor
from .module import Module
from .parameter import Parameter


def _index(n: int, idx: int, kind: str) -> int:
    """A list-style index in range(n), negatives counted from the end."""
    if not -n <= idx < n:
        raise IndexError(f"{kind}: index {idx} is out of range for {n} modules")
    return idx % n


class Sequential(Module):
    """Sequential(m1, m2, ...) or Sequential(OrderedDict(name=m)): forward feeds each in turn.

    Children are named '0', '1', ... (or by the OrderedDict's keys), so parameter names are
    '0.weight', '2.bias' exactly as in PyTorch.
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx: int | slice) -> Module | Sequential:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(len(self), idx, "Sequential")]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(len(self), idx, "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        doomed = keys[idx] if isinstance(idx, slice) else [keys[_index(len(keys), idx,
                                                                       "Sequential")]]
        for key in doomed:
            del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end (named by its position)."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered ('0.weight', '1.weight', ...).

    It has no forward: index or iterate over it in the owner's forward.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, modules: list) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __getitem__(self, idx: int | slice) -> Module | ModuleList:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(modules[idx])
        return modules[_index(len(modules), idx, "ModuleList")]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(len(self), idx, "ModuleList")), module)

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[_index(len(modules), idx, "ModuleList")]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each module at the end."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before `index`."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)


def _pairs(values, kind: str) -> list:
    """(key, value) pairs of a mapping (an OrderedDict keeps its order) or an iterable of pairs."""
    if isinstance(values, Mapping):
        return list(values.items())
    pairs = []
    for i, pair in enumerate(values):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{kind}.update: element #{i} should be a (key, value) pair, got "
                            f"{type(pair).__name__}")
        pairs.append(tuple(pair))
    return pairs


class ModuleDict(Module):
    """A dict of modules, registered under their keys ('encoder.weight'); insertion ordered.

    It has no forward: look modules up by key in the owner's forward.
    """

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove the module under key and return it."""
        module = self._modules[key]
        del self[key]
        return module

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(key, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        for key, module in _pairs(modules, "ModuleDict"):
            self[key] = module


def _as_parameter(value):
    """A plain Tensor becomes a Parameter (sharing its data), as torch's ParameterList does."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters registered as '0', '1', ...; plain Tensors are wrapped as Parameters."""

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(_index(len(self), idx, "ParameterList")))

    def __setitem__(self, idx: int, param) -> None:
        name = str(_index(len(self), idx, "ParameterList"))
        param = _as_parameter(param)
        if isinstance(param, Parameter):
            self._forget(name)
            self.register_parameter(name, param)
        else:
            setattr(self, name, param)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def append(self, value) -> ParameterList:
        """Add a parameter (or tensor) at the end."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> ParameterList:
        """Add each value at the end."""
        for value in values:
            self.append(value)
        return self

    def __repr__(self) -> str:
        body = self.extra_repr()
        return "ParameterList(\n  " + body.replace("\n", "\n  ") + "\n)" if body else \
            "ParameterList()"

    def extra_repr(self) -> str:
        lines = []
        for i, p in enumerate(self):
            if isinstance(p, Tensor):
                lines.append(f"({i}): Parameter containing: [{p.dtype.name} of size "
                             f"{'x'.join(str(d) for d in p.shape)}]")
            else:
                lines.append(f"({i}): Object of type: {type(p).__name__}")
        return "\n".join(lines)


class ParameterDict(Module):
    """A dict of parameters registered under their keys; plain Tensors become Parameters."""

    def __init__(self, parameters=None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        value = _as_parameter(value)
        if not isinstance(value, Parameter):
            raise TypeError(f"ParameterDict: cannot store a {type(value).__name__} under "
                            f"{key!r}; a Parameter or Tensor is required")
        self._forget(key)
        self.register_parameter(key, value)

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def clear(self) -> None:
        """Remove every parameter."""
        self._parameters.clear()

    def pop(self, key: str):
        """Remove the parameter under key and return it."""
        value = self._parameters[key]
        del self[key]
        return value

    def get(self, key: str, default=None):
        """The parameter under key, or default."""
        return self._parameters.get(key, default)

    def keys(self):
        """The keys, in insertion order."""
        return self._parameters.keys()

    def items(self):
        """(key, parameter) pairs, in insertion order."""
        return self._parameters.items()

    def values(self):
        """The parameters, in insertion order."""
        return self._parameters.values()

    def update(self, parameters) -> None:
        """Add (or replace) parameters from a mapping or an iterable of (key, value) pairs."""
        for key, value in _pairs(parameters, "ParameterDict"):
            self[key] = value
