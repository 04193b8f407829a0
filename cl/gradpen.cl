/* gradpen.cl - the elementwise and reduction steps of the WGAN-GP gradient penalty
 * (src/nn/gradpen.c drives them between GEMMs): interpolates between real and fake rows,
 * per-sample input-gradient norms with the penalty and its gradient, and the two
 * activation steps of the double backward. Matrices are row-major (rows = batch,
 * cols = features); element (i, j) is at i*cols + j. Activation codes as in common.h. */

/* f''(x) written in terms of the output y = f(x), like act_grad_from_output (common.h):
 * tanh -2y(1 - y^2), sigmoid y(1 - y)(1 - 2y), ELU (alpha a) y + a for y <= 0;
 * 0 for the piecewise-linear ones. */
static inline float act_grad2_from_output(float y, int act, float a)
{
    switch (act) {
    case ACT_TANH: return -2.0f * y * (1.0f - y * y);
    case ACT_SIGMOID: return y * (1.0f - y) * (1.0f - 2.0f * y);
    case ACT_ELU: return y > 0.0f ? 0.0f : y + a;
    default: return 0.0f;
    }
}

/* xhat(rows, dim)[r, c] = e_r * real[r, c] + (1 - e_r) * fake[r, c], e_r = u01 of the
 * first Philox word for counter (r, step lo, step hi, stream), key seed: one e per row,
 * in (0, 1] (see u01). 1-D over rows*dim. */
__kernel void gp_interpolate(__global float *xhat, __global const float *real,
                             __global const float *fake, int rows, int dim, uint seed_lo,
                             uint seed_hi, uint step_lo, uint step_hi, uint stream, int row0)
{
    int gid = get_global_id(0);
    if (gid >= rows * dim) return;
    int r = gid / dim;
    uint4 h = philox4x32((uint4)((uint)(r + row0), step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi));
    float e = u01(h.x);
    xhat[gid] = e * real[gid] + (1.0f - e) * fake[gid];
}

/* For the input gradient g(rows, cols): n_i = ||g_i||_2,
 *   gbar_i = (lambda / rows) * 2 (n_i - 1) g_i / n_i   (0 where n_i = 0),
 *   metrics[slot] = lambda * mean_i (n_i - 1)^2, metrics[slot + 1] = mean_i n_i.
 * One work-group of GP_WG work-items; work-item lid takes rows lid, lid + GP_WG, ...
 * and each row is summed in column order (deterministic). gbar may alias g. */
__kernel __attribute__((reqd_work_group_size(GP_WG, 1, 1)))
void gp_penalty(__global float *gbar, __global float *metrics, __global const float *g, int rows,
                int cols, float lambda, int slot)
{
    __local float s_pen[GP_WG], s_norm[GP_WG];
    int lid = get_local_id(0);
    float pen = 0.0f, nsum = 0.0f, inv_n = 1.0f / (float)rows;
    for (int i = lid; i < rows; i += GP_WG) {
        __global const float *gi = g + (size_t)i * cols;
        __global float *bi = gbar + (size_t)i * cols;
        float ss = 0.0f;
        for (int j = 0; j < cols; j++) ss += gi[j] * gi[j];
        float n = sqrt(ss);
        float coef = n > 0.0f ? 2.0f * lambda * inv_n * (n - 1.0f) / n : 0.0f;
        for (int j = 0; j < cols; j++) bi[j] = coef * gi[j];
        pen += (n - 1.0f) * (n - 1.0f);
        nsum += n;
    }
    s_pen[lid] = pen;
    s_norm[lid] = nsum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = GP_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            s_pen[lid] += s_pen[lid + s];
            s_norm[lid] += s_norm[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        metrics[slot] = lambda * s_pen[0] * inv_n;
        metrics[slot + 1] = s_norm[0] * inv_n;
    }
}

/* Reverse of delta = u * f'(z) for one layer, from deltabar, with y = f(z):
 *   ubar = deltabar * f'(y)   (when has_ubar)      s = deltabar * u * f''(y).
 * 1-D over n; ubar and s may alias deltabar (same element read, then written). */
__kernel void gp_act_rev(__global float *ubar, __global float *s, __global const float *deltabar,
                         __global const float *u, __global const float *y, int n, int has_ubar,
                         int act, float slope)
{
    int gid = get_global_id(0);
    if (gid >= n) return;
    float d = deltabar[gid], yv = y[gid];
    float sv = d * u[gid] * act_grad2_from_output(yv, act, slope);
    if (has_ubar) ubar[gid] = d * act_grad_from_output(yv, act, slope);
    s[gid] = sv;
}

/* zbar = s + hbar * f'(y) (hbar term only when has_hbar), zbar may alias s; and, when
 * has_db, db[j] += sum_i zbar[i, j]. One work-item per column, rows in order. */
__kernel void gp_zbar_bias(__global float *zbar, __global float *db, __global const float *s,
                           __global const float *hbar, __global const float *y, int rows,
                           int cols, int has_hbar, int has_db, int act, float slope)
{
    int j = get_global_id(0);
    if (j >= cols) return;
    float sum = 0.0f;
    for (int i = 0; i < rows; i++) {
        int k = i * cols + j;
        float z = s[k];
        if (has_hbar) z += hbar[k] * act_grad_from_output(y[k], act, slope);
        zbar[k] = z;
        sum += z;
    }
    if (has_db) db[j] += sum;
}

/* ---- GPU shapes ---- */

/* gp_penalty with one work-group of GP_WG work-items per row i: the group strides over
 * the row's columns (neighbouring work-items on neighbouring addresses), tree-sums
 * ||g_i||^2, writes gbar_i, and leaves partial[2i] = (n_i - 1)^2, partial[2i + 1] = n_i
 * for rows_finish (reduce.cl), which writes metrics[slot] = lambda mean (n_i - 1)^2 and
 * metrics[slot + 1] = mean n_i. gbar may alias g (each work-item rewrites what it read). */
__kernel __attribute__((reqd_work_group_size(GP_WG, 1, 1)))
void gp_penalty_rows(__global float *gbar, __global float *partial, __global const float *g,
                     int rows, int cols, float lambda)
{
    __local float s[GP_WG];
    const int i = get_group_id(0), lid = get_local_id(0);
    __global const float *gi = g + (size_t)i * cols;
    __global float *bi = gbar + (size_t)i * cols;
    float ss = 0.0f;
    for (int j = lid; j < cols; j += GP_WG) ss += gi[j] * gi[j];
    s[lid] = ss;
    group_tree_sum(s, 1, lid, GP_WG);
    const float n = sqrt(s[0]);
    const float coef = n > 0.0f ? 2.0f * lambda * (1.0f / (float)rows) * (n - 1.0f) / n : 0.0f;
    for (int j = lid; j < cols; j += GP_WG) bi[j] = coef * gi[j];
    if (lid == 0) {
        partial[2 * i] = (n - 1.0f) * (n - 1.0f);
        partial[2 * i + 1] = n;
    }
}

/* gp_zbar_bias in the GPU shape: column tiles over row blocks (reduce.h), as
 * act_bwd_bias_cols (activation.cl): one block adds its sums into db; several leave
 * partial (blocks, cols) for col_sums_finish. */
__kernel void gp_zbar_bias_cols(__global float *zbar, __global float *db,
                                __global float *partial, __global const float *s,
                                __global const float *hbar, __global const float *y, int rows,
                                int cols, int has_hbar, int has_db, int act, float slope,
                                int block_rows, int cw)
{
    __local float sh[COL_WG];
    const col_tile t = col_tile_get(cw);
    const int cx = t.cx, ry = t.ry, rh = t.rh, j = t.j, blk = t.blk;
    const int i1 = min(rows, (blk + 1) * block_rows);
    float sum = 0.0f;
    if (j < cols)
        for (int i = blk * block_rows + ry; i < i1; i += rh) {
            size_t k = (size_t)i * cols + j;
            float z = s[k];
            if (has_hbar) z += hbar[k] * act_grad_from_output(y[k], act, slope);
            zbar[k] = z;
            sum += z;
        }
    sh[ry * cw + cx] = sum; /* no return before the barriers: reduce.h */
    col_tree_sum(sh, cx, ry, cw, rh);
    if (!has_db || ry != 0 || j >= cols) return;
    if (t.blocks == 1)
        db[j] += sh[cx];
    else
        partial[(size_t)blk * cols + j] = sh[cx];
}
