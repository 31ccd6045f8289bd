/* tree.h: the local-memory tree of deepx's work-group reductions (reduce.cl, softmax.cl,
 * norm.cl), written once.
 *
 * A tree kernel gives each result one work-group of L work-items, L a power of two: work-item
 * t folds elements t, t + L, ... into a private partial and stores it in local slot t; then
 * log2(L) levels each fold the upper half of the live slots into the lower half. The order is
 * fixed, so results are bit-identical run to run (float atomics are not: see STYLE.md).
 *
 *   REDUCE_SUM, REDUCE_MAX, REDUCE_MIN  the ReduceOp codes
 *   reduce_combine(op, acc, v)    acc folded with v, on OUT_DTYPE (the accumulator type: DTYPE
 *                                 unless the host says otherwise); MAX/MIN propagate NaN
 *   TREE_FOLD(merge, args...)     the levels over the work-group's local slots: at the level
 *                                 of half-size s, work-items t < s call
 *                                 merge(args..., t, t + s) to fold slot t + s into slot t;
 *                                 a barrier before the first level and after each. Afterwards
 *                                 slot 0 holds the group's result. A macro because the slots'
 *                                 types differ: one scalar array, or (value, index) pairs in
 *                                 two arrays for the arg-reductions (reduce.cl)
 *   group_reduce(op, v, scratch)  v reduced over the work-group with reduce_combine through
 *                                 scratch (local OUT_DTYPE[L]); every work-item gets the result
 *                                 and may reuse scratch at once
 * Every work-item of the group must reach TREE_FOLD and group_reduce (they hold barriers).
 */
#ifndef DEEPX_TREE_H
#define DEEPX_TREE_H

#include "common.h"

#define REDUCE_SUM 0
#define REDUCE_MAX 1
#define REDUCE_MIN 2

inline OUT_DTYPE reduce_combine(int op, OUT_DTYPE acc, OUT_DTYPE v) {
    switch (op) {
    case REDUCE_SUM: return acc + v;
    case REDUCE_MAX: return GT_NAN(v, acc) ? v : acc;
    default: return LT_NAN(v, acc) ? v : acc;
    }
}

#define TREE_FOLD(merge, ...)                                                       \
    do {                                                                            \
        int tree_t = get_local_id(0);                                               \
        barrier(CLK_LOCAL_MEM_FENCE);                                               \
        for (int tree_s = get_local_size(0) / 2; tree_s > 0; tree_s >>= 1) {        \
            if (tree_t < tree_s) merge(__VA_ARGS__, tree_t, tree_t + tree_s);       \
            barrier(CLK_LOCAL_MEM_FENCE);                                           \
        }                                                                           \
    } while (0)

/* One level's step of group_reduce: slot `from` folded into slot `into`. */
inline void slot_combine(int op, __local OUT_DTYPE* scratch, int into, int from) {
    scratch[into] = reduce_combine(op, scratch[into], scratch[from]);
}

inline OUT_DTYPE group_reduce(int op, OUT_DTYPE v, __local OUT_DTYPE* scratch) {
    scratch[get_local_id(0)] = v;
    TREE_FOLD(slot_combine, op, scratch);
    OUT_DTYPE result = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);  /* every work-item has read slot 0 before it is reused */
    return result;
}

#endif
