/* zeropad.c - zero padding of each image (Keras ZeroPadding2D(((top, bottom), (left,
 * right)))), and its adjoint, cropping (Keras Cropping2D): negative sizes crop. The
 * backward pass of each is the other. No parameters.
 * Kernels: cl/conv.cl zeropad_fwd / zeropad_bwd (the pad and the crop of the larger
 * image). */
#include <stdlib.h>

#include "layer.h"

typedef struct {
    int top, left; /* >= 0: padding; <= 0: cropping (both of one sign) */
    int crop;
} pad_layer;

static int pad_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    (void)l, (void)t;
    return 0;
}

static clgan_status pad_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    (void)l, (void)ctx, (void)v, (void)g, (void)batch;
    return CLGAN_OK;
}

static void pad_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    (void)l, (void)host, (void)rng;
}

/* The kernel pair works on a (small, large) image pair: padding maps small to large,
 * cropping large to small. */
static clgan_status pad_launch(clgan_layer *l, clgan_ctx *ctx, clgan_kernel_id k, cl_mem out,
                               cl_mem in, int batch)
{
    const pad_layer *p = l->priv;
    const clgan_shape s = p->crop ? l->out_shape : l->in_shape;
    const clgan_shape o = p->crop ? l->in_shape : l->out_shape;
    const int top = p->crop ? -p->top : p->top, left = p->crop ? -p->left : p->left;
    /* zeropad_fwd walks the rows of the large image, zeropad_bwd those of the small. */
    size_t rows = (size_t)batch * (k == CLGAN_K_zeropad_fwd ? o.h : s.h);
    return clgan_launch_chan(ctx, k, s.c, rows,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(in), CLGAN_ARG_INT(batch),
                                   CLGAN_ARG_INT(s.h), CLGAN_ARG_INT(s.w), CLGAN_ARG_INT(s.c),
                                   CLGAN_ARG_INT(o.h), CLGAN_ARG_INT(o.w), CLGAN_ARG_INT(top),
                                   CLGAN_ARG_INT(left)));
}

static clgan_status pad_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                clgan_mode mode)
{
    (void)mode;
    return pad_launch(l, ctx, ((pad_layer *)l->priv)->crop ? CLGAN_K_zeropad_bwd : CLGAN_K_zeropad_fwd,
                      y, x, batch);
}

static clgan_status pad_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                 cl_mem y, int batch, int param_grads)
{
    (void)x, (void)y, (void)param_grads;
    if (!dx)
        return CLGAN_OK;
    return pad_launch(l, ctx, ((pad_layer *)l->priv)->crop ? CLGAN_K_zeropad_fwd : CLGAN_K_zeropad_bwd,
                      dx, dy, batch);
}

/* Gradient-penalty view (gradpen.c): A is the padding (or cropping) itself. */
static clgan_status pad_apply(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch)
{
    return pad_forward(l, ctx, y, x, batch, CLGAN_MODE_TRAIN);
}

static clgan_status pad_adjoint(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, int batch)
{
    return pad_backward(l, ctx, dx, dy, NULL, NULL, batch, CLGAN_GRAD_NONE);
}

static const clgan_linear_ops pad_lin = {pad_apply, pad_adjoint, NULL, NULL};

static void pad_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    (void)l;
    *out = (clgan_layer_gp){.lin = &pad_lin, .act = CLGAN_ACT_NONE};
}

static void pad_free(clgan_layer *l) { free(l->priv); }

static const clgan_layer_ops pad_ops = {"zeropad", pad_describe, pad_bind, pad_init,
                                        pad_forward, pad_backward, pad_free};

clgan_status clgan_zeropad_make(clgan_layer *l, int top, int bottom, int left, int right)
{
    const clgan_shape in = l->in_shape;
    int crop = top < 0 || bottom < 0 || left < 0 || right < 0;
    int oh = in.h + top + bottom, ow = in.w + left + right;
    if ((crop && (top > 0 || bottom > 0 || left > 0 || right > 0)) || top + bottom > 1024 ||
        left + right > 1024 || oh < 1 || ow < 1)
        return clgan_error(CLGAN_EINVAL, "padding (%d, %d, %d, %d) of a %dx%d image: pad with "
                           "sizes 0..1024 or crop with sizes <= 0, leaving at least 1x1", top,
                           bottom, left, right, in.h, in.w);
    pad_layer *p = calloc(1, sizeof *p);
    if (!p)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    p->top = top;
    p->left = left;
    p->crop = crop;
    l->ops = &pad_ops;
    l->gp_view = pad_gp_view;
    l->priv = p;
    l->out_shape = CLGAN_SHAPE(oh, ow, in.c);
    l->out = clgan_shape_size(l->out_shape);
    return CLGAN_OK;
}
