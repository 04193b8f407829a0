/* npy.c - writes NPY v1.0 float32 ('<f4', C order) and reads '<f4' C-order NPY v1/v2.
 * Any other dtype, Fortran order, pickled objects or more than 4 dims are EFORMAT. */
#include "clgan/io.h"

#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64 /* numpy pads the header so the data starts on a 64-byte boundary */

/* A read position in the header text [p, end). */
typedef struct {
    const char *p, *end;
} npy_cursor;

static void skip_ws(npy_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n'))
        c->p++;
}

/* Skips blanks, then consumes `ch` if it is next. Returns 1 when consumed. */
static int accept(npy_cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string without escapes into buf (NUL-terminated). Returns 0 or -1. */
static int parse_str(npy_cursor *c, char *buf, size_t cap)
{
    size_t n = 0;
    char q;
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return -1;
    q = *c->p++;
    while (c->p < c->end && *c->p != q && *c->p != '\\') {
        if (n + 1 >= cap)
            return -1;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end || *c->p != q)
        return -1;
    c->p++;
    buf[n] = '\0';
    return 0;
}

/* True or False. Returns 0 or -1. */
static int parse_bool(npy_cursor *c, int *v)
{
    skip_ws(c);
    if (c->end - c->p >= 4 && memcmp(c->p, "True", 4) == 0) {
        *v = 1;
        c->p += 4;
        return 0;
    }
    if (c->end - c->p >= 5 && memcmp(c->p, "False", 5) == 0) {
        *v = 0;
        c->p += 5;
        return 0;
    }
    return -1;
}

/* A tuple of up to 4 non-negative ints: (), (5,), (2, 3). Returns 0 or -1. */
static int parse_shape(npy_cursor *c, size_t shape[4], int *ndim)
{
    *ndim = 0;
    if (!accept(c, '('))
        return -1;
    while (!accept(c, ')')) {
        size_t v = 0;
        int digits = 0;
        if (*ndim == 4)
            return -1;
        skip_ws(c);
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            size_t d = (size_t)(*c->p++ - '0');
            if (v > (SIZE_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
            digits++;
        }
        if (!digits)
            return -1;
        shape[(*ndim)++] = v;
        if (!accept(c, ',')) {
            if (!accept(c, ')'))
                return -1;
            break;
        }
    }
    return 0;
}

enum { KEY_DESCR, KEY_FORTRAN, KEY_SHAPE, KEY_COUNT };
static const char *const npy_keys[KEY_COUNT] = {"descr", "fortran_order", "shape"};

/* Parses the header dict; returns NULL or a short reason for the error message. */
static const char *parse_header(npy_cursor *c, size_t shape[4], int *ndim)
{
    int seen[KEY_COUNT] = {0}, fortran = 0;
    char key[32], descr[16];
    if (!accept(c, '{'))
        return "header does not start with '{'";
    while (!accept(c, '}')) {
        int k = 0;
        if (parse_str(c, key, sizeof key) != 0 || !accept(c, ':'))
            return "malformed key";
        while (k < KEY_COUNT && strcmp(key, npy_keys[k]) != 0)
            k++;
        if (k == KEY_COUNT || seen[k])
            return "unknown or repeated key";
        seen[k] = 1;
        if (k == KEY_DESCR && parse_str(c, descr, sizeof descr) != 0)
            return "malformed descr";
        if (k == KEY_DESCR && strcmp(descr, "<f4") != 0)
            return "dtype is not '<f4' (little-endian float32)";
        if (k == KEY_FORTRAN && parse_bool(c, &fortran) != 0)
            return "malformed fortran_order";
        if (k == KEY_FORTRAN && fortran)
            return "fortran_order is True (only C order is supported)";
        if (k == KEY_SHAPE && parse_shape(c, shape, ndim) != 0)
            return "malformed shape or more than 4 dims";
        if (!accept(c, ',')) {
            if (!accept(c, '}'))
                return "expected ',' or '}'";
            break;
        }
    }
    skip_ws(c);
    if (c->p != c->end)
        return "junk after the header dict";
    if (!seen[KEY_DESCR] || !seen[KEY_FORTRAN] || !seen[KEY_SHAPE])
        return "missing descr, fortran_order or shape";
    return NULL;
}

/* Borrows data. On error PATH is untouched and no temp file remains. */
clgan_status clgan_npy_write_f32(const char *path, const float *data, int ndim,
                                 const size_t *shape)
{
    char dims[128], hdr[256];
    size_t count = 1, len = 0, total;
    clgan_atomic_file a;
    clgan_status st;
    int k;
    if (ndim < 1 || ndim > 4)
        return clgan_error(CLGAN_EINVAL, "%s: NPY writer takes 1..4 dims, got %d", path, ndim);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && count > SIZE_MAX / sizeof(float) / shape[i])
            return clgan_error(CLGAN_EINVAL, "%s: NPY shape overflows", path);
        count *= shape[i];
        len += (size_t)snprintf(dims + len, sizeof dims - len, "%s%zu", i ? ", " : "",
                                shape[i]);
    }
    if (count && !data)
        return clgan_error(CLGAN_EINVAL, "%s: NPY data is NULL", path);
    k = snprintf(hdr + NPY_MAGIC_LEN + 4, sizeof hdr - NPY_MAGIC_LEN - 4,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (%s%s), }", dims,
                 ndim == 1 ? "," : "");
    total = (NPY_MAGIC_LEN + 4 + (size_t)k + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    memcpy(hdr, NPY_MAGIC, NPY_MAGIC_LEN);
    hdr[6] = 1;
    hdr[7] = 0;
    hdr[8] = (char)((total - 10) & 0xff);
    hdr[9] = (char)((total - 10) >> 8);
    memset(hdr + NPY_MAGIC_LEN + 4 + k, ' ', total - (NPY_MAGIC_LEN + 4 + (size_t)k) - 1);
    hdr[total - 1] = '\n';
    st = clgan_atomic_begin(&a, path);
    if (st != CLGAN_OK)
        return st;
    fwrite(hdr, 1, total, a.f);
    if (count)
        fwrite(data, sizeof(float), count, a.f);
    return clgan_atomic_commit(&a);
}

/* *data malloc'd (caller frees). On error *data is NULL, *ndim 0 and shape zeroed. */
clgan_status clgan_npy_read_f32(const char *path, float **data, int *ndim, size_t shape[4])
{
    clgan_status st = CLGAN_OK;
    size_t n, pre, hlen, count = 1, dims[4] = {0};
    uint8_t *buf = NULL;
    const char *why;
    npy_cursor c;
    int nd = 0;
    *data = NULL;
    *ndim = 0;
    memset(shape, 0, 4 * sizeof *shape);
    st = clgan_io_read_file(path, &buf, &n);
    if (st != CLGAN_OK)
        return st;
    if (n < 10 || memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        st = clgan_error(CLGAN_EFORMAT, "%s: not an NPY file (bad magic)", path);
        goto done;
    }
    if ((buf[6] != 1 && buf[6] != 2) || buf[7] != 0) {
        st = clgan_error(CLGAN_EFORMAT, "%s: unsupported NPY version %d.%d (need 1.0 or 2.0)",
                         path, buf[6], buf[7]);
        goto done;
    }
    pre = buf[6] == 1 ? 10 : 12;
    if (n < pre) {
        st = clgan_error(CLGAN_EFORMAT, "%s: truncated NPY preamble (%zu bytes)", path, n);
        goto done;
    }
    hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    if (pre == 12)
        hlen |= (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    if (hlen > n - pre) {
        st = clgan_error(CLGAN_EFORMAT, "%s: NPY header length %zu runs past the end of the "
                         "file (%zu bytes)", path, hlen, n);
        goto done;
    }
    c.p = (const char *)buf + pre;
    c.end = c.p + hlen;
    why = parse_header(&c, dims, &nd);
    if (why) {
        st = clgan_error(CLGAN_EFORMAT, "%s: NPY header: %s", path, why);
        goto done;
    }
    for (int i = 0; i < nd; i++) {
        if (dims[i] && count > SIZE_MAX / sizeof(float) / dims[i]) {
            st = clgan_error(CLGAN_EFORMAT, "%s: NPY shape overflows", path);
            goto done;
        }
        count *= dims[i];
    }
    if (n - pre - hlen != count * sizeof(float)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: NPY data is %zu bytes, shape needs %zu", path,
                         n - pre - hlen, count * sizeof(float));
        goto done;
    }
    *data = malloc(count ? count * sizeof(float) : 1);
    if (!*data) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu floats", path, count);
        goto done;
    }
    memcpy(*data, buf + pre + hlen, count * sizeof(float));
    *ndim = nd;
    memcpy(shape, dims, sizeof dims);
done:
    free(buf);
    return st;
}
