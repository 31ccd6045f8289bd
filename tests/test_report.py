"""`python -m deepx report --quick` end to end: the files appear and are well formed.

It runs the real benchmark suite at quick sizes (about a minute on 2 cores, under 3 minutes
by contract) in a subprocess, so it is slow on purpose. It never skips: without an OpenCL
device the report is still written (its OpenCL rows listed under 'Not run'); with one, the
OpenCL rows must be there, so a broken device path cannot pass unnoticed.
"""
import copy
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from deepx.__main__ import main as cli_main
from deepx.report_env import flops_per_cycle

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The report code lives beside the benchmarks it runs (benchmarks/report*.py), imported flatly.
sys.path.insert(0, str(ROOT / "benchmarks"))
import report_headline  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = ["ladder.png", "gflops_vs_size.png", "speedup.png", "train_step.png", "roofline.png"]
SECTIONS = ["# deepx benchmark report", "## Headline", "## Environment",
            "## Roofline of the OpenCL device", "## Matmul", "## Elementwise activations",
            "## Reductions and softmax", "## Softmax cross-entropy", "## Max pooling",
            "## Optimizer step", "## One training step", "## Figures"]
TABLE_HEADER = ("| op | shape | impl | median | spread | best | rounds | GFLOP/s | GB/s | "
                "speed vs NumPy |")
QUICK_LIMIT_S = 240


def _opencl_usable() -> bool:
    """True when the default OpenCL device builds and runs a kernel."""
    try:
        import deepx as dx

        return float((dx.ones(2, device="opencl") * 2).sum().item()) == 4.0
    except Exception:  # noqa: BLE001 - any failure means: no usable device
        return False


def _report(*args, cwd=ROOT) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "deepx", "report", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=2 * QUICK_LIMIT_S)
    return done, time.perf_counter() - start


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    done, seconds = _report("--quick", "--out", str(out))
    assert done.returncode == 0, f"report failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return out, seconds


def _check_folder(out: pathlib.Path) -> str:
    text = (out / "REPORT.md").read_text()
    for section in SECTIONS:
        assert section in text, f"REPORT.md lacks {section!r}"
    assert text.count(TABLE_HEADER) >= 7, "one table per family"
    for name in PLOTS:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, f"{name} is not a PNG"
        assert f"({name})" in text, f"REPORT.md does not show {name}"
    bench = json.loads((out / "benchmarks.json").read_text())
    families = {b["extra_info"].get("family") for b in bench["benchmarks"]}
    assert {"matmul", "activation", "reduction", "cross_entropy", "pooling", "optimizer",
            "train_step"} <= families
    return text


def test_quick_report_writes_every_file(quick_report):
    out, seconds = quick_report
    text = _check_folder(out)
    assert seconds < QUICK_LIMIT_S, f"--quick took {seconds:.0f} s"
    assert "Measured on " in text and "load average before" in text
    assert ("pure-Python triple loop" in text  # the headline names the loop and NumPy
            or "No headline: the machine was busy" in text)
    assert "## Per-op floor and one training step" in text
    assert "| raw pyopencl enqueue |" in text and "| PyTorch CPU |" in text
    assert "first loss agrees" in text or "first losses disagree" in text
    data = json.loads((out / "benchmarks.json").read_text())
    assert {"python", "numpy"} <= set(data["deepx_processes"])
    numpy_proc = data["deepx_processes"]["numpy"]
    assert not {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} & set(numpy_proc["threads_env"])
    assert any(p.get("internal_api") == "openblas" for p in numpy_proc["threadpools"])
    assert data["deepx_bounds"]["copy"]["gbps"] > 0
    assert data["deepx_machine"]["cores"] >= 1
    if _opencl_usable():
        assert "opencl" in data["deepx_processes"]
        steps = data["deepx_steps"]["opencl"]["workloads"]
        assert steps["mlp"]["launches_per_step"] > 0
        assert data["deepx_floor"]["opencl"]["batched"]["median"] > 0
        assert "| cl_tuned |" in text and "| opencl |" in text
        trace = json.loads((out / "trace_train_step.json").read_text())
        assert any(e["ph"] == "X" and e["dur"] >= 0 for e in trace["traceEvents"])
        assert "kernel launches per step" in text


def test_report_rerenders_from_its_json(quick_report, tmp_path):
    out, _ = quick_report
    done, _ = _report("--json", str(out / "benchmarks.json"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    _check_folder(tmp_path)


# ---------------------------------------------------------------- without running benchmarks
COMMITTED = ROOT / "reports" / "benchmarks.json"


def _committed() -> dict:
    return json.loads(COMMITTED.read_text())


def test_readme_headline_matches_the_committed_report():
    """README's headline block is exactly what the committed benchmarks.json renders to."""
    readme = (ROOT / "README.md").read_text()
    block = report_headline.readme_block(readme)
    assert block is not None, "README.md lacks the headline markers"
    assert block == report_headline.headline_block(_committed()), (
        "README's headline differs from reports/benchmarks.json: rerun "
        "`python -m deepx report --out reports --readme README.md` (or --json to re-render)")
    assert report_headline.machine_of(_committed())["cpu"] in block


def test_report_defaults_to_a_scratch_folder(tmp_path):
    """A run without --out never writes over the committed reference report."""
    with pytest.raises(SystemExit):
        cli_main(["report", "--help"])
    stamps = {p: p.stat().st_mtime_ns for p in (ROOT / "reports").iterdir()}
    done, _ = _report("--json", str(COMMITTED), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "build" / "report" / "REPORT.md").is_file()
    assert stamps == {p: p.stat().st_mtime_ns for p in (ROOT / "reports").iterdir()}


def test_report_help_promises_what_it_does(capsys):
    with pytest.raises(SystemExit):
        cli_main(["report", "--help"])
    text = capsys.readouterr().out
    assert "build/report" in text and "--out reports" in text.replace("\n", " ")
    assert "under 3 minutes" not in text


def test_readme_flag_rewrites_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report_headline.START}\nold\n{report_headline.END}\nrest\n")
    done, _ = _report("--json", str(COMMITTED), "--out", str(tmp_path / "r"), "--readme",
                      str(readme))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("rest\n") and "old" not in text
    assert report_headline.readme_block(text) == report_headline.headline_block(_committed())


def _numpy_square(data: dict, n: int = 1024) -> dict:
    return next(b for b in data["benchmarks"] if b["extra_info"].get("op") == "square"
                and b["extra_info"].get("impl") == "numpy" and b["extra_info"]["size"] == n)


def test_busy_machine_gets_no_headline():
    data = copy.deepcopy(_committed())
    assert "No headline" not in report_headline.headline_block(data)
    stats = _numpy_square(data)["stats"]
    stats["iqr"] = 0.4 * stats["median"]  # NumPy's rounds spread 40%: something else ran
    block = report_headline.headline_block(data)
    assert "No headline: the machine was busy" in block and "spread 40%" in block
    assert "1.51x" not in block


def test_busy_quick_run_gets_no_headline():
    """A quick run measures n <= 128 only: NumPy far below the bound there (a busy machine made
    a 29 us product take 16 ms) refuses the headline too, instead of claiming a 90x speed-up."""
    data = copy.deepcopy(_committed())
    data["benchmarks"] = [b for b in data["benchmarks"]
                          if not (b["extra_info"].get("op") == "square"
                                  and b["extra_info"]["size"] > 128)]
    stats = _numpy_square(data, 128)["stats"]
    assert "No headline" not in report_headline.headline_block(data)
    for key in ("min", "median", "q1", "q3", "mean", "max"):
        if key in stats:
            stats[key] *= 500  # 0% spread, but 500x slower than the committed run
    block = report_headline.headline_block(data)
    assert "No headline: the machine was busy" in block and "n = 128 matmul reached" in block


def test_throttled_numpy_is_no_speedup_claim():
    data = copy.deepcopy(_committed())
    # the NumPy process as a machine with OPENBLAS_CORETYPE=Haswell set records it
    proc = {"threads_env": {"OPENBLAS_CORETYPE": "Haswell"},
            "threadpools": [{"internal_api": "openblas", "architecture": "Haswell"}]}
    data.setdefault("deepx_processes", {})["numpy"] = proc
    data.setdefault("deepx_machine", {})["simd"] = ["avx512f", "avx2", "fma"]
    assert "so this is no speed-up claim" in report_headline.headline_block(data)
    proc["threads_env"] = {}
    proc["threadpools"][0]["architecture"] = "Zen"
    data["deepx_machine"]["simd"] = ["avx2", "fma"]  # Zen kernels fit an AVX2 CPU
    data["machine_info"]["cpu"]["flags"] = ["avx2", "fma"]
    assert "no speed-up claim" not in report_headline.headline_block(data)


def test_physical_bounds_beside_the_probes():
    assert flops_per_cycle("AuthenticAMD", 25, {"avx512f", "avx2", "fma"})[0] == 32  # Zen 4
    assert flops_per_cycle("AuthenticAMD", 26, {"avx512f"})[0] == 64  # Zen 5
    assert flops_per_cycle("GenuineIntel", 6, {"avx2", "fma", "avx"})[0] == 32
    data = copy.deepcopy(_committed())
    # as a 2-core Zen 5 at 2.6 GHz records itself
    data["deepx_machine"] = dict(data.get("deepx_machine", {}), cores=2, clock_ghz=2.6,
                                 flops_per_cycle=64, peak_gflops=332.8)
    data["deepx_bounds"] = {"copy": {"threads": 2, "gbps": 50.0}}
    block = report_headline.headline_block(data)
    assert "against a bound of 333 GFLOP/s (2 cores x 64 FLOP/cycle x 2.60 GHz)" in block
    assert "2-thread STREAM-like copy's 50 GB/s (" in block


def test_floor_and_step_tables_render_with_ratios():
    data = copy.deepcopy(_committed())
    stat = {"median": 2e-5, "spread": 0.03}
    data["deepx_floor"] = {"opencl": {"batched": stat, "synced": stat},
                           "torch": {"skipped": "ImportError: no torch"}}
    work = {"mlp": {"median": 0.004, "spread": 0.02, "first_loss": 2.3, "launches_per_step": 51}}
    replay = {"mlp": {"median": 0.003, "spread": 0.01, "first_loss": 2.3}}
    data["deepx_steps"] = {"opencl": {"workloads": work}, "graph": {"workloads": replay},
                           "torch": {"workloads": {"mlp": {**work["mlp"], "median": 0.002}}}}
    block = report_headline.headline_block(data)
    assert "| deepx OpenCL | 20 µs ± 3% | 20 µs ± 3% |" in block
    assert "| PyTorch CPU | not run: ImportError: no torch | |" in block
    assert ("| MLP 784-512-256-10, batch 128 | 4 ms ± 2% (2x) | 3 ms ± 1% (1.5x) | not run "
            "| 2 ms ± 2% | 51 |") in block


def check_figure(fig) -> None:
    """Title, axis labels on every drawn axes; no legend overlapping any axes (data area)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # plt.close left the figure a bare canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.axison]
    suptitle = fig._suptitle.get_text() if fig._suptitle else ""
    for ax in axes:
        assert ax.get_title() or suptitle, "an axes without a title"
        assert ax.get_xlabel() and ax.get_ylabel(), f"{ax.get_title()}: unlabelled axis"
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), \
                f"the legend covers the axes {ax.get_title()!r}"


def test_every_report_plot_is_labelled_and_uncovered(tmp_path, monkeypatch):
    import matplotlib.figure
    import report
    import report_plots

    figures = []
    save = matplotlib.figure.Figure.savefig

    def keep(fig, *args, **kwargs):
        figures.append(fig)
        return save(fig, *args, **kwargs)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    drawn = report_plots.draw_all(report.load_results(_committed()), tmp_path)
    assert all(drawn.values()) and len(figures) == len(drawn)
    for fig in figures:
        check_figure(fig)


def test_occupancy_benchmark_accounts_for_every_thread(tmp_path):
    """benchmarks/occupancy.py runs its three loops at both batch sizes and splits the CPU time
    it reads from Linux consistently (the numbers themselves are measured, not asserted)."""
    if not _opencl_usable() or not pathlib.Path("/proc/self/task").is_dir():
        pytest.skip("needs an OpenCL device and Linux's /proc (per-thread schedstat)")
    out = tmp_path / "occupancy.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "occupancy.py"), "--quick",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [(r["batch"], r["loop"]) for r in result["rows"]] == [
        (b, loop) for b in (32, 128) for loop in ("demo", "eager", "replay")]
    cores = len(os.sched_getaffinity(0))
    for r in result["rows"]:
        assert r["ms_per_step"] > 0
        assert r["cores_busy"] == pytest.approx(r["python_thread"] + r["other_threads"])
        assert 0 < r["cores_busy"] <= cores * 1.05 and 0 <= r["machine_idle_cores"] <= cores
    assert "cores" in result["machine"]
