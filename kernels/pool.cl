/* pool.cl: 2-D max and average pooling, forward and backward.
 *
 * Build options: -D DTYPE=<float|double>.
 * Shared arguments: H, W input size; OH, OW output size (computed by the host, ceil_mode
 *   included); KH, KW kernel; SH, SW stride; PH, PW padding; DH, DW dilation (max only).
 *   Arrays are planes: x (P, H, W) and out (P, OH, OW) with P = N*C.
 *   Input pixel of tap (kh, kw) at output (oh, ow): (oh*SH - PH + kh*DH, ow*SW - PW + kw*DW).
 * Geometry: 1-D. Forward kernels and pool_avg_backward: one work-item per row; forward
 *   fills one output row (plane, oh), total = P*OH; pool_avg_backward owns one input row
 *   (plane, ih), total = P*H, and adds into it from every window row that covers it (a
 *   gather: each row has one writer, no atomics, deterministic). pool_max_backward: one
 *   work-item per plane, total = P, scattering its gradients in output order (one writer
 *   per plane; 20x faster on PoCL's CPU device than the row gather it replaced, which
 *   compared every window tap with the argmax). Index arithmetic is paid once per row or
 *   plane (see conv.cl). Global size rounded up to the local size; every kernel guards
 *   y < total. Size-0 outputs are never launched.
 *
 * pool_max_forward(total, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, x, out, argmax: long)
 *     out = max over the window's in-range taps, argmax = its h*W + w. PyTorch's rule: the
 *     first in-range tap, then any strictly greater value or any NaN. The host guarantees
 *     every window has an in-range tap (padding <= half the dilated kernel).
 *     Matches NumpyBackend.max_pool2d.
 * pool_max_forward_2x2(total, H, W, OH, OW, x, out, argmax)
 *     pool_max_forward for the 2x2 window with stride 2, no padding, dilation 1, every window
 *     inside the input (the host checks): the four taps written out in the same order and by
 *     the same rule, so outputs and argmax are identical. The general kernel's runtime-bound
 *     tap loops cost PoCL's CPU device 2-4x more on LeNet's pools (measured, one thread).
 * pool_max_backward(total, H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, grad, argmax, dx)
 *     dx[pixel] = sum of grad over the windows whose argmax is this pixel, taken in output
 *     order, as np.add.at in NumpyBackend.max_pool2d_backward. An argmax outside the plane
 *     (never produced by pool_max_forward) is skipped, not written.
 * pool_avg_forward(total, H, W, OH, OW, KH, KW, SH, SW, PH, PW, count_include_pad, divisor,
 *                  x, out)
 *     out = sum of the in-range taps / the window's divisor (avg_divisor below, PyTorch's
 *     rule). Matches NumpyBackend.avg_pool2d.
 * pool_avg_backward(total, H, W, OH, OW, KH, KW, SH, SW, PH, PW, count_include_pad, divisor,
 *                   grad, dx)
 *     dx[pixel] = sum over the windows containing it (kh, kw ascending) of grad / divisor.
 *     Matches NumpyBackend.avg_pool2d_backward.
 */
#include "common.h"

/* Divisor of average window (oh, ow): divisor if nonzero, else the number of cells of the
 * window inside the padded input (count_include_pad) or inside the input itself. */
inline int avg_divisor(int oh, int ow, int H, int W, int KH, int KW, int SH, int SW, int PH,
                       int PW, int count_include_pad, int divisor) {
    if (divisor) return divisor;
    int hs = oh * SH - PH, ws = ow * SW - PW;
    int he = min(hs + KH, H + PH), we = min(ws + KW, W + PW);
    if (!count_include_pad) {
        hs = max(hs, 0);
        ws = max(ws, 0);
        he = min(he, H);
        we = min(we, W);
    }
    return (he - hs) * (we - ws);
}

__kernel void pool_max_forward(int total, int H, int W, int OH, int OW, int KH, int KW,
                               int SH, int SW, int PH, int PW, int DH, int DW,
                               __global const DTYPE* x, __global DTYPE* out,
                               __global long* argmax) {
    int y = get_global_id(0);
    if (y >= total) return;
    int oh = y % OH;
    __global const DTYPE* plane = x + (long)(y / OH) * H * W;
    for (int ow = 0; ow < OW; ++ow) {
        DTYPE best = (DTYPE)0;
        int at = -1;
        for (int kh = 0; kh < KH; ++kh) {
            int ih = oh * SH - PH + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                int iw = ow * SW - PW + kw * DW;
                if (iw < 0 || iw >= W) continue;
                DTYPE v = plane[ih * W + iw];
                if (at < 0 || GT_NAN(v, best)) {
                    best = v;
                    at = ih * W + iw;
                }
            }
        }
        out[(long)y * OW + ow] = best;
        argmax[(long)y * OW + ow] = at;
    }
}

/* Tap value v at plane offset i takes the max if it wins against best (GT_NAN). */
#define TAKE_IF_GREATER(v, i) if (GT_NAN(v, best)) { best = (v); at = (i); }

__kernel void pool_max_forward_2x2(int total, int H, int W, int OH, int OW,
                                   __global const DTYPE* x, __global DTYPE* out,
                                   __global long* argmax) {
    int y = get_global_id(0);
    if (y >= total) return;
    int oh = y % OH;
    int top = 2 * oh * W;  /* plane offset of the window's first row */
    __global const DTYPE* r0 = x + (long)(y / OH) * H * W + top;
    __global const DTYPE* r1 = r0 + W;
    for (int ow = 0; ow < OW; ++ow) {
        int c = 2 * ow;
        DTYPE best = r0[c];
        int at = top + c;
        TAKE_IF_GREATER(r0[c + 1], top + c + 1)
        TAKE_IF_GREATER(r1[c], top + W + c)
        TAKE_IF_GREATER(r1[c + 1], top + W + c + 1)
        out[(long)y * OW + ow] = best;
        argmax[(long)y * OW + ow] = at;
    }
}

__kernel void pool_max_backward(int total, int H, int W, int OH, int OW, int KH, int KW,
                                int SH, int SW, int PH, int PW, int DH, int DW,
                                __global const DTYPE* grad, __global const long* argmax,
                                __global DTYPE* dx) {
    int p = get_global_id(0);
    if (p >= total) return;
    long plane = (long)H * W, outputs = (long)OH * OW;
    __global DTYPE* out = dx + p * plane;
    grad += p * outputs;
    argmax += p * outputs;
    for (long i = 0; i < plane; ++i) out[i] = (DTYPE)0;
    for (long o = 0; o < outputs; ++o) {
        long at = argmax[o];
        if (at >= 0 && at < plane) out[at] += grad[o];
    }
}

__kernel void pool_avg_forward(int total, int H, int W, int OH, int OW, int KH, int KW,
                               int SH, int SW, int PH, int PW, int count_include_pad,
                               int divisor, __global const DTYPE* x, __global DTYPE* out) {
    int y = get_global_id(0);
    if (y >= total) return;
    int oh = y % OH;
    __global const DTYPE* plane = x + (long)(y / OH) * H * W;
    for (int ow = 0; ow < OW; ++ow) {
        DTYPE acc = (DTYPE)0;
        for (int kh = 0; kh < KH; ++kh) {
            int ih = oh * SH - PH + kh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                int iw = ow * SW - PW + kw;
                if (iw >= 0 && iw < W) acc += plane[ih * W + iw];
            }
        }
        out[(long)y * OW + ow] = acc / (DTYPE)avg_divisor(oh, ow, H, W, KH, KW, SH, SW, PH,
                                                          PW, count_include_pad, divisor);
    }
}

__kernel void pool_avg_backward(int total, int H, int W, int OH, int OW, int KH, int KW,
                                int SH, int SW, int PH, int PW, int count_include_pad,
                                int divisor, __global const DTYPE* grad, __global DTYPE* dx) {
    int y = get_global_id(0);
    if (y >= total) return;
    int ih = y % H;
    long base = (long)(y / H) * OH * OW;
    __global DTYPE* out = dx + (long)y * W;
    for (int iw = 0; iw < W; ++iw) out[iw] = (DTYPE)0;
    for (int kh = 0; kh < KH; ++kh) {
        int th = ih + PH - kh;
        if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
        int oh = th / SH;
        for (int kw = 0; kw < KW; ++kw) {
            for (int ow = 0; ow < OW; ++ow) {
                int iw = ow * SW - PW + kw;
                if (iw < 0 || iw >= W) continue;
                out[iw] += grad[base + oh * OW + ow] /
                           (DTYPE)avg_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW,
                                              count_include_pad, divisor);
            }
        }
    }
}
