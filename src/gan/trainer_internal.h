/* trainer_internal.h - private to src/gan: the trainer's struct and constants, shared by
 * trainer.c (the schedule) and trainer_ckpt.c (its checkpoints). Not public API. */
#ifndef CLGAN_GAN_TRAINER_INTERNAL_H
#define CLGAN_GAN_TRAINER_INTERNAL_H

#include "clgan/dist.h"
#include "clgan/gan.h"

#define BLOCK 100
#define RING_BLOCKS 2
#define SNAPSHOTS 4 /* weight snapshots, one per block; see check_finite */

/* Philox streams: independent random sequences per use. */
enum {
    STREAM_REAL = 1, STREAM_NOISE_D = 2, STREAM_NOISE_G = 3, STREAM_SAMPLE = 4,
    STREAM_INST_REAL = 5, STREAM_INST_FAKE = 6, STREAM_FLIP_REAL = 7, STREAM_FLIP_FAKE = 8,
    STREAM_INTERP = 9, STREAM_EVAL = 10
};
/* Draw counters: iteration * DRAWS + sub-step (D steps first, then G steps). */
#define DRAWS 16
#define MAX_STEPS 8

struct clgan_trainer {
    clgan_ctx *ctx;
    clgan_config cfg;
    clgan_trainer_view view;
    clgan_opt *opt_g, *opt_d;
    long t_g, t_d;        /* Adam step counters; G uses t_d too when shared_t */
    cl_mem data;          /* (count, dim) uint8 data set, or NULL */
    size_t count;
    cl_mem real;          /* (batch, dim) */
    cl_mem noise_d, noise_g; /* (batch, latent) */
    cl_mem noisy_real, noisy_fake; /* (batch, dim): D's inputs with instance noise */
    cl_mem xhat;          /* (batch, dim): WGAN-GP interpolates */
    cl_mem sample_noise;  /* (batch, latent): fixed noise for sample grids */
    cl_mem ring;          /* (RING_BLOCKS * BLOCK, CLGAN_M_COUNT) */
    float *history;       /* (iterations, CLGAN_M_COUNT) host copy */
    long history_cap;
    cl_event ev[RING_BLOCKS];
    long ev_block[RING_BLOCKS]; /* which block each pending read holds */
    /* Monitoring: tensor segments (offsets, counts) of G's and D's flat buffers, per
     * tensor and whole; the weights before the iteration, to measure the update. */
    cl_mem seg_off[4], seg_cnt[4]; /* G tensors, D tensors, G whole, D whole */
    int seg_n[4];
    cl_mem prev_g, prev_d;         /* (n_params) */
    const char **names;            /* tensor names, G's then D's */
    const clgan_tensor_info **info; /* their metadata */
    /* Weight snapshots at block ends, for restoring the last finite weights. */
    cl_mem snap_g[SNAPSHOTS], snap_gs[SNAPSHOTS], snap_d[SNAPSHOTS];
    long snap_block[SNAPSHOTS];
    /* Data-parallel ranks (trainer_dist.c); dist NULL: one rank. */
    clgan_dist *dist;
    int rank, ranks;
    clgan_batch_sync bsync;      /* --sync-bn's sums, when set on the networks */
};

/* trainer_dist.c: no-ops on one rank. */
/* grads (n floats) = their mean over the ranks (before an optimizer step). */
clgan_status clgan_trainer_reduce_grads(clgan_trainer *t, cl_mem grads, size_t n,
                                        const char *what);
/* The iteration's loss metrics in ring slot `slot` = their mean over the ranks (the
 * gradient norms and monitors are computed from averaged gradients already). */
clgan_status clgan_trainer_reduce_metrics(clgan_trainer *t, int slot);
/* Copies G's and D's weights into the snapshot slot of block `block` (trainer.c). */
clgan_status clgan_trainer_snapshot(clgan_trainer *t, long block);

/* dst = src, `bytes` long, on the queue. */
static inline clgan_status clgan_trainer_copy(clgan_trainer *t, cl_mem dst, cl_mem src, size_t bytes)
{
    return clgan_buf_copy(t->ctx, dst, 0, src, 0, bytes);
}

#endif
