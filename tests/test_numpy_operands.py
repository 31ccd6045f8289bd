"""PyTorch habits with NumPy data: NumPy scalars are weakly typed Python scalars, NumPy arrays
are tensors with their own dtype, NumPy integers serve as dims and window sizes, and a 0-d
tensor formats as a number. Checked against torch when it is importable, else against the
dtypes PyTorch documents."""
import numpy as np
import pytest

import deepx as dx
import deepx.nn as nn
import deepx.nn.functional as F
from deepx.errors import ShapeError

# (expression over x, the dtype PyTorch gives) for x a float32 tensor of shape (3,)
CASES = [
    ("x / np.float32(2)", "float32"), ("np.float32(2) * x", "float32"),
    ("x * np.int64(2)", "float32"), ("x + np.int32(1)", "float32"),
    ("x - np.float64(0.5)", "float32"), ("np.float32(1) - x", "float32"),
    ("x > np.float32(0)", "bool"), ("x ** np.int64(2)", "float32"),
    ("x + np.bool_(True)", "float32"), ("x.clamp(min=np.float32(0))", "float32"),
    ("x + np.ones(3, np.float32)", "float32"), ("x + np.ones(3)", "float64"),
    ("x + np.array(1.0)", "float64"),  # an array ranks as a dimensioned tensor, even 0-d
    ("x + np.array(1.0, np.float32)", "float32"), ("x.int() + np.array(2)", "int64"),
    ("x.int() + np.array(2, np.int32)", "int32"),
    ("x.int() * np.float32(2.5)", "float32"), ("x.int() + np.int64(2)", "int32"),
    ("x.double() * np.float32(2)", "float64"), ("x.sum(np.int64(0))", "float32"),
]


# torch 2.x with NumPy 2 warns about NumPy's __array_wrap__ protocol on the reference side
@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")
@pytest.mark.parametrize("expr,dtype", CASES, ids=[c[0] for c in CASES])
def test_numpy_scalars_and_arrays_as_operands(device, expr, dtype):
    host = np.array([-1.5, 0.25, 2.0], dtype=np.float32)
    x = dx.tensor(host, device=device)
    out = eval(expr)  # noqa: S307 - the expressions above
    assert out.dtype.name == dtype and out.device == x.device
    torch = pytest.importorskip("torch")
    ref = eval(expr, {"np": np, "x": torch.tensor(host)})  # noqa: S307
    assert str(ref.dtype) == f"torch.{dtype}"
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


def test_numpy_integers_as_dims_and_window_sizes(device):
    x = dx.randn(2, 3, 8, 8, device=device)
    assert nn.MaxPool2d(np.int64(2))(x).shape == (2, 3, 4, 4)
    assert F.max_pool2d(x, (np.int32(2), 4), stride=[]).shape == (2, 3, 4, 2)
    assert x.sum(dim=(np.int64(1), -1)).shape == (2, 8)
    assert x.mean(np.int64(-1)).shape == (2, 3, 8)
    for bad in (2.0, "2", (2, 2, 2)):
        with pytest.raises(ShapeError, match="kernel_size must be an int or a pair of ints"):
            F.max_pool2d(x, bad)


def test_a_scalar_tensor_formats_as_a_number(device):
    loss = dx.tensor(1.23456, device=device)
    assert f"{loss:.3f}" == "1.235" and "{:e}".format(loss) == "1.234560e+00"
    assert f"{dx.tensor(7, device=device):>4}" == "   7"
    assert f"{loss}" == str(loss.item())  # as torch: the number, not the repr
    with pytest.raises(TypeError):
        f"{dx.ones(2, device=device):.2f}"
