/* gemm_conv.cl - convolution as an implicit product for CPU devices: the native GEMM's
 * register tiles (gemm.cl's gemm_vec, GEMM_TM x GEMM_TN per work-item, no local memory)
 * reading the column matrix of cl/conv.cl straight from the NHWC input instead of from
 * an im2col copy (which costs a pass over memory per product). Host: src/nn/conv.c, used
 * when the context's GEMM is the native one.
 *
 * Geometry as in conv.cl: input (N, H, W, C), output (N, OH, OW, F), kernel (KH, KW),
 * stride (SH, SW), top/left padding (PT, PL); output pixel m = (n, oy, ox) reads input
 * pixel (oy*SH - PT + ky, ox*SW - PL + kx) for (ky, kx), zero outside.
 *
 * conv_fwd   Y (M = N*OH*OW, F) = col(X) (M, K) Wt (K, F), K = KH*KW*C, then
 *            Y = act(Y + bias) when bias is given (the dense epilogue of gemm_nn).
 *            Work-item (i, j): rows [i*GEMM_TM, +GEMM_TM) x columns [j*GEMM_TN, +GEMM_TN),
 *            edges as gemm_nn (rows clamped, a column tile crossing F shifted left, F <
 *            GEMM_TN gathered). Per (ky, kx) each tile row points at its input pixel's
 *            C channels, or at `zeros` (C floats of 0) where the pixel is padding, so the
 *            inner loop over c has no branch.
 * conv_wgrad DW (K, F) (+)= col(X)^T (K, P) DZ (P, F) over the P = N*OH*OW output pixels.
 *            Rows are kernel positions (ky, kx, c); the host launches it only when
 *            C % GEMM_TM == 0, so a tile's GEMM_TM rows are consecutive channels of one
 *            (ky, kx): one contiguous run of the input per pixel. beta 0: DW is set.
 * conv_flip  Wf (KH, KW, F, C) from W (KH, KW, C, F), spatially flipped: the input
 *            gradient of a stride-1 Conv2d is conv_fwd of the output gradient with Wf
 *            and padding (KH-1-PT, KW-1-PL).
 */

__kernel void conv_fwd(__global float *Y, __global const float *X, __global const float *Wt,
                       __global const float *zeros, __global const float *bias, const int act,
                       const float slope, const int M, const int F, const int H, const int W,
                       const int C, const int OH, const int OW, const int KH, const int KW,
                       const int SH, const int SW, const int PT, const int PL, const int x_off,
                       const int y_off)
{
    X += x_off;
    Y += y_off;
    const int m0 = (int)get_global_id(0) * GEMM_TM;
    const int tile_n = (int)get_global_id(1) * GEMM_TN;
    if (m0 >= M || tile_n >= F)
        return;
    const int n0 = (F >= GEMM_TN && tile_n + GEMM_TN > F) ? F - GEMM_TN : tile_n;
    int by[GEMM_TM], bx[GEMM_TM], bn[GEMM_TM];
    gemm_vec acc[GEMM_TM][GEMM_TNV];
#pragma unroll
    for (int i = 0; i < GEMM_TM; i++) {
        const int m = min(m0 + i, M - 1), ox = m % OW, t = m / OW;
        by[i] = (t % OH) * SH - PT;
        bx[i] = ox * SW - PL;
        bn[i] = (t / OH) * H;
#pragma unroll
        for (int j = 0; j < GEMM_TNV; j++)
            acc[i][j] = 0.0f;
    }
    for (int ky = 0; ky < KH; ky++)
        for (int kx = 0; kx < KW; kx++) {
            __global const float *a[GEMM_TM];
#pragma unroll
            for (int i = 0; i < GEMM_TM; i++) {
                const int iy = by[i] + ky, ix = bx[i] + kx;
                a[i] = iy >= 0 && iy < H && ix >= 0 && ix < W ? X + ((bn[i] + iy) * W + ix) * C
                                                              : zeros;
            }
            __global const float *B = Wt + (ky * KW + kx) * C * F;
            if (F >= GEMM_TN) {
                for (int c = 0; c < C; c++) {
                    gemm_vec b[GEMM_TNV];
#pragma unroll
                    for (int j = 0; j < GEMM_TNV; j++)
                        b[j] = gemm_vload(0, B + c * F + n0 + j * GEMM_VW);
#pragma unroll
                    for (int i = 0; i < GEMM_TM; i++) {
                        const gemm_vec av = (gemm_vec)(a[i][c]);
#pragma unroll
                        for (int j = 0; j < GEMM_TNV; j++)
                            acc[i][j] = fma(av, b[j], acc[i][j]);
                    }
                }
            } else {
                for (int c = 0; c < C; c++) {
                    gemm_vec b[GEMM_TNV];
#pragma unroll
                    for (int j = 0; j < GEMM_TNV; j++)
                        b[j] = gemm_gather(B + c * F, n0 + j * GEMM_VW, F - 1);
#pragma unroll
                    for (int i = 0; i < GEMM_TM; i++) {
                        const gemm_vec av = (gemm_vec)(a[i][c]);
#pragma unroll
                        for (int j = 0; j < GEMM_TNV; j++)
                            acc[i][j] = fma(av, b[j], acc[i][j]);
                    }
                }
            }
        }
#pragma unroll
    for (int i = 0; i < GEMM_TM; i++) {
        if (m0 + i >= M)
            break;
        __global float *y = Y + (m0 + i) * F;
#pragma unroll
        for (int j = 0; j < GEMM_TNV; j++) {
            const int n = n0 + j * GEMM_VW;
            if (n >= tile_n && n + GEMM_VW <= F) {
                gemm_vec r = acc[i][j];
                if (bias)
                    r = gemm_act(r + gemm_vload(0, bias + n), act, slope);
                gemm_vstore(r, 0, y + n);
            } else {
                gemm_store_lanes(y, n, tile_n, F, acc[i][j], 1.0f, 0.0f, bias, act, slope);
            }
        }
    }
}

__kernel void conv_wgrad(__global float *DW, __global const float *X, __global const float *DZ,
                         const float beta, const int P, const int F, const int H, const int W,
                         const int C, const int OH, const int OW, const int KH, const int KW,
                         const int SH, const int SW, const int PT, const int PL, const int x_off,
                         const int dz_off)
{
    X += x_off;
    DZ += dz_off;
    const int K = KH * KW * C;
    const int m0 = (int)get_global_id(0) * GEMM_TM;
    const int tile_n = (int)get_global_id(1) * GEMM_TN;
    if (m0 >= K || tile_n >= F)
        return;
    const int n0 = (F >= GEMM_TN && tile_n + GEMM_TN > F) ? F - GEMM_TN : tile_n;
    const int c0 = m0 % C, t = m0 / C, kx = t % KW, ky = t / KW;
    gemm_vec acc[GEMM_TM][GEMM_TNV];
#pragma unroll
    for (int i = 0; i < GEMM_TM; i++)
#pragma unroll
        for (int j = 0; j < GEMM_TNV; j++)
            acc[i][j] = 0.0f;
    int n = 0, oy = 0, ox = 0;
    for (int p = 0; p < P; p++) {
        const int iy = oy * SH - PT + ky, ix = ox * SW - PL + kx;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            __global const float *x = X + ((n * H + iy) * W + ix) * C + c0;
            gemm_vec b[GEMM_TNV];
#pragma unroll
            for (int j = 0; j < GEMM_TNV; j++)
                b[j] = F >= GEMM_TN ? gemm_vload(0, DZ + p * F + n0 + j * GEMM_VW)
                                    : gemm_gather(DZ + p * F, n0 + j * GEMM_VW, F - 1);
#pragma unroll
            for (int i = 0; i < GEMM_TM; i++) {
                const gemm_vec av = (gemm_vec)(x[i]);
#pragma unroll
                for (int j = 0; j < GEMM_TNV; j++)
                    acc[i][j] = fma(av, b[j], acc[i][j]);
            }
        }
        if (++ox == OW) {
            ox = 0;
            if (++oy == OH) {
                oy = 0;
                n++;
            }
        }
    }
#pragma unroll
    for (int i = 0; i < GEMM_TM; i++) {
        __global float *d = DW + (m0 + i) * F;
#pragma unroll
        for (int j = 0; j < GEMM_TNV; j++) {
            const int nn = n0 + j * GEMM_VW;
            if (nn >= tile_n && nn + GEMM_VW <= F) {
                gemm_vec r = acc[i][j];
                if (beta != 0.0f)
                    r = fma((gemm_vec)(beta), gemm_vload(0, d + nn), r);
                gemm_vstore(r, 0, d + nn);
            } else {
                gemm_store_lanes(d, nn, tile_n, F, acc[i][j], 1.0f, beta, NULL, 0, 0.0f);
            }
        }
    }
}

__kernel void conv_flip(__global float *Wf, __global const float *Wt, const int KH, const int KW,
                        const int C, const int F)
{
    const int i = get_global_id(0);
    if (i >= KH * KW * C * F) return;
    const int c = i % C, t = i / C, f = t % F, t2 = t / F, kx = t2 % KW, ky = t2 / KW;
    Wf[i] = Wt[(((KH - 1 - ky) * KW + (KW - 1 - kx)) * C + c) * F + f];
}
