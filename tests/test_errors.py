"""Bad input gets a clear error naming the op and the shapes, never a crash or garbage."""
from __future__ import annotations

import numpy as np
import pytest

import deepx as dx
from deepx.errors import DeepxError, DeviceError, DTypeError, ShapeError


def test_add_shape_mismatch(device):
    a, b = dx.zeros(2, 3, device=device), dx.zeros(4, device=device)
    with pytest.raises(ShapeError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        a + b


def test_elementwise_shape_mismatch_names_op_and_shapes(device):
    a, b = dx.zeros(2, 3, device=device), dx.zeros(4, device=device)
    cases = [(lambda: a // b, "floor_divide"), (lambda: a % b, "remainder"),
             (lambda: dx.maximum(a, b), "maximum"), (lambda: a.clamp(b), "clamp"),
             (lambda: a.clamp(a, b), "clamp"), (lambda: a.clamp_max(b), "clamp")]
    for call, op in cases:
        with pytest.raises(ShapeError, match=rf"{op}: shapes \(2, 3\) and .*\(4,\).* cannot be "
                                             r"broadcast"):
            call()
    with pytest.raises(DeepxError, match="clamp: at least one of 'min' or 'max' must not be None"):
        a.clamp()
    with pytest.raises(DTypeError, match="clamp: unsupported operand of type str"):
        a.clamp("0")


def test_matmul_shape_mismatch(device):
    a, b = dx.zeros(2, 3, device=device), dx.zeros(4, 5, device=device)
    with pytest.raises(ShapeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be "
                                         r"multiplied \(2x3 and 4x5\)"):
        a @ b


def test_matmul_batch_mismatch(device):
    a, b = dx.zeros(2, 3, 4, device=device), dx.zeros(3, 4, 5, device=device)
    with pytest.raises(ShapeError, match=r"matmul: shapes \(2,\) and \(3,\)"):
        a @ b


def test_matmul_zero_dim(device):
    with pytest.raises(ShapeError, match=r"matmul: .*\(\) and \(3,\)"):
        dx.tensor(1.0, device=device) @ dx.zeros(3, device=device)


def test_wrong_dtype(device):
    a = dx.zeros(2, 3, device=device)
    b = dx.zeros(3, 2, dtype=dx.int64, device=device)
    with pytest.raises(DTypeError, match=r"matmul: .*float32 \(2, 3\) and int64 \(3, 2\)"):
        a @ b
    with pytest.raises(DTypeError, match="where: condition must be a bool tensor"):
        dx.where(a, a, a)
    with pytest.raises(DTypeError, match="index: tensors used as indices must be long or int"):
        a[dx.tensor([0.5], device=device)]


def test_unsupported_dtype():
    with pytest.raises(DTypeError, match="complex"):
        dx.tensor([1.0], dtype="complex64")


def test_index_out_of_range(device):
    a = dx.zeros(3, 4, device=device)
    with pytest.raises(IndexError, match=r"index 5 is out of range for dimension 0 with size 3 "
                                         r"\(tensor of shape \(3, 4\)\)"):
        a[5]
    with pytest.raises(ShapeError, match=r"index 7 is out of bounds for dimension 0 with size 3 "
                                         r"\(tensor of shape \(3, 4\), index shape \(2,\)\)"):
        a[[0, 7]]
    with pytest.raises(IndexError, match=r"too many indices for tensor of shape \(3, 4\)"):
        a[0, 0, 0]
    with pytest.raises(ShapeError, match=r"sum: dim 2 is out of range for a tensor of shape "
                                         r"\(3, 4\)"):
        a.sum(dim=2)


def test_reshape_errors(device):
    a = dx.zeros(3, 4, device=device)
    with pytest.raises(ShapeError, match=r"reshape: shape \(5, -1\) is invalid for input of "
                                         r"size 12"):
        a.reshape(5, -1)
    with pytest.raises(ShapeError, match=r"cat: sizes of tensors must match except in "
                                         r"dimension 0; got shapes \(3, 4\) and \(3, 5\)"):
        dx.cat([a, dx.zeros(3, 5, device=device)])
    with pytest.raises(ShapeError, match=r"expand: shape \(3, 4\) cannot be expanded to "
                                         r"\(3, 5\)"):
        a.expand(3, 5)


def test_backward_misuse():
    x = dx.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(DeepxError, match="scalar outputs"):
        y.backward()
    s = y.sum()
    s.backward()
    with pytest.raises(DeepxError, match="second time"):
        s.backward()


def test_item_of_many_elements():
    with pytest.raises(DeepxError, match=r"item: a Tensor with 3 elements .*shape \(3,\)"):
        dx.zeros(3).item()


def test_device_mismatch(opencl_device):
    other = opencl_device
    a = dx.zeros(2, 3, device="numpy")
    b = dx.zeros(2, 3, device=other)
    with pytest.raises(DeviceError, match=r"add: expected all tensors on one device, got numpy "
                                          r"\(shape \(2, 3\)\) and opencl"):
        a + b


def test_unknown_device():
    with pytest.raises(DeviceError, match="unknown device 'cuda'"):
        dx.zeros(2, device="cuda")


def test_zero_size_tensors_work_like_numpy(device):
    a = dx.zeros(0, 3, device=device)
    assert (a + 1).shape == (0, 3)
    assert a.sum().item() == 0.0
    assert (a @ dx.zeros(3, 2, device=device)).shape == (0, 2)
    np.testing.assert_array_equal((dx.zeros(2, 0, device=device) @ dx.zeros(0, 3, device=device))
                                  .numpy(), np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"max: cannot reduce over a zero-size dimension"):
        a.amax()
