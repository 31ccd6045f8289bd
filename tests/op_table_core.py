"""Op-table entries for the core ops: elementwise, reductions, movement, indexing, matmul."""
from __future__ import annotations

import numpy as np
from op_table import OpInfo, Sample, away_from_zero, distinct, positive, rand

import deepx as dx
from deepx.ops import elementwise as ew
from deepx.ops import matmul as mm
from deepx.ops import movement as mv
from deepx.ops import reduce as rd
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


CORE_OPS = [
    OpInfo("add", lambda a, b: a + b, np.add, _binary_samples(rand), covers=(ew.Add,)),
    OpInfo("sub", lambda a, b: a - b, np.subtract, _binary_samples(rand), covers=(ew.Sub,)),
    OpInfo("mul", lambda a, b: a * b, np.multiply, _binary_samples(rand), covers=(ew.Mul,)),
    OpInfo("div", lambda a, b: a / b, np.divide, _binary_samples(rand, positive),
           covers=(ew.Div,), rtol32=2e-6, tol_reason="division is correctly rounded; "
           "the reciprocal path of some devices is not: 2 ulps"),
    OpInfo("pow", lambda a, b: a ** b, np.power, _binary_samples(positive), covers=(ew.Pow,),
           atol32=1e-5, rtol32=1e-4, tol_reason="pow = exp(b log a): float32 exp/log "
           "each carry a few ulps and exp amplifies the log's relative error by |b log a|"),
    OpInfo("maximum", dx.maximum, np.maximum, _binary_samples(distinct), covers=(ew.Maximum,)),
    OpInfo("minimum", dx.minimum, np.minimum, _binary_samples(distinct), covers=(ew.Minimum,)),
    OpInfo("neg", lambda x: -x, np.negative, _unary_samples(rand), covers=(ew.Neg,)),
    OpInfo("exp", dx.exp, np.exp, _unary_samples(rand), covers=(ew.Exp,), rtol32=1e-5,
           tol_reason="float32 exp: <= 4 ulps on OpenCL's built-in"),
    OpInfo("log", dx.log, np.log, _unary_samples(positive), covers=(ew.Log,),
           rtol32=1e-5, tol_reason="float32 log: <= 4 ulps"),
    OpInfo("sqrt", dx.sqrt, np.sqrt, _unary_samples(positive), covers=(ew.Sqrt,)),
    OpInfo("abs", dx.abs, np.abs, _unary_samples(away_from_zero), covers=(ew.Abs,)),
    OpInfo("tanh", dx.tanh, np.tanh, _unary_samples(rand), covers=(ew.Tanh,), atol32=2e-6,
           tol_reason="float32 tanh: a few ulps near 0 where values are small"),
    OpInfo("sigmoid", dx.sigmoid, _np_sigmoid, _unary_samples(rand), covers=(ew.Sigmoid,),
           atol32=2e-6, tol_reason="float32 exp inside 1/(1+e^-x): a few ulps"),
    OpInfo("where", lambda c, a, b: dx.where(c > 0, a, b),
           lambda c, a, b: np.where(c > 0, a, b),
           lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 3, 4), rand(rng, 4)),
                               requires_grad=(False, True, True), name="bcast"),
                        Sample((rand(rng, 5, 1), rand(rng, 1, 7), rand(rng)),
                               requires_grad=(False, True, True), name="3way"),
                        Sample((rand(rng, 127, 33), rand(rng, 33), rand(rng, 127, 1)),
                               requires_grad=(False, True, True), name="big", big=True)],
           covers=(ew.Where,)),
    OpInfo("clip", lambda x, **kw: dx.clip(x, **kw), lambda x, min=None, max=None: np.clip(
        x, min, max), lambda rng: [
            Sample((distinct(rng, 4, 5),), {"min": -0.031, "max": 0.052}, name="both"),
            Sample((distinct(rng, 7),), {"min": 0.013}, name="min"),
            Sample((distinct(rng, 7),), {"max": 0.013}, name="max"),
            Sample((rand(rng, 1000),), {"min": -0.5, "max": 0.5}, name="big", big=True)],
        covers=(ew.Clip,)),
    OpInfo("to_float64", lambda x: x.to(dx.float64) * 2, lambda x: x * 2,
           _unary_samples(rand), covers=(ew.Cast,)),
    OpInfo("sum", lambda x, **kw: x.sum(**kw), _np_reduce(np.sum), _reduce_samples(rand),
           covers=(rd.Sum,), atol32=1e-5, rtol32=1e-5,
           tol_reason="float32 tree vs pairwise summation order: error ~ log2(n) ulps"),
    OpInfo("mean", lambda x, **kw: x.mean(**kw), _np_reduce(np.mean), _reduce_samples(rand),
           covers=(rd.Sum,), tol_reason="sum then one division"),
    OpInfo("amax", lambda x, **kw: x.amax(**kw), _np_reduce(np.max), _reduce_samples(distinct),
           covers=(rd.Max,)),
    OpInfo("amin", lambda x, **kw: x.amin(**kw), _np_reduce(np.min), _reduce_samples(distinct),
           covers=(rd.Min,)),
    OpInfo("max_dim", lambda x: x.max(dim=1).values, lambda x: x.max(axis=1),
           lambda rng: [Sample((distinct(rng, 3, 5),)), Sample((distinct(rng, 2, 7, 3),)),
                        Sample((distinct(rng, 33, 129),), big=True)], covers=(rd.Max,)),
    OpInfo("min_dim", lambda x: x.min(dim=0, keepdim=True).values,
           lambda x: x.min(axis=0, keepdims=True),
           lambda rng: [Sample((distinct(rng, 3, 5),)), Sample((distinct(rng, 127, 3),),
                                                               big=True)], covers=(rd.Min,)),
    OpInfo("max_ties", lambda x: x.amax(dim=1), lambda x: x.max(axis=1),
           # Two-way ties only: finite differences see 1/2 per element there, as the rule says.
           lambda rng: [Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]),), name="ties")],
           covers=(rd.Max,), tol_reason="exact: ties share the gradient evenly",
           gc_atol=1e-4),
    OpInfo("var", lambda x, **kw: x.var(**kw), _var_ref, _var_samples, covers=(rd.Sum,),
           atol32=1e-5, rtol32=1e-4, tol_reason="two float32 reductions and a difference"),
    OpInfo("std", lambda x, **kw: x.std(**kw), _std_ref, _var_samples, covers=(rd.Sum,),
           atol32=1e-5, rtol32=1e-4, tol_reason="var's error halved by sqrt"),
    OpInfo("reshape", lambda x, **kw: x.reshape(kw["shape"]), lambda x, shape: x.reshape(shape),
           lambda rng: [Sample((rand(rng, 3, 4),), {"shape": (2, 6)}),
                        Sample((rand(rng, 2, 3, 5),), {"shape": (-1, 5)}),
                        Sample((rand(rng, 1),), {"shape": ()}),
                        Sample((rand(rng, 127, 33),), {"shape": (33, -1)}, big=True)],
           covers=(vw.Reshape, vw.ReshapeView)),
    OpInfo("flatten", lambda x, **kw: x.flatten(**kw),
           lambda x, start_dim=0: x.reshape(x.shape[:start_dim] + (-1,)),
           lambda rng: [Sample((rand(rng, 2, 3, 4),), {"start_dim": 1}),
                        Sample((rand(rng, 2, 3, 4),), {}),
                        Sample((rand(rng, 64, 13, 7),), {"start_dim": 1}, big=True)],
           covers=(vw.Reshape, vw.ReshapeView)),
    OpInfo("permute", lambda x, **kw: x.permute(kw["dims"]), lambda x, dims: x.transpose(dims),
           lambda rng: [Sample((rand(rng, 2, 3, 4),), {"dims": (2, 0, 1)}),
                        Sample((rand(rng, 1, 7),), {"dims": (1, 0)}),
                        Sample((rand(rng, 33, 17, 65),), {"dims": (1, 2, 0)}, big=True)],
           covers=(vw.Permute,)),
    OpInfo("transpose", lambda x: x.transpose(0, -1),
           lambda x: np.swapaxes(x, 0, -1) if x.ndim else x,
           _unary_samples(rand), covers=(vw.Permute,)),
    OpInfo("T", lambda x: x.T, lambda x: x.T, _unary_samples(rand), covers=(vw.Permute,)),
    OpInfo("unsqueeze_squeeze", lambda x: x.unsqueeze(0).squeeze(), lambda x: np.squeeze(x),
           _unary_samples(rand), covers=(vw.Reshape, vw.ReshapeView)),
    OpInfo("expand", lambda x: x.expand(2, 3, -1),
           lambda x: np.broadcast_to(x, (2, 3, x.shape[-1])),
           lambda rng: [Sample((rand(rng, 3, 1),)), Sample((rand(rng, 1, 4),)),
                        Sample((rand(rng, 4),))], covers=(vw.Expand,)),
    OpInfo("getitem", lambda x, key: x[key], _getitem_ref, _getitem_samples,
           covers=(vw.View,)),
    OpInfo("view", lambda x, **kw: x.view(kw["shape"]), lambda x, shape: x.reshape(shape),
           lambda rng: [Sample((rand(rng, 3, 4),), {"shape": (2, 6)}),
                        Sample((rand(rng, 1, 7),), {"shape": (7, 1, 1)}),
                        Sample((rand(rng, 13, 2),), {"shape": (-1,)})],
           covers=(vw.ReshapeView,)),
    OpInfo("reshape_copy", lambda x: x.T.reshape(-1), lambda x: x.T.reshape(-1),
           lambda rng: [Sample((rand(rng, 3, 4),)), Sample((rand(rng, 7, 13),))],
           covers=(vw.Reshape, vw.Permute)),
    OpInfo("contiguous", lambda x: x.T.contiguous() * 1, lambda x: x.T,
           lambda rng: [Sample((rand(rng, 3, 4),)), Sample((rand(rng, 2, 5, 3),))],
           covers=(vw.Contiguous,)),
    OpInfo("narrow", lambda x, **kw: x.narrow(**kw), lambda x, dim, start, length:
           np.take(x, range(start, start + length), axis=dim),
           lambda rng: [Sample((rand(rng, 5, 7),), {"dim": 1, "start": 2, "length": 4}),
                        Sample((rand(rng, 5, 7),), {"dim": 0, "start": 0, "length": 1})],
           covers=(vw.View,)),
    OpInfo("select", lambda x, **kw: x.select(**kw), lambda x, dim, index:
           np.take(x, index, axis=dim),
           lambda rng: [Sample((rand(rng, 5, 7),), {"dim": 1, "index": -1}),
                        Sample((rand(rng, 3, 4, 2),), {"dim": 0, "index": 2})],
           covers=(vw.View,)),
    OpInfo("unbind_split_chunk",
           lambda x: (x.unbind(1)[1] * 2 + x.split([1, 2], 1)[1].sum(1) +
                      x.chunk(2, 1)[0].sum(1)),
           lambda x: x[:, 1] * 2 + x[:, 1:].sum(1) + x[:, :2].sum(1),
           lambda rng: [Sample((rand(rng, 4, 3),)), Sample((rand(rng, 1, 3),))],
           covers=(vw.View, ew.Mul, ew.Add, rd.Sum)),
    OpInfo("diagonal", lambda x, **kw: x.diagonal(**kw),
           lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
           lambda rng: [Sample((rand(rng, 4, 5),), {}),
                        Sample((rand(rng, 4, 5),), {"offset": 2}),
                        Sample((rand(rng, 4, 5),), {"offset": -1}),
                        Sample((rand(rng, 3, 4, 5),), {"dim1": 1, "dim2": 2})],
           covers=(vw.View,)),
    OpInfo("unfold", lambda x, **kw: x.unfold(**kw), _unfold_ref,
           lambda rng: [Sample((rand(rng, 2, 7),), {"dimension": 1, "size": 3, "step": 1},
                               name="overlapping"),
                        Sample((rand(rng, 9, 2),), {"dimension": 0, "size": 2, "step": 3},
                               name="gaps")],
           covers=(vw.View,)),
    OpInfo("inplace_through_view", _inplace_through_view,
           lambda x, w: _inplace_through_view_ref(x, w),
           lambda rng: [Sample((rand(rng, 3, 4), rand(rng, 4))),
                        Sample((rand(rng, 5, 4), rand(rng, 1)))],
           covers=(vw.CopySlices, vw.View, ew.Mul, ew.Add)),
    OpInfo("index_select", lambda x, idx, dim: dx.index_select(x, dim, idx),
           lambda x, idx, dim: np.take(x, idx, axis=dim), _gather_samples,
           covers=(mv.Gather,)),
    OpInfo("index_list", lambda x: x[[2, 0, 2]], lambda x: x[[2, 0, 2]],
           lambda rng: [Sample((rand(rng, 3, 4),)), Sample((rand(rng, 5),))],
           covers=(mv.Gather,)),
    OpInfo("cat", lambda *xs, dim: dx.cat(xs, dim=dim),
           lambda *xs, dim: np.concatenate(xs, axis=dim), _cat_samples, covers=(mv.Cat,)),
    OpInfo("stack", lambda *xs, dim: dx.stack(xs, dim=dim),
           lambda *xs, dim: np.stack(xs, axis=dim), _stack_samples, covers=(mv.Cat,)),
    OpInfo("pad", lambda x, **kw: dx.pad(x, **kw), _np_pad, _pad_samples, covers=(mv.Pad,)),
    OpInfo("matmul", lambda a, b: a @ b, np.matmul, _matmul_samples, covers=(mm.MatMul,),
           atol32=1e-4, rtol32=1e-4, tol_reason="K-long float32 dot products in a different "
           "summation order: error grows ~ sqrt(K) ulps of the partial sums"),
    OpInfo("composite_mlp", lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(),
           lambda x, w, b: np.mean(np.tanh(x @ w + b) ** 2),
           lambda rng: [Sample((rand(rng, 5, 3), rand(rng, 3, 4), rand(rng, 4))),
                        Sample((rand(rng, 64, 100), rand(rng, 100, 33), rand(rng, 33)),
                               big=True)],
           covers=(ew.Add, mm.MatMul, ew.Tanh, ew.Pow, rd.Sum, ew.Div), atol32=1e-5,
           rtol32=1e-4, tol_reason="matmul + reduction in float32"),
]
