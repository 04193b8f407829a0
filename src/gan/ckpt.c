/* ckpt.c - assembling a checkpoint (owned tensors and metadata strings) and typed
 * look-ups into one read back. Knows no trainer; see ckpt.h. */
#define _GNU_SOURCE /* vasprintf */
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

clgan_status clgan_ckpt_take(clgan_ckpt *k, const char *name, float *data, int ndim,
                             const size_t *shape)
{
    if (k->n == k->cap) {
        int nc = k->cap ? 2 * k->cap : 64;
        clgan_tensor_view *g = realloc(k->t, (size_t)nc * sizeof *g);
        if (!g) {
            free(data);
            return clgan_error(CLGAN_ENOMEM, "out of memory for a checkpoint");
        }
        k->t = g;
        k->cap = nc;
    }
    clgan_tensor_view *v = &k->t[k->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        v->shape[d] = shape[d];
    v->data = data;
    return CLGAN_OK;
}

clgan_status clgan_ckpt_put(clgan_ckpt *k, const char *name, const float *data, int ndim,
                            const size_t *shape)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    float *copy = malloc(n ? n * sizeof *copy : 1);
    if (!copy)
        return clgan_error(CLGAN_ENOMEM, "out of memory for a checkpoint");
    memcpy(copy, data, n * sizeof *copy);
    return clgan_ckpt_take(k, name, copy, ndim, shape);
}

clgan_status clgan_ckpt_meta(clgan_ckpt *k, const char *key, const char *fmt, ...)
{
    char *val = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (len < 0)
        return clgan_error(CLGAN_ENOMEM, "out of memory for a checkpoint");
    if (k->nkv + 3 > k->capkv) {
        int nc = k->capkv ? 2 * k->capkv : 64;
        char **g = realloc(k->kv, (size_t)nc * sizeof *g);
        if (!g) {
            free(val);
            return clgan_error(CLGAN_ENOMEM, "out of memory for a checkpoint");
        }
        k->kv = g;
        k->capkv = nc;
    }
    if (!(k->kv[k->nkv] = strdup(key))) {
        free(val);
        return clgan_error(CLGAN_ENOMEM, "out of memory for a checkpoint");
    }
    k->kv[k->nkv + 1] = val;
    k->nkv += 2;
    k->kv[k->nkv] = NULL;
    return CLGAN_OK;
}

clgan_status clgan_ckpt_write(const clgan_ckpt *k, const char *path)
{
    clgan_status st = clgan_safetensors_write(path, k->t, k->n, (const char *const *)k->kv);
    if (st != CLGAN_OK)
        return st;
    /* The rename is durable only once the directory is synced. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return clgan_error(CLGAN_EIO, "%s: cannot sync its directory: %s", path, strerror(err));
    }
    close(fd);
    return CLGAN_OK;
}

void clgan_ckpt_free(clgan_ckpt *k)
{
    for (int i = 0; i < k->n; i++)
        free((void *)k->t[i].data);
    for (int i = 0; i < k->nkv; i++)
        free(k->kv[i]);
    free(k->t);
    free(k->kv);
    memset(k, 0, sizeof *k);
}

const float *clgan_ckpt_get(const clgan_tensor_set *s, const char *path, const char *name,
                            int ndim, const size_t *shape)
{
    const clgan_tensor_view *v = clgan_safetensors_find(s, name);
    int same = v && v->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = v->shape[d] == shape[d];
    if (same)
        return v->data;
    char want[80] = "", got[80] = "";
    for (int d = 0; d < ndim; d++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%zu", d ? ", " : "", shape[d]);
    for (int d = 0; v && d < v->ndim; d++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", d ? ", " : "", v->shape[d]);
    if (!v)
        clgan_error(CLGAN_EFORMAT, "%s: no tensor %s (the checkpoint does not match this run's "
                    "configuration)", path, name);
    else
        clgan_error(CLGAN_EFORMAT, "%s: tensor %s is [%s], this run needs [%s]", path, name, got,
                    want);
    return NULL;
}

clgan_status clgan_ckpt_long(const clgan_tensor_set *s, const char *path, const char *key,
                             long *v)
{
    const char *t = clgan_safetensors_meta(s, key);
    char *end;
    errno = 0;
    long x = t ? strtol(t, &end, 10) : 0;
    if (!t || !*t || *end || errno)
        return clgan_error(CLGAN_EFORMAT, "%s: metadata '%s' is %s (not a clgan training "
                           "checkpoint, or a damaged one)", path, key, t ? "not an integer" : "missing");
    *v = x;
    return CLGAN_OK;
}

clgan_status clgan_ckpt_longs(const clgan_tensor_set *s, const char *path, const char *key,
                              long *out, long max, long *n)
{
    const char *t = clgan_safetensors_meta(s, key);
    *n = 0;
    if (!t)
        return clgan_error(CLGAN_EFORMAT, "%s: metadata '%s' is missing", path, key);
    while (*t) {
        char *end;
        errno = 0;
        long x = strtol(t, &end, 10);
        if (end == t || errno || (*end && *end != ',') || *n >= max)
            return clgan_error(CLGAN_EFORMAT, "%s: metadata '%s' is not a list of at most %ld "
                               "integers", path, key, max);
        out[(*n)++] = x;
        t = *end ? end + 1 : end;
    }
    return CLGAN_OK;
}
