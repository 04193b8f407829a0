/* batchnorm.c - BatchNorm per channel: over the batch for feature vectors (BatchNorm1d)
 * and over the batch and every pixel for images (BatchNorm2d; NHWC makes that the
 * column statistics of an (N*H*W, C) matrix, the same kernels). Training mode uses batch
 * statistics and updates the running ones; eval mode uses the running ones. Keeps
 * (2, C) of mean and 1/std from the last training forward for backward. Conventions:
 * see cl/norm.cl. */
#include <stdlib.h>

#include "layer.h"

typedef struct {
    int c, hw;                         /* channels; pixels per sample (1 for vectors) */
    float eps, momentum, var_corr;
    cl_mem gamma, beta, dgamma, dbeta; /* (C) views into params / grads */
    cl_mem run_mean, run_var;          /* (C) views into state */
    cl_mem cache;                      /* (2, C) mean, 1/sqrt(var+eps); owned */
} bn_layer;

static int bn_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    size_t c = (size_t)((const bn_layer *)l->priv)->c;
    t[0] = (clgan_tensor_info){.name = "gamma", .ndim = 1, .shape = {c}, .trained = 1};
    t[1] = (clgan_tensor_info){.name = "beta", .ndim = 1, .shape = {c}, .trained = 1};
    t[2] = (clgan_tensor_info){.name = "moving_mean", .ndim = 1, .shape = {c}, .trained = 0};
    t[3] = (clgan_tensor_info){.name = "moving_variance", .ndim = 1, .shape = {c}, .trained = 0};
    return 4;
}

static clgan_status bn_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    bn_layer *b = l->priv;
    (void)batch;
    b->gamma = v[0];
    b->beta = v[1];
    b->run_mean = v[2];
    b->run_var = v[3];
    b->dgamma = g[0];
    b->dbeta = g[1];
    return clgan_buf_alloc(ctx, &b->cache, 2 * sizeof(float) * b->c, "batchnorm cache");
}

static void bn_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    (void)rng;
    for (int j = 0; j < ((bn_layer *)l->priv)->c; j++) {
        host[0][j] = 1.0f;
        host[1][j] = 0.0f;
        host[2][j] = 0.0f;
        host[3][j] = 1.0f;
    }
}

static clgan_status bn_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                               clgan_mode mode)
{
    bn_layer *b = l->priv;
    int c = b->c;
    int v8 = clgan_use_vec8(ctx, c); /* the float8 kernels (cl/norm.cl) */
    batch *= b->hw; /* rows of the (N*H*W, C) matrix */
    if (mode == CLGAN_MODE_EVAL) {
        size_t g[2] = {(size_t)c, (size_t)batch};
        return clgan_launch(ctx, CLGAN_K_batchnorm_fwd_eval, 2, g, NULL,
                            CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(b->run_mean),
                                       CLGAN_ARG_MEM(b->run_var), CLGAN_ARG_MEM(x),
                                       CLGAN_ARG_MEM(b->gamma), CLGAN_ARG_MEM(b->beta),
                                       CLGAN_ARG_INT(batch), CLGAN_ARG_INT(c),
                                       CLGAN_ARG_F32(b->eps)));
    }
    clgan_kernel_id k = v8 ? CLGAN_K_batchnorm_fwd_train8 : CLGAN_K_batchnorm_fwd_train;
    size_t g = v8 ? (size_t)c / 8 : (size_t)c, lo = clgan_local_size(ctx, k, v8 ? 4 : 16);
    return clgan_launch(ctx, k, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(b->cache),
                                   CLGAN_ARG_MEM(b->run_mean), CLGAN_ARG_MEM(b->run_var),
                                   CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(b->gamma),
                                   CLGAN_ARG_MEM(b->beta), CLGAN_ARG_INT(batch),
                                   CLGAN_ARG_INT(c), CLGAN_ARG_F32(b->eps),
                                   CLGAN_ARG_F32(b->momentum), CLGAN_ARG_F32(b->var_corr),
                                   CLGAN_ARG_INT(1)));
}

static clgan_status bn_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                cl_mem y, int batch, int param_grads)
{
    bn_layer *b = l->priv;
    int v8 = clgan_use_vec8(ctx, b->c); /* the float8 kernel (cl/norm.cl) */
    batch *= b->hw; /* rows of the (N*H*W, C) matrix */
    clgan_kernel_id k = v8 ? CLGAN_K_batchnorm_bwd8 : CLGAN_K_batchnorm_bwd;
    size_t g = v8 ? (size_t)b->c / 8 : (size_t)b->c, lo = clgan_local_size(ctx, k, v8 ? 4 : 16);
    (void)y;
    if (!dx && !param_grads)
        return CLGAN_OK;
    return clgan_launch(ctx, k, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(b->dgamma),
                                   CLGAN_ARG_MEM(b->dbeta), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_MEM(b->cache), CLGAN_ARG_MEM(b->gamma),
                                   CLGAN_ARG_INT(batch), CLGAN_ARG_INT(b->c),
                                   CLGAN_ARG_INT(dx != NULL), CLGAN_ARG_INT(param_grads)));
}

static void bn_free(clgan_layer *l)
{
    bn_layer *b = l->priv;
    if (b)
        clgan_buf_release(&b->cache);
    free(b);
}

static const clgan_layer_ops bn_ops = {"batchnorm", bn_describe, bn_bind, bn_init,
                                       bn_forward, bn_backward, bn_free};

clgan_status clgan_batchnorm_make(clgan_layer *l, int c, float eps, float momentum,
                                  float var_corr)
{
    bn_layer *b = calloc(1, sizeof *b);
    if (!b)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    /* In a network the channels are the input shape's; a residual block's child is a
     * feature vector of c values. */
    b->c = l->in_shape.c > 0 ? l->in_shape.c : c;
    b->hw = l->in_shape.c > 0 ? l->in_shape.h * l->in_shape.w : 1;
    b->eps = eps;
    b->momentum = momentum;
    b->var_corr = var_corr;
    l->ops = &bn_ops;
    l->gp_refusal = "its batch statistics couple the samples, so the per-sample gradient norm "
                    "WGAN-GP penalizes is not defined. Build the critic without BatchNorm "
                    "(Gulrajani et al. use none, or layer norm)";
    l->in = l->out = c;
    l->flops = 0.0;
    l->priv = b;
    return CLGAN_OK;
}
