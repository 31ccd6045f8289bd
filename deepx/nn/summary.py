"""summary(model, input_shape): a torchsummary-like table of output shapes and parameter counts.

It runs one forward of a zero batch under no_grad in eval mode (so BatchNorm's running
statistics and the random generator are untouched), with forward hooks on every submodule,
then restores each module's training flag and removes the hooks.
"""
from __future__ import annotations

from .. import autograd
from .._device import default_device
from .._tensor import Tensor
from ..creation import zeros


def _shape_text(output) -> str:
    """[-1, C, H, W] for a tensor (batch dim as -1); a list of those for tuples."""
    if isinstance(output, Tensor):
        return str([-1] + list(output.shape[1:]))
    if isinstance(output, (tuple, list)):
        return ", ".join(_shape_text(o) for o in output)
    return type(output).__name__


def _count(params) -> int:
    return sum(p.numel() for p in params)


def _table(rows: list) -> list:
    """Lines of (layer, shape, count) rows: columns as wide as their longest cell plus 2."""
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(3)]
    return [f"{a:<{widths[0]}}{b:<{widths[1]}}{c:>{widths[2]}}" for a, b, c in rows]


def summary(model, input_shape, device=None) -> str:
    """Print and return the table for inputs of (batch, *input_shape) (a list of shapes for
    several inputs). Param # of a row counts every parameter inside that module; the totals
    count each parameter once."""
    shapes = [input_shape] if all(isinstance(s, int) for s in input_shape) else input_shape
    params = list(model.parameters())
    if device is None:
        device = params[0].device if params else default_device()
    dtype = params[0].dtype if params else None
    names = {id(m): name for name, m in model.named_modules()}
    rows, open_rows, handles = [], [], []

    def before(module, args):
        name = names[id(module)]
        open_rows.append(len(rows))
        rows.append([name.count("."), f"{name} ({type(module).__name__})", "?",
                     _count(module.parameters())])

    def after(module, args, output):
        rows[open_rows.pop()][2] = _shape_text(output)

    modes = {id(m): m.training for m in model.modules()}
    try:
        for module in model.modules():
            if module is not model:
                handles.append(module.register_forward_pre_hook(before))
                handles.append(module.register_forward_hook(after))
        model.eval()
        inputs = [zeros(1, *shape, device=device, dtype=dtype) for shape in shapes]
        with autograd.no_grad():
            output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module in model.modules():
            module.training = modes[id(module)]

    total = _count(params)
    trainable = _count(p for p in params if p.requires_grad)
    table = _table([("Layer (type)", "Output Shape", "Param #")] +
                   [("  " * depth + layer, shape, f"{count:,}")
                    for depth, layer, shape, count in rows])
    rule = "=" * len(table[0])
    lines = [rule, table[0], rule, *table[1:], rule,
             f"Input shape: {', '.join(str([-1] + list(s)) for s in shapes)}",
             f"Output shape: {_shape_text(output)}",
             f"Total params: {total:,}",
             f"Trainable params: {trainable:,}",
             f"Non-trainable params: {total - trainable:,}",
             rule]
    text = "\n".join(lines)
    print(text)
    return text
