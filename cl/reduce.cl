/* reduce.cl - the second launch of the multi-work-group reductions (GPU shapes): the
 * first launch leaves one partial sum per work-group in a scratch buffer, these add the
 * partials in a fixed tree order (deterministic) and write the results. Host:
 * src/runtime/reduce.c. Also the buffer zeroing and copying of clgan_buf_zero and
 * clgan_buf_copy. */

/* Column sums over row blocks. partial (nsum, blocks, cols): partial[(s * blocks + b) *
 * cols + j] is block b's sum s of column j. For each column j and s < nsum (1 or 2):
 *   t_s = sum over b of partial[s, b, j]   (work-item row ry takes b = ry, ry + rh, ...,
 *                                            then the col_tree_sum of reduce.h)
 *   sums[sums_off + s * cols + j] = t_s      when has_sums
 *   d_s[j] = (mode == 1 ? d_s[j] : 0) + t_s  when mode (1: add, 2: set; 0: leave)
 * with d_0 = d0, d_1 = d1. Column tiles as in reduce.h, one block (a tile's rows stride
 * over the blocks of partials). */
__kernel void col_sums_finish(__global float *sums, __global float *d0, __global float *d1,
                              __global const float *partial, int blocks, int cols, int nsum,
                              int has_sums, int sums_off, int mode, int cw)
{
    __local float s0[COL_WG], s1[COL_WG];
    const col_tile t = col_tile_get(cw);
    const int cx = t.cx, ry = t.ry, rh = t.rh, j = t.j;
    float a = 0.0f, b = 0.0f;
    if (j < cols)
        for (int blk = ry; blk < blocks; blk += rh) {
            a += partial[(size_t)blk * cols + j];
            if (nsum > 1) b += partial[((size_t)blocks + blk) * cols + j];
        }
    s0[ry * cw + cx] = a;
    s1[ry * cw + cx] = b;
    col_tree_sum2(s0, s1, cx, ry, cw, rh);
    if (ry != 0 || j >= cols) return;
    if (has_sums) {
        sums[sums_off + j] = s0[cx];
        if (nsum > 1) sums[sums_off + cols + j] = s1[cx];
    }
    if (mode) {
        d0[j] = (mode == 1 ? d0[j] : 0.0f) + s0[cx];
        if (nsum > 1) d1[j] = (mode == 1 ? d1[j] : 0.0f) + s1[cx];
    }
}

/* Row-reduction results from per-group partials: partial (groups, nv), nv <= 3. One
 * work-group of LOSS_WG work-items strides over the groups, then a tree sum:
 *   out[slot + k] = (accumulate ? out[slot + k] : 0) + scale_k * sum_g partial[g * nv + k]. */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void rows_finish(__global float *out, __global const float *partial, int groups, int nv,
                 int slot, int accumulate, float scale0, float scale1, float scale2)
{
    __local float s[3 * LOSS_WG];
    const int lid = get_local_id(0);
    for (int k = 0; k < 3; k++) {
        float t = 0.0f;
        if (k < nv)
            for (int g = lid; g < groups; g += LOSS_WG) t += partial[(size_t)g * nv + k];
        s[k * LOSS_WG + lid] = t;
    }
    group_tree_sum(s, nv, lid, LOSS_WG);
    if (lid == 0) {
        const float scale[3] = {scale0, scale1, scale2};
        for (int k = 0; k < nv; k++)
            out[slot + k] = (accumulate ? out[slot + k] : 0.0f) + scale[k] * s[k * LOSS_WG];
    }
}

/* p[offset + i] = 0 for i < n (clgan_buf_zero: a kernel rather than clEnqueueFillBuffer,
 * src/runtime/context.c says why). 1-D over n. */
__kernel void buf_zero(__global float *p, int offset, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    p[offset + i] = 0.0f;
}

/* dst[dst_off + i] = src[src_off + i] for i < n (clgan_buf_copy; the regions must not
 * overlap, as for clEnqueueCopyBuffer). 1-D over n. */
__kernel void buf_copy(__global float *dst, __global const float *src, int dst_off, int src_off,
                       int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    dst[dst_off + i] = src[src_off + i];
}
