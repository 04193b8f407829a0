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
                             uint seed_hi, uint step_lo, uint step_hi, uint stream)
{
    int gid = get_global_id(0);
    if (gid >= rows * dim) return;
    int r = gid / dim;
    uint4 h = philox4x32((uint4)((uint)r, step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi));
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
