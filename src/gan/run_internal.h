/* run_internal.h - private to src/gan: the state of a training run, shared by run.c (the
 * run driver) and resume.c (its checkpoints and resuming), and run.c's helpers that
 * resume.c uses. Not public API. */
#ifndef CLGAN_GAN_RUN_INTERNAL_H
#define CLGAN_GAN_RUN_INTERNAL_H

#include <stdio.h>

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "rundir.h"

#define GRID 5

typedef struct {
    const clgan_config *c;
    const clgan_run_opts *o;
    FILE *log;
    char dir[512];
    clgan_trainer *tr;
    clgan_gif *gif;
    int h, w, img_c;      /* image height, width, channels (1 or 3) */
    float *imgs;          /* (GRID*GRID, h, w, img_c) */
    FILE *jsonl;
    char jsonl_tmp[700];
    long logged;          /* iterations already written to metrics.jsonl */
    long printed;         /* iteration of the last progress line */
    long printed_from;    /* the start of the interval it showed */
    double t0, t_last;
    long it_last;
    double rate;
    /* Iterations of the gradient records (one per log interval that had a monitored
     * iteration), for grad_norms.npy; the per-iteration columns (the .npy arrays). */
    long n_mon, cap_mon;
    long *mon_it;
    float *col[5];        /* d_loss, g_loss, d_acc, d_real, d_fake: (iterations) */
    /* What the detectors read: every record line as written (records.c), the same path
     * `clgan diagnose` takes through the files. */
    clgan_diag_records *rec;
    char *line;           /* the record being written (memstream) */
    size_t line_len;
    struct { int id; long onset; int recovered; } warned[CLGAN_DIAG_MAX]; /* printed live */
    int n_warned;
    long diagnosed_at;    /* iteration of the last live diagnosis */
    /* Sample quality: the evaluator, its sample buffer and its records. */
    clgan_eval *ev;       /* made at the first evaluation (keeps start-up fast) */
    char ev_path[1200];   /* the classifier; "" when not evaluating */
    char ev_note[400];    /* why "auto" does not evaluate this data, or "" */
    clgan_ctx *ctx;
    const clgan_dataset *data;
    cl_mem ev_samples;    /* (eval_samples, dim) */
    FILE *evl;
    char evl_tmp[700];
    long n_eval;
    long *eval_it;
    float *coverage, *fd, *diversity, *kl;
    clgan_eval_result last;
    /* Checkpoints and the run directory. */
    clgan_rundir_lock lock; /* held from open_dir to the end */
    long start;           /* the iteration the run starts (or resumes) from */
    uint64_t data_hash;   /* FNV-1a of the data set's bytes: a resume must train on the same */
    clgan_tensor_set ckpt; /* the checkpoint being resumed (zeroed when not resuming) */
    char ckpt_path[1200];
} run_state;

/* Fills the per-iteration columns for iterations [from, to) from the trainer's history. */
void run_fill_columns(run_state *r, long from, long to);
/* The detectors' input over the first n iterations (the records fed so far). */
const clgan_diag_input *run_diag_input(run_state *r, long n);
/* Makes the detectors' records (r->rec) and feeds them the tensor table; nothing when
 * they exist already. */
clgan_status run_records_open(run_state *r);
/* Writes tensors.json (the monitored tensors' networks, ranks and sizes), opening the
 * records first when needed. */
clgan_status run_write_tensors(run_state *r);
/* Appends a gradient record's iteration (for grad_norms.npy); 0 when out of memory. */
int run_mon_add(run_state *r, long m);
/* Adds a grid (h x w, img_c channels) as the next frame of training.gif, opening it
 * with the first. */
clgan_status run_gif_add(run_state *r, const uint8_t *pix, int w, int h);
/* dir/name into out. */
void run_path(char *out, size_t n, const run_state *r, const char *name);
/* images/<it>.png is a regular grid (iteration 0 or a multiple of sample-every), not the
 * extra grid of a run's last iteration. */
int run_is_grid(const run_state *r, long it);

/* ---- resume.c ---- */

/* r->dir: --resume's directory, --out, or runs/<timestamp> (-2, -3, ... when it exists). */
void run_set_dir(run_state *r);
/* What the run may do with what is in its directory. */
clgan_rundir_mode run_dir_mode(const run_state *r);
/* Takes the directory (locked from here to the end), clears an old run (--overwrite) or
 * puts a resumed run's records back, then opens the records and writes config.ini. */
clgan_status run_open_dir(run_state *r);
/* For --resume: the newest checkpoint of r->dir into r->ckpt (read whole). */
clgan_status run_open_checkpoint(run_state *r);
/* For --resume: the checkpoint's GEMM choice; a note when the device differs. */
void run_resume_device(run_state *r, clgan_ctx *ctx);

/* ---- run_dist.c (no-ops without r->o->dist) ---- */

/* After the trainer is built: it joins the ranks; rank 0 prints every rank's device. */
clgan_status run_dist_start(run_state *r, clgan_ctx *ctx);
/* Before an iteration, or when rank 0 breaks off: *halt = any rank's *halt. */
clgan_status run_dist_agree(run_state *r, int *halt);
/* The ranks' throughput and the collectives' time (rank 0, after the run). */
void run_dist_summary(run_state *r, long iterations, double secs);

/* FNV-1a of n bytes (the data set's fingerprint in a checkpoint). */
uint64_t run_data_hash(const uint8_t *p, size_t n);

/* Writes RUN/checkpoints/ckpt-<iteration>.safetensors for the trainer's current
 * iteration (syncing it; the records of the complete log intervals are written first)
 * and keeps the newest keep-checkpoints. Prints nothing. */
clgan_status run_checkpoint(run_state *r);
/* Before the trainer is built: the checkpoint has every tensor of G and D as this run's
 * configuration lays them out (nothing is allocated). */
clgan_status run_resume_check(run_state *r, clgan_ctx *ctx, clgan_shape img);
/* Loads checkpoint `path` into the new trainer and the run's records (memory only:
 * nothing in the run directory changes). */
clgan_status run_resume_load(run_state *r, const char *path);
/* With the directory locked: records put back as the checkpoint has them, the GIF rebuilt
 * from the grids, what the continued run will write again removed. Opens the record
 * files for appending. */
clgan_status run_resume_prepare(run_state *r, const char *path);

#endif
