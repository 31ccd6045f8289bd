"""deepx.nn.functional beyond the op table (whose OpInfo.torch twins check values and gradients
against PyTorch): max-pool indices and batch-norm running statistics against PyTorch, extreme
logits, bad-input errors raised before any kernel runs, and dropout statistics."""
from __future__ import annotations

import numpy as np
import pytest

import deepx as dx
import deepx.nn.functional as F
from deepx.errors import DeepxError, DTypeError, ShapeError


# ---------------------------------------------------------------- PyTorch agreement
# Values and gradients of every functional op against PyTorch run from the op table
# (tests/op_table_nn.py, OpInfo.torch; tests/test_ops.py::test_matches_pytorch). Here: what
# the table cannot express (indices, running statistics).
def _rng():
    return np.random.default_rng(7)


def test_max_pool_indices_match_pytorch(device):
    torch = pytest.importorskip("torch")
    x = _rng().standard_normal((2, 3, 9, 7)).astype(np.float32)
    out, idx = F.max_pool2d(dx.tensor(x, device=device), 3, 2, 1, return_indices=True)
    ref, ref_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    assert idx.dtype is dx.int64


def test_max_pool_indices_cost_no_second_pooling_launch(opencl_device):
    """return_indices is one MaxPool2dFunction call: the pooling primitive runs once, the
    indices carry no gradient and the values keep theirs."""
    from deepx.backend.opencl import runtime

    x = dx.tensor(_rng().standard_normal((2, 3, 9, 7)).astype(np.float32),
                  device=opencl_device, requires_grad=True)

    def pool_launches(return_indices):
        seen = []

        def listener(op, name, global_size, event):
            if op == "max_pool2d":
                seen.append(name)

        runtime.LAUNCH_LISTENERS.append(listener)
        try:
            res = F.max_pool2d(x, 3, 2, 1, return_indices=return_indices)
        finally:
            runtime.LAUNCH_LISTENERS.remove(listener)
        return seen, res

    plain, out_plain = pool_launches(False)
    seen, (out, idx) = pool_launches(True)
    assert seen == plain and len(seen) == len(set(seen)) >= 1, seen
    assert out.requires_grad and not idx.requires_grad and idx.dtype is dx.int64
    np.testing.assert_array_equal(out.numpy(), out_plain.numpy())
    out.sum().backward()
    grad = x.grad.numpy().reshape(2, 3, -1)
    expected = np.zeros_like(grad)
    np.add.at(expected, (np.arange(2)[:, None, None], np.arange(3)[None, :, None],
                         idx.numpy().reshape(2, 3, -1)), 1.0)
    np.testing.assert_array_equal(grad, expected)


def test_batch_norm_running_stats_match_pytorch(device):
    torch = pytest.importorskip("torch")
    rng = _rng()
    c = 3
    rm, rv = dx.zeros(c, device=device), dx.ones(c, device=device)
    trm, trv = torch.zeros(c), torch.ones(c)
    w = dx.tensor(rng.uniform(0.5, 1.5, c).astype(np.float32), device=device,
                  requires_grad=True)
    tw = torch.tensor(w.numpy())
    for step in range(3):
        x = rng.standard_normal((4, c, 5, 2)).astype(np.float32) * (step + 1) + step
        out = F.batch_norm(dx.tensor(x, device=device, requires_grad=True), rm, rv, w,
                           training=True, momentum=0.2)
        ref = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, tw, training=True,
                                             momentum=0.2)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)
    assert not rm.requires_grad and rm.grad_fn is None
    x = rng.standard_normal((2, c, 3, 3)).astype(np.float32)
    before = rm.numpy()
    out = F.batch_norm(dx.tensor(x, device=device), rm, rv, w, training=False)
    ref = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, tw, training=False)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(rm.numpy(), before)  # eval mode leaves them alone


# ---------------------------------------------------------------- extreme values
@pytest.mark.parametrize("name", ["cross_entropy", "log_softmax", "softmax", "bce_logits",
                                  "nll_of_log_softmax"])
def test_extreme_logits_stay_finite(name, device):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [3.0, 1e4, -1e4]], dtype=np.float32)
    t = np.array([1, 2, 0], dtype=np.int64)
    logits = dx.tensor(x, device=device, requires_grad=True)
    target = dx.tensor(t, device=device)
    if name == "cross_entropy":
        out = F.cross_entropy(logits, target, label_smoothing=0.1)
    elif name == "log_softmax":
        out = F.log_softmax(logits, dim=1).sum()
    elif name == "softmax":
        out = (F.softmax(logits, dim=1) * dx.tensor(x / 1e4, device=device)).sum()
    elif name == "bce_logits":
        y = dx.tensor((x > 0).astype(np.float32) * 0.5, device=device)
        out = F.binary_cross_entropy_with_logits(logits, y)
    else:
        out = F.nll_loss(F.log_softmax(logits, dim=1), target)
    out.backward()
    assert np.isfinite(out.numpy()).all(), f"{name} forward: {out.numpy()}"
    assert np.isfinite(logits.grad.numpy()).all(), f"{name} backward: {logits.grad.numpy()}"
    if name == "cross_entropy":  # loss of row 0 is ~2e4: the wrong class wins by 2e4
        assert out.item() > 1e3


def test_binary_cross_entropy_saturated_probabilities(device):
    x = dx.tensor([0.0, 1.0, 0.5, 1.0], device=device, requires_grad=True)
    y = dx.tensor([0.0, 1.0, 1.0, 0.0], device=device)
    out = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_allclose(out.numpy(), [0, 0, np.log(2), 100], rtol=1e-6)
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------- bad input
def _no_launch(device, fn):
    """Run fn (which must raise) and check no OpenCL kernel was launched meanwhile."""
    if device.type != "opencl":
        return fn()
    from deepx.backend.opencl import runtime

    seen = []
    runtime.LAUNCH_LISTENERS.append(lambda *info: seen.append(info))
    try:
        return fn()
    finally:
        runtime.LAUNCH_LISTENERS.pop()
        assert not seen, f"kernels ran before the error: {[s[1] for s in seen]}"


def _zeros(device, *shape, dtype=np.float32, fill=0):
    """A tensor uploaded from the host (no kernel launch, unlike dx.zeros on OpenCL)."""
    return dx.tensor(np.full(shape, fill, dtype=dtype), device=device)


BAD = [
    ("conv2d rank", lambda d: F.conv2d(_zeros(d, 2, 3), _zeros(d, 1, 3, 1, 1)),
     ShapeError, r"conv2d: expected input \(N, C, H, W\).*input \(2, 3\) and weight "
     r"\(1, 3, 1, 1\)"),
    ("conv2d channels", lambda d: F.conv2d(_zeros(d, 1, 3, 5, 5),
                                           _zeros(d, 4, 2, 3, 3)),
     ShapeError, r"conv2d: weight expects 2 input channels .* but the input has 3 "
     r"\(input \(1, 3, 5, 5\) and weight \(4, 2, 3, 3\)\)"),
    ("conv2d groups", lambda d: F.conv2d(_zeros(d, 1, 4, 5, 5),
                                         _zeros(d, 3, 2, 3, 3), groups=2),
     ShapeError, r"conv2d: groups=2 must be a positive int dividing both the input channels "
     r"4 and the output channels 3"),
    ("conv2d kernel too big", lambda d: F.conv2d(_zeros(d, 1, 1, 4, 9),
                                                 _zeros(d, 1, 1, 5, 3), padding=0),
     ShapeError, r"conv2d: kernel size 5 \(dilated\) is larger than the padded input 4 along "
     r"H \(input \(1, 1, 4, 9\) and weight \(1, 1, 5, 3\)"),
    ("conv2d bias", lambda d: F.conv2d(_zeros(d, 1, 1, 4, 4),
                                       _zeros(d, 2, 1, 3, 3), _zeros(d, 3)),
     ShapeError, r"conv2d: bias must have shape \(2,\), got \(3,\)"),
    ("conv2d dtype", lambda d: F.conv2d(_zeros(d, 1, 1, 4, 4),
                                        _zeros(d, 1, 1, 3, 3, dtype=np.float64)),
     DTypeError, r"conv2d: expected floating tensors of one dtype, got input float32 "
     r"\(1, 1, 4, 4\), weight float64 \(1, 1, 3, 3\)"),
    ("conv2d stride", lambda d: F.conv2d(_zeros(d, 1, 1, 4, 4),
                                         _zeros(d, 1, 1, 3, 3), stride=0),
     ShapeError, r"conv2d: stride must be an int or a pair of ints >= 1, got 0"),
    ("conv1d rank", lambda d: F.conv1d(_zeros(d, 1, 2, 3, 4),
                                       _zeros(d, 1, 2, 3)),
     ShapeError, r"conv1d: expected input \(N, C, L\).*\(1, 2, 3, 4\)"),
    ("linear", lambda d: F.linear(_zeros(d, 2, 3), _zeros(d, 4, 5)),
     ShapeError, r"linear: input \(2, 3\) and weight \(4, 5\) do not fit"),
    ("max_pool2d too small", lambda d: F.max_pool2d(_zeros(d, 1, 1, 2, 2), 3),
     ShapeError, r"max_pool2d: given input size \(1, 1, 2, 2\), kernel_size \(3, 3\).*"
     r"output size \(0, 0\) is too small"),
    ("max_pool2d padding", lambda d: F.max_pool2d(_zeros(d, 1, 1, 6, 6), 2,
                                                  padding=2),
     ShapeError, r"max_pool2d: pad should be at most half of effective kernel size"),
    ("avg_pool2d rank", lambda d: F.avg_pool2d(_zeros(d, 6, 6), 2),
     ShapeError, r"avg_pool2d: expected input \(N, C, H, W\) or \(C, H, W\), got \(6, 6\)"),
    # A float target is a class-probability target (PyTorch 1.10+): it needs input's shape.
    ("cross_entropy float target", lambda d: F.cross_entropy(
        _zeros(d, 3, 4), _zeros(d, 3)),
     ShapeError, r"cross_entropy: class-probability targets must have the input's shape "
     r"\(N, C, \*\) or \(C,\); got input \(3, 4\), target \(3,\)"),
    # class indices given as host data are checked for free (device tensors: test_dispatch.py)
    ("cross_entropy range", lambda d: F.cross_entropy(
        _zeros(d, 3, 4), [0, 4, 1]),
     ShapeError, r"cross_entropy: target 4 is out of bounds for 4 classes \(input \(3, 4\), "
     r"target \(3,\)\)"),
    ("cross_entropy negative", lambda d: F.cross_entropy(
        _zeros(d, 3, 4), np.array([0, -1, 1])),
     ShapeError, r"cross_entropy: target -1 is out of bounds for 4 classes"),
    ("cross_entropy shape", lambda d: F.cross_entropy(
        _zeros(d, 3, 4), dx.tensor([0, 1], device=d)),
     ShapeError, r"cross_entropy: expected input \(N, C, \*\) with target \(N, \*\).*"
     r"input \(3, 4\), target \(2,\)"),
    ("cross_entropy weight", lambda d: F.cross_entropy(
        _zeros(d, 3, 4), dx.tensor([0, 1, 2], device=d), _zeros(d, 3, fill=1)),
     ShapeError, r"cross_entropy: weight must be a \(4,\) tensor of dtype float32, got "
     r"float32 \(3,\)"),
    ("nll_loss range", lambda d: F.nll_loss(_zeros(d, 2, 3),
                                            dx.tensor([3, 0], device=d)),
     ShapeError, r"nll_loss: target 3 is out of bounds for 3 classes \(input \(2, 3\), "
     r"target \(2,\)\)"),
    ("nll_loss float target", lambda d: F.nll_loss(_zeros(d, 2, 3),
                                                   dx.tensor([1.0, 0.0], device=d)),
     DTypeError, r"nll_loss: expected class-index targets of an integer dtype"),
    ("mse_loss shapes", lambda d: F.mse_loss(_zeros(d, 2, 3), _zeros(d, 4)),
     ShapeError, r"mse_loss: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    ("bce shapes", lambda d: F.binary_cross_entropy(_zeros(d, 2, 3),
                                                    _zeros(d, 3)),
     ShapeError, r"binary_cross_entropy: using a target size \(3,\) that is different to the "
     r"input size \(2, 3\)"),
    ("batch_norm stats", lambda d: F.batch_norm(_zeros(d, 2, 3), _zeros(d, 4),
                                                _zeros(d, 3, fill=1)),
     ShapeError, r"batch_norm: running_mean must have shape \(3,\) for input \(2, 3\), got "
     r"\(4,\)"),
    ("batch_norm one value", lambda d: F.batch_norm(_zeros(d, 1, 3), None, None,
                                                    training=True),
     ShapeError, r"batch_norm: expected more than 1 value per channel when training"),
    ("batch_norm eval without stats", lambda d: F.batch_norm(_zeros(d, 2, 3), None,
                                                             None),
     DeepxError, r"batch_norm: running_mean and running_var must be given"),
    ("layer_norm", lambda d: F.layer_norm(_zeros(d, 2, 3, 4), (3,)),
     ShapeError, r"layer_norm: normalized_shape \(3,\) does not match the trailing dims of "
     r"input \(2, 3, 4\)"),
    ("prelu", lambda d: F.prelu(_zeros(d, 2, 3, 4), _zeros(d, 2)),
     ShapeError, r"prelu: weight must hold 1 or 3 \(channel\) values"),
    ("softmax dim", lambda d: F.softmax(_zeros(d, 2, 3), dim=2),
     ShapeError, r"softmax: dim 2 is out of range for a tensor of shape \(2, 3\)"),
    ("multi_margin p", lambda d: F.multi_margin_loss(_zeros(d, 2, 3),
                                                     dx.tensor([0, 1], device=d), p=3),
     ValueError, r"multi_margin_loss: only p == 1 and p == 2"),
    ("reduction", lambda d: F.l1_loss(_zeros(d, 2), _zeros(d, 2),
                                      reduction="avg"),
     ValueError, r"l1_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    ("dropout p", lambda d: F.dropout(_zeros(d, 2), p=1.5),
     ValueError, r"dropout: dropout probability has to be between 0 and 1, but got 1.5"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_raises_before_any_kernel(case, device):
    _, call, error, pattern = case
    with pytest.raises(error, match=pattern):
        _no_launch(device, lambda: call(device))


# ---------------------------------------------------------------- dropout
def test_dropout_statistics(device):
    dx.manual_seed(123)
    p = 0.3
    x = dx.ones(200, 500, device=device, requires_grad=True)
    out = F.dropout(x, p=p)
    kept = out.numpy() != 0
    assert abs(1 - kept.mean() - p) < 0.01
    np.testing.assert_allclose(out.numpy()[kept], 1 / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())  # d out / d x = mask / (1-p)
    again = F.dropout(x, p=p)  # the generator moved on: a different mask
    assert (again.numpy() != out.numpy()).mean() > 0.3
    assert F.dropout(x, p=p, training=False) is x
    assert F.dropconnect(x, p=p, training=False) is x


def test_dropout_masks_agree_across_backends(opencl_device):
    device = opencl_device
    x = np.random.default_rng(0).standard_normal((33, 65)).astype(np.float32)
    outs = []
    for dev in ("numpy", device):
        dx.manual_seed(5)
        outs.append(F.dropout(dx.tensor(x, device=dev), p=0.45).numpy())
    np.testing.assert_array_equal(outs[0] == 0, outs[1] == 0)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)


def test_dropout_mask_same_in_float32_and_float64():
    x = np.ones((50, 50))
    masks = []
    for dtype in (dx.float32, dx.float64):
        dx.manual_seed(9)
        masks.append(F.dropout(dx.tensor(x, dtype=dtype, device="numpy"), p=0.3).numpy() != 0)
    np.testing.assert_array_equal(masks[0], masks[1])


# ---------------------------------------------------------------- determinism, misc
def test_conv_backward_is_deterministic(opencl_device):
    device = opencl_device
    rng = _rng()
    x = rng.standard_normal((4, 8, 15, 15)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    grads = []
    for _ in range(3):
        xt = dx.tensor(x, device=device, requires_grad=True)
        wt = dx.tensor(w, device=device, requires_grad=True)
        out = F.max_pool2d(F.conv2d(xt, wt, stride=1, padding=1), 3, 2, 1)
        out.sum().backward()
        grads.append((xt.grad.numpy(), wt.grad.numpy()))
    for gx, gw in grads[1:]:
        np.testing.assert_array_equal(gx, grads[0][0])
        np.testing.assert_array_equal(gw, grads[0][1])


def test_tensor_methods_call_functional(device):
    x = dx.tensor([[1.0, -2.0, 3.0]], device=device)
    np.testing.assert_array_equal(x.relu().numpy(), [[1, 0, 3]])
    np.testing.assert_allclose(x.softmax(1).numpy().sum(), 1, rtol=1e-6)
    np.testing.assert_allclose(np.exp(x.log_softmax(-1).numpy()), x.softmax(-1).numpy(),
                               rtol=1e-6)


def test_size_zero_batches(device):
    x = dx.zeros(0, 3, 6, 6, device=device, requires_grad=True)
    w = dx.ones(2, 3, 3, 3, device=device, requires_grad=True)
    out = F.max_pool2d(F.conv2d(x, w, padding=1), 2)
    assert out.shape == (0, 2, 3, 3)
    out.sum().backward()
    assert x.grad.shape == (0, 3, 6, 6)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((2, 3, 3, 3)))
    loss = F.cross_entropy(dx.zeros(0, 4, device=device), dx.zeros(0, dtype=dx.int64,
                                                                 device=device),
                           reduction="sum")
    assert loss.item() == 0


# ---------------------------------------------------------------- primitives, directly
# (every nn primitive against NumPy: tests/primitive_table.py, run by test_opencl_backend.py)

def test_max_pool_backward_primitive_is_exact(opencl_device):
    device = opencl_device
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, (2, 3, 9, 8)).astype(np.float32)  # many ties: first index wins
    geom = ((3, 3), (2, 1), (1, 1), (1, 1))
    grad = rng.standard_normal((2, 3, 5, 8)).astype(np.float32)
    outs = []
    for be in (dx.device("numpy").backend, device.backend):
        out, argmax = be.max_pool2d(be.from_numpy(x), *geom, (5, 8))
        grad_x = be.max_pool2d_backward(be.from_numpy(grad), argmax, (9, 8), *geom)
        outs.append([be.to_numpy(a) for a in (out, argmax, grad_x)])
    for want, got in zip(*outs):
        np.testing.assert_array_equal(got, want)


def test_max_pool_indices_changed_in_place_refuse_backward():
    """As PyTorch: the indices are saved for backward, so an in-place change is a version error."""
    x = dx.randn(1, 2, 4, 4, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    idx.add_(1)
    with pytest.raises(dx.DeepxError, match="modified by an inplace operation"):
        out.sum().backward()
