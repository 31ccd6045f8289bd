"""Shared fixtures: one OpenCL device (and context) for the whole test session."""
import pytest


@pytest.fixture(scope="session")
def opencl_device():
    """The deepx Device of the first usable OpenCL device; skips when there is none.

    PoCL compiles each program once per process, so every OpenCL test shares this one.
    """
    import deepx as dx

    try:
        from deepx.backend.opencl.devices import default_index
        index = default_index()
    except Exception as exc:  # noqa: BLE001 - no pyopencl, no ICD, no usable device
        pytest.skip(f"no usable OpenCL runtime: {exc}")
    if index is None:
        pytest.skip("no OpenCL device found")
    return dx.device(f"opencl:{index[0]}:{index[1]}")


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
