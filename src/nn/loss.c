/* loss.c - host wrapper of the gan_loss kernel (cl/loss.cl) and loss names. */
#include <string.h>

#include "clgan/nn.h"

static const char *const loss_names[CLGAN_LOSS_COUNT] = {"bce", "bce-logits", "lsgan", "hinge",
                                                         "wasserstein"};

const char *clgan_loss_str(clgan_loss l)
{
    return (unsigned)l < CLGAN_LOSS_COUNT ? loss_names[l] : "unknown";
}

int clgan_loss_parse(const char *s)
{
    for (int i = 0; i < CLGAN_LOSS_COUNT; i++)
        if (!strcmp(s, loss_names[i]))
            return i;
    return -1;
}

int clgan_loss_wants_sigmoid(clgan_loss l) { return l == CLGAN_LOSS_BCE; }

clgan_status clgan_loss_eval(clgan_ctx *ctx, cl_mem dout, cl_mem metrics, int slot, cl_mem out,
                             int n, const clgan_loss_args *a)
{
    /* One work-group (CPU shapes, and small batches with GPU shapes) or several whose
     * sums rows_finish adds (cl/loss.cl, runtime.h's clgan_rows_per_group). */
    const int wg = clgan_tunable(ctx, CLGAN_T_LOSS_WG), per = clgan_rows_per_group(ctx, n, wg);
    const int groups = n > per ? (n + per - 1) / per : 1;
    const float w = a->weight > 0.0f ? a->weight : 1.0f;
    size_t g = (size_t)groups * wg, l = (size_t)wg;
    cl_mem partial = NULL;
    clgan_status st;
    if (groups > 1 &&
        (st = clgan_scratch_get(ctx, (size_t)groups * 3 * sizeof(float), &partial)) != CLGAN_OK)
        return st;
    st = clgan_launch(ctx, CLGAN_K_gan_loss, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dout), CLGAN_ARG_MEM(metrics),
                                   CLGAN_ARG_MEM(partial),
                                   CLGAN_ARG_MEM(out), CLGAN_ARG_INT(n), CLGAN_ARG_INT(a->kind),
                                   CLGAN_ARG_INT(a->role), CLGAN_ARG_F32(a->target),
                                   CLGAN_ARG_F32(a->sign), CLGAN_ARG_F32(a->clip),
                                   CLGAN_ARG_F32(a->flip), CLGAN_ARG_UINT((cl_uint)a->seed),
                                   CLGAN_ARG_UINT((cl_uint)(a->seed >> 32)),
                                   CLGAN_ARG_UINT(a->step), CLGAN_ARG_UINT(a->stream),
                                   CLGAN_ARG_INT(slot), CLGAN_ARG_INT(a->accumulate),
                                   CLGAN_ARG_F32(w), CLGAN_ARG_INT(per),
                                   CLGAN_ARG_UINT(a->first)));
    if (st != CLGAN_OK || groups == 1)
        return st;
    const float scale[3] = {w / (float)n, w / (float)n, w / (float)n};
    return clgan_rows_finish(ctx, metrics, partial, groups, 3, slot, a->accumulate, scale);
}

void clgan_loss_reserve(clgan_ctx *ctx, int n)
{
    clgan_rows_reserve(ctx, n, clgan_tunable(ctx, CLGAN_T_LOSS_WG), 3);
}
