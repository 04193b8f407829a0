/* classifier.c - the evaluation classifier: an MLP (Dense + ReLU + dropout) built from
 * clgan's own layers, trained on the device with softmax cross-entropy and Adam on
 * augmented batches, saved to and loaded from safetensors. It does not score GAN samples
 * (evaluate.c) and does not find data sets (the CLI does).
 *
 * The network is two clgan_nets so the evaluator can read the feature layer:
 *   body: dim -> [Dense(h_k), ReLU, (Dropout between hidden layers)]*   out = features
 *   head: features -> [Dropout] -> Dense(CLGAN_CLASSES)                 out = logits
 * Training couples them as the GAN trainer couples D and G: head's input gradient
 * feeds body's backward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/diag.h"
#include "clgan/io.h"
#include "clgan/optim.h"
#include "common/rng.h"

#define FORMAT "clgan-classifier-1"
#define N_METRICS 4 /* train loss, train accuracy, eval loss sum, eval correct count */

struct clgan_classifier {
    clgan_ctx *ctx;          /* borrowed */
    clgan_classifier_info info;
    int batch;
    clgan_net *body, *head;
    cl_mem x;                /* (batch, h*w) input batch */
    cl_mem y;                /* (batch) int labels */
    cl_mem metrics;          /* (N_METRICS) */
};

/* A labelled set on the device. */
typedef struct {
    cl_mem images;  /* (count, dim) uint8 */
    cl_mem labels;  /* (count) uint8 */
    cl_mem index;   /* (count) int: the order batches are taken in */
    size_t count;
} dev_set;

clgan_classifier_opts clgan_classifier_defaults(void)
{
    return (clgan_classifier_opts){.hidden = {512, 128}, .n_hidden = 2, .dropout = 0.3f,
                                   .epochs = 60, .batch = 128, .lr = 1e-3f, .shift = 2.0f,
                                   .rot = 0.2f, .scale = 0.1f, .seed = 1, .data = "", .heldout = ""};
}

void clgan_classifier_free(clgan_classifier *c)
{
    if (!c)
        return;
    clgan_buf_release(&c->metrics);
    clgan_buf_release(&c->y);
    clgan_buf_release(&c->x);
    clgan_net_free(c->head);
    clgan_net_free(c->body);
    free(c);
}

const clgan_classifier_info *clgan_classifier_get(const clgan_classifier *c) { return &c->info; }
int clgan_classifier_batch(const clgan_classifier *c) { return c->batch; }

/* Allocates c (info already filled in `info`) with both networks for `batch` rows. */
static clgan_status build(clgan_classifier **out, clgan_ctx *ctx, const clgan_classifier_info *info,
                          int batch, uint64_t seed)
{
    clgan_status st;
    int dim = info->h * info->w;
    *out = NULL;
    clgan_classifier *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    c->ctx = ctx;
    c->info = *info;
    c->batch = batch;
    if ((st = clgan_net_init(&c->body, ctx, dim, batch)) != CLGAN_OK)
        goto fail;
    for (int k = 0; k < info->n_hidden; k++) {
        if ((st = clgan_net_add_dense(c->body, info->hidden[k], CLGAN_ACT_RELU, 0.0f)) != CLGAN_OK)
            goto fail;
        if (k + 1 < info->n_hidden && info->dropout > 0 &&
            (st = clgan_net_add_dropout(c->body, info->dropout)) != CLGAN_OK)
            goto fail;
    }
    if ((st = clgan_net_init(&c->head, ctx, info->features, batch)) != CLGAN_OK ||
        (info->dropout > 0 && (st = clgan_net_add_dropout(c->head, info->dropout)) != CLGAN_OK) ||
        (st = clgan_net_add_dense(c->head, CLGAN_CLASSES, CLGAN_ACT_NONE, 0.0f)) != CLGAN_OK ||
        (st = clgan_net_finalize(c->body, seed)) != CLGAN_OK ||
        (st = clgan_net_finalize(c->head, seed + 1)) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &c->x, (size_t)batch * dim * 4, "classifier input")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &c->y, (size_t)batch * 4, "classifier labels")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &c->metrics, N_METRICS * 4, "classifier metrics")) != CLGAN_OK)
        goto fail;
    *out = c;
    return CLGAN_OK;
fail:
    clgan_classifier_free(c);
    return st;
}

clgan_status clgan_softmax_xent(clgan_ctx *ctx, cl_mem dout, cl_mem metrics, int slot,
                                cl_mem logits, cl_mem labels, int n, int classes, int accumulate,
                                float weight)
{
    size_t g = (size_t)clgan_tunable(ctx, CLGAN_T_XENT_WG), l = g; /* one work-group */
    if (n < 1 || classes < 1)
        return clgan_error(CLGAN_EINVAL, "softmax cross-entropy needs n >= 1 and classes >= 1 "
                           "(got %d, %d)", n, classes);
    return clgan_launch(ctx, CLGAN_K_softmax_xent, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dout), CLGAN_ARG_MEM(metrics), CLGAN_ARG_MEM(logits),
                                   CLGAN_ARG_MEM(labels), CLGAN_ARG_INT(n), CLGAN_ARG_INT(classes),
                                   CLGAN_ARG_INT(slot), CLGAN_ARG_INT(accumulate),
                                   CLGAN_ARG_F32(weight)));
}

clgan_status clgan_classifier_forward(clgan_classifier *c, cl_mem x, cl_mem *features,
                                      cl_mem *logits)
{
    clgan_status st;
    if ((st = clgan_net_forward(c->body, x, CLGAN_MODE_EVAL)) != CLGAN_OK ||
        (st = clgan_net_forward(c->head, clgan_net_get(c->body)->out, CLGAN_MODE_EVAL)) != CLGAN_OK)
        return st;
    if (features)
        *features = clgan_net_get(c->body)->out;
    if (logits)
        *logits = clgan_net_get(c->head)->out;
    return CLGAN_OK;
}

/* ---- labelled sets on the device ---------------------------------------------------- */

static void set_free(dev_set *s)
{
    clgan_buf_release(&s->index);
    clgan_buf_release(&s->labels);
    clgan_buf_release(&s->images);
}

static clgan_status check_set(const clgan_labeled *s, const char *what, int h, int w)
{
    if (!s || !s->images || !s->labels || s->count == 0)
        return clgan_error(CLGAN_EINVAL, "the %s set is empty or has no labels", what);
    if (s->h != h || s->w != w)
        return clgan_error(CLGAN_EINVAL, "the %s set has %dx%d images, expected %dx%d", what, s->h,
                           s->w, h, w);
    if (s->count > 0x7fffffff / (size_t)(h * w))
        return clgan_error(CLGAN_EINVAL, "the %s set is too large (%zu images)", what, s->count);
    for (size_t i = 0; i < s->count; i++)
        if (s->labels[i] >= CLGAN_CLASSES)
            return clgan_error(CLGAN_EINVAL, "the %s set's label %zu is %u, outside 0..%d", what, i,
                               s->labels[i], CLGAN_CLASSES - 1);
    return CLGAN_OK;
}

/* Uploads images and labels with the identity order. */
static clgan_status set_upload(clgan_classifier *c, dev_set *d, const clgan_labeled *s)
{
    size_t dim = (size_t)c->info.h * c->info.w;
    int *idx = malloc(s->count * sizeof *idx);
    clgan_status st;
    memset(d, 0, sizeof *d);
    d->count = s->count;
    if (!idx)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->count; i++)
        idx[i] = (int)i;
    if ((st = clgan_buf_alloc(c->ctx, &d->images, s->count * dim, "labelled images")) != CLGAN_OK ||
        (st = clgan_buf_alloc(c->ctx, &d->labels, s->count, "labels")) != CLGAN_OK ||
        (st = clgan_buf_alloc(c->ctx, &d->index, s->count * sizeof(int), "batch order")) != CLGAN_OK ||
        (st = clgan_buf_write(c->ctx, d->images, 0, s->images, s->count * dim)) != CLGAN_OK ||
        (st = clgan_buf_write(c->ctx, d->labels, 0, s->labels, s->count)) != CLGAN_OK ||
        (st = clgan_buf_write(c->ctx, d->index, 0, idx, s->count * sizeof(int))) != CLGAN_OK)
        set_free(d);
    free(idx);
    return st;
}

/* c->x, c->y = rows [first, first + rows) of d in its index order, augmented per `o`
 * (NULL: not augmented); rows below the batch are padding. */
static clgan_status gather(clgan_classifier *c, const dev_set *d, size_t first, int rows,
                           const clgan_classifier_opts *o, long step)
{
    int dim = c->info.h * c->info.w;
    size_t g[2] = {(size_t)c->batch, (size_t)dim};
    uint64_t s = o ? o->seed : 0;
    return clgan_launch(c->ctx, CLGAN_K_gather_augment_u8, 2, g, NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(c->x), CLGAN_ARG_MEM(c->y), CLGAN_ARG_MEM(d->images),
                                   CLGAN_ARG_MEM(d->labels), CLGAN_ARG_MEM(d->index),
                                   CLGAN_ARG_INT((int)first), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(c->batch), CLGAN_ARG_INT(c->info.h),
                                   CLGAN_ARG_INT(c->info.w), CLGAN_ARG_F32(o ? o->shift : 0.0f),
                                   CLGAN_ARG_F32(o ? o->rot : 0.0f), CLGAN_ARG_F32(o ? o->scale : 0.0f),
                                   CLGAN_ARG_UINT((cl_uint)s), CLGAN_ARG_UINT((cl_uint)(s >> 32)),
                                   CLGAN_ARG_UINT((cl_uint)step),
                                   CLGAN_ARG_UINT((cl_uint)((uint64_t)step >> 32))));
}

/* Mean loss and accuracy of the classifier on d (inference mode). Blocking. */
static clgan_status evaluate(clgan_classifier *c, const dev_set *d, double *loss, double *acc)
{
    clgan_status st = CLGAN_OK;
    float m[2];
    for (size_t first = 0; first < d->count && st == CLGAN_OK; first += (size_t)c->batch) {
        int rows = d->count - first < (size_t)c->batch ? (int)(d->count - first) : c->batch;
        cl_mem logits;
        /* weight = rows: slot 2 sums losses, slot 3 counts correct rows (exact in float). */
        if ((st = gather(c, d, first, rows, NULL, 0)) != CLGAN_OK ||
            (st = clgan_classifier_forward(c, c->x, NULL, &logits)) != CLGAN_OK)
            break;
        st = clgan_softmax_xent(c->ctx, clgan_net_dout(c->head), c->metrics, 2, logits, c->y, rows,
                                CLGAN_CLASSES, first > 0, (float)rows);
    }
    if (st == CLGAN_OK && (st = clgan_buf_read(c->ctx, c->metrics, 2 * 4, m, sizeof m)) == CLGAN_OK) {
        *loss = m[0] / (double)d->count;
        *acc = m[1] / (double)d->count;
    }
    return st;
}

clgan_status clgan_classifier_accuracy(double *acc, clgan_classifier *c, const clgan_labeled *s)
{
    dev_set d;
    double loss;
    clgan_status st = check_set(s, "evaluation", c->info.h, c->info.w);
    if (st != CLGAN_OK || (st = set_upload(c, &d, s)) != CLGAN_OK)
        return st;
    st = evaluate(c, &d, &loss, acc);
    set_free(&d);
    return st;
}

/* ---- training ------------------------------------------------------------------------ */

static clgan_status check_opts(const clgan_classifier_opts *o)
{
    if (o->n_hidden < 1 || o->n_hidden > CLGAN_CLS_MAX_HIDDEN)
        return clgan_error(CLGAN_EINVAL, "the classifier needs 1 to %d hidden layers (got %d)",
                           CLGAN_CLS_MAX_HIDDEN, o->n_hidden);
    for (int k = 0; k < o->n_hidden; k++)
        if (o->hidden[k] < 1 || o->hidden[k] > 65536)
            return clgan_error(CLGAN_EINVAL, "hidden width %d is out of range 1..65536", o->hidden[k]);
    if (!(o->dropout >= 0 && o->dropout < 1) || o->epochs < 1 || o->batch < 1 || o->batch > 65536 ||
        !(o->lr > 0) || !(o->shift >= 0) || !(o->rot >= 0) || !(o->scale >= 0 && o->scale < 1))
        return clgan_error(CLGAN_EINVAL, "bad classifier training option (dropout %g, epochs %d, "
                           "batch %d, lr %g, shift %g, rot %g, scale %g)", o->dropout, o->epochs,
                           o->batch, o->lr, o->shift, o->rot, o->scale);
    return CLGAN_OK;
}

/* The learning rate of epoch e of n: lr, then lr/5 from 60%, lr/25 from 85%. */
static float stage_lr(const clgan_classifier_opts *o, int e)
{
    return e >= 0.85 * o->epochs ? o->lr / 25 : e >= 0.6 * o->epochs ? o->lr / 5 : o->lr;
}

static clgan_status make_opts(clgan_opt **ob, clgan_opt **oh, clgan_classifier *c, float lr)
{
    clgan_opt_opts oo = clgan_opt_defaults(CLGAN_OPT_ADAM);
    clgan_status st;
    oo.lr = lr;
    clgan_opt_free(*ob);
    clgan_opt_free(*oh);
    *ob = *oh = NULL;
    if ((st = clgan_opt_init(ob, c->ctx, clgan_net_get(c->body)->n_params, oo)) != CLGAN_OK)
        return st;
    return clgan_opt_init(oh, c->ctx, clgan_net_get(c->head)->n_params, oo);
}

/* One training step on rows [first, first + batch) of d; metrics averaged over nb. */
static clgan_status train_step(clgan_classifier *c, clgan_opt *ob, clgan_opt *oh, const dev_set *d,
                               size_t first, const clgan_classifier_opts *o, long step, long t,
                               int k, int nb)
{
    const clgan_net_view *bv = clgan_net_get(c->body), *hv = clgan_net_get(c->head);
    clgan_status st;
    if ((st = gather(c, d, first, c->batch, o, step)) != CLGAN_OK ||
        (st = clgan_net_zero_grad(c->body)) != CLGAN_OK ||
        (st = clgan_net_zero_grad(c->head)) != CLGAN_OK ||
        (st = clgan_net_forward(c->body, c->x, CLGAN_MODE_TRAIN)) != CLGAN_OK ||
        (st = clgan_net_forward(c->head, bv->out, CLGAN_MODE_TRAIN)) != CLGAN_OK ||
        (st = clgan_softmax_xent(c->ctx, clgan_net_dout(c->head), c->metrics, 0, hv->out, c->y,
                                 c->batch, CLGAN_CLASSES, k > 0, 1.0f / (float)nb)) != CLGAN_OK ||
        (st = clgan_net_backward(c->head, clgan_net_dout(c->head), 1, 1)) != CLGAN_OK ||
        (st = clgan_net_backward(c->body, hv->dinput, 1, 0)) != CLGAN_OK ||
        (st = clgan_opt_step(ob, bv->params, bv->grads, t, NULL, 0)) != CLGAN_OK)
        return st;
    return clgan_opt_step(oh, hv->params, hv->grads, t, NULL, 0);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

clgan_status clgan_classifier_train(clgan_classifier **out, clgan_ctx *ctx,
                                    const clgan_classifier_opts *o, const clgan_labeled *train,
                                    const clgan_labeled *heldout, FILE *log)
{
    clgan_classifier *c = NULL;
    clgan_opt *ob = NULL, *oh = NULL;
    dev_set dt = {0}, dh = {0};
    int *perm = NULL;
    clgan_status st;
    *out = NULL;
    if ((st = check_opts(o)) != CLGAN_OK ||
        (st = check_set(train, "training", train ? train->h : 0, train ? train->w : 0)) != CLGAN_OK ||
        (st = check_set(heldout, "held-out", train->h, train->w)) != CLGAN_OK)
        return st;
    if (train->count < (size_t)o->batch)
        return clgan_error(CLGAN_EINVAL, "the training set (%zu images) is smaller than the batch (%d)",
                           train->count, o->batch);
    clgan_classifier_info info = {.h = train->h, .w = train->w, .n_hidden = o->n_hidden,
                                  .features = o->hidden[o->n_hidden - 1], .dropout = o->dropout,
                                  .heldout_count = (long)heldout->count,
                                  .train_count = (long)train->count};
    memcpy(info.hidden, o->hidden, sizeof info.hidden);
    for (size_t i = 0; i < train->count; i++)
        info.class_freq[train->labels[i]] += 1.0 / (double)train->count;
    snprintf(info.data, sizeof info.data, "%s", o->data ? o->data : "");
    snprintf(info.heldout, sizeof info.heldout, "%s", o->heldout ? o->heldout : "");
    if ((st = build(&c, ctx, &info, o->batch, o->seed)) != CLGAN_OK ||
        (st = set_upload(c, &dt, train)) != CLGAN_OK ||
        (st = set_upload(c, &dh, heldout)) != CLGAN_OK)
        goto done;
    if (!(perm = malloc(train->count * sizeof *perm))) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < train->count; i++)
        perm[i] = (int)i;
    clgan_rng rng = {o->seed ^ 0x5EEDC1A55ull};
    int nb = (int)(train->count / (size_t)o->batch);
    long t = 0;
    float lr = 0;
    double t0 = now(), loss = 0, acc = 0;
    for (int e = 0; e < o->epochs; e++) {
        double te = now();
        if (stage_lr(o, e) != lr) { /* a new stage: a fresh Adam at the lower rate */
            lr = stage_lr(o, e);
            t = 0;
            if ((st = make_opts(&ob, &oh, c, lr)) != CLGAN_OK)
                goto done;
        }
        for (size_t i = train->count - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = (size_t)(clgan_rng_next(&rng) % (i + 1));
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        if ((st = clgan_buf_write(ctx, dt.index, 0, perm, train->count * sizeof *perm)) != CLGAN_OK)
            goto done;
        for (int k = 0; k < nb; k++)
            if ((st = train_step(c, ob, oh, &dt, (size_t)k * o->batch, o, (long)e * nb + k, ++t, k,
                                 nb)) != CLGAN_OK)
                goto done;
        float tm[2];
        if ((st = clgan_buf_read(ctx, c->metrics, 0, tm, sizeof tm)) != CLGAN_OK ||
            (st = evaluate(c, &dh, &loss, &acc)) != CLGAN_OK)
            goto done;
        if (!(tm[0] == tm[0]) || !(loss == loss)) {
            st = clgan_error(CLGAN_ENUMERIC, "classifier training diverged at epoch %d (NaN loss); "
                             "try a smaller learning rate", e + 1);
            goto done;
        }
        if (log) {
            fprintf(log, "epoch %3d/%d  lr %.1e  train loss %.4f acc %.4f  held-out loss %.4f "
                    "acc %.4f  (%.1f s)\n", e + 1, o->epochs, lr, tm[0], tm[1], loss, acc, now() - te);
            fflush(log);
        }
    }
    c->info.heldout_accuracy = acc;
    if (log)
        fprintf(log, "trained in %.1f s: held-out accuracy %.4f on %zu images (%s)\n", now() - t0,
                acc, heldout->count, info.heldout);
    *out = c;
    c = NULL;
done:
    free(perm);
    set_free(&dh);
    set_free(&dt);
    clgan_opt_free(oh);
    clgan_opt_free(ob);
    clgan_classifier_free(c);
    return st;
}

/* ---- files ----------------------------------------------------------------------------- */

clgan_status clgan_classifier_save(clgan_classifier *c, const char *path)
{
    clgan_net *nets[2] = {c->body, c->head};
    const char *prefix[2] = {"features", "head"};
    float *host[2] = {NULL, NULL};
    clgan_tensor_view tv[2 * CLGAN_CLS_MAX_HIDDEN + 4];
    int n = 0;
    clgan_status st = CLGAN_OK;
    char h[16], w[16], hidden[96] = "", drop[32], acc[32], hc[32], tc[32], freq[256] = "";
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
        const clgan_net_view *v = clgan_net_get(nets[k]);
        if (!(host[k] = malloc((v->n_params + 1) * sizeof(float)))) {
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
            break;
        }
        if ((st = clgan_net_read_params(nets[k], host[k], NULL)) != CLGAN_OK)
            break;
        for (int i = 0; i < v->n_tensors; i++, n++) {
            const clgan_tensor_info *ti = &v->tensors[i];
            snprintf(tv[n].name, sizeof tv[n].name, "%s.%s", prefix[k], ti->name);
            tv[n].ndim = ti->ndim;
            memcpy(tv[n].shape, ti->shape, sizeof ti->shape);
            tv[n].data = host[k] + ti->offset;
        }
    }
    if (st == CLGAN_OK) {
        const clgan_classifier_info *in = &c->info;
        snprintf(h, sizeof h, "%d", in->h);
        snprintf(w, sizeof w, "%d", in->w);
        for (int k = 0; k < in->n_hidden; k++)
            snprintf(hidden + strlen(hidden), sizeof hidden - strlen(hidden), "%s%d", k ? "," : "",
                     in->hidden[k]);
        snprintf(drop, sizeof drop, "%.9g", in->dropout);
        snprintf(acc, sizeof acc, "%.6f", in->heldout_accuracy);
        snprintf(hc, sizeof hc, "%ld", in->heldout_count);
        snprintf(tc, sizeof tc, "%ld", in->train_count);
        for (int k = 0; k < CLGAN_CLASSES; k++)
            snprintf(freq + strlen(freq), sizeof freq - strlen(freq), "%s%.6f", k ? "," : "",
                     in->class_freq[k]);
        const char *meta[] = {"format", FORMAT, "architecture",
                              "features: Dense+ReLU per hidden width, dropout between; "
                              "head: dropout, Dense(10) logits; input pixels in [-1, 1]",
                              "h", h, "w", w, "hidden", hidden, "activation", "relu",
                              "dropout", drop, "classes", "10", "heldout_accuracy", acc,
                              "heldout_count", hc, "train_count", tc, "class_freq", freq,
                              "data", in->data, "heldout", in->heldout, NULL};
        st = clgan_safetensors_write(path, tv, n, meta);
    }
    free(host[0]);
    free(host[1]);
    return st;
}

/* Parses a comma-separated list of up to `max` numbers from metadata `key`. */
static int parse_list(double *out, int max, const clgan_tensor_set *s, const char *key)
{
    const char *p = clgan_safetensors_meta(s, key);
    int n = 0;
    while (p && *p && n < max) {
        char *end;
        out[n++] = strtod(p, &end);
        if (end == p || (*end && *end != ','))
            return -1;
        p = *end ? end + 1 : end;
    }
    return p && !*p ? n : -1;
}

static clgan_status meta_num(double *v, const clgan_tensor_set *s, const char *key, const char *path,
                             double lo, double hi)
{
    if (parse_list(v, 1, s, key) != 1 || !(*v >= lo && *v <= hi))
        return clgan_error(CLGAN_EFORMAT, "%s: metadata '%s' is missing or out of range", path, key);
    return CLGAN_OK;
}

/* Copies each of net's tensors from the set (named prefix.name), checking shapes. */
static clgan_status fill(clgan_net *net, const clgan_tensor_set *s, const char *prefix,
                         const char *path)
{
    const clgan_net_view *v = clgan_net_get(net);
    float *hp = calloc(v->n_params + 1, sizeof *hp);
    clgan_status st;
    if (!hp)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (int i = 0; i < v->n_tensors; i++) {
        const clgan_tensor_info *ti = &v->tensors[i];
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, ti->name);
        const clgan_tensor_view *t = clgan_safetensors_find(s, name);
        if (!t || !clgan_tensor_shape_eq(ti, t->ndim, t->shape)) {
            free(hp);
            return clgan_error(CLGAN_EFORMAT, "%s: tensor %s is missing or has the wrong shape",
                               path, name);
        }
        memcpy(hp + ti->offset, t->data, ti->count * sizeof(float));
    }
    st = clgan_net_write_params(net, hp, NULL);
    free(hp);
    return st;
}

clgan_status clgan_classifier_load(clgan_classifier **out, clgan_ctx *ctx, const char *path,
                                   int batch)
{
    clgan_tensor_set s = {0};
    clgan_classifier_info info = {0};
    clgan_classifier *c = NULL;
    double v, list[CLGAN_CLASSES + 1];
    clgan_status st;
    *out = NULL;
    if (batch < 1)
        return clgan_error(CLGAN_EINVAL, "classifier batch must be >= 1 (got %d)", batch);
    if ((st = clgan_safetensors_read(path, &s)) != CLGAN_OK)
        return st;
    const char *fmt = clgan_safetensors_meta(&s, "format");
    if (!fmt || strcmp(fmt, FORMAT) != 0) {
        st = clgan_error(CLGAN_EFORMAT, "%s: not a clgan classifier (metadata format '%s', expected "
                         "'%s'); train one with 'clgan train-classifier'", path, fmt ? fmt : "missing",
                         FORMAT);
        goto done;
    }
    if ((st = meta_num(&v, &s, "h", path, 1, 4096)) != CLGAN_OK)
        goto done;
    info.h = (int)v;
    if ((st = meta_num(&v, &s, "w", path, 1, 4096)) != CLGAN_OK)
        goto done;
    info.w = (int)v;
    if ((st = meta_num(&v, &s, "dropout", path, 0, 0.999)) != CLGAN_OK)
        goto done;
    info.dropout = (float)v;
    if ((st = meta_num(&info.heldout_accuracy, &s, "heldout_accuracy", path, 0, 1)) != CLGAN_OK)
        goto done;
    if ((st = meta_num(&v, &s, "heldout_count", path, 0, 1e12)) != CLGAN_OK)
        goto done;
    info.heldout_count = (long)v;
    if ((st = meta_num(&v, &s, "train_count", path, 0, 1e12)) != CLGAN_OK)
        goto done;
    info.train_count = (long)v;
    info.n_hidden = parse_list(list, CLGAN_CLS_MAX_HIDDEN + 1, &s, "hidden");
    if (info.n_hidden < 1 || info.n_hidden > CLGAN_CLS_MAX_HIDDEN) {
        st = clgan_error(CLGAN_EFORMAT, "%s: metadata 'hidden' must list 1 to %d widths", path,
                         CLGAN_CLS_MAX_HIDDEN);
        goto done;
    }
    for (int k = 0; k < info.n_hidden; k++) {
        if (!(list[k] >= 1 && list[k] <= 65536)) {
            st = clgan_error(CLGAN_EFORMAT, "%s: hidden width %g out of range", path, list[k]);
            goto done;
        }
        info.hidden[k] = (int)list[k];
    }
    info.features = info.hidden[info.n_hidden - 1];
    double fsum = 0;
    int nf = parse_list(list, CLGAN_CLASSES + 1, &s, "class_freq");
    for (int k = 0; k < CLGAN_CLASSES && nf == CLGAN_CLASSES; k++) {
        if (!(list[k] >= 0 && list[k] <= 1))
            nf = -1;
        else
            fsum += info.class_freq[k] = list[k];
    }
    if (nf != CLGAN_CLASSES || !(fsum > 0.99 && fsum < 1.01)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: metadata 'class_freq' must hold %d frequencies summing "
                         "to 1", path, CLGAN_CLASSES);
        goto done;
    }
    const char *d = clgan_safetensors_meta(&s, "data"), *hd = clgan_safetensors_meta(&s, "heldout");
    snprintf(info.data, sizeof info.data, "%s", d ? d : "");
    snprintf(info.heldout, sizeof info.heldout, "%s", hd ? hd : "");
    if ((st = build(&c, ctx, &info, batch, 0)) != CLGAN_OK ||
        (st = fill(c->body, &s, "features", path)) != CLGAN_OK ||
        (st = fill(c->head, &s, "head", path)) != CLGAN_OK)
        goto done;
    *out = c;
    c = NULL;
done:
    clgan_classifier_free(c);
    clgan_safetensors_free(&s);
    return st;
}
