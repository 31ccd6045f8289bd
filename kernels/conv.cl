/* conv.cl: im2col and its adjoint col2im, the two halves of convolution around matmul.
 *
 * Build options: -D DTYPE=<float|double>.
 * Shared arguments: C, H, W the input's channels and size; the window geometry KH, KW
 *   (kernel), SH, SW (stride), PH, PW (zero padding), DH, DW (dilation); OH, OW the output
 *   size (host computes floor((H + 2 PH - DH (KH - 1) - 1) / SH) + 1, the same for W).
 *   x is (N, C, H, W) and cols is (N, C*KH*KW, OH*OW) with row (c, kh, kw): the layout that
 *   makes weight (O, C*KH*KW) @ cols[n] the NCHW output directly.
 *   Input pixel (ih, iw) of tap (kh, kw) at output (oh, ow): ih = oh*SH - PH + kh*DH,
 *   iw = ow*SW - PW + kw*DW.
 * Geometry: 1-D, one work-item per plane: a whole (OH, OW) plane of cols (im2col) or a
 *   whole (H, W) plane of x (col2im), so index arithmetic (divisions by runtime sizes) is
 *   paid once per plane and the inner loops are plain strided copies and adds. On PoCL's CPU
 *   device this is 2-3x faster than one work-item per row and ~50x faster than one per
 *   element (measured, benchmarks' shapes); the host picks a local size that still gives
 *   every compute unit several work-groups. Global size rounded up to the local size; every
 *   kernel guards its index. Size-0 outputs are never launched.
 *   In-range output columns of tap column kw: iw = ow*SW + w0 with w0 = kw*DW - PW lies in
 *   [0, W) exactly for ow in [lo, hi), tap_columns() below.
 *
 * conv_im2col(total, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, x, cols)
 *     total = N*C*KH*KW: work-item y fills the (OH, OW) plane of cols row (n, c, kh, kw)
 *     with the taps' input pixels, 0 in the padding. Matches NumpyBackend.im2col.
 * conv_col2im(total, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, cols, x)
 *     total = N*C: work-item y owns input plane (n, c) and adds into it, for (kh, kw) in
 *     order, every cols entry of a tap that read one of its pixels. No atomics (each plane
 *     has one writer): deterministic, and each pixel sums in NumpyBackend.col2im's order.
 */
#include "common.h"

/* Output columns [*lo, *hi) of a tap whose input column iw = ow * SW + w0 is in [0, W). */
inline void tap_columns(int w0, int SW, int W, int OW, int* lo, int* hi) {
    *lo = w0 >= 0 ? 0 : (-w0 + SW - 1) / SW;
    *hi = W - 1 - w0 < 0 ? 0 : min(OW, (W - 1 - w0) / SW + 1);
    *hi = max(*hi, *lo);
}

__kernel void conv_im2col(int total, int C, int H, int W, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int OH, int OW,
                          __global const DTYPE* x, __global DTYPE* cols) {
    int y = get_global_id(0);  /* ((n * C + c) * KH + kh) * KW + kw */
    if (y >= total) return;
    int kw = y % KW;
    int kh = (y / KW) % KH;
    int image = y / (KH * KW);  /* n * C + c */
    int w0 = kw * DW - PW, lo, hi;
    tap_columns(w0, SW, W, OW, &lo, &hi);
    __global const DTYPE* src = x + (long)image * H * W + w0;
    __global DTYPE* out = cols + (long)y * OH * OW;
    for (int oh = 0; oh < OH; ++oh, out += OW) {
        int ih = oh * SH - PH + kh * DH;
        if (ih < 0 || ih >= H) {
            for (int ow = 0; ow < OW; ++ow) out[ow] = (DTYPE)0;
            continue;
        }
        __global const DTYPE* row = src + ih * W;
        for (int ow = 0; ow < lo; ++ow) out[ow] = (DTYPE)0;
        for (int ow = lo; ow < hi; ++ow) out[ow] = row[ow * SW];
        for (int ow = hi; ow < OW; ++ow) out[ow] = (DTYPE)0;
    }
}

__kernel void conv_col2im(int total, int C, int H, int W, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int OH, int OW,
                          __global const DTYPE* cols, __global DTYPE* x) {
    int image = get_global_id(0);  /* n * C + c */
    if (image >= total) return;
    int L = OH * OW;
    __global const DTYPE* tap = cols + (long)image * KH * KW * L;
    __global DTYPE* out = x + (long)image * H * W;
    for (int i = 0; i < H * W; ++i) out[i] = (DTYPE)0;
    for (int kh = 0; kh < KH; ++kh) {
        for (int kw = 0; kw < KW; ++kw, tap += L) {
            int w0 = kw * DW - PW, lo, hi;
            tap_columns(w0, SW, W, OW, &lo, &hi);
            for (int oh = 0; oh < OH; ++oh) {
                int ih = oh * SH - PH + kh * DH;
                if (ih < 0 || ih >= H) continue;
                __global DTYPE* row = out + ih * W + w0;
                __global const DTYPE* t = tap + oh * OW;
                for (int ow = lo; ow < hi; ++ow) row[ow * SW] += t[ow];
            }
        }
    }
}
