/* trainer.c - the GAN training schedule, entirely on the device.
 *
 * One iteration (the defaults are Keras-GAN gan/gan.py):
 *   D steps (--steps-d, default 1), each:
 *     x = random real batch (gather_batch_u8);  z ~ N(0, 1) (randn_fill)
 *     fake = G(z), G in inference mode by default (running BN statistics; Keras predict)
 *     [instance noise: D sees x + s*n and fake + s*n, s decaying linearly to 0]
 *     separate (Keras): one D update on x vs the real label, one on fake vs the fake label
 *     joint: one D update on both (+ the WGAN-GP penalty on interpolates)
 *     [WGAN: D's weights clamped to [-c, c] after each update]
 *   G steps (--steps-g, default 1), each: D(G(z)) vs the real label with G in training
 *     mode; D's input gradient feeds G's backward (the GAN coupling); D's weights are not
 *     updated and its weight gradients are not even computed.
 * With adam-shared-step every update (D's and G's) advances one step counter t, as
 * Keras-GAN's single optimizer object does; otherwise each network counts its own.
 *
 * Metrics: each loss evaluation writes (loss, accuracy, mean D output) into a device
 * ring of RING_BLOCKS blocks of BLOCK iterations (averaged over D's steps; the penalty
 * and the gradient norms hold the last D step's values); a finished
 * block is read back with a non-blocking read straight into the host history, and a
 * block's event is waited for only before its ring slot is reused. No other host-device
 * sync happens in a step.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"

#include "trainer_internal.h"

/* Uploads one set of (offset, count) segments. */
static clgan_status segments(clgan_trainer *t, int k, const int *off, const int *cnt, int n)
{
    clgan_status st;
    t->seg_n[k] = n;
    if ((st = clgan_buf_alloc(t->ctx, &t->seg_off[k], (size_t)n * 4, "monitor")) != CLGAN_OK ||
        (st = clgan_buf_alloc(t->ctx, &t->seg_cnt[k], (size_t)n * 4, "monitor")) != CLGAN_OK ||
        (st = clgan_buf_write(t->ctx, t->seg_off[k], 0, off, (size_t)n * 4)) != CLGAN_OK)
        return st;
    return clgan_buf_write(t->ctx, t->seg_cnt[k], 0, cnt, (size_t)n * 4);
}

/* The trained tensors of G and D as segments of their flat buffers, their names, and
 * the buffers that hold the weights before a monitored iteration. */
static clgan_status monitor_init(clgan_trainer *t)
{
    const clgan_net_view *v[2] = {clgan_net_get(t->view.g), clgan_net_get(t->view.d)};
    int off[CLGAN_M_COUNT], cnt[CLGAN_M_COUNT], total = 0;
    clgan_status st;
    t->names = calloc(CLGAN_M_COUNT, sizeof *t->names);
    t->info = calloc(CLGAN_M_COUNT, sizeof *t->info);
    if (!t->names || !t->info)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    t->view.tensor_names = t->names;
    t->view.tensor_info = t->info;
    for (int k = 0; k < 2; k++) {
        int n = 0;
        for (int i = 0; i < v[k]->n_tensors && total + n < CLGAN_M_MAX_TENSORS; i++) {
            if (!v[k]->tensors[i].trained)
                continue;
            off[n] = (int)v[k]->tensors[i].offset;
            cnt[n] = (int)v[k]->tensors[i].count;
            t->names[total + n] = v[k]->tensors[i].name;
            t->info[total + n] = &v[k]->tensors[i];
            n++;
        }
        if (k == 0) t->view.n_g_tensors = n;
        else t->view.n_d_tensors = n;
        total += n;
        if ((st = segments(t, k, off, cnt, n)) != CLGAN_OK)
            return st;
        int whole_off = 0, whole_cnt = (int)v[k]->n_params;
        if ((st = segments(t, 2 + k, &whole_off, &whole_cnt, 1)) != CLGAN_OK)
            return st;
    }
    if (t->cfg.monitor_every <= 0)
        return CLGAN_OK;
    if ((st = clgan_buf_alloc(t->ctx, &t->prev_g, v[0]->n_params * 4, "monitor")) != CLGAN_OK)
        return st;
    return clgan_buf_alloc(t->ctx, &t->prev_d, v[1]->n_params * 4, "monitor");
}

static clgan_status snapshots_init(clgan_trainer *t)
{
    const clgan_net_view *g = clgan_net_get(t->view.g), *d = clgan_net_get(t->view.d);
    clgan_status st = CLGAN_OK;
    for (int i = 0; i < SNAPSHOTS && st == CLGAN_OK; i++) {
        t->snap_block[i] = -1;
        if ((st = clgan_buf_alloc(t->ctx, &t->snap_g[i], g->n_params * 4, "snapshot")) == CLGAN_OK &&
            (st = clgan_buf_alloc(t->ctx, &t->snap_gs[i], g->n_state * 4 + 4, "snapshot")) == CLGAN_OK)
            st = clgan_buf_alloc(t->ctx, &t->snap_d[i], d->n_params * 4, "snapshot");
    }
    return st;
}

static clgan_status copy(clgan_trainer *t, cl_mem dst, cl_mem src, size_t bytes)
{
    return clgan_buf_copy(t->ctx, dst, 0, src, 0, bytes);
}

/* Copies G's and D's weights into the snapshot slot of block `block` (just finished). */
static clgan_status take_snapshot(clgan_trainer *t, long block)
{
    const clgan_net_view *g = clgan_net_get(t->view.g), *d = clgan_net_get(t->view.d);
    int i = (int)((block + 1) % SNAPSHOTS);
    clgan_status st;
    t->snap_block[i] = block;
    if ((st = copy(t, t->snap_g[i], g->params, g->n_params * 4)) != CLGAN_OK ||
        (st = copy(t, t->snap_gs[i], g->state, g->n_state * 4)) != CLGAN_OK)
        return st;
    return copy(t, t->snap_d[i], d->params, d->n_params * 4);
}

clgan_status clgan_trainer_snapshot(clgan_trainer *t, long block) { return take_snapshot(t, block); }

clgan_status clgan_trainer_restore_last_good(clgan_trainer *t)
{
    const clgan_net_view *g = clgan_net_get(t->view.g), *d = clgan_net_get(t->view.d);
    long block = t->view.last_good / BLOCK - 1; /* -1: the initial weights */
    int i = (int)((block + 1) % SNAPSHOTS);
    clgan_status st;
    if (t->view.last_good < 0 || t->snap_block[i] != block)
        return clgan_error(CLGAN_EINVAL, "no finite weight snapshot to restore");
    if ((st = copy(t, g->params, t->snap_g[i], g->n_params * 4)) != CLGAN_OK ||
        (st = copy(t, g->state, t->snap_gs[i], g->n_state * 4)) != CLGAN_OK ||
        (st = copy(t, d->params, t->snap_d[i], d->n_params * 4)) != CLGAN_OK)
        return st;
    return clgan_finish(t->ctx);
}

int clgan_trainer_monitored(const clgan_trainer *t, long it)
{
    return t->cfg.monitor_every > 0 && it % t->cfg.monitor_every == 0;
}

static clgan_status norms(clgan_trainer *t, int k, cl_mem a, cl_mem b, int slot)
{
    size_t l = (size_t)clgan_tunable(t->ctx, CLGAN_T_MON_WG), g = (size_t)t->seg_n[k] * l;
    return clgan_launch(t->ctx, CLGAN_K_tensor_norms, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(t->ring), CLGAN_ARG_MEM(a), CLGAN_ARG_MEM(b),
                                   CLGAN_ARG_MEM(t->seg_off[k]), CLGAN_ARG_MEM(t->seg_cnt[k]),
                                   CLGAN_ARG_INT(t->seg_n[k]), CLGAN_ARG_INT(b != NULL),
                                   CLGAN_ARG_INT(slot)));
}

/* After a monitored iteration: per-tensor gradient norms (of the last G and D updates),
 * per-tensor update and weight norms (gan.h has the layout), and the size of the
 * iteration's updates relative to the weights for each whole network. */
static clgan_status monitor(clgan_trainer *t, int slot)
{
    const clgan_net_view *g = clgan_net_get(t->view.g), *d = clgan_net_get(t->view.d);
    clgan_status st;
    int ng = t->view.n_g_tensors, nt = ng + t->view.n_d_tensors;
    int base = slot + CLGAN_M_TENSORS;
    if ((st = norms(t, 0, g->grads, NULL, base)) != CLGAN_OK ||
        (st = norms(t, 1, d->grads, NULL, base + ng)) != CLGAN_OK ||
        (st = norms(t, 0, g->params, t->prev_g, base + nt)) != CLGAN_OK ||
        (st = norms(t, 1, d->params, t->prev_d, base + nt + ng)) != CLGAN_OK ||
        (st = norms(t, 0, g->params, NULL, base + 2 * nt)) != CLGAN_OK ||
        (st = norms(t, 1, d->params, NULL, base + 2 * nt + ng)) != CLGAN_OK ||
        (st = norms(t, 2, g->params, t->prev_g, slot + CLGAN_M_G_UPDATE)) != CLGAN_OK ||
        (st = norms(t, 2, g->params, NULL, slot + CLGAN_M_G_WEIGHT)) != CLGAN_OK ||
        (st = norms(t, 3, d->params, t->prev_d, slot + CLGAN_M_D_UPDATE)) != CLGAN_OK)
        return st;
    return norms(t, 3, d->params, NULL, slot + CLGAN_M_D_WEIGHT);
}

/* Scans iterations [a, b) of the host history for NaN/Inf in what was measured. */
static void check_finite(clgan_trainer *t, long a, long b)
{
    int n_mon = t->view.n_g_tensors + t->view.n_d_tensors;
    for (long i = a; i < b && t->view.nonfinite_at < 0; i++) {
        const float *h = t->history + (size_t)i * CLGAN_M_COUNT;
        int n = clgan_trainer_monitored(t, i) ? CLGAN_M_TENSORS + 3 * n_mon : CLGAN_M_G_DGZ + 1;
        for (int m = 0; m < n; m++)
            if (!isfinite(h[m]) && (m < CLGAN_M_GP || m > CLGAN_M_G_GNORM_CLIPPED || t->cfg.gp_lambda > 0)) {
                t->view.nonfinite_at = i;
                break;
            }
    }
    /* A block [a, b) that was all finite certifies the weights it started from (the
     * snapshot taken at a): the weights after its own last update are only tested by
     * the next block's losses. When a NaN shows in block c (read back at the start of
     * block c + 2), the certified snapshot is that of c - 1's start, taken at the end
     * of block c - 2: four slots keep it. */
    if (t->view.nonfinite_at < 0 && b % BLOCK == 0)
        t->view.last_good = b - BLOCK;
}

static clgan_opt_opts opt_opts(const clgan_net_config *n, const clgan_config *c)
{
    clgan_opt_opts o = {
        .kind = (clgan_opt_kind)n->optimizer, .lr = n->lr, .beta1 = n->beta1, .beta2 = n->beta2,
        .eps = n->eps, .form = (clgan_adam_form)c->adam_form, .momentum = n->momentum,
        .nesterov = n->nesterov, .alpha = n->alpha, .l2 = n->l2, .weight_decay = n->weight_decay,
        .clip_value = n->clip_value, .clip_norm = n->clip_norm};
    return o;
}

static clgan_status upload(clgan_trainer *t, cl_mem m, const float *src, size_t floats)
{
    return clgan_buf_write(t->ctx, m, 0, src, floats * sizeof(float));
}

/* State buffers of n floats an optimizer of these options keeps (optim.c's rules). */
static int opt_states(const clgan_net_config *n)
{
    return n->optimizer == CLGAN_OPT_ADAM ? 2 : n->optimizer == CLGAN_OPT_RMSPROP ? 1
         : n->momentum > 0 ? 1 : 0;
}

clgan_status clgan_trainer_plan(clgan_mem_plan *p, clgan_ctx *ctx, const clgan_config *c,
                                size_t count, clgan_shape img)
{
    clgan_net *g = NULL, *d = NULL;
    clgan_status st;
    const int dim = clgan_shape_size(img);
    if ((st = clgan_model_layers(&g, ctx, c, img, c->batch, 0)) != CLGAN_OK ||
        (st = clgan_model_layers(&d, ctx, c, img, c->batch, 1)) != CLGAN_OK ||
        (st = clgan_plan_net(p, g, "G")) != CLGAN_OK || (st = clgan_plan_net(p, d, "D")) != CLGAN_OK)
        goto done;
    const clgan_net_view *gv = clgan_net_get(g), *dv = clgan_net_get(d);
    const size_t gp = gv->n_params * 4, gs = gv->n_state * 4, dp = dv->n_params * 4;
    const size_t b = (size_t)c->batch, bx = b * (size_t)dim * 4, bz = b * (size_t)c->latent * 4;
    clgan_plan_add(p, "optimizer state", 1, (size_t)opt_states(&c->g) * gp);
    clgan_plan_add(p, "optimizer state", 1, (size_t)opt_states(&c->d) * dp);
    clgan_plan_add(p, "weight snapshots", 1, SNAPSHOTS * (gp + gs + 4 + dp));
    if (c->monitor_every > 0)
        clgan_plan_add(p, "weights before a monitored step", 1, gp + dp);
    clgan_plan_add(p, "batches and noise", 1,
                   bx * (1 + (c->instance_noise > 0) * 2 + (c->gp_lambda > 0)) + 3 * bz);
    if (c->gp_lambda > 0) { /* gradpen.c's scratch: about 2 batch (in + sum of widths) */
        size_t widths = 1;
        for (int i = 0; i < c->d.n_layers; i++)
            widths += (size_t)c->d.layers[i];
        clgan_plan_add(p, "gradient penalty", 1, 2 * (bx + b * widths * 4));
    }
    clgan_plan_add(p, "metrics ring", 1, RING_BLOCKS * BLOCK * CLGAN_M_COUNT * 4);
    clgan_plan_add(p, "data set", 1, count * (size_t)dim);
    clgan_plan_largest(p, "the data set", count * (size_t)dim);
    /* Host: the metrics history of every iteration, and a checkpoint's copies. */
    clgan_plan_add(p, "metrics history", 0, (size_t)(c->iterations + 1) * CLGAN_M_COUNT * 4);
    clgan_plan_add(p, "checkpoint copies", 0, (size_t)(2 + opt_states(&c->g)) * gp + gs +
                   (size_t)(2 + opt_states(&c->d)) * dp + dv->n_state * 4);
done:
    clgan_net_free(g);
    clgan_net_free(d);
    return st;
}

clgan_status clgan_trainer_init(clgan_trainer **out, clgan_ctx *ctx, const clgan_config *c,
                                const uint8_t *data, size_t count, clgan_shape img)
{
    clgan_status st;
    *out = NULL;
    clgan_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    t->ctx = ctx;
    t->cfg = *c;
    t->ranks = 1; /* clgan_trainer_set_dist */
    const int dim = clgan_shape_size(img);
    t->view.img_dim = dim;
    t->view.img = img;
    t->count = count;
    t->history_cap = c->iterations + 1;
    t->history = calloc((size_t)t->history_cap * CLGAN_M_COUNT, sizeof(float));
    if (!t->history) {
        free(t);
        return clgan_error(CLGAN_ENOMEM, "out of memory for %ld iterations of metrics", c->iterations);
    }
    t->view.history = t->history;
    clgan_opt_opts og = opt_opts(&c->g, c), od = opt_opts(&c->d, c);
    size_t b = (size_t)c->batch;
    if (c->g.steps > MAX_STEPS || c->d.steps > MAX_STEPS) {
        clgan_trainer_free(t);
        return clgan_error(CLGAN_EINVAL, "at most %d D and %d G steps per iteration", MAX_STEPS,
                           MAX_STEPS);
    }
    if ((st = clgan_model_generator(&t->view.g, ctx, c, img, c->batch)) != CLGAN_OK ||
        (st = clgan_model_discriminator(&t->view.d, ctx, c, img, c->batch)) != CLGAN_OK ||
        (st = clgan_opt_init(&t->opt_g, ctx, clgan_net_get(t->view.g)->n_params, og)) != CLGAN_OK ||
        (st = clgan_opt_init(&t->opt_d, ctx, clgan_net_get(t->view.d)->n_params, od)) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &t->real, b * dim * 4, "real batch")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &t->noise_d, b * c->latent * 4, "noise")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &t->noise_g, b * c->latent * 4, "noise")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &t->sample_noise, b * c->latent * 4, "sample noise")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &t->ring, RING_BLOCKS * BLOCK * CLGAN_M_COUNT * 4,
                              "metrics ring")) != CLGAN_OK)
        goto fail;
    if (c->instance_noise > 0 &&
        ((st = clgan_buf_alloc(ctx, &t->noisy_real, b * dim * 4, "instance noise")) != CLGAN_OK ||
         (st = clgan_buf_alloc(ctx, &t->noisy_fake, b * dim * 4, "instance noise")) != CLGAN_OK))
        goto fail;
    if (c->gp_lambda > 0 &&
        (st = clgan_buf_alloc(ctx, &t->xhat, b * dim * 4, "interpolates")) != CLGAN_OK)
        goto fail;
    if ((st = monitor_init(t)) != CLGAN_OK || (st = snapshots_init(t)) != CLGAN_OK)
        goto fail;
    clgan_loss_reserve(ctx, c->batch * clgan_net_get(t->view.d)->out_dim);
    if (c->gp_lambda > 0 && (st = clgan_net_gradient_penalty_setup(t->view.d)) != CLGAN_OK)
        goto fail;
    if (data && count) {
        if ((st = clgan_buf_alloc(ctx, &t->data, count * (size_t)dim, "data set")) != CLGAN_OK ||
            (st = clgan_buf_write(ctx, t->data, 0, data, count * (size_t)dim)) != CLGAN_OK)
            goto fail;
    }
    for (int i = 0; i < RING_BLOCKS; i++)
        t->ev_block[i] = -1;
    t->view.nonfinite_at = -1;
    t->view.last_good = 0;
    if ((st = take_snapshot(t, -1)) != CLGAN_OK) /* the initial weights */
        goto fail;
    /* The scratch at its reserved size and CLBlast's kernels for every planned shape,
     * now, so the first step is an ordinary one (runtime.h). */
    if ((st = clgan_ctx_warmup(ctx)) != CLGAN_OK)
        goto fail;
    *out = t;
    return CLGAN_OK;
fail:
    clgan_trainer_free(t);
    return st;
}

void clgan_trainer_free(clgan_trainer *t)
{
    if (!t)
        return;
    for (int i = 0; i < RING_BLOCKS; i++)
        if (t->ev[i]) {
            clWaitForEvents(1, &t->ev[i]);
            clReleaseEvent(t->ev[i]);
        }
    clgan_buf_release(&t->ring);
    for (int i = 0; i < 4; i++) {
        clgan_buf_release(&t->seg_off[i]);
        clgan_buf_release(&t->seg_cnt[i]);
    }
    clgan_buf_release(&t->prev_g);
    clgan_buf_release(&t->prev_d);
    for (int i = 0; i < SNAPSHOTS; i++) {
        clgan_buf_release(&t->snap_g[i]);
        clgan_buf_release(&t->snap_gs[i]);
        clgan_buf_release(&t->snap_d[i]);
    }
    free(t->names);
    free(t->info);
    clgan_buf_release(&t->xhat);
    clgan_buf_release(&t->noisy_fake);
    clgan_buf_release(&t->noisy_real);
    clgan_buf_release(&t->sample_noise);
    clgan_buf_release(&t->noise_g);
    clgan_buf_release(&t->noise_d);
    clgan_buf_release(&t->real);
    clgan_buf_release(&t->data);
    clgan_opt_free(t->opt_d);
    clgan_opt_free(t->opt_g);
    clgan_net_free(t->view.d);
    clgan_net_free(t->view.g);
    free(t->history);
    free(t);
}

const clgan_trainer_view *clgan_trainer_get(const clgan_trainer *t) { return &t->view; }

static clgan_status randn(clgan_trainer *t, cl_mem out, int n, long step, unsigned stream)
{
    /* A rank's n values are counters rank * n / 4 on of the global stream. */
    return clgan_randn_fill_at(t->ctx, out, n, t->cfg.seed, (uint64_t)step, stream,
                               (uint32_t)((size_t)t->rank * (size_t)n / 4));
}

static clgan_status gather_real(clgan_trainer *t, long step)
{
    if (!t->data)
        return clgan_error(CLGAN_EINVAL, "trainer has no data set");
    return clgan_gather_rows_at(t->ctx, t->real, t->data, t->cfg.batch, t->view.img_dim, t->count,
                                t->cfg.seed, (uint64_t)step, STREAM_REAL, t->rank * t->cfg.batch);
}

/* D's input for `x`: x itself, or x plus instance noise in `noisy`. */
static clgan_status d_input(clgan_trainer *t, cl_mem *out, cl_mem x, cl_mem noisy, long draw,
                            unsigned stream)
{
    const clgan_config *c = &t->cfg;
    float sigma = 0.0f;
    *out = x;
    if (c->instance_noise > 0) {
        double left = 1.0 - (double)t->view.iteration / (double)c->instance_noise_decay;
        sigma = left > 0 ? (float)(c->instance_noise * left) : 0.0f;
    }
    if (sigma <= 0.0f)
        return CLGAN_OK;
    int n = c->batch * t->view.img_dim;
    size_t g = (size_t)(n + 3) / 4, l = clgan_local_size(t->ctx, CLGAN_K_add_noise, 64);
    uint64_t s = c->seed;
    *out = noisy;
    return clgan_launch(t->ctx, CLGAN_K_add_noise, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(noisy), CLGAN_ARG_MEM(x), CLGAN_ARG_INT(n),
                                   CLGAN_ARG_F32(sigma), CLGAN_ARG_UINT((cl_uint)s),
                                   CLGAN_ARG_UINT((cl_uint)(s >> 32)), CLGAN_ARG_UINT((cl_uint)draw),
                                   CLGAN_ARG_UINT((cl_uint)((uint64_t)draw >> 32)),
                                   CLGAN_ARG_UINT(stream),
                                   CLGAN_ARG_UINT((cl_uint)((size_t)t->rank * (size_t)n / 4))));
}

/* The loss settings for `role`; metrics averaged over D's k-th of n steps. */
static clgan_loss_args loss_args(const clgan_trainer *t, clgan_role role, long draw, int k, int n)
{
    const clgan_config *c = &t->cfg;
    clgan_loss_args a = {.kind = (clgan_loss)c->loss, .role = role, .sign = 1.0f,
                         .clip = c->bce_clip, .seed = c->seed, .step = (uint32_t)draw,
                         .accumulate = k > 0, .weight = 1.0f / (float)n,
                         .first = (uint32_t)t->rank * (uint32_t)c->batch};
    a.target = role == CLGAN_ROLE_D_REAL ? 1.0f - c->label_smoothing
               : role == CLGAN_ROLE_D_FAKE ? 0.0f : 1.0f;
    if (role != CLGAN_ROLE_G) {
        a.flip = c->label_flip;
        a.stream = role == CLGAN_ROLE_D_REAL ? STREAM_FLIP_REAL : STREAM_FLIP_FAKE;
    } else if (c->g_loss_minimax) {
        a.target = 0.0f; /* G minimizes log(1 - D(G(z))) = -BCE(D(G(z)), 0) */
        a.sign = -1.0f;
    }
    return a;
}

/* D forward on x, the loss for `role`, and backward into D's gradients (`grads`: SET
 * for the first pass of an update, ADD after). */
static clgan_status d_pass(clgan_trainer *t, cl_mem x, clgan_role role, int slot, long draw, int k,
                           int grads)
{
    clgan_net *d = t->view.d;
    const clgan_net_view *dv = clgan_net_get(d);
    clgan_loss_args a = loss_args(t, role, draw, k, t->cfg.d.steps);
    clgan_status st;
    if ((st = clgan_net_forward(d, x, CLGAN_MODE_TRAIN)) != CLGAN_OK ||
        (st = clgan_loss_eval(t->ctx, clgan_net_dout(d), t->ring, slot, dv->out, t->cfg.batch,
                              &a)) != CLGAN_OK)
        return st;
    return clgan_net_backward(d, clgan_net_dout(d), grads, 0);
}

/* D's optimizer step, then WGAN weight clipping. */
static clgan_status d_step(clgan_trainer *t, int slot)
{
    const clgan_net_view *dv = clgan_net_get(t->view.d);
    long step = ++t->t_d;
    int norms = t->cfg.d.clip_norm > 0;
    clgan_status st = clgan_trainer_reduce_grads(t, dv->grads, dv->n_params, "D's gradients");
    if (st == CLGAN_OK)
        st = clgan_opt_step(t->opt_d, dv->params, dv->grads, step, norms ? t->ring : NULL,
                                     slot + CLGAN_M_D_GNORM);
    if (st == CLGAN_OK && t->cfg.clip_weights > 0)
        st = clgan_weight_clip(t->ctx, dv->params, dv->n_params, t->cfg.clip_weights);
    return st;
}

/* D's k-th step of the iteration on real and fake batches (already drawn). */
static clgan_status d_update(clgan_trainer *t, cl_mem real, cl_mem fake, int slot, long draw, int k)
{
    clgan_net *d = t->view.d;
    cl_mem xr, xf;
    clgan_status st;
    if ((st = d_input(t, &xr, real, t->noisy_real, draw, STREAM_INST_REAL)) != CLGAN_OK ||
        (st = d_input(t, &xf, fake, t->noisy_fake, draw, STREAM_INST_FAKE)) != CLGAN_OK)
        return st;
    if (!t->cfg.d_joint) {
        if ((st = d_pass(t, xr, CLGAN_ROLE_D_REAL, slot + CLGAN_M_D_LOSS_REAL, draw, k,
                         CLGAN_GRAD_SET)) != CLGAN_OK ||
            (st = d_step(t, slot)) != CLGAN_OK ||
            (st = d_pass(t, xf, CLGAN_ROLE_D_FAKE, slot + CLGAN_M_D_LOSS_FAKE, draw, k,
                         CLGAN_GRAD_SET)) != CLGAN_OK)
            return st;
        return d_step(t, slot);
    }
    if ((st = d_pass(t, xr, CLGAN_ROLE_D_REAL, slot + CLGAN_M_D_LOSS_REAL, draw, k,
                     CLGAN_GRAD_SET)) != CLGAN_OK ||
        (st = d_pass(t, xf, CLGAN_ROLE_D_FAKE, slot + CLGAN_M_D_LOSS_FAKE, draw, k,
                     CLGAN_GRAD_ADD)) != CLGAN_OK)
        return st;
    if (t->cfg.gp_lambda > 0) {
        if ((st = clgan_interpolate_at(t->ctx, t->xhat, real, fake, t->cfg.batch,
                                       t->view.img_dim, t->cfg.seed, draw, STREAM_INTERP,
                                       t->rank * t->cfg.batch)) != CLGAN_OK ||
            (st = clgan_net_gradient_penalty(d, t->xhat, t->cfg.gp_lambda, t->ring,
                                             slot + CLGAN_M_GP)) != CLGAN_OK)
            return st;
    }
    return d_step(t, slot);
}

/* One G update through D with the real label; metrics at `slot`. */
static clgan_status g_update(clgan_trainer *t, cl_mem z, int slot, long draw, int k)
{
    clgan_net *g = t->view.g, *d = t->view.d;
    const clgan_net_view *gv = clgan_net_get(g), *dv = clgan_net_get(d);
    clgan_loss_args a = loss_args(t, CLGAN_ROLE_G, draw, k, t->cfg.g.steps);
    cl_mem x;
    clgan_status st;
    long step = t->cfg.shared_t ? ++t->t_d : ++t->t_g;
    int norms = t->cfg.g.clip_norm > 0;
    if ((st = clgan_net_forward(g, z, CLGAN_MODE_TRAIN)) != CLGAN_OK ||
        (st = d_input(t, &x, gv->out, t->noisy_fake, draw, STREAM_INST_FAKE)) != CLGAN_OK ||
        (st = clgan_net_forward(d, x, CLGAN_MODE_TRAIN)) != CLGAN_OK ||
        (st = clgan_loss_eval(t->ctx, clgan_net_dout(d), t->ring, slot + CLGAN_M_G_LOSS, dv->out,
                              t->cfg.batch, &a)) != CLGAN_OK ||
        (st = clgan_net_backward(d, clgan_net_dout(d), CLGAN_GRAD_NONE, 1)) != CLGAN_OK ||
        (st = clgan_net_backward(g, dv->dinput, CLGAN_GRAD_SET, 0)) != CLGAN_OK ||
        (st = clgan_trainer_reduce_grads(t, gv->grads, gv->n_params, "G's gradients")) != CLGAN_OK)
        return st;
    return clgan_opt_step(t->opt_g, gv->params, gv->grads, step, norms ? t->ring : NULL,
                          slot + CLGAN_M_G_GNORM);
}

/* Waits for the pending read of ring slot `r`, if any. */
static clgan_status wait_slot(clgan_trainer *t, int r)
{
    if (!t->ev[r])
        return CLGAN_OK;
    cl_int err = clWaitForEvents(1, &t->ev[r]);
    clReleaseEvent(t->ev[r]);
    t->ev[r] = NULL;
    if (err != CL_SUCCESS)
        return clgan_cl_fail(t->ctx, "clWaitForEvents(metrics)", err);
    long end = (t->ev_block[r] + 1) * BLOCK;
    if (end > t->view.iteration)
        end = t->view.iteration;
    if (end > t->view.synced) {
        check_finite(t, t->view.synced, end);
        t->view.synced = end;
    }
    return CLGAN_OK;
}

/* Queues the read-back of iterations [first, last) which all sit in one ring slot. */
static clgan_status read_block(clgan_trainer *t, long first, long last)
{
    long block = first / BLOCK;
    int r = (int)(block % RING_BLOCKS);
    size_t off = ((size_t)(first % BLOCK) + (size_t)r * BLOCK) * CLGAN_M_COUNT * 4;
    clgan_status st = wait_slot(t, r);
    if (st != CLGAN_OK || last <= first)
        return st;
    t->ev_block[r] = block;
    return clgan_buf_read_async(t->ctx, t->ring, off, t->history + (size_t)first * CLGAN_M_COUNT,
                                (size_t)(last - first) * CLGAN_M_COUNT * 4, &t->ev[r]);
}

/* One iteration; real/noise_d/noise_g NULL: drawn on the device, else taken from the
 * host: real (d_steps, batch, dim), noise_d (d_steps, batch, latent), noise_g
 * (g_steps, batch, latent). */
static clgan_status iteration(clgan_trainer *t, const float *real, const float *noise_d,
                              const float *noise_g)
{
    clgan_status st;
    const clgan_config *c = &t->cfg;
    long it = t->view.iteration;
    int slot = (int)((it % (RING_BLOCKS * BLOCK)) * CLGAN_M_COUNT);
    int zn = c->batch * c->latent;
    cl_mem fake = clgan_net_get(t->view.g)->out;
    if (it >= t->history_cap)
        return clgan_error(CLGAN_EINVAL, "trainer ran past its %ld configured iterations",
                           t->history_cap - 1);
    /* Before writing into a ring slot, its previous read must be complete. */
    if (it % BLOCK == 0 && (st = wait_slot(t, (int)((it / BLOCK) % RING_BLOCKS))) != CLGAN_OK)
        return st;
    size_t rn = (size_t)c->batch * t->view.img_dim;
    int mon = clgan_trainer_monitored(t, it);
    if (mon && ((st = copy(t, t->prev_g, clgan_net_get(t->view.g)->params,
                           clgan_net_get(t->view.g)->n_params * 4)) != CLGAN_OK ||
                (st = copy(t, t->prev_d, clgan_net_get(t->view.d)->params,
                           clgan_net_get(t->view.d)->n_params * 4)) != CLGAN_OK))
        return st;
    for (int k = 0; k < c->d.steps; k++) {
        long dr = it * DRAWS + k;
        if (real ? ((st = upload(t, t->real, real + k * rn, rn)) != CLGAN_OK ||
                    (st = upload(t, t->noise_d, noise_d + (size_t)k * zn, zn)) != CLGAN_OK)
                 : ((st = gather_real(t, dr)) != CLGAN_OK ||
                    (st = randn(t, t->noise_d, zn, dr, STREAM_NOISE_D)) != CLGAN_OK))
            return st;
        if ((st = clgan_net_forward(t->view.g, t->noise_d,
                                    c->fake_eval ? CLGAN_MODE_EVAL : CLGAN_MODE_TRAIN)) != CLGAN_OK ||
            (st = d_update(t, t->real, fake, slot, dr, k)) != CLGAN_OK)
            return st;
    }
    for (int k = 0; k < c->g.steps; k++) {
        long dr = it * DRAWS + MAX_STEPS + k;
        if (noise_g ? (st = upload(t, t->noise_g, noise_g + (size_t)k * zn, zn)) != CLGAN_OK
                    : (st = randn(t, t->noise_g, zn, dr, STREAM_NOISE_G)) != CLGAN_OK)
            return st;
        if ((st = g_update(t, t->noise_g, slot, dr, k)) != CLGAN_OK)
            return st;
    }
    if ((st = clgan_trainer_reduce_metrics(t, slot)) != CLGAN_OK ||
        (mon && (st = monitor(t, slot)) != CLGAN_OK))
        return st;
    t->view.iteration = ++it;
    if (it % BLOCK == 0 && ((st = take_snapshot(t, it / BLOCK - 1)) != CLGAN_OK ||
                            (st = read_block(t, it - BLOCK, it)) != CLGAN_OK))
        return st;
    return CLGAN_OK;
}

clgan_status clgan_trainer_step(clgan_trainer *t) { return iteration(t, NULL, NULL, NULL); }

clgan_status clgan_trainer_step_with(clgan_trainer *t, const float *real, const float *noise_d,
                                     const float *noise_g)
{
    if (!real || !noise_d || !noise_g)
        return clgan_error(CLGAN_EINVAL, "step_with needs real, noise_d and noise_g");
    return iteration(t, real, noise_d, noise_g);
}

clgan_status clgan_trainer_sync(clgan_trainer *t)
{
    long it = t->view.iteration;
    clgan_status st;
    long first = it - it % BLOCK;
    if ((st = read_block(t, first, it)) != CLGAN_OK)
        return st;
    for (int r = 0; r < RING_BLOCKS; r++)
        if ((st = wait_slot(t, r)) != CLGAN_OK)
            return st;
    if (it > t->view.synced)
        check_finite(t, t->view.synced, it);
    t->view.synced = it;
    return CLGAN_OK;
}

/* G in inference mode over chunks of the fixed noise of `stream` (chunk k is always the
 * same numbers), into the device buffer `dev` or the host array `host`. */
static clgan_status sample_to(clgan_trainer *t, cl_mem dev, float *host, int n, unsigned stream)
{
    clgan_net *g = t->view.g;
    const clgan_net_view *gv = clgan_net_get(g);
    int b = t->cfg.batch, dim = t->view.img_dim;
    clgan_status st = CLGAN_OK;
    for (int done = 0, chunk = 0; done < n && st == CLGAN_OK; chunk++) {
        int rows = n - done < b ? n - done : b;
        size_t bytes = (size_t)rows * dim * 4;
        if ((st = randn(t, t->sample_noise, b * t->cfg.latent, chunk, stream)) != CLGAN_OK ||
            (st = clgan_net_forward(g, t->sample_noise, CLGAN_MODE_EVAL)) != CLGAN_OK)
            break;
        st = dev ? clgan_buf_copy(t->ctx, dev, (size_t)done * dim * 4, gv->out, 0, bytes)
                 : clgan_buf_read(t->ctx, gv->out, 0, host + (size_t)done * dim, bytes);
        done += rows;
    }
    return st;
}

clgan_status clgan_trainer_sample_device(clgan_trainer *t, cl_mem out, int n)
{
    return sample_to(t, out, NULL, n, STREAM_EVAL);
}

clgan_status clgan_trainer_sample(clgan_trainer *t, float *out, int n)
{
    return sample_to(t, NULL, out, n, STREAM_SAMPLE);
}
