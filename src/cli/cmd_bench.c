/* cmd_bench.c - `clgan bench`: trains the configured recipe (default: the Keras-GAN MLP
 * GAN) for a fixed number of iterations on one or every device and reports it/s (median
 * and spread of repeats), images/s, the GEMM GFLOP/s the iterations reach and what share
 * of the device's FP32 peak that is (measured by clgan's own probe, bench_probe.c),
 * whether CLBlast runs tuned parameters there, and the fastest device per batch size.
 * Text or --json. Takes every training setting too (--gemm, --lr, ...). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clgan/gan.h"
#include "cli.h"
#include "common/clock.h"
#include "common/rng.h"

static const char usage_text[] =
    "usage: clgan bench [--device all|SPEC] [--iterations 300] [--warmup 30] [--batch 32,128]\n"
    "                   [--repeats 3] [--json] [--profile] [--gemm-shapes]\n"
    "                   [any 'clgan train' setting, e.g. --gemm native]\n"
    "Times training iterations of the recipe on each device (random data in the MNIST\n"
    "shape): --repeats runs of --iterations each after --warmup, reported as the median\n"
    "it/s and the spread (max - min) / median, with images/s, the GEMM GFLOP/s of the\n"
    "timed iterations and their share of the device's FP32 peak. The peak and the copy\n"
    "bandwidth come from clgan's own probe kernels (cl/probe.cl: chains of fmas; float4\n"
    "copies). 'first ms' is the first iteration after setup (CLBlast's kernels are\n"
    "compiled during setup, so it is an ordinary one). With --device all, the fastest\n"
    "device per batch size. --json prints one JSON document instead of the tables.\n"
    "--profile also prints the device time per kernel and the share spent in matrix\n"
    "products, from a separate pass of up to 100 iterations (OpenCL profiling events add a\n"
    "little overhead to every timed run of that context). --gemm-shapes also\n"
    "times each matrix product the networks issue (forward Y=XW, input gradient dX=dY W^T,\n"
    "weight gradient dW=X^T dY) alone, back to back, best of 3 rounds.\n";

#define MAX_REPEATS 20
#define MAX_BATCHES 8

typedef struct {
    int batch;
    double it_s[MAX_REPEATS]; /* per repeat */
    int n;
    double median, spread;    /* it/s; (max - min) / median */
    double gflops;            /* GEMM flops of the timed iterations / their wall time */
    double first_ms, ms_per_it;
} batch_result;

typedef struct {
    long iters, warmup, repeats;
    int profile, shapes, json;
} bench_opts;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The per-kernel device time of the timed iterations (text), or a JSON array of it. */
static clgan_status profile_report(clgan_ctx *ctx, long iters, cJSON *into)
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
    if (into) {
        cJSON *arr = cJSON_AddArrayToObject(into, "profile");
        cJSON_AddNumberToObject(into, "device_ms_per_iteration", total / iters);
        cJSON_AddNumberToObject(into, "gemm_share", total > 0 ? gemm / total : 0);
        for (int i = 0; arr && i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kernel", e[i].name);
            cJSON_AddNumberToObject(o, "ms_per_iteration", e[i].ms / iters);
            cJSON_AddNumberToObject(o, "share", total > 0 ? e[i].ms / total : 0);
            cJSON_AddNumberToObject(o, "launches_per_iteration", (double)e[i].count / iters);
            cJSON_AddItemToArray(arr, o);
        }
    } else {
        printf("    profile: %.3f ms device time per iteration, %.0f%% in GEMM, %.0f%% in other "
               "kernels\n", total / iters, total > 0 ? 100 * gemm / total : 0,
               total > 0 ? 100 * (total - gemm) / total : 0);
        for (int i = 0; i < n; i++)
            printf("    %-26s %8.4f ms/it %6.1f%%  %5.1f launches/it\n", e[i].name,
                   e[i].ms / iters, total > 0 ? 100 * e[i].ms / total : 0,
                   (double)e[i].count / iters);
    }
    free(e);
    return CLGAN_OK;
}

/* The images' shape: MNIST's unless --image-size / --channels say otherwise. */
static clgan_shape bench_shape(const clgan_config *c)
{
    int side = c->image_size > 0 ? c->image_size : 28;
    return CLGAN_SHAPE(side, side, c->channels > 0 ? c->channels : 1);
}

/* One trainer at `batch`: the first iteration after setup, the warm-up, then `repeats`
 * timed runs of `iters` iterations, each ended by a sync. */
static clgan_status bench_batch(clgan_ctx *ctx, const clgan_config *base, int batch,
                                const bench_opts *o, const uint8_t *data, size_t count,
                                batch_result *r, cJSON *jprofile)
{
    clgan_config c = *base;
    clgan_trainer *t = NULL;
    clgan_status st;
    c.batch = batch;
    c.iterations = o->iters * o->repeats + o->warmup + 1;
    *r = (batch_result){.batch = batch};
    if ((st = clgan_trainer_init(&t, ctx, &c, data, count, bench_shape(&c))) != CLGAN_OK)
        return st;
    double t0 = clgan_now_s();
    if ((st = clgan_trainer_step(t)) == CLGAN_OK && (st = clgan_trainer_sync(t)) == CLGAN_OK)
        r->first_ms = (clgan_now_s() - t0) * 1e3;
    for (long i = 0; i < o->warmup && st == CLGAN_OK; i++)
        st = clgan_trainer_step(t);
    if (st == CLGAN_OK)
        st = clgan_trainer_sync(t);
    clgan_profile_entry *discard;
    int nd;
    if (st == CLGAN_OK && (st = clgan_profile_collect(ctx, &discard, &nd)) == CLGAN_OK)
        free(discard);
    clgan_gemm_flops_reset(ctx);
    double total = 0;
    for (long k = 0; k < o->repeats && st == CLGAN_OK; k++) {
        t0 = clgan_now_s();
        for (long i = 0; i < o->iters && st == CLGAN_OK; i++)
            st = clgan_trainer_step(t);
        if (st == CLGAN_OK)
            st = clgan_trainer_sync(t);
        double dt = clgan_now_s() - t0;
        total += dt;
        r->it_s[r->n++] = o->iters / dt;
    }
    if (st == CLGAN_OK) {
        double s[MAX_REPEATS];
        memcpy(s, r->it_s, sizeof s);
        qsort(s, (size_t)r->n, sizeof s[0], cmp_double);
        r->median = r->n % 2 ? s[r->n / 2] : 0.5 * (s[r->n / 2 - 1] + s[r->n / 2]);
        r->spread = (s[r->n - 1] - s[0]) / r->median;
        r->gflops = clgan_gemm_flops(ctx) / total * 1e-9;
        r->ms_per_it = 1e3 / r->median;
    }
    if (st == CLGAN_OK && o->profile)
        st = profile_report(ctx, o->iters * o->repeats, jprofile);
    clgan_trainer_free(t);
    return st;
}

/* One product, `reps` times back to back, best of 3 rounds: microseconds per call. */
static clgan_status time_gemm(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                              cl_mem a, cl_mem b, cl_mem c, double *us)
{
    clgan_status st = CLGAN_OK;
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    const int reps = 50;
    *us = 1e30;
    for (int round = -1; round < 3 && st == CLGAN_OK; round++) {
        double t0 = clgan_now_s();
        for (int r = 0; r < (round < 0 ? 1 : reps) && st == CLGAN_OK; r++)
            st = clgan_gemm(ctx, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, 0.0f, c, N);
        if (st == CLGAN_OK)
            st = clgan_finish(ctx);
        double dt = (clgan_now_s() - t0) / reps * 1e6;
        if (round >= 0 && dt < *us)
            *us = dt;
    }
    return st;
}

/* --gemm-shapes: every product of G's and D's dense layers at `batch`, timed alone. */
static clgan_status gemm_shapes(clgan_ctx *ctx, const clgan_config *c, int batch, cJSON *into)
{
    int dims[2][CLGAN_MAX_HIDDEN + 2], nd[2] = {0, 0};
    size_t big = 0;
    if (c->g.arch[0] || c->d.arch[0])
        return clgan_error(CLGAN_EINVAL, "--gemm-shapes times the MLP recipe's dense products; "
                                         "this recipe has layer specs (use --profile)");
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
    static const char *const op_names[3] = {"Y=XW", "dX=dY W^T", "dW=X^T dY"};
    cl_mem a = NULL, b = NULL, m = NULL;
    cJSON *arr = into ? cJSON_AddArrayToObject(into, "gemm_shapes") : NULL;
    clgan_status st;
    if ((st = clgan_buf_alloc(ctx, &a, big * 4, "gemm shapes")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &b, big * 4, "gemm shapes")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &m, big * 4, "gemm shapes")) != CLGAN_OK)
        goto done;
    if (!into)
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
            for (int q = 0; q < 3 && st == CLGAN_OK; q++) {
                double us;
                st = time_gemm(ctx, op[q].ta, op[q].tb, op[q].M, op[q].N, op[q].K, a, b, m, &us);
                double gf = 2.0 * (double)op[q].M * (double)op[q].N * (double)op[q].K / us * 1e-3;
                tot[q] += us;
                snprintf(cell[q], sizeof cell[q], "%9.1f (%6.1f)", us, gf);
                if (arr) {
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddStringToObject(o, "net", k ? "D" : "G");
                    cJSON_AddStringToObject(o, "layer", layer);
                    cJSON_AddStringToObject(o, "product", op_names[q]);
                    cJSON_AddNumberToObject(o, "us", us);
                    cJSON_AddNumberToObject(o, "gflops", gf);
                    cJSON_AddItemToArray(arr, o);
                }
            }
            if (!into && st == CLGAN_OK)
                printf("    %-3s %-11s %22s %22s %22s\n", k ? "D" : "G", layer, cell[0], cell[1],
                       cell[2]);
        }
    if (st == CLGAN_OK && !into)
        printf("    %-15s %22.1f %22.1f %22.1f\n", "sum us", tot[0], tot[1], tot[2]);
done:
    clgan_buf_release(&m);
    clgan_buf_release(&b);
    clgan_buf_release(&a);
    return st;
}

/* Parses the bench's own flags; the rest go to the settings table. */
static clgan_status parse(int argc, char **argv, clgan_config *c, bench_opts *o, int *batches,
                          int *nb, int *all, int *help)
{
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0;
    clgan_status st = CLGAN_OK;
    if (!rest)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (int i = 0; i < argc && st == CLGAN_OK; i++) {
        int err = 0;
        const char *v;
        if (!strcmp(argv[i], "--profile")) {
            o->profile = 1;
        } else if (!strcmp(argv[i], "--gemm-shapes")) {
            o->shapes = 1;
        } else if (!strcmp(argv[i], "--json")) {
            o->json = 1;
        } else if ((v = cli_flag(argc, argv, &i, "iterations", &err))) {
            st = cli_int(&o->iters, "iterations", v, 1, 100000000);
        } else if ((v = cli_flag(argc, argv, &i, "warmup", &err))) {
            st = cli_int(&o->warmup, "warmup", v, 0, 100000000);
        } else if ((v = cli_flag(argc, argv, &i, "repeats", &err))) {
            st = cli_int(&o->repeats, "repeats", v, 1, MAX_REPEATS);
        } else if ((v = cli_flag(argc, argv, &i, "batch", &err))) {
            *nb = 0;
            for (char *s = (char *)v, *end; *s && st == CLGAN_OK; s = *end ? end + 1 : end) {
                long b = strtol(s, &end, 10);
                if (end == s || (*end && *end != ',') || b < 1 || b > 65536 || *nb == MAX_BATCHES)
                    st = clgan_error(CLGAN_EINVAL, "--batch: '%s' is not a list of at most %d "
                                     "batch sizes", v, MAX_BATCHES);
                else
                    batches[(*nb)++] = (int)b;
            }
        } else if ((v = cli_flag(argc, argv, &i, "device", &err)) && !strcmp(v, "all")) {
            *all = 1;
        } else if (v) {
            snprintf(c->device, sizeof c->device, "%s", v);
        } else if (err) {
            st = clgan_error(CLGAN_EINVAL, "%s needs a value", argv[i]);
        } else {
            rest[nrest++] = argv[i];
        }
    }
    if (st == CLGAN_OK)
        st = clgan_config_parse_args(c, nrest, rest, help);
    free(rest);
    return st;
}

clgan_status cmd_bench(int argc, char **argv)
{
    clgan_config c;
    bench_opts o = {.iters = 300, .warmup = 30, .repeats = 3};
    int batches[MAX_BATCHES] = {32, 128}, nb = 2, help = 0, all = 0;
    clgan_config_defaults(&c);
    clgan_status st = parse(argc, argv, &c, &o, batches, &nb, &all, &help);
    if (st != CLGAN_OK)
        return st;
    if (help) {
        fputs(usage_text, stdout);
        return CLGAN_OK;
    }
    /* Random pixels in the images' shape: speed does not depend on the data. */
    const clgan_shape img = bench_shape(&c);
    size_t count = 2048, px = (size_t)img.h * img.w * img.c;
    uint8_t *data = malloc(count * px);
    clgan_rng rng = {c.seed};
    if (!data)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (size_t i = 0; i < count * px; i++)
        data[i] = (uint8_t)(clgan_rng_next(&rng) >> 56);

    clgan_device_info *devs = NULL;
    int ndev = 0, first = 0, last = 0;
    double best[MAX_BATCHES] = {0};
    int best_dev[MAX_BATCHES];
    cJSON *doc = o.json ? cJSON_CreateObject() : NULL, *jdevs = NULL;
    if (o.json && (!doc || !(jdevs = cJSON_AddArrayToObject(doc, "devices")))) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    if (doc) {
        cJSON_AddNumberToObject(doc, "iterations", (double)o.iters);
        cJSON_AddNumberToObject(doc, "repeats", (double)o.repeats);
        cJSON_AddNumberToObject(doc, "warmup", (double)o.warmup);
    }
    for (int k = 0; k < nb; k++)
        best_dev[k] = -1;
    if ((st = clgan_devices_list(&devs, &ndev)) != CLGAN_OK)
        goto done;
    if (all)
        last = ndev - 1;
    else if ((st = clgan_device_resolve(&first, devs, ndev, c.device)) != CLGAN_OK)
        goto done;
    else
        last = first;
    for (int d = first; d <= last && st == CLGAN_OK; d++) {
        char spec[16], tuning[256];
        clgan_ctx *ctx;
        bench_probe pr;
        snprintf(spec, sizeof spec, "%d", d);
        double t0 = clgan_now_s();
        if ((st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = spec, .profile = o.profile})) !=
            CLGAN_OK)
            break;
        if (c.gemm != CLGAN_GEMM_AUTO)
            clgan_gemm_set_impl(ctx, (clgan_gemm_impl)c.gemm);
        else
            st = clgan_gemm_autoselect(ctx);
        double startup = clgan_now_s() - t0;
        if (st == CLGAN_OK)
            st = bench_probe_run(ctx, &pr);
        int level = clgan_clblast_tuning(ctx, tuning, sizeof tuning);
        const char *impl = clgan_gemm_impl_str(clgan_gemm_get_impl(ctx));
        cJSON *jd = NULL, *jres = NULL;
        if (st == CLGAN_OK && doc) {
            jd = cJSON_CreateObject();
            cJSON_AddItemToArray(jdevs, jd);
            cJSON_AddNumberToObject(jd, "index", d);
            cJSON_AddStringToObject(jd, "name", devs[d].name);
            cJSON_AddStringToObject(jd, "platform", devs[d].platform_name);
            cJSON_AddStringToObject(jd, "type", clgan_device_type_str(devs[d].type));
            cJSON_AddStringToObject(jd, "driver", devs[d].driver);
            cJSON_AddStringToObject(jd, "gemm", impl);
            cJSON_AddStringToObject(jd, "clblast_tuning", tuning);
            cJSON_AddNumberToObject(jd, "clblast_tuning_level", level);
            cJSON_AddNumberToObject(jd, "peak_gflops", pr.peak_gflops);
            cJSON_AddNumberToObject(jd, "copy_gbs", pr.bandwidth_gbs);
            cJSON_AddNumberToObject(jd, "startup_s", startup);
            jres = cJSON_AddArrayToObject(jd, "results");
        } else if (st == CLGAN_OK) {
            printf("device %d: %s (%s, %u CUs): FP32 peak %.1f GFLOP/s (clgan's fma probe), copy "
                   "%.1f GB/s (%.0f MiB buffers); gemm %s; CLBlast: %s\n", d, devs[d].name,
                   clgan_device_type_str(devs[d].type), devs[d].compute_units, pr.peak_gflops,
                   pr.bandwidth_gbs, pr.copy_mib, impl, tuning);
            printf("%-3s %6s %10s %7s %10s %10s %7s %9s %8s %8s\n", "dev", "batch", "it/s", "spread",
                   "images/s", "GEMM GF/s", "% peak", "first ms", "ms/it", "start s");
        }
        for (int k = 0; k < nb && st == CLGAN_OK; k++) {
            batch_result r;
            cJSON *jr = jres ? cJSON_CreateObject() : NULL;
            if (jr)
                cJSON_AddItemToArray(jres, jr);
            bench_opts mo = o;
            mo.profile = 0; /* a separate pass below */
            if ((st = bench_batch(ctx, &c, batches[k], &mo, data, count, &r, NULL)) != CLGAN_OK)
                break;
            double pct = pr.peak_gflops > 0 ? 100 * r.gflops / pr.peak_gflops : 0;
            if (jr) {
                cJSON_AddNumberToObject(jr, "batch", r.batch);
                cJSON_AddNumberToObject(jr, "it_s_median", r.median);
                cJSON_AddNumberToObject(jr, "it_s_spread", r.spread);
                cJSON *runs = cJSON_AddArrayToObject(jr, "it_s");
                for (int i = 0; runs && i < r.n; i++)
                    cJSON_AddItemToArray(runs, cJSON_CreateNumber(r.it_s[i]));
                cJSON_AddNumberToObject(jr, "images_s", r.median * r.batch);
                cJSON_AddNumberToObject(jr, "gemm_gflops", r.gflops);
                cJSON_AddNumberToObject(jr, "percent_of_peak", pct);
                cJSON_AddNumberToObject(jr, "first_iteration_ms", r.first_ms);
                cJSON_AddNumberToObject(jr, "ms_per_iteration", r.ms_per_it);
            } else {
                printf("%-3d %6d %10.1f %6.1f%% %10.0f %10.1f %6.1f%% %9.2f %8.3f %8.2f\n", d,
                       r.batch, r.median, 100 * r.spread, r.median * r.batch, r.gflops, pct,
                       r.first_ms, r.ms_per_it, startup);
                fflush(stdout);
            }
            if (r.median > best[k]) {
                best[k] = r.median;
                best_dev[k] = d;
            }
        }
        /* The profile and GEMM shapes are separate passes after the timed ones, so they
         * do not disturb them. */
        for (int k = 0; k < nb && st == CLGAN_OK && (o.profile || o.shapes); k++) {
            cJSON *jr = jres ? cJSON_GetArrayItem(jres, k) : NULL;
            batch_result r;
            bench_opts po = o;
            if (!jr)
                printf("  batch %d:\n", batches[k]);
            if (o.profile) {
                po.repeats = 1;
                po.warmup = 0;
                po.iters = o.iters < 100 ? o.iters : 100;
                st = bench_batch(ctx, &c, batches[k], &po, data, count, &r, jr);
            }
            if (st == CLGAN_OK && o.shapes)
                st = gemm_shapes(ctx, &c, batches[k], jr);
        }
        clgan_ctx_free(ctx);
    }
    if (st == CLGAN_OK && all) {
        cJSON *jf = doc ? cJSON_AddArrayToObject(doc, "fastest") : NULL;
        for (int k = 0; k < nb; k++) {
            if (best_dev[k] < 0)
                continue;
            if (jf) {
                cJSON *f = cJSON_CreateObject();
                cJSON_AddNumberToObject(f, "batch", batches[k]);
                cJSON_AddNumberToObject(f, "device", best_dev[k]);
                cJSON_AddStringToObject(f, "name", devs[best_dev[k]].name);
                cJSON_AddNumberToObject(f, "it_s", best[k]);
                cJSON_AddItemToArray(jf, f);
            } else {
                printf("fastest at batch %d: device %d (%s), %.1f it/s\n", batches[k],
                       best_dev[k], devs[best_dev[k]].name, best[k]);
            }
        }
    }
    if (st == CLGAN_OK && doc) {
        char *s = cJSON_Print(doc);
        if (!s) {
            st = clgan_error(CLGAN_ENOMEM, "out of memory printing JSON");
        } else {
            printf("%s\n", s);
            free(s);
        }
    }
done:
    cJSON_Delete(doc);
    free(devs);
    free(data);
    return st;
}
