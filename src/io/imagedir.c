/* imagedir.c - a directory of PNG images as one (count, h, w, c) uint8 array: lists it in
 * a fixed order, decodes and fits each file (image.c), and skips and counts what is not
 * a readable image. Does not recurse, scale to floats or know about training. */
#include "clgan/io.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entry names of `dir` not starting with '.', sorted with strcmp. *names malloc'd
 * (free with free_names). */
static clgan_status list_dir(const char *dir, char ***names, size_t *n)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    *names = NULL;
    *n = 0;
    if (!dp)
        return clgan_error(CLGAN_EIO, "%s: cannot list the directory: %s", dir, strerror(errno));
    while ((errno = 0, e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                goto oom;
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = strdup(e->d_name)))
            goto oom;
        cnt++;
    }
    if (errno) {
        clgan_status st = clgan_error(CLGAN_EIO, "%s: listing the directory failed: %s", dir,
                                      strerror(errno));
        closedir(dp);
        free_names(v, cnt);
        return st;
    }
    closedir(dp);
    if (cnt)
        qsort(v, cnt, sizeof *v, by_name);
    *names = v;
    *n = cnt;
    return CLGAN_OK;
oom:
    closedir(dp);
    free_names(v, cnt);
    return clgan_error(CLGAN_ENOMEM, "%s: out of memory listing the directory", dir);
}

/* Appends one line to the skip log (the first CLGAN_IMAGEDIR_LOGGED skips only). */
static void log_skip(clgan_imagedir *d, const char *msg)
{
    size_t have = d->skip_log ? strlen(d->skip_log) : 0, add = strlen(msg) + 2;
    char *s;
    d->skipped++;
    if (d->skipped > CLGAN_IMAGEDIR_LOGGED || !(s = realloc(d->skip_log, have + add)))
        return;
    snprintf(s + have, add, "%s\n", msg);
    d->skip_log = s;
}

/* Makes room for one more image of `bytes` in d->images; 0 when out of memory. */
static int grow(clgan_imagedir *d, size_t *cap, size_t bytes)
{
    if (d->count < *cap)
        return 1;
    size_t nc = *cap ? 2 * *cap : 256;
    if (nc > SIZE_MAX / bytes)
        return 0;
    uint8_t *p = realloc(d->images, nc * bytes);
    if (!p)
        return 0;
    d->images = p;
    *cap = nc;
    return 1;
}

/* On error *out is zeroed. */
clgan_status clgan_imagedir_load(clgan_imagedir *out, const char *dir, int size, int channels,
                                 size_t max_pixels)
{
    clgan_imagedir d = {0};
    clgan_status st;
    char **names = NULL, *path = NULL;
    size_t n = 0, cap = 0, bytes = 0;
    memset(out, 0, sizeof *out);
    if ((channels != 1 && channels != 3) || size < 0)
        return clgan_error(CLGAN_EINVAL, "%s: bad image size %d or channels %d", dir, size, channels);
    if ((st = list_dir(dir, &names, &n)) != CLGAN_OK)
        return st;
    d.c = channels;
    d.h = d.w = size;
    path = malloc(strlen(dir) + 258 + 2);
    if (!path) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *pix;
        int w, h, fc;
        sprintf(path, "%s/%.256s", dir, names[i]);
        st = clgan_png_read_image(path, channels, max_pixels, &pix, &w, &h, &fc);
        if (st == CLGAN_ENOMEM)
            goto fail;
        if (st != CLGAN_OK) {
            log_skip(&d, clgan_error_msg());
            clgan_error_clear();
            continue;
        }
        if (!d.w) { /* size 0: the first image sets it */
            d.w = w;
            d.h = h;
        }
        bytes = (size_t)d.w * d.h * channels;
        if (!grow(&d, &cap, bytes)) {
            free(pix);
            st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu images of %dx%dx%d", dir,
                             d.count + 1, d.w, d.h, channels);
            goto fail;
        }
        st = clgan_image_fit(d.images + d.count * bytes, d.w, d.h, pix, w, h, channels);
        free(pix);
        if (st != CLGAN_OK)
            goto fail;
        d.count++;
        d.color_files += fc >= 3;
    }
    if (d.count == 0) { /* one line: the first skip's reason only */
        int first = d.skip_log ? (int)strcspn(d.skip_log, "\n") : 0;
        st = n == 0 ? clgan_error(CLGAN_EFORMAT, "%s: no PNG images (the directory is empty)", dir)
                    : clgan_error(CLGAN_EFORMAT, "%s: none of its %zu entries is a readable PNG "
                                  "image (first: %.*s)", dir, d.skipped, first,
                                  d.skip_log ? d.skip_log : "");
        goto fail;
    }
    free(path);
    free_names(names, n);
    *out = d;
    return CLGAN_OK;
fail:
    free(path);
    free_names(names, n);
    clgan_imagedir_free(&d);
    return st;
}

void clgan_imagedir_free(clgan_imagedir *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->skip_log);
    memset(d, 0, sizeof *d);
}
