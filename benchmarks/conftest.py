"""Benchmark settings: PoCL uses every core unless told otherwise; GFLOP/s in the summary."""
import os

# PoCL 3.x reads POCL_MAX_PTHREAD_COUNT, 4.0+ POCL_CPU_MAX_CU_COUNT; both before the context.
os.environ.setdefault("POCL_MAX_PTHREAD_COUNT", str(os.cpu_count() or 1))
os.environ.setdefault("POCL_CPU_MAX_CU_COUNT", str(os.cpu_count() or 1))


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
