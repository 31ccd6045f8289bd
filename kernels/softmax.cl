/* softmax.cl: softmax and log-softmax along one axis, forward and backward, max-subtracted.
 *
 * Build options: -D DTYPE=<float|double>, -D CHUNK, -D SCALAR_ROWS=<0|1> (1: element loops
 *   only, see below). OUT_DTYPE is left to default to DTYPE (tree.h's accumulator type).
 * The arrays are seen as (outer, n, inner) with the softmax taken along n: element k of the
 *   row (o, j) is at (o * n + k) * inner + j. log_out selects log-softmax (1) or softmax (0).
 * Each formula is written once (macros valid for an element or a CHUNK-lane vector) and each
 *   direction's row loop once (forward_row, backward_row): a team of `team` work-items shares
 *   a row; each reads its whole CHUNK-blocks of a contiguous row as vectors, then the rest (a
 *   ragged end, or all of a strided row) element by element; its partials are combined in
 *   lane order, then, for a team > 1, across the team by tree.h's group_reduce. The order is
 *   fixed: results are bit-identical run to run; they match NumPy's up to summation order.
 *
 * softmax_forward(log_out, rows, n, inner, x, out)
 *     Geometry: 1-D, one work-item per row (rows = outer * inner), guard r < rows. Strided
 *     rows (inner > 1) need the SCALAR_ROWS=1 build.
 *     m = max (NaN propagates), s = sum exp(x - m); out = exp(x - m) / s or x - m - log s.
 *     Matches NumpyBackend.softmax.
 * softmax_backward(log_out, rows, n, inner, out, grad, dx)
 *     Same geometry. dx = out * (g - sum(g * out)) or g - exp(out) * sum(g).
 *     Matches NumpyBackend.softmax_backward.
 * softmax_forward_tree(log_out, rows, n, x, out, scratch: local DTYPE[L])
 * softmax_backward_tree(log_out, rows, n, out, grad, dx, scratch: local DTYPE[L])
 *     The same computation (the kernels above run teams of 1) for few long contiguous rows
 *     (inner == 1): a team of L work-items, a power of two, per row: global rows * L,
 *     local L. Built with SCALAR_ROWS=0.
 */
#include "chunk.h"
#include "tree.h"

/* -D SCALAR_ROWS=1, the host's build for short or strided rows, leaves the vector loops out:
 * PoCL then vectorises the element loops across work-items, faster for those rows. The other
 * build's softmax_forward/backward, like the tree kernels, read contiguous rows only (they
 * take inner as 1), so a row's offset costs no division. */
#ifndef SCALAR_ROWS
#define SCALAR_ROWS 0
#endif

/* The formulas, each written once, for one element or a CHUNK-lane vector alike (macros:
 * OpenCL C has no overloading), m and s being the row's max and sum of exp. */
#define MAX_NAN(m, v) (GT_NAN(v, m) ? (v) : (m))  /* NaN propagates, as np.max */
#define EXP_SHIFTED(v, m) exp((v) - (m))
#define FORWARD_OUT(log_out, v, m, s, log_s) \
    ((log_out) ? (v) - (m) - (log_s) : EXP_SHIFTED(v, m) / (s))
#define BACKWARD_DOT(log_out, g, o) ((log_out) ? (g) : (g) * (o))
#define BACKWARD_DX(log_out, g, o, s) ((log_out) ? (g) - exp(o) * (s) : (o) * ((g) - (s)))

/* The lanes of v combined in lane order by reduce_combine. */
inline DTYPE lanes_reduce(int op, VTYPE v) {
    DTYPE lanes[CHUNK];
    VSTORE(v, 0, lanes);
    DTYPE result = lanes[0];
    for (int j = 1; j < CHUNK; ++j) result = reduce_combine(op, result, lanes[j]);
    return result;
}

/* A row's total: a work-item's vector partial (if it read any block: else it holds only the
 * identity) and element partial, then, for a team > 1, the team's. */
inline DTYPE row_total(int op, VTYPE lanes, bool blocks, DTYPE rest, int team,
                       __local DTYPE* scratch) {
    DTYPE total = blocks ? reduce_combine(op, lanes_reduce(op, lanes), rest) : rest;
    return team > 1 ? group_reduce(op, total, scratch) : total;
}

/* Work-item t of a team of `team` on the row at x, out (element k at [k * inner]). Each pass
 * reads the whole CHUNK-blocks of a contiguous row as vectors (blocks t, t + team, ...), then
 * the rest, a ragged end or all of a strided row, element by element (whole + t, + team, ...),
 * which PoCL vectorises across the work-items. */
inline void forward_row(int log_out, int n, int inner, int t, int team, __global const DTYPE* x,
                        __global DTYPE* out, __local DTYPE* scratch) {
    int whole = SCALAR_ROWS || inner > 1 ? 0 : n - n % CHUNK;
    int step = team * CHUNK;
    bool blocks = t * CHUNK < whole;  /* work-item t reads at least one vector block */
    VTYPE mv = (VTYPE)(-INFINITY);
    DTYPE m = -INFINITY;
    for (int k = t * CHUNK; k < whole; k += step) mv = MAX_NAN(mv, VLOAD(0, x + k));
    for (int k = whole + t; k < n; k += team) m = MAX_NAN(m, x[(long)k * inner]);
    m = row_total(REDUCE_MAX, mv, blocks, m, team, scratch);
    VTYPE sv = (VTYPE)0;
    DTYPE s = (DTYPE)0;
    for (int k = t * CHUNK; k < whole; k += step) sv += EXP_SHIFTED(VLOAD(0, x + k), m);
    for (int k = whole + t; k < n; k += team) s += EXP_SHIFTED(x[(long)k * inner], m);
    s = row_total(REDUCE_SUM, sv, blocks, s, team, scratch);
    DTYPE log_s = log(s);
    for (int k = t * CHUNK; k < whole; k += step) {
        VSTORE(FORWARD_OUT(log_out, VLOAD(0, x + k), m, s, log_s), 0, out + k);
    }
    for (int k = whole + t; k < n; k += team) {
        out[(long)k * inner] = FORWARD_OUT(log_out, x[(long)k * inner], m, s, log_s);
    }
}

/* The same for the backward pass. */
inline void backward_row(int log_out, int n, int inner, int t, int team,
                         __global const DTYPE* out, __global const DTYPE* grad,
                         __global DTYPE* dx, __local DTYPE* scratch) {
    int whole = SCALAR_ROWS || inner > 1 ? 0 : n - n % CHUNK;
    int step = team * CHUNK;
    bool blocks = t * CHUNK < whole;  /* work-item t reads at least one vector block */
    VTYPE sv = (VTYPE)0;
    DTYPE s = (DTYPE)0;
    for (int k = t * CHUNK; k < whole; k += step) {
        sv += BACKWARD_DOT(log_out, VLOAD(0, grad + k), VLOAD(0, out + k));
    }
    for (int k = whole + t; k < n; k += team) {
        long at = (long)k * inner;
        s += BACKWARD_DOT(log_out, grad[at], out[at]);
    }
    s = row_total(REDUCE_SUM, sv, blocks, s, team, scratch);
    for (int k = t * CHUNK; k < whole; k += step) {
        VSTORE(BACKWARD_DX(log_out, VLOAD(0, grad + k), VLOAD(0, out + k), s), 0, dx + k);
    }
    for (int k = whole + t; k < n; k += team) {
        long at = (long)k * inner;
        dx[at] = BACKWARD_DX(log_out, grad[at], out[at], s);
    }
}

__kernel void softmax_forward(int log_out, int rows, int n, int inner,
                              __global const DTYPE* x, __global DTYPE* out) {
    int r = get_global_id(0);
    if (r >= rows) return;
    int stride = SCALAR_ROWS ? inner : 1;  /* other builds: contiguous rows only */
    long base = (long)(r / stride) * n * stride + r % stride;
    forward_row(log_out, n, stride, 0, 1, x + base, out + base, 0);
}

__kernel void softmax_backward(int log_out, int rows, int n, int inner,
                               __global const DTYPE* out, __global const DTYPE* grad,
                               __global DTYPE* dx) {
    int r = get_global_id(0);
    if (r >= rows) return;
    int stride = SCALAR_ROWS ? inner : 1;  /* other builds: contiguous rows only */
    long base = (long)(r / stride) * n * stride + r % stride;
    backward_row(log_out, n, stride, 0, 1, out + base, grad + base, dx + base, 0);
}

__kernel void softmax_forward_tree(int log_out, int rows, int n, __global const DTYPE* x,
                                   __global DTYPE* out, __local DTYPE* scratch) {
    long base = (long)get_group_id(0) * n;
    forward_row(log_out, n, 1, get_local_id(0), get_local_size(0), x + base, out + base,
                scratch);
}

__kernel void softmax_backward_tree(int log_out, int rows, int n, __global const DTYPE* out,
                                    __global const DTYPE* grad, __global DTYPE* dx,
                                    __local DTYPE* scratch) {
    long base = (long)get_group_id(0) * n;
    backward_row(log_out, n, 1, get_local_id(0), get_local_size(0), out + base, grad + base,
                 dx + base, scratch);
}
