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
 * Geometry: 1-D, one work-item per row of the output (a run of OW, resp. W, contiguous
 *   elements), so index arithmetic is paid once per row and the inner loop has no division:
 *   on PoCL's CPU device this is ~50x faster than one work-item per element. Global size
 *   rounded up to the local size; every kernel guards y < total. Size-0 outputs are never
 *   launched.
 *
 * conv_im2col(total, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, x, cols)
 *     total = N*C*KH*KW*OH: work-item y fills cols row (n, c, kh, kw) at output row oh
 *     (OW elements) with the taps' input pixels, 0 in the padding.
 *     Matches NumpyBackend.im2col.
 * conv_col2im(total, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, cols, x)
 *     total = N*C*H: work-item y owns input row (n, c, ih) and adds into it, for (kh, kw) in
 *     order, every cols entry of a tap that read a pixel of that row. No atomics (each row
 *     has one writer): deterministic, and each pixel sums in NumpyBackend.col2im's order.
 */
#include "common.h"

__kernel void conv_im2col(int total, int C, int H, int W, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int OH, int OW,
                          __global const DTYPE* x, __global DTYPE* cols) {
    int y = get_global_id(0);
    if (y >= total) return;
    int oh = y % OH;
    int plane = y / OH;  /* ((n * C + c) * KH + kh) * KW + kw */
    int kw = plane % KW;
    int kh = (plane / KW) % KH;
    int image = plane / (KH * KW);  /* n * C + c */
    int ih = oh * SH - PH + kh * DH;
    __global DTYPE* out = cols + (long)y * OW;
    if (ih < 0 || ih >= H) {
        for (int ow = 0; ow < OW; ++ow) out[ow] = (DTYPE)0;
        return;
    }
    __global const DTYPE* row = x + ((long)image * H + ih) * W;
    for (int ow = 0; ow < OW; ++ow) {
        int iw = ow * SW - PW + kw * DW;
        out[ow] = (iw >= 0 && iw < W) ? row[iw] : (DTYPE)0;
    }
}

__kernel void conv_col2im(int total, int C, int H, int W, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int OH, int OW,
                          __global const DTYPE* cols, __global DTYPE* x) {
    int y = get_global_id(0);
    if (y >= total) return;
    int ih = y % H;
    int image = y / H;  /* n * C + c */
    int L = OH * OW;
    __global const DTYPE* taps = cols + (long)image * KH * KW * L;
    __global DTYPE* out = x + (long)y * W;
    for (int iw = 0; iw < W; ++iw) out[iw] = (DTYPE)0;
    for (int kh = 0; kh < KH; ++kh) {
        int th = ih + PH - kh * DH;  /* = oh * SH when tap row kh of output row oh reads ih */
        if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
        int oh = th / SH;
        for (int kw = 0; kw < KW; ++kw) {
            __global const DTYPE* tap = taps + (long)(kh * KW + kw) * L + oh * OW;
            for (int ow = 0; ow < OW; ++ow) {
                int iw = ow * SW - PW + kw * DW;
                if (iw >= 0 && iw < W) out[iw] += tap[ow];
            }
        }
    }
}
