/* dense.c - the fully connected layer y = act(x W + b), W (in, out) as Keras stores
 * kernels, with the activation fused into the bias kernel. GEMMs go through clgan_gemm.
 * Backward derives act' from the cached output, so it keeps no extra cache. */
#include <math.h>
#include <stdlib.h>

#include "layer.h"

typedef struct {
    clgan_act act;
    float slope;
    cl_mem w, b;   /* (in, out), (out): views into the network's params */
    cl_mem dw, db; /* same shapes, views into grads */
} dense_layer;

static int dense_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    t[0] = (clgan_tensor_info){.name = "kernel", .ndim = 2, .shape = {l->in, l->out}, .trained = 1};
    t[1] = (clgan_tensor_info){.name = "bias", .ndim = 1, .shape = {l->out}, .trained = 1};
    return 2;
}

static clgan_status dense_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    dense_layer *d = l->priv;
    (void)ctx, (void)batch;
    d->w = v[0];
    d->b = v[1];
    d->dw = g[0];
    d->db = g[1];
    return CLGAN_OK;
}

/* Glorot-uniform kernel (limit sqrt(6 / (in + out))) unless the network asked for
 * normal(0, std) (clgan_net_set_init), zero bias. */
static void dense_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    clgan_init_kernel(l, host[0], (size_t)l->in * l->out, l->in, l->out, rng);
    for (int j = 0; j < l->out; j++)
        host[1][j] = 0.0f;
}

static clgan_status dense_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                  clgan_mode mode)
{
    dense_layer *d = l->priv;
    clgan_status st;
    (void)mode;
    int fused;
    /* y (B, out) = act(x (B, in) . W (in, out) + b), in one pass where the GEMM can */
    st = clgan_gemm_bias_act(ctx, batch, l->out, l->in, x, l->in, d->w, l->out, y, l->out, d->b,
                             d->act, d->slope, &fused);
    if (st != CLGAN_OK || fused)
        return st;
    return clgan_bias_act_fwd(ctx, y, d->b, batch, l->out, d->act, d->slope);
}

static clgan_status dense_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                   cl_mem y, int batch, int param_grads)
{
    dense_layer *d = l->priv;
    clgan_status st;
    /* dz = dy * act'(y), in place; db += column sums of dz */
    st = clgan_act_bwd_bias(ctx, dy, param_grads ? d->db : NULL, dy, y, batch, l->out, d->act,
                            d->slope, param_grads == CLGAN_GRAD_SET);
    if (st != CLGAN_OK)
        return st;
    /* dW (in, out) (+)= x^T (in, B) . dz (B, out) */
    if (param_grads) {
        st = clgan_gemm(ctx, 1, 0, l->in, l->out, batch, 1.0f, x, l->in, dy, l->out,
                        param_grads == CLGAN_GRAD_SET ? 0.0f : 1.0f, d->dw, l->out);
        if (st != CLGAN_OK)
            return st;
    }
    /* dx (B, in) = dz (B, out) . W^T (out, in) */
    if (dx)
        st = clgan_gemm(ctx, 0, 1, batch, l->in, l->out, 1.0f, dy, l->out, d->w, l->out, 0.0f,
                        dx, l->in);
    return st;
}

static void dense_free(clgan_layer *l) { free(l->priv); }

/* Gradient-penalty view (gradpen.c): W, b, their gradients and the fused activation. */
static void dense_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    const dense_layer *d = l->priv;
    *out = (clgan_layer_gp){.w = d->w, .b = d->b, .dw = d->dw, .db = d->db, .act = d->act,
                            .slope = d->slope};
}

static const clgan_layer_ops dense_ops = {"dense", dense_describe, dense_bind, dense_init,
                                          dense_forward, dense_backward, dense_free};

clgan_status clgan_dense_make(clgan_layer *l, int in, int out, clgan_act act, float slope)
{
    dense_layer *d = calloc(1, sizeof *d);
    if (!d)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    d->act = act;
    d->slope = slope;
    l->ops = &dense_ops;
    l->gp_view = dense_gp_view;
    l->in = in;
    l->out = out;
    l->flops = 2.0 * in * out;
    l->priv = d;
    return CLGAN_OK;
}
