"""Repeat a measurement until its spread is small; the standalone benchmarks' one timer.

`measure(fn)` times calls of fn (each call is one sample) until the interquartile range is
within `target` of the median, or a budget of calls or seconds is spent, and says which.
"""
from __future__ import annotations

import statistics
import time


def summary(samples: list[float]) -> dict:
    """Median, quartiles, best and spread ((q3 - q1) / median) of samples in seconds."""
    ordered = sorted(samples)
    if len(ordered) >= 4:
        q1, _, q3 = statistics.quantiles(ordered, n=4)
    else:
        q1, q3 = ordered[0], ordered[-1]
    median = statistics.median(ordered)
    return {"median": median, "q1": q1, "q3": q3, "best": ordered[0], "reps": len(ordered),
            "spread": (q3 - q1) / median if median > 0 else 0.0}


def measure(fn, target: float = 0.05, min_reps: int = 7, max_reps: int = 400,
            max_seconds: float = 4.0, warmup: int = 2, per_call: int = 1) -> dict:
    """Seconds per unit of fn (a call counts `per_call` units), repeated until steady.

    Returns summary() in seconds per unit plus `converged` (spread <= target reached).
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) / per_call)
        if len(samples) < min_reps:
            continue
        if len(samples) % min_reps == 0 or len(samples) >= max_reps:
            stats = summary(samples)
            if stats["spread"] <= target:
                return {**stats, "converged": True}
            if len(samples) >= max_reps or time.perf_counter() - start > max_seconds:
                return {**stats, "converged": False}


def run_system(run, system: str, quick: bool, json_path=None, process: str | None = None) -> int:
    """The standalone benchmarks' main: run(system, quick) in this process, then its result as
    JSON (to json_path, else stdout), with the process's environment and the load before it.

    A system that cannot run here (no torch, no OpenCL device) is recorded as skipped.
    """
    from deepx.report_env import load_average

    before = load_average()
    try:
        result = run(system, quick)
    except (ImportError, RuntimeError) as exc:
        result = {"system": system, "skipped": f"{type(exc).__name__}: {exc}"}
    return emit(result, json_path, process or system, before)


def emit(result: dict, json_path, process: str, load_before) -> int:
    """Add the process record to result and write it as JSON (json_path, else stdout)."""
    import json

    from deepx.report_env import process_info

    result["process"] = {**process_info(process), "load_before": load_before}
    text = json.dumps(result, indent=1)
    if json_path:
        with open(json_path, "w") as f:
            f.write(text)
    else:
        print(text)
    return 0
