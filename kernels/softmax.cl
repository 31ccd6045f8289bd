/* softmax.cl: softmax and log-softmax along one axis, forward and backward, max-subtracted.
 *
 * Build options: -D DTYPE=<float|double>.
 * The arrays are seen as (outer, n, inner) with the softmax taken along n: element k of the
 *   row (o, j) is at (o * n + k) * inner + j. log_out selects log-softmax (1) or softmax (0).
 *
 * softmax_forward(log_out, rows, n, inner, x, out)
 *     Geometry: 1-D, one work-item per row (rows = outer * inner), guard r < rows.
 *     m = max (NaN propagates), s = sum exp(x - m); out = exp(x - m) / s or x - m - log s.
 *     Matches NumpyBackend.softmax.
 * softmax_backward(log_out, rows, n, inner, out, grad, dx)
 *     Same geometry. dx = out * (g - sum(g * out)) or g - exp(out) * sum(g).
 *     Matches NumpyBackend.softmax_backward.
 * softmax_forward_tree(log_out, rows, n, x, out, scratch: local DTYPE[L])
 * softmax_backward_tree(log_out, rows, n, out, grad, dx, scratch: local DTYPE[L])
 *     For long contiguous rows (inner == 1): one work-group of L work-items (a power of two)
 *     per row, global rows * L, local L; strided partial results, then a tree in local
 *     memory. Deterministic (fixed order), same results as the serial kernels up to
 *     summation order.
 * softmax_forward_rows(log_out, rows, n, x, out)
 * softmax_backward_rows(log_out, rows, n, out, grad, dx)
 *     For many contiguous rows (inner == 1): one work-item per row, guard r < rows, reading
 *     the row CHUNK elements at a time as vectors (PoCL does not vectorise the tree
 *     kernels' strided loops), the last n % 16 one by one. Sums keep 16 lane partials added
 *     at the end: another summation order again, deterministic.
 */
#include "chunk.h"


inline DTYPE max_nan(DTYPE a, DTYPE b) {
    return GT_NAN(b, a) ? b : a;
}

__kernel void softmax_forward(int log_out, int rows, int n, int inner,
                              __global const DTYPE* x, __global DTYPE* out) {
    int r = get_global_id(0);
    if (r >= rows) return;
    long base = (long)(r / inner) * n * inner + r % inner;
    DTYPE m = -INFINITY;
    for (int k = 0; k < n; ++k) m = max_nan(m, x[base + k * inner]);
    DTYPE s = (DTYPE)0;
    for (int k = 0; k < n; ++k) s += exp(x[base + k * inner] - m);
    DTYPE log_s = log(s);
    for (int k = 0; k < n; ++k) {
        long at = base + k * inner;
        DTYPE z = x[at] - m;
        out[at] = log_out ? z - log_s : exp(z) / s;
    }
}

__kernel void softmax_backward(int log_out, int rows, int n, int inner,
                               __global const DTYPE* out, __global const DTYPE* grad,
                               __global DTYPE* dx) {
    int r = get_global_id(0);
    if (r >= rows) return;
    long base = (long)(r / inner) * n * inner + r % inner;
    DTYPE s = (DTYPE)0;
    for (int k = 0; k < n; ++k) {
        long at = base + k * inner;
        s += log_out ? grad[at] : grad[at] * out[at];
    }
    for (int k = 0; k < n; ++k) {
        long at = base + k * inner;
        dx[at] = log_out ? grad[at] - exp(out[at]) * s : out[at] * (grad[at] - s);
    }
}

/* The lanes of v combined in order: op 0 = sum, 1 = max. */
inline DTYPE lanes_reduce(int op, VTYPE v) {
    DTYPE lanes[CHUNK];
    VSTORE(v, 0, lanes);
    DTYPE result = lanes[0];
    for (int j = 1; j < CHUNK; ++j) {
        result = op ? max_nan(result, lanes[j]) : result + lanes[j];
    }
    return result;
}

__kernel void softmax_forward_rows(int log_out, int rows, int n, __global const DTYPE* x,
                                   __global DTYPE* out) {
    int r = get_global_id(0);
    if (r >= rows) return;
    x += (long)r * n;
    out += (long)r * n;
    int whole = n - n % CHUNK;
    VTYPE mv = (VTYPE)(-INFINITY);
    for (int k = 0; k < whole; k += CHUNK) {
        VTYPE v = VLOAD(0, x + k);
        mv = select(mv, v, GT_NAN(v, mv));
    }
    DTYPE m = lanes_reduce(1, mv);
    for (int k = whole; k < n; ++k) m = max_nan(m, x[k]);
    VTYPE sv = (VTYPE)0;
    for (int k = 0; k < whole; k += CHUNK) sv += exp(VLOAD(0, x + k) - m);
    DTYPE s = lanes_reduce(0, sv);
    for (int k = whole; k < n; ++k) s += exp(x[k] - m);
    DTYPE log_s = log(s);
    if (log_out) {
        for (int k = 0; k < whole; k += CHUNK) VSTORE(VLOAD(0, x + k) - m - log_s, 0, out + k);
        for (int k = whole; k < n; ++k) out[k] = x[k] - m - log_s;
    } else {
        for (int k = 0; k < whole; k += CHUNK) VSTORE(exp(VLOAD(0, x + k) - m) / s, 0, out + k);
        for (int k = whole; k < n; ++k) out[k] = exp(x[k] - m) / s;
    }
}

__kernel void softmax_backward_rows(int log_out, int rows, int n, __global const DTYPE* out,
                                    __global const DTYPE* grad, __global DTYPE* dx) {
    int r = get_global_id(0);
    if (r >= rows) return;
    out += (long)r * n;
    grad += (long)r * n;
    dx += (long)r * n;
    int whole = n - n % CHUNK;
    VTYPE sv = (VTYPE)0;
    for (int k = 0; k < whole; k += CHUNK) {
        VTYPE g = VLOAD(0, grad + k);
        sv += log_out ? g : g * VLOAD(0, out + k);
    }
    DTYPE s = lanes_reduce(0, sv);
    for (int k = whole; k < n; ++k) s += log_out ? grad[k] : grad[k] * out[k];
    for (int k = 0; k < whole; k += CHUNK) {
        VTYPE g = VLOAD(0, grad + k);
        VTYPE o = VLOAD(0, out + k);
        VSTORE(log_out ? g - exp(o) * s : o * (g - s), 0, dx + k);
    }
    for (int k = whole; k < n; ++k) {
        dx[k] = log_out ? grad[k] - exp(out[k]) * s : out[k] * (grad[k] - s);
    }
}

/* Tree in local memory over L partials; op 0 = sum, 1 = max. Every work-item gets the result. */
inline DTYPE tree_reduce(int op, DTYPE v, __local DTYPE* scratch) {
    int t = get_local_id(0);
    int L = get_local_size(0);
    scratch[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = L / 2; s > 0; s >>= 1) {
        if (t < s) {
            scratch[t] = op ? max_nan(scratch[t], scratch[t + s]) : scratch[t] + scratch[t + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    DTYPE result = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);  /* scratch is reused by the next tree */
    return result;
}

__kernel void softmax_forward_tree(int log_out, int rows, int n, __global const DTYPE* x,
                                   __global DTYPE* out, __local DTYPE* scratch) {
    int r = get_group_id(0);
    int t = get_local_id(0);
    int L = get_local_size(0);
    __global const DTYPE* row = x + (long)r * n;
    DTYPE m = -INFINITY;
    for (int k = t; k < n; k += L) m = max_nan(m, row[k]);
    m = tree_reduce(1, m, scratch);
    DTYPE s = (DTYPE)0;
    for (int k = t; k < n; k += L) s += exp(row[k] - m);
    s = tree_reduce(0, s, scratch);
    DTYPE log_s = log(s);
    for (int k = t; k < n; k += L) {
        DTYPE z = row[k] - m;
        out[(long)r * n + k] = log_out ? z - log_s : exp(z) / s;
    }
}

__kernel void softmax_backward_tree(int log_out, int rows, int n, __global const DTYPE* out,
                                    __global const DTYPE* grad, __global DTYPE* dx,
                                    __local DTYPE* scratch) {
    int r = get_group_id(0);
    int t = get_local_id(0);
    int L = get_local_size(0);
    long base = (long)r * n;
    DTYPE s = (DTYPE)0;
    for (int k = t; k < n; k += L) {
        s += log_out ? grad[base + k] : grad[base + k] * out[base + k];
    }
    s = tree_reduce(0, s, scratch);
    for (int k = t; k < n; k += L) {
        long at = base + k;
        dx[at] = log_out ? grad[at] - exp(out[at]) * s : out[at] * (grad[at] - s);
    }
}
