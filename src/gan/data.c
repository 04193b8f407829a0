/* data.c - finds and loads the training images: the shipped MNIST subset
 * (samples/data), any directory of MNIST-format IDX files, or Debian's Fashion-MNIST.
 * Reads through io/idx.c; keeps the data as uint8 (scaled on the device). Also launches
 * the device-side draws from it and from N(0, 1) (cl/random.cl). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

clgan_status clgan_dataset_load(clgan_dataset *d, const char *spec)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    clgan_idx img = {0}, lab = {0};
    clgan_status st;
    memset(d, 0, sizeof *d);
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
    if (!find_file(path, sizeof path, dir, "train-images-idx3-ubyte"))
        return clgan_error(CLGAN_EIO, "no train-images-idx3-ubyte[.gz] in %s", dir);
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
    return CLGAN_OK;
}

void clgan_dataset_free(clgan_dataset *d)
{
    if (!d)
        return;
    free(d->images);
    free(d->labels);
    d->images = d->labels = NULL;
    d->count = 0;
}

/* ---- device-side draws ---------------------------------------------------------------- */

clgan_status clgan_randn_fill(clgan_ctx *ctx, cl_mem out, int n, uint64_t seed, uint64_t step,
                              unsigned stream)
{
    /* 16 counters (64 normals) per work-item; one per group on CPU devices. */
    size_t g = (size_t)(n + 63) / 64, one = 1;
    if (n <= 0)
        return n == 0 ? CLGAN_OK : clgan_error(CLGAN_EINVAL, "randn_fill of %d values", n);
    return clgan_launch(ctx, clgan_kernel(ctx, "randn_fill"), 1, &g,
                        clgan_cpu_shapes(ctx) ? &one : NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_INT(n),
                                   CLGAN_ARG_UINT((cl_uint)seed), CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                   CLGAN_ARG_UINT((cl_uint)step), CLGAN_ARG_UINT((cl_uint)(step >> 32)),
                                   CLGAN_ARG_UINT(stream)));
}

clgan_status clgan_gather_rows(clgan_ctx *ctx, cl_mem out, cl_mem data, int rows, int dim,
                               size_t count, uint64_t seed, uint64_t step, unsigned stream)
{
    /* A whole row per work-item with CPU shapes (on PoCL 0.036 -> 0.017 ms at batch 32,
     * 0.089 -> 0.037 ms at 128, against 64-column chunks), 64-column chunks otherwise. */
    const int cpu = clgan_cpu_shapes(ctx), chunk = cpu ? dim : 64;
    size_t g[2] = {(size_t)rows, (size_t)((dim + chunk - 1) / chunk)}, one[2] = {1, 1};
    if (rows <= 0 || dim <= 0 || count == 0 || count > INT_MAX)
        return clgan_error(CLGAN_EINVAL, "gather of %d x %d from %zu rows", rows, dim, count);
    return clgan_launch(ctx, clgan_kernel(ctx, "gather_batch_u8"), 2, g, cpu ? one : NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(data), CLGAN_ARG_INT(rows),
                                   CLGAN_ARG_INT(dim), CLGAN_ARG_INT((int)count),
                                   CLGAN_ARG_UINT((cl_uint)seed), CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                   CLGAN_ARG_UINT((cl_uint)step), CLGAN_ARG_UINT((cl_uint)(step >> 32)),
                                   CLGAN_ARG_UINT(stream), CLGAN_ARG_INT(chunk)));
}
