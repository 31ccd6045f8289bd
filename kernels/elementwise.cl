/* elementwise.cl: unary, binary, where, cast, fill and arange.
 *
 * Build options: -D DTYPE=<input type> [-D OUT_DTYPE=<type> for elementwise_cast, and uchar
 *                for elementwise_binary's comparisons] [-D REAL=<float|double>: the type
 *                transcendental math runs in] -D CHUNK=<elements per work-item, the host's>.
 * Geometry: 1-D, one work-item per output element, global size n rounded up by the host to a
 * multiple of the local size; every kernel guards i < n. Size-0 outputs are never launched.
 * Chunked kernels (unary, predicate, cast; OpenCLBackend.launch_chunks): one work-item per
 * chunk of CHUNK consecutive elements, global ceil(n / CHUNK) rounded up; each guards its
 * chunk's start against n, switches on `op` once and computes the chunk with vector types (a
 * per-element runtime switch stopped PoCL from vectorising: transcendentals ran 10-15x
 * slower); the last chunk may be ragged.
 * Broadcast/strided inputs: `shape` holds the output's dims (after the host merged dims that
 * are contiguous for every operand; at most 8), `stride_*` the element stride of each input
 * along each output dim (0 where the input is broadcast).
 *
 * Every input pointer comes with an element offset (x_offset, off_a, ...; for the *_rows
 * kernels the view's 4th lane): views of a larger buffer are read in place.
 *
 * elementwise_unary(op, n, alpha, x_offset, x, out)
 *     Chunked, x dense from x_offset. out[i] = f(x[i]) for UnaryOp `op` except STEP/NOT;
 *     matches NumpyBackend.unary. Integer inputs: NEG/ABS/SIGN/RELU stay integral (NEG and ABS
 *     wrap at the minimum), the rest go through REAL and back (FLOAT_TO: NaN 0, saturating).
 * elementwise_predicate(op, n, alpha, x_offset, x, out: uchar)
 *     Chunked. UnaryOp STEP (x > alpha) and NOT (x == 0); bool output; matches NumpyBackend.unary.
 * elementwise_binary(op, n, ndim, shape, stride_a, stride_b, off_a, off_b, a, b, out)
 *     out[i] = a[..] op b[..] for every BinaryOp: ADD..MINIMUM, FLOOR_DIVIDE, REMAINDER,
 *     RELU_BACKWARD (a where b > 0, else 0: relu's gradient from its output),
 *     BITWISE_AND/OR/XOR (integer and bool inputs only), and the comparisons EQ..OR (then out is uchar, built with -D OUT_DTYPE=uchar); matches
 *     NumpyBackend.binary (NaN propagates through MAXIMUM/MINIMUM; integer POW by repeated
 *     squaring, PyTorch's truncation for negative exponents; integer // and % by 0 give 0;
 *     integer +, -, * and pow wrap in two's complement, computed without C's signed overflow).
 *     The host never sends integer DIV (NumPy's true division gives float; it casts first).
 * elementwise_binary_rows(op, inner, rows, view_a, view_b, a, b, out)
 *     Fast path of elementwise_binary, same results, for inputs that are contiguous,
 *     scalars, or broadcast along whole rows of the output seen as (rows, inner): a bias
 *     (1, C, 1, 1) over (N, C, H, W), a row (N,) or a column (M, 1) over (M, N); a flat
 *     same-shape operation is rows = 1. view_x = (period, row_stride, col_stride, offset):
 *     row r, column j of input x is x[offset + (r % period) * row_stride + j * col_stride], with
 *     col_stride 0 (repeated) or 1 (contiguous). Geometry: 2-D, global
 *     (ceil(inner / CHUNK), rows); each work-item computes CHUNK consecutive columns of a row
 *     with vector loads (the row's last, ragged block element by element); guards both.
 *     Integer types and POW, FLOOR_DIVIDE, REMAINDER go lane by lane through binary_apply.
 * elementwise_where(n, ndim, shape, stride_c, stride_a, stride_b, offsets, cond: uchar, a, b,
 *                   out)
 *     offsets = (cond, a, b, unused) element offsets.
 *     out[i] = cond ? a : b with broadcasting; matches NumpyBackend.where.
 * elementwise_where_rows(inner, rows, view_c, view_a, view_b, cond: uchar, a, b, out)
 *     Fast path of elementwise_where, same results, for operands of the shapes and views
 *     elementwise_binary_rows takes; same geometry.
 * elementwise_cast(n, x_offset, x, out: OUT_DTYPE)
 *     Chunked, x dense from x_offset. C conversion (float -> int truncates); to bool is
 *     x != 0; matches NumpyBackend.cast.
 * elementwise_fill(n, value, out)        out[i] = value; matches NumpyBackend.full.
 * elementwise_arange(n, start, step, out)
 *     out[i] = start + i * step computed in double where the device has it, then converted,
 *     as NumpyBackend.arange does.
 */
#include "chunk.h"

/* NumPy rounds every operation separately: no fused multiply-adds (arange, sigmoid, ...). */
#pragma OPENCL FP_CONTRACT OFF

/* Op codes: the values of UnaryOp and BinaryOp in deepx/backend/__init__.py. */
#define UNARY_NEG 0
#define UNARY_EXP 1
#define UNARY_LOG 2
#define UNARY_SQRT 3
#define UNARY_ABS 4
#define UNARY_SIGN 5
#define UNARY_TANH 6
#define UNARY_SIGMOID 7
#define UNARY_RELU 8
#define UNARY_ERF 11
#define UNARY_SOFTPLUS 12
#define UNARY_LEAKY_RELU 13
#define UNARY_ELU 14
#define UNARY_STEP 15
#define UNARY_RECIPROCAL 16
#define UNARY_NOT 19

#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_POW 4
#define BINARY_MAXIMUM 5
#define BINARY_MINIMUM 6
#define BINARY_EQ 7
#define BINARY_NE 8
#define BINARY_LT 9
#define BINARY_LE 10
#define BINARY_GT 11
#define BINARY_GE 12
#define BINARY_AND 13
#define BINARY_OR 14
#define BINARY_FLOOR_DIVIDE 15
#define BINARY_REMAINDER 16
#define BINARY_RELU_BACKWARD 17
#define BINARY_BITWISE_AND 18
#define BINARY_BITWISE_OR 19
#define BINARY_BITWISE_XOR 20

/* The fast paths work on CHUNK elements per work-item: a runtime `op` switch per element
 * stops PoCL from vectorising across work-items (4x slower than a + b), so these switch once
 * and do the arithmetic on explicit vectors. */
#define VREAL CAT(REAL, CHUNK)
#define TO_VREAL CAT(convert_, VREAL)
#define TO_VTYPE CAT(convert_, VTYPE)
#define UCHARS CAT(uchar, CHUNK)
#define TO_UCHARS CAT(convert_, UCHARS)

/* The floating-point unary ops, in REAL, on a vector of CHUNK lanes: the one place each
 * formula is written (integer inputs convert to REAL vectors and back). */
inline VREAL unary_vector(int op, VREAL x, REAL alpha) {
    VREAL zero = (VREAL)0;
    VREAL one = (VREAL)1;
    switch (op) {
    case UNARY_EXP: return exp(x);
    case UNARY_LOG: return log(x);
    case UNARY_SQRT: return sqrt(x);
    case UNARY_TANH: return tanh(x);
    case UNARY_SIGMOID: {
        VREAL e = exp(-fabs(x));
        return select(e / (one + e), one / (one + e), x >= zero);
    }
    case UNARY_ERF: return erf(x);
    case UNARY_SOFTPLUS: return select(zero, x, x > zero) + log1p(exp(-fabs(x)));
    case UNARY_LEAKY_RELU: return select(x * alpha, x, x > zero);
    case UNARY_ELU: return select(alpha * expm1(select(x, zero, x > zero)), x, x > zero);
    case UNARY_RECIPROCAL: return one / x;
    default: return x;
    }
}

/* CHUNK elements of one input from `base`: contiguous, or one element repeated. */
inline VTYPE rows_load(__global const DTYPE* x, int base, int contiguous) {
    return contiguous ? VLOAD(0, x + base) : (VTYPE)(x[base]);
}

/* long -> DTYPE keeping the low bits (two's complement wrap, as NumPy and PyTorch) without an
 * out-of-range conversion, which C leaves implementation-defined. Integer DTYPEs only. */
inline DTYPE wrap_int(long v) {
    if (sizeof(DTYPE) >= sizeof(long)) return (DTYPE)v;
    ulong sign_bit = 1UL << (sizeof(DTYPE) * 8 - 1);
    return (DTYPE)((long)(((ulong)v + sign_bit) & (2 * sign_bit - 1)) - (long)sign_bit);
}

__kernel void elementwise_unary(int op, int n, REAL alpha, int x_offset,
                                __global const DTYPE* x, __global DTYPE* out) {
    int i0 = get_global_id(0) * CHUNK;
    if (i0 >= n) return;
    int count = n - i0;
    x += x_offset + i0;
    out += i0;
    if (IS_INTEGRAL(DTYPE) && (op == UNARY_NEG || op == UNARY_ABS)) {
        /* -MIN wraps to MIN (as NumPy and PyTorch) through ulong: C's signed negation of MIN
         * would overflow */
        for (int j = 0; j < min(count, CHUNK); ++j) {
            long a = (long)x[j];
            out[j] = (op == UNARY_ABS && a >= 0) ? x[j] : wrap_int(as_long(0UL - (ulong)a));
        }
        return;
    }
    VTYPE v = chunk_load(x, count);
    VTYPE zero = (VTYPE)0;
    VTYPE r;
    /* select(a, b, m) takes b where m is set; NaN fails every comparison */
    switch (op) {
    case UNARY_NEG: r = -v; break;
    case UNARY_ABS: r = select(select(v, zero, v == zero), -v, v < zero); break;
    case UNARY_SIGN: r = select(select(v, (VTYPE)-1, v < zero), (VTYPE)1, v > zero); break;
    case UNARY_RELU: r = select(zero, v, (v > zero) | IS_NAN(v)); break;
    default: {
        VREAL y = unary_vector(op, TO_VREAL(v), alpha);
        if (IS_INTEGRAL(DTYPE)) {  /* back to integers lane by lane, defined for NaN and range */
            REAL lanes[CHUNK];
            VSTORE(y, 0, lanes);
            for (int j = 0; j < min(count, CHUNK); ++j) out[j] = FLOAT_TO(DTYPE, lanes[j]);
            return;
        }
        r = TO_VTYPE(y);
        break;
    }
    }
    chunk_store(r, out, count);
}

__kernel void elementwise_predicate(int op, int n, REAL alpha, int x_offset,
                                    __global const DTYPE* x, __global uchar* out) {
    int i0 = get_global_id(0) * CHUNK;
    if (i0 >= n) return;
    int count = n - i0;
    x += x_offset + i0;
    out += i0;
    if (IS_INTEGRAL(DTYPE) || count < CHUNK) {  /* integers compare in REAL */
        for (int j = 0; j < min(count, CHUNK); ++j) {
            DTYPE v = x[j];
            out[j] = op == UNARY_STEP ? (uchar)((REAL)v > alpha) : (uchar)(v == 0);
        }
        return;
    }
    VTYPE v = VLOAD(0, x);
    /* vector comparisons give -1 for true: negated, NumPy's bool 1 */
    VSTORE(TO_UCHARS(-(op == UNARY_STEP ? v > (DTYPE)alpha : v == (VTYPE)0)), 0, out);
}

/* base ** exponent for integer types, PyTorch's powi: a negative exponent truncates
 * 1 / base^|e| (1, -1 or 0); the products run in ulong, which wraps without UB. */
inline DTYPE int_pow(DTYPE base, DTYPE exponent) {
    long e = (long)exponent, x = (long)base;
    if (e < 0) return x == 1 ? 1 : (x + 1 == 0 ? (e % 2 != 0 ? -1 : 1) : 0);
    ulong result = 1, b = (ulong)x;
    while (e > 0) {
        if (e & 1) result *= b;
        e >>= 1;
        if (e) b *= b;
    }
    return wrap_int(as_long(result));
}

/* Python's // and % for integers (PyTorch's div_floor_integer and remainder); divisor 0 gives
 * 0 (the ops raise before launching) and -1 is special-cased: MIN / -1 overflows in C. */
inline DTYPE floor_divide_int(DTYPE a, DTYPE b) {
    long x = (long)a, y = (long)b;
    if (y == 0) return 0;
    if (y == -1) return wrap_int(as_long(0UL - (ulong)x));
    long q = x / y;
    return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
}

inline DTYPE remainder_int(DTYPE a, DTYPE b) {
    long x = (long)a, y = (long)b;
    if (y == 0 || y == -1) return 0;
    long r = x % y;
    return (r != 0 && (r < 0) != (y < 0)) ? r + y : r;
}

/* The same for floating types, as PyTorch's div_floor_floating and NumPy's npy_divmod. */
inline REAL floor_divide_real(REAL a, REAL b) {
    if (b == 0) return a / b;
    REAL mod = fmod(a, b);
    REAL div = (a - mod) / b;
    if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
    if (div == 0) return copysign((REAL)0, a / b);
    REAL floored = floor(div);
    return div - floored > (REAL)0.5 ? floored + 1 : floored;
}

inline REAL remainder_real(REAL a, REAL b) {
    REAL mod = fmod(a, b);
    return (mod != 0 && (b < 0) != (mod < 0)) ? mod + b : mod;
}

/* Integer +, -, * wrapping as NumPy and PyTorch do, in ulong: signed overflow is UB in C. */
inline DTYPE int_arith(int op, DTYPE a, DTYPE b) {
    ulong x = (ulong)(long)a, y = (ulong)(long)b;
    return wrap_int(as_long(op == BINARY_ADD ? x + y : (op == BINARY_SUB ? x - y : x * y)));
}

inline DTYPE binary_apply(int op, DTYPE a, DTYPE b) {
    switch (op) {
    case BINARY_ADD: return IS_INTEGRAL(DTYPE) ? int_arith(op, a, b) : a + b;
    case BINARY_SUB: return IS_INTEGRAL(DTYPE) ? int_arith(op, a, b) : a - b;
    case BINARY_MUL: return IS_INTEGRAL(DTYPE) ? int_arith(op, a, b) : a * b;
    case BINARY_DIV: return a / b;
    case BINARY_POW:
        return IS_INTEGRAL(DTYPE) ? int_pow(a, b) : (DTYPE)pow((REAL)a, (REAL)b);
    case BINARY_MAXIMUM: return GT_NAN(a, b) ? a : b;   /* NaN in a propagates; in b too */
    case BINARY_MINIMUM: return LT_NAN(a, b) ? a : b;
    case BINARY_FLOOR_DIVIDE:
        return IS_INTEGRAL(DTYPE) ? floor_divide_int(a, b)
                                  : (DTYPE)floor_divide_real((REAL)a, (REAL)b);
    case BINARY_REMAINDER:
        return IS_INTEGRAL(DTYPE) ? remainder_int(a, b) : (DTYPE)remainder_real((REAL)a, (REAL)b);
    case BINARY_RELU_BACKWARD: return b > 0 ? a : (DTYPE)0;
    /* integer and bool (uchar) only; through long so that the line compiles for floats too */
    case BINARY_BITWISE_AND: return (DTYPE)((long)a & (long)b);
    case BINARY_BITWISE_OR: return (DTYPE)((long)a | (long)b);
    case BINARY_BITWISE_XOR: return (DTYPE)((long)a ^ (long)b);
    default: return 0;
    }
}

inline uchar compare_apply(int op, DTYPE a, DTYPE b) {
    switch (op) {
    case BINARY_EQ: return a == b;
    case BINARY_NE: return a != b;
    case BINARY_LT: return a < b;
    case BINARY_LE: return a <= b;
    case BINARY_GT: return a > b;
    case BINARY_GE: return a >= b;
    case BINARY_AND: return a != 0 && b != 0;
    case BINARY_OR: return a != 0 || b != 0;
    default: return 0;
    }
}

__kernel void elementwise_binary(int op, int n, int ndim, int8 shape,
                                 int8 stride_a, int8 stride_b, int off_a, int off_b,
                                 __global const DTYPE* a, __global const DTYPE* b,
                                 __global OUT_DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    a += off_a;
    b += off_b;
    int dims[MAX_DIMS], sa[MAX_DIMS], sb[MAX_DIMS];
    load_dims(shape, dims);
    load_dims(stride_a, sa);
    load_dims(stride_b, sb);
    DTYPE x = a[strided_offset(i, ndim, dims, sa)];
    DTYPE y = b[strided_offset(i, ndim, dims, sb)];
    /* comparisons build with OUT_DTYPE=uchar; arithmetic with OUT_DTYPE = DTYPE */
    out[i] = op >= BINARY_EQ && op <= BINARY_OR ? (OUT_DTYPE)compare_apply(op, x, y)
                                                : (OUT_DTYPE)binary_apply(op, x, y);
}

__kernel void elementwise_binary_rows(int op, int inner, int rows, int4 view_a, int4 view_b,
                                      __global const DTYPE* a, __global const DTYPE* b,
                                      __global DTYPE* out) {
    int j0 = get_global_id(0) * CHUNK;
    int row = get_global_id(1);
    if (j0 >= inner || row >= rows) return;
    int base_a = view_a.s3 + (row % view_a.s0) * view_a.s1 + j0 * view_a.s2;
    int base_b = view_b.s3 + (row % view_b.s0) * view_b.s1 + j0 * view_b.s2;
    out += row * inner + j0;
    if (j0 + CHUNK > inner) {  /* the row's ragged end, element by element */
        for (int j = 0; j < inner - j0; ++j) {
            out[j] = binary_apply(op, a[base_a + j * view_a.s2], b[base_b + j * view_b.s2]);
        }
        return;
    }
    VTYPE x = rows_load(a, base_a, view_a.s2);
    VTYPE y = rows_load(b, base_b, view_b.s2);
    VTYPE r;
    switch (IS_INTEGRAL(DTYPE) ? -1 : op) {  /* integers per lane: binary_apply wraps them */
    case BINARY_ADD: r = x + y; break;
    case BINARY_SUB: r = x - y; break;
    case BINARY_MUL: r = x * y; break;
    case BINARY_DIV: r = x / y; break;
    /* select takes y where the mask is 0, x where it is -1 (vector comparisons give -1) */
    case BINARY_MAXIMUM: r = select(y, x, GT_NAN(x, y)); break;
    case BINARY_MINIMUM: r = select(y, x, LT_NAN(x, y)); break;
    case BINARY_RELU_BACKWARD: r = select((VTYPE)0, x, y > (VTYPE)0); break;
    default: {  /* POW, FLOOR_DIVIDE, REMAINDER: per lane, as elementwise_binary does it */
        DTYPE xs[CHUNK], ys[CHUNK];
        VSTORE(x, 0, xs);
        VSTORE(y, 0, ys);
        for (int j = 0; j < CHUNK; ++j) out[j] = binary_apply(op, xs[j], ys[j]);
        return;
    }
    }
    VSTORE(r, 0, out);
}

__kernel void elementwise_where(int n, int ndim, int8 shape,
                                int8 stride_c, int8 stride_a, int8 stride_b, int4 offsets,
                                __global const uchar* cond, __global const DTYPE* a,
                                __global const DTYPE* b, __global DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    cond += offsets.s0;
    a += offsets.s1;
    b += offsets.s2;
    int dims[MAX_DIMS], sc[MAX_DIMS], sa[MAX_DIMS], sb[MAX_DIMS];
    load_dims(shape, dims);
    load_dims(stride_c, sc);
    load_dims(stride_a, sa);
    load_dims(stride_b, sb);
    out[i] = cond[strided_offset(i, ndim, dims, sc)] ? a[strided_offset(i, ndim, dims, sa)]
                                                      : b[strided_offset(i, ndim, dims, sb)];
}

/* CHUNK bools of cond from `base` (contiguous or repeated) as a select mask for VTYPE. */
inline VTYPE rows_cond(__global const uchar* cond, int base, int contiguous) {
    UCHARS c = contiguous ? VLOAD(0, cond + base) : (UCHARS)(cond[base]);
    return TO_VTYPE(c);
}

__kernel void elementwise_where_rows(int inner, int rows, int4 view_c, int4 view_a,
                                     int4 view_b, __global const uchar* cond,
                                     __global const DTYPE* a, __global const DTYPE* b,
                                     __global DTYPE* out) {
    int j0 = get_global_id(0) * CHUNK;
    int row = get_global_id(1);
    if (j0 >= inner || row >= rows) return;
    int base_c = view_c.s3 + (row % view_c.s0) * view_c.s1 + j0 * view_c.s2;
    int base_a = view_a.s3 + (row % view_a.s0) * view_a.s1 + j0 * view_a.s2;
    int base_b = view_b.s3 + (row % view_b.s0) * view_b.s1 + j0 * view_b.s2;
    out += row * inner + j0;
    if (j0 + CHUNK > inner) {  /* the row's ragged end, element by element */
        for (int j = 0; j < inner - j0; ++j) {
            out[j] = cond[base_c + j * view_c.s2] ? a[base_a + j * view_a.s2]
                                                  : b[base_b + j * view_b.s2];
        }
        return;
    }
    VTYPE c = rows_cond(cond, base_c, view_c.s2);
    VSTORE(select(rows_load(b, base_b, view_b.s2), rows_load(a, base_a, view_a.s2),
                  c != (VTYPE)0), 0, out);
}

#define OUT_VTYPE CAT(OUT_DTYPE, CHUNK)
#define TO_OUT_VTYPE CAT(convert_, OUT_VTYPE)

__kernel void elementwise_cast(int n, int x_offset, __global const DTYPE* x,
                               __global OUT_DTYPE* out) {
    int i0 = get_global_id(0) * CHUNK;
    if (i0 >= n) return;
    x += x_offset + i0;
    out += i0;
    /* element by element: the ragged last chunk, and float -> int (FLOAT_TO defines NaN) */
    int float_to_int = !IS_INTEGRAL(DTYPE) & IS_INTEGRAL(OUT_DTYPE) & !IS_BOOL(OUT_DTYPE);
    if (i0 + CHUNK > n || float_to_int) {
        for (int j = 0; j < min(n - i0, CHUNK); ++j) {
            DTYPE v = x[j];
            out[j] = IS_BOOL(OUT_DTYPE) ? (OUT_DTYPE)(v != 0)
                : IS_INTEGRAL(DTYPE) ? (OUT_DTYPE)v : FLOAT_TO(OUT_DTYPE, v);
        }
        return;
    }
    VTYPE v = VLOAD(0, x);
    /* vector comparisons give -1 for true: negated, NumPy's bool 1 */
    VSTORE(IS_BOOL(OUT_DTYPE) ? TO_OUT_VTYPE(-(v != (VTYPE)0)) : TO_OUT_VTYPE(v), 0, out);
}

__kernel void elementwise_fill(int n, DTYPE value, __global DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    out[i] = value;
}

#ifdef cl_khr_fp64
typedef double arange_t;
#else
typedef float arange_t;
#endif

__kernel void elementwise_arange(int n, arange_t start, arange_t step, __global DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    out[i] = (DTYPE)(start + (arange_t)i * step);
}
