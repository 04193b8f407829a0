/* diag.h - diagnostics: what is going wrong in a GAN run, and how good its samples are.
 * Uses nn, optim, io and runtime; knows nothing of the GAN trainer.
 *
 * Evaluator (section "evaluator" below): an MNIST-style digit classifier trained with
 * clgan's own layers (`clgan train-classifier`, weights shipped in samples/classifier/)
 * scores a set of generated samples: which classes they fall into (mode coverage, KL to
 * the data's class frequencies), the Frechet distance between the classifier's
 * penultimate features of generated and real digits, a diversity ratio, and the
 * classifier's confidence.
 *
 * Example (every few hundred iterations of a run):
 *   clgan_eval *ev;
 *   if (clgan_eval_init(&ev, ctx, "samples/classifier/mnist.safetensors", 1000,
 *                       data.images, data.count, 784) != CLGAN_OK) ... clgan_error_msg() ...
 *   clgan_eval_result r;
 *   clgan_eval_run(ev, samples, 1000, &r);   // samples: (1000, 784) device floats in [-1, 1]
 *   printf("modes %d  KL %.3f  FD %.2f\n", r.modes_covered, r.kl, r.frechet);
 *   clgan_eval_free(ev);
 */
#ifndef CLGAN_DIAG_H
#define CLGAN_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clgan/nn.h"
#include "clgan/runtime.h"

/* ==== detectors ======================================================================= */

/* One monitored tensor of a run (tensors.json): which network, its name, rank and size.
 * Detectors use ranks and sizes only, never names (any architecture). */
typedef struct {
    char name[64];
    int net;       /* 0: G, 1: D */
    int ndim;      /* 1..4; 0 when unknown (a run written before tensors.json) */
    long count;    /* elements; 0 when unknown */
} clgan_diag_tensor;

/* What the detectors read: a run's per-iteration series, its gradient records
 * (every monitor-every iterations) and its sample-quality records (eval.jsonl). */
typedef struct {
    long n;                     /* iterations */
    const float *d_loss, *g_loss, *d_acc, *d_real, *d_fake; /* (n) each */
    int loss;                   /* clgan_loss of the run */
    long nonfinite_at;          /* first iteration with a NaN/Inf, or -1 */
    long n_mon;                 /* gradient records */
    const long *mon_it;         /* (n_mon) their iterations */
    const float *g_first_norm;  /* (n_mon) G's first-layer gradient norm */
    const float *g_norm, *d_norm; /* (n_mon) global gradient norms */
    int n_tensors, n_g_tensors; /* per-tensor columns: G's tensors, then D's, network order */
    const clgan_diag_tensor *tensors; /* (n_tensors) */
    const float *t_grad;        /* (n_mon, n_tensors) gradient L2 norms */
    const float *t_update;      /* (n_mon, n_tensors) ||w after - w before|| / ||w after|| of
                                   the monitored iteration; NaN where not recorded */
    const float *t_weight;      /* (n_mon, n_tensors) ||w after||; NaN where not recorded */
    long n_eval;                /* sample-quality records */
    const long *eval_it;        /* (n_eval) their iterations */
    const float *coverage, *fd, *diversity; /* (n_eval) modes covered, Frechet, diversity */
    const float *confidence;    /* (n_eval) the classifier's mean top probability */
} clgan_diag_input;

/* ---- the records the detectors read (src/diag/records.c) ------------------------------
 * ONE path from a run's records to clgan_diag_input, used live by the trainer's run
 * driver (fed each line as it is written) and afterwards by `clgan diagnose` (fed the
 * files' lines): both see exactly the same numbers, so they reach the same diagnoses.
 * The detectors keep no state of their own: what they report is a function of these
 * records alone (a resumed run re-reads its files and needs nothing else). */
typedef struct clgan_diag_records clgan_diag_records;

clgan_status clgan_diag_records_init(clgan_diag_records **out);
void clgan_diag_records_free(clgan_diag_records *r);
/* The tensor table: tensors.json's text (see clgan_diag_tensors_json). EFORMAT. */
clgan_status clgan_diag_records_tensors(clgan_diag_records *r, const char *json, const char *origin);
/* One metrics.jsonl line (one log interval; its gradient record when it carries one).
 * EFORMAT names origin:line. */
clgan_status clgan_diag_records_metrics(clgan_diag_records *r, const char *line,
                                        const char *origin, long lineno);
/* One eval.jsonl line. */
clgan_status clgan_diag_records_eval(clgan_diag_records *r, const char *line, const char *origin,
                                     long lineno);
/* The per-iteration series (n values each, borrowed: they must outlive the input):
 * d_loss, g_loss, d_acc, d_real, d_fake. */
void clgan_diag_records_series(clgan_diag_records *r, long n, const float *const series[5]);
/* The detectors' input over everything fed so far (borrowed from r). */
const clgan_diag_input *clgan_diag_records_input(clgan_diag_records *r, int loss);
/* tensors.json's text for a table of n tensors (G's first): malloc'd, caller frees. */
char *clgan_diag_tensors_json(const clgan_diag_tensor *t, int n);

typedef enum {
    CLGAN_DIAG_D_STRONG = 0,
    CLGAN_DIAG_D_WEAK,
    CLGAN_DIAG_VANISHING,
    CLGAN_DIAG_EXPLODING,
    CLGAN_DIAG_DEAD,
    CLGAN_DIAG_COLLAPSE,
    CLGAN_DIAG_EQUILIBRIUM,
    CLGAN_DIAG_COUNT
} clgan_diag_id;

#define CLGAN_DIAG_MAX 32 /* events clgan_diagnose reports at most */

enum { CLGAN_SEV_INFO = 0, CLGAN_SEV_WARNING = 1, CLGAN_SEV_ERROR = 2 };

/* One event: a named failure (or state) over a span of iterations, with its evidence and
 * what to try. The same failure may come back as another event (a temporary collapse,
 * then a second one). */
typedef struct {
    clgan_diag_id id;
    const char *key;          /* "mode_collapse" (static) */
    const char *name;         /* "Mode collapse" (static) */
    int severity;             /* CLGAN_SEV_* */
    long onset;               /* first iteration of the span (its first window or record) */
    long end;                 /* last iteration the condition was seen to hold */
    long confirmed;           /* iteration at which the detector could first name it: when
                                 the live run printed its warning */
    int recovered;            /* 1: the condition cleared after `end` and stayed clear */
    char evidence[600];      /* the numbers, one line */
    const char *remedies[6];  /* flags to try, NULL-terminated (static strings) */
} clgan_diagnosis;

/* Runs every detector over the input; out has room for CLGAN_DIAG_MAX events. Returns how
 * many, in order of onset (equilibrium last). Every detector is causal: what it reports
 * about iterations [0, t) depends only on the records up to t, so a diagnosis of the
 * first n iterations (live) holds every event of a later one, with the same onset. */
int clgan_diagnose(const clgan_diag_input *in, clgan_diagnosis *out);
/* Prints the summary ("Diagnosis after N iterations: ..." and each event). */
void clgan_diagnoses_print(FILE *f, const clgan_diagnosis *d, int n, long iterations);
/* The diagnoses as JSON text (malloc'd, caller frees; NULL on OOM): {"iterations",
 * "healthy" (no warning or error event, recovered or not), "diagnoses": [{"id", "name",
 * "severity", "onset", "end", "confirmed", "recovered", "evidence", "remedies"}]}. */
char *clgan_diagnoses_json(const clgan_diagnosis *d, int n, long iterations);
clgan_status clgan_diagnoses_write(const char *path, const clgan_diagnosis *d, int n,
                                   long iterations);

/* A run directory read back for the detectors (src/diag/rundata.c). */
typedef struct clgan_run_data clgan_run_data;
/* loss: the run's clgan_loss (from its config.ini, which the caller reads). */
clgan_status clgan_run_data_load(clgan_run_data **out, const char *dir, int loss);
const clgan_diag_input *clgan_run_data_input(const clgan_run_data *r);
void clgan_run_data_free(clgan_run_data *r);

/* ==== evaluator ======================================================================= */

#define CLGAN_CLASSES 10       /* classes of the evaluation classifier (digits, garments) */
#define CLGAN_CLS_MAX_HIDDEN 4

/* A labelled image set: images (count, h*w) uint8, labels (count) in [0, CLGAN_CLASSES).
 * Borrowed wherever it is passed. */
typedef struct {
    const uint8_t *images;
    const uint8_t *labels;
    size_t count;
    int h, w;
} clgan_labeled;

/* How `clgan_classifier_train` trains (clgan_classifier_defaults has the MNIST recipe). */
typedef struct {
    int hidden[CLGAN_CLS_MAX_HIDDEN], n_hidden; /* ReLU widths; the last is the feature layer */
    float dropout;     /* rate of the dropout after each hidden layer */
    int epochs;
    int batch;
    float lr;          /* Adam (PyTorch form, betas 0.9/0.999); divided by 5 at 60% and at
                          85% of the epochs (a fresh optimizer each stage) */
    float shift;       /* augmentation: translation up to +-shift pixels */
    float rot;         /* rotation up to +-rot radians */
    float scale;       /* zoom in [1 - scale, 1 + scale] */
    uint64_t seed;     /* weights, shuffling, augmentation and dropout */
    const char *data;  /* what the training set is, for the metadata (borrowed) */
    const char *heldout; /* what the held-out set is, for the metadata (borrowed) */
} clgan_classifier_opts;

/* What a classifier is, as its file's metadata says. */
typedef struct {
    int h, w;                                /* image size; input dim = h * w */
    int hidden[CLGAN_CLS_MAX_HIDDEN], n_hidden;
    int features;                            /* width of the penultimate (feature) layer */
    float dropout;
    double heldout_accuracy;                 /* on the held-out set after training */
    long heldout_count;
    long train_count;
    double class_freq[CLGAN_CLASSES];        /* of its training labels; sums to 1 */
    char data[256];                          /* what it was trained on */
    char heldout[256];                       /* what it was evaluated on */
} clgan_classifier_info;

typedef struct clgan_classifier clgan_classifier;

/* The MNIST recipe: 512-128 ReLU, dropout 0.3, 60 epochs of batch 128, Adam lr 1e-3,
 * shift 2 px, rotation 0.2 rad, zoom 0.1, seed 1. */
clgan_classifier_opts clgan_classifier_defaults(void);

/* Trains a classifier on `train` (on the device: Dense + ReLU + dropout layers, softmax
 * cross-entropy, Adam; batches gathered and augmented on the device from a per-epoch
 * shuffle) and measures it on `heldout` (not augmented) after every epoch. One line per
 * epoch goes to `log` when not NULL. *out owned by the caller (clgan_classifier_free);
 * `ctx` borrowed, must outlive it. EINVAL for a bad option, a label outside
 * [0, CLGAN_CLASSES) or sets of different image sizes; on failure nothing is left. */
clgan_status clgan_classifier_train(clgan_classifier **out, clgan_ctx *ctx,
                                    const clgan_classifier_opts *o, const clgan_labeled *train,
                                    const clgan_labeled *heldout, FILE *log);

/* Loads a classifier written by clgan_classifier_save for batches of `batch` rows.
 * EIO when the file cannot be read, EFORMAT when it is not a clgan classifier (metadata
 * "format" must be "clgan-classifier-1") or a tensor is missing or misshapen. */
clgan_status clgan_classifier_load(clgan_classifier **out, clgan_ctx *ctx, const char *path,
                                   int batch);

/* Writes weights (features.denseK.kernel (in, out), features.denseK.bias, head.dense0.*)
 * as float32 safetensors with the info as metadata (format, h, w, hidden "512,128",
 * dropout, heldout_accuracy, heldout_count, train_count, class_freq "f0,...,f9", data,
 * heldout). Atomic. */
clgan_status clgan_classifier_save(clgan_classifier *c, const char *path);

void clgan_classifier_free(clgan_classifier *c);
const clgan_classifier_info *clgan_classifier_get(const clgan_classifier *c);
/* Rows per forward pass (the batch it was built or loaded for). */
int clgan_classifier_batch(const clgan_classifier *c);

/* Share of `s` classified correctly (inference mode, no augmentation), into *acc.
 * Uploads the set; blocking. */
clgan_status clgan_classifier_accuracy(double *acc, clgan_classifier *c, const clgan_labeled *s);

/* Inference on x (batch, h*w) in [-1, 1] (borrowed). *features (batch, features) and
 * *logits (batch, CLGAN_CLASSES) are the network's own output buffers, borrowed and
 * valid until the next forward. Non-blocking. */
clgan_status clgan_classifier_forward(clgan_classifier *c, cl_mem x, cl_mem *features,
                                      cl_mem *logits);

/* Softmax cross-entropy of logits (n, classes) against int labels (n) (cl/classify.cl
 * softmax_xent has the formulas): dL/dlogits into dout (n, classes); weight * (mean loss,
 * accuracy) into metrics[slot], metrics[slot + 1], added to them when accumulate.
 * One launch (two for large n with GPU shapes, through the scratch); non-blocking;
 * buffers borrowed. */
clgan_status clgan_softmax_xent(clgan_ctx *ctx, cl_mem dout, cl_mem metrics, int slot,
                                cl_mem logits, cl_mem labels, int n, int classes, int accumulate,
                                float weight);

/* ---- Frechet distance (src/diag/frechet.c), double precision, LAPACK ---------------- */

/* Mean mu (d) and sample covariance cov (d, d), divided by n - 1, of the rows of x (n, d).
 * EINVAL when n < 2; ENOMEM. */
clgan_status clgan_mean_cov(double *mu, double *cov, const float *x, int n, int d);

/* out (d, d) = the symmetric square root of the symmetric positive semi-definite a (d, d),
 * V diag(sqrt(max(l, 0))) V^T from LAPACKE_dsyevd (eigenvalues below 0, rounding, are
 * clamped to 0). ENUMERIC when LAPACK fails; ENOMEM. */
clgan_status clgan_sqrtm_psd(double *out, const double *a, int d);

/* Frechet distance between Gaussians N(mu1, cov1) and N(mu2, cov2) of dimension d:
 *   ||mu1 - mu2||^2 + Tr(cov1 + cov2 - 2 (cov1^{1/2} cov2 cov1^{1/2})^{1/2})
 * (Tr of the last term = sum of sqrt of the clamped eigenvalues of the symmetric
 * cov1^{1/2} cov2 cov1^{1/2}). clgan_frechet_sqrt takes cov1^{1/2} precomputed (the
 * evaluator's real-data side). Writes *fd (>= 0 up to rounding). ENUMERIC, ENOMEM. */
clgan_status clgan_frechet(double *fd, const double *mu1, const double *cov1, const double *mu2,
                           const double *cov2, int d);
clgan_status clgan_frechet_sqrt(double *fd, const double *mu1, const double *cov1,
                                const double *cov1_sqrt, const double *mu2, const double *cov2,
                                int d);

/* ---- the evaluator (src/diag/evaluate.c) -------------------------------------------- */

/* The scores of one set of samples. */
typedef struct {
    int n;                           /* samples scored */
    int histogram[CLGAN_CLASSES];    /* samples per predicted class (arg-max) */
    int modes_covered;               /* classes c with histogram[c] >= 10% of their expected
                                        count n * p_data(c) */
    double kl;                       /* KL(q || p) = sum_c q_c log(q_c / p_c): q = histogram / n
                                        (0 log 0 = 0, no smoothing needed), p = the training
                                        label frequencies, each floored at 1e-6 and
                                        renormalised (finite even for an absent class);
                                        0 for the data's own distribution, up to ~2.3 for
                                        one class of ten */
    double frechet;                  /* Frechet distance of the classifier's feature-layer
                                        activations, generated vs the real subset */
    double diversity;                /* mean pairwise L2 distance between the samples (pixels
                                        in [-1, 1]) / the same on the real subset: ~1 for
                                        real data, near 0 for collapse */
    double confidence;               /* mean max softmax probability */
    double real_mean_distance;       /* the real subset's mean pairwise distance */
} clgan_eval_result;

typedef struct clgan_eval clgan_eval;

/* Loads the classifier (EIO / EFORMAT as clgan_classifier_load) for batches of
 * n_samples rows (2..100000; 500-1000 is typical) and precomputes, on a fixed subset of
 * min(n_samples, real_count) real images (every (real_count / n)-th, scaled to [-1, 1]),
 * the mean and covariance of its features, their matrix square root and the mean
 * pairwise distance. real (real_count, dim) uint8, borrowed (not kept); dim must be the
 * classifier's h*w (EINVAL otherwise). *out owned by the caller; ctx borrowed. */
clgan_status clgan_eval_init(clgan_eval **out, clgan_ctx *ctx, const char *classifier_path,
                             int n_samples, const uint8_t *real, size_t real_count, int dim);

/* Scores samples (n, dim) device floats in [-1, 1] (borrowed), 2 <= n <= n_samples: one
 * forward pass of the classifier and one Gram-matrix GEMM on the device, one read-back
 * of features, probabilities and distance sums, then the statistics on the host.
 * Blocking. *r fully written on success. */
clgan_status clgan_eval_run(clgan_eval *e, cl_mem samples, int n, clgan_eval_result *r);

/* The classifier's info (borrowed). */
const clgan_classifier_info *clgan_eval_classifier(const clgan_eval *e);

void clgan_eval_free(clgan_eval *e);

/* ==== report ========================================================================== */

/* `clgan report RUN_DIR`: one self-contained HTML page about a run directory (src/diag/
 * report*.c): a header with the run's settings (config.ini) and the verdict
 * (diagnoses.json), the diagnoses with onset, evidence and remedies, inline SVG charts
 * (losses raw and log1p, D(x) and D(G(z)), per-tensor gradient norms of G and D, update
 * ratios, mode coverage, Frechet distance; each diagnosis' onset marked on every time
 * chart), the sample grids as a timeline and training.gif, embedded as data: URIs. No
 * scripts and no external resources. Every input file may be absent: the page shows what
 * exists and names what is missing. metrics.jsonl.partial stands in for metrics.jsonl. */

/* Renders the page into memory: *html malloc'd (caller frees), NUL-terminated, *n its
 * length. Errors: EIO (run_dir missing or unreadable, a file that exists cannot be read),
 * EINVAL (run_dir holds none of the run files), EFORMAT (a corrupt file; the message
 * names the file, and file:line for .jsonl and .ini), ENOMEM. On error *html is NULL. */
clgan_status clgan_report_render(char **html, size_t *n, const char *run_dir);

/* Renders and writes the page atomically to out_path (NULL: RUN_DIR/report.html).
 * Errors as clgan_report_render, and EIO when the page cannot be written; on error
 * out_path is untouched. */
clgan_status clgan_report_write(const char *run_dir, const char *out_path);

#endif
