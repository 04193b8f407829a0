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

/* Inference mode: normalizes with the running statistics. 1-D over rows*cols. */
__kernel void batchnorm_fwd_eval(__global float *y, __global const float *run_mean,
                                 __global const float *run_var, __global const float *x,
                                 __global const float *gamma, __global const float *beta,
                                 int rows, int cols, float eps)
{
    int gid = get_global_id(0);
    if (gid >= rows * cols) return;
    int j = gid % cols;
    y[gid] = gamma[j] * (x[gid] - run_mean[j]) / sqrt(run_var[j] + eps) + beta[j];
}

/* Backward of training mode. With xhat = (x - mean) * inv:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * inv / N * (N * dy - dbeta - xhat * dgamma).
 * dgamma/dbeta are accumulated (+=) when has_dparam; dx written when has_dx. */
__kernel void batchnorm_bwd(__global float *dx, __global float *dgamma, __global float *dbeta,
                            __global const float *dy, __global const float *x,
                            __global const float *cache, __global const float *gamma,
                            int rows, int cols, int has_dx, int has_dparam)
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
    if (has_dparam) {
        dgamma[j] += sdyx;
        dbeta[j] += sdy;
    }
    if (has_dx) {
        float k = gamma[j] * inv / (float)rows;
        for (int i = 0; i < rows; i++) {
            float xh = (x[i * cols + j] - mean) * inv;
            dx[i * cols + j] = k * ((float)rows * dy[i * cols + j] - sdy - xh * sdyx);
        }
    }
}
