/* evaluate.c - scores a set of generated samples with the evaluation classifier: class
 * histogram, modes covered, KL to the data's class frequencies, Frechet distance of the
 * feature layer against a fixed real subset, diversity, confidence. The device runs the
 * classifier, the softmax and the Gram matrix of the samples; one read-back brings
 * features, probabilities and pairwise-distance sums to the host, which does the
 * statistics in double precision. Does not train the classifier (classifier.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"

/* A class counts as covered when it holds at least this share of its expected count. */
#define COVERED_SHARE 0.1
/* Floor on the data's class frequencies in the KL (then renormalised). */
#define KL_FLOOR 1e-6

struct clgan_eval {
    clgan_ctx *ctx;              /* borrowed */
    clgan_classifier *cls;
    int n_max, dim, F;           /* batch, h*w, feature width */
    cl_mem input;                /* (n_max, dim): real subset, or a copy of short sample sets */
    cl_mem probs;                /* (n_max, CLGAN_CLASSES) */
    cl_mem gram;                 /* (n, n) for n <= n_max: X X^T of the samples */
    cl_mem dist;                 /* (n_max): sum_j ||x_i - x_j|| */
    float *feat, *prob, *dsum;   /* host copies: (n_max, F), (n_max, C), (n_max) */
    double *mu_r, *cov_r, *cov_r_sqrt, *mu_g, *cov_g; /* (F), (F, F) */
    double real_dist;            /* mean pairwise distance of the real subset */
    double p_data[CLGAN_CLASSES];
    int n_real;
};

void clgan_eval_free(clgan_eval *e)
{
    if (!e)
        return;
    clgan_buf_release(&e->dist);
    clgan_buf_release(&e->gram);
    clgan_buf_release(&e->probs);
    clgan_buf_release(&e->input);
    clgan_classifier_free(e->cls);
    free(e->feat), free(e->prob), free(e->dsum);
    free(e->mu_r), free(e->cov_r), free(e->cov_r_sqrt), free(e->mu_g), free(e->cov_g);
    free(e);
}

const clgan_classifier_info *clgan_eval_classifier(const clgan_eval *e)
{
    return clgan_classifier_get(e->cls);
}

/* Runs the classifier on rows [0, n) of x (n_max rows), then reads features, probabilities
 * and distance sums back into e->feat/prob/dsum; *mean_dist = mean pairwise distance. */
static clgan_status measure(clgan_eval *e, cl_mem x, int n, double *mean_dist)
{
    cl_mem features, logits;
    size_t g = (size_t)n, l = clgan_local_size(e->ctx, CLGAN_K_softmax_rows, 64);
    clgan_status st;
    if ((st = clgan_classifier_forward(e->cls, x, &features, &logits)) != CLGAN_OK ||
        (st = clgan_launch(e->ctx, CLGAN_K_softmax_rows, 1, &g, &l,
                           CLGAN_ARGS(CLGAN_ARG_MEM(e->probs), CLGAN_ARG_MEM(logits),
                                      CLGAN_ARG_INT(n), CLGAN_ARG_INT(CLGAN_CLASSES)))) != CLGAN_OK ||
        (st = clgan_gemm(e->ctx, 0, 1, (size_t)n, (size_t)n, (size_t)e->dim, 1.0f, x,
                         (size_t)e->dim, x, (size_t)e->dim, 0.0f, e->gram, (size_t)n)) != CLGAN_OK ||
        (st = clgan_launch(e->ctx, CLGAN_K_pairwise_dist_rowsum, 1, &g, &l,
                           CLGAN_ARGS(CLGAN_ARG_MEM(e->dist), CLGAN_ARG_MEM(e->gram),
                                      CLGAN_ARG_INT(n)))) != CLGAN_OK ||
        (st = clgan_buf_read(e->ctx, features, 0, e->feat, (size_t)n * e->F * 4)) != CLGAN_OK ||
        (st = clgan_buf_read(e->ctx, e->probs, 0, e->prob, (size_t)n * CLGAN_CLASSES * 4)) != CLGAN_OK ||
        (st = clgan_buf_read(e->ctx, e->dist, 0, e->dsum, (size_t)n * 4)) != CLGAN_OK)
        return st;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += e->dsum[i];
    for (size_t i = 0; i < (size_t)n * e->F; i++)
        if (!isfinite(e->feat[i]))
            return clgan_error(CLGAN_ENUMERIC, "the classifier's features of the samples are not "
                               "finite (NaN/Inf in the samples?)");
    *mean_dist = s / ((double)n * (n - 1));
    return CLGAN_OK;
}

clgan_status clgan_eval_init(clgan_eval **out, clgan_ctx *ctx, const char *classifier_path,
                             int n_samples, const uint8_t *real, size_t real_count, int dim)
{
    clgan_status st;
    float *x = NULL;
    *out = NULL;
    if (n_samples < 2 || n_samples > 100000)
        return clgan_error(CLGAN_EINVAL, "the evaluator needs 2 to 100000 samples per evaluation "
                           "(got %d)", n_samples);
    if (!real || real_count < 2)
        return clgan_error(CLGAN_EINVAL, "the evaluator needs at least 2 real images (got %zu)",
                           real ? real_count : 0);
    clgan_eval *e = calloc(1, sizeof *e);
    if (!e)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    e->ctx = ctx;
    e->n_max = n_samples;
    e->dim = dim;
    if ((st = clgan_classifier_load(&e->cls, ctx, classifier_path, n_samples)) != CLGAN_OK)
        goto fail;
    const clgan_classifier_info *ci = clgan_classifier_get(e->cls);
    if (ci->h * ci->w != dim) {
        st = clgan_error(CLGAN_EINVAL, "%s classifies %dx%d images, the data has %d pixels",
                         classifier_path, ci->h, ci->w, dim);
        goto fail;
    }
    e->F = ci->features;
    size_t n = (size_t)n_samples, F = (size_t)e->F;
    e->feat = malloc(n * F * sizeof *e->feat);
    e->prob = malloc(n * CLGAN_CLASSES * sizeof *e->prob);
    e->dsum = malloc(n * sizeof *e->dsum);
    e->mu_r = malloc(F * sizeof(double));
    e->mu_g = malloc(F * sizeof(double));
    e->cov_r = malloc(F * F * sizeof(double));
    e->cov_g = malloc(F * F * sizeof(double));
    e->cov_r_sqrt = malloc(F * F * sizeof(double));
    x = malloc(n * dim * sizeof *x);
    if (!e->feat || !e->prob || !e->dsum || !e->mu_r || !e->mu_g || !e->cov_r || !e->cov_g ||
        !e->cov_r_sqrt || !x) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory for the evaluator (%d samples)", n_samples);
        goto fail;
    }
    if ((st = clgan_buf_alloc(ctx, &e->input, n * dim * 4, "evaluator input")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &e->probs, n * CLGAN_CLASSES * 4, "class probabilities")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &e->gram, n * n * 4, "Gram matrix")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &e->dist, n * 4, "distance sums")) != CLGAN_OK)
        goto fail;
    /* The data's class distribution, floored so the KL stays finite. */
    double psum = 0;
    for (int c = 0; c < CLGAN_CLASSES; c++)
        psum += e->p_data[c] = ci->class_freq[c] > KL_FLOOR ? ci->class_freq[c] : KL_FLOOR;
    for (int c = 0; c < CLGAN_CLASSES; c++)
        e->p_data[c] /= psum;
    /* The real subset: every (real_count / n_real)-th image, scaled as G's output is. */
    e->n_real = real_count < n ? (int)real_count : n_samples;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *src = real + (i * real_count / (size_t)e->n_real) * (size_t)dim;
        for (int p = 0; p < dim; p++)
            x[i * dim + p] = i < (size_t)e->n_real ? (float)src[p] / 127.5f - 1.0f : -1.0f;
    }
    if ((st = clgan_buf_write(ctx, e->input, 0, x, n * dim * 4)) != CLGAN_OK ||
        (st = measure(e, e->input, e->n_real, &e->real_dist)) != CLGAN_OK ||
        (st = clgan_mean_cov(e->mu_r, e->cov_r, e->feat, e->n_real, e->F)) != CLGAN_OK ||
        (st = clgan_sqrtm_psd(e->cov_r_sqrt, e->cov_r, e->F)) != CLGAN_OK)
        goto fail;
    if (!(e->real_dist > 0)) {
        st = clgan_error(CLGAN_EINVAL, "the real images used by the evaluator are all identical");
        goto fail;
    }
    free(x);
    *out = e;
    return CLGAN_OK;
fail:
    free(x);
    clgan_eval_free(e);
    return st;
}

clgan_status clgan_eval_run(clgan_eval *e, cl_mem samples, int n, clgan_eval_result *r)
{
    clgan_status st;
    double mean_dist;
    cl_mem x = samples;
    if (n < 2 || n > e->n_max)
        return clgan_error(CLGAN_EINVAL, "the evaluator scores 2 to %d samples at a time (got %d)",
                           e->n_max, n);
    if (n < e->n_max) { /* the classifier runs n_max rows: pad through the input buffer */
        if ((st = clgan_buf_copy(e->ctx, e->input, 0, samples, 0, (size_t)n * e->dim * 4)) != CLGAN_OK)
            return st;
        x = e->input;
    }
    if ((st = measure(e, x, n, &mean_dist)) != CLGAN_OK)
        return st;
    memset(r, 0, sizeof *r);
    r->n = n;
    double conf = 0;
    for (int i = 0; i < n; i++) {
        const float *p = e->prob + (size_t)i * CLGAN_CLASSES;
        int arg = 0;
        for (int c = 1; c < CLGAN_CLASSES; c++)
            if (p[c] > p[arg])
                arg = c;
        r->histogram[arg]++;
        conf += p[arg];
    }
    r->confidence = conf / n;
    for (int c = 0; c < CLGAN_CLASSES; c++) {
        double q = (double)r->histogram[c] / n;
        r->modes_covered += r->histogram[c] >= COVERED_SHARE * n * e->p_data[c];
        if (q > 0)
            r->kl += q * log(q / e->p_data[c]);
    }
    if ((st = clgan_mean_cov(e->mu_g, e->cov_g, e->feat, n, e->F)) != CLGAN_OK ||
        (st = clgan_frechet_sqrt(&r->frechet, e->mu_r, e->cov_r, e->cov_r_sqrt, e->mu_g, e->cov_g,
                                 e->F)) != CLGAN_OK)
        return st;
    r->diversity = mean_dist / e->real_dist;
    r->real_mean_distance = e->real_dist;
    return CLGAN_OK;
}
