"""Parameter: a leaf Tensor that a Module registers as one of its learnable weights."""
from __future__ import annotations

from .._tensor import Tensor


class Parameter(Tensor):
    """A Tensor that Module.__setattr__ files under parameters(), like torch.nn.Parameter.

    `Parameter(t)` shares t's data (no copy) and is a leaf with requires_grad=True unless
    requires_grad=False is given. Results of ops on a Parameter are plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor, got {type(data).__name__}; "
                            "wrap data with deepx.tensor(...) first")
        # Tensor has no __init__ (it is built by Tensor._wrap); set the same slots here.
        self._data = data._data
        self.device = data.device
        self._requires_grad = False
        self.grad = None
        self._node = None
        self._version = data._version  # shared data, shared in-place counter
        self._base = None
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
