/* samples.c - finds clgan's shipped files (samples/: presets, classifiers, the MNIST
 * subset) for the binary and for programs linked to libclgan, installed or not. Does not
 * read them. */
#define _GNU_SOURCE /* dladdr, asprintf */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"

/* 1 when dir/mid/rel is readable (dir up to its last '/' when `strip` is set, for a
 * file's directory); writes its canonical path into out (n). */
static int try_root(char *out, size_t n, const char *dir, int strip, const char *mid,
                    const char *rel)
{
    const char *end = strip ? strrchr(dir, '/') : dir + strlen(dir);
    char *found = NULL, canon[PATH_MAX];
    int ok = 0;
    if (!end || asprintf(&found, "%.*s/%s/%s", (int)(end - dir), dir, mid, rel) < 0)
        return 0;
    if (access(found, R_OK) == 0) {
        snprintf(out, n, "%s", realpath(found, canon) ? canon : found);
        ok = 1;
    }
    free(found);
    return ok;
}

/* Looks, in order, under: the installed data directory relative to the library that
 * holds this code (libclgan.so, or the program it was linked into), and relative to the
 * running program; samples/ beside or above the program (a build tree); the source tree
 * clgan was built from; the data directory of the configured install prefix. */
int clgan_find_sample(char *out, size_t n, const char *rel)
{
    char exe[PATH_MAX];
    Dl_info info;
    if (dladdr((void *)clgan_find_sample, &info) && info.dli_fname && info.dli_fname[0] == '/' &&
        try_root(out, n, info.dli_fname, 1, CLGAN_LIB_TO_DATA, rel))
        return 1;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        if (try_root(out, n, exe, 1, CLGAN_BIN_TO_DATA, rel) ||
            try_root(out, n, exe, 1, "../samples", rel) || try_root(out, n, exe, 1, "samples", rel))
            return 1;
    }
    if (try_root(out, n, CLGAN_SOURCE_DIR, 0, "samples", rel) ||
        try_root(out, n, CLGAN_DATADIR, 0, ".", rel))
        return 1;
    snprintf(out, n, "%s/samples/%s", CLGAN_SOURCE_DIR, rel);
    return 0;
}
