/* sort.cl: the stable sort order along one axis (torch.sort(stable=True) / argsort).
 * Both kernels give the same order; which one runs depends only on the row length.
 *
 * Build options: -D DTYPE=<element type of x>.
 * x is C-contiguous, viewed as (outer, n, inner) with the sorted axis in the middle.
 * Geometry: 1-D, one work-item per element (sort_rank) or per row (sort_merge), global size
 * rounded up to the local size, every id guarded. Size-0 arrays are never launched.
 *
 * sort_rank(total, n, inner, descending, x, out)
 *     Element (a, i, b) with value v counts the elements of its row that come before it:
 *     those that order strictly before v, plus the equal ones at a smaller index j < i
 *     (stable: ties keep index order). It writes its own index i to out[a, rank, b].
 *     Order: ascending (descending = 0) or descending (1), with NaN as the largest value
 *     and every NaN equal to every other (last ascending, first descending), as PyTorch.
 *     The ranks of a row are a permutation, so every output element is written once.
 *     Cost O(n) per element, O(n^2) per row, all elements in parallel: the host uses it for
 *     rows up to SORT_RANK_MAX_LENGTH (1024, opencl/index_primitives.py).
 *     Matches NumpyBackend.argsort.
 * sort_merge(rows, n, inner, descending, x, scratch, out)
 *     The same order for long rows: one work-item per row (rows = outer * inner) runs a
 *     bottom-up merge sort of the row's indices, ping-ponging between its two halves of
 *     scratch (rows * 2 * n longs); a merge takes the right run's element only when it
 *     orders strictly before the left one, so ties keep index order. O(n log n) per row,
 *     serial within the row. Writes out[a, k, b] for every k of its row.
 */
#include "common.h"

/* a orders strictly before b ascending, NaN largest. */
inline int sort_less(DTYPE a, DTYPE b) {
    return !IS_NAN(a) && (IS_NAN(b) || a < b);
}

__kernel void sort_rank(int total, int n, int inner, int descending,
                        __global const DTYPE* x, __global long* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int b = o % inner;
    int i = (o / inner) % n;
    int a = o / (inner * n);
    long row = (long)a * n * inner + b;
    DTYPE v = x[o];
    int rank = 0;
    for (int j = 0; j < n; ++j) {
        DTYPE w = x[row + (long)j * inner];
        int before = descending ? sort_less(v, w) : sort_less(w, v);
        int tie = !sort_less(v, w) && !sort_less(w, v);
        rank += before || (tie && j < i);
    }
    out[row + (long)rank * inner] = i;
}

__kernel void sort_merge(int rows, int n, int inner, int descending,
                         __global const DTYPE* x, __global long* scratch, __global long* out) {
    int r = get_global_id(0);
    if (r >= rows) return;
    int b = r % inner;
    int a = r / inner;
    long row = (long)a * n * inner + b;
    __global long* src = scratch + (long)r * 2 * n;
    __global long* dst = src + n;
    for (int i = 0; i < n; ++i) src[i] = i;
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = min(lo + width, n);
            int hi = min(lo + 2 * width, n);
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                DTYPE left = x[row + src[i] * inner];
                DTYPE right = x[row + src[j] * inner];
                int right_first = descending ? sort_less(left, right) : sort_less(right, left);
                dst[k++] = right_first ? src[j++] : src[i++];
            }
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        __global long* swap = src;
        src = dst;
        dst = swap;
    }
    for (int i = 0; i < n; ++i) out[row + (long)i * inner] = src[i];
}
