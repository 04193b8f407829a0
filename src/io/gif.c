/* gif.c - animated GIFs via giflib: gray frames on one 256-gray palette, or RGB frames each
 * with its own 256-colour median-cut palette; endless loop, one delay; plus a probe for
 * tests. No transparency, no dithering. */
#include "clgan/io.h"

#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"

#define GIF_MAX_SIDE 65535 /* GIF stores sizes in 16 bits */

struct clgan_gif {
    GifFileType *gf; /* open on tmp; owned */
    char *tmp;       /* PATH.tmp.<pid>; owned */
    char *path;      /* final name; owned */
    GifPixelType *row; /* (w) scratch: EGifPutLine masks its input in place */
    int w, h, delay_cs, frames;
    int rgb;           /* frames are RGB triples, each quantized to its own palette */
    GifByteType *plane; /* rgb: (4, h, w) scratch: R, G, B planes and the indices */
};

/* giflib's text for an error code; never NULL. */
static const char *gif_strerror(int code)
{
    const char *s = GifErrorString(code);
    return s ? s : "unknown giflib error";
}

/* Writes the NETSCAPE2.0 application extension that makes viewers loop forever. */
static int put_loop_forever(GifFileType *gf)
{
    static const char app[] = "NETSCAPE2.0"; /* 11 bytes, written without the NUL */
    static const GifByteType loop[3] = {1, 0, 0}; /* sub-block 1, loop count 0 = forever */
    if (EGifPutExtensionLeader(gf, APPLICATION_EXT_FUNC_CODE) != GIF_OK ||
        EGifPutExtensionBlock(gf, (int)sizeof app - 1, app) != GIF_OK ||
        EGifPutExtensionBlock(gf, sizeof loop, loop) != GIF_OK ||
        EGifPutExtensionTrailer(gf) != GIF_OK)
        return GIF_ERROR;
    return GIF_OK;
}

/* *g owned by the caller until _close or _abort. On error *g is NULL and no temp file
 * remains. Gray frames use one global palette; RGB frames carry their own. */
static clgan_status gif_open(clgan_gif **g, const char *path, int w, int h, int delay_cs,
                             int rgb)
{
    clgan_status st = CLGAN_OK;
    ColorMapObject *map = NULL;
    clgan_gif *gif;
    int err = 0;
    *g = NULL;
    if (w < 1 || h < 1 || w > GIF_MAX_SIDE || h > GIF_MAX_SIDE || delay_cs < 0 ||
        delay_cs > 65535)
        return clgan_error(CLGAN_EINVAL, "%s: bad GIF size %dx%d or delay %d cs", path, w, h,
                           delay_cs);
    gif = calloc(1, sizeof *gif);
    if (!gif)
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory", path);
    gif->w = w;
    gif->h = h;
    gif->delay_cs = delay_cs;
    gif->tmp = clgan_atomic_tmpname(path);
    gif->path = strdup(path);
    gif->row = malloc((size_t)w);
    gif->rgb = rgb;
    gif->plane = rgb ? malloc(4 * (size_t)w * (size_t)h) : NULL;
    map = rgb ? NULL : GifMakeMapObject(256, NULL);
    if (!gif->tmp || !gif->path || !gif->row || (rgb ? !gif->plane : !map)) {
        st = clgan_error(CLGAN_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    gif->gf = EGifOpenFileName(gif->tmp, false, &err);
    if (!gif->gf) {
        st = clgan_error(CLGAN_EIO, "%s: cannot create temp file %s: %s", path, gif->tmp,
                         gif_strerror(err));
        goto fail;
    }
    EGifSetGifVersion(gif->gf, true);
    for (int i = 0; map && i < 256; i++)
        map->Colors[i].Red = map->Colors[i].Green = map->Colors[i].Blue = (GifByteType)i;
    if (EGifPutScreenDesc(gif->gf, w, h, 8, 0, map) != GIF_OK ||
        put_loop_forever(gif->gf) != GIF_OK) {
        st = clgan_error(CLGAN_EIO, "%s: writing the GIF header failed: %s", path,
                         gif_strerror(gif->gf->Error));
        goto fail;
    }
    GifFreeMapObject(map);
    *g = gif;
    return CLGAN_OK;
fail:
    GifFreeMapObject(map);
    clgan_gif_abort(gif);
    return st;
}

clgan_status clgan_gif_open(clgan_gif **g, const char *path, int w, int h, int delay_cs)
{
    return gif_open(g, path, w, h, delay_cs, 0);
}

/* RGB frames get a palette each: the samples' colours change over training (noise first,
 * the data's colours later), and a median cut of each frame's own colours (giflib's
 * GifQuantizeBuffer, on 5 bits per channel) keeps them closer than any fixed palette
 * could (a 3-3-2 cube has 4 blues and steps of 36 in red and green). */
clgan_status clgan_gif_open_rgb(clgan_gif **g, const char *path, int w, int h, int delay_cs)
{
    return gif_open(g, path, w, h, delay_cs, 1);
}

/* The frame's palette and indices (in plane + 3*w*h) from RGB triples; NULL when out of
 * memory or giflib refuses (g->gf->Error is then unchanged: the caller says which). */
static ColorMapObject *quantize(clgan_gif *g, const uint8_t *pix)
{
    size_t n = (size_t)g->w * (size_t)g->h;
    GifByteType *r = g->plane, *gr = r + n, *b = gr + n, *idx = b + n;
    ColorMapObject *map = GifMakeMapObject(256, NULL);
    int colors = 256;
    if (!map)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        r[i] = pix[3 * i];
        gr[i] = pix[3 * i + 1];
        b[i] = pix[3 * i + 2];
    }
    memset(map->Colors, 0, 256 * sizeof *map->Colors);
    if (GifQuantizeBuffer((unsigned)g->w, (unsigned)g->h, &colors, r, gr, b, idx,
                          map->Colors) != GIF_OK) {
        GifFreeMapObject(map);
        return NULL;
    }
    return map;
}

/* Borrows pix (h rows of w bytes, or of w RGB triples for an RGB GIF). On error g stays
 * valid; the caller should _abort it. */
clgan_status clgan_gif_add(clgan_gif *g, const uint8_t *pix)
{
    GraphicsControlBlock gcb = {DISPOSE_DO_NOT, false, g->delay_cs, NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t len = EGifGCBToExtension(&gcb, ext);
    ColorMapObject *map = NULL;
    const uint8_t *idx = pix;
    if (g->rgb) {
        if (!(map = quantize(g, pix)))
            return clgan_error(CLGAN_ENOMEM, "%s: quantizing GIF frame %d failed (out of memory)",
                               g->path, g->frames);
        idx = g->plane + 3 * (size_t)g->w * (size_t)g->h;
    }
    if (EGifPutExtension(g->gf, GRAPHICS_EXT_FUNC_CODE, (int)len, ext) != GIF_OK ||
        EGifPutImageDesc(g->gf, 0, 0, g->w, g->h, false, map) != GIF_OK)
        goto fail;
    for (int y = 0; y < g->h; y++) {
        memcpy(g->row, idx + (size_t)y * (size_t)g->w, (size_t)g->w);
        if (EGifPutLine(g->gf, g->row, g->w) != GIF_OK)
            goto fail;
    }
    GifFreeMapObject(map);
    g->frames++;
    return CLGAN_OK;
fail:
    GifFreeMapObject(map);
    return clgan_error(CLGAN_EIO, "%s: writing GIF frame %d failed: %s", g->path, g->frames,
                       gif_strerror(g->gf->Error));
}

/* Always frees g (EINVAL on NULL). On error PATH is untouched and the temp file is removed. */
clgan_status clgan_gif_close(clgan_gif *g)
{
    clgan_status st = CLGAN_OK;
    int err = 0;
    if (!g)
        return clgan_error(CLGAN_EINVAL, "GIF close: no GIF");
    if (EGifCloseFile(g->gf, &err) != GIF_OK) {
        st = clgan_error(CLGAN_EIO, "%s: finishing temp file %s failed: %s", g->path, g->tmp,
                         gif_strerror(err));
        remove(g->tmp);
    } else {
        st = clgan_atomic_publish(g->tmp, g->path);
    }
    g->gf = NULL;
    free(g->row);
    free(g->plane);
    free(g->path);
    free(g->tmp);
    free(g);
    return st;
}

/* Safe on NULL. */
void clgan_gif_abort(clgan_gif *g)
{
    int err;
    if (!g)
        return;
    if (g->gf) {
        EGifCloseFile(g->gf, &err);
        remove(g->tmp);
    }
    free(g->row);
    free(g->plane);
    free(g->path);
    free(g->tmp);
    free(g);
}

/* On error the outputs are 0: EIO when the file cannot be opened, EFORMAT when it does
 * not decode. */
clgan_status clgan_gif_probe(const char *path, int *frames, int *w, int *h)
{
    clgan_status st = CLGAN_OK;
    GifFileType *gf;
    int err = 0;
    *frames = *w = *h = 0;
    gf = DGifOpenFileName(path, &err);
    if (!gf)
        return clgan_error(err == D_GIF_ERR_OPEN_FAILED ? CLGAN_EIO : CLGAN_EFORMAT,
                           "%s: cannot open as GIF: %s", path, gif_strerror(err));
    if (DGifSlurp(gf) != GIF_OK) {
        st = clgan_error(CLGAN_EFORMAT, "%s: corrupt GIF: %s", path, gif_strerror(gf->Error));
    } else {
        *frames = gf->ImageCount;
        *w = gf->SWidth;
        *h = gf->SHeight;
    }
    DGifCloseFile(gf, &err);
    return st;
}
