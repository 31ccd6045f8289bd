"""`python -m deepx report --quick` end to end: the files appear and are well formed.

It runs the real benchmark suite at quick sizes (about a minute on 2 cores, under 3 minutes
by contract) in a subprocess, so it is slow on purpose. It never skips: without an OpenCL
device the report is still written (its OpenCL rows listed under 'Not run'); with one, the
OpenCL rows must be there, so a broken device path cannot pass unnoticed.
"""
import json
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = ["ladder.png", "gflops_vs_size.png", "speedup.png", "train_step.png", "roofline.png"]
SECTIONS = ["# deepx benchmark report", "## Headline", "## Environment",
            "## Roofline of the OpenCL device", "## Matmul", "## Elementwise activations",
            "## Reductions and softmax", "## Softmax cross-entropy", "## Max pooling",
            "## Optimizer step", "## One training step", "## Figures"]
TABLE_HEADER = "| op | shape | impl | median | best | rounds | GFLOP/s | GB/s | speed vs NumPy |"
QUICK_LIMIT_S = 180


def _opencl_usable() -> bool:
    """True when the default OpenCL device builds and runs a kernel."""
    try:
        import deepx as dx

        return float((dx.ones(2, device="opencl") * 2).sum().item()) == 4.0
    except Exception:  # noqa: BLE001 - any failure means: no usable device
        return False


def _report(*args) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "deepx", "report", *args], cwd=ROOT,
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
    assert "pure-Python triple loop" in text  # the headline names the loop and NumPy
    if _opencl_usable():
        assert "| cl_tuned |" in text and "| opencl |" in text
        trace = json.loads((out / "trace_train_step.json").read_text())
        assert any(e["ph"] == "X" and e["dur"] >= 0 for e in trace["traceEvents"])
        assert "kernel launches per step" in text


def test_report_rerenders_from_its_json(quick_report, tmp_path):
    out, _ = quick_report
    done, _ = _report("--json", str(out / "benchmarks.json"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    _check_folder(tmp_path)
