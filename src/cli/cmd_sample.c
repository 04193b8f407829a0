/* cmd_sample.c - `clgan sample --checkpoint F`: draws samples from a saved generator
 * (inference mode) for noise from --seed or a .npy file, or along latent interpolation
 * paths between rows of that noise; writes a PNG grid or a .npy array, and optionally
 * the noise it used. Trains nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "cli.h"

#define MAX_ANCHORS 64

static const char usage_text[] =
    "usage: clgan sample --checkpoint FILE [--out samples.png] [--n 64] [--seed 0]\n"
    "                    [--noise z.npy] [--save-noise z.npy] [--interpolate A,B[,C...]]\n"
    "                    [--steps 8] [--grid-scale 1] [--device auto]\n"
    "Draws samples from a generator saved by 'clgan train' (RUN/generator.safetensors).\n"
    "  --out FILE.png     a grid image (values -1..1 shown as black..white; RGB for a\n"
    "                     generator trained with --channels 3)\n"
    "  --out FILE.npy     a float32 array (N, H, W) in [-1, 1], (N, H, W, 3) for RGB\n"
    "  --n N              how many samples, from standard-normal noise drawn with --seed\n"
    "  --noise z.npy      use this noise instead: float32 (N, latent) (or (latent)); N samples\n"
    "  --save-noise z.npy write the noise that was used, (N, latent) float32, so the same\n"
    "                     images can be drawn again here or in PyTorch (tools/clgan_torch.py)\n"
    "  --interpolate A,B  walk the latent space from noise row A to row B (more rows: one\n"
    "                     path per consecutive pair), --steps images per path, along the\n"
    "                     great circle (slerp), which keeps Gaussian noise at its typical\n"
    "                     norm; the grid has one path per row. Smooth changes between the\n"
    "                     ends show G has learned a space, not memorised images.\n"
    "  --grid-scale K     enlarge the PNG grid K times (nearest neighbour, for slides)\n";

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Parses "A,B[,C...]" into anchors; EINVAL unless 2..MAX_ANCHORS non-negative integers. */
static clgan_status parse_anchors(const char *v, long *a, int *n)
{
    char *end;
    *n = 0;
    for (const char *p = v; *p; p = *end ? end + 1 : end) {
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || (*end && *end != ',') || *n == MAX_ANCHORS)
            return clgan_error(CLGAN_EINVAL, "--interpolate: '%s' is not a list of 2 to %d noise "
                               "rows (e.g. 0,1 or 3,7,2)", v, MAX_ANCHORS);
        a[(*n)++] = x;
    }
    if (*n < 2)
        return clgan_error(CLGAN_EINVAL, "--interpolate needs two noise rows at least (e.g. 0,1)");
    return CLGAN_OK;
}

/* Spherical interpolation out = slerp(a, b, t) over `dim` floats; linear when a and b
 * are (nearly) parallel or one is zero. */
static void slerp(float *out, const float *a, const float *b, int dim, double t)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < dim; i++)
        ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    double c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 1.0;
    double om = acos(c < -1 ? -1 : c > 1 ? 1 : c), so = sin(om);
    double wa = so > 1e-6 ? sin((1 - t) * om) / so : 1 - t, wb = so > 1e-6 ? sin(t * om) / so : t;
    for (int i = 0; i < dim; i++)
        out[i] = (float)(wa * a[i] + wb * b[i]);
}

/* The noise to draw from: --noise FILE's rows, or `rows` rows from --seed. *z malloc'd
 * (rows, latent). */
static clgan_status load_noise(float **z, long *rows, const char *file, long seed, int latent)
{
    if (!file) {
        if (!(*z = malloc((size_t)*rows * latent * sizeof **z)))
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        clgan_noise_normal(*z, (size_t)*rows * latent, (uint64_t)seed);
        return CLGAN_OK;
    }
    int ndim;
    size_t shape[4];
    clgan_status st = clgan_npy_read_f32(file, z, &ndim, shape);
    if (st != CLGAN_OK)
        return clgan_error_wrap(st, "--noise");
    size_t cols = ndim == 1 ? shape[0] : ndim == 2 ? shape[1] : 0;
    if (cols != (size_t)latent || (ndim == 2 && shape[0] == 0)) {
        char got[96] = "";
        for (int i = 0; i < ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", i ? ", " : "", shape[i]);
        free(*z);
        *z = NULL;
        return clgan_error(CLGAN_EINVAL, "--noise %s: shape (%s), expected (N, %d): this generator's "
                           "noise has %d values", file, got, latent, latent);
    }
    *rows = ndim == 1 ? 1 : (long)shape[0];
    return CLGAN_OK;
}

/* Replaces *z (rows, latent) by the interpolation paths between its anchor rows: (n-1)
 * paths of `steps` rows each, both ends included. */
static clgan_status interpolate(float **z, long *rows, int latent, const long *a, int n, long steps)
{
    for (int i = 0; i < n; i++)
        if (a[i] >= *rows)
            return clgan_error(CLGAN_EINVAL, "--interpolate: row %ld does not exist (the noise has "
                               "%ld rows)", a[i], *rows);
    long out_rows = (long)(n - 1) * steps;
    float *p = malloc((size_t)out_rows * latent * sizeof *p);
    if (!p)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (int s = 0; s + 1 < n; s++)
        for (long k = 0; k < steps; k++)
            slerp(p + ((size_t)s * steps + k) * latent, *z + (size_t)a[s] * latent,
                  *z + (size_t)a[s + 1] * latent, latent, (double)k / (double)(steps - 1));
    free(*z);
    *z = p;
    *rows = out_rows;
    return CLGAN_OK;
}

/* imgs (n, h, w, ch) NHWC. */
static clgan_status write_images(const char *out, const float *imgs, long n, int h, int w, int ch,
                                 int rows, int cols, long scale)
{
    if (ends_with(out, ".npy")) {
        size_t shape[4] = {(size_t)n, (size_t)h, (size_t)w, (size_t)ch};
        return clgan_npy_write_f32(out, imgs, ch == 1 ? 3 : 4, shape);
    }
    int gw, gh;
    uint8_t *pix = NULL;
    clgan_status st = clgan_grid_make_nhwc(&pix, &gw, &gh, imgs, (int)n, h, w, ch, rows, cols, 2,
                                           -1.0f, 1.0f);
    if (st == CLGAN_OK)
        st = clgan_image_upscale(&pix, &gw, &gh, ch, (int)scale);
    if (st == CLGAN_OK)
        st = ch == 3 ? clgan_png_write_rgb(out, pix, gw, gh) : clgan_png_write_gray(out, pix, gw, gh);
    free(pix);
    return st;
}

clgan_status cmd_sample(int argc, char **argv)
{
    const char *ckpt = NULL, *out = "samples.png", *device = "auto", *noise_in = NULL,
               *noise_out = NULL, *lerp = NULL;
    long n = 0, seed = 0, steps = 8, scale = 1, anchors[MAX_ANCHORS];
    int h, w, help, n_anchors = 0;
    const cli_option opts[] = {
        {"checkpoint", &ckpt, NULL, 0, 0, NULL},  {"out", &out, NULL, 0, 0, NULL},
        {"device", &device, NULL, 0, 0, NULL},    {"n", NULL, &n, 1, 100000, NULL},
        {"seed", NULL, &seed, 0, 0x7fffffffL, NULL}, {"noise", &noise_in, NULL, 0, 0, NULL},
        {"save-noise", &noise_out, NULL, 0, 0, NULL}, {"interpolate", &lerp, NULL, 0, 0, NULL},
        {"steps", NULL, &steps, 2, 1000, NULL},   {"grid-scale", NULL, &scale, 1, 16, NULL},
    };
    clgan_status st = cli_parse(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), usage_text, &help);
    if (st != CLGAN_OK || help)
        return st;
    if (!ckpt)
        return clgan_error(CLGAN_EINVAL, "--checkpoint FILE is required (see --help)");
    if (!ends_with(out, ".png") && !ends_with(out, ".npy"))
        return clgan_error(CLGAN_EINVAL, "--out must end in .png or .npy (got %s)", out);
    if (noise_out && !ends_with(noise_out, ".npy"))
        return clgan_error(CLGAN_EINVAL, "--save-noise must end in .npy (got %s)", noise_out);
    if (n && noise_in)
        return clgan_error(CLGAN_EINVAL, "--n and --noise: the noise file decides how many samples");
    if (n && lerp)
        return clgan_error(CLGAN_EINVAL, "--n and --interpolate: the paths decide how many samples "
                           "(--steps per path)");
    if (lerp && (st = parse_anchors(lerp, anchors, &n_anchors)) != CLGAN_OK)
        return st;
    if (!n && n_anchors) { /* --interpolate from --seed: as many rows as it names */
        for (int i = 0; i < n_anchors; i++)
            n = anchors[i] + 1 > n ? anchors[i] + 1 : n;
    } else if (!n) {
        n = 64;
    }
    clgan_ctx *ctx = NULL;
    clgan_ctx_opts co = {.device = device};
    clgan_net *g = NULL;
    clgan_config c;
    float *z = NULL, *imgs = NULL;
    if ((st = clgan_ctx_init(&ctx, &co)) != CLGAN_OK ||
        (st = clgan_checkpoint_load_generator(&g, ctx, ckpt, 64, &c, &h, &w)) != CLGAN_OK ||
        (st = load_noise(&z, &n, noise_in, seed, c.latent)) != CLGAN_OK)
        goto done;
    if (lerp && (st = interpolate(&z, &n, c.latent, anchors, n_anchors, steps)) != CLGAN_OK)
        goto done;
    int ch = c.channels;
    if (!(imgs = malloc((size_t)n * h * w * ch * sizeof *imgs))) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory for %ld samples", n);
        goto done;
    }
    if ((st = clgan_generator_run(ctx, g, z, n, imgs)) != CLGAN_OK)
        goto done;
    int cols = lerp ? (int)steps : (int)ceil(sqrt((double)n)), rows = (int)((n + cols - 1) / cols);
    if ((st = write_images(out, imgs, n, h, w, ch, rows, cols, scale)) != CLGAN_OK)
        goto done;
    if (noise_out) {
        size_t shape[2] = {(size_t)n, (size_t)c.latent};
        if ((st = clgan_npy_write_f32(noise_out, z, 2, shape)) != CLGAN_OK)
            goto done;
    }
    printf("clgan: wrote %ld samples (%dx%d%s) to %s%s%s\n", n, h, w, ch == 3 ? " RGB" : "", out,
           noise_out ? "; their noise to " : "", noise_out ? noise_out : "");
done:
    free(imgs);
    free(z);
    clgan_net_free(g);
    clgan_ctx_free(ctx);
    return st;
}
