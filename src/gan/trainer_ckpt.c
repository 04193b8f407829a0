/* trainer_ckpt.c - the trainer's part of a training checkpoint: both networks, their
 * optimizers' state, the weight snapshots still needed, the current block's metrics and
 * the counters; and loading them into a new trainer. The run's records are resume.c's. */
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "trainer_internal.h"

/* The names of an optimizer's state buffers, as a checkpoint stores them. */
static const char *opt_state_name(const clgan_opt *o, int k)
{
    switch (clgan_opt_get_opts(o).kind) {
    case CLGAN_OPT_ADAM: return k ? "adam_v" : "adam_m";
    case CLGAN_OPT_RMSPROP: return "rmsprop_v";
    default: return "momentum";
    }
}

/* The snapshot blocks a continued run may still restore: a NaN found after iteration
 * `it` certifies at worst the start of the block before it (check_finite). */
static int needed_snapshots(const clgan_trainer *t, long it, long out[2])
{
    int n = 0;
    for (long b = it / BLOCK - 2; b <= it / BLOCK - 1; b++)
        if (b >= -1 && t->snap_block[(b + 1) % SNAPSHOTS] == b)
            out[n++] = b;
    return n;
}

/* One network (prefix "g" or "d"): every tensor, and every optimizer state buffer sliced
 * the same way ("g/dense0.kernel", "g/adam_m/dense0.kernel"). */
static clgan_status save_net(clgan_trainer *t, clgan_ckpt *k, clgan_net *net, clgan_opt *opt,
                             const char *prefix)
{
    const clgan_net_view *v = clgan_net_get(net);
    cl_mem sb[2];
    int ns = clgan_opt_state(opt, sb);
    float *hp = malloc((v->n_params + 1) * 4), *hs = malloc((v->n_state + 1) * 4);
    float *ho = malloc((v->n_params + 1) * 4);
    char name[96];
    clgan_status st = hp && hs && ho ? clgan_net_read_params(net, hp, hs)
                                     : clgan_error(CLGAN_ENOMEM, "out of memory");
    for (int i = 0; i < v->n_tensors && st == CLGAN_OK; i++) {
        const clgan_tensor_info *ti = &v->tensors[i];
        snprintf(name, sizeof name, "%s/%s", prefix, ti->name);
        st = clgan_ckpt_put(k, name, (ti->trained ? hp : hs) + ti->offset, ti->ndim, ti->shape);
    }
    for (int s = 0; s < ns && st == CLGAN_OK; s++) {
        st = clgan_buf_read(t->ctx, sb[s], 0, ho, v->n_params * 4);
        for (int i = 0; i < v->n_tensors && st == CLGAN_OK; i++) {
            const clgan_tensor_info *ti = &v->tensors[i];
            if (!ti->trained)
                continue;
            snprintf(name, sizeof name, "%s/%s/%s", prefix, opt_state_name(opt, s), ti->name);
            st = clgan_ckpt_put(k, name, ho + ti->offset, ti->ndim, ti->shape);
        }
    }
    free(hp);
    free(hs);
    free(ho);
    return st;
}

/* A whole device buffer of n floats as a 1-D tensor. */
static clgan_status save_buffer(clgan_trainer *t, clgan_ckpt *k, const char *name, cl_mem m,
                                size_t n)
{
    float *h = malloc((n + 1) * 4);
    if (!h)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    clgan_status st = n ? clgan_buf_read(t->ctx, m, 0, h, n * 4) : CLGAN_OK;
    if (st != CLGAN_OK) {
        free(h);
        return st;
    }
    return clgan_ckpt_take(k, name, h, 1, &n);
}

clgan_status clgan_trainer_save(clgan_trainer *t, clgan_ckpt *k)
{
    const clgan_net_view *g = clgan_net_get(t->view.g), *d = clgan_net_get(t->view.d);
    long it = t->view.iteration, snaps[2], first = it - it % BLOCK;
    uint32_t draws[2][16];
    int nd[2] = {clgan_net_draws(t->view.g, draws[0], 16), clgan_net_draws(t->view.d, draws[1], 16)};
    char list[64] = "", key[64], name[96];
    clgan_status st = clgan_trainer_sync(t);
    if (st == CLGAN_OK && (nd[0] > 16 || nd[1] > 16))
        st = clgan_error(CLGAN_EINVAL, "more than 16 dropout layers in a network");
    if (st != CLGAN_OK || (st = save_net(t, k, t->view.g, t->opt_g, "g")) != CLGAN_OK ||
        (st = save_net(t, k, t->view.d, t->opt_d, "d")) != CLGAN_OK)
        return st;
    int n = needed_snapshots(t, it, snaps);
    for (int i = 0; i < n && st == CLGAN_OK; i++) {
        int slot = (int)((snaps[i] + 1) % SNAPSHOTS);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%ld", i ? "," : "", snaps[i]);
        snprintf(key, sizeof key, "trainer.snapshot.%ld", snaps[i]);
        if ((snaps[i] + 1) * BLOCK == it) { /* taken at this iteration: the current weights */
            st = clgan_ckpt_meta(k, key, "current");
            continue;
        }
        st = clgan_ckpt_meta(k, key, "stored");
        snprintf(name, sizeof name, "snapshot/%ld/g.params", snaps[i]);
        if (st == CLGAN_OK)
            st = save_buffer(t, k, name, t->snap_g[slot], g->n_params);
        snprintf(name, sizeof name, "snapshot/%ld/g.state", snaps[i]);
        if (st == CLGAN_OK)
            st = save_buffer(t, k, name, t->snap_gs[slot], g->n_state);
        snprintf(name, sizeof name, "snapshot/%ld/d.params", snaps[i]);
        if (st == CLGAN_OK)
            st = save_buffer(t, k, name, t->snap_d[slot], d->n_params);
    }
    if (st == CLGAN_OK && it > first) { /* the current block's metrics, for its ring slot */
        size_t shape[2] = {(size_t)(it - first), CLGAN_M_COUNT};
        st = clgan_ckpt_put(k, "trainer/ring", t->history + (size_t)first * CLGAN_M_COUNT, 2, shape);
    }
    char dl[2][200] = {"", ""};
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < nd[w]; i++)
            snprintf(dl[w] + strlen(dl[w]), sizeof dl[w] - strlen(dl[w]), "%s%u", i ? "," : "",
                     draws[w][i]);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.iteration", "%ld", it);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.t_g", "%ld", t->t_g);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.t_d", "%ld", t->t_d);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.last_good", "%ld", t->view.last_good);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.snapshots", "%s", list);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.g_draws", "%s", dl[0]);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "trainer.d_draws", "%s", dl[1]);
    return st;
}

/* The other half of save_net: every tensor and optimizer slice must be there with the
 * network's shape. */
static clgan_status load_net(clgan_trainer *t, const clgan_tensor_set *s, const char *path,
                             clgan_net *net, clgan_opt *opt, const char *prefix)
{
    const clgan_net_view *v = clgan_net_get(net);
    cl_mem sb[2];
    int ns = clgan_opt_state(opt, sb);
    float *hp = calloc(v->n_params + 1, 4), *hs = calloc(v->n_state + 1, 4);
    float *ho = calloc(v->n_params + 1, 4);
    char name[96];
    const float *x;
    clgan_status st = hp && hs && ho ? CLGAN_OK : clgan_error(CLGAN_ENOMEM, "out of memory");
    for (int i = 0; i < v->n_tensors && st == CLGAN_OK; i++) {
        const clgan_tensor_info *ti = &v->tensors[i];
        snprintf(name, sizeof name, "%s/%s", prefix, ti->name);
        if (!(x = clgan_ckpt_get(s, path, name, ti->ndim, ti->shape)))
            st = CLGAN_EFORMAT;
        else
            memcpy((ti->trained ? hp : hs) + ti->offset, x, ti->count * 4);
    }
    if (st == CLGAN_OK)
        st = clgan_net_write_params(net, hp, hs);
    for (int k = 0; k < ns && st == CLGAN_OK; k++) {
        memset(ho, 0, (v->n_params + 1) * 4);
        for (int i = 0; i < v->n_tensors && st == CLGAN_OK; i++) {
            const clgan_tensor_info *ti = &v->tensors[i];
            if (!ti->trained)
                continue;
            snprintf(name, sizeof name, "%s/%s/%s", prefix, opt_state_name(opt, k), ti->name);
            if (!(x = clgan_ckpt_get(s, path, name, ti->ndim, ti->shape)))
                st = CLGAN_EFORMAT;
            else
                memcpy(ho + ti->offset, x, ti->count * 4);
        }
        if (st == CLGAN_OK)
            st = clgan_buf_write(t->ctx, sb[k], 0, ho, v->n_params * 4);
    }
    free(hp);
    free(hs);
    free(ho);
    return st;
}

static clgan_status load_buffer(clgan_trainer *t, const clgan_tensor_set *s, const char *path,
                                const char *name, cl_mem m, size_t n)
{
    const float *x = clgan_ckpt_get(s, path, name, 1, &n);
    if (!x)
        return CLGAN_EFORMAT;
    return n ? clgan_buf_write(t->ctx, m, 0, x, n * 4) : CLGAN_OK;
}

static clgan_status load_draws(const clgan_tensor_set *s, const char *path, const char *key,
                               clgan_net *net)
{
    long v[16], n;
    uint32_t u[16];
    clgan_status st = clgan_ckpt_longs(s, path, key, v, 16, &n);
    for (long i = 0; i < n; i++)
        u[i] = (uint32_t)v[i];
    return st != CLGAN_OK ? st : clgan_net_set_draws(net, u, (int)n);
}

clgan_status clgan_trainer_load(clgan_trainer *t, const clgan_tensor_set *s, const char *path)
{
    const clgan_net_view *g = clgan_net_get(t->view.g), *d = clgan_net_get(t->view.d);
    long it, t_g, t_d, last_good, snaps[2], n_snap;
    char key[64], name[96];
    clgan_status st;
    if ((st = clgan_ckpt_long(s, path, "trainer.iteration", &it)) != CLGAN_OK ||
        (st = clgan_ckpt_long(s, path, "trainer.t_g", &t_g)) != CLGAN_OK ||
        (st = clgan_ckpt_long(s, path, "trainer.t_d", &t_d)) != CLGAN_OK ||
        (st = clgan_ckpt_long(s, path, "trainer.last_good", &last_good)) != CLGAN_OK ||
        (st = clgan_ckpt_longs(s, path, "trainer.snapshots", snaps, 2, &n_snap)) != CLGAN_OK)
        return st;
    if (it < 0 || it >= t->history_cap || t_g < 0 || t_d < 0 || last_good < 0 || last_good > it)
        return clgan_error(CLGAN_EFORMAT, "%s: trainer counters out of range (iteration %ld of "
                           "%ld)", path, it, t->history_cap - 1);
    if (t->view.iteration != 0)
        return clgan_error(CLGAN_EINVAL, "a checkpoint loads into a new trainer only");
    if ((st = load_net(t, s, path, t->view.g, t->opt_g, "g")) != CLGAN_OK ||
        (st = load_net(t, s, path, t->view.d, t->opt_d, "d")) != CLGAN_OK ||
        (st = load_draws(s, path, "trainer.g_draws", t->view.g)) != CLGAN_OK ||
        (st = load_draws(s, path, "trainer.d_draws", t->view.d)) != CLGAN_OK)
        return st;
    for (int i = 0; i < SNAPSHOTS; i++)
        t->snap_block[i] = -100; /* none: only the blocks below may be restored */
    for (long i = 0; i < n_snap && st == CLGAN_OK; i++) {
        long b = snaps[i];
        int slot = (int)((b + 1) % SNAPSHOTS);
        snprintf(key, sizeof key, "trainer.snapshot.%ld", b);
        const char *how = clgan_safetensors_meta(s, key);
        if (b < -1 || b > it / BLOCK || !how)
            return clgan_error(CLGAN_EFORMAT, "%s: weight snapshot %ld is missing or out of range",
                               path, b);
        t->snap_block[slot] = b;
        if (!strcmp(how, "current")) {
            if ((st = clgan_trainer_copy(t, t->snap_g[slot], g->params, g->n_params * 4)) == CLGAN_OK &&
                (st = clgan_trainer_copy(t, t->snap_gs[slot], g->state, g->n_state * 4)) == CLGAN_OK)
                st = clgan_trainer_copy(t, t->snap_d[slot], d->params, d->n_params * 4);
            continue;
        }
        snprintf(name, sizeof name, "snapshot/%ld/g.params", b);
        st = load_buffer(t, s, path, name, t->snap_g[slot], g->n_params);
        snprintf(name, sizeof name, "snapshot/%ld/g.state", b);
        if (st == CLGAN_OK)
            st = load_buffer(t, s, path, name, t->snap_gs[slot], g->n_state);
        snprintf(name, sizeof name, "snapshot/%ld/d.params", b);
        if (st == CLGAN_OK)
            st = load_buffer(t, s, path, name, t->snap_d[slot], d->n_params);
    }
    long first = it - it % BLOCK;
    if (st == CLGAN_OK && it > first) { /* the current block's metrics back into the ring */
        size_t shape[2] = {(size_t)(it - first), CLGAN_M_COUNT};
        const float *x = clgan_ckpt_get(s, path, "trainer/ring", 2, shape);
        if (!x)
            return CLGAN_EFORMAT;
        memcpy(t->history + (size_t)first * CLGAN_M_COUNT, x, shape[0] * shape[1] * 4);
        size_t slot = (size_t)(first % (RING_BLOCKS * BLOCK)) * CLGAN_M_COUNT * 4;
        st = clgan_buf_write(t->ctx, t->ring, slot, x, shape[0] * shape[1] * 4);
    }
    if (st != CLGAN_OK)
        return st;
    t->t_g = t_g;
    t->t_d = t_d;
    t->view.iteration = t->view.synced = it;
    t->view.last_good = last_good;
    t->view.nonfinite_at = -1;
    return clgan_finish(t->ctx);
}

clgan_status clgan_trainer_set_history(clgan_trainer *t, long it, const float *row)
{
    if (it < 0 || it >= t->history_cap)
        return clgan_error(CLGAN_EINVAL, "history row %ld outside [0, %ld)", it, t->history_cap);
    memcpy(t->history + (size_t)it * CLGAN_M_COUNT, row, CLGAN_M_COUNT * sizeof(float));
    return CLGAN_OK;
}
