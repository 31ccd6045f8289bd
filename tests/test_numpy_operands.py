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
    # PyTorch computes tensor op ndarray in NumPy: NumPy's promotion decides the dtype
    ("x + np.array([1, 2, 3])", "float64"), ("x * np.array(2)", "float64"),
    ("x.long() / np.array([1, 2, 3])", "float64"), ("x.int() + np.array([1, 2, 3], np.int8)",
                                                     "int32"),
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


def test_a_numpy_integer_index_is_an_int_index(device):
    """x[np.int64(0)] is a view, as x[0] is (a loop over an array yields NumPy integers)."""
    x = dx.arange(6.0, device=device).reshape(2, 3)
    row = x[np.int64(0)]
    row.fill_(9.0)
    assert x.tolist() == [[9.0, 9.0, 9.0], [3.0, 4.0, 5.0]]
    x[np.int64(1)] = 1.0
    x[:, np.int32(2)] = 7.0
    assert x.tolist() == [[9.0, 9.0, 7.0], [1.0, 1.0, 7.0]]
    assert float(x[np.int64(1), np.int64(0)]) == 1.0


def test_numpy_integers_where_pytorch_takes_ints(device):
    x = dx.arange(6.0, device=device).reshape(2, 3)
    values, indices = x.max(np.int64(1))  # (values, indices), as with an int dim
    assert values.tolist() == [2.0, 5.0] and indices.tolist() == [2, 2]
    assert x.min(dim=np.int32(0)).indices.tolist() == [0, 0, 0]
    assert x.unsqueeze(0).squeeze(np.int64(0)).shape == (2, 3)
    assert x.flip(np.int64(1)).tolist() == [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
    assert x.roll(np.int64(1), np.int64(1)).tolist() == [[2.0, 0.0, 1.0], [5.0, 3.0, 4.0]]
    assert [t.shape for t in x.split(np.int64(1))] == [(1, 3), (1, 3)]
    assert nn.LayerNorm(np.int64(3)).to(device)(x).shape == (2, 3)
    assert F.layer_norm(x, (np.int64(3),)).shape == (2, 3)
    assert float(x.norm(p=np.float32(1))) == 15.0
    img = dx.randn(1, 1, 2, 3, device=device)
    assert nn.AdaptiveAvgPool2d((np.int64(1), np.int64(1)))(img).shape == (1, 1, 1, 1)
    assert F.interpolate(img, scale_factor=np.float32(2)).shape == (1, 1, 4, 6)


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_numpy_data_builds_tensors_of_its_dtype():
    torch = pytest.importorskip("torch")
    for expr in ("arange(np.int64(3))", "full((2,), np.int64(1))", "tensor([np.float64(1.5)])",
                 "tensor([np.ones(2), np.ones(2)])", "tensor([1.5])", "full((2,), np.float32(2))",
                 "tensor([np.int32(1), np.int32(2)])"):
        got = eval("dx." + expr, {"dx": dx, "np": np})  # noqa: S307 - the expressions above
        want = eval("torch." + expr, {"torch": torch, "np": np})  # noqa: S307
        assert str(want.dtype) == f"torch.{got.dtype.name}", expr
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_numpy_values_deepx_cannot_hold_are_refused_by_name(device):
    """Complex, datetime and text data raise a DTypeError naming the op, never cast silently
    (a datetime used to fill as its day count, a complex as its real part)."""
    from deepx.errors import DTypeError

    v = dx.ones(3, device=device)
    cases = [(lambda: v + np.datetime64(5, "ns"), "add"), (lambda: v * np.complex64(1j), "mul"),
             (lambda: v.fill_(np.datetime64("2020-01-01")), "fill_"),
             (lambda: v.fill_(np.complex64(1 + 2j)), "fill_"), (lambda: v.fill_(1j), "fill_"),
             (lambda: dx.tensor(np.ones(2, complex)), "tensor"),
             (lambda: dx.full((2,), np.complex128(1j)), "full"),
             (lambda: dx.full((2,), 1j), "full"), (lambda: dx.tensor(["a"]), "tensor"),
             (lambda: dx.tensor(np.array([1, "a"], dtype=object)), "tensor")]
    for make, op in cases:
        with pytest.raises(DTypeError, match=f"^{op}: "):
            make()


def test_matmul_with_an_array_and_cat_of_non_tensors(device):
    v = dx.tensor([1.0, 2.0, 3.0], device=device)
    out = v @ np.ones(3, np.float32)
    assert float(out) == 6.0 and out.dtype is dx.float32
    assert (v @ np.ones(3)).dtype is dx.float64  # NumPy's promotion, as torch
    with pytest.raises(TypeError, match="matmul: expected tensors"):
        v @ [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="cat: expected a sequence of tensors, got ndarray at "
                                        "position 1"):
        dx.cat([v, np.ones(3, np.float32)])
    with pytest.raises(TypeError, match="stack: expected a sequence of tensors, got list"):
        dx.stack([v, [1.0, 2.0, 3.0]])


def test_fill_takes_a_number_not_an_array(device):
    from deepx.errors import ShapeError

    v = dx.zeros(3, device=device)
    assert v.fill_(np.float32(2)).tolist() == [2.0, 2.0, 2.0]
    assert v.fill_(np.array(3.0)).tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ShapeError, match="fill_: only supports 0-dimension"):
        v.fill_(np.array([7.0, 8.0, 9.0]))


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
def test_casts_pytorch_makes_on_request(device):
    """An explicit dtype casts complex data (the real part, as torch); fill_ converts a 0-d
    tensor value of another dtype (torch: bool.fill_(tensor(1)) is all True)."""
    got = dx.tensor(np.array([1 + 2j, 3 - 1j]), dtype=dx.float32, device=device)
    assert got.tolist() == [1.0, 3.0]
    flags = dx.tensor([True, False], device=device)
    assert flags.fill_(dx.tensor(1, device=device)).tolist() == [True, True]
    ints = dx.tensor([1, 2, 3], device=device)
    assert ints.fill_(dx.tensor(2.5, device=device)).tolist() == [2, 2, 2]
