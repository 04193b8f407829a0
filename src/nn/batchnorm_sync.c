/* batchnorm_sync.c - BatchNorm in training mode with the statistics of the global batch
 * of data-parallel ranks (--sync-bn): each rank's per-channel statistics come from the
 * ordinary kernels (cl/norm.cl), are summed over the ranks through the network's
 * clgan_batch_sync (the host; one blocking sum per forward and per backward), and
 * batchnorm_apply / batchnorm_bwd_dx use the global values. Does no MPI itself, and
 * is not the per-rank path (batchnorm.c), which stays free of host syncs.
 *
 * With B rows per rank and R ranks, the rank's sums are over its B rows and the
 * normalizations over R * B, so the result equals one rank's BatchNorm over the R * B
 * rows (to float rounding). Backward: each rank's dy is R times the one-rank dy of its
 * rows (every loss is a mean over the rank's batch); the mean of the ranks' sums of dy
 * and dy * xhat over B rows is then the one-rank sum over R * B rows times R / R, and dx
 * comes out R times the one-rank dx: the gradient allreduce (sum / R) divides it out. */
#include <math.h>

#include "layer.h"

/* The kernels' 1-D launch over channels (batchnorm.c's CPU shape; any device runs it). */
static clgan_status per_channel(clgan_ctx *ctx, clgan_kernel_id k, int cols, int nargs,
                                const clgan_arg *args)
{
    size_t g = (size_t)cols, lo = clgan_local_size(ctx, k, 16);
    return clgan_launch(ctx, k, 1, &g, &lo, nargs, args);
}

clgan_status clgan_batchnorm_sync_fwd(clgan_ctx *ctx, const clgan_batch_sync *s, float *host,
                                      cl_mem dev[2], cl_mem y, cl_mem cache, cl_mem run_mean,
                                      cl_mem run_var, cl_mem x, cl_mem gamma, cl_mem beta,
                                      int rows, int cols, float eps, float momentum,
                                      float var_corr)
{
    clgan_status st;
    (void)dev;
    /* This rank's mean and 1/sqrt(var + eps) into the cache (running statistics left). */
    if ((st = per_channel(ctx, CLGAN_K_batchnorm_fwd_train, cols,
                          CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(cache),
                                     CLGAN_ARG_MEM(run_mean), CLGAN_ARG_MEM(run_var),
                                     CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(gamma), CLGAN_ARG_MEM(beta),
                                     CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols), CLGAN_ARG_F32(eps),
                                     CLGAN_ARG_F32(momentum), CLGAN_ARG_F32(var_corr),
                                     CLGAN_ARG_INT(0)))) != CLGAN_OK ||
        (st = clgan_buf_read(ctx, cache, 0, host, 2 * sizeof(float) * (size_t)cols)) != CLGAN_OK)
        return st;
    /* (mean_r, var_r, mean_r^2) averaged over the ranks (equal rows each): the global
     * mean, and var = mean of var_r + (mean of mean_r^2 - mean^2). */
    float *v = host + 2 * (size_t)cols;
    for (int j = 0; j < cols; j++) {
        float m = host[j], inv = host[cols + j];
        v[j] = m;
        v[cols + j] = 1.0f / (inv * inv) - eps;
        v[2 * cols + j] = m * m;
    }
    if ((st = s->sum(s->user, v, 3 * (size_t)cols, 1.0f / (float)s->ranks,
                     "BatchNorm statistics")) != CLGAN_OK)
        return st;
    /* The cache and the running statistics as batchnorm_fwd_train writes them, for
     * R * B rows. */
    float *rm = host, *rv = host + cols;
    if ((st = clgan_buf_read(ctx, run_mean, 0, rm, sizeof(float) * (size_t)cols)) != CLGAN_OK ||
        (st = clgan_buf_read(ctx, run_var, 0, rv, sizeof(float) * (size_t)cols)) != CLGAN_OK)
        return st;
    const float n = (float)rows * (float)s->ranks;
    for (int j = 0; j < cols; j++) { /* v becomes the cache (mean, inv) in place */
        float mean = v[j], var = v[cols + j] + (v[2 * cols + j] - mean * mean);
        if (var < 0.0f)
            var = 0.0f;
        float unbiased = n > 1.0f ? var * n / (n - var_corr) : var;
        rm[j] = momentum * rm[j] + (1.0f - momentum) * mean;
        rv[j] = momentum * rv[j] + (1.0f - momentum) * unbiased;
        v[cols + j] = 1.0f / sqrtf(var + eps);
    }
    if ((st = clgan_buf_write(ctx, run_mean, 0, rm, sizeof(float) * (size_t)cols)) != CLGAN_OK ||
        (st = clgan_buf_write(ctx, run_var, 0, rv, sizeof(float) * (size_t)cols)) != CLGAN_OK ||
        (st = clgan_buf_write(ctx, cache, 0, v, 2 * sizeof(float) * (size_t)cols)) != CLGAN_OK)
        return st;
    size_t g[2] = {(size_t)cols, (size_t)rows};
    return clgan_launch(ctx, CLGAN_K_batchnorm_apply, 2, g, NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(cache),
                                   CLGAN_ARG_MEM(gamma), CLGAN_ARG_MEM(beta), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(cols)));
}

clgan_status clgan_batchnorm_sync_bwd(clgan_ctx *ctx, const clgan_batch_sync *s, float *host,
                                      cl_mem dev[2], cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                      cl_mem dy, cl_mem x, cl_mem cache, cl_mem gamma, int rows,
                                      int cols, int param_grads)
{
    clgan_status st;
    /* The parameter gradients are this rank's sums (the gradient allreduce adds them). */
    if (param_grads &&
        (st = per_channel(ctx, CLGAN_K_batchnorm_bwd, cols,
                          CLGAN_ARGS(CLGAN_ARG_MEM(NULL), CLGAN_ARG_MEM(dgamma),
                                     CLGAN_ARG_MEM(dbeta), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                     CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(gamma),
                                     CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols), CLGAN_ARG_INT(0),
                                     CLGAN_ARG_INT(param_grads)))) != CLGAN_OK)
        return st;
    if (!dx)
        return CLGAN_OK;
    /* This rank's (sum dy xhat, sum dy) into dev[0][0..C) and dev[1], their mean over
     * the ranks into dev[0] as (2, C), then dx over the global batch's sums. */
    const size_t c4 = sizeof(float) * (size_t)cols;
    if ((st = per_channel(ctx, CLGAN_K_batchnorm_bwd, cols,
                          CLGAN_ARGS(CLGAN_ARG_MEM(NULL), CLGAN_ARG_MEM(dev[0]),
                                     CLGAN_ARG_MEM(dev[1]), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                     CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(gamma),
                                     CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols), CLGAN_ARG_INT(0),
                                     CLGAN_ARG_INT(2)))) != CLGAN_OK ||
        (st = clgan_buf_read(ctx, dev[0], 0, host, c4)) != CLGAN_OK ||
        (st = clgan_buf_read(ctx, dev[1], 0, host + cols, c4)) != CLGAN_OK ||
        (st = s->sum(s->user, host, 2 * (size_t)cols, 1.0f / (float)s->ranks,
                     "BatchNorm gradient sums")) != CLGAN_OK ||
        (st = clgan_buf_write(ctx, dev[0], 0, host, 2 * c4)) != CLGAN_OK)
        return st;
    size_t g[2] = {(size_t)cols, (size_t)rows};
    return clgan_launch(ctx, CLGAN_K_batchnorm_bwd_dx, 2, g, NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(gamma),
                                   CLGAN_ARG_MEM(dev[0]), CLGAN_ARG_INT(0), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(cols)));
}
