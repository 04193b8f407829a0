/* gan.h - the GAN: its configuration (one table of settings behind flags, INI files and
 * the run's config.ini), the model builder, the training schedule on the device, and
 * the run driver that writes a run directory. Uses nn, optim, io and runtime.
 *
 * Example (what `clgan train` does):
 *   clgan_config cfg;
 *   clgan_config_defaults(&cfg);
 *   clgan_config_parse_args(&cfg, argc, argv, &rest);   // flags, --config FILE
 *   clgan_run_train(&cfg, NULL);                       // writes cfg.out/...
 */
#ifndef CLGAN_GAN_H
#define CLGAN_GAN_H

#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include "clgan/io.h"
#include "clgan/nn.h"
#include "clgan/optim.h"
#include "clgan/runtime.h"

#define CLGAN_MAX_HIDDEN 8

/* BatchNorm placement. */
/* Normalization of the hidden layers (--batchnorm-X). */
enum {
    CLGAN_BN_OFF = 0,
    CLGAN_BN_HIDDEN = 1, /* BatchNorm */
    CLGAN_BN_ALL = 2,    /* BatchNorm on the output layer too: refused (config.c says why) */
    CLGAN_BN_LAYER = 3   /* LayerNorm: per sample, so allowed in WGAN-GP critics */
};

/* The settings that exist once per network (flags --X-g / --X-d, plain --X for both;
 * INI sections [generator] / [discriminator]). */
typedef struct {
    int layers[CLGAN_MAX_HIDDEN], n_layers; /* hidden widths */
    int act;            /* clgan_act of the hidden layers */
    int bn;             /* CLGAN_BN_* */
    int residual;       /* hidden layers as residual blocks (projection when widths differ) */
    float dropout;      /* dropout rate after each hidden activation (0 = off) */
    int steps;          /* updates of this network per iteration */
    int optimizer;      /* clgan_opt_kind */
    float lr, beta1, beta2, eps;
    float momentum;     /* sgd */
    int nesterov;       /* sgd */
    float alpha;        /* rmsprop */
    float l2;           /* L2 penalty added to the gradient */
    float weight_decay; /* decoupled weight decay */
    float clip_value;   /* gradient clipping by value (0 = off) */
    float clip_norm;    /* gradient clipping by global norm (0 = off) */
    char arch[1024];    /* layer spec (src/gan/arch.c, docs/recipes.md); "" = the MLP of
                           layers/activation/batchnorm/residual/dropout */
    int init;           /* clgan_init of dense and conv kernels */
    int spectral_norm;  /* spectral normalization of dense and conv kernels */
    float init_std;     /* its std for "normal" */
} clgan_net_config;

/* Every training setting. Defaults reproduce Keras-GAN's gan/gan.py. */
typedef struct {
    clgan_net_config g, d;
    /* [model] */
    int latent;
    float slope;        /* LeakyReLU negative slope (ELU alpha) */
    float bn_eps;
    float bn_momentum;  /* share of the old running value kept (Keras 0.8) */
    int bn_var_keras;   /* running variance uses n/(n-1-eps) (Keras 2) instead of n/(n-1) */
    /* [train] */
    long iterations;
    int batch;
    int adam_form;      /* clgan_adam_form */
    int shared_t;       /* one Adam step counter for D and G (Keras-GAN) */
    int loss;           /* clgan_loss */
    int g_loss_minimax; /* bce kinds: G minimizes log(1 - D(G(z))) instead of -log D(G(z)) */
    float bce_clip;
    float label_smoothing; /* one-sided: D's real target is 1 - s */
    float label_flip;   /* probability of flipping each label in D's updates */
    float instance_noise; /* sigma of Gaussian noise added to D's inputs at iteration 0 */
    long instance_noise_decay; /* iterations over which sigma falls linearly to 0 */
    float gp_lambda;    /* WGAN-GP gradient penalty weight (0 = off) */
    float clip_weights; /* WGAN: clamp D's weights to [-c, c] after each D step (0 = off) */
    int d_joint;        /* one D update on real+fake (+penalty) instead of two (Keras) */
    int fake_eval;      /* D's fake batch drawn with G in inference mode (Keras predict) */
    uint64_t seed;
    long sample_every;
    long log_every;
    char data[512];     /* directory with train-images-idx3-ubyte[.gz] or PNG images, or "fashion" */
    int image_size;     /* images fitted to S x S (0: the data's own size) */
    int channels;       /* 1 gray, 3 RGB (NHWC: channels interleaved per pixel) */
    char out[512];      /* run directory; "" = runs/<timestamp> */
    char device[128];
    int gemm;           /* clgan_gemm_impl */
    int gif_delay_cs;
    int grid_scale;     /* sample grids and GIF frames enlarged this many times */
    long monitor_every; /* measure gradient norms / update ratios every N iterations (0 = off) */
    long eval_every;    /* score samples with the classifier every N iterations (0 = off) */
    int eval_samples;   /* samples scored per evaluation */
    char classifier[512]; /* "auto" (the shipped one matching --data), "none", or a file */
    long checkpoint_every; /* write RUN/checkpoints/ckpt-<it>.safetensors every N iterations */
    int keep_checkpoints; /* the newest K checkpoints are kept */
    /* Data-parallel ranks (mpirun; docs/mpi.md): `batch` is per rank. */
    int global_batch;   /* batch x ranks, when > 0 (then batch = global_batch / ranks) */
    int sync_bn;        /* BatchNorm statistics over all ranks' batches */
    float mpi_timeout;  /* seconds a collective waits for the other ranks */
} clgan_config;

void clgan_config_defaults(clgan_config *c);

/* Applies flags from argv (after the subcommand). Flags are `--name value` or
 * `--name=value`; `--preset NAME` (samples/presets/NAME.ini) and `--config FILE` load
 * INI files first, in that order (flags win, in any order).
 * Positional arguments and unknown flags are errors (EINVAL, one line naming them).
 * `--help` sets *help. */
clgan_status clgan_config_parse_args(clgan_config *c, int argc, char **argv, int *help);

/* Loads an INI file ([generator], [discriminator], [model], [train]); an unknown key,
 * a bad value or a section that does not exist is an error naming file and line. */
clgan_status clgan_config_load_ini(clgan_config *c, const char *path);

/* The same from text in memory; `origin` names it in errors. */
clgan_status clgan_config_load_ini_text(clgan_config *c, const char *text, const char *origin);

/* The resolved configuration as INI text (malloc'd, caller frees; NULL on OOM). */
char *clgan_config_to_ini(const clgan_config *c);

/* Sets one setting by flag name ("lr-g", or "lr" for both networks). */
clgan_status clgan_config_set(clgan_config *c, const char *name, const char *value);

/* Writes the complete resolved configuration as INI text (every setting). */
void clgan_config_write_ini(const clgan_config *c, FILE *f);
clgan_status clgan_config_save(const clgan_config *c, const char *path);

/* Prints every flag with its default and meaning, and the presets. */
void clgan_config_print_help(FILE *f);

/* Loads samples/presets/NAME.ini (found next to the binary or in the source tree). */
clgan_status clgan_config_load_preset(clgan_config *c, const char *name);

/* Finds a shipped file under samples/ ("data", "presets/wgan.ini"): next to the binary
 * (build dir or install prefix), else the source tree it was built from. Writes the
 * path; 1 when found. */
int clgan_find_sample(char *out, size_t n, const char *rel);

/* The flag of the first setting that differs between a and b, leaving out the flags in
 * `allowed` (NULL-terminated); NULL when they agree. For --resume, which may change only
 * a few settings. */
const char *clgan_config_diff(const clgan_config *a, const clgan_config *b,
                              const char *const *allowed);

/* Checks cross-setting constraints (e.g. layer lists, batch > 0). */
clgan_status clgan_config_validate(const clgan_config *c);

/* ---- model ------------------------------------------------------------------------ */

/* Appends the layers of spec `spec` (the --arch-g / --arch-d language: comma-separated
 * layers such as "dense 6272, act, reshape 7x7x128, up 2, conv 128 k3 same, norm, act")
 * to `n`, whose input shape is set. Generic tokens take the network's settings nc (act:
 * its activation, norm: its batchnorm, drop: its dropout); an activation right after a
 * dense or convolution layer is fused into it. `flag` names the setting in errors
 * ("arch-g"). `tail` (may be NULL) is appended as if it ended the spec (D's output
 * activation). A filter count written "c" means img_c, the images' channels. EINVAL
 * naming the layer and the problem. */
clgan_status clgan_arch_build(clgan_net *n, const char *spec, const char *tail, int img_c,
                              const clgan_net_config *nc, const clgan_config *c, const char *flag);

/* Builds G: latent -> its arch spec, or the MLP [Dense(w), act, BN]* -> Dense(img size),
 * tanh; its output must hold one image of shape img (h, w, c). */
clgan_status clgan_model_generator(clgan_net **g, clgan_ctx *ctx, const clgan_config *c,
                                   clgan_shape img, int batch);
/* Builds D: an image -> its arch spec, or the MLP [Dense(w), act]* -> Dense(1); then a
 * sigmoid for the bce loss. One output per sample. */
clgan_status clgan_model_discriminator(clgan_net **d, clgan_ctx *ctx, const clgan_config *c,
                                       clgan_shape img, int batch);

/* The same network (role 0: G, 1: D) with its layers added but nothing allocated, for
 * clgan_net_plan_get and for checking a checkpoint's tensors before anything is built;
 * clgan_model_finalize then allocates and initializes it as the builders above do. */
clgan_status clgan_model_layers(clgan_net **net, clgan_ctx *ctx, const clgan_config *c,
                                clgan_shape img, int batch, int role);
clgan_status clgan_model_finalize(clgan_net *net, const clgan_config *c, int role);

/* ---- memory plan (plan.c) ------------------------------------------------------------ */

#define CLGAN_PLAN_ITEMS 24

typedef struct {
    char what[48];
    size_t bytes;
    int device;           /* 1: device memory, 0: host memory */
} clgan_plan_item;

/* What something needs, added up before it is allocated. Zero-initialize, set `what`
 * ("the run"), then add. */
typedef struct {
    char what[160];       /* what needs it, for the message */
    clgan_plan_item item[CLGAN_PLAN_ITEMS];
    int n;
    size_t device, host;  /* totals (saturating) */
    size_t largest;       /* the largest single device buffer */
    char largest_what[48];
} clgan_mem_plan;

/* Adds `bytes` of device (device = 1) or host memory under `what` (the same name adds up). */
void clgan_plan_add(clgan_mem_plan *p, const char *what, int device, size_t bytes);
/* Notes a single device buffer; the largest is checked against the allocation limit. */
void clgan_plan_largest(clgan_mem_plan *p, const char *what, size_t bytes);
/* Adds a network built with clgan_model_layers (nothing allocated) under `name`. */
clgan_status clgan_plan_net(clgan_mem_plan *p, clgan_net *layers, const char *name);
/* EINVAL, one line with the numbers, the biggest items and `advice`, when the plan does
 * not fit: its largest buffer above CL_DEVICE_MAX_MEM_ALLOC_SIZE, its device total above
 * CL_DEVICE_GLOBAL_MEM_SIZE, or its host total (plus the device's on a CPU device)
 * above the available RAM. */
clgan_status clgan_plan_check(const clgan_mem_plan *p, clgan_ctx *ctx, const char *advice);
/* Bytes of RAM available now (MemAvailable, or less under a cgroup limit); 0 unknown. */
uint64_t clgan_host_mem_available(void);

/* ---- trainer ------------------------------------------------------------------------ */

/* Per-iteration metrics (floats), in the device ring and the host history. */
enum {
    CLGAN_M_D_LOSS_REAL = 0, CLGAN_M_D_ACC_REAL, CLGAN_M_D_X,   /* D(x) mean */
    CLGAN_M_D_LOSS_FAKE, CLGAN_M_D_ACC_FAKE, CLGAN_M_D_GZ,      /* D(G(z)) mean, D step */
    CLGAN_M_G_LOSS, CLGAN_M_G_ACC, CLGAN_M_G_DGZ,               /* D(G(z)) in the G step */
    CLGAN_M_GP, CLGAN_M_GP_NORM,               /* gradient penalty, mean ||grad_x D(xhat)|| */
    CLGAN_M_D_GNORM, CLGAN_M_D_GNORM_CLIPPED,  /* D's global gradient norm before/after clip */
    CLGAN_M_G_GNORM, CLGAN_M_G_GNORM_CLIPPED,  /* G's */
    /* Written on monitored iterations only (every monitor-every): */
    CLGAN_M_G_UPDATE = 16, CLGAN_M_G_WEIGHT,   /* ||G's weights after - before the iteration||, ||after|| */
    CLGAN_M_D_UPDATE, CLGAN_M_D_WEIGHT,        /* the same for D */
    /* Per-tensor values from here on, nt = n_g_tensors + n_d_tensors tensors (G's, then
     * D's, each in network order) at most CLGAN_M_MAX_TENSORS:
     *   [CLGAN_M_TENSORS, + nt)        gradient L2 norms of the last update of each net
     *   [CLGAN_M_TENSORS + nt, + 2 nt) ||w after - w before the iteration|| per tensor
     *   [CLGAN_M_TENSORS + 2 nt, + 3 nt) ||w after|| per tensor */
    CLGAN_M_TENSORS = 20,
    CLGAN_M_COUNT = 256,
    CLGAN_M_MAX_TENSORS = (CLGAN_M_COUNT - CLGAN_M_TENSORS) / 3
};

typedef struct clgan_trainer clgan_trainer;

typedef struct {
    clgan_net *g, *d;
    long iteration;       /* iterations completed */
    const float *history; /* (iterations done, CLGAN_M_COUNT), valid up to synced */
    long synced;          /* iterations whose metrics are on the host */
    clgan_shape img;      /* one image (h, w, c), NHWC */
    int img_dim;          /* h * w * c */
    int n_g_tensors, n_d_tensors; /* monitored tensors; D's norms follow G's */
    const char *const *tensor_names; /* n_g_tensors + n_d_tensors names, G's first */
    const clgan_tensor_info *const *tensor_info; /* the same tensors' shapes (borrowed) */
    long nonfinite_at;    /* first iteration with a NaN/Inf metric, or -1 */
    long last_good;       /* iterations done at the last weight snapshot known finite (0:
                             the initial weights) */
    double comm_s;        /* seconds spent in collectives over ranks (0 on one rank) */
    long comm_calls;      /* how many */
} clgan_trainer_view;

/* Builds G, D, optimizers and buffers for images of shape img; uploads `data`
 * (count, h*w*c) uint8 (may be NULL when only step_with is used). Caller owns *out. */
clgan_status clgan_trainer_init(clgan_trainer **out, clgan_ctx *ctx, const clgan_config *c,
                                const uint8_t *data, size_t count, clgan_shape img);
void clgan_trainer_free(clgan_trainer *t);

/* Data-parallel training over the ranks of `d` (borrowed; NULL or one rank: nothing
 * changes). Call once after init, before the first step, on every rank: broadcasts
 * rank 0's initial weights; from then on each rank draws its slice (rank * batch on) of
 * the global batch's random stream, every gradient is averaged over the ranks before
 * its optimizer step, metrics are averaged over the ranks when read back, and with
 * c->sync_bn BatchNorm uses the global batch's statistics. EINVAL when the draws cannot
 * be sliced (batch * latent, or batch * image size with instance noise, not a multiple
 * of 4). Collectives fail with ECOMM (dist.h). */
typedef struct clgan_dist clgan_dist;
clgan_status clgan_trainer_set_dist(clgan_trainer *t, clgan_dist *d);

/* Adds what clgan_trainer_init would allocate for `c` and a data set of `count` images
 * of shape img (bytes) to *p, device and host, without allocating it (the networks are
 * planned from their layer lists). */
clgan_status clgan_trainer_plan(clgan_mem_plan *p, clgan_ctx *ctx, const clgan_config *c,
                                size_t count, clgan_shape img);
const clgan_trainer_view *clgan_trainer_get(const clgan_trainer *t);

/* One iteration with a random real batch and fresh noise, all drawn on the device.
 * Never waits for the device except every block of metrics that comes back. */
clgan_status clgan_trainer_step(clgan_trainer *t);

/* One iteration from host inputs instead of device draws: real (d_steps, batch, dim)
 * in [-1, 1], noise_d (d_steps, batch, latent) and noise_g (g_steps, batch, latent).
 * Everything else (label flips, instance noise, WGAN-GP interpolation coefficients) is
 * still drawn on the device from (seed, iteration, sub-step) Philox counters. For
 * parity tests; uploads block. */
clgan_status clgan_trainer_step_with(clgan_trainer *t, const float *real, const float *noise_d,
                                     const float *noise_g);

/* 1 when iteration `it` (0-based) measured gradient norms and update ratios. */
int clgan_trainer_monitored(const clgan_trainer *t, long it);

/* Puts back the weights of the last snapshot whose metrics were all finite (view
 * last_good iterations); for a run that diverged. EINVAL when there is none. */
clgan_status clgan_trainer_restore_last_good(clgan_trainer *t);

/* Waits for the device and brings every completed iteration's metrics to the host. */
clgan_status clgan_trainer_sync(clgan_trainer *t);

/* G in inference mode on the fixed sample noise (seeded), n rows into out (n, dim). */
clgan_status clgan_trainer_sample(clgan_trainer *t, float *out, int n);

/* The same into a device buffer (n, dim), from the fixed evaluation noise (another
 * stream, the same numbers at every call). Non-blocking. */
clgan_status clgan_trainer_sample_device(clgan_trainer *t, cl_mem out, int n);

/* ---- checkpoints --------------------------------------------------------------------- */

/* A training checkpoint being assembled: named tensors and metadata (src/gan/ckpt.h). */
typedef struct clgan_ckpt clgan_ckpt;

/* Everything the trainer needs to continue exactly, into checkpoint `k`: syncs with the device first, then both
 * networks' tensors and running statistics ("g/dense0.kernel"), their optimizers'
 * state sliced the same way ("g/adam_m/dense0.kernel"), the weight snapshots a NaN after
 * this iteration could still need, the current block's metrics, and as metadata the
 * iteration, Adam step counters, the last finite snapshot and the dropout layers' draw
 * counters. The random draws need nothing more: each is keyed by (seed, iteration,
 * sub-step). */
clgan_status clgan_trainer_save(clgan_trainer *t, clgan_ckpt *k);

/* The newest readable training checkpoint of run directory `dir`: its path and
 * iteration. An unreadable newer one is skipped, saying so on `log` (may be NULL).
 * EINVAL when there is none (naming why). */
clgan_status clgan_checkpoint_latest(const char *dir, char *path, size_t n, long *it, FILE *log);

/* Whether a run may use directory `dir` (the run itself checks again): EINVAL when
 * another run holds it (naming it), or when it already holds a run or other files and
 * neither `resume` nor `overwrite` is set (docs/runs.md). */
clgan_status clgan_run_check_dir(const char *dir, int resume, int overwrite);

/* The resolved configuration a training checkpoint holds (for clgan train --resume). */
clgan_status clgan_checkpoint_config(const char *path, clgan_config *c);

/* Loads that into a new trainer built from the same configuration: EFORMAT naming the
 * file and tensor when something is missing or of another shape. */
clgan_status clgan_trainer_load(clgan_trainer *t, const clgan_tensor_set *s, const char *path);

/* Puts back row `it` of the metrics history (CLGAN_M_COUNT floats), for a resumed run's
 * records. */
clgan_status clgan_trainer_set_history(clgan_trainer *t, long it, const float *row);

/* Writes G's parameters and running statistics as safetensors, with the settings needed
 * to rebuild it as metadata (img_h, img_w, and img_c from c->channels). */
clgan_status clgan_checkpoint_save_generator(const char *path, clgan_net *g,
                                             const clgan_config *c, int img_h, int img_w);

/* Rebuilds G from a checkpoint for `batch` rows. *c receives its settings, with
 * c->channels set to the images' channels (metadata img_c; 1 when absent, as in
 * checkpoints from before RGB): G's output is img_h * img_w * c->channels values. */
clgan_status clgan_checkpoint_load_generator(clgan_net **g, clgan_ctx *ctx, const char *path,
                                             int batch, clgan_config *c, int *img_h,
                                             int *img_w);

/* ---- data ------------------------------------------------------------------------------ */

typedef struct {
    uint8_t *images; /* (count, h, w, c), channels interleaved (NHWC), owned */
    uint8_t *labels; /* (count) or NULL, owned */
    size_t count;
    int h, w;
    int c;           /* channels per pixel: 1 gray, 3 RGB */
    int idx;         /* 1: read from IDX files (MNIST format); 0: a directory of PNGs */
    size_t skipped;  /* PNG directory entries that were not readable images */
    char *skip_log;  /* the first few of them, "path: reason" per line, or NULL; owned */
    size_t color_files; /* PNGs stored in colour (converted to gray when c == 1) */
    char source[600];
} clgan_dataset;

/* Loads `spec`: a directory holding train-images-idx3-ubyte[.gz] (labels optional),
 * "fashion" (Debian's dataset-fashion-mnist), "" for the shipped samples/data, or any other
 * directory, read as PNG images (clgan_imagedir_load: odd files skipped and counted), all
 * at their own size and in gray. */
clgan_status clgan_dataset_load(clgan_dataset *d, const char *spec);

/* The same, fitted to size x size (0: the data's own size; IDX images are resampled with
 * the PNGs' rules) with `channels` 1 or 3 (gray replicated to RGB; colour to BT.601 luma).
 * With size 0 and 1 channel, IDX data is exactly as stored. */
clgan_status clgan_dataset_load_as(clgan_dataset *d, const char *spec, int size, int channels);
void clgan_dataset_free(clgan_dataset *d);

/* Device-side draws (cl/random.cl), the same for a (seed, step, stream) on any device;
 * step and stream keep the trainer's draws apart. Non-blocking.
 * out[0..n) ~ N(0, 1): counter i of Philox4x32-10 gives elements 4i..4i+3. */
clgan_status clgan_randn_fill(clgan_ctx *ctx, cl_mem out, int n, uint64_t seed, uint64_t step,
                              unsigned stream);
/* out (rows, dim) = rows of `data` (count, dim) uint8 scaled to [-1, 1], row r from
 * philox4x32(r, step, stream).x mod count. */
clgan_status clgan_gather_rows(clgan_ctx *ctx, cl_mem out, cl_mem data, int rows, int dim,
                               size_t count, uint64_t seed, uint64_t step, unsigned stream);
/* The same draws from counter `first` (randn: element group, 4 values each) or row `row0`
 * on: a data-parallel rank's slice of the global batch's stream (0: the calls above). */
clgan_status clgan_randn_fill_at(clgan_ctx *ctx, cl_mem out, int n, uint64_t seed, uint64_t step,
                                 unsigned stream, uint32_t first);
clgan_status clgan_gather_rows_at(clgan_ctx *ctx, cl_mem out, cl_mem data, int rows, int dim,
                                  size_t count, uint64_t seed, uint64_t step, unsigned stream,
                                  int row0);

/* ---- sampling a generator ------------------------------------------------------------ */

/* Fills z (n floats) with standard-normal noise from `seed`: a host generator
 * (SplitMix64 + Box-Muller), the same numbers on every machine and device. Row i of
 * `clgan sample --seed S` is z[i * latent .. (i + 1) * latent) of this with n = N * latent. */
void clgan_noise_normal(float *z, size_t n, uint64_t seed);

/* Runs generator `g` (made on `ctx`) in inference mode (BatchNorm on its running statistics) on host
 * noise z (n, in_dim) and writes out (n, out_dim); n is any count (G's batch at a time,
 * the last one padded). z and out borrowed. Blocking. On error out is unspecified. */
clgan_status clgan_generator_run(clgan_ctx *ctx, clgan_net *g, const float *z, long n,
                                 float *out);

/* ---- the run driver --------------------------------------------------------------------- */

typedef struct {
    int progress;     /* 1: live progress line (terminal); 0: plain periodic lines */
    int quiet;        /* no progress output at all */
    volatile sig_atomic_t *stop; /* when it becomes non-zero the run ends early, outputs written */
    const char *resume;  /* continue the run in this directory from its newest checkpoint
                            (the configuration must be the checkpoint's, but for iterations,
                            device, checkpoint-every and keep-checkpoints) */
    int overwrite;        /* the run directory may hold an old run: its files are removed once
                             this run can start */
    volatile sig_atomic_t *running; /* set to 1 once set-up is over and the run starts writing
                                       its directory: until then an interrupted run has
                                       nothing to save and may simply end (NULL: not told) */
    FILE *log;        /* where progress goes (stderr when NULL) */
    clgan_dist *dist; /* data-parallel ranks (dist.h; NULL: one rank), borrowed */
} clgan_run_opts;

/* Trains per `c` and writes the run directory: loss .npy arrays, images/<it>.png,
 * training.gif, config.ini, metrics.jsonl, generator.safetensors. Prints where they
 * are. */
clgan_status clgan_run_train(const clgan_config *c, const clgan_run_opts *o);

/* Over the ranks of `d` (run_dist.c): c->batch per rank from --global-batch (EINVAL when
 * the ranks do not divide it) or global_batch = batch x ranks, and with --device auto
 * this rank's device: GPU (local rank mod GPUs) of its node, else the CPU device. */
clgan_status clgan_run_dist_setup(clgan_config *c, const clgan_dist *d);
/* A rank other than 0: trains in step with rank 0's clgan_run_train (o->dist set on
 * both) and writes nothing; stops when rank 0 stops. */
clgan_status clgan_run_worker(const clgan_config *c, const clgan_run_opts *o);

#endif
