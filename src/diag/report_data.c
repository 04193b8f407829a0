/* report_data.c - reads a run directory back for `clgan report`: the per-iteration .npy
 * arrays, every numeric field of metrics.jsonl and eval.jsonl as named series,
 * diagnoses.json, config.ini, the list of images/<iteration>.png and training.gif. Each
 * file may be absent; a file that exists but is corrupt is an error naming it. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "clgan/io.h"
#include "diag/report_internal.h"

static const struct {
    const char *name;
    const char *role;
} known[RF_COUNT] = {
    [RF_CONFIG] = {"config.ini", "the settings in the header"},
    [RF_D_LOSS] = {"discriminator_loss.npy", "D's loss curve"},
    [RF_G_LOSS] = {"generator_loss.npy", "G's loss curve"},
    [RF_D_ACC] = {"discriminator_accuracy.npy", "D's accuracy curve"},
    [RF_D_REAL] = {"d_real.npy", "the D(x) curve"},
    [RF_D_FAKE] = {"d_fake.npy", "the D(G(z)) curve"},
    [RF_METRICS] = {"metrics.jsonl", "gradient norms, update ratios, it/s"},
    [RF_EVAL] = {"eval.jsonl", "mode coverage and Frechet distance"},
    [RF_DIAGNOSES] = {"diagnoses.json", "the verdict and the diagnoses"},
    [RF_IMAGES] = {"images/", "the sample timeline"},
    [RF_GIF] = {"training.gif", "the animation"},
};

const char *report_file_name(int rf)
{
    return known[rf].name;
}

const char *report_file_role(int rf)
{
    return known[rf].role;
}

/* "DIR/NAME", malloc'd; NULL when out of memory. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* 1 when path exists, 0 when it does not; -1 (EIO recorded) when it cannot be checked. */
static int exists(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return 1;
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    clgan_error(CLGAN_EIO, "%s: %s", path, strerror(errno));
    return -1;
}

/* ---- series ------------------------------------------------------------------------- */

const rseries *report_series(const rseries_set *set, const char *name)
{
    for (int i = 0; i < set->n; i++)
        if (!strcmp(set->s[i].name, name))
            return &set->s[i];
    return NULL;
}

static void series_free(rseries *s)
{
    free(s->name);
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

static void set_free(rseries_set *set)
{
    for (int i = 0; i < set->n; i++)
        series_free(&set->s[i]);
    free(set->s);
    memset(set, 0, sizeof *set);
}

static clgan_status series_add(rseries *s, double x, double y)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (nx)
            s->x = nx;
        double *ny = nx ? realloc(s->y, cap * sizeof *ny) : NULL;
        if (!ny)
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return CLGAN_OK;
}

/* Adds (x, y) to the series `name` (prefix/name when prefix is given), creating it. */
static clgan_status set_add(rseries_set *set, const char *prefix, const char *name, double x,
                            double y)
{
    char full[256];
    snprintf(full, sizeof full, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", name);
    rseries *s = (rseries *)report_series(set, full);
    if (!s) {
        if (set->n == set->cap) {
            int cap = set->cap ? 2 * set->cap : 32;
            rseries *ns = realloc(set->s, (size_t)cap * sizeof *ns);
            if (!ns)
                return clgan_error(CLGAN_ENOMEM, "out of memory");
            set->s = ns;
            set->cap = cap;
        }
        s = &set->s[set->n];
        memset(s, 0, sizeof *s);
        if (!(s->name = strdup(full)))
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        set->n++;
    }
    return series_add(s, x, y);
}

/* ---- .npy arrays -------------------------------------------------------------------- */

static clgan_status read_npy(report_run *r, const char *path, int rf)
{
    float *d = NULL;
    int nd = 0;
    size_t shape[4];
    clgan_status st = clgan_npy_read_f32(path, &d, &nd, shape);
    if (st != CLGAN_OK)
        return st;
    rseries *s = &r->arr[rf - RF_D_LOSS];
    if (nd != 1) {
        free(d);
        return clgan_error(CLGAN_EFORMAT, "%s: expected a 1-D array (one value per iteration), "
                           "got %d dimensions", path, nd);
    }
    for (size_t i = 0; i < shape[0] && st == CLGAN_OK; i++)
        st = series_add(s, (double)(i + 1), d[i]);
    free(d);
    return st;
}

/* ---- JSON lines --------------------------------------------------------------------- */

/* A copy of one JSON text with the bare tokens nan, inf, infinity (any case, signed)
 * outside strings replaced by null: printf's spelling of a diverged value. Caller frees;
 * NULL when out of memory. */
static char *json_denan(const char *s, size_t n)
{
    char *o = malloc(2 * n + 1), *w = o;
    int in_str = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (in_str) {
            *w++ = c;
            i++;
            if (c == '\\' && i < n)
                *w++ = s[i++];
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
            *w++ = s[i++];
            continue;
        }
        size_t j = i + ((c == '-' || c == '+') && i + 1 < n && isalpha((unsigned char)s[i + 1]));
        if (isalpha((unsigned char)s[j])) {
            size_t k = j;
            while (k < n && isalpha((unsigned char)s[k]))
                k++;
            size_t len = k - j;
            if ((len == 3 && (!strncasecmp(s + j, "nan", 3) || !strncasecmp(s + j, "inf", 3))) ||
                (len == 8 && !strncasecmp(s + j, "infinity", 8))) {
                memcpy(w, "null", 4);
                w += 4;
            } else {
                memcpy(w, s + i, k - i);
                w += k - i;
            }
            i = k;
            continue;
        }
        *w++ = s[i++];
    }
    *w = '\0';
    return o;
}

/* Parses one line of a .jsonl file into *obj (caller deletes). EFORMAT names file:line. */
static clgan_status parse_line(cJSON **obj, const char *path, long line, const char *s, size_t n)
{
    *obj = NULL;
    if (memchr(s, '\0', n))
        return clgan_error(CLGAN_EFORMAT, "%s:%ld: binary data (a NUL byte) in a JSON line", path, line);
    char *t = json_denan(s, n);
    if (!t)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithOpts(t, &end, 1);
    if (!o || !cJSON_IsObject(o)) {
        long col = o ? 1 : (end ? (long)(end - t) + 1 : 1);
        cJSON_Delete(o);
        free(t);
        return clgan_error(CLGAN_EFORMAT, "%s:%ld: not a JSON object (%s at column %ld)", path, line,
                           o ? "another JSON value" : "invalid JSON", col);
    }
    free(t);
    *obj = o;
    return CLGAN_OK;
}

/* Adds one record's numeric fields (numbers; null as a gap; objects of numbers as
 * "key/child") at its "iteration" to `set`; keeps the last "histogram" array. */
static clgan_status add_record(report_run *r, rseries_set *set, const cJSON *o, const char *path,
                               long line)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "iteration");
    clgan_status st = CLGAN_OK;
    if (!cJSON_IsNumber(it))
        return clgan_error(CLGAN_EFORMAT, "%s:%ld: no numeric \"iteration\" field", path, line);
    double x = it->valuedouble;
    for (const cJSON *f = o->child; f && st == CLGAN_OK; f = f->next) {
        if (!f->string || f == it)
            continue;
        if (cJSON_IsNumber(f) || cJSON_IsNull(f)) {
            st = set_add(set, NULL, f->string, x, cJSON_IsNumber(f) ? f->valuedouble : NAN);
        } else if (cJSON_IsObject(f)) {
            for (const cJSON *g = f->child; g && st == CLGAN_OK; g = g->next)
                if (g->string && (cJSON_IsNumber(g) || cJSON_IsNull(g)))
                    st = set_add(set, f->string, g->string, x, cJSON_IsNumber(g) ? g->valuedouble : NAN);
        } else if (cJSON_IsArray(f) && !strcmp(f->string, "histogram")) {
            int n = cJSON_GetArraySize(f);
            double *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
            if (!h)
                return clgan_error(CLGAN_ENOMEM, "out of memory");
            int k = 0;
            for (const cJSON *g = f->child; g; g = g->next, k++) {
                if (!cJSON_IsNumber(g)) {
                    free(h);
                    return clgan_error(CLGAN_EFORMAT, "%s:%ld: \"histogram\"[%d] is not a number",
                                       path, line, k);
                }
                h[k] = g->valuedouble;
            }
            free(r->hist);
            r->hist = h;
            r->n_hist = n;
            r->hist_iteration = (long)x;
        }
    }
    return st;
}

static clgan_status read_jsonl(report_run *r, const char *path, rseries_set *set, long *records)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    clgan_status st = clgan_io_read_file(path, &buf, &len);
    if (st != CLGAN_OK)
        return st;
    const char *p = (const char *)buf, *end = p + len;
    for (long line = 1; p < end && st == CLGAN_OK; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        const char *q = p;
        while (q < e && isspace((unsigned char)*q))
            q++;
        if (q < e) {
            cJSON *o;
            if ((st = parse_line(&o, path, line, p, (size_t)(e - p))) == CLGAN_OK) {
                st = add_record(r, set, o, path, line);
                cJSON_Delete(o);
                (*records)++;
            }
        }
        p = nl ? nl + 1 : end;
    }
    free(buf);
    return st;
}

static clgan_status read_metrics(report_run *r, const char *path, int rf)
{
    (void)rf;
    return read_jsonl(r, path, &r->metrics, &r->metrics_records);
}

static clgan_status read_eval(report_run *r, const char *path, int rf)
{
    (void)rf;
    return read_jsonl(r, path, &r->evals, &r->eval_records);
}

/* ---- diagnoses.json ----------------------------------------------------------------- */

/* Copies o[key] into *out when it is a string; EFORMAT when present but not a string. */
static clgan_status get_str(char **out, const cJSON *o, const char *key, const char *path, int i)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return CLGAN_OK;
    if (!cJSON_IsString(v))
        return clgan_error(CLGAN_EFORMAT, "%s: diagnoses[%d].%s is not a string", path, i, key);
    if (!(*out = strdup(v->valuestring)))
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    return CLGAN_OK;
}

static clgan_status get_long(long *out, const cJSON *o, const char *key, const char *path, int i)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = -1;
    if (!v || cJSON_IsNull(v))
        return CLGAN_OK;
    if (!cJSON_IsNumber(v))
        return clgan_error(CLGAN_EFORMAT, "%s: diagnoses[%d].%s is not a number", path, i, key);
    *out = (long)v->valuedouble;
    return CLGAN_OK;
}

static clgan_status read_diag_entry(rdiag *d, const cJSON *o, const char *path, int i)
{
    clgan_status st;
    if (!cJSON_IsObject(o))
        return clgan_error(CLGAN_EFORMAT, "%s: diagnoses[%d] is not an object", path, i);
    if ((st = get_str(&d->id, o, "id", path, i)) != CLGAN_OK ||
        (st = get_str(&d->name, o, "name", path, i)) != CLGAN_OK ||
        (st = get_str(&d->severity, o, "severity", path, i)) != CLGAN_OK ||
        (st = get_str(&d->evidence, o, "evidence", path, i)) != CLGAN_OK ||
        (st = get_long(&d->onset, o, "onset", path, i)) != CLGAN_OK ||
        (st = get_long(&d->last, o, "end", path, i)) != CLGAN_OK ||
        (d->last < 0 && (st = get_long(&d->last, o, "last", path, i)) != CLGAN_OK))
        return st;
    d->recovered = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "recovered"));
    if (!d->id && !d->name)
        return clgan_error(CLGAN_EFORMAT, "%s: diagnoses[%d] has neither \"id\" nor \"name\"", path, i);
    const cJSON *rem = cJSON_GetObjectItemCaseSensitive(o, "remedies");
    if (!rem || cJSON_IsNull(rem))
        return CLGAN_OK;
    if (!cJSON_IsArray(rem))
        return clgan_error(CLGAN_EFORMAT, "%s: diagnoses[%d].remedies is not an array", path, i);
    int n = cJSON_GetArraySize(rem);
    if (!(d->remedies = calloc((size_t)(n > 0 ? n : 1), sizeof *d->remedies)))
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (const cJSON *v = rem->child; v; v = v->next) {
        if (!cJSON_IsString(v))
            return clgan_error(CLGAN_EFORMAT, "%s: diagnoses[%d].remedies[%d] is not a string", path,
                               i, d->n_remedies);
        if (!(d->remedies[d->n_remedies] = strdup(v->valuestring)))
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        d->n_remedies++;
    }
    return CLGAN_OK;
}

static clgan_status read_diagnoses(report_run *r, const char *path, int rf)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char *t = NULL;
    cJSON *o = NULL;
    clgan_status st = clgan_io_read_file(path, &buf, &len);
    (void)rf;
    if (st != CLGAN_OK)
        return st;
    if (!(t = json_denan((const char *)buf, len))) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    o = memchr(buf, '\0', len) ? NULL : cJSON_Parse(t);
    if (!cJSON_IsObject(o)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: not a JSON object", path);
        goto done;
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "healthy");
    const cJSON *its = cJSON_GetObjectItemCaseSensitive(o, "iterations");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "diagnoses");
    r->healthy = cJSON_IsBool(h) ? cJSON_IsTrue(h) : -1;
    r->diag_iterations = cJSON_IsNumber(its) ? (long)its->valuedouble : -1;
    if (list && !cJSON_IsArray(list)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: \"diagnoses\" is not an array", path);
        goto done;
    }
    int n = list ? cJSON_GetArraySize(list) : 0;
    if (n > 0 && !(r->diag = calloc((size_t)n, sizeof *r->diag))) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    for (const cJSON *d = list ? list->child : NULL; d && st == CLGAN_OK; d = d->next)
        st = read_diag_entry(&r->diag[r->n_diag], d, path, r->n_diag), r->n_diag++;
done:
    cJSON_Delete(o);
    free(t);
    free(buf);
    return st;
}

/* ---- config.ini --------------------------------------------------------------------- */

static clgan_status ini_entry(void *user, const char *section, const char *key, const char *value)
{
    report_run *r = user;
    char **cfg = realloc(r->cfg, (size_t)(r->n_cfg + 1) * 3 * sizeof *cfg);
    if (!cfg)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    r->cfg = cfg;
    char **e = cfg + (size_t)r->n_cfg * 3;
    e[0] = strdup(section);
    e[1] = strdup(key);
    e[2] = strdup(value);
    r->n_cfg++;
    return e[0] && e[1] && e[2] ? CLGAN_OK : clgan_error(CLGAN_ENOMEM, "out of memory");
}

static clgan_status read_config(report_run *r, const char *path, int rf)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    (void)rf;
    clgan_status st = clgan_io_read_file(path, &buf, &len);
    if (st != CLGAN_OK)
        return st;
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    text[len] = '\0';
    r->cfg_text = text;
    return clgan_ini_parse(text, len, path, ini_entry, r);
}

const char *report_cfg(const report_run *r, const char *section, const char *key)
{
    for (int i = 0; i < r->n_cfg; i++)
        if (!strcmp(r->cfg[3 * i], section) && !strcmp(r->cfg[3 * i + 1], key))
            return r->cfg[3 * i + 2];
    return NULL;
}

/* ---- images and the GIF ------------------------------------------------------------- */

static int by_iteration(const void *a, const void *b)
{
    long x = ((const rimage *)a)->iteration, y = ((const rimage *)b)->iteration;
    return (x > y) - (x < y);
}

/* Lists images/<digits>.png; an empty folder counts as absent. */
static clgan_status read_images(report_run *r, const char *path, int rf)
{
    DIR *d = opendir(path);
    struct dirent *e;
    clgan_status st = CLGAN_OK;
    if (!d)
        return clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
    while ((e = readdir(d)) && st == CLGAN_OK) {
        const char *s = e->d_name;
        size_t k = strspn(s, "0123456789");
        if (k == 0 || k > 12 || strcmp(s + k, ".png"))
            continue;
        rimage *im = realloc(r->images, (size_t)(r->n_images + 1) * sizeof *im);
        if (!im) {
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
            break;
        }
        r->images = im;
        im += r->n_images;
        im->iteration = strtol(s, NULL, 10);
        if (!(im->path = join(path, s)))
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
        else
            r->n_images++;
    }
    closedir(d);
    if (st == CLGAN_OK && r->n_images)
        qsort(r->images, (size_t)r->n_images, sizeof *r->images, by_iteration);
    r->present[rf] = r->n_images > 0;
    return st;
}

static clgan_status read_gif(report_run *r, const char *path, int rf)
{
    (void)rf;
    clgan_status st = clgan_gif_probe(path, &r->gif_frames, &r->gif_w, &r->gif_h);
    if (st == CLGAN_OK)
        st = clgan_io_read_file(path, &r->gif, &r->gif_n);
    return st;
}

/* ---- the directory ------------------------------------------------------------------ */

typedef clgan_status (*reader)(report_run *r, const char *path, int rf);

static const reader readers[RF_COUNT] = {
    [RF_CONFIG] = read_config, [RF_D_LOSS] = read_npy, [RF_G_LOSS] = read_npy,
    [RF_D_ACC] = read_npy, [RF_D_REAL] = read_npy, [RF_D_FAKE] = read_npy,
    [RF_METRICS] = read_metrics, [RF_EVAL] = read_eval, [RF_DIAGNOSES] = read_diagnoses,
    [RF_IMAGES] = read_images, [RF_GIF] = read_gif,
};

clgan_status report_run_read(report_run *r, const char *dir)
{
    struct stat sb;
    clgan_status st = CLGAN_OK;
    memset(r, 0, sizeof *r);
    r->healthy = -1;
    r->diag_iterations = -1;
    r->hist_iteration = -1;
    if (stat(dir, &sb) != 0)
        return clgan_error(CLGAN_EIO, "cannot open run directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return clgan_error(CLGAN_EINVAL, "%s is not a directory (expected a run directory written "
                           "by clgan train)", dir);
    if (!(r->dir = strdup(dir)))
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    int found = 0;
    for (int rf = 0; rf < RF_COUNT && st == CLGAN_OK; rf++) {
        const char *name = known[rf].name;
        char *path = join(dir, rf == RF_IMAGES ? "images" : name);
        if (!path) {
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
            break;
        }
        int e = exists(path);
        if (e == 0 && rf == RF_METRICS) {
            /* An interrupted or running training has only the partial file. */
            char *partial = join(dir, "metrics.jsonl.partial");
            if (partial && (e = exists(partial)) == 1) {
                free(path);
                path = partial;
                r->metrics_partial = 1;
            } else {
                free(partial);
            }
        }
        if (e < 0)
            st = CLGAN_EIO;
        else if (e == 1 && (st = readers[rf](r, path, rf)) == CLGAN_OK) {
            if (rf != RF_IMAGES)
                r->present[rf] = 1;
            found++;
        }
        free(path);
    }
    if (st == CLGAN_OK && !found)
        st = clgan_error(CLGAN_EINVAL, "%s is not a clgan run directory: none of config.ini, "
                         "metrics.jsonl, *_loss.npy, diagnoses.json, images/ is there", dir);
    if (st != CLGAN_OK)
        report_run_free(r);
    return st;
}

void report_run_free(report_run *r)
{
    free(r->dir);
    for (int i = 0; i < 5; i++)
        series_free(&r->arr[i]);
    set_free(&r->metrics);
    set_free(&r->evals);
    free(r->hist);
    for (int i = 0; i < r->n_diag; i++) {
        rdiag *d = &r->diag[i];
        free(d->id);
        free(d->name);
        free(d->severity);
        free(d->evidence);
        for (int k = 0; k < d->n_remedies; k++)
            free(d->remedies[k]);
        free(d->remedies);
    }
    free(r->diag);
    for (int i = 0; i < 3 * r->n_cfg; i++)
        free(r->cfg[i]);
    free(r->cfg);
    free(r->cfg_text);
    for (int i = 0; i < r->n_images; i++)
        free(r->images[i].path);
    free(r->images);
    free(r->gif);
    memset(r, 0, sizeof *r);
    r->healthy = -1;
    r->diag_iterations = -1;
    r->hist_iteration = -1;
}
