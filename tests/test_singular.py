"""Singular points, ties and integer arithmetic: one table of PyTorch's conventions, run on
both backends (NumPy in float64, OpenCL in float32) and, where torch is importable, checked
against PyTorch itself, so each expectation below is PyTorch's and not our own guess.

POINTS: (op, inputs at its singular point, value, gradient of value.sum() per input, why).
INTEGERS: integer and bool arithmetic (value and dtype). ERRORS: what PyTorch refuses.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import deepx as dx
import deepx.nn.functional as DF
from deepx.errors import DTypeError

INF, NAN = math.inf, math.nan


@dataclass
class Point:
    name: str
    call: Callable      # (f, *tensors) -> tensor; f is deepx.nn.functional or torch's
    inputs: tuple       # float lists; every input is differentiated
    value: object       # expected value (nested lists; nan and inf exact)
    grads: tuple        # expected gradient of value.sum() per input; None: no gradient flows
    reason: str


R2 = math.sqrt(2)
POINTS = [
    # ---- reductions with ties and NaN
    Point("max_dim_ties", lambda f, x: x.max(dim=1).values, ([[1, 3, 3], [2, 2, 0]],), [3, 2],
          ([[0, 1, 0], [1, 0, 0]],), "max(dim): all of it to the returned (first) index"),
    Point("min_dim_ties", lambda f, x: x.min(dim=0).values, ([[1, 0], [1, 0]],), [1, 0],
          ([[1, 1], [0, 0]],), "min(dim): all of it to the returned (first) index"),
    Point("max_dim_nan", lambda f, x: x.max(dim=1).values, ([[1, NAN, 3, NAN], [2, 5, 5, 1]],),
          [NAN, 5], ([[0, 1, 0, 0], [0, 1, 0, 0]],), "max(dim): the first NaN is the max"),
    Point("min_dim_nan", lambda f, x: x.min(dim=0).values, ([[1, 2], [NAN, 2]],), [NAN, 2],
          ([[0, 1], [1, 0]],), "min(dim): the NaN is the min"),
    Point("amax_ties", lambda f, x: x.amax(dim=1), ([[1, 3, 3], [2, 2, 0]],), [3, 2],
          ([[0, 0.5, 0.5], [0.5, 0.5, 0]],), "amax: split evenly among the tied maxima"),
    Point("amin_ties", lambda f, x: x.amin(), ([[1, 3], [1, 1]],), 1,
          ([[1 / 3, 0], [1 / 3, 1 / 3]],), "amin: split evenly among the tied minima"),
    Point("max_all_ties", lambda f, x: x.max(), ([1, 3, 3],), 3, ([0, 0.5, 0.5],),
          "max(): split evenly (evenly_distribute_backward)"),
    Point("max_all_nan", lambda f, x: x.max(), ([1, NAN, NAN],), NAN, ([0, 0.5, 0.5],),
          "max() of NaNs: split evenly among the NaN inputs"),
    Point("min_all_nan", lambda f, x: x.min(), ([NAN, 1, -1],), NAN, ([1, 0, 0],),
          "min() of NaNs: split evenly among the NaN inputs"),
    Point("amax_nan", lambda f, x: x.amax(), ([1, NAN, NAN],), NAN, ([NAN, NAN, NAN],),
          "amax of NaNs: no input equals the NaN result, 0 / 0 everywhere"),
    Point("maximum_ties_nan", lambda f, a, b: a.maximum(b), ([1, NAN, 2, 5], [NAN, 3, 2, 1]),
          [NAN, NAN, 2, 5], ([1, 1, 0.5, 1], [1, 1, 0.5, 0]),
          "maximum: a tie halves the gradient; with a NaN neither side lost: both get it all"),
    Point("minimum_ties", lambda f, a, b: a.minimum(b), ([1, 2, 3], [1, 3, 2]), [1, 2, 2],
          ([0.5, 1, 0], [0.5, 0, 1]), "minimum: a tie halves the gradient"),
    # ---- pow
    Point("pow_zero_exponent", lambda f, x: x ** 0, ([0, 2, -1],), [1, 1, 1], ([0, 0, 0],),
          "x ** 0 is constant: 0, not 0 * 0^-1 = nan"),
    Point("pow_half_at_zero", lambda f, x: x ** 0.5, ([0, 4],), [0, 2], ([INF, 0.25],),
          "0.5 * 0^-0.5 = inf, as sqrt"),
    Point("pow_negative_base", lambda f, x: x ** 3, ([-2, -1],), [-8, -1], ([12, 3],),
          "an integral exponent is fine below 0"),
    Point("pow_tensors", lambda f, a, b: a ** b,
          ([0, 0, 0, -2, -2, 2], [0, 0.5, -1, 2, 0.5, 0]), [1, 0, INF, 4, NAN, 1],
          ([0, INF, -INF, -4, NAN, 0], [0, 0, -INF, NAN, NAN, math.log(2)]),
          "base: 0 where b == 0; exponent: 0 where a == 0 and b >= 0, else z ln a (nan below 0)"),
    Point("rpow_zero_base", lambda f, x: 0.0 ** x, ([0, 1, -1],), [1, 0, INF], ([0, 0, -INF],),
          "0 ** b: exponent gradient 0 where b >= 0, inf * ln 0 = -inf below"),
    # ---- unary math at 0
    Point("sqrt_at_zero", lambda f, x: x.sqrt(), ([0, 4],), [0, 2], ([INF, 0.25],),
          "g / (2 sqrt x): inf at 0"),
    Point("rsqrt_at_zero", lambda f, x: x.rsqrt(), ([0, 4],), [INF, 0.5], ([-INF, -1 / 16],),
          "-0.5 g / sqrt(x)^3: -inf at 0"),
    Point("log_at_zero", lambda f, x: x.log(), ([0, 2],), [-INF, math.log(2)], ([INF, 0.5],),
          "g / x: inf at 0"),
    Point("abs_at_zero", lambda f, x: x.abs(), ([0, -2, 3],), [0, 2, 3], ([0, -1, 1],),
          "sign(x): 0 at 0"),
    Point("relu_at_zero", lambda f, x: f.relu(x), ([0, -1, 2],), [0, 0, 2], ([0, 0, 1],),
          "1 where the output > 0: 0 at 0"),
    Point("leaky_relu_at_zero", lambda f, x: f.leaky_relu(x, 0.1), ([0, 1],), [0, 1],
          ([0.1, 1],), "the negative slope at 0 (x > 0 picks 1)"),
    Point("prelu_at_zero", lambda f, x, w: f.prelu(x, w), ([0, -2, 3], [0.25]), [0, -0.5, 3],
          ([0.25, 0.25, 1], [-2]), "the weight at 0; dw sums g * x where x <= 0"),
    Point("elu_at_zero", lambda f, x: f.elu(x, 0.5), ([0],), [0], ([0.5],),
          "alpha * e^0 at 0 (x > 0 picks 1)"),
    Point("softplus_at_threshold", lambda f, x: f.softplus(x, 1.0, 2.0), ([2.0],),
          [math.log1p(math.exp(2))], ([1 / (1 + math.exp(-2))],),
          "beta x > threshold is strict: the smooth branch at the threshold"),
    Point("div_by_zero", lambda f, a, b: a / b, ([1, 0, -1], [0, 0, 0]), [INF, NAN, -INF],
          ([INF, INF, INF], [-INF, NAN, INF]), "g / b and -g (a / b) / b: IEEE at b = 0"),
    # ---- variance and standard deviation
    Point("norm_at_zero", lambda f, x: x.norm(), ([0, 0, 0],), 0, ([0, 0, 0],),
          "norm (p = 2): the zero vector's gradient is taken as 0, not 0 / 0"),
    Point("norm_dim_zero_row", lambda f, x: x.norm(dim=1), ([[0, 0], [3, 4]],), [0, 5],
          ([[0, 0], [0.6, 0.8]],), "norm (p = 2): 0 for an all-zero row, x / norm elsewhere"),
    Point("std_no_spread", lambda f, x: x.std(), ([2, 2, 2],), 0, ([0, 0, 0],),
          "std_backward: grad / (2 std) taken as 0 where std == 0"),
    Point("std_dim_no_spread", lambda f, x: x.std(dim=1), ([[2, 2], [1, 3]],), [0, R2],
          ([[0, 0], [-1 / R2, 1 / R2]],), "per row: the row without spread gets 0"),
    Point("var_no_spread", lambda f, x: x.var(), ([2, 2, 2],), 0, ([0, 0, 0],),
          "2 / (N - 1) * (x - mean) = 0"),
    Point("var_correction_eq_n", lambda f, x: x.var(correction=2), ([1, 3],), INF,
          ([INF, INF],), "N - correction = 0, dim=None: inf where x != mean"),
    Point("var_correction_eq_n_no_spread", lambda f, x: x.var(correction=2), ([1, 1],), NAN,
          ([NAN, NAN],), "0 / 0; the gradient is nan where x == mean"),
    Point("var_correction_gt_n", lambda f, x: x.var(correction=3), ([1, 3],), INF,
          ([INF, INF],), "N - correction < 0 divides by 0 too (max(0, N - c))"),
    Point("var_dim_correction_eq_n", lambda f, x: x.var(dim=0, correction=2), ([1, 3],), INF,
          ([-INF, INF],), "with dim: 2 / 0 * (x - mean)"),
    Point("var_dim_correction_gt_n", lambda f, x: x.var(dim=0, correction=3), ([1, 3],), INF,
          ([2, -2],), "with dim: 2 / (N - c) * (x - mean), a negative factor"),
    Point("std_correction_eq_n", lambda f, x: x.std(correction=2), ([1, 3],), INF,
          ([NAN, NAN],), "g / (2 inf) = 0, times var's inf: nan"),
    # ---- clamp at its bounds, and hinge losses built on it
    Point("clamp_at_bounds", lambda f, x: x.clamp(0.0, 1.0), ([0, 1, 2, -1, NAN],),
          [0, 1, 1, 0, NAN], ([1, 1, 0, 0, 0],), "min <= x <= max passes the gradient"),
    Point("hardtanh_at_bounds", lambda f, x: f.hardtanh(x, -1.0, 1.0), ([-1, 1, 0, 2],),
          [-1, 1, 0, 1], ([0, 0, 1, 0],), "unlike clamp, 0 at the bounds (x <= min or >= max)"),
    Point("relu6_at_bounds", lambda f, x: f.relu6(x), ([0, 6, 3],), [0, 6, 3], ([0, 0, 1],),
          "hardtanh(0, 6): 0 at both bounds"),
    Point("clamp_tensor_bounds", lambda f, x, lo, hi: x.clamp(lo, hi),
          ([0, 1, 2, -1, 0.5], [0, 0, 0, 0, 1], [1, 1, 1, 1, 0]), [0, 1, 1, 0, 0],
          ([1, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 1]),
          "x where inside (bounds included); min where x < min < max; max where x > max or "
          "max < min (then max is the output)"),
    Point("clamp_nan_bound", lambda f, x, lo: x.clamp(min=lo), ([1, 1], [NAN, 0]), [NAN, 1],
          ([0, 1], [0, 0]), "a NaN bound propagates; no gradient where x >= min is false"),
    Point("clamp_min_tensor", lambda f, x, lo: x.clamp(min=lo), ([0, 1, -1], [0, 0, 0]),
          [0, 1, 0], ([1, 1, 0], [0, 0, 1]), "x where x >= min, min where x < min"),
    Point("hinge_at_margin", lambda f, x: f.hinge_embedding_loss(
        x, x.detach() * 0 - 1, margin=1.0, reduction="none"), ([1, 0.5, 2],), [0, 0.5, 0],
        ([-1, -1, 0],), "clamp_min(margin - x, 0): the gradient passes at x == margin"),
    Point("smooth_l1_at_kinks", lambda f, x: f.smooth_l1_loss(
        x, x.detach() * 0, beta=1.0, reduction="none"), ([1, 0, -1],), [0.5, 0, 0.5],
        ([1, 0, -1],), "d / beta at d = beta equals the linear slope; 0 at d = 0"),
    Point("l1_at_zero", lambda f, x: f.l1_loss(x, x.detach() * 0, reduction="none"),
          ([0, 2],), [0, 2], ([0, 1],), "sign(0) = 0"),
    # ---- pooling ties
    Point("max_pool_ties", lambda f, x: f.max_pool2d(x, 2), ([[[[1, 1], [1, 1]]]],),
          [[[[1]]]], ([[[[1, 0], [0, 0]]]],), "the first maximum of the window"),
    # ---- floor division and remainder
    Point("remainder", lambda f, a, b: a % b, ([5, -5, 5, -7.5], [3, 3, -3, 2]),
          [2, 1, -1, 0.5], ([1, 1, 1, 1], [-1, 2, 2, 4]),
          "sign of the divisor; d/db = -floor(a / b)"),
    Point("floor_divide", lambda f, a, b: a // b, ([5, -5, 5, -7.5], [3, 3, -3, 2]),
          [1, -2, -2, -4], (None, None), "not differentiable: no gradient flows"),
    Point("floor_divide_by_zero", lambda f, a, b: a // b, ([1, -1, 0], [0, 0, 0]),
          [INF, -INF, NAN], (None, None), "floats divide by 0 as IEEE a / b"),
    Point("remainder_by_zero", lambda f, a, b: a % b, ([1, -1], [0, 0]), [NAN, NAN],
          ([1, 1], [-INF, INF]), "fmod(a, 0) is nan; d/db = -floor(a / 0) = -(+-inf)"),
]


def _device(backend, request):
    return "numpy" if backend == "numpy" else request.getfixturevalue("opencl_device")


def _check(got, want, dtype, what):
    rtol = 1e-12 if dtype is dx.float64 else 2e-6
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, float),
                               rtol=rtol, atol=0, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_singular_point(point, backend, request):
    device = _device(backend, request)
    dtype = dx.float64 if backend == "numpy" else dx.float32
    xs = [dx.tensor(np.asarray(v, dtype=dtype.np), device=device, requires_grad=True)
          for v in point.inputs]
    out = point.call(DF, *xs)
    _check(out.numpy(), point.value, dtype, f"{point.name} value ({point.reason})")
    if out.requires_grad:
        out.sum().backward()
    for i, (x, want) in enumerate(zip(xs, point.grads)):
        if want is None:
            assert x.grad is None, f"{point.name}: input {i} got a gradient ({point.reason})"
        else:
            _check(x.grad.numpy(), want, dtype, f"{point.name} grad {i} ({point.reason})")


@pytest.mark.filterwarnings("ignore:var\\(\\)|std\\(\\)")
@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_singular_point_is_pytorchs(point):
    """The table's expectations are PyTorch's own (float64)."""
    torch = pytest.importorskip("torch")
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point.inputs]
    out = point.call(torch.nn.functional, *xs)
    _check(out.detach().numpy(), point.value, dx.float64, f"{point.name} value vs torch")
    if all(g is None for g in point.grads):
        return  # torch raises on backward of floor_divide: no derivative
    out.sum().backward()
    for i, (x, want) in enumerate(zip(xs, point.grads)):
        _check(x.grad.numpy(), want, dx.float64, f"{point.name} grad {i} vs torch")


# ---------------------------------------------------------------- integer and bool arithmetic
# (name, call, inputs as (values, dtype), expected values, expected dtype, why)
INTEGERS = [
    ("true_div_ints", lambda a, b: a / b, (([1, 2], "int64"), ([2, 4], "int64")), [0.5, 0.5],
     "float32", "true division of integers gives the default float dtype"),
    ("true_div_bools", lambda a, b: a / b, (([True], "bool"), ([True], "bool")), [1.0],
     "float32", "bools divide as floats too"),
    ("rtruediv_int", lambda a: 1 / a, (([2, 4], "int32"),), [0.5, 0.25], "float32",
     "a Python int over an int tensor: float32"),
    ("sqrt_int", lambda a: a.sqrt(), (([4, 9], "int64"),), [2, 3], "float32", "float math"),
    ("exp_int", lambda a: a.exp(), (([0], "int32"),), [1], "float32", "float math"),
    ("log_int", lambda a: a.log(), (([1, 0], "int64"),), [0, -INF], "float32", "float math"),
    ("sigmoid_bool", lambda a: a.sigmoid(), (([False], "bool"),), [0.5], "float32",
     "float math"),
    ("tanh_int", lambda a: a.tanh(), (([0], "int64"),), [0], "float32", "float math"),
    ("floordiv_signs", lambda a, b: a // b, (([-7, 7, -7, 7], "int64"), ([2, -2, -2, 2], "int64")),
     [-4, -4, 3, 3], "int64", "floor, not C's truncation toward 0"),
    ("remainder_signs", lambda a, b: a % b, (([-7, 7, -7, 7], "int64"), ([2, -2, -2, 2], "int64")),
     [1, -1, -1, 1], "int64", "the sign of the divisor, not C's sign of the dividend"),
    ("rfloordiv", lambda a: 7 // a, (([2, -2], "int32"),), [3, -4], "int32",
     "a Python int keeps int32"),
    ("rmod", lambda a: 7 % a, (([2, -2], "int64"),), [1, -1], "int64", "sign of the divisor"),
    ("floordiv_min_by_minus_one", lambda a: a // -1, (([-2 ** 31, 5], "int32"),),
     [-2 ** 31, -5], "int32", "MIN / -1 wraps (overflows in C: the kernel special-cases it)"),
    ("remainder_min_by_minus_one", lambda a: a % -1, (([-2 ** 31], "int32"),), [0], "int32",
     "MIN % -1 is 0 (overflows in C)"),
    ("floordiv_int_float", lambda a: a // 2.5, (([5, -5], "int64"),), [2, -2], "float32",
     "a float scalar promotes to float32"),
    ("int_pow_tensor_negative", lambda a, b: a ** b,
     (([2, 4, 1, -1, -1, 0], "int64"), ([-1, -1, -1, -1, -2, -1], "int64")),
     [0, 0, 1, -1, 1, 0], "int64", "integer powers truncate 1 / a^|b|"),
    ("int_pow_no_needless_overflow", lambda a: a ** 1, (([100000, 3], "int32"),),
     [100000, 3], "int32", "squaring stops with the last bit: no overflow the result lacks"),
    ("int_pow_float_scalar", lambda a: a ** 2.0, (([1, 2], "int32"),), [1, 4], "float32",
     "a float exponent promotes"),
    ("int32_plus_0d_int64", lambda a, b: a + b, (([1, 2], "int32"), (3, "int64")), [4, 5],
     "int32", "a 0-d tensor does not promote within its category"),
    ("float32_plus_0d_float64", lambda a, b: a + b, (([1.5], "float32"), (2, "float64")),
     [3.5], "float32", "a 0-d tensor does not promote within its category"),
    ("int32_plus_0d_float64", lambda a, b: a + b, (([1, 2], "int32"), (0.5, "float64")),
     [1.5, 2.5], "float64", "a 0-d tensor of a higher category does"),
    ("bool_plus_int", lambda a: a + 1, (([True, False], "bool"),), [2, 1], "int64",
     "bool with a Python int: int64"),
    ("clamp_int_float_bound", lambda a: a.clamp(min=1.5), (([1, 2], "int64"),), [1.5, 2],
     "float32", "clamp promotes like any op: the bound's category counts"),
    ("clamp_bool", lambda a: a.clamp(min=0), (([True, False], "bool"),), [1, 0], "int64",
     "bool with an int bound: int64"),
    ("int32_add_wraps", lambda a, b: a + b, (([2 ** 31 - 1, -2 ** 31], "int32"),
                                             ([1, -1], "int32")), [-2 ** 31, 2 ** 31 - 1],
     "int32", "two's complement wrap (the kernel computes it without C's signed overflow)"),
    ("int32_mul_wraps", lambda a, b: a * b, (([65536, -3], "int32"), ([65536, 5], "int32")),
     [0, -15], "int32", "two's complement wrap"),
    ("int64_sub_wraps", lambda a: a - 1, (([-2 ** 63, 0], "int64"),), [2 ** 63 - 1, -1],
     "int64", "two's complement wrap"),
    ("clamp_min_above_max", lambda a: a.clamp(2, 1), (([0, 1, 3], "int64"),), [1, 1, 1],
     "int64", "min > max gives max"),
]


def _make(lib, values, dtype, device=None):
    if lib is dx:
        return dx.tensor(np.asarray(values, dtype=dtype), device=device)
    return lib.tensor(np.asarray(values, dtype=dtype))


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("case", INTEGERS, ids=[c[0] for c in INTEGERS])
def test_integer_arithmetic(case, backend, request):
    name, call, inputs, want, dtype, reason = case
    device = _device(backend, request)
    out = call(*[_make(dx, v, dt, device) for v, dt in inputs])
    assert out.dtype.name == dtype, f"{name}: dtype {out.dtype.name} ({reason})"
    np.testing.assert_array_equal(out.numpy(), np.asarray(want, dtype=dtype), err_msg=reason)


@pytest.mark.parametrize("case", INTEGERS, ids=[c[0] for c in INTEGERS])
def test_integer_arithmetic_is_pytorchs(case):
    torch = pytest.importorskip("torch")
    name, call, inputs, want, dtype, reason = case
    out = call(*[_make(torch, v, dt) for v, dt in inputs])
    assert str(out.dtype) == f"torch.{dtype}", name
    np.testing.assert_array_equal(out.numpy(), np.asarray(want, dtype=dtype), err_msg=name)


# ---------------------------------------------------------------- what PyTorch refuses
# (name, call, inputs, deepx error, message pattern); PyTorch raises too (RuntimeError-like).
ERRORS = [
    ("int_pow_negative_scalar", lambda a: a ** -1, (([2, 4], "int64"),), DTypeError,
     r"pow: Integers to negative integer powers are not allowed\. \(tensor int64 \(2,\)"),
    ("int_floordiv_by_zero", lambda a, b: a // b, (([1, 2], "int64"), ([0, 1], "int64")),
     ZeroDivisionError, r"floor_divide: integer division by zero \(shapes \(2,\) and \(2,\)\)"),
    ("int_remainder_by_zero", lambda a, b: a % b, (([1, 2], "int32"), ([1, 0], "int32")),
     ZeroDivisionError, r"remainder: integer division by zero \(shapes \(2,\) and \(2,\)\)"),
    ("int_floordiv_by_scalar_zero", lambda a: a // 0, (([1, 2], "int64"),), ZeroDivisionError,
     r"floor_divide: integer division by zero \(shapes \(2,\) and \(\)\)"),
    ("bool_floordiv", lambda a, b: a // b, (([True], "bool"), ([True], "bool")), DTypeError,
     r"floor_divide: not implemented for bool tensors \(shapes \(1,\) and \(1,\)\)"),
    ("bool_remainder", lambda a, b: a % b, (([True], "bool"), ([True], "bool")), DTypeError,
     r"remainder: not implemented for bool tensors"),
    ("bool_sub", lambda a, b: a - b, (([True], "bool"), ([True, False], "bool")), DTypeError,
     r"sub: subtraction with a bool tensor is not supported; use \^ or logical_xor\(\) "
     r"\(shapes \(1,\) and \(2,\)\)"),
    ("bool_rsub_int", lambda a: 1 - a, (([True], "bool"),), DTypeError,
     r"sub: subtraction with a bool tensor"),
    ("bool_neg", lambda a: -a, (([True], "bool"),), DTypeError,
     r"neg: negation of a bool tensor is not supported; use ~"),
    ("bool_abs", lambda a: a.abs(), (([True], "bool"),), DTypeError,
     r"abs: not implemented for bool tensors \(shapes \(1,\)\)"),
    ("bool_pow", lambda a, b: a ** b, (([True], "bool"), ([True], "bool")), DTypeError,
     r"pow: not implemented for bool tensors"),
    ("bool_relu", lambda a: a.relu(), (([True], "bool"),), DTypeError,
     r"relu: Boolean inputs not supported for relu \(shape \(1,\)\)"),
]


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_refused_like_pytorch(case, backend, request):
    name, call, inputs, error, pattern = case
    device = _device(backend, request)
    args = [_make(dx, v, dt, device) for v, dt in inputs]
    with pytest.raises(error, match=pattern):
        call(*args)


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_pytorch_refuses_too(case):
    torch = pytest.importorskip("torch")
    name, call, inputs, _, _ = case
    with pytest.raises((RuntimeError, NotImplementedError, ZeroDivisionError)):
        call(*[_make(torch, v, dt) for v, dt in inputs])


# ---------------------------------------------------------------- in place
def _inplace_sequence(lib, make):
    x = make([7, -7, 5], "int64")
    same = x
    x //= 2
    x %= 3
    y = make([0.5, 2.0, -1.0], "float32")
    y.clamp_(make([0.0, 0.0, 0.0], "float32"), make(1.0, "float32"))
    return same is x, x.numpy(), y.numpy()


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
def test_inplace_floor_divide_remainder_clamp(backend, request):
    device = _device(backend, request)
    same, x, y = _inplace_sequence(dx, lambda v, dt: _make(dx, v, dt, device))
    assert same
    np.testing.assert_array_equal(x, [0, 2, 2])  # [3, -4, 2] % 3
    np.testing.assert_array_equal(y, [0.5, 1.0, 0.0])
    torch = pytest.importorskip("torch")
    _, tx, ty = _inplace_sequence(torch, lambda v, dt: _make(torch, v, dt))
    np.testing.assert_array_equal(x, tx)
    np.testing.assert_array_equal(y, ty)


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_division_by_zero_primitive_is_defined(backend, dtype, request):
    """The ops raise first, but the primitive itself is defined (guarded divisor, no C UB):
    integer // 0 and % 0 give 0 on both backends, as NumPy; MIN // -1 wraps, MIN % -1 is 0."""
    from deepx.backend import BinaryOp

    be = dx.device(_device(backend, request)).backend
    lowest = np.iinfo(dtype).min
    a = be.from_numpy(np.array([7, -7, 0, lowest, lowest], dtype=dtype))
    b = be.from_numpy(np.array([0, 0, 0, -1, 0], dtype=dtype))
    np.testing.assert_array_equal(be.to_numpy(be.binary(BinaryOp.FLOOR_DIVIDE, a, b)),
                                  [0, 0, 0, lowest, 0])
    np.testing.assert_array_equal(be.to_numpy(be.binary(BinaryOp.REMAINDER, a, b)),
                                  [0, 0, 0, 0, 0])


@pytest.mark.parametrize("backend", ["numpy", "opencl"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_negation_wraps_at_the_minimum(backend, dtype, request):
    """-MIN and |MIN| wrap to MIN, as NumPy and PyTorch (the kernel avoids C's overflow)."""
    info = np.iinfo(dtype)
    values = [info.min, -5, 0, 7, info.max]
    x = dx.tensor(np.array(values, dtype=dtype), device=_device(backend, request))
    assert (-x).tolist() == [info.min, 5, 0, -7, -info.max]
    assert x.abs().tolist() == [info.min, 5, 0, 7, info.max]
