"""TensorOps: the Tensor methods and operators that forward to deepx.ops (arithmetic, math,
reductions, shape, indexing, comparisons, new_* constructors), as torch.Tensor's methods
forward to torch's functions. Tensor (deepx/_tensor.py) inherits them; it keeps the storage,
views, autograd, host access, conversions and in-place writes.
"""
from __future__ import annotations

from . import dtypes
from .backend import BinaryOp, UnaryOp
from .errors import DTypeError
from .ops import activation as act
from .ops import division as dv
from .ops import elementwise as ew
from .ops import gather as gs
from .ops import indexing as ix
from .ops import logical as lg
from .ops import matmul as mm
from .ops import movement as mv
from .ops import reduce as rd
from .ops import repeat as rp
from .ops import sort as srt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._tensor import Tensor


class TensorOps:
    """Mixin of Tensor: every method here is one call of an op on self."""

    __slots__ = ()

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return ew.add(self, other)

    def __radd__(self, other):
        return ew.add(other, self)

    def __sub__(self, other):
        return ew.sub(self, other)

    def __rsub__(self, other):
        return ew.sub(other, self)

    def __mul__(self, other):
        return ew.mul(self, other)

    def __rmul__(self, other):
        return ew.mul(other, self)

    def __truediv__(self, other):
        return ew.div(self, other)

    def __rtruediv__(self, other):
        return ew.div(other, self)

    def __pow__(self, other):
        return ew.pow(self, other)

    def __rpow__(self, other):
        return ew.pow(other, self)

    def __floordiv__(self, other):
        return dv.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return dv.floor_divide(other, self)

    def __ifloordiv__(self, other):
        return self._write("floor_divide_", dv.floor_divide(self, other))

    def __mod__(self, other):
        return dv.remainder(self, other)

    def __rmod__(self, other):
        return dv.remainder(other, self)

    def __imod__(self, other):
        return self._write("remainder_", dv.remainder(self, other))

    def add(self, other, alpha=1):
        return ew.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return ew.sub(self, other, alpha=alpha)

    def mul(self, other):
        return ew.mul(self, other)

    def div(self, other, rounding_mode=None):
        return ew.div(self, other, rounding_mode=rounding_mode)

    def floor_divide(self, other):
        return dv.floor_divide(self, other)

    def remainder(self, other):
        return dv.remainder(self, other)

    def clamp_min(self, min):  # noqa: A002 - PyTorch's names
        return ew.clamp_min(self, min)

    def clamp_max(self, max):  # noqa: A002 - PyTorch's names
        return ew.clamp_max(self, max)

    def __neg__(self):
        return ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ew.abs(self)

    def __matmul__(self, other):
        return mm.matmul(self, other)

    def __rmatmul__(self, other):
        return mm.matmul(other, self)

    def __eq__(self, other):  # type: ignore[override]
        return ew.compare(BinaryOp.EQ, "eq", self, other)

    def __ne__(self, other):  # type: ignore[override]
        return ew.compare(BinaryOp.NE, "ne", self, other)

    def __lt__(self, other):
        return ew.compare(BinaryOp.LT, "lt", self, other)

    def __le__(self, other):
        return ew.compare(BinaryOp.LE, "le", self, other)

    def __gt__(self, other):
        return ew.compare(BinaryOp.GT, "gt", self, other)

    def __ge__(self, other):
        return ew.compare(BinaryOp.GE, "ge", self, other)

    # & | ^ ~ are bitwise on integer tensors and logical on bool ones, as in PyTorch
    def __and__(self, other):
        return lg.bitwise_and(self, other)

    def __rand__(self, other):
        return lg.bitwise_and(other, self)

    def __iand__(self, other):
        return self._write("bitwise_and_", lg.bitwise_and(self, other))

    def __or__(self, other):
        return lg.bitwise_or(self, other)

    def __ror__(self, other):
        return lg.bitwise_or(other, self)

    def __ior__(self, other):
        return self._write("bitwise_or_", lg.bitwise_or(self, other))

    def __xor__(self, other):
        return lg.bitwise_xor(self, other)

    def __rxor__(self, other):
        return lg.bitwise_xor(other, self)

    def __ixor__(self, other):
        return self._write("bitwise_xor_", lg.bitwise_xor(self, other))

    def __ipow__(self, other):
        return self._write("pow_", ew.pow(self, other))

    def bitwise_and(self, other):
        return lg.bitwise_and(self, other)

    def bitwise_or(self, other):
        return lg.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return lg.bitwise_xor(self, other)

    def __invert__(self):
        if self.dtype.is_floating_point:
            raise DTypeError(f"invert: only integer and bool tensors are supported, got "
                             f"{self.dtype.name} {tuple(self.shape)}")
        if self.dtype is not dtypes.bool_:  # two's complement: ~x == x ^ -1
            return lg.bitwise_xor(self, -1)
        return type(self)._wrap(self.device.backend.unary(UnaryOp.NOT, self._data), self.device)

    bitwise_not = __invert__

    __hash__ = object.__hash__

    # ------------------------------------------------------------ math methods
    def exp(self):
        return ew.exp(self)

    def log(self):
        return ew.log(self)

    def sqrt(self):
        return ew.sqrt(self)

    def rsqrt(self):
        return ew.rsqrt(self)

    def abs(self):
        return ew.abs(self)

    def neg(self):
        return ew.neg(self)

    def tanh(self):
        return ew.tanh(self)

    def sigmoid(self):
        return ew.sigmoid(self)

    def relu(self):
        """max(x, 0)."""
        return act.relu(self)

    def softmax(self, dim, dtype=None):
        return act.softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return act.log_softmax(self, dim, dtype)

    def pow(self, exponent):
        return ew.pow(self, exponent)

    def maximum(self, other):
        return ew.maximum(self, other)

    def minimum(self, other):
        return ew.minimum(self, other)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        return ew.clip(self, min, max)

    clamp = clip

    def matmul(self, other):
        return mm.matmul(self, other)

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return rd.sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False):
        return rd.mean(self, dim, keepdim)

    def var(self, dim=None, correction=1, keepdim=False, unbiased=None):
        return rd.var(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def std(self, dim=None, correction=1, keepdim=False, unbiased=None):
        return rd.std(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def max(self, dim=None, keepdim=False):  # a tensor `dim`: the elementwise maximum
        return rd.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):  # a tensor `dim`: the elementwise minimum
        return rd.min(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        """Vector p-norm over dim (all elements by default), as torch.Tensor.norm."""
        return rd.norm(self, p, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return rd.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return rd.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return rd.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return rd.argmin(self, dim, keepdim)

    # ------------------------------------------------------------ shape
    def reshape(self, *shape):
        """A view when the strides allow, else a copy (as PyTorch's reshape)."""
        return mv.reshape(self, *shape)

    def reshape_as(self, other):
        return mv.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return mv.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return mv.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return mv.permute(self, *dims)

    def unsqueeze(self, dim):
        return mv.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return mv.squeeze(self, dim)

    def expand(self, *sizes):
        return mv.expand(self, *sizes)

    def expand_as(self, other):
        return mv.expand(self, other.shape)

    def __getitem__(self, key):
        return ix.getitem(self, key)

    # ------------------------------------------------------------ PyTorch API breadth (issue 15)
    # Each method calls its function in deepx/ops (indexing, sort, logical, repeat); the
    # in-place forms compute out of place and store through _write, as add_ does.

    def masked_fill(self, mask, value) -> Tensor:
        return ix.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value) -> Tensor:
        return self._write("masked_fill_", ix.masked_fill(self, mask, value))

    def index_fill(self, dim, index, value) -> Tensor:
        return ix.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value) -> Tensor:
        return self._write("index_fill_", ix.index_fill(self, dim, index, value))

    def gather(self, dim, index) -> Tensor:
        return gs.gather(self, dim, index)

    def scatter(self, dim, index, src=None, value=None, reduce=None) -> Tensor:
        return gs.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, value=None, reduce=None) -> Tensor:
        return self._write("scatter_", gs.scatter(self, dim, index, src, value=value,
                                                  reduce=reduce))

    def scatter_add(self, dim, index, src) -> Tensor:
        return gs.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src) -> Tensor:
        return self._write("scatter_add_", gs.scatter_add(self, dim, index, src))

    def nonzero(self, as_tuple=False):
        return ix.nonzero(self, as_tuple=as_tuple)

    def bincount(self, weights=None, minlength=0) -> Tensor:
        return ix.bincount(self, weights, minlength)

    def sort(self, dim=-1, descending=False, stable=False):
        return srt.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False) -> Tensor:
        return srt.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's names
        return srt.topk(self, k, dim, largest, sorted)

    def all(self, dim=None, keepdim=False) -> Tensor:
        return lg.all_(self, dim, keepdim)

    def any(self, dim=None, keepdim=False) -> Tensor:
        return lg.any_(self, dim, keepdim)

    def eq(self, other) -> Tensor:
        return lg.eq(self, other)

    def ne(self, other) -> Tensor:
        return lg.ne(self, other)

    def lt(self, other) -> Tensor:
        return lg.lt(self, other)

    def le(self, other) -> Tensor:
        return lg.le(self, other)

    def gt(self, other) -> Tensor:
        return lg.gt(self, other)

    def ge(self, other) -> Tensor:
        return lg.ge(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
        return lg.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return lg.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other) -> bool:
        return lg.equal(self, other)

    def where(self, condition, other) -> Tensor:
        """x.where(condition, y) is deepx.where(condition, x, y)."""
        return ew.where(condition, self, other)

    def repeat(self, *sizes) -> Tensor:
        return rp.repeat(self, *sizes)

    def tile(self, *dims) -> Tensor:
        return rp.tile(self, dims[0] if len(dims) == 1 else dims)

    def flip(self, *dims) -> Tensor:
        return rp.flip(self, dims[0] if len(dims) == 1 else dims)

    def roll(self, shifts, dims=None) -> Tensor:
        return rp.roll(self, shifts, dims)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """A tensor of `size` filled with fill_value, with self's dtype and device by default."""
        from .creation import full

        return full(tuple(size), fill_value, dtype or self.dtype, device or self.device,
                    requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return self.new_full(_size_args(size), 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return self.new_full(_size_args(size), 1, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return self.new_full(_size_args(size), 0, dtype, device, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        """A new leaf holding a copy of data, with self's dtype and device by default."""
        from .creation import tensor  # creation imports Tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)

    def half(self) -> Tensor:
        """float16 is not supported: raises DTypeError (use float())."""
        return self.to(dtypes.float16)

    def bfloat16(self) -> Tensor:
        """bfloat16 is not supported: raises DTypeError (use float())."""
        return self.to("bfloat16")


def _size_args(size) -> tuple:
    """new_zeros(2, 3) and new_zeros((2, 3)) alike."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
