/* classify.cl - the evaluation classifier's kernels: a batch gather with on-the-fly
 * affine augmentation, the softmax cross-entropy loss (with accuracy), row-wise softmax,
 * and the pairwise-distance row sums behind the evaluator's diversity score.
 *
 * Layouts (row-major): images (count, h*w) uint8; batches and logits (rows, dim) and
 * (rows, C) float; labels int (rows); gram (n, n) float = X X^T.
 */

/* out(batch, h*w)[r, p] for r < rows = image index[first + r], augmented, scaled to [-1, 1];
 * labels_out[r] its label. Rows r in [rows, batch) are padding: -1 pixels, label 0.
 * 2-D: dimension 0 over rows, dimension 1 over pixels p = y*w + x.
 * Augmentation (off when shift = rot = scale = 0: an exact copy): one draw per row from
 * Philox (counter (r, step_lo, step_hi, 0xC1A5), key seed) gives u0..u3 in (0, 1):
 *   angle a = rot (2u0 - 1) radians, zoom s = 1 + scale (2u1 - 1),
 *   translation (tx, ty) = shift (2u2 - 1, 2u3 - 1) pixels.
 * Output pixel (x, y) samples the source at c + R(-a) ((x, y) - c - (tx, ty)) / s with
 * c = ((w-1)/2, (h-1)/2), bilinearly; pixels outside the image read as 0 (background). */
__kernel void gather_augment_u8(__global float *out, __global int *labels_out,
                                __global const uchar *data, __global const uchar *labels,
                                __global const int *index, int first, int rows, int batch,
                                int h, int w, float shift, float rot, float scale, uint seed_lo,
                                uint seed_hi, uint step_lo, uint step_hi)
{
    int r = get_global_id(0), p = get_global_id(1), dim = h * w;
    if (r >= batch || p >= dim) return;
    if (r >= rows) {
        out[r * dim + p] = -1.0f;
        if (p == 0) labels_out[r] = 0;
        return;
    }
    int img = index[first + r];
    __global const uchar *src = data + (size_t)img * dim;
    if (p == 0) labels_out[r] = labels[img];
    if (shift == 0.0f && rot == 0.0f && scale == 0.0f) {
        out[r * dim + p] = (float)src[p] * (1.0f / 127.5f) - 1.0f;
        return;
    }
    uint4 u = philox4x32((uint4)((uint)r, step_lo, step_hi, 0xC1A5u), (uint2)(seed_lo, seed_hi));
    float a = rot * (2.0f * u01(u.x) - 1.0f), s = 1.0f + scale * (2.0f * u01(u.y) - 1.0f);
    float tx = shift * (2.0f * u01(u.z) - 1.0f), ty = shift * (2.0f * u01(u.w) - 1.0f);
    float cx = 0.5f * (float)(w - 1), cy = 0.5f * (float)(h - 1);
    float dx = (float)(p % w) - cx - tx, dy = (float)(p / w) - cy - ty;
    float ca = cos(a), sa = sin(a);
    float sx = (ca * dx + sa * dy) / s + cx, sy = (-sa * dx + ca * dy) / s + cy;
    float fx = floor(sx), fy = floor(sy);
    int x0 = (int)fx, y0 = (int)fy;
    float wx = sx - fx, wy = sy - fy, v = 0.0f;
    for (int k = 0; k < 4; k++) {
        int xx = x0 + (k & 1), yy = y0 + (k >> 1);
        float wk = ((k & 1) ? wx : 1.0f - wx) * ((k >> 1) ? wy : 1.0f - wy);
        if (xx >= 0 && xx < w && yy >= 0 && yy < h)
            v += wk * (float)src[yy * w + xx];
    }
    out[r * dim + p] = v * (1.0f / 127.5f) - 1.0f;
}

/* Softmax cross-entropy over logits z (n, C) against integer labels y (n), in one
 * work-group of XENT_WG work-items (fixed reduction order: deterministic):
 *   L = (1/n) sum_i [lse(z_i) - z_i,y_i],  lse(z) = m + log sum_c exp(z_c - m), m = max z
 *   dL/dz_i,c = (softmax(z_i)_c - [c == y_i]) / n      written into dout (n, C)
 * accuracy = share of rows whose first arg-max is y_i. metrics[slot] and [slot + 1] get
 * weight * (L, accuracy), added to what they hold when accumulate (epoch averages). */
__kernel __attribute__((reqd_work_group_size(XENT_WG, 1, 1)))
void softmax_xent(__global float *dout, __global float *metrics, __global const float *z,
                  __global const int *y, int n, int C, int slot, int accumulate, float weight)
{
    __local float s_loss[XENT_WG], s_acc[XENT_WG];
    int lid = get_local_id(0);
    float loss = 0.0f, acc = 0.0f, inv_n = 1.0f / (float)n;
    for (int i = lid; i < n; i += XENT_WG) {
        __global const float *zi = z + (size_t)i * C;
        int label = y[i], arg = 0;
        float m = zi[0], sum = 0.0f;
        for (int c = 1; c < C; c++)
            if (zi[c] > m) { m = zi[c]; arg = c; }
        for (int c = 0; c < C; c++)
            sum += exp(zi[c] - m);
        float lse = m + log(sum);
        for (int c = 0; c < C; c++)
            dout[(size_t)i * C + c] = (exp(zi[c] - lse) - (c == label ? 1.0f : 0.0f)) * inv_n;
        loss += lse - zi[label];
        acc += arg == label ? 1.0f : 0.0f;
    }
    s_loss[lid] = loss;
    s_acc[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = XENT_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            s_loss[lid] += s_loss[lid + s];
            s_acc[lid] += s_acc[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        metrics[slot] = (accumulate ? metrics[slot] : 0.0f) + weight * s_loss[0] * inv_n;
        metrics[slot + 1] = (accumulate ? metrics[slot + 1] : 0.0f) + weight * s_acc[0] * inv_n;
    }
}

/* probs(n, C) = softmax of each row of z(n, C), stable (max subtracted). 1-D over rows. */
__kernel void softmax_rows(__global float *probs, __global const float *z, int n, int C)
{
    int i = get_global_id(0);
    if (i >= n) return;
    __global const float *zi = z + (size_t)i * C;
    float m = zi[0], sum = 0.0f;
    for (int c = 1; c < C; c++) m = fmax(m, zi[c]);
    for (int c = 0; c < C; c++) sum += exp(zi[c] - m);
    for (int c = 0; c < C; c++) probs[(size_t)i * C + c] = exp(zi[c] - m) / sum;
}

/* out[i] = sum_{j != i} ||x_i - x_j||_2 for i < n, from the Gram matrix gram (n, n) of
 * the rows: ||x_i - x_j||^2 = g_ii + g_jj - 2 g_ij, clamped at 0 (float rounding).
 * 1-D over rows, j summed in order (deterministic). */
__kernel void pairwise_dist_rowsum(__global float *out, __global const float *gram, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gii = gram[(size_t)i * n + i], s = 0.0f;
    for (int j = 0; j < n; j++)
        if (j != i)
            s += sqrt(fmax(gii + gram[(size_t)j * n + j] - 2.0f * gram[(size_t)i * n + j], 0.0f));
    out[i] = s;
}
