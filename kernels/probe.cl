/* probe.cl: two probe kernels that measure a device's roofline (peak compute and bandwidth).
 * They compute nothing useful; `python -m deepx report` draws every benchmarked kernel under
 * the two ceilings they give. Build option: -D DTYPE=float (the kernels use float only).
 *
 * probe_fma(iters, seed, out)
 *     Peak arithmetic: each work-item runs `iters` rounds of 12 independent float16 fused
 *     multiply-adds (12 chains hide the FMA latency on two pipes; float16 fills a 512-bit
 *     vector unit, float8 measured half the rate on AVX-512 CPUs), i.e. 384 FLOPs per round,
 *     and writes one float so the compiler keeps the work. Geometry: any 1-D global size;
 *     local size 1 leaves the vectors to the kernel. FLOPs = global * iters * 384.
 * probe_triad(n16, scalar, a, b, out)
 *     Peak bandwidth, STREAM's triad: out = a + scalar * b over n16 float16 vectors (the
 *     arrays hold 16 * n16 floats); 12 bytes per float moved. A float16 per work-item reached
 *     ~1.5x the bandwidth of one float per work-item on PoCL. Geometry: one work-item per
 *     vector, global rounded up, guarded.
 */

__kernel void probe_fma(int iters, float seed, __global float* out) {
    float16 x = (float16)(seed) + (float)get_global_id(0) * 1e-9f;
    float16 x0 = x, x1 = x + 0.01f, x2 = x + 0.02f, x3 = x + 0.03f;
    float16 x4 = x + 0.04f, x5 = x + 0.05f, x6 = x + 0.06f, x7 = x + 0.07f;
    float16 x8 = x + 0.08f, x9 = x + 0.09f, x10 = x + 0.10f, x11 = x + 0.11f;
    const float16 a = (float16)(0.999f);
    const float16 b = (float16)(0.001f);
    for (int i = 0; i < iters; ++i) {
        x0 = fma(x0, a, b);
        x1 = fma(x1, a, b);
        x2 = fma(x2, a, b);
        x3 = fma(x3, a, b);
        x4 = fma(x4, a, b);
        x5 = fma(x5, a, b);
        x6 = fma(x6, a, b);
        x7 = fma(x7, a, b);
        x8 = fma(x8, a, b);
        x9 = fma(x9, a, b);
        x10 = fma(x10, a, b);
        x11 = fma(x11, a, b);
    }
    float16 s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11));
    out[get_global_id(0)] = s.s0 + s.s1;
}

__kernel void probe_triad(int n16, float scalar, __global const float16* a,
                          __global const float16* b, __global float16* out) {
    int i = get_global_id(0);
    if (i < n16) {
        out[i] = a[i] + scalar * b[i];
    }
}
