/* consumer.c - a program written against an installed libclgan, the way include/clgan/
 * clgan.h's example reads: open a device, build a GAN from a configuration, train N
 * steps, sample, save and reload the generator. tests/install/run.sh builds it outside
 * the source tree through pkg-config and CMake. Exits 0 only when every check holds.
 * usage: consumer PREFIX OUT_DIR  (PREFIX: the install prefix the shipped files must come
 * from, or "-" for a static link: such a program finds them through the install prefix
 * configured at build time or the source tree, not relative to itself) */
#define _GNU_SOURCE /* dladdr */
#include <clgan/clgan.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 6

static int fails;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    fails += !ok;
}

int main(int argc, char **argv)
{
    char path[4096], ckpt[4096];
    clgan_ctx *ctx = NULL;
    clgan_trainer *tr = NULL;
    clgan_net *g2 = NULL;
    clgan_dataset data = {0};
    clgan_config cfg, loaded;
    float z[N * 8], a[N * 784], b[N * 784];
    int h = 0, w = 0;
    Dl_info info;
    if (argc != 3) {
        fprintf(stderr, "usage: consumer PREFIX OUT_DIR\n");
        return 2;
    }
    const char *prefix = argv[1];
    printf("clgan %s (git %s), headers %s\n", clgan_version(), clgan_git_revision(),
           CLGAN_VERSION_STRING);
    check(!strcmp(clgan_version(), CLGAN_VERSION_STRING), "library and headers agree on the version");
    /* Where the code and the shipped files come from: the installed tree. */
    int linked = dladdr((void *)clgan_version, &info) && info.dli_fname;
    printf("clgan_version is in %s\n", linked ? info.dli_fname : "?");
    int any = !strcmp(prefix, "-");
    check(clgan_find_sample(path, sizeof path, "presets/wgan.ini") &&
              (any || strstr(path, prefix) == path), "the shipped presets are found (under the prefix)");
    printf("  %s\n", path);
    check(clgan_find_sample(path, sizeof path, "classifier/mnist.safetensors") &&
              (any || strstr(path, prefix) == path), "the shipped classifier is found (under the prefix)");

    clgan_config_defaults(&cfg);
    const char *set[][2] = {{"latent", "8"}, {"layers-g", "16,32"}, {"layers-d", "32"},
                            {"batch", "8"}, {"seed", "5"}, {"eval-every", "0"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (clgan_config_set(&cfg, set[i][0], set[i][1]) != CLGAN_OK)
            goto fail;
    check(clgan_config_set(&cfg, "no-such-flag", "1") == CLGAN_EINVAL && *clgan_error_msg(),
          "an unknown setting is refused with a message");
    if (clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = "cpu"}) != CLGAN_OK ||
        clgan_dataset_load(&data, "") != CLGAN_OK ||
        clgan_trainer_init(&tr, ctx, &cfg, data.images, data.count,
                           CLGAN_SHAPE(data.h, data.w, data.c)) != CLGAN_OK)
        goto fail;
    check(any || strstr(data.source, prefix) != NULL, "the shipped MNIST subset is read (from the prefix)");
    for (int i = 0; i < 20; i++)
        if (clgan_trainer_step(tr) != CLGAN_OK)
            goto fail;
    if (clgan_trainer_sync(tr) != CLGAN_OK)
        goto fail;
    const clgan_trainer_view *v = clgan_trainer_get(tr);
    int finite = v->synced == 20;
    for (long i = 0; i < v->synced; i++)
        finite &= isfinite(v->history[i * CLGAN_M_COUNT + CLGAN_M_G_LOSS]) &&
                  v->history[i * CLGAN_M_COUNT + CLGAN_M_G_LOSS] > 0;
    check(finite, "20 iterations give 20 finite, positive G losses");

    clgan_noise_normal(z, N * 8, 7);
    snprintf(ckpt, sizeof ckpt, "%s/g.safetensors", argv[2]);
    if (clgan_generator_run(ctx, v->g, z, N, a) != CLGAN_OK ||
        clgan_checkpoint_save_generator(ckpt, v->g, &cfg, data.h, data.w) != CLGAN_OK ||
        clgan_checkpoint_load_generator(&g2, ctx, ckpt, 4, &loaded, &h, &w) != CLGAN_OK ||
        clgan_generator_run(ctx, g2, z, N, b) != CLGAN_OK)
        goto fail;
    double diff = 0, lo = 1, hi = -1;
    for (int i = 0; i < N * 784; i++) {
        diff = fmax(diff, fabs(a[i] - b[i]));
        lo = fmin(lo, a[i]);
        hi = fmax(hi, a[i]);
    }
    printf("  samples in [%.3f, %.3f]; reloaded generator differs by %.3g\n", lo, hi, diff);
    check(h == 28 && w == 28 && loaded.latent == 8, "the checkpoint keeps the image size and config");
    check(lo >= -1 && hi <= 1 && hi > lo, "samples are tanh images, not constant");
    check(diff <= 1e-6, "the reloaded generator (another batch size) draws the same images");
    clgan_net_free(g2);
    clgan_trainer_free(tr);
    clgan_dataset_free(&data);
    clgan_ctx_free(ctx);
    printf("%s\n", fails ? "consumer: FAILED" : "consumer: all checks passed");
    return fails ? 1 : 0;
fail:
    fprintf(stderr, "consumer: %s\n", clgan_error_msg());
    clgan_net_free(g2);
    clgan_trainer_free(tr);
    clgan_dataset_free(&data);
    clgan_ctx_free(ctx);
    return 1;
}
