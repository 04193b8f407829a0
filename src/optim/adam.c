/* adam.c - DEPRECATED Adam-only API (clgan_adam_*), thin wrappers over clgan_opt kept
 * until the trainer switches to clgan_opt; delete this file then. No logic of its own. */
#include <stdlib.h>

#include "clgan/optim.h"

struct clgan_adam {
    clgan_opt *opt;
};

/* Deprecated: clgan_opt_init with kind = CLGAN_OPT_ADAM. */
clgan_status clgan_adam_init(clgan_adam **out, clgan_ctx *ctx, size_t n, clgan_adam_opts o)
{
    clgan_status st;
    clgan_opt_opts oo = {.kind = CLGAN_OPT_ADAM, .lr = o.lr, .beta1 = o.beta1, .beta2 = o.beta2,
                         .eps = o.eps, .form = o.form};
    *out = NULL;
    clgan_adam *a = calloc(1, sizeof *a);
    if (!a)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    if ((st = clgan_opt_init(&a->opt, ctx, n, oo)) != CLGAN_OK) {
        free(a);
        return st;
    }
    *out = a;
    return CLGAN_OK;
}

/* Deprecated: clgan_opt_free. */
void clgan_adam_free(clgan_adam *a)
{
    if (!a)
        return;
    clgan_opt_free(a->opt);
    free(a);
}

/* Deprecated: clgan_opt_step without metrics. */
clgan_status clgan_adam_step(clgan_adam *a, cl_mem params, cl_mem grads, long t)
{
    return clgan_opt_step(a->opt, params, grads, t, NULL, 0);
}

/* Deprecated: clgan_opt_state. */
cl_mem clgan_adam_m(const clgan_adam *a)
{
    cl_mem s[2];
    clgan_opt_state(a->opt, s);
    return s[0];
}

cl_mem clgan_adam_v(const clgan_adam *a)
{
    cl_mem s[2];
    clgan_opt_state(a->opt, s);
    return s[1];
}
