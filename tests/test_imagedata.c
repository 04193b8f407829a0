/* test_imagedata.c - training images from PNG files: the reader (every colour type, bit
 * depth, alpha and transparency, against hand-computed values), odd and corrupt files, the
 * resampler and crop, a directory load with its skips, and the RGB grid and GIF. The PNGs
 * are made here byte by byte (zlib for IDAT and CRCs), so no binary fixture is committed.
 * Needs no device. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gif_lib.h>
#include <zlib.h>

#include "clgan/io.h"
#include "testutil.h"

static char dir[1024];

static const char *P(const char *name)
{
    static char bufs[4][1200];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

/* ---- a minimal PNG writer: any colour type and depth, unfiltered rows -------------------- */

typedef struct {
    uint8_t *b;
    size_t n, cap;
} bytes;

static void put(bytes *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put32(bytes *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(o, b, 4);
}

static void chunk(bytes *o, const char *type, const void *data, size_t n)
{
    uLong crc = crc32(0, (const Bytef *)type, 4);
    if (n)
        crc = crc32(crc, data, (uInt)n);
    put32(o, (uint32_t)n);
    put(o, type, 4);
    if (n)
        put(o, data, n);
    put32(o, (uint32_t)crc);
}

/* A PNG of w x h with colour type `ct` and `depth`; `raw` holds the packed rows without
 * filter bytes. plte/trns optional (n entries / bytes). */
static bytes make_png(int w, int h, int ct, int depth, const uint8_t *raw, size_t row_bytes,
                      const uint8_t *plte, int n_plte, const uint8_t *trns, int n_trns)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    bytes o = {0}, ihdr = {0};
    size_t fl = (row_bytes + 1) * (size_t)h;
    uint8_t *filt = calloc(fl, 1), *z;
    uLongf zn = compressBound((uLong)fl);
    for (int y = 0; y < h; y++)
        memcpy(filt + y * (row_bytes + 1) + 1, raw + y * row_bytes, row_bytes);
    z = malloc(zn);
    compress(z, &zn, filt, (uLong)fl);
    put(&o, sig, 8);
    put32(&ihdr, (uint32_t)w);
    put32(&ihdr, (uint32_t)h);
    uint8_t rest[5] = {(uint8_t)depth, (uint8_t)ct, 0, 0, 0};
    put(&ihdr, rest, 5);
    chunk(&o, "IHDR", ihdr.b, ihdr.n);
    if (plte)
        chunk(&o, "PLTE", plte, (size_t)n_plte * 3);
    if (trns)
        chunk(&o, "tRNS", trns, (size_t)n_trns);
    chunk(&o, "IDAT", z, zn);
    chunk(&o, "IEND", NULL, 0);
    free(ihdr.b);
    free(filt);
    free(z);
    return o;
}

static void save(const char *path, bytes b, size_t keep)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.b, 1, keep, f) != keep)
        fprintf(stderr, "cannot write fixture %s\n", path);
    if (f)
        fclose(f);
}

static void save_png(const char *name, bytes b)
{
    save(P(name), b, b.n);
    free(b.b);
}

/* Reads `name` with `channels` and compares with want[0..n). */
static void expect_pixels(const char *name, int channels, int w, int h, const uint8_t *want,
                          int want_file_channels)
{
    uint8_t *pix = NULL;
    int gw, gh, fc;
    clgan_status st = clgan_png_read_image(P(name), channels, 0, &pix, &gw, &gh, &fc);
    CHECK_OK(st);
    if (st != CLGAN_OK)
        return;
    CHECK(gw == w && gh == h);
    CHECK(fc == want_file_channels);
    size_t n = (size_t)w * h * channels;
    int same = gw == w && gh == h && !memcmp(pix, want, n);
    CHECK(same);
    if (!same) {
        fprintf(stderr, "  %s (%d ch): got", name, channels);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %d", pix[i]);
        fprintf(stderr, ", want");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %d", want[i]);
        fprintf(stderr, "\n");
    } else {
        printf("  %s as %d channel%s: ok\n", name, channels, channels > 1 ? "s" : "");
    }
    free(pix);
}

static void expect_fail(const char *path, clgan_status want, const char *what)
{
    uint8_t *pix = (uint8_t *)1;
    int w = 1, h = 1;
    clgan_status got = clgan_png_read_image(path, 1, 0, &pix, &w, &h, NULL);
    CHECK(got == want && pix == NULL && w == 0 && h == 0);
    if (got != want)
        fprintf(stderr, "  %s: got %s, want %s (%s)\n", what, clgan_status_str(got),
                clgan_status_str(want), clgan_error_msg());
    else
        printf("  %s -> %s: %s\n", what, clgan_status_str(got), clgan_error_msg());
    clgan_error_clear();
}

static void test_reader(void)
{
    /* 8-bit gray: as stored; RGB replicates. */
    const uint8_t gray[6] = {0, 100, 255, 7, 8, 9};
    save_png("gray8.png", make_png(3, 2, 0, 8, gray, 3, NULL, 0, NULL, 0));
    expect_pixels("gray8.png", 1, 3, 2, gray, 1);
    const uint8_t gray_rgb[18] = {0, 0, 0, 100, 100, 100, 255, 255, 255, 7, 7, 7, 8, 8, 8, 9, 9, 9};
    expect_pixels("gray8.png", 3, 3, 2, gray_rgb, 1);

    /* RGB: luma Y = (299 R + 587 G + 114 B + 500) / 1000:
     * (200,100,50) -> (59800 + 58700 + 5700 + 500) / 1000 = 124; (0,0,255) -> 29;
     * (255,255,255) -> 255. */
    const uint8_t rgb[9] = {200, 100, 50, 0, 0, 255, 255, 255, 255};
    save_png("rgb8.png", make_png(3, 1, 2, 8, rgb, 9, NULL, 0, NULL, 0));
    expect_pixels("rgb8.png", 3, 3, 1, rgb, 3);
    const uint8_t rgb_y[3] = {124, 29, 255};
    expect_pixels("rgb8.png", 1, 3, 1, rgb_y, 3);

    /* RGBA over black: v' = (v a + 127) / 255. (200,100,50,128) -> (100, 50, 25), Y 62;
     * alpha 0 -> black whatever the colour; alpha 255 unchanged. */
    const uint8_t rgba[12] = {200, 100, 50, 128, 255, 255, 255, 0, 10, 20, 30, 255};
    save_png("rgba8.png", make_png(3, 1, 6, 8, rgba, 12, NULL, 0, NULL, 0));
    const uint8_t rgba_rgb[9] = {100, 50, 25, 0, 0, 0, 10, 20, 30};
    expect_pixels("rgba8.png", 3, 3, 1, rgba_rgb, 4);
    const uint8_t rgba_y[3] = {62, 0, 18}; /* (2990 + 11740 + 3420 + 500) / 1000 = 18 */
    expect_pixels("rgba8.png", 1, 3, 1, rgba_y, 4);

    /* Gray + alpha: (255, 0) -> 0, (255, 255) -> 255, (100, 51) -> 5227 / 255 = 20. */
    const uint8_t ga[6] = {255, 0, 255, 255, 100, 51};
    save_png("ga8.png", make_png(3, 1, 4, 8, ga, 6, NULL, 0, NULL, 0));
    const uint8_t ga_y[3] = {0, 255, 20};
    expect_pixels("ga8.png", 1, 3, 1, ga_y, 2);

    /* Palette with tRNS: entry 1 fully transparent -> black; 4-bit indices. */
    const uint8_t plte[9] = {255, 0, 0, 0, 0, 255, 10, 200, 30};
    const uint8_t trns[2] = {255, 0};
    const uint8_t idx4[2] = {0x01, 0x20}; /* indices 0, 1, 2, (pad) */
    save_png("pal4.png", make_png(3, 1, 3, 4, idx4, 2, plte, 3, trns, 2));
    const uint8_t pal_rgb[9] = {255, 0, 0, 0, 0, 0, 10, 200, 30};
    expect_pixels("pal4.png", 3, 3, 1, pal_rgb, 4);

    /* 16-bit without gAMA: taken as sRGB, v / 257. */
    const uint8_t g16[6] = {0x00, 0x00, 0x80, 0x80, 0xff, 0xff};
    save_png("gray16.png", make_png(3, 1, 0, 16, g16, 6, NULL, 0, NULL, 0));
    const uint8_t g16_y[3] = {0, 128, 255};
    expect_pixels("gray16.png", 1, 3, 1, g16_y, 1);
    const uint8_t rgb16[6] = {0x0a, 0x0a, 0x14, 0x14, 0x1e, 0x1e}; /* 257 * (10, 20, 30) */
    save_png("rgb16.png", make_png(1, 1, 2, 16, rgb16, 6, NULL, 0, NULL, 0));
    const uint8_t rgb16_8[3] = {10, 20, 30};
    expect_pixels("rgb16.png", 3, 1, 1, rgb16_8, 3);

    /* 1-bit gray: 1 0 1 -> 255 0 255. */
    const uint8_t bits[1] = {0xa0};
    save_png("gray1.png", make_png(3, 1, 0, 1, bits, 1, NULL, 0, NULL, 0));
    const uint8_t bits_y[3] = {255, 0, 255};
    expect_pixels("gray1.png", 1, 3, 1, bits_y, 1);

    /* Odd and corrupt files: an error each, nothing allocated, never a crash or a hang. */
    bytes ok = make_png(3, 2, 0, 8, gray, 3, NULL, 0, NULL, 0);
    save(P("trunc.png"), ok, ok.n - 20); /* cut inside IDAT */
    expect_fail(P("trunc.png"), CLGAN_EFORMAT, "truncated PNG");
    save(P("header_only.png"), ok, 8 + 25);
    expect_fail(P("header_only.png"), CLGAN_EFORMAT, "PNG with its header only");
    ok.b[8 + 8 + 13] ^= 0xff; /* IHDR's CRC */
    save(P("badcrc.png"), ok, ok.n);
    expect_fail(P("badcrc.png"), CLGAN_EFORMAT, "PNG with a bad IHDR CRC");
    free(ok.b);
    save(P("empty.png"), (bytes){(uint8_t *)"", 0, 0}, 0);
    expect_fail(P("empty.png"), CLGAN_EFORMAT, "empty file");
    save(P("text.png"), (bytes){(uint8_t *)"hello, not a png at all", 0, 0}, 23);
    expect_fail(P("text.png"), CLGAN_EFORMAT, "text named .png");
    expect_fail(P("missing.png"), CLGAN_EIO, "missing file");
    mkdir(P("adir"), 0755);
    expect_fail(P("adir"), CLGAN_EIO, "a directory");
    CHECK(mkfifo(P("fifo.png"), 0644) == 0);
    expect_fail(P("fifo.png"), CLGAN_EIO, "a FIFO (no writer: a blocking open would hang)");
    /* A header claiming 100000 x 100000 (10^10 pixels): refused before any decode. */
    const uint8_t one = 0;
    bytes huge = make_png(1, 1, 0, 8, &one, 1, NULL, 0, NULL, 0);
    uint8_t wh[8] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0};
    memcpy(huge.b + 16, wh, 8);
    uLong crc = crc32(crc32(0, (const Bytef *)"IHDR", 4), huge.b + 16, 13);
    for (int i = 0; i < 4; i++)
        huge.b[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    save_png("huge.png", huge);
    expect_fail(P("huge.png"), CLGAN_ELIMIT, "10^10-pixel header");
    /* The bound is exact: 6 pixels pass a limit of 6 and fail one of 5. */
    uint8_t *pix;
    int w, h;
    CHECK_OK(clgan_png_read_image(P("gray8.png"), 1, 6, &pix, &w, &h, NULL));
    free(pix);
    CHECK(clgan_png_read_image(P("gray8.png"), 1, 5, &pix, &w, &h, NULL) == CLGAN_ELIMIT);
    CHECK(clgan_png_read_image(P("gray8.png"), 2, 0, &pix, &w, &h, NULL) == CLGAN_EINVAL);
    clgan_error_clear();
}

/* ---- resampling --------------------------------------------------------------------------- */

static void expect_resize(const char *what, const uint8_t *src, int sw, int sh, int c, int dw,
                          int dh, const uint8_t *want)
{
    uint8_t out[256];
    size_t n = (size_t)dw * dh * c;
    CHECK_OK(clgan_image_resize(out, dw, dh, src, sw, sh, (size_t)sw * c, c));
    int same = !memcmp(out, want, n);
    CHECK(same);
    if (!same) {
        fprintf(stderr, "  %s: got", what);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %d", out[i]);
        fprintf(stderr, "\n");
    } else {
        printf("  resize %s: ok\n", what);
    }
}

static void test_resize(void)
{
    /* Area, 3 -> 2: (10 + 20/2) / 1.5 = 13.3, (20/2 + 40) / 1.5 = 33.3. */
    const uint8_t a3[3] = {10, 20, 40}, a3w[2] = {13, 33};
    expect_resize("area 3->2", a3, 3, 1, 1, 2, 1, a3w);
    /* Area, 4 -> 2: pair means, 25.5 rounds up. */
    const uint8_t a4[4] = {0, 10, 20, 31}, a4w[2] = {5, 26};
    expect_resize("area 4->2 (half up)", a4, 4, 1, 1, 2, 1, a4w);
    /* Area, 5 -> 2 in y: (1 * 0 + 1 * 50 + 0.5 * 100) / 2.5 = 40; (0.5*100 + 150 + 200)/2.5 = 160. */
    const uint8_t a5[5] = {0, 50, 100, 150, 200}, a5w[2] = {40, 160};
    expect_resize("area 5->2 (columns)", a5, 1, 5, 1, 1, 2, a5w);
    /* Bilinear, 2 -> 4: centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped). */
    const uint8_t b2[2] = {0, 100}, b2w[4] = {0, 25, 75, 100};
    expect_resize("bilinear 2->4", b2, 2, 1, 1, 4, 1, b2w);
    /* Bilinear 2x2 -> 3x3: the middle row/column is the mean of its neighbours. */
    const uint8_t q[4] = {0, 100, 200, 255};
    const uint8_t q3[9] = {0, 50, 100, 100, 139 /* 138.75 */, 178 /* 177.5 */, 200, 228, 255};
    expect_resize("bilinear 2x2->3x3", q, 2, 2, 1, 3, 3, q3);
    /* Both at once: 4x1 -> 2x2 shrinks x and enlarges y (a single row is repeated). */
    const uint8_t m[4] = {0, 10, 20, 30}, mw[4] = {5, 25, 5, 25};
    expect_resize("area x, bilinear y", m, 4, 1, 1, 2, 2, mw);
    /* 4x4 -> 2x2: the mean of each 2x2 block. */
    const uint8_t b4[16] = {0, 2, 10, 10, 4, 6, 10, 10, 100, 100, 7, 7, 100, 101, 7, 8};
    const uint8_t b4w[4] = {3, 10, 100 /* 100.25 */, 7 /* 7.25 */};
    expect_resize("area 4x4->2x2", b4, 4, 4, 1, 2, 2, b4w);
    /* Channels stay apart. */
    const uint8_t c2[6] = {0, 100, 200, 100, 200, 0}, c2w[3] = {50, 150, 100};
    expect_resize("RGB 2->1", c2, 2, 1, 3, 1, 1, c2w);
    /* Same size: a copy. */
    expect_resize("identity", b4, 4, 4, 1, 4, 4, b4);
    /* A crop through the stride: the middle 2x2 of a 4x4. */
    uint8_t out[4];
    const uint8_t mid[4] = {6, 10, 100, 7};
    CHECK_OK(clgan_image_resize(out, 2, 2, b4 + 4 + 1, 2, 2, 4, 1));
    CHECK(!memcmp(out, mid, 4));
    /* Flat images stay flat at any scale (weights sum to 1). */
    uint8_t flat[7 * 5], big[13 * 11], small[3 * 2];
    memset(flat, 77, sizeof flat);
    CHECK_OK(clgan_image_resize(big, 13, 11, flat, 7, 5, 7, 1));
    CHECK_OK(clgan_image_resize(small, 3, 2, flat, 7, 5, 7, 1));
    int ok = 1;
    for (size_t i = 0; i < sizeof big; i++)
        ok &= big[i] == 77;
    for (size_t i = 0; i < sizeof small; i++)
        ok &= small[i] == 77;
    CHECK(ok);
    CHECK(clgan_image_resize(out, 0, 2, b4, 4, 4, 4, 1) == CLGAN_EINVAL);
    CHECK(clgan_image_resize(out, 2, 2, b4, 4, 4, 3, 1) == CLGAN_EINVAL); /* stride < row */
    clgan_error_clear();

    /* Crops: centred, the odd pixel on the right / bottom. */
    int x0, y0, cw, ch;
    clgan_image_crop_box(20, 12, 16, 16, &x0, &y0, &cw, &ch);
    CHECK(x0 == 4 && y0 == 0 && cw == 12 && ch == 12);
    clgan_image_crop_box(9, 30, 16, 16, &x0, &y0, &cw, &ch);
    CHECK(x0 == 0 && y0 == 10 && cw == 9 && ch == 9);
    clgan_image_crop_box(5, 4, 2, 2, &x0, &y0, &cw, &ch);
    CHECK(x0 == 0 && y0 == 0 && cw == 4 && ch == 4);
    clgan_image_crop_box(28, 28, 32, 32, &x0, &y0, &cw, &ch);
    CHECK(x0 == 0 && y0 == 0 && cw == 28 && ch == 28);
    clgan_image_crop_box(3, 1, 2, 1, &x0, &y0, &cw, &ch); /* 3:1 to 2:1 -> 2 of 3 columns */
    CHECK(x0 == 0 && cw == 2 && ch == 1);
    /* fit = crop + resize: the middle of 10 50 90 is 50. */
    const uint8_t row3[3] = {10, 50, 90};
    uint8_t one;
    CHECK_OK(clgan_image_fit(&one, 1, 1, row3, 3, 1, 1));
    CHECK(one == 50);
}

/* ---- a directory --------------------------------------------------------------------------- */

static void test_dir(void)
{
    char sub[900];
    snprintf(sub, sizeof sub, "%.850s/set", dir);
    mkdir(sub, 0755);
    snprintf(dir, sizeof dir, "%s", sub); /* P() now names files in set/ */
    const uint8_t g4[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
    save_png("b_gray.png", make_png(4, 4, 0, 8, g4, 4, NULL, 0, NULL, 0));
    uint8_t rgb[8 * 4 * 3];
    for (int i = 0; i < 8 * 4; i++)
        rgb[3 * i] = 200, rgb[3 * i + 1] = 100, rgb[3 * i + 2] = 50;
    save_png("a_rgb.png", make_png(8, 4, 2, 8, rgb, 24, NULL, 0, NULL, 0));
    const uint8_t plte[3] = {0, 0, 255}, idx[2] = {0, 0};
    save_png("c_pal.png", make_png(2, 1, 3, 8, idx, 2, plte, 1, NULL, 0));
    save(P("d_empty.png"), (bytes){(uint8_t *)"", 0, 0}, 0);
    save(P("e_notes.txt"), (bytes){(uint8_t *)"not an image", 0, 0}, 12);
    bytes t = make_png(4, 4, 0, 8, g4, 4, NULL, 0, NULL, 0);
    save(P("f_trunc.png"), t, t.n - 16);
    free(t.b);
    mkdir(P("g_subdir"), 0755);
    CHECK(mkfifo(P("h_fifo.png"), 0644) == 0);
    save(P(".hidden.png"), (bytes){(uint8_t *)"ignored", 0, 0}, 7);
    save(P("i_text.png"), (bytes){(uint8_t *)"PNG? no", 0, 0}, 7);

    clgan_imagedir d;
    CHECK_OK(clgan_imagedir_load(&d, dir, 2, 1, 0));
    CHECK(d.count == 3 && d.h == 2 && d.w == 2 && d.c == 1);
    CHECK(d.skipped == 6);       /* d..i except the hidden file, which is not an entry */
    CHECK(d.color_files == 2);   /* a_rgb, c_pal */
    int lines = 0;
    for (const char *s = d.skip_log; s && *s; s++)
        lines += *s == '\n';
    CHECK(lines == CLGAN_IMAGEDIR_LOGGED);
    CHECK(d.skip_log && strstr(d.skip_log, "d_empty.png: empty file"));
    printf("  directory: %zu images, %zu skipped; log:\n%s", d.count, d.skipped,
           d.skip_log ? d.skip_log : "");
    if (d.count == 3) {
        /* Sorted: a_rgb (8x4 -> centre 4x4 -> 2x2, luma of (200,100,50) = 124), b_gray
         * (2x2 block means: 25, 45, 105, 125), c_pal (2x1 -> 1x1 crop -> (0,0,255): 29). */
        const uint8_t want[12] = {124, 124, 124, 124, 25, 45, 105, 125, 29, 29, 29, 29};
        CHECK(!memcmp(d.images, want, 12));
    }
    clgan_imagedir_free(&d);
    clgan_imagedir_free(&d); /* twice is safe */

    /* Size 0: the first image's size (a_rgb, 8x4), the others cropped to 2:1. RGB kept. */
    CHECK_OK(clgan_imagedir_load(&d, dir, 0, 3, 0));
    CHECK(d.count == 3 && d.w == 8 && d.h == 4 && d.c == 3);
    if (d.count == 3)
        CHECK(d.images[0] == 200 && d.images[1] == 100 && d.images[2] == 50 &&
              d.images[2 * 96] == 0 && d.images[2 * 96 + 2] == 255); /* c_pal's blue */
    clgan_imagedir_free(&d);

    /* Nothing readable, nothing at all, no directory: errors with one line. */
    clgan_status st;
    char bad[1000], none[1000];
    snprintf(bad, sizeof bad, "%.900s/bad", sub);
    mkdir(bad, 0755);
    snprintf(dir, sizeof dir, "%s", bad);
    save(P("x.png"), (bytes){(uint8_t *)"xx", 0, 0}, 2);
    save(P("y.png"), (bytes){(uint8_t *)"", 0, 0}, 0);
    st = clgan_imagedir_load(&d, bad, 8, 1, 0);
    CHECK(st == CLGAN_EFORMAT && d.images == NULL && d.count == 0);
    CHECK(!strchr(clgan_error_msg(), '\n') && strstr(clgan_error_msg(), "2 entries"));
    printf("  unreadable directory -> %s: %s\n", clgan_status_str(st), clgan_error_msg());
    snprintf(none, sizeof none, "%.900s/none", sub);
    mkdir(none, 0755);
    st = clgan_imagedir_load(&d, none, 8, 1, 0);
    CHECK(st == CLGAN_EFORMAT);
    printf("  empty directory -> %s: %s\n", clgan_status_str(st), clgan_error_msg());
    snprintf(none, sizeof none, "%.900s/missing", sub);
    CHECK(clgan_imagedir_load(&d, none, 8, 1, 0) == CLGAN_EIO);
    clgan_error_clear();
}

/* ---- RGB grid and GIF ------------------------------------------------------------------------ */

static void test_grid_gif(void)
{
    /* Two 1x2 RGB images, -1..1: a red/green pair and a blue/white one, in a 1x2 grid with a
     * 1-pixel gap: 5 pixels wide, RGB triples, the gap black. */
    const float imgs[12] = {1, -1, -1, -1, 1, -1, -1, -1, 1, 1, 1, 1};
    uint8_t *pix = NULL;
    int w, h;
    CHECK_OK(clgan_grid_make_nhwc(&pix, &w, &h, imgs, 2, 1, 2, 3, 1, 2, 1, -1.0f, 1.0f));
    const uint8_t want[15] = {255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255};
    CHECK(w == 5 && h == 1 && pix && !memcmp(pix, want, 15));
    free(pix);
    CHECK(clgan_grid_make_nhwc(&pix, &w, &h, imgs, 2, 1, 2, 2, 1, 2, 1, -1.0f, 1.0f) == CLGAN_EINVAL);
    clgan_error_clear();

    /* RGB GIF, two frames. Frame 0 has 256 colours: each gets its own palette entry, exact
     * to the quantizer's 5 bits per channel (an error below 8). Frame 1 is a smooth
     * gradient of 24 * 40 colours: the median cut must beat a fixed 3-3-2 palette on it
     * (the alternative to a palette per frame), measured as mean channel error. */
    enum { W = 40, H = 24 };
    static uint8_t f[2][W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = f[0] + 3 * (y * W + x), *q = f[1] + 3 * (y * W + x);
            p[0] = (uint8_t)(17 * (x % 16));
            p[1] = (uint8_t)(17 * ((x / 16 + 3 * y) % 16));
            p[2] = 90;
            q[0] = (uint8_t)(6 * x);
            q[1] = (uint8_t)(255 - 10 * y);
            q[2] = (uint8_t)(3 * x + 4 * y);
        }
    clgan_gif *g;
    CHECK_OK(clgan_gif_open_rgb(&g, P("rgb.gif"), W, H, 10));
    CHECK_OK(clgan_gif_add(g, f[0]));
    CHECK_OK(clgan_gif_add(g, f[1]));
    CHECK_OK(clgan_gif_close(g));
    int frames, gw, gh, err;
    CHECK_OK(clgan_gif_probe(P("rgb.gif"), &frames, &gw, &gh));
    CHECK(frames == 2 && gw == W && gh == H);
    GifFileType *gf = DGifOpenFileName(P("rgb.gif"), &err);
    CHECK(gf && DGifSlurp(gf) == GIF_OK);
    for (int k = 0; gf && k < gf->ImageCount && k < 2; k++) {
        const SavedImage *si = &gf->SavedImages[k];
        const ColorMapObject *map = si->ImageDesc.ColorMap;
        int worst = 0;
        double sum = 0, sum332 = 0;
        CHECK(map != NULL);
        for (int i = 0; map && i < W * H * 3; i++) {
            const GifColorType *c = &map->Colors[si->RasterBits[i / 3]];
            int v = f[k][i], got = i % 3 == 0 ? c->Red : i % 3 == 1 ? c->Green : c->Blue;
            double step = 255.0 / (i % 3 == 2 ? 3 : 7); /* 3-3-2: 8, 8 and 4 levels */
            worst = abs(got - v) > worst ? abs(got - v) : worst;
            sum += abs(got - v);
            sum332 += fabs(floor(v / step + 0.5) * step - v);
        }
        printf("  RGB GIF frame %d: channel error max %d, mean %.2f (a fixed 3-3-2 palette: "
               "mean %.2f)\n", k, worst, sum / (W * H * 3), sum332 / (W * H * 3));
        if (k == 0)
            CHECK(worst < 8);
        else
            CHECK(sum < sum332);
    }
    if (gf)
        DGifCloseFile(gf, &err);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("test_imagedata"));
    test_reader();
    test_resize();
    test_grid_gif();
    test_dir();
    return tu_finish("test_imagedata");
}
