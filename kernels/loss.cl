/* loss.cl: fused softmax cross-entropy over class indices, forward and backward.
 *
 * Build options: -D DTYPE=<float|double>.
 * Shared arguments: x (N, C) logits; target (N,) long class indices, rows whose target equals
 *   ignore_index give 0; any other target outside [0, C) gives a NaN loss and NaN gradients
 *   (deepx's device-side assert: the host does not read targets); weight (C,) class
 *   weights, used only when has_weight (else NULL and every w_c = 1); eps the label
 *   smoothing. Per row, with lse = m + log sum exp(x - m), m the row max:
 *     loss = (1 - eps) w_t (lse - x_t) + eps / C * sum_c w_c (lse - x_c).
 *
 * loss_cross_entropy_forward(N, C, ignore_index, eps, has_weight, x, target, weight, loss, lse)
 *     Geometry: 1-D, one work-item per row, guard i < N. Writes loss (N,) and lse (N,).
 *     Matches NumpyBackend.cross_entropy.
 * loss_cross_entropy_backward(N, C, ignore_index, eps, has_weight, x, lse, target, weight,
 *                             weight_sum, grad, dx)
 *     Geometry: 1-D, one work-item per element of dx (N, C), guard i < N * C.
 *     dx[i, j] = grad[i] (p_j ((1 - eps) w_t + eps W / C) - (1 - eps) w_t [j == t]
 *     - eps w_j / C), p_j = exp(x_ij - lse_i), W = weight_sum[0] (sum of the weights; NULL
 *     when !has_weight, then W = C). Ignored rows get 0. Matches
 *     NumpyBackend.cross_entropy_backward.
 */
#include "common.h"

__kernel void loss_cross_entropy_forward(int N, int C, long ignore_index, DTYPE eps,
                                         int has_weight, __global const DTYPE* x,
                                         __global const long* target,
                                         __global const DTYPE* weight, __global DTYPE* loss,
                                         __global DTYPE* lse) {
    int i = get_global_id(0);
    if (i >= N) return;
    __global const DTYPE* row = x + (long)i * C;
    DTYPE m = -INFINITY;
    for (int c = 0; c < C; ++c) {
        DTYPE v = row[c];
        m = GT_NAN(v, m) ? v : m;
    }
    DTYPE s = (DTYPE)0;
    for (int c = 0; c < C; ++c) s += exp(row[c] - m);
    DTYPE l = m + log(s);
    lse[i] = l;
    long t = target[i];
    if (t == ignore_index) {
        loss[i] = (DTYPE)0;
        return;
    }
    if (t < 0 || t >= C) {  /* never read out of bounds: flag the row instead */
        loss[i] = NAN;
        return;
    }
    DTYPE w_t = has_weight ? weight[t] : (DTYPE)1;
    DTYPE value = w_t * (l - row[t]);
    if (eps != (DTYPE)0) {
        DTYPE smooth = (DTYPE)0;
        for (int c = 0; c < C; ++c) {
            smooth += (has_weight ? weight[c] : (DTYPE)1) * (l - row[c]);
        }
        value = ((DTYPE)1 - eps) * value + eps / (DTYPE)C * smooth;
    }
    loss[i] = value;
}

__kernel void loss_cross_entropy_backward(int N, int C, long ignore_index, DTYPE eps,
                                          int has_weight, __global const DTYPE* x,
                                          __global const DTYPE* lse,
                                          __global const long* target,
                                          __global const DTYPE* weight,
                                          __global const DTYPE* weight_sum,
                                          __global const DTYPE* grad, __global DTYPE* dx) {
    int i = get_global_id(0);
    if (i >= N * C) return;
    int r = i / C;
    int j = i % C;
    long t = target[r];
    if (t == ignore_index) {
        dx[i] = (DTYPE)0;
        return;
    }
    if (t < 0 || t >= C) {
        dx[i] = NAN;
        return;
    }
    DTYPE w_t = has_weight ? weight[t] : (DTYPE)1;
    DTYPE w_j = has_weight ? weight[j] : (DTYPE)1;
    DTYPE total = has_weight ? weight_sum[0] : (DTYPE)C;
    DTYPE p = exp(x[i] - lse[r]);
    DTYPE d = p * (((DTYPE)1 - eps) * w_t + eps * total / (DTYPE)C) - eps / (DTYPE)C * w_j;
    if (j == t) d -= ((DTYPE)1 - eps) * w_t;
    dx[i] = d * grad[r];
}
