/* idx.c - reads and writes IDX files of unsigned bytes (MNIST images and labels), plain
 * or gzip, both through zlib's gz* API. Only element type 0x08 and 1..4 dims. */
#include "clgan/io.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "io/atomic.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_CHUNK (1u << 20) /* read granularity, and the first buffer size */

/* The message zlib keeps for `gz` without the "PATH: " (or "<fd:N>: ", for a stream
 * opened on a descriptor) zlib puts in front, or "" when it has none. Borrowed. */
static const char *gz_msg(gzFile gz, int *err, const char *path)
{
    const char *m = gzerror(gz, err), *fd_end;
    size_t n = strlen(path);
    if (!m)
        return "";
    if (strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ')
        m += n + 2;
    else if (strncmp(m, "<fd:", 4) == 0 && (fd_end = strstr(m, ">: ")) != NULL)
        m = fd_end + 3;
    return m;
}

/* Reads up to n bytes; sets *got. Returns 0, or -1 when zlib reports an error (a corrupt
 * or truncated gzip stream), including a premature end reported as Z_BUF_ERROR. */
static int gz_read_full(gzFile gz, void *buf, size_t n, size_t *got)
{
    int err = Z_OK;
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        int r = gzread(gz, (char *)buf + *got, want > INT_MAX ? INT_MAX : (unsigned)want);
        if (r <= 0)
            break;
        *got += (size_t)r;
    }
    gzerror(gz, &err);
    return err == Z_OK ? 0 : -1;
}

/* Reads exactly n bytes; EFORMAT naming `what` when the file ends early or is corrupt. */
static clgan_status read_exact(gzFile gz, void *buf, size_t n, const char *path,
                               const char *what)
{
    size_t got;
    int err;
    if (gz_read_full(gz, buf, n, &got) != 0)
        return clgan_error(CLGAN_EFORMAT, "%s: corrupt or truncated gzip stream: %s", path,
                           gz_msg(gz, &err, path));
    if (got < n)
        return clgan_error(CLGAN_EFORMAT, "%s: truncated %s (%zu of %zu bytes)", path, what,
                           got, n);
    return CLGAN_OK;
}

/* Writes n bytes; returns 0, or -1 on a zlib or file error. */
static int gz_write_all(gzFile f, const void *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        unsigned k = n - off > IDX_CHUNK ? IDX_CHUNK : (unsigned)(n - off);
        if (gzwrite(f, (const char *)buf + off, k) != (int)k)
            return -1;
        off += k;
    }
    return 0;
}

/* Reads `count` data bytes into a buffer that grows as data arrives, so a corrupt header
 * claiming gigabytes costs nothing before the data runs out. *out malloc'd on success. */
static clgan_status read_data(uint8_t **out, gzFile gz, const char *path, size_t count)
{
    clgan_status st = CLGAN_OK;
    size_t have = 0, cap = count < IDX_CHUNK ? count : IDX_CHUNK;
    uint8_t *data = malloc(cap ? cap : 1), *grown;
    int err;
    if (!data)
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu bytes", path, cap);
    while (have < count) {
        size_t got;
        if (have == cap) {
            cap = cap > count / 2 ? count : cap * 2;
            grown = realloc(data, cap);
            if (!grown) {
                st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu bytes", path, cap);
                goto fail;
            }
            data = grown;
        }
        if (gz_read_full(gz, data + have, cap - have, &got) != 0) {
            st = clgan_error(CLGAN_EFORMAT, "%s: corrupt or truncated gzip stream: %s",
                             path, gz_msg(gz, &err, path));
            goto fail;
        }
        have += got;
        if (have < cap) {
            st = clgan_error(CLGAN_EFORMAT, "%s: truncated IDX data (%zu of %zu bytes)", path,
                             have, count);
            goto fail;
        }
    }
    *out = data;
    return CLGAN_OK;
fail:
    free(data);
    return st;
}

clgan_status clgan_idx_read(const char *path, clgan_idx *out)
{
    return clgan_idx_read_max(path, out, SIZE_MAX);
}

/* On error *out is zeroed and nothing is allocated. */
clgan_status clgan_idx_read_max(const char *path, clgan_idx *out, size_t max_bytes)
{
    clgan_status st = CLGAN_OK;
    unsigned char hdr[4], dimb[16], extra;
    size_t got, count = 1;
    uint32_t magic;
    int err;
    gzFile gz;
    memset(out, 0, sizeof *out);
    int fd;
    if ((st = clgan_io_open_read(path, &fd)) != CLGAN_OK)
        return st;
    gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory opening it", path);
    }
    gzbuffer(gz, 1u << 17);
    st = read_exact(gz, hdr, 4, path, "IDX header");
    if (st != CLGAN_OK)
        goto done;
    magic = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (hdr[0] != 0 || hdr[1] != 0) {
        st = clgan_error(CLGAN_EFORMAT,
                         "%s: bad IDX magic 0x%08x (expected 0x000008NN: two zero bytes, "
                         "type 0x08, 1..4 dims)", path, magic);
        goto done;
    }
    if (hdr[2] != IDX_TYPE_UBYTE) {
        st = clgan_error(CLGAN_EFORMAT,
                         "%s: unsupported IDX element type 0x%02x (only 0x08, unsigned byte)",
                         path, hdr[2]);
        goto done;
    }
    if (hdr[3] < 1 || hdr[3] > 4) {
        st = clgan_error(CLGAN_EFORMAT, "%s: IDX has %d dims (supported: 1..4)", path, hdr[3]);
        goto done;
    }
    out->ndim = hdr[3];
    st = read_exact(gz, dimb, 4 * (size_t)out->ndim, path, "IDX dims");
    if (st != CLGAN_OK)
        goto done;
    for (int i = 0; i < out->ndim; i++) {
        const unsigned char *b = dimb + 4 * i;
        out->dims[i] =
            (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (out->dims[i] && count > SIZE_MAX / out->dims[i]) {
            st = clgan_error(CLGAN_EFORMAT, "%s: IDX dims overflow the address space", path);
            goto done;
        }
        count *= out->dims[i];
    }
    if (count > max_bytes) {
        st = clgan_error(CLGAN_EINVAL, "%s: its header declares %zu bytes of data, more than the "
                         "%zu bytes of memory available: use fewer or smaller images", path,
                         count, max_bytes);
        goto done;
    }
    st = read_data(&out->data, gz, path, count);
    if (st != CLGAN_OK)
        goto done;
    out->count = count;
    if (gz_read_full(gz, &extra, 1, &got) != 0) {
        st = clgan_error(CLGAN_EFORMAT, "%s: corrupt or truncated gzip stream: %s", path,
                         gz_msg(gz, &err, path));
        goto done;
    }
    if (got) {
        st = clgan_error(CLGAN_EFORMAT, "%s: trailing bytes after %zu bytes of IDX data",
                         path, count);
        goto done;
    }
done:
    if (gzclose_r(gz) != Z_OK && st == CLGAN_OK)
        st = clgan_error(CLGAN_EIO, "%s: error closing the file", path);
    if (st != CLGAN_OK)
        clgan_idx_free(out);
    return st;
}

/* Borrows t. On error PATH is untouched and no temp file remains. */
clgan_status clgan_idx_write(const char *path, const clgan_idx *t, int gz)
{
    clgan_status st = CLGAN_OK;
    unsigned char hdr[20];
    size_t count = 1, hlen;
    char *tmp = NULL;
    gzFile f = NULL;
    int err;
    if (t->ndim < 1 || t->ndim > 4)
        return clgan_error(CLGAN_EINVAL, "%s: IDX needs 1..4 dims, got %d", path, t->ndim);
    for (int i = 0; i < t->ndim; i++) {
        if (t->dims[i] && count > SIZE_MAX / t->dims[i])
            return clgan_error(CLGAN_EINVAL, "%s: IDX dims overflow", path);
        count *= t->dims[i];
    }
    if (count != t->count || (count && !t->data))
        return clgan_error(CLGAN_EINVAL, "%s: IDX count %zu does not match dims (%zu)%s",
                           path, t->count, count, t->data ? "" : " or data is NULL");
    hdr[0] = hdr[1] = 0;
    hdr[2] = IDX_TYPE_UBYTE;
    hdr[3] = (unsigned char)t->ndim;
    for (int i = 0; i < t->ndim; i++)
        for (int b = 0; b < 4; b++)
            hdr[4 + 4 * i + b] = (unsigned char)(t->dims[i] >> (24 - 8 * b));
    hlen = 4 + 4 * (size_t)t->ndim;
    tmp = clgan_atomic_tmpname(path);
    if (!tmp)
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory", path);
    clgan_atomic_track(tmp);
    errno = 0;
    f = gzopen(tmp, gz ? "wb6" : "wbT");
    if (!f) {
        st = clgan_error(CLGAN_EIO, "%s: cannot create temp file %s: %s", path, tmp,
                         errno ? strerror(errno) : "out of memory");
        goto fail;
    }
    if (gz_write_all(f, hdr, hlen) != 0 || gz_write_all(f, t->data, count) != 0) {
        st = clgan_error(CLGAN_EIO, "%s: writing temp file %s failed: %s", path, tmp,
                         gz_msg(f, &err, tmp));
        goto fail;
    }
    err = gzclose_w(f);
    f = NULL;
    if (err != Z_OK) {
        st = clgan_error(CLGAN_EIO, "%s: finishing temp file %s failed (zlib error %d)", path,
                         tmp, err);
        goto fail;
    }
    st = clgan_atomic_publish(tmp, path);
    free(tmp);
    return st;
fail:
    if (f)
        gzclose_w(f);
    remove(tmp);
    clgan_atomic_untrack(tmp);
    free(tmp);
    return st;
}

/* Safe on a zeroed struct and twice. */
void clgan_idx_free(clgan_idx *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}
