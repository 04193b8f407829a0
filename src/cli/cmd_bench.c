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
    "                   [--profile] [--gemm-shapes] [any 'clgan train' setting, e.g. --gemm native]\n"
    "Times training iterations of the recipe on each device (random data in the MNIST\n"
    "shape) and prints it/s, images/s and achieved GEMM GFLOP/s. --profile also prints\n"
    "the device time per kernel and the share spent in matrix products (from OpenCL\n"
    "profiling events, which add a little overhead to the timed run). --gemm-shapes\n"
    "also times each matrix product the networks issue (forward Y=XW, input gradient\n"
    "dX=dY W^T, weight gradient dW=X^T dY) alone, back to back, best of 3 rounds.\n";

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
    if ((st = clgan_trainer_init(&t, ctx, &c, data, count, CLGAN_SHAPE(28, 28, 1))) != CLGAN_OK)
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

/* One product, `reps` times back to back, best of 3 rounds: microseconds per call. */
static clgan_status time_gemm(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                              float beta, cl_mem a, cl_mem b, cl_mem c, double *us)
{
    clgan_status st = CLGAN_OK;
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    const int reps = 50;
    *us = 1e30;
    for (int round = -1; round < 3 && st == CLGAN_OK; round++) {
        double t0 = clgan_now_s();
        for (int r = 0; r < (round < 0 ? 1 : reps) && st == CLGAN_OK; r++)
            st = clgan_gemm(ctx, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, beta, c, N);
        if (st == CLGAN_OK)
            st = clgan_finish(ctx);
        double dt = (clgan_now_s() - t0) / reps * 1e6;
        if (round >= 0 && dt < *us)
            *us = dt;
    }
    return st;
}

/* --gemm-shapes: every product of G's and D's dense layers at `batch`, timed alone. */
static clgan_status gemm_shapes(clgan_ctx *ctx, const clgan_config *c, int batch)
{
    int dims[2][CLGAN_MAX_HIDDEN + 2], nd[2] = {0, 0};
    size_t big = 0;
    const clgan_net_config *nets[2] = {&c->g, &c->d};
    for (int k = 0; k < 2; k++) {
        dims[k][nd[k]++] = k ? 784 : c->latent;
        for (int i = 0; i < nets[k]->n_layers; i++)
            dims[k][nd[k]++] = nets[k]->layers[i];
        dims[k][nd[k]++] = k ? 1 : 784;
        for (int i = 0; i < nd[k]; i++) {
            size_t w = (size_t)dims[k][i];
            big = w * w > big ? w * w : big;
            big = w * (size_t)batch > big ? w * (size_t)batch : big;
        }
    }
    cl_mem a = NULL, b = NULL, m = NULL;
    clgan_status st;
    if ((st = clgan_buf_alloc(ctx, &a, big * 4, "gemm shapes")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &b, big * 4, "gemm shapes")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &m, big * 4, "gemm shapes")) != CLGAN_OK)
        goto done;
    printf("    %-3s %-11s %22s %22s %22s\n", "net", "layer", "Y=XW us (GF/s)",
           "dX=dY W^T us (GF/s)", "dW=X^T dY us (GF/s)");
    double tot[3] = {0, 0, 0};
    for (int k = 0; k < 2 && st == CLGAN_OK; k++)
        for (int i = 0; i + 1 < nd[k] && st == CLGAN_OK; i++) {
            size_t in = (size_t)dims[k][i], out = (size_t)dims[k][i + 1], B = (size_t)batch;
            const struct { int ta, tb; size_t M, N, K; } op[3] = {
                {0, 0, B, out, in}, {0, 1, B, in, out}, {1, 0, in, out, B}};
            char layer[32], cell[3][32];
            snprintf(layer, sizeof layer, "%zux%zu", in, out);
            for (int o = 0; o < 3 && st == CLGAN_OK; o++) {
                double us;
                st = time_gemm(ctx, op[o].ta, op[o].tb, op[o].M, op[o].N, op[o].K, 0.0f, a, b, m,
                               &us);
                tot[o] += us;
                snprintf(cell[o], sizeof cell[o], "%9.1f (%6.1f)", us,
                         2.0 * (double)op[o].M * (double)op[o].N * (double)op[o].K / us * 1e-3);
            }
            printf("    %-3s %-11s %22s %22s %22s\n", k ? "D" : "G", layer, cell[0], cell[1],
                   cell[2]);
        }
    if (st == CLGAN_OK)
        printf("    %-15s %22.1f %22.1f %22.1f\n", "sum us", tot[0], tot[1], tot[2]);
done:
    clgan_buf_release(&m);
    clgan_buf_release(&b);
    clgan_buf_release(&a);
    return st;
}

clgan_status cmd_bench(int argc, char **argv)
{
    clgan_config c;
    long iters = 300, warmup = 30;
    int batches[8] = {32, 128}, nb = 2, help = 0, all = 0, profile = 0, shapes = 0;
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
        } else if (!strcmp(argv[i], "--gemm-shapes")) {
            shapes = 1;
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
            if (shapes && (st = gemm_shapes(ctx, &c, batches[k])) != CLGAN_OK)
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
