/* dist.c - the MPI side of data-parallel training (see dist.h): rank identity,
 * collectives with a deadline, host staging of device buffers. Built without MPI
 * (CLGAN_HAVE_MPI undefined) it is the single-rank stand-in. Knows nothing of networks. */
#include "clgan/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

#ifdef CLGAN_HAVE_MPI
#include <mpi.h>
#endif

struct clgan_dist {
    int rank, size, local_rank;
    int mpi;          /* 1 when this process called MPI_Init */
    double timeout_s;
    float *host;      /* staging for device buffers */
    size_t host_n;
};

int clgan_dist_available(void)
{
#ifdef CLGAN_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* 1 when a launcher started this process as a rank of a job. */
static int launched(void)
{
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    return (s && *s) || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

clgan_status clgan_dist_init(clgan_dist **out, double timeout_s)
{
    *out = NULL;
    if (!(timeout_s > 0.0))
        return clgan_error(CLGAN_EINVAL, "collective timeout %g s: need > 0", timeout_s);
    clgan_dist *d = calloc(1, sizeof *d);
    if (!d)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    d->size = 1;
    d->timeout_s = timeout_s;
    if (!launched()) {
        *out = d;
        return CLGAN_OK;
    }
#ifdef CLGAN_HAVE_MPI
    int ok = MPI_Init(NULL, NULL) == MPI_SUCCESS;
    if (ok) {
        d->mpi = 1;
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &d->size);
        MPI_Comm node;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL,
                                &node) == MPI_SUCCESS) {
            MPI_Comm_rank(node, &d->local_rank);
            MPI_Comm_free(&node);
        }
    }
    if (!ok) {
        free(d);
        return clgan_error(CLGAN_ECOMM, "MPI_Init failed: this process was started by a launcher "
                           "but could not join its job");
    }
    *out = d;
    return CLGAN_OK;
#else
    free(d);
    return clgan_error(CLGAN_EINVAL, "started by mpirun, but this clgan was built without MPI: "
                       "install libopenmpi-dev and rebuild (cmake finds it)");
#endif
}

void clgan_dist_free(clgan_dist *d)
{
    if (!d)
        return;
#ifdef CLGAN_HAVE_MPI
    if (d->mpi)
        MPI_Finalize();
#endif
    free(d->host);
    free(d);
}

int clgan_dist_rank(const clgan_dist *d) { return d ? d->rank : 0; }
int clgan_dist_size(const clgan_dist *d) { return d ? d->size : 1; }
int clgan_dist_local_rank(const clgan_dist *d) { return d ? d->local_rank : 0; }

#ifdef CLGAN_HAVE_MPI
/* Waits for request r until the deadline; ECOMM naming `what` when it passes. */
static clgan_status wait_deadline(clgan_dist *d, MPI_Request *r, const char *what)
{
    double t0 = clgan_now_s();
    for (;;) {
        int done = 0;
        int rc = MPI_Test(r, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            char msg[MPI_MAX_ERROR_STRING];
            int len = 0;
            MPI_Error_string(rc, msg, &len);
            return clgan_error(CLGAN_ECOMM, "rank %d of %d: %s failed: %s", d->rank, d->size,
                               what, msg);
        }
        if (done)
            return CLGAN_OK;
        if (clgan_now_s() - t0 > d->timeout_s)
            return clgan_error(CLGAN_ECOMM, "rank %d of %d: %s waited %.0f s for the other ranks "
                               "(--mpi-timeout): one of them died or hangs", d->rank, d->size,
                               what, d->timeout_s);
        struct timespec ts = {0, 20000}; /* 20 us: polls without burning a core */
        nanosleep(&ts, NULL);
    }
}
#endif

clgan_status clgan_dist_allreduce(clgan_dist *d, float *v, size_t n, float scale,
                                  const char *what)
{
    if (!d || d->size == 1 || n == 0) {
        if (scale != 1.0f)
            for (size_t i = 0; i < n; i++)
                v[i] *= scale;
        return CLGAN_OK;
    }
#ifdef CLGAN_HAVE_MPI
    if (n > 0x7fffffff)
        return clgan_error(CLGAN_EINVAL, "%s: %zu values exceed one MPI message", what, n);
    MPI_Request r;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
    if (rc != MPI_SUCCESS)
        return clgan_error(CLGAN_ECOMM, "rank %d: MPI_Iallreduce(%s) failed", d->rank, what);
    clgan_status st = wait_deadline(d, &r, what);
    if (st != CLGAN_OK)
        return st;
    if (scale != 1.0f)
        for (size_t i = 0; i < n; i++)
            v[i] *= scale;
    return CLGAN_OK;
#else
    return CLGAN_OK;
#endif
}

/* The staging buffer, at least n floats. */
static clgan_status staging(clgan_dist *d, size_t n)
{
    if (d->host_n >= n)
        return CLGAN_OK;
    float *h = realloc(d->host, n * sizeof *h);
    if (!h)
        return clgan_error(CLGAN_ENOMEM, "out of memory for %zu floats of MPI staging", n);
    d->host = h;
    d->host_n = n;
    return CLGAN_OK;
}

clgan_status clgan_dist_allreduce_buf(clgan_dist *d, clgan_ctx *ctx, cl_mem buf, size_t off,
                                      size_t n, float scale, const char *what)
{
    clgan_status st;
    if (!d || d->size == 1 || n == 0)
        return CLGAN_OK; /* one rank: the sum is the buffer itself (scale is 1 then) */
    if ((st = staging(d, n)) != CLGAN_OK ||
        (st = clgan_buf_read(ctx, buf, off * sizeof(float), d->host, n * sizeof(float))) !=
            CLGAN_OK ||
        (st = clgan_dist_allreduce(d, d->host, n, scale, what)) != CLGAN_OK)
        return st;
    return clgan_buf_write(ctx, buf, off * sizeof(float), d->host, n * sizeof(float));
}

clgan_status clgan_dist_broadcast_buf(clgan_dist *d, clgan_ctx *ctx, cl_mem buf, size_t bytes,
                                      const char *what)
{
    if (!d || d->size == 1 || bytes == 0)
        return CLGAN_OK;
#ifdef CLGAN_HAVE_MPI
    clgan_status st;
    size_t n = (bytes + sizeof(float) - 1) / sizeof(float);
    if ((st = staging(d, n)) != CLGAN_OK)
        return st;
    if (d->rank == 0 && (st = clgan_buf_read(ctx, buf, 0, d->host, bytes)) != CLGAN_OK)
        return st;
    if (bytes > 0x7fffffff)
        return clgan_error(CLGAN_EINVAL, "%s: %zu bytes exceed one MPI message", what, bytes);
    MPI_Request r;
    if (MPI_Ibcast(d->host, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD, &r) != MPI_SUCCESS)
        return clgan_error(CLGAN_ECOMM, "rank %d: MPI_Ibcast(%s) failed", d->rank, what);
    if ((st = wait_deadline(d, &r, what)) != CLGAN_OK)
        return st;
    return d->rank == 0 ? CLGAN_OK : clgan_buf_write(ctx, buf, 0, d->host, bytes);
#else
    (void)ctx, (void)buf, (void)what;
    return CLGAN_OK;
#endif
}

clgan_status clgan_dist_gather_str(clgan_dist *d, const char *mine, char *all, size_t n)
{
    if (!d || d->size == 1) {
        if (all)
            snprintf(all, n, "%s", mine);
        return CLGAN_OK;
    }
#ifdef CLGAN_HAVE_MPI
    char *buf = calloc(n, 1);
    if (!buf)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    snprintf(buf, n, "%s", mine);
    MPI_Request r;
    clgan_status st = CLGAN_OK;
    if (MPI_Igather(buf, (int)n, MPI_CHAR, all, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD, &r) !=
        MPI_SUCCESS)
        st = clgan_error(CLGAN_ECOMM, "rank %d: MPI_Igather failed", d->rank);
    else
        st = wait_deadline(d, &r, "gathering the ranks' devices");
    free(buf);
    return st;
#else
    return CLGAN_OK;
#endif
}

void clgan_dist_abort(clgan_dist *d, int code)
{
#ifdef CLGAN_HAVE_MPI
    if (d && d->mpi && d->size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
#else
    (void)d, (void)code;
#endif
}
