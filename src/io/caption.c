/* caption.c - decorations for 8-bit gray or RGB pictures such as sample grids: a caption
 * strip under the picture written in a small built-in 5x7 bitmap font (digits, space
 * and the letters of "iteration"), and nearest-neighbour enlargement. Encodes nothing. */
#include "clgan/io.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GLYPH_W 5
#define GLYPH_H 7
#define ADVANCE (GLYPH_W + 1)
#define MARGIN 1

/* One glyph: 7 rows of 5 bits, the leftmost pixel in bit 4. */
typedef struct {
    char c;
    uint8_t rows[GLYPH_H];
} glyph;

static const glyph font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}},
    {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}},
    {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}},
    {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
};

static const glyph *find_glyph(char c)
{
    for (size_t i = 0; i < sizeof font / sizeof font[0]; i++)
        if (font[i].c == c)
            return &font[i];
    return NULL; /* drawn as a blank */
}

int clgan_caption_width(const char *text)
{
    size_t n = strlen(text);
    return n ? (int)(n * ADVANCE - 1 + 2 * MARGIN) : 0;
}

/* *pix replaced on success (the old picture freed); untouched on error. */
clgan_status clgan_image_caption(uint8_t **pix, int w, int *h, int c, const char *text)
{
    if (!pix || !*pix || w < 1 || !h || *h < 1 || c < 1 || c > 4 || !text)
        return clgan_error(CLGAN_EINVAL, "caption: bad picture (%d channels) or text", c);
    size_t row = (size_t)w * (size_t)c;
    if (*h > INT_MAX - CLGAN_CAPTION_H || (size_t)(*h + CLGAN_CAPTION_H) > SIZE_MAX / row)
        return clgan_error(CLGAN_EINVAL, "caption: %dx%d picture is too large", w, *h);
    size_t old = row * (size_t)*h;
    uint8_t *out = calloc(old + row * CLGAN_CAPTION_H, 1);
    if (!out)
        return clgan_error(CLGAN_ENOMEM, "caption: out of memory");
    memcpy(out, *pix, old);
    uint8_t *strip = out + old;
    for (size_t k = 0; text[k]; k++) {
        const glyph *g = find_glyph(text[k]);
        int x0 = MARGIN + (int)k * ADVANCE;
        for (int y = 0; g && y < GLYPH_H; y++)
            for (int x = 0; x < GLYPH_W && x0 + x < w; x++)
                if (g->rows[y] & (0x10 >> x))
                    memset(strip + (size_t)(MARGIN + y) * row + (size_t)(x0 + x) * (size_t)c, 255,
                           (size_t)c);
    }
    free(*pix);
    *pix = out;
    *h += CLGAN_CAPTION_H;
    return CLGAN_OK;
}

/* *pix replaced on success (the old picture freed); untouched on error. */
clgan_status clgan_image_upscale(uint8_t **pix, int *w, int *h, int c, int k)
{
    if (!pix || !*pix || !w || !h || *w < 1 || *h < 1 || c < 1 || c > 4 || k < 1 || k > 16)
        return clgan_error(CLGAN_EINVAL, "upscale: bad picture (%d channels) or factor %d (1 to 16)",
                           c, k);
    if (k == 1)
        return CLGAN_OK;
    if (*w > INT_MAX / k || *h > INT_MAX / k ||
        (size_t)(*h * k) > SIZE_MAX / ((size_t)*w * k * c))
        return clgan_error(CLGAN_EINVAL, "upscale: %dx%d times %d is too large", *w, *h, k);
    size_t W = (size_t)*w * (size_t)k, H = (size_t)*h * (size_t)k, C = (size_t)c;
    uint8_t *out = malloc(W * H * C);
    if (!out)
        return clgan_error(CLGAN_ENOMEM, "upscale: out of memory for %zux%zu pixels", W, H);
    for (size_t y = 0; y < H; y++) {
        const uint8_t *src = *pix + (y / (size_t)k) * (size_t)*w * C;
        uint8_t *dst = out + y * W * C;
        for (size_t x = 0; x < W; x++)
            memcpy(dst + x * C, src + (x / (size_t)k) * C, C);
    }
    free(*pix);
    *pix = out;
    *w = (int)W;
    *h = (int)H;
    return CLGAN_OK;
}
