/* image.c - training images from PNG files: decodes any PNG to 8-bit gray or RGB (libpng's
 * simplified reader does palette, bit depth and 16-bit), composites alpha, converts
 * channels, and center-crops and resamples to a training size. Writes no files. */
#include "clgan/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a non-regular file is, for the message. */
static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
         : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a regular file";
}

/* Opens `path` for reading without blocking on a FIFO and checks it is a non-empty regular
 * file. On success *f is open (caller closes); on error *f is NULL. */
static clgan_status open_regular(const char *path, FILE **f)
{
    struct stat sb;
    int fd;
    *f = NULL;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0) {
        clgan_status st = clgan_error(CLGAN_EIO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return clgan_error(CLGAN_EIO, "%s: %s, not an image file", path, file_kind(sb.st_mode));
    }
    if (sb.st_size == 0) {
        close(fd);
        return clgan_error(CLGAN_EFORMAT, "%s: empty file", path);
    }
    *f = fdopen(fd, "rb");
    if (!*f) {
        clgan_status st = clgan_error(CLGAN_EIO, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    return CLGAN_OK;
}

/* In place: n RGBA pixels -> n pixels of `channels` (1 or 3) with alpha composited over
 * black. The output never runs ahead of the input, so one buffer serves both. */
static void rgba_to(uint8_t *p, size_t n, int channels)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = p + 4 * i;
        unsigned a = s[3];
        unsigned r = (s[0] * a + 127) / 255, g = (s[1] * a + 127) / 255, b = (s[2] * a + 127) / 255;
        if (channels == 3) {
            p[3 * i] = (uint8_t)r;
            p[3 * i + 1] = (uint8_t)g;
            p[3 * i + 2] = (uint8_t)b;
        } else {
            p[i] = (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
        }
    }
}

/* *pix malloc'd (caller frees). On error *pix is NULL, *w = *h = 0 and nothing is held. */
clgan_status clgan_png_read_image(const char *path, int channels, size_t max_pixels,
                                  uint8_t **pix, int *w, int *h, int *file_channels)
{
    clgan_status st = CLGAN_OK;
    uint8_t *buf = NULL, *fit;
    png_image img;
    size_t n;
    FILE *f;
    *pix = NULL;
    *w = *h = 0;
    if (file_channels)
        *file_channels = 0;
    if (channels != 1 && channels != 3)
        return clgan_error(CLGAN_EINVAL, "%s: %d channels requested (1 or 3)", path, channels);
    if (!max_pixels)
        max_pixels = CLGAN_IMAGE_MAX_PIXELS;
    if ((st = open_regular(path, &f)) != CLGAN_OK)
        return st;
    png_byte sig[8];
    if (fread(sig, 1, sizeof sig, f) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(f);
        return clgan_error(CLGAN_EFORMAT, "%s: not a PNG file (no PNG signature)", path);
    }
    rewind(f);
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&img, f)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: not a readable PNG: %s", path, img.message);
        goto done;
    }
    if (file_channels)
        *file_channels = (int)PNG_IMAGE_SAMPLE_CHANNELS(img.format);
    /* The header's size bounds the decode before any pixel memory is taken. */
    if (img.width == 0 || img.height == 0 || img.width > INT_MAX || img.height > INT_MAX ||
        (size_t)img.height > max_pixels / img.width) {
        st = clgan_error(CLGAN_ELIMIT, "%s: %ux%u pixels is more than the limit of %zu", path,
                         (unsigned)img.width, (unsigned)img.height, max_pixels);
        goto done;
    }
    n = (size_t)img.width * img.height;
    img.format = PNG_FORMAT_RGBA;
    img.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    buf = malloc(4 * n);
    if (!buf) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory for %zu pixels", path, n);
        goto done;
    }
    if (!png_image_finish_read(&img, NULL, buf, 0, NULL)) {
        st = clgan_error(CLGAN_EFORMAT, "%s: corrupt or truncated PNG: %s", path, img.message);
        goto done;
    }
    rgba_to(buf, n, channels);
    fit = realloc(buf, n * (size_t)channels);
    *pix = fit ? fit : buf;
    *w = (int)img.width;
    *h = (int)img.height;
    buf = NULL;
done:
    free(buf);
    png_image_free(&img);
    fclose(f);
    return st;
}

/* ---- resampling ------------------------------------------------------------------------- */

/* One axis of a resampling: output i = sum over its taps k of wt[k] * source[idx[k]]. */
typedef struct {
    int *start;   /* (dn + 1): taps of output i are [start[i], start[i + 1]) */
    int *idx;     /* source index of each tap */
    double *wt;   /* weight of each tap; the weights of an output sum to 1 */
} axis_map;

static void axis_free(axis_map *m)
{
    free(m->start);
    free(m->idx);
    free(m->wt);
    memset(m, 0, sizeof *m);
}

/* The taps mapping sn source pixels onto dn outputs (see clgan_image_resize). */
static clgan_status axis_make(axis_map *m, int sn, int dn)
{
    /* Area: an output covers sn/dn source pixels, so at most sn/dn + 2 partial ones. */
    size_t per = dn < sn ? (size_t)(sn / dn) + 2 : 2, k = 0;
    memset(m, 0, sizeof *m);
    m->start = malloc(((size_t)dn + 1) * sizeof *m->start);
    m->idx = malloc((size_t)dn * per * sizeof *m->idx);
    m->wt = malloc((size_t)dn * per * sizeof *m->wt);
    if (!m->start || !m->idx || !m->wt) {
        axis_free(m);
        return clgan_error(CLGAN_ENOMEM, "resize: out of memory for %d -> %d taps", sn, dn);
    }
    for (int i = 0; i < dn; i++) {
        m->start[i] = (int)k;
        if (dn == sn) {
            m->idx[k] = i;
            m->wt[k++] = 1.0;
        } else if (dn < sn) {
            /* In units of 1/dn of a source pixel: output i spans [i*sn, (i+1)*sn), source
             * pixel j spans [j*dn, (j+1)*dn); weights are exact overlaps / sn. */
            long long lo = (long long)i * sn, hi = lo + sn;
            for (long long j = lo / dn; j * dn < hi; j++) {
                long long a = j * dn > lo ? j * dn : lo, b = (j + 1) * dn < hi ? (j + 1) * dn : hi;
                if (b > a) {
                    m->idx[k] = (int)j;
                    m->wt[k++] = (double)(b - a) / (double)sn;
                }
            }
        } else {
            double x = ((double)i + 0.5) * sn / dn - 0.5;
            if (x < 0)
                x = 0;
            if (x > sn - 1)
                x = sn - 1;
            int j0 = (int)floor(x), j1 = j0 + 1 < sn ? j0 + 1 : j0;
            double f = x - j0;
            m->idx[k] = j0;
            m->wt[k++] = 1.0 - f;
            if (f > 0 && j1 != j0) {
                m->idx[k] = j1;
                m->wt[k++] = f;
            }
        }
    }
    m->start[dn] = (int)k;
    return CLGAN_OK;
}

clgan_status clgan_image_resize(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw,
                                int sh, size_t stride, int c)
{
    axis_map mx = {0}, my = {0};
    double *tmp = NULL;
    clgan_status st;
    if (!dst || !src || dw < 1 || dh < 1 || sw < 1 || sh < 1 || c < 1 || c > 4 ||
        stride < (size_t)sw * c)
        return clgan_error(CLGAN_EINVAL, "resize: bad arguments (%dx%d -> %dx%d, %d channels)",
                           sw, sh, dw, dh, c);
    if ((st = axis_make(&mx, sw, dw)) != CLGAN_OK || (st = axis_make(&my, sh, dh)) != CLGAN_OK)
        goto done;
    /* Rows first: tmp (sh, dw, c) in double, then columns into dst with rounding. */
    tmp = malloc((size_t)sh * dw * c * sizeof *tmp);
    if (!tmp) {
        st = clgan_error(CLGAN_ENOMEM, "resize: out of memory for %dx%d", dw, sh);
        goto done;
    }
    for (int y = 0; y < sh; y++) {
        const uint8_t *row = src + (size_t)y * stride;
        double *out = tmp + (size_t)y * dw * c;
        for (int x = 0; x < dw; x++)
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                for (int k = mx.start[x]; k < mx.start[x + 1]; k++)
                    s += mx.wt[k] * row[(size_t)mx.idx[k] * c + ch];
                out[(size_t)x * c + ch] = s;
            }
    }
    for (int y = 0; y < dh; y++)
        for (size_t i = 0; i < (size_t)dw * c; i++) {
            double s = 0;
            for (int k = my.start[y]; k < my.start[y + 1]; k++)
                s += my.wt[k] * tmp[(size_t)my.idx[k] * dw * c + i];
            s = floor(s + 0.5 + 1e-9); /* halves up, despite the sum's last-bit error */
            dst[(size_t)y * dw * c + i] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
        }
done:
    free(tmp);
    axis_free(&mx);
    axis_free(&my);
    return st;
}

void clgan_image_crop_box(int sw, int sh, int dw, int dh, int *x0, int *y0, int *cw, int *ch)
{
    long long w = sw, h = sh;
    if ((long long)sw * dh > (long long)sh * dw) /* wider than the target: crop columns */
        w = ((long long)sh * dw + dh / 2) / dh;
    else
        h = ((long long)sw * dh + dw / 2) / dw;
    w = w < 1 ? 1 : w > sw ? sw : w;
    h = h < 1 ? 1 : h > sh ? sh : h;
    *cw = (int)w;
    *ch = (int)h;
    *x0 = (sw - *cw) / 2;
    *y0 = (sh - *ch) / 2;
}

clgan_status clgan_image_fit(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw, int sh,
                             int c)
{
    int x0, y0, cw, ch;
    if (!src || sw < 1 || sh < 1 || dw < 1 || dh < 1 || c < 1 || c > 4)
        return clgan_error(CLGAN_EINVAL, "fit: bad arguments (%dx%d -> %dx%d, %d channels)", sw,
                           sh, dw, dh, c);
    clgan_image_crop_box(sw, sh, dw, dh, &x0, &y0, &cw, &ch);
    return clgan_image_resize(dst, dw, dh, src + ((size_t)y0 * sw + x0) * c, cw, ch,
                              (size_t)sw * c, c);
}
