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
    size_t g = (size_t)clgan_tunable(ctx, CLGAN_T_LOSS_WG), l = g; /* one work-group */
    return clgan_launch(ctx, CLGAN_K_gan_loss, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dout), CLGAN_ARG_MEM(metrics),
                                   CLGAN_ARG_MEM(out), CLGAN_ARG_INT(n), CLGAN_ARG_INT(a->kind),
                                   CLGAN_ARG_INT(a->role), CLGAN_ARG_F32(a->target),
                                   CLGAN_ARG_F32(a->sign), CLGAN_ARG_F32(a->clip),
                                   CLGAN_ARG_F32(a->flip), CLGAN_ARG_UINT((cl_uint)a->seed),
                                   CLGAN_ARG_UINT((cl_uint)(a->seed >> 32)),
                                   CLGAN_ARG_UINT(a->step), CLGAN_ARG_UINT(a->stream),
                                   CLGAN_ARG_INT(slot), CLGAN_ARG_INT(a->accumulate),
                                   CLGAN_ARG_F32(a->weight > 0.0f ? a->weight : 1.0f)));
}
