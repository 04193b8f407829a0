/* conv.cl - the data movement of convolution layers over NHWC activations: element
 * (n, y, x, c) of a (N, H, W, C) batch is at ((n*H + y)*W + x)*C + c. Host: src/nn/conv.c,
 * src/nn/upsample.c, src/nn/zeropad.c.
 *
 * A Conv2d with kernel (KH, KW), stride (SH, SW) and top/left padding (PT, PL) reads, for
 * output pixel (n, oy, ox), input pixel (n, oy*SH - PT + ky, ox*SW - PL + kx) (zero
 * outside the image). Its "column" matrix has one row per output pixel and one column
 * per (ky, kx, c), K = KH*KW*C:
 *   col[((n*OH + oy)*OW + ox)*K + (ky*KW + kx)*C + c]
 * so the convolution is col (N*OH*OW, K) x kernel (K, filters), and the output lands in
 * NHWC directly. Bottom/right padding is implied by OH, OW.
 *
 * im2col_nhwc  col = the column matrix of images [0, nimg) of x (x starts at x_off).
 *              2-D: dimension 0 over k (neighbouring work-items read neighbouring
 *              channels), dimension 1 over rows.
 * col2im_nhwc  the adjoint: x[n, y, x, c] = sum of the col entries that read it (a
 *              gather, in a fixed (ky, kx) order: deterministic, no atomics); `acc`
 *              adds to x instead. 1-D over the nimg*H*W*C elements of x.
 * upsample_fwd / upsample_bwd  nearest-neighbour by (FH, FW) and its adjoint (the sum
 *              over each FH x FW block), 1-D over the output / input elements.
 * zeropad_fwd / zeropad_bwd    y = x with PT/PL zeros before (and the rest after, implied
 *              by the output size) and its adjoint (the crop), 1-D over y / x.
 */

__kernel void im2col_nhwc(__global float *col, __global const float *x, int H, int W, int C,
                          int OH, int OW, int KH, int KW, int SH, int SW, int PT, int PL,
                          int rows, int x_off)
{
    const int k = get_global_id(0), r = get_global_id(1), K = KH * KW * C;
    if (k >= K || r >= rows) return;
    const int c = k % C, t = k / C, kx = t % KW, ky = t / KW;
    const int ox = r % OW, t2 = r / OW, oy = t2 % OH, n = t2 / OH;
    const int iy = oy * SH - PT + ky, ix = ox * SW - PL + kx;
    float v = 0.0f;
    if (iy >= 0 && iy < H && ix >= 0 && ix < W)
        v = x[x_off + ((n * H + iy) * W + ix) * C + c];
    col[r * K + k] = v;
}

__kernel void col2im_nhwc(__global float *x, __global const float *col, int H, int W, int C,
                          int OH, int OW, int KH, int KW, int SH, int SW, int PT, int PL,
                          int nimg, int x_off, int acc)
{
    const int i = get_global_id(0);
    if (i >= nimg * H * W * C) return;
    const int c = i % C, t = i / C, ix = t % W, t2 = t / W, iy = t2 % H, n = t2 / H;
    const int K = KH * KW * C;
    float s = 0.0f;
    for (int ky = 0; ky < KH; ky++) {
        const int ty = iy + PT - ky;
        if (ty < 0 || ty % SH) continue;
        const int oy = ty / SH;
        if (oy >= OH) continue;
        for (int kx = 0; kx < KW; kx++) {
            const int tx = ix + PL - kx;
            if (tx < 0 || tx % SW) continue;
            const int ox = tx / SW;
            if (ox >= OW) continue;
            s += col[((n * OH + oy) * OW + ox) * K + (ky * KW + kx) * C + c];
        }
    }
    x[x_off + i] = acc ? x[x_off + i] + s : s;
}

/* y (N, H*FH, W*FW, C) from x (N, H, W, C). */
__kernel void upsample_fwd(__global float *y, __global const float *x, int N, int H, int W,
                           int C, int FH, int FW)
{
    const int i = get_global_id(0), OW = W * FW, OH = H * FH;
    if (i >= N * OH * OW * C) return;
    const int c = i % C, t = i / C, ox = t % OW, t2 = t / OW, oy = t2 % OH, n = t2 / OH;
    y[i] = x[((n * H + oy / FH) * W + ox / FW) * C + c];
}

/* dx (N, H, W, C) = sums of dy (N, H*FH, W*FW, C) over each block. */
__kernel void upsample_bwd(__global float *dx, __global const float *dy, int N, int H, int W,
                           int C, int FH, int FW)
{
    const int i = get_global_id(0), OW = W * FW;
    if (i >= N * H * W * C) return;
    const int c = i % C, t = i / C, ix = t % W, t2 = t / W, iy = t2 % H, n = t2 / H;
    float s = 0.0f;
    for (int a = 0; a < FH; a++)
        for (int b = 0; b < FW; b++)
            s += dy[((n * H * FH + iy * FH + a) * OW + ix * FW + b) * C + c];
    dx[i] = s;
}

/* y (N, OH, OW, C) = x (N, H, W, C) placed at (PT, PL), zeros elsewhere. */
__kernel void zeropad_fwd(__global float *y, __global const float *x, int N, int H, int W,
                          int C, int OH, int OW, int PT, int PL)
{
    const int i = get_global_id(0);
    if (i >= N * OH * OW * C) return;
    const int c = i % C, t = i / C, ox = t % OW, t2 = t / OW, oy = t2 % OH, n = t2 / OH;
    const int iy = oy - PT, ix = ox - PL;
    y[i] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((n * H + iy) * W + ix) * C + c] : 0.0f;
}

/* dx (N, H, W, C) = the (PT, PL) crop of dy (N, OH, OW, C). */
__kernel void zeropad_bwd(__global float *dx, __global const float *dy, int N, int H, int W,
                          int C, int OH, int OW, int PT, int PL)
{
    const int i = get_global_id(0);
    if (i >= N * H * W * C) return;
    const int c = i % C, t = i / C, ix = t % W, t2 = t / W, iy = t2 % H, n = t2 / H;
    dx[i] = dy[((n * OH + iy + PT) * OW + ix + PL) * C + c];
}
