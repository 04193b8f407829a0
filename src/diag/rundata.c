/* rundata.c - reads a run directory back for the detectors (`clgan diagnose`, and the
 * report): the per-iteration .npy arrays, metrics.jsonl's gradient records, eval.jsonl's
 * sample-quality records (the caller reads config.ini's loss: diag does not know the
 * GAN configuration); and writes diagnoses as JSON. A run that
 * was interrupted (metrics.jsonl.partial) reads the same way. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/io.h"

struct clgan_run_data {
    clgan_diag_input in;
    float *arr[5]; /* d_loss, g_loss, d_acc, d_real, d_fake */
    long *mon_it, *eval_it;
    float *g_first, *g_norm, *d_norm, *coverage, *fd, *diversity;
};

static clgan_status load_array(float **out, long *n, const char *dir, const char *name, int required)
{
    char path[1200];
    int nd;
    size_t shape[4];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    clgan_status st = clgan_npy_read_f32(path, out, &nd, shape);
    if (st == CLGAN_EIO && !required) {
        clgan_error_clear();
        *out = NULL;
        return CLGAN_OK;
    }
    if (st != CLGAN_OK)
        return st;
    if (nd != 1) {
        free(*out);
        *out = NULL;
        return clgan_error(CLGAN_EFORMAT, "%s: expected a 1-D array", path);
    }
    if (*n < 0)
        *n = (long)shape[0];
    else if ((long)shape[0] != *n) {
        free(*out);
        *out = NULL;
        return clgan_error(CLGAN_EFORMAT, "%s has %zu values, other arrays %ld", path, shape[0], *n);
    }
    return CLGAN_OK;
}

/* Reads a .jsonl file into an array of parsed objects (caller frees each with
 * cJSON_Delete and the array). Missing file: zero records, OK. */
static clgan_status read_jsonl(cJSON ***out, long *n, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *out = NULL;
    *n = 0;
    if (clgan_io_read_file(path, &buf, &len) != CLGAN_OK) {
        clgan_error_clear();
        return CLGAN_OK;
    }
    long lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    cJSON **recs = calloc((size_t)lines, sizeof *recs);
    char *text = realloc(buf, len + 1);
    if (!recs || !text) {
        free(recs);
        free(text ? text : (char *)buf);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    text[len] = '\0';
    long k = 0, lineno = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (!*line)
            continue;
        cJSON *o = cJSON_Parse(line);
        if (!o || !cJSON_IsObject(o)) {
            cJSON_Delete(o);
            for (long i = 0; i < k; i++)
                cJSON_Delete(recs[i]);
            free(recs);
            free(text);
            return clgan_error(CLGAN_EFORMAT, "%s:%ld: not a JSON object", path, lineno);
        }
        recs[k++] = o;
    }
    free(text);
    *out = recs;
    *n = k;
    return CLGAN_OK;
}

static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* A run killed before it wrote its arrays still has metrics.jsonl.partial: rebuilds the
 * per-iteration series from its records (each record's interval mean repeated over the
 * interval). EIO when there is no such file either. */
static clgan_status arrays_from_records(clgan_run_data *r, const char *dir)
{
    static const char *const keys[5] = {"d_loss", "g_loss", "d_acc", "d_x", "d_g_z"};
    char path[1200];
    cJSON **recs;
    long nrec, n = 0;
    snprintf(path, sizeof path, "%s/metrics.jsonl.partial", dir);
    clgan_status st = read_jsonl(&recs, &nrec, path);
    if (st != CLGAN_OK)
        return st;
    if (nrec == 0) {
        free(recs);
        return clgan_error(CLGAN_EIO, "%s: no discriminator_loss.npy and no metrics records: "
                           "not a clgan run directory, or a run stopped before its first record",
                           dir);
    }
    n = (long)num(recs[nrec - 1], "iteration", 0);
    for (int k = 0; k < 5 && st == CLGAN_OK; k++)
        if (!(r->arr[k] = calloc((size_t)n + 1, sizeof(float))))
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
    for (long i = 0; i < nrec && st == CLGAN_OK; i++) {
        long b = (long)num(recs[i], "iteration", 0), a = b - (long)num(recs[i], "iterations", 0);
        for (int k = 0; k < 5; k++)
            for (long it = a < 0 ? 0 : a; it < b && it < n; it++)
                r->arr[k][it] = (float)num(recs[i], keys[k], NAN);
    }
    for (long i = 0; i < nrec; i++)
        cJSON_Delete(recs[i]);
    free(recs);
    r->in.n = n;
    return st;
}

clgan_status clgan_run_data_load(clgan_run_data **out, const char *dir, int loss)
{
    static const char *const files[5] = {"discriminator_loss.npy", "generator_loss.npy",
                                          "discriminator_accuracy.npy", "d_real.npy", "d_fake.npy"};
    char path[1200];
    cJSON **recs = NULL;
    long nrec = 0;
    clgan_status st;
    *out = NULL;
    clgan_run_data *r = calloc(1, sizeof *r);
    if (!r)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    r->in.n = -1;
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    if (clgan_io_exists(path)) {
        for (int k = 0; k < 5; k++)
            if ((st = load_array(&r->arr[k], &r->in.n, dir, files[k], k < 2)) != CLGAN_OK)
                goto fail;
    } else if ((st = arrays_from_records(r, dir)) != CLGAN_OK) {
        goto fail;
    }
    for (int k = 2; k < 5; k++)
        if (!r->arr[k] && !(r->arr[k] = calloc((size_t)r->in.n + 1, sizeof(float)))) {
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
            goto fail;
        }
    r->in.d_loss = r->arr[0], r->in.g_loss = r->arr[1], r->in.d_acc = r->arr[2];
    r->in.d_real = r->arr[3], r->in.d_fake = r->arr[4];
    r->in.nonfinite_at = -1;
    for (long i = 0; i < r->in.n && r->in.nonfinite_at < 0; i++)
        if (!isfinite(r->in.d_loss[i]) || !isfinite(r->in.g_loss[i]))
            r->in.nonfinite_at = i;

    r->in.loss = loss;

    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    if (!clgan_io_exists(path))
        snprintf(path, sizeof path, "%s/metrics.jsonl.partial", dir);
    if ((st = read_jsonl(&recs, &nrec, path)) != CLGAN_OK)
        goto fail;
    r->mon_it = calloc((size_t)nrec + 1, sizeof *r->mon_it);
    r->g_first = calloc((size_t)nrec + 1, sizeof(float));
    r->g_norm = calloc((size_t)nrec + 1, sizeof(float));
    r->d_norm = calloc((size_t)nrec + 1, sizeof(float));
    if (!r->mon_it || !r->g_first || !r->g_norm || !r->d_norm) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto fail;
    }
    for (long i = 0; i < nrec; i++) {
        double it = num(recs[i], "monitor_iteration", -1);
        /* A record's interval held a NaN/Inf: the earliest such interval's start. */
        if (num(recs[i], "nonfinite", 0) != 0 && r->in.nonfinite_at < 0)
            r->in.nonfinite_at = (long)num(recs[i], "nonfinite_at",
                                           num(recs[i], "iteration", 0) - num(recs[i], "iterations", 0));
        if (it < 0)
            continue;
        long k = r->in.n_mon++;
        r->mon_it[k] = (long)it;
        r->g_first[k] = (float)num(recs[i], "g_first_grad_norm", NAN);
        r->g_norm[k] = (float)num(recs[i], "g_grad_norm", NAN);
        r->d_norm[k] = (float)num(recs[i], "d_grad_norm", NAN);
    }
    for (long i = 0; i < nrec; i++)
        cJSON_Delete(recs[i]);
    free(recs);
    recs = NULL;
    r->in.mon_it = r->mon_it, r->in.g_first_norm = r->g_first;
    r->in.g_norm = r->g_norm, r->in.d_norm = r->d_norm;

    snprintf(path, sizeof path, "%s/eval.jsonl", dir);
    if (!clgan_io_exists(path)) /* a run that was killed */
        snprintf(path, sizeof path, "%s/eval.jsonl.partial", dir);
    if ((st = read_jsonl(&recs, &nrec, path)) != CLGAN_OK)
        goto fail;
    r->eval_it = calloc((size_t)nrec + 1, sizeof *r->eval_it);
    r->coverage = calloc((size_t)nrec + 1, sizeof(float));
    r->fd = calloc((size_t)nrec + 1, sizeof(float));
    r->diversity = calloc((size_t)nrec + 1, sizeof(float));
    if (!r->eval_it || !r->coverage || !r->fd || !r->diversity) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto fail;
    }
    for (long i = 0; i < nrec; i++) {
        r->eval_it[i] = (long)num(recs[i], "iteration", 0);
        r->coverage[i] = (float)num(recs[i], "modes_covered", 0);
        r->fd[i] = (float)num(recs[i], "frechet", 0);
        r->diversity[i] = (float)num(recs[i], "diversity", 0);
    }
    r->in.n_eval = nrec;
    r->in.eval_it = r->eval_it, r->in.coverage = r->coverage, r->in.fd = r->fd;
    r->in.diversity = r->diversity;
    for (long i = 0; i < nrec; i++)
        cJSON_Delete(recs[i]);
    free(recs);
    *out = r;
    return CLGAN_OK;
fail:
    for (long i = 0; i < nrec && recs; i++)
        cJSON_Delete(recs[i]);
    free(recs);
    clgan_run_data_free(r);
    return st;
}

const clgan_diag_input *clgan_run_data_input(const clgan_run_data *r) { return &r->in; }

void clgan_run_data_free(clgan_run_data *r)
{
    if (!r)
        return;
    for (int k = 0; k < 5; k++)
        free(r->arr[k]);
    free(r->mon_it), free(r->eval_it), free(r->g_first), free(r->g_norm), free(r->d_norm);
    free(r->coverage), free(r->fd), free(r->diversity);
    free(r);
}

char *clgan_diagnoses_json(const clgan_diagnosis *d, int n, long iterations)
{
    static const char *const sev[] = {"info", "warning", "error"};
    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
    int healthy = 1;
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject(), *rem = cJSON_CreateArray();
        healthy &= d[i].severity == CLGAN_SEV_INFO;
        cJSON_AddStringToObject(o, "id", d[i].key);
        cJSON_AddStringToObject(o, "name", d[i].name);
        cJSON_AddStringToObject(o, "severity", sev[d[i].severity]);
        cJSON_AddNumberToObject(o, "onset", (double)d[i].onset);
        cJSON_AddNumberToObject(o, "last", (double)d[i].last);
        cJSON_AddStringToObject(o, "evidence", d[i].evidence);
        for (int k = 0; k < 6 && d[i].remedies[k]; k++)
            cJSON_AddItemToArray(rem, cJSON_CreateString(d[i].remedies[k]));
        cJSON_AddItemToObject(o, "remedies", rem);
        cJSON_AddItemToArray(list, o);
    }
    cJSON_AddNumberToObject(root, "iterations", (double)iterations);
    cJSON_AddBoolToObject(root, "healthy", healthy);
    cJSON_AddItemToObject(root, "diagnoses", list);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

clgan_status clgan_diagnoses_write(const char *path, const clgan_diagnosis *d, int n, long iterations)
{
    char *text = clgan_diagnoses_json(d, n, iterations);
    if (!text)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    size_t len = strlen(text);
    text[len] = '\n';
    clgan_status st = clgan_io_write_file(path, text, len + 1);
    free(text);
    return st;
}
