"""deepx.nn: PyTorch-shaped neural-network building blocks; `functional` holds the stateless ops."""
from . import functional  # noqa: F401

# isort: split
# The Training API: modules, containers, layers, losses; deepx.nn.init and
# deepx.nn.regularizers are submodules.
from . import init, regularizers, utils
from .activations import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv2d,
    DropConnect,
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    Unflatten,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .sparse import Embedding
from .summary import summary

__all__ = [
    "functional", "init", "regularizers", "Module", "Parameter", "StateDictError", "summary",
    "Sequential", "ModuleList", "Identity", "Linear", "DropConnect", "Conv2d", "MaxPool2d",
    "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout",
    "Flatten", "Unflatten", "ReLU", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU",
    "Softplus", "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
    "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss", "HingeEmbeddingLoss",
    "utils", "ModuleDict", "ParameterList", "ParameterDict", "Dropout2d", "Embedding",
]
