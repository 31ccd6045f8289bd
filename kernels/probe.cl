/* probe.cl: two probe kernels that measure a device's roofline (peak compute and bandwidth).
 * They compute nothing useful; `python -m deepx report` draws every benchmarked kernel under
 * the two ceilings they give. Build option: -D DTYPE=float (the kernels use float only).
 *
 * probe_fma(iters, seed, out)
 *     Peak arithmetic: each work-item runs `iters` rounds of 8 independent float8
 *     multiply-adds (8 chains hide the FMA latency; float8 fills a vector unit), i.e.
 *     128 FLOPs per round, and writes one float so the compiler keeps the work.
 *     Geometry: any 1-D global size, any local size. FLOPs = global * iters * 128.
 * probe_triad(n, scalar, a, b, out)
 *     Peak bandwidth, STREAM's triad: out[i] = a[i] + scalar * b[i] for i < n; 12 bytes per
 *     element moved. Geometry: one work-item per element, global rounded up, guarded.
 */

__kernel void probe_fma(int iters, float seed, __global float* out) {
    float8 x0 = (float8)(seed) + (float)get_global_id(0) * 1e-9f;
    float8 x1 = x0 + 0.1f;
    float8 x2 = x0 + 0.2f;
    float8 x3 = x0 + 0.3f;
    float8 x4 = x0 + 0.4f;
    float8 x5 = x0 + 0.5f;
    float8 x6 = x0 + 0.6f;
    float8 x7 = x0 + 0.7f;
    const float8 a = (float8)(0.999f);
    const float8 b = (float8)(0.001f);
    for (int i = 0; i < iters; ++i) {
        x0 = mad(x0, a, b);
        x1 = mad(x1, a, b);
        x2 = mad(x2, a, b);
        x3 = mad(x3, a, b);
        x4 = mad(x4, a, b);
        x5 = mad(x5, a, b);
        x6 = mad(x6, a, b);
        x7 = mad(x7, a, b);
    }
    float8 s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7;
}

__kernel void probe_triad(int n, float scalar, __global const float* a,
                          __global const float* b, __global float* out) {
    int i = get_global_id(0);
    if (i < n) {
        out[i] = a[i] + scalar * b[i];
    }
}
