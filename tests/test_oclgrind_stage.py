"""The Oclgrind CI stage (.ci/oclgrind) fails on every diagnostic but pyopencl's own probes."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]

PYOPENCL_PROBE = """
Oclgrind - OpenCL runtime error detected
\tFunction: clGetDeviceInfo
\tError:    CL_INVALID_VALUE
\tFor argument 'param_name'
"""
OOB = """Invalid read of size 4 at global memory address 0x3000000000040
\tKernel: reduce_tree
\tEntity: Global(255,0,0) Local(255,0,0) Group(0,0,0)
"""
RACE = """Read-write data race at local memory address 0x1000000000000
\tKernel: softmax_forward_tree
"""
API = """
Oclgrind - OpenCL runtime error detected
\tFunction: clEnqueueNDRangeKernel
\tError:    CL_INVALID_WORK_GROUP_SIZE
"""


def _stage():
    loader = importlib.machinery.SourceFileLoader("oclgrind_stage", str(ROOT / ".ci" / "oclgrind"))
    spec = importlib.util.spec_from_loader("oclgrind_stage", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_diagnostic_counts_but_pyopencl_probes(tmp_path):
    stage = _stage()
    log = tmp_path / "oclgrind.log"
    assert stage.diagnostics(log, "") == []  # no log: Oclgrind had nothing to say
    log.write_text(PYOPENCL_PROBE + "\n" + PYOPENCL_PROBE)
    assert stage.diagnostics(log, PYOPENCL_PROBE) == []
    log.write_text("\n".join([PYOPENCL_PROBE, OOB, PYOPENCL_PROBE, RACE]))
    stderr = "\n".join([PYOPENCL_PROBE, API, "still have references to IRs\n"])
    found = stage.diagnostics(log, stderr)
    assert len(found) == 3  # the log's memory checks, then stderr's API check
    assert "Invalid read" in found[0] and "data race" in found[1]
    assert "CL_INVALID_WORK_GROUP_SIZE" in found[2]


def test_ci_runs_the_stage_after_the_suite():
    run = (ROOT / ".ci" / "run").read_text()
    assert "oclgrind" in run.split("python -m pytest", 1)[0]  # installed with PoCL
    assert "python .ci/oclgrind" in run.split("python -m pytest", 1)[1]
