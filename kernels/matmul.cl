/* matmul.cl: batched matrix products C[b] = op(A[b]) @ op(B[b]).
 *
 * Build options: -D DTYPE=<float|double|int|long> and, for matmul_tiled, the tile sizes
 *   -D RTS_M, RTS_N (work-group = RTS_N x RTS_M work-items), WPT_M, WPT_N (each work-item
 *   computes WPT_M x WPT_N outputs, held in registers), TILE_K (K-step of the local tiles).
 *   The host picks them from the device's work-group and local-memory limits.
 * Shared arguments: M, N, K; batch_a / batch_b = element stride between batches of A / B
 *   (0 broadcasts one matrix over the batch); trans_a: A is stored (K, M) instead of (M, K);
 *   trans_b: B is stored (N, K) instead of (K, N). C is (batch, M, N), C-contiguous.
 * Every kernel matches NumpyBackend.matmul; any M, N, K >= 1 (K = 0 is a fill on the host).
 *
 * matmul_naive(M, N, K, batch_a, batch_b, trans_a, trans_b, A, B, C)
 *     Geometry: global (N, M, batch), any local size; one work-item per output, a plain
 *     K loop from global memory. The benchmark ladder's first rung; guards n < N, m < M.
 * matmul_tiled(M, N, K, batch_a, batch_b, trans_a, trans_b, A, B, C)
 *     Geometry: local (RTS_N, RTS_M, 1), global (ceil(N / TILE_N) * RTS_N,
 *     ceil(M / TILE_M) * RTS_M, batch). Each work-group computes a TILE_M x TILE_N tile of C
 *     from TILE_K-deep tiles of A and B staged in local memory (out-of-range elements
 *     zero-padded, so any M, N, K works). Work-item (x, y) owns rows y + i * RTS_M and
 *     columns x + j * RTS_N: neighbouring work-items touch neighbouring columns, which lets
 *     a CPU runtime vectorise across work-items and keeps GPU local-memory reads
 *     conflict-free. Results are deterministic (fixed summation order per output).
 * matmul_pack(rows, K, width, stride_r, stride_k, batch_src, src_offset, src, dst)
 *     Copies a (rows x K) operand, read at src[src_offset + r * stride_r + k * stride_k] (any
 *     transpose, slice or other strided view; batch b starts batch_src elements further),
 *     into panels of `width` rows: dst[(p * K + k) * width + j] = element (p * width + j, k),
 *     zero for rows past `rows`; ceil(rows / width) * width * K elements per batch.
 *     Geometry: global (K, panels, batch), any local size; work-item (k, p) writes the
 *     `width` contiguous elements of panel p at k. Guards k and p.
 * matmul_pack_tiles(rows, K, stride_r, batch_src, src_offset, src, dst)
 *     matmul_pack with width 16 and stride_k 1 (the operand's K run is contiguous: A stored
 *     (M, K), B stored (N, K)), built only where PACK_TILES is defined (float, VEC 16).
 *     Work-item (kb, p) moves the 16 x 16 tile of panel p at k = 16 kb .. 16 kb + 15: 16
 *     vector row loads, a transpose in registers (4 stages of shuffle2 swapping off-diagonal
 *     blocks of 8, 4, 2, 1), 16 vector stores: 2x faster on PoCL than matmul_pack's element
 *     loop. Geometry: global (ceil(K / 16) rounded up, panels, batch), local (L, 1, 1).
 *     Ragged tiles (rows or K past the end) load element by element, zeros past the end.
 * matmul_blocked(M, N, K, batch_a, batch_b, b_packed, sum_batches, bias_mode, bias, A, B, C)
 *                                                                (float and double only)
 *     sum_batches 1: C[b] = A[b] @ B[b]; sum_batches = the batch count S: C (one matrix) =
 *     sum over b < S of A[b] @ B[b] (torch.addbmm's reduction, a convolution's weight
 *     gradient over the images), accumulated in the same registers in b-then-k order.
 *     bias_mode 0: no bias (bias may be NULL); 1: bias (N,) added to every row of C (a
 *     linear layer); 2: bias (M,) added to every column (a convolution's channels). The
 *     bias is added once the sum is complete, as matmul-then-add would round it.
 *     The CPU kernel, over A packed by matmul_pack in panels of WPT_M rows and B either
 *     packed (b_packed = 1: its N columns in panels of VEC) or read in place (b_packed = 0:
 *     B stored (K, N), not transposed; the host does this for small M, where B's rows are
 *     read by few row blocks and a packed copy would cost more than it saves).
 *     batch_a / batch_b = element stride between batches of the operand as passed, or 0.
 *     Build options: -D WPT_M (rows per work-item), -D VEC (vector width: 4, 8 or 16).
 *     Geometry: local (1, 1, 1), global (ceil(M / WPT_M), ceil(N / VEC), batch), batch 1
 *     when summing. Each
 *     work-item keeps a WPT_M x VEC block of C in WPT_M vector registers and streams its two
 *     panels once: per k, one vector load of B and WPT_M broadcasts of A feed WPT_M vector
 *     multiply-adds (a BLAS micro-kernel). Packing makes both streams contiguous, whatever
 *     the transposes and leading dimensions (power-of-two strides would otherwise thrash
 *     cache sets), and zero-padding removes edge cases from the loop: only the stores are
 *     guarded (rows < M; a narrow last column block is stored lane by lane). An in-place B's
 *     narrow last column block is loaded lane by lane, zero past N.
 *     Deterministic like matmul_tiled.
 */
#include "common.h"

#ifndef RTS_M
#define RTS_M 8
#endif
#ifndef RTS_N
#define RTS_N 8
#endif
#ifndef WPT_M
#define WPT_M 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#define TILE_M (RTS_M * WPT_M)
#define TILE_N (RTS_N * WPT_N)

/* A[m, k] and B[k, n] of the current batch, whichever way they are stored. */
inline DTYPE load_a(__global const DTYPE* A, int trans_a, int M, int K, int m, int k) {
    return trans_a ? A[k * M + m] : A[m * K + k];
}

inline DTYPE load_b(__global const DTYPE* B, int trans_b, int N, int K, int k, int n) {
    return trans_b ? B[n * K + k] : B[k * N + n];
}

__kernel void matmul_naive(int M, int N, int K, int batch_a, int batch_b,
                           int trans_a, int trans_b, __global const DTYPE* A,
                           __global const DTYPE* B, __global DTYPE* C) {
    int n = get_global_id(0);
    int m = get_global_id(1);
    int batch = get_global_id(2);
    if (n >= N || m >= M) return;
    A += batch * batch_a;
    B += batch * batch_b;
    DTYPE acc = 0;
    for (int k = 0; k < K; ++k) {
        acc += load_a(A, trans_a, M, K, m, k) * load_b(B, trans_b, N, K, k, n);
    }
    C[((long)batch * M + m) * N + n] = acc;
}

__kernel __attribute__((reqd_work_group_size(RTS_N, RTS_M, 1)))
void matmul_tiled(int M, int N, int K, int batch_a, int batch_b, int trans_a, int trans_b,
                  __global const DTYPE* A, __global const DTYPE* B, __global DTYPE* C) {
    __local DTYPE a_tile[TILE_K][TILE_M];
    __local DTYPE b_tile[TILE_K][TILE_N];
    int tx = get_local_id(0);
    int ty = get_local_id(1);
    int tid = ty * RTS_N + tx;
    int row0 = get_group_id(1) * TILE_M;
    int col0 = get_group_id(0) * TILE_N;
    int batch = get_global_id(2);
    A += batch * batch_a;
    B += batch * batch_b;

    /* the WPT_M x WPT_N loops are unrolled so that acc and b_reg stay in registers */
    DTYPE acc[WPT_M][WPT_N];
#pragma unroll
    for (int i = 0; i < WPT_M; ++i)
#pragma unroll
        for (int j = 0; j < WPT_N; ++j) acc[i][j] = 0;

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        /* Stage the tiles; consecutive work-items read consecutive addresses in memory. */
        for (int e = tid; e < TILE_K * TILE_M; e += RTS_M * RTS_N) {
            int kk = trans_a ? e / TILE_M : e % TILE_K;
            int mm = trans_a ? e % TILE_M : e / TILE_K;
            int m = row0 + mm, k = k0 + kk;
            a_tile[kk][mm] = (m < M && k < K) ? load_a(A, trans_a, M, K, m, k) : (DTYPE)0;
        }
        for (int e = tid; e < TILE_K * TILE_N; e += RTS_M * RTS_N) {
            int kk = trans_b ? e % TILE_K : e / TILE_N;
            int nn = trans_b ? e / TILE_K : e % TILE_N;
            int n = col0 + nn, k = k0 + kk;
            b_tile[kk][nn] = (n < N && k < K) ? load_b(B, trans_b, N, K, k, n) : (DTYPE)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TILE_K; ++kk) {
            DTYPE b_reg[WPT_N];
#pragma unroll
            for (int j = 0; j < WPT_N; ++j) b_reg[j] = b_tile[kk][tx + j * RTS_N];
#pragma unroll
            for (int i = 0; i < WPT_M; ++i) {
                DTYPE a = a_tile[kk][ty + i * RTS_M];
#pragma unroll
                for (int j = 0; j < WPT_N; ++j) acc[i][j] += a * b_reg[j];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#pragma unroll
    for (int i = 0; i < WPT_M; ++i) {
        int m = row0 + ty + i * RTS_M;
#pragma unroll
        for (int j = 0; j < WPT_N; ++j) {
            int n = col0 + tx + j * RTS_N;
            if (m < M && n < N) C[((long)batch * M + m) * N + n] = acc[i][j];
        }
    }
}

#ifndef VEC
#define VEC 16
#endif
/* The vector type and vector load/store of VEC DTYPEs, e.g. float16 and vload16. */
#define VTYPE CAT(DTYPE, VEC)
#define VLOAD CAT(vload, VEC)
#define VSTORE CAT(vstore, VEC)

__kernel void matmul_pack(int rows, int K, int width, int stride_r, int stride_k, int batch_src,
                          int src_offset, __global const DTYPE* src, __global DTYPE* dst) {
    int k = get_global_id(0);
    int panel = get_global_id(1);
    int batch = get_global_id(2);
    int padded = (rows + width - 1) / width * width;
    if (k >= K || panel * width >= padded) return;
    src += src_offset + batch * batch_src + k * stride_k;
    dst += ((long)batch * padded + panel * width) * K + k * width;
    for (int j = 0; j < width; ++j) {
        int r = panel * width + j;
        dst[j] = r < rows ? src[r * stride_r] : (DTYPE)0;
    }
}

#ifdef PACK_TILES
/* shuffle2 masks of the block swap between rows i and i + b (b = 8, 4, 2, 1) of a 16 x 16
 * tile: row i keeps its columns without bit b and takes row i + b's columns with it; after
 * the four stages the tile is transposed. */
#define SWAP_LO8 (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
#define SWAP_HI8 (uint16)(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31)
#define SWAP_LO4 (uint16)(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27)
#define SWAP_HI4 (uint16)(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31)
#define SWAP_LO2 (uint16)(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
#define SWAP_HI2 (uint16)(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)
#define SWAP_LO1 (uint16)(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30)
#define SWAP_HI1 (uint16)(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31)
#define SWAP_STAGE(tile, b)                                                            \
    _Pragma("unroll") for (int i = 0; i < 16; ++i) {                                   \
        if (!(i & b)) {                                                                \
            VTYPE x = tile[i], y = tile[i + b];                                        \
            tile[i] = shuffle2(x, y, SWAP_LO##b);                                      \
            tile[i + b] = shuffle2(x, y, SWAP_HI##b);                                  \
        }                                                                              \
    }

__kernel void matmul_pack_tiles(int rows, int K, int stride_r, int batch_src, int src_offset,
                                __global const DTYPE* src, __global DTYPE* dst) {
    int k0 = get_global_id(0) * 16;
    int panel = get_global_id(1);
    int batch = get_global_id(2);
    int padded = (rows + 15) / 16 * 16;
    if (k0 >= K || panel * 16 >= padded) return;
    src += src_offset + batch * batch_src + k0;
    dst += ((long)batch * padded + panel * 16) * K + k0 * 16;
    VTYPE tile[16];
#pragma unroll
    for (int j = 0; j < 16; ++j) {
        int row = panel * 16 + j;
        if (row < rows && k0 + 16 <= K) {
            tile[j] = VLOAD(0, src + row * stride_r);
        } else {
            DTYPE lanes[16];
            for (int t = 0; t < 16; ++t) {
                lanes[t] = row < rows && k0 + t < K ? src[row * stride_r + t] : (DTYPE)0;
            }
            tile[j] = VLOAD(0, lanes);
        }
    }
    SWAP_STAGE(tile, 8)
    SWAP_STAGE(tile, 4)
    SWAP_STAGE(tile, 2)
    SWAP_STAGE(tile, 1)
    int n = min(16, K - k0);
#pragma unroll
    for (int t = 0; t < 16; ++t) {
        if (t < n) VSTORE(tile[t], 0, dst + t * 16);
    }
}
#endif

/* One step of the micro-kernel: acc[i] += A(m0 + i, k) * B(k, n0..n0 + VEC - 1), i < WPT_M. */
inline void blocked_step(VTYPE* acc, __global const DTYPE* a_k, VTYPE b_k) {
#pragma unroll
    for (int i = 0; i < WPT_M; ++i) acc[i] += (VTYPE)(a_k[i]) * b_k;
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void matmul_blocked(int M, int N, int K, int batch_a, int batch_b, int b_packed,
                    int sum_batches, int bias_mode, __global const DTYPE* bias,
                    __global const DTYPE* A, __global const DTYPE* B, __global DTYPE* C) {
    int m0 = get_global_id(0) * WPT_M;
    int n0 = get_global_id(1) * VEC;
    int batch = get_global_id(2);
    if (m0 >= M || n0 >= N) return;
    __global const DTYPE* a = A + batch * batch_a + m0 * K;   /* this work-item's A panel */
    /* B's columns n0..n0+VEC-1 at row k: a packed panel, or B's own (K, N) rows in place */
    __global const DTYPE* b = B + batch * batch_b + (b_packed ? n0 * K : n0);
    int ldb = b_packed ? VEC : N;
    C += ((long)batch * M + m0) * N + n0;

    /* fully unrolled, so that acc lives in WPT_M vector registers, not on the stack */
    VTYPE acc[WPT_M];
#pragma unroll
    for (int i = 0; i < WPT_M; ++i) acc[i] = 0;
    for (int s = 0; s < sum_batches; ++s, a += batch_a, b += batch_b) {
        if (b_packed || n0 + VEC <= N) {
            for (int k = 0; k < K; ++k) {
                VTYPE b_k = VLOAD(0, b + k * ldb);
                blocked_step(acc, a + k * WPT_M, b_k);
            }
        } else {  /* in-place B, last column block: the columns past N read as zero */
            DTYPE lanes[VEC];
            for (int k = 0; k < K; ++k) {
                for (int j = 0; j < VEC; ++j) lanes[j] = n0 + j < N ? b[k * ldb + j] : (DTYPE)0;
                VTYPE b_k = VLOAD(0, lanes);
                blocked_step(acc, a + k * WPT_M, b_k);
            }
        }
    }

    int rows = min(WPT_M, M - m0);
    if (bias_mode == 1) {  /* (N,): the same VEC columns for every row */
        DTYPE lanes[VEC];
        for (int j = 0; j < VEC; ++j) lanes[j] = n0 + j < N ? bias[n0 + j] : (DTYPE)0;
        VTYPE b_n = VLOAD(0, lanes);
#pragma unroll
        for (int i = 0; i < WPT_M; ++i) acc[i] += b_n;
    } else if (bias_mode == 2) {  /* (M,): one value per row */
#pragma unroll
        for (int i = 0; i < WPT_M; ++i) acc[i] += (VTYPE)(i < rows ? bias[m0 + i] : (DTYPE)0);
    }
    if (n0 + VEC <= N) {
#pragma unroll
        for (int i = 0; i < WPT_M; ++i) {
            if (i < rows) VSTORE(acc[i], 0, C + i * N);
        }
    } else {
        DTYPE lanes[VEC];
#pragma unroll
        for (int i = 0; i < WPT_M; ++i) {
            VSTORE(acc[i], 0, lanes);
            for (int j = 0; j < N - n0 && i < rows; ++j) C[i * N + j] = lanes[j];
        }
    }
}
