/* resume.c - training checkpoints (RUN/checkpoints/ckpt-<iteration>.safetensors) and
 * continuing a run from one. A checkpoint holds the trainer's state (trainer_ckpt.c) and
 * the run's: the per-iteration columns, the metrics-history rows the records still need,
 * the evaluations, the text of metrics.jsonl and eval.jsonl so far, and the resolved
 * configuration; so the continued run appends exactly what the uninterrupted one would
 * have written. The detectors keep no state of their own: they are rebuilt from these
 * records, as `clgan diagnose` reads a run. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "run_internal.h"

#define FORMAT "clgan-checkpoint-1"
#define MAX_LIST 1000000 /* entries of a metadata list (iterations of records) */

/* ---- the run directory -------------------------------------------------------------- */

/* The run directory: --out, or runs/<timestamp> (with -2, -3, ... when that exists). */
void run_set_dir(run_state *r)
{
    if (r->o->resume) {
        snprintf(r->dir, sizeof r->dir, "%s", r->o->resume);
    } else if (r->c->out[0]) {
        snprintf(r->dir, sizeof r->dir, "%s", r->c->out);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        char base[64];
        localtime_r(&now, &tm);
        strftime(base, sizeof base, "runs/%Y%m%d-%H%M%S", &tm);
        snprintf(r->dir, sizeof r->dir, "%s", base);
        for (int k = 2; clgan_io_exists(r->dir) && k < 1000; k++)
            snprintf(r->dir, sizeof r->dir, "%s-%d", base, k);
    }
}

clgan_rundir_mode run_dir_mode(const run_state *r)
{
    return r->o->resume ? CLGAN_RUNDIR_RESUME
                        : r->o->overwrite ? CLGAN_RUNDIR_OVERWRITE : CLGAN_RUNDIR_NEW;
}

/* Takes the directory (locked from here to the end), clears an old run (--overwrite) or
 * puts a resumed run's records back, then opens the records and writes config.ini. */
clgan_status run_open_dir(run_state *r)
{
    char path[700];
    clgan_status st;
    clgan_rundir_mode mode = run_dir_mode(r);
    if ((st = clgan_rundir_lock_take(&r->lock, r->dir)) != CLGAN_OK ||
        (st = clgan_rundir_check(r->dir, mode, 1)) != CLGAN_OK)
        return st;
    if (mode == CLGAN_RUNDIR_OVERWRITE && (st = clgan_rundir_clear(r->dir, r->o->quiet ? NULL : r->log)) != CLGAN_OK)
        return st;
    if (mode == CLGAN_RUNDIR_RESUME) {
        char now[1200];
        long it;
        if ((st = clgan_checkpoint_latest(r->dir, now, sizeof now, &it, NULL)) != CLGAN_OK)
            return st;
        if (strcmp(now, r->ckpt_path))
            return clgan_error(CLGAN_EINVAL, "%s: the run moved on to %s while this resume was "
                               "starting; resume again", r->dir, now);
        if ((st = run_resume_prepare(r, r->ckpt_path)) != CLGAN_OK)
            return st;
    }
    run_path(path, sizeof path, r, "images");
    if ((st = clgan_io_mkdirs(path)) != CLGAN_OK)
        return st;
    if (!r->jsonl) {
        run_path(r->jsonl_tmp, sizeof r->jsonl_tmp, r, "metrics.jsonl.partial");
        r->jsonl = fopen(r->jsonl_tmp, "w");
        if (!r->jsonl)
            return clgan_error(CLGAN_EIO, "cannot write %s", r->jsonl_tmp);
    }
    if (r->ev_path[0] && !r->evl) {
        run_path(r->evl_tmp, sizeof r->evl_tmp, r, "eval.jsonl.partial");
        r->evl = fopen(r->evl_tmp, "w");
        if (!r->evl)
            return clgan_error(CLGAN_EIO, "cannot write %s", r->evl_tmp);
    }
    clgan_config cfg = *r->c;
    snprintf(cfg.out, sizeof cfg.out, "%s", r->dir);
    run_path(path, sizeof path, r, "config.ini");
    if ((st = clgan_config_save(&cfg, path)) != CLGAN_OK)
        return st;
    return run_write_tensors(r);
}

/* For --resume: the newest checkpoint, read whole (its settings were checked by the
 * caller; its tensors are loaded once the trainer is built). */
clgan_status run_open_checkpoint(run_state *r)
{
    long it;
    clgan_status st = clgan_checkpoint_latest(r->dir, r->ckpt_path, sizeof r->ckpt_path, &it,
                                              r->o->quiet ? NULL : r->log);
    if (st != CLGAN_OK || (st = clgan_safetensors_read(r->ckpt_path, &r->ckpt)) != CLGAN_OK)
        return st;
    /* Equal: nothing to train, but a run killed after its last checkpoint gets its outputs. */
    if (r->c->iterations < it)
        return clgan_error(CLGAN_EINVAL, "%s is at iteration %ld already: pass --iterations above "
                           "%ld to train it further", r->dir, it, it);
    return CLGAN_OK;
}

/* A resumed run computes its products as the run did (the GEMM choice is the checkpoint's,
 * not measured again); on another device its numbers differ, and it says so. */
void run_resume_device(run_state *r, clgan_ctx *ctx)
{
    const char *g = clgan_safetensors_meta(&r->ckpt, "gemm");
    const char *dev = clgan_safetensors_meta(&r->ckpt, "device");
    for (int i = CLGAN_GEMM_CLBLAST; g && i <= CLGAN_GEMM_NATIVE; i++)
        if (!strcmp(g, clgan_gemm_impl_str((clgan_gemm_impl)i)))
            clgan_gemm_set_impl(ctx, (clgan_gemm_impl)i);
    if (dev && strcmp(dev, clgan_ctx_get(ctx)->dev.name) && !r->o->quiet)
        fprintf(r->log, "clgan: note: the run trained on %s until now and continues on %s: its "
                "numbers will not be those of an uninterrupted run\n", dev,
                clgan_ctx_get(ctx)->dev.name);
}

/* ---- finding checkpoints ----------------------------------------------------------- */

/* The iteration of a checkpoint file name "ckpt-<n>.safetensors", or -1. */
static long ckpt_iteration(const char *name)
{
    char *end;
    if (strncmp(name, "ckpt-", 5) || name[5] < '0' || name[5] > '9')
        return -1;
    long it = strtol(name + 5, &end, 10);
    return strcmp(end, ".safetensors") ? -1 : it;
}

static int newest_first(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x < y) - (x > y);
}

/* The checkpoints of `dir` (at most max of them), newest first, into its; returns how many. */
static int list_checkpoints(const char *dir, long *its, int max)
{
    char sub[1100];
    int n = 0;
    snprintf(sub, sizeof sub, "%s/checkpoints", dir);
    DIR *dp = opendir(sub);
    for (struct dirent *e; dp && (e = readdir(dp)) && n < max;) {
        long it = ckpt_iteration(e->d_name);
        if (it >= 0)
            its[n++] = it;
    }
    if (dp)
        closedir(dp);
    qsort(its, (size_t)n, sizeof *its, newest_first);
    return n;
}

static void ckpt_path(char *out, size_t n, const char *dir, long it)
{
    snprintf(out, n, "%s/checkpoints/ckpt-%ld.safetensors", dir, it);
}

clgan_status clgan_checkpoint_latest(const char *dir, char *path, size_t n, long *it, FILE *log)
{
    long its[4096];
    int k = list_checkpoints(dir, its, 4096);
    for (int i = 0; i < k; i++) {
        clgan_tensor_set s;
        ckpt_path(path, n, dir, its[i]);
        if (clgan_safetensors_read(path, &s) == CLGAN_OK) {
            const char *f = clgan_safetensors_meta(&s, "format");
            int ok = f && !strcmp(f, FORMAT);
            clgan_safetensors_free(&s);
            if (ok) {
                *it = its[i];
                return CLGAN_OK;
            }
            clgan_error(CLGAN_EFORMAT, "%s: not a clgan training checkpoint", path);
        }
        if (log)
            fprintf(log, "clgan: skipping checkpoint %s: %s\n", path, clgan_error_msg());
    }
    if (access(dir, F_OK) != 0)
        return clgan_error(CLGAN_EINVAL, "--resume %s: no such run directory", dir);
    return clgan_error(CLGAN_EINVAL, "--resume %s: the run has no checkpoint to continue from "
                       "(it ended before its first one, --checkpoint-every iterations in): start "
                       "it again with --overwrite", dir);
}

clgan_status clgan_checkpoint_config(const char *path, clgan_config *c)
{
    clgan_tensor_set s;
    clgan_status st = clgan_safetensors_read(path, &s);
    if (st != CLGAN_OK)
        return st;
    const char *ini = clgan_safetensors_meta(&s, "config");
    clgan_config_defaults(c);
    st = ini ? clgan_config_load_ini_text(c, ini, path)
             : clgan_error(CLGAN_EFORMAT, "%s: no configuration in its metadata", path);
    clgan_safetensors_free(&s);
    return st;
}

/* ---- writing ------------------------------------------------------------------------ */

/* "a,b,c" of n longs, malloc'd (caller frees); NULL when out of memory. */
static char *join(const long *v, long n)
{
    size_t cap = (size_t)n * 21 + 1, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (long i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%ld", i ? "," : "", v[i]);
    return s;
}

/* A record file's text so far ("" when absent), NUL-terminated; caller frees. */
static char *records_text(FILE *f, const char *path)
{
    uint8_t *b = NULL;
    size_t n = 0;
    if (f)
        fflush(f);
    if (!f || clgan_io_read_file(path, &b, &n) != CLGAN_OK) {
        clgan_error_clear();
        return strdup("");
    }
    b[n] = '\0'; /* read_file leaves a spare byte */
    return (char *)b;
}

static clgan_status put_list(clgan_ckpt *k, const char *key, const long *v, long n)
{
    char *s = join(v, n);
    clgan_status st = s ? clgan_ckpt_meta(k, key, "%s", s) : clgan_error(CLGAN_ENOMEM, "out of memory");
    free(s);
    return st;
}

/* The run's part: columns, history rows, evaluations, record texts, counters. */
static clgan_status save_run(run_state *r, clgan_ckpt *k, long it)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    clgan_status st = CLGAN_OK;
    size_t cs[2] = {5, (size_t)it};
    float *cols = malloc((5 * (size_t)it + 1) * sizeof *cols);
    if (!cols)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (int c = 0; c < 5; c++)
        memcpy(cols + (size_t)c * it, r->col[c], (size_t)it * sizeof *cols);
    if ((st = clgan_ckpt_take(k, "run/columns", cols, 2, cs)) != CLGAN_OK)
        return st;
    /* History rows: the pending log interval's, and every gradient record's. */
    long nrows = (it - r->logged) + r->n_mon;
    long *rows = malloc(((size_t)nrows + 1) * sizeof *rows);
    float *h = malloc(((size_t)nrows * CLGAN_M_COUNT + 1) * sizeof *h);
    if (!rows || !h) {
        free(rows);
        free(h);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    long n = 0;
    for (long i = 0; i < r->n_mon; i++)
        rows[n++] = r->mon_it[i];
    for (long i = r->logged; i < it; i++)
        rows[n++] = i;
    for (long i = 0; i < n; i++)
        memcpy(h + (size_t)i * CLGAN_M_COUNT, v->history + (size_t)rows[i] * CLGAN_M_COUNT,
               CLGAN_M_COUNT * sizeof *h);
    size_t hs[2] = {(size_t)n, CLGAN_M_COUNT};
    st = clgan_ckpt_take(k, "run/history", h, 2, hs);
    if (st == CLGAN_OK)
        st = put_list(k, "run.history_iterations", rows, n);
    free(rows);
    if (st == CLGAN_OK)
        st = put_list(k, "run.monitor_iterations", r->mon_it, r->n_mon);
    if (st == CLGAN_OK) {
        size_t es[2] = {4, (size_t)r->n_eval};
        float *e = malloc((4 * (size_t)r->n_eval + 1) * sizeof *e);
        const float *src[4] = {r->coverage, r->fd, r->diversity, r->kl};
        if (!e)
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        for (int c = 0; c < 4; c++)
            if (r->n_eval)
                memcpy(e + (size_t)c * r->n_eval, src[c], (size_t)r->n_eval * sizeof *e);
        st = clgan_ckpt_take(k, "run/eval", e, 2, es);
    }
    if (st == CLGAN_OK)
        st = put_list(k, "run.eval_iterations", r->eval_it, r->n_eval);
    char *mt = records_text(r->jsonl, r->jsonl_tmp), *et = records_text(r->evl, r->evl_tmp);
    if (!mt || !et)
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "run.metrics", "%s", mt);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "run.evals", "%s", et);
    free(mt);
    free(et);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "run.logged", "%ld", r->logged);
    if (st == CLGAN_OK) st = clgan_ckpt_meta(k, "run.diagnosed_at", "%ld", r->diagnosed_at);
    return st;
}

/* Removes all but the newest `keep` checkpoints (and nothing else). */
static void prune(const char *dir, int keep)
{
    long its[4096];
    char path[1200];
    int n = list_checkpoints(dir, its, 4096);
    for (int i = keep; i < n; i++) {
        ckpt_path(path, sizeof path, dir, its[i]);
        unlink(path);
    }
}

clgan_status run_checkpoint(run_state *r)
{
    const clgan_ctx_view *cv = clgan_ctx_get(r->ctx);
    clgan_ckpt k = {0};
    char path[1200], *ini = NULL;
    clgan_status st = clgan_trainer_sync(r->tr);
    long it = clgan_trainer_get(r->tr)->iteration;
    if (st != CLGAN_OK)
        return st;
    if (clgan_trainer_get(r->tr)->nonfinite_at >= 0) /* never keep weights known to diverge */
        return CLGAN_OK;
    if ((st = clgan_trainer_save(r->tr, &k)) != CLGAN_OK || (st = save_run(r, &k, it)) != CLGAN_OK)
        goto done;
    if (!(ini = clgan_config_to_ini(r->c))) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = clgan_ckpt_meta(&k, "format", FORMAT)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "iteration", "%ld", it)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "config", "%s", ini)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "data.count", "%zu", r->data->count)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "data.shape", "%d,%d,%d", r->h, r->w, r->img_c)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "data.fnv1a", "%016" PRIx64, r->data_hash)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "device", "%s", cv->dev.name)) != CLGAN_OK ||
        (st = clgan_ckpt_meta(&k, "gemm", "%s", clgan_gemm_impl_str(clgan_gemm_get_impl(r->ctx)))) != CLGAN_OK)
        goto done;
    run_path(path, sizeof path, r, "checkpoints");
    if ((st = clgan_io_mkdirs(path)) != CLGAN_OK)
        goto done;
    ckpt_path(path, sizeof path, r->dir, it);
    if ((st = clgan_ckpt_write(&k, path)) == CLGAN_OK)
        prune(r->dir, r->c->keep_checkpoints);
done:
    free(ini);
    clgan_ckpt_free(&k);
    return st;
}

/* ---- resuming ----------------------------------------------------------------------- */

uint64_t run_data_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The checkpoint must be of this data set and this configuration (up to the settings a
 * resume may change). */
static clgan_status same_run(run_state *r, const clgan_tensor_set *s, const char *path)
{
    static const char *const may_change[] = {"iterations", "device", "checkpoint-every",
                                             "keep-checkpoints", "out", NULL};
    long count;
    char want[64], hash[32];
    clgan_config c;
    clgan_status st = clgan_checkpoint_config(path, &c);
    const char *flag;
    if (st != CLGAN_OK || (st = clgan_ckpt_long(s, path, "data.count", &count)) != CLGAN_OK)
        return st;
    if ((flag = clgan_config_diff(&c, r->c, may_change)))
        return clgan_error(CLGAN_EINVAL, "--%s differs from the run's (%s): a resumed run keeps "
                           "its settings", flag, path);
    snprintf(want, sizeof want, "%d,%d,%d", r->h, r->w, r->img_c);
    snprintf(hash, sizeof hash, "%016" PRIx64, r->data_hash);
    const char *shape = clgan_safetensors_meta(s, "data.shape"), *fnv = clgan_safetensors_meta(s, "data.fnv1a");
    if ((size_t)count != r->data->count || !shape || strcmp(shape, want) || !fnv || strcmp(fnv, hash))
        return clgan_error(CLGAN_EINVAL, "the data set %s (%zu images %s) is not the one this run "
                           "trained on (%ld images %s, content hash %s): a resumed run must see the "
                           "same data", r->data->source, r->data->count, want, count,
                           shape ? shape : "?", fnv ? fnv : "?");
    return CLGAN_OK;
}

clgan_status run_resume_check(run_state *r, clgan_ctx *ctx, clgan_shape img)
{
    clgan_status st = CLGAN_OK;
    char name[96];
    for (int role = 0; role < 2 && st == CLGAN_OK; role++) {
        clgan_net *n = NULL;
        if ((st = clgan_model_layers(&n, ctx, r->c, img, r->c->batch, role)) != CLGAN_OK)
            break;
        clgan_net_plan p;
        st = clgan_net_plan_get(n, &p); /* lays out the tensors, allocates nothing */
        const clgan_net_view *v = clgan_net_get(n);
        for (int i = 0; i < v->n_tensors && st == CLGAN_OK; i++) {
            snprintf(name, sizeof name, "%s/%s", role ? "d" : "g", v->tensors[i].name);
            if (!clgan_ckpt_get(&r->ckpt, r->ckpt_path, name, v->tensors[i].ndim, v->tensors[i].shape))
                st = CLGAN_EFORMAT;
        }
        clgan_net_free(n);
    }
    return st;
}

/* Feeds each line of the checkpoint's record texts (run.metrics, run.evals) to r->rec. */
static clgan_status feed_records(run_state *r, const char *path)
{
    static const char *const keys[2] = {"run.metrics", "run.evals"};
    clgan_status st = CLGAN_OK;
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
        const char *t = clgan_safetensors_meta(&r->ckpt, keys[k]);
        if (!t)
            return clgan_error(CLGAN_EFORMAT, "%s: no record texts in its metadata", path);
        for (long lineno = 1; *t && st == CLGAN_OK; lineno++) {
            const char *e = strchr(t, '\n');
            size_t len = e ? (size_t)(e - t) : strlen(t);
            char *line = strndup(t, len);
            if (!line)
                return clgan_error(CLGAN_ENOMEM, "out of memory");
            if (len)
                st = k ? clgan_diag_records_eval(r->rec, line, keys[k], lineno)
                       : clgan_diag_records_metrics(r->rec, line, keys[k], lineno);
            free(line);
            t += len + (e != NULL);
        }
    }
    return st;
}

/* n longs of metadata list `key` into a malloc'd array (*v; caller frees). */
static clgan_status get_list(const clgan_tensor_set *s, const char *path, const char *key,
                             long **v, long *n)
{
    const char *t = clgan_safetensors_meta(s, key);
    long cap = 1;
    for (const char *p = t; p && *p; p++)
        cap += *p == ',';
    if (cap > MAX_LIST)
        return clgan_error(CLGAN_EFORMAT, "%s: metadata '%s' is too long", path, key);
    if (!(*v = malloc((size_t)cap * sizeof **v)))
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    clgan_status st = clgan_ckpt_longs(s, path, key, *v, cap, n);
    if (st != CLGAN_OK) {
        free(*v);
        *v = NULL;
    }
    return st;
}

clgan_status run_resume_load(run_state *r, const char *path)
{
    const clgan_tensor_set *s = &r->ckpt;
    long it, nh, nm, ne, *rows = NULL, *mons = NULL, *evs = NULL;
    clgan_status st;
    if ((st = same_run(r, s, path)) != CLGAN_OK || (st = clgan_trainer_load(r->tr, s, path)) != CLGAN_OK)
        return st;
    it = clgan_trainer_get(r->tr)->iteration;
    if ((st = clgan_ckpt_long(s, path, "run.logged", &r->logged)) != CLGAN_OK ||
        (st = clgan_ckpt_long(s, path, "run.diagnosed_at", &r->diagnosed_at)) != CLGAN_OK ||
        (st = get_list(s, path, "run.history_iterations", &rows, &nh)) != CLGAN_OK ||
        (st = get_list(s, path, "run.monitor_iterations", &mons, &nm)) != CLGAN_OK ||
        (st = get_list(s, path, "run.eval_iterations", &evs, &ne)) != CLGAN_OK)
        goto done;
    size_t cs[2] = {5, (size_t)it}, hs[2] = {(size_t)nh, CLGAN_M_COUNT}, es[2] = {4, (size_t)ne};
    const float *cols = clgan_ckpt_get(s, path, "run/columns", 2, cs);
    const float *hist = clgan_ckpt_get(s, path, "run/history", 2, hs);
    const float *ev = clgan_ckpt_get(s, path, "run/eval", 2, es);
    long cap = r->c->eval_every > 0 ? r->c->iterations / r->c->eval_every + 2 : 0;
    if (!cols || !hist || !ev) {
        st = CLGAN_EFORMAT;
        goto done;
    }
    if (r->logged < 0 || r->logged > it || r->diagnosed_at > r->logged || ne > cap ||
        (ne && !r->ev_path[0])) {
        st = clgan_error(CLGAN_EFORMAT, "%s: its records do not fit its iteration %ld", path, it);
        goto done;
    }
    for (int c = 0; c < 5; c++)
        memcpy(r->col[c], cols + (size_t)c * it, (size_t)it * sizeof(float));
    for (long i = 0; i < nh && st == CLGAN_OK; i++)
        st = rows[i] < it ? clgan_trainer_set_history(r->tr, rows[i], hist + (size_t)i * CLGAN_M_COUNT)
                          : clgan_error(CLGAN_EFORMAT, "%s: a history row past its iteration", path);
    for (long i = 0; i < nm && st == CLGAN_OK; i++) { /* the gradient records' iterations */
        if (mons[i] < 0 || mons[i] >= it)
            st = clgan_error(CLGAN_EFORMAT, "%s: a gradient record past its iteration", path);
        else if (!run_mon_add(r, mons[i]))
            st = clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    for (long i = 0; i < ne && st == CLGAN_OK; i++) {
        r->eval_it[i] = evs[i];
        r->coverage[i] = ev[i];
        r->fd[i] = ev[ne + i];
        r->diversity[i] = ev[2 * ne + i];
        r->kl[i] = ev[3 * ne + i];
        r->last.modes_covered = (int)ev[i];
        r->last.frechet = ev[ne + i];
    }
    r->n_eval = ne;
    /* The detectors' records: the record lines as the checkpoint has them (the detectors
     * keep no other state), then the events already printed, as they saw them. */
    if (st == CLGAN_OK && (st = run_records_open(r)) == CLGAN_OK)
        st = feed_records(r, path);
    if (st == CLGAN_OK && r->diagnosed_at > 0) {
        clgan_diagnosis d[CLGAN_DIAG_MAX];
        int k = clgan_diagnose(run_diag_input(r, r->diagnosed_at), d);
        for (int i = 0; i < k && r->n_warned < CLGAN_DIAG_MAX; i++)
            if (d[i].severity != CLGAN_SEV_INFO) {
                r->warned[r->n_warned].id = (int)d[i].id;
                r->warned[r->n_warned].onset = d[i].onset;
                r->warned[r->n_warned++].recovered = d[i].recovered;
            }
    }
    r->start = r->printed = it;
done:
    free(rows);
    free(mons);
    free(evs);
    return st;
}

/* Writes a record file's text as the checkpoint has it and opens it for appending. */
static clgan_status reopen_records(FILE **f, const char *path, const char *text)
{
    clgan_status st = clgan_io_write_file(path, text, strlen(text));
    if (st != CLGAN_OK)
        return st;
    if (!(*f = fopen(path, "a")))
        return clgan_error(CLGAN_EIO, "cannot write %s: %s", path, strerror(errno));
    return CLGAN_OK;
}

/* Removes stale temp files (from a killed run) and the grids that are not regular ones
 * (a previous end's last grid: the continued run writes its own). */
static void tidy(run_state *r)
{
    static const char *const subs[] = {"", "/images", "/checkpoints"};
    char d[1100], p[1400];
    for (int k = 0; k < 3; k++) {
        snprintf(d, sizeof d, "%s%s", r->dir, subs[k]);
        DIR *dp = opendir(d);
        for (struct dirent *e; dp && (e = readdir(dp));) {
            char *end;
            long it = k == 1 ? strtol(e->d_name, &end, 10) : -1;
            int stale_grid = k == 1 && end != e->d_name && !strcmp(end, ".png") && !run_is_grid(r, it);
            if (strstr(e->d_name, ".tmp.") || stale_grid) {
                snprintf(p, sizeof p, "%s/%s", d, e->d_name);
                unlink(p);
            }
        }
        if (dp)
            closedir(dp);
    }
}

/* The GIF again from the grids up to the checkpoint, as the run added them. */
static clgan_status rebuild_gif(run_state *r, long it)
{
    char name[64], path[1200];
    clgan_status st = CLGAN_OK;
    long step = r->c->sample_every;
    for (long g = 0; g <= it && st == CLGAN_OK; g = step > 0 ? g + step : it + 1) {
        uint8_t *pix = NULL;
        int w, h, fc;
        snprintf(name, sizeof name, "images/%ld.png", g);
        run_path(path, sizeof path, r, name);
        st = r->img_c == 3 ? clgan_png_read_image(path, 3, 0, &pix, &w, &h, &fc)
                           : clgan_png_read_gray(path, &pix, &w, &h);
        if (st != CLGAN_OK)
            return clgan_error_wrap(st, "cannot rebuild training.gif from the run's grids");
        st = run_gif_add(r, pix, w, h);
        free(pix);
    }
    return st;
}

clgan_status run_resume_prepare(run_state *r, const char *path)
{
    const char *mt = clgan_safetensors_meta(&r->ckpt, "run.metrics");
    const char *et = clgan_safetensors_meta(&r->ckpt, "run.evals");
    clgan_status st;
    if (!mt || !et)
        return clgan_error(CLGAN_EFORMAT, "%s: no record texts in its metadata", path);
    tidy(r);
    run_path(r->jsonl_tmp, sizeof r->jsonl_tmp, r, "metrics.jsonl.partial");
    if ((st = reopen_records(&r->jsonl, r->jsonl_tmp, mt)) != CLGAN_OK)
        return st;
    if (r->ev_path[0]) {
        run_path(r->evl_tmp, sizeof r->evl_tmp, r, "eval.jsonl.partial");
        if ((st = reopen_records(&r->evl, r->evl_tmp, et)) != CLGAN_OK)
            return st;
    }
    return rebuild_gif(r, r->start);
}
