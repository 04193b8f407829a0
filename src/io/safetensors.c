/* safetensors.c - .safetensors of float32 tensors: u64 LE header length N, N bytes of JSON
 * (cJSON), tensor bytes back to back. F32 only: other dtypes are EFORMAT, never converted. */
#include "clgan/io.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"

#define ST_META "__metadata__"
#define ST_NAME_MAX ((int)sizeof(((clgan_tensor_view *)0)->name)) /* incl. the NUL */
#define ST_MAX_WRITE 1e15      /* below this cJSON prints integers without an exponent */
#define ST_MAX_READ 9007199254740992.0 /* 2^53: the largest exact JSON integer */
#define ST_ALIGN 8             /* header padded with spaces so the data starts aligned */

/* A tensor's byte range in the data buffer, and which tensor it is. */
typedef struct {
    size_t begin, end;
    int idx;
} st_span;

/* A non-negative integral JSON number <= ST_MAX_READ into *v. Returns 0 or -1. */
static int get_size(const cJSON *j, size_t *v)
{
    double d;
    if (!cJSON_IsNumber(j))
        return -1;
    d = j->valuedouble;
    if (!(d >= 0.0 && d <= ST_MAX_READ) || (double)(unsigned long long)d != d)
        return -1;
    *v = (size_t)d;
    return 0;
}

/* 4 * prod(shape) into *bytes; returns -1 on overflow. */
static int tensor_bytes(const size_t *shape, int ndim, size_t *bytes)
{
    size_t b = sizeof(float);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && b > SIZE_MAX / shape[i])
            return -1;
        b *= shape[i];
    }
    *bytes = b;
    return 0;
}

/* Validates one header entry (dtype, shape, data_offsets against a buffer of buflen
 * bytes) into *v and *sp. EFORMAT naming the file and tensor on any problem. */
static clgan_status parse_entry(clgan_tensor_view *v, st_span *sp, const cJSON *e,
                                const char *path, size_t buflen)
{
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    const cJSON *d;
    size_t bytes = 0;
    if (strlen(e->string) >= (size_t)ST_NAME_MAX)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor name '%.40s...' is longer than %d bytes",
                           path, e->string, ST_NAME_MAX - 1);
    strcpy(v->name, e->string);
    if (!cJSON_IsObject(e) || !cJSON_IsString(dtype) || !cJSON_IsArray(shape) ||
        !cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s' needs dtype, shape and "
                           "data_offsets [begin, end]", path, v->name);
    if (strcmp(dtype->valuestring, "F32") != 0)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s' has dtype %.16s (only F32 is "
                           "supported)", path, v->name, dtype->valuestring);
    if (cJSON_GetArraySize(shape) > 4)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s' has %d dims (max 4)", path,
                           v->name, cJSON_GetArraySize(shape));
    cJSON_ArrayForEach(d, shape) {
        if (get_size(d, &v->shape[v->ndim++]) != 0)
            return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s': shape entries must be "
                               "non-negative integers", path, v->name);
    }
    if (get_size(offs->child, &sp->begin) != 0 || get_size(offs->child->next, &sp->end) != 0 ||
        sp->begin > sp->end || sp->end > buflen)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s': data_offsets outside the %zu-byte "
                           "data buffer", path, v->name, buflen);
    if (tensor_bytes(v->shape, v->ndim, &bytes) != 0)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s': shape overflows", path, v->name);
    if (sp->end - sp->begin != bytes)
        return clgan_error(CLGAN_EFORMAT, "%s: tensor '%s' has %zu bytes, its shape needs %zu",
                           path, v->name, sp->end - sp->begin, bytes);
    return CLGAN_OK;
}

/* Copies an object of string values into one allocation laid out as {k, v, ..., NULL}.
 * *out malloc'd (caller frees). EFORMAT when a value is not a string. */
static clgan_status parse_meta(char ***out, const cJSON *m, const char *path)
{
    size_t pairs = 0, chars = 0, ptrs;
    const cJSON *e;
    char **kv, *s;
    if (!cJSON_IsObject(m))
        return clgan_error(CLGAN_EFORMAT, "%s: " ST_META " is not an object", path);
    cJSON_ArrayForEach(e, m) {
        if (!cJSON_IsString(e))
            return clgan_error(CLGAN_EFORMAT, "%s: " ST_META " value of '%s' is not a string",
                               path, e->string);
        pairs++;
        chars += strlen(e->string) + strlen(e->valuestring) + 2;
    }
    ptrs = (2 * pairs + 1) * sizeof(char *);
    kv = malloc(ptrs + chars);
    if (!kv)
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory for metadata", path);
    s = (char *)kv + ptrs;
    pairs = 0;
    cJSON_ArrayForEach(e, m) {
        kv[pairs++] = strcpy(s, e->string);
        s += strlen(s) + 1;
        kv[pairs++] = strcpy(s, e->valuestring);
        s += strlen(s) + 1;
    }
    kv[pairs] = NULL;
    *out = kv;
    return CLGAN_OK;
}

static int span_cmp(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* EFORMAT unless the spans tile [0, buflen) exactly: no gaps, no overlaps. Sorts sp. */
static clgan_status check_tiling(st_span *sp, int n, const char *path, size_t buflen)
{
    size_t at = 0;
    qsort(sp, (size_t)n, sizeof *sp, span_cmp);
    for (int i = 0; i < n; i++) {
        if (sp[i].begin != at)
            return clgan_error(CLGAN_EFORMAT, "%s: tensor data %s at byte %zu (tensors must "
                               "be back to back)", path, sp[i].begin < at ? "overlaps" : "gap",
                               sp[i].begin);
        at = sp[i].end;
    }
    if (at != buflen)
        return clgan_error(CLGAN_EFORMAT, "%s: %zu bytes of the data buffer belong to no "
                           "tensor", path, buflen - at);
    return CLGAN_OK;
}

/* Builds the JSON header; *json from cJSON (free with cJSON_free). EINVAL on bad input. */
static clgan_status build_header(char **json, const char *path, const clgan_tensor_view *t,
                                 int n, const char *const *meta_kv)
{
    clgan_status st = CLGAN_OK;
    cJSON *root = cJSON_CreateObject(), *o, *a;
    size_t at = 0, bytes;
    int ok = root != NULL;
    *json = NULL;
    if (ok && meta_kv) {
        o = cJSON_AddObjectToObject(root, ST_META);
        ok = o != NULL;
        for (size_t i = 0; ok && meta_kv[i]; i += 2) {
            if (!meta_kv[i + 1]) {
                st = clgan_error(CLGAN_EINVAL, "%s: metadata key '%s' has no value", path,
                                 meta_kv[i]);
                goto done;
            }
            ok = cJSON_AddStringToObject(o, meta_kv[i], meta_kv[i + 1]) != NULL;
        }
    }
    for (int i = 0; ok && i < n; i++) {
        size_t len = strnlen(t[i].name, sizeof t[i].name);
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= strcmp(t[i].name, t[j].name) == 0;
        if (len == 0 || len == sizeof t[i].name || dup || strcmp(t[i].name, ST_META) == 0 ||
            t[i].ndim < 0 || t[i].ndim > 4 || tensor_bytes(t[i].shape, t[i].ndim, &bytes) ||
            bytes > ST_MAX_WRITE - (double)at || (bytes && !t[i].data)) {
            st = clgan_error(CLGAN_EINVAL, "%s: tensor %d ('%.*s'): empty, duplicate or "
                             "reserved name, bad shape, too large, or NULL data", path, i,
                             (int)len, t[i].name);
            goto done;
        }
        o = cJSON_AddObjectToObject(root, t[i].name);
        ok = o && cJSON_AddStringToObject(o, "dtype", "F32");
        a = ok ? cJSON_AddArrayToObject(o, "shape") : NULL;
        for (int d = 0; a && d < t[i].ndim; d++)
            ok &= cJSON_AddItemToArray(a, cJSON_CreateNumber((double)t[i].shape[d]));
        a = ok && a ? cJSON_AddArrayToObject(o, "data_offsets") : NULL;
        ok = a && cJSON_AddItemToArray(a, cJSON_CreateNumber((double)at)) &&
             cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(at + bytes)));
        at += bytes;
    }
    if (ok)
        *json = cJSON_PrintUnformatted(root);
    if (!*json)
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory building the header", path);
done:
    cJSON_Delete(root);
    return st;
}

/* Borrows t and meta_kv. On error PATH is untouched and no temp file remains. */
clgan_status clgan_safetensors_write(const char *path, const clgan_tensor_view *t, int n,
                                     const char *const *meta_kv)
{
    static const char spaces[ST_ALIGN] = "        ";
    unsigned char len8[8];
    clgan_atomic_file a;
    size_t jlen, hlen;
    char *json = NULL;
    clgan_status st;
    if (n < 0 || (n > 0 && !t))
        return clgan_error(CLGAN_EINVAL, "%s: bad tensor list (n=%d)", path, n);
    st = build_header(&json, path, t, n, meta_kv);
    if (st != CLGAN_OK)
        return st;
    jlen = strlen(json);
    hlen = (jlen + ST_ALIGN - 1) / ST_ALIGN * ST_ALIGN;
    for (int b = 0; b < 8; b++)
        len8[b] = (unsigned char)((unsigned long long)hlen >> (8 * b));
    st = clgan_atomic_begin(&a, path);
    if (st != CLGAN_OK)
        goto done;
    fwrite(len8, 1, sizeof len8, a.f);
    fwrite(json, 1, jlen, a.f);
    fwrite(spaces, 1, hlen - jlen, a.f);
    for (int i = 0; i < n; i++) {
        size_t bytes = 0;
        tensor_bytes(t[i].shape, t[i].ndim, &bytes);
        if (bytes)
            fwrite(t[i].data, 1, bytes, a.f);
    }
    st = clgan_atomic_commit(&a);
done:
    cJSON_free(json);
    return st;
}

/* On error *out is zeroed and nothing is allocated. */
clgan_status clgan_safetensors_read(const char *path, clgan_tensor_set *out)
{
    clgan_status st = CLGAN_OK;
    const cJSON *e, *meta = NULL;
    cJSON *root = NULL;
    st_span *sp = NULL;
    const char *end = NULL;
    size_t n = 0, hlen = 0, off, buflen;
    int count = 0;
    memset(out, 0, sizeof *out);
    st = clgan_io_read_file(path, &out->blob, &n);
    if (st != CLGAN_OK)
        return st;
    if (n < 8) {
        st = clgan_error(CLGAN_EFORMAT, "%s: %zu bytes is too short for a safetensors file",
                         path, n);
        goto done;
    }
    for (int b = 7; b >= 0; b--)
        hlen = hlen << 8 | out->blob[b];
    if (hlen > n - 8) {
        st = clgan_error(CLGAN_EFORMAT, "%s: safetensors header length %zu runs past the end "
                         "of the file (%zu bytes)", path, hlen, n);
        goto done;
    }
    root = cJSON_ParseWithLengthOpts((const char *)out->blob + 8, hlen, &end, 0);
    if (!root) {
        st = clgan_error(CLGAN_EFORMAT, "%s: safetensors header is not valid JSON (error near "
                         "byte %td of %zu)", path, end ? end - (const char *)out->blob : 0,
                         hlen + 8);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: safetensors header is not a JSON object", path);
        goto done;
    }
    for (; end < (const char *)out->blob + 8 + hlen; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            st = clgan_error(CLGAN_EFORMAT, "%s: junk after the JSON header at byte %td",
                             path, end - (const char *)out->blob);
            goto done;
        }
    }
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, ST_META) != 0)
            count++;
        else if (meta) {
            st = clgan_error(CLGAN_EFORMAT, "%s: two " ST_META " entries", path);
            goto done;
        } else
            meta = e;
    }
    out->t = calloc(count ? (size_t)count : 1, sizeof *out->t);
    sp = calloc(count ? (size_t)count : 1, sizeof *sp);
    if (!out->t || !sp) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %d tensors", path, count);
        goto done;
    }
    off = 8 + hlen;
    buflen = n - off;
    cJSON_ArrayForEach(e, root) {
        if (e == meta)
            continue;
        for (int j = 0; j < out->n; j++) {
            if (strcmp(out->t[j].name, e->string) == 0) {
                st = clgan_error(CLGAN_EFORMAT, "%s: tensor '%.95s' appears twice", path,
                                 e->string);
                goto done;
            }
        }
        sp[out->n].idx = out->n;
        st = parse_entry(&out->t[out->n], &sp[out->n], e, path, buflen);
        if (st != CLGAN_OK)
            goto done;
        out->n++;
    }
    if (meta && (st = parse_meta(&out->meta, meta, path)) != CLGAN_OK)
        goto done;
    st = check_tiling(sp, out->n, path, buflen);
    if (st != CLGAN_OK)
        goto done;
    if (off % sizeof(float)) {
        memmove(out->blob + off / sizeof(float) * sizeof(float), out->blob + off, buflen);
        off = off / sizeof(float) * sizeof(float);
    }
    for (int i = 0; i < out->n; i++)
        out->t[sp[i].idx].data = (const float *)(const void *)(out->blob + off + sp[i].begin);
done:
    free(sp);
    cJSON_Delete(root);
    if (st != CLGAN_OK)
        clgan_safetensors_free(out);
    return st;
}

/* Borrowed from s; NULL if absent. */
const clgan_tensor_view *clgan_safetensors_find(const clgan_tensor_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->t[i].name, name) == 0)
            return &s->t[i];
    return NULL;
}

/* Borrowed from s; NULL if absent. */
const char *clgan_safetensors_meta(const clgan_tensor_set *s, const char *key)
{
    for (char **kv = s->meta; kv && kv[0]; kv += 2)
        if (strcmp(kv[0], key) == 0)
            return kv[1];
    return NULL;
}

/* Safe on a zeroed set and twice. */
void clgan_safetensors_free(clgan_tensor_set *s)
{
    free(s->t);
    free(s->blob);
    free(s->meta);
    memset(s, 0, sizeof *s);
}
