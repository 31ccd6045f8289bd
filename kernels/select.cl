/* select.cl: per-element indexing along one axis (torch.gather / torch.scatter) and nonzero.
 *
 * Build options: -D DTYPE=<element type of x / src>. Index arrays are always long (int64).
 * Arrays are C-contiguous. Shapes and strides come as int8 arguments (unused dims 0), so at
 * most MAX_DIMS (8) dims; the host checks that.
 * Geometry: 1-D, global size rounded up to the local size; every kernel guards its id.
 * Size-0 outputs are never launched.
 *
 * select_take_along(total, ndim, axis, n, ishape, xstrides, x, index, out)
 *     One work-item per output element o (out has index's shape ishape):
 *     out[i] = x[i with i[axis] = index[i]]; xstrides are x's element strides, n = x's size
 *     along axis; an index outside [0, n) writes NaN (0 for integer types): the host checks
 *     indices only where that costs no round trip, so a bad one shows up as NaN downstream.
 *     Matches NumpyBackend.take_along.
 * select_scatter_along(total, ndim, axis, m, accumulate, xshape, istrides, ishape, x, index,
 *                      src, out)
 *     One work-item per output element o (out has x's shape xshape): starts from x[o] and
 *     walks i = 0..m-1 along axis of index/src (ishape, element strides istrides, m =
 *     ishape[axis]) at o's other coordinates; where index == o's axis coordinate, src is
 *     added (accumulate = 1; bool: or) or written (0: so the last i wins); an index out of
 *     range matches no output element and is dropped. No atomics: the
 *     result is the same every run and equals np.add.at's order of additions.
 *     Cost O(total * m). Matches NumpyBackend.scatter_along.
 * select_scatter_sorted(total, ndim, axis, m, accumulate, xshape, istrides, ishape, x,
 *                       index, order, src, out)
 *     The same result as select_scatter_along from a stable order of index along axis
 *     (order = argsort(index), ascending): each output element binary-searches the first
 *     entry equal to its axis coordinate and walks that run, in ascending i as the scan
 *     does, so sums are bit-identical. O(total * log m + run lengths); the host picks it
 *     when that plus the sort is less work than the scan (embedding gradients: a few
 *     thousand tokens into a large vocabulary).
 * select_scatter_distinct(total, ndim, axis, accumulate, ishape, xstrides, index, src, out)
 *     One work-item per index element (total = index size), for indices the host promises
 *     are distinct targets (argsort's permutations): out (already a copy of x) gets src[i]
 *     written or added at i with i[axis] = index[i]. Distinct targets mean no two
 *     work-items touch one element, so there is no race. Same result as
 *     select_scatter_along for such indices, in O(total).
 * select_count_blocks(n, block, x, counts)
 *     One work-item per block of `block` consecutive elements: counts[b] = number of
 *     x[i] != 0 in it (NaN counts). First pass of nonzero.
 * select_nonzero_write(n, block, ndim, shape, x, offsets, out)
 *     One work-item per block: writes the C-order coordinates (ndim longs each) of its
 *     nonzero elements to out rows offsets[b], offsets[b] + 1, ...; offsets is the host's
 *     exclusive prefix sum of counts. Matches NumpyBackend.nonzero.
 */
#include "common.h"

__kernel void select_take_along(int total, int ndim, int axis, int n, int8 ishape_v,
                                int8 xstrides_v, __global const DTYPE* x,
                                __global const long* index, __global DTYPE* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int ishape[MAX_DIMS], xstrides[MAX_DIMS];
    load_dims(ishape_v, ishape);
    load_dims(xstrides_v, xstrides);
    long offset = 0;
    int rest = o;
    for (int d = ndim - 1; d >= 0; --d) {
        int c = rest % ishape[d];
        rest /= ishape[d];
        if (d != axis) offset += (long)c * xstrides[d];
    }
    long j = index[o];
    DTYPE flag = IS_INTEGRAL(DTYPE) ? (DTYPE)0 : (DTYPE)NAN;
    out[o] = (j >= 0 && j < n) ? x[offset + j * xstrides[axis]] : flag;
}

__kernel void select_scatter_along(int total, int ndim, int axis, int m, int accumulate,
                                   int8 xshape_v, int8 istrides_v, int8 ishape_v,
                                   __global const DTYPE* x, __global const long* index,
                                   __global const DTYPE* src, __global DTYPE* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int xshape[MAX_DIMS], istrides[MAX_DIMS], ishape[MAX_DIMS];
    load_dims(xshape_v, xshape);
    load_dims(istrides_v, istrides);
    load_dims(ishape_v, ishape);
    long base = 0;
    long target = 0;
    int inside = 1;
    int rest = o;
    for (int d = ndim - 1; d >= 0; --d) {
        int c = rest % xshape[d];
        rest /= xshape[d];
        if (d == axis) {
            target = c;
        } else {
            inside = inside && c < ishape[d];
            base += (long)c * istrides[d];
        }
    }
    DTYPE acc = x[o];
    if (inside) {
        for (int i = 0; i < m; ++i) {
            long p = base + (long)i * istrides[axis];
            if (index[p] != target) continue;
            if (!accumulate) {
                acc = src[p];
            } else if (IS_BOOL(DTYPE)) {
                acc = (acc || src[p]) ? 1 : 0;
            } else {
                acc += src[p];
            }
        }
    }
    out[o] = acc;
}

__kernel void select_scatter_sorted(int total, int ndim, int axis, int m, int accumulate,
                                    int8 xshape_v, int8 istrides_v, int8 ishape_v,
                                    __global const DTYPE* x, __global const long* index,
                                    __global const long* order, __global const DTYPE* src,
                                    __global DTYPE* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int xshape[MAX_DIMS], istrides[MAX_DIMS], ishape[MAX_DIMS];
    load_dims(xshape_v, xshape);
    load_dims(istrides_v, istrides);
    load_dims(ishape_v, ishape);
    long base = 0;
    long target = 0;
    int inside = 1;
    int rest = o;
    for (int d = ndim - 1; d >= 0; --d) {
        int c = rest % xshape[d];
        rest /= xshape[d];
        if (d == axis) {
            target = c;
        } else {
            inside = inside && c < ishape[d];
            base += (long)c * istrides[d];
        }
    }
    DTYPE acc = x[o];
    if (inside) {
        long step = istrides[axis];
        int lo = 0, hi = m;  /* first k whose value is >= target */
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (index[base + order[base + mid * step] * step] < target) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (int k = lo; k < m; ++k) {
            long p = base + order[base + k * step] * step;
            if (index[p] != target) break;
            if (!accumulate) {
                acc = src[p];
            } else if (IS_BOOL(DTYPE)) {
                acc = (acc || src[p]) ? 1 : 0;
            } else {
                acc += src[p];
            }
        }
    }
    out[o] = acc;
}

__kernel void select_scatter_distinct(int total, int ndim, int axis, int accumulate,
                                      int8 ishape_v, int8 xstrides_v,
                                      __global const long* index, __global const DTYPE* src,
                                      __global DTYPE* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int ishape[MAX_DIMS], xstrides[MAX_DIMS];
    load_dims(ishape_v, ishape);
    load_dims(xstrides_v, xstrides);
    long offset = 0;
    int rest = o;
    for (int d = ndim - 1; d >= 0; --d) {
        int c = rest % ishape[d];
        rest /= ishape[d];
        if (d != axis) offset += (long)c * xstrides[d];
    }
    long t = offset + index[o] * xstrides[axis];
    if (!accumulate) {
        out[t] = src[o];
    } else if (IS_BOOL(DTYPE)) {
        out[t] = (out[t] || src[o]) ? 1 : 0;
    } else {
        out[t] += src[o];
    }
}

__kernel void select_count_blocks(int n, int block, __global const DTYPE* x,
                                  __global int* counts) {
    int b = get_global_id(0);
    int start = b * block;
    if (start >= n) return;
    int stop = min(n, start + block);
    int count = 0;
    for (int i = start; i < stop; ++i) count += x[i] != (DTYPE)0;
    counts[b] = count;
}

__kernel void select_nonzero_write(int n, int block, int ndim, int8 shape_v,
                                   __global const DTYPE* x, __global const long* offsets,
                                   __global long* out) {
    int b = get_global_id(0);
    int start = b * block;
    if (start >= n) return;
    int shape[MAX_DIMS];
    load_dims(shape_v, shape);
    int stop = min(n, start + block);
    long row = offsets[b];
    for (int i = start; i < stop; ++i) {
        if (!(x[i] != (DTYPE)0)) continue;
        int rest = i;
        for (int d = ndim - 1; d >= 0; --d) {
            out[row * ndim + d] = rest % shape[d];
            rest /= shape[d];
        }
        ++row;
    }
}
