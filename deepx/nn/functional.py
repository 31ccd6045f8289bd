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
from ..ops.indexing import embedding, one_hot
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
from ..ops.norm import batch_norm, dropconnect, dropout, dropout2d, layer_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.sampling import interpolate, pad

__all__ = [
    "conv1d", "conv2d", "linear", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "relu",
    "leaky_relu", "hardtanh", "relu6", "prelu", "elu", "sigmoid", "tanh", "gelu", "softplus",
    "silu", "softmax", "log_softmax", "batch_norm", "layer_norm", "dropout", "dropconnect",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "multi_margin_loss", "hinge_embedding_loss", "pad",
    "one_hot", "embedding", "interpolate", "dropout2d",
]

