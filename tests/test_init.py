"""deepx.nn.init: PyTorch's gain table exactly, and each initialiser's distribution checked
statistically (bounds, mean, std) on the default device."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import deepx as dx
from deepx.nn import init

# Sample sizes are chosen so that 5 standard errors stay well under the tolerances used.
N = 200_000


def _draw(fn, shape, *args, **kwargs) -> np.ndarray:
    t = dx.empty(*shape)
    out = fn(t, *args, **kwargs)
    assert out is t  # in place, returns the tensor
    return t.numpy().astype(np.float64)


@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1.0), ("conv1d", None, 1.0), ("conv2d", None, 1.0), ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0), ("conv_transpose2d", None, 1.0),
    ("conv_transpose3d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5.0 / 3),
    ("relu", None, math.sqrt(2.0)), ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)), ("leaky_relu", 1, 1.0),
    ("leaky_relu", math.sqrt(5), math.sqrt(1.0 / 3)), ("selu", None, 0.75),
])
def test_calculate_gain_matches_pytorch_table(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))


def test_calculate_gain_rejects_bad_input():
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", True)


def test_constant_ones_zeros():
    np.testing.assert_array_equal(_draw(init.constant_, (3, 4), 2.5), np.full((3, 4), 2.5))
    np.testing.assert_array_equal(_draw(init.ones_, (5,)), np.ones(5))
    np.testing.assert_array_equal(_draw(init.zeros_, (2, 2, 2)), np.zeros((2, 2, 2)))


def test_uniform_and_normal_statistics():
    dx.manual_seed(1)
    u = _draw(init.uniform_, (N,), -3.0, 5.0)
    assert u.min() >= -3.0 and u.max() < 5.0
    assert u.mean() == pytest.approx(1.0, abs=0.05)
    assert u.std() == pytest.approx(8 / math.sqrt(12), rel=0.01)
    g = _draw(init.normal_, (N,), 2.0, 0.5)
    assert g.mean() == pytest.approx(2.0, abs=0.005)
    assert g.std() == pytest.approx(0.5, rel=0.01)


def test_xavier_uniform_bound_and_std():
    dx.manual_seed(2)
    fan_in, fan_out = 300, 700
    w = _draw(init.xavier_uniform_, (fan_out, fan_in), gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_xavier_normal_std_uses_receptive_field():
    dx.manual_seed(3)
    w = _draw(init.xavier_normal_, (64, 32, 5, 5))  # fan_in 32*25, fan_out 64*25
    assert w.mean() == pytest.approx(0.0, abs=0.002)
    assert w.std() == pytest.approx(math.sqrt(2.0 / (32 * 25 + 64 * 25)), rel=0.01)


def test_kaiming_uniform_default_and_pytorch_linear_default():
    dx.manual_seed(4)
    w = _draw(init.kaiming_uniform_, (500, 400))  # a=0, leaky_relu: gain sqrt(2)
    bound = math.sqrt(6.0 / 400)
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound
    w = _draw(init.kaiming_uniform_, (500, 400), a=math.sqrt(5))  # nn.Linear's default
    assert np.abs(w).max() <= (1 / math.sqrt(400)) * (1 + 1e-6)
    assert w.std() == pytest.approx(1 / math.sqrt(400) / math.sqrt(3), rel=0.01)


def test_kaiming_normal_fan_out_relu():
    dx.manual_seed(5)
    w = _draw(init.kaiming_normal_, (32, 16, 3, 3), mode="fan_out", nonlinearity="relu")
    w = np.concatenate([w.ravel(), _draw(init.kaiming_normal_, (32, 16, 3, 3),
                                         mode="fan_out", nonlinearity="relu").ravel()])
    assert w.std() == pytest.approx(math.sqrt(2.0) / math.sqrt(32 * 9), rel=0.03)
    assert w.mean() == pytest.approx(0.0, abs=0.01)


def test_fan_errors_and_bad_mode():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(dx.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(dx.empty(3, 3), mode="fan_avg")


def test_zero_element_tensor_is_a_no_op_with_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = init.kaiming_uniform_(dx.empty(0, 3))
    assert t.shape == (0, 3) and "zero-element" in str(caught[0].message)


@pytest.mark.parametrize("shape", [(64, 64), (20, 50), (50, 20), (8, 3, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    dx.manual_seed(6)
    w = _draw(init.orthogonal_, shape, gain=1.5).reshape(shape[0], -1) / 1.5
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_rejects_vectors():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(dx.empty(4))


def _truncated_moments(mean, std, a, b):
    """Mean and std of N(mean, std^2) truncated to [a, b] (closed form)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = (pdf(alpha) - pdf(beta)) / z
    v = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - m * m
    return mean + std * m, std * math.sqrt(v)


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),    # the defaults
    (1.0, 0.02, 0.97, 1.04),  # ViT-style small std
    (0.0, 1.0, 2.0, 3.0),     # entirely in the right tail
    (0.0, 1.0, -6.0, -5.0),   # far in the left tail
])
def test_trunc_normal_within_bounds_with_truncated_moments(mean, std, a, b):
    dx.manual_seed(7)
    t = _draw(init.trunc_normal_, (N,), mean, std, a, b)
    assert t.min() >= a and t.max() <= b
    m, s = _truncated_moments(mean, std, a, b)
    assert t.mean() == pytest.approx(m, abs=0.01 * s)
    assert t.std() == pytest.approx(s, rel=0.02)


def test_trunc_normal_defaults():
    dx.manual_seed(8)
    t = _draw(init.trunc_normal_, (1000,))
    assert t.min() >= -2.0 and t.max() <= 2.0


def test_init_on_parameter_requiring_grad_is_untracked_and_seeded():
    dx.manual_seed(9)
    w = dx.empty(4, 4, requires_grad=True)
    init.xavier_uniform_(w)
    first = w.numpy().copy()
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    dx.manual_seed(9)
    init.xavier_uniform_(w)
    np.testing.assert_array_equal(w.numpy(), first)
