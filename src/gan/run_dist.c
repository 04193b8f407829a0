/* run_dist.c - the run driver over data-parallel MPI ranks (docs/mpi.md): the global
 * batch and each rank's device, the ranks' banner, the per-iteration agreement on
 * stopping, the collectives' share of the time, and the loop of the ranks other than 0,
 * which train in step with rank 0 and write nothing. Rank 0 runs run.c as one rank does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/dist.h"
#include "clgan/gan.h"
#include "common/clock.h"
#include "run_internal.h"

clgan_status clgan_run_dist_setup(clgan_config *c, const clgan_dist *d)
{
    const int n = clgan_dist_size(d);
    if (c->global_batch > 0) {
        if (c->global_batch % n != 0)
            return clgan_error(CLGAN_EINVAL, "--global-batch %d over %d ranks: need a multiple of "
                               "the rank count", c->global_batch, n);
        c->batch = c->global_batch / n;
    } else if (n > 1) {
        c->global_batch = c->batch * n;
    }
    if (n == 1 || strcmp(c->device, "auto") != 0)
        return CLGAN_OK; /* one rank, or --device chosen by the user for this rank */
    /* Round-robin over this node's GPUs by local rank; the CPU device when none. */
    clgan_device_info *devs = NULL;
    int nd = 0, gpus = 0;
    clgan_status st = clgan_devices_list(&devs, &nd);
    if (st != CLGAN_OK)
        return st;
    for (int i = 0; i < nd; i++)
        gpus += devs[i].type & CL_DEVICE_TYPE_GPU ? 1 : 0;
    if (gpus == 0) {
        snprintf(c->device, sizeof c->device, "cpu");
    } else {
        int want = clgan_dist_local_rank(d) % gpus;
        for (int i = 0; i < nd; i++)
            if ((devs[i].type & CL_DEVICE_TYPE_GPU) && want-- == 0) {
                snprintf(c->device, sizeof c->device, "%d", devs[i].index);
                break;
            }
    }
    free(devs);
    return CLGAN_OK;
}

/* One line naming this rank's device, for rank 0's banner. */
static void device_line(char *out, size_t n, const clgan_dist *d, clgan_ctx *ctx)
{
    const clgan_ctx_view *cv = clgan_ctx_get(ctx);
    snprintf(out, n, "rank %d of %d: device %d: %s (%s, %s)", clgan_dist_rank(d),
             clgan_dist_size(d), cv->dev.index, cv->dev.name, cv->dev.platform_name,
             clgan_device_type_str(cv->dev.type));
}

/* Every rank, in the same order: the trainer joins the ranks, then rank 0 gathers and
 * prints their devices. */
static clgan_status start(clgan_trainer *tr, clgan_ctx *ctx, clgan_dist *d, FILE *log, int quiet)
{
    enum { LINE = 320 };
    char mine[LINE];
    char *all = NULL;
    const int n = clgan_dist_size(d);
    clgan_status st = clgan_trainer_set_dist(tr, d);
    if (st != CLGAN_OK || n == 1)
        return st;
    device_line(mine, sizeof mine, d, ctx);
    if (clgan_dist_rank(d) == 0 && !(all = calloc((size_t)n, LINE)))
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    st = clgan_dist_gather_str(d, mine, all, LINE);
    if (st == CLGAN_OK && all && !quiet)
        for (int i = 0; i < n; i++)
            fprintf(log, "clgan: %s\n", all + (size_t)i * LINE);
    free(all);
    return st;
}

clgan_status run_dist_start(run_state *r, clgan_ctx *ctx)
{
    return r->o->dist ? start(r->tr, ctx, r->o->dist, r->log, r->o->quiet) : CLGAN_OK;
}

/* 1 in *halt on every rank when any rank's *halt was 1 (one sum over the ranks). */
static clgan_status agree(clgan_dist *d, int *halt)
{
    if (clgan_dist_size(d) == 1)
        return CLGAN_OK;
    float v = *halt ? 1.0f : 0.0f;
    clgan_status st = clgan_dist_allreduce(d, &v, 1, 1.0f, "agreeing to go on");
    *halt = v > 0.0f;
    return st;
}

clgan_status run_dist_agree(run_state *r, int *halt)
{
    return r->o->dist ? agree(r->o->dist, halt) : CLGAN_OK;
}

void run_dist_summary(run_state *r, long iterations, double secs)
{
    const clgan_trainer_view *tv = clgan_trainer_get(r->tr);
    int n = clgan_dist_size(r->o->dist);
    if (r->o->quiet || n == 1 || iterations <= 0)
        return;
    double its = iterations / (secs > 0 ? secs : 1); /* over the whole run */
    fprintf(r->log, "clgan: %d ranks, global batch %d: %.1f it/s, %.0f images/s; collectives "
            "%.2f ms per iteration (%.0f%% of the time, %ld calls on rank 0)\n", n,
            r->c->batch * n, its, its * r->c->batch * n, 1e3 * tv->comm_s / iterations,
            100.0 * tv->comm_s / (secs > 0 ? secs : 1), tv->comm_calls);
}

clgan_status clgan_run_worker(const clgan_config *c, const clgan_run_opts *o)
{
    clgan_dist *d = o->dist;
    clgan_dataset data = {0};
    clgan_ctx *ctx = NULL;
    clgan_trainer *tr = NULL;
    clgan_status st;
    if (o->resume) /* cmd_train refuses it first; a library caller gets the same answer */
        return clgan_error(CLGAN_EINVAL, "--resume over several ranks is not supported");
    if ((st = clgan_config_validate(c)) != CLGAN_OK ||
        (st = clgan_dataset_load_as(&data, c->data, c->image_size, c->channels)) != CLGAN_OK)
        goto done;
    if ((size_t)c->batch > data.count) {
        st = clgan_error(CLGAN_EINVAL, "--batch %d is larger than the data set (%zu images)",
                         c->batch, data.count);
        goto done;
    }
    clgan_ctx_opts co = {.device = c->device, .verbose = 0};
    if ((st = clgan_ctx_init(&ctx, &co)) != CLGAN_OK)
        goto done;
    if (c->gemm != CLGAN_GEMM_AUTO)
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)c->gemm);
    else if ((st = clgan_gemm_autoselect(ctx)) != CLGAN_OK)
        goto done;
    if ((st = clgan_trainer_init(&tr, ctx, c, data.images, data.count,
                                 CLGAN_SHAPE(data.h, data.w, data.c))) != CLGAN_OK ||
        (st = clgan_ctx_warmup(ctx)) != CLGAN_OK || (st = start(tr, ctx, d, NULL, 1)) != CLGAN_OK)
        goto done;
    /* Rank 0 decides with us before every iteration (its stop request, a NaN it found). */
    for (long it = 0; it < c->iterations; it++) {
        int halt = o->stop && *o->stop;
        if ((st = agree(d, &halt)) != CLGAN_OK || halt || (st = clgan_trainer_step(tr)) != CLGAN_OK)
            break;
    }
    if (st == CLGAN_OK)
        st = clgan_trainer_sync(tr);
done:
    clgan_trainer_free(tr);
    clgan_ctx_free(ctx);
    clgan_dataset_free(&data);
    return st;
}
