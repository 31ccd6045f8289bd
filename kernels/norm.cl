/* norm.cl: per-channel mean and biased variance, the statistics of batch and layer norm.
 *
 * Build options: -D DTYPE=<float|double>.
 *
 * norm_stats(P, C, Q, x, stats, scratch: local DTYPE[L])
 *     x is (P, C, Q); channel c's R = P*Q elements are x[(p * C + c) * Q + q]. stats is
 *     (2, C): row 0 the means, row 1 the variances.
 *     Geometry: one work-group of L work-items (L a power of two) per channel: global C * L,
 *     local L. Two passes, each a strided fold then tree.h's group_reduce: the mean, then
 *     the mean of squared deviations from it (two-pass: no cancellation). No atomics:
 *     results are bit-identical run to run. Matches NumpyBackend.norm_stats (batch norm:
 *     P = N, Q = H*W; layer norm: P = 1, C = rows, Q = normalised size).
 */
#include "tree.h"

__kernel void norm_stats(int P, int C, int Q, __global const DTYPE* x, __global DTYPE* stats,
                         __local DTYPE* scratch) {
    int c = get_group_id(0);
    int t = get_local_id(0);
    int L = get_local_size(0);
    int R = P * Q;
    DTYPE acc = (DTYPE)0;
    for (int r = t; r < R; r += L) acc += x[((long)(r / Q) * C + c) * Q + r % Q];
    DTYPE mu = group_reduce(REDUCE_SUM, acc, scratch) / (DTYPE)R;
    acc = (DTYPE)0;
    for (int r = t; r < R; r += L) {
        DTYPE d = x[((long)(r / Q) * C + c) * Q + r % Q] - mu;
        acc += d * d;
    }
    DTYPE v = group_reduce(REDUCE_SUM, acc, scratch) / (DTYPE)R;
    if (t == 0) {
        stats[c] = mu;
        stats[C + c] = v;
    }
}
