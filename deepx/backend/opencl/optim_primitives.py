"""OpenCL versions of the fused optimizer-step primitives (kernels/optim.cl).

Each primitive is one launch over the parameter's elements. Scalars derived from the options
(1 - beta, bias corrections) are computed here in double, as torch.optim computes them in
Python, and passed to the kernel once converted to the parameter's dtype.
"""
from __future__ import annotations

import math

import numpy as np

from .runtime import PER_CALL


def _buffer(array):
    """The device buffer of an optional state array (NULL when the options leave it unused)."""
    return None if array is None else array.data


class CLOptimPrimitives:
    """Mixin of OpenCLBackend: one in-place update primitive per optimizer."""

    def sgd_step_(self, param, grad, momentum_buf, lr, momentum, dampening, weight_decay,
                  nesterov, maximize, first_step):
        if first_step:  # the first step initialises the momentum buffer: not a repeatable step
            self.runtime.check_not_capturing("SGD's first momentum step (run one step eagerly "
                                             "first)")
        grad = self.packed(grad)
        dt = param.dtype
        # the options rarely change: a prepared launch per (shape, options), buffers per call
        key = ("sgd_step_", param.shape, dt, lr, momentum, dampening, weight_decay, nesterov,
               maximize, first_step, momentum_buf is None)
        launch = self.chunk_launch(
            key, "sgd_step_", "optim.cl", "optim_sgd", dt, param.size,
            (np.int32(param.size), PER_CALL, PER_CALL, PER_CALL, self.scalar(lr, dt),
             self.scalar(momentum, dt), self.scalar(1 - dampening, dt),
             self.scalar(weight_decay, dt), np.int32(momentum != 0), np.int32(nesterov),
             np.int32(maximize), np.int32(first_step)))
        if launch is not None:
            self.runtime.run(launch, (param.data, grad.data, _buffer(momentum_buf)))

    def adam_step_(self, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2,
                   eps, weight_decay, step, amsgrad, decoupled, maximize):
        # the bias corrections change every step, and are launch arguments
        self.runtime.check_not_capturing("Adam's step (its bias correction depends on the step "
                                         "number)")
        grad = self.packed(grad)
        dt = param.dtype
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
        knl = self.kernel("optim.cl", "optim_adam", dt, op="adam_step_")
        self.launch_chunks("adam_step_", knl, param.size, np.int32(param.size), param.data,
                       grad.data, exp_avg.data, exp_avg_sq.data, _buffer(max_exp_avg_sq),
                       self.scalar(1 - beta1, dt), self.scalar(beta2, dt),
                       self.scalar(1 - beta2, dt), self.scalar(eps, dt),
                       self.scalar(weight_decay, dt), self.scalar(1 - lr * weight_decay, dt),
                       self.scalar(-step_size, dt), self.scalar(bias_correction2_sqrt, dt),
                       np.int32(amsgrad), np.int32(decoupled), np.int32(maximize))

    def rmsprop_step_(self, param, grad, square_avg, grad_avg, momentum_buf, lr, alpha, eps,
                      weight_decay, momentum, centered, maximize):
        grad = self.packed(grad)
        dt = param.dtype
        knl = self.kernel("optim.cl", "optim_rmsprop", dt, op="rmsprop_step_")
        self.launch_chunks("rmsprop_step_", knl, param.size, np.int32(param.size), param.data,
                       grad.data, square_avg.data, _buffer(grad_avg), _buffer(momentum_buf),
                       self.scalar(lr, dt), self.scalar(alpha, dt), self.scalar(1 - alpha, dt),
                       self.scalar(eps, dt), self.scalar(weight_decay, dt),
                       self.scalar(momentum, dt), np.int32(centered), np.int32(momentum > 0),
                       np.int32(maximize))

    def adagrad_step_(self, param, grad, state_sum, lr, lr_decay, weight_decay, eps, step,
                      maximize):
        if lr_decay != 0:  # the decayed lr changes every step, and is a launch argument
            self.runtime.check_not_capturing("Adagrad's step with lr_decay (its lr depends on "
                                             "the step number)")
        grad = self.packed(grad)
        dt = param.dtype
        clr = lr / (1 + (step - 1) * lr_decay)
        knl = self.kernel("optim.cl", "optim_adagrad", dt, op="adagrad_step_")
        self.launch_chunks("adagrad_step_", knl, param.size, np.int32(param.size), param.data,
                           grad.data, state_sum.data, self.scalar(-clr, dt),
                           self.scalar(weight_decay, dt), self.scalar(eps, dt),
                           np.int32(maximize))

    def adadelta_step_(self, param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                       maximize):
        grad = self.packed(grad)
        dt = param.dtype
        knl = self.kernel("optim.cl", "optim_adadelta", dt, op="adadelta_step_")
        self.launch_chunks("adadelta_step_", knl, param.size, np.int32(param.size), param.data,
                           grad.data, square_avg.data, acc_delta.data, self.scalar(-lr, dt),
                           self.scalar(rho, dt), self.scalar(1 - rho, dt), self.scalar(eps, dt),
                           self.scalar(weight_decay, dt), np.int32(maximize))
