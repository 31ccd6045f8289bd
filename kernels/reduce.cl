/* reduce.cl: deterministic reductions (sum, max, min) and arg-reductions (argmax, argmin).
 *
 * Build options: -D DTYPE=<input type> -D OUT_DTYPE=<output and accumulator type>
 *   (long for sums of int/bool as NumPy, else DTYPE).
 * The input is seen as a set of outputs times a set of reduced elements: output o starts at
 * strided_offset(o, nk, kshape, kstrides) and its r-th reduced element lies a further
 * strided_offset(r, nr, rshape, rstrides) on (kept and reduced dims each up to 8; the host
 * merges contiguous dims, so usually nk, nr <= 1). R = number of reduced elements >= 1
 * (SUM of nothing is handled by the host as a fill).
 * No atomics anywhere: every result is a fixed sequence of operations, bit-identical run to
 * run. MAX/MIN propagate NaN as NumPy does; arg-reductions return the first index on ties
 * (and the first NaN), as np.argmax.
 *
 * Every kernel takes x_offset, the element offset of the input view's first element in x.
 *
 * reduce_serial(op, n_out, R, nk, kshape, kstrides, nr, rshape, rstrides, x_offset, x, out)
 *     Geometry: 1-D, one work-item per output (global n_out rounded up; guard o < n_out).
 *     Loops over r in order. For many short reductions. Matches NumpyBackend.reduce.
 * reduce_tree(op, n_out, R, ..., x, out, scratch: local OUT_DTYPE[L])
 *     Geometry: one work-group of L work-items (L a power of two) per output: global size
 *     n_out * L, local size L. Work-item t folds r = t, t + L, ...; then tree.h's tree in
 *     local memory (group_reduce). For long reductions. Matches NumpyBackend.reduce.
 * argreduce_serial(op, n_out, R, ..., x, out: long)
 * argreduce_tree(op, n_out, R, ..., x, out: long, values: local DTYPE[L], where: local long[L])
 *     Same geometries; ArgReduceOp op; match NumpyBackend.arg_reduce. The tree carries
 *     (value, index) pairs in two local arrays: tree.h's TREE_FOLD with arg_merge.
 */
#include "tree.h"

#define ARGREDUCE_ARGMAX 0
#define ARGREDUCE_ARGMIN 1

/* Offset of the r-th reduced element relative to its output's first one. */
inline int reduced_offset(int r, int nr, const int* rdims, const int* rst) {
    return nr == 1 ? r * rst[0] : strided_offset(r, nr, rdims, rst);
}

/* True when (v, i) should replace (best, at) as the running arg-max/min. */
inline bool arg_better(int op, DTYPE v, long i, DTYPE best, long at) {
    bool v_nan = IS_NAN(v), best_nan = IS_NAN(best);
    if (v_nan || best_nan) return v_nan && (!best_nan || i < at);
    bool wins = op == ARGREDUCE_ARGMAX ? v > best : v < best;
    return wins || (v == best && i < at);
}

/* One tree level's step of argreduce_tree: pair `from` folded into pair `into`. */
inline void arg_merge(int op, __local DTYPE* values, __local long* where, int into, int from) {
    if (arg_better(op, values[from], where[from], values[into], where[into])) {
        values[into] = values[from];
        where[into] = where[from];
    }
}

#define LOAD_DIMS                                                    \
    int kd[MAX_DIMS], ks[MAX_DIMS], rd[MAX_DIMS], rs[MAX_DIMS];      \
    load_dims(kshape, kd);                                           \
    load_dims(kstrides, ks);                                         \
    load_dims(rshape, rd);                                           \
    load_dims(rstrides, rs)

__kernel void reduce_serial(int op, int n_out, int R, int nk, int8 kshape, int8 kstrides,
                            int nr, int8 rshape, int8 rstrides, int x_offset,
                            __global const DTYPE* x, __global OUT_DTYPE* out) {
    int o = get_global_id(0);
    if (o >= n_out) return;
    LOAD_DIMS;
    int base = x_offset + strided_offset(o, nk, kd, ks);
    OUT_DTYPE acc = op == REDUCE_SUM ? (OUT_DTYPE)0 : (OUT_DTYPE)x[base];
    for (int r = 0; r < R; ++r) {
        acc = reduce_combine(op, acc, (OUT_DTYPE)x[base + reduced_offset(r, nr, rd, rs)]);
    }
    out[o] = acc;
}

__kernel void reduce_tree(int op, int n_out, int R, int nk, int8 kshape, int8 kstrides,
                          int nr, int8 rshape, int8 rstrides, int x_offset,
                          __global const DTYPE* x, __global OUT_DTYPE* out,
                          __local OUT_DTYPE* scratch) {
    int o = get_group_id(0);
    int t = get_local_id(0);
    int L = get_local_size(0);
    LOAD_DIMS;
    int base = x_offset + strided_offset(o, nk, kd, ks);
    /* MAX/MIN start from element 0: folding it in twice changes nothing */
    OUT_DTYPE acc = op == REDUCE_SUM ? (OUT_DTYPE)0 : (OUT_DTYPE)x[base];
    for (int r = t; r < R; r += L) {
        acc = reduce_combine(op, acc, (OUT_DTYPE)x[base + reduced_offset(r, nr, rd, rs)]);
    }
    acc = group_reduce(op, acc, scratch);
    if (t == 0 && o < n_out) out[o] = acc;
}

__kernel void argreduce_serial(int op, int n_out, int R, int nk, int8 kshape, int8 kstrides,
                               int nr, int8 rshape, int8 rstrides, int x_offset,
                               __global const DTYPE* x, __global long* out) {
    int o = get_global_id(0);
    if (o >= n_out) return;
    LOAD_DIMS;
    int base = x_offset + strided_offset(o, nk, kd, ks);
    DTYPE best = x[base];
    long at = 0;
    for (int r = 1; r < R; ++r) {
        DTYPE v = x[base + reduced_offset(r, nr, rd, rs)];
        if (arg_better(op, v, r, best, at)) {
            best = v;
            at = r;
        }
    }
    out[o] = at;
}

__kernel void argreduce_tree(int op, int n_out, int R, int nk, int8 kshape, int8 kstrides,
                             int nr, int8 rshape, int8 rstrides, int x_offset,
                             __global const DTYPE* x, __global long* out,
                             __local DTYPE* values, __local long* where) {
    int o = get_group_id(0);
    int t = get_local_id(0);
    int L = get_local_size(0);
    LOAD_DIMS;
    int base = x_offset + strided_offset(o, nk, kd, ks);
    DTYPE best = x[base];
    long at = 0;
    for (int r = t; r < R; r += L) {
        DTYPE v = x[base + reduced_offset(r, nr, rd, rs)];
        if (arg_better(op, v, r, best, at)) {
            best = v;
            at = r;
        }
    }
    values[t] = best;
    where[t] = at;
    TREE_FOLD(arg_merge, op, values, where);
    if (t == 0 && o < n_out) out[o] = where[0];
}
