"""deepx.profiler: records of OpenCL launches, the text table, the Chrome trace.

The first tests feed the profiler fake events (no device needed); the rest profile real
kernels on the session's OpenCL device.
"""
import json

import numpy as np
import pytest

import deepx as dx
from deepx import profiler
from deepx.profiler import Profile, profile


class FakeEvent:
    """Stands in for a cl.Event: a finished command with device timestamps in ns."""

    def __init__(self, start, end, status="done"):
        self.profile = type("Info", (), {"start": start, "end": end})()
        self.command_execution_status = status
        self.waited = False

    def wait(self):
        self.waited = True
        self.command_execution_status = "done"


def _fake_profile(launches) -> Profile:
    """A Profile fed (op, kernel, global size, start ns, end ns) tuples through its hook."""
    prof = Profile()
    prof._complete = "done"
    for op, kernel, size, start, end in launches:
        prof._on_launch(op, kernel, size, FakeEvent(start, end))
    prof._resolve(wait=True)
    return prof


LAUNCHES = [("matmul", "matmul_tiled", (64, 64, 1), 1_000, 401_000),
            ("binary", "elementwise_binary", (1024,), 401_000, 411_000),
            ("matmul", "matmul_tiled", (64, 64, 1), 411_000, 811_000),
            ("binary", "elementwise_binary", (4096,), 811_000, 851_000)]


def test_records_and_stats_from_the_launch_hook():
    prof = _fake_profile(LAUNCHES)
    assert [r.kernel for r in prof.records] == [k for _, k, *_ in LAUNCHES]
    assert prof.total_ns == 400_000 + 10_000 + 400_000 + 40_000
    by_key = {s.key: s for s in prof.stats()}
    matmul = by_key[("matmul", "matmul_tiled", (64, 64, 1))]
    assert (matmul.count, matmul.total_ns, matmul.mean_ns) == (2, 800_000, 400_000)
    assert prof.by_op() == {"matmul": 800_000, "binary": 50_000}
    assert list(prof.by_op()) == ["matmul", "binary"]  # largest first


def test_table_sorts_by_total_and_names_every_column():
    table = _fake_profile(LAUNCHES).table(sort_by="total")
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["op", "kernel", "global_size", "count"]
    body = [line for line in lines[2:] if line and not line.startswith("-")][:-1]
    assert body[0].startswith("matmul")  # 0.8 ms before 0.04 ms before 0.01 ms
    assert "4096" in body[1] and "1024" in body[2]
    assert lines[-1].split()[:3] == ["total", "4", "0.850"]
    by_count = _fake_profile(LAUNCHES).table(sort_by="count", group_by="op").splitlines()
    assert by_count[2].split()[:2] == ["matmul", "2"] or by_count[2].split()[:2] == ["binary", "2"]
    with pytest.raises(ValueError, match="sort_by"):
        _fake_profile(LAUNCHES).table(sort_by="speed")
    with pytest.raises(ValueError, match="group by"):
        _fake_profile(LAUNCHES).stats(("shape",))


def test_gflops_only_where_flops_are_reported():
    prof = Profile()
    prof._complete = "done"
    prof._on_launch("matmul", "matmul_tiled", (8,), FakeEvent(0, 1_000), flops=2_000_000)
    prof._on_launch("binary", "elementwise_binary", (8,), FakeEvent(1_000, 2_000))
    prof._resolve(wait=True)
    gflops = {s.key[0]: s.gflops for s in prof.stats(("op",))}
    assert gflops == {"matmul": pytest.approx(2000.0), "binary": None}  # 2e6 FLOP in 1 us
    assert "GFLOP/s" in prof.table() and "2000.00" in prof.table()
    assert "GFLOP/s" not in _fake_profile(LAUNCHES).table()


def test_unfinished_events_wait_until_the_block_ends():
    prof = Profile()
    prof._complete = "done"
    running = FakeEvent(0, 5, status="running")
    prof._on_launch("unary", "elementwise_unary", (4,), running)
    prof._resolve(wait=False)
    assert prof.records == [] and not running.waited
    prof._resolve(wait=True)
    assert running.waited and len(prof.records) == 1


def test_chrome_trace_is_valid_trace_event_json(tmp_path):
    path = tmp_path / "trace.json"
    _fake_profile(LAUNCHES).export_chrome_trace(path)
    trace = json.loads(path.read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(spans) == len(LAUNCHES)
    first = spans[0]
    assert first["name"] == "matmul_tiled" and first["cat"] == "matmul"
    assert first["ts"] == 0 and first["dur"] == pytest.approx(400.0)  # microseconds
    assert spans[1]["ts"] == pytest.approx(400.0)
    assert first["args"]["global_size"] == [64, 64, 1]
    assert all(isinstance(e["pid"], int) and isinstance(e["tid"], int) for e in spans)


# ---------------------------------------------------------------- on a real device
def test_profile_records_real_kernels(opencl_device):
    from deepx.backend.opencl import runtime

    listeners_before = list(runtime.LAUNCH_LISTENERS)
    a = dx.randn(64, 32, device=opencl_device)
    b = dx.randn(32, 16, device=opencl_device)
    (a @ b).numpy()  # build the programs outside the profiled block
    with dx.no_grad(), profile() as prof:
        c = a @ b
        d = (c + 1.0).exp()
        d.numpy()
    assert runtime.LAUNCH_LISTENERS == listeners_before  # the hook is removed again
    ops = {r.op for r in prof.records}
    assert {"matmul", "binary", "unary"} <= ops
    assert all(r.duration_ns >= 0 and r.end_ns >= r.start_ns for r in prof.records)
    assert any(r.kernel.startswith("matmul_") for r in prof.records)
    assert "matmul" in prof.table()
    np.testing.assert_allclose(d.numpy(), np.exp(a.numpy() @ b.numpy() + 1), rtol=1e-4)


def test_nested_profiles_both_record_and_numpy_records_nothing(opencl_device):
    x = dx.ones(1000, device=opencl_device)
    (x * x).numpy()
    with profile() as outer:
        (x * x).numpy()
        with profile() as inner:
            (x + x).numpy()
    assert [r.op for r in inner.records] == ["binary"]
    assert [r.op for r in outer.records] == ["binary", "binary"]
    with profile() as on_numpy:
        (dx.ones(10, device="numpy") * 2).numpy()
    assert on_numpy.records == [] and on_numpy.total_ns == 0
    assert "total" in on_numpy.table()


def test_many_launches_are_resolved_while_running(opencl_device):
    x = dx.ones(16, device=opencl_device)
    y = x + x
    y.numpy()
    n = profiler._RESOLVE_AT + 50
    with dx.no_grad(), profile() as prof:
        for _ in range(n):
            y = y + x
    assert len(prof.records) == n
    assert prof._pending == []
    assert y.numpy()[0] == 2 + n
