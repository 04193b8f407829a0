/* dense.c - the fully connected layer y = act(x W + b), W (in, out) as Keras stores
 * kernels, with the activation fused into the bias kernel; optionally spectrally
 * normalized (W / sigma(W), specnorm.c). GEMMs go through clgan_gemm. Backward derives
 * act' from the cached output, so it keeps no extra cache. */
#include <math.h>
#include <stdlib.h>

#include "layer.h"

typedef struct {
    clgan_act act;
    float slope;
    cl_mem w, b;   /* (in, out), (out): views into the network's params */
    cl_mem dw, db; /* same shapes, views into grads */
    clgan_sn *sn;  /* spectral norm of W, or NULL */
    cl_mem wf;     /* the kernel the last forward used: w, or sn's W / sigma */
} dense_layer;

static int dense_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    const dense_layer *d = l->priv;
    t[0] = (clgan_tensor_info){.name = "kernel", .ndim = 2, .shape = {l->in, l->out}, .trained = 1};
    t[1] = (clgan_tensor_info){.name = "bias", .ndim = 1, .shape = {l->out}, .trained = 1};
    return d->sn ? 2 + clgan_sn_describe(d->sn, t + 2) : 2;
}

static clgan_status dense_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    dense_layer *d = l->priv;
    (void)batch;
    d->w = d->wf = v[0];
    d->b = v[1];
    d->dw = g[0];
    d->db = g[1];
    return d->sn ? clgan_sn_bind(d->sn, ctx, v[2], v[3]) : CLGAN_OK;
}

/* Glorot-uniform kernel (limit sqrt(6 / (in + out))) unless the network asked for
 * normal(0, std) (clgan_net_set_init), zero bias; then the spectral norm's u and v. */
static void dense_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    const dense_layer *d = l->priv;
    clgan_init_kernel(l, host[0], (size_t)l->in * l->out, l->in, l->out, rng);
    for (int j = 0; j < l->out; j++)
        host[1][j] = 0.0f;
    if (d->sn)
        clgan_sn_init(d->sn, host[2], host[3], rng);
}

static clgan_status dense_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                  clgan_mode mode)
{
    dense_layer *d = l->priv;
    clgan_status st;
    int fused;
    if (d->sn && (st = clgan_sn_forward(d->sn, ctx, d->w, mode, &d->wf)) != CLGAN_OK)
        return st;
    /* y (B, out) = act(x (B, in) . W (in, out) + b), in one pass where the GEMM can */
    st = clgan_gemm_bias_act(ctx, batch, l->out, l->in, x, l->in, d->wf, l->out, y, l->out, d->b,
                             d->act, d->slope, &fused);
    if (st != CLGAN_OK || fused)
        return st;
    return clgan_bias_act_fwd(ctx, y, d->b, batch, l->out, d->act, d->slope);
}

/* dW (+)= x^T dz into the weight-gradient accumulator: dw, or the spectral norm's
 * dL/dW_sn (mode CLGAN_GRAD_SET or _ADD). */
static clgan_status dense_wgrad(clgan_layer *l, clgan_ctx *ctx, cl_mem x, cl_mem dz, int batch,
                                int mode)
{
    dense_layer *d = l->priv;
    /* (in, out) (+)= x^T (in, B) . dz (B, out) */
    return clgan_gemm(ctx, 1, 0, l->in, l->out, batch, 1.0f, x, l->in, dz, l->out,
                      mode == CLGAN_GRAD_SET ? 0.0f : 1.0f, d->sn ? clgan_sn_grad(d->sn) : d->dw,
                      l->out);
}

/* dx (B, in) = dz (B, out) . W^T (out, in), with the kernel of the last forward. */
static clgan_status dense_adjoint(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dz, int batch)
{
    dense_layer *d = l->priv;
    return clgan_gemm(ctx, 0, 1, batch, l->in, l->out, 1.0f, dz, l->out, d->wf, l->out, 0.0f, dx,
                      l->in);
}

/* y (B, out) = x W, no bias or activation. */
static clgan_status dense_apply(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch)
{
    dense_layer *d = l->priv;
    return clgan_gemm(ctx, 0, 0, batch, l->out, l->in, 1.0f, x, l->in, d->wf, l->out, 0.0f, y,
                      l->out);
}

static clgan_status dense_wgrad_done(clgan_layer *l, clgan_ctx *ctx)
{
    dense_layer *d = l->priv;
    return clgan_sn_backward(d->sn, ctx, d->dw, CLGAN_GRAD_ADD);
}

static clgan_status dense_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                   cl_mem y, int batch, int param_grads)
{
    dense_layer *d = l->priv;
    clgan_status st;
    /* dz = dy * act'(y), in place; db += column sums of dz */
    st = clgan_act_bwd_bias(ctx, dy, param_grads ? d->db : NULL, dy, y, batch, l->out, d->act,
                            d->slope, param_grads == CLGAN_GRAD_SET);
    if (st == CLGAN_OK && param_grads) {
        /* with spectral norm: dL/dW_sn first, then through sigma into dw */
        st = dense_wgrad(l, ctx, x, dy, batch, d->sn ? CLGAN_GRAD_SET : param_grads);
        if (st == CLGAN_OK && d->sn)
            st = clgan_sn_backward(d->sn, ctx, d->dw, param_grads);
    }
    if (st == CLGAN_OK && dx)
        st = dense_adjoint(l, ctx, dx, dy, batch);
    return st;
}

static void dense_free(clgan_layer *l)
{
    dense_layer *d = l->priv;
    if (d)
        clgan_sn_free(d->sn);
    free(d);
}

static const clgan_linear_ops dense_lin = {dense_apply, dense_adjoint, dense_wgrad, NULL};
static const clgan_linear_ops dense_lin_sn = {dense_apply, dense_adjoint, dense_wgrad,
                                              dense_wgrad_done};

/* Gradient-penalty view (gradpen.c): A(x) = x W, then the bias and fused activation. */
static void dense_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    const dense_layer *d = l->priv;
    *out = (clgan_layer_gp){.lin = d->sn ? &dense_lin_sn : &dense_lin, .db = d->db,
                                .act = d->act, .slope = d->slope};
}

static const clgan_layer_ops dense_ops = {"dense", dense_describe, dense_bind, dense_init,
                                          dense_forward, dense_backward, dense_free};

clgan_status clgan_dense_make(clgan_layer *l, int in, int out, clgan_act act, float slope)
{
    clgan_status st;
    dense_layer *d = calloc(1, sizeof *d);
    if (!d)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    if (l->spectral_norm && (st = clgan_sn_make(&d->sn, in, out)) != CLGAN_OK) {
        free(d);
        return st;
    }
    d->act = act;
    d->slope = slope;
    l->ops = &dense_ops;
    l->gp_view = dense_gp_view;
    l->in = in;
    l->out = out;
    l->out_shape = CLGAN_SHAPE(1, 1, out); /* a feature vector, even when out == in */
    l->flops = 2.0 * in * out;
    l->priv = d;
    return CLGAN_OK;
}
