"""Benchmark settings: PoCL uses every core unless told otherwise; one system per process.

DEEPX_BENCH_SYSTEM=python|numpy|opencl|torch keeps only that system's benchmarks (the report
starts one pytest process per system) and records the process's thread pools in the JSON.
"""
import os

from shapes import SYSTEM, SYSTEM_OF_IMPL

from deepx.report_env import load_average, process_info

# PoCL 3.x reads POCL_MAX_PTHREAD_COUNT, 4.0+ POCL_CPU_MAX_CU_COUNT; both before the context.
os.environ.setdefault("POCL_MAX_PTHREAD_COUNT", str(os.cpu_count() or 1))
os.environ.setdefault("POCL_CPU_MAX_CU_COUNT", str(os.cpu_count() or 1))

_LOAD_BEFORE = load_average()


def system_of(item) -> str:
    """The system that a collected benchmark times (its impl or rung parameter, else its name)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    impl = params.get("impl") or getattr(params.get("rung"), "name", None)
    if impl is None:  # the roofline probes run on the device; the host stream on NumPy
        return "numpy" if "numpy" in item.name else "opencl"
    return SYSTEM_OF_IMPL.get(impl, "numpy")


def pytest_collection_modifyitems(config, items):
    if not SYSTEM:
        return
    keep = [item for item in items if system_of(item) == SYSTEM]
    dropped = [item for item in items if system_of(item) != SYSTEM]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Which thread pools and BLAS kernel this process ran with, and the load around it."""
    info = process_info(SYSTEM or "all")
    info["load_before"] = _LOAD_BEFORE
    output_json["deepx_process"] = info


def pytest_terminal_summary(terminalreporter, config):
    """One line per benchmark that recorded `flops`: best-time GFLOP/s."""
    session = getattr(config, "_benchmarksession", None)
    rows = [b for b in getattr(session, "benchmarks", []) if b.extra_info.get("flops")]
    if not rows:
        return
    terminalreporter.section("GFLOP/s (best round)")
    for bench in rows:
        gflops = bench.extra_info["flops"] / bench.stats.min / 1e9
        terminalreporter.write_line(f"{bench.name:60s} {gflops:8.1f}")
