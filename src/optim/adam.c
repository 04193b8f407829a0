/* adam.c - Adam over one flat buffer (cl/optim.cl adam_step); the host computes the
 * bias-corrected step size and epsilon for the chosen convention. */
#include <math.h>
#include <stdlib.h>

#include "clgan/optim.h"

struct clgan_adam {
    clgan_ctx *ctx;
    clgan_adam_opts o;
    size_t n;
    cl_mem m, v; /* (n) first and second moments */
};

clgan_status clgan_adam_init(clgan_adam **out, clgan_ctx *ctx, size_t n, clgan_adam_opts o)
{
    clgan_status st;
    *out = NULL;
    clgan_adam *a = calloc(1, sizeof *a);
    if (!a)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    a->ctx = ctx;
    a->o = o;
    a->n = n;
    if ((st = clgan_buf_alloc(ctx, &a->m, n * 4, "Adam first moments")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &a->v, n * 4, "Adam second moments")) != CLGAN_OK) {
        clgan_adam_free(a);
        return st;
    }
    *out = a;
    return CLGAN_OK;
}

void clgan_adam_free(clgan_adam *a)
{
    if (!a)
        return;
    clgan_buf_release(&a->m);
    clgan_buf_release(&a->v);
    free(a);
}

clgan_status clgan_adam_step(clgan_adam *a, cl_mem params, cl_mem grads, long t)
{
    double b1t = pow(a->o.beta1, (double)t), b2t = pow(a->o.beta2, (double)t);
    float step = (float)(a->o.lr * sqrt(1.0 - b2t) / (1.0 - b1t));
    float eps = a->o.form == CLGAN_ADAM_TORCH ? (float)(a->o.eps * sqrt(1.0 - b2t)) : a->o.eps;
    size_t g = a->n, l = 64;
    return clgan_launch(a->ctx, clgan_kernel(a->ctx, "adam_step"), 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(params), CLGAN_ARG_MEM(a->m), CLGAN_ARG_MEM(a->v),
                                   CLGAN_ARG_MEM(grads), CLGAN_ARG_INT((int)a->n),
                                   CLGAN_ARG_F32(step), CLGAN_ARG_F32(a->o.beta1),
                                   CLGAN_ARG_F32(a->o.beta2), CLGAN_ARG_F32(eps)));
}

cl_mem clgan_adam_m(const clgan_adam *a) { return a->m; }
cl_mem clgan_adam_v(const clgan_adam *a) { return a->v; }
