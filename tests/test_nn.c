/* test_nn.c - finite-difference gradient checks for every layer and loss on the CPU
 * device, plus BatchNorm running statistics and gradient accumulation against host
 * references (the optimizers are tested in test_optim.c). Central differences in
 * float32 with h = 1e-2; a check passes when ||g - g_fd|| <= 2e-3 * ||g_fd|| + 1e-4
 * (the truncation error of h^2 and float32 rounding of ~1e-7 * |L| / h stay well below
 * that). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "common/rng.h"
#include "testutil.h"

static clgan_ctx *ctx;

/* L = sum(out * R) for the network on x. */
static double objective(clgan_net *n, cl_mem x, const float *R, clgan_mode mode)
{
    const clgan_net_view *v = clgan_net_get(n);
    size_t m = (size_t)v->batch * v->out_dim;
    float *out = malloc(m * sizeof *out);
    double s = 0;
    if (clgan_net_forward(n, x, mode) != CLGAN_OK ||
        clgan_buf_read(ctx, v->out, 0, out, m * 4) != CLGAN_OK)
        s = NAN;
    for (size_t i = 0; i < m && !isnan(s); i++)
        s += (double)out[i] * R[i];
    free(out);
    return s;
}

static int grad_ok(const char *what, const float *g, const double *fd, size_t n)
{
    double num = 0, den = 0, maxd = 0;
    for (size_t i = 0; i < n; i++) {
        double d = g[i] - fd[i];
        num += d * d;
        den += fd[i] * fd[i];
        if (fabs(d) > maxd) maxd = fabs(d);
    }
    num = sqrt(num);
    den = sqrt(den);
    int ok = num <= 2e-3 * den + 1e-4 && den > 0;
    tu_checks++;
    if (!ok) tu_failures++;
    printf("  %-34s %s: |g-fd| %.2e, |fd| %.2e, max diff %.2e (%zu values)\n", what,
           ok ? "ok  " : "FAIL", num, den, maxd, n);
    return ok;
}

/* Checks every trained parameter and the input gradient of `n` by central differences. */
static void check_net(const char *name, clgan_net *n, uint64_t seed)
{
    const clgan_net_view *v = clgan_net_get(n);
    size_t nx = (size_t)v->batch * v->in_dim, no = (size_t)v->batch * v->out_dim;
    float *x = malloc(nx * 4), *R = malloc(no * 4), *p = malloc(v->n_params * 4 + 4),
          *s = malloc(v->n_state * 4 + 4), *g = malloc(v->n_params * 4 + 4), *gx = malloc(nx * 4);
    double *fd = malloc((v->n_params + nx) * sizeof *fd);
    clgan_rng rng = {seed};
    cl_mem xb;
    const float h = 1e-2f;
    for (size_t i = 0; i < nx; i++) x[i] = (float)clgan_rng_normal(&rng);
    for (size_t i = 0; i < no; i++) R[i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
    CHECK_OK(clgan_net_read_params(n, p, s));
    /* analytic */
    CHECK_OK(clgan_net_zero_grad(n));
    objective(n, xb, R, CLGAN_MODE_TRAIN);
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, R, no * 4));
    CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), 1, 1));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g, v->n_params * 4));
    CHECK_OK(clgan_buf_read(ctx, v->dinput, 0, gx, nx * 4));
    /* numeric, per tensor */
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        char what[96];
        if (!ti->trained) continue;
        for (size_t i = 0; i < ti->count; i++) {
            float *q = &p[ti->offset + i], keep = *q;
            *q = keep + h;
            clgan_net_write_params(n, p, s);
            double lp = objective(n, xb, R, CLGAN_MODE_TRAIN);
            *q = keep - h;
            clgan_net_write_params(n, p, s);
            double lm = objective(n, xb, R, CLGAN_MODE_TRAIN);
            *q = keep;
            fd[i] = (lp - lm) / (2 * h);
        }
        clgan_net_write_params(n, p, s);
        snprintf(what, sizeof what, "%s %s", name, ti->name);
        grad_ok(what, g + ti->offset, fd, ti->count);
    }
    for (size_t i = 0; i < nx; i++) {
        float keep = x[i];
        x[i] = keep + h;
        clgan_buf_write(ctx, xb, 0, x, nx * 4);
        double lp = objective(n, xb, R, CLGAN_MODE_TRAIN);
        x[i] = keep - h;
        clgan_buf_write(ctx, xb, 0, x, nx * 4);
        double lm = objective(n, xb, R, CLGAN_MODE_TRAIN);
        x[i] = keep;
        fd[i] = (lp - lm) / (2 * h);
    }
    clgan_buf_write(ctx, xb, 0, x, nx * 4);
    char what[96];
    snprintf(what, sizeof what, "%s input", name);
    grad_ok(what, gx, fd, nx);
    clgan_buf_release(&xb);
    free(x), free(R), free(p), free(s), free(g), free(gx), free(fd);
}

static void test_dense_activations(void)
{
    for (int a = 0; a < CLGAN_ACT_COUNT; a++) {
        clgan_net *n;
        char name[64];
        CHECK_OK(clgan_net_init(&n, ctx, 5, 3));
        CHECK_OK(clgan_net_add_dense(n, 4, (clgan_act)a, a == CLGAN_ACT_ELU ? 1.0f : 0.2f));
        CHECK_OK(clgan_net_finalize(n, 10 + a));
        snprintf(name, sizeof name, "dense+%s", clgan_act_str((clgan_act)a));
        check_net(name, n, 100 + a);
        clgan_net_free(n);
    }
}

static void test_mlp_with_batchnorm(void)
{
    clgan_net *n;
    CHECK_OK(clgan_net_init(&n, ctx, 6, 5));
    CHECK_OK(clgan_net_add_dense(n, 7, CLGAN_ACT_LEAKYRELU, 0.2f));
    CHECK_OK(clgan_net_add_batchnorm(n, 1e-3f, 0.8f, 1.001f));
    CHECK_OK(clgan_net_add_dense(n, 5, CLGAN_ACT_NONE, 0.0f));
    CHECK_OK(clgan_net_add_batchnorm(n, 1e-5f, 0.9f, 1.0f));
    CHECK_OK(clgan_net_add_activation(n, CLGAN_ACT_TANH, 0.0f));
    CHECK_OK(clgan_net_add_dense(n, 3, CLGAN_ACT_SIGMOID, 0.0f));
    CHECK_OK(clgan_net_finalize(n, 7));
    /* Make gamma/beta non-trivial so their gradients are exercised. */
    const clgan_net_view *v = clgan_net_get(n);
    float *p = malloc(v->n_params * 4), *s = malloc(v->n_state * 4);
    clgan_rng rng = {99};
    CHECK_OK(clgan_net_read_params(n, p, s));
    const clgan_tensor_info *gm = clgan_net_find(n, "bn0.gamma"), *bt = clgan_net_find(n, "bn1.beta");
    CHECK(gm && bt);
    for (size_t i = 0; gm && i < gm->count; i++) p[gm->offset + i] = 0.5f + (float)clgan_rng_uniform(&rng);
    for (size_t i = 0; bt && i < bt->count; i++) p[bt->offset + i] = (float)clgan_rng_normal(&rng) * 0.3f;
    CHECK_OK(clgan_net_write_params(n, p, s));
    check_net("mlp+bn", n, 5);
    free(p), free(s);
    clgan_net_free(n);
}

static void test_residual(int in, int out, int bn)
{
    clgan_net *n;
    char name[64];
    CHECK_OK(clgan_net_init(&n, ctx, in, 4));
    CHECK_OK(clgan_net_add_residual(n, out, CLGAN_ACT_TANH, 0.0f, bn, 1e-3f, 0.8f, 1.0f));
    CHECK_OK(clgan_net_add_residual(n, out, CLGAN_ACT_ELU, 1.0f, 0, 1e-3f, 0.8f, 1.0f));
    CHECK_OK(clgan_net_add_dense(n, 2, CLGAN_ACT_NONE, 0.0f));
    CHECK_OK(clgan_net_finalize(n, 21 + in + out + bn));
    CHECK(clgan_net_find(n, "res0.dense.kernel") != NULL);
    CHECK((clgan_net_find(n, "res0.proj.kernel") != NULL) == (in != out));
    CHECK((clgan_net_find(n, "res0.bn.gamma") != NULL) == (bn != 0));
    CHECK(clgan_net_find(n, "res1.proj.kernel") == NULL);
    snprintf(name, sizeof name, "residual %d->%d%s", in, out, bn ? "+bn" : "");
    check_net(name, n, 31);
    clgan_net_free(n);
}

/* Dropout: about `rate` of the units are zeroed, the rest scaled by 1/(1-rate); the
 * backward pass applies the same mask; a new mask each forward; eval passes through. */
static void test_dropout(void)
{
    const int B = 64, C = 50, N = B * C;
    const float rate = 0.3f;
    clgan_net *n;
    float *x = malloc(N * 4), *y = malloc(N * 4), *y2 = malloc(N * 4), *dy = malloc(N * 4),
          *dx = malloc(N * 4), *want = malloc(N * 4);
    cl_mem xb;
    clgan_rng rng = {77};
    CHECK_OK(clgan_net_init(&n, ctx, C, B));
    CHECK_OK(clgan_net_add_dropout(n, rate));
    CHECK_OK(clgan_net_finalize(n, 5));
    const clgan_net_view *v = clgan_net_get(n);
    for (int i = 0; i < N; i++) x[i] = 0.5f + (float)clgan_rng_uniform(&rng), dy[i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_buf_alloc(ctx, &xb, N * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, N * 4));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, N * 4));
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, dy, N * 4));
    CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), 0, 1));
    CHECK_OK(clgan_buf_read(ctx, v->dinput, 0, dx, N * 4));
    int zeros = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        float m = y[i] / x[i];
        zeros += y[i] == 0.0f;
        bad += !(y[i] == 0.0f || fabsf(m - 1.0f / (1.0f - rate)) < 1e-5f);
        want[i] = dy[i] * m;
    }
    printf("  dropout: %d of %d zeroed (rate %.2f), %d badly scaled\n", zeros, N, rate, bad);
    CHECK(bad == 0);
    CHECK(fabs((double)zeros / N - rate) < 0.03);
    tu_close("dropout backward = dy * mask", dx, want, N, 1e-6, 1e-6);
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y2, N * 4));
    CHECK(memcmp(y, y2, N * 4) != 0);
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_EVAL));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y2, N * 4));
    tu_close("dropout eval = identity", y2, x, N, 0, 0);
    clgan_buf_release(&xb);
    free(x), free(y), free(y2), free(dy), free(dx), free(want);
    clgan_net_free(n);
}

/* Host double reference of one sample's loss. */
static double host_loss(const clgan_loss_args *a, double o)
{
    double t = a->target, p;
    switch (a->kind) {
    case CLGAN_LOSS_BCE: return a->sign * -(t * log(o) + (1 - t) * log(1 - o));
    case CLGAN_LOSS_BCE_LOGITS:
        p = 1 / (1 + exp(-o));
        return a->sign * -(t * log(p) + (1 - t) * log(1 - p));
    case CLGAN_LOSS_LSGAN: return a->sign * 0.5 * (o - t) * (o - t);
    case CLGAN_LOSS_HINGE:
        return a->sign * (a->role == CLGAN_ROLE_G ? -o
                          : a->role == CLGAN_ROLE_D_REAL ? fmax(0, 1 - o) : fmax(0, 1 + o));
    default: return a->sign * (a->role == CLGAN_ROLE_D_FAKE ? o : -o);
    }
}

/* Loss value (from the metrics) against the host, and its gradient against central
 * differences of the host loss, for one kind, role, target and sign. */
static void test_loss(clgan_loss kind, clgan_role role, float target, float sign)
{
    int n = 70; /* more than one pass of the 64-wide work-group */
    float out[70], dout[70], met[3];
    double fd[70];
    cl_mem ob, db, mb;
    clgan_loss_args a = {.kind = kind, .role = role, .target = target, .sign = sign, .clip = 1e-7f};
    clgan_rng rng = {kind * 10 + role + 1};
    for (int i = 0; i < n; i++) {
        double o = kind == CLGAN_LOSS_BCE ? 0.05 + 0.9 * clgan_rng_uniform(&rng) : 3 * clgan_rng_normal(&rng);
        if (kind == CLGAN_LOSS_HINGE && fabs(fabs(o) - 1) < 0.05)
            o *= 1.2; /* keep away from the hinge's kinks */
        out[i] = (float)o;
    }
    CHECK_OK(clgan_buf_alloc(ctx, &ob, n * 4, "out"));
    CHECK_OK(clgan_buf_alloc(ctx, &db, n * 4, "dout"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 16 * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, ob, 0, out, n * 4));
    CHECK_OK(clgan_loss_eval(ctx, db, mb, 4, ob, n, &a));
    CHECK_OK(clgan_buf_read(ctx, db, 0, dout, n * 4));
    CHECK_OK(clgan_buf_read(ctx, mb, 16, met, 12));
    double ref = 0, acc = 0, mp = 0;
    for (int i = 0; i < n; i++) {
        double o = out[i], thr = kind == CLGAN_LOSS_BCE ? 0.5 : 0.0;
        ref += host_loss(&a, o);
        acc += ((o > thr) == (role != CLGAN_ROLE_D_FAKE));
        mp += kind == CLGAN_LOSS_BCE_LOGITS ? 1 / (1 + exp(-o)) : o;
    }
    ref /= n, acc /= n, mp /= n;
    char what[80];
    snprintf(what, sizeof what, "loss %s role %d t %.1f sign %+.0f", clgan_loss_str(kind), role,
             target, sign);
    printf("  %s: %.6f (host %.6f), acc %.3f (%.3f), mean %.4f (%.4f)\n", what, met[0], ref,
           met[1], acc, met[2], mp);
    CHECK(fabs(met[0] - ref) < 1e-5 * (1 + fabs(ref)));
    CHECK(fabs(met[1] - acc) < 1e-6);
    CHECK(fabs(met[2] - mp) < 1e-5 * (1 + fabs(mp)));
    /* The kernel's value matches the host's above; its gradient must match central
     * differences of the host's loss, in double (h = 1e-6). */
    for (int i = 0; i < n; i++)
        fd[i] = (host_loss(&a, out[i] + 1e-6) - host_loss(&a, out[i] - 1e-6)) / 2e-6 / n;
    grad_ok(what, dout, fd, n);
    clgan_buf_release(&ob), clgan_buf_release(&db), clgan_buf_release(&mb);
}

/* Clipped probabilities give zero gradient and the clipped loss value; flip = 1 swaps
 * every label; accumulate averages sub-steps. */
static void test_loss_options(void)
{
    float out[2] = {0.0f, 1.0f}, dout[2], met[3], dflip[2];
    cl_mem ob, db, mb;
    clgan_loss_args a = {.kind = CLGAN_LOSS_BCE, .role = CLGAN_ROLE_D_REAL, .target = 1.0f,
                         .sign = 1.0f, .clip = 1e-7f};
    CHECK_OK(clgan_buf_alloc(ctx, &ob, 8, "out"));
    CHECK_OK(clgan_buf_alloc(ctx, &db, 8, "dout"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 12, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, ob, 0, out, 8));
    CHECK_OK(clgan_loss_eval(ctx, db, mb, 0, ob, 2, &a));
    CHECK_OK(clgan_buf_read(ctx, db, 0, dout, 8));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, met, 12));
    double want = 0.5 * (-log(1e-7f) + -log(1.0f - 1e-7f));
    printf("  clipped bce: loss %.5f (want %.5f), grads %g %g\n", met[0], want, dout[0], dout[1]);
    CHECK(fabs(met[0] - want) < 1e-3);
    CHECK(dout[0] == 0.0f && dout[1] == 0.0f);

    out[0] = 0.3f, out[1] = 0.8f;
    CHECK_OK(clgan_buf_write(ctx, ob, 0, out, 8));
    a.target = 0.0f;
    CHECK_OK(clgan_loss_eval(ctx, db, mb, 0, ob, 2, &a));
    CHECK_OK(clgan_buf_read(ctx, db, 0, dout, 8));
    a.target = 1.0f, a.flip = 1.0f;
    CHECK_OK(clgan_loss_eval(ctx, db, mb, 0, ob, 2, &a));
    CHECK_OK(clgan_buf_read(ctx, db, 0, dflip, 8));
    tu_close("flip=1 equals swapped labels", dflip, dout, 2, 1e-7, 0);

    a.flip = 0.0f, a.accumulate = 0, a.weight = 0.0f;
    float before[3] = {1.0f, 1.0f, 1.0f}, single[3], after[3];
    CHECK_OK(clgan_loss_eval(ctx, db, mb, 0, ob, 2, &a));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, single, 12));
    CHECK_OK(clgan_buf_write(ctx, mb, 0, before, 12));
    a.accumulate = 1, a.weight = 0.5f;
    CHECK_OK(clgan_loss_eval(ctx, db, mb, 0, ob, 2, &a));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, after, 12));
    for (int k = 0; k < 3; k++) single[k] = 1.0f + 0.5f * single[k];
    tu_close("accumulated metrics", after, single, 3, 1e-6, 1e-6);
    clgan_buf_release(&ob), clgan_buf_release(&db), clgan_buf_release(&mb);
}

/* Backward adds into parameter gradients: two backward passes give twice the gradient. */
static void test_accumulation(void)
{
    clgan_net *n;
    CHECK_OK(clgan_net_init(&n, ctx, 4, 2));
    CHECK_OK(clgan_net_add_dense(n, 3, CLGAN_ACT_TANH, 0.0f));
    CHECK_OK(clgan_net_add_batchnorm(n, 1e-3f, 0.8f, 1.0f));
    CHECK_OK(clgan_net_finalize(n, 3));
    const clgan_net_view *v = clgan_net_get(n);
    float x[8] = {1, -2, 0.5f, 0.3f, -1, 0.2f, 0.7f, -0.4f}, R[6] = {1, -1, 0.5f, 2, 0.1f, -0.3f};
    float *g1 = malloc(v->n_params * 4), *g2 = malloc(v->n_params * 4);
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    CHECK_OK(clgan_net_zero_grad(n));
    for (int k = 0; k < 2; k++) {
        CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
        CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, R, sizeof R));
        CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), 1, 0));
        CHECK_OK(clgan_buf_read(ctx, v->grads, 0, k ? g2 : g1, v->n_params * 4));
    }
    for (size_t i = 0; i < v->n_params; i++) g1[i] *= 2;
    tu_close("accumulated grads", g2, g1, v->n_params, 1e-6, 1e-5);
    clgan_buf_release(&xb);
    free(g1), free(g2);
    clgan_net_free(n);
}

/* Running statistics follow the documented convention; eval mode uses them. */
static void test_batchnorm_running(void)
{
    clgan_net *n;
    const int B = 4, C = 3;
    const float mom = 0.8f, eps = 1e-3f, corr = 1.0f + 1e-3f;
    CHECK_OK(clgan_net_init(&n, ctx, C, B));
    CHECK_OK(clgan_net_add_batchnorm(n, eps, mom, corr));
    CHECK_OK(clgan_net_finalize(n, 1));
    const clgan_net_view *v = clgan_net_get(n);
    float x[12] = {1, 2, 3, -1, 0.5f, 4, 2, 2, 2, 0, -3, 1}, st[6], y[12];
    float rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    for (int step = 0; step < 2; step++) {
        CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
        for (int j = 0; j < C; j++) {
            double m = 0, var = 0;
            for (int i = 0; i < B; i++) m += x[i * C + j];
            m /= B;
            for (int i = 0; i < B; i++) var += (x[i * C + j] - m) * (x[i * C + j] - m);
            var /= B;
            rm[j] = mom * rm[j] + (1 - mom) * (float)m;
            rv[j] = mom * rv[j] + (1 - mom) * (float)(var * B / (B - corr));
        }
    }
    const clgan_tensor_info *tm = clgan_net_find(n, "bn0.moving_mean");
    const clgan_tensor_info *tv = clgan_net_find(n, "bn0.moving_variance");
    CHECK(tm && tv);
    float *all = calloc(v->n_state, sizeof *all);
    CHECK_OK(clgan_net_read_params(n, NULL, all));
    memcpy(st, all + tm->offset, 12);
    memcpy(st + 3, all + tv->offset, 12);
    tu_close("running mean", st, rm, 3, 1e-6, 1e-5);
    tu_close("running variance", st + 3, rv, 3, 1e-6, 1e-5);
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_EVAL));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, sizeof y));
    float want[12];
    for (int i = 0; i < 12; i++) want[i] = (x[i] - rm[i % 3]) / sqrtf(rv[i % 3] + eps);
    tu_close("eval-mode output", y, want, 12, 1e-5, 1e-5);
    free(all);
    clgan_buf_release(&xb);
    clgan_net_free(n);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = "cpu"});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_nn: %s\n", clgan_error_msg());
        return 1;
    }
    for (int impl = CLGAN_GEMM_CLBLAST; impl <= CLGAN_GEMM_NATIVE; impl++) {
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)impl);
        printf("gemm %s:\n", clgan_gemm_impl_str((clgan_gemm_impl)impl));
        test_dense_activations();
        test_mlp_with_batchnorm();
        test_residual(6, 5, 0);
        test_residual(5, 5, 0);
        test_residual(6, 5, 1);
    }
    test_dropout();
    clgan_gemm_set_impl(ctx, CLGAN_GEMM_CLBLAST);
    for (int k = 0; k < CLGAN_LOSS_COUNT; k++) {
        int labelled = k == CLGAN_LOSS_BCE || k == CLGAN_LOSS_BCE_LOGITS || k == CLGAN_LOSS_LSGAN;
        test_loss((clgan_loss)k, CLGAN_ROLE_D_REAL, labelled ? 0.9f : 1.0f, 1.0f);
        test_loss((clgan_loss)k, CLGAN_ROLE_D_FAKE, 0.0f, 1.0f);
        test_loss((clgan_loss)k, CLGAN_ROLE_G, 1.0f, 1.0f);
    }
    test_loss(CLGAN_LOSS_BCE, CLGAN_ROLE_G, 0.0f, -1.0f); /* the saturating minimax G loss */
    test_loss_options();
    test_accumulation();
    test_batchnorm_running();
    clgan_ctx_free(ctx);
    return tu_finish("test_nn");
}
