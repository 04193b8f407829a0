/* upsample.c - nearest-neighbour upsampling by integer factors (Keras UpSampling2D):
 * each input pixel becomes an fh x fw block. Backward sums each block. No parameters.
 * Kernels: cl/conv.cl upsample_fwd / upsample_bwd. */
#include <stdlib.h>

#include "layer.h"

typedef struct {
    int fh, fw;
} up_layer;

static int up_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    (void)l, (void)t;
    return 0;
}

static clgan_status up_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    (void)l, (void)ctx, (void)v, (void)g, (void)batch;
    return CLGAN_OK;
}

static void up_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    (void)l, (void)host, (void)rng;
}

/* One launch of `k` over (channels, `rows` image rows) with the input geometry of l. */
static clgan_status up_launch(clgan_layer *l, clgan_ctx *ctx, clgan_kernel_id k, cl_mem out,
                              cl_mem in, int batch, size_t rows)
{
    const up_layer *u = l->priv;
    const clgan_shape s = l->in_shape;
    return clgan_launch_chan(ctx, k, s.c, rows,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(in), CLGAN_ARG_INT(batch),
                                   CLGAN_ARG_INT(s.h), CLGAN_ARG_INT(s.w), CLGAN_ARG_INT(s.c),
                                   CLGAN_ARG_INT(u->fh), CLGAN_ARG_INT(u->fw)));
}

static clgan_status up_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                               clgan_mode mode)
{
    (void)mode;
    return up_launch(l, ctx, CLGAN_K_upsample_fwd, y, x, batch,
                     (size_t)batch * l->out_shape.h);
}

static clgan_status up_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                cl_mem y, int batch, int param_grads)
{
    (void)x, (void)y, (void)param_grads;
    if (!dx)
        return CLGAN_OK;
    return up_launch(l, ctx, CLGAN_K_upsample_bwd, dx, dy, batch,
                     (size_t)batch * l->in_shape.h);
}

/* Gradient-penalty view (gradpen.c): A is the upsampling itself. */
static clgan_status up_apply(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch)
{
    return up_forward(l, ctx, y, x, batch, CLGAN_MODE_TRAIN);
}

static clgan_status up_adjoint(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, int batch)
{
    return up_backward(l, ctx, dx, dy, NULL, NULL, batch, CLGAN_GRAD_NONE);
}

static const clgan_linear_ops up_lin = {up_apply, up_adjoint, NULL, NULL};

static void up_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    (void)l;
    *out = (clgan_layer_gp){.lin = &up_lin, .act = CLGAN_ACT_NONE};
}

static void up_free(clgan_layer *l) { free(l->priv); }

static const clgan_layer_ops up_ops = {"upsample", up_describe, up_bind, up_init,
                                       up_forward, up_backward, up_free};

clgan_status clgan_upsample_make(clgan_layer *l, int fh, int fw)
{
    const clgan_shape in = l->in_shape;
    if (fh < 1 || fw < 1 || fh > 64 || fw > 64 || (double)in.h * fh * in.w * fw * in.c > (1 << 28))
        return clgan_error(CLGAN_EINVAL, "upsampling by %dx%d of a %dx%dx%d input: need factors "
                           "1..64 and an output of at most 2^28 values", fh, fw, in.h, in.w, in.c);
    up_layer *u = calloc(1, sizeof *u);
    if (!u)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    u->fh = fh;
    u->fw = fw;
    l->ops = &up_ops;
    l->gp_view = up_gp_view;
    l->priv = u;
    l->out_shape = CLGAN_SHAPE(in.h * fh, in.w * fw, in.c);
    l->out = clgan_shape_size(l->out_shape);
    return CLGAN_OK;
}
