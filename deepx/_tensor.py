"""Tensor: a backend array + its device + grad bookkeeping; every method calls an op explicitly."""
from __future__ import annotations

import numpy as np

from . import autograd, dtypes
from ._device import Device
from ._tensor_ops import TensorOps
from .autograd import VersionCounter
from .errors import DeepxError, DTypeError, ShapeError
from .ops import elementwise as ew
from .ops import indexing as ix
from .ops import movement as mv
from .ops import views as vw
from .ops.promotion import Cast


class Tensor(TensorOps):
    """An n-dimensional array on a device that can record the ops applied to it.

    Build one with `deepx.tensor(...)`; `_wrap` is the internal constructor from a backend array.
    """

    __slots__ = ("_data", "device", "_requires_grad", "grad", "_node", "_version", "_base",
                 "__weakref__")
    __array_priority__ = 1000  # numpy scalars on the left defer to our dunders

    @classmethod
    def _wrap(cls, data, device, requires_grad=False) -> Tensor:
        t = cls.__new__(cls)
        t._data = data
        t.device = device if type(device) is Device else Device(device)
        t._requires_grad = requires_grad
        t.grad = None
        t._node = None
        t._version = VersionCounter()
        t._base = None  # the tensor whose storage this view shares (PyTorch's ._base)
        return t

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        """The tensor's shape as a tuple of ints (PyTorch's torch.Size)."""
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.of(self._data)

    @property
    def _version_value(self) -> int:
        return self._version.value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self):
        """The tape record that produced this tensor (None for leaves)."""
        return self._node

    @property
    def data(self) -> Tensor:
        """A detached tensor sharing this tensor's data."""
        return self.detach()

    @data.setter
    def data(self, other: Tensor) -> None:
        """Rebind this tensor to other's storage (shape, dtype and device may change)."""
        self._data, self.device = other._data, other.device
        self._version.value += 1

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dims reversed, as a view."""
        return mv.permute(self, tuple(reversed(range(self.ndim))))

    # ------------------------------------------------------------ storage and views
    def stride(self, dim=None):
        """Element strides of this view of its storage (one dim's stride if dim is given)."""
        strides = self.device.backend.strides(self._data)
        if dim is None:
            return strides
        from .shapes import normalize_dim

        return strides[normalize_dim("stride", dim, self.ndim, self.shape)]

    def storage_offset(self) -> int:
        """Elements between the start of the storage and this view's first element."""
        return self.device.backend.storage_offset(self._data)

    def is_contiguous(self) -> bool:
        """True when the elements lie in C order without gaps (size-1 dims ignored)."""
        from .shapes import is_contiguous

        return is_contiguous(self.shape, self.stride())

    def contiguous(self) -> Tensor:
        """self when C-contiguous, else a contiguous copy (recorded on the tape)."""
        return mv.contiguous(self)

    def data_ptr(self) -> int:
        """An int naming the first element's address; equal for views starting there."""
        return self.device.backend.data_ptr(self._data)

    def untyped_storage(self):
        """The storage this tensor views: equal (==, is) for every view of one storage."""
        return (self._base if self._base is not None else self)._storage_token()

    def _storage_token(self):
        return _Storage(self)

    def _is_view(self) -> bool:
        return self._base is not None

    def view(self, *shape) -> Tensor:
        """The same storage seen with another shape; ShapeError if the strides do not allow."""
        if len(shape) == 1 and isinstance(shape[0], (dtypes.DType, type)):
            raise DTypeError("view: reinterpreting a tensor's bytes as another dtype is not "
                             "supported; use .to(dtype)")
        return mv.view(self, *shape)

    def view_as(self, other) -> Tensor:
        return mv.view(self, other.shape)

    def narrow(self, dim, start, length) -> Tensor:
        return vw.narrow(self, dim, start, length)

    def select(self, dim, index) -> Tensor:
        return vw.select(self, dim, index)

    def unbind(self, dim=0) -> tuple:
        return vw.unbind(self, dim)

    def split(self, split_size_or_sections, dim=0) -> tuple:
        return vw.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0) -> tuple:
        return vw.chunk(self, chunks, dim)

    def diagonal(self, offset=0, dim1=0, dim2=1) -> Tensor:
        return vw.diagonal(self, offset, dim1, dim2)

    def unfold(self, dimension, size, step) -> Tensor:
        return vw.unfold(self, dimension, size, step)

    def t(self) -> Tensor:
        """Transpose of a tensor with at most 2 dims (a view)."""
        if self.ndim > 2:
            raise ShapeError(f"t: expects a tensor with <= 2 dimensions, but self is "
                             f"{self.ndim}D (shape {self.shape})")
        return mv.transpose(self, 0, 1) if self.ndim == 2 else self

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dims swapped."""
        return mv.transpose(self, -2, -1)

    def size(self, dim=None):
        """The shape, or one dim's size."""
        if dim is None:
            return self.shape
        from .shapes import normalize_dim

        return self.shape[normalize_dim("size", dim, self.ndim, self.shape)]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        """Number of elements."""
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    def element_size(self) -> int:
        return self.dtype.itemsize

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ------------------------------------------------------------ host access
    def numpy(self) -> np.ndarray:
        """A host copy of the data as a NumPy array."""
        return self.device.backend.to_numpy(self._data)

    def item(self):
        """The single element as a Python number."""
        if self.numel() != 1:
            raise DeepxError(f"item: a Tensor with {self.numel()} elements cannot be converted "
                             f"to a Python scalar (shape {self.shape})")
        return self.numpy().reshape(()).item()

    def tolist(self):
        """Nested Python lists (a number for 0-d)."""
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise DeepxError(f"Boolean value of Tensor with {self.numel()} elements is "
                             "ambiguous")
        return bool(self.item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __format__(self, format_spec: str) -> str:
        """f"{loss:.4f}": a 0-d tensor formats as its Python number (torch.Tensor.__format__);
        other tensors take only the empty spec (TypeError otherwise, as object.__format__)."""
        if self.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def __repr__(self) -> str:
        data = np.array2string(self.numpy(), separator=", ", prefix="tensor(",
                               threshold=200, edgeitems=3)
        extras = []
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extras.append(f"dtype={self.dtype!r}")
        if self.device.type != "numpy":
            extras.append(f"device='{self.device}'")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name}Backward0>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([data] + extras) + ")"

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (gradient needed unless scalar).

        PyTorch's signature; deepx's tape is first-order, so create_graph=True (a
        differentiable backward, for higher-order gradients) and `inputs` (accumulating into
        some leaves only) raise NotImplementedError instead of being ignored.
        """
        if create_graph:
            raise NotImplementedError("backward: create_graph=True (higher-order gradients) is "
                                      "not supported; deepx's tape records first-order "
                                      "gradients only")
        if inputs is not None:
            raise NotImplementedError("backward: inputs= is not supported; every leaf that "
                                      "requires grad accumulates its .grad")
        autograd.backward(self, gradient, bool(retain_graph))

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor after backward."""
        if self._node is not None:
            import weakref

            self._node.retained = weakref.ref(self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        t = Tensor._wrap(self._data, self.device)
        t._version = self._version
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf as needing gradients (floating dtypes only)."""
        if requires_grad and not self.dtype.is_floating_point:
            raise DTypeError(f"requires_grad_: only tensors of floating point dtype can require "
                             f"gradients, got {self.dtype.name} {self.shape}")
        if not requires_grad and self._node is not None:
            raise DeepxError("requires_grad_: you can only change requires_grad flags of leaf "
                             "variables")
        self._requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------ conversion
    def to(self, *args, dtype=None, device=None) -> Tensor:
        """Move to a device and/or convert dtype: t.to('numpy'), t.to(deepx.float64), both."""
        for a in args:
            if isinstance(a, (dtypes.DType, type)) or (isinstance(a, str) and a in
                                                       dtypes.NAMES):
                dtype = a
            else:
                device = a
        out = self
        if dtype is not None and dtypes.get(dtype) is not self.dtype:
            out = Cast.apply(out, dtype=dtypes.get(dtype))
        if device is not None and Device(device) != out.device:
            out = Transfer.apply(out, device=Device(device))
        return out

    def cpu(self) -> Tensor:
        """A copy on the NumPy (host) device."""
        return self.to("numpy")

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def clone(self) -> Tensor:
        """A copy that stays in the graph."""
        return Cast.apply(self, dtype=self.dtype)  # a same-dtype cast is a fresh copy

    # ------------------------------------------------------------ in-place
    def _check_inplace(self, op: str) -> None:
        """PyTorch's refusals: a leaf (or a view of one) that requires grad, overlapping memory."""
        if autograd.is_grad_enabled():
            base = self._base
            if self._requires_grad and self._node is None and base is None:
                raise DeepxError(f"{op}: a leaf Variable that requires grad is being used in "
                                 "an in-place operation; wrap it in `with deepx.no_grad():`")
            if base is not None and base._requires_grad and base._node is None:
                raise DeepxError(f"{op}: a view of a leaf Variable that requires grad is being "
                                 "used in an in-place operation")
        for n, st in zip(self.shape, self.stride()):
            if st == 0 and n > 1:
                raise DeepxError(
                    f"{op}: unsupported operation: more than one element of the written-to "
                    f"tensor (shape {self.shape}, strides {self.stride()}) refers to a single "
                    "memory location. Please clone() the tensor before performing the "
                    "operation.")

    def _write(self, op: str, result: Tensor) -> Tensor:
        """Store `result` (broadcast to self's shape) through self's view of its storage.

        Recorded like PyTorch: self's history becomes result's, and an in-place op through a
        view gives the base a CopySlices record (so gradients flow through both).
        """
        from .ops.views import CopySlices

        self._check_inplace(op)
        if tuple(result.shape) != self.shape:
            from .shapes import broadcast_shapes

            joint = broadcast_shapes(op, result.shape, self.shape)
            if joint != self.shape:
                raise ShapeError(f"{op}: output with shape {self.shape} doesn't match the "
                                 f"broadcast shape {joint}")
        if result.dtype is not self.dtype:
            if not dtypes.can_cast(result.dtype, self.dtype):
                raise DTypeError(f"{op}: result type {result.dtype.name} can't be cast to the "
                                 f"desired output type {self.dtype.name} (shape {self.shape})")
            result = Cast.apply(result, dtype=self.dtype)
        be = self.device.backend
        node = result._node
        if node is not None and node.ctx is not None and any(
                a is self._data for a in node.ctx.saved):
            # backward needs self's old values, which the write destroys: keep a copy
            # (PyTorch's original_self); its version no longer needs checking
            old = be.contiguous(self._data)
            node.ctx.saved = tuple(old if a is self._data else a for a in node.ctx.saved)
            node.versions = [v for v in node.versions if v[0] is not self._version]
        be.assign_(self._data, result._data)
        self._version.value += 1
        if not autograd.is_grad_enabled() or not (result._requires_grad or
                                                  self._requires_grad):
            return self
        base = self._base
        if base is None:
            self._node, self._requires_grad = result._node, result._requires_grad
            return self
        if not base.is_contiguous():
            raise DeepxError(f"{op}: an in-place op through a view of a non-contiguous base "
                             f"tensor (shape {base.shape}, strides {base.stride()}) cannot be "
                             "recorded; call .contiguous() on the base first")
        offset = self.storage_offset() - base.storage_offset()
        region = (self.shape, self.stride(), offset)
        new_base = CopySlices.apply(base, result, view=region)
        base._node, base._requires_grad = new_base._node, new_base._requires_grad
        # self now reads the new base: record it as a view of it
        again = vw.View.apply(base, geom=vw.Region(*region))
        self._node, self._requires_grad = again._node, again._requires_grad
        return self

    def _same(self, value):
        if isinstance(value, Tensor):
            return value.to(self.device)
        return tensor(value, dtype=self.dtype, device=self.device)

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        """Fill with a scalar (or a 0-d tensor) in place."""
        if (isinstance(value, Tensor) or hasattr(value, "ndim")) and value.ndim:  # or ndarray
            raise ShapeError(f"fill_: only supports 0-dimension value tensor but got tensor "
                             f"with {value.ndim} dimensions (shape {tuple(value.shape)})")
        if isinstance(value, complex) or getattr(getattr(value, "dtype", None), "kind", "") \
                in ("c", "M", "m", "U", "S", "O", "V"):
            raise DTypeError(f"fill_: cannot fill a {self.dtype.name} tensor with {value!r}")
        value = self._same(value)
        if value.dtype is not self.dtype:  # the value is converted, as torch's fill_ does
            value = Cast.apply(value, dtype=self.dtype)
        return self._write("fill_", value)

    def copy_(self, src) -> Tensor:
        """Copy src (broadcast, converted) into this tensor in place."""
        src = self._same(src)
        if src.dtype is not self.dtype:
            src = src.to(self.dtype)
        return self._write("copy_", src)

    def add_(self, other, alpha=1) -> Tensor:
        """self += alpha * other in place."""
        return self._write("add_", ew.add(self, other, alpha=alpha))

    def sub_(self, other, alpha=1) -> Tensor:
        """self -= alpha * other in place."""
        return self._write("sub_", ew.sub(self, other, alpha=alpha))

    def mul_(self, other) -> Tensor:
        """self *= other in place."""
        return self._write("mul_", ew.mul(self, other))

    def div_(self, other) -> Tensor:
        """self /= other in place."""
        return self._write("div_", ew.div(self, other))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
        """Clamp in place."""
        return self._write("clamp_", ew.clip(self, min, max))

    def uniform_(self, a=0.0, b=1.0) -> Tensor:
        """Fill in place with U(a, b) from deepx's generator."""
        self._check_inplace("uniform_")
        with autograd.no_grad():
            return self._write("uniform_", ew.add(ew.mul(rand(*self.shape, dtype=self.dtype,
                                                              device=self.device), b - a), a))

    def normal_(self, mean=0.0, std=1.0) -> Tensor:
        """Fill in place with N(mean, std^2) from deepx's generator."""
        self._check_inplace("normal_")
        with autograd.no_grad():
            return self._write("normal_", ew.add(ew.mul(randn(*self.shape, dtype=self.dtype,
                                                               device=self.device), std), mean))

    def __setitem__(self, key, value) -> None:
        """t[basic index] = value (broadcast), in place through a view; recorded (CopySlices)."""
        if ix.basic_view(self.shape, key, self.stride())[3] is not None:
            raise DeepxError("setitem: assignment through an integer-array or mask index is "
                             "not supported; use basic slicing or deepx.where")
        ix.getitem(self, key).copy_(value)

    def __deepcopy__(self, memo) -> Tensor:
        """copy.deepcopy: new storage on the same device; grads and leaf status kept."""
        if id(self) in memo:
            return memo[id(self)]
        if self._node is not None:
            raise DeepxError("deepcopy: only leaf tensors support the deepcopy protocol (call "
                             ".detach() first), as in PyTorch")
        t = type(self)._wrap(self.device.backend.cast(self._data, self.dtype), self.device,
                             requires_grad=self._requires_grad)
        memo[id(self)] = t
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        return t


class Transfer(autograd.Function):
    """Copy to another device through the host; the gradient travels back the same way."""

    name = "to"

    moves_device = True

    @staticmethod
    def forward(ctx, x, device):
        ctx.target = device.backend
        return device.backend.from_numpy(ctx.backend.to_numpy(x))

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.from_numpy(ctx.target.to_numpy(grad))


class _Storage:
    """Identity of a tensor's storage: two tensors' storages compare equal when one is (a view
    of) the other's base."""

    __slots__ = ("owner",)

    def __init__(self, owner) -> None:
        self.owner = owner

    def __eq__(self, other) -> bool:
        return isinstance(other, _Storage) and other.owner is self.owner

    def __hash__(self) -> int:
        return id(self.owner)

    def data_ptr(self) -> int:
        return self.owner.data_ptr() - self.owner.storage_offset() * self.owner.element_size()

    def nbytes(self) -> int:
        return self.owner.numel() * self.owner.element_size()


autograd._Tensor.append(Tensor)

from .creation import rand, randn, tensor  # noqa: E402  (creation needs Tensor defined)


def is_tensor(obj) -> bool:
    """True when obj is a deepx Tensor (torch.is_tensor)."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002 - PyTorch's argument name
    """Number of elements of input (torch.numel)."""
    return input.numel()
