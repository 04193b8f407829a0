/* run.c - `clgan train` as a library call: loads data, builds the trainer, runs the
 * schedule, and writes the run directory (config.ini, images/<it>.png, training.gif,
 * metrics.jsonl, discriminator_loss.npy, generator_loss.npy, ...,
 * generator.safetensors). Every file lands atomically; a stop request (Ctrl-C) ends the
 * run early with every output written for the iterations done. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"

#define GRID 5

typedef struct {
    const clgan_config *c;
    const clgan_run_opts *o;
    FILE *log;
    char dir[512];
    clgan_trainer *tr;
    clgan_gif *gif;
    int h, w;
    float *imgs;          /* (GRID*GRID, h*w) */
    FILE *jsonl;
    char jsonl_tmp[700];
    long logged;          /* iterations already written to metrics.jsonl */
    long printed;         /* iteration of the last progress line */
    double t0, t_last;
    long it_last;
    double rate;
} run_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void path_in(char *out, size_t n, const run_state *r, const char *name)
{
    snprintf(out, n, "%s/%s", r->dir, name);
}

/* Draws the 5x5 grid from the fixed noise and writes images/<it>.png and a GIF frame. */
static clgan_status write_grid(run_state *r, long it)
{
    uint8_t *pix = NULL;
    int gw, gh;
    char name[64], path[700];
    clgan_status st = clgan_trainer_sample(r->tr, r->imgs, GRID * GRID);
    if (st == CLGAN_OK)
        st = clgan_grid_make(&pix, &gw, &gh, r->imgs, GRID * GRID, r->h, r->w, GRID, GRID, 2,
                             -1.0f, 1.0f);
    if (st != CLGAN_OK)
        return st;
    snprintf(name, sizeof name, "images/%ld.png", it);
    path_in(path, sizeof path, r, name);
    st = clgan_png_write_gray(path, pix, gw, gh);
    if (st == CLGAN_OK && !r->gif) {
        path_in(path, sizeof path, r, "training.gif");
        st = clgan_gif_open(&r->gif, path, gw, gh, r->c->gif_delay_cs);
    }
    if (st == CLGAN_OK)
        st = clgan_gif_add(r->gif, pix);
    free(pix);
    return st;
}

/* Mean of metric m over iterations [a, b). */
static double mean_of(const float *h, long a, long b, int m)
{
    double s = 0.0;
    for (long i = a; i < b; i++)
        s += h[i * CLGAN_M_COUNT + m];
    return b > a ? s / (double)(b - a) : 0.0;
}

/* Appends metrics.jsonl records for every complete, synced log interval (and, when
 * `final`, the partial one at the end). */
static void write_records(run_state *r, int final)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    long every = r->c->log_every;
    while (r->logged < v->synced && (r->logged + every <= v->synced || final)) {
        long a = r->logged, b = a + every < v->synced ? a + every : v->synced;
        const float *h = v->history;
        double dr = mean_of(h, a, b, CLGAN_M_D_LOSS_REAL), df = mean_of(h, a, b, CLGAN_M_D_LOSS_FAKE);
        double ar = mean_of(h, a, b, CLGAN_M_D_ACC_REAL), af = mean_of(h, a, b, CLGAN_M_D_ACC_FAKE);
        fprintf(r->jsonl,
                "{\"iteration\": %ld, \"iterations\": %ld, \"d_loss\": %.6g, \"d_loss_real\": %.6g, "
                "\"d_loss_fake\": %.6g, \"g_loss\": %.6g, \"d_acc\": %.6g, \"d_acc_real\": %.6g, "
                "\"d_acc_fake\": %.6g, \"d_x\": %.6g, \"d_g_z\": %.6g, \"it_per_s\": %.4g}\n",
                b, b - a, 0.5 * (dr + df), dr, df, mean_of(h, a, b, CLGAN_M_G_LOSS),
                0.5 * (ar + af), ar, af, mean_of(h, a, b, CLGAN_M_D_X),
                mean_of(h, a, b, CLGAN_M_D_GZ), r->rate);
        r->logged = b;
    }
    fflush(r->jsonl);
}

static void progress(run_state *r, int final)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    long n = r->c->iterations, s = v->synced;
    double t = now_s();
    if (t - r->t_last > 0.5 && v->iteration > r->it_last) {
        double inst = (v->iteration - r->it_last) / (t - r->t_last);
        r->rate = r->rate > 0 ? 0.7 * r->rate + 0.3 * inst : inst;
        r->t_last = t;
        r->it_last = v->iteration;
    }
    if (r->o->quiet || s == 0 || (s == r->printed && !final))
        return;
    int tty = r->o->progress;
    long every = tty ? 1 : (n / 20 > r->c->log_every ? n / 20 : r->c->log_every);
    if (!final && s - r->printed < every)
        return;
    const float *h = v->history + (s - 1) * CLGAN_M_COUNT;
    double eta = r->rate > 0 ? (n - v->iteration) / r->rate : 0;
    fprintf(r->log, "%s[%ld/%ld] %.1f it/s, ETA %02d:%02d | D loss %.4f, acc %5.1f%% | G loss %.4f%s",
            tty ? "\r" : "", s, n, r->rate, (int)(eta / 60), (int)fmod(eta, 60),
            0.5 * (h[CLGAN_M_D_LOSS_REAL] + h[CLGAN_M_D_LOSS_FAKE]),
            50.0 * (h[CLGAN_M_D_ACC_REAL] + h[CLGAN_M_D_ACC_FAKE]), h[CLGAN_M_G_LOSS],
            tty ? (final ? "\n" : "   ") : "\n");
    fflush(r->log);
    r->printed = s;
}

/* The .npy arrays: one float32 per iteration. */
static clgan_status write_arrays(run_state *r)
{
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    size_t n = (size_t)v->synced;
    static const struct {
        const char *file;
        int a, b; /* mean of metrics a and b (a == b: just a) */
    } arrays[] = {
        {"discriminator_loss.npy", CLGAN_M_D_LOSS_REAL, CLGAN_M_D_LOSS_FAKE},
        {"generator_loss.npy", CLGAN_M_G_LOSS, CLGAN_M_G_LOSS},
        {"discriminator_accuracy.npy", CLGAN_M_D_ACC_REAL, CLGAN_M_D_ACC_FAKE},
        {"d_real.npy", CLGAN_M_D_X, CLGAN_M_D_X},
        {"d_fake.npy", CLGAN_M_D_GZ, CLGAN_M_D_GZ},
    };
    float *col = malloc((n ? n : 1) * sizeof *col);
    clgan_status st = CLGAN_OK;
    char path[700];
    if (!col)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0] && st == CLGAN_OK; k++) {
        for (size_t i = 0; i < n; i++)
            col[i] = 0.5f * (v->history[i * CLGAN_M_COUNT + arrays[k].a] +
                             v->history[i * CLGAN_M_COUNT + arrays[k].b]);
        path_in(path, sizeof path, r, arrays[k].file);
        st = clgan_npy_write_f32(path, col, 1, &n);
    }
    free(col);
    return st;
}

static clgan_status open_dir(run_state *r)
{
    char path[700];
    clgan_status st;
    if (r->c->out[0]) {
        snprintf(r->dir, sizeof r->dir, "%s", r->c->out);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(r->dir, sizeof r->dir, "runs/%Y%m%d-%H%M%S", &tm);
    }
    path_in(path, sizeof path, r, "images");
    if ((st = clgan_io_mkdirs(path)) != CLGAN_OK)
        return st;
    path_in(r->jsonl_tmp, sizeof r->jsonl_tmp, r, "metrics.jsonl.partial");
    r->jsonl = fopen(r->jsonl_tmp, "w");
    if (!r->jsonl)
        return clgan_error(CLGAN_EIO, "cannot write %s", r->jsonl_tmp);
    clgan_config cfg = *r->c;
    snprintf(cfg.out, sizeof cfg.out, "%s", r->dir);
    path_in(path, sizeof path, r, "config.ini");
    return clgan_config_save(&cfg, path);
}

static clgan_status finish_outputs(run_state *r)
{
    char path[700];
    clgan_status st = write_arrays(r);
    const clgan_trainer_view *v = clgan_trainer_get(r->tr);
    if (st == CLGAN_OK) {
        path_in(path, sizeof path, r, "generator.safetensors");
        st = clgan_checkpoint_save_generator(path, v->g, r->c, r->h, r->w);
    }
    if (st == CLGAN_OK) {
        clgan_gif *g = r->gif;
        r->gif = NULL;
        st = g ? clgan_gif_close(g) : CLGAN_OK;
    }
    if (st == CLGAN_OK && r->jsonl) {
        write_records(r, 1);
        int bad = fflush(r->jsonl) != 0 || fsync(fileno(r->jsonl)) != 0;
        bad |= fclose(r->jsonl) != 0;
        r->jsonl = NULL;
        path_in(path, sizeof path, r, "metrics.jsonl");
        if (bad || rename(r->jsonl_tmp, path) != 0)
            st = clgan_error(CLGAN_EIO, "cannot write %s", path);
    }
    return st;
}

clgan_status clgan_run_train(const clgan_config *c, const clgan_run_opts *o)
{
    clgan_run_opts defaults = {0};
    run_state r = {.c = c, .o = o ? o : &defaults};
    clgan_dataset data = {0};
    clgan_ctx *ctx = NULL;
    clgan_status st;
    r.log = r.o->log ? r.o->log : stderr;
    if ((st = clgan_config_validate(c)) != CLGAN_OK ||
        (st = clgan_dataset_load(&data, c->data)) != CLGAN_OK)
        return st;
    r.h = data.h;
    r.w = data.w;
    if ((size_t)c->batch > data.count) {
        st = clgan_error(CLGAN_EINVAL, "--batch %d is larger than the data set (%zu images)",
                         c->batch, data.count);
        goto done;
    }
    double t_start = now_s();
    clgan_ctx_opts co = {.device = c->device, .verbose = 0};
    if ((st = clgan_ctx_init(&ctx, &co)) != CLGAN_OK)
        goto done;
    const clgan_ctx_view *cv = clgan_ctx_get(ctx);
    if (c->gemm != CLGAN_GEMM_AUTO)
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)c->gemm);
    else if ((st = clgan_gemm_autoselect(ctx)) != CLGAN_OK)
        goto done;
    if (!r.o->quiet)
        fprintf(r.log, "clgan: device %d: %s (%s, %s); kernels %s in %.2f s; gemm %s\n"
                       "clgan: data %s: %zu images %dx%d\n",
                cv->dev.index, cv->dev.name, cv->dev.platform_name,
                clgan_device_type_str(cv->dev.type), cv->cache_hit ? "from cache" : "built",
                cv->build_seconds, clgan_gemm_impl_str(clgan_gemm_get_impl(ctx)), data.source,
                data.count, data.h, data.w);
    if ((st = open_dir(&r)) != CLGAN_OK ||
        (st = clgan_trainer_init(&r.tr, ctx, c, data.images, data.count, data.h * data.w)) != CLGAN_OK)
        goto done;
    r.imgs = malloc((size_t)GRID * GRID * data.h * data.w * sizeof(float));
    if (!r.imgs) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = write_grid(&r, 0)) != CLGAN_OK)
        goto done;
    if (!r.o->quiet)
        fprintf(r.log, "clgan: first iteration after %.2f s; training %ld iterations, batch %d, "
                       "into %s\n", now_s() - t_start, c->iterations, c->batch, r.dir);
    r.t0 = r.t_last = now_s();
    long it = 0;
    for (; it < c->iterations; it++) {
        if (r.o->stop && *r.o->stop) {
            if (!r.o->quiet)
                fprintf(r.log, "\nclgan: stopped at iteration %ld; writing outputs\n", it);
            break;
        }
        if ((st = clgan_trainer_step(r.tr)) != CLGAN_OK)
            goto done;
        if (c->sample_every > 0 && (it + 1) % c->sample_every == 0 &&
            (st = write_grid(&r, it + 1)) != CLGAN_OK)
            goto done;
        write_records(&r, 0);
        progress(&r, 0);
    }
    if ((st = clgan_trainer_sync(r.tr)) != CLGAN_OK)
        goto done;
    double secs = now_s() - r.t0;
    r.rate = it / (secs > 0 ? secs : 1);
    if ((c->sample_every == 0 || it % c->sample_every != 0) && it > 0 &&
        (st = write_grid(&r, it)) != CLGAN_OK)
        goto done;
    progress(&r, 1);
    if ((st = finish_outputs(&r)) != CLGAN_OK)
        goto done;
    if (!r.o->quiet)
        fprintf(r.log,
                "clgan: %ld iterations in %.1f s (%.1f it/s)\n"
                "  sample grids   %s/images/<iteration>.png\n"
                "  animation      %s/training.gif\n"
                "  loss arrays    %s/discriminator_loss.npy, generator_loss.npy\n"
                "  metrics        %s/metrics.jsonl\n"
                "  generator      %s/generator.safetensors\n"
                "  configuration  %s/config.ini\n",
                it, secs, r.rate, r.dir, r.dir, r.dir, r.dir, r.dir, r.dir);
done:
    if (r.jsonl)
        fclose(r.jsonl);
    clgan_gif_abort(r.gif);
    free(r.imgs);
    clgan_trainer_free(r.tr);
    clgan_ctx_free(ctx);
    clgan_dataset_free(&data);
    return st;
}
