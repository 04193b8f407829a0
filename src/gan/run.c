/* run.c - `clgan train` as a library call: loads data, builds the trainer, runs the
 * schedule, and writes the run directory (config.ini, images/<it>.png, training.gif,
 * metrics.jsonl, discriminator_loss.npy, generator_loss.npy, ...,
 * generator.safetensors). Every file lands atomically; a stop request (Ctrl-C) ends the
 * run early with every output written for the iterations done. */
#include "common/clock.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "gan/progress.h"
#include "run_internal.h"

/* The per-iteration arrays (.npy files and the detectors' input): each the mean of two
 * metrics (the same metric twice: just that one). */
static const struct {
    const char *file;
    int a, b;
} columns[5] = {
    {"discriminator_loss.npy", CLGAN_M_D_LOSS_REAL, CLGAN_M_D_LOSS_FAKE},
    {"generator_loss.npy", CLGAN_M_G_LOSS, CLGAN_M_G_LOSS},
    {"discriminator_accuracy.npy", CLGAN_M_D_ACC_REAL, CLGAN_M_D_ACC_FAKE},
    {"d_real.npy", CLGAN_M_D_X, CLGAN_M_D_X},
    {"d_fake.npy", CLGAN_M_D_GZ, CLGAN_M_D_GZ},
};

/* Fills the columns for iterations [from, to) from the trainer's history. */
static void fill_columns(run_state *r, long from, long to)
{
    const float *h = clgan_trainer_get(r->tr)->history;
    for (int k = 0; k < 5; k++)
        for (long i = from; i < to; i++)
            r->col[k][i] = 0.5f * (h[i * CLGAN_M_COUNT + columns[k].a] + h[i * CLGAN_M_COUNT + columns[k].b]);
}

/* The detectors' input over the first n iterations: the records fed so far. */
static const clgan_diag_input *diag_input(run_state *r, long n)
{
    clgan_diag_records_series(r->rec, n, (const float *const *)r->col);
    return clgan_diag_records_input(r->rec, r->c->loss);
}

/* Starts a record line in memory (r->line); NULL when out of memory. */
static FILE *line_open(run_state *r)
{
    free(r->line);
    r->line = NULL;
    return open_memstream(&r->line, &r->line_len);
}

/* Ends the record line: appends it to `f` and feeds it to the detectors' records. */
static clgan_status line_close(run_state *r, FILE *m, FILE *f, int eval, long lineno)
{
    if (fclose(m) != 0 || !r->line)
        return clgan_error(CLGAN_ENOMEM, "out of memory for a record");
    fputs(r->line, f);
    fputc('\n', f);
    return eval ? clgan_diag_records_eval(r->rec, r->line, "eval record", lineno)
                : clgan_diag_records_metrics(r->rec, r->line, "metrics record", lineno);
}

/* Runs the detectors on what has come back so far and prints one line for each event
 * (a failure and its onset) seen for the first time, and one when it recovers. The
 * detectors are causal, so every event printed here is in the final summary too. Their
 * state is the records alone: a resumed run that feeds its files' lines to r->rec first
 * diagnoses exactly as the uninterrupted run would (only `warned`, what was already
 * printed, is this process's own). */
static void live_diagnosis(run_state *r)
{
    clgan_diagnosis d[CLGAN_DIAG_MAX];
    long n = r->logged;
    int k = clgan_diagnose(diag_input(r, n), d);
    r->diagnosed_at = n;
    for (int i = 0; i < k && !r->o->quiet; i++) {
        if (d[i].severity == CLGAN_SEV_INFO)
            continue;
        int w = 0;
        while (w < r->n_warned && !(r->warned[w].id == (int)d[i].id && r->warned[w].onset == d[i].onset))
            w++;
        const char *nl = r->o->progress ? "\n" : "";
        if (w == r->n_warned && w < CLGAN_DIAG_MAX) {
            r->warned[r->n_warned++].id = (int)d[i].id;
            r->warned[w].onset = d[i].onset;
            r->warned[w].recovered = 0;
            fprintf(r->log, "%sclgan: %s at iteration %ld: %s since %ld: %s; try %s\n", nl,
                    d[i].severity == CLGAN_SEV_ERROR ? "error" : "warning", n, d[i].name,
                    d[i].onset, d[i].evidence, d[i].remedies[0] ? d[i].remedies[0] : "see the report");
        }
        if (w < r->n_warned && d[i].recovered && !r->warned[w].recovered) {
            r->warned[w].recovered = 1;
            fprintf(r->log, "%sclgan: recovered at iteration %ld: %s (iterations %ld-%ld)\n", nl, n,
                    d[i].name, d[i].onset, d[i].end);
        }
    }
}

static void path_in(char *out, size_t n, const run_state *r, const char *name)
{
    snprintf(out, n, "%s/%s", r->dir, name);
}

/* Draws the 5x5 grid from the fixed noise, captioned with the iteration and enlarged
 * --grid-scale times, and writes images/<it>.png and a GIF frame. */
static clgan_status write_grid(run_state *r, long it)
{
    uint8_t *pix = NULL;
    int gw = 0, gh = 0;
    char name[64], path[700], caption[40];
    clgan_status st = clgan_trainer_sample(r->tr, r->imgs, GRID * GRID);
    if (st == CLGAN_OK)
        st = clgan_grid_make_nhwc(&pix, &gw, &gh, r->imgs, GRID * GRID, r->h, r->w, r->img_c,
                                  GRID, GRID, 2, -1.0f, 1.0f);
    snprintf(caption, sizeof caption, "iteration %ld", it);
    if (clgan_caption_width(caption) > gw) /* small images: the number alone */
        snprintf(caption, sizeof caption, "%ld", it);
    if (st == CLGAN_OK)
        st = clgan_image_caption(&pix, gw, &gh, r->img_c, caption);
    if (st == CLGAN_OK)
        st = clgan_image_upscale(&pix, &gw, &gh, r->img_c, r->c->grid_scale);
    if (st != CLGAN_OK) {
        free(pix);
        return st;
    }
    snprintf(name, sizeof name, "images/%ld.png", it);
    path_in(path, sizeof path, r, name);
    st = r->img_c == 3 ? clgan_png_write_rgb(path, pix, gw, gh) : clgan_png_write_gray(path, pix, gw, gh);
    if (st == CLGAN_OK)
        st = run_gif_add(r, pix, gw, gh);
    free(pix);
    return st;
}

clgan_status run_gif_add(run_state *r, const uint8_t *pix, int w, int h)
{
    char path[700];
    clgan_status st = CLGAN_OK;
    if (!r->gif) {
        path_in(path, sizeof path, r, "training.gif");
        st = r->img_c == 3 ? clgan_gif_open_rgb(&r->gif, path, w, h, r->c->gif_delay_cs)
                           : clgan_gif_open(&r->gif, path, w, h, r->c->gif_delay_cs);
    }
    return st == CLGAN_OK ? clgan_gif_add(r->gif, pix) : st;
}

/* Mean of metric m over iterations [a, b). */
static double mean_of(const float *h, long a, long b, int m)
{
    double s = 0.0;
    for (long i = a; i < b; i++)
        s += h[i * CLGAN_M_COUNT + m];
    return b > a ? s / (double)(b - a) : 0.0;
}

/* Appends metrics.jsonl records for every complete, synced log interval (and, when
 * `final`, the partial one at the end). */
/* Writes `, "key": v` into the current metrics.jsonl line; null when v is NaN/Inf, which
 * JSON cannot spell. */
static void jval(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fprintf(f, "null");
}

static void jnum(FILE *f, const char *key, double v)
{
    fprintf(f, ", \"%s\": ", key);
    jval(f, v);
}

/* Writes the gradient record of iteration `m` (monitored) into the metrics line `f`:
 * global and per-tensor gradient norms, update/weight ratios and weight norms. */
static void monitor_record(run_state *r, FILE *f, long m)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    const float *h = v->history + m * CLGAN_M_COUNT;
    double gs = 0, ds = 0;
    for (int i = 0; i < v->n_g_tensors; i++)
        gs += (double)h[CLGAN_M_TENSORS + i] * h[CLGAN_M_TENSORS + i];
    for (int i = 0; i < v->n_d_tensors; i++) {
        double x = h[CLGAN_M_TENSORS + v->n_g_tensors + i];
        ds += x * x;
    }
    if (!run_mon_add(r, m))
        return; /* out of memory: grad_norms.npy lacks this record (metrics.jsonl has it) */
    fprintf(f, ", \"monitor_iteration\": %ld", m);
    jnum(f, "g_grad_norm", sqrt(gs));
    jnum(f, "d_grad_norm", sqrt(ds));
    jnum(f, "g_first_grad_norm", h[CLGAN_M_TENSORS]);
    jnum(f, "g_update_ratio", h[CLGAN_M_G_WEIGHT] > 0 ? h[CLGAN_M_G_UPDATE] / h[CLGAN_M_G_WEIGHT] : 0.0);
    jnum(f, "d_update_ratio", h[CLGAN_M_D_WEIGHT] > 0 ? h[CLGAN_M_D_UPDATE] / h[CLGAN_M_D_WEIGHT] : 0.0);
    if (r->c->g.clip_norm > 0)
        jnum(f, "g_grad_norm_clipped", h[CLGAN_M_G_GNORM_CLIPPED]);
    if (r->c->d.clip_norm > 0)
        jnum(f, "d_grad_norm_clipped", h[CLGAN_M_D_GNORM_CLIPPED]);
    /* Per tensor: gradient norm, update / weight norm (NaN for a zero tensor) and weight
     * norm; the ring layout is in gan.h. */
    int nt = v->n_g_tensors + v->n_d_tensors;
    static const char *const what[3] = {"grad_norms", "update_ratios", "weight_norms"};
    for (int q = 0; q < 3; q++)
        for (int net = 0; net < 2; net++) {
            int first = net ? v->n_g_tensors : 0, cnt = net ? v->n_d_tensors : v->n_g_tensors;
            fprintf(f, ", \"%s_layer_%s\": {", net ? "d" : "g", what[q]);
            for (int i = 0; i < cnt; i++) {
                const float *t = h + CLGAN_M_TENSORS + first + i;
                fprintf(f, "%s\"%s\": ", i ? ", " : "", v->tensor_names[first + i]);
                jval(f, q == 0 ? t[0] : q == 2 ? t[2 * nt] : t[2 * nt] > 0 ? t[nt] / t[2 * nt] : NAN);
            }
            fprintf(f, "}");
        }
}

/* Appends metrics.jsonl records for every complete, synced log interval (and, when
 * `final`, the partial one at the end). */
static clgan_status write_records(run_state *r, int final)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    long every = r->c->log_every;
    if (v->synced > r->logged)
        fill_columns(r, r->logged, v->synced);
    while (r->logged < v->synced && (r->logged + every <= v->synced || final)) {
        long a = r->logged, b = a + every < v->synced ? a + every : v->synced;
        const float *h = v->history;
        double dr = mean_of(h, a, b, CLGAN_M_D_LOSS_REAL), df = mean_of(h, a, b, CLGAN_M_D_LOSS_FAKE);
        double ar = mean_of(h, a, b, CLGAN_M_D_ACC_REAL), af = mean_of(h, a, b, CLGAN_M_D_ACC_FAKE);
        int nonfinite = v->nonfinite_at >= a && v->nonfinite_at < b;
        FILE *f = line_open(r);
        if (!f)
            return clgan_error(CLGAN_ENOMEM, "out of memory for a record");
        fprintf(f, "{\"iteration\": %ld, \"iterations\": %ld, \"nonfinite\": %d", b, b - a,
                nonfinite);
        if (nonfinite)
            fprintf(f, ", \"nonfinite_at\": %ld", v->nonfinite_at);
        jnum(f, "d_loss", 0.5 * (dr + df));
        jnum(f, "d_loss_real", dr);
        jnum(f, "d_loss_fake", df);
        jnum(f, "g_loss", mean_of(h, a, b, CLGAN_M_G_LOSS));
        jnum(f, "d_acc", 0.5 * (ar + af));
        jnum(f, "d_acc_real", ar);
        jnum(f, "d_acc_fake", af);
        jnum(f, "d_x", mean_of(h, a, b, CLGAN_M_D_X));
        jnum(f, "d_g_z", mean_of(h, a, b, CLGAN_M_D_GZ));
        jnum(f, "it_per_s", r->rate);
        if (r->c->gp_lambda > 0) {
            jnum(f, "gp", mean_of(h, a, b, CLGAN_M_GP));
            jnum(f, "gp_grad_norm", mean_of(h, a, b, CLGAN_M_GP_NORM));
        }
        long m = a; /* the interval's first monitored iteration (0: the initial scale) */
        while (m < b && !clgan_trainer_monitored(r->tr, m))
            m++;
        if (m < b && !nonfinite)
            monitor_record(r, f, m);
        fprintf(f, "}");
        clgan_status st = line_close(r, f, r->jsonl, 0, b / every);
        if (st != CLGAN_OK)
            return st;
        r->logged = b;
    }
    fflush(r->jsonl);
    if (r->logged > r->diagnosed_at)
        live_diagnosis(r);
    return CLGAN_OK;
}

static void progress(run_state *r, int final)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    long n = r->c->iterations, s = v->synced;
    double t = clgan_now_s();
    if (t - r->t_last > 0.5 && v->iteration > r->it_last) {
        double inst = (v->iteration - r->it_last) / (t - r->t_last);
        r->rate = r->rate > 0 ? 0.7 * r->rate + 0.3 * inst : inst;
        r->t_last = t;
        r->it_last = v->iteration;
    }
    if (r->o->quiet || s == 0 || (s == r->printed && !final))
        return;
    int tty = r->o->progress;
    long every = tty ? 1 : (n / 20 > r->c->log_every ? n / 20 : r->c->log_every);
    if (!final && s - r->printed < every)
        return;
    /* The losses as means over the iterations since the last line (the line says which). */
    long from = s > r->printed ? r->printed : r->printed_from;
    clgan_progress p = {.done = s, .total = n, .rate = r->rate,
                        .eta_s = r->rate > 0 ? (n - v->iteration) / r->rate : -1, .from = from,
                        .to = s, .g_loss = mean_of(v->history, from, s, CLGAN_M_G_LOSS),
                        .show_acc = r->c->loss != CLGAN_LOSS_WASSERSTEIN,
                        .has_eval = r->n_eval > 0, .modes = r->last.modes_covered,
                        .fd = r->last.frechet};
    p.d_loss = 0.5 * (mean_of(v->history, from, s, CLGAN_M_D_LOSS_REAL) +
                      mean_of(v->history, from, s, CLGAN_M_D_LOSS_FAKE));
    p.d_acc = 0.5 * (mean_of(v->history, from, s, CLGAN_M_D_ACC_REAL) +
                     mean_of(v->history, from, s, CLGAN_M_D_ACC_FAKE));
    char line[256];
    /* A terminal gets one line redrawn in place, never wider than the window (a wrapped
     * line would leave a copy at every redraw); a log gets one full line per interval. */
    int width = tty ? clgan_progress_width(fileno(r->log)) : 0;
    clgan_progress_format(line, sizeof line, tty && !width ? 80 : width, &p);
    fprintf(r->log, tty ? "\r%s\033[K%s" : "%s%s", line, tty && !final ? "" : "\n");
    fflush(r->log);
    r->printed_from = from;
    r->printed = s;
}

/* grad_norms.npy (records, G's tensors then D's, in metrics.jsonl's order) and
 * grad_norm_iterations.npy: the per-tensor gradient norms of each gradient record. */
static clgan_status write_grad_arrays(run_state *r)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    size_t nt = (size_t)(v->n_g_tensors + v->n_d_tensors), nr = (size_t)r->n_mon;
    float *g = malloc(nr * (nt ? nt : 1) * sizeof *g), *it = malloc(nr * sizeof *it);
    clgan_status st = CLGAN_OK;
    char path[700];
    if (!g || !it) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nr; k++) {
        it[k] = (float)r->mon_it[k];
        memcpy(g + k * nt, v->history + (size_t)r->mon_it[k] * CLGAN_M_COUNT + CLGAN_M_TENSORS,
               nt * sizeof *g);
    }
    size_t shape[2] = {nr, nt};
    path_in(path, sizeof path, r, "grad_norms.npy");
    if ((st = clgan_npy_write_f32(path, g, 2, shape)) == CLGAN_OK) {
        path_in(path, sizeof path, r, "grad_norm_iterations.npy");
        st = clgan_npy_write_f32(path, it, 1, &nr);
    }
done:
    free(g);
    free(it);
    return st;
}

/* The .npy arrays: one float32 per iteration. */
static clgan_status write_arrays(run_state *r)
{
    size_t n = (size_t)clgan_trainer_get(r->tr)->synced;
    clgan_status st = CLGAN_OK;
    char path[700];
    fill_columns(r, r->logged, (long)n);
    for (int k = 0; k < 5 && st == CLGAN_OK; k++) {
        path_in(path, sizeof path, r, columns[k].file);
        st = clgan_npy_write_f32(path, r->col[k], 1, &n);
    }
    if (st == CLGAN_OK && r->n_mon > 0)
        st = write_grad_arrays(r);
    if (st == CLGAN_OK && r->n_eval > 0) {
        size_t ne = (size_t)r->n_eval;
        float *it = malloc(ne * sizeof *it);
        if (!it)
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        for (size_t i = 0; i < ne; i++)
            it[i] = (float)r->eval_it[i];
        const struct { const char *file; const float *x; } ev[] = {
            {"eval_iterations.npy", it}, {"modes_covered.npy", r->coverage},
            {"frechet_distance.npy", r->fd}, {"class_kl.npy", r->kl},
            {"diversity.npy", r->diversity}};
        for (size_t k = 0; k < sizeof ev / sizeof ev[0] && st == CLGAN_OK; k++) {
            path_in(path, sizeof path, r, ev[k].file);
            st = clgan_npy_write_f32(path, ev[k].x, 1, &ne);
        }
        free(it);
    }
    return st;
}

/* The classifier for --classifier: "auto" picks the shipped one for 28x28 gray IDX data
 * (the shipped subset or any --data directory of IDX files: digits) or for --data fashion;
 * "none" or --eval-every 0 turns evaluation off. Writes "" when there is none, and in
 * `note` why "auto" found none for this data ("" otherwise). */
static clgan_status classifier_path(char *out, size_t n, char *note, size_t nn,
                                    const clgan_config *c, const clgan_dataset *d)
{
    out[0] = note[0] = '\0';
    if (c->eval_every <= 0 || !strcmp(c->classifier, "none"))
        return CLGAN_OK;
    if (strcmp(c->classifier, "auto") != 0) {
        snprintf(out, n, "%s", c->classifier);
        return CLGAN_OK;
    }
    if (!d->idx || d->c != 1 || d->h != 28 || d->w != 28) {
        snprintf(note, nn, "clgan: sample scores off: the shipped classifiers score 28x28 gray "
                 "MNIST-format (IDX) data, and this is %s %dx%dx%d; --classifier FILE scores "
                 "28x28 gray data with another", d->idx ? "IDX" : "PNG", d->h, d->w, d->c);
        return CLGAN_OK;
    }
    const char *rel = !strcmp(c->data, "fashion") ? "classifier/fashion.safetensors"
                                                   : "classifier/mnist.safetensors";
    if (!clgan_find_sample(out, n, rel))
        return clgan_error(CLGAN_EIO, "the shipped classifier samples/%s was not found; pass "
                           "--classifier FILE or --classifier none", rel);
    return CLGAN_OK;
}

/* Decides whether to evaluate and checks the classifier file can be read; the
 * evaluator itself is built at the first evaluation. */
static clgan_status eval_open(run_state *r, clgan_ctx *ctx, const clgan_dataset *data)
{
    clgan_status st;
    r->ctx = ctx;
    r->data = data;
    if ((st = classifier_path(r->ev_path, sizeof r->ev_path, r->ev_note, sizeof r->ev_note, r->c,
                              data)) != CLGAN_OK || !r->ev_path[0])
        return st;
    /* Load it once now so a missing, corrupt or mismatched file is reported before training. */
    clgan_classifier *probe;
    if ((st = clgan_classifier_load(&probe, ctx, r->ev_path, 2)) != CLGAN_OK)
        return clgan_error_wrap(st, "--classifier");
    const clgan_classifier_info *ci = clgan_classifier_get(probe);
    int fits = data->c == 1 && ci->h == data->h && ci->w == data->w;
    if (!fits)
        st = clgan_error(CLGAN_EINVAL, "--classifier %s scores %dx%d gray images and the data is "
                         "%dx%dx%d: pass --classifier none", r->ev_path, ci->h, ci->w, data->h,
                         data->w, data->c);
    clgan_classifier_free(probe);
    if (!fits)
        return st;
    long cap = r->c->iterations / r->c->eval_every + 2;
    r->eval_it = calloc((size_t)cap, sizeof *r->eval_it);
    r->coverage = calloc((size_t)cap, sizeof(float));
    r->fd = calloc((size_t)cap, sizeof(float));
    r->diversity = calloc((size_t)cap, sizeof(float));
    r->kl = calloc((size_t)cap, sizeof(float));
    if (!r->eval_it || !r->coverage || !r->fd || !r->diversity || !r->kl)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    return CLGAN_OK;
}

/* Adds up what the run will allocate, on the device and the host, and refuses before
 * anything is allocated when it does not fit. The data set is already loaded (the host
 * memory available now excludes it). */
static clgan_status check_memory(run_state *r, clgan_ctx *ctx, const clgan_dataset *d)
{
    clgan_mem_plan p = {0};
    size_t dim = (size_t)d->h * (size_t)d->w * (size_t)d->c, it = (size_t)r->c->iterations + 1;
    clgan_status st;
    snprintf(p.what, sizeof p.what, "this run");
    if ((st = clgan_trainer_plan(&p, ctx, r->c, d->count, CLGAN_SHAPE(d->h, d->w, d->c))) != CLGAN_OK)
        return st;
    clgan_plan_add(&p, "per-iteration arrays", 0, 5 * 4 * it);
    clgan_plan_add(&p, "sample grids", 0, 3 * GRID * GRID * dim * 4);
    if (r->ev_path[0]) { /* evaluate.c: samples, input, Gram matrix, features (estimate) */
        size_t n = (size_t)r->c->eval_samples;
        clgan_plan_add(&p, "evaluator", 1, 2 * n * dim * 4 + n * n * 4 + n * 11 * 4);
        clgan_plan_largest(&p, "the evaluator's Gram matrix", n * n * 4);
        clgan_plan_add(&p, "evaluator", 0, n * dim * 4 + n * 1024 * 8);
    }
    return clgan_plan_check(&p, ctx, "use a smaller --batch, narrower --layers-g/--layers-d, "
                            "fewer --iterations or --eval-samples, or smaller or fewer images");
}

/* Scores eval_samples samples of G at iteration `it` and appends the record. */
static clgan_status evaluate(run_state *r, long it)
{
    clgan_eval_result e;
    clgan_status st;
    int n = r->c->eval_samples, dim = r->data->h * r->data->w * r->data->c;
    if (!r->ev_path[0])
        return CLGAN_OK;
    if (!r->ev) {
        if ((st = clgan_eval_init(&r->ev, r->ctx, r->ev_path, n, r->data->images, r->data->count,
                                  dim)) != CLGAN_OK)
            return clgan_error_wrap(st, "--classifier");
        if ((st = clgan_buf_alloc(r->ctx, &r->ev_samples, (size_t)n * dim * 4,
                                  "evaluation samples")) != CLGAN_OK)
            return st;
    }
    if ((st = clgan_trainer_sample_device(r->tr, r->ev_samples, n)) != CLGAN_OK)
        return st;
    st = clgan_eval_run(r->ev, r->ev_samples, n, &e);
    if (st == CLGAN_ENUMERIC) { /* G produced NaN: the divergence check reports it */
        clgan_error_clear();
        return CLGAN_OK;
    }
    if (st != CLGAN_OK)
        return st;
    r->last = e;
    r->eval_it[r->n_eval] = it;
    r->coverage[r->n_eval] = (float)e.modes_covered;
    r->fd[r->n_eval] = (float)e.frechet;
    r->diversity[r->n_eval] = (float)e.diversity;
    r->kl[r->n_eval] = (float)e.kl;
    r->n_eval++;
    FILE *f = line_open(r);
    if (!f)
        return clgan_error(CLGAN_ENOMEM, "out of memory for a record");
    fprintf(f, "{\"iteration\": %ld, \"n\": %d, \"modes_covered\": %d", it, e.n,
            e.modes_covered);
    jnum(f, "kl", e.kl);
    jnum(f, "frechet", e.frechet);
    jnum(f, "diversity", e.diversity);
    jnum(f, "confidence", e.confidence);
    fprintf(f, ", \"histogram\": [");
    for (int c = 0; c < CLGAN_CLASSES; c++)
        fprintf(f, "%s%d", c ? ", " : "", e.histogram[c]);
    fprintf(f, "]}");
    if ((st = line_close(r, f, r->evl, 1, r->n_eval)) != CLGAN_OK)
        return st;
    fflush(r->evl);
    return CLGAN_OK;
}

/* Closes a .partial record file and renames it to its final name. */
static clgan_status close_records(run_state *r, FILE **f, const char *tmp, const char *name)
{
    char path[700];
    int bad = fflush(*f) != 0 || fsync(fileno(*f)) != 0;
    bad |= fclose(*f) != 0;
    *f = NULL;
    path_in(path, sizeof path, r, name);
    if (bad || rename(tmp, path) != 0)
        return clgan_error(CLGAN_EIO, "cannot write %s", path);
    return CLGAN_OK;
}

/* tensors.json's text: the monitored tensors' networks, ranks and sizes (what the
 * detectors need to compare layers of any architecture). malloc'd; NULL: out of memory. */
static char *tensors_text(run_state *r)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    int n = v->n_g_tensors + v->n_d_tensors;
    clgan_diag_tensor *t = calloc((size_t)(n ? n : 1), sizeof *t);
    if (!t)
        return NULL;
    for (int i = 0; i < n; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s", v->tensor_names[i]);
        t[i].net = i >= v->n_g_tensors;
        t[i].ndim = v->tensor_info[i]->ndim;
        t[i].count = (long)v->tensor_info[i]->count;
    }
    char *text = clgan_diag_tensors_json(t, n);
    free(t);
    return text;
}

clgan_status run_records_open(run_state *r)
{
    if (r->rec)
        return CLGAN_OK;
    char *text = tensors_text(r);
    clgan_status st = text ? clgan_diag_records_init(&r->rec)
                           : clgan_error(CLGAN_ENOMEM, "out of memory");
    if (st == CLGAN_OK)
        st = clgan_diag_records_tensors(r->rec, text, "tensors.json");
    free(text);
    return st;
}

clgan_status run_write_tensors(run_state *r)
{
    char path[700];
    clgan_status st = run_records_open(r);
    char *text = st == CLGAN_OK ? tensors_text(r) : NULL;
    if (st == CLGAN_OK && !text)
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
    path_in(path, sizeof path, r, "tensors.json");
    if (st == CLGAN_OK)
        st = clgan_io_write_file(path, text, strlen(text));
    free(text);
    return st;
}

int run_mon_add(run_state *r, long m)
{
    if (r->n_mon == r->cap_mon) {
        long cap = r->cap_mon ? 2 * r->cap_mon : 256;
        long *it = realloc(r->mon_it, cap * sizeof *it);
        if (!it)
            return 0;
        r->mon_it = it;
        r->cap_mon = cap;
    }
    r->mon_it[r->n_mon++] = m;
    return 1;
}

/* A checkpoint now: the records of the complete log intervals first (they are in it). */
static clgan_status checkpoint(run_state *r)
{
    clgan_status st = clgan_trainer_sync(r->tr);
    if (st != CLGAN_OK)
        return st;
    if ((st = write_records(r, 0)) != CLGAN_OK)
        return st;
    return run_checkpoint(r);
}

static clgan_status finish_outputs(run_state *r)
{
    char path[700];
    clgan_status st = r->jsonl ? write_records(r, 1) : CLGAN_OK; /* the arrays include them */
    if (st == CLGAN_OK)
        st = write_arrays(r);
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    if (st == CLGAN_OK) {
        path_in(path, sizeof path, r, "generator.safetensors");
        st = clgan_checkpoint_save_generator(path, v->g, r->c, r->h, r->w);
    }
    if (st == CLGAN_OK) {
        clgan_gif *g = r->gif;
        r->gif = NULL;
        st = g ? clgan_gif_close(g) : CLGAN_OK;
    }
    if (st == CLGAN_OK && r->jsonl) {
        clgan_diagnosis d[CLGAN_DIAG_MAX];
        int k = clgan_diagnose(diag_input(r, r->logged), d);
        path_in(path, sizeof path, r, "diagnoses.json");
        st = clgan_diagnoses_write(path, d, k, r->logged);
        if (!r->o->quiet)
            clgan_diagnoses_print(r->log, d, k, r->logged);
    }
    if (st == CLGAN_OK && r->jsonl)
        st = close_records(r, &r->jsonl, r->jsonl_tmp, "metrics.jsonl");
    if (st == CLGAN_OK && r->evl)
        st = close_records(r, &r->evl, r->evl_tmp, "eval.jsonl");
    return st;
}

/* What the data line leaves out: skipped files, colour dropped, scores off. */
static void data_notes(FILE *f, const clgan_dataset *d, const char *ev_note)
{
    if (d->skipped) {
        fprintf(f, "clgan: skipped %zu entr%s of %s that %s not readable PNG images:\n",
                d->skipped, d->skipped == 1 ? "y" : "ies", d->source, d->skipped == 1 ? "is" : "are");
        for (const char *l = d->skip_log; l && *l; l += strcspn(l, "\n") + 1)
            fprintf(f, "  %.*s\n", (int)strcspn(l, "\n"), l);
        if (d->skipped > CLGAN_IMAGEDIR_LOGGED)
            fprintf(f, "  ... and %zu more\n", d->skipped - CLGAN_IMAGEDIR_LOGGED);
    }
    if (d->c == 1 && d->color_files)
        fprintf(f, "clgan: %zu colour PNGs converted to gray (BT.601 luma); --channels 3 keeps "
                "colour\n", d->color_files);
    if (ev_note[0])
        fprintf(f, "%s\n", ev_note);
}

clgan_status clgan_run_train(const clgan_config *c, const clgan_run_opts *o)
{
    clgan_run_opts defaults = {0};
    run_state r = {.c = c, .o = o ? o : &defaults, .lock = {.fd = -1}};
    clgan_dataset data = {0};
    clgan_ctx *ctx = NULL;
    clgan_status st;
    r.log = r.o->log ? r.o->log : stderr;
    run_set_dir(&r);
    /* A directory another run holds, or that holds a run, is refused before set-up. */
    if ((st = clgan_config_validate(c)) != CLGAN_OK ||
        (st = clgan_rundir_check(r.dir, run_dir_mode(&r), 0)) != CLGAN_OK ||
        (r.o->resume && (st = run_open_checkpoint(&r)) != CLGAN_OK) ||
        (st = clgan_dataset_load_as(&data, c->data, c->image_size, c->channels)) != CLGAN_OK)
        goto done;
    r.h = data.h;
    r.w = data.w;
    r.img_c = data.c;
    int dim = data.h * data.w * data.c;
    r.data = &data;
    r.data_hash = run_data_hash(data.images, data.count * (size_t)dim);
    if ((size_t)c->batch > data.count) {
        st = clgan_error(CLGAN_EINVAL, "--batch %d is larger than the data set (%zu images)",
                         c->batch, data.count);
        goto done;
    }
    if ((long long)c->batch * dim > (1LL << 28)) { /* the kernels index a batch with int */
        st = clgan_error(CLGAN_EINVAL, "--batch %d of %dx%dx%d images is too large (batch x "
                         "pixels x channels must stay below 2^28): pass a smaller --image-size",
                         c->batch, data.h, data.w, data.c);
        goto done;
    }
    double t_start = clgan_now_s();
    clgan_ctx_opts co = {.device = c->device, .verbose = 0};
    if ((st = clgan_ctx_init(&ctx, &co)) != CLGAN_OK)
        goto done;
    const clgan_ctx_view *cv = clgan_ctx_get(ctx);
    if (r.o->resume)
        run_resume_device(&r, ctx);
    else if (c->gemm != CLGAN_GEMM_AUTO)
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)c->gemm);
    else if ((st = clgan_gemm_autoselect(ctx)) != CLGAN_OK)
        goto done;
    /* Everything that can refuse the inputs runs before the run directory is made. */
    if ((r.o->resume && (st = run_resume_check(&r, ctx, CLGAN_SHAPE(data.h, data.w, data.c))) != CLGAN_OK) ||
        (st = eval_open(&r, ctx, &data)) != CLGAN_OK || (st = check_memory(&r, ctx, &data)) != CLGAN_OK ||
        (st = clgan_trainer_init(&r.tr, ctx, c, data.images, data.count,
                                  CLGAN_SHAPE(data.h, data.w, data.c))) != CLGAN_OK ||
        (st = clgan_ctx_warmup(ctx)) != CLGAN_OK || /* the trainer's shapes (the evaluator is
                                                     made at its first use) */
        (st = run_dist_start(&r, ctx)) != CLGAN_OK)
        goto done;
    r.ctx = ctx;
    r.imgs = malloc((size_t)GRID * GRID * dim * sizeof(float));
    for (int k = 0; k < 5; k++)
        r.col[k] = calloc((size_t)c->iterations + 1, sizeof(float));
    if (!r.imgs || !r.col[0] || !r.col[1] || !r.col[2] || !r.col[3] || !r.col[4]) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    if (r.o->resume && (st = run_resume_load(&r, r.ckpt_path)) != CLGAN_OK)
        goto done;
    if (!r.o->quiet)
        fprintf(r.log, "clgan: device %d: %s (%s, %s); kernels %s in %.2f s; gemm %s\n"
                       "clgan: data %s: %zu images %dx%dx%d\n",
                cv->dev.index, cv->dev.name, cv->dev.platform_name,
                clgan_device_type_str(cv->dev.type), cv->cache_hit ? "from cache" : "built",
                cv->build_seconds, clgan_gemm_impl_str(clgan_gemm_get_impl(ctx)), data.source,
                data.count, data.h, data.w, data.c);
    if (!r.o->quiet)
        data_notes(r.log, &data, r.ev_note);
    if (r.o->running)
        *r.o->running = 1;
    if ((st = run_open_dir(&r)) != CLGAN_OK || (!r.start && (st = write_grid(&r, 0)) != CLGAN_OK))
        goto done;
    if (!r.o->quiet && r.start)
        fprintf(r.log, "clgan: resumed from %s; training iterations %ld to %ld, batch %d, in %s\n",
                r.ckpt_path, r.start, c->iterations, c->batch, r.dir);
    else if (!r.o->quiet)
        fprintf(r.log, "clgan: first iteration after %.2f s; training %ld iterations, batch %d, "
                       "into %s\n", clgan_now_s() - t_start, c->iterations, c->batch, r.dir);
    r.t0 = r.t_last = clgan_now_s();
    r.it_last = r.start;
    long it = r.start, stopped = 0;
    for (; it < c->iterations; it++) {
        int halt = r.o->stop && *r.o->stop;
        if ((st = run_dist_agree(&r, &halt)) != CLGAN_OK)
            goto done;
        if (halt) {
            if (!r.o->quiet)
                fprintf(r.log, "\nclgan: stopped at iteration %ld; writing outputs and a "
                        "checkpoint\n", it);
            stopped = 1;
            break;
        }
        if ((st = clgan_trainer_step(r.tr)) != CLGAN_OK)
            goto done;
        if (clgan_trainer_get(r.tr)->nonfinite_at >= 0) {
            int halt = 1; /* the other ranks stop with us (they ask before each iteration) */
            it++;
            if (it < c->iterations && (st = run_dist_agree(&r, &halt)) != CLGAN_OK)
                goto done;
            break;
        }
        if (c->sample_every > 0 && (it + 1) % c->sample_every == 0 &&
            (st = write_grid(&r, it + 1)) != CLGAN_OK)
            goto done;
        if (c->eval_every > 0 && (it + 1) % c->eval_every == 0 && (st = evaluate(&r, it + 1)) != CLGAN_OK)
            goto done;
        if ((st = write_records(&r, 0)) != CLGAN_OK)
            goto done;
        progress(&r, 0);
        if ((it + 1) % c->checkpoint_every == 0 && it + 1 < c->iterations &&
            (st = checkpoint(&r)) != CLGAN_OK)
            goto done;
    }
    /* The last checkpoint (the end, or where it stopped) before the end's own outputs; a
     * run that diverged keeps its earlier ones only. */
    if ((st = checkpoint(&r)) != CLGAN_OK)
        goto done;
    const clgan_trainer_view *tv = clgan_trainer_get(r.tr);
    long diverged = tv->nonfinite_at;
    if (diverged >= 0) {
        if (!r.o->quiet)
            fprintf(r.log, "%sclgan: NaN/Inf at iteration %ld: training stopped; ", r.o->progress ? "\n" : "",
                    diverged);
        if ((st = clgan_trainer_restore_last_good(r.tr)) != CLGAN_OK)
            goto done;
        if (!r.o->quiet)
            fprintf(r.log, "saving the last finite weights (%s %ld)\n",
                    tv->last_good ? "after iteration" : "the initial weights, iteration", tv->last_good);
    }
    double secs = clgan_now_s() - r.t0;
    r.rate = (it - r.start) / (secs > 0 ? secs : 1);
    if ((c->sample_every == 0 || it % c->sample_every != 0) && it > 0 && diverged < 0 &&
        (st = write_grid(&r, it)) != CLGAN_OK)
        goto done;
    progress(&r, 1);
    if ((st = finish_outputs(&r)) != CLGAN_OK)
        goto done;
    if (!r.o->quiet)
        fprintf(r.log,
                "clgan: %ld iterations in %.1f s (%.1f it/s)\n"
                "  sample grids   %s/images/<iteration>.png\n"
                "  animation      %s/training.gif\n"
                "  loss arrays    %s/discriminator_loss.npy, generator_loss.npy\n"
                "  metrics        %s/metrics.jsonl\n"
                "  generator      %s/generator.safetensors\n"
                "  configuration  %s/config.ini\n",
                it - r.start, secs, r.rate, r.dir, r.dir, r.dir, r.dir, r.dir, r.dir);
    run_dist_summary(&r, it - r.start, secs);
    if (!r.o->quiet && stopped)
        fprintf(r.log, "clgan: continue this run with: clgan train --resume %s\n", r.dir);
    if (diverged >= 0)
        st = clgan_error(CLGAN_ENUMERIC, "training diverged (NaN/Inf at iteration %ld); every output "
                         "so far is in %s, see diagnoses.json", diverged, r.dir);
done:
    /* A failed run leaves no half-written record files (what was completed stays). */
    if (r.jsonl) {
        fclose(r.jsonl);
        remove(r.jsonl_tmp);
    }
    if (r.evl) {
        fclose(r.evl);
        remove(r.evl_tmp);
    }
    clgan_buf_release(&r.ev_samples);
    clgan_eval_free(r.ev);
    free(r.eval_it), free(r.coverage), free(r.fd), free(r.diversity), free(r.kl);
    clgan_gif_abort(r.gif);
    free(r.imgs);
    for (int k = 0; k < 5; k++)
        free(r.col[k]);
    free(r.mon_it);
    free(r.line);
    clgan_diag_records_free(r.rec);
    clgan_trainer_free(r.tr);
    clgan_ctx_free(ctx);
    clgan_dataset_free(&data);
    clgan_safetensors_free(&r.ckpt);
    clgan_rundir_lock_release(&r.lock);
    return st;
}

/* ---- for resume.c ------------------------------------------------------------------- */

void run_fill_columns(run_state *r, long from, long to) { fill_columns(r, from, to); }
const clgan_diag_input *run_diag_input(run_state *r, long n) { return diag_input(r, n); }
void run_path(char *out, size_t n, const run_state *r, const char *name) { path_in(out, n, r, name); }

int run_is_grid(const run_state *r, long it)
{
    return it == 0 || (r->c->sample_every > 0 && it % r->c->sample_every == 0);
}
