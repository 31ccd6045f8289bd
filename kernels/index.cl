/* index.cl: gather along one axis and its deterministic adjoint, scatter-add.
 *
 * Build options: -D DTYPE=<element type of x / src>. Index arrays are always long (int64).
 * Geometry: 1-D, one work-item per output element, global size rounded up to the local
 * size; every kernel guards o < total. Size-0 outputs are never launched.
 * The arrays are viewed as x (outer, n, inner), index (n_index,), out (outer, n_index, inner)
 * for gather and the reverse for scatter-add.
 *
 * index_gather(total, n_index, n, inner, x, index, out)
 *     out[a, i, b] = x[a, index[i], b]; negative indices count from the end (as np.take);
 *     an index still out of range writes 0 (the host validates indices before calling).
 *     Matches NumpyBackend.gather.
 * index_scatter_add(total, n_index, size, inner, index, src, out)
 *     out[a, j, b] = sum over i with index[i] == j of src[a, i, b], summed in index order,
 *     so results are bit-identical run to run (no atomics) and equal to np.add.at's.
 *     Cost is O(total * n_index): fine for embedding-sized problems.
 *     Matches NumpyBackend.scatter_add.
 */
#include "common.h"

__kernel void index_gather(int total, int n_index, int n, int inner,
                           __global const DTYPE* x, __global const long* index,
                           __global DTYPE* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int b = o % inner;
    int i = (o / inner) % n_index;
    int a = o / (inner * n_index);
    long j = index[i];
    j = j < 0 ? j + n : j;
    out[o] = (j >= 0 && j < n) ? x[((long)a * n + j) * inner + b] : (DTYPE)0;
}

__kernel void index_scatter_add(int total, int n_index, int size, int inner,
                                __global const long* index, __global const DTYPE* src,
                                __global DTYPE* out) {
    int o = get_global_id(0);
    if (o >= total) return;
    int b = o % inner;
    int j = (o / inner) % size;
    int a = o / (inner * size);
    DTYPE acc = 0;
    for (int i = 0; i < n_index; ++i) {
        long k = index[i];
        k = k < 0 ? k + size : k;
        if (k == j) acc += src[((long)a * n_index + i) * inner + b];
    }
    out[o] = acc;
}
