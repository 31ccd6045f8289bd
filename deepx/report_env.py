"""What a reader needs to trust a benchmark: the machine, each process's thread pools, the load.

Used by `python -m deepx report` and by the benchmark processes it starts (benchmarks/), which
record `process_info()` in their JSON so the report can say which BLAS kernel and how many
threads each baseline really ran with.
"""
from __future__ import annotations

import os
import pathlib
import re
import sys

# Variables some machines set for old OpenBLAS builds; a current OpenBLAS runs slower with them
# (OPENBLAS_CORETYPE=Haswell limits it to AVX2 kernels). Baselines run with them unset.
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_PREFIXES = ("POCL_", "OMP_", "OPENBLAS_", "MKL_", "GOTO_", "TORCH_")


def baseline_env(env: dict | None = None) -> dict:
    """A copy of `env` (default os.environ) without BLAS_OVERRIDES: for a baseline's process."""
    env = dict(os.environ if env is None else env)
    for name in BLAS_OVERRIDES:
        env.pop(name, None)
    return env


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def threadpools() -> list[dict]:
    """threadpoolctl's view of the BLAS/OpenMP pools loaded in this process (kernel, threads)."""
    try:
        import threadpoolctl
    except ImportError:
        return [{"internal_api": "threadpoolctl not installed"}]
    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer",
            "architecture", "filepath")
    return [{k: info.get(k) for k in keys if info.get(k) is not None}
            for info in threadpoolctl.threadpool_info()]


def torch_info() -> dict | None:
    """PyTorch's threads and BLAS, if this process imported torch."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    config = torch.__config__.show()
    blas = re.findall(r"\b(?:BLAS_INFO|LAPACK_INFO)=\w+", config)
    blas += [line.strip(" -") for line in config.splitlines() if "Math Kernel Library" in line]
    capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(), "blas": blas,
            "cpu_capability": capability() if capability else None,
            "mkldnn": bool(torch.backends.mkldnn.is_available())}


def process_info(system: str) -> dict:
    """This benchmark process: its system, thread settings, thread pools and load average."""
    return {"system": system, "pid": os.getpid(), "load_average": load_average(),
            "threads_env": {k: os.environ[k] for k in sorted(os.environ)
                            if k.startswith(THREAD_PREFIXES)},
            "blas_overrides_unset": [k for k in BLAS_OVERRIDES if k not in os.environ],
            "threadpools": threadpools(), "torch": torch_info()}


# ---------------------------------------------------------------- the machine and its bounds
def _cpuinfo() -> list[dict]:
    """/proc/cpuinfo as one dict per logical CPU (empty where there is no such file)."""
    path = pathlib.Path("/proc/cpuinfo")
    if not path.is_file():
        return []
    cpus, cur = [], {}
    for line in path.read_text().splitlines():
        if not line.strip():
            if cur:
                cpus.append(cur)
            cur = {}
            continue
        key, _, value = line.partition(":")
        cur[key.strip()] = value.strip()
    if cur:
        cpus.append(cur)
    return cpus


def flops_per_cycle(vendor: str, family: int, flags: set) -> tuple[int, str]:
    """float32 FLOPs per cycle per core (2 x FMA lanes x FMA units) and the assumption made."""
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and family < 26:
            return 32, "AVX-512 on AMD Zen 4: two 256-bit FMA pipes (16 FMA lanes)"
        if vendor == "AuthenticAMD":
            return 64, "AVX-512 on AMD Zen 5: two 512-bit FMA pipes (32 FMA lanes)"
        return 64, "AVX-512: two 512-bit FMA units assumed (some Xeon SKUs have one)"
    if "fma" in flags and "avx2" in flags:
        return 32, "AVX2 + FMA: two 256-bit FMA units"
    if "avx" in flags:
        return 16, "AVX without FMA: one 256-bit add and one multiply per cycle"
    return 8, "SSE: 128-bit add and multiply"


def machine() -> dict:
    """CPU model, cores, the clock the OS reports, FMA width, and the compute bound from them."""
    cpus = _cpuinfo()
    first = cpus[0] if cpus else {}
    flags = set(first.get("flags", "").split())
    vendor = first.get("vendor_id", "?")
    family = int(first.get("cpu family", 0) or 0)
    mhz = [float(c["cpu MHz"]) for c in cpus if c.get("cpu MHz")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    fpc, why = flops_per_cycle(vendor, family, flags)
    ghz = max(mhz) / 1000 if mhz else None
    return {"cpu": first.get("model name", "unknown CPU"), "vendor": vendor, "family": family,
            "model": int(first.get("model", 0) or 0), "cores": cores,
            "clock_ghz": round(ghz, 3) if ghz else None,
            "simd": sorted(f for f in flags if f in ("avx512f", "avx2", "fma", "avx")),
            "flops_per_cycle": fpc, "flops_assumption": why,
            "peak_gflops": round(cores * fpc * ghz, 1) if ghz else None}


def machine_line(m: dict) -> str:
    """'AMD EPYC, 2 cores at 2.6 GHz (AVX-512 ...)': the line printed beside every number."""
    clock = f" at {m['clock_ghz']:.2f} GHz (as /proc/cpuinfo reports it)" if m.get(
        "clock_ghz") else ""
    return f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores{clock}"
