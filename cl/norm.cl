/* norm.cl - BatchNorm over the batch dimension of (rows = N, cols = C) row-major data,
 * and LayerNorm over each sample (at the end of the file).
 * One work-item per feature j looping over the batch; fixed order, deterministic.
 * Convention (Keras): momentum = the share of the OLD running value kept:
 *   running = momentum * running + (1 - momentum) * batch_value,
 * and the variance fed to the running average is the biased batch variance times
 * n / (n - var_corr), var_corr = 1 for PyTorch, 1 + eps for Keras 2. */

/* Training mode: normalizes with batch statistics, saves mean and 1/sqrt(var+eps) in
 * cache (2, C) for backward, updates the running statistics when update_running. */
__kernel void batchnorm_fwd_train(__global float *y, __global float *cache,
                                  __global float *run_mean, __global float *run_var,
                                  __global const float *x, __global const float *gamma,
                                  __global const float *beta, int rows, int cols, float eps,
                                  float momentum, float var_corr, int update_running)
{
    int j = get_global_id(0);
    if (j >= cols) return;
    float mean = 0.0f, var = 0.0f;
    for (int i = 0; i < rows; i++) mean += x[i * cols + j];
    mean /= (float)rows;
    for (int i = 0; i < rows; i++) {
        float d = x[i * cols + j] - mean;
        var += d * d;
    }
    var /= (float)rows;
    float inv = 1.0f / sqrt(var + eps);
    float g = gamma[j], b = beta[j];
    for (int i = 0; i < rows; i++) y[i * cols + j] = g * (x[i * cols + j] - mean) * inv + b;
    cache[j] = mean;
    cache[cols + j] = inv;
    if (update_running) {
        float unbiased = rows > 1 ? var * (float)rows / ((float)rows - var_corr) : var;
        run_mean[j] = momentum * run_mean[j] + (1.0f - momentum) * mean;
        run_var[j] = momentum * run_var[j] + (1.0f - momentum) * unbiased;
    }
}

/* The same for 8 adjacent features per work-item with float8 loads (cols % 8 == 0):
 * the CPU device does not vectorize a work-item's loop over the batch by itself. The
 * arithmetic per feature is the same as batchnorm_fwd_train's. */
__kernel void batchnorm_fwd_train8(__global float *y, __global float *cache,
                                   __global float *run_mean, __global float *run_var,
                                   __global const float *x, __global const float *gamma,
                                   __global const float *beta, int rows, int cols, float eps,
                                   float momentum, float var_corr, int update_running)
{
    int j = get_global_id(0) * 8;
    if (j >= cols) return;
    float8 mean = 0.0f, var = 0.0f;
    for (int i = 0; i < rows; i++) mean += vload8(0, x + i * cols + j);
    mean /= (float)rows;
    for (int i = 0; i < rows; i++) {
        float8 d = vload8(0, x + i * cols + j) - mean;
        var += d * d;
    }
    var /= (float)rows;
    float8 inv = 1.0f / sqrt(var + eps);
    float8 g = vload8(0, gamma + j), b = vload8(0, beta + j);
    for (int i = 0; i < rows; i++)
        vstore8(g * (vload8(0, x + i * cols + j) - mean) * inv + b, 0, y + i * cols + j);
    vstore8(mean, 0, cache + j);
    vstore8(inv, 0, cache + cols + j);
    if (update_running) {
        float8 unbiased = rows > 1 ? var * (float)rows / ((float)rows - var_corr) : var;
        vstore8(momentum * vload8(0, run_mean + j) + (1.0f - momentum) * mean, 0, run_mean + j);
        vstore8(momentum * vload8(0, run_var + j) + (1.0f - momentum) * unbiased, 0, run_var + j);
    }
}

/* Inference mode: normalizes with the running statistics. 2-D: columns, rows. */
__kernel void batchnorm_fwd_eval(__global float *y, __global const float *run_mean,
                                 __global const float *run_var, __global const float *x,
                                 __global const float *gamma, __global const float *beta,
                                 int rows, int cols, float eps)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (j >= cols || i >= rows) return;
    int k = i * cols + j;
    y[k] = gamma[j] * (x[k] - run_mean[j]) / sqrt(run_var[j] + eps) + beta[j];
}

/* Backward of training mode. With xhat = (x - mean) * inv:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * inv / N * (N * dy - dbeta - xhat * dgamma).
 * dgamma/dbeta are accumulated (+=) when dparam_mode is 1, overwritten when 2, left
 * alone when 0; dx written when has_dx. */
__kernel void batchnorm_bwd(__global float *dx, __global float *dgamma, __global float *dbeta,
                            __global const float *dy, __global const float *x,
                            __global const float *cache, __global const float *gamma,
                            int rows, int cols, int has_dx, int dparam_mode)
{
    int j = get_global_id(0);
    if (j >= cols) return;
    float mean = cache[j], inv = cache[cols + j];
    float sdy = 0.0f, sdyx = 0.0f;
    for (int i = 0; i < rows; i++) {
        float g = dy[i * cols + j];
        sdy += g;
        sdyx += g * (x[i * cols + j] - mean) * inv;
    }
    if (dparam_mode) {
        dgamma[j] = (dparam_mode == 1 ? dgamma[j] : 0.0f) + sdyx;
        dbeta[j] = (dparam_mode == 1 ? dbeta[j] : 0.0f) + sdy;
    }
    if (has_dx) {
        float k = gamma[j] * inv / (float)rows;
        for (int i = 0; i < rows; i++) {
            float xh = (x[i * cols + j] - mean) * inv;
            dx[i * cols + j] = k * ((float)rows * dy[i * cols + j] - sdy - xh * sdyx);
        }
    }
}

/* batchnorm_bwd for 8 adjacent features per work-item (cols % 8 == 0). */
__kernel void batchnorm_bwd8(__global float *dx, __global float *dgamma, __global float *dbeta,
                             __global const float *dy, __global const float *x,
                             __global const float *cache, __global const float *gamma,
                             int rows, int cols, int has_dx, int dparam_mode)
{
    int j = get_global_id(0) * 8;
    if (j >= cols) return;
    float8 mean = vload8(0, cache + j), inv = vload8(0, cache + cols + j);
    float8 sdy = 0.0f, sdyx = 0.0f;
    for (int i = 0; i < rows; i++) {
        float8 g = vload8(0, dy + i * cols + j);
        sdy += g;
        sdyx += g * (vload8(0, x + i * cols + j) - mean) * inv;
    }
    if (dparam_mode) {
        vstore8((dparam_mode == 1 ? vload8(0, dgamma + j) : 0.0f) + sdyx, 0, dgamma + j);
        vstore8((dparam_mode == 1 ? vload8(0, dbeta + j) : 0.0f) + sdy, 0, dbeta + j);
    }
    if (has_dx) {
        float8 k = vload8(0, gamma + j) * inv / (float)rows;
        for (int i = 0; i < rows; i++) {
            float8 xh = (vload8(0, x + i * cols + j) - mean) * inv;
            vstore8(k * ((float)rows * vload8(0, dy + i * cols + j) - sdy - xh * sdyx), 0,
                    dx + i * cols + j);
        }
    }
}

/* ---- LayerNorm: per sample over all its D = H*W*C values (src/nn/layernorm.c) ------
 * x, y (N, D) row-major; gamma, beta (D) per element (NHWC order, so PyTorch's
 * nn.LayerNorm([C, H, W]) weight (C, H, W) is ours permuted); biased variance, eps
 * inside the square root (PyTorch and Keras). cache (N, 2): mean, 1/sqrt(var + eps).
 * The per-sample kernels run one work-group of LN_WG work-items per sample: work-item
 * lid takes elements lid, lid + LN_WG, ... and the partial sums meet in a tree in local
 * memory, a fixed order (deterministic on a device). */

/* The sum over the work-group of each work-item's a and b (in place in a, b; every
 * work-item gets the totals). red holds 2 * LN_WG floats. */
static inline float2 ln_group_sum2(__local float *red, float a, float b)
{
    const int lid = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE); /* an earlier call's totals have been read */
    red[lid] = a;
    red[LN_WG + lid] = b;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LN_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            red[lid] += red[lid + s];
            red[LN_WG + lid] += red[LN_WG + lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return (float2)(red[0], red[LN_WG]);
}

/* y = gamma * (x - mean) * inv + beta per sample; two passes (mean, then the squared
 * deviations: no cancellation). Global N * LN_WG. */
__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1)))
void layernorm_fwd(__global float *y, __global float *cache, __global const float *x,
                   __global const float *gamma, __global const float *beta, int D, float eps)
{
    __local float red[2 * LN_WG];
    const int lid = get_local_id(0), n = get_group_id(0);
    __global const float *xs = x + (size_t)n * D;
    __global float *ys = y + (size_t)n * D;
    float s = 0.0f;
    for (int i = lid; i < D; i += LN_WG) s += xs[i];
    const float mean = ln_group_sum2(red, s, 0.0f).x / (float)D;
    s = 0.0f;
    for (int i = lid; i < D; i += LN_WG) {
        float d = xs[i] - mean;
        s += d * d;
    }
    const float inv = 1.0f / sqrt(ln_group_sum2(red, s, 0.0f).x / (float)D + eps);
    for (int i = lid; i < D; i += LN_WG) ys[i] = gamma[i] * ((xs[i] - mean) * inv) + beta[i];
    if (lid == 0) {
        cache[2 * n] = mean;
        cache[2 * n + 1] = inv;
    }
}

/* dx = inv * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma, xhat = (x - mean) *
 * inv. dx may alias dy (each element is read before the work-item writes it, and only
 * by that work-item). Global N * LN_WG. */
__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1)))
void layernorm_bwd_data(__global float *dx, __global const float *dy, __global const float *x,
                        __global const float *cache, __global const float *gamma, int D)
{
    __local float red[2 * LN_WG];
    const int lid = get_local_id(0), n = get_group_id(0);
    const size_t o = (size_t)n * D;
    const float mean = cache[2 * n], inv = cache[2 * n + 1];
    float a = 0.0f, b = 0.0f;
    for (int i = lid; i < D; i += LN_WG) {
        float g = dy[o + i] * gamma[i];
        a += g;
        b += g * (x[o + i] - mean) * inv;
    }
    const float2 t = ln_group_sum2(red, a, b) / (float)D;
    for (int i = lid; i < D; i += LN_WG) {
        float xh = (x[o + i] - mean) * inv;
        dx[o + i] = inv * (dy[o + i] * gamma[i] - t.x - xh * t.y);
    }
}

/* dgamma[j] (+)= sum_n dy[n, j] xhat[n, j], dbeta[j] (+)= sum_n dy[n, j]: one work-item
 * per element j, samples in order (mode 1 adds, 2 overwrites). 1-D over D. */
__kernel void layernorm_bwd_params(__global float *dgamma, __global float *dbeta,
                                   __global const float *dy, __global const float *x,
                                   __global const float *cache, int N, int D, int mode)
{
    const int j = get_global_id(0);
    if (j >= D) return;
    float sg = 0.0f, sb = 0.0f;
    for (int n = 0; n < N; n++) {
        float g = dy[(size_t)n * D + j];
        sb += g;
        sg += g * (x[(size_t)n * D + j] - cache[2 * n]) * cache[2 * n + 1];
    }
    dgamma[j] = (mode == 1 ? dgamma[j] : 0.0f) + sg;
    dbeta[j] = (mode == 1 ? dbeta[j] : 0.0f) + sb;
}

/* The WGAN-GP double backward through LayerNorm (src/nn/gradpen.c, src/nn/layernorm.c).
 * Per sample, with n = (x - mean) * inv, inv = 1/sigma, the input Jacobian is
 *   J = diag(gamma) Jn,   Jn = inv (I - 1 1^T / D - n n^T / D)   (symmetric),
 * and for Q = <w, J^T u> = <Jn w, a>, a = gamma * u, b = <w, n>, c = <a, n>,
 * K = <w, a> - sum(w) sum(a) / D - b c / D:
 *   dQ/du = gamma * Jn w,   dQ/dgamma = u * Jn w,
 *   dQ/dx = -n K inv^2 / D - inv (c Jn w + b Jn a) / D.
 * layernorm_gp_rev writes jw = Jn w and sx = dQ/dx (one work-group per sample);
 * layernorm_gp_params then adds sum_n u * jw into dgamma and scales jw by gamma in
 * place (jw becomes dQ/du; one work-item per element, samples in order). */
__kernel __attribute__((reqd_work_group_size(LN_WG, 1, 1)))
void layernorm_gp_rev(__global float *jw, __global float *sx, __global const float *w,
                      __global const float *u, __global const float *x,
                      __global const float *cache, __global const float *gamma, int D)
{
    __local float red[2 * LN_WG];
    const int lid = get_local_id(0), s = get_group_id(0);
    const size_t o = (size_t)s * D;
    const float mean = cache[2 * s], inv = cache[2 * s + 1];
    float sw = 0.0f, sa = 0.0f, swa = 0.0f, swn = 0.0f, san = 0.0f;
    for (int i = lid; i < D; i += LN_WG) {
        const float n = (x[o + i] - mean) * inv, a = gamma[i] * u[o + i], wi = w[o + i];
        sw += wi;
        sa += a;
        swa += wi * a;
        swn += wi * n;
        san += a * n;
    }
    const float2 t1 = ln_group_sum2(red, sw, sa), t2 = ln_group_sum2(red, swa, swn);
    const float c = ln_group_sum2(red, san, 0.0f).x, b = t2.y, invD = 1.0f / (float)D;
    const float K = t2.x - t1.x * t1.y * invD - b * c * invD;
    for (int i = lid; i < D; i += LN_WG) {
        const float n = (x[o + i] - mean) * inv, a = gamma[i] * u[o + i];
        const float jwi = inv * (w[o + i] - t1.x * invD - n * b * invD);
        const float jai = inv * (a - t1.y * invD - n * c * invD);
        sx[o + i] = -n * K * inv * inv * invD - inv * (c * jwi + b * jai) * invD;
        jw[o + i] = jwi;
    }
}

__kernel void layernorm_gp_params(__global float *jw, __global float *dgamma,
                                  __global const float *u, __global const float *gamma, int N,
                                  int D)
{
    const int j = get_global_id(0);
    if (j >= D) return;
    float s = 0.0f;
    for (int n = 0; n < N; n++) {
        const size_t k = (size_t)n * D + j;
        s += u[k] * jw[k];
        jw[k] *= gamma[j];
    }
    dgamma[j] += s;
}
