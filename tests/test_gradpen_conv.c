/* test_gradpen_conv.c - the WGAN-GP penalty (src/nn/gradpen.c) through convolutional
 * critics; test_gradpen.c has the MLP critics, the refusals and the interpolates (this
 * file is separate to keep both under the project's ~800 lines).
 *  1. P against the ordinary backward: lambda mean (||dD/dx|| - 1)^2 with dD/dx from
 *     clgan_net_backward (itself checked by test_conv), 1e-5 relative; and dP/dtheta
 *     against central differences of P (tu_grad_ok: ||g - fd|| <= 2e-3 ||fd|| + 1e-4)
 *     for: the WGAN-GP conv critic (conv s2 'same' + LeakyReLU + conv + flatten +
 *     dense; inputs redrawn until every LeakyReLU input is >= 0.05 from the kink, more
 *     than h = 5e-3 times any input moves it); a smooth critic with every
 *     parameter-free linear layer (upsample, zero padding, cropping, ConvTranspose2d, a
 *     standalone activation, reshape) at odd sizes; a spectrally normalized critic at
 *     batch 1 (u, v converged first, so the iteration inside each difference is
 *     stationary); the WGAN-GP paper's critic (conv, LayerNorm, LeakyReLU twice) in
 *     miniature.
 *  2. Dropout and Dropout2d at batch 1: the penalty equals that of the same critic with
 *     each dropout replaced by the fixed linear layer its mask is (a 1x1 convolution /
 *     a dense layer with the mask on the diagonal); masks read back by running prefixes
 *     of the critic with the same seed.
 *  3. BatchNorm over images is refused, naming it, before any work.
 *  4. PyTorch parity (tools/make_gp_conv_fixture.py: four critics, one under
 *     torch.nn.utils.spectral_norm, one with nn.LayerNorm): P within 1e-5 relative,
 *     each gradient within 1e-5 * max |its tensor| + 1e-4 relative, spectral-norm
 *     vectors after the forward's power iteration within 1e-5 (the fixture's own
 *     float32-vs-float64 spread is <= 1.5e-6 of the max gradient). Checks 1, 2 and 4
 *     run for both GEMMs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "clgan/nn.h"
#include "common/rng.h"
#include "testutil.h"

#define FIXTURE "tests/fixtures/parity_gp_conv.safetensors"
#define LAMBDA 10.0f

static clgan_ctx *ctx;

/* ---- critics as tables, so that prefixes can be built ------------------------------ */

enum { L_CONV, L_DENSE, L_UP, L_PAD, L_FLAT, L_ACT, L_DROP, L_DROP2D, L_LN, L_BN, L_SN };

typedef struct {
    int kind;
    clgan_conv_opts conv; /* L_CONV */
    int a, b, c, d;       /* L_UP (fh, fw), L_PAD (top, bottom, left, right), L_DENSE (out),
                             L_SN (on) */
    clgan_act act;        /* L_DENSE, L_ACT */
    float slope;          /* L_DENSE, L_ACT; dropout rate for L_DROP, L_DROP2D */
} lspec;

#define CONV(...) {.kind = L_CONV, .conv = {__VA_ARGS__}}

/* The activation of layer s, and whether its f' or f'' jumps at 0. */
static clgan_act spec_act(const lspec *s)
{
    return s->kind == L_CONV ? s->conv.act : s->kind == L_DENSE || s->kind == L_ACT ? s->act
                                                                                    : CLGAN_ACT_NONE;
}

static int kinked(clgan_act a)
{
    return a == CLGAN_ACT_LEAKYRELU || a == CLGAN_ACT_RELU || a == CLGAN_ACT_ELU;
}

/* Adds layers s[0..n); with strip_last, the last one without its activation. */
static clgan_status add_spec(clgan_net *net, const lspec *s, int n, int strip_last)
{
    clgan_status st = CLGAN_OK;
    for (int i = 0; i < n && st == CLGAN_OK; i++) {
        clgan_conv_opts o = s[i].conv;
        clgan_act act = strip_last && i == n - 1 ? CLGAN_ACT_NONE : s[i].act;
        switch (s[i].kind) {
        case L_CONV:
            if (strip_last && i == n - 1) o.act = CLGAN_ACT_NONE;
            st = clgan_net_add_conv2d(net, &o);
            break;
        case L_DENSE: st = clgan_net_add_dense(net, s[i].a, act, s[i].slope); break;
        case L_UP: st = clgan_net_add_upsample(net, s[i].a, s[i].b); break;
        case L_PAD: st = clgan_net_add_zeropad(net, s[i].a, s[i].b, s[i].c, s[i].d); break;
        case L_FLAT:
            st = clgan_net_add_reshape(net, CLGAN_SHAPE(1, 1, clgan_net_get(net)->out_dim));
            break;
        case L_ACT: st = clgan_net_add_activation(net, act, s[i].slope); break;
        case L_DROP: st = clgan_net_add_dropout(net, s[i].slope); break;
        case L_DROP2D: st = clgan_net_add_dropout2d(net, s[i].slope); break;
        case L_LN: st = clgan_net_add_layernorm(net, 1e-5f); break;
        case L_BN: st = clgan_net_add_batchnorm(net, 1e-3f, 0.8f, 1.0f); break;
        case L_SN: st = clgan_net_set_spectral_norm(net, s[i].a); break;
        }
    }
    return st;
}

static clgan_net *build(const lspec *s, int n, clgan_shape in, int batch, uint64_t seed,
                        int strip_last)
{
    clgan_net *net = NULL;
    CHECK_OK(clgan_net_init_shape(&net, ctx, in, batch));
    CHECK_OK(add_spec(net, s, n, strip_last));
    CHECK_OK(clgan_net_finalize(net, seed));
    return net;
}

/* Copies every tensor of `src` (host params p, state s) into `dst` where a tensor of
 * the same name and size exists. */
static void copy_by_name(clgan_net *dst, clgan_net *src, const float *p, const float *s)
{
    const clgan_net_view *vd = clgan_net_get(dst), *vs = clgan_net_get(src);
    float *dp = calloc(vd->n_params + 1, 4), *ds = calloc(vd->n_state + 1, 4);
    CHECK_OK(clgan_net_read_params(dst, dp, ds));
    for (int t = 0; t < vd->n_tensors; t++) {
        const clgan_tensor_info *td = &vd->tensors[t], *ts = clgan_net_find(src, td->name);
        if (!ts || ts->count != td->count || ts->trained != td->trained)
            continue;
        memcpy((td->trained ? dp : ds) + td->offset, (ts->trained ? p : s) + ts->offset,
               td->count * 4);
    }
    CHECK_OK(clgan_net_write_params(dst, dp, ds));
    (void)vs;
    free(dp), free(ds);
}

/* The output of the prefix s[0..n) of a critic on x (TRAIN, its first forward), with
 * the critic's parameters and state; strip_last as in add_spec. out: batch * out_dim. */
static float *prefix_out(const lspec *s, int n, clgan_shape in, int batch, uint64_t seed,
                         int strip_last, clgan_net *critic, const float *p, const float *st,
                         cl_mem xb, int *out_dim)
{
    clgan_net *pre = build(s, n, in, batch, seed, strip_last);
    const clgan_net_view *v = clgan_net_get(pre);
    float *y = malloc((size_t)batch * v->out_dim * 4);
    copy_by_name(pre, critic, p, st);
    CHECK_OK(clgan_net_forward(pre, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, (size_t)batch * v->out_dim * 4));
    *out_dim = v->out_dim;
    clgan_net_free(pre);
    return y;
}

/* The smallest |pre-activation| at any kinked activation of the critic on x. */
static double min_abs_z(const lspec *s, int n, clgan_shape in, int batch, uint64_t seed,
                        clgan_net *critic, const float *p, const float *st, cl_mem xb)
{
    double m = INFINITY;
    for (int i = 0; i < n; i++) {
        if (!kinked(spec_act(&s[i])))
            continue;
        int standalone = s[i].kind == L_ACT, d;
        float *z = prefix_out(s, standalone ? i : i + 1, in, batch, seed, !standalone, critic, p,
                              st, xb, &d);
        for (size_t k = 0; k < (size_t)batch * d; k++)
            m = fmin(m, fabs(z[k]));
        free(z);
    }
    return m;
}

/* ---- 1. P against the backward, dP/dtheta against central differences -------------- */

static double device_penalty(clgan_net *net, cl_mem xb, cl_mem mb, float *mean_norm)
{
    float m[2];
    if (clgan_net_gradient_penalty(net, xb, LAMBDA, mb, 0) != CLGAN_OK ||
        clgan_buf_read(ctx, mb, 0, m, sizeof m) != CLGAN_OK)
        return NAN;
    if (mean_norm) *mean_norm = m[1];
    return m[0];
}

typedef struct {
    clgan_net *net;
    float *p, *s;
    cl_mem xb, mb;
} fd_state;

static void fd_upload(void *u)
{
    fd_state *f = u;
    clgan_net_write_params(f->net, f->p, f->s);
}

static double fd_penalty(void *u)
{
    fd_state *f = u;
    return device_penalty(f->net, f->xb, f->mb, NULL);
}

static void check_critic(const char *name, const lspec *s, int n, clgan_shape in, int batch,
                         uint64_t seed, int converge)
{
    clgan_net *net = build(s, n, in, batch, seed, 0);
    const clgan_net_view *v = clgan_net_get(net);
    size_t nx = (size_t)batch * v->in_dim, np = v->n_params;
    float *x = malloc(nx * 4), *p = malloc(np * 4 + 4), *st = malloc(v->n_state * 4 + 4),
          *g = malloc(np * 4 + 4), *gx = malloc(nx * 4), *ones = malloc((size_t)batch * 4);
    double *fdv = malloc(np * sizeof *fdv);
    clgan_rng rng = {seed * 7 + 1};
    cl_mem xb, mb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 2 * 4, "metrics"));
    /* random small biases, so they matter */
    CHECK_OK(clgan_net_read_params(net, p, st));
    for (int t = 0; t < v->n_tensors; t++)
        if (v->tensors[t].trained && strstr(v->tensors[t].name, ".bias"))
            for (size_t i = 0; i < v->tensors[t].count; i++)
                p[v->tensors[t].offset + i] = 0.3f * (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_net_write_params(net, p, NULL));
    double margin = 0;
    for (int tries = 0; tries < 200 && margin < 0.05; tries++) {
        for (size_t i = 0; i < nx; i++) x[i] = 2.0f * (float)clgan_rng_normal(&rng);
        CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
        margin = min_abs_z(s, n, in, batch, seed, net, p, st, xb);
    }
    CHECK(margin >= 0.05);
    /* spectral norm: u, v to their fixed point first */
    for (int i = 0; i < converge; i++)
        CHECK_OK(clgan_net_forward(net, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_net_read_params(net, NULL, st));
    /* dD/dx by the ordinary backward, then P from it in double */
    for (int i = 0; i < batch; i++) ones[i] = 1.0f;
    CHECK_OK(clgan_net_forward(net, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(net), 0, ones, (size_t)batch * 4));
    CHECK_OK(clgan_net_backward(net, clgan_net_dout(net), CLGAN_GRAD_NONE, 1));
    CHECK_OK(clgan_buf_read(ctx, v->dinput, 0, gx, nx * 4));
    double Pb = 0, nb = 0;
    for (int i = 0; i < batch; i++) {
        double q = 0;
        for (int k = 0; k < v->in_dim; k++) q += (double)gx[i * v->in_dim + k] * gx[i * v->in_dim + k];
        Pb += (sqrt(q) - 1) * (sqrt(q) - 1);
        nb += sqrt(q);
    }
    Pb *= LAMBDA / batch, nb /= batch;
    CHECK_OK(clgan_net_write_params(net, NULL, st));
    CHECK_OK(clgan_net_zero_grad(net));
    float mnorm = NAN;
    double P = device_penalty(net, xb, mb, &mnorm);
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g, np * 4));
    int okp = fabs(P - Pb) <= 1e-5 * fabs(Pb) && fabs(mnorm - nb) <= 1e-5 * nb;
    tu_checks++;
    if (!okp) tu_failures++;
    printf("  %-44s %s: P %.7f (from backward %.7f), mean |g| %.6f (%.6f), kink margin %.3f\n",
           name, okp ? "ok  " : "FAIL", P, Pb, mnorm, nb, margin);
    const float h = 5e-3f;
    fd_state fs = {net, p, st, xb, mb};
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        char what[128];
        if (!ti->trained) continue;
        tu_central_diff(fdv, p + ti->offset, ti->count, h, fd_upload, fd_penalty, &fs);
        snprintf(what, sizeof what, "%s %s", name, ti->name);
        tu_grad_ok(what, g + ti->offset, fdv, ti->count, 0);
    }
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    free(x), free(p), free(st), free(g), free(gx), free(ones), free(fdv);
    clgan_net_free(net);
}

/* conv 3x3 s2 same LeakyReLU(0.2), conv 3x3 same, flatten, dense 1 */
static const lspec wgan_gp_conv[] = {
    CONV(.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f),
    CONV(.filters = 2, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME),
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 1},
};

/* upsample (2, 1), conv 3x2 s(2,1) pad (1, 0) tanh, zero padding (1,0,0,1), convT 3x3
 * s2 p1 op1 tanh, sigmoid, cropping 1 on every side, conv 3x3 s3 without bias, flatten,
 * dense 3 tanh, dense 1 (smooth: no input needs a margin; ELU's f'' is in the parity
 * critic "mix") */
static const lspec smooth_mix[] = {
    {.kind = L_UP, .a = 2, .b = 1},
    CONV(.filters = 3, .kh = 3, .kw = 2, .sh = 2, .sw = 1, .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1,
         .act = CLGAN_ACT_TANH),
    {.kind = L_PAD, .a = 1, .b = 0, .c = 0, .d = 1},
    CONV(.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .transpose = 1,
         .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .out_pad_h = 1, .out_pad_w = 1,
         .act = CLGAN_ACT_TANH),
    {.kind = L_ACT, .act = CLGAN_ACT_SIGMOID},
    {.kind = L_PAD, .a = -1, .b = -1, .c = -1, .d = -1},
    CONV(.filters = 1, .kh = 3, .kw = 3, .sh = 3, .sw = 3, .pad = CLGAN_PAD_VALID, .no_bias = 1),
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 3, .act = CLGAN_ACT_TANH},
    {.kind = L_DENSE, .a = 1},
};

/* spectral norm on: conv 3x3 s2 same tanh, convT 2x2 s1 tanh, flatten, dense 1 */
static const lspec sn_critic[] = {
    {.kind = L_SN, .a = 1},
    CONV(.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_TANH),
    CONV(.filters = 2, .kh = 2, .kw = 2, .transpose = 1, .pad = CLGAN_PAD_VALID,
         .act = CLGAN_ACT_TANH),
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 1},
};

/* the WGAN-GP paper's critic in miniature: (conv s2 same, LayerNorm, LeakyReLU) twice,
 * flatten, dense 1 */
static const lspec ln_critic[] = {
    CONV(.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME),
    {.kind = L_LN},
    {.kind = L_ACT, .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f},
    CONV(.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME),
    {.kind = L_LN},
    {.kind = L_ACT, .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f},
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 1},
};

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))

static void test_finite_differences(void)
{
    check_critic("conv s2 same lrelu + conv + flatten + dense", wgan_gp_conv, N_OF(wgan_gp_conv),
                 CLGAN_SHAPE(6, 6, 2), 2, 61, 0);
    check_critic("up, conv, pad, convT, sigmoid, crop, conv, dense", smooth_mix, N_OF(smooth_mix),
                 CLGAN_SHAPE(3, 4, 2), 2, 62, 0);
    check_critic("spectral norm conv, convT, dense, batch 1", sn_critic, N_OF(sn_critic),
                 CLGAN_SHAPE(5, 5, 2), 1, 63, 300);
    check_critic("(conv s2, layernorm, lrelu) x2, dense", ln_critic, N_OF(ln_critic),
                 CLGAN_SHAPE(5, 6, 2), 2, 64, 0);
}

/* ---- 2. dropout = the fixed linear layer of its mask ------------------------------- */

static const lspec drop_critic[] = {
    CONV(.filters = 3, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME, .act = CLGAN_ACT_TANH),
    {.kind = L_DROP2D, .slope = 0.5f},
    CONV(.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_TANH),
    {.kind = L_FLAT},
    {.kind = L_DROP, .slope = 0.4f},
    {.kind = L_DENSE, .a = 1},
};

/* the same with the masks as layers: conv1 is 1x1 (diag of the channel mask), dense0
 * (diag of the value mask) */
static const lspec drop_fixed[] = {
    CONV(.filters = 3, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME, .act = CLGAN_ACT_TANH),
    CONV(.filters = 3, .kh = 1, .kw = 1, .pad = CLGAN_PAD_VALID, .no_bias = 1),
    CONV(.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_TANH),
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 8},
    {.kind = L_DENSE, .a = 1},
};

static void test_dropout_as_linear(void)
{
    const clgan_shape in = CLGAN_SHAPE(4, 4, 2);
    const uint64_t seed = 71;
    clgan_net *a = build(drop_critic, N_OF(drop_critic), in, 1, seed, 0);
    clgan_net *e = build(drop_fixed, N_OF(drop_fixed), in, 1, seed, 0);
    const clgan_net_view *va = clgan_net_get(a), *ve = clgan_net_get(e);
    float x[32], *pa = malloc(va->n_params * 4), *pe = calloc(ve->n_params, 4),
                 *ga = malloc(va->n_params * 4), *ge = malloc(ve->n_params * 4);
    clgan_rng rng = {72};
    cl_mem xb, mb;
    for (int i = 0; i < 32; i++) x[i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 2 * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    CHECK_OK(clgan_net_read_params(a, pa, NULL));
    /* masks of the first TRAIN forward: prefixes with the same seed draw the same */
    int d0, d1, d2, d3;
    float *y0 = prefix_out(drop_critic, 1, in, 1, seed, 0, a, pa, NULL, xb, &d0);
    float *y1 = prefix_out(drop_critic, 2, in, 1, seed, 0, a, pa, NULL, xb, &d1);
    float *y2 = prefix_out(drop_critic, 4, in, 1, seed, 0, a, pa, NULL, xb, &d2);
    float *y3 = prefix_out(drop_critic, 5, in, 1, seed, 0, a, pa, NULL, xb, &d3);
    float m2d[3] = {0}, md[8] = {0};
    for (int c = 0; c < 3; c++) {
        int best = c; /* the pixel where the channel is largest: the ratio is exact there */
        for (int k = c; k < d0; k += 3)
            if (fabsf(y0[k]) > fabsf(y0[best])) best = k;
        m2d[c] = y1[best] / y0[best];
    }
    for (int j = 0; j < 8; j++) {
        CHECK(fabsf(y2[j]) > 1e-3f); /* else the ratio would not give the mask */
        md[j] = y3[j] / y2[j];
    }
    printf("  dropout2d mask %.3g %.3g %.3g; dropout mask %.3g %.3g %.3g %.3g %.3g %.3g %.3g %.3g\n",
           m2d[0], m2d[1], m2d[2], md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
    free(y0), free(y1), free(y2), free(y3);
    /* the fixed critic: A's conv0, conv1, dense0 as its conv0, conv2, dense1 */
    static const char *const map[][2] = {{"conv0.kernel", "conv0.kernel"}, {"conv0.bias", "conv0.bias"},
                                         {"conv1.kernel", "conv2.kernel"}, {"conv1.bias", "conv2.bias"},
                                         {"dense0.kernel", "dense1.kernel"}, {"dense0.bias", "dense1.bias"}};
    for (int i = 0; i < 6; i++) {
        const clgan_tensor_info *ta = clgan_net_find(a, map[i][0]), *te = clgan_net_find(e, map[i][1]);
        CHECK(ta && te && ta->count == te->count);
        if (ta && te) memcpy(pe + te->offset, pa + ta->offset, ta->count * 4);
    }
    const clgan_tensor_info *k1 = clgan_net_find(e, "conv1.kernel"), *k2 = clgan_net_find(e, "dense0.kernel");
    for (int c = 0; c < 3 && k1; c++) pe[k1->offset + c * 3 + c] = m2d[c];
    for (int j = 0; j < 8 && k2; j++) pe[k2->offset + j * 8 + j] = md[j];
    CHECK_OK(clgan_net_write_params(e, pe, NULL));
    float na = NAN, ne = NAN;
    CHECK_OK(clgan_net_zero_grad(a));
    CHECK_OK(clgan_net_zero_grad(e));
    double Pa = device_penalty(a, xb, mb, &na), Pe = device_penalty(e, xb, mb, &ne);
    CHECK_OK(clgan_buf_read(ctx, va->grads, 0, ga, va->n_params * 4));
    CHECK_OK(clgan_buf_read(ctx, ve->grads, 0, ge, ve->n_params * 4));
    int ok = fabs(Pa - Pe) <= 1e-5 * fabs(Pe) && fabs(na - ne) <= 1e-5 * ne;
    tu_checks++;
    if (!ok) tu_failures++;
    printf("  %-44s %s: P %.7f (fixed layers %.7f), mean |g| %.6f (%.6f)\n",
           "dropout2d + dropout at batch 1", ok ? "ok  " : "FAIL", Pa, Pe, na, ne);
    for (int i = 0; i < 6; i++) {
        const clgan_tensor_info *ta = clgan_net_find(a, map[i][0]), *te = clgan_net_find(e, map[i][1]);
        char what[96];
        if (!ta || !te) continue;
        snprintf(what, sizeof what, "dropout critic %s = fixed-mask critic %s", map[i][0], map[i][1]);
        tu_close(what, ga + ta->offset, ge + te->offset, ta->count, 1e-6, 1e-5);
    }
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    free(pa), free(pe), free(ga), free(ge);
    clgan_net_free(a), clgan_net_free(e);
}

/* ---- 3. BatchNorm over images is refused --------------------------------------------- */

static void test_refusals(void)
{
    static const lspec bn_critic[] = {
        CONV(.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME),
        {.kind = L_BN},
        {.kind = L_ACT, .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f},
        {.kind = L_FLAT},
        {.kind = L_DENSE, .a = 1},
    };
    clgan_net *net = build(bn_critic, N_OF(bn_critic), CLGAN_SHAPE(4, 4, 1), 2, 1, 0);
    float m[2] = {-7, -7};
    cl_mem xb, mb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, 2 * 16 * 4, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, sizeof m, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, mb, 0, m, sizeof m));
    clgan_status st = clgan_net_gradient_penalty(net, xb, LAMBDA, mb, 0);
    printf("  batchnorm conv critic: %s: %s\n", clgan_status_str(st), clgan_error_msg());
    CHECK(st == CLGAN_EINVAL && strstr(clgan_error_msg(), "BatchNorm") != NULL);
    CHECK_OK(clgan_buf_read(ctx, mb, 0, m, sizeof m));
    CHECK(m[0] == -7 && m[1] == -7);
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    clgan_net_free(net);
}

/* ---- 4. PyTorch parity --------------------------------------------------------------- */

static const lspec fx_conv[] = {
    CONV(.filters = 4, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f),
    CONV(.filters = 4, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME, .act = CLGAN_ACT_LEAKYRELU,
         .slope = 0.2f),
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 1},
};

static const lspec fx_mix[] = {
    {.kind = L_UP, .a = 2, .b = 2},
    CONV(.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_TANH),
    {.kind = L_PAD, .a = 0, .b = 1, .c = 0, .d = 1},
    CONV(.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .transpose = 1,
         .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .out_pad_h = 1, .out_pad_w = 1,
         .act = CLGAN_ACT_ELU, .slope = 1.0f),
    {.kind = L_ACT, .act = CLGAN_ACT_SIGMOID},
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 3, .act = CLGAN_ACT_TANH},
    {.kind = L_DENSE, .a = 1},
};

static const lspec fx_sn[] = {
    {.kind = L_SN, .a = 1},
    CONV(.filters = 4, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
         .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f),
    CONV(.filters = 2, .kh = 2, .kw = 2, .transpose = 1, .pad = CLGAN_PAD_VALID,
         .act = CLGAN_ACT_TANH),
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 1},
};

static const lspec fx_ln[] = {
    CONV(.filters = 4, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME),
    {.kind = L_LN},
    {.kind = L_ACT, .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f},
    CONV(.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME),
    {.kind = L_LN},
    {.kind = L_ACT, .act = CLGAN_ACT_LEAKYRELU, .slope = 0.2f},
    {.kind = L_FLAT},
    {.kind = L_DENSE, .a = 1},
};

static void parity_critic(const clgan_tensor_set *fx, const char *c, const lspec *s, int n)
{
    char key[160];
    snprintf(key, sizeof key, "%s/xhat", c);
    const clgan_tensor_view *xh = clgan_safetensors_find(fx, key);
    snprintf(key, sizeof key, "%s/P", c);
    const clgan_tensor_view *tp = clgan_safetensors_find(fx, key);
    snprintf(key, sizeof key, "%s/mean_norm", c);
    const clgan_tensor_view *tn = clgan_safetensors_find(fx, key);
    int ok = xh && tp && tn && xh->ndim == 4;
    CHECK(ok);
    if (!ok)
        return;
    const int B = (int)xh->shape[0];
    clgan_net *net = build(s, n, CLGAN_SHAPE((int)xh->shape[1], (int)xh->shape[2],
                                             (int)xh->shape[3]), B, 1, 0);
    const clgan_net_view *v = clgan_net_get(net);
    float *p = calloc(v->n_params + 1, 4), *st = calloc(v->n_state + 1, 4),
          *g = malloc(v->n_params * 4 + 4), m[2];
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        snprintf(key, sizeof key, "%s/%s", c, ti->name);
        const clgan_tensor_view *f = clgan_safetensors_find(fx, key);
        ok = f && f->ndim == ti->ndim && clgan_tensor_shape_eq(ti, f->ndim, f->shape);
        CHECK(ok);
        if (ok) memcpy((ti->trained ? p : st) + ti->offset, f->data, ti->count * 4);
        else printf("  parity %s: no tensor %s of that shape in the fixture\n", c, ti->name);
    }
    CHECK_OK(clgan_net_write_params(net, p, st));
    cl_mem xb, mb;
    size_t nx = (size_t)B * v->in_dim;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, sizeof m, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, xh->data, nx * 4));
    CHECK_OK(clgan_net_zero_grad(net));
    CHECK_OK(clgan_net_gradient_penalty(net, xb, LAMBDA, mb, 0));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, m, sizeof m));
    CHECK_OK(clgan_net_read_params(net, NULL, st));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g, v->n_params * 4));
    printf("  parity %s: P %.8g (torch %.8g), mean |g| %.8g (torch %.8g)\n", c, m[0], tp->data[0],
           m[1], tn->data[0]);
    snprintf(key, sizeof key, "parity %s P", c);
    tu_close(key, &m[0], tp->data, 1, 0, 1e-5);
    snprintf(key, sizeof key, "parity %s mean |g|", c);
    tu_close(key, &m[1], tn->data, 1, 0, 1e-5);
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        snprintf(key, sizeof key, "%s/%s/%s", c, ti->trained ? "grad" : "after", ti->name);
        const clgan_tensor_view *f = clgan_safetensors_find(fx, key);
        CHECK(f != NULL && f->ndim == ti->ndim);
        if (!f) continue;
        const float *a = (ti->trained ? g : st) + ti->offset;
        double mx = 0, dmax = 0;
        for (size_t i = 0; i < ti->count; i++) {
            mx = fmax(mx, fabs(f->data[i]));
            dmax = fmax(dmax, fabs(a[i] - f->data[i]));
        }
        printf("  %s: max diff / max |value| = %.2e\n", key, mx > 0 ? dmax / mx : dmax);
        if (ti->trained)
            tu_close(key, a, f->data, ti->count, 1e-5 * mx, 1e-4);
        else
            tu_close(key, a, f->data, ti->count, 1e-5, 0);
    }
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    free(p), free(st), free(g);
    clgan_net_free(net);
}

static void test_parity(void)
{
    clgan_tensor_set fx;
    if (clgan_safetensors_read(FIXTURE, &fx) != CLGAN_OK) {
        fprintf(stderr, "test_gradpen_conv: %s\n", clgan_error_msg());
        tu_checks++, tu_failures++;
        return;
    }
    const char *ml = clgan_safetensors_meta(&fx, "lambda");
    CHECK(ml && strtof(ml, NULL) == LAMBDA);
    parity_critic(&fx, "conv", fx_conv, N_OF(fx_conv));
    parity_critic(&fx, "mix", fx_mix, N_OF(fx_mix));
    parity_critic(&fx, "sn", fx_sn, N_OF(fx_sn));
    parity_critic(&fx, "ln", fx_ln, N_OF(fx_ln));
    clgan_safetensors_free(&fx);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_gradpen_conv: %s\n", clgan_error_msg());
        return 1;
    }
    for (int impl = CLGAN_GEMM_CLBLAST; impl <= CLGAN_GEMM_NATIVE; impl++) {
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)impl);
        printf("gemm %s:\n", clgan_gemm_impl_str((clgan_gemm_impl)impl));
        test_finite_differences();
        test_dropout_as_linear();
        test_parity();
    }
    test_refusals();
    clgan_ctx_free(ctx);
    return tu_finish("test_gradpen_conv");
}
