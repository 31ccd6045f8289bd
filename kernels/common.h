/* common.h: shared by every deepx kernel file.
 *
 * Defines (given with -D by the host, only these):
 *   DTYPE      element type of the inputs: float, double, int, long or uchar (bool)
 *   OUT_DTYPE  element type of the output where it differs (cast, comparisons, sum of ints)
 *   REAL       floating type used for transcendental math on DTYPE (double for int inputs
 *              when the device has fp64, else float; DTYPE itself for float inputs)
 * Helpers:
 *   MAX_DIMS, strided_offset()  C-order linear index -> element offset of a strided view
 *   load_dims()                 int8 kernel argument -> private int array
 *   CAT(a, b)                   token pasting after expansion (vector types: CAT(DTYPE, CHUNK))
 *   CHUNK                       elements per work-item of the vectorised kernels (-D by host)
 *   fmix32()                    MurmurHash3's finalizer (deepx's counter-based RNG)
 *   IS_INTEGRAL(T), IS_BOOL(T)  compile-time type tests (constant-folded)
 *   IS_NAN(x)                   x is NaN, for any element type
 *   GT_NAN(v, m), LT_NAN(v, m)  v wins a NaN-propagating max / min against m
 *   FLOAT_TO(T, x)              a floating x as T, defined for NaN and out-of-range values
 */
#ifndef DEEPX_COMMON_H
#define DEEPX_COMMON_H

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#ifndef DTYPE
#define DTYPE float
#endif
#ifndef OUT_DTYPE
#define OUT_DTYPE DTYPE
#endif
#ifndef REAL
#define REAL DTYPE
#endif

#define MAX_DIMS 8

/* Elements per work-item of the chunked (vectorised) kernels. The host passes it to every
 * build (OpenCLBackend.CHUNK); this default only lets a file compile on its own. */
#ifndef CHUNK
#define CHUNK 16
#endif

/* Compile-time facts about a type; the compiler folds them, so a branch on one costs nothing.
 * Bool is stored as uchar, the only deepx type that wraps at 256. */
#define IS_INTEGRAL(T) ((T)0.5 == (T)0)
#define IS_BOOL(T) ((T)256 == (T)0)
/* NaN test valid for every type (always false for integers, written so no warning fires). */
#define IS_NAN(x) (!((x) == (x)))
/* v wins a NaN-propagating max (min) against m: it is larger (smaller) or NaN, so a NaN, once
 * in, stays, as np.maximum / np.max. Scalars or vectors (then per lane, for select). */
#define GT_NAN(v, m) ((v) > (m) || IS_NAN(v))
#define LT_NAN(v, m) ((v) < (m) || IS_NAN(v))

/* x (floating) converted to T (int or long), defined for every x: C leaves the conversion of
 * NaN and of out-of-range values to an integer undefined (x86 gives the type's minimum, other
 * devices saturate or give 0). NaN gives 0, out-of-range values saturate, as OpenCL's
 * convert_<T>_sat and NumpyBackend's _float_to. A plain conversion for a floating T. */
#define INT_RANGE(T) (sizeof(T) == 8 ? 0x1p63f : 0x1p31f)
#define INT_MAXIMUM(T) (sizeof(T) == 8 ? LONG_MAX : (long)INT_MAX)
#define FLOAT_TO(T, x) (!IS_INTEGRAL(T) ? (T)(x) : IS_NAN(x) ? (T)0 \
    : (x) >= INT_RANGE(T) ? (T)INT_MAXIMUM(T) \
    : (x) < -INT_RANGE(T) ? (T)(-INT_MAXIMUM(T) - 1) : (T)(x))

/* Token pasting after expansion, for vector type and function names (CAT(float, 16)). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* Copy an int8 kernel argument (shape or strides, unused dims zero) into a private array. */
inline void load_dims(int8 v, int* out) {
    vstore8(v, 0, out);
}

/* Element offset of C-order linear index i in a view with `ndim` dims (shape, strides). */
inline int strided_offset(int i, int ndim, const int* shape, const int* strides) {
    int offset = 0;
    for (int d = ndim - 1; d >= 0; --d) {
        int n = shape[d];
        offset += (i % n) * strides[d];
        i /= n;
    }
    return offset;
}

/* MurmurHash3's 32-bit finalizer; numpy_backend.fmix32 computes the same. */
inline uint fmix32(uint h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

#endif
