"""The op table: one OpInfo per differentiable op, driving every generic test in test_ops.py.

Entries live in op_table_*.py by family and are joined here into OPS. Each entry gives the
public call, an independent NumPy formula for the forward, a sample generator, the input
domain, the float32 tolerance with the reason it is what it is, and the same call in PyTorch
(`torch`), which test_ops.py checks value, dtype and every gradient against where torch is
importable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Sample:
    """One call: `inputs` are NumPy arrays (float arrays become grad-requiring tensors) or
    Python values passed through; `kwargs` go to the call unchanged."""

    inputs: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""
    big: bool = False           # too many elements for finite differences: agreement tests only
    requires_grad: tuple | None = None  # per input; default: every float array


@dataclass
class OpInfo:
    """How to call, check and sample one op."""

    name: str
    fn: Callable                 # (*tensors, **kwargs) -> Tensor
    ref: Callable | None         # (*arrays, **kwargs) -> ndarray, written independently in NumPy
    samples: Callable            # (rng) -> list[Sample]
    covers: tuple = ()           # the Function classes this entry exercises
    atol32: float = 1e-5         # OpenCL float32 vs NumPy float32 tolerances ...
    rtol32: float = 1e-5
    tol_reason: str = "elementwise float32 math: a few ulps"  # ... and why they are what they are
    grad: bool = True            # differentiable (gradcheck + backward agreement)
    gc_eps: float = 1e-6
    gc_atol: float = 1e-5
    gc_rtol: float = 1e-3
    # The PyTorch twin: (*torch tensors, **sample kwargs) -> tensor; SAME_CALL when `fn` itself
    # works on torch tensors (operators, methods); None when there is none (dropout's RNG).
    torch: Callable | str | None = None


SAME_CALL = "same call"


def torch_fn(name: str) -> Callable:
    """torch.<name> (a dotted path), imported at call time: torch is an optional dependency."""
    def call(*args, **kwargs):
        import torch

        fn = torch
        for part in name.split("."):
            fn = getattr(fn, part)
        return fn(*args, **kwargs)
    return call


def torch_scalars(name: str) -> Callable:
    """torch.<name> for binary ops whose torch form wants tensors: Python scalars wrapped."""
    fn = torch_fn(name)

    def call(a, b):
        import torch

        if not isinstance(b, torch.Tensor):
            b = torch.tensor(b, dtype=a.dtype)
        return fn(a, b)
    return call


def rand(rng, *shape, low=-2.0, high=2.0):
    """float64 uniform samples in [low, high)."""
    return np.asarray(rng.uniform(low, high, size=shape))


def positive(rng, *shape):
    """float64 samples in [0.5, 3): log, sqrt, division denominators."""
    return np.asarray(rng.uniform(0.5, 3.0, size=shape))


def distinct(rng, *shape):
    """float64 samples with no ties (spacing >= 0.01): max/min/sort-like ops and kinks."""
    n = int(np.prod(shape))
    values = rng.permutation(n) * 0.01 - n * 0.005 + rng.uniform(0, 0.003, n)
    return np.asarray(values.reshape(shape))


def away_from_zero(rng, *shape):
    """float64 samples with |x| in [0.1, 2): abs, relu and other kinks at 0."""
    return np.asarray(rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape))


def _entries():
    from op_table_core import CORE_OPS
    from op_table_nn import NN_OPS

    return list(CORE_OPS) + list(NN_OPS)


OPS = _entries()
