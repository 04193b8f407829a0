/* activation.c - activation names, the fused bias+activation kernel wrappers (used by
 * dense.c), and a standalone activation layer for use after BatchNorm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

static const char *const act_names[CLGAN_ACT_COUNT] = {"none", "leakyrelu", "relu", "tanh",
                                                       "sigmoid", "elu"};

const char *clgan_act_str(clgan_act a)
{
    return (unsigned)a < CLGAN_ACT_COUNT ? act_names[a] : "unknown";
}

int clgan_act_parse(const char *s)
{
    for (int i = 0; i < CLGAN_ACT_COUNT; i++)
        if (!strcmp(s, act_names[i]))
            return i;
    return -1;
}

/* The kernel <family>_<activation>: the families of cl/activation.cl list one kernel
 * per activation in clgan_act's order (kernels.h, CLGAN_ACT_FAMILY). */
static clgan_kernel_id act_kernel(clgan_kernel_id family_none, clgan_act act)
{
    return (clgan_kernel_id)(family_none + (int)act);
}

clgan_status clgan_bias_act_fwd(clgan_ctx *ctx, cl_mem y, cl_mem b, int rows, int cols,
                                clgan_act act, float slope)
{
    if (!b && act == CLGAN_ACT_NONE)
        return CLGAN_OK;
    size_t g[2] = {(size_t)cols, (size_t)rows};
    return clgan_launch(ctx, act_kernel(CLGAN_K_bias_act_fwd_none, act), 2, g, NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(b), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(cols), CLGAN_ARG_INT(b != NULL),
                                   CLGAN_ARG_F32(slope)));
}

clgan_status clgan_act_bwd_bias(clgan_ctx *ctx, cl_mem dz, cl_mem db, cl_mem dy, cl_mem y,
                                int rows, int cols, clgan_act act, float slope, int db_set)
{
    if (!db && act == CLGAN_ACT_NONE && dz == dy)
        return CLGAN_OK;
    int v8 = clgan_use_vec8(ctx, cols);
    clgan_kernel_id k = act_kernel(v8 ? CLGAN_K_act_bwd_bias8_none : CLGAN_K_act_bwd_bias_none, act);
    size_t g = v8 ? (size_t)cols / 8 : (size_t)cols, l = clgan_local_size(ctx, k, v8 ? 4 : 16);
    return clgan_launch(ctx, k, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dz), CLGAN_ARG_MEM(db), CLGAN_ARG_MEM(dy),
                                   CLGAN_ARG_MEM(y), CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                   CLGAN_ARG_INT(db ? (db_set ? 2 : 1) : 0), CLGAN_ARG_F32(slope)));
}

int clgan_use_vec8(const clgan_ctx *ctx, int cols)
{
    return cols % 8 == 0 && clgan_cpu_shapes(ctx);
}

clgan_status clgan_add(clgan_ctx *ctx, cl_mem y, cl_mem a, cl_mem b, int n)
{
    size_t g = (size_t)n, l = clgan_local_size(ctx, CLGAN_K_add_fwd, 64);
    return clgan_launch(ctx, CLGAN_K_add_fwd, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(a), CLGAN_ARG_MEM(b),
                                   CLGAN_ARG_INT(n)));
}

typedef struct {
    clgan_act act;
    float slope;
} act_layer;

static int act_describe(const clgan_layer *l, clgan_tensor_info *out)
{
    (void)l;
    (void)out;
    return 0;
}

static clgan_status act_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    (void)l, (void)ctx, (void)v, (void)g, (void)batch;
    return CLGAN_OK;
}

static void act_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    (void)l, (void)host, (void)rng;
}

static clgan_status act_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                clgan_mode mode)
{
    act_layer *a = l->priv;
    size_t g = (size_t)batch * l->out, lo = clgan_local_size(ctx, CLGAN_K_act_fwd, 64);
    (void)mode;
    return clgan_launch(ctx, CLGAN_K_act_fwd, 1, &g, &lo,
                        CLGAN_ARGS(CLGAN_ARG_MEM(y), CLGAN_ARG_MEM(x), CLGAN_ARG_INT((int)g),
                                   CLGAN_ARG_INT(a->act), CLGAN_ARG_F32(a->slope)));
}

static clgan_status act_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                 cl_mem y, int batch, int param_grads)
{
    act_layer *a = l->priv;
    (void)x, (void)param_grads;
    if (!dx)
        return CLGAN_OK;
    return clgan_act_bwd_bias(ctx, dx, NULL, dy, y, batch, l->out, a->act, a->slope, 0);
}

static void act_free(clgan_layer *l) { free(l->priv); }

/* Gradient-penalty view (gradpen.c): A is the identity. */
static void act_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    const act_layer *a = l->priv;
    *out = (clgan_layer_gp){.act = a->act, .slope = a->slope};
}

static const clgan_layer_ops act_ops = {"activation", act_describe, act_bind, act_init,
                                        act_forward, act_backward, act_free};

clgan_status clgan_activation_make(clgan_layer *l, int c, clgan_act act, float slope)
{
    act_layer *a = calloc(1, sizeof *a);
    if (!a)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    a->act = act;
    a->slope = slope;
    l->ops = &act_ops;
    l->gp_view = act_gp_view;
    l->in = l->out = c;
    l->priv = a;
    return CLGAN_OK;
}
