/* gemm.cl - native row-major SGEMM shaped for CPU OpenCL devices (PoCL): register
 * tiles of float vectors, no local memory, no barriers. Correct on any device, fast on
 * CPUs only; clgan_gemm picks it over CLBlast by measurement (src/runtime/gemm_native.c).
 *
 * Every kernel computes C(M,N) = alpha * op(A) * op(B) + beta * C, all row-major with
 * row strides lda/ldb/ldc, each matrix starting at its offset (a_off, b_off, c_off, in
 * floats, the last arguments). When beta == 0, C is never read (it may hold NaN).
 * Arguments: C, A, B, alpha, beta, M, N, K, lda, ldb, ldc[, bias, act, slope], a_off,
 * b_off, c_off. Every index fits in int (the host checks).
 *
 *   gemm_nn  A (M,K): A(m,k) = A[m*lda + k]   B (K,N): B(k,n) = B[k*ldb + n]
 *   gemm_tn  A (K,M): A(m,k) = A[k*lda + m]   B (K,N) as above            (C = A^T B)
 *   gemm_nt  A (M,K) as in nn                 B (N,K): B(k,n) = B[n*ldb + k] (C = A B^T)
 *
 * gemm_nn / gemm_tn ("broadcast" form, one macro body): work-item (i, j) owns the
 * tile rows [i*GEMM_TM, +GEMM_TM) x columns [j*GEMM_TN, +GEMM_TN), GEMM_TN =
 * GEMM_VW*GEMM_TNV, kept in GEMM_TM*GEMM_TNV accumulators of GEMM_VW floats. The K loop
 * is innermost: per k it loads GEMM_TNV vectors of row k of B and, for each tile row,
 * broadcasts the one value A(m,k) into a fused multiply-add. Edges:
 *   - rows past M read row M-1 (clamped; in bounds, finite) and are not stored;
 *   - a column tile that crosses N is shifted left to end exactly at N (when N >=
 *     GEMM_TN), so B is always read with whole-vector loads; it stores only its own
 *     columns [j*GEMM_TN, N), the columns it shares with its left neighbour are that
 *     neighbour's to write (no two work-items write one element);
 *   - when N < GEMM_TN, B is gathered lane by lane with clamped column indices.
 * gemm_nt ("dot" form): both operands are contiguous along K, so vectors run along K:
 * work-item (i, j) owns rows [i*GEMM_DM, +GEMM_DM) x columns [j*GEMM_DN, +GEMM_DN) and
 * keeps one GEMM_VW-vector of partial sums per element, summed across lanes after the
 * loop, then a scalar tail for K % GEMM_VW. Rows and columns past the edge are clamped
 * for reading and not stored. (Reading B^T strided in the broadcast form gathers 16
 * rows per vector; packing B^T first costs a pass over B that, for the trainer's small
 * batches, takes as long as the product itself. The dot form needs neither.)
 *
 * Launch (see gemm_native.c): 2-D, global = (ceil(M/rows per item), ceil(N/cols per
 * item)), dimension 0 over row tiles so consecutive work-groups share a panel of B.
 * Any local size is correct (gemm_native.c picks it per device class).
 */

#define GEMM_A_NN(A, lda, m, k) (A)[(m) * (lda) + (k)]
#define GEMM_A_TN(A, lda, m, k) (A)[(k) * (lda) + (m)]

/* The K loop of the broadcast form; LOADB(j) yields vector j of row k of B. */
#define GEMM_BCAST_LOOP(A_AT, LOADB)                                                    \
    for (int k = 0; k < K; k++) {                                                       \
        gemm_vec b[GEMM_TNV];                                                           \
        _Pragma("unroll") for (int j = 0; j < GEMM_TNV; j++) b[j] = LOADB(j);           \
        _Pragma("unroll") for (int i = 0; i < GEMM_TM; i++) {                           \
            gemm_vec a = (gemm_vec)(A_AT(A, lda, row[i], k));                           \
            _Pragma("unroll") for (int j = 0; j < GEMM_TNV; j++)                        \
                acc[i][j] = fma(a, b[j], acc[i][j]);                                    \
        }                                                                               \
    }

#define GEMM_LOADB_VEC(j) gemm_vload(0, B + k * ldb + n0 + (j) * GEMM_VW)
#define GEMM_LOADB_GATHER(j) gemm_gather(B + k * ldb, n0 + (j) * GEMM_VW, N - 1)

/* The broadcast-form kernels. With `bias` not NULL (gemm_nn only), the epilogue applies
 * C = act(C + bias[n]) (the dense layer's forward, fused): beta must be 0 then. */
#define GEMM_BCAST_KERNEL(NAME, A_AT)                                                   \
    __kernel void NAME(__global float *C, __global const float *A,                      \
                       __global const float *B, const float alpha, const float beta,    \
                       const int M, const int N, const int K, const int lda,            \
                       const int ldb, const int ldc, __global const float *bias,        \
                       const int act, const float slope, const int a_off,               \
                       const int b_off, const int c_off)                                \
    {                                                                                   \
        A += a_off;                                                                     \
        B += b_off;                                                                     \
        C += c_off;                                                                     \
        const int m0 = (int)get_global_id(0) * GEMM_TM;                                 \
        const int tile_n = (int)get_global_id(1) * GEMM_TN;                             \
        if (m0 >= M || tile_n >= N)                                                     \
            return;                                                                     \
        const int n0 = (N >= GEMM_TN && tile_n + GEMM_TN > N) ? N - GEMM_TN : tile_n;   \
        int row[GEMM_TM];                                                               \
        gemm_vec acc[GEMM_TM][GEMM_TNV];                                                \
        _Pragma("unroll") for (int i = 0; i < GEMM_TM; i++) {                           \
            row[i] = min(m0 + i, M - 1);                                                \
            _Pragma("unroll") for (int j = 0; j < GEMM_TNV; j++) acc[i][j] = 0.0f;      \
        }                                                                               \
        if (N >= GEMM_TN) {                                                             \
            GEMM_BCAST_LOOP(A_AT, GEMM_LOADB_VEC)                                       \
        } else {                                                                        \
            GEMM_BCAST_LOOP(A_AT, GEMM_LOADB_GATHER)                                    \
        }                                                                               \
        _Pragma("unroll") for (int i = 0; i < GEMM_TM; i++) {                           \
            if (m0 + i >= M)                                                            \
                break;                                                                  \
            __global float *c = C + (m0 + i) * ldc;                                     \
            _Pragma("unroll") for (int j = 0; j < GEMM_TNV; j++) {                      \
                const int n = n0 + j * GEMM_VW;                                         \
                if (n >= tile_n && n + GEMM_VW <= N) {                                  \
                    gemm_vec r = alpha * acc[i][j];                                     \
                    if (beta != 0.0f)                                                   \
                        r = fma((gemm_vec)(beta), gemm_vload(0, c + n), r);             \
                    if (bias)                                                           \
                        r = gemm_act(r + gemm_vload(0, bias + n), act, slope);          \
                    gemm_vstore(r, 0, c + n);                                           \
                } else {                                                                \
                    gemm_store_lanes(c, n, tile_n, N, acc[i][j], alpha, beta, bias, act, \
                                     slope);                                            \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }

GEMM_BCAST_KERNEL(gemm_nn, GEMM_A_NN)
GEMM_BCAST_KERNEL(gemm_tn, GEMM_A_TN)

__kernel void gemm_nt(__global float *C, __global const float *A, __global const float *B,
                      const float alpha, const float beta, const int M, const int N,
                      const int K, const int lda, const int ldb, const int ldc,
                      const int a_off, const int b_off, const int c_off)
{
    A += a_off;
    B += b_off;
    C += c_off;
    const int m0 = (int)get_global_id(0) * GEMM_DM;
    const int n0 = (int)get_global_id(1) * GEMM_DN;
    if (m0 >= M || n0 >= N)
        return;
    __global const float *a[GEMM_DM], *b[GEMM_DN];
    gemm_vec acc[GEMM_DM][GEMM_DN];
#pragma unroll
    for (int i = 0; i < GEMM_DM; i++) {
        a[i] = A + min(m0 + i, M - 1) * lda;
#pragma unroll
        for (int j = 0; j < GEMM_DN; j++)
            acc[i][j] = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < GEMM_DN; j++)
        b[j] = B + min(n0 + j, N - 1) * ldb;
    int k = 0;
    for (; k + GEMM_VW <= K; k += GEMM_VW) {
        gemm_vec av[GEMM_DM], bv[GEMM_DN];
#pragma unroll
        for (int i = 0; i < GEMM_DM; i++)
            av[i] = gemm_vload(0, a[i] + k);
#pragma unroll
        for (int j = 0; j < GEMM_DN; j++)
            bv[j] = gemm_vload(0, b[j] + k);
#pragma unroll
        for (int i = 0; i < GEMM_DM; i++)
#pragma unroll
            for (int j = 0; j < GEMM_DN; j++)
                acc[i][j] = fma(av[i], bv[j], acc[i][j]);
    }
    float s[GEMM_DM][GEMM_DN];
#pragma unroll
    for (int i = 0; i < GEMM_DM; i++)
#pragma unroll
        for (int j = 0; j < GEMM_DN; j++)
            s[i][j] = gemm_hsum(acc[i][j]);
    for (; k < K; k++) {
#pragma unroll
        for (int i = 0; i < GEMM_DM; i++)
#pragma unroll
            for (int j = 0; j < GEMM_DN; j++)
                s[i][j] = fma(a[i][k], b[j][k], s[i][j]);
    }
#pragma unroll
    for (int i = 0; i < GEMM_DM; i++) {
        if (m0 + i >= M)
            break;
        __global float *c = C + (m0 + i) * ldc;
#pragma unroll
        for (int j = 0; j < GEMM_DN; j++) {
            if (n0 + j >= N)
                break;
            c[n0 + j] = beta == 0.0f ? alpha * s[i][j]
                                     : fma(alpha, s[i][j], beta * c[n0 + j]);
        }
    }
}
