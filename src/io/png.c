/* png.c - 8-bit grayscale and RGB PNG encode (file or memory) and grayscale decode via
 * libpng's png_image API, and the float-image grid tiler (gray or RGB). No 16-bit, no text
 * chunks; image.c reads PNGs of every kind for training data. */
#include "clgan/io.h"

#include <errno.h>
#include <limits.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"

/* A png_image describing w x h 8-bit pixels of `format`, ready for a simplified write. */
static png_image image_of(int w, int h, png_uint_32 format)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = format;
    return img;
}

/* EINVAL unless pix is set and w, h are positive. */
static clgan_status check_args(const char *what, const uint8_t *pix, int w, int h)
{
    if (!pix || w < 1 || h < 1)
        return clgan_error(CLGAN_EINVAL, "%s: bad PNG image (%dx%d, pixels %s)", what, w, h,
                           pix ? "set" : "NULL");
    return CLGAN_OK;
}

/* Borrows pix (h rows of w pixels of `format`). On error PATH is untouched and no temp
 * file remains. */
static clgan_status write_png(const char *path, const uint8_t *pix, int w, int h,
                              png_uint_32 format)
{
    png_image img = image_of(w, h, format);
    clgan_atomic_file a;
    clgan_status st = check_args(path, pix, w, h);
    if (st != CLGAN_OK)
        return st;
    st = clgan_atomic_begin(&a, path);
    if (st != CLGAN_OK)
        return st;
    if (!png_image_write_to_stdio(&img, a.f, 0, pix, 0, NULL)) {
        st = clgan_error(CLGAN_EIO, "%s: libpng cannot write %dx%d image: %s", path, w, h,
                         img.message);
        png_image_free(&img);
        clgan_atomic_abort(&a);
        return st;
    }
    return clgan_atomic_commit(&a);
}

clgan_status clgan_png_write_gray(const char *path, const uint8_t *pix, int w, int h)
{
    return write_png(path, pix, w, h, PNG_FORMAT_GRAY);
}

/* Borrows pix (h rows of w RGB triples). */
clgan_status clgan_png_write_rgb(const char *path, const uint8_t *pix, int w, int h)
{
    return write_png(path, pix, w, h, PNG_FORMAT_RGB);
}

/* *out malloc'd (caller frees), *n its size. On error *out is NULL and *n 0. */
static clgan_status encode_png(uint8_t **out, size_t *n, const uint8_t *pix, int w, int h,
                               png_uint_32 format)
{
    png_image img = image_of(w, h, format);
    png_alloc_size_t size = 0;
    clgan_status st = check_args("PNG encode", pix, w, h);
    uint8_t *buf = NULL;
    *out = NULL;
    *n = 0;
    if (st != CLGAN_OK)
        return st;
    if (!png_image_write_get_memory_size(img, size, 0, pix, 0, NULL)) {
        st = clgan_error(CLGAN_EINVAL, "PNG encode: libpng cannot size a %dx%d image: %s", w,
                         h, img.message);
        goto done;
    }
    buf = malloc(size);
    if (!buf) {
        st = clgan_error(CLGAN_ENOMEM, "PNG encode: out of memory for %zu bytes",
                         (size_t)size);
        goto done;
    }
    if (!png_image_write_to_memory(&img, buf, &size, 0, pix, 0, NULL)) {
        st = clgan_error(CLGAN_EINVAL, "PNG encode: libpng failed on a %dx%d image: %s", w, h,
                         img.message);
        goto done;
    }
    *out = buf;
    *n = size;
    buf = NULL;
done:
    free(buf);
    png_image_free(&img);
    return st;
}

clgan_status clgan_png_encode_gray(uint8_t **out, size_t *n, const uint8_t *pix, int w, int h)
{
    return encode_png(out, n, pix, w, h, PNG_FORMAT_GRAY);
}

clgan_status clgan_png_encode_rgb(uint8_t **out, size_t *n, const uint8_t *pix, int w, int h)
{
    return encode_png(out, n, pix, w, h, PNG_FORMAT_RGB);
}

/* *pix malloc'd (caller frees). Color or 16-bit files are converted to 8-bit gray. On
 * error *pix is NULL and *w, *h are 0. */
clgan_status clgan_png_read_gray(const char *path, uint8_t **pix, int *w, int *h)
{
    clgan_status st = CLGAN_OK;
    uint8_t *buf = NULL;
    png_image img;
    size_t bytes;
    FILE *f;
    *pix = NULL;
    *w = *h = 0;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    f = fopen(path, "rb");
    if (!f)
        return clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (!png_image_begin_read_from_stdio(&img, f)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: not a readable PNG: %s", path, img.message);
        goto done;
    }
    img.format = PNG_FORMAT_GRAY;
    if (img.width > INT_MAX || img.height > INT_MAX ||
        img.height > SIZE_MAX / img.width) {
        st = clgan_error(CLGAN_EFORMAT, "%s: PNG size %ux%u is too large", path,
                         (unsigned)img.width, (unsigned)img.height);
        goto done;
    }
    bytes = (size_t)img.width * img.height;
    buf = calloc(bytes, 1);
    if (!buf) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu pixels", path, bytes);
        goto done;
    }
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: corrupt PNG: %s", path, img.message);
        goto done;
    }
    *pix = buf;
    *w = (int)img.width;
    *h = (int)img.height;
    buf = NULL;
done:
    free(buf);
    png_image_free(&img);
    fclose(f);
    return st;
}

/* *pix malloc'd (caller frees); imgs borrowed, (n, ih, iw, ic). The picture is
 * (rows*ih + (rows-1)*pad) x (cols*iw + (cols-1)*pad) pixels of ic bytes: tiles row-major,
 * pad-pixel black gaps between tiles and none around the edge. NaN maps to 0. On error
 * *pix is NULL. */
clgan_status clgan_grid_make_nhwc(uint8_t **pix, int *w, int *h, const float *imgs, int n,
                                  int ih, int iw, int ic, int rows, int cols, int pad,
                                  float lo, float hi)
{
    long long gw, gh;
    float scale;
    uint8_t *out;
    *pix = NULL;
    *w = *h = 0;
    if (n < 0 || ih < 1 || iw < 1 || (ic != 1 && ic != 3) || rows < 1 || cols < 1 || pad < 0 ||
        !(hi > lo) || (n > 0 && !imgs))
        return clgan_error(CLGAN_EINVAL,
                           "grid: bad arguments (n=%d, image %dx%dx%d, grid %dx%d, pad %d, "
                           "range [%g, %g])", n, ih, iw, ic, rows, cols, pad, lo, hi);
    gw = (long long)cols * iw + (long long)(cols - 1) * pad;
    gh = (long long)rows * ih + (long long)(rows - 1) * pad;
    if (gw > INT_MAX || gh > INT_MAX || (unsigned long long)gh > SIZE_MAX / (size_t)gw / (size_t)ic)
        return clgan_error(CLGAN_EINVAL, "grid: %lldx%lld pixels is too large", gw, gh);
    out = calloc((size_t)gw * (size_t)gh * (size_t)ic, 1);
    if (!out)
        return clgan_error(CLGAN_ENOMEM, "grid: out of memory for %lldx%lld pixels", gw, gh);
    scale = 255.0f / (hi - lo);
    for (int t = 0; t < n && t < (long long)rows * cols; t++) {
        const float *src = imgs + (size_t)t * ih * iw * ic;
        size_t x0 = (size_t)(t % cols) * (size_t)(iw + pad);
        size_t y0 = (size_t)(t / cols) * (size_t)(ih + pad);
        size_t row = (size_t)iw * ic; /* a tile row, in bytes as in floats */
        for (int y = 0; y < ih; y++) {
            uint8_t *dst = out + ((y0 + (size_t)y) * (size_t)gw + x0) * ic;
            for (size_t x = 0; x < row; x++) {
                float v = (src[(size_t)y * row + x] - lo) * scale + 0.5f;
                dst[x] = !(v > 0.0f) ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
            }
        }
    }
    *pix = out;
    *w = (int)gw;
    *h = (int)gh;
    return CLGAN_OK;
}

clgan_status clgan_grid_make(uint8_t **pix, int *w, int *h, const float *imgs, int n,
                             int ih, int iw, int rows, int cols, int pad, float lo,
                             float hi)
{
    return clgan_grid_make_nhwc(pix, w, h, imgs, n, ih, iw, 1, rows, cols, pad, lo, hi);
}
