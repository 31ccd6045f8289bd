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
 * Geometry: 1-D, one work-item per output element; global size rounded up to the local size
 *   and every kernel guards i < total. Size-0 outputs are never launched.
 *
 * conv_im2col(total, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, x, cols)
 *     total = N*C*KH*KW*OH*OW; cols[i] = the tap's input pixel, 0 in the padding.
 *     Consecutive work-items write consecutive output positions. Matches NumpyBackend.im2col.
 * conv_col2im(total, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, cols, x)
 *     total = N*C*H*W; each input pixel sums, by a loop over (kh, kw) in order, the cols
 *     entries of every tap that read it. No atomics: deterministic, and summed in the same
 *     order as NumpyBackend.col2im.
 */
#include "common.h"

__kernel void conv_im2col(int total, int C, int H, int W, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int OH, int OW,
                          __global const DTYPE* x, __global DTYPE* cols) {
    int i = get_global_id(0);
    if (i >= total) return;
    int L = OH * OW;
    int rows = C * KH * KW;
    int l = i % L;
    int row = (i / L) % rows;
    int n = i / (L * rows);
    int kw = row % KW;
    int kh = (row / KW) % KH;
    int c = row / (KH * KW);
    int ih = (l / OW) * SH - PH + kh * DH;
    int iw = (l % OW) * SW - PW + kw * DW;
    bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
    cols[i] = inside ? x[((n * C + c) * H + ih) * W + iw] : (DTYPE)0;
}

__kernel void conv_col2im(int total, int C, int H, int W, int KH, int KW, int SH, int SW,
                          int PH, int PW, int DH, int DW, int OH, int OW,
                          __global const DTYPE* cols, __global DTYPE* x) {
    int i = get_global_id(0);
    if (i >= total) return;
    int iw = i % W;
    int ih = (i / W) % H;
    int plane = i / (H * W);  /* n * C + c */
    int L = OH * OW;
    __global const DTYPE* taps = cols + (long)plane * KH * KW * L;
    DTYPE acc = (DTYPE)0;
    for (int kh = 0; kh < KH; ++kh) {
        int th = ih + PH - kh * DH;  /* = oh * SH when this tap reads row ih */
        if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
        int oh = th / SH;
        for (int kw = 0; kw < KW; ++kw) {
            int tw = iw + PW - kw * DW;
            if (tw < 0 || tw % SW != 0 || tw / SW >= OW) continue;
            acc += taps[(kh * KW + kw) * L + oh * OW + tw / SW];
        }
    }
    x[i] = acc;
}
