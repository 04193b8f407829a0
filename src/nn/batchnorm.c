/* batchnorm.c - BatchNorm per channel: over the batch for feature vectors (BatchNorm1d)
 * and over the batch and every pixel for images (BatchNorm2d; NHWC makes that the
 * column statistics of an (N*H*W, C) matrix, the same kernels). Training mode uses batch
 * statistics and updates the running ones; eval mode uses the running ones. Keeps
 * (2, C) of mean and 1/std from the last training forward for backward. Conventions:
 * see cl/norm.cl. The training-mode launches (clgan_batchnorm_train_fwd / _bwd, layer.h)
 * take any (rows, C) and pick the CPU or the GPU shapes. */
#include <stdlib.h>

#include "layer.h"

typedef struct {
    int c, hw;                         /* channels; pixels per sample (1 for vectors) */
    float eps, momentum, var_corr;
    cl_mem gamma, beta, dgamma, dbeta; /* (C) views into params / grads */
    cl_mem run_mean, run_var;          /* (C) views into state */
    cl_mem cache;                      /* (2, C) mean, 1/sqrt(var+eps); owned */
    float *sync_host;                  /* (5, C) --sync-bn scratch, on first use; owned */
    cl_mem sync_dev[2];                /* (2, C) and (C): the same on the device */
} bn_layer;

/* The --sync-bn scratch, allocated on the first synchronized step and then reused. */
static clgan_status bn_sync_scratch(bn_layer *b, clgan_ctx *ctx)
{
    if (b->sync_host)
        return CLGAN_OK;
    clgan_status st = clgan_buf_alloc(ctx, &b->sync_dev[0], 2 * sizeof(float) * b->c, "sync-bn");
    if (st == CLGAN_OK)
        st = clgan_buf_alloc(ctx, &b->sync_dev[1], sizeof(float) * b->c, "sync-bn");
    if (st == CLGAN_OK && !(b->sync_host = malloc(5 * sizeof(float) * b->c)))
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
    return st;
}

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
    clgan_batchnorm_reserve(ctx, batch * b->hw, b->c);
    return clgan_buf_alloc(ctx, &b->cache, 2 * sizeof(float) * b->c, "batchnorm cache");
}

void clgan_batchnorm_reserve(clgan_ctx *ctx, int rows, int cols)
{
    clgan_col_reserve(ctx, CLGAN_K_batchnorm_fwd_train_cols, rows, cols, 2, 0);
    clgan_col_reserve(ctx, CLGAN_K_batchnorm_bwd_cols, rows, cols, 2, 2 * (size_t)cols);
}

/* GPU shapes (cl/norm.cl, "GPU shapes"): one launch when the rows fit one block of the
 * column tiles; otherwise per-block statistics, a finishing launch, and the apply. */
static clgan_status bn_fwd_cols(clgan_ctx *ctx, cl_mem y, cl_mem cache, cl_mem run_mean,
                                cl_mem run_var, cl_mem x, cl_mem gamma, cl_mem beta, int rows,
                                int cols, float eps, float momentum, float var_corr)
{
    clgan_col_shape s, f;
    cl_mem partial = NULL;
    clgan_status st;
    clgan_col_shape_get(ctx, CLGAN_K_batchnorm_fwd_train_cols, rows, cols, &s);
    if (s.blocks > 1 && (st = clgan_scratch_get(ctx, 2 * (size_t)s.blocks * cols * sizeof(float),
                                                &partial)) != CLGAN_OK)
        return st;
    st = clgan_launch(ctx, CLGAN_K_batchnorm_fwd_train_cols, 2, s.global, s.local,
                      CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(run_mean),
                                 CLGAN_ARG_MEM(run_var), CLGAN_ARG_MEM(partial), CLGAN_ARG_MEM(x),
                                 CLGAN_ARG_MEM(gamma), CLGAN_ARG_MEM(beta), CLGAN_ARG_INT(rows),
                                 CLGAN_ARG_INT(cols), CLGAN_ARG_F32(eps), CLGAN_ARG_F32(momentum),
                                 CLGAN_ARG_F32(var_corr), CLGAN_ARG_INT(1),
                                 CLGAN_ARG_INT(s.block_rows), CLGAN_ARG_INT(s.cw)));
    if (st != CLGAN_OK || s.blocks == 1)
        return st;
    /* One block of tiles whose rows stride over the blocks of partials. */
    clgan_col_shape_get(ctx, CLGAN_K_batchnorm_stats_finish, 1, cols, &f);
    size_t g[2] = {(size_t)cols, (size_t)rows};
    if ((st = clgan_launch(ctx, CLGAN_K_batchnorm_stats_finish, 2, f.global, f.local,
                           CLGAN_ARGS(CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(run_mean),
                                      CLGAN_ARG_MEM(run_var), CLGAN_ARG_MEM(partial),
                                      CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                      CLGAN_ARG_INT(s.blocks), CLGAN_ARG_INT(s.block_rows),
                                      CLGAN_ARG_F32(eps), CLGAN_ARG_F32(momentum),
                                      CLGAN_ARG_F32(var_corr), CLGAN_ARG_INT(1),
                                      CLGAN_ARG_INT(f.cw)))) != CLGAN_OK)
        return st;
    return clgan_launch(ctx, CLGAN_K_batchnorm_apply, 2, g, NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(cache),
                                   CLGAN_ARG_MEM(gamma), CLGAN_ARG_MEM(beta), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(cols)));
}

clgan_status clgan_batchnorm_train_fwd(clgan_ctx *ctx, cl_mem y, cl_mem cache, cl_mem run_mean,
                                       cl_mem run_var, cl_mem x, cl_mem gamma, cl_mem beta,
                                       int rows, int cols, float eps, float momentum,
                                       float var_corr)
{
    if (!clgan_cpu_shapes(ctx))
        return bn_fwd_cols(ctx, y, cache, run_mean, run_var, x, gamma, beta, rows, cols, eps,
                           momentum, var_corr);
    int v8 = clgan_use_vec8(ctx, cols); /* the float8 kernels (cl/norm.cl) */
    clgan_kernel_id k = v8 ? CLGAN_K_batchnorm_fwd_train8 : CLGAN_K_batchnorm_fwd_train;
    size_t g = v8 ? (size_t)cols / 8 : (size_t)cols, lo = clgan_local_size(ctx, k, v8 ? 4 : 16);
    return clgan_launch(ctx, k, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(cache),
                                   CLGAN_ARG_MEM(run_mean), CLGAN_ARG_MEM(run_var),
                                   CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(gamma), CLGAN_ARG_MEM(beta),
                                   CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols), CLGAN_ARG_F32(eps),
                                   CLGAN_ARG_F32(momentum), CLGAN_ARG_F32(var_corr),
                                   CLGAN_ARG_INT(1)));
}

static clgan_status bn_bwd_cols(clgan_ctx *ctx, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                cl_mem dy, cl_mem x, cl_mem cache, cl_mem gamma, int rows,
                                int cols, int mode)
{
    clgan_col_shape s;
    cl_mem scratch = NULL;
    clgan_status st;
    clgan_col_shape_get(ctx, CLGAN_K_batchnorm_bwd_cols, rows, cols, &s);
    /* Scratch: partial (2, blocks, cols), then the finished sums (2, cols). */
    const int sums_off = 2 * s.blocks * cols;
    if (s.blocks > 1 &&
        (st = clgan_scratch_get(ctx, ((size_t)sums_off + 2 * (size_t)cols) * sizeof(float),
                                &scratch)) != CLGAN_OK)
        return st;
    st = clgan_launch(ctx, CLGAN_K_batchnorm_bwd_cols, 2, s.global, s.local,
                      CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dgamma), CLGAN_ARG_MEM(dbeta),
                                 CLGAN_ARG_MEM(scratch), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                 CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(gamma), CLGAN_ARG_INT(rows),
                                 CLGAN_ARG_INT(cols), CLGAN_ARG_INT(dx != NULL),
                                 CLGAN_ARG_INT(mode), CLGAN_ARG_INT(s.block_rows),
                                 CLGAN_ARG_INT(s.cw)));
    if (st != CLGAN_OK || s.blocks == 1)
        return st;
    if ((st = clgan_col_finish(ctx, dx ? scratch : NULL, sums_off, dgamma, dbeta, scratch,
                               s.blocks, cols, 2, mode)) != CLGAN_OK || !dx)
        return st;
    size_t g[2] = {(size_t)cols, (size_t)rows};
    return clgan_launch(ctx, CLGAN_K_batchnorm_bwd_dx, 2, g, NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(gamma),
                                   CLGAN_ARG_MEM(scratch), CLGAN_ARG_INT(sums_off),
                                   CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols)));
}

clgan_status clgan_batchnorm_train_bwd(clgan_ctx *ctx, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                       cl_mem dy, cl_mem x, cl_mem cache, cl_mem gamma, int rows,
                                       int cols, int param_grads)
{
    if (!dx && !param_grads)
        return CLGAN_OK;
    if (!clgan_cpu_shapes(ctx))
        return bn_bwd_cols(ctx, dx, dgamma, dbeta, dy, x, cache, gamma, rows, cols, param_grads);
    int v8 = clgan_use_vec8(ctx, cols); /* the float8 kernel (cl/norm.cl) */
    clgan_kernel_id k = v8 ? CLGAN_K_batchnorm_bwd8 : CLGAN_K_batchnorm_bwd;
    size_t g = v8 ? (size_t)cols / 8 : (size_t)cols, lo = clgan_local_size(ctx, k, v8 ? 4 : 16);
    return clgan_launch(ctx, k, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dgamma),
                                   CLGAN_ARG_MEM(dbeta), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_MEM(cache), CLGAN_ARG_MEM(gamma),
                                   CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                   CLGAN_ARG_INT(dx != NULL), CLGAN_ARG_INT(param_grads)));
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
    clgan_status st;
    if (l->bsync && l->bsync->ranks > 1)
        return (st = bn_sync_scratch(b, ctx)) != CLGAN_OK ? st
               : clgan_batchnorm_sync_fwd(ctx, l->bsync, b->sync_host, b->sync_dev, y, b->cache,
                                          b->run_mean, b->run_var, x, b->gamma, b->beta, batch,
                                          c, b->eps, b->momentum, b->var_corr);
    return clgan_batchnorm_train_fwd(ctx, y, b->cache, b->run_mean, b->run_var, x, b->gamma,
                                     b->beta, batch, c, b->eps, b->momentum, b->var_corr);
}

static clgan_status bn_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                cl_mem y, int batch, int param_grads)
{
    bn_layer *b = l->priv;
    (void)y;
    clgan_status st;
    if (l->bsync && l->bsync->ranks > 1)
        return (st = bn_sync_scratch(b, ctx)) != CLGAN_OK ? st
               : clgan_batchnorm_sync_bwd(ctx, l->bsync, b->sync_host, b->sync_dev, dx,
                                          b->dgamma, b->dbeta, dy, x, b->cache, b->gamma,
                                          batch * b->hw, b->c, param_grads);
    return clgan_batchnorm_train_bwd(ctx, dx, b->dgamma, b->dbeta, dy, x, b->cache, b->gamma,
                                     batch * b->hw, b->c, param_grads);
}

static void bn_free(clgan_layer *l)
{
    bn_layer *b = l->priv;
    if (b) {
        clgan_buf_release(&b->cache);
        clgan_buf_release(&b->sync_dev[0]);
        clgan_buf_release(&b->sync_dev[1]);
        free(b->sync_host);
    }
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
    l->scratch = 2 * (size_t)c; /* the (2, C) cache, counted per sample: an upper bound */
    l->priv = b;
    return CLGAN_OK;
}
