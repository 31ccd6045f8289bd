"""Every OpenCL primitive against the NumPy reference backend, plus bounds, errors and memory.

Tolerances (float32 unless stated):
- transcendental unary ops: rtol 2e-6, atol 1e-6: PoCL's builtins are within a few ulp
  (erf, tanh, expm1 up to ~4 ulp); float64 uses rtol 1e-12.
- sums: |err| <= n * eps * sum(|x|), the worst-case bound of any summation order, since
  the kernels (tree or serial) add in another order than NumPy's pairwise sum.
- matmul: |err| <= K * eps * (|A| @ |B|), the same bound for dot products of length K;
  it is relative to the magnitudes involved, so it holds over long K.
- everything else (layout, gather, comparisons, integer math, rand) must be bit-exact.
"""
from __future__ import annotations

import contextlib
import inspect
import math
import subprocess
import sys
import zlib

import numpy as np
import pytest
from primitive_table import PRIMITIVES

from deepx import dtypes
from deepx.backend import BITWISE, ArgReduceOp, Backend, BinaryOp, ReduceOp, UnaryOp
from deepx.backend.numpy_backend import NumpyBackend
from deepx.errors import DTypeError, OpenCLError, ShapeError

cl = pytest.importorskip("pyopencl")

NB = NumpyBackend()
SIZES = (1, 7, 13, 127, 1000)


@pytest.fixture(scope="module")
def be(opencl_device):
    return opencl_device.backend


@pytest.fixture(scope="module")
def float_dtypes(be):
    return (np.float32, np.float64) if be.runtime.fp64 else (np.float32,)


def run(be, method, *args, **kwargs):
    """Call `method` on both backends with host arrays uploaded for OpenCL; return both results."""
    args = [np.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args]
    dev_args = [be.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    got = getattr(be, method)(*dev_args, **kwargs)
    want = getattr(NB, method)(*args, **kwargs)
    return got, want


def check(be, got, want, rtol=0.0, atol=0.0):
    """Same shape, same dtype, values equal within tolerances (NaN equal to NaN)."""
    host = be.to_numpy(got)
    want = np.asarray(want)
    assert host.shape == want.shape and host.dtype == want.dtype, (host.shape, host.dtype,
                                                                  want.shape, want.dtype)
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(host, want)
    else:
        np.testing.assert_allclose(host, want, rtol=rtol, atol=atol, equal_nan=True)


def randn(rng, shape, dtype=np.float32):
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


# ---------------------------------------------------------------- the primitive table
def _primitive_cases():
    cases = []
    for prim in PRIMITIVES:
        rng = np.random.default_rng(zlib.crc32(prim.name.encode()))
        for i, call in enumerate(prim.calls(rng)):
            cases.append(pytest.param(prim, call, id=f"{prim.name}-{i}"))
    return cases


@pytest.mark.parametrize("prim,call", _primitive_cases())
def test_primitive_matches_numpy(be, prim, call):
    """Every sample call of the PRIMITIVES table, on this device and on NumpyBackend."""
    def each(a, f):  # arrays, and arrays in lists (the multi-tensor optimizer steps)
        if isinstance(a, list):
            return [each(x, f) for x in a]
        return f(a) if isinstance(a, np.ndarray) else a

    host = [each(a, np.copy) for a in call.args]
    dev = [each(a, be.from_numpy) for a in call.args]
    got = getattr(be, prim.name)(*(host if prim.name == "from_numpy" else dev))
    want = getattr(NB, prim.name)(*host)
    if prim.name.endswith("_"):  # in place: every array argument afterwards
        def flat(args):
            return [x for a in args for x in (a if isinstance(a, list) else [a])]
        got, want = flat(dev), flat(host)
    pairs = zip(got if isinstance(got, (tuple, list)) else (got,),
                want if isinstance(want, (tuple, list)) else (want,))
    for g, w in pairs:
        if w is None or not isinstance(w, np.ndarray):
            continue
        g = g if isinstance(g, np.ndarray) else be.to_numpy(g)
        assert g.dtype == w.dtype and g.shape == w.shape, (prim.name, g.dtype, g.shape)
        np.testing.assert_allclose(g, w, rtol=call.tol, atol=call.tol, equal_nan=True,
                                   err_msg=f"{prim.name} ({prim.reason})")


def test_primitive_table_names_every_primitive_of_the_contract():
    contract = {name for name, fn in vars(Backend).items() if inspect.isfunction(fn)}
    names = [prim.name for prim in PRIMITIVES]
    assert len(names) == len(set(names)) and set(names) == contract


def test_both_backends_implement_every_primitive():
    from deepx.backend.opencl.backend import OpenCLBackend

    for prim in PRIMITIVES:
        for cls in (NumpyBackend, OpenCLBackend):
            assert getattr(cls, prim.name) is not getattr(Backend, prim.name), (cls, prim.name)
        for test in prim.tests:  # the deeper tests it names exist here
            assert callable(globals().get(test)), (prim.name, test)


# ---------------------------------------------------------------- devices and transfer
def test_list_devices_and_default(be):
    from deepx.backend.opencl.devices import default_index, list_devices

    found = list_devices()
    assert found and default_index() is not None
    keys = {"name", "platform", "device", "type", "compute_units", "global_mem_bytes",
            "local_mem_bytes", "max_work_group_size", "fp64", "driver_version",
            "opencl_version"}
    assert all(keys <= set(d) for d in found)
    assert found[0]["name"].startswith("opencl:")


def test_import_creates_no_context():
    code = ("import deepx, deepx.backend.opencl as o, deepx.backend.opencl.backend; "
            "assert not o._BACKENDS; import deepx.backend.opencl.runtime")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,), (7, 13)])
def test_roundtrip(be, dtype, shape):
    if dtype == np.float64 and not be.runtime.fp64:
        pytest.skip("no fp64")
    host = (np.arange(math.prod(shape)).reshape(shape) % 3).astype(dtype)
    x = be.from_numpy(host)
    assert x.shape == shape and x.dtype.np == np.dtype(dtype)
    assert (x.data is None) == (x.size == 0)
    check(be, x, host)
    check(be, be.reshape(x, (x.size,)), host.reshape(-1))


def test_arrays_carry_deepx_dtypes(be):
    """A CLArray's dtype is the deepx DType itself; dtypes.of reads it and an ndarray's alike."""
    host = np.arange(6, dtype=np.int32).reshape(2, 3)
    x = be.from_numpy(host)
    assert x.dtype is dtypes.int32 and dtypes.of(x) is dtypes.int32
    assert dtypes.of(host) is dtypes.int32  # NumpyBackend's arrays stay plain ndarrays
    assert be.reduce(ReduceOp.SUM, x, (1,), False).dtype is dtypes.int64
    assert be.as_strided(x, (3,), (2,), 0).dtype is dtypes.int32
    if be.runtime.fp64:  # mixed primitive inputs promote as NumPy (NumpyBackend) does
        y = be.binary(BinaryOp.ADD, x, be.from_numpy(np.ones(3, np.float32)))
        assert y.dtype is dtypes.float64 and be.to_numpy(y).dtype == np.float64


def test_size_zero_never_allocates(be):
    pool = be.runtime.pool
    before = pool.active_blocks
    e = be.from_numpy(np.zeros((4, 0), np.float32))
    outs = [e, be.full((0, 3), 1.0, dtypes.float32), be.arange(0, 1, 0, dtypes.int64),
            be.rand((0,), dtypes.float32, 1, 0), be.unary(UnaryOp.EXP, e),
            be.binary(BinaryOp.ADD, e, be.from_numpy(np.ones((1,), np.float32))),
            be.reduce(ReduceOp.SUM, e, (0,), False), be.cast(e, dtypes.int32),
            be.matmul(be.reshape(e, (1, 4, 0)), be.from_numpy(np.zeros((1, 0, 0), np.float32))),
            be.strided_copy(e, (0, 4), (1, 0), 0),
            be.gather(e, be.from_numpy(np.zeros((2,), np.int64)), 0)]
    assert all(o.size == 0 and o.data is None for o in outs)
    assert pool.active_blocks == before


def test_memory_returns_to_baseline(be):
    pool = be.runtime.pool
    be.runtime.finish()
    baseline = pool.active_bytes
    x = be.from_numpy(np.ones((257, 33), np.float32))
    y = be.matmul(be.reshape(x, (1, 257, 33)), be.reshape(x, (1, 257, 33)), transpose_b=True)
    z = be.reduce(ReduceOp.SUM, be.unary(UnaryOp.EXP, x), (0,), False)
    assert pool.active_bytes > baseline
    del x, y, z
    assert pool.active_bytes == baseline


# ---------------------------------------------------------------- creation and random
@pytest.mark.parametrize("dtype", [dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64,
                                   dtypes.bool_])
def test_full_and_arange(be, dtype):
    if dtype is dtypes.float64 and not be.runtime.fp64:
        pytest.skip("no fp64")
    for value in (0, 1, 2.7, -3.5, True):
        check(be, *run(be, "full", (7, 13), value, dtype))
    check(be, *run(be, "full", (), 5, dtype))
    for start, step, n in ((0, 1, 1000), (-2.5, 0.1, 127), (3, -2, 13)):
        if dtype is not dtypes.bool_:
            check(be, *run(be, "arange", start, step, n, dtype))


@pytest.mark.parametrize("seed", [0, 1234, 2 ** 40 + 7, 2 ** 64 - 1])
def test_rand_bit_exact_and_randn_close(be, seed, float_dtypes):
    for dtype in float_dtypes:
        dt = dtypes.get(dtype)
        for shape, offset in (((1000,), 0), ((7, 13), 12345), ((), 2 ** 33 + 5)):
            check(be, *run(be, "rand", shape, dt, seed, offset))
            tol = 2e-6 if dtype == np.float32 else 1e-12
            check(be, *run(be, "randn", shape, dt, seed, offset), rtol=tol, atol=tol)


@pytest.mark.parametrize("src", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("dst", [dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64,
                                 dtypes.bool_])
def test_cast(be, src, dst):
    if not be.runtime.fp64 and (src == np.float64 or dst is dtypes.float64):
        pytest.skip("no fp64")
    host = np.array([0, 1, -1, 2.7, -2.7, 0.5, 100, -0.0, 1e6], np.float64).astype(src)
    check(be, *run(be, "cast", host, dst))
    if np.dtype(src).kind == "f" and dst is dtypes.bool_:
        check(be, *run(be, "cast", np.array([np.nan, np.inf, 0.0], src), dst))


def test_float_to_int_is_defined(be, float_dtypes):
    """C leaves NaN and out-of-range float -> int undefined (x86 gives INT_MIN): both backends
    give 0 for NaN and saturate, in casts and in integer math that leaves the range."""
    values = [np.nan, np.inf, -np.inf, 3e9, -3e9, 1e19, -1e19, 2147483520.0, 2.7, -2.7]
    want = {np.int32: [0, 2**31 - 1, -2**31, 2**31 - 1, -2**31, 2**31 - 1, -2**31,
                       2147483520, 2, -2],
            np.int64: [0, 2**63 - 1, -2**63, 3000000000, -3000000000, 2**63 - 1, -2**63,
                       2147483520, 2, -2]}
    for src in float_dtypes:
        host = np.array(values, src)
        for dst, expected in want.items():
            for backend in (be, NB):
                x = be.from_numpy(host) if backend is be else host
                got = backend.cast(x, dtypes.get(dst))
                got = be.to_numpy(got) if backend is be else got
                np.testing.assert_array_equal(got, np.array(expected, dst), err_msg=str(backend))
    for dtype in (np.int32, np.int64):  # sqrt(-5) is NaN, exp(100) past the range
        x = np.array([-5, 4, 100], dtype)
        check(be, *run(be, "unary", UnaryOp.SQRT, x))
        assert be.to_numpy(be.unary(UnaryOp.SQRT, be.from_numpy(x)))[0] == 0
        got = be.to_numpy(be.unary(UnaryOp.EXP, be.from_numpy(x)))
        assert got[2] == np.iinfo(dtype).max


@pytest.mark.parametrize("n", [1, 15, 16, 17, 33])
def test_cast_chunks_and_ragged_ends(be, n):
    rng = np.random.default_rng(n)
    host = np.round(randn(rng, (n,), np.float64) * 4, 1)
    host[::3] = 0.0
    for src in (np.float32, np.int64, np.bool_):
        for dst in (dtypes.float32, dtypes.int32, dtypes.int64, dtypes.bool_):
            if np.dtype(src) != dst.np:
                check(be, *run(be, "cast", host.astype(src), dst))
    with np.errstate(all="ignore"):
        check(be, *run(be, "cast", np.full(n, np.nan, np.float32), dtypes.bool_))


# ---------------------------------------------------------------- elementwise
UNARY_DOMAINS = {UnaryOp.LOG: "positive", UnaryOp.SQRT: "positive",
                 UnaryOp.RECIPROCAL: "nonzero"}


def unary_input(rng, op, shape, dtype):
    x = randn(rng, shape, np.float64) * 3
    if UNARY_DOMAINS.get(op) == "positive":
        x = np.abs(x) + 0.1
    elif UNARY_DOMAINS.get(op) == "nonzero":
        x = np.where(np.abs(x) < 0.1, 0.5, x)
    return np.asarray(x, dtype=dtype)


@pytest.mark.parametrize("op", list(UnaryOp))
def test_unary_float(be, op, float_dtypes):
    rng = np.random.default_rng(int(op))
    for dtype in float_dtypes:
        tol = 2e-6 if dtype == np.float32 else 1e-12
        for shape in ((), (1,), (1000,), (7, 13)):
            x = unary_input(rng, op, shape, dtype)
            check(be, *run(be, "unary", op, x, alpha=0.3), rtol=tol, atol=tol)
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 50.0, -50.0], dtype)
        with np.errstate(all="ignore"):
            check(be, *run(be, "unary", op, special, alpha=0.3), rtol=tol, atol=tol)


# elementwise_unary / _predicate / _cast work on chunks of 16: sizes around whole chunks
CHUNK_SIZES = (1, 15, 16, 17, 33, 64)


@pytest.mark.parametrize("op", list(UnaryOp))
def test_unary_chunks_and_ragged_ends(be, op, float_dtypes):
    rng = np.random.default_rng(100 + int(op))
    for dtype in float_dtypes:
        tol = 2e-6 if dtype == np.float32 else 1e-12
        exact = op in (UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.RELU, UnaryOp.STEP,
                       UnaryOp.NOT, UnaryOp.LEAKY_RELU)
        for n in CHUNK_SIZES:
            x = unary_input(rng, op, (n,), dtype)
            x[::5] = np.array([0.0, -0.0, np.nan, np.inf, -np.inf] * n)[: len(x[::5])]
            with np.errstate(all="ignore"):
                got, want = run(be, "unary", op, x, alpha=0.3)
            check(be, got, want, *((0, 0) if exact else (tol, tol)))
    for dtype in (np.int32, np.int64):  # integers: REAL ops element by element in the chunk
        x = np.arange(-8, 9).astype(dtype)
        for op_int in (UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.RELU, UnaryOp.STEP,
                       UnaryOp.NOT, UnaryOp.EXP):
            with np.errstate(all="ignore"):
                check(be, *run(be, "unary", op_int, x, alpha=0.5))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_unary_integer_and_bool(be, dtype):
    x = np.array([-5, -1, 0, 1, 3, 7], np.int64).astype(dtype)
    ops = [UnaryOp.NOT, UnaryOp.STEP] + ([UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.RELU,
                                          UnaryOp.SQRT] if dtype != np.bool_ else [])
    for op in ops:
        with np.errstate(all="ignore"):
            check(be, *run(be, "unary", op, x, alpha=0.5))


BROADCAST_PAIRS = [((), ()), ((7,), ()), ((), (13,)), ((7, 13), (13,)), ((7, 1), (1, 13)),
                   ((1000,), (1000,)), ((2, 1, 5, 1), (3, 1, 4)), ((127, 3), (127, 1)),
                   ((2, 3, 1, 2, 1, 2, 1, 2, 3), (3, 1, 2, 1, 2, 1, 3))]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_float_broadcast(be, shapes, float_dtypes):
    rng = np.random.default_rng(len(str(shapes)))
    for dtype in float_dtypes:
        a, b = randn(rng, shapes[0], dtype), randn(rng, shapes[1], dtype)
        a = np.where(rng.random(a.shape) < 0.2, b.reshape(-1)[0], a).astype(dtype)  # some ties
        for op in BinaryOp:
            if op in BITWISE:
                _refused_for_floats(be, op, a, b)
                continue
            lhs = np.abs(a) + 0.5 if op is BinaryOp.POW else a
            tol = (2e-6 if dtype == np.float32 else 1e-15) if op is BinaryOp.POW else 0
            check(be, *run(be, "binary", op, lhs, b), rtol=tol)


def _refused_for_floats(be, op, a, b):
    """Both backends refuse a bitwise op on floating arrays with a DTypeError."""
    for backend, wrap in ((be, be.from_numpy), (NB, lambda x: x)):
        with pytest.raises(DTypeError, match=f"binary: {op.name} is not supported for float"):
            backend.binary(op, wrap(a), wrap(b))


def test_binary_nan_and_special(be):
    a = np.array([np.nan, 1.0, -np.inf, 0.0, np.nan], np.float32)
    b = np.array([1.0, np.nan, 2.0, -0.0, np.nan], np.float32)
    for op in BinaryOp:
        if op in BITWISE:
            continue  # floats: refused (test_binary_float_broadcast)
        with np.errstate(all="ignore"):
            check(be, *run(be, "binary", op, a, b))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_binary_integer_and_bool(be, dtype):
    rng = np.random.default_rng(3)
    a = rng.integers(-6, 7, (7, 13)).astype(dtype)
    b = rng.integers(1, 5, (13,)).astype(dtype)
    for op in BinaryOp:
        if dtype == np.bool_ and op in (BinaryOp.SUB, BinaryOp.POW, BinaryOp.FLOOR_DIVIDE,
                                        BinaryOp.REMAINDER):
            with pytest.raises(DTypeError):
                be.binary(op, be.from_numpy(a), be.from_numpy(b))
            continue
        check(be, *run(be, "binary", op, a, b), rtol=1e-15)


def launched_kernels(be, fn):
    """Names of the kernels fn() launches."""
    from deepx.backend.opencl import runtime

    seen = []

    def listener(op, name, global_size, event):
        seen.append(name)

    runtime.LAUNCH_LISTENERS.append(listener)
    try:
        fn()
    finally:
        runtime.LAUNCH_LISTENERS.remove(listener)
    return seen


# (a shape, b shape, kernel elementwise_<kernel>): the rows path for contiguous, scalar, bias,
# row and column operands (whole 16-wide blocks, ragged ends, rows shorter than a block)
ROWS = "binary_rows"
FAST_PATH_PAIRS = [((40,), (40,), ROWS), ((48,), (), ROWS), ((), (33,), ROWS),
                   ((3, 5, 4, 7), (1, 5, 1, 1), ROWS), ((3, 5, 4, 16), (5, 1, 1), ROWS),
                   ((17, 33), (33,), ROWS), ((17, 33), (17, 1), ROWS), ((17, 1), (17, 33), ROWS),
                   ((2, 3, 40), (3, 1), ROWS), ((1, 5, 1, 1), (3, 5, 4, 7), ROWS),
                   ((4, 1, 5), (1, 3, 1), "binary")]


@pytest.mark.parametrize("shapes", FAST_PATH_PAIRS, ids=str)
def test_binary_fast_paths(be, shapes, float_dtypes):
    sa, sb, kernel = shapes
    rng = np.random.default_rng(len(str(shapes)))
    for dtype in (*float_dtypes, np.int32, np.int64, np.bool_):
        if np.dtype(dtype).kind == "f":
            a, b = randn(rng, sa, dtype) * 3, randn(rng, sb, dtype) * 3
            a = np.where(rng.random(sa) < 0.1, np.nan, a).astype(dtype)  # NaN in the vectors
            b = np.where(rng.random(sb) < 0.1, np.nan, b).astype(dtype)
        else:
            a = rng.integers(-4, 5, sa).astype(dtype)
            b = rng.integers(1, 4, sb).astype(dtype)
        for op in BinaryOp:
            if dtype == np.bool_ and op in (BinaryOp.SUB, BinaryOp.POW, BinaryOp.FLOOR_DIVIDE,
                                        BinaryOp.REMAINDER):
                continue
            if op in BITWISE and np.dtype(dtype).kind == "f":
                continue  # refused (test_binary_float_broadcast)
            lhs = np.abs(a) + 1 if op is BinaryOp.POW and dtype != np.bool_ else a
            tol = 2e-6 if op is BinaryOp.POW and np.dtype(dtype).kind == "f" else 0
            with np.errstate(all="ignore"):
                check(be, *run(be, "binary", op, lhs, b), rtol=tol)
    da, db = be.from_numpy(randn(rng, sa)), be.from_numpy(randn(rng, sb))
    names = launched_kernels(be, lambda: be.binary(BinaryOp.ADD, da, db))
    assert names == [f"elementwise_{kernel}"]


# (cond, a, b shapes, kernel elementwise_<kernel>): the rows path for contiguous, scalar, bias,
# row and column operands (whole 16-wide blocks, ragged ends, size 1), else the strided kernel
WHERE_CASES = [((40,), (40,), (40,), "where_rows"), ((1,), (1,), (1,), "where_rows"),
               ((17, 33), (33,), (), "where_rows"), ((17, 1), (17, 33), (1,), "where_rows"),
               ((3, 5, 4, 7), (1, 5, 1, 1), (3, 5, 4, 7), "where_rows"),
               ((2, 3, 48), (3, 1), (48,), "where_rows"), ((), (16,), (), "where_rows"),
               ((4, 1, 5), (1, 3, 1), (5,), "where")]


@pytest.mark.parametrize("case", WHERE_CASES, ids=str)
def test_where_fast_paths(be, case, float_dtypes):
    sc, sa, sb, kernel = case
    rng = np.random.default_rng(len(str(case)))
    cond = rng.random(sc) < 0.5
    for dtype in (*float_dtypes, np.int32, np.int64, np.bool_):
        a = (randn(rng, sa) * 5).astype(dtype)
        b = (randn(rng, sb) * 5).astype(dtype)
        if np.dtype(dtype).kind == "f":
            a = np.where(rng.random(sa) < 0.2, np.nan, a).astype(dtype)
            b = np.where(rng.random(sb) < 0.2, -0.0, b).astype(dtype)
        check(be, *run(be, "where", cond, a, b))
    dc, da, db = be.from_numpy(cond), be.from_numpy(randn(rng, sa)), be.from_numpy(randn(rng, sb))
    assert launched_kernels(be, lambda: be.where(dc, da, db)) == [f"elementwise_{kernel}"]


@pytest.mark.parametrize("shapes", [((7, 13), (13,), ()), ((1,), (7, 1), (1, 13)),
                                    ((1000,), (1000,), (1000,)), ((), (), ())], ids=str)
def test_where(be, shapes):
    rng = np.random.default_rng(5)
    cond = rng.random(shapes[0]) < 0.5
    for dtype in (np.float32, np.int64, np.bool_):
        a = (randn(rng, shapes[1]) * 5).astype(dtype)
        b = (randn(rng, shapes[2]) * 5).astype(dtype)
        check(be, *run(be, "where", cond, a, b))


# ---------------------------------------------------------------- optimizer steps
# (sgd args after the arrays), (adam...), (rmsprop...): every flag on and off somewhere
SGD_ARGS = [(0.1, 0.9, 0.1, 0.01, True, False, False), (0.1, 0.9, 0.0, 0.0, False, True, True),
            (0.1, 0.0, 0.0, 0.01, False, False, False)]
ADAM_ARGS = [(1e-3, 0.9, 0.999, 1e-8, 0.01, 3, True, True, False),
             (1e-3, 0.9, 0.999, 1e-8, 0.01, 1, False, False, True),
             (1e-2, 0.3, 0.5, 1e-6, 0.0, 5, True, False, False)]
RMSPROP_ARGS = [(1e-2, 0.99, 1e-8, 0.01, 0.9, True, False),
                (1e-2, 0.9, 1e-8, 0.0, 0.0, False, True)]
ADAGRAD_ARGS = [(1e-2, 0.0, 0.0, 1e-10, 1, False), (0.1, 0.5, 0.01, 1e-6, 4, True)]
ADADELTA_ARGS = [(1.0, 0.9, 1e-6, 0.0, False), (0.5, 0.5, 1e-3, 0.01, True)]


def optim_case(be, method, n, args, with_states):
    """Run one in-place optimizer step on both backends from the same arrays; compare all."""
    rng = np.random.default_rng(n)
    host = [randn(rng, (n,)) for _ in range(2)]
    # the first state large, the others small: centered RMSprop's sqrt(sq - mean^2) stays
    # far from cancellation, which would magnify rounding differences past any tolerance
    states = [np.abs(randn(rng, (n,))) * (1 if k == 0 else 0.1) + (0.5 if k == 0 else 0)
              if used else None for k, used in enumerate(with_states)]
    dev = [be.from_numpy(h) for h in host] + [None if s is None else be.from_numpy(s)
                                              for s in states]
    ref = [h.copy() for h in host] + [None if s is None else s.copy() for s in states]
    if method in ("sgd_step_", "adam_step_"):  # multi-tensor steps: lists of one
        getattr(be, method)(*(None if a is None else [a] for a in dev), *args)
        getattr(NB, method)(*(None if a is None else [a] for a in ref), *args)
    else:
        getattr(be, method)(*dev, *args)
        getattr(NB, method)(*ref, *args)
    for got, want in zip(dev, ref):
        if want is not None:  # float32 against the same formulas: rounding only
            np.testing.assert_allclose(be.to_numpy(got), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 33, 1000])
def test_optimizer_steps_chunks_and_ragged_ends(be, n):
    for args in SGD_ARGS:
        optim_case(be, "sgd_step_", n, args, (args[1] != 0,))
    for args in ADAM_ARGS:
        optim_case(be, "adam_step_", n, args, (True, True, args[6]))
    for args in RMSPROP_ARGS:
        optim_case(be, "rmsprop_step_", n, args, (True, args[5], args[4] > 0))
    for args in ADAGRAD_ARGS:
        optim_case(be, "adagrad_step_", n, args, (True,))
    for args in ADADELTA_ARGS:
        optim_case(be, "adadelta_step_", n, args, (True, True))


# ---------------------------------------------------------------- softmax
# (shape, axis, kernel softmax_forward<suffix>): few long contiguous rows take the tree (one
# work-group per row), the rest one work-item per row: whole 16-blocks, a ragged tail, rows
# shorter than a block, strided rows (inner > 1) read lane by lane
SOFTMAX_CASES = [((64, 16), 1, ""), ((70, 17), 1, ""), ((100, 1000), 1, ""),
                 ((64, 15), 1, ""), ((3, 300), 1, "_tree"), ((3, 307), 1, "_tree"),
                 ((70, 17), 0, ""), ((5, 33, 3), 1, "")]


@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=str)
def test_softmax_kernels(be, case, float_dtypes):
    shape, axis, suffix = case
    rng = np.random.default_rng(len(str(case)))
    for dtype in float_dtypes:
        x = randn(rng, shape, dtype) * 4
        x[1, :3] = np.nan  # NaN propagates through a row's max and sum
        x[2, 1] = -np.inf
        g = randn(rng, shape, dtype)
        # sums in another order: n * eps relative error at worst, cancellation in backward
        tol = 4 * shape[axis] * np.finfo(dtype).eps
        for log in (False, True):
            y, want = run(be, "softmax", x, axis, log)
            check(be, y, want, rtol=tol, atol=tol)
            got, want_dx = run(be, "softmax_backward", be.to_numpy(y), g, axis, log)
            check(be, got, want_dx, rtol=tol, atol=tol)
    dx = be.from_numpy(randn(rng, shape))
    names = launched_kernels(be, lambda: be.softmax(dx, axis, False))
    assert names == [f"softmax_forward{suffix}"]
    names = launched_kernels(be, lambda: be.softmax_backward(dx, dx, axis, True))
    assert names == [f"softmax_backward{suffix}"]


# ---------------------------------------------------------------- reductions
REDUCE_CASES = [((1000,), (0,)), ((7, 13), (0,)), ((7, 13), (1,)), ((7, 13), (0, 1)),
                ((2, 3, 4, 5), (1, 3)), ((2, 3, 4, 5), (0, 2)), ((127, 300), (1,)),
                ((300, 127), (0,)), ((3, 5000), (1,)), ((1,), (0,)), ((), ()), ((7, 13), ()),
                ((4, 1, 3), (1,)), ((2000, 3), (0, 1))]


def sum_tolerance(x, axes):
    n = max(1, math.prod(x.shape[a] for a in axes))
    eps = np.finfo(x.dtype).eps
    return n * eps * np.sum(np.abs(x.astype(np.float64)), axis=axes).max(initial=0)


@pytest.mark.parametrize("shape,axes", REDUCE_CASES, ids=str)
def test_reduce(be, shape, axes, float_dtypes):
    rng = np.random.default_rng(len(shape) + sum(shape))
    for keepdim in (False, True):
        for dtype in float_dtypes:
            x = randn(rng, shape, dtype)
            got, want = run(be, "reduce", ReduceOp.SUM, x, axes, keepdim)
            check(be, got, want, atol=sum_tolerance(x, axes))
            for op in (ReduceOp.MAX, ReduceOp.MIN):
                check(be, *run(be, "reduce", op, x, axes, keepdim))
        for dtype in (np.int32, np.int64, np.bool_):
            x = rng.integers(-9, 10, shape).astype(dtype)
            for op in ReduceOp:
                check(be, *run(be, "reduce", op, x, axes, keepdim))


def test_reduce_nan_empty_and_errors(be):
    x = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 4.0]], np.float32)
    big = np.ones((2, 1000), np.float32)
    big[0, 777] = np.nan
    for arr in (x, big):
        for op in ReduceOp:
            for axes in ((0,), (1,), (0, 1)):
                check(be, *run(be, "reduce", op, arr, axes, False))
    empty = np.zeros((3, 0), np.float32)
    check(be, *run(be, "reduce", ReduceOp.SUM, empty, (1,), False))
    check(be, *run(be, "reduce", ReduceOp.MAX, empty, (0,), False))
    with pytest.raises(ShapeError, match="max"):
        be.reduce(ReduceOp.MAX, be.from_numpy(empty), (1,), False)


@pytest.mark.parametrize("shape", [(1000,), (7, 13), (3, 700), (700, 3), (2, 3, 4), (1,)],
                         ids=str)
def test_arg_reduce(be, shape):
    rng = np.random.default_rng(11)
    for dtype in (np.float32, np.int32, np.int64):
        x = rng.integers(-3, 4, shape).astype(dtype)  # many ties: first index must win
        for axis in range(len(shape)):
            for keepdim in (False, True):
                for op in ArgReduceOp:
                    check(be, *run(be, "arg_reduce", op, x, axis, keepdim))
    x = randn(rng, (3, 700))
    x[0, [5, 600]] = np.nan
    x[1, 650] = np.nan
    for op in ArgReduceOp:
        check(be, *run(be, "arg_reduce", op, x, 1, False))


# ---------------------------------------------------------------- matmul
def matmul_case(rng, ba, bb, m, n, k, ta, tb, dtype):
    a = randn(rng, (ba, k, m) if ta else (ba, m, k), dtype)
    b = randn(rng, (bb, n, k) if tb else (bb, k, n), dtype)
    return a, b


def check_matmul(be, got, a, b, ta, tb):
    """|C - C_ref| <= K * eps * (|A| @ |B|) elementwise."""
    want = NB.matmul(a, b, ta, tb)
    host = be.to_numpy(got)
    assert host.shape == want.shape and host.dtype == want.dtype
    if a.dtype.kind != "f":
        np.testing.assert_array_equal(host, want)
        return
    k = a.shape[1] if ta else a.shape[2]
    bound = NB.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64), ta, tb)
    err = np.abs(host.astype(np.float64) - want)
    assert np.all(err <= 2 * k * np.finfo(a.dtype).eps * bound + 1e-30), err.max()


def tile_sizes(be):
    """Every tile size of the float32 matmul kernels on this device."""
    from deepx.backend.opencl.matmul_config import blocked_defines

    cfg = be.matmul_config(np.float32)
    blocked = blocked_defines(be.runtime.device, 4) or {}
    return sorted({cfg.tile_m, cfg.tile_n, cfg.tile_k, *blocked.values()})


MATMUL_SHAPES = [(1, 1, 1), (7, 13, 127), (127, 1, 1000), (1000, 7, 13), (65, 63, 129),
                 (13, 1000, 7)]


def variants(be):
    """The matmul kernels this device runs (blocked: CPU only)."""
    from deepx.backend.opencl.matmul_config import blocked_defines

    blocked = blocked_defines(be.runtime.device, 4) is not None
    return ["naive", "tiled", None] + (["blocked"] if blocked else [])


@pytest.mark.parametrize("variant", ["naive", "tiled", "blocked", None])
def test_matmul_shapes_and_transposes(be, variant):
    if variant not in variants(be):
        pytest.skip("the blocked kernel is for CPU devices")
    rng = np.random.default_rng(7)
    shapes = list(MATMUL_SHAPES)
    for t in tile_sizes(be):
        shapes += [(t - 1, t + 1, t), (t + 1, t - 1, t + 1), (t, t, t - 1)]
    for m, n, k in shapes:
        for ta in (False, True):
            for tb in (False, True):
                a, b = matmul_case(rng, 1, 1, m, n, k, ta, tb, np.float32)
                got = be.matmul_variant(variant, be.from_numpy(a), be.from_numpy(b), ta, tb)
                check_matmul(be, got, a, b, ta, tb)


@pytest.mark.parametrize("ba,bb", [(3, 3), (1, 4), (4, 1)])
def test_matmul_batch_broadcast(be, ba, bb):
    rng = np.random.default_rng(8)
    for variant in variants(be):
        for ta, tb in ((False, False), (True, False), (False, True)):
            a, b = matmul_case(rng, ba, bb, 17, 19, 33, ta, tb, np.float32)
            got = be.matmul_variant(variant, be.from_numpy(a), be.from_numpy(b), ta, tb)
            check_matmul(be, got, a, b, ta, tb)


def test_matmul_dtypes_and_empty(be, float_dtypes):
    rng = np.random.default_rng(9)
    for dtype in (*float_dtypes, np.int32, np.int64):
        a, b = matmul_case(rng, 2, 2, 23, 37, 70, False, True, np.float32)
        a, b = (a * 3).astype(dtype), (b * 3).astype(dtype)
        check_matmul(be, be.matmul(be.from_numpy(a), be.from_numpy(b), False, True),
                     a, b, False, True)
    a, b = rng.random((1, 5, 4)) < 0.3, rng.random((1, 4, 6)) < 0.3
    check(be, *run(be, "matmul", a, b))
    check(be, *run(be, "matmul", np.ones((2, 3, 0), np.float32), np.ones((2, 0, 4), np.float32)))


# (batch_a, batch_b, M, N, K): small M reads B in place with 4 or 8 rows per block; N off
# the vector width (a ragged last column block), K short and long
BLOCKED_SMALL = [(1, 4, 6, 25, 25), (4, 4, 3, 17, 6), (4, 1, 8, 16, 150), (1, 1, 1, 1, 1),
                 (2, 2, 5, 100, 7), (1, 3, 64, 33, 9), (1, 1, 65, 31, 20), (3, 3, 9, 15, 40)]


@pytest.mark.parametrize("case", BLOCKED_SMALL, ids=str)
def test_matmul_blocked_small_m_and_in_place_b(be, case):
    if "blocked" not in variants(be):
        pytest.skip("the blocked kernel is for CPU devices")
    ba, bb, m, n, k = case
    rng = np.random.default_rng(sum(case))
    for ta in (False, True):
        for tb in (False, True):
            a, b = matmul_case(rng, ba, bb, m, n, k, ta, tb, np.float32)
            for variant in ("blocked", None):
                got = be.matmul_variant(variant, be.from_numpy(a), be.from_numpy(b), ta, tb)
                check_matmul(be, got, a, b, ta, tb)


def test_matmul_dispatch_packs_b_only_when_it_pays(be):
    if "blocked" not in variants(be):
        pytest.skip("the blocked kernel is for CPU devices")
    # initialised inputs: a kernel never reads memory nothing wrote (Oclgrind's rule)
    a, b = be.full((1, 6, 25), 1.0, dtypes.float32), be.full((64, 25, 784), 1.0, dtypes.float32)
    names = launched_kernels(be, lambda: be.matmul(a, b))
    assert names == ["matmul_pack", "matmul_blocked"]  # B read in place
    a, b = (be.full((1, 128, 784), 1.0, dtypes.float32),
            be.full((1, 512, 784), 1.0, dtypes.float32))
    names = launched_kernels(be, lambda: be.matmul(a, b, transpose_b=True))
    # both operands' K runs are contiguous: 16 x 16 tile transposes where the build has them
    from deepx.backend.opencl.matmul_config import blocked_defines

    tiles = "PACK_TILES" in blocked_defines(be.runtime.limits, 4)
    pack = "matmul_pack_tiles" if tiles else "matmul_pack"
    assert names == [pack, pack, "matmul_blocked"]


def test_matmul_long_k(be):
    rng = np.random.default_rng(10)
    a, b = matmul_case(rng, 1, 1, 9, 11, 20000, False, False, np.float32)
    check_matmul(be, be.matmul(be.from_numpy(a), be.from_numpy(b)), a, b, False, False)


def test_matmul_every_ladder_config(be, monkeypatch):
    """Smaller configurations (for weaker devices) are correct too."""
    from deepx.backend.opencl import matmul_config

    rng = np.random.default_rng(12)
    for cfg in matmul_config.LADDER[1:]:
        monkeypatch.setattr(be, "_matmul_configs", {np.dtype(np.float32): cfg})
        for m, n, k in ((cfg.tile_m + 1, cfg.tile_n - 1, cfg.tile_k + 1), (7, 13, 5)):
            a, b = matmul_case(rng, 2, 1, m, n, k, True, False, np.float32)
            check_matmul(be, be.matmul(be.from_numpy(a), be.from_numpy(b), True), a, b,
                         True, False)


def test_matmul_config_fits_small_devices():
    from deepx.backend.opencl.matmul_config import LADDER, candidate_configs

    class Small:
        max_work_group_size = 64
        max_work_item_sizes = (64, 64, 64)
        local_mem_size = 4096

    chosen = candidate_configs(Small(), 4)[0]
    assert chosen != LADDER[0] and chosen.rts_m * chosen.rts_n <= 64
    assert chosen.local_bytes(4) <= 4096

    class Tiny(Small):
        max_work_group_size = 1
        local_mem_size = 0

    assert candidate_configs(Tiny(), 8) == [LADDER[-1]]


# ---------------------------------------------------------------- layout
def test_strided_copy(be):
    rng = np.random.default_rng(13)
    x = randn(rng, (7, 13, 4))
    cases = [((13, 7, 4), (4, 52, 1), 0),        # permute
             ((4, 13, 7), (1, 4, 52), 0),
             ((3, 7, 13, 4), (0, 52, 4, 1), 0),  # expand
             ((3, 5, 2), (104, 8, 2), 5),        # slice with steps and an offset
             ((), (), 17), ((1000,), (0,), 3)]
    for shape, strides, offset in cases:
        for dtype in (np.float32, np.int64, np.bool_):
            check(be, *run(be, "strided_copy", (x * 3).astype(dtype), shape, strides, offset))


def test_strided_assign(be):
    rng = np.random.default_rng(14)
    for dtype in (np.float32, np.int32, np.bool_):
        for shape, strides, offset in (((3, 5), (13, 2), 15), ((7, 13), (13, 1), 0),
                                       ((13, 7), (1, 13), 0), ((), (), 90)):
            dst = (randn(rng, (91,)) * 3).astype(dtype)
            src = (randn(rng, shape) * 3).astype(dtype)
            d_dev = be.from_numpy(dst)
            be.strided_assign_(d_dev, shape, strides, offset, be.from_numpy(src))
            NB.strided_assign_(dst, shape, strides, offset, src)
            check(be, d_dev, dst)


def test_assign(be):
    dst = be.from_numpy(np.zeros((7, 13), np.float32))
    src = np.arange(91, dtype=np.float32).reshape(7, 13)
    be.assign_(dst, be.from_numpy(src))
    check(be, dst, src)


# ---------------------------------------------------------------- indexing
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather_and_scatter_add(be, axis):
    rng = np.random.default_rng(15 + axis)
    x = randn(rng, (7, 13, 5))
    n = x.shape[axis]
    for index in (rng.integers(-n, n, (20,)), rng.integers(0, n, (3, 4)), np.array([0, 0, 0])):
        index = index.astype(np.int64)
        for dtype in (np.float32, np.int64):
            check(be, *run(be, "gather", x.astype(dtype), index, axis))
            out_shape = NB.gather(x, index, axis).shape
            src = randn(rng, out_shape).astype(dtype)
            got, want = run(be, "scatter_add", index, src, axis, n)
            check(be, got, want)  # same order of additions as np.add.at: bit-exact
    src = rng.random((4, 6)) < 0.5
    check(be, *run(be, "scatter_add", np.array([1, 1, 0, 2, 2, 2], np.int64), src, 1, 3))


# ---------------------------------------------------------------- determinism
def test_reduction_and_matmul_are_deterministic(be):
    rng = np.random.default_rng(16)
    x = be.from_numpy(randn(rng, (3, 100000)))
    sums = [be.to_numpy(be.reduce(ReduceOp.SUM, x, (1,), False)) for _ in range(2)]
    assert sums[0].tobytes() == sums[1].tobytes()
    # the other local-memory trees (tree.h): softmax's team per row, norm statistics
    for fn in (lambda: be.softmax(x, 1, False), lambda: be.softmax_backward(x, x, 1, False),
               lambda: be.norm_stats(be.reshape(x, (1, 3, 100000)))):
        runs = [be.to_numpy(fn()) for _ in range(2)]
        assert runs[0].tobytes() == runs[1].tobytes()
    a = be.from_numpy(randn(rng, (1, 200, 300)))
    prods = [be.to_numpy(be.matmul(a, a, transpose_b=True)) for _ in range(2)]
    assert prods[0].tobytes() == prods[1].tobytes()


# ---------------------------------------------------------------- bounds
SENTINEL = 0x5A  # byte pattern of the guard regions


@contextlib.contextmanager
def guarded_outputs(be, monkeypatch):
    """Every array allocated inside sits between guard regions of >= 64 sentinel elements."""
    from deepx.backend.opencl.array import CLArray

    align = be.runtime.device.mem_base_addr_align // 8
    made = []

    def empty(shape, dtype):
        dt = dtypes.get(dtype)
        size = math.prod(shape)
        if size == 0:
            return CLArray(shape, dt, None)
        guard = max(64 * dt.itemsize, align)
        guard = -(-guard // align) * align
        total = 2 * guard + size * dt.itemsize
        host = np.full(total, SENTINEL, np.uint8)
        whole = cl.Buffer(be.runtime.context, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR,
                          hostbuf=host)
        inner = whole.get_sub_region(guard, size * dt.itemsize)
        made.append((whole, guard, total))
        return CLArray(shape, dt, inner)

    with monkeypatch.context() as patch:
        patch.setattr(be, "empty", empty)
        yield made
    for whole, guard, total in made:
        host = np.empty(total, np.uint8)
        cl.enqueue_copy(be.runtime.queue, host, whole, is_blocking=True)
        assert np.all(host[:guard] == SENTINEL) and np.all(host[-guard:] == SENTINEL)


def test_no_kernel_writes_outside_its_output(be, monkeypatch):
    rng = np.random.default_rng(17)
    t = max(tile_sizes(be))
    x = be.from_numpy(randn(rng, (t + 1, t - 1)))
    xi = be.from_numpy(rng.integers(0, 5, (t + 1, t - 1)))
    idx = be.from_numpy(np.array([0, 2, 2, 1], np.int64))
    with guarded_outputs(be, monkeypatch) as made:
        be.unary(UnaryOp.TANH, x)
        be.unary(UnaryOp.STEP, x)
        be.binary(BinaryOp.ADD, x, be.reshape(x, x.shape))
        be.binary(BinaryOp.LT, x, x)
        be.where(be.unary(UnaryOp.STEP, x), x, x)
        be.where(be.unary(UnaryOp.STEP, x), x, be.full((t - 1,), 1.0, dtypes.float32))
        be.where(be.from_numpy(np.ones((4, 1, 5), bool)), be.from_numpy(randn(rng, (1, 3, 1))),
                 be.from_numpy(randn(rng, (5,))))  # the strided kernel
        for n in (1, 17):  # size 1 and a ragged chunk of the chunked kernels
            small = be.from_numpy(randn(rng, (n,)))
            be.unary(UnaryOp.TANH, small)
            be.unary(UnaryOp.RELU, small)
            be.unary(UnaryOp.STEP, small)
            be.where(be.unary(UnaryOp.STEP, small), small, small)
            be.cast(small, dtypes.bool_)
            be.cast(small, dtypes.int64)
        be.cast(xi, dtypes.bool_)
        be.full((t + 3,), 2.0, dtypes.float32)
        be.arange(0, 1, t - 3, dtypes.int32)
        be.rand((t + 5,), dtypes.float32, 1, 0)
        be.randn((t - 5,), dtypes.float32, 1, 0)
        be.reduce(ReduceOp.SUM, x, (1,), False)
        be.reduce(ReduceOp.MAX, be.reshape(x, (1, x.size)), (1,), False)
        be.arg_reduce(ArgReduceOp.ARGMAX, x, 0, False)
        be.arg_reduce(ArgReduceOp.ARGMIN, be.reshape(x, (1, x.size)), 1, False)
        for m, n, k in ((t + 1, t - 1, t + 1), (t - 1, t + 1, t - 1), (1, 1, 1)):
            a = be.from_numpy(randn(rng, (2, m, k)))
            b = be.from_numpy(randn(rng, (1, k, n)))
            for variant in variants(be):
                be.matmul_variant(variant, a, b)
                be.matmul_variant(variant, a, be.reshape(b, (1, n, k)), transpose_b=True)
        be.strided_copy(x, (t - 1, t + 1), (1, t - 1), 0)
        be.gather(x, idx, 0)
        be.scatter_add(idx, be.gather(x, idx, 1), 1, t - 1)
        dst = be.empty((t * t,), np.float32)
        be.strided_assign_(dst, (t - 1, 3), (t, 2), 1, be.full((t - 1, 3), 1.0, dtypes.float32))
        be.assign_(be.empty(x.shape, x.dtype), x)
    assert len(made) > 25


# ---------------------------------------------------------------- errors and hooks
def test_build_failure_names_file_and_log(be, tmp_path):
    (tmp_path / "broken.cl").write_text("__kernel void broken_kernel(__global float* x) {\n"
                                        "    x[0] = undefined_name;\n}\n")
    with pytest.raises(OpenCLError) as info:
        be.runtime.program("broken.cl", ("-DDTYPE=float",), kernel_name="broken_kernel",
                           directory=tmp_path)
    text = str(info.value)
    assert "broken.cl" in text and "broken_kernel" in text and "-DDTYPE=float" in text
    assert "undefined_name" in text  # the compiler's build log


def test_launch_failure_names_kernel_and_sizes(be):
    knl = be.kernel("elementwise.cl", "elementwise_fill", np.float32)
    out = be.empty((4,), np.float32)
    too_big = be.runtime.device.max_work_group_size * 2
    with pytest.raises(OpenCLError, match=r"myop: kernel elementwise_fill .*global size"):
        be.launch("myop", knl, (too_big,), (too_big,), np.int32(4), np.float32(1), out.data)


def test_float64_without_fp64_is_a_clear_error(be, monkeypatch):
    monkeypatch.setattr(be.runtime, "fp64", False)
    with pytest.raises(DTypeError, match=r"unary: float64 .*cl_khr_fp64"):
        be.unary(UnaryOp.EXP, be.empty((3,), np.float64))


def test_allocation_retries_once_after_freeing_the_pool(be, monkeypatch):
    runtime = be.runtime
    real_pool = runtime.pool
    error = cl.MemoryError(cl._cl._ErrorRecord("clCreateBuffer",
                                               cl.status_code.MEM_OBJECT_ALLOCATION_FAILURE,
                                               "out of memory"))

    class FlakyPool:
        def __init__(self, failures):
            self.failures, self.freed, self.active_bytes = failures, 0, 0

        def allocate(self, nbytes):
            if self.failures:
                self.failures -= 1
                raise error
            return real_pool.allocate(nbytes)

        def free_held(self):
            self.freed += 1

    flaky = FlakyPool(1)
    monkeypatch.setattr(runtime, "pool", flaky)
    assert runtime.alloc(64) is not None and flaky.freed == 1
    monkeypatch.setattr(runtime, "pool", FlakyPool(2))
    with pytest.raises(OpenCLError, match="out of device memory"):
        runtime.alloc(64)


def test_default_index_skips_devices_that_cannot_build(monkeypatch):
    from deepx.backend.opencl import devices
    from deepx.errors import DeviceError

    monkeypatch.setattr(devices, "_DEFAULT", [])
    monkeypatch.setattr(devices, "_build_problem", lambda p, d: "error: unknown target CPU")
    with pytest.raises(DeviceError, match=r"opencl:0:0 .*unknown target CPU"):
        devices.default_index()


def test_launch_listeners_see_every_launch(be):
    from deepx.backend.opencl import runtime

    seen = []
    runtime.LAUNCH_LISTENERS.append(lambda *info: seen.append(info))
    try:
        be.unary(UnaryOp.EXP, be.from_numpy(np.ones((5,), np.float32)))
    finally:
        runtime.LAUNCH_LISTENERS.clear()
    (op, kernel, global_size, event), = seen
    assert (op, kernel) == ("unary", "elementwise_unary") and global_size[0] >= 1
    event.wait()
    assert event.profile.end >= event.profile.start


def test_max_pool_2x2_kernel_matches_the_general_rule(be):
    """pool_max_forward_2x2 (2x2, stride 2) picks what the general kernel and NumPy pick:
    first tap on ties, NaN wins and stays; odd sizes leave the last row and column unread;
    ceil_mode's partial last window goes to the general kernel."""
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, (2, 3, 7, 9)).astype(np.float32)  # many ties
    x[0, 0, 0, 1] = x[1, 2, 5, 4] = x[1, 2, 4, 5] = np.nan
    x[0, 1, 6, :] = x[0, 1, :, 8] = 99  # outside every floor-mode window
    plain = ((2, 2), (2, 2), (0, 0), (1, 1))
    for out_size, kernel in (((3, 4), "pool_max_forward_2x2"), ((4, 5), "pool_max_forward")):
        from deepx.backend.opencl import runtime

        names = []
        runtime.LAUNCH_LISTENERS.append(lambda op, name, *_, into=names: into.append(name))
        try:
            out, argmax = be.max_pool2d(be.from_numpy(x), *plain, out_size)
        finally:
            runtime.LAUNCH_LISTENERS.pop()
        got = be.to_numpy(out), be.to_numpy(argmax)
        assert names == [kernel]
        ref = NumpyBackend().max_pool2d(x, *plain, out_size)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])


def test_nn_and_optimizer_kernels_write_only_their_outputs(be, monkeypatch):
    """The same guard-region check for the fused nn and optimizer kernels."""
    rng = np.random.default_rng(23)
    t = max(tile_sizes(be))
    with guarded_outputs(be, monkeypatch) as made:
        x = be.from_numpy(randn(rng, (2, 3, t + 1, t - 1)))
        k, s, p, d = (3, 2), (2, 1), (1, 0), (1, 2)
        oh = (t + 1 + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
        ow = (t - 1 + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
        cols = be.im2col(x, k, s, p, d)
        be.col2im(cols, x.shape, k, s, p, d)
        out, argmax = be.max_pool2d(x, k, s, p, d, (oh, ow))
        be.max_pool2d_backward(out, argmax, x.shape[2:], k, s, p, d)
        be.max_pool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), ((t + 1) // 2, (t - 1) // 2))
        pooled = be.avg_pool2d(x, k, s, p, (oh, ow), True, 0)
        be.avg_pool2d_backward(pooled, x.shape[2:], k, s, p, True, 0)
        logits = be.from_numpy(randn(rng, (t + 1, t - 1)))
        for axis in (0, 1):
            y = be.softmax(logits, axis, True)
            be.softmax_backward(y, logits, axis, True)
        for shape in ((64, 17), (65, 32)):  # the vectorised one-row-per-item kernels
            rows = be.from_numpy(randn(rng, shape))
            for log in (False, True):
                y = be.softmax(rows, 1, log)
                be.softmax_backward(y, rows, 1, log)
        target = be.from_numpy(rng.integers(0, t - 1, t + 1).astype(np.int64))
        loss, lse = be.cross_entropy(logits, target, None, -100, 0.1)
        be.cross_entropy_backward(logits, lse, target, None, loss, -100, 0.1)
        be.norm_stats(be.from_numpy(randn(rng, (t - 1, 3, t + 1))))
        for n in (t * t + 1, 17, 1):  # ragged last chunks of the optimizer kernels
            param, grad, buf1, buf2, buf3 = (be.from_numpy(randn(rng, (n,))) for _ in range(5))
            be.sgd_step_([param], [grad], [buf1], 0.1, 0.9, 0.0, 0.01, True, False, False)
            be.adam_step_([param], [grad], [buf1], [buf2], [buf3], 0.1, 0.9, 0.999, 1e-8, 0.01,
                          2, True, True, False)
            be.rmsprop_step_(param, grad, buf1, buf2, buf3, 0.1, 0.99, 1e-8, 0.0, 0.9, True,
                             False)
    assert len(made) > 20


def test_softmax_primitive_accepts_a_negative_axis(be):
    x = np.random.default_rng(5).standard_normal((3, 17, 5)).astype(np.float32)
    got = be.to_numpy(be.softmax(be.from_numpy(x), -2, False))
    want = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, want / want.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_matmul_pack_tiles_and_summed_batches_on_any_device(be, monkeypatch):
    """The 16 x 16 tile packing (a CPU with 16-lane float vectors picks it) and sum_batch, with
    those defines forced on whatever device runs the tests (Oclgrind checks every access):
    ragged rows and K, strided and offset views, a broadcast operand, against NumPy."""
    from deepx.backend.opencl import matmul_primitives

    if matmul_primitives.blocked_defines(be.runtime.limits, 4) is None:
        pytest.skip("the blocked kernels are for CPU devices")
    monkeypatch.setattr(matmul_primitives, "blocked_defines",
                        lambda limits, itemsize: {"WPT_M": 16, "VEC": 16, "PACK_TILES": 1}
                        if itemsize == 4 else None)
    be._plans.clear()  # plans made with the device's own defines
    rng = np.random.default_rng(11)
    for ba, bb, m, n, k in ((1, 1, 33, 17, 37), (3, 3, 16, 16, 16), (2, 1, 47, 5, 20)):
        a = randn(rng, (ba, m, k))       # K contiguous: tiles
        b = randn(rng, (bb, n, k))       # transposed B, K contiguous: tiles
        da, db = be.from_numpy(a), be.from_numpy(b)
        names = launched_kernels(be, lambda x=da, y=db: be.matmul(x, y, transpose_b=True))
        assert names.count("matmul_pack_tiles") == 2, names
        got = be.matmul(da, db, transpose_b=True)
        check_matmul(be, got, a, b, False, True)
        summed = be.to_numpy(be.matmul(be.from_numpy(a), be.from_numpy(b), transpose_b=True,
                                       sum_batch=True))
        want = NB.matmul(a, b, False, True).sum(0, keepdims=True)
        np.testing.assert_allclose(summed, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    # an offset, strided view (every other row of a bigger array) read by the tile kernel
    big = randn(rng, (1, 70, 41))
    view = be.as_strided(be.from_numpy(big), (1, 33, 40), (70 * 41, 82, 1), 41 + 1)
    b = randn(rng, (1, 9, 40))
    got = be.matmul(view, be.from_numpy(b), transpose_b=True)
    check_matmul(be, got, np.ascontiguousarray(big[:, 1::2, 1:][:, :33]), b, False, True)
    be._plans.clear()
