/* cmd_bench.c - `clgan bench`: trains the configured recipe (default: the Keras-GAN MLP
 * GAN) for a fixed number of iterations on one or every device and reports iterations/s,
 * images/s and achieved GEMM GFLOP/s, so a person can see which device trains fastest.
 * Takes every training setting too (--gemm, --lr, ...). */
#include "common/clock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/gan.h"
#include "cli.h"
#include "common/rng.h"

static const char usage_text[] =
    "usage: clgan bench [--device all|SPEC] [--iterations 300] [--warmup 30] [--batch 32,128]\n"
    "                   [--profile] [any 'clgan train' setting, e.g. --gemm native]\n"
    "Times training iterations of the recipe on each device (random data in the MNIST\n"
    "shape) and prints it/s, images/s and achieved GEMM GFLOP/s. --profile also prints\n"
    "the device time per kernel and the share spent in matrix products (from OpenCL\n"
    "profiling events, which add a little overhead to the timed run).\n";

typedef struct {
    double it_s, gflops, startup;
} result;

static clgan_status bench_one(clgan_ctx *ctx, const clgan_config *base, int batch, long iters,
                              long warmup, const uint8_t *data, size_t count, result *res)
{
    clgan_config c = *base;
    clgan_trainer *t = NULL;
    clgan_status st;
    c.batch = batch;
    c.iterations = iters + warmup;
    if ((st = clgan_trainer_init(&t, ctx, &c, data, count, 784)) != CLGAN_OK)
        return st;
    for (long i = 0; i < warmup && st == CLGAN_OK; i++)
        st = clgan_trainer_step(t);
    if (st == CLGAN_OK)
        st = clgan_trainer_sync(t);
    clgan_profile_entry *discard;
    int nd;
    if (st == CLGAN_OK && (st = clgan_profile_collect(ctx, &discard, &nd)) == CLGAN_OK)
        free(discard);
    clgan_gemm_flops_reset(ctx);
    double t0 = clgan_now_s();
    for (long i = 0; i < iters && st == CLGAN_OK; i++)
        st = clgan_trainer_step(t);
    if (st == CLGAN_OK)
        st = clgan_trainer_sync(t);
    double dt = clgan_now_s() - t0;
    res->it_s = iters / dt;
    res->gflops = clgan_gemm_flops(ctx) / dt * 1e-9;
    clgan_trainer_free(t);
    return st;
}

/* The per-kernel device time of the timed iterations, and the GEMM share. */
static clgan_status print_profile(clgan_ctx *ctx, long iters)
{
    clgan_profile_entry *e;
    int n;
    double total = 0, gemm = 0;
    clgan_status st = clgan_profile_collect(ctx, &e, &n);
    if (st != CLGAN_OK)
        return st;
    for (int i = 0; i < n; i++) {
        total += e[i].ms;
        gemm += e[i].is_gemm ? e[i].ms : 0;
    }
    printf("    profile: %.3f ms device time per iteration, %.0f%% in GEMM, %.0f%% in other kernels\n",
           total / iters, total > 0 ? 100 * gemm / total : 0, total > 0 ? 100 * (total - gemm) / total : 0);
    for (int i = 0; i < n; i++)
        printf("    %-22s %8.4f ms/it %6.1f%%  %5.1f launches/it\n", e[i].name, e[i].ms / iters,
               total > 0 ? 100 * e[i].ms / total : 0, (double)e[i].count / iters);
    free(e);
    return CLGAN_OK;
}

clgan_status cmd_bench(int argc, char **argv)
{
    clgan_config c;
    long iters = 300, warmup = 30;
    int batches[8] = {32, 128}, nb = 2, help = 0, all = 0, profile = 0;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0;
    clgan_status st = CLGAN_OK;
    if (!rest)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    clgan_config_defaults(&c);
    for (int i = 0; i < argc && st == CLGAN_OK; i++) {
        int err = 0;
        const char *v;
        if (!strcmp(argv[i], "--profile")) {
            profile = 1;
        } else if ((v = cli_flag(argc, argv, &i, "iterations", &err))) {
            st = cli_int(&iters, "iterations", v, 1, 100000000);
        } else if ((v = cli_flag(argc, argv, &i, "warmup", &err))) {
            st = cli_int(&warmup, "warmup", v, 0, 100000000);
        } else if ((v = cli_flag(argc, argv, &i, "batch", &err))) {
            nb = 0;
            for (char *s = (char *)v, *end; *s && st == CLGAN_OK; s = *end ? end + 1 : end) {
                long b = strtol(s, &end, 10);
                if (end == s || (*end && *end != ',') || b < 1 || b > 65536 || nb == 8)
                    st = clgan_error(CLGAN_EINVAL, "--batch: '%s' is not a list of batch sizes", v);
                else
                    batches[nb++] = (int)b;
            }
        } else if ((v = cli_flag(argc, argv, &i, "device", &err)) && !strcmp(v, "all")) {
            all = 1;
        } else if (v) {
            snprintf(c.device, sizeof c.device, "%s", v);
        } else if (err) {
            st = clgan_error(CLGAN_EINVAL, "%s needs a value", argv[i]);
        } else {
            rest[nrest++] = argv[i];
        }
    }
    if (st == CLGAN_OK)
        st = clgan_config_parse_args(&c, nrest, rest, &help);
    free(rest);
    if (st != CLGAN_OK)
        return st;
    if (help) {
        fputs(usage_text, stdout);
        return CLGAN_OK;
    }
    /* Random pixels in the MNIST shape: speed does not depend on the data. */
    size_t count = 2048;
    uint8_t *data = malloc(count * 784);
    clgan_rng rng = {c.seed};
    if (!data)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (size_t i = 0; i < count * 784; i++)
        data[i] = (uint8_t)(clgan_rng_next(&rng) >> 56);

    clgan_device_info *devs = NULL;
    int ndev = 0, first = 0, last = 0;
    if ((st = clgan_devices_list(&devs, &ndev)) != CLGAN_OK)
        goto done;
    if (all) {
        last = ndev - 1;
    } else {
        if ((st = clgan_device_resolve(&first, devs, ndev, c.device)) != CLGAN_OK)
            goto done;
        last = first;
    }
    printf("%-3s %-32s %-7s %6s %10s %11s %11s %9s\n", "dev", "name", "gemm", "batch", "it/s",
           "images/s", "GEMM GF/s", "start s");
    double best = 0;
    int best_dev = -1;
    for (int d = first; d <= last && st == CLGAN_OK; d++) {
        char spec[16];
        clgan_ctx *ctx;
        snprintf(spec, sizeof spec, "%d", d);
        double t0 = clgan_now_s();
        if ((st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = spec, .profile = profile})) != CLGAN_OK)
            break;
        if (c.gemm != CLGAN_GEMM_AUTO)
            clgan_gemm_set_impl(ctx, (clgan_gemm_impl)c.gemm);
        else
            st = clgan_gemm_autoselect(ctx);
        double startup = clgan_now_s() - t0;
        for (int k = 0; k < nb && st == CLGAN_OK; k++) {
            result r;
            if ((st = bench_one(ctx, &c, batches[k], iters, warmup, data, count, &r)) != CLGAN_OK)
                break;
            printf("%-3d %-32.32s %-7s %6d %10.1f %11.0f %11.1f %9.2f\n", d, devs[d].name,
                   clgan_gemm_impl_str(clgan_gemm_get_impl(ctx)), batches[k], r.it_s,
                   r.it_s * batches[k], r.gflops, startup);
            fflush(stdout);
            if (profile && (st = print_profile(ctx, iters)) != CLGAN_OK)
                break;
            if (k == 0 && r.it_s > best) {
                best = r.it_s;
                best_dev = d;
            }
        }
        clgan_ctx_free(ctx);
    }
    if (st == CLGAN_OK && all && best_dev >= 0)
        printf("fastest at batch %d: device %d (%s), %.1f it/s\n", batches[0], best_dev,
               devs[best_dev].name, best);
done:
    free(devs);
    free(data);
    return st;
}
