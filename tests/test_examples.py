"""The examples gallery and the training demo, each in its --quick mode, on the default device.

Each run must write a valid PNG and report a sane headline number; the demo's checkpoint must
load back into a fresh model. Quick modes take seconds: the full runs are measured by hand.
"""
import gzip
import hashlib
import os
import pathlib
import struct

import numpy as np
import pytest

import deepx as dx
from deepx.data import MNIST, load_digits
from deepx.data.datasets import default_root
from deepx.examples import init, moons, polyfit, schedules, spiral, train

# The real MNIST files: $DEEPX_DATA/mnist, else ~/.cache/deepx/mnist (the library's default).
MNIST_DIR = default_root("mnist")
NO_MNIST = (f"no MNIST files in {MNIST_DIR}: set DEEPX_DATA to a folder holding mnist/ "
            "(e.g. DEEPX_DATA=../shared/data)")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path) -> None:
    path = pathlib.Path(path)
    assert path.is_file(), f"{path} was not written"
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC, f"{path} is not a PNG"
    assert path.stat().st_size > 1000, f"{path} is suspiciously small"


def quick(tmp_path, *extra) -> list:
    return ["--quick", "--out", str(tmp_path), *extra]


def test_moons(tmp_path):
    result = moons.main(quick(tmp_path))
    assert_png(result["png"])
    assert result["accuracy"] > 0.9


def test_spiral(tmp_path):
    result = spiral.main(quick(tmp_path))
    assert_png(result["png"])
    assert result["accuracy"] > 0.9  # a linear classifier gets ~0.5


def test_polyfit(tmp_path):
    result = polyfit.main(quick(tmp_path))
    assert_png(result["png"])
    assert len(result["coeffs"]) == 4
    assert result["error"] < 0.1
    assert result["gap"] < 0.05  # gradient descent is close to the least-squares solution


def test_schedules(tmp_path):
    result = schedules.main(quick(tmp_path))
    assert_png(result["png"])
    assert set(result["final_loss"]) == {"step", "cosine", "cyclic", "one-cycle"}
    for name, loss in result["final_loss"].items():
        assert np.isfinite(loss) and loss < np.log(3), name  # below chance level


def test_init(tmp_path):
    result = init.main(quick(tmp_path))
    assert_png(result["png"])
    std = result["final_std"]
    assert 0.1 < std["relu", "kaiming"] < 10  # kaiming keeps the scale
    assert std["relu", "xavier"] < 0.1 * std["relu", "kaiming"]  # xavier vanishes under relu
    normal = std["relu", "normal"]
    assert not np.isfinite(normal) or normal > 1e6  # normal(0, 1) explodes


def test_train_digits_checkpoint_loads(tmp_path):
    result = train.main(quick(tmp_path))
    assert_png(result["png"])
    assert result["test_accuracy"] > 0.5  # 2 quick epochs on 600 images
    state = dx.load(result["checkpoint"])
    fresh, _ = train.make_model("digits")
    fresh.load_state_dict(state)
    trained = result["model"]
    assert state.keys() == trained.state_dict().keys()
    x = dx.randn(5, 1, 8, 8)
    fresh.eval()
    trained.eval()
    with dx.no_grad():
        np.testing.assert_array_equal(fresh(x).numpy(), trained(x).numpy())


def test_every_fifth_split_is_stratified():
    _, labels = load_digits(as_tensors=False)
    train_idx, test_idx = train.every_fifth_split(labels, seed=0)
    assert (len(train_idx), len(test_idx)) == (1437, 360)
    assert len(set(train_idx) | set(test_idx)) == 1797
    expected = np.bincount(labels) / 5
    assert np.all(np.abs(np.bincount(labels[test_idx]) - expected) <= 1)


@pytest.mark.skipif(not (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file(), reason=NO_MNIST)
def test_train_mnist_quick(tmp_path):
    result = train.main(quick(tmp_path, "--dataset", "mnist", "--data-dir", str(MNIST_DIR)))
    assert_png(result["png"])
    assert result["model_name"] == "lenet"
    assert result["test_accuracy"] > 0.3  # 1 quick epoch on 1,000 images
    assert pathlib.Path(result["checkpoint"]).is_file()


def _tiny_mnist_mirror(folder: pathlib.Path, n: int = 40) -> tuple:
    """Four tiny gzipped IDX files in `folder` (a file:// mirror) and their (name, md5)s."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    resources = []
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            payload = gzip.compress(header + array.tobytes())
            name = f"{prefix}-{kind}-ubyte.gz"
            (folder / name).write_bytes(payload)
            resources.append((name, hashlib.md5(payload).hexdigest()))
    return tuple(resources)


def test_train_download_flag_fetches_mnist(tmp_path, monkeypatch):
    """--download fetches all four files (from a file:// mirror here: no network) and trains."""
    resources = _tiny_mnist_mirror(tmp_path / "mirror")
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "mirror").as_uri() + "/",))
    monkeypatch.setattr(MNIST, "resources", resources)
    data = tmp_path / "data"
    result = train.main(quick(tmp_path / "out", "--dataset", "mnist", "--download",
                              "--data-dir", str(data), "--device", "numpy"))
    assert sorted(p.name for p in data.iterdir()) == sorted(name for name, _ in resources)
    assert result["model_name"] == "lenet" and len(result["history"]) == 1


def test_train_mnist_default_folder_and_missing_files(tmp_path, monkeypatch, capsys):
    """Without --data-dir the data comes from $DEEPX_DATA/mnist; missing files name --download."""
    monkeypatch.setenv("DEEPX_DATA", str(tmp_path))
    assert train.parse_args(["--dataset", "mnist"]).data_dir is None
    with pytest.raises(SystemExit, match=r"--download .*" + str(tmp_path / "mnist")):
        train.main(quick(tmp_path / "out", "--dataset", "mnist", "--device", "numpy"))


@pytest.mark.parametrize("example", [moons, spiral, schedules, init, train])
def test_example_plots_are_labelled_and_uncovered(example, tmp_path, monkeypatch):
    import matplotlib.figure
    from test_report import check_figure

    figures = []
    save = matplotlib.figure.Figure.savefig

    def keep(fig, *args, **kwargs):
        figures.append(fig)
        return save(fig, *args, **kwargs)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    example.main(quick(tmp_path, "--device", "numpy"))
    assert figures
    for fig in figures:
        check_figure(fig)


def test_kernel_builds_are_announced(opencl_device, capsys):
    """runtime.program tells BUILD_LISTENERS; the demo's CompileLog prints the slow builds."""
    from deepx.backend.opencl import runtime

    log = train.CompileLog()
    runtime.BUILD_LISTENERS.append(log)
    try:  # an options tuple no other test uses: a fresh build, never a memoised one
        opencl_device.backend.runtime.program(
            "elementwise.cl", ("-DDTYPE=float", "-DREAL=float", "-DDEEPX_BUILD_HOOK_TEST=1"))
    finally:
        runtime.BUILD_LISTENERS.remove(log)
    assert log.count == 1 and log.seconds > 0
    log("conv.cl", ("-DDTYPE=float",), 0.9)
    log("pool.cl", (), 0.01)  # a warm cache's load: no line
    out = capsys.readouterr().out
    assert "compiled kernels/conv.cl -DDTYPE=float in 0.9 s" in out and "pool.cl" not in out


def test_train_reports_cores_busy(tmp_path):
    result = train.main(quick(tmp_path, "--epochs", "1"))
    assert 0 < result["cores_busy"] <= 4 * (os.cpu_count() or 1)
