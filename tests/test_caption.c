/* test_caption.c - the sample-grid decorations (src/io/caption.c): a caption strip adds
 * CLGAN_CAPTION_H rows and leaves the picture above it untouched; its text is drawn
 * (different numbers, different pixels; only white on black; nothing past the width);
 * nearest-neighbour enlargement turns each pixel into a k x k block; bad arguments are
 * refused without touching the picture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "testutil.h"

/* A w x h test picture with every pixel distinct enough to catch a misplaced copy. */
static uint8_t *picture(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++)
        p[i] = (uint8_t)(i * 37 + 11);
    return p;
}

static uint8_t *captioned(int w, int h, const char *text, int *h_out)
{
    uint8_t *p = picture(w, h);
    *h_out = h;
    CHECK_OK(clgan_image_caption(&p, w, h_out, 1, text));
    return p;
}

int main(void)
{
    const int w = 148, h = 148;
    int h1, h2, h3;
    uint8_t *ref = picture(w, h);
    uint8_t *a = captioned(w, h, "iteration 1200", &h1);
    uint8_t *b = captioned(w, h, "iteration 1800", &h2);
    uint8_t *e = captioned(w, h, "", &h3);
    CHECK(h1 == h + CLGAN_CAPTION_H && h2 == h1 && h3 == h1);
    CHECK(memcmp(a, ref, (size_t)w * h) == 0); /* the grid itself is untouched */
    const uint8_t *sa = a + (size_t)w * h, *sb = b + (size_t)w * h, *se = e + (size_t)w * h;
    size_t strip = (size_t)w * CLGAN_CAPTION_H, lit = 0, differ = 0, other = 0, empty = 0;
    for (size_t i = 0; i < strip; i++) {
        lit += sa[i] == 255;
        other += sa[i] != 0 && sa[i] != 255;
        differ += sa[i] != sb[i];
        empty += se[i] != 0;
    }
    printf("caption: %zu lit pixels, %zu differ between 1200 and 1800\n", lit, differ);
    CHECK(lit > 60 && other == 0 && empty == 0);
    CHECK(differ > 0);
    /* Only the glyphs that changed differ: the first 11 characters' columns are equal. */
    int cw = clgan_caption_width("iteration 1");
    for (int y = 0; y < CLGAN_CAPTION_H; y++)
        CHECK(memcmp(sa + (size_t)y * w, sb + (size_t)y * w, (size_t)cw) == 0);
    CHECK(clgan_caption_width("iteration 1200") == 14 * 6 - 1 + 2 && clgan_caption_width("") == 0);

    /* Narrower than the text: cut at the edge, nothing written past it. */
    int hn = 5;
    uint8_t *n = picture(7, 5);
    CHECK_OK(clgan_image_caption(&n, 7, &hn, 1, "12345"));
    CHECK(hn == 5 + CLGAN_CAPTION_H);
    free(n);

    /* Enlargement. */
    int uw = 3, uh = 2;
    uint8_t *u = picture(3, 2), *orig = picture(3, 2);
    CHECK_OK(clgan_image_upscale(&u, &uw, &uh, 1, 3));
    CHECK(uw == 9 && uh == 6);
    int blocks_ok = 1;
    for (int y = 0; y < uh; y++)
        for (int x = 0; x < uw; x++)
            blocks_ok &= u[y * uw + x] == orig[(y / 3) * 3 + x / 3];
    CHECK(blocks_ok);
    uint8_t *before = u;
    CHECK_OK(clgan_image_upscale(&u, &uw, &uh, 1, 1)); /* 1: the same picture */
    CHECK(u == before && uw == 9 && uh == 6);

    /* Refused: the picture and its size stay as they were. */
    CHECK(clgan_image_upscale(&u, &uw, &uh, 1, 0) == CLGAN_EINVAL && u == before && uw == 9);
    CHECK(clgan_image_upscale(&u, &uw, &uh, 1, 17) == CLGAN_EINVAL && uh == 6);
    int hb = 6;
    CHECK(clgan_image_caption(&u, 0, &hb, 1, "1") == CLGAN_EINVAL && hb == 6 && u == before);
    CHECK(clgan_image_caption(&u, 9, &hb, 1, NULL) == CLGAN_EINVAL);

    /* RGB: the caption is white in every channel; enlargement moves whole triples. */
    int rh = 4, rw = 20;
    uint8_t *rgb = picture(rw * 3, rh), *rgb0 = picture(rw * 3, rh);
    CHECK_OK(clgan_image_caption(&rgb, rw, &rh, 3, "88"));
    CHECK(rh == 4 + CLGAN_CAPTION_H && memcmp(rgb, rgb0, (size_t)rw * 3 * 4) == 0);
    int triples_ok = 1, lit3 = 0;
    for (int i = rw * 4; i < rw * rh; i++) {
        const uint8_t *px = rgb + (size_t)i * 3;
        triples_ok &= px[0] == px[1] && px[1] == px[2] && (px[0] == 0 || px[0] == 255);
        lit3 += px[0] == 255;
    }
    CHECK(triples_ok && lit3 > 20);
    int sw = rw, sh = rh;
    uint8_t *big = malloc((size_t)rw * rh * 3);
    memcpy(big, rgb, (size_t)rw * rh * 3);
    CHECK_OK(clgan_image_upscale(&big, &sw, &sh, 3, 2));
    int rgb_blocks = sw == 2 * rw && sh == 2 * rh;
    for (int y = 0; rgb_blocks && y < sh; y++)
        for (int x = 0; x < sw; x++)
            rgb_blocks &= !memcmp(big + ((size_t)y * sw + x) * 3, rgb + ((size_t)(y / 2) * rw + x / 2) * 3, 3);
    CHECK(rgb_blocks);
    CHECK(clgan_image_upscale(&big, &sw, &sh, 5, 2) == CLGAN_EINVAL);
    free(big), free(rgb), free(rgb0);
    free(u), free(orig), free(ref), free(a), free(b), free(e);
    return tu_finish("test_caption");
}
