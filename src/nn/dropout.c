/* dropout.c - inverted dropout: in TRAIN mode units are zeroed with probability `rate`
 * and the rest scaled by 1/(1-rate); EVAL passes through. The mask is drawn on the
 * device (cl/activation.cl dropout_fwd), a new one per forward call. */
#include <stdlib.h>

#include "layer.h"

typedef struct {
    float rate;
    uint64_t seed;  /* drawn from the network's init RNG */
    uint32_t calls; /* forward calls in TRAIN mode: the Philox counter */
    cl_mem mask;    /* (batch, C): 0 or 1/(1-rate) of the last TRAIN forward */
} dropout_layer;

static int dropout_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    (void)l, (void)t;
    return 0;
}

static clgan_status dropout_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    dropout_layer *d = l->priv;
    (void)v, (void)g;
    return clgan_buf_alloc(ctx, &d->mask, (size_t)batch * l->out * 4, "dropout mask");
}

static void dropout_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    dropout_layer *d = l->priv;
    (void)host;
    d->seed = clgan_rng_next(rng);
}

static clgan_status dropout_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                    clgan_mode mode)
{
    dropout_layer *d = l->priv;
    int n = batch * l->out;
    size_t g = (size_t)n, lo = clgan_local_size(ctx, CLGAN_K_dropout_fwd, 64);
    if (mode == CLGAN_MODE_EVAL || d->rate == 0.0f)
        return clgan_launch(ctx, CLGAN_K_dropout_fwd, 1, &g, &lo,
                            CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(d->mask), CLGAN_ARG_MEM(x),
                                       CLGAN_ARG_INT(n), CLGAN_ARG_F32(0.0f), CLGAN_ARG_UINT(0),
                                       CLGAN_ARG_UINT(0), CLGAN_ARG_UINT(0), CLGAN_ARG_UINT(0)));
    uint32_t call = ++d->calls;
    return clgan_launch(ctx, CLGAN_K_dropout_fwd, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(d->mask), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_INT(n), CLGAN_ARG_F32(d->rate),
                                   CLGAN_ARG_UINT((cl_uint)d->seed),
                                   CLGAN_ARG_UINT((cl_uint)(d->seed >> 32)), CLGAN_ARG_UINT(call),
                                   CLGAN_ARG_UINT(1)));
}

static clgan_status dropout_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                     cl_mem y, int batch, int param_grads)
{
    dropout_layer *d = l->priv;
    int n = batch * l->out;
    size_t g = (size_t)n, lo = 64;
    (void)x, (void)y, (void)param_grads;
    if (!dx)
        return CLGAN_OK;
    return clgan_launch(ctx, CLGAN_K_dropout_bwd, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(d->mask),
                                   CLGAN_ARG_INT(n)));
}

static void dropout_free(clgan_layer *l)
{
    dropout_layer *d = l->priv;
    if (d)
        clgan_buf_release(&d->mask);
    free(d);
}

static const clgan_layer_ops dropout_ops = {"dropout", dropout_describe, dropout_bind, dropout_init,
                                            dropout_forward, dropout_backward, dropout_free};

clgan_status clgan_dropout_make(clgan_layer *l, int c, float rate)
{
    dropout_layer *d = calloc(1, sizeof *d);
    if (!d)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    d->rate = rate;
    l->ops = &dropout_ops;
    l->in = l->out = c;
    l->scratch = (size_t)c; /* the mask */
    l->draws = &d->calls;
    l->priv = d;
    return CLGAN_OK;
}
