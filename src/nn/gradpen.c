/* gradpen.c - the WGAN-GP gradient penalty (Gulrajani et al. 2017): the interpolates and
 * a double backward through the critic that adds dP/dtheta into its gradients. Works for
 * every layer of the form y = act(A(x; W) + b) (layer.h clgan_layer_gp): dense and
 * convolution layers (spectrally normalized or not), upsampling, zero padding, reshape,
 * dropout (its mask fixed) and standalone activations; and LayerNorm, whose Jacobian
 * depends on its input (clgan_nonlinear_ops). Refuses BatchNorm and residual blocks.
 *
 * A critic is a chain of layers z_l = A_l(h_{l-1}; W_l) + b_l, h_l = f_l(z_l), l = 1..L,
 * one output per sample; h_0 = xhat. A_l is linear in h and in W (a standalone
 * activation has A = identity; a parameter-free layer has no W, b and f = identity). b
 * is one value per output channel, added at every pixel. A^T is A's adjoint, and
 * gradW<A(x), d> the gradient of <A(x; W), d> with respect to W (a dense layer: x^T d).
 * f' and f'' are written in terms of the cached output y = h_l (cl/common.h
 * act_grad_from_output, cl/gradpen.cl act_grad2_from_output).
 *
 * 1. Input gradient (the ordinary backward from dD = 1):
 *      u_L = 1;  delta_l = u_l * f_l'(z_l);  u_{l-1} = A_l^T(delta_l);  g = u_0 (B, in).
 * 2. Penalty, n_i = ||g_i||:  P = lambda/B sum_i (n_i - 1)^2,
 *      gbar_i = dP/dg_i = (lambda/B) 2 (n_i - 1) g_i / n_i   (0 where n_i = 0).
 * 3. Reverse of step 1, l = 1..L, from ubar_0 = gbar (u_{l-1} = A^T(delta_l; W) is
 *    bilinear in delta_l and W, and <ubar, A^T(delta)> = <A(ubar), delta>):
 *      deltabar_l = A_l(ubar_{l-1});      dW_l += gradW<A_l(ubar_{l-1}), delta_l>;
 *      ubar_l = deltabar_l * f_l'(z_l);   s_l = deltabar_l * u_l * f_l''(z_l)
 *    (s_l is the part of dP/dz_l that flows through f_l'(z_l) in step 1.)
 * 4. Reverse of the forward pass, l = L..1, with hbar_L = 0 (P does not read D's value):
 *      zbar_l = s_l + hbar_l * f_l'(z_l);  dW_l += gradW<A_l(h_{l-1}), zbar_l>;
 *      db_l += sums of zbar_l per channel; hbar_{l-1} = A_l^T(zbar_l).
 * b_l enters only through z_l, so step 3 has no db term; u_l depends on W_{l+1..L} and
 * on z_{l..L}, which is what steps 3 and 4 walk back through. A layer whose f is the
 * identity ("linear": no activation, A not the identity) has delta_l = u_l, s_l = 0,
 * ubar_l = deltabar_l and zbar_l = hbar_l, so its activation steps are skipped, and all
 * of step 4 while hbar_l is still 0. A spectrally normalized layer's two weight
 * gradients (of W_sn) are summed first, then taken through sigma once (wgrad_done).
 *
 * A nonlinear layer h_l = F_l(h_{l-1}) with Jacobian J_l(h_{l-1}) (LayerNorm) takes part
 * as a whole: step 1 u_{l-1} = J_l^T u_l; step 3, with Q = <ubar_{l-1}, J_l^T u_l>,
 *   ubar_l = dQ/du_l = J_l ubar_{l-1},  dtheta_l += dQ/dtheta_l,  sx_l = dQ/dh_{l-1};
 * step 4 its ordinary backward from hbar_l (dtheta_l, J_l^T hbar_l) plus sx_l into
 * hbar_{l-1}. cl/norm.cl derives LayerNorm's terms.
 *
 * Buffers, per network (struct clgan_gp), allocated on the first call:
 *   u[l] (B, d_l), l = 0..L, with u[L] = 1 written once;
 *   dl[l] (B, d_l): delta_l. Its own buffer for a layer with an activation and an A;
 *   for a standalone activation delta_l IS u_{l-1}, so dl[l] = u[l-1]; for a linear
 *   layer delta_l IS u_l, so dl[l] = u[l] (both borrowed). After step 3 has used delta_l
 *   (dW_l), s_l overwrites dl[l] (not for linear layers, which have no s_l); step 4 then
 *   turns it into zbar_l in place (u[l-1] is dead by then: step 3 read it at layer l-1);
 *   a nonlinear layer's dl[l] (B, d_{l-1}) holds sx_l from step 3 to step 4;
 *   t[0], t[1] (B, max d_l): ping-pong for ubar/deltabar and hbar.
 * Cost: per dense or conv layer three products with A or A^T and two weight gradients
 * (one fewer of each for the first layer; the forward adds one), about twice an
 * ordinary forward + backward, plus a few elementwise launches per layer.
 */
#include <stdlib.h>
#include <string.h>

#include "layer.h"

struct clgan_gp {
    int n;          /* layers */
    cl_mem *u;      /* (n + 1): u[l] (B, d_l); owned */
    cl_mem *dl;     /* (n + 1): delta_l / s_l / zbar_l storage */
    char *dl_owned; /* (n + 1) */
    cl_mem t[2];    /* (B, max d_l) */
    clgan_layer_gp *v; /* (n + 1): v[l] = layer l's view (borrowed buffers); v[0] unused */
    int *dim;       /* (n + 1): d_l, d_0 = in_dim */
};

void clgan_gp_free(clgan_gp *gp)
{
    if (!gp)
        return;
    for (int l = 0; gp->dl && gp->dl_owned && l <= gp->n; l++)
        if (gp->dl_owned[l])
            clgan_buf_release(&gp->dl[l]);
    for (int l = 0; gp->u && l <= gp->n; l++)
        clgan_buf_release(&gp->u[l]);
    clgan_buf_release(&gp->t[1]);
    clgan_buf_release(&gp->t[0]);
    free(gp->dim);
    free(gp->v);
    free(gp->dl_owned);
    free(gp->dl);
    free(gp->u);
    free(gp);
}

/* CLGAN_OK when every layer can take part and D has one output per sample. */
static clgan_status gp_check(const clgan_net_parts *p)
{
    if (!p->finalized)
        return clgan_error(CLGAN_EINVAL, "gradient penalty: the critic is not finalized");
    if (p->out_dim != 1)
        return clgan_error(CLGAN_EINVAL,
                           "gradient penalty: the critic must have one output per sample (has %d)",
                           p->out_dim);
    for (int i = 0; i < p->n_layers; i++) {
        const clgan_layer *l = &p->layers[i];
        if (l->gp_view)
            continue;
        if (l->gp_refusal)
            return clgan_error(CLGAN_EINVAL, "gradient penalty: the critic has %s (%s): %s",
                               l->ops->kind, l->name, l->gp_refusal);
        return clgan_error(CLGAN_EINVAL,
                           "gradient penalty: layer %s (%s) is not supported in a WGAN-GP "
                           "critic; dense, convolution, upsampling, zero-padding, reshape, "
                           "dropout, layer-norm and activation layers are",
                           l->name, l->ops->kind);
    }
    return CLGAN_OK;
}

/* Layer l has an activation step: f is not the identity, or A is (a standalone
 * activation, whatever its f). Not for a nonlinear layer (y = F(x)). */
static int has_act(const clgan_layer_gp *v)
{
    return !v->nl && (!v->lin || v->act != CLGAN_ACT_NONE);
}

static clgan_status gp_setup(const clgan_net_parts *p)
{
    clgan_status st;
    int L = p->n_layers, B = p->batch, maxd = p->in_dim;
    clgan_gp *gp = calloc(1, sizeof *gp);
    if (!gp)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    gp->n = L;
    gp->u = calloc(L + 1, sizeof *gp->u);
    gp->dl = calloc(L + 1, sizeof *gp->dl);
    gp->dl_owned = calloc(L + 1, 1);
    gp->v = calloc(L + 1, sizeof *gp->v);
    gp->dim = calloc(L + 1, sizeof *gp->dim);
    float *ones = malloc((size_t)B * sizeof *ones);
    if (!gp->u || !gp->dl || !gp->dl_owned || !gp->v || !gp->dim || !ones) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto fail;
    }
    for (int l = 0; l <= L; l++) {
        int d = l ? p->layers[l - 1].out : p->in_dim;
        gp->dim[l] = d;
        if (l)
            p->layers[l - 1].gp_view(&p->layers[l - 1], &gp->v[l]);
        if (d > maxd)
            maxd = d;
        if ((st = clgan_buf_alloc(p->ctx, &gp->u[l], (size_t)B * d * 4, "gradient-penalty u")) !=
            CLGAN_OK)
            goto fail;
    }
    for (int l = 1; l <= L; l++) {
        const clgan_layer_gp *v = &gp->v[l];
        if (!v->nl && (!v->lin || !has_act(v))) {
            gp->dl[l] = v->lin ? gp->u[l] : gp->u[l - 1];
            continue;
        }
        /* delta_l (B, d_l), or a nonlinear layer's sx_l (B, d_{l-1}) */
        gp->dl_owned[l] = 1;
        if ((st = clgan_buf_alloc(p->ctx, &gp->dl[l], (size_t)B * gp->dim[v->nl ? l - 1 : l] * 4,
                                  "gradient-penalty delta")) != CLGAN_OK)
            goto fail;
    }
    for (int k = 0; k < 2; k++)
        if ((st = clgan_buf_alloc(p->ctx, &gp->t[k], (size_t)B * maxd * 4,
                                  "gradient-penalty scratch")) != CLGAN_OK)
            goto fail;
    /* GPU shapes: the penalty's per-row partials and the bias sums' column partials. */
    if (!clgan_cpu_shapes(p->ctx))
        clgan_scratch_reserve(p->ctx, 2 * (size_t)B * sizeof(float));
    for (int l = 1; l <= L; l++) { /* gp_zbar_bias's rows and columns (ROWS, COLS below) */
        const clgan_layer *y = &p->layers[l - 1];
        if (gp->v[l].db)
            clgan_col_reserve(p->ctx, CLGAN_K_gp_zbar_bias_cols,
                              B * y->out_shape.h * y->out_shape.w, y->out_shape.c, 1, 0);
    }
    for (int i = 0; i < B; i++)
        ones[i] = 1.0f;
    if ((st = clgan_buf_write(p->ctx, gp->u[L], 0, ones, (size_t)B * 4)) != CLGAN_OK)
        goto fail;
    free(ones);
    *p->gp = gp;
    return CLGAN_OK;
fail:
    free(ones);
    clgan_gp_free(gp);
    return st;
}

/* CPU shapes: one work-group, a row per work-item (gp_penalty). GPU shapes: a work-group
 * per row (gp_penalty_rows), the rows' partials added by rows_finish. */
static clgan_status gp_penalty(clgan_ctx *ctx, cl_mem gbar, cl_mem metrics, cl_mem g, int rows,
                               int cols, float lambda, int slot)
{
    size_t ls = (size_t)clgan_tunable(ctx, CLGAN_T_GP_WG), gs = ls;
    cl_mem partial;
    clgan_status st;
    if (clgan_cpu_shapes(ctx))
        return clgan_launch(ctx, CLGAN_K_gp_penalty, 1, &gs, &ls,
                            CLGAN_ARGS(CLGAN_ARG_MEM(gbar), CLGAN_ARG_MEM(metrics),
                                       CLGAN_ARG_MEM(g), CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                       CLGAN_ARG_F32(lambda), CLGAN_ARG_INT(slot)));
    gs = (size_t)rows * ls;
    if ((st = clgan_scratch_get(ctx, 2 * (size_t)rows * sizeof(float), &partial)) != CLGAN_OK ||
        (st = clgan_launch(ctx, CLGAN_K_gp_penalty_rows, 1, &gs, &ls,
                           CLGAN_ARGS(CLGAN_ARG_MEM(gbar), CLGAN_ARG_MEM(partial),
                                      CLGAN_ARG_MEM(g), CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                      CLGAN_ARG_F32(lambda)))) != CLGAN_OK)
        return st;
    const float scale[2] = {lambda / (float)rows, 1.0f / (float)rows};
    return clgan_rows_finish(ctx, metrics, partial, rows, 2, slot, 0, scale);
}

static clgan_status gp_act_rev(clgan_ctx *ctx, cl_mem ubar, cl_mem s, cl_mem deltabar, cl_mem u,
                               cl_mem y, int n, const clgan_layer_gp *v)
{
    size_t gs = (size_t)n, ls = clgan_local_size(ctx, CLGAN_K_gp_act_rev, 64);
    return clgan_launch(ctx, CLGAN_K_gp_act_rev, 1, &gs, &ls,
                        CLGAN_ARGS(CLGAN_ARG_MEM(ubar), CLGAN_ARG_MEM(s), CLGAN_ARG_MEM(deltabar),
                                   CLGAN_ARG_MEM(u), CLGAN_ARG_MEM(y), CLGAN_ARG_INT(n),
                                   CLGAN_ARG_INT(ubar != NULL), CLGAN_ARG_INT(v->act),
                                   CLGAN_ARG_F32(v->slope)));
}

/* GPU shapes: column tiles (gp_zbar_bias_cols), several row blocks through the scratch
 * and col_sums_finish. */
static clgan_status gp_zbar_bias_cols(clgan_ctx *ctx, cl_mem zbar, cl_mem hbar, cl_mem y,
                                      int rows, int cols, const clgan_layer_gp *v)
{
    clgan_col_shape s;
    cl_mem partial = NULL;
    clgan_status st;
    clgan_col_shape_get(ctx, CLGAN_K_gp_zbar_bias_cols, rows, cols, &s);
    int staged = v->db && s.blocks > 1;
    if (staged &&
        (st = clgan_scratch_get(ctx, (size_t)s.blocks * cols * sizeof(float), &partial)) != CLGAN_OK)
        return st;
    st = clgan_launch(ctx, CLGAN_K_gp_zbar_bias_cols, 2, s.global, s.local,
                      CLGAN_ARGS(CLGAN_ARG_MEM(zbar), CLGAN_ARG_MEM(v->db), CLGAN_ARG_MEM(partial),
                                 CLGAN_ARG_MEM(zbar), CLGAN_ARG_MEM(hbar), CLGAN_ARG_MEM(y),
                                 CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                 CLGAN_ARG_INT(hbar != NULL), CLGAN_ARG_INT(v->db != NULL),
                                 CLGAN_ARG_INT(v->act), CLGAN_ARG_F32(v->slope),
                                 CLGAN_ARG_INT(s.block_rows), CLGAN_ARG_INT(s.cw)));
    if (st == CLGAN_OK && staged)
        st = clgan_col_finish(ctx, NULL, 0, v->db, NULL, partial, s.blocks, cols, 1, 1);
    return st;
}

/* zbar = s + hbar * f'(y) in place (hbar NULL: 0), db += its per-channel sums: rows =
 * batch * pixels, cols = channels. */
static clgan_status gp_zbar_bias(clgan_ctx *ctx, cl_mem zbar, cl_mem hbar, cl_mem y, int rows,
                                 int cols, const clgan_layer_gp *v)
{
    if (!clgan_cpu_shapes(ctx))
        return gp_zbar_bias_cols(ctx, zbar, hbar, y, rows, cols, v);
    size_t gs = (size_t)cols, ls = clgan_local_size(ctx, CLGAN_K_gp_zbar_bias, 16);
    return clgan_launch(ctx, CLGAN_K_gp_zbar_bias, 1, &gs, &ls,
                        CLGAN_ARGS(CLGAN_ARG_MEM(zbar), CLGAN_ARG_MEM(v->db), CLGAN_ARG_MEM(zbar),
                                   CLGAN_ARG_MEM(hbar), CLGAN_ARG_MEM(y), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(cols), CLGAN_ARG_INT(hbar != NULL),
                                   CLGAN_ARG_INT(v->db != NULL), CLGAN_ARG_INT(v->act),
                                   CLGAN_ARG_F32(v->slope)));
}

clgan_status clgan_net_gradient_penalty_setup(clgan_net *d)
{
    clgan_net_parts p;
    clgan_status st;
    clgan_net_parts_get(d, &p);
    if ((st = gp_check(&p)) != CLGAN_OK)
        return st;
    return *p.gp ? CLGAN_OK : gp_setup(&p);
}

clgan_status clgan_net_gradient_penalty(clgan_net *d, cl_mem xhat, float lambda, cl_mem metrics,
                                        int slot)
{
    clgan_net_parts p;
    clgan_status st;
    clgan_net_parts_get(d, &p);
    if ((st = gp_check(&p)) != CLGAN_OK)
        return st;
    if (!*p.gp && (st = gp_setup(&p)) != CLGAN_OK)
        return st;
    if ((st = clgan_net_forward(d, xhat, CLGAN_MODE_TRAIN)) != CLGAN_OK)
        return st;

    clgan_gp *gp = *p.gp;
    clgan_ctx *ctx = p.ctx;
    const int L = p.n_layers, B = p.batch;
    const clgan_layer_gp *v = gp->v;
    const int *dim = gp->dim;
#define LY(l) (&p.layers[(l) - 1]) /* layer l, 1-based as in the banner */
#define ROWS(l) (B * LY(l)->out_shape.h * LY(l)->out_shape.w) /* bias rows of layer l */
#define COLS(l) (LY(l)->out_shape.c)

    /* 1. u_{l-1} = A_l^T(u_l * f'(z_l)) (a nonlinear layer: J_l^T u_l), l = L..1 */
    for (int l = L; l >= 1 && st == CLGAN_OK; l--) {
        if (v[l].nl) {
            st = v[l].nl->vjp(LY(l), ctx, gp->u[l - 1], gp->u[l], p.acts[l - 1], B);
            continue;
        }
        if (has_act(&v[l]))
            st = clgan_act_bwd_bias(ctx, gp->dl[l], NULL, gp->u[l], p.acts[l], ROWS(l), COLS(l),
                                    v[l].act, v[l].slope, 0);
        if (st == CLGAN_OK && v[l].lin)
            st = v[l].lin->adjoint(LY(l), ctx, gp->u[l - 1], gp->dl[l], B);
    }
    /* 2. penalty, metrics, gbar = ubar_0 into t[0] */
    int cur = 0; /* t[cur] holds ubar_{l-1} */
    if (st == CLGAN_OK)
        st = gp_penalty(ctx, gp->t[0], metrics, gp->u[0], B, dim[0], lambda, slot);
    /* 3. l = 1..L: deltabar_l, dW_l += gradW<A(ubar), delta_l>, ubar_l and s_l (into dl[l]);
     *    a nonlinear layer: ubar_l = J_l ubar_{l-1}, sx_l into dl[l], its dtheta */
    for (int l = 1; l <= L && st == CLGAN_OK; l++) {
        cl_mem deltabar = gp->t[cur];
        const clgan_linear_ops *op = v[l].lin;
        if (v[l].nl) {
            st = v[l].nl->rev(LY(l), ctx, gp->t[!cur], gp->dl[l], gp->t[cur], gp->u[l],
                              p.acts[l - 1], B);
            cur = !cur;
            continue;
        }
        if (op) {
            deltabar = gp->t[!cur];
            st = op->apply(LY(l), ctx, deltabar, gp->t[cur], B);
            if (st == CLGAN_OK && op->wgrad)
                st = op->wgrad(LY(l), ctx, gp->t[cur], gp->dl[l], B,
                               op->wgrad_done ? CLGAN_GRAD_SET : CLGAN_GRAD_ADD);
            cur = !cur;
        }
        /* ubar_l in place over deltabar (not needed after the last layer); s_l -> dl[l] */
        if (st == CLGAN_OK && has_act(&v[l]))
            st = gp_act_rev(ctx, l < L ? deltabar : NULL, gp->dl[l], deltabar, gp->u[l],
                            p.acts[l], B * dim[l], &v[l]);
    }
    /* 4. l = L..1: zbar_l (in place in dl[l], or hbar_l itself), dW_l, db_l, hbar_{l-1};
     *    a nonlinear layer: its own backward from hbar_l, plus sx_l */
    cl_mem hbar = NULL; /* hbar_L = 0 */
    for (int l = L; l >= 1 && st == CLGAN_OK; l--) {
        const clgan_linear_ops *op = v[l].lin;
        cl_mem zbar = gp->dl[l];
        if (v[l].nl) {
            cl_mem next = hbar == gp->t[0] ? gp->t[1] : gp->t[0];
            if (hbar)
                st = LY(l)->ops->backward(LY(l), ctx, l > 1 ? next : NULL, hbar, p.acts[l - 1],
                                          p.acts[l], B, CLGAN_GRAD_ADD);
            if (st == CLGAN_OK && l > 1 && hbar)
                st = clgan_add(ctx, next, next, zbar, B * dim[l - 1]);
            hbar = hbar ? next : zbar;
            continue;
        }
        if (has_act(&v[l])) {
            st = gp_zbar_bias(ctx, zbar, hbar, p.acts[l], ROWS(l), COLS(l), &v[l]);
        } else {
            if (!hbar)
                continue; /* zbar_l = 0: nothing here or below it until a layer adds s */
            zbar = hbar;
            if (v[l].db)
                st = gp_zbar_bias(ctx, zbar, NULL, p.acts[l], ROWS(l), COLS(l), &v[l]);
        }
        /* dW_l += gradW<A(h_{l-1}), zbar_l> */
        if (st == CLGAN_OK && op && op->wgrad)
            st = op->wgrad(LY(l), ctx, p.acts[l - 1], zbar, B, CLGAN_GRAD_ADD);
        if (l == 1 || st != CLGAN_OK)
            continue;
        /* hbar_{l-1} = A^T(zbar_l), into a t that is not zbar_l */
        if (op) {
            cl_mem next = zbar == gp->t[0] ? gp->t[1] : gp->t[0];
            st = op->adjoint(LY(l), ctx, next, zbar, B);
            hbar = next;
        } else {
            hbar = zbar;
        }
    }
    for (int l = 1; l <= L && st == CLGAN_OK; l++)
        if (v[l].lin && v[l].lin->wgrad_done)
            st = v[l].lin->wgrad_done(LY(l), ctx);
#undef LY
#undef ROWS
#undef COLS
    return st;
}

clgan_status clgan_interpolate(clgan_ctx *ctx, cl_mem xhat, cl_mem real, cl_mem fake, int rows,
                               int dim, uint64_t seed, long step, unsigned stream)
{
    return clgan_interpolate_at(ctx, xhat, real, fake, rows, dim, seed, step, stream, 0);
}

clgan_status clgan_interpolate_at(clgan_ctx *ctx, cl_mem xhat, cl_mem real, cl_mem fake, int rows,
                                  int dim, uint64_t seed, long step, unsigned stream, int row0)
{
    if (rows <= 0 || dim <= 0)
        return clgan_error(CLGAN_EINVAL, "interpolate needs rows > 0 and dim > 0 (got %d, %d)",
                           rows, dim);
    size_t gs = (size_t)rows * dim, ls = clgan_local_size(ctx, CLGAN_K_gp_interpolate, 64);
    uint64_t st = (uint64_t)step;
    return clgan_launch(ctx, CLGAN_K_gp_interpolate, 1, &gs, &ls,
                        CLGAN_ARGS(CLGAN_ARG_MEM(xhat), CLGAN_ARG_MEM(real), CLGAN_ARG_MEM(fake),
                                   CLGAN_ARG_INT(rows), CLGAN_ARG_INT(dim),
                                   CLGAN_ARG_UINT((cl_uint)seed),
                                   CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                   CLGAN_ARG_UINT((cl_uint)st), CLGAN_ARG_UINT((cl_uint)(st >> 32)),
                                   CLGAN_ARG_UINT(stream), CLGAN_ARG_INT(row0)));
}
