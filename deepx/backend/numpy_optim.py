"""NumPy reference versions of the fused optimizer-step primitives.

Each follows the order of operations of torch.optim's single-tensor (CPU) implementation, so
results agree with PyTorch to rounding. Scalars stay Python floats: NumPy then computes in
the arrays' own dtype, as PyTorch does.
"""
from __future__ import annotations

import math

import numpy as np


def _lerp_(start, end, weight: float) -> None:
    """start += weight * (end - start) in place, with torch.lerp's two-sided formula."""
    w = start.dtype.type(weight)  # torch (and kernels/optim.cl) take 1 - w in the array dtype
    if w < 0.5:
        start += w * (end - start)
    else:
        start[...] = end - (end - start) * (1 - w)


def _sgd(param, grad, momentum_buf, lr, momentum, dampening, weight_decay, nesterov, maximize,
         first_step):
    """torch.optim.SGD's single-tensor step on one parameter, in place."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if first_step:  # torch clones the gradient: no dampening on the first step
            momentum_buf[...] = g
        else:
            momentum_buf *= momentum
            momentum_buf += (1 - dampening) * g
        g = g + momentum * momentum_buf if nesterov else momentum_buf
    param -= lr * g


def _adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
          weight_decay, step, amsgrad, decoupled, maximize):
    """torch.optim.Adam's (AdamW's when decoupled) single-tensor step on one parameter."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    _lerp_(exp_avg, g, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
    else:
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    param += -step_size * exp_avg / denom


class NumpyOptimPrimitives:
    """Mixin of NumpyBackend: one in-place update primitive per optimizer."""

    def sgd_step_(self, params, grads, momentum_bufs, lr, momentum, dampening, weight_decay,
                  nesterov, maximize, first_step):
        for i, (param, grad) in enumerate(zip(params, grads)):
            _sgd(param, grad, None if momentum_bufs is None else momentum_bufs[i], lr,
                 momentum, dampening, weight_decay, nesterov, maximize, first_step)

    def adam_step_(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, lr, beta1,
                   beta2, eps, weight_decay, step, amsgrad, decoupled, maximize):
        for i, (param, grad) in enumerate(zip(params, grads)):
            _adam(param, grad, exp_avgs[i], exp_avg_sqs[i],
                  None if max_exp_avg_sqs is None else max_exp_avg_sqs[i], lr, beta1, beta2,
                  eps, weight_decay, step, amsgrad, decoupled, maximize)

    def rmsprop_step_(self, param, grad, square_avg, grad_avg, momentum_buf, lr, alpha, eps,
                      weight_decay, momentum, centered, maximize):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if centered:
            _lerp_(grad_avg, g, 1 - alpha)
            with np.errstate(invalid="ignore"):  # rounding may dip below 0: NaN, as in torch
                avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        if momentum > 0:
            momentum_buf *= momentum
            momentum_buf += g / avg
            param -= lr * momentum_buf
        else:
            param += -lr * g / avg

    def adagrad_step_(self, param, grad, state_sum, lr, lr_decay, weight_decay, eps, step,
                      maximize):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum += g * g
        std = np.sqrt(state_sum) + eps
        param += -clr * (g / std)

    def adadelta_step_(self, param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                       maximize):
        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps) / std * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param += -lr * delta
