/* random.cl: counter-based uniform and normal samples, the same on every backend.
 *
 * Build options: -D DTYPE=float|double (the output type).
 * Geometry: 1-D, one work-item per output element, global size rounded up to the local
 * size; every kernel guards i < n. Size-0 outputs are never launched.
 * Bits: random_bits(seed, c) = fmix32(fmix32(c ^ key) + key) with the 32-bit counter c and
 * key = fmix32(fmix32(lo(seed) ^ 0x9E3779B9) ^ hi(seed)), exactly numpy_backend.random_bits.
 *
 * random_uniform(n, seed, offset, out)
 *     out[i] = (bits(offset + i) >> 8) * 2^-24: bit-identical to NumpyBackend.rand.
 * random_normal(n, seed, offset, out)
 *     Box-Muller over counters 2(offset + i) and 2(offset + i) + 1, computed in double where
 *     the device has it; equal to NumpyBackend.randn within float rounding of log/cos.
 */
#include "common.h"

/* NumPy rounds every operation separately: no fused multiply-adds. */
#pragma OPENCL FP_CONTRACT OFF

inline uint random_key(ulong seed) {
    uint key = fmix32((uint)(seed & 0xFFFFFFFFul) ^ 0x9E3779B9u);
    return fmix32(key ^ (uint)(seed >> 32));
}

inline uint random_bits(uint key, ulong counter) {
    return fmix32(fmix32((uint)counter ^ key) + key);
}

#ifdef cl_khr_fp64
typedef double normal_t;
#else
typedef float normal_t;
#endif

__kernel void random_uniform(int n, ulong seed, ulong offset, __global DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    uint bits = random_bits(random_key(seed), offset + i);
    /* a 24-bit integer times 2^-24 is exact in float and double */
    out[i] = (DTYPE)(bits >> 8) * (DTYPE)5.9604644775390625e-8;
}

__kernel void random_normal(int n, ulong seed, ulong offset, __global DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    uint key = random_key(seed);
    ulong counter = 2 * (offset + i);
    normal_t scale = 5.9604644775390625e-8;  /* 2^-24 */
    normal_t u1 = ((normal_t)(random_bits(key, counter) >> 8) + 1) * scale;
    normal_t u2 = (normal_t)(random_bits(key, counter + 1) >> 8) * scale;
    normal_t z = sqrt(-2 * log(u1)) * cos((normal_t)6.283185307179586 * u2);
    out[i] = (DTYPE)z;
}
