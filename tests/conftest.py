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
