"""deepx installed from a wheel (not the checkout) finds its kernels and runs an OpenCL op."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = """
import pathlib, sys
import deepx as dx
site = pathlib.Path(sys.argv[1]).resolve()
assert pathlib.Path(dx.__file__).resolve().is_relative_to(site), dx.__file__
x = dx.arange(6, dtype=dx.float32, device="opencl").reshape(2, 3)
y = (x @ x.T).sum(dim=1)
print(y.tolist())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    (path,) = out.glob("deepx-*.whl")
    return path


def test_wheel_ships_every_module_and_kernel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "deepx").rglob("*.py")}
    kernels = {"deepx/kernels/" + p.name for p in (ROOT / "kernels").iterdir()
               if p.suffix in (".cl", ".h")}
    assert "deepx/kernels/matmul.cl" in kernels
    assert not (sources | kernels) - names, "missing from the wheel (pyproject packages list?)"


def test_installed_wheel_runs_an_opencl_op(wheel, tmp_path):
    pytest.importorskip("pyopencl")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(site)], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    if "no OpenCL device" in result.stderr:
        pytest.skip("no OpenCL runtime")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[19.0, 64.0]"  # [[0,1,2],[3,4,5]] @ its transpose


def test_installed_wheel_report_asks_for_a_checkout(wheel, tmp_path):
    """`python -m deepx report` runs the repository's benchmarks/: installed, it says so."""
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run([sys.executable, "-m", "deepx", "report", "--quick", "--out",
                             str(tmp_path / "out")], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "checkout" in result.stderr and "benchmarks/" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
