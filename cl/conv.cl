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
 * Every kernel here is 2-D: dimension 0 over the channel c, dimension 1 over a pixel or
 * an image row, each work-item looping over the rest. Neighbouring work-items touch
 * neighbouring channels (coalesced on GPUs; on CPU devices PoCL runs a work-group's
 * channels as vector lanes), and the pixel indices are decoded once per work-item,
 * not per element (an integer division per element cost more than the copy on PoCL).
 *
 * im2col_nhwc  col = the column matrix of images [0, nimg) of x (x starts at x_off):
 *              work-item (c, r) writes column entries (ky, kx, c) of row r.
 * col2im_nhwc  the adjoint: x[n, y, x, c] = sum of the col entries that read it (a
 *              gather, in a fixed (ky, kx) order: deterministic, no atomics); `acc`
 *              adds to x instead. Work-item (c, input pixel).
 * upsample_fwd / upsample_bwd  nearest-neighbour by (FH, FW) and its adjoint (the sum
 *              over each FH x FW block). Work-item (c, output row) / (c, input row).
 * zeropad_fwd / zeropad_bwd    y = x with PT/PL zeros before (and the rest after, implied
 *              by the output size) and its adjoint (the crop). Work-item (c, row of y) /
 *              (c, row of x).
 */

__kernel void im2col_nhwc(__global float *col, __global const float *x, int H, int W, int C,
                          int OH, int OW, int KH, int KW, int SH, int SW, int PT, int PL,
                          int rows, int x_off)
{
    const int c = get_global_id(0), r = get_global_id(1), K = KH * KW * C;
    if (c >= C || r >= rows) return;
    const int ox = r % OW, t = r / OW, oy = t % OH, n = t / OH;
    const int y0 = oy * SH - PT, x0 = ox * SW - PL;
    __global const float *img = x + x_off + n * H * W * C + c;
    __global float *dst = col + r * K + c;
    for (int ky = 0; ky < KH; ky++) {
        const int iy = y0 + ky, rowok = iy >= 0 && iy < H;
        for (int kx = 0; kx < KW; kx++) {
            const int ix = x0 + kx;
            dst[(ky * KW + kx) * C] = rowok && ix >= 0 && ix < W ? img[(iy * W + ix) * C] : 0.0f;
        }
    }
}

__kernel void col2im_nhwc(__global float *x, __global const float *col, int H, int W, int C,
                          int OH, int OW, int KH, int KW, int SH, int SW, int PT, int PL,
                          int nimg, int x_off, int acc)
{
    const int c = get_global_id(0), p = get_global_id(1);
    if (c >= C || p >= nimg * H * W) return;
    const int ix = p % W, t = p / W, iy = t % H, n = t / H;
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
    const int i = x_off + p * C + c;
    x[i] = acc ? x[i] + s : s;
}

/* y (N, H*FH, W*FW, C) from x (N, H, W, C): work-item (c, output row n*OH + oy). */
__kernel void upsample_fwd(__global float *y, __global const float *x, int N, int H, int W,
                           int C, int FH, int FW)
{
    const int c = get_global_id(0), r = get_global_id(1), OH = H * FH, OW = W * FW;
    if (c >= C || r >= N * OH) return;
    const int oy = r % OH, n = r / OH;
    __global const float *src = x + ((n * H + oy / FH) * W) * C + c;
    __global float *dst = y + r * OW * C + c;
    for (int ix = 0; ix < W; ix++) {
        const float v = src[ix * C];
        for (int b = 0; b < FW; b++)
            dst[(ix * FW + b) * C] = v;
    }
}

/* dx (N, H, W, C) = sums of dy (N, H*FH, W*FW, C) over each block: work-item (c, input
 * row n*H + iy). */
__kernel void upsample_bwd(__global float *dx, __global const float *dy, int N, int H, int W,
                           int C, int FH, int FW)
{
    const int c = get_global_id(0), r = get_global_id(1), OW = W * FW;
    if (c >= C || r >= N * H) return;
    const int iy = r % H, n = r / H;
    __global const float *src = dy + ((n * H + iy) * FH) * OW * C + c;
    __global float *dst = dx + r * W * C + c;
    for (int ix = 0; ix < W; ix++) {
        float s = 0.0f;
        for (int a = 0; a < FH; a++)
            for (int b = 0; b < FW; b++)
                s += src[(a * OW + ix * FW + b) * C];
        dst[ix * C] = s;
    }
}

/* y (N, OH, OW, C) = x (N, H, W, C) placed at (PT, PL), zeros elsewhere: work-item
 * (c, row n*OH + oy of y). */
__kernel void zeropad_fwd(__global float *y, __global const float *x, int N, int H, int W,
                          int C, int OH, int OW, int PT, int PL)
{
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= C || r >= N * OH) return;
    const int oy = r % OH, n = r / OH, iy = oy - PT;
    __global float *dst = y + r * OW * C + c;
    __global const float *src = x + ((n * H + iy) * W) * C + c;
    const int rowok = iy >= 0 && iy < H;
    for (int ox = 0; ox < OW; ox++) {
        const int ix = ox - PL;
        dst[ox * C] = rowok && ix >= 0 && ix < W ? src[ix * C] : 0.0f;
    }
}

/* dx (N, H, W, C) = the (PT, PL) crop of dy (N, OH, OW, C): work-item (c, row n*H + iy
 * of dx). */
__kernel void zeropad_bwd(__global float *dx, __global const float *dy, int N, int H, int W,
                          int C, int OH, int OW, int PT, int PL)
{
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= C || r >= N * H) return;
    const int iy = r % H, n = r / H;
    __global const float *src = dy + ((n * OH + iy + PT) * OW + PL) * C + c;
    __global float *dst = dx + r * W * C + c;
    for (int ix = 0; ix < W; ix++)
        dst[ix * C] = src[ix * C];
}
