"""OpenCL versions of the fused optimizer-step primitives (kernels/optim.cl).

sgd_step_ and adam_step_ are multi-tensor steps (torch's _fused_sgd_ / _fused_adam_): one
launch updates up to OPTIM_SLOTS parameters of one dtype. The others are one launch per
parameter. Scalars derived from the options (1 - beta, bias corrections) are computed here
in double, as torch.optim computes them in Python, and passed to the kernel once converted
to the parameter's dtype.
"""
from __future__ import annotations

import math

import numpy as np

from .runtime import PER_CALL, per_call

# Tensors per multi-tensor launch: kernels/optim.cl's OPTIM_SLOTS (a test checks they agree)
OPTIM_SLOTS = 16


def _buffer(array):
    """The device buffer of an optional state array (NULL when the options leave it unused)."""
    return None if array is None else array.data


class CLOptimPrimitives:
    """Mixin of OpenCLBackend: one in-place update primitive per optimizer."""

    def sgd_step_(self, params, grads, momentum_bufs, lr, momentum, dampening, weight_decay,
                  nesterov, maximize, first_step):
        if first_step and momentum != 0:  # it initialises the buffers: not a repeatable step
            self.runtime.check_not_capturing("SGD's first momentum step (run one step eagerly "
                                             "first)")

        def scalars(dt):
            return (self.scalar(lr, dt), self.scalar(momentum, dt),
                    self.scalar(1 - dampening, dt), self.scalar(weight_decay, dt),
                    np.int32(momentum != 0), np.int32(nesterov), np.int32(maximize),
                    np.int32(first_step))
        self._foreach("sgd_step_", "optim_sgd", (params, grads, momentum_bufs), scalars)

    def adam_step_(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, lr, beta1,
                   beta2, eps, weight_decay, step, amsgrad, decoupled, maximize):
        # the bias corrections change every step, and are launch arguments
        self.runtime.check_not_capturing("Adam's step (its bias correction depends on the step "
                                         "number)")
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)

        def scalars(dt):
            return (self.scalar(1 - beta1, dt), self.scalar(beta2, dt),
                    self.scalar(1 - beta2, dt), self.scalar(eps, dt),
                    self.scalar(weight_decay, dt), self.scalar(1 - lr * weight_decay, dt),
                    self.scalar(-step_size, dt), self.scalar(bias_correction2_sqrt, dt),
                    np.int32(amsgrad), np.int32(decoupled), np.int32(maximize))
        self._foreach("adam_step_", "optim_adam",
                      (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs), scalars)

    def _foreach(self, op, name, lists, scalars):
        """Multi-tensor launches of kernel `name`: lists[0] the parameters, updated in place;
        lists[1] their gradients; the rest state arrays (a list, or None where the options
        use none), all of one shape per parameter. One launch per OPTIM_SLOTS parameters of
        a dtype, prepared once per shapes; its scalar arguments `scalars(dtype)` (learning
        rates that schedulers change, Adam's bias corrections) are set per call."""
        params = lists[0]
        by_dtype: dict = {}
        for i, p in enumerate(params):
            by_dtype.setdefault(p.dtype, []).append(i)
        for dt, chosen in by_dtype.items():
            for first in range(0, len(chosen), OPTIM_SLOTS):
                idx = [i for i in chosen[first:first + OPTIM_SLOTS] if params[i].size]
                if idx:
                    self._foreach_launch(op, name, lists, idx, dt, scalars)

    def _foreach_launch(self, op, name, lists, idx, dt, scalars):
        # a parameter that is a view (not dense from its buffer's start) is stepped in a
        # packed copy, then written back through the view
        params = [lists[0][i] for i in idx]
        work = [self.packed(p) for p in params]
        rest = [None if lst is None else [self.packed(lst[i]) for i in idx] for lst in lists[1:]]
        sizes = tuple(p.size for p in work)
        key = (op, dt, sizes, tuple(r is None for r in rest))
        values = scalars(dt)
        launch = self._plans.get(key)
        if launch is None:
            self.require(op, dt)
            chunks = [-(-n // self.CHUNK) for n in sizes]
            local = min(self.local_1d, 1 << (max(chunks) - 1).bit_length())
            groups = [-(-c // local) for c in chunks]  # each tensor starts a work-group
            starts = [sum(groups[:s]) for s in range(len(sizes))]
            starts += [sum(groups)] * (OPTIM_SLOTS - len(sizes))
            counts = list(sizes) + [0] * (OPTIM_SLOTS - len(sizes))
            used = [PER_CALL] * len(sizes) + [None] * (OPTIM_SLOTS - len(sizes))
            present = [True] + [r is not None for r in rest]  # params, then grads and states
            arrays = [a for has in present for a in (used if has else [None] * OPTIM_SLOTS)]
            options_cl = self.kernel_options("optim.cl", dt, op, {"REAL": self.real_dtype(dt)})
            launch = self._remember(key, self.runtime.prepare(
                op, "optim.cl", name, options_cl, (sum(groups) * local,), (local,),
                (*(np.int32(v) for v in starts + counts), *arrays,
                 *(per_call(v.dtype) for v in values))))
        buffers = [p.data for p in work]
        for r in rest:
            if r is not None:
                buffers += [a.data for a in r]
        self.runtime.run(launch, (*buffers, *values))
        for p, w in zip(params, work):
            if w is not p:
                self.assign_(p, w)

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
