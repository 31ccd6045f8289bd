"""Shared fixtures: one OpenCL device (and context) for the whole test session, and the one
`device` fixture that runs a test on every device."""
import os

import pytest


@pytest.fixture(scope="session")
def opencl_device():
    """The deepx Device DEEPX_DEVICE names, else the first usable OpenCL device; skips when
    there is none.

    PoCL compiles each program once per process, so every OpenCL test shares this one.
    """
    import deepx as dx

    spec = os.environ.get("DEEPX_DEVICE", "").strip().lower()
    if spec.startswith("opencl"):  # the device CI names (e.g. opencl:oclgrind), not the first
        try:
            return dx.device(spec)
        except Exception as exc:  # noqa: BLE001 - no pyopencl or no such device
            pytest.skip(f"DEEPX_DEVICE={spec} is not usable: {exc}")
    try:
        from deepx.backend.opencl.devices import default_index
        index = default_index()
    except Exception as exc:  # noqa: BLE001 - no pyopencl, no ICD, no usable device
        pytest.skip(f"no usable OpenCL runtime: {exc}")
    if index is None:
        pytest.skip("no OpenCL device found")
    return dx.device(f"opencl:{index[0]}:{index[1]}")


@pytest.fixture(params=["numpy", "opencl"])
def device(request):
    """Every device: the NumPy reference, then the session's OpenCL device (skipped if none)."""
    import deepx as dx

    if request.param == "numpy":
        return dx.device("numpy")
    return request.getfixturevalue("opencl_device")


@pytest.fixture(autouse=True)
def _release_device_memory():
    """In the Oclgrind stage (DEEPX_TEST_SMALL=1), free the memory pools' held blocks after
    each test: Oclgrind's race checker touches all allocated memory at every launch (32 MB
    held makes a launch of 7 elements take 0.8 s instead of 1.5 ms)."""
    yield
    if os.environ.get("DEEPX_TEST_SMALL") == "1":
        import sys

        opencl = sys.modules.get("deepx.backend.opencl")
        for backend in getattr(opencl, "_BACKENDS", {}).values():
            backend.runtime.pool.free_held()


# What installs the missing piece behind a skip, matched on the skip reason (lower case).
SKIP_HINTS = (("torch", "pip install torch --index-url https://download.pytorch.org/whl/cpu"),
              ("graphviz", "apt-get install graphviz"), ("dot", "apt-get install graphviz"),
              ("mnist", "set DEEPX_DATA to a folder holding mnist/"),
              ("opencl", "apt-get install pocl-opencl-icd"))


def pytest_terminal_summary(terminalreporter):
    """One line: how many tests were skipped, why, and what would run them."""
    counts: dict = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        hint = next((h for key, h in SKIP_HINTS if key in reason.lower()), None)
        key = f"{reason} ({hint})" if hint and hint not in reason else reason
        counts[key] = counts.get(key, 0) + 1
    if counts:
        parts = [f"{n} x {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1])]
        terminalreporter.write_line(f"skipped {sum(counts.values())}: " + "; ".join(parts))
