/* file.c - whole-file reads of regular files only (a FIFO or device never blocks a read),
 * atomic whole-file writes (temp, fsync, rename), the registry of open temp files that a
 * signal handler removes, and mkdir -p. Knows no file format; the format writers build on
 * the atomic helpers in atomic.h. */
#include "clgan/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"

/* ---- the temp files being written now, for clgan_io_remove_temps ------------------- */

#define TEMP_SLOTS 8

static struct {
    volatile sig_atomic_t used; /* set after path is complete, cleared before it changes */
    char path[PATH_MAX];
} temps[TEMP_SLOTS];

void clgan_atomic_track(const char *tmp)
{
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (!temps[i].used && strlen(tmp) < sizeof temps[i].path) {
            strcpy(temps[i].path, tmp);
            temps[i].used = 1;
            return;
        }
}

void clgan_atomic_untrack(const char *tmp)
{
    for (int i = 0; tmp && i < TEMP_SLOTS; i++)
        if (temps[i].used && !strcmp(temps[i].path, tmp))
            temps[i].used = 0;
}

/* Async-signal-safe: unlink(2) only. */
void clgan_io_remove_temps(void)
{
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (temps[i].used)
            unlink(temps[i].path);
}

/* ---- reading ----------------------------------------------------------------------- */

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO (named pipe)"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* The message for a failed stat/open of a file to read: missing and unreadable differ. */
static clgan_status open_error(const char *path, int err)
{
    if (err == ENOENT)
        return clgan_error(CLGAN_EIO, "%s: no such file", path);
    if (err == EACCES)
        return clgan_error(CLGAN_EIO, "%s: exists but cannot be read (permission denied)", path);
    return clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(err));
}

int clgan_io_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The type is checked before opening (a device is never opened) and again on the open
 * descriptor (the name may have changed in between); O_NONBLOCK keeps a FIFO's open from
 * waiting for a writer and is cleared before the descriptor is returned. */
clgan_status clgan_io_open_read(const char *path, int *fd_out)
{
    struct stat sb;
    int fd;
    *fd_out = -1;
    if (stat(path, &sb) != 0)
        return open_error(path, errno);
    if (!S_ISREG(sb.st_mode))
        return clgan_error(CLGAN_EIO, "%s: is %s, not a regular file", path, kind_of(sb.st_mode));
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return open_error(path, errno);
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return clgan_error(CLGAN_EIO, "%s: is %s, not a regular file", path, kind_of(sb.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int err = errno;
        close(fd);
        return clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(err));
    }
    *fd_out = fd;
    return CLGAN_OK;
}

clgan_status clgan_io_fopen_read(const char *path, FILE **out)
{
    int fd;
    clgan_status st = clgan_io_open_read(path, &fd);
    *out = NULL;
    if (st != CLGAN_OK)
        return st;
    if (!(*out = fdopen(fd, "rb"))) {
        close(fd);
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory opening it", path);
    }
    return CLGAN_OK;
}

/* ---- atomic writes ----------------------------------------------------------------- */

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
    clgan_atomic_track(a->tmp);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        st = clgan_error(CLGAN_EIO, "%s: cannot create temp file %s: %s", path, a->tmp,
                         strerror(errno));
        clgan_atomic_untrack(a->tmp);
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
    clgan_atomic_untrack(a->tmp);
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
    clgan_atomic_untrack(a->tmp);
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
    clgan_atomic_untrack(tmp);
    return CLGAN_OK;
fail:
    if (fd >= 0)
        close(fd);
    remove(tmp);
    clgan_atomic_untrack(tmp);
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
    if ((st = clgan_io_fopen_read(path, &f)) != CLGAN_OK)
        return st;
    if (fstat(fileno(f), &sb) != 0) {
        st = clgan_error(CLGAN_EIO, "%s: cannot stat: %s", path, strerror(errno));
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
