/* reshape.c - gives each sample a new shape of the same size (Keras Reshape, Flatten):
 * NHWC order is kept, so the data is copied unchanged and only the shape the next layer
 * sees differs. No parameters. */
#include "layer.h"

static int reshape_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    (void)l, (void)t;
    return 0;
}

static clgan_status reshape_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    (void)l, (void)ctx, (void)v, (void)g, (void)batch;
    return CLGAN_OK;
}

static void reshape_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    (void)l, (void)host, (void)rng;
}

static clgan_status reshape_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                    clgan_mode mode)
{
    (void)mode;
    return clgan_buf_copy(ctx, y, 0, x, 0, (size_t)batch * l->out * sizeof(float));
}

static clgan_status reshape_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy,
                                     cl_mem x, cl_mem y, int batch, int param_grads)
{
    (void)x, (void)y, (void)param_grads;
    if (!dx)
        return CLGAN_OK;
    return clgan_buf_copy(ctx, dx, 0, dy, 0, (size_t)batch * l->in * sizeof(float));
}

/* Gradient-penalty view (gradpen.c): A is a copy both ways. */
static clgan_status reshape_copy(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch)
{
    return clgan_buf_copy(ctx, y, 0, x, 0, (size_t)batch * l->in * sizeof(float));
}

static const clgan_linear_ops reshape_lin = {reshape_copy, reshape_copy, NULL, NULL};

static void reshape_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    (void)l;
    *out = (clgan_layer_gp){.lin = &reshape_lin, .act = CLGAN_ACT_NONE};
}

static void reshape_free(clgan_layer *l) { (void)l; }

static const clgan_layer_ops reshape_ops = {"reshape", reshape_describe, reshape_bind,
                                            reshape_init, reshape_forward, reshape_backward,
                                            reshape_free};

clgan_status clgan_reshape_make(clgan_layer *l, clgan_shape s)
{
    if (s.h <= 0 || s.w <= 0 || s.c <= 0 || (long long)s.h * s.w * s.c != l->in)
        return clgan_error(CLGAN_EINVAL, "reshape of %dx%dx%d (%d values) to %dx%dx%d: the "
                           "sizes must match", l->in_shape.h, l->in_shape.w, l->in_shape.c, l->in,
                           s.h, s.w, s.c);
    l->ops = &reshape_ops;
    l->gp_view = reshape_gp_view;
    l->out_shape = s;
    l->out = l->in;
    return CLGAN_OK;
}
