/* chunk.h: the vector type of the chunked kernels and their ragged-edge loads and stores,
 * shared by elementwise.cl, optim.cl and softmax.cl (matmul.cl has its own VEC-wide vectors).
 *
 *   VTYPE, VLOAD, VSTORE   DTYPE vectors of CHUNK lanes (float16, vload16, vstore16)
 *   chunk_load(x, count)   CHUNK elements of x; past `count` (a ragged last chunk) zeros,
 *                          which every op computes harmlessly (no traps in OpenCL)
 *   chunk_store(r, out, count)  the first min(count, CHUNK) lanes of r to out
 */
#ifndef DEEPX_CHUNK_H
#define DEEPX_CHUNK_H

#include "common.h"

#define VTYPE CAT(DTYPE, CHUNK)
#define VLOAD CAT(vload, CHUNK)
#define VSTORE CAT(vstore, CHUNK)

inline VTYPE chunk_load(__global const DTYPE* x, int count) {
    if (count >= CHUNK) return VLOAD(0, x);
    DTYPE v[CHUNK];
    for (int j = 0; j < CHUNK; ++j) v[j] = j < count ? x[j] : (DTYPE)0;
    return VLOAD(0, v);
}

inline void chunk_store(VTYPE r, __global DTYPE* out, int count) {
    if (count >= CHUNK) {
        VSTORE(r, 0, out);
        return;
    }
    DTYPE v[CHUNK];
    VSTORE(r, 0, v);
    for (int j = 0; j < count; ++j) out[j] = v[j];
}

#endif
