/* residual.c - a residual block built from the other layer types:
 *   t = act(x W + b)            (a dense child, activation fused)
 *   u = BN(t)                   (optional batchnorm child)
 *   y = u + s,  s = x           when in == out
 *               s = x P + p     otherwise (a dense "proj" child, no activation)
 * Backward: dy reaches both paths; the input gradient is the sum of the two. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

typedef struct {
    clgan_layer dense, bn, proj; /* bn.ops / proj.ops NULL when absent */
    int n_dense, n_bn, n_proj;   /* tensors of each child */
    cl_mem t, u, s;              /* (batch, out): dense out, bn out, projection out */
    cl_mem dt, dx2;              /* (batch, out), (batch, in): gradient scratch */
} res_layer;

static int res_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    const res_layer *r = l->priv;
    static const char *const prefix[3] = {"dense", "bn", "proj"};
    const clgan_layer *child[3] = {&r->dense, &r->bn, &r->proj};
    int n = 0;
    for (int c = 0; c < 3; c++) {
        if (!child[c]->ops)
            continue;
        int k = child[c]->ops->describe(child[c], t + n);
        for (int i = n; i < n + k; i++) {
            char name[48];
            snprintf(name, sizeof name, "%s.%.40s", prefix[c], t[i].name);
            memcpy(t[i].name, name, sizeof name);
        }
        n += k;
    }
    return n;
}

static clgan_status res_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    res_layer *r = l->priv;
    clgan_status st;
    size_t bo = (size_t)batch * l->out * 4;
    if ((st = r->dense.ops->bind(&r->dense, ctx, v, g, batch)) != CLGAN_OK ||
        (r->bn.ops && (st = r->bn.ops->bind(&r->bn, ctx, v + r->n_dense, g + r->n_dense, batch)) != CLGAN_OK) ||
        (r->proj.ops && (st = r->proj.ops->bind(&r->proj, ctx, v + r->n_dense + r->n_bn,
                                                g + r->n_dense + r->n_bn, batch)) != CLGAN_OK))
        return st;
    if ((st = clgan_buf_alloc(ctx, &r->t, bo, "residual block")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &r->dt, bo, "residual block")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &r->dx2, (size_t)batch * l->in * 4, "residual block")) != CLGAN_OK ||
        (r->bn.ops && (st = clgan_buf_alloc(ctx, &r->u, bo, "residual block")) != CLGAN_OK) ||
        (r->proj.ops && (st = clgan_buf_alloc(ctx, &r->s, bo, "residual block")) != CLGAN_OK))
        return st;
    return CLGAN_OK;
}

static void res_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    res_layer *r = l->priv;
    r->dense.ops->init(&r->dense, host, rng);
    if (r->bn.ops)
        r->bn.ops->init(&r->bn, host + r->n_dense, rng);
    if (r->proj.ops)
        r->proj.ops->init(&r->proj, host + r->n_dense + r->n_bn, rng);
}

static clgan_status res_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                clgan_mode mode)
{
    res_layer *r = l->priv;
    clgan_status st;
    cl_mem u = r->bn.ops ? r->u : r->t, s = r->proj.ops ? r->s : x;
    if ((st = r->dense.ops->forward(&r->dense, ctx, r->t, x, batch, mode)) != CLGAN_OK ||
        (r->bn.ops && (st = r->bn.ops->forward(&r->bn, ctx, r->u, r->t, batch, mode)) != CLGAN_OK) ||
        (r->proj.ops && (st = r->proj.ops->forward(&r->proj, ctx, r->s, x, batch, mode)) != CLGAN_OK))
        return st;
    return clgan_add(ctx, y, u, s, batch * l->out);
}

static clgan_status res_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                 cl_mem y, int batch, int param_grads)
{
    res_layer *r = l->priv;
    clgan_status st = CLGAN_OK;
    (void)y;
    /* Skip path first: it only reads dy (the projection has no activation). */
    if (r->proj.ops &&
        (st = r->proj.ops->backward(&r->proj, ctx, dx ? r->dx2 : NULL, dy, x, r->s, batch,
                                    param_grads)) != CLGAN_OK)
        return st;
    /* Main path works on a copy (the dense child overwrites its output gradient). */
    if (r->bn.ops) {
        st = r->bn.ops->backward(&r->bn, ctx, r->dt, dy, r->t, r->u, batch, param_grads);
    } else {
        st = clgan_buf_copy(ctx, r->dt, 0, dy, 0, (size_t)batch * l->out * 4);
    }
    if (st != CLGAN_OK ||
        (st = r->dense.ops->backward(&r->dense, ctx, dx, r->dt, x, r->t, batch, param_grads)) != CLGAN_OK)
        return st;
    if (!dx)
        return CLGAN_OK;
    return clgan_add(ctx, dx, dx, r->proj.ops ? r->dx2 : dy, batch * l->in);
}

static void res_free(clgan_layer *l)
{
    res_layer *r = l->priv;
    if (!r)
        return;
    clgan_layer *child[3] = {&r->dense, &r->bn, &r->proj};
    for (int c = 0; c < 3; c++)
        if (child[c]->ops)
            child[c]->ops->free(child[c]);
    clgan_buf_release(&r->t);
    clgan_buf_release(&r->u);
    clgan_buf_release(&r->s);
    clgan_buf_release(&r->dt);
    clgan_buf_release(&r->dx2);
    free(r);
}

static const clgan_layer_ops res_ops = {"residual", res_describe, res_bind, res_init,
                                        res_forward, res_backward, res_free};

clgan_status clgan_residual_make(clgan_layer *l, int in, int out, clgan_act act, float slope,
                                 int bn, float eps, float momentum, float var_corr)
{
    clgan_tensor_info tmp[CLGAN_LAYER_MAX_TENSORS];
    clgan_status st;
    res_layer *r = calloc(1, sizeof *r);
    if (!r)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    l->ops = &res_ops;
    l->in = in;
    l->out = out;
    l->priv = r;
    if ((st = clgan_dense_make(&r->dense, in, out, act, slope)) != CLGAN_OK ||
        (bn && (st = clgan_batchnorm_make(&r->bn, out, eps, momentum, var_corr)) != CLGAN_OK) ||
        (in != out && (st = clgan_dense_make(&r->proj, in, out, CLGAN_ACT_NONE, 0.0f)) != CLGAN_OK)) {
        res_free(l);
        l->priv = NULL;
        return st;
    }
    r->n_dense = r->dense.ops->describe(&r->dense, tmp);
    r->n_bn = r->bn.ops ? r->bn.ops->describe(&r->bn, tmp) : 0;
    r->n_proj = r->proj.ops ? r->proj.ops->describe(&r->proj, tmp) : 0;
    l->flops = r->dense.flops + (r->proj.ops ? r->proj.flops : 0.0);
    /* t, dt, dx2, u (with bn) and s (with proj), per sample; the children's own. */
    l->scratch = 2 * (size_t)out + (size_t)in + (r->bn.ops ? out + r->bn.scratch : 0) +
                 (r->proj.ops ? (size_t)out : 0);
    return CLGAN_OK;
}
