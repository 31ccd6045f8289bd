"""deepx: a small deep-learning library: a global gradient tape, OpenCL kernels, a NumPy reference.

Nothing runs at import: devices and OpenCL contexts are created on first use.
"""
# isort: skip_file
# Import order matters here, so it is written by hand: subpackages come last since they
# import the names above. The modules behind `deepx.tensor` and `deepx.device` (functions, as
# in PyTorch) are _tensor.py and _device.py, so a name always means one thing.
from ._tensor import Tensor, is_tensor, numel
from . import dtypes
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (arange, as_tensor, empty, eye, full, full_like, linspace, ones, ones_like,
                       rand, rand_like, randint, randn, randn_like, tensor, zeros, zeros_like,
                       from_numpy)
from ._device import Device, default_device, device, devices, set_default_device, synchronize
from .dtypes import bool_, float16, float32, float64, int32, int64
from .errors import DeepxError
from .gradcheck import gradcheck
from .graphs import Graph, graph
from .ops.division import floor_divide, remainder
from .ops.elementwise import (abs, add, clamp_max, clamp_min, clip, div, exp, log, maximum, minimum,
                              mul, neg, pow, rsqrt, sigmoid, sqrt, sub, tanh, where)
from .ops.matmul import matmul
from .ops.einsum import einsum
from .ops.gather import gather, index_select, scatter, scatter_add
from .ops.indexing import bincount, index_fill, masked_fill, nonzero
from .ops.logical import all_ as all, any_ as any  # noqa: A004 - PyTorch's names
from .ops.logical import (allclose, bitwise_and, bitwise_or, bitwise_xor, eq, equal, ge, gt,
                          isclose, le, lt, ne)
from .ops.repeat import flip, roll, tile
from .ops.sort import argsort, sort, topk
from .ops.movement import (cat, expand, flatten, pad, permute, reshape, squeeze, stack, transpose,
                           unsqueeze)
from .ops.reduce import amax, amin, argmax, argmin, max, mean, min, norm, std, sum, var
from .rng import initial_seed, manual_seed
from . import data, models, nn, optim, utils, viz
from .checkpoint import load, save
from .profiler import profile

bool = bool_  # noqa: A001 - PyTorch spells it deepx.bool
float = float32  # noqa: A001 - torch.float
double = float64
half = float16
long = int64
clamp = clip

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace",
    "eye", "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "rand_like",
    "randn_like", "manual_seed", "initial_seed", "no_grad", "enable_grad", "is_grad_enabled",
    "gradcheck", "Device", "device", "devices", "default_device", "set_default_device",
    "DeepxError", "synchronize", "Graph", "graph",
    "float32", "float64", "int32", "int64", "bool_", "dtypes", "abs", "add", "clip", "clamp",
    "clamp_min", "clamp_max", "floor_divide", "remainder", "rsqrt",
    "div", "exp", "log", "maximum", "minimum", "mul", "neg", "pow", "sigmoid", "sqrt", "sub",
    "tanh", "where", "matmul", "cat", "expand", "flatten", "index_select", "pad", "permute",
    "reshape", "squeeze", "stack", "transpose", "unsqueeze", "amax", "amin", "argmax", "argmin",
    "max", "min", "mean", "norm", "std", "sum", "var", "nn", "optim", "data", "utils", "models",
    "viz", "save", "load", "profile",
    "einsum", "bincount", "gather", "index_fill", "masked_fill", "nonzero", "scatter",
    "scatter_add", "all", "any", "allclose", "eq", "equal", "ge", "gt", "isclose", "le", "lt",
    "ne", "flip", "roll", "tile", "argsort", "sort", "topk", "from_numpy", "inference_mode",
    "set_grad_enabled", "float16", "half", "is_tensor", "numel", "bitwise_and", "bitwise_or",
    "bitwise_xor",
]
