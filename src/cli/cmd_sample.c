/* cmd_sample.c - `clgan sample --checkpoint F --n 64 --out grid.png|samples.npy`: draws
 * samples from a saved generator (inference mode) with noise from --seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "cli.h"
#include "common/rng.h"

static const char usage_text[] =
    "usage: clgan sample --checkpoint FILE [--n 64] [--out samples.png] [--seed 0] [--device auto]\n"
    "Draws N samples from a generator saved by 'clgan train' (RUN/generator.safetensors).\n"
    "  --out ends in .png: a grid image (values -1..1 shown as black..white; RGB for a\n"
    "                     generator trained with --channels 3)\n"
    "  --out ends in .npy: float32 array (N, H, W) in [-1, 1], (N, H, W, 3) for RGB\n";

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static clgan_status draw(clgan_ctx *ctx, const char *ckpt, long n, uint64_t seed, float **out,
                         int *h, int *w, int *ch)
{
    clgan_config c;
    clgan_net *g = NULL;
    cl_mem z = NULL;
    float *noise = NULL;
    int batch = n < 64 ? (int)n : 64;
    clgan_status st = clgan_checkpoint_load_generator(&g, ctx, ckpt, batch, &c, h, w);
    if (st != CLGAN_OK)
        return st;
    size_t dim = (size_t)*h * *w * c.channels, zn = (size_t)batch * c.latent;
    *ch = c.channels;
    *out = malloc((size_t)n * dim * sizeof(float));
    noise = malloc(zn * sizeof(float));
    if (!*out || !noise) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = clgan_buf_alloc(ctx, &z, zn * 4, "noise")) != CLGAN_OK)
        goto done;
    clgan_rng rng = {seed};
    for (long done = 0; done < n; done += batch) {
        long rows = n - done < batch ? n - done : batch;
        for (size_t i = 0; i < zn; i++)
            noise[i] = (float)clgan_rng_normal(&rng);
        if ((st = clgan_buf_write(ctx, z, 0, noise, zn * 4)) != CLGAN_OK ||
            (st = clgan_net_forward(g, z, CLGAN_MODE_EVAL)) != CLGAN_OK ||
            (st = clgan_buf_read(ctx, clgan_net_get(g)->out, 0, *out + done * dim,
                                 (size_t)rows * dim * 4)) != CLGAN_OK)
            goto done;
    }
done:
    if (st != CLGAN_OK) {
        free(*out);
        *out = NULL;
    }
    clgan_buf_release(&z);
    free(noise);
    clgan_net_free(g);
    return st;
}

clgan_status cmd_sample(int argc, char **argv)
{
    const char *ckpt = NULL, *out = "samples.png", *device = "auto";
    long n = 64, seed = 0;
    int h, w, ch, help;
    const cli_option opts[] = {
        {"checkpoint", &ckpt, NULL, 0, 0}, {"out", &out, NULL, 0, 0},
        {"device", &device, NULL, 0, 0},   {"n", NULL, &n, 1, 100000},
        {"seed", NULL, &seed, 0, 0x7fffffffL},
    };
    clgan_status st = cli_parse(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), usage_text, &help);
    if (st != CLGAN_OK || help)
        return st;
    if (!ckpt)
        return clgan_error(CLGAN_EINVAL, "--checkpoint FILE is required (see --help)");
    if (!ends_with(out, ".png") && !ends_with(out, ".npy"))
        return clgan_error(CLGAN_EINVAL, "--out must end in .png or .npy (got %s)", out);
    clgan_ctx *ctx;
    clgan_ctx_opts co = {.device = device};
    float *imgs = NULL;
    if ((st = clgan_ctx_init(&ctx, &co)) != CLGAN_OK)
        return st;
    st = draw(ctx, ckpt, n, (uint64_t)seed, &imgs, &h, &w, &ch);
    clgan_ctx_free(ctx);
    if (st != CLGAN_OK)
        return st;
    if (ends_with(out, ".npy")) {
        size_t shape[4] = {(size_t)n, (size_t)h, (size_t)w, (size_t)ch};
        st = clgan_npy_write_f32(out, imgs, ch == 1 ? 3 : 4, shape);
    } else {
        int cols = (int)ceil(sqrt((double)n)), rows = (int)((n + cols - 1) / cols), gw, gh;
        uint8_t *pix = NULL;
        st = clgan_grid_make_nhwc(&pix, &gw, &gh, imgs, (int)n, h, w, ch, rows, cols, 2, -1.0f, 1.0f);
        if (st == CLGAN_OK)
            st = ch == 3 ? clgan_png_write_rgb(out, pix, gw, gh) : clgan_png_write_gray(out, pix, gw, gh);
        free(pix);
    }
    free(imgs);
    if (st == CLGAN_OK)
        printf("clgan: wrote %ld samples (%dx%d%s) to %s\n", n, h, w, ch == 3 ? " RGB" : "", out);
    return st;
}
