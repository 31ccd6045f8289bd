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

    DTYPE acc[WPT_M][WPT_N];
    for (int i = 0; i < WPT_M; ++i)
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
            for (int j = 0; j < WPT_N; ++j) b_reg[j] = b_tile[kk][tx + j * RTS_N];
            for (int i = 0; i < WPT_M; ++i) {
                DTYPE a = a_tile[kk][ty + i * RTS_M];
                for (int j = 0; j < WPT_N; ++j) acc[i][j] += a * b_reg[j];
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WPT_M; ++i) {
        int m = row0 + ty + i * RTS_M;
        for (int j = 0; j < WPT_N; ++j) {
            int n = col0 + tx + j * RTS_N;
            if (m < M && n < N) C[((long)batch * M + m) * N + n] = acc[i][j];
        }
    }
}
