/* records.c - the one path from a run's records (tensors.json, metrics.jsonl and eval.jsonl
 * lines, the per-iteration series) to the detectors' input, used live and afterwards.
 * Parses and accumulates; does not read files (rundata.c does) nor judge (detect.c). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"

struct clgan_diag_records {
    clgan_diag_input in;
    clgan_diag_tensor *tensors;  /* (n_tensors) */
    int n_tensors, n_g, table;   /* table: from tensors.json (else from the first record) */
    /* gradient records */
    long n_mon, cap_mon;
    long *mon_it;
    float *g_first, *g_norm, *d_norm;
    float *t_grad, *t_update, *t_weight; /* (cap_mon, n_tensors) */
    /* log intervals: end iteration, length, and means of the five series */
    long n_rec, cap_rec;
    long *rec_end, *rec_len;
    float *rec_mean;             /* (cap_rec, 5) */
    long nonfinite_at;
    /* sample-quality records */
    long n_eval, cap_eval;
    long *eval_it;
    float *coverage, *fd, *diversity, *confidence;
    /* the per-iteration series: borrowed, or rebuilt from the interval means (owned) */
    long n;
    const float *series[5];
    float *own[5];
};

clgan_status clgan_diag_records_init(clgan_diag_records **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    (*out)->nonfinite_at = -1;
    return CLGAN_OK;
}

void clgan_diag_records_free(clgan_diag_records *r)
{
    if (!r)
        return;
    free(r->tensors);
    free(r->mon_it), free(r->g_first), free(r->g_norm), free(r->d_norm);
    free(r->t_grad), free(r->t_update), free(r->t_weight);
    free(r->rec_end), free(r->rec_len), free(r->rec_mean);
    free(r->eval_it), free(r->coverage), free(r->fd), free(r->diversity), free(r->confidence);
    for (int k = 0; k < 5; k++)
        free(r->own[k]);
    free(r);
}

/* Grows *p to hold cap elements of size sz; 0 on failure (*p untouched). */
static int grow(void *p, long cap, size_t sz)
{
    void *q = realloc(*(void **)p, (size_t)(cap ? cap : 1) * sz);
    if (!q)
        return 0;
    *(void **)p = q;
    return 1;
}

static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsNull(v) ? NAN : dflt;
}

char *clgan_diag_tensors_json(const clgan_diag_tensor *t, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *nets[2] = {cJSON_AddArrayToObject(root, "g"), cJSON_AddArrayToObject(root, "d")};
    for (int i = 0; i < n && nets[0] && nets[1]; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(nets[t[i].net ? 1 : 0], o);
        cJSON_AddStringToObject(o, "name", t[i].name);
        cJSON_AddNumberToObject(o, "ndim", t[i].ndim);
        cJSON_AddNumberToObject(o, "count", (double)t[i].count);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static clgan_status set_tensors(clgan_diag_records *r, int n, int n_g)
{
    free(r->tensors);
    r->tensors = calloc((size_t)(n ? n : 1), sizeof *r->tensors);
    if (!r->tensors)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    r->n_tensors = n;
    r->n_g = n_g;
    return CLGAN_OK;
}

clgan_status clgan_diag_records_tensors(clgan_diag_records *r, const char *json, const char *origin)
{
    cJSON *root = cJSON_Parse(json);
    clgan_status st = CLGAN_OK;
    const cJSON *nets[2] = {cJSON_GetObjectItemCaseSensitive(root, "g"),
                            cJSON_GetObjectItemCaseSensitive(root, "d")};
    if (!cJSON_IsArray(nets[0]) || !cJSON_IsArray(nets[1]) || r->n_mon > 0) {
        cJSON_Delete(root);
        return clgan_error(CLGAN_EFORMAT, "%s: %s", origin, r->n_mon > 0 ? "tensor table after records"
                           : "not a tensor table (an object with arrays \"g\" and \"d\")");
    }
    int ng = cJSON_GetArraySize(nets[0]), nd = cJSON_GetArraySize(nets[1]);
    if ((st = set_tensors(r, ng + nd, ng)) == CLGAN_OK) {
        int i = 0;
        for (int k = 0; k < 2; k++)
            for (const cJSON *o = nets[k]->child; o; o = o->next, i++) {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
                clgan_diag_tensor *t = &r->tensors[i];
                snprintf(t->name, sizeof t->name, "%s", cJSON_IsString(name) ? name->valuestring : "?");
                t->net = k;
                t->ndim = (int)num(o, "ndim", 0);
                t->count = (long)num(o, "count", 0);
                if (t->ndim < 0 || t->ndim > 4 || t->count < 0)
                    st = clgan_error(CLGAN_EFORMAT, "%s: tensor %d has a bad ndim or count", origin, i);
            }
        r->table = 1;
    }
    cJSON_Delete(root);
    return st;
}

/* The values of the object o[key] by position into row[first .. first + n) (NaN when
 * absent or null). */
static void dict_row(float *row, const cJSON *o, const char *key, int first, int n)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, key), *v = cJSON_IsObject(d) ? d->child : NULL;
    for (int i = 0; i < n; i++, v = v ? v->next : NULL)
        row[first + i] = v && cJSON_IsNumber(v) ? (float)v->valuedouble : NAN;
}

/* A record's gradient part: the global norms and the per-tensor columns. Without a
 * tensor table the first record's dictionaries define the columns (ranks unknown). */
static clgan_status gradient_record(clgan_diag_records *r, const cJSON *o, long it)
{
    clgan_status st;
    if (r->n_mon == 0 && !r->table) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "g_layer_grad_norms");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "d_layer_grad_norms");
        int ng = cJSON_IsObject(g) ? cJSON_GetArraySize(g) : 0;
        int nd = cJSON_IsObject(d) ? cJSON_GetArraySize(d) : 0;
        if ((st = set_tensors(r, ng + nd, ng)) != CLGAN_OK)
            return st;
        for (int k = 0, i = 0; k < 2; k++)
            for (const cJSON *v = (k ? d : g) ? (k ? d : g)->child : NULL; v; v = v->next, i++) {
                snprintf(r->tensors[i].name, sizeof r->tensors[i].name, "%s", v->string ? v->string : "?");
                r->tensors[i].net = k;
            }
    }
    if (r->n_mon == r->cap_mon) {
        long cap = r->cap_mon ? 2 * r->cap_mon : 64;
        size_t nt = (size_t)(r->n_tensors ? r->n_tensors : 1);
        if (!grow(&r->mon_it, cap, sizeof(long)) || !grow(&r->g_first, cap, sizeof(float)) ||
            !grow(&r->g_norm, cap, sizeof(float)) || !grow(&r->d_norm, cap, sizeof(float)) ||
            !grow(&r->t_grad, cap, nt * sizeof(float)) || !grow(&r->t_update, cap, nt * sizeof(float)) ||
            !grow(&r->t_weight, cap, nt * sizeof(float)))
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        r->cap_mon = cap;
    }
    long k = r->n_mon++;
    size_t nt = (size_t)r->n_tensors;
    r->mon_it[k] = it;
    r->g_first[k] = (float)num(o, "g_first_grad_norm", NAN);
    r->g_norm[k] = (float)num(o, "g_grad_norm", NAN);
    r->d_norm[k] = (float)num(o, "d_grad_norm", NAN);
    static const char *const keys[3][2] = {{"g_layer_grad_norms", "d_layer_grad_norms"},
                                           {"g_layer_update_ratios", "d_layer_update_ratios"},
                                           {"g_layer_weight_norms", "d_layer_weight_norms"}};
    float *rows[3] = {r->t_grad + k * nt, r->t_update + k * nt, r->t_weight + k * nt};
    for (int q = 0; q < 3; q++) {
        dict_row(rows[q], o, keys[q][0], 0, r->n_g);
        dict_row(rows[q], o, keys[q][1], r->n_g, r->n_tensors - r->n_g);
    }
    return CLGAN_OK;
}

static clgan_status parse(cJSON **o, const char *line, const char *origin, long lineno)
{
    *o = cJSON_Parse(line);
    if (!*o || !cJSON_IsObject(*o)) {
        cJSON_Delete(*o);
        *o = NULL;
        return clgan_error(CLGAN_EFORMAT, "%s:%ld: not a JSON object", origin, lineno);
    }
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(*o, "iteration"))) {
        cJSON_Delete(*o);
        *o = NULL;
        return clgan_error(CLGAN_EFORMAT, "%s:%ld: no numeric \"iteration\"", origin, lineno);
    }
    return CLGAN_OK;
}

clgan_status clgan_diag_records_metrics(clgan_diag_records *r, const char *line, const char *origin,
                                        long lineno)
{
    static const char *const means[5] = {"d_loss", "g_loss", "d_acc", "d_x", "d_g_z"};
    cJSON *o;
    clgan_status st = parse(&o, line, origin, lineno);
    if (st != CLGAN_OK)
        return st;
    long end = (long)num(o, "iteration", 0), len = (long)num(o, "iterations", 0);
    /* A record's interval held a NaN/Inf: the iteration, else the interval's start. */
    if (num(o, "nonfinite", 0) != 0 && r->nonfinite_at < 0)
        r->nonfinite_at = (long)num(o, "nonfinite_at", (double)(end - len));
    if (r->n_rec == r->cap_rec) {
        long cap = r->cap_rec ? 2 * r->cap_rec : 64;
        if (!grow(&r->rec_end, cap, sizeof(long)) || !grow(&r->rec_len, cap, sizeof(long)) ||
            !grow(&r->rec_mean, cap, 5 * sizeof(float))) {
            cJSON_Delete(o);
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        }
        r->cap_rec = cap;
    }
    r->rec_end[r->n_rec] = end;
    r->rec_len[r->n_rec] = len;
    for (int k = 0; k < 5; k++)
        r->rec_mean[r->n_rec * 5 + k] = (float)num(o, means[k], NAN);
    r->n_rec++;
    double mit = num(o, "monitor_iteration", -1);
    if (mit >= 0)
        st = gradient_record(r, o, (long)mit);
    cJSON_Delete(o);
    return st;
}

clgan_status clgan_diag_records_eval(clgan_diag_records *r, const char *line, const char *origin,
                                     long lineno)
{
    cJSON *o;
    clgan_status st = parse(&o, line, origin, lineno);
    if (st != CLGAN_OK)
        return st;
    if (r->n_eval == r->cap_eval) {
        long cap = r->cap_eval ? 2 * r->cap_eval : 32;
        if (!grow(&r->eval_it, cap, sizeof(long)) || !grow(&r->coverage, cap, sizeof(float)) ||
            !grow(&r->fd, cap, sizeof(float)) || !grow(&r->diversity, cap, sizeof(float)) ||
            !grow(&r->confidence, cap, sizeof(float))) {
            cJSON_Delete(o);
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        }
        r->cap_eval = cap;
    }
    long k = r->n_eval++;
    r->eval_it[k] = (long)num(o, "iteration", 0);
    r->coverage[k] = (float)num(o, "modes_covered", 0);
    r->fd[k] = (float)num(o, "frechet", NAN);
    r->diversity[k] = (float)num(o, "diversity", NAN);
    r->confidence[k] = (float)num(o, "confidence", NAN);
    cJSON_Delete(o);
    return CLGAN_OK;
}

void clgan_diag_records_series(clgan_diag_records *r, long n, const float *const series[5])
{
    r->n = n;
    for (int k = 0; k < 5; k++)
        r->series[k] = series[k];
}

/* Without series (a run killed before it wrote its arrays): each record's interval mean
 * repeated over its interval. */
static int series_from_records(clgan_diag_records *r)
{
    long n = r->n_rec ? r->rec_end[r->n_rec - 1] : 0;
    for (int k = 0; k < 5; k++) {
        free(r->own[k]);
        if (!(r->own[k] = calloc((size_t)n + 1, sizeof(float))))
            return 0;
        for (long i = 0; i < r->n_rec; i++)
            for (long it = r->rec_end[i] - r->rec_len[i]; it < r->rec_end[i]; it++)
                if (it >= 0 && it < n)
                    r->own[k][it] = r->rec_mean[i * 5 + k];
        r->series[k] = r->own[k];
    }
    r->n = n;
    return 1;
}

const clgan_diag_input *clgan_diag_records_input(clgan_diag_records *r, int loss)
{
    clgan_diag_input *in = &r->in;
    if (!r->series[0] && !series_from_records(r))
        r->n = 0;
    in->n = r->series[0] ? r->n : 0;
    in->d_loss = r->series[0], in->g_loss = r->series[1], in->d_acc = r->series[2];
    in->d_real = r->series[3], in->d_fake = r->series[4];
    in->loss = loss;
    in->nonfinite_at = r->nonfinite_at;
    for (long i = 0; i < in->n; i++)
        if (!isfinite(in->d_loss[i]) || !isfinite(in->g_loss[i])) {
            if (in->nonfinite_at < 0 || i < in->nonfinite_at)
                in->nonfinite_at = i;
            break;
        }
    in->n_mon = r->n_mon;
    in->mon_it = r->mon_it;
    in->g_first_norm = r->g_first, in->g_norm = r->g_norm, in->d_norm = r->d_norm;
    in->n_tensors = r->n_tensors, in->n_g_tensors = r->n_g, in->tensors = r->tensors;
    in->t_grad = r->t_grad, in->t_update = r->t_update, in->t_weight = r->t_weight;
    in->n_eval = r->n_eval;
    in->eval_it = r->eval_it;
    in->coverage = r->coverage, in->fd = r->fd, in->diversity = r->diversity;
    in->confidence = r->confidence;
    return in;
}
