"""torch.einsum over deepx's differentiable ops: diagonal views, sums, permutes, reshapes and
one batched matmul per pair of operands (contracted left to right)."""
from __future__ import annotations

import math

from .. import dtypes
from ..errors import ShapeError
from .views import diagonal


def _parse(equation, operands):
    """Per-operand label lists and the output labels; '...' becomes labels '.0', '.1', ..."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    shapes = ", ".join(str(tuple(t.shape)) for t in operands)
    if len(terms) != len(operands):
        raise ShapeError(f"einsum: {equation!r} names {len(terms)} operands but "
                         f"{len(operands)} were given (shapes {shapes})")
    ell = 0
    for term, t in zip(terms, operands):
        if "..." in term:
            ell = max(ell, t.ndim - (len(term) - 3))
    labels = []
    for term, t in zip(terms, operands):
        head, dots, tail = term.partition("...")
        if not all(c.isalpha() for c in head + tail):
            raise ShapeError(f"einsum: invalid subscripts {term!r} in {equation!r}")
        n_ell = t.ndim - len(head) - len(tail) if dots else 0
        if n_ell < 0 or (not dots and len(term) != t.ndim):
            raise ShapeError(f"einsum: subscripts {term!r} do not fit an operand of shape "
                             f"{tuple(t.shape)} in {equation!r}")
        labels.append(list(head) + [f".{ell - n_ell + j}" for j in range(n_ell)] + list(tail))
    if arrow:
        head, dots, tail = rhs.partition("...")
        out = list(head) + ([f".{j}" for j in range(ell)] if dots else []) + list(tail)
        if len(set(out)) != len(out):
            raise ShapeError(f"einsum: output subscript repeats a label in {equation!r}")
        missing = [c for c in out if not any(c in ls for ls in labels)]
        if missing:
            raise ShapeError(f"einsum: output label {missing[0]!r} does not appear in the "
                             f"inputs of {equation!r}")
    else:  # implicit output: the ellipsis dims, then the labels seen once, alphabetically
        seen = [c for ls in labels for c in ls]
        out = [f".{j}" for j in range(ell)] + sorted(
            c for c in set(seen) if seen.count(c) == 1 and not c.startswith("."))
    return labels, out


def _diagonals(x, labels, equation):
    """Take the diagonal of every repeated label of one operand."""
    while len(set(labels)) != len(labels):
        label = next(c for c in labels if labels.count(c) > 1)
        d1 = labels.index(label)
        d2 = labels.index(label, d1 + 1)
        if x.shape[d1] != x.shape[d2]:
            raise ShapeError(f"einsum: label {label!r} repeated in one operand has sizes "
                             f"{x.shape[d1]} and {x.shape[d2]} (shape {tuple(x.shape)}, "
                             f"{equation!r})")
        x = diagonal(x, 0, d1, d2)  # a view; the diagonal becomes the last dim
        labels = [c for i, c in enumerate(labels) if i not in (d1, d2)] + [label]
    return x, labels


def _sum_out(x, labels, keep):
    """Sum over the labels not in `keep`."""
    from .reduce import sum as sum_

    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return x, labels
    return sum_(x, dim=axes), [c for c in labels if c in keep]


def _contract(a, la, b, lb, keep, equation):
    """Pairwise product over shared labels: batch ones kept, the others summed by matmul."""
    from .matmul import matmul
    from .movement import expand, permute, reshape

    size = {}
    for t, ls in ((a, la), (b, lb)):
        for c, n in zip(ls, t.shape):
            if size.get(c, 1) not in (1, n) and n != 1:
                raise ShapeError(f"einsum: label {c!r} has sizes {size[c]} and {n} in "
                                 f"operands of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                                 f"({equation!r})")
            size[c] = max(size.get(c, 1), n)
    a = expand(a, tuple(size[c] for c in la))
    b = expand(b, tuple(size[c] for c in lb))
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    a = permute(a, [la.index(c) for c in batch + left + summed])
    b = permute(b, [lb.index(c) for c in batch + summed + right])

    def prod(ls):
        return math.prod(size[c] for c in ls)

    out = matmul(reshape(a, (prod(batch), prod(left), prod(summed))),
                 reshape(b, (prod(batch), prod(summed), prod(right))))
    labels = batch + left + right
    return reshape(out, tuple(size[c] for c in labels)), labels


def einsum(equation, *operands):
    """torch.einsum: 'ij,jk->ik', 'bij,bjk->bik', 'ij->ji', 'ii->i', 'ij->', '...ij,...jk',
    implicit outputs; any number of operands, contracted left to right by batched matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ShapeError(f"einsum: {equation!r} needs at least one operand")
    dt = operands[0].dtype
    for t in operands[1:]:
        dt = dtypes.promote(dt, t.dtype)
    operands = [t if t.dtype is dt else t.to(dt) for t in operands]
    all_labels, out_labels = _parse(equation, operands)
    pieces = [_diagonals(t, ls, equation) for t, ls in zip(operands, all_labels)]
    x, labels = pieces[0]
    for i in range(1, len(pieces) + 1):
        later = set(out_labels).union(*(ls for _, ls in pieces[i:]))
        x, labels = _sum_out(x, labels, later)
        if i == len(pieces):
            break
        y, ly = _sum_out(*pieces[i], later.union(labels))
        x, labels = _contract(x, labels, y, ly, later, equation)
    from .movement import permute

    return permute(x, [labels.index(c) for c in out_labels])
