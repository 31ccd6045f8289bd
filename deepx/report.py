"""`python -m deepx report [--quick] [--json FILE] [--out DIR]`: run the benchmarks, write a report.

Runs benchmarks/bench_ladder.py, bench_families.py and bench_e2e.py with pytest-benchmark in
a subprocess (DEEPX_BENCH_QUICK=1 with --quick: small sizes, under 3 minutes on 2 cores), or
reads a pytest-benchmark JSON given with --json, then writes into the out folder:
REPORT.md (environment, one table per family, the training-step breakdown, the roofline),
the PNG plots of deepx/report_plots.py, benchmarks.json (the data, to re-render with --json)
and trace_train_step.json (one profiled LeNet step, for chrome://tracing or Perfetto).
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

BENCH_FILES = ("bench_ladder.py", "bench_families.py", "bench_e2e.py")
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
            rounds=int(bench["stats"]["rounds"]), extra=info))
    return out


def impl_rank(impl: str) -> int:
    return IMPL_ORDER.index(impl) if impl in IMPL_ORDER else len(IMPL_ORDER)


def numpy_time(results: list[Result], r: Result) -> float | None:
    """Median of the NumPy result measured at the same family, op and shape, if any."""
    for other in results:
        if (other.role == "numpy" and other.family == r.family and other.op == r.op
                and other.shape == r.shape):
            return other.median
    return None


# ---------------------------------------------------------------- running the suite
def repo_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[1]


def run_suite(quick: bool, json_path: pathlib.Path, junit_path: pathlib.Path) -> int:
    """Run the benchmark files in a fresh Python (no OpenCL context here before it forks)."""
    bench_dir = repo_root() / "benchmarks"
    missing = [f for f in BENCH_FILES if not (bench_dir / f).is_file()]
    if missing:
        raise SystemExit(f"deepx report: {bench_dir} lacks {missing}; run it from a checkout "
                         "of deepx (the benchmarks are not installed with the package)")
    timing = (["--benchmark-min-rounds=2", "--benchmark-max-time=0.05"] if quick
              else ["--benchmark-min-rounds=3", "--benchmark-max-time=0.5"])
    cmd = [sys.executable, "-m", "pytest", *(str(bench_dir / f) for f in BENCH_FILES),
           "--benchmark-enable", f"--benchmark-json={json_path}", *timing,
           f"--junitxml={junit_path}", "-q", "-p", "no:cacheprovider",
           "--benchmark-columns=median,rounds", "--benchmark-sort=name"]
    env = dict(os.environ, DEEPX_BENCH_QUICK="1" if quick else "0", MPLBACKEND="Agg")
    print("deepx report: running pytest benchmarks/{" + ",".join(BENCH_FILES) + "}",
          "(quick)" if quick else "(full)", flush=True)
    return subprocess.run(cmd, cwd=repo_root(), env=env).returncode


def not_run(junit_path: pathlib.Path) -> list[tuple[str, str, str]]:
    """(test, 'skipped' or 'failed', message) for each benchmark that produced no result."""
    if not junit_path.is_file():
        return []
    rows = []
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                message = (node.get("message") or "").splitlines()
                kind = "skipped" if tag == "skipped" else "failed"
                rows.append((case.get("name", "?"), kind, message[0][:160] if message else ""))
    return rows


# ---------------------------------------------------------------- the environment
def environment() -> dict:
    """Versions, the OpenCL device, NumPy's BLAS, load: what a reader needs to trust numbers."""
    import numpy as np

    env = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
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
    lines = ["| op | shape | impl | median | best | rounds | GFLOP/s | GB/s | speed vs NumPy |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base = numpy_time(results, r)
        ratio = base / r.median if base else None
        lines.append(f"| {r.op} | {r.shape} | {r.impl} | {fmt_time(r.median)} | "
                     f"{fmt_time(r.best)} | {r.rounds} | {fmt(r.gflops)} | {fmt(r.gbps)} | "
                     f"{fmt_ratio(ratio)} |")
    return lines


def find(results, family, op, impl, shape=None, size=None) -> Result | None:
    for r in results:
        if (r.family, r.op, r.impl) == (family, op, impl) and (shape is None or r.shape == shape) \
                and (size is None or r.size == size):
            return r
    return None


def headline(results: list[Result]) -> list[str]:
    """Naive loops vs NumPy vs OpenCL at (64, 32) @ (32, 64) and at the largest square n."""
    lines = []
    loops = find(results, "matmul", "classic", "loops")
    numpy_r = find(results, "matmul", "classic", "numpy")
    tuned = find(results, "matmul", "classic", "cl_tuned")
    if loops and numpy_r:
        text = (f"- (64, 32) @ (32, 64): pure-Python triple loop {fmt_time(loops.median)}, "
                f"NumPy @ {fmt_time(numpy_r.median)} "
                f"(**{loops.median / numpy_r.median:,.0f}x** faster)")
        if tuned:
            kernels = ", ".join(tuned.extra.get("kernels", [])) or "its default kernel"
            text += (f", deepx OpenCL matmul ({kernels}) {fmt_time(tuned.median)} "
                     f"({loops.median / tuned.median:,.0f}x the loop, "
                     f"{numpy_r.median / tuned.median:.3g}x NumPy)")
        lines.append(text + ".")
    sizes = sorted({r.size for r in results if r.family == "matmul" and r.op == "square"})
    n = 1024 if 1024 in sizes else (sizes[-1] if sizes else None)
    if n is not None:
        at_n = {r.impl: r for r in results if r.family == "matmul" and r.op == "square"
                and r.size == n}
        parts = [f"{impl} {fmt_time(r.median)} ({fmt(r.gflops)} GFLOP/s)"
                 for impl, r in sorted(at_n.items(), key=lambda kv: impl_rank(kv[0]))]
        lines.append(f"- n = {n} square: " + ", ".join(parts) + ".")
        loop_rates = [r for r in results if r.family == "matmul" and r.op == "square"
                      and r.impl == "loops"]
        if loop_rates and "numpy" in at_n:
            rate = max(loop_rates, key=lambda r: r.size)
            est = 2 * n ** 3 / (rate.gflops * 1e9)
            lines.append(f"- The triple loop is not run at n = {n}; at its n = {rate.size} rate "
                         f"({fmt(rate.gflops)} GFLOP/s) it would take about {fmt_time(est)}, "
                         f"~{est / at_n['numpy'].median:,.0f}x NumPy's time (an estimate).")
    return lines


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


def roofline_lines(results: list[Result]) -> list[str]:
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
                     + (f"; NumPy's a + b on the host: {fmt(host.peak_gbps)} GB/s." if host
                        else "."))
    if fma and triad:
        lines.append(f"- Ridge point: {fma.peak_gflops / triad.peak_gbps:.3g} FLOP/byte; kernels "
                     "left of it are bound by memory, right of it by arithmetic.")
    return lines


def env_lines(env: dict, machine: dict) -> list[str]:
    cpu = machine.get("cpu", {})
    lines = [f"- Date: {env.get('date')}; CPU: {cpu.get('brand_raw', platform.processor())} "
             f"(family {cpu.get('family', '?')}, model {cpu.get('model', '?')}), "
             f"{env.get('cpu_count')} cores; {env.get('platform')}",
             f"- Python {env.get('python')}, NumPy {env.get('numpy')}, pyopencl "
             f"{env.get('pyopencl')}, PyTorch {env.get('torch') or 'not installed'}, "
             f"pytest-benchmark {env.get('pytest_benchmark')}, deepx {env.get('deepx')}"]
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
        lines.append("- Thread settings: " + ", ".join(f"{k}={v}" for k, v in
                                                       env["threads_env"].items()))
    before, after = env.get("load_before"), env.get("load_average")
    lines.append(f"- Load average (1, 5, 15 min) before the run: {before or 'not recorded'}; "
                 f"after: {after}. Other processes (e.g. other test suites) may have "
                 "shared the 2 cores: compare implementations within this run, not across runs.")
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


def write_markdown(path, results, env, machine, skipped, plots, quick, command) -> None:
    lines = ["# deepx benchmark report", "",
             f"{'Quick run (small sizes only). ' if quick else ''}Measured by {command}. "
             "Times are medians of pytest-benchmark rounds; every implementation's result "
             "was checked against its neighbour before timing. GFLOP/s counts the textbook "
             "FLOPs (2MNK for matmul); GB/s counts the least traffic (inputs read once, "
             "output written once), so both are lower bounds; both use the median. 'Best' is "
             "the fastest round: far below the median, it flags a noisy machine. 'Speed vs "
             "NumPy' is NumPy's median over this one's: above 1x is faster than NumPy.", "",
             "## Headline", "", *headline(results), "",
             "## Environment", "", *env_lines(env, machine), ""]
    if plots.get("ladder.png"):
        lines += ["![matmul ladder](ladder.png)", ""]
    lines += ["## Roofline of the OpenCL device", "", *roofline_lines(results), ""]
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


# ---------------------------------------------------------------- entry point
def main(args) -> int:
    """Run (or read) the benchmarks and write REPORT.md, PNGs and data into args.out."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    quick = bool(args.quick)
    skipped, code = [], 0
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="deepx-report-") as tmp:
        if args.json:
            data = json.loads(pathlib.Path(args.json).read_text())
        else:
            json_path, junit_path = pathlib.Path(tmp, "bench.json"), pathlib.Path(tmp, "j.xml")
            code = run_suite(quick, json_path, junit_path)
            if not json_path.is_file():
                print(f"deepx report: the benchmark run wrote no results (exit {code})")
                return code or 1
            data = json.loads(json_path.read_text())
            skipped = not_run(junit_path)
    if not args.json:
        data["deepx_command"] = "python -m deepx report" + (" --quick" if quick else "")
        data["deepx_quick"] = quick
    quick = bool(data.get("deepx_quick", quick))
    env = data.get("deepx_environment") or environment()
    if not args.json:
        env["load_before"] = load_before
    data["deepx_environment"] = env
    data["deepx_not_run"] = data.get("deepx_not_run") or skipped
    skipped = data["deepx_not_run"]
    results = load_results(data)
    if not results:
        print("deepx report: no benchmark results to report")
        return 1

    from . import report_plots

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
    write_markdown(out / "REPORT.md", results, env, data.get("machine_info", {}), skipped,
                   plots, quick, command)
    failed = [s for s in skipped if s[1] == "failed"]
    print(f"deepx report: wrote {out / 'REPORT.md'} ({len(results)} results, "
          f"{len(plots)} plots, {len(failed)} failed)")
    return 1 if failed or code not in (0, 5) else 0
