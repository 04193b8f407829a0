/* optim.c - the optimizer object: checks options, allocates state and reduction
 * scratch once, and enqueues a step (cl/optim.cl: 1 launch, or 3 when the global
 * gradient norm is needed) and WGAN weight clipping. Computes the per-rule host
 * scalars; does no math on the data and never waits for the device. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/optim.h"

/* OPT_WG (reduction work-group size) and OPT_VW (floats per vector) are kernels.h
 * tunables: clgan_tunable(ctx, CLGAN_T_OPT_WG), as cl/optim.cl was compiled. */
#define OPT_MAX_GROUPS 256   /* partial sums of the norm reduction */
#define OPT_CPU_RUN 4096     /* floats one work-item updates with CPU shapes: 2048-8192
                                measured alike on PoCL (2 cores, 0.5M and 1.5M floats) */
#define OPT_MIN_PER_ITEM 128 /* floats per work-item before another group is added:
                                on PoCL (2 cores) 46-64 groups for 1.5M floats run 2x
                                faster than 256, whose barriers cost more than they
                                spread */

struct clgan_opt {
    clgan_ctx *ctx;
    clgan_opt_opts o;
    size_t n;
    int nstate;
    cl_mem state[2]; /* (n) each: see clgan_opt_state */
    cl_mem partial;  /* (2 * OPT_MAX_GROUPS) sums of squares before/after value clip */
    cl_mem scal;     /* (4) norm-clip scale, norm_before, norm_after, unused */
    int groups;      /* groups of the norm reduction, fixed by n (determinism) */
    int block8;      /* float8 vectors per group (multiple of OPT_WG) */
    int wg;          /* OPT_WG */
    clgan_kernel_id k_update;
};

static const char *const kind_names[CLGAN_OPT_COUNT] = {"sgd", "adam", "rmsprop"};

const char *clgan_opt_str(clgan_opt_kind k)
{
    return (unsigned)k < CLGAN_OPT_COUNT ? kind_names[k] : "?";
}

int clgan_opt_parse(const char *s)
{
    for (int k = 0; s && k < CLGAN_OPT_COUNT; k++)
        if (strcmp(s, kind_names[k]) == 0)
            return k;
    return -1;
}

clgan_opt_opts clgan_opt_defaults(clgan_opt_kind k)
{
    clgan_opt_opts o = {.kind = k, .lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                        .form = CLGAN_ADAM_TORCH, .alpha = 0.99f};
    if (k == CLGAN_OPT_ADAM)
        o.lr = 1e-3f;
    return o;
}

/* EINVAL naming the first option out of range, else OK. */
static clgan_status check_opts(const clgan_opt_opts *o, size_t n)
{
    const char *k = clgan_opt_str(o->kind);
    if ((unsigned)o->kind >= CLGAN_OPT_COUNT)
        return clgan_error(CLGAN_EINVAL, "optimizer kind %d unknown (sgd, adam, rmsprop)", (int)o->kind);
    if (n == 0 || n > INT_MAX - 8)
        return clgan_error(CLGAN_EINVAL, "%s over %zu floats: need 1 .. %d", k, n, INT_MAX - 8);
    if (!(o->lr >= 0.0f) || !isfinite(o->lr))
        return clgan_error(CLGAN_EINVAL, "%s lr %g: need a finite value >= 0", k, o->lr);
    if (o->kind == CLGAN_OPT_ADAM) {
        if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f))
            return clgan_error(CLGAN_EINVAL, "adam betas %g, %g: need each in [0, 1)", o->beta1, o->beta2);
        if ((unsigned)o->form > CLGAN_ADAM_TORCH)
            return clgan_error(CLGAN_EINVAL, "adam form %d unknown (keras = 0, torch = 1)", (int)o->form);
    }
    if (o->kind != CLGAN_OPT_SGD && !(o->eps > 0.0f))
        return clgan_error(CLGAN_EINVAL, "%s eps %g: need > 0", k, o->eps);
    if (o->kind == CLGAN_OPT_RMSPROP && !(o->alpha >= 0.0f && o->alpha < 1.0f))
        return clgan_error(CLGAN_EINVAL, "rmsprop alpha %g: need [0, 1)", o->alpha);
    if (o->kind == CLGAN_OPT_SGD) {
        if (!(o->momentum >= 0.0f && o->momentum <= 1.0f))
            return clgan_error(CLGAN_EINVAL, "sgd momentum %g: need [0, 1]", o->momentum);
        if (o->nesterov && !(o->momentum > 0.0f))
            return clgan_error(CLGAN_EINVAL, "sgd nesterov needs momentum > 0");
    }
    const struct { const char *name; float v; } nonneg[] = {
        {"l2", o->l2}, {"weight_decay", o->weight_decay},
        {"clip_value", o->clip_value}, {"clip_norm", o->clip_norm}};
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (!(nonneg[i].v >= 0.0f) || !isfinite(nonneg[i].v))
            return clgan_error(CLGAN_EINVAL, "%s %s %g: need a finite value >= 0 (0 = off)", k,
                               nonneg[i].name, nonneg[i].v);
    return CLGAN_OK;
}

/* Update rules, one kernel each (cl/optim.cl OPT_UPDATE_KERNEL, OPT_RULE_*): plain
 * SGD and SGD with momentum are separate rules. */
enum { RULE_SGD, RULE_MOMENTUM, RULE_ADAM, RULE_RMSPROP };
static const struct {
    clgan_kernel_id kernel;
    int nstate; /* state buffers of n floats */
} rules[] = {[RULE_SGD] = {CLGAN_K_opt_update_sgd, 0},
             [RULE_MOMENTUM] = {CLGAN_K_opt_update_momentum, 1},
             [RULE_ADAM] = {CLGAN_K_opt_update_adam, 2},
             [RULE_RMSPROP] = {CLGAN_K_opt_update_rmsprop, 1}};

static int rule_of(const clgan_opt_opts *o)
{
    switch (o->kind) {
    case CLGAN_OPT_ADAM: return RULE_ADAM;
    case CLGAN_OPT_RMSPROP: return RULE_RMSPROP;
    default: return o->momentum > 0.0f ? RULE_MOMENTUM : RULE_SGD;
    }
}

clgan_status clgan_opt_init(clgan_opt **out, clgan_ctx *ctx, size_t n, clgan_opt_opts o)
{
    static const char *const state_names[CLGAN_OPT_COUNT][2] = {
        {"SGD momentum buffer", ""}, {"Adam first moments", "Adam second moments"},
        {"RMSprop mean squares", ""}};
    clgan_status st;
    *out = NULL;
    if ((st = check_opts(&o, n)) != CLGAN_OK)
        return st;
    clgan_opt *op = calloc(1, sizeof *op);
    if (!op)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    op->ctx = ctx;
    op->o = o;
    op->n = n;
    op->nstate = rules[rule_of(&o)].nstate;
    op->wg = clgan_tunable(ctx, CLGAN_T_OPT_WG);
    op->k_update = rules[rule_of(&o)].kernel;
    const size_t wg = (size_t)op->wg;
    size_t g = (n + wg * OPT_MIN_PER_ITEM - 1) / (wg * OPT_MIN_PER_ITEM);
    op->groups = g < 1 ? 1 : g > OPT_MAX_GROUPS ? OPT_MAX_GROUPS : (int)g;
    size_t per = (size_t)op->groups * wg;
    op->block8 = (int)((n / 8 + per - 1) / per * wg);
    for (int i = 0; i < op->nstate; i++)
        if ((st = clgan_buf_alloc(ctx, &op->state[i], n * sizeof(float), state_names[o.kind][i])) != CLGAN_OK)
            goto fail;
    if ((st = clgan_buf_alloc(ctx, &op->partial, 2 * OPT_MAX_GROUPS * sizeof(float),
                              "optimizer norm partial sums")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &op->scal, 4 * sizeof(float), "optimizer norm scalars")) != CLGAN_OK)
        goto fail;
    *out = op;
    return CLGAN_OK;
fail:
    clgan_opt_free(op);
    return st;
}

void clgan_opt_free(clgan_opt *o)
{
    if (!o)
        return;
    clgan_buf_release(&o->scal);
    clgan_buf_release(&o->partial);
    clgan_buf_release(&o->state[1]);
    clgan_buf_release(&o->state[0]);
    free(o);
}

int clgan_opt_state(const clgan_opt *o, cl_mem out[2])
{
    out[0] = o->state[0];
    out[1] = o->state[1];
    return o->nstate;
}

clgan_opt_opts clgan_opt_get_opts(const clgan_opt *o) { return o->o; }

clgan_status clgan_opt_step(clgan_opt *o, cl_mem params, cl_mem grads, long t, cl_mem metrics,
                            int slot)
{
    const clgan_opt_opts *c = &o->o;
    clgan_status st;
    int n = (int)o->n, norm = c->clip_norm > 0.0f || metrics;
    if (o->o.kind == CLGAN_OPT_ADAM && t < 1)
        return clgan_error(CLGAN_EINVAL, "adam step t = %ld: need t >= 1", t);
    if (metrics && slot < 0)
        return clgan_error(CLGAN_EINVAL, "optimizer metrics slot %d: need >= 0", slot);
    if (norm) {
        size_t wg = (size_t)o->wg, gp = (size_t)o->groups * wg;
        if ((st = clgan_launch(o->ctx, CLGAN_K_opt_sumsq_partial, 1, &gp, &wg,
                               CLGAN_ARGS(CLGAN_ARG_MEM(o->partial), CLGAN_ARG_MEM(grads),
                                          CLGAN_ARG_MEM(params), CLGAN_ARG_F32(c->l2),
                                          CLGAN_ARG_F32(c->clip_value), CLGAN_ARG_INT(n),
                                          CLGAN_ARG_INT(o->block8)))) != CLGAN_OK ||
            (st = clgan_launch(o->ctx, CLGAN_K_opt_norm_finish, 1, &wg, &wg,
                               CLGAN_ARGS(CLGAN_ARG_MEM(o->scal), CLGAN_ARG_MEM(metrics ? metrics : o->scal),
                                          CLGAN_ARG_MEM(o->partial), CLGAN_ARG_F32(c->clip_norm),
                                          CLGAN_ARG_INT(metrics != NULL), CLGAN_ARG_INT(slot),
                                          CLGAN_ARG_INT(o->groups)))) != CLGAN_OK)
            return st;
    }
    /* Per-kind scalars: see the banner of cl/optim.cl. */
    float step = c->lr, a = 0.0f, b = 0.0f, eps_hat = c->eps;
    switch (c->kind) {
    case CLGAN_OPT_ADAM: {
        double b1t = pow(c->beta1, (double)t), b2t = pow(c->beta2, (double)t);
        step = (float)(c->lr * sqrt(1.0 - b2t) / (1.0 - b1t));
        eps_hat = c->form == CLGAN_ADAM_TORCH ? (float)(c->eps * sqrt(1.0 - b2t)) : c->eps;
        a = c->beta1, b = c->beta2;
        break;
    }
    case CLGAN_OPT_RMSPROP: a = c->alpha; break;
    default: a = c->momentum; break;
    }
    float keep = (float)(1.0 - (double)c->lr * c->weight_decay);
    /* Unused state arguments get a placeholder buffer the kernel never touches. */
    cl_mem s0 = o->state[0] ? o->state[0] : o->scal, s1 = o->state[1] ? o->state[1] : o->scal;
    /* CPU shapes (clgan_cpu_shapes): OPT_CPU_RUN floats per work-item, one work-item per
     * group; GPU shapes: one vector per work-item in groups of OPT_WG (cl/optim.cl). */
    const int cpu = clgan_cpu_shapes(o->ctx);
    const size_t vw = (size_t)clgan_tunable(o->ctx, CLGAN_T_OPT_VW);
    const size_t nv = o->n / vw, per = cpu ? OPT_CPU_RUN / vw : 1;
    size_t wg = cpu ? 1 : clgan_local_size(o->ctx, o->k_update, (size_t)o->wg);
    size_t gn = nv ? (nv + per - 1) / per : 1;
    return clgan_launch(o->ctx, o->k_update, 1, &gn, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(params), CLGAN_ARG_MEM(s0), CLGAN_ARG_MEM(s1),
                                   CLGAN_ARG_MEM(grads), CLGAN_ARG_MEM(o->scal),
                                   CLGAN_ARG_F32(step), CLGAN_ARG_F32(a),
                                   CLGAN_ARG_F32(b), CLGAN_ARG_F32(eps_hat), CLGAN_ARG_F32(keep),
                                   CLGAN_ARG_F32(c->l2), CLGAN_ARG_F32(c->clip_value),
                                   CLGAN_ARG_INT(c->clip_norm > 0.0f), CLGAN_ARG_INT(c->nesterov != 0),
                                   CLGAN_ARG_INT(n), CLGAN_ARG_INT((int)per)));
}

clgan_status clgan_weight_clip(clgan_ctx *ctx, cl_mem params, size_t n, float c)
{
    if (n == 0 || n > INT_MAX)
        return clgan_error(CLGAN_EINVAL, "weight clip over %zu floats: need 1 .. %d", n, INT_MAX);
    if (!(c > 0.0f) || !isfinite(c))
        return clgan_error(CLGAN_EINVAL, "weight clip %g: need a finite value > 0", c);
    size_t wg = clgan_local_size(ctx, CLGAN_K_weight_clip, 256), gn = n;
    return clgan_launch(ctx, CLGAN_K_weight_clip, 1, &gn, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(params), CLGAN_ARG_F32(c), CLGAN_ARG_INT((int)n)));
}
