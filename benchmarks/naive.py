"""Pure-Python reference implementations: the bottom rung of every benchmark.

Honest, not deliberately slow: data are Python lists (indexing a list is ~10x cheaper than
indexing an ndarray element), loop-invariant rows are hoisted, and `math` does the scalar
functions. They are what a careful programmer writes without NumPy, so the gap to NumPy and
to OpenCL is the gap from interpreting one scalar operation at a time.
"""
from __future__ import annotations

import math


def matmul(a: list, b: list) -> list:
    """The triple loop. a: M lists of K floats, b: K lists of N floats -> M lists of N floats."""
    k_dim, n_dim = len(b), len(b[0])
    out = []
    for a_row in a:
        out_row = []
        for j in range(n_dim):
            total = 0.0
            for k in range(k_dim):
                total += a_row[k] * b[k][j]
            out_row.append(total)
        out.append(out_row)
    return out


# ---------------------------------------------------------------- elementwise activations
def relu(x: list) -> list:
    """max(x, 0) of a flat list."""
    return [v if v > 0.0 else 0.0 for v in x]


def sigmoid(x: list) -> list:
    """1 / (1 + exp(-x)) of a flat list, without overflow for large |x|."""
    out = []
    for v in x:
        if v >= 0.0:
            out.append(1.0 / (1.0 + math.exp(-v)))
        else:
            e = math.exp(v)
            out.append(e / (1.0 + e))
    return out


def tanh(x: list) -> list:
    """tanh of a flat list."""
    return [math.tanh(v) for v in x]


# ---------------------------------------------------------------- reductions and softmax
def sum_rows(x: list) -> list:
    """Row sums. x: R lists of C floats -> R floats."""
    out = []
    for row in x:
        total = 0.0
        for v in row:
            total += v
        out.append(total)
    return out


def softmax_rows(x: list) -> list:
    """Softmax of each row, max-subtracted. x: R lists of C floats -> the same shape."""
    out = []
    for row in x:
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        total = sum(exps)
        out.append([e / total for e in exps])
    return out


def cross_entropy(logits: list, target: list) -> float:
    """Mean over rows of logsumexp(row) - row[target]. logits: N lists of C floats."""
    total = 0.0
    for row, t in zip(logits, target):
        top = max(row)
        lse = top + math.log(sum(math.exp(v - top) for v in row))
        total += lse - row[t]
    return total / len(logits)


# ---------------------------------------------------------------- pooling
def max_pool2d(x: list, kernel: int, stride: int) -> list:
    """Max pooling without padding. x: N x C x H x W nested lists -> N x C x OH x OW."""
    out = []
    for image in x:
        out_image = []
        for plane in image:
            height, width = len(plane), len(plane[0])
            out_plane = []
            for top in range(0, height - kernel + 1, stride):
                rows = plane[top:top + kernel]
                out_row = []
                for left in range(0, width - kernel + 1, stride):
                    best = -math.inf
                    for row in rows:
                        for v in row[left:left + kernel]:
                            if v > best:
                                best = v
                    out_row.append(best)
                out_plane.append(out_row)
            out_image.append(out_plane)
        out.append(out_image)
    return out


# ---------------------------------------------------------------- optimizer steps
def sgd_momentum_step(param: list, grad: list, buf: list, lr: float, momentum: float) -> None:
    """In place, PyTorch's SGD: buf = momentum * buf + grad; param -= lr * buf."""
    for i in range(len(param)):
        b = momentum * buf[i] + grad[i]
        buf[i] = b
        param[i] -= lr * b


def adam_step(param: list, grad: list, m: list, v: list, step: int, lr: float, beta1: float,
              beta2: float, eps: float) -> None:
    """In place, PyTorch's Adam (no weight decay) at 1-based `step`."""
    c1 = 1.0 - beta1 ** step
    c2 = 1.0 - beta2 ** step
    for i in range(len(param)):
        g = grad[i]
        mi = beta1 * m[i] + (1.0 - beta1) * g
        vi = beta2 * v[i] + (1.0 - beta2) * g * g
        m[i] = mi
        v[i] = vi
        param[i] -= lr * (mi / c1) / (math.sqrt(vi / c2) + eps)
