/* norm.cl - BatchNorm over the batch dimension of (rows = N, cols = C) row-major data.
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
