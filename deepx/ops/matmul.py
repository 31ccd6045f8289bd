"""Matrix product with torch.matmul's rules: 1-D, 2-D and broadcast batched operands."""
from __future__ import annotations

import math

from ..autograd import Function
from ..errors import DTypeError, ShapeError
from ..shapes import broadcast_shapes
from .arrays import unbroadcast


class MatMul(Function):
    """(Ba, M, K) @ (Bb, K, N) -> (B, M, N) with Ba, Bb in {B, 1}.

    Backward uses the transpose flags of the primitive, so no transpose pass is needed:
    dA = dC @ B^T, dB = A^T @ dC, each summed over a broadcast batch.
    """

    name = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        be, n = ctx.backend, ctx.needs_input_grad
        grad_a = grad_b = None
        if n[0]:
            grad_a = unbroadcast(be, be.matmul(grad, b, transpose_b=True), a.shape)
        if n[1]:
            grad_b = unbroadcast(be, be.matmul(a, grad, transpose_a=True), b.shape)
        return grad_a, grad_b


def matmul(a, b):
    """torch.matmul: (K)@(K), (M,K)@(K), (K)@(K,N), (*A,M,K)@(*B,K,N) -> (*broadcast,M,N)."""
    from .movement import expand, reshape

    a, b = _matmul_operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.dtype is not b.dtype:
        raise DTypeError(f"matmul: expected both operands to have the same dtype, got "
                         f"{a.dtype.name} {tuple(a.shape)} and {b.dtype.name} {tuple(b.shape)}")
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    (m, k), (k2, n) = a2.shape[-2:], b2.shape[-2:]
    if k != k2:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({m}x{k} and {k2}x{n})")
    batch = broadcast_shapes("matmul", a2.shape[:-2], b2.shape[:-2])
    nb = math.prod(batch)

    def as_3d(t, rows, cols):
        tb = t.shape[:-2]
        if math.prod(tb) == nb or math.prod(tb) == 1:
            return reshape(t, (math.prod(tb), rows, cols))
        # A partially broadcast batch (e.g. (2,1) with (1,3)) is materialised.
        return reshape(expand(t, batch + (rows, cols)), (nb, rows, cols))

    out = MatMul.apply(as_3d(a2, m, k), as_3d(b2, k, n))
    shape = batch + (m, n)
    if a.ndim == 1:
        shape = shape[:-2] + (n,)
    if b.ndim == 1:
        shape = shape[:-1]
    return reshape(out, shape)


def _matmul_operands(a, b):
    """Tensors as they are; a NumPy array beside a tensor becomes a tensor on its device, both
    in NumPy's result dtype (PyTorch computes tensor @ ndarray in NumPy); anything else is a
    TypeError naming what it got."""
    from .promotion import _array_result, _ArrayOperand, _host_operand, _tensor_types, _to

    tensor_cls = _tensor_types()
    if isinstance(a, tensor_cls) and isinstance(b, tensor_cls):
        return a, b
    ranks = (_host_operand(a, b), _host_operand(b, a))
    if not all(isinstance(x, (tensor_cls, _ArrayOperand)) for x in ranks):
        raise TypeError(f"matmul: expected tensors (or a NumPy array beside a tensor), got "
                        f"{type(a).__name__} and {type(b).__name__}")
    dt = _array_result(ranks, False)
    return tuple(_to(x.tensor if isinstance(x, _ArrayOperand) else x, dt) for x in ranks)
