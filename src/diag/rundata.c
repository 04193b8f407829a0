/* rundata.c - reads a run directory back for the detectors (`clgan diagnose`): feeds
 * tensors.json, metrics.jsonl's and eval.jsonl's lines and the per-iteration .npy arrays
 * through the same records path the live run uses (records.c). The caller reads config.ini's loss (diag does not know the GAN configuration).
 * A run that was interrupted (metrics.jsonl.partial) or killed (no arrays) reads too. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/io.h"

struct clgan_run_data {
    clgan_diag_records *rec;
    float *arr[5]; /* d_loss, g_loss, d_acc, d_real, d_fake */
    const clgan_diag_input *in;
};

static clgan_status load_array(float **out, long *n, const char *path, int required)
{
    int nd;
    size_t shape[4];
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

/* Feeds every line of `dir/name` (else `dir/name.partial`) to `feed`. A missing file
 * feeds nothing. */
static clgan_status feed_lines(clgan_diag_records *rec, const char *dir, const char *name,
                               clgan_status (*feed)(clgan_diag_records *, const char *,
                                                    const char *, long))
{
    char path[1200];
    uint8_t *buf = NULL;
    size_t len = 0;
    clgan_status st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!clgan_io_exists(path)) {
        snprintf(path, sizeof path, "%s/%s.partial", dir, name);
        if (!clgan_io_exists(path))
            return CLGAN_OK;
    }
    if ((st = clgan_io_read_file(path, &buf, &len)) != CLGAN_OK)
        return st;
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    text[len] = '\0';
    long lineno = 0;
    for (char *line = text, *next; line && *line && st == CLGAN_OK; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (*line)
            st = feed(rec, line, path, lineno);
    }
    free(text);
    return st;
}

static clgan_status read_tensors(clgan_diag_records *rec, const char *dir)
{
    char path[1200];
    uint8_t *buf = NULL;
    size_t len = 0;
    clgan_status st;
    snprintf(path, sizeof path, "%s/tensors.json", dir);
    if (!clgan_io_exists(path)) /* a run written before tensors.json: ranks unknown */
        return CLGAN_OK;
    if ((st = clgan_io_read_file(path, &buf, &len)) != CLGAN_OK)
        return st;
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    text[len] = '\0';
    st = clgan_diag_records_tensors(rec, text, path);
    free(text);
    return st;
}

clgan_status clgan_run_data_load(clgan_run_data **out, const char *dir, int loss)
{
    static const char *const files[5] = {"discriminator_loss.npy", "generator_loss.npy",
                                          "discriminator_accuracy.npy", "d_real.npy", "d_fake.npy"};
    char path[1200];
    clgan_status st;
    long n = -1;
    *out = NULL;
    clgan_run_data *r = calloc(1, sizeof *r);
    if (!r)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    if ((st = clgan_diag_records_init(&r->rec)) != CLGAN_OK ||
        (st = read_tensors(r->rec, dir)) != CLGAN_OK ||
        (st = feed_lines(r->rec, dir, "metrics.jsonl", clgan_diag_records_metrics)) != CLGAN_OK ||
        (st = feed_lines(r->rec, dir, "eval.jsonl", clgan_diag_records_eval)) != CLGAN_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    if (clgan_io_exists(path)) {
        for (int k = 0; k < 5; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[k]);
            if ((st = load_array(&r->arr[k], &n, path, k < 2)) != CLGAN_OK)
                goto fail;
        }
        for (int k = 2; k < 5; k++)
            if (!r->arr[k] && !(r->arr[k] = calloc((size_t)n + 1, sizeof(float)))) {
                st = clgan_error(CLGAN_ENOMEM, "out of memory");
                goto fail;
            }
        clgan_diag_records_series(r->rec, n, (const float *const *)r->arr);
    }
    r->in = clgan_diag_records_input(r->rec, loss);
    if (r->in->n == 0 && r->in->n_mon == 0) {
        st = clgan_error(CLGAN_EIO, "%s: no discriminator_loss.npy and no metrics records: not a "
                         "clgan run directory, or a run stopped before its first record", dir);
        goto fail;
    }
    *out = r;
    return CLGAN_OK;
fail:
    clgan_run_data_free(r);
    return st;
}

const clgan_diag_input *clgan_run_data_input(const clgan_run_data *r) { return r->in; }

void clgan_run_data_free(clgan_run_data *r)
{
    if (!r)
        return;
    for (int k = 0; k < 5; k++)
        free(r->arr[k]);
    clgan_diag_records_free(r->rec);
    free(r);
}
