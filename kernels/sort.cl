/* sort.cl: the stable sort order along one axis (torch.sort(stable=True) / argsort).
 *
 * Build options: -D DTYPE=<element type of x>.
 * x is C-contiguous, viewed as (outer, n, inner) with the sorted axis in the middle.
 * Geometry: 1-D, one work-item per element, global size rounded up to the local size,
 * guarded by o < total. Size-0 arrays are never launched.
 *
 * sort_rank(total, n, inner, descending, x, out)
 *     Element (a, i, b) with value v counts the elements of its row that come before it:
 *     those that order strictly before v, plus the equal ones at a smaller index j < i
 *     (stable: ties keep index order). It writes its own index i to out[a, rank, b].
 *     Order: ascending (descending = 0) or descending (1), with NaN as the largest value
 *     and every NaN equal to every other (last ascending, first descending), as PyTorch.
 *     The ranks of a row are a permutation, so every output element is written once.
 *     Cost O(n) per element, O(n^2) per row: fine for rows up to ~10^4 (logits, top-k over a
 *     vocabulary); longer rows want a merge or bitonic sort.
 *     Matches NumpyBackend.argsort.
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
