/* dropout.c - inverted dropout: in TRAIN mode units are zeroed with probability `rate`
 * and the rest scaled by 1/(1-rate); EVAL passes through. Dropout zeroes single values;
 * Dropout2d (PyTorch's Dropout2d, Keras' SpatialDropout2D) zeroes whole channels: one
 * draw per (sample, channel), broadcast over H and W. The mask is drawn on the device
 * (cl/activation.cl dropout_fwd, dropout2d_mask), a new one per TRAIN forward, from
 * Philox keyed by a seed the network's init RNG gives (reproducible under its seed). */
#include <stdlib.h>

#include "layer.h"

typedef struct {
    float rate;
    int per_channel; /* Dropout2d */
    int hw, c;       /* Dropout2d: pixels and channels per sample */
    uint64_t seed;   /* drawn from the network's init RNG */
    uint32_t calls;  /* forward calls in TRAIN mode: the Philox counter */
    cl_mem mask;     /* 0 or 1/(1-rate) of the last forward (1 after EVAL): (batch, in)
                        for Dropout, (batch, C) for Dropout2d */
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
    size_t per = d->per_channel ? (size_t)d->c : (size_t)l->out;
    return clgan_buf_alloc(ctx, &d->mask, (size_t)batch * per * 4, "dropout mask");
}

static void dropout_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    dropout_layer *d = l->priv;
    (void)host;
    d->seed = clgan_rng_next(rng);
}

/* y = x * mask, mask broadcast over each sample's pixels (Dropout2d); y may be x. */
static clgan_status apply2d(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch)
{
    dropout_layer *d = l->priv;
    size_t g = (size_t)batch * l->out, lo = clgan_local_size(ctx, CLGAN_K_dropout2d_apply, 64);
    return clgan_launch(ctx, CLGAN_K_dropout2d_apply, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(d->mask),
                                   CLGAN_ARG_INT(batch), CLGAN_ARG_INT(d->hw),
                                   CLGAN_ARG_INT(d->c)));
}

static clgan_status dropout_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                    clgan_mode mode)
{
    dropout_layer *d = l->priv;
    const int train = mode == CLGAN_MODE_TRAIN && d->rate > 0.0f;
    const uint32_t call = train ? ++d->calls : 0;
    const float rate = train ? d->rate : 0.0f; /* rate 0: every mask entry is 1 */
    if (d->per_channel) {
        size_t g = (size_t)batch * d->c, lo = clgan_local_size(ctx, CLGAN_K_dropout2d_mask, 64);
        clgan_status st = clgan_launch(
            ctx, CLGAN_K_dropout2d_mask, 1, &g, &lo,
            CLGAN_ARGS(CLGAN_ARG_MEM(d->mask), CLGAN_ARG_INT((int)g), CLGAN_ARG_F32(rate),
                       CLGAN_ARG_UINT((cl_uint)d->seed), CLGAN_ARG_UINT((cl_uint)(d->seed >> 32)),
                       CLGAN_ARG_UINT(call), CLGAN_ARG_UINT(1),
                       CLGAN_ARG_UINT((cl_uint)l->row0 * (cl_uint)d->c)));
        return st != CLGAN_OK ? st : apply2d(l, ctx, y, x, batch);
    }
    int n = batch * l->out;
    size_t g = (size_t)n, lo = clgan_local_size(ctx, CLGAN_K_dropout_fwd, 64);
    return clgan_launch(ctx, CLGAN_K_dropout_fwd, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(d->mask), CLGAN_ARG_MEM(x),
                                   CLGAN_ARG_INT(n), CLGAN_ARG_F32(rate),
                                   CLGAN_ARG_UINT((cl_uint)d->seed),
                                   CLGAN_ARG_UINT((cl_uint)(d->seed >> 32)), CLGAN_ARG_UINT(call),
                                   CLGAN_ARG_UINT(1),
                                   CLGAN_ARG_UINT((cl_uint)l->row0 * (cl_uint)l->out)));
}

/* dx = dy * mask (the adjoint, and A itself, of the layer with its mask fixed). */
static clgan_status dropout_mul(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, int batch)
{
    dropout_layer *d = l->priv;
    if (d->per_channel)
        return apply2d(l, ctx, dx, dy, batch);
    int n = batch * l->out;
    size_t g = (size_t)n, lo = clgan_local_size(ctx, CLGAN_K_dropout_bwd, 64);
    return clgan_launch(ctx, CLGAN_K_dropout_bwd, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dx), CLGAN_ARG_MEM(dy), CLGAN_ARG_MEM(d->mask),
                                   CLGAN_ARG_INT(n)));
}

static clgan_status dropout_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                     cl_mem y, int batch, int param_grads)
{
    (void)x, (void)y, (void)param_grads;
    return dx ? dropout_mul(l, ctx, dx, dy, batch) : CLGAN_OK;
}

static void dropout_free(clgan_layer *l)
{
    dropout_layer *d = l->priv;
    if (d)
        clgan_buf_release(&d->mask);
    free(d);
}

/* Gradient-penalty view (gradpen.c): A multiplies by the last forward's mask. */
static const clgan_linear_ops dropout_lin = {dropout_mul, dropout_mul, NULL, NULL};

static void dropout_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    (void)l;
    *out = (clgan_layer_gp){.lin = &dropout_lin, .act = CLGAN_ACT_NONE};
}

static const clgan_layer_ops dropout_ops = {"dropout", dropout_describe, dropout_bind, dropout_init,
                                            dropout_forward, dropout_backward, dropout_free};

static clgan_status make(clgan_layer *l, int c, float rate, int per_channel)
{
    dropout_layer *d = calloc(1, sizeof *d);
    if (!d)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    d->rate = rate;
    d->per_channel = per_channel;
    d->hw = l->in_shape.h * l->in_shape.w;
    d->c = l->in_shape.c;
    l->ops = &dropout_ops;
    l->gp_view = dropout_gp_view;
    l->in = l->out = c;
    l->scratch = (size_t)c; /* the mask */
    l->draws = &d->calls;
    l->priv = d;
    return CLGAN_OK;
}

clgan_status clgan_dropout_make(clgan_layer *l, int c, float rate) { return make(l, c, rate, 0); }

clgan_status clgan_dropout2d_make(clgan_layer *l, float rate)
{
    return make(l, l->in, rate, 1);
}
