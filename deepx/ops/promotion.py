"""Operands of the elementwise ops: PyTorch's type promotion (dtypes.result_type) and the
wrapping of Python scalars, NumPy scalars and NumPy arrays beside a tensor, plus Cast, the
differentiable dtype conversion that promotion inserts.

PyTorch's rules: a tensor with dims outranks a 0-d tensor, which outranks a Python scalar; a
lower-ranked operand only lifts the category (bool < integer < floating). NumPy scalars are
weakly typed Python scalars. A NumPy array operand gives NumPy's result dtype, since PyTorch
computes tensor op ndarray in NumPy; deepx computes it on the device and keeps the gradient.
"""
from __future__ import annotations

from .. import _host, dtypes
from ..autograd import Function, _Tensor
from ..errors import DTypeError


class Cast(Function):
    """y = x converted to `dtype`; the gradient is cast back."""

    name = "to"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype_in = dtypes.of(x)
        return ctx.backend.cast(x, dtype)

    @staticmethod
    def backward(ctx, grad):
        return ctx.backend.cast(grad, ctx.dtype_in)


def _tensor_types():
    """deepx.Tensor (autograd keeps it once _tensor.py has loaded: no import per call)."""
    return _Tensor[0]


_PLAIN = (bool, int, float)  # Python scalars: operands as they are, no NumPy wrapping


def _as_float(x):
    """Float-only math (exp, log, ...) promotes integer and bool tensors to float32, as PyTorch."""
    return _to(x, dtypes.result_type(x, floating=True))


def _operands(op: str, a, b, true_divide=False):
    """Wrap a Python scalar and promote both operands to one dtype (dtypes.result_type)."""
    tensor_cls = _Tensor[0]
    if type(a) is tensor_cls and type(b) is tensor_cls:  # the common case, on every op
        dt = dtypes.of(a._data)
        if dt is dtypes.of(b._data) and (dt.is_floating_point or not true_divide):
            return a, b
    if type(a) in _PLAIN or type(b) in _PLAIN:  # tensor op Python scalar: no NumPy data
        ranks = (a, b)
    else:
        ranks = (_host_operand(a, b), _host_operand(b, a))
        a, b = (x.tensor if isinstance(x, _ArrayOperand) else x for x in ranks)
    if not isinstance(a, tensor_cls) and not isinstance(b, tensor_cls):
        raise DTypeError(f"{op}: expected at least one tensor, got {type(a).__name__} and "
                         f"{type(b).__name__}")
    if type(ranks[0]) is _ArrayOperand or type(ranks[1]) is _ArrayOperand:
        dt = _array_result(ranks, true_divide)
    else:
        dt = dtypes.result_type(_check_scalar(op, a), _check_scalar(op, b),
                                floating=true_divide)
    return _as_dtype(a, dt, b), _as_dtype(b, dt, a)


def _array_result(ranks, true_divide):
    """The dtype of tensor op ndarray: NumPy's (PyTorch computes it in NumPy), as the nearest
    deepx dtype when NumPy's has none (int8, uint8, int16 -> int64; float16 -> float32)."""
    np_dtype = _host.array_result_dtype(
        [x.array_dtype if isinstance(x, _ArrayOperand) else x.dtype.np for x in ranks],
        true_divide)
    try:
        return dtypes.get(np_dtype)
    except DTypeError:
        return dtypes.int64 if np_dtype.kind in "iu" else dtypes.float32


class _ArrayOperand:
    """A NumPy array operand made a tensor, with the array's own NumPy dtype: PyTorch computes
    tensor op ndarray in NumPy, so the result dtype is NumPy's (_array_result)."""

    __slots__ = ("tensor", "array_dtype")

    def __init__(self, tensor, array_dtype) -> None:
        self.tensor, self.array_dtype = tensor, array_dtype


def _host_operand(x, other):
    """x as an operand beside `other`: a NumPy scalar as a Python scalar, a NumPy array as an
    _ArrayOperand on other's device (its dtype kept: x + np.ones(3) is float64, as PyTorch)."""
    tensor_cls = _tensor_types()
    if isinstance(x, tensor_cls):
        return x
    x = _host.host_operand(x)
    if _host.is_array(x) and isinstance(other, tensor_cls):
        from ..creation import tensor

        return _ArrayOperand(tensor(x, device=other.device), x.dtype)
    return x


def _as_dtype(x, dt, other):
    """x (a tensor or a Python scalar, then put on other's device) as a tensor of dtype dt."""
    tensor_cls = _tensor_types()
    if isinstance(x, tensor_cls):
        return _to(x, dt)
    return tensor_cls._wrap(other.device.backend.full((), x, dt), other.device)


def _check_scalar(op, value):
    if not isinstance(value, (bool, int, float, _tensor_types())):
        raise DTypeError(f"{op}: unsupported operand of type {type(value).__name__}")
    return value


def _to(x, dt):
    return x if x.dtype is dt else Cast.apply(x, dtype=dt)


def _no_bool(op: str, why: str, *operands) -> None:
    """PyTorch refuses some arithmetic on bool tensors; so do we, naming the op and shapes."""
    tensors = [x for x in operands if isinstance(x, _tensor_types())]
    if any(t.dtype is dtypes.bool_ for t in tensors):
        shapes = " and ".join(str(tuple(t.shape)) for t in tensors)
        raise DTypeError(f"{op}: {why} (shapes {shapes})")
