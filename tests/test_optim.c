/* test_optim.c - the optimizers on the CPU device against a double-precision host
 * reference (SGD plain/momentum/Nesterov, Adam in both forms, RMSprop, with L2, decay
 * and clipping), hand-computed values for L2, decay, value and global-norm clipping,
 * the norm metrics, WGAN weight clipping, and a 1.5M-float multi-group reduction.
 * Every comparison is paired with a check that the
 * result is far from what it would be had the feature done nothing. Prints the time of
 * one step over 1.5M floats (update alone, and with the norm). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/optim.h"
#include "common/rng.h"
#include "testutil.h"

static clgan_ctx *ctx;

/* ---- host reference (double) ---- */

typedef struct {
    double *p, *s0, *s1; /* (n) each */
} ref_state;

/* One step of the pipeline documented in optim.h; norms[0..1] = before, after. */
static void ref_step(ref_state *r, const float *g, size_t n, const clgan_opt_opts *o, long t,
                     double norms[2])
{
    double *e = malloc(n * sizeof *e), ss_raw = 0, ss_clip = 0;
    for (size_t i = 0; i < n; i++) {
        double x = g[i] + (double)o->l2 * r->p[i];
        ss_raw += x * x;
        if (o->clip_value > 0)
            x = fmin(fmax(x, -(double)o->clip_value), o->clip_value);
        ss_clip += x * x;
        e[i] = x;
    }
    double scale = o->clip_norm > 0 ? fmin(1.0, o->clip_norm / (sqrt(ss_clip) + 1e-6)) : 1.0;
    norms[0] = sqrt(ss_raw);
    norms[1] = sqrt(ss_clip) * scale;
    double lr = o->lr, keep = 1.0 - lr * o->weight_decay;
    double b1 = o->beta1, b2 = o->beta2, c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t);
    for (size_t i = 0; i < n; i++) {
        double x = e[i] * scale, upd;
        if (o->kind == CLGAN_OPT_ADAM) {
            r->s0[i] = b1 * r->s0[i] + (1 - b1) * x;
            r->s1[i] = b2 * r->s1[i] + (1 - b2) * x * x;
            if (o->form == CLGAN_ADAM_KERAS)
                upd = lr * sqrt(c2) / c1 * r->s0[i] / (sqrt(r->s1[i]) + o->eps);
            else
                upd = lr / c1 * r->s0[i] / (sqrt(r->s1[i]) / sqrt(c2) + o->eps);
        } else if (o->kind == CLGAN_OPT_RMSPROP) {
            r->s0[i] = o->alpha * r->s0[i] + (1 - (double)o->alpha) * x * x;
            upd = lr * x / (sqrt(r->s0[i]) + o->eps);
        } else {
            if (o->momentum > 0) {
                r->s0[i] = o->momentum * r->s0[i] + x;
                x = o->nesterov ? x + o->momentum * r->s0[i] : r->s0[i];
            }
            upd = lr * x;
        }
        r->p[i] = r->p[i] * keep - upd;
    }
    free(e);
}

/* 1 when some |a - b| exceeds 10 (atol + rtol |b|): the result is clearly not `b`. */
static int far_from(const float *a, const double *b, size_t n, double atol, double rtol)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > 10 * (atol + rtol * fabs(b[i])))
            return 1;
    return 0;
}

static void to_float(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}

/* Runs `o` for `steps` steps on n random params/grads (metrics ring of 2 per step) and
 * compares params, state and norms with the reference; with `off` (the same options
 * with the feature under test disabled) also checks the params are far from what `off`
 * gives. */
static void run_case(const char *name, clgan_opt_opts o, const clgan_opt_opts *off, size_t n,
                     int steps, uint64_t seed)
{
    const double atol = 1e-6, rtol = 1e-5;
    clgan_rng rng = {seed};
    float *p = malloc(n * 4), *g = malloc(n * 4), *out = malloc(n * 4);
    float *met = malloc(2 * steps * 4);
    double *mem = calloc(6 * n, sizeof(double)), norms[2], off_norms[2];
    ref_state r = {mem, mem + n, mem + 2 * n}, roff = {mem + 3 * n, mem + 4 * n, mem + 5 * n};
    double *want_norms = malloc(2 * steps * sizeof(double));
    clgan_opt *opt;
    cl_mem pb, gb, mb, st[2];
    for (size_t i = 0; i < n; i++) p[i] = (float)clgan_rng_normal(&rng);
    for (size_t i = 0; i < n; i++) r.p[i] = roff.p[i] = p[i];
    CHECK_OK(clgan_opt_init(&opt, ctx, n, o));
    CHECK_OK(clgan_buf_alloc(ctx, &pb, n * 4, "p"));
    CHECK_OK(clgan_buf_alloc(ctx, &gb, n * 4, "g"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 2 * steps * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, pb, 0, p, n * 4));
    for (int t = 1; t <= steps; t++) {
        for (size_t i = 0; i < n; i++) g[i] = (float)clgan_rng_normal(&rng) * (i % 5 ? 1.0f : 0.05f);
        CHECK_OK(clgan_buf_write(ctx, gb, 0, g, n * 4));
        CHECK_OK(clgan_opt_step(opt, pb, gb, t, mb, 2 * (t - 1)));
        ref_step(&r, g, n, &o, t, norms);
        want_norms[2 * (t - 1)] = norms[0], want_norms[2 * (t - 1) + 1] = norms[1];
        if (off)
            ref_step(&roff, g, n, off, t, off_norms);
    }
    CHECK_OK(clgan_buf_read(ctx, pb, 0, out, n * 4));
    to_float(p, r.p, n);
    char what[160];
    snprintf(what, sizeof what, "%s params", name);
    tu_close(what, out, p, n, atol, rtol);
    if (off) {
        tu_checks++;
        if (!far_from(out, roff.p, n, atol, rtol)) {
            tu_failures++;
            fprintf(stderr, "%s: params match the run without the feature\n", name);
        }
    }
    int ns = clgan_opt_state(opt, st);
    for (int k = 0; k < ns; k++) {
        CHECK_OK(clgan_buf_read(ctx, st[k], 0, out, n * 4));
        to_float(p, k ? r.s1 : r.s0, n);
        snprintf(what, sizeof what, "%s state %d", name, k);
        /* The state sums scaled gradients of magnitude ~1 that cancel to values near
         * 0: a few ulps of 1 (the norm-clip scale's reduction order differs between
         * devices, and GPUs contract to FMA) is the absolute error to allow. */
        tu_close(what, out, p, n, 2.5e-7, rtol);
    }
    CHECK_OK(clgan_buf_read(ctx, mb, 0, met, 2 * steps * 4));
    to_float(p, want_norms, 2 * steps);
    snprintf(what, sizeof what, "%s norms", name);
    tu_close(what, met, p, 2 * steps, 1e-6, rtol);
    clgan_buf_release(&mb), clgan_buf_release(&gb), clgan_buf_release(&pb);
    clgan_opt_free(opt);
    free(want_norms), free(mem), free(met), free(out), free(g), free(p);
}

static void test_rules(void)
{
    clgan_opt_opts sgd = clgan_opt_defaults(CLGAN_OPT_SGD), off;
    sgd.lr = 0.1f;
    off = sgd, off.lr = 0;
    run_case("sgd", sgd, &off, 1001, 5, 1);

    clgan_opt_opts mom = sgd;
    mom.momentum = 0.9f;
    run_case("sgd momentum", mom, &sgd, 1001, 5, 2);
    clgan_opt_opts nest = mom;
    nest.nesterov = 1;
    run_case("sgd nesterov", nest, &mom, 1001, 5, 3);
    clgan_opt_opts l2 = mom;
    l2.l2 = 0.3f;
    run_case("sgd momentum + l2", l2, &mom, 1001, 5, 4);

    /* eps = 0.1 makes the two forms' eps placement visible. */
    clgan_opt_opts keras = clgan_opt_defaults(CLGAN_OPT_ADAM), torch;
    keras.lr = 0.01f, keras.beta1 = 0.5f, keras.eps = 0.1f, keras.form = CLGAN_ADAM_KERAS;
    torch = keras, torch.form = CLGAN_ADAM_TORCH;
    run_case("adam keras", keras, &torch, 1001, 6, 5);
    run_case("adam torch", torch, &keras, 1001, 6, 6);
    clgan_opt_opts adamw = torch;
    adamw.weight_decay = 2.0f;
    run_case("adamw (decoupled decay)", adamw, &torch, 1001, 6, 7);
    clgan_opt_opts adam_l2 = torch;
    adam_l2.l2 = 0.5f;
    run_case("adam + l2", adam_l2, &torch, 1001, 6, 8);

    clgan_opt_opts rms = clgan_opt_defaults(CLGAN_OPT_RMSPROP);
    rms.lr = 0.01f, rms.alpha = 0.9f;
    off = rms, off.lr = 0;
    run_case("rmsprop", rms, &off, 1001, 5, 9);

    /* Clipping inside multi-group reductions (n not a multiple of the work-group). */
    clgan_opt_opts cv = torch;
    cv.clip_value = 0.5f;
    run_case("adam + clip_value", cv, &torch, 100003, 3, 10);
    clgan_opt_opts cn = rms;
    cn.clip_norm = 50.0f; /* ||g|| ~ 290 */
    run_case("rmsprop + clip_norm", cn, &rms, 100003, 3, 11);
    clgan_opt_opts both = mom;
    both.clip_value = 1.0f, both.clip_norm = 100.0f, both.l2 = 0.1f, both.weight_decay = 0.5f;
    run_case("sgd all features", both, &mom, 100003, 3, 12);
}

/* One SGD/Adam step from p0 with gradient g (n small); returns params and norms. */
static void one_step(float *out, float norms[2], clgan_opt_opts o, const float *p0,
                     const float *g, int n)
{
    clgan_opt *opt;
    cl_mem pb, gb, mb;
    float sentinel[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    CHECK_OK(clgan_opt_init(&opt, ctx, (size_t)n, o));
    CHECK_OK(clgan_buf_alloc(ctx, &pb, n * 4, "p"));
    CHECK_OK(clgan_buf_alloc(ctx, &gb, n * 4, "g"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, sizeof sentinel, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, pb, 0, p0, n * 4));
    CHECK_OK(clgan_buf_write(ctx, gb, 0, g, n * 4));
    CHECK_OK(clgan_buf_write(ctx, mb, 0, sentinel, sizeof sentinel));
    CHECK_OK(clgan_opt_step(opt, pb, gb, 1, mb, 5));
    CHECK_OK(clgan_buf_read(ctx, pb, 0, out, n * 4));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, sentinel, sizeof sentinel));
    norms[0] = sentinel[5], norms[1] = sentinel[6];
    CHECK(sentinel[4] == -1 && sentinel[7] == -1); /* writes only its two slots */
    clgan_buf_release(&mb), clgan_buf_release(&gb), clgan_buf_release(&pb);
    clgan_opt_free(opt);
}

static void test_hand_values(void)
{
    const float p0[4] = {1, -2, 3, 0}, g[4] = {0.1f, 0.2f, -0.3f, 1};
    float out[4], nm[2];
    clgan_opt_opts sgd = clgan_opt_defaults(CLGAN_OPT_SGD);
    sgd.lr = 0.1f;

    /* L2: e = g + 0.5 p = (0.6, -0.8, 1.2, 1); p - 0.1 e. Without: (0.99, -2.02, 3.03, -0.1). */
    clgan_opt_opts o = sgd;
    o.l2 = 0.5f;
    one_step(out, nm, o, p0, g, 4);
    tu_close("l2 by hand", out, (float[]){0.94f, -1.92f, 2.88f, -0.1f}, 4, 1e-6, 1e-6);
    CHECK(fabsf(nm[0] - sqrtf(0.36f + 0.64f + 1.44f + 1)) < 1e-6f); /* norm includes L2 */

    /* Decoupled decay with Adam at t = 1: update = lr g / (|g| + eps) ~ 0.1 sign(g), and
     * p (1 - 0.1 * 0.5). Coupled L2 would give (0.9, -1.9, 2.9, -0.1); none (0.9, -2.1, 3.1, -0.1). */
    clgan_opt_opts aw = clgan_opt_defaults(CLGAN_OPT_ADAM);
    aw.lr = 0.1f, aw.weight_decay = 0.5f;
    one_step(out, nm, aw, p0, g, 4);
    tu_close("adamw decay by hand", out, (float[]){0.85f, -2.0f, 2.95f, -0.1f}, 4, 1e-6, 1e-6);

    /* Clip by value at 0.5, SGD lr 1 from 0. */
    const float z[5] = {0}, gv[5] = {0.1f, -0.7f, 2.0f, -0.5f, 0.49f};
    float out5[5];
    o = sgd, o.lr = 1, o.clip_value = 0.5f;
    one_step(out5, nm, o, z, gv, 5);
    tu_close("clip_value by hand", out5, (float[]){-0.1f, 0.5f, -0.5f, 0.5f, -0.49f}, 5, 1e-7, 1e-6);
    CHECK(fabsf(nm[0] - sqrtf(0.01f + 0.49f + 4.0f + 0.25f + 0.2401f)) < 1e-6f);
    CHECK(fabsf(nm[1] - sqrtf(0.01f + 0.25f + 0.25f + 0.25f + 0.2401f)) < 1e-6f);

    /* Global norm: p = (2, 0, 0), l2 = 0.5, g = (2, 4, 12): e = (3, 4, 12), ||e|| = 13.
     * clip 6.5 halves it (without L2 in the norm the scale would be 6.5/12.81). */
    const float p3[3] = {2, 0, 0}, g3[3] = {2, 4, 12};
    float out3[3];
    o = sgd, o.lr = 1, o.l2 = 0.5f, o.clip_norm = 6.5f;
    one_step(out3, nm, o, p3, g3, 3);
    tu_close("clip_norm halves", out3, (float[]){0.5f, -2, -6}, 3, 1e-6, 1e-6);
    tu_close("clip_norm metrics", nm, (float[]){13, 6.5f}, 2, 1e-6, 1e-6);
    o.clip_norm = 20; /* above the norm: untouched */
    one_step(out3, nm, o, p3, g3, 3);
    tu_close("clip_norm below threshold", out3, (float[]){-1, -4, -12}, 3, 1e-6, 1e-6);
    tu_close("clip_norm below metrics", nm, (float[]){13, 13}, 2, 1e-6, 1e-6);
    /* Value clip first: e = (3, 4, 4), ||.|| = sqrt(41); norm clip to 3 scales by 3/sqrt(41). */
    o.clip_norm = 3, o.clip_value = 4;
    one_step(out3, nm, o, p3, g3, 3);
    float s = 3 / sqrtf(41);
    tu_close("clip_value then clip_norm", out3, (float[]){2 - 3 * s, -4 * s, -4 * s}, 3, 1e-6, 1e-5);
    tu_close("clip_value then clip_norm metrics", nm, (float[]){13, 3}, 2, 1e-6, 1e-6);
}

static void test_weight_clip(void)
{
    const int n = 1000;
    float p[1000], want[1000], out[1000];
    clgan_rng rng = {21};
    cl_mem pb;
    for (int i = 0; i < n; i++) p[i] = (float)clgan_rng_normal(&rng) * 0.02f;
    p[0] = -2, p[1] = 3, p[2] = 0.005f;
    for (int i = 0; i < n; i++) want[i] = fminf(fmaxf(p[i], -0.01f), 0.01f);
    CHECK_OK(clgan_buf_alloc(ctx, &pb, n * 4, "p"));
    CHECK_OK(clgan_buf_write(ctx, pb, 0, p, n * 4));
    CHECK_OK(clgan_weight_clip(ctx, pb, n, 0.01f));
    CHECK_OK(clgan_buf_read(ctx, pb, 0, out, n * 4));
    tu_close("weight clip", out, want, n, 0, 0);
    CHECK(out[0] == -0.01f && out[1] == 0.01f && out[2] == 0.005f);
    CHECK(clgan_weight_clip(ctx, pb, n, 0) == CLGAN_EINVAL);
    clgan_buf_release(&pb);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Milliseconds per step over `reps` steps after a warm-up step. */
static double time_steps(clgan_opt *opt, cl_mem pb, cl_mem gb, cl_mem mb, int reps)
{
    CHECK_OK(clgan_opt_step(opt, pb, gb, 1, mb, 0));
    CHECK_OK(clgan_finish(ctx));
    double t0 = now_s();
    for (int t = 2; t < 2 + reps; t++) CHECK_OK(clgan_opt_step(opt, pb, gb, t, mb, 0));
    CHECK_OK(clgan_finish(ctx));
    return (now_s() - t0) * 1e3 / reps;
}

/* The default generator's size: 46 groups in the norm reduction. */
static void test_large(void)
{
    const size_t n = 1500000;
    float *g = malloc(n * 4), *p = malloc(n * 4), *out = malloc(n * 4), m1[2], m2[2];
    clgan_rng rng = {31};
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        g[i] = (float)clgan_rng_normal(&rng) * (i < n / 2 ? 1.0f : 3.0f);
        p[i] = (float)clgan_rng_normal(&rng);
        ss += (double)g[i] * g[i];
    }
    double norm = sqrt(ss);
    clgan_opt *opt;
    clgan_opt_opts o = clgan_opt_defaults(CLGAN_OPT_SGD);
    o.lr = 1, o.clip_norm = (float)(norm / 4);
    cl_mem pb, gb, mb;
    CHECK_OK(clgan_opt_init(&opt, ctx, n, o));
    CHECK_OK(clgan_buf_alloc(ctx, &pb, n * 4, "p"));
    CHECK_OK(clgan_buf_alloc(ctx, &gb, n * 4, "g"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 4 * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, pb, 0, p, n * 4));
    CHECK_OK(clgan_buf_write(ctx, gb, 0, g, n * 4));
    CHECK_OK(clgan_opt_step(opt, pb, gb, 1, mb, 0));
    CHECK_OK(clgan_opt_step(opt, pb, gb, 2, mb, 2)); /* same g: same bits */
    CHECK_OK(clgan_buf_read(ctx, pb, 0, out, n * 4));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, m1, 8));
    CHECK_OK(clgan_buf_read(ctx, mb, 8, m2, 8));
    printf("1.5M norm: device %.9g host %.9g (rel %.2g)\n", m1[0], norm, fabs(m1[0] - norm) / norm);
    CHECK(fabs(m1[0] - norm) <= 1e-5 * norm);
    CHECK(fabs(m1[1] - norm / 4) <= 1e-5 * norm);
    CHECK(memcmp(m1, m2, sizeof m1) == 0);
    double scale = (norm / 4) / (norm + 1e-6);
    for (size_t i = 0; i < n; i++) p[i] = (float)(p[i] - 2 * scale * g[i]);
    tu_close("1.5M clip_norm params", out, p, n, 1e-5, 1e-5);

    /* Timing: Adam (the trainer's optimizer) over 1.5M floats on this device. */
    clgan_opt *adam;
    o = clgan_opt_defaults(CLGAN_OPT_ADAM);
    CHECK_OK(clgan_opt_init(&adam, ctx, n, o));
    const char *dev = clgan_ctx_get(ctx)->dev.name;
    double t_upd = time_steps(adam, pb, gb, NULL, 50), t_norm = time_steps(adam, pb, gb, mb, 50);
    printf("adam step, 1.5M floats on %s: %.3f ms update only, %.3f ms with norm metrics\n", dev,
           t_upd, t_norm);
    clgan_opt_free(adam);
    o = clgan_opt_defaults(CLGAN_OPT_SGD);
    o.momentum = 0.9f;
    CHECK_OK(clgan_opt_init(&adam, ctx, n, o));
    printf("sgd momentum step, 1.5M floats: %.3f ms update only\n", time_steps(adam, pb, gb, NULL, 50));
    clgan_opt_free(adam);

    clgan_buf_release(&mb), clgan_buf_release(&gb), clgan_buf_release(&pb);
    clgan_opt_free(opt);
    free(out), free(p), free(g);
}

static void test_api(void)
{
    for (int k = 0; k < CLGAN_OPT_COUNT; k++)
        CHECK(clgan_opt_parse(clgan_opt_str((clgan_opt_kind)k)) == k);
    CHECK(clgan_opt_parse("Adam") == -1 && clgan_opt_parse(NULL) == -1);
    CHECK(strcmp(clgan_opt_str(CLGAN_OPT_COUNT), "?") == 0);

    clgan_opt *o = NULL;
    cl_mem st[2];
    clgan_opt_opts sgd = clgan_opt_defaults(CLGAN_OPT_SGD), bad;
    CHECK_OK(clgan_opt_init(&o, ctx, 10, sgd));
    CHECK(clgan_opt_state(o, st) == 0);
    clgan_opt_free(o);
    sgd.momentum = 0.9f;
    CHECK_OK(clgan_opt_init(&o, ctx, 10, sgd));
    CHECK(clgan_opt_state(o, st) == 1 && st[0]);
    clgan_opt_free(o);
    CHECK_OK(clgan_opt_init(&o, ctx, 10, clgan_opt_defaults(CLGAN_OPT_ADAM)));
    CHECK(clgan_opt_state(o, st) == 2 && st[0] && st[1]);
    CHECK(clgan_opt_step(o, NULL, NULL, 0, NULL, 0) == CLGAN_EINVAL); /* t >= 1 */
    clgan_opt_free(o);
    CHECK_OK(clgan_opt_init(&o, ctx, 10, clgan_opt_defaults(CLGAN_OPT_RMSPROP)));
    CHECK(clgan_opt_state(o, st) == 1 && st[0]);
    clgan_opt_free(o);
    clgan_opt_free(NULL);

    bad = clgan_opt_defaults(CLGAN_OPT_SGD), bad.nesterov = 1;
    CHECK(clgan_opt_init(&o, ctx, 10, bad) == CLGAN_EINVAL && !o);
    bad = clgan_opt_defaults(CLGAN_OPT_ADAM), bad.beta2 = 1;
    CHECK(clgan_opt_init(&o, ctx, 10, bad) == CLGAN_EINVAL);
    bad = clgan_opt_defaults(CLGAN_OPT_RMSPROP), bad.clip_norm = -1;
    CHECK(clgan_opt_init(&o, ctx, 10, bad) == CLGAN_EINVAL);
    bad = clgan_opt_defaults(CLGAN_OPT_SGD), bad.lr = NAN;
    CHECK(clgan_opt_init(&o, ctx, 10, bad) == CLGAN_EINVAL);
    bad.kind = CLGAN_OPT_COUNT, bad.lr = 0.1f;
    CHECK(clgan_opt_init(&o, ctx, 10, bad) == CLGAN_EINVAL);
    CHECK(clgan_opt_init(&o, ctx, 0, clgan_opt_defaults(CLGAN_OPT_SGD)) == CLGAN_EINVAL);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_optim: %s\n", clgan_error_msg());
        return 1;
    }
    test_api();
    test_rules();
    test_hand_values();
    test_weight_clip();
    test_large();
    clgan_ctx_free(ctx);
    return tu_finish("test_optim");
}
