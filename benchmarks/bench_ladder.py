"""The matmul ladder: from a pure-Python triple loop to deepx's tuned OpenCL kernel.

Rungs, each a step away from the interpreter: the triple loop on lists; loops over (i, j)
with a NumPy dot of row i and column j; broadcasting (an M x K x N temporary, no loop);
einsum (a C loop, no BLAS); NumPy's @ (BLAS); deepx's `matmul_naive` kernel (one work-item
per output); deepx's portable `matmul_tiled` kernel (local-memory tiles, several outputs per
work-item); deepx's default matmul, the tuned kernel it picks for the device (on a CPU:
packing plus the register-blocked `matmul_blocked`). Every rung's result is checked against
the next rung's before anything is timed.
Shapes: (64, 32) @ (32, 64), the square sweep and DeepBench's GEMM set from BENCH_SHAPES.md.

    python -m pytest benchmarks/bench_ladder.py --benchmark-enable
"""
from __future__ import annotations

import dataclasses
import math
import time

import naive
import numpy as np
import pytest
from shapes import (
    CLASSIC,
    GEMM,
    GEMM_EDGE,
    QUICK,
    SQUARE,
    opencl_backend,
    opencl_usable,
    record,
    run,
)

# The triple loop runs where m * n * k is at most this (128^3: ~0.3 s on one core).
LOOPS_BUDGET = 64 ** 3 if QUICK else 128 ** 3


# ---------------------------------------------------------------- the rungs
def rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Loops over (i, j); the K loop is one NumPy dot of row i of a and column j of b."""
    bt = np.ascontiguousarray(b.T)
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    for i in range(a.shape[0]):
        a_row = a[i]
        for j in range(bt.shape[0]):
            out[i, j] = np.dot(a_row, bt[j])
    return out


def broadcast(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """No Python loop: multiply an (M, K, 1) by a (1, K, N) view, sum over K."""
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def einsum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.einsum without path optimisation: NumPy's own C loop, no BLAS."""
    return np.einsum("ik,kj->ij", a, b, optimize=False)


@dataclasses.dataclass(frozen=True)
class Rung:
    """One implementation: name, role in the report, the largest max(M, N, K) it runs at."""

    name: str
    role: str  # naive / numpy / opencl / other: which column of the report it feeds
    largest: int


RUNGS = [
    Rung("loops", "naive", 128),  # also limited by LOOPS_BUDGET
    Rung("rows", "other", 128 if QUICK else 512),
    Rung("broadcast", "other", 256),  # the temporary is M*K*N floats: 64 MB at 256
    Rung("einsum", "other", 1024),
    Rung("numpy", "numpy", 1 << 30),
    Rung("cl_naive", "other", 512),  # 2-8 s a call at 1024 on 2 PoCL threads: too slow
    Rung("cl_tiled", "other", 1 << 30),
    Rung("cl_tuned", "opencl", 1 << 30),  # OpenCLBackend.matmul: what deepx itself runs
]


@dataclasses.dataclass
class Case:
    """Inputs of one (M, K) @ (K, N) product, float32 in [-1, 1), on the host and the device."""

    m: int
    k: int
    n: int

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.m * 1_000_003 + self.k * 1009 + self.n)
        self.a = rng.uniform(-1, 1, (self.m, self.k)).astype(np.float32)
        self.b = rng.uniform(-1, 1, (self.k, self.n)).astype(np.float32)
        self.results: dict = {}
        self._device = None

    @property
    def label(self) -> str:
        return f"({self.m},{self.k})@({self.k},{self.n})"

    def runs(self, rung: Rung) -> bool:
        if rung.name == "loops" and self.m * self.n * self.k > LOOPS_BUDGET:
            return False
        if rung.name.startswith("cl_") and not opencl_usable():
            return False  # so the NumPy rung is checked against einsum instead
        return max(self.m, self.k, self.n) <= rung.largest

    def device_inputs(self):
        """(backend, a, b) with a, b as (1, M, K), (1, K, N) device arrays, uploaded once."""
        if self._device is None:
            be = opencl_backend()
            self._device = (be, be.from_numpy(self.a[None]), be.from_numpy(self.b[None]))
        return self._device

    def timed_fn(self, rung: Rung):
        """A zero-argument function computing the product with `rung`, synchronised."""
        a, b = self.a, self.b
        if rung.name == "loops":
            a_list, b_list = a.tolist(), b.tolist()  # lists, as a pure-Python program has
            return lambda: naive.matmul(a_list, b_list)
        if rung.name == "rows":
            return lambda: rows(a, b)
        if rung.name == "broadcast":
            return lambda: broadcast(a, b)
        if rung.name == "einsum":
            return lambda: einsum(a, b)
        if rung.name == "numpy":
            return lambda: a @ b
        be, da, db = self.device_inputs()
        variant = {"cl_naive": "naive", "cl_tiled": "tiled", "cl_tuned": None}[rung.name]

        def on_device():
            out = be.matmul_variant(variant, da, db)
            be.runtime.finish()
            return out
        return on_device

    def result(self, rung: Rung):
        """(the product as float64 ndarray, seconds its first call took), computed once."""
        if rung.name not in self.results:
            fn = self.timed_fn(rung)
            start = time.perf_counter()
            out = fn()
            seconds = time.perf_counter() - start
            if rung.name.startswith("cl_"):
                be = self.device_inputs()[0]
                out = be.to_numpy(out)[0]
            self.results[rung.name] = (np.asarray(out, dtype=np.float64), seconds)
        return self.results[rung.name]


def check_against_neighbour(case: Case, rung: Rung) -> float:
    """Compare rung's result with the next rung that runs here (the last: the previous one)."""
    present = [r for r in RUNGS if case.runs(r)]
    i = present.index(rung)
    other = present[i + 1] if i + 1 < len(present) else present[i - 1]
    mine, seconds = case.result(rung)
    theirs, _ = case.result(other)
    # float32 sums of K products of numbers in [-1, 1): rounding grows like sqrt(K)
    np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4 * math.sqrt(case.k),
                               err_msg=f"{rung.name} vs {other.name} at {case.label}")
    return seconds


def _launches(fn) -> list:
    """The kernel launches of one call of fn (which kernels a deepx matmul really runs)."""
    from deepx.profiler import profile

    with profile() as prof:
        fn()
    return prof.records


_CASES: dict = {}


def case_of(m: int, k: int, n: int) -> Case:
    """One Case per shape for the whole session, so each rung's result is computed once."""
    if (m, k, n) not in _CASES:
        _CASES.clear()  # shapes come one after another: keep one (up to 7 x 16 MB at 2048)
        _CASES[(m, k, n)] = Case(m, k, n)
    return _CASES[(m, k, n)]


def _ladder(benchmark, op: str, m: int, k: int, n: int, rung: Rung, size: int) -> None:
    case = case_of(m, k, n)
    if rung.name.startswith("cl_"):
        opencl_backend()  # skips, naming why, when no OpenCL device works
    if not case.runs(rung):
        limit = (f"M*N*K > {LOOPS_BUDGET:,}" if rung.name == "loops"
                 else f"max(M, N, K) > {rung.largest}")
        pytest.skip(f"{rung.name}: not run where {limit} (too slow)")
    seconds = check_against_neighbour(case, rung)
    fn = case.timed_fn(rung)
    if rung.name.startswith("cl_"):  # the first call also built the program: time a warm one
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
    kernels = sorted({r.kernel for r in _launches(fn)}) if rung.name.startswith("cl_") else []
    record(benchmark, "matmul", op, rung.name, case.label, size, 2 * m * n * k,
           4 * (m * k + k * n + m * n), role=rung.role, m=m, n=n, k=k, kernels=kernels)
    run(benchmark, fn, seconds)


@pytest.mark.parametrize("rung", RUNGS, ids=lambda r: r.name)
def test_classic(benchmark, rung):
    """(64, 32) @ (32, 64): the loops-vs-library example."""
    m, k, n = CLASSIC
    _ladder(benchmark, "classic", m, k, n, rung, m)


@pytest.mark.parametrize("rung", RUNGS, ids=lambda r: r.name)
@pytest.mark.parametrize("size", SQUARE)
def test_square(benchmark, rung, size):
    """(n, n) @ (n, n) for the square sweep (size varies slowest: one Case per size)."""
    _ladder(benchmark, "square", size, size, size, rung, size)


# ---------------------------------------------------------------- DeepBench GEMM shapes
GEMM_CASES = GEMM[:3] if QUICK else GEMM
EDGE_CASES = GEMM_EDGE[:2] if QUICK else GEMM_EDGE


def _gemm_label(m, n, k, ta, tb) -> str:
    return f"M={m} N={n} K={k}" + (" A^T" if ta else "") + (" B^T" if tb else "")


@pytest.mark.parametrize("impl", ["loops", "numpy", "opencl"])
@pytest.mark.parametrize("gemm", [(*s, False, False) for s in EDGE_CASES] + GEMM_CASES,
                         ids=lambda s: _gemm_label(*s).replace(" ", "_"))
def test_gemm(benchmark, gemm, impl):
    """NumPy @ vs deepx's default matmul (transpose flags as stored), loops where cheap."""
    m, n, k, ta, tb = gemm
    if impl == "loops" and m * n * k > LOOPS_BUDGET:
        pytest.skip(f"loops: not run where M*N*K > {LOOPS_BUDGET:,} (too slow)")
    rng = np.random.default_rng(m + 7 * n + 13 * k)
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    if impl == "loops":
        a_list = np.ascontiguousarray(a.T if ta else a).tolist()
        b_list = np.ascontiguousarray(b.T if tb else b).tolist()

        def fn():
            return naive.matmul(a_list, b_list)
    elif impl == "numpy":
        def fn():
            return (a.T if ta else a) @ (b.T if tb else b)
    else:
        be = opencl_backend()
        da, db = be.from_numpy(a[None]), be.from_numpy(b[None])

        def fn():
            out = be.matmul(da, db, ta, tb)
            be.runtime.finish()
            return out
    got = fn()
    start = time.perf_counter()
    fn()  # a warm call (the first one may have built the program) sizes the timing
    seconds = time.perf_counter() - start
    got = be.to_numpy(got)[0] if impl == "opencl" else np.asarray(got)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * math.sqrt(k),
                               err_msg=f"{impl} at {_gemm_label(*gemm)}")
    role = {"loops": "naive", "numpy": "numpy", "opencl": "opencl"}[impl]
    op = "edge" if (m, n, k) in GEMM_EDGE else "deepbench"
    record(benchmark, "matmul", op, impl, _gemm_label(*gemm), round((m * n * k) ** (1 / 3)),
           2 * m * n * k, 4 * (m * k + k * n + m * n), role=role, m=m, n=n, k=k)
    run(benchmark, fn, seconds)
