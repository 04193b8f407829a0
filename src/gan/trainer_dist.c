/* trainer_dist.c - the trainer over data-parallel MPI ranks (dist.h): the initial weights
 * broadcast, gradients and metrics averaged over the ranks, --sync-bn's sums, and the
 * time spent in collectives. The schedule itself (trainer.c) is the same on every rank;
 * this file does no MPI itself and writes no files. */
#include "clgan/gan.h"

#include "common/clock.h"
#include "trainer_internal.h"

/* --sync-bn's sum (nn.h clgan_batch_sync), timed like every collective. */
static clgan_status sum_over_ranks(void *user, float *v, size_t n, float scale, const char *what)
{
    clgan_trainer *t = user;
    double t0 = clgan_now_s();
    clgan_status st = clgan_dist_allreduce(t->dist, v, n, scale, what);
    t->view.comm_s += clgan_now_s() - t0;
    t->view.comm_calls++;
    return st;
}

clgan_status clgan_trainer_set_dist(clgan_trainer *t, clgan_dist *d)
{
    const clgan_config *c = &t->cfg;
    const clgan_net_view *g = clgan_net_get(t->view.g), *dv = clgan_net_get(t->view.d);
    clgan_status st;
    if (clgan_dist_size(d) <= 1)
        return CLGAN_OK;
    if ((long)c->batch * c->latent % 4 != 0)
        return clgan_error(CLGAN_EINVAL, "over %d ranks the noise of each rank is 4-value "
                           "groups of the global batch's: --batch %d x --latent %d must be a "
                           "multiple of 4", clgan_dist_size(d), c->batch, c->latent);
    if (c->instance_noise > 0 && (long)c->batch * t->view.img_dim % 4 != 0)
        return clgan_error(CLGAN_EINVAL, "over %d ranks instance noise needs --batch %d x the "
                           "image size %d to be a multiple of 4", clgan_dist_size(d), c->batch,
                           t->view.img_dim);
    t->dist = d;
    t->rank = clgan_dist_rank(d);
    t->ranks = clgan_dist_size(d);
    double t0 = clgan_now_s();
    /* Rank 0's initial weights and BatchNorm state everywhere (the optimizers' state is
     * zero on every rank), and the snapshot of the initial weights again. */
    if ((st = clgan_dist_broadcast_buf(d, t->ctx, g->params, g->n_params * 4, "G's weights")) !=
            CLGAN_OK ||
        (g->n_state && (st = clgan_dist_broadcast_buf(d, t->ctx, g->state, g->n_state * 4,
                                                      "G's state")) != CLGAN_OK) ||
        (st = clgan_dist_broadcast_buf(d, t->ctx, dv->params, dv->n_params * 4,
                                       "D's weights")) != CLGAN_OK ||
        (dv->n_state && (st = clgan_dist_broadcast_buf(d, t->ctx, dv->state, dv->n_state * 4,
                                                       "D's state")) != CLGAN_OK) ||
        (st = clgan_trainer_snapshot(t, -1)) != CLGAN_OK || (st = clgan_finish(t->ctx)) != CLGAN_OK)
        return st;
    t->view.comm_s += clgan_now_s() - t0;
    t->view.comm_calls += 2 + (g->n_state > 0) + (dv->n_state > 0);
    clgan_net_set_row0(t->view.g, t->rank * c->batch);
    clgan_net_set_row0(t->view.d, t->rank * c->batch);
    if (c->sync_bn) {
        t->bsync = (clgan_batch_sync){.sum = sum_over_ranks, .user = t, .ranks = t->ranks};
        clgan_net_set_batch_sync(t->view.g, &t->bsync);
        clgan_net_set_batch_sync(t->view.d, &t->bsync);
    }
    return CLGAN_OK;
}

clgan_status clgan_trainer_reduce_grads(clgan_trainer *t, cl_mem grads, size_t n,
                                        const char *what)
{
    if (t->ranks <= 1)
        return CLGAN_OK;
    /* The queue's work first, untimed: the time below is the collective's alone (the
     * read back, the wait for the other ranks, the sum, the write). */
    clgan_status st = clgan_finish(t->ctx);
    if (st != CLGAN_OK)
        return st;
    double t0 = clgan_now_s();
    st = clgan_dist_allreduce_buf(t->dist, t->ctx, grads, 0, n,
                                               1.0f / (float)t->ranks, what);
    t->view.comm_s += clgan_now_s() - t0;
    t->view.comm_calls++;
    return st;
}

clgan_status clgan_trainer_reduce_metrics(clgan_trainer *t, int slot)
{
    enum { N = CLGAN_M_GP_NORM + 1 }; /* losses, accuracies, D outputs, the penalty */
    float v[N];
    clgan_status st;
    if (t->ranks <= 1)
        return CLGAN_OK;
    if ((st = clgan_buf_read(t->ctx, t->ring, (size_t)slot * 4, v, sizeof v)) != CLGAN_OK ||
        (st = sum_over_ranks(t, v, N, 1.0f / (float)t->ranks, "metrics")) != CLGAN_OK)
        return st;
    return clgan_buf_write(t->ctx, t->ring, (size_t)slot * 4, v, sizeof v);
}
