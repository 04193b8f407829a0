/* data.c - finds and loads the training images: the shipped MNIST subset
 * (samples/data), any directory of MNIST-format IDX files, Debian's Fashion-MNIST, or a
 * directory of PNGs; fits them to the asked size and channels. Reads through io/idx.c and
 * io/imagedir.c; keeps the data as uint8 (scaled on the device). Also launches the
 * device-side draws from it and from N(0, 1) (cl/random.cl). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* Something is at `p`: the reader then says what is wrong with it (unreadable, not a
 * regular file) rather than calling it missing. */
static int exists(const char *p) { return clgan_io_exists(p); }

/* Finds `dir`/`base`[.gz]; writes the path and returns 1 when found. */
static int find_file(char *out, size_t n, const char *dir, const char *base)
{
    snprintf(out, n, "%s/%s", dir, base);
    if (exists(out))
        return 1;
    snprintf(out, n, "%s/%s.gz", dir, base);
    return exists(out);
}

/* The shipped subset: samples/data next to the binary or in the source tree. */
static int shipped_dir(char *out, size_t n)
{
    char probe[PATH_MAX + 64];
    if (!clgan_find_sample(out, n, "data"))
        return 0;
    return find_file(probe, sizeof probe, out, "train-images-idx3-ubyte");
}

/* A directory without IDX images: its PNGs. */
static clgan_status load_pngs(clgan_dataset *d, const char *dir, int size, int channels)
{
    clgan_imagedir id;
    uint64_t avail = clgan_host_mem_available();
    clgan_status st = clgan_imagedir_load_max(&id, dir, size, channels, 0,
                                              avail ? (size_t)avail : SIZE_MAX);
    if (st != CLGAN_OK)
        return st;
    d->images = id.images;
    d->count = id.count;
    d->h = id.h;
    d->w = id.w;
    d->c = id.c;
    d->skipped = id.skipped;
    d->skip_log = id.skip_log;
    d->color_files = id.color_files;
    snprintf(d->source, sizeof d->source, "%.599s", dir);
    return CLGAN_OK;
}

/* Refits IDX images (count, h, w, 1) to size x size x channels, in place of the old. */
static clgan_status refit(clgan_dataset *d, int size, int channels)
{
    int h = size ? size : d->h, w = size ? size : d->w;
    size_t in = (size_t)d->h * d->w, out = (size_t)h * w * channels;
    uint8_t *gray = NULL, *all;
    clgan_status st = CLGAN_OK;
    if (h == d->h && w == d->w && channels == 1)
        return CLGAN_OK;
    if (d->count > SIZE_MAX / out || !(all = malloc(d->count * out)))
        return clgan_error(CLGAN_ENOMEM, "out of memory for %zu images of %dx%dx%d", d->count,
                           h, w, channels);
    if (channels == 3 && !(gray = malloc((size_t)h * w))) {
        free(all);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->count && st == CLGAN_OK; i++) {
        uint8_t *dst = all + i * out;
        st = clgan_image_fit(gray ? gray : dst, w, h, d->images + i * in, d->w, d->h, 1);
        for (size_t p = 0; gray && p < (size_t)h * w; p++) /* gray to RGB: replicated */
            dst[3 * p] = dst[3 * p + 1] = dst[3 * p + 2] = gray[p];
    }
    free(gray);
    if (st != CLGAN_OK) {
        free(all);
        return st;
    }
    free(d->images);
    d->images = all;
    d->h = h;
    d->w = w;
    d->c = channels;
    return CLGAN_OK;
}

clgan_status clgan_dataset_load(clgan_dataset *d, const char *spec)
{
    return clgan_dataset_load_as(d, spec, 0, 1);
}

clgan_status clgan_dataset_load_as(clgan_dataset *d, const char *spec, int size, int channels)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    clgan_idx img = {0}, lab = {0};
    clgan_status st;
    struct stat sb;
    memset(d, 0, sizeof *d);
    if (size < 0 || size > 4096 || (channels != 1 && channels != 3))
        return clgan_error(CLGAN_EINVAL, "image size %d or channels %d (1 or 3) out of range",
                           size, channels);
    if (!spec || !*spec) {
        if (!shipped_dir(dir, sizeof dir))
            return clgan_error(CLGAN_EIO, "the shipped MNIST subset (samples/data) was not found "
                               "next to the binary; pass --data DIR");
    } else if (!strcmp(spec, "fashion")) {
        snprintf(dir, sizeof dir, "%s", FASHION_DIR);
        if (!find_file(path, sizeof path, dir, "train-images-idx3-ubyte"))
            return clgan_error(CLGAN_EIO, "Fashion-MNIST is not installed (%s): "
                               "apt-get install dataset-fashion-mnist", FASHION_DIR);
    } else {
        snprintf(dir, sizeof dir, "%s", spec);
    }
    if (!find_file(path, sizeof path, dir, "train-images-idx3-ubyte")) {
        int err = stat(dir, &sb) != 0 ? errno : 0;
        if (err || !S_ISDIR(sb.st_mode))
            return clgan_error(CLGAN_EIO, "no train-images-idx3-ubyte[.gz] or PNG images in %s: "
                               "%s", dir, err ? strerror(err) : "not a directory");
        return load_pngs(d, dir, size, channels);
    }
    /* The data must fit in the host memory there is now (and the run needs more). */
    uint64_t avail = clgan_host_mem_available();
    if ((st = clgan_idx_read_max(path, &img, avail ? (size_t)avail : SIZE_MAX)) != CLGAN_OK)
        return st;
    if (img.ndim != 3 || img.dims[0] == 0) {
        clgan_idx_free(&img);
        return clgan_error(CLGAN_EFORMAT, "%s: expected images (N, H, W), got %d dimensions",
                           path, img.ndim);
    }
    d->images = img.data;
    d->count = img.dims[0];
    d->h = (int)img.dims[1];
    d->w = (int)img.dims[2];
    d->c = 1;
    d->idx = 1;
    snprintf(d->source, sizeof d->source, "%.599s", path);
    if (find_file(path, sizeof path, dir, "train-labels-idx1-ubyte")) {
        if ((st = clgan_idx_read(path, &lab)) != CLGAN_OK) {
            clgan_dataset_free(d);
            return st;
        }
        if (lab.ndim != 1 || lab.dims[0] != d->count) {
            /* The numbers are taken before the buffers (and the counts) are freed. */
            if (lab.ndim != 1)
                st = clgan_error(CLGAN_EFORMAT, "%s: labels must be one number per image, got "
                                 "%d dimensions", path, lab.ndim);
            else
                st = clgan_error(CLGAN_EFORMAT, "%s: %u labels for %zu images", path,
                                 lab.dims[0], d->count);
            clgan_idx_free(&lab);
            clgan_dataset_free(d);
            return st;
        }
        d->labels = lab.data;
    }
    if ((st = refit(d, size, channels)) != CLGAN_OK)
        clgan_dataset_free(d);
    return st;
}

void clgan_dataset_free(clgan_dataset *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->labels);
    free(d->skip_log);
    d->images = d->labels = NULL;
    d->skip_log = NULL;
    d->count = 0;
}

/* ---- device-side draws ---------------------------------------------------------------- */

clgan_status clgan_randn_fill(clgan_ctx *ctx, cl_mem out, int n, uint64_t seed, uint64_t step,
                              unsigned stream)
{
    return clgan_randn_fill_at(ctx, out, n, seed, step, stream, 0);
}

clgan_status clgan_randn_fill_at(clgan_ctx *ctx, cl_mem out, int n, uint64_t seed, uint64_t step,
                                 unsigned stream, uint32_t first)
{
    /* CPU shapes: 16 counters (64 normals) per work-item, one per group (randn_fill).
     * GPU shapes: one counter (4 normals, one float4 store) per work-item, neighbours
     * storing neighbouring float4s (randn_fill4). The same numbers either way. */
    const int cpu = clgan_cpu_shapes(ctx);
    size_t g = cpu ? (size_t)(n + 63) / 64 : (size_t)(n + 3) / 4, one = 1;
    if (n <= 0)
        return n == 0 ? CLGAN_OK : clgan_error(CLGAN_EINVAL, "randn_fill of %d values", n);
    size_t l = cpu ? one : clgan_local_size(ctx, CLGAN_K_randn_fill4, 64);
    return clgan_launch(ctx, cpu ? CLGAN_K_randn_fill : CLGAN_K_randn_fill4, 1, &g, &l,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_INT(n),
                                   CLGAN_ARG_UINT((cl_uint)seed), CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                   CLGAN_ARG_UINT((cl_uint)step), CLGAN_ARG_UINT((cl_uint)(step >> 32)),
                                   CLGAN_ARG_UINT(stream), CLGAN_ARG_UINT(first)));
}

clgan_status clgan_gather_rows(clgan_ctx *ctx, cl_mem out, cl_mem data, int rows, int dim,
                               size_t count, uint64_t seed, uint64_t step, unsigned stream)
{
    return clgan_gather_rows_at(ctx, out, data, rows, dim, count, seed, step, stream, 0);
}

clgan_status clgan_gather_rows_at(clgan_ctx *ctx, cl_mem out, cl_mem data, int rows, int dim,
                                  size_t count, uint64_t seed, uint64_t step, unsigned stream,
                                  int row0)
{
    /* A whole row per work-item with CPU shapes (on PoCL 0.036 -> 0.017 ms at batch 32,
     * 0.089 -> 0.037 ms at 128, against 64-column chunks). GPU shapes: 4 pixels per
     * work-item, neighbours storing neighbouring float4s (gather_batch_u8_px). */
    const int cpu = clgan_cpu_shapes(ctx), chunk = dim;
    size_t g[2] = {(size_t)rows, 1}, one[2] = {1, 1};
    if (rows <= 0 || dim <= 0 || count == 0 || count > INT_MAX)
        return clgan_error(CLGAN_EINVAL, "gather of %d x %d from %zu rows", rows, dim, count);
    if (!cpu) {
        size_t gp[2] = {(size_t)(dim + 3) / 4, (size_t)rows};
        return clgan_launch(ctx, CLGAN_K_gather_batch_u8_px, 2, gp, NULL,
                            CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(data),
                                       CLGAN_ARG_INT(rows), CLGAN_ARG_INT(dim),
                                       CLGAN_ARG_INT((int)count), CLGAN_ARG_UINT((cl_uint)seed),
                                       CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                       CLGAN_ARG_UINT((cl_uint)step),
                                       CLGAN_ARG_UINT((cl_uint)(step >> 32)),
                                       CLGAN_ARG_UINT(stream), CLGAN_ARG_INT(row0)));
    }
    return clgan_launch(ctx, CLGAN_K_gather_batch_u8, 2, g, one,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(data), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(dim), CLGAN_ARG_INT((int)count),
                                   CLGAN_ARG_UINT((cl_uint)seed), CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                   CLGAN_ARG_UINT((cl_uint)step), CLGAN_ARG_UINT((cl_uint)(step >> 32)),
                                   CLGAN_ARG_UINT(stream), CLGAN_ARG_INT(chunk),
                                   CLGAN_ARG_INT(row0)));
}
