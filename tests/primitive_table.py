"""The primitive table: one entry per primitive of deepx/backend/__init__.py.

Each entry gives sample calls (host arrays are uploaded to the backend under test; the same
call runs on NumpyBackend) with the tolerance of the comparison and its reason, and names the
hand-written tests in test_opencl_backend.py that check the primitive further (kernel paths,
chunk edges, special values, bounds). test_opencl_backend.py runs every sample of every entry
against NumPy and checks that the table names every primitive of the contract and that both
backends implement each one. Shapes stay small: the Oclgrind stage runs all of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from deepx import dtypes
from deepx.backend import ArgReduceOp, BinaryOp, ReduceOp, UnaryOp

EXACT = "layout, integer and comparison results must be bit-exact"
ULPS = "float32 transcendental builtins: a few ulps"
ORDER = "float32 sums in another order than NumPy's: a few ulps of the magnitudes summed"


@dataclass
class Call:
    """One call: host arrays in `args` are uploaded; tol 0 means bit-exact."""

    args: tuple
    tol: float = 0.0


@dataclass
class Primitive:
    """One primitive: its sample calls (rng -> [Call]), why the tolerance, the deeper tests."""

    name: str
    calls: Callable
    reason: str = EXACT
    tests: tuple = field(default_factory=tuple)


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _transfer(rng):
    return [Call((_f32(rng, 7, 13),)), Call((np.arange(5, dtype=np.int64),)),
            Call((np.array([True, False]),)), Call((np.array(2.5, np.float32),))]


def _nn_geometry(rng):
    """The odd geometries of the nn primitives: (x, kernel/stride/padding/dilation)."""
    return _f32(rng, 2, 3, 7, 6), ((3, 2), (2, 1), (1, 1), (1, 2))


def _im2col(rng):
    x, geom = _nn_geometry(rng)
    return [Call((x, *geom), 2e-5)]


def _col2im(rng):
    _, geom = _nn_geometry(rng)
    return [Call((_f32(rng, 2, 3 * 3 * 2, 4 * 6), (2, 3, 7, 6), *geom), 2e-5)]


def _max_pool(rng):
    x, _ = _nn_geometry(rng)
    plain = ((2, 2), (2, 2), (0, 0), (1, 1))  # the 2x2 kernel; odd H: the last row unread
    return [Call((x, (3, 2), (2, 2), (1, 1), (1, 2), (4, 3)), 2e-5),
            Call((x, *plain, (3, 3)), 2e-5),
            Call((x, *plain, (4, 3)), 2e-5)]  # ceil_mode's partial last window: general


def _max_pool_backward(rng):
    from deepx.backend.numpy_backend import NumpyBackend

    x, _ = _nn_geometry(rng)
    geometry = ((3, 2), (2, 2), (1, 1), (1, 2))
    out, argmax = NumpyBackend().max_pool2d(x, *geometry, (4, 3))
    return [Call((_f32(rng, *out.shape), argmax, (7, 6), *geometry), 2e-5)]


def _avg_pool(rng):
    x, _ = _nn_geometry(rng)
    return [Call((x, (3, 3), (2, 2), (1, 1), (4, 3), False, 0), 2e-5)]


def _avg_pool_backward(rng):
    return [Call((_f32(rng, 2, 3, 4, 3), (7, 6), (3, 3), (2, 2), (1, 1), True, 0), 2e-5)]


def _logits(rng):
    return (rng.standard_normal((5, 300)) * 3).astype(np.float32)


def _softmax(rng):
    x, _ = _nn_geometry(rng)
    return [Call((x, 2, False), 2e-5), Call((_logits(rng), 1, True), 2e-5)]


def _softmax_backward(rng):
    x, _ = _nn_geometry(rng)
    logits = _logits(rng)
    return [Call((x * 0.1, x, 1, False), 2e-5), Call((-np.abs(logits), logits, 1, True), 2e-5)]


def _targets():
    return np.array([0, 299, -100, 7, 150], dtype=np.int64)


def _cross_entropy(rng):
    logits, weight = _logits(rng), rng.uniform(0.5, 2, 300).astype(np.float32)
    return [Call((logits, _targets(), weight, -100, 0.1), 2e-5),
            Call((logits, _targets(), None, -100, 0.0), 2e-5)]


def _cross_entropy_backward(rng):
    logits, weight = _logits(rng), rng.uniform(0.5, 2, 300).astype(np.float32)
    lse = np.log(np.exp(logits.astype(np.float64)).sum(axis=1)).astype(np.float32)
    return [Call((logits, lse, _targets(), weight, _f32(rng, 5), -100, 0.2), 2e-5)]


def _optimizer(method_args, foreach=False):
    """Calls of an optimizer step on n = 17 (a ragged chunk): param, grad, states, scalars.
    foreach (the multi-tensor steps): lists of tensors of 17, 1, 40 and (2, 3) elements, and
    of 20 tensors (past one launch's 16 slots)."""
    def arrays_of(rng, states, shape):
        arrays = [_f32(rng, *shape), _f32(rng, *shape)]
        return arrays + [np.abs(_f32(rng, *shape)) + 0.5 if used else None for used in states]

    def calls(rng):
        out = []
        for states, args in method_args:
            if not foreach:
                out.append(Call((*arrays_of(rng, states, (17,)), *args), 1e-6))
                continue
            for shapes in ([(17,)], [(17,), (1,), (40,), (2, 3)], [(i + 1,) for i in range(20)]):
                per = [arrays_of(rng, states, shape) for shape in shapes]
                lists = [None if per[0][k] is None else [p[k] for p in per]
                         for k in range(len(per[0]))]
                out.append(Call((*lists, *args), 1e-6))
        return out
    return calls


PRIMITIVES = [
    Primitive("from_numpy", _transfer, tests=("test_roundtrip", "test_size_zero_never_allocates")),
    Primitive("to_numpy", _transfer, tests=("test_roundtrip",)),
    Primitive("full", lambda rng: [Call(((7, 13), 2.5, dtypes.float32)),
                                   Call(((), 5, dtypes.int64)), Call(((3,), True, dtypes.bool_))],
              tests=("test_full_and_arange",)),
    Primitive("arange", lambda rng: [Call((-2.5, 0.1, 127, dtypes.float32)),
                                     Call((3, -2, 13, dtypes.int32))],
              tests=("test_full_and_arange",)),
    Primitive("rand", lambda rng: [Call(((7, 13), dtypes.float32, 1234, 5))],
              tests=("test_rand_bit_exact_and_randn_close",)),
    Primitive("randn", lambda rng: [Call(((7, 13), dtypes.float32, 1234, 5), 2e-6)], ULPS,
              tests=("test_rand_bit_exact_and_randn_close",)),
    Primitive("cast", lambda rng: [Call((_f32(rng, 7, 13) * 4, dtypes.int32)),
                                   Call((_f32(rng, 17), dtypes.bool_)),
                                   Call((np.arange(-8, 9), dtypes.float32))],
              tests=("test_cast", "test_cast_chunks_and_ragged_ends",
                     "test_float_to_int_is_defined")),
    Primitive("unary", lambda rng: [Call((UnaryOp.EXP, _f32(rng, 7, 13)), 2e-6),
                                    Call((UnaryOp.RELU, _f32(rng, 17))),
                                    Call((UnaryOp.NOT, np.array([True, False])))], ULPS,
              tests=("test_unary_float", "test_unary_chunks_and_ragged_ends",
                     "test_unary_integer_and_bool")),
    Primitive("binary", lambda rng: [Call((BinaryOp.ADD, _f32(rng, 7, 13), _f32(rng, 13))),
                                     Call((BinaryOp.LT, _f32(rng, 7, 1), _f32(rng, 1, 13))),
                                     Call((BinaryOp.MUL, np.arange(6), np.array(3)))],
              tests=("test_binary_float_broadcast", "test_binary_nan_and_special",
                     "test_binary_integer_and_bool", "test_binary_fast_paths")),
    Primitive("where", lambda rng: [Call((rng.random((7, 13)) < 0.5, _f32(rng, 13),
                                          _f32(rng, 1)))],
              tests=("test_where_fast_paths", "test_where")),
    Primitive("reduce", lambda rng: [Call((ReduceOp.SUM, _f32(rng, 7, 13), (1,), False), 1e-5),
                                     Call((ReduceOp.MAX, _f32(rng, 2, 3, 4, 5), (0, 2), True)),
                                     Call((ReduceOp.SUM, _f32(rng, 3, 300), (1,), False), 1e-4)],
              ORDER, tests=("test_reduce", "test_reduce_nan_empty_and_errors")),
    Primitive("arg_reduce", lambda rng: [Call((ArgReduceOp.ARGMAX, _f32(rng, 7, 13), 0, False)),
                                         Call((ArgReduceOp.ARGMIN, _f32(rng, 3, 300), 1, True))],
              tests=("test_arg_reduce",)),
    Primitive("matmul", lambda rng: [Call((_f32(rng, 2, 7, 5), _f32(rng, 1, 5, 13)), 1e-5),
                                     Call((_f32(rng, 1, 5, 7), _f32(rng, 3, 13, 5), True, True),
                                          1e-5),
                                     # sum_batch: a conv weight gradient, a broadcast operand
                                     Call((_f32(rng, 5, 7, 3), _f32(rng, 5, 17, 3), False, True,
                                           None, True), 1e-5),
                                     Call((_f32(rng, 4, 3, 9), _f32(rng, 1, 9, 17), False,
                                           False, None, True), 1e-5)], ORDER,
              tests=("test_matmul_shapes_and_transposes", "test_matmul_batch_broadcast",
                     "test_matmul_dtypes_and_empty")),
    Primitive("reshape", lambda rng: [Call((_f32(rng, 7, 13), (13, 7)))],
              tests=("test_roundtrip",)),
    Primitive("strided_copy", lambda rng: [Call((_f32(rng, 7, 13, 4), (13, 7, 4), (4, 52, 1), 0)),
                                           Call((_f32(rng, 91), (3, 5), (13, 2), 15))],
              tests=("test_strided_copy",)),
    Primitive("strided_assign_", lambda rng: [Call((_f32(rng, 91), (3, 5), (13, 2), 15,
                                                    _f32(rng, 3, 5)))],
              tests=("test_strided_assign",)),
    # views: the comparison reads them back through to_numpy (a strided copy on OpenCL)
    Primitive("as_strided", lambda rng: [Call((_f32(rng, 7, 13), (3, 4), (13, 2), 5)),
                                         Call((_f32(rng, 7, 13), (2, 3, 4), (0, 1, 13), 1))]),
    Primitive("contiguous", lambda rng: [Call((_f32(rng, 7, 13),)),
                                         Call((np.arange(5, dtype=np.int64),))]),
    Primitive("strides", lambda rng: [Call((_f32(rng, 7, 13),))]),
    Primitive("storage_offset", lambda rng: [Call((_f32(rng, 7, 13),))]),
    Primitive("data_ptr", lambda rng: [Call((_f32(rng, 7, 13),))]),
    Primitive("take_along", lambda rng: [Call((_f32(rng, 7, 13), rng.integers(0, 13, (7, 5)),
                                               1))]),
    Primitive("scatter_along", lambda rng: [
        Call((_f32(rng, 7, 13), rng.integers(0, 13, (7, 5)), _f32(rng, 7, 5), 1, True), 1e-6),
        Call((_f32(rng, 7, 13), rng.integers(0, 7, (3, 13)), _f32(rng, 3, 13), 0, False))],
        "sums of a few float32 values in the same order: rounding only"),
    Primitive("argsort", lambda rng: [Call((_f32(rng, 7, 13), 1, False)),
                                      Call((rng.integers(0, 3, (7, 13)), 0, True))]),
    Primitive("nonzero", lambda rng: [Call((rng.integers(0, 2, (7, 13)),)),
                                      Call((np.zeros((3, 4), np.float32),))]),
    Primitive("gather", lambda rng: [Call((_f32(rng, 7, 13), np.array([0, -1, 3, 3]), 1))],
              tests=("test_gather_and_scatter_add",)),
    Primitive("scatter_add", lambda rng: [Call((np.array([1, 1, 0, 2]), _f32(rng, 7, 4), 1, 3))],
              tests=("test_gather_and_scatter_add",)),
    Primitive("assign_", lambda rng: [Call((np.zeros((7, 13), np.float32), _f32(rng, 7, 13)))],
              tests=("test_assign",)),
    Primitive("im2col", _im2col, "nn kernels in float32: rounding only",
              tests=("test_nn_and_optimizer_kernels_write_only_their_outputs",)),
    Primitive("col2im", _col2im, "sums of taps in another order: rounding only"),
    Primitive("max_pool2d", _max_pool, "nn kernels in float32: rounding only"),
    Primitive("max_pool2d_backward", _max_pool_backward, "sums of chosen grads: rounding only"),
    Primitive("avg_pool2d", _avg_pool, "window sums in float32: rounding only"),
    Primitive("avg_pool2d_backward", _avg_pool_backward, "window sums in float32"),
    Primitive("softmax", _softmax, "exp and row sums in float32",
              tests=("test_softmax_kernels", "test_softmax_primitive_accepts_a_negative_axis")),
    Primitive("softmax_backward", _softmax_backward, "row sums in float32",
              tests=("test_softmax_kernels",)),
    Primitive("cross_entropy", _cross_entropy, "log-sum-exp in float32"),
    Primitive("cross_entropy_backward", _cross_entropy_backward, "exp in float32"),
    Primitive("norm_stats", lambda rng: [Call((_f32(rng, 2, 3, 42) + 100,), 2e-5)],
              "two-pass mean and variance in float32"),
    Primitive("sgd_step_", _optimizer([((True,), (0.1, 0.9, 0.1, 0.01, True, False, False)),
                                       ((False,), (0.1, 0.0, 0.0, 0.0, False, True, False))],
                                      foreach=True),
              "the same formulas in float32: rounding only",
              tests=("test_optimizer_steps_chunks_and_ragged_ends",)),
    Primitive("adam_step_", _optimizer([((True, True, True),
                                         (1e-3, 0.9, 0.999, 1e-8, 0.01, 3, True, True, False)),
                                        ((True, True, False),
                                         (1e-3, 0.9, 0.999, 1e-8, 0.0, 1, False, False, True))],
                                       foreach=True),
              "the same formulas in float32: rounding only",
              tests=("test_optimizer_steps_chunks_and_ragged_ends",)),
    Primitive("rmsprop_step_", _optimizer([((True, True, True),
                                            (1e-2, 0.99, 1e-8, 0.01, 0.9, True, False))]),
              "the same formulas in float32: rounding only",
              tests=("test_optimizer_steps_chunks_and_ragged_ends",)),
    Primitive("adagrad_step_", _optimizer([((True,), (0.1, 0.01, 0.01, 1e-10, 3, False))]),
              "the same formulas in float32: rounding only"),
    Primitive("adadelta_step_", _optimizer([((True, True), (1.0, 0.9, 1e-6, 0.01, False))]),
              "the same formulas in float32: rounding only"),
]
