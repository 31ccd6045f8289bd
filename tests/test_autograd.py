"""The tape: the classic autograd bugs, grad modes, retain_graph, versions, memory."""
from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest

import deepx as dx
from deepx.autograd import tape
from deepx.errors import DeepxError


def leaf(values, device="numpy"):
    return dx.tensor(np.asarray(values, dtype=np.float64), device=device, requires_grad=True)


def test_node_used_twice():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    z = y + y
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, 2.0, 3.0]))


def test_residual_double_path():
    x = leaf([0.5, -1.0])
    h = x.tanh()
    out = (h + h * x + x).sum()  # x reaches out directly, through h, and through h * x
    out.backward()
    xs = np.array([0.5, -1.0])
    dh = 1 - np.tanh(xs) ** 2
    np.testing.assert_allclose(x.grad.numpy(), dh + dh * xs + np.tanh(xs) + 1)


def test_broadcast_gradients_sum_back_to_input_shape():
    a = leaf(np.ones((3, 1)))
    b = leaf(np.ones((4,)))
    c = leaf(2.0)
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,) and c.grad.shape == ()
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))
    assert c.grad.item() == 12.0


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_backward_twice_raises_and_retain_graph_allows_it():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(DeepxError, match="backward through the graph a second time"):
        y.backward()


def test_non_scalar_backward_needs_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(DeepxError, match=r"scalar outputs, got shape \(2,\)"):
        y.backward()
    y.backward(dx.tensor([1.0, 0.5], dtype=dx.float64, device="numpy"))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])


def test_backward_grad_on_another_device(opencl_device):
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(DeepxError, match="backward: grad is on opencl.* but the tensor is on "
                                         "numpy"):
        y.backward(dx.tensor([1.0, 0.5], dtype=dx.float64, device=opencl_device))


def test_backward_grad_of_wrong_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(DeepxError, match=r"grad has shape \(3,\).*shape \(2,\)"):
        y.backward(dx.tensor([1.0, 1.0, 1.0], dtype=dx.float64, device="numpy"))


def test_backward_on_tensor_without_grad():
    with pytest.raises(DeepxError, match="does not require grad"):
        dx.tensor([1.0]).sum().backward()


def test_deep_chain_has_no_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)
    del y
    gc.collect()


@pytest.mark.parametrize("fn", ["exp", "tanh", "sigmoid"])
@pytest.mark.parametrize("value", [1000.0, -1000.0])
def test_saturating_functions_at_extremes(fn, value):
    x = leaf([value])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow/invalid warning fails the test
        y = getattr(x, fn)()
        y.sum().backward()
    out, grad = y.numpy()[0], x.grad.numpy()[0]
    assert not np.isnan(out) and not np.isnan(grad)
    if fn == "exp":
        assert out == (np.inf if value > 0 else 0.0)
    else:
        assert np.isfinite(out) and grad == 0.0


def test_no_grad_and_enable_grad():
    x = leaf([1.0])
    with dx.no_grad():
        y = x * 2
        with dx.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @dx.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert dx.is_grad_enabled()


def test_grad_mode_decorator_is_reentrant():
    seen = []

    @dx.no_grad()
    def f(depth):
        seen.append(dx.is_grad_enabled())
        if depth:
            with dx.enable_grad():
                f(depth - 1)
        seen.append(dx.is_grad_enabled())

    with dx.no_grad():
        f(2)
        assert not dx.is_grad_enabled()
    assert dx.is_grad_enabled() and not any(seen)


def test_detach_and_requires_grad_():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    w = dx.tensor([1.0, 2.0]).requires_grad_()
    assert w.requires_grad and w.is_leaf


def test_integer_tensors_never_require_grad():
    with pytest.raises(DeepxError, match="floating point"):
        dx.tensor([1, 2], requires_grad=True)
    x = leaf([1.5, 2.5])
    assert not x.argmax().requires_grad
    assert not (x > 2).requires_grad


def test_non_leaf_grads_only_with_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    h2 = x * 3
    h2.retain_grad()
    (h * h2).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(h2.grad.numpy(), h.numpy())


def test_inplace_change_of_saved_tensor_is_caught():
    w = leaf([1.0, 2.0])
    y = (w * w).sum()
    with dx.no_grad():
        w.mul_(2.0)
    with pytest.raises(DeepxError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_outside_no_grad():
    w = leaf([1.0])
    with pytest.raises(DeepxError, match="leaf Variable that requires grad"):
        w.add_(1.0)


def test_shared_gradient_arrays_are_not_aliased():
    a, b = leaf([1.0]), leaf([2.0])
    (a + b).sum().backward()
    with dx.no_grad():
        a.grad.mul_(5.0)
    assert b.grad.item() == 1.0


def test_transfer_between_devices(opencl_device):
    dev = opencl_device
    x = dx.tensor([1.0, 2.0], device="numpy", requires_grad=True)
    y = (x.to(dev) * 3).to("numpy").sum()
    y.backward()
    assert x.grad.device == dx.Device("numpy")
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_forward_passes_without_backward_do_not_grow_tape_or_memory():
    pytest.importorskip("resource")  # Linux: /proc/self/statm gives the resident set
    w = dx.randn(64, 64, device="numpy", requires_grad=True)
    x = dx.randn(8, 64, device="numpy")

    def step():
        return ((x @ w).tanh() * 2).sum()

    for _ in range(200):
        step()
    gc.collect()
    base_nodes, before = len(tape), _rss_bytes()
    for _ in range(10_000):
        loss = step()
    del loss
    gc.collect()
    # A leak would keep ~6 KB of saved arrays per pass: 60 MB over 10,000 passes.
    assert len(tape) <= base_nodes
    assert _rss_bytes() - before < 8 * 2**20, "process memory grew"


def test_training_steps_release_records():
    w = dx.randn(16, 4, dtype=dx.float64, device="numpy", requires_grad=True)
    x = dx.randn(32, 16, dtype=dx.float64, device="numpy")
    base = len(tape)
    for _ in range(200):
        loss = ((x @ w) ** 2).mean()
        loss.backward()
        with dx.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None
    del loss
    assert len(tape) == base


def test_grad_fn_names_and_repr():
    x = leaf([1.0])
    y = x * 2
    assert y.grad_fn.name == "Mul"
    assert "grad_fn=<MulBackward0>" in repr(y)
    # PyTorch's spelling of the record itself: <MulBackward0 object at 0x...>
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
