"""Physical bounds to check the roofline probes against, measured in their own process.

    python benchmarks/bounds.py [--json FILE] [--quick]

- compute: cores x float32 FLOPs per cycle (2 x FMA lanes x FMA units) x the clock the OS
  reports (deepx.report_env.machine; the FMA width comes from the CPU flags and family).
- bandwidth: a STREAM-like copy, out[:] = a, with one thread per core, each copying its own
  slice with np.copyto (which releases the GIL); GB/s counts a read and a write per byte.
  Arrays are 8x the last-level cache or more, so the copy streams from memory.
"""
from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from timing import emit, measure


def stream_copy(nbytes: int, threads: int, budget: float) -> dict:
    a = np.ones(nbytes // 4, np.float32)
    out = np.zeros_like(a)
    chunks = np.array_split(np.arange(a.size), threads)
    bounds = [(int(c[0]), int(c[-1]) + 1) for c in chunks if c.size]
    pool = ThreadPoolExecutor(threads)

    def part(lo_hi):
        lo, hi = lo_hi
        np.copyto(out[lo:hi], a[lo:hi])

    def copy():
        list(pool.map(part, bounds))
    copy()
    assert out[0] == 1.0 and out[-1] == 1.0
    stats = measure(copy, max_seconds=budget, min_reps=5)
    pool.shutdown()
    return {"threads": threads, "bytes": nbytes, **stats,
            "gbps": 2 * nbytes / stats["best"] / 1e9,
            "gbps_median": 2 * nbytes / stats["median"] / 1e9}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write the result here (default: print it)")
    p.add_argument("--quick", action="store_true", help="64 MiB arrays and a shorter budget")
    args = p.parse_args(argv)
    from deepx.report_env import load_average, machine

    before = load_average()
    cores = machine()["cores"] or os.cpu_count() or 1
    nbytes = (64 if args.quick else 256) << 20
    budget = 1.0 if args.quick else 3.0
    result = {"machine": machine(),
              "copy": stream_copy(nbytes, cores, budget),
              "copy_one_thread": stream_copy(nbytes, 1, budget)}
    return emit(result, args.json, "bounds", before)


if __name__ == "__main__":
    sys.exit(main())
