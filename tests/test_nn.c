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
#include "tu_net.h"

static clgan_ctx *ctx;

/* Widths 4 and 8: 8 takes the float8 kernels (cl/activation.cl, cl/norm.cl). */
static void test_dense_activations(void)
{
    for (int w = 4; w <= 8; w += 4)
        for (int a = 0; a < CLGAN_ACT_COUNT; a++) {
            clgan_net *n;
            char name[64];
            CHECK_OK(clgan_net_init(&n, ctx, 5, w == 8 ? 6 : 3));
            CHECK_OK(clgan_net_add_dense(n, w, (clgan_act)a, a == CLGAN_ACT_ELU ? 1.0f : 0.2f));
            /* BatchNorm after a kink would make central differences cross it at 1/std
             * amplification; the smooth activations get it. */
            if (w == 8 && a != CLGAN_ACT_RELU && a != CLGAN_ACT_LEAKYRELU)
                CHECK_OK(clgan_net_add_batchnorm(n, 1e-3f, 0.8f, 1.0f));
            /* Seeds whose pre-activations stay >= h|x| away from the ReLU kinks. */
            CHECK_OK(clgan_net_finalize(n, 10 + a + (w == 8 ? 1000 : 0)));
            snprintf(name, sizeof name, "dense(%d)+%s%s", w, clgan_act_str((clgan_act)a),
                     clgan_net_get(n)->n_layers > 1 ? "+bn" : "");
            tu_net_check(ctx, name, n, 100 + a);
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
    tu_net_check(ctx, "mlp+bn", n, 5);
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
    tu_net_check(ctx, name, n, 31);
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

/* The float8 kernels give the scalar kernels' results (the same sums per column). */
static void test_vector_kernels(void)
{
    const int rows = 37, cols = 24, n = rows * cols;
    float *a = malloc(n * 4), *b = malloc(n * 4), *o1 = malloc(n * 4), *o2 = malloc(n * 4);
    float g[24], bt[24], s1[24 * 2], s2[24 * 2];
    cl_mem x, y, dz1, dz2, p1, p2, c1, c2, gam, bet;
    clgan_rng rng = {1234};
    for (int i = 0; i < n; i++) a[i] = (float)clgan_rng_normal(&rng), b[i] = (float)clgan_rng_normal(&rng);
    for (int j = 0; j < cols; j++) g[j] = 0.5f + (float)clgan_rng_uniform(&rng), bt[j] = 0.1f * j;
    CHECK_OK(clgan_buf_alloc(ctx, &x, n * 4, "x"));
    CHECK_OK(clgan_buf_alloc(ctx, &y, n * 4, "y"));
    CHECK_OK(clgan_buf_alloc(ctx, &dz1, n * 4, "dz"));
    CHECK_OK(clgan_buf_alloc(ctx, &dz2, n * 4, "dz"));
    CHECK_OK(clgan_buf_alloc(ctx, &p1, 2 * cols * 4, "p"));
    CHECK_OK(clgan_buf_alloc(ctx, &p2, 2 * cols * 4, "p"));
    CHECK_OK(clgan_buf_alloc(ctx, &c1, 2 * cols * 4, "c"));
    CHECK_OK(clgan_buf_alloc(ctx, &c2, 2 * cols * 4, "c"));
    CHECK_OK(clgan_buf_alloc(ctx, &gam, cols * 4, "gamma"));
    CHECK_OK(clgan_buf_alloc(ctx, &bet, cols * 4, "beta"));
    CHECK_OK(clgan_buf_write(ctx, x, 0, a, n * 4));
    CHECK_OK(clgan_buf_write(ctx, y, 0, b, n * 4));
    CHECK_OK(clgan_buf_write(ctx, gam, 0, g, cols * 4));
    CHECK_OK(clgan_buf_write(ctx, bet, 0, bt, cols * 4));
    for (int act = 0; act < CLGAN_ACT_COUNT; act++) {
        clgan_kernel_id k1 = (clgan_kernel_id)(CLGAN_K_act_bwd_bias_none + act);
        clgan_kernel_id k8 = (clgan_kernel_id)(CLGAN_K_act_bwd_bias8_none + act);
        size_t g1 = cols, g8 = cols / 8;
        CHECK_OK(clgan_buf_zero(ctx, p1, 0, cols * 4));
        CHECK_OK(clgan_buf_zero(ctx, p2, 0, cols * 4));
        CHECK_OK(clgan_launch(ctx, k1, 1, &g1, NULL,
                              CLGAN_ARGS(CLGAN_ARG_MEM(dz1), CLGAN_ARG_MEM(p1), CLGAN_ARG_MEM(x),
                                         CLGAN_ARG_MEM(y), CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                         CLGAN_ARG_INT(1), CLGAN_ARG_F32(0.2f))));
        CHECK_OK(clgan_launch(ctx, k8, 1, &g8, NULL,
                              CLGAN_ARGS(CLGAN_ARG_MEM(dz2), CLGAN_ARG_MEM(p2), CLGAN_ARG_MEM(x),
                                         CLGAN_ARG_MEM(y), CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                         CLGAN_ARG_INT(1), CLGAN_ARG_F32(0.2f))));
        CHECK_OK(clgan_buf_read(ctx, dz1, 0, o1, n * 4));
        CHECK_OK(clgan_buf_read(ctx, dz2, 0, o2, n * 4));
        CHECK_OK(clgan_buf_read(ctx, p1, 0, s1, cols * 4));
        CHECK_OK(clgan_buf_read(ctx, p2, 0, s2, cols * 4));
        tu_close(clgan_kernel_name(k8), o2, o1, n, 1e-6, 1e-6);
        tu_close("  its bias gradient", s2, s1, cols, 1e-5, 1e-5);
    }
    /* BatchNorm: forward (training) and backward, scalar vs float8. */
    size_t g1 = cols, g8 = cols / 8;
    cl_mem rm1, rv1;
    CHECK_OK(clgan_buf_alloc(ctx, &rm1, cols * 4, "rm"));
    CHECK_OK(clgan_buf_alloc(ctx, &rv1, cols * 4, "rv"));
    const clgan_kernel_id fk[2] = {CLGAN_K_batchnorm_fwd_train, CLGAN_K_batchnorm_fwd_train8};
    cl_mem outs[2] = {dz1, dz2}, caches[2] = {c1, c2};
    for (int v = 0; v < 2; v++)
        CHECK_OK(clgan_launch(ctx, fk[v], 1, v ? &g8 : &g1, NULL,
                              CLGAN_ARGS(CLGAN_ARG_MEM(outs[v]), CLGAN_ARG_MEM(caches[v]),
                                         CLGAN_ARG_MEM(rm1), CLGAN_ARG_MEM(rv1), CLGAN_ARG_MEM(x),
                                         CLGAN_ARG_MEM(gam), CLGAN_ARG_MEM(bet), CLGAN_ARG_INT(rows),
                                         CLGAN_ARG_INT(cols), CLGAN_ARG_F32(1e-3f),
                                         CLGAN_ARG_F32(0.8f), CLGAN_ARG_F32(1.0f), CLGAN_ARG_INT(0))));
    CHECK_OK(clgan_buf_read(ctx, dz1, 0, o1, n * 4));
    CHECK_OK(clgan_buf_read(ctx, dz2, 0, o2, n * 4));
    tu_close("batchnorm_fwd_train8", o2, o1, n, 1e-5, 1e-5);
    const clgan_kernel_id bk[2] = {CLGAN_K_batchnorm_bwd, CLGAN_K_batchnorm_bwd8};
    cl_mem dxs[2] = {x, y}; /* reuse as outputs after copying inputs aside */
    cl_mem dy, xin;
    CHECK_OK(clgan_buf_alloc(ctx, &dy, n * 4, "dy"));
    CHECK_OK(clgan_buf_alloc(ctx, &xin, n * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, dy, 0, b, n * 4));
    CHECK_OK(clgan_buf_write(ctx, xin, 0, a, n * 4));
    for (int v = 0; v < 2; v++)
        CHECK_OK(clgan_launch(ctx, bk[v], 1, v ? &g8 : &g1, NULL,
                              CLGAN_ARGS(CLGAN_ARG_MEM(dxs[v]), CLGAN_ARG_MEM(v ? p2 : p1),
                                         CLGAN_ARG_MEM(v ? c2 : c1), CLGAN_ARG_MEM(dy),
                                         CLGAN_ARG_MEM(xin), CLGAN_ARG_MEM(caches[v]),
                                         CLGAN_ARG_MEM(gam), CLGAN_ARG_INT(rows), CLGAN_ARG_INT(cols),
                                         CLGAN_ARG_INT(1), CLGAN_ARG_INT(2))));
    CHECK_OK(clgan_buf_read(ctx, x, 0, o1, n * 4));
    CHECK_OK(clgan_buf_read(ctx, y, 0, o2, n * 4));
    tu_close("batchnorm_bwd8 dx", o2, o1, n, 1e-5, 1e-5);
    CHECK_OK(clgan_buf_read(ctx, p1, 0, s1, cols * 4));
    CHECK_OK(clgan_buf_read(ctx, p2, 0, s2, cols * 4));
    tu_close("batchnorm_bwd8 dgamma", s2, s1, cols, 1e-5, 1e-5);
    cl_mem all[] = {x, y, dz1, dz2, p1, p2, c1, c2, gam, bet, rm1, rv1, dy, xin};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clReleaseMemObject(all[i]);
    free(a), free(b), free(o1), free(o2);
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
    tu_grad_ok(what, dout, fd, n, 1);
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

/* Backward adds into parameter gradients (CLGAN_GRAD_ADD: two passes give twice the
 * gradient) or overwrites them (CLGAN_GRAD_SET: the same as zeroing, then adding). */
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
    float *g0 = malloc(v->n_params * 4), *junk = malloc(v->n_params * 4);
    for (size_t i = 0; i < v->n_params; i++) junk[i] = 1e3f;
    CHECK_OK(clgan_net_zero_grad(n));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, R, sizeof R));
    CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), CLGAN_GRAD_ADD, 0));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g0, v->n_params * 4));
    /* SET over garbage in the trained tensors (padding is left zero, as the network keeps it) */
    const clgan_net_view *vv = clgan_net_get(n);
    for (int t = 0; t < vv->n_tensors; t++)
        if (vv->tensors[t].trained)
            CHECK_OK(clgan_buf_write(ctx, v->grads, vv->tensors[t].offset * 4, junk, vv->tensors[t].count * 4));
    for (int k = 0; k < 2; k++) {
        CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
        CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, R, sizeof R));
        CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), k ? CLGAN_GRAD_ADD : CLGAN_GRAD_SET, 0));
        CHECK_OK(clgan_buf_read(ctx, v->grads, 0, k ? g2 : g1, v->n_params * 4));
    }
    tu_close("SET overwrites", g1, g0, v->n_params, 1e-6, 1e-5);
    for (size_t i = 0; i < v->n_params; i++) g1[i] *= 2;
    tu_close("ADD accumulates", g2, g1, v->n_params, 1e-6, 1e-5);
    free(g0), free(junk);
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
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
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
    test_vector_kernels();
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
