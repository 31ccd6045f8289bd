"""Running the benchmarks for `python -m deepx report`: one process per system, merged results.

Each process starts from a fresh Python (no OpenCL context before it forks) with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (report_env.baseline_env), so every baseline runs
at its best whatever the calling shell sets; each records its own thread pools. A pytest
benchmark whose rounds spread by more than NOISY is run again (full runs only) and the
steadier of the two measurements is kept.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

from deepx.report_env import baseline_env, load_average, machine

BENCH_FILES = ("bench_ladder.py", "bench_families.py", "bench_e2e.py")
SYSTEMS = ("python", "numpy", "opencl", "torch")  # one pytest process each
FLOOR_SYSTEMS = ("opencl", "numpy", "pyopencl", "torch")
STEP_SYSTEMS = ("opencl", "graph", "numpy", "torch")
NOISY = 0.10  # interquartile range / median above which a benchmark is measured again
MAX_RETRIES = 30
RETRY_BELOW_S = 0.05  # only calls cheaper than this are measured again (the rest: 3 rounds)


def repo_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[1]


def bench_dir() -> pathlib.Path:
    folder = repo_root() / "benchmarks"
    missing = [f for f in (*BENCH_FILES, "floor.py", "steps.py", "bounds.py")
               if not (folder / f).is_file()]
    if missing:
        raise SystemExit(f"deepx report: {folder} lacks {missing}; run it from a checkout "
                         "of deepx (the benchmarks are not installed with the package)")
    return folder


def child_env(quick: bool, system: str = "") -> dict:
    """The environment of one benchmark process: BLAS overrides unset, this checkout first."""
    env = baseline_env()
    root = str(repo_root())
    env.update(DEEPX_BENCH_QUICK="1" if quick else "0", MPLBACKEND="Agg",
               DEEPX_BENCH_SYSTEM=system,
               PYTHONPATH=os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p))
    return env


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


def run_pytest(system: str, quick: bool, tmp: pathlib.Path, node_ids=None, tag: str = ""):
    """(pytest-benchmark JSON or None, not-run rows, exit code) of one system's process."""
    json_path, junit_path = tmp / f"bench-{system}{tag}.json", tmp / f"junit-{system}{tag}.xml"
    targets = node_ids or [str(bench_dir() / f) for f in BENCH_FILES]
    max_time = "0.05" if quick else "0.5"
    cmd = [sys.executable, "-m", "pytest", *targets, "--benchmark-enable",
           f"--benchmark-json={json_path}", f"--benchmark-min-rounds={2 if quick else 3}",
           f"--benchmark-max-time={max_time}", f"--junitxml={junit_path}", "-q",
           "-p", "no:cacheprovider", "--benchmark-columns=median,iqr,rounds",
           "--benchmark-sort=name"]
    print(f"deepx report: [{system}] pytest benchmarks/{{{','.join(BENCH_FILES)}}}"
          + (f" ({len(node_ids)} noisy benchmarks again)" if node_ids else ""), flush=True)
    code = subprocess.run(cmd, cwd=repo_root(), env=child_env(quick, system)).returncode
    data = json.loads(json_path.read_text()) if json_path.is_file() else None
    return data, not_run(junit_path), code


def _spread(bench: dict) -> float:
    stats = bench["stats"]
    return stats["iqr"] / stats["median"] if stats["median"] > 0 else 0.0


def retry_noisy(system: str, data: dict, tmp: pathlib.Path) -> int:
    """Measure again the benchmarks whose spread exceeds NOISY; keep the steadier result."""
    noisy = [b for b in data["benchmarks"]
             if _spread(b) > NOISY and b["stats"]["median"] < RETRY_BELOW_S][:MAX_RETRIES]
    if not noisy:
        return 0
    again, _, _ = run_pytest(system, False, tmp, [b["fullname"] for b in noisy], tag="-again")
    if not again:
        return 0
    fresh = {b["fullname"]: b for b in again["benchmarks"]}
    replaced = 0
    for i, bench in enumerate(data["benchmarks"]):
        new = fresh.get(bench["fullname"])
        if new is not None and _spread(new) < _spread(bench):
            new["extra_info"]["measured_twice"] = True
            data["benchmarks"][i] = new
            replaced += 1
    return replaced


def run_script(script: str, args: list, quick: bool, tmp: pathlib.Path, name: str) -> dict:
    """Run benchmarks/<script> in its own process and return the JSON it wrote."""
    out = tmp / f"{name}.json"
    cmd = [sys.executable, str(bench_dir() / script), *args, "--json", str(out)]
    if quick:
        cmd.append("--quick")
    print(f"deepx report: [{name}] {script} {' '.join(args)}", flush=True)
    done = subprocess.run(cmd, cwd=bench_dir(), env=child_env(quick))
    if done.returncode != 0 or not out.is_file():
        return {"skipped": f"{script} {' '.join(args)} exited with {done.returncode}"}
    return json.loads(out.read_text())


def run_all(quick: bool, tmp: pathlib.Path) -> tuple[dict, list, int]:
    """Every process in turn; (merged data, not-run rows, worst exit code)."""
    merged: dict = {"benchmarks": [], "deepx_processes": {}, "deepx_machine": machine(),
                    "deepx_load": {"before": load_average()}}
    merged["deepx_bounds"] = run_script("bounds.py", [], quick, tmp, "bounds")
    skipped, code = [], 0
    for system in SYSTEMS:
        data, rows, rc = run_pytest(system, quick, tmp)
        skipped += rows
        code = rc if rc not in (0, 5) else code  # 5: nothing collected (e.g. no torch)
        if data is None:
            continue
        if not quick:
            data.setdefault("deepx_retried", retry_noisy(system, data, tmp))
        merged["benchmarks"] += data["benchmarks"]
        merged["deepx_processes"][system] = data.get("deepx_process", {})
        for key in ("machine_info", "commit_info", "datetime", "version"):
            merged.setdefault(key, data.get(key))
    merged["deepx_floor"] = {s: run_script("floor.py", ["--system", s], quick, tmp,
                                           f"floor-{s}") for s in FLOOR_SYSTEMS}
    merged["deepx_steps"] = {s: run_script("steps.py", ["--system", s], quick, tmp,
                                           f"steps-{s}") for s in STEP_SYSTEMS}
    merged["deepx_load"]["after"] = load_average()
    return merged, skipped, code
