"""`python -m deepx report [--quick] [--json FILE] [--out DIR]`: run the benchmarks, write a report.

Runs, each system in its own process (so no library's thread pool takes the cores from the
next): benchmarks/bounds.py (the machine's compute bound and a threaded copy), the pytest
benchmarks bench_ladder.py, bench_families.py and bench_e2e.py once per system (pure Python,
NumPy, deepx OpenCL, PyTorch), benchmarks/floor.py (the per-op floor of `a + b`) and
benchmarks/steps.py (one SGD step of an MLP, a CNN and micrograd's moons MLP). Every process
runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so baselines run at their best, and
records its thread pools (threadpoolctl) and the load average. Or it reads a JSON written by
an earlier run (--json). It then writes into the out folder (default build/report: a scratch
folder; the committed reference is written only with `--out reports`): REPORT.md, the PNG
plots of benchmarks/report_plots.py, benchmarks.json (the data, to re-render with --json) and
trace_train_step.json (one profiled LeNet step, for chrome://tracing or Perfetto).
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import platform
import tempfile

from deepx.report_env import BLAS_OVERRIDES, machine_line

# The order impls appear in tables and legends: slowest rung first.
IMPL_ORDER = ("naive", "loops", "rows", "broadcast", "einsum", "numpy", "cl_naive", "cl_tiled",
              "cl_tuned", "opencl", "torch")
FAMILY_TITLES = {
    "matmul": "Matmul (the ladder, the square sweep, DeepBench GEMM shapes)",
    "activation": "Elementwise activations",
    "reduction": "Reductions and softmax (rows of 1024)",
    "cross_entropy": "Softmax cross-entropy (forward, mean over the batch)",
    "pooling": "Max pooling (BENCH_SHAPES.md pooling set)",
    "optimizer": "Optimizer step (Adam)",
    "train_step": "One training step (forward, backward, SGD with momentum)",
    "probe": "Roofline probes",
}


@dataclasses.dataclass
class Result:
    """One benchmark: what it measured (extra_info) and its median time in seconds."""

    family: str
    op: str
    impl: str
    role: str
    shape: str
    size: int
    flops: float
    nbytes: float
    median: float
    best: float
    rounds: int
    extra: dict
    spread: float = 0.0  # interquartile range / median of the rounds

    @property
    def gflops(self) -> float | None:
        return self.flops / self.median / 1e9 if self.flops and self.median > 0 else None

    @property
    def gbps(self) -> float | None:
        return self.nbytes / self.median / 1e9 if self.nbytes and self.median > 0 else None

    @property
    def peak_gflops(self) -> float | None:
        """GFLOP/s of the fastest round: a ceiling is a maximum, noise only lowers it."""
        return self.flops / self.best / 1e9 if self.flops and self.best > 0 else None

    @property
    def peak_gbps(self) -> float | None:
        return self.nbytes / self.best / 1e9 if self.nbytes and self.best > 0 else None

    @property
    def intensity(self) -> float | None:
        """Arithmetic intensity, FLOPs per byte of the least traffic."""
        return self.flops / self.nbytes if self.flops and self.nbytes else None


def load_results(data: dict) -> list[Result]:
    """Results of a pytest-benchmark JSON; entries without deepx's extra_info go to 'other'."""
    out = []
    for bench in data.get("benchmarks", []):
        info = dict(bench.get("extra_info", {}))
        out.append(Result(
            family=info.pop("family", "other"), op=info.pop("op", bench.get("group") or ""),
            impl=info.pop("impl", bench["name"]), role=info.pop("role", "other"),
            shape=info.pop("shape", bench.get("param") or ""), size=int(info.pop("size", 0)),
            flops=float(info.pop("flops", 0)), nbytes=float(info.pop("bytes", 0)),
            median=float(bench["stats"]["median"]), best=float(bench["stats"]["min"]),
            rounds=int(bench["stats"]["rounds"]), extra=info,
            spread=_spread(bench["stats"])))
    return out


def _spread(stats: dict) -> float:
    median = float(stats.get("median", 0))
    return float(stats.get("iqr", 0)) / median if median > 0 else 0.0


def impl_rank(impl: str) -> int:
    return IMPL_ORDER.index(impl) if impl in IMPL_ORDER else len(IMPL_ORDER)


def numpy_time(results: list[Result], r: Result) -> float | None:
    """Median of the NumPy result measured at the same family, op and shape, if any."""
    for other in results:
        if (other.role == "numpy" and other.family == r.family and other.op == r.op
                and other.shape == r.shape):
            return other.median
    return None


# ---------------------------------------------------------------- the environment
def environment() -> dict:
    """Versions, the OpenCL device, NumPy's BLAS, load: what a reader needs to trust numbers."""
    import numpy as np

    env = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "blas_overrides_in_shell": {k: os.environ[k] for k in BLAS_OVERRIDES
                                       if k in os.environ},
           "python": platform.python_version(), "platform": platform.platform(),
           "cpu_count": os.cpu_count(), "numpy": np.__version__,
           "load_average": [round(x, 2) for x in os.getloadavg()],
           "threads_env": {k: os.environ[k] for k in sorted(os.environ)
                           if k.startswith(("POCL_", "OMP_", "OPENBLAS_", "MKL_"))}}
    try:
        import threadpoolctl

        env["blas"] = [{k: info.get(k) for k in ("internal_api", "version", "num_threads",
                                                 "threading_layer", "architecture")}
                       for info in threadpoolctl.threadpool_info()]
    except ImportError:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        env["blas"] = [{"name": blas.get("name"), "version": blas.get("version")}]
    for name in ("pyopencl", "torch", "pytest_benchmark", "matplotlib"):
        try:
            env[name] = __import__(name).__version__
        except (ImportError, AttributeError):
            env[name] = None
    try:
        import deepx as dx
        from deepx.backend.opencl.devices import default_index, list_devices

        env["opencl_devices"] = list_devices()
        index = default_index()
        env["opencl_default"] = None if index is None else f"opencl:{index[0]}:{index[1]}"
        env["deepx"] = dx.__version__
    except Exception as exc:  # noqa: BLE001 - no OpenCL: say so in the report
        env["opencl_devices"], env["opencl_default"] = [], None
        env["opencl_error"] = str(exc)
    return env


# ---------------------------------------------------------------- REPORT.md
def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"


def family_table(results: list[Result], family: str) -> list[str]:
    """Markdown rows: one per (op, shape, impl), slowest impl first within a shape."""
    rows = [r for r in results if r.family == family]
    rows.sort(key=lambda r: (r.op, r.size, r.shape, impl_rank(r.impl)))
    lines = ["| op | shape | impl | median | spread | best | rounds | GFLOP/s | GB/s | "
             "speed vs NumPy |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base = numpy_time(results, r)
        ratio = base / r.median if base else None
        lines.append(f"| {r.op} | {r.shape} | {r.impl} | {fmt_time(r.median)} | "
                     f"{r.spread:.0%} | {fmt_time(r.best)} | {r.rounds} | {fmt(r.gflops)} | "
                     f"{fmt(r.gbps)} | {fmt_ratio(ratio)} |")
    return lines


def find(results, family, op, impl, shape=None, size=None) -> Result | None:
    for r in results:
        if (r.family, r.op, r.impl) == (family, op, impl) and (shape is None or r.shape == shape) \
                and (size is None or r.size == size):
            return r
    return None


def profile_section(results: list[Result]) -> list[str]:
    lines = []
    for r in results:
        prof = r.extra.get("profile")
        if r.family != "train_step" or not prof:
            continue
        lines += [f"### {r.op}: {prof['launches_per_step']:.0f} kernel launches per step, "
                  f"{prof['device_ms_per_step']:.1f} ms of device time per step "
                  f"(step wall time {fmt_time(r.median)})", "", "```", prof["table"], "```", ""]
    return lines


def roofline_lines(results: list[Result], data: dict) -> list[str]:
    from report_headline import bound_lines

    fma = find(results, "probe", "fma_peak", "opencl")
    triad = find(results, "probe", "triad_bandwidth", "opencl")
    host = find(results, "probe", "triad_bandwidth", "numpy")
    lines = []
    if fma:
        lines.append(f"- Peak compute (probe_fma, float16 fused multiply-add chains, fastest "
                     f"round): **{fmt(fma.peak_gflops)} GFLOP/s** (median round "
                     f"{fmt(fma.gflops)}).")
    if triad:
        lines.append(f"- Peak bandwidth (probe_triad, a + s * b, fastest round): "
                     f"**{fmt(triad.peak_gbps)} GB/s** (median round {fmt(triad.gbps)})"
                     + (f"; NumPy's a + b on the host (one thread): {fmt(host.peak_gbps)} "
                        "GB/s." if host else "."))
    if fma and triad:
        lines.append(f"- Ridge point: {fma.peak_gflops / triad.peak_gbps:.3g} FLOP/byte; kernels "
                     "left of it are bound by memory, right of it by arithmetic.")
    bounds = bound_lines(data, results)
    if bounds:
        lines += ["", "Checked against the machine's physical bounds:", "", *bounds]
    return lines


def _pool_text(pool: dict) -> str:
    keys = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return ", ".join(f"{k} {pool[k]}" for k in keys if pool.get(k) is not None)


def process_lines(data: dict) -> list[str]:
    """One line per benchmark process: its thread pools (threadpoolctl), torch's threads."""
    lines = []
    procs = dict(data.get("deepx_processes", {}))
    for key in ("deepx_floor", "deepx_steps"):
        for system, res in data.get(key, {}).items():
            if res.get("process"):
                procs[f"{key[6:]} {system}"] = res["process"]
    for name, proc in procs.items():
        pools = "; ".join(_pool_text(p) for p in proc.get("threadpools", [])) or "none loaded"
        text = f"- Process `{name}`: thread pools: {pools}"
        if proc.get("torch"):
            t = proc["torch"]
            text += (f"; PyTorch {t['version']}, {t['num_threads']} threads, kernels "
                     f"{t.get('cpu_capability')}, {', '.join(t['blas']) or 'BLAS not reported'}")
        if proc.get("threads_env"):
            text += "; " + ", ".join(f"{k}={v}" for k, v in proc["threads_env"].items())
        text += f"; load {proc.get('load_before')} -> {proc.get('load_average')}"
        lines.append(text)
    return lines


def env_lines(env: dict, data: dict) -> list[str]:
    from report_headline import baseline_throttles, machine_of

    m = machine_of(data)
    lines = [f"- Machine: {machine_line(m)}; compute bound {m.get('peak_gflops')} GFLOP/s "
             f"({m.get('flops_assumption')}); {env.get('platform')}; date {env.get('date')}",
             f"- Python {env.get('python')}, NumPy {env.get('numpy')}, pyopencl "
             f"{env.get('pyopencl')}, PyTorch {env.get('torch') or 'not installed'}, "
             f"pytest-benchmark {env.get('pytest_benchmark')}, deepx {env.get('deepx')}"]
    if not data.get("deepx_processes"):  # an older report: one process for every system
        for blas in env.get("blas", []):
            lines.append("- NumPy BLAS: " + ", ".join(f"{k} {v}" for k, v in blas.items()
                                                       if v is not None))
    for dev in env.get("opencl_devices", []):
        mark = " (used)" if dev["name"] == env.get("opencl_default") else ""
        lines.append(f"- OpenCL {dev['name']}{mark}: {dev['device']} on {dev['platform']}, "
                     f"driver {dev['driver_version']}, {dev['opencl_version']}, "
                     f"{dev['compute_units']} compute units, "
                     f"max work-group {dev['max_work_group_size']}, "
                     f"local memory {dev['local_mem_bytes'] // 1024} KiB")
    if env.get("opencl_error"):
        lines.append(f"- OpenCL: unavailable ({env['opencl_error']})")
    if env.get("threads_env"):
        lines.append("- Thread settings of the calling shell: " + ", ".join(
            f"{k}={v}" for k, v in env["threads_env"].items()))
    if data.get("deepx_processes"):
        lines.append(f"- Each system ran in its own process with {' and '.join(BLAS_OVERRIDES)}"
                     " unset:")
        lines += ["  " + line for line in process_lines(data)]
    for why in baseline_throttles(data):
        lines.append(f"- **NumPy baseline throttled**: {why}.")
    before, after = env.get("load_before"), env.get("load_average")
    lines.append(f"- Load average (1, 5, 15 min) before the run: {before or 'not recorded'}; "
                 f"after: {after}. Compare implementations within this run, not across runs.")
    return lines


PLOT_TEXT = {
    "ladder.png": "The matmul ladder at (64, 32) @ (32, 64): speed-up over the pure-Python "
                  "triple loop (log scale).",
    "gflops_vs_size.png": "GFLOP/s against size, naive loops / NumPy / OpenCL (log-log).",
    "speedup.png": "Speed-up of deepx OpenCL over the naive loops and over NumPy.",
    "train_step.png": "One training step: wall time per implementation, and the OpenCL "
                      "device time by op from the profiler.",
    "roofline.png": "Roofline of the OpenCL device from the probe kernels; each benchmarked "
                    "OpenCL kernel at its arithmetic intensity.",
}


def write_markdown(path, results, env, data, skipped, plots, quick, command) -> None:
    from report_headline import floor_lines, headline_block, step_lines

    lines = ["# deepx benchmark report", "",
             f"{'Quick run (small sizes only). ' if quick else ''}Measured by {command}. "
             "Times are medians; 'spread' is the interquartile range over the median"
             + (" (a benchmark spread over 10% was measured again and the steadier run kept)"
                if data.get("deepx_processes") else
                " (an older run: one process for every system, no second measurement)")
             + ". Every implementation's result was checked against its neighbour before timing. "
             "GFLOP/s counts the textbook FLOPs (2MNK for matmul); GB/s counts the least "
             "traffic (inputs read once, output written once), so both are lower bounds; both "
             "use the median. 'Best' is the fastest round. 'Speed vs NumPy' is NumPy's median "
             "over this one's: above 1x is faster than NumPy.", "",
             "## Headline", "", headline_block(data), "",
             "## Environment", "", *env_lines(env, data), ""]
    if plots.get("ladder.png"):
        lines += ["![matmul ladder](ladder.png)", ""]
    floor, steps = floor_lines(data), step_lines(data)
    if floor or steps:
        lines += ["## Per-op floor and one training step (each system in its own process)",
                  *floor, *steps, _step_check(data), ""]
    lines += ["## Roofline of the OpenCL device", "", *roofline_lines(results, data), ""]
    for family, title in FAMILY_TITLES.items():
        if family == "probe" or not any(r.family == family for r in results):
            continue
        lines += [f"## {title}", "", *family_table(results, family), ""]
    others = sorted({r.family for r in results} - set(FAMILY_TITLES))
    for family in others:
        lines += [f"## Other benchmarks: {family}", "", *family_table(results, family), ""]
    prof = profile_section(results)
    if prof:
        lines += ["## Training step on the OpenCL device, by kernel (deepx.profile)", "",
                  "Device time from OpenCL profiling events, summed over 3 steps; the trace "
                  "of one LeNet step is trace_train_step.json (chrome://tracing, Perfetto).",
                  "", *prof]
    lines += ["## Figures", ""]
    for name, text in PLOT_TEXT.items():
        if plots.get(name) and name != "ladder.png":  # the ladder is shown at the top
            lines += [f"### {text}", "", f"![{name}]({name})", ""]
    if skipped:
        grouped: dict = {}
        for name, kind, msg in skipped:
            grouped.setdefault((kind, msg.replace("|", "/")), []).append(name)
        lines += ["## Not run", "", "| status | reason | benchmarks |", "|---|---|---|"]
        lines += [f"| {kind} | {msg} | {', '.join(names)} |"
                  for (kind, msg), names in sorted(grouped.items())]
        lines.append("")
    path.write_text("\n".join(lines))


def _step_check(data: dict) -> str:
    """Do the systems' first losses agree (same weights, same data)? Says which do not."""
    losses: dict = {}
    for system, res in data.get("deepx_steps", {}).items():
        for name, w in res.get("workloads", {}).items():
            losses.setdefault(name, {})[system] = w["first_loss"]
    bad = [f"{name}: {vals}" for name, vals in losses.items()
           if max(vals.values()) - min(vals.values()) > 1e-3 * max(1.0, abs(min(vals.values())))]
    if bad:
        return "**The systems' first losses disagree**: " + "; ".join(bad)
    return ("Every system's first loss agrees within 1e-3 (same weights, same data): "
            + ", ".join(f"{n} {min(v.values()):.4f}" for n, v in losses.items()) + ".")


# ---------------------------------------------------------------- entry point
def is_reference(out: pathlib.Path) -> bool:
    """True when `out` is the committed reference folder, reports/ of this checkout."""
    from report_run import repo_root

    return out.resolve() == (repo_root() / "reports").resolve()


def main(args) -> int:
    """Run (or read) the benchmarks and write REPORT.md, PNGs and data into args.out."""
    from report_run import run_all

    os.environ.setdefault("MPLBACKEND", "Agg")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    quick = bool(args.quick)
    skipped, code = [], 0
    if args.json:
        data = json.loads(pathlib.Path(args.json).read_text())
    else:
        print(f"deepx report: writing into {out}"
              + (" (the committed reference report)" if is_reference(out) else
                 " (a scratch folder; `--out reports` writes the reference)"), flush=True)
        with tempfile.TemporaryDirectory(prefix="deepx-report-") as tmp:
            data, skipped, code = run_all(quick, pathlib.Path(tmp))
        if not data["benchmarks"]:
            print(f"deepx report: the benchmark run wrote no results (exit {code})")
            return code or 1
        data["deepx_command"] = "python -m deepx report" + (" --quick" if quick else "")
        data["deepx_quick"] = quick
        env = environment()
        env["load_before"] = data["deepx_load"]["before"]
        env["load_average"] = data["deepx_load"]["after"]
        data["deepx_environment"] = env
        data["deepx_not_run"] = skipped
    quick = bool(data.get("deepx_quick", quick))
    env = data.get("deepx_environment") or environment()
    skipped = data.get("deepx_not_run") or []
    results = load_results(data)
    if not results:
        print("deepx report: no benchmark results to report")
        return 1

    import report_plots

    plots = report_plots.draw_all(results, out)
    trace = next((r.extra["profile"]["trace"] for r in results if r.family == "train_step"
                  and r.op == "lenet" and "profile" in r.extra), None)
    if trace is not None:
        (out / "trace_train_step.json").write_text(json.dumps(trace))
    for bench in data.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)  # every round's time: large, not needed
    (out / "benchmarks.json").write_text(json.dumps(data, indent=1))
    command = f"`{data.get('deepx_command', 'pytest-benchmark')}`"
    if args.json:
        command += f" (tables and plots rendered by `python -m deepx report --json {args.json}`)"
    write_markdown(out / "REPORT.md", results, env, data, skipped, plots, quick, command)
    if getattr(args, "readme", None):
        update_readme(pathlib.Path(args.readme), data)
    failed = [s for s in skipped if s[1] == "failed"]
    print(f"deepx report: wrote {out / 'REPORT.md'} ({len(results)} results, "
          f"{len(plots)} plots, {len(failed)} failed)")
    return 1 if failed or code not in (0, 5) else 0


def update_readme(path: pathlib.Path, data: dict) -> None:
    """Put this run's headline between README's headline markers."""
    from report_headline import END, START, headline_block, replace_readme_block

    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"deepx report: {path} has no {START} ... {END} block to update")
    path.write_text(replace_readme_block(text, headline_block(data)))
    print(f"deepx report: updated the headline block of {path}")
