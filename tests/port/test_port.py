"""The port test: each program in this folder is a PyTorch training script. It runs once as
written (when torch is installed) and once with only its import lines changed to deepx, from
the same source; the two runs must start at the same loss (same data, same NumPy-drawn
weights), take similar first steps, and end in the same accuracy band.

The minibatches differ between the runs (each framework shuffles with its own generator),
so only the initial full-set loss is compared tightly; the first epoch's mean loss loosely.
"""
from __future__ import annotations

import pathlib
import re
import types

import pytest

HERE = pathlib.Path(__file__).resolve().parent
_IMPORT = re.compile(r"^(import|from) torch\b(.*)$", re.M)


def port_to_deepx(source: str) -> str:
    """The whole port: `import torch` -> `import deepx as torch`, `torch.x` -> `deepx.x`."""
    def swap(match):
        keyword, rest = match.groups()
        if keyword == "import" and rest == "":
            return "import deepx as torch"
        return f"{keyword} deepx{rest}"

    ported = _IMPORT.sub(swap, source)
    assert not re.search(r"^\s*(import|from) torch\b", ported, re.M)
    return ported


def load_program(name: str, framework: str) -> types.ModuleType:
    """tests/port/<name>.py as a fresh module, on PyTorch or ported to deepx."""
    path = HERE / f"{name}.py"
    source = path.read_text()
    if framework == "torch":
        pytest.importorskip("torch")
    else:
        source = port_to_deepx(source)
    module = types.ModuleType(f"port_{name}_{framework}")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - our own file
    return module


def test_port_changes_only_import_lines():
    source = (HERE / "cnn_digits.py").read_text()
    ported = port_to_deepx(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), ported.splitlines()) if a != b]
    assert changed == [("import torch", "import deepx as torch"),
                       ("import torch.nn as nn", "import deepx.nn as nn"),
                       ("import torch.nn.functional as F", "import deepx.nn.functional as F"),
                       ("from torch.utils.data import DataLoader, TensorDataset",
                        "from deepx.utils.data import DataLoader, TensorDataset")]


def _run(name, framework, **kwargs):
    return load_program(name, framework).main(**kwargs)


def _compare(ours, theirs):
    """The same initial loss (same weights and data); a like first epoch (mean minibatch loss;
    the minibatches differ)."""
    assert ours["initial_loss"] == pytest.approx(theirs["initial_loss"], rel=1e-4)
    assert ours["epoch_losses"][0] == pytest.approx(theirs["epoch_losses"][0], rel=0.25)


def test_cnn_digits_with_scheduler_and_checkpoint(tmp_path):
    pytest.importorskip("sklearn")
    ours = _run("cnn_digits", "deepx", checkpoint_dir=str(tmp_path))
    assert ours["accuracy"] >= 0.88, ours
    assert ours["final_loss"] < 0.3 * ours["initial_loss"]
    assert ours["lr"] == pytest.approx(5e-3 * 0.5 ** 2)  # StepLR survived the checkpoint
    try:
        theirs = _run("cnn_digits", "torch", checkpoint_dir=str(tmp_path))
    except pytest.skip.Exception:
        return
    _compare(ours, theirs)
    assert abs(ours["accuracy"] - theirs["accuracy"]) <= 0.05, (ours, theirs)
    assert ours["lr"] == pytest.approx(theirs["lr"])


def test_char_model_with_embedding():
    ours = _run("char_model", "deepx")
    assert ours["accuracy"] >= 0.9, ours
    assert ours["padding_grad"] == 0.0  # padding_idx's row gets no gradient
    try:
        theirs = _run("char_model", "torch")
    except pytest.skip.Exception:
        return
    _compare(ours, theirs)
    assert abs(ours["accuracy"] - theirs["accuracy"]) <= 0.05, (ours, theirs)
    assert theirs["padding_grad"] == 0.0


@pytest.mark.parametrize("optimizer_name, min_r2", [("sgd", 0.97), ("adagrad", 0.9),
                                                    ("adadelta", 0.8)])
def test_regression_with_clip_grad_norm(optimizer_name, min_r2):
    ours = _run("regression", "deepx", optimizer_name=optimizer_name)
    assert ours["r2"] >= min_r2, ours
    try:
        theirs = _run("regression", "torch", optimizer_name=optimizer_name)
    except pytest.skip.Exception:
        return
    _compare(ours, theirs)
    assert abs(ours["r2"] - theirs["r2"]) <= 0.05, (ours, theirs)
