/* dist.h - data-parallel training over MPI (Open MPI): one rank per OpenCL device, the
 * collectives the trainer needs (broadcast the initial weights, sum gradients and
 * statistics), and the rank's identity. Nothing here is home-made networking.
 *
 * A process started without mpirun (no OMPI_COMM_WORLD_SIZE / PMIX_RANK in its
 * environment), or a build without MPI, is the single rank 0 of 1: every collective then
 * returns at once, so the trainer has one code path. MPI is initialized only under a
 * launcher, so a plain `clgan train` pays nothing for it.
 *
 * Every collective is non-blocking underneath and waited for with a deadline: a rank
 * that died or hangs makes the others fail with CLGAN_ECOMM naming the collective and the
 * time waited, instead of hanging; the CLI then aborts the whole job (clgan_dist_abort).
 * MPI errors return instead of aborting (MPI_ERRORS_RETURN) and are named the same way.
 *
 * Example (what the trainer does before each optimizer step):
 *   clgan_dist_allreduce_buf(dist, ctx, grads, 0, n, 1.0f / clgan_dist_size(dist));
 */
#ifndef CLGAN_DIST_H
#define CLGAN_DIST_H

#include <stddef.h>

#include "clgan/runtime.h"
#include "clgan/status.h"

typedef struct clgan_dist clgan_dist;

/* Joins the job when launched by mpirun (else makes the single-rank handle).
 * timeout_s: how long a collective may wait for the other ranks (> 0). Caller owns
 * *out (clgan_dist_free, which finalizes MPI). */
clgan_status clgan_dist_init(clgan_dist **out, double timeout_s);
void clgan_dist_free(clgan_dist *d);

/* 1 when this build can run over MPI. */
int clgan_dist_available(void);

int clgan_dist_rank(const clgan_dist *d);       /* 0-based; 0 when d is NULL */
int clgan_dist_size(const clgan_dist *d);       /* ranks; 1 when d is NULL */
int clgan_dist_local_rank(const clgan_dist *d); /* rank among those on this node */

/* In place over ranks: v[0..n) = scale * sum over ranks of v. Blocking (deadline). */
clgan_status clgan_dist_allreduce(clgan_dist *d, float *v, size_t n, float scale,
                                  const char *what);

/* The same for n floats of device buffer `buf` at float offset `off`: read to a host
 * buffer the handle keeps (grown on first use, then reused), summed, written back.
 * Finishes the queue first (the values must be final). */
clgan_status clgan_dist_allreduce_buf(clgan_dist *d, clgan_ctx *ctx, cl_mem buf, size_t off,
                                      size_t n, float scale, const char *what);

/* Rank 0's `bytes` of device buffer `buf` replace every other rank's. */
clgan_status clgan_dist_broadcast_buf(clgan_dist *d, clgan_ctx *ctx, cl_mem buf, size_t bytes,
                                      const char *what);

/* Gathers each rank's string (at most n - 1 chars) into rank 0's all[rank * n]; all may
 * be NULL on the other ranks. */
clgan_status clgan_dist_gather_str(clgan_dist *d, const char *mine, char *all, size_t n);

/* Ends every rank of the job (MPI_Abort) after a fatal error; returns only when there is
 * no job (one rank). */
void clgan_dist_abort(clgan_dist *d, int code);

#endif
