"""deepx.nn.functional: the stateless neural-network ops, with torch.nn.functional's names,
arguments and defaults. Each name is defined in deepx/ops/<family>.py beside its Function.
"""
from ..ops.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    prelu,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from ..ops.conv import conv1d, conv2d, linear
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_embedding_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.movement import pad
from ..ops.norm import batch_norm, dropconnect, dropout, dropout2d, layer_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "conv1d", "conv2d", "linear", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "relu",
    "leaky_relu", "hardtanh", "relu6", "prelu", "elu", "sigmoid", "tanh", "gelu", "softplus",
    "silu", "softmax", "log_softmax", "batch_norm", "layer_norm", "dropout", "dropconnect",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "multi_margin_loss", "hinge_embedding_loss", "pad",
    "dropout2d", "embedding",
]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002
              scale_grad_by_freq=False, sparse=False):
    """Rows of weight (V, D) picked by integer input (*) -> (*, D), as F.embedding.

    The row at padding_idx is returned as it is but gets no gradient. max_norm,
    scale_grad_by_freq and sparse=True raise NotImplementedError. An index outside [0, V)
    raises ShapeError (via index_select) naming the index and the shapes.
    """
    from .. import dtypes
    from ..errors import DTypeError, ShapeError
    from ..ops.elementwise import where
    from ..ops.movement import index_select, reshape

    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse=True are "
                                  "not supported by deepx")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    if input.dtype.is_floating_point or input.dtype is dtypes.bool_:
        raise DTypeError(f"embedding: expected an integer (long or int) input, got "
                         f"{input.dtype.name} of shape {tuple(input.shape)}")
    num_embeddings = weight.shape[0]
    flat = reshape(input, (-1,))
    if flat.numel() and int(flat.min().item()) < 0:  # index_select would wrap a negative index
        raise ShapeError(f"embedding: index {int(flat.min().item())} is out of range for "
                         f"weight of shape {tuple(weight.shape)} (input {tuple(input.shape)})")
    rows = index_select(weight, 0, flat)
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError("Padding_idx must be within num_embeddings")
        padding_idx %= num_embeddings
        keep = reshape(flat != padding_idx, (-1, 1))
        rows = where(keep, rows, rows.detach())  # same values; the padding row's grad is zero
    return reshape(rows, (*input.shape, weight.shape[1]))
