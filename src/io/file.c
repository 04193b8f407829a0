/* file.c - whole-file reads, atomic whole-file writes (temp, fsync, rename) and mkdir -p.
 * Knows no file format; the format writers build on the atomic helpers in atomic.h. */
#include "clgan/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"

/* Caller frees the result; NULL when out of memory. */
char *clgan_atomic_tmpname(const char *path)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp)
        snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

/* On error *a is zeroed and no temp file exists. */
clgan_status clgan_atomic_begin(clgan_atomic_file *a, const char *path)
{
    clgan_status st = CLGAN_OK;
    memset(a, 0, sizeof *a);
    a->tmp = clgan_atomic_tmpname(path);
    a->path = strdup(path);
    if (!a->tmp || !a->path) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for the temp file name", path);
        goto fail;
    }
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        st = clgan_error(CLGAN_EIO, "%s: cannot create temp file %s: %s", path, a->tmp,
                         strerror(errno));
        goto fail;
    }
    return CLGAN_OK;
fail:
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
    return st;
}

/* Always releases *a; removes the temp file on error. */
clgan_status clgan_atomic_commit(clgan_atomic_file *a)
{
    clgan_status st = CLGAN_OK;
    int err = 0;
    errno = 0;
    if (fflush(a->f) != 0 || ferror(a->f))
        err = errno ? errno : EIO;
    else if (fsync(fileno(a->f)) != 0)
        err = errno;
    if (fclose(a->f) != 0 && !err)
        err = errno;
    a->f = NULL;
    if (err) {
        st = clgan_error(CLGAN_EIO, "%s: writing temp file %s failed: %s", a->path, a->tmp,
                         strerror(err));
        remove(a->tmp);
        goto done;
    }
    if (rename(a->tmp, a->path) != 0) {
        st = clgan_error(CLGAN_EIO, "%s: cannot rename %s into place: %s", a->path, a->tmp,
                         strerror(errno));
        remove(a->tmp);
    }
done:
    clgan_atomic_abort(a);
    return st;
}

/* Safe on a zeroed struct and twice. */
void clgan_atomic_abort(clgan_atomic_file *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
        remove(a->tmp);
    }
    free(a->tmp);
    free(a->path);
    a->tmp = NULL;
    a->path = NULL;
}

/* Removes `tmp` on error. Libraries that create the file themselves may give it mode
 * 0600 (giflib does); it gets the usual 0666 less the umask, like every other output. */
clgan_status clgan_atomic_publish(const char *tmp, const char *path)
{
    clgan_status st = CLGAN_OK;
    mode_t mask = umask(0);
    umask(mask);
    int fd = open(tmp, O_RDONLY);
    if (fd >= 0)
        fchmod(fd, 0666 & ~mask);
    if (fd < 0 || fsync(fd) != 0) {
        st = clgan_error(CLGAN_EIO, "%s: cannot fsync temp file %s: %s", path, tmp,
                         strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = clgan_error(CLGAN_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                         strerror(errno));
        goto fail;
    }
    close(fd);
    return CLGAN_OK;
fail:
    if (fd >= 0)
        close(fd);
    remove(tmp);
    return st;
}

/* Borrows data; on error PATH is untouched and no temp file remains. */
clgan_status clgan_io_write_file(const char *path, const void *data, size_t n)
{
    clgan_atomic_file a;
    clgan_status st = clgan_atomic_begin(&a, path);
    if (st != CLGAN_OK)
        return st;
    if (n && fwrite(data, 1, n, a.f) != n) {
        st = clgan_error(CLGAN_EIO, "%s: cannot write %zu bytes to %s: %s", path, n, a.tmp,
                         strerror(errno));
        clgan_atomic_abort(&a);
        return st;
    }
    return clgan_atomic_commit(&a);
}

/* *out malloc'd (caller frees; one spare byte past *n, so callers may NUL-terminate);
 * on error *out is NULL and *n is 0. */
clgan_status clgan_io_read_file(const char *path, uint8_t **out, size_t *n)
{
    clgan_status st = CLGAN_OK;
    struct stat sb;
    uint8_t *buf = NULL;
    size_t size;
    FILE *f;
    *out = NULL;
    *n = 0;
    f = fopen(path, "rb");
    if (!f)
        return clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = clgan_error(CLGAN_EIO, "%s: not a regular file", path);
        goto done;
    }
    if ((uintmax_t)sb.st_size >= SIZE_MAX) {
        st = clgan_error(CLGAN_ENOMEM, "%s: file of %jd bytes does not fit in memory", path,
                         (intmax_t)sb.st_size);
        goto done;
    }
    size = (size_t)sb.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu bytes", path, size);
        goto done;
    }
    if (fread(buf, 1, size, f) != size) {
        st = clgan_error(CLGAN_EIO, "%s: short read (wanted %zu bytes)", path, size);
        goto done;
    }
    buf[size] = 0;
    *out = buf;
    *n = size;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return st;
}

/* Creates every missing directory of `path` (mode 0777 less the umask). */
clgan_status clgan_io_mkdirs(const char *path)
{
    clgan_status st = CLGAN_OK;
    struct stat sb;
    char *p = NULL, *s;
    if (!path || !*path)
        return clgan_error(CLGAN_EINVAL, "mkdirs: empty path");
    p = strdup(path);
    if (!p)
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory", path);
    for (s = p + 1;; s++) {
        int last = (*s == '\0');
        if (*s != '/' && !last)
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && (errno != EEXIST || stat(p, &sb) != 0 ||
                                    !S_ISDIR(sb.st_mode))) {
            st = clgan_error(CLGAN_EIO, "%s: cannot create directory %s: %s", path, p,
                             errno == EEXIST ? "exists and is not a directory"
                                             : strerror(errno));
            goto done;
        }
        if (last)
            break;
        *s = '/';
    }
done:
    free(p);
    return st;
}
