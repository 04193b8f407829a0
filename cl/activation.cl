/* activation.cl - elementwise activations fused with the dense layer's bias, and their
 * backward fused with the bias gradient. Matrices are row-major (rows = batch,
 * cols = features); element (i, j) is at i*cols + j. */

/* y(rows, cols) = act(y + b[j]) in place; b may be NULL (has_b = 0). 1-D over rows*cols. */
__kernel void bias_act_fwd(__global float *y, __global const float *b, int rows, int cols,
                           int has_b, int act, float slope)
{
    int gid = get_global_id(0);
    if (gid >= rows * cols) return;
    float v = y[gid];
    if (has_b) v += b[gid % cols];
    y[gid] = act_apply(v, act, slope);
}

/* Out-of-place activation: y = act(x). 1-D over n. */
__kernel void act_fwd(__global float *y, __global const float *x, int n, int act, float slope)
{
    int gid = get_global_id(0);
    if (gid >= n) return;
    y[gid] = act_apply(x[gid], act, slope);
}

/* dz = dy * act'(y) (dz may alias dy), and, when has_db, db[j] += sum_i dz[i, j].
 * One work-item per column j, looping over the rows (fixed order: deterministic). */
__kernel void act_bwd_bias(__global float *dz, __global float *db, __global const float *dy,
                           __global const float *y, int rows, int cols, int has_db, int act,
                           float slope)
{
    int j = get_global_id(0);
    if (j >= cols) return;
    float s = 0.0f;
    for (int i = 0; i < rows; i++) {
        int k = i * cols + j;
        float g = dy[k] * act_grad_from_output(y[k], act, slope);
        dz[k] = g;
        s += g;
    }
    if (has_db) db[j] += s;
}

/* y = a + b. 1-D over n; y may alias a or b. */
__kernel void add_fwd(__global float *y, __global const float *a, __global const float *b, int n)
{
    int gid = get_global_id(0);
    if (gid >= n) return;
    y[gid] = a[gid] + b[gid];
}

/* Inverted dropout. TRAIN: mask[i] = (u >= rate) / (1 - rate), u from Philox with the
 * layer's (seed, call counter, stream); y = x * mask. The backward pass is dx = dy * mask
 * (dropout_bwd). 1-D over n. */
__kernel void dropout_fwd(__global float *y, __global float *mask, __global const float *x, int n,
                          float rate, uint seed_lo, uint seed_hi, uint call, uint stream)
{
    int gid = get_global_id(0);
    if (gid >= n) return;
    uint4 r = philox4x32((uint4)((uint)gid, call, stream, 0x0D50u), (uint2)(seed_lo, seed_hi));
    float m = u01(r.x) >= rate ? 1.0f / (1.0f - rate) : 0.0f;
    mask[gid] = m;
    y[gid] = x[gid] * m;
}

__kernel void dropout_bwd(__global float *dx, __global const float *dy, __global const float *mask,
                          int n)
{
    int gid = get_global_id(0);
    if (gid >= n) return;
    dx[gid] = dy[gid] * mask[gid];
}
