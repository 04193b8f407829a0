/* layernorm.c - LayerNorm (Ba et al. 2016; the WGAN-GP paper's critic normalization):
 * each sample is normalized over all its H*W*C values, then scaled and shifted per
 * element. Same in TRAIN and EVAL mode (no running statistics). In a WGAN-GP critic it
 * provides the second-order terms of the penalty's double backward (cl/norm.cl
 * layernorm_gp_*, derived there).
 *
 *   y[n, i] = gamma[i] * (x[n, i] - mean_n) / sqrt(var_n + eps) + beta[i],
 *   mean_n, var_n (biased) over i = 0..D-1, D = H*W*C,
 * gamma, beta (H, W, C) in NHWC order: PyTorch's nn.LayerNorm([C, H, W]) holds them as
 * (C, H, W), i.e. ours[h, w, c] = torch[c, h, w]; a feature vector's are (C), as
 * nn.LayerNorm(C) holds them. Kernels: cl/norm.cl layernorm_*. */
#include <stdio.h>
#include <stdlib.h>

#include "layer.h"

typedef struct {
    float eps;
    cl_mem gamma, beta, dgamma, dbeta; /* (D) views into params / grads */
    cl_mem cache;                      /* (batch, 2): mean, 1/sqrt(var + eps); owned */
} ln_layer;

static int ln_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    const clgan_shape s = l->in_shape;
    clgan_tensor_info ti = {.ndim = 3, .shape = {(size_t)s.h, (size_t)s.w, (size_t)s.c},
                            .trained = 1};
    if (s.h == 1 && s.w == 1)
        ti = (clgan_tensor_info){.ndim = 1, .shape = {(size_t)s.c}, .trained = 1};
    t[0] = t[1] = ti;
    snprintf(t[0].name, sizeof t[0].name, "gamma");
    snprintf(t[1].name, sizeof t[1].name, "beta");
    return 2;
}

static clgan_status ln_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    ln_layer *n = l->priv;
    n->gamma = v[0];
    n->beta = v[1];
    n->dgamma = g[0];
    n->dbeta = g[1];
    return clgan_buf_alloc(ctx, &n->cache, (size_t)batch * 2 * sizeof(float), "layernorm cache");
}

static void ln_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    (void)rng;
    for (int i = 0; i < l->in; i++) {
        host[0][i] = 1.0f;
        host[1][i] = 0.0f;
    }
}

static clgan_status ln_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                               clgan_mode mode)
{
    ln_layer *n = l->priv;
    size_t wg = (size_t)clgan_tunable(ctx, CLGAN_T_LN_WG), gs = (size_t)batch * wg;
    (void)mode;
    return clgan_launch(ctx, CLGAN_K_layernorm_fwd, 1, &gs, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(n->cache), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_MEM(n->gamma), CLGAN_ARG_MEM(n->beta),
                                   CLGAN_ARG_INT(l->in), CLGAN_ARG_F32(n->eps)));
}

/* dx = J^T dy (the input gradient of the forward; dy is not modified). */
static clgan_status ln_vjp(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                           int batch)
{
    ln_layer *n = l->priv;
    size_t wg = (size_t)clgan_tunable(ctx, CLGAN_T_LN_WG), gs = (size_t)batch * wg;
    return clgan_launch(ctx, CLGAN_K_layernorm_bwd_data, 1, &gs, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_MEM(n->cache), CLGAN_ARG_MEM(n->gamma),
                                   CLGAN_ARG_INT(l->in)));
}

static clgan_status ln_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                cl_mem y, int batch, int param_grads)
{
    ln_layer *n = l->priv;
    clgan_status st = CLGAN_OK;
    (void)y;
    if (param_grads) {
        size_t gs = (size_t)l->in, ls = clgan_local_size(ctx, CLGAN_K_layernorm_bwd_params, 64);
        st = clgan_launch(ctx, CLGAN_K_layernorm_bwd_params, 1, &gs, &ls,
                          CLGAN_ARGS(CLGAN_ARG_MEM(n->dgamma), CLGAN_ARG_MEM(n->dbeta),
                                     CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(n->cache),
                                     CLGAN_ARG_INT(batch), CLGAN_ARG_INT(l->in),
                                     CLGAN_ARG_INT(param_grads == CLGAN_GRAD_SET ? 2 : 1)));
    }
    if (st == CLGAN_OK && dx)
        st = ln_vjp(l, ctx, dx, dy, x, batch);
    return st;
}

/* Gradient-penalty view (gradpen.c). */
static clgan_status ln_gp_rev(clgan_layer *l, clgan_ctx *ctx, cl_mem ubar, cl_mem sx, cl_mem w,
                              cl_mem u, cl_mem x, int batch)
{
    ln_layer *n = l->priv;
    size_t wg = (size_t)clgan_tunable(ctx, CLGAN_T_LN_WG), gs = (size_t)batch * wg;
    clgan_status st = clgan_launch(
        ctx, CLGAN_K_layernorm_gp_rev, 1, &gs, &wg,
        CLGAN_ARGS(CLGAN_ARG_MEM(ubar), CLGAN_ARG_MEM(sx), CLGAN_ARG_MEM(w), CLGAN_ARG_MEM(u),
                   CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(n->cache), CLGAN_ARG_MEM(n->gamma),
                   CLGAN_ARG_INT(l->in)));
    if (st != CLGAN_OK)
        return st;
    size_t gc = (size_t)l->in, ls = clgan_local_size(ctx, CLGAN_K_layernorm_gp_params, 64);
    return clgan_launch(ctx, CLGAN_K_layernorm_gp_params, 1, &gc, &ls,
                        CLGAN_ARGS(CLGAN_ARG_MEM(ubar), CLGAN_ARG_MEM(n->dgamma), CLGAN_ARG_MEM(u),
                                   CLGAN_ARG_MEM(n->gamma), CLGAN_ARG_INT(batch),
                                   CLGAN_ARG_INT(l->in)));
}

static const clgan_nonlinear_ops ln_nl = {ln_vjp, ln_gp_rev};

static void ln_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    (void)l;
    *out = (clgan_layer_gp){.nl = &ln_nl};
}

static void ln_free(clgan_layer *l)
{
    ln_layer *n = l->priv;
    if (n)
        clgan_buf_release(&n->cache);
    free(n);
}

static const clgan_layer_ops ln_ops = {"layernorm", ln_describe, ln_bind, ln_init,
                                       ln_forward, ln_backward, ln_free};

clgan_status clgan_layernorm_make(clgan_layer *l, float eps)
{
    if (!(eps > 0.0f && eps < 1.0f))
        return clgan_error(CLGAN_EINVAL, "layer norm epsilon must be in (0, 1) (got %g)", eps);
    ln_layer *n = calloc(1, sizeof *n);
    if (!n)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    n->eps = eps;
    l->ops = &ln_ops;
    l->out = l->in;
    l->out_shape = l->in_shape;
    l->flops = 8.0 * l->in;
    l->gp_view = ln_gp_view;
    l->priv = n;
    return CLGAN_OK;
}
