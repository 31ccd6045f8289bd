"""Op-table entries for the core ops: elementwise, reductions, movement, indexing, matmul."""
from __future__ import annotations

import numpy as np
from op_table import (
    SAME_CALL,
    OpInfo,
    Sample,
    away_from_zero,
    distinct,
    positive,
    rand,
    torch_fn,
    torch_scalars,
)

import deepx as dx
from deepx.ops import division as dv
from deepx.ops import elementwise as ew
from deepx.ops import gather as gs
from deepx.ops import indexing as ix
from deepx.ops import logical as lg
from deepx.ops import matmul as mm
from deepx.ops import movement as mv
from deepx.ops import promotion
from deepx.ops import reduce as rd
from deepx.ops import repeat as rp
from deepx.ops import sort as srt
from deepx.ops import views as vw

# Shapes used across families: size-1 dims, primes, broadcasting pairs and a 0-d tensor.
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((5, 1), (1, 7)), ((1,), (13,)),
                   ((), (2, 3)), ((7, 1, 3), (1, 4, 1))]
BIG_PAIRS = [((1000,), (1000,)), ((127, 13), (13,)), ((33, 65), (33, 1)), ((2, 3, 257), ())]


def _binary_samples(make_a, make_b=None):
    make_b = make_b or make_a

    def gen(rng):
        out = [Sample((make_a(rng, *sa), make_b(rng, *sb)), name=f"{sa}x{sb}")
               for sa, sb in BROADCAST_PAIRS]
        out += [Sample((make_a(rng, *sa), make_b(rng, *sb)), name=f"{sa}x{sb}", big=True)
                for sa, sb in BIG_PAIRS]
        out.append(Sample((make_a(rng, 3, 4), 2.5), name="tensor-scalar"))
        return out
    return gen


def _unary_samples(make):
    def gen(rng):
        small = [(), (1,), (7,), (3, 5), (2, 1, 13)]
        return ([Sample((make(rng, *s),), name=str(s)) for s in small]
                + [Sample((make(rng, *s),), name=str(s), big=True) for s in [(1000,), (127, 9)]])
    return gen


def _reduce_samples(make):
    def gen(rng):
        cases = [((3, 4), {}), ((3, 4), {"dim": 1}), ((2, 3, 5), {"dim": (0, 2)}),
                 ((2, 3, 5), {"dim": -1, "keepdim": True}), ((7,), {"dim": 0}), ((), {}),
                 ((1, 13), {"dim": 0})]
        big = [((1000,), {}), ((127, 33), {"dim": 1}), ((65, 129), {"dim": 0})]
        return ([Sample((make(rng, *s),), kw, name=f"{s}{kw}") for s, kw in cases]
                + [Sample((make(rng, *s),), kw, name=f"{s}{kw}", big=True) for s, kw in big])
    return gen


def _np_reduce(fn):
    def ref(x, dim=None, keepdim=False):
        axis = tuple(dim) if isinstance(dim, tuple) else dim
        return fn(x, axis=axis, keepdims=keepdim)
    return ref


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _matmul_samples(rng):
    pairs = [((3, 4), (4, 5)), ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((1, 1), (1, 1)),
             ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((7, 13), (13, 1))]
    big = [((127, 1000), (1000, 7)), ((65, 63), (63, 129)), ((1, 257), (257, 33)),
           ((3, 31, 17), (3, 17, 33)), ((15, 16), (16, 17))]
    return ([Sample((rand(rng, *a), rand(rng, *b)), name=f"{a}@{b}") for a, b in pairs]
            + [Sample((rand(rng, *a), rand(rng, *b)), name=f"{a}@{b}", big=True) for a, b in big])


def _getitem_samples(rng):
    keys = [(1,), (slice(1, 3),), (slice(None), slice(None, None, 2)), (Ellipsis, 0),
            (None, slice(1, None), 2), (-1, slice(None, None, 3)), (slice(5, 9),)]
    out = [Sample((rand(rng, 4, 7),), {"key": k}, name=str(k)) for k in keys]
    out.append(Sample((rand(rng, 127, 33),), {"key": (slice(3, 100, 7), slice(None, -1))},
                      name="big", big=True))
    return out


def _getitem_ref(x, key):
    return x[key]


def _norm_ref(x, p, dim, keepdim):
    order = 2 if p == "fro" else p
    axis = tuple(range(x.ndim)) if dim is None else dim
    if order == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=keepdim)
    return np.sum(np.abs(x) ** order, axis=axis, keepdims=keepdim) ** (1 / order)


def _unfold_ref(x, dimension, size, step):
    windows = [np.take(x, range(i, i + size), axis=dimension)
               for i in range(0, x.shape[dimension] - size + 1, step)]
    return np.moveaxis(np.stack(windows, axis=dimension), dimension + 1, -1)


def _inplace_through_view(x, w):
    """A non-leaf written through a slice (CopySlices on its base), then read as a whole."""
    y = x * 1
    y[1:3].mul_(w)
    y[0].add_(w)
    return y * y


def _inplace_through_view_ref(x, w):
    y = x.copy()
    y[1:3] *= w
    y[0] += w
    return y * y


def _gather_samples(rng):
    cases = [((5, 3), 0, np.array([0, 4, 4, 1])), ((5, 3), 1, np.array([[2, 0], [1, 1]])),
             ((7,), 0, np.array([-1, 0, 3])), ((4, 2, 3), 2, np.array(1))]
    out = [Sample((rand(rng, *s), idx.astype(np.int64)), {"dim": d}, name=f"{s}d{d}")
           for s, d, idx in cases]
    out.append(Sample((rand(rng, 1000, 3), rng.integers(0, 1000, 257)), {"dim": 0}, name="big",
                      big=True))
    return out


def _cat_samples(rng):
    return [Sample((rand(rng, 2, 3), rand(rng, 4, 3)), {"dim": 0}, name="dim0"),
            Sample((rand(rng, 2, 1, 3), rand(rng, 2, 5, 3), rand(rng, 2, 0, 3)), {"dim": 1},
                   name="dim1-with-empty"),
            Sample((rand(rng, 7), rand(rng, 13)), {"dim": -1}, name="1d"),
            Sample((rand(rng, 127, 3), rand(rng, 127, 65)), {"dim": 1}, name="big", big=True)]


def _stack_samples(rng):
    return [Sample((rand(rng, 2, 3), rand(rng, 2, 3)), {"dim": d}, name=f"dim{d}")
            for d in (0, 1, 2, -1)] + [Sample((rand(rng), rand(rng)), {"dim": 0}, name="0d")]


def _pad_samples(rng):
    return [Sample((rand(rng, 3, 4),), {"pad": (1, 2)}, name="last"),
            Sample((rand(rng, 2, 3, 4),), {"pad": (1, 0, 0, 2), "value": 1.5}, name="two"),
            Sample((rand(rng, 1, 1, 5, 5),), {"pad": (2, 2, 2, 2)}, name="conv"),
            Sample((rand(rng, 7),), {"pad": (0, 0)}, name="none"),
            Sample((rand(rng, 4, 127, 33),), {"pad": (3, 1, 1, 3)}, name="big", big=True)]


def _np_pad(x, pad, value=0.0):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, constant_values=value)


def _shape_samples(make_kwargs):
    def gen(rng):
        return [Sample((rand(rng, *s),), kw, name=f"{s}{kw}") for s, kw in make_kwargs] + [
            Sample((rand(rng, 127, 33, 2),), make_kwargs[0][1] if len(make_kwargs[0][0]) == 3
                   else {}, name="big", big=True)]
    return gen


def _var_ref(x, dim=None, keepdim=False, correction=1):
    axis = tuple(dim) if isinstance(dim, tuple) else dim
    return np.var(x, axis=axis, keepdims=keepdim, ddof=correction)


def _std_ref(x, dim=None, keepdim=False, correction=1):
    return np.sqrt(_var_ref(x, dim, keepdim, correction))


def _var_samples(rng):
    return [Sample((rand(rng, 3, 4),), {}, name="all"),
            Sample((rand(rng, 3, 4),), {"dim": 1}, name="dim1"),
            Sample((rand(rng, 2, 3, 5),), {"dim": (0, 2), "keepdim": True}, name="tuple"),
            Sample((rand(rng, 7, 2),), {"dim": 0, "correction": 0}, name="biased"),
            Sample((rand(rng, 127, 65),), {"dim": 1}, name="big", big=True)]


# PyTorch twins of calls whose deepx spelling torch does not share.
def _torch_where(c, a, b):
    return torch_fn("where")(c > 0, a, b)


def _torch_to_float64(x):
    return x.double() * 2


def _torch_index_select(x, idx, dim):
    return x[(slice(None),) * dim + (idx,)]  # torch.index_select refuses negative indices


def _torch_clamp_max(x, hi):
    return torch_fn("clamp")(x, max=hi)


def _torch_cat(*xs, dim):
    return torch_fn("cat")(xs, dim=dim)


def _torch_stack(*xs, dim):
    return torch_fn("stack")(xs, dim=dim)


def _ints(rng, *shape, low=-9, high=10, nonzero=False, dtype=np.int64):
    """Integer samples in [low, high), zeros replaced by 1 when `nonzero` (divisors)."""
    out = rng.integers(low, high, size=shape)
    return np.asarray(np.where(out == 0, 1, out) if nonzero else out).astype(dtype)


def _division_samples(rng, ints=True):
    """Float pairs (divisor |b| >= 0.1) and, with `ints`, negative and positive integers."""
    out = _binary_samples(rand, away_from_zero)(rng)
    out.append(Sample((rand(rng, 127, 13) * 100, away_from_zero(rng, 13)), name="big-range",
                      big=True))
    return out + _int_division_samples(rng) if ints else out


def _int_division_samples(rng):
    return [Sample((_ints(rng, 3, 4), _ints(rng, 4, nonzero=True)), name="int64"),
            Sample((_ints(rng, 5, 1, dtype=np.int32), _ints(rng, 1, 7, nonzero=True,
                                                           dtype=np.int32)), name="int32"),
            Sample((_ints(rng, 13), -3), name="int-scalar"),
            Sample((_ints(rng, 2, 3), 2.5), name="int-float-scalar"),
            Sample((7, _ints(rng, 5, nonzero=True)), name="scalar-int")]


def _clamp_samples(rng, bounds):
    """x (distinct) and tensor bounds on a 0.01 grid offset from x's: |x - bound| >= 0.0015."""
    # ((2, 1, 3), (1, 5, 1), (3,)) would be right here but PyTorch 2.x's clamp backward
    # fails on it: an in-place logical_or_ into x > max's (2, 1, 3) mask.
    shapes = {"both": [((3, 4), (4,), (3, 1)), ((7,), (), (7,)), ((2, 1, 3), (1, 5, 1), (5, 3))],
              "min": [((3, 4), (4,)), ((5, 1), (1, 6))], "max": [((3, 4), (3, 1)), ((6,), ())]}
    out = []
    for shape in shapes[bounds]:
        x = distinct(rng, *shape[0])  # k * 0.01 - n * 0.005 + [0, 0.003)
        offset = 0.0065 - 0.005 * (x.size % 2)
        lim = x.size * 0.006  # bounds across x's range: some below, inside and above
        # max sits 0.002 off min's grid: min == max would be a kink of both bounds' gradients
        rest = tuple(np.asarray(np.round(rand(rng, *s, low=-lim, high=lim), 2) + offset + k)
                     for s, k in zip(shape[1:], (0.0, 0.002) if bounds == "both" else (0.0,)))
        out.append(Sample((x,) + rest, name="x".join(str(s) for s in shape)))
    return out


def _np_clamp(x, lo=None, hi=None):
    out = x if lo is None else np.maximum(x, lo)
    return out if hi is None else np.minimum(out, hi)


CORE_OPS = [
    OpInfo("add", lambda a, b: a + b, np.add, _binary_samples(rand), covers=(ew.Add,),
           torch=SAME_CALL),
    OpInfo("sub", lambda a, b: a - b, np.subtract, _binary_samples(rand), covers=(ew.Sub,),
           torch=SAME_CALL),
    OpInfo("mul", lambda a, b: a * b, np.multiply, _binary_samples(rand), covers=(ew.Mul,),
           torch=SAME_CALL),
    OpInfo("div", lambda a, b: a / b, np.divide, _binary_samples(rand, positive),
           covers=(ew.Div,), rtol32=2e-6, tol_reason="division is correctly rounded; "
           "the reciprocal path of some devices is not: 2 ulps", torch=SAME_CALL),
    OpInfo("pow", lambda a, b: a ** b, np.power, _binary_samples(positive), covers=(ew.Pow,),
           atol32=1e-5, rtol32=1e-4, tol_reason="pow = exp(b log a): float32 exp/log "
           "each carry a few ulps and exp amplifies the log's relative error by |b log a|",
           torch=SAME_CALL),
    OpInfo("maximum", dx.maximum, np.maximum, _binary_samples(distinct), covers=(ew.Maximum,),
           torch=torch_scalars("maximum")),
    OpInfo("minimum", dx.minimum, np.minimum, _binary_samples(distinct), covers=(ew.Minimum,),
           torch=torch_scalars("minimum")),
    OpInfo("neg", lambda x: -x, np.negative, _unary_samples(rand), covers=(ew.Neg,),
           torch=SAME_CALL),
    OpInfo("exp", dx.exp, np.exp, _unary_samples(rand), covers=(ew.Exp,), rtol32=1e-5,
           tol_reason="float32 exp: <= 4 ulps on OpenCL's built-in", torch=torch_fn("exp")),
    OpInfo("log", dx.log, np.log, _unary_samples(positive), covers=(ew.Log,),
           rtol32=1e-5, tol_reason="float32 log: <= 4 ulps", torch=torch_fn("log")),
    OpInfo("sqrt", dx.sqrt, np.sqrt, _unary_samples(positive), covers=(ew.Sqrt,),
           torch=torch_fn("sqrt")),
    OpInfo("rsqrt", dx.rsqrt, lambda x: 1 / np.sqrt(x), _unary_samples(positive),
           covers=(ew.Rsqrt,), rtol32=1e-5, tol_reason="two float32 roundings (sqrt, 1/x), "
           "each within OpenCL's few-ulp bound", torch=torch_fn("rsqrt")),
    OpInfo("abs", dx.abs, np.abs, _unary_samples(away_from_zero), covers=(ew.Abs,),
           torch=torch_fn("abs")),
    OpInfo("tanh", dx.tanh, np.tanh, _unary_samples(rand), covers=(ew.TanhFunction,), atol32=2e-6,
           tol_reason="float32 tanh: a few ulps near 0 where values are small",
           torch=torch_fn("tanh")),
    OpInfo("sigmoid", dx.sigmoid, _np_sigmoid, _unary_samples(rand), covers=(ew.SigmoidFunction,),
           atol32=2e-6, tol_reason="float32 exp inside 1/(1+e^-x): a few ulps",
           torch=torch_fn("sigmoid")),
    OpInfo("where", lambda c, a, b: dx.where(c > 0, a, b),
           lambda c, a, b: np.where(c > 0, a, b),
           lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 3, 4), rand(rng, 4)),
                               requires_grad=(False, True, True), name="bcast"),
                        Sample((rand(rng, 5, 1), rand(rng, 1, 7), rand(rng)),
                               requires_grad=(False, True, True), name="3way"),
                        Sample((rand(rng, 127, 33), rand(rng, 33), rand(rng, 127, 1)),
                               requires_grad=(False, True, True), name="big", big=True)],
           covers=(ew.Where,), torch=_torch_where),
    OpInfo("clip", lambda x, **kw: dx.clip(x, **kw), lambda x, min=None, max=None: np.clip(
        x, min, max), lambda rng: [
            Sample((distinct(rng, 4, 5),), {"min": -0.031, "max": 0.052}, name="both"),
            Sample((distinct(rng, 7),), {"min": 0.013}, name="min"),
            Sample((distinct(rng, 7),), {"max": 0.013}, name="max"),
            Sample((rand(rng, 1000),), {"min": -0.5, "max": 0.5}, name="big", big=True)],
        covers=(ew.Clip,), torch=torch_fn("clip")),
    OpInfo("clamp_tensor_bounds", lambda x, lo, hi: x.clamp(lo, hi), _np_clamp,
           lambda rng: _clamp_samples(rng, "both"), covers=(ew.Clip,), tol_reason="exact",
           torch=SAME_CALL),
    OpInfo("clamp_min_tensor", lambda x, lo: x.clamp_min(lo), lambda x, lo: np.maximum(x, lo),
           lambda rng: _clamp_samples(rng, "min"), covers=(ew.Clip,), tol_reason="exact",
           torch=SAME_CALL),
    OpInfo("clamp_max_tensor", lambda x, hi: dx.clamp(x, max=hi), lambda x, hi: np.minimum(x, hi),
           lambda rng: _clamp_samples(rng, "max"), covers=(ew.Clip,), tol_reason="exact",
           torch=_torch_clamp_max),
    OpInfo("floor_divide", lambda a, b: a // b, np.floor_divide, _division_samples,
           covers=(dv.FloorDivide,), grad=False, tol_reason="fmod is exact; the quotient of "
           "a - fmod(a, b) by b lies within an ulp of an integer, which floor then settles",
           torch=SAME_CALL),
    OpInfo("remainder", lambda a, b: a % b, np.remainder,
           lambda rng: _division_samples(rng, ints=False), covers=(dv.Remainder,), atol32=1e-4,
           rtol32=1e-5, tol_reason="fmod is exact; values up to 200 carry float32's 1e-5 "
           "absolute spacing", torch=SAME_CALL),
    OpInfo("remainder_int", lambda a, b: a % b, np.remainder, _int_division_samples,
           covers=(dv.Remainder,), grad=False, tol_reason="exact", torch=SAME_CALL),
    OpInfo("compare", lambda a, b: (a < b) | (a == b.amax()), lambda a, b: (a < b) | (a == b.max()),
           lambda rng: [Sample((distinct(rng, 3, 4), distinct(rng, 4))),
                        Sample((distinct(rng, 1, 5), distinct(rng, 7, 1))),
                        Sample((distinct(rng, 7), np.array(0.0)))],
           covers=(ew.Compare,), grad=False, tol_reason="exact: comparisons", torch=SAME_CALL),
    OpInfo("bitwise", lambda a, b: (((a & b) * 4 + (a | b)) * 8 + (a ^ b)) * 16 + ~a,
           lambda a, b: (((a & b) * 4 + (a | b)) * 8 + (a ^ b)) * 16 + ~a,
           lambda rng: [Sample((_ints(rng, 3, 4), _ints(rng, 4)), name="int64"),
                        Sample((_ints(rng, 5, 1, dtype=np.int32), _ints(rng, 1, 7, dtype=np.int32)),
                               name="int32-outer"),
                        Sample((_ints(rng, 6), 5), name="int-scalar"),
                        Sample((_ints(rng, 2, 3) > 0, _ints(rng, 3) > 0), name="bool")],
           covers=(ew.Compare,), grad=False, tol_reason="exact: integer bit operations",
           torch=SAME_CALL),
    OpInfo("argmax_argmin", lambda x, **kw: x.argmax(**kw) * 10 + x.argmin(**kw),
           lambda x, dim=None, keepdim=False: (
               np.argmax(x, axis=dim, keepdims=keepdim) * 10
               + np.argmin(x, axis=dim, keepdims=keepdim)),
           lambda rng: [Sample((distinct(rng, 5, 7),), {"dim": 1}),
                        Sample((distinct(rng, 5, 7),), {"dim": 0, "keepdim": True}),
                        Sample((distinct(rng, 13),), {}),
                        Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]),), {"dim": 1},
                               name="ties-first")],
           covers=(rd.ArgReduce,), grad=False, tol_reason="exact: indices", torch=SAME_CALL),
    OpInfo("to_float64", lambda x: x.to(dx.float64) * 2, lambda x: x * 2,
           _unary_samples(rand), covers=(promotion.Cast,), torch=_torch_to_float64),
    OpInfo("sum", lambda x, **kw: x.sum(**kw), _np_reduce(np.sum), _reduce_samples(rand),
           covers=(rd.Sum,), atol32=1e-5, rtol32=1e-5,
           tol_reason="float32 tree vs pairwise summation order: error ~ log2(n) ulps",
           torch=SAME_CALL),
    OpInfo("mean", lambda x, **kw: x.mean(**kw), _np_reduce(np.mean), _reduce_samples(rand),
           covers=(rd.Sum,), tol_reason="sum then one division", torch=SAME_CALL),
    OpInfo("amax", lambda x, **kw: x.amax(**kw), _np_reduce(np.max), _reduce_samples(distinct),
           covers=(rd.Max,), torch=SAME_CALL),
    OpInfo("amin", lambda x, **kw: x.amin(**kw), _np_reduce(np.min), _reduce_samples(distinct),
           covers=(rd.Min,), torch=SAME_CALL),
    OpInfo("max_dim", lambda x: x.max(dim=1).values, lambda x: x.max(axis=1),
           lambda rng: [Sample((distinct(rng, 3, 5),)), Sample((distinct(rng, 2, 7, 3),)),
                        Sample((distinct(rng, 33, 129),), big=True)], covers=(rd.MaxDim,),
           torch=SAME_CALL),
    OpInfo("min_dim", lambda x: x.min(dim=0, keepdim=True).values,
           lambda x: x.min(axis=0, keepdims=True),
           lambda rng: [Sample((distinct(rng, 3, 5),)), Sample((distinct(rng, 127, 3),),
                                                               big=True)], covers=(rd.MinDim,),
           torch=SAME_CALL),
    OpInfo("max_ties", lambda x: x.amax(dim=1), lambda x: x.max(axis=1),
           # Two-way ties only: finite differences see 1/2 per element there, as the rule says.
           lambda rng: [Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]),), name="ties")],
           covers=(rd.Max,), tol_reason="exact: ties share the gradient evenly",
           gc_atol=1e-4, torch=SAME_CALL),
    OpInfo("var", lambda x, **kw: x.var(**kw), _var_ref, _var_samples, covers=(rd.Var,),
           atol32=1e-5, rtol32=1e-4, tol_reason="two float32 reductions and a difference",
           torch=SAME_CALL),
    OpInfo("std", lambda x, **kw: x.std(**kw), _std_ref, _var_samples, covers=(rd.Std,),
           atol32=1e-5, rtol32=1e-4, tol_reason="var's error halved by sqrt", torch=SAME_CALL),
    OpInfo("norm", lambda x, **kw: x.norm(**kw),
           lambda x, p="fro", dim=None, keepdim=False: _norm_ref(x, p, dim, keepdim),
           lambda rng: [Sample((rand(rng, 3, 4),), {}), Sample((rand(rng, 3, 4),), {"dim": 1}),
                        Sample((rand(rng, 5, 2),), {"dim": 0, "keepdim": True}),
                        Sample((away_from_zero(rng, 7),), {"p": 1}),
                        Sample((distinct(rng, 2, 7),), {"p": float("inf"), "dim": 1}),
                        Sample((rand(rng, 4, 3),), {"p": 3, "dim": 0}),
                        Sample((rand(rng, 127, 33),), {"dim": 1}, big=True)],
           covers=(rd.Norm2,), atol32=1e-5, rtol32=1e-4,
           tol_reason="a float32 sum of squares and a sqrt", torch=SAME_CALL),
    OpInfo("reshape", lambda x, **kw: x.reshape(kw["shape"]), lambda x, shape: x.reshape(shape),
           lambda rng: [Sample((rand(rng, 3, 4),), {"shape": (2, 6)}),
                        Sample((rand(rng, 2, 3, 5),), {"shape": (-1, 5)}),
                        Sample((rand(rng, 1),), {"shape": ()}),
                        Sample((rand(rng, 127, 33),), {"shape": (33, -1)}, big=True)],
           covers=(vw.Reshape, vw.ReshapeView), torch=SAME_CALL),
    OpInfo("flatten", lambda x, **kw: x.flatten(**kw),
           lambda x, start_dim=0: x.reshape(x.shape[:start_dim] + (-1,)),
           lambda rng: [Sample((rand(rng, 2, 3, 4),), {"start_dim": 1}),
                        Sample((rand(rng, 2, 3, 4),), {}),
                        Sample((rand(rng, 64, 13, 7),), {"start_dim": 1}, big=True)],
           covers=(vw.Reshape, vw.ReshapeView), torch=SAME_CALL),
    OpInfo("permute", lambda x, **kw: x.permute(kw["dims"]), lambda x, dims: x.transpose(dims),
           lambda rng: [Sample((rand(rng, 2, 3, 4),), {"dims": (2, 0, 1)}),
                        Sample((rand(rng, 1, 7),), {"dims": (1, 0)}),
                        Sample((rand(rng, 33, 17, 65),), {"dims": (1, 2, 0)}, big=True)],
           covers=(vw.Permute,), torch=SAME_CALL),
    OpInfo("transpose", lambda x: x.transpose(0, -1),
           lambda x: np.swapaxes(x, 0, -1) if x.ndim else x,
           _unary_samples(rand), covers=(vw.Permute,), torch=SAME_CALL),
    OpInfo("T", lambda x: x.T, lambda x: x.T, _unary_samples(rand), covers=(vw.Permute,),
           torch=SAME_CALL),
    OpInfo("unsqueeze_squeeze", lambda x: x.unsqueeze(0).squeeze(), lambda x: np.squeeze(x),
           _unary_samples(rand), covers=(vw.Reshape, vw.ReshapeView), torch=SAME_CALL),
    OpInfo("expand", lambda x: x.expand(2, 3, -1),
           lambda x: np.broadcast_to(x, (2, 3, x.shape[-1])),
           lambda rng: [Sample((rand(rng, 3, 1),)), Sample((rand(rng, 1, 4),)),
                        Sample((rand(rng, 4),))], covers=(vw.Expand,), torch=SAME_CALL),
    OpInfo("getitem", lambda x, key: x[key], _getitem_ref, _getitem_samples,
           covers=(vw.View,), torch=SAME_CALL),
    OpInfo("view", lambda x, **kw: x.view(kw["shape"]), lambda x, shape: x.reshape(shape),
           lambda rng: [Sample((rand(rng, 3, 4),), {"shape": (2, 6)}),
                        Sample((rand(rng, 1, 7),), {"shape": (7, 1, 1)}),
                        Sample((rand(rng, 13, 2),), {"shape": (-1,)})],
           covers=(vw.ReshapeView,), torch=SAME_CALL),
    OpInfo("reshape_copy", lambda x: x.T.reshape(-1), lambda x: x.T.reshape(-1),
           lambda rng: [Sample((rand(rng, 3, 4),)), Sample((rand(rng, 7, 13),))],
           covers=(vw.Reshape, vw.Permute), torch=SAME_CALL),
    OpInfo("contiguous", lambda x: x.T.contiguous() * 1, lambda x: x.T,
           lambda rng: [Sample((rand(rng, 3, 4),)), Sample((rand(rng, 2, 5, 3),))],
           covers=(vw.Contiguous,), torch=SAME_CALL),
    OpInfo("narrow", lambda x, **kw: x.narrow(**kw), lambda x, dim, start, length:
           np.take(x, range(start, start + length), axis=dim),
           lambda rng: [Sample((rand(rng, 5, 7),), {"dim": 1, "start": 2, "length": 4}),
                        Sample((rand(rng, 5, 7),), {"dim": 0, "start": 0, "length": 1})],
           covers=(vw.View,), torch=SAME_CALL),
    OpInfo("select", lambda x, **kw: x.select(**kw), lambda x, dim, index:
           np.take(x, index, axis=dim),
           lambda rng: [Sample((rand(rng, 5, 7),), {"dim": 1, "index": -1}),
                        Sample((rand(rng, 3, 4, 2),), {"dim": 0, "index": 2})],
           covers=(vw.View,), torch=SAME_CALL),
    OpInfo("unbind_split_chunk",
           lambda x: (x.unbind(1)[1] * 2 + x.split([1, 2], 1)[1].sum(1) +
                      x.chunk(2, 1)[0].sum(1)),
           lambda x: x[:, 1] * 2 + x[:, 1:].sum(1) + x[:, :2].sum(1),
           lambda rng: [Sample((rand(rng, 4, 3),)), Sample((rand(rng, 1, 3),))],
           covers=(vw.View, ew.Mul, ew.Add, rd.Sum), torch=SAME_CALL),
    OpInfo("diagonal", lambda x, **kw: x.diagonal(**kw),
           lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
           lambda rng: [Sample((rand(rng, 4, 5),), {}),
                        Sample((rand(rng, 4, 5),), {"offset": 2}),
                        Sample((rand(rng, 4, 5),), {"offset": -1}),
                        Sample((rand(rng, 3, 4, 5),), {"dim1": 1, "dim2": 2})],
           covers=(vw.View,), torch=SAME_CALL),
    OpInfo("unfold", lambda x, **kw: x.unfold(**kw), _unfold_ref,
           lambda rng: [Sample((rand(rng, 2, 7),), {"dimension": 1, "size": 3, "step": 1},
                               name="overlapping"),
                        Sample((rand(rng, 9, 2),), {"dimension": 0, "size": 2, "step": 3},
                               name="gaps")],
           covers=(vw.View,), torch=SAME_CALL),
    OpInfo("inplace_through_view", _inplace_through_view,
           lambda x, w: _inplace_through_view_ref(x, w),
           lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 4))),
                        Sample((rand(rng, 5, 4), rand(rng, 1)))],
           covers=(vw.CopySlices, vw.View, ew.Mul, ew.Add)),
    OpInfo("index_select", lambda x, idx, dim: dx.index_select(x, dim, idx),
           lambda x, idx, dim: np.take(x, idx, axis=dim), _gather_samples,
           covers=(gs.Gather,), torch=_torch_index_select),
    OpInfo("index_list", lambda x: x[[2, 0, 2]], lambda x: x[[2, 0, 2]],
           lambda rng: [Sample((rand(rng, 3, 4),)), Sample((rand(rng, 5),))],
           covers=(gs.Gather,), torch=SAME_CALL),
    OpInfo("cat", lambda *xs, dim: dx.cat(xs, dim=dim),
           lambda *xs, dim: np.concatenate(xs, axis=dim), _cat_samples, covers=(mv.Cat,),
           torch=_torch_cat),
    OpInfo("stack", lambda *xs, dim: dx.stack(xs, dim=dim),
           lambda *xs, dim: np.stack(xs, axis=dim), _stack_samples, covers=(mv.Cat,),
           torch=_torch_stack),
    OpInfo("pad", lambda x, **kw: dx.pad(x, **kw), _np_pad, _pad_samples, covers=(mv.Pad,),
           torch=torch_fn("nn.functional.pad")),
    OpInfo("matmul", lambda a, b: a @ b, np.matmul, _matmul_samples, covers=(mm.MatMul,),
           atol32=1e-4, rtol32=1e-4, tol_reason="K-long float32 dot products in a different "
           "summation order: error grows ~ sqrt(K) ulps of the partial sums", torch=SAME_CALL),
    OpInfo("composite_mlp", lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(),
           lambda x, w, b: np.mean(np.tanh(x @ w + b) ** 2),
           lambda rng: [Sample((rand(rng, 5, 3), rand(rng, 3, 4), rand(rng, 4))),
                        Sample((rand(rng, 64, 100), rand(rng, 100, 33), rand(rng, 33)),
                               big=True)],
           covers=(ew.Add, mm.MatMul, ew.TanhFunction, ew.Pow, rd.Sum, ew.Div), atol32=1e-5,
           rtol32=1e-4, tol_reason="matmul + reduction in float32", torch=SAME_CALL),
]


# ---------------------------------------------------------------- PyTorch API breadth (issue 15)
# gather/scatter/sort/einsum/repeat/flip/roll. Samples: size-1 dims, primes, an index smaller
# than the input off the indexed dim, a transposed (non-contiguous) input via `t=True`.
def _maybe_t(x, t):
    return x.mT if t else x


def _np_t(x, t):
    return np.swapaxes(x, -1, -2) if t else x


def _window(shape, index_shape, axis):
    return tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index_shape))


def _gather_dim_samples(rng):
    out = []
    for shape, ishape, dim in [((3, 5), (3, 4), 1), ((7, 1), (2, 1), 0),
                               ((2, 3, 13), (2, 2, 5), -1), ((13,), (20,), 0), ((4, 7), (4, 7), 0)]:
        axis = dim % len(shape)
        index = rng.integers(0, shape[axis], ishape).astype(np.int64)
        out.append(Sample((rand(rng, *shape), index), {"dim": dim}, name=f"{shape}{ishape}"))
    out.append(Sample((rand(rng, 5, 3), rng.integers(0, 5, (2, 5)).astype(np.int64)),
                      {"dim": 1, "t": True}, name="transposed"))
    out.append(Sample((rand(rng, 127, 33), rng.integers(0, 33, (127, 40)).astype(np.int64)),
                      {"dim": 1}, name="big", big=True))
    return out


def _gather_dim_ref(x, index, dim, t=False):
    x = _np_t(x, t)
    return np.take_along_axis(x[_window(x.shape, index.shape, dim % x.ndim)], index, dim)


def _unique_index(rng, x_shape, ishape, axis):
    """An index whose entries along axis are distinct (so a scatter never overwrites)."""
    perm = np.argsort(rng.random(ishape[:axis] + (x_shape[axis],) + ishape[axis + 1:]), axis)
    return np.take(perm, range(ishape[axis]), axis=axis).astype(np.int64)


def _scatter_samples(rng):
    out = []
    for shape, ishape, dim in [((3, 5), (3, 4), 1), ((7, 1), (2, 1), 0),
                               ((2, 3, 13), (2, 2, 5), -1), ((13,), (13,), 0)]:
        axis = dim % len(shape)
        index = _unique_index(rng, shape, ishape, axis)
        out.append(Sample((rand(rng, *shape), rand(rng, *ishape), index), {"dim": dim},
                          name=f"{shape}{ishape}"))
    index = _unique_index(rng, (5, 3), (2, 3), 0)
    out.append(Sample((rand(rng, 3, 5), rand(rng, 2, 3), index), {"dim": 0, "t": True},
                      name="transposed"))
    out.append(Sample((rand(rng, 127, 33), rand(rng, 127, 20), _unique_index(
        rng, (127, 33), (127, 20), 1)), {"dim": 1}, name="big", big=True))
    return out


def _scatter_ref(x, src, index, dim, t=False, add=False):
    x = np.array(_np_t(x, t))
    axis = dim % x.ndim
    for pos in np.ndindex(*index.shape):
        target = pos[:axis] + (index[pos],) + pos[axis + 1:]
        x[target] = x[target] + src[pos] if add else src[pos]
    return x


def _scatter_add_samples(rng):
    out = []
    for shape, ishape, dim in [((3, 5), (3, 7), 1), ((7, 1), (9, 1), 0),
                               ((2, 3, 13), (2, 2, 5), 2)]:
        index = rng.integers(0, shape[dim], ishape).astype(np.int64)  # with repeats
        out.append(Sample((rand(rng, *shape), rand(rng, *ishape), index), {"dim": dim},
                          name=f"{shape}{ishape}"))
    out.append(Sample((rand(rng, 33, 127), rand(rng, 40, 127), rng.integers(0, 33, (40, 127))),
                      {"dim": 0}, name="big", big=True))
    return out


def _masked_fill_samples(rng):
    return [Sample((rand(rng, 3, 5), rng.random((3, 5)) < 0.5), {"value": -1.5}, name="same"),
            Sample((rand(rng, 4, 7), rng.random((1, 7)) < 0.5), {"value": 2.0}, name="bcast"),
            Sample((rand(rng, 2, 1, 13), rng.random((13,)) < 0.3, rand(rng)), name="tensor-value"),
            Sample((rand(rng, 5, 3), rng.random((3, 5)) < 0.5), {"value": 0.0, "t": True},
                   name="transposed"),
            Sample((rand(rng, 127, 33), rng.random((127, 33)) < 0.5), {"value": 1.0},
                   name="big", big=True)]


def _masked_fill_fn(x, mask, value=None, t=False):
    return _maybe_t(x, t).masked_fill(mask, value)


def _masked_fill_ref(x, mask, value=None, t=False):
    return np.where(mask, value, _np_t(x, t))


def _sort_samples(rng):
    return [Sample((distinct(rng, 7),), {}, name="1d"),
            Sample((distinct(rng, 3, 5),), {"dim": 0, "descending": True}, name="dim0-desc"),
            Sample((distinct(rng, 2, 1, 13),), {"dim": -1}, name="primes"),
            Sample((distinct(rng, 4, 6),), {"t": True, "descending": True}, name="transposed"),
            Sample((distinct(rng, 33, 127),), {}, name="big", big=True)]


def _sort_fn(x, dim=-1, descending=False, t=False):
    return _maybe_t(x, t).sort(dim=dim, descending=descending).values


def _sort_ref(x, dim=-1, descending=False, t=False):
    x = _np_t(x, t)
    return -np.sort(-x, axis=dim) if descending else np.sort(x, axis=dim)


def _topk_samples(rng):
    return [Sample((distinct(rng, 7),), {"k": 3}, name="1d"),
            Sample((distinct(rng, 5, 3),), {"k": 2, "dim": 0, "largest": False}, name="smallest"),
            Sample((distinct(rng, 2, 1, 13),), {"k": 1}, name="k1"),
            Sample((distinct(rng, 64, 1000),), {"k": 5}, name="big", big=True)]


def _topk_ref(x, k, dim=-1, largest=True):
    s = -np.sort(-x, axis=dim) if largest else np.sort(x, axis=dim)
    return np.take(s, range(k), axis=dim)


_EINSUM = ["ij,jk->ik", "bij,bjk->bik", "ij->ji", "ii->i", "ij->", "ii", "ij,kj->ik",
           "ji,jk->ik", "...ij,...jk->...ik", "bij,jk", "i,i->", "i,j->ij", "ij,ij->ij",
           "bij->bj", "ij,jk,kl->il", "ii->"]


def _einsum_samples(rng):
    dims = {"i": 3, "j": 4, "k": 5, "b": 2, "l": 1}
    out = []
    for eq in _EINSUM:
        terms = eq.split("->")[0].split(",")
        arrays = []
        for term in terms:
            lead = (2,) if term.startswith("...") else ()
            letters = term.replace("...", "")
            shape = lead + tuple(dims["i"] if eq.startswith("ii") else dims[c] for c in letters)
            arrays.append(rand(rng, *shape))
        out.append(Sample(tuple(arrays), {"eq": eq}, name=eq))
    out.append(Sample((rand(rng, 4, 127, 65), rand(rng, 4, 65, 33)), {"eq": "bij,bjk->bik"},
                      name="big", big=True))
    return out


def _einsum_fn(*xs, eq):
    return dx.einsum(eq, *xs)


def _einsum_ref(*xs, eq):
    return np.einsum(eq, *xs)


def _repeat_samples(rng):
    return [Sample((rand(rng, 3),), {"sizes": (2,)}, name="1d"),
            Sample((rand(rng, 2, 1),), {"sizes": (3, 1, 7)}, name="lead-dim"),
            Sample((rand(rng, 1, 5),), {"sizes": (2, 2)}, name="size1"),
            Sample((rand(rng, 4, 3),), {"sizes": (1, 2), "t": True}, name="transposed"),
            Sample((rand(rng, 33, 127),), {"sizes": (3, 2)}, name="big", big=True)]


def _flip_samples(rng):
    return [Sample((rand(rng, 7),), {"dims": 0}, name="1d"),
            Sample((rand(rng, 3, 1, 5),), {"dims": (0, 2)}, name="two"),
            Sample((rand(rng, 2, 13),), {"dims": (-1,)}, name="neg"),
            Sample((rand(rng, 4, 3),), {"dims": (1,), "t": True}, name="transposed"),
            Sample((rand(rng),), {"dims": ()}, name="0d"),
            Sample((rand(rng, 127, 33),), {"dims": (0, 1)}, name="big", big=True)]


def _roll_samples(rng):
    return [Sample((rand(rng, 7),), {"shifts": 3}, name="flat"),
            Sample((rand(rng, 3, 4),), {"shifts": 5}, name="flat2d"),
            Sample((rand(rng, 3, 1, 13),), {"shifts": (-2, 1), "dims": (2, 0)}, name="two"),
            Sample((rand(rng, 4, 3),), {"shifts": 1, "dims": 1, "t": True}, name="transposed"),
            Sample((rand(rng, 127, 33),), {"shifts": 40, "dims": 0}, name="big", big=True)]


def _argsort_samples(rng):
    ties = rng.integers(0, 4, (5, 7)).astype(np.float64)  # stable order among ties
    return [Sample((ties,), {"dim": 1}, name="ties"),
            Sample((ties,), {"dim": 0, "descending": True}, name="ties-desc"),
            Sample((distinct(rng, 13),), {}, name="1d"),
            Sample((rng.integers(0, 50, (3, 1500)).astype(np.float64),), {"dim": 1},
                   name="merge-path", big=True)]


def _argsort_ref(x, dim=-1, descending=False):
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    return x.shape[dim] - 1 - np.flip(np.argsort(np.flip(x, dim), axis=dim, kind="stable"), dim)


def _all_any_samples(rng):
    x = rng.integers(0, 3, (4, 5)).astype(np.float64)
    x[1] = 1.0
    return [Sample((x,), {"dim": 1}, name="dim"), Sample((x,), {}, name="all"),
            Sample((x,), {"dim": 0, "keepdim": True}, name="keepdim"),
            Sample((rng.integers(0, 2, (2, 1, 3)) > 0,), {"dim": (0, 2)}, name="bool"),
            Sample((np.zeros((0, 3)),), {"dim": 0}, name="empty")]


def _all_any_samples_no_kw(rng):
    return [Sample(s.inputs, name=s.name) for s in _all_any_samples(rng) if s.name != "bool"] \
        + [Sample((rng.integers(0, 2, (2, 1, 3)) > 0,), name="bool"),
           Sample((np.array(2.0),), name="0d")]


def _bincount_samples(rng):
    x = rng.integers(0, 6, (40,))
    return [Sample((x,), name="counts"), Sample((x,), {"minlength": 9}, name="minlength"),
            Sample((x, rng.uniform(-1, 1, 40)), name="weights", requires_grad=(False, False)),
            Sample((np.zeros(0, np.int64),), {"minlength": 3}, name="empty")]


def _index_fill_torch(x):
    import torch

    return x.index_fill(1, torch.tensor([0, 2, -1]), -2.0)


def _roll_ref(x, shifts, dims=None, t=False):
    return np.roll(_np_t(x, t), shifts, axis=dims)


CORE_OPS += [
    # Index and mask arrays reach `fn` as integer/bool tensors, so most calls are the same
    # method calls on deepx and on torch tensors (torch=SAME_CALL).
    OpInfo("gather", lambda x, idx, dim, t=False: _maybe_t(x, t).gather(dim, idx),
           _gather_dim_ref, _gather_dim_samples, covers=(gs.GatherDim,), torch=SAME_CALL),
    OpInfo("scatter", lambda x, s, idx, dim, t=False: _maybe_t(x, t).scatter(dim, idx, s),
           _scatter_ref, _scatter_samples, covers=(gs.Scatter,), torch=SAME_CALL),
    OpInfo("scatter_value", lambda x, s, idx, dim, t=False: _maybe_t(x, t).scatter(
        dim, idx, 2.5) * s.sum(),
        lambda x, s, idx, dim, t=False: _scatter_ref(x, np.full(idx.shape, 2.5), idx, dim, t)
        * s.sum(), _scatter_samples, covers=(gs.Scatter,), torch=SAME_CALL),
    OpInfo("scatter_add", lambda x, s, idx, dim: x.scatter_add(dim, idx, s),
           lambda x, s, idx, dim: _scatter_ref(x, s, idx, dim, add=True),
           _scatter_add_samples, covers=(gs.Scatter,), tol_reason="a few float32 additions",
           torch=SAME_CALL),
    OpInfo("masked_fill", lambda x, m, v=None, value=None, t=False: _masked_fill_fn(
        x, m, v if v is not None else value, t),
        lambda x, m, v=None, value=None, t=False: _masked_fill_ref(
            x, m, v if v is not None else value, t), _masked_fill_samples,
        covers=(ew.Where,), torch=SAME_CALL),
    OpInfo("index_fill", lambda x: x.index_fill(1, dx.tensor([0, 2, -1], device=x.device), -2.0),
           lambda x: np.concatenate([np.full(x[:, :1].shape, -2.0), x[:, 1:2],
                                     np.full(x[:, 2:3].shape, -2.0), x[:, 3:-1],
                                     np.full(x[:, -1:].shape, -2.0)], axis=1),
           lambda rng: [Sample((rand(rng, 2, 7),)), Sample((rand(rng, 1, 5, 3),))],
           covers=(ew.Where,), torch=_index_fill_torch),
    OpInfo("sort", _sort_fn, _sort_ref, _sort_samples, covers=(gs.GatherDim,), torch=SAME_CALL),
    OpInfo("topk", lambda x, **kw: x.topk(**kw).values, _topk_ref, _topk_samples,
           covers=(gs.GatherDim,), torch=SAME_CALL),
    OpInfo("einsum", _einsum_fn, _einsum_ref, _einsum_samples,
           covers=(vw.View, mm.MatMul, vw.Permute, rd.Sum), atol32=1e-4, rtol32=1e-4,
           tol_reason="matmul-shaped contractions: float32 dot products in another order",
           torch=lambda *xs, eq: torch_fn("einsum")(eq, *xs)),
    OpInfo("repeat", lambda x, sizes, t=False: _maybe_t(x, t).repeat(*sizes),
           lambda x, sizes, t=False: np.tile(_np_t(x, t), sizes), _repeat_samples,
           covers=(vw.Expand, vw.Reshape), torch=SAME_CALL),
    OpInfo("tile", lambda x: x.tile((2,)), lambda x: np.tile(x, (1,) * (x.ndim - 1) + (2,)),
           lambda rng: [Sample((rand(rng, 3, 1, 5),)), Sample((rand(rng, 7),))],
           covers=(vw.Expand,), torch=SAME_CALL),
    OpInfo("flip", lambda x, dims, t=False: _maybe_t(x, t).flip(dims),
           lambda x, dims, t=False: np.flip(_np_t(x, t), dims).copy(), _flip_samples,
           covers=(rp.Flip,), torch=SAME_CALL),
    OpInfo("roll", lambda x, t=False, **kw: _maybe_t(x, t).roll(**kw), _roll_ref,
           _roll_samples, covers=(vw.View, mv.Cat), torch=SAME_CALL),
    # Integer and bool results (never recorded): exact on both backends and against torch.
    OpInfo("argsort", lambda x, **kw: x.argsort(**kw), _argsort_ref, _argsort_samples,
           covers=(srt.Argsort,), grad=False, tol_reason="exact: indices",
           torch=lambda x, **kw: x.argsort(stable=True, **kw)),
    OpInfo("all_any", lambda x, **kw: x.all(**kw) | ~x.any(**kw),
           lambda x, dim=None, keepdim=False: np.all(x, axis=dim, keepdims=keepdim)
           | ~np.any(x, axis=dim, keepdims=keepdim), _all_any_samples,
           covers=(lg.All, lg.Any), grad=False, tol_reason="exact: bools", torch=SAME_CALL),
    OpInfo("nonzero", lambda x: x.nonzero(), np.argwhere, _all_any_samples_no_kw,
           covers=(ix.Nonzero,), grad=False, tol_reason="exact: indices", torch=SAME_CALL),
    OpInfo("bincount", lambda x, w=None, **kw: x.bincount(w, **kw),
           lambda x, w=None, **kw: np.bincount(x, w, **kw), _bincount_samples,
           covers=(ix.Bincount,), grad=False, tol_reason="a few float32 additions in order",
           torch=SAME_CALL),
    OpInfo("where_method", lambda x, y: x.where(x > 0, y), lambda x, y: np.where(x > 0, x, y),
           lambda rng: [Sample((away_from_zero(rng, 3, 4), rand(rng, 4)), name="bcast"),
                        Sample((away_from_zero(rng, 1, 13), rand(rng, 7, 1)), name="both")],
           covers=(ew.Where,), torch=SAME_CALL),
]
