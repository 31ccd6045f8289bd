"""dx.gradcheck: the tape's gradients against central finite differences in float64."""
from __future__ import annotations

import numpy as np

from . import dtypes
from .autograd import no_grad
from .errors import DTypeError, GradcheckError


def _outputs(result):
    return result if isinstance(result, (tuple, list)) else (result,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0) -> bool:
    """Check d(fn)/d(inputs) for every float input that requires grad; True or GradcheckError.

    Uses a random upstream gradient v per output: the tape's v^T J is compared, element by
    element of every input, with (L(x + eps) - L(x - eps)) / 2 eps where L = sum(v * fn(x)).
    """
    from ._tensor import Tensor
    from .creation import tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype is not dtypes.float64:
            raise DTypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype.name}; finite "
                             "differences need float64 inputs (use .double())")
    hosts = {i: inputs[i].numpy() for i in checked}

    def call(overrides, requires_grad):
        args = list(inputs)
        for i in checked:
            args[i] = tensor(overrides.get(i, hosts[i]), dtype=dtypes.float64,
                             device=inputs[i].device, requires_grad=requires_grad)
        return args, _outputs(fn(*args))

    args, outs = call({}, True)
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(o.shape) for o in outs]
    loss = None
    for o, v in zip(outs, vs):
        if o.requires_grad:
            term = (o * tensor(v, dtype=o.dtype, device=o.device)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    analytic = {i: (args[i].grad.numpy() if args[i].grad is not None
                    else np.zeros_like(hosts[i])) for i in checked}

    def objective(overrides):
        with no_grad():
            _, outs = call(overrides, False)
        return sum(float(np.sum(o.numpy().astype(np.float64) * v)) for o, v in zip(outs, vs))

    worst = None
    for i in checked:
        numeric = np.zeros_like(hosts[i])
        for j in np.ndindex(hosts[i].shape):
            plus, minus = hosts[i].copy(), hosts[i].copy()
            plus[j] += eps
            minus[j] -= eps
            numeric[j] = (objective({i: plus}) - objective({i: minus})) / (2 * eps)
        a = analytic[i]
        if a.shape != numeric.shape:
            raise GradcheckError(f"gradcheck: input {i}: gradient has shape {a.shape}, "
                                 f"expected {numeric.shape}")
        excess = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        excess = np.where(np.isnan(a) != np.isnan(numeric), np.inf, excess)
        if excess.size and np.nanmax(excess) > 0:
            j = np.unravel_index(np.nanargmax(excess), excess.shape)
            if worst is None or excess[j] > worst[0]:
                worst = (excess[j], i, tuple(int(k) for k in j), a[j], numeric[j])
    if worst is not None:
        _, i, j, a, n = worst
        raise GradcheckError(f"gradcheck: Jacobian mismatch for input {i} at index {j}: "
                             f"analytical {a!r} vs numerical {n!r} (atol={atol}, rtol={rtol})")
    return True
