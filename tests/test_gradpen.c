/* test_gradpen.c - the WGAN-GP gradient penalty (src/nn/gradpen.c) on the CPU device:
 *  1. P and mean ||g|| against a host double computation, and dP/dtheta against central
 *     differences of P (read from the metrics) for small critics with every activation,
 *     fused and standalone. h = 1e-2 for smooth critics, 5e-3 where f' or f'' jumps
 *     (leaky/ReLU, ELU; inputs kept >= 0.1 from the jump); passes when
 *     ||g - fd|| <= 2e-3 ||fd|| + 1e-4 as in test_nn.
 *  2. The penalty adds into existing gradients, and repeats bit for bit.
 *  3. BatchNorm (and a critic with two outputs) is refused with CLGAN_EINVAL.
 *  4. PyTorch parity (tools/make_gp_fixture.py): P within 1e-6 relative, every gradient
 *     within 1e-6 * max|grad of its tensor| + 1e-5 relative (float32; the fixture's own
 *     float32-vs-float64 spread is ~3e-7 of the max).
 *  5. clgan_interpolate: one e per row, e in (0, 1), the documented Philox draw,
 *     deterministic. Checks 1 and 4 run for every GEMM implementation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "clgan/nn.h"
#include "common/rng.h"
#include "testutil.h"

#define FIXTURE "tests/fixtures/parity_gp.safetensors"
#define LAMBDA 10.0f

static clgan_ctx *ctx;

/* A critic layer: dense (out, act) or standalone activation (act). */
typedef struct {
    int dense, out;
    clgan_act act;
    float slope;
} spec;

static clgan_net *build(const spec *s, int n, int in, int batch, uint64_t seed)
{
    clgan_net *net = NULL;
    CHECK_OK(clgan_net_init(&net, ctx, in, batch));
    for (int i = 0; i < n; i++)
        CHECK_OK(s[i].dense ? clgan_net_add_dense(net, s[i].out, s[i].act, s[i].slope)
                            : clgan_net_add_activation(net, s[i].act, s[i].slope));
    CHECK_OK(clgan_net_finalize(net, seed));
    return net;
}

/* Activations whose f' jumps (or f'' does: ELU) at 0, where P or dP/dtheta does. */
static int kinked(clgan_act a)
{
    return a == CLGAN_ACT_LEAKYRELU || a == CLGAN_ACT_RELU || a == CLGAN_ACT_ELU;
}

static double host_act(double z, clgan_act a, double k)
{
    switch (a) {
    case CLGAN_ACT_LEAKYRELU: return z > 0 ? z : k * z;
    case CLGAN_ACT_RELU: return z > 0 ? z : 0;
    case CLGAN_ACT_TANH: return tanh(z);
    case CLGAN_ACT_SIGMOID: return 1 / (1 + exp(-z));
    case CLGAN_ACT_ELU: return z > 0 ? z : k * (exp(z) - 1);
    default: return z;
    }
}

static double host_act_grad(double z, clgan_act a, double k)
{
    double t;
    switch (a) {
    case CLGAN_ACT_LEAKYRELU: return z > 0 ? 1 : k;
    case CLGAN_ACT_RELU: return z > 0 ? 1 : 0;
    case CLGAN_ACT_TANH: t = tanh(z); return 1 - t * t;
    case CLGAN_ACT_SIGMOID: t = 1 / (1 + exp(-z)); return t * (1 - t);
    case CLGAN_ACT_ELU: return z > 0 ? 1 : k * exp(z);
    default: return 1;
    }
}

/* P = lambda mean_i (||g_i|| - 1)^2 in double from the host parameters `p` and input x
 * (B, in); *mean_norm = mean ||g_i||, *kink = min |z| at a kinked activation (INFINITY
 * when none). Layers at most 64 wide. */
static double host_penalty(clgan_net *net, const spec *s, int n, const float *p, const float *x,
                           double *mean_norm, double *kink)
{
    const clgan_net_view *v = clgan_net_get(net);
    int B = v->batch, dims[16], nd = 0;
    const float *W[16] = {0}, *b[16] = {0};
    double *z[16], *h = malloc((size_t)B * 64 * sizeof *h), *u = malloc((size_t)B * 64 * sizeof *u),
                   *t = malloc((size_t)B * 64 * sizeof *t);
    dims[0] = v->in_dim;
    *kink = INFINITY;
    for (int i = 0; i < B * dims[0]; i++) h[i] = x[i];
    for (int l = 0; l < n; l++) {
        dims[l + 1] = s[l].dense ? s[l].out : dims[l];
        z[l] = malloc((size_t)B * dims[l + 1] * sizeof *z[l]);
        if (s[l].dense) {
            char name[48];
            snprintf(name, sizeof name, "dense%d.kernel", nd);
            W[l] = p + clgan_net_find(net, name)->offset;
            snprintf(name, sizeof name, "dense%d.bias", nd++);
            b[l] = p + clgan_net_find(net, name)->offset;
        }
        int din = dims[l], dout = dims[l + 1];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < dout; j++) {
                double a = h[i * din + j];
                if (s[l].dense) {
                    a = b[l][j];
                    for (int k = 0; k < din; k++) a += h[i * din + k] * W[l][k * dout + j];
                }
                z[l][i * dout + j] = a;
                if (kinked(s[l].act))
                    *kink = fmin(*kink, fabs(a));
            }
        for (int i = 0; i < B * dout; i++) h[i] = host_act(z[l][i], s[l].act, s[l].slope);
    }
    for (int i = 0; i < B; i++) u[i] = 1;
    for (int l = n - 1; l >= 0; l--) {
        int din = dims[l], dout = dims[l + 1];
        for (int i = 0; i < B * dout; i++) u[i] *= host_act_grad(z[l][i], s[l].act, s[l].slope);
        if (!s[l].dense) continue;
        for (int i = 0; i < B; i++)
            for (int k = 0; k < din; k++) {
                double a = 0;
                for (int j = 0; j < dout; j++) a += u[i * dout + j] * W[l][k * dout + j];
                t[i * din + k] = a;
            }
        memcpy(u, t, (size_t)B * din * sizeof *u);
    }
    double P = 0, ns = 0;
    for (int i = 0; i < B; i++) {
        double q = 0;
        for (int k = 0; k < dims[0]; k++) q += u[i * dims[0] + k] * u[i * dims[0] + k];
        ns += sqrt(q);
        P += (sqrt(q) - 1) * (sqrt(q) - 1);
    }
    for (int l = 0; l < n; l++) free(z[l]);
    free(h), free(u), free(t);
    *mean_norm = ns / B;
    return LAMBDA * P / B;
}

/* P from the device metrics, gradients added into net's grads. */
static double device_penalty(clgan_net *net, cl_mem xb, cl_mem mb, float *mean_norm)
{
    float m[4];
    if (clgan_net_gradient_penalty(net, xb, LAMBDA, mb, 1) != CLGAN_OK ||
        clgan_buf_read(ctx, mb, 0, m, sizeof m) != CLGAN_OK)
        return NAN;
    if (mean_norm) *mean_norm = m[2];
    return m[1];
}

/* What central differences of the penalty need. */
typedef struct {
    clgan_net *net;
    float *p;
    cl_mem xb, mb;
} fd_state;

static void fd_upload(void *u)
{
    fd_state *f = u;
    clgan_net_write_params(f->net, f->p, NULL);
}

static double fd_penalty(void *u)
{
    fd_state *f = u;
    return device_penalty(f->net, f->xb, f->mb, NULL);
}

/* Random small biases (so they matter) and an input (B, in); with `margin`, one whose
 * pre-activations stay >= 0.1 from any kink (for finite differences). */
static void setup_critic(clgan_net *net, const spec *s, int n, float *x, uint64_t seed,
                         int margin)
{
    const clgan_net_view *v = clgan_net_get(net);
    float *p = malloc(v->n_params * 4);
    clgan_rng rng = {seed};
    size_t nx = (size_t)v->batch * v->in_dim;
    CHECK_OK(clgan_net_read_params(net, p, NULL));
    for (int t = 0; t < v->n_tensors; t++)
        if (v->tensors[t].ndim == 1 && v->tensors[t].trained)
            for (size_t i = 0; i < v->tensors[t].count; i++)
                p[v->tensors[t].offset + i] = 0.3f * (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_net_write_params(net, p, NULL));
    double mn, kink = 0;
    for (int tries = 0; tries < 500 && kink < 0.1; tries++) {
        for (size_t i = 0; i < nx; i++) x[i] = (float)clgan_rng_normal(&rng);
        host_penalty(net, s, n, p, x, &mn, &kink);
        if (!margin) break;
    }
    CHECK(!margin || kink >= 0.1);
    free(p);
}

/* Test 1: P against the host, dP/dtheta against central differences. */
static void check_critic(const char *name, const spec *s, int n, int in, int batch, uint64_t seed,
                         int fd)
{
    clgan_net *net = build(s, n, in, batch, seed);
    const clgan_net_view *v = clgan_net_get(net);
    size_t nx = (size_t)batch * in;
    float *x = malloc(nx * 4), *p = malloc(v->n_params * 4), *g = malloc(v->n_params * 4);
    float mnorm = NAN;
    double *fdv = malloc(v->n_params * sizeof *fdv), mn, kink;
    int any_kink = 0;
    cl_mem xb, mb;
    for (int i = 0; i < n; i++)
        any_kink |= kinked(s[i].act);
    const float h = any_kink ? 5e-3f : 1e-2f;
    setup_critic(net, s, n, x, seed * 7 + 1, fd);
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 4 * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
    CHECK_OK(clgan_net_read_params(net, p, NULL));
    CHECK_OK(clgan_net_zero_grad(net));
    double P = device_penalty(net, xb, mb, &mnorm);
    double Ph = host_penalty(net, s, n, p, x, &mn, &kink);
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g, v->n_params * 4));
    int okp = fabs(P - Ph) <= 1e-5 * fabs(Ph) + 1e-6 && fabs(mnorm - mn) <= 1e-5 * mn;
    tu_checks++;
    if (!okp) tu_failures++;
    printf("  %-36s %s: P %.7f (host %.7f), mean |g| %.6f (host %.6f)\n", name,
           okp ? "ok  " : "FAIL", P, Ph, mnorm, mn);
    for (int t = 0; fd && t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        char what[96];
        fd_state st = {net, p, xb, mb};
        tu_central_diff(fdv, p + ti->offset, ti->count, h, fd_upload, fd_penalty, &st);
        snprintf(what, sizeof what, "%s %s", name, ti->name);
        tu_grad_ok(what, g + ti->offset, fdv, ti->count, 0);
    }
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    free(x), free(p), free(g), free(fdv);
    clgan_net_free(net);
}

static void test_finite_differences(void)
{
    const clgan_act acts[4] = {CLGAN_ACT_LEAKYRELU, CLGAN_ACT_TANH, CLGAN_ACT_SIGMOID,
                               CLGAN_ACT_ELU};
    for (int a = 0; a < 4; a++) {
        float k = acts[a] == CLGAN_ACT_ELU ? 1.0f : 0.2f;
        spec s[3] = {{1, 5, acts[a], k}, {1, 4, acts[a], k}, {1, 1, CLGAN_ACT_NONE, 0}};
        char name[64];
        snprintf(name, sizeof name, "6-5-4-1 %s", clgan_act_str(acts[a]));
        check_critic(name, s, 3, 6, 4, 20 + a, 1);
    }
    /* standalone activations, relu, and a nonlinear output (f'' at the last layer) */
    spec mixed[6] = {{1, 5, CLGAN_ACT_NONE, 0},    {0, 0, CLGAN_ACT_ELU, 0.7f},
                     {1, 4, CLGAN_ACT_RELU, 0},    {0, 0, CLGAN_ACT_SIGMOID, 0},
                     {0, 0, CLGAN_ACT_TANH, 0},    {1, 1, CLGAN_ACT_TANH, 0}};
    check_critic("mixed act layers", mixed, 6, 6, 4, 31, 1);
    spec first_act[3] = {{0, 0, CLGAN_ACT_TANH, 0}, {1, 3, CLGAN_ACT_SIGMOID, 0},
                         {1, 1, CLGAN_ACT_ELU, 1.0f}};
    check_critic("act first, elu output", first_act, 3, 6, 4, 32, 1);
    /* P only: one hidden layer, 70 rows (more than one pass of the 64-wide group) */
    spec one[2] = {{1, 8, CLGAN_ACT_LEAKYRELU, 0.2f}, {1, 1, CLGAN_ACT_NONE, 0}};
    check_critic("10-8-1 leakyrelu, batch 70", one, 2, 10, 70, 33, 0);
}

/* Test 2: the penalty adds into the gradient buffer and repeats bit for bit. */
static void test_accumulates(void)
{
    spec s[3] = {{1, 5, CLGAN_ACT_TANH, 0}, {1, 4, CLGAN_ACT_ELU, 1.0f}, {1, 1, CLGAN_ACT_NONE, 0}};
    clgan_net *net = build(s, 3, 6, 4, 41);
    const clgan_net_view *v = clgan_net_get(net);
    size_t np = v->n_params;
    float x[24], *r = malloc(np * 4), *g0 = malloc(np * 4), *g1 = malloc(np * 4),
                 *g2 = malloc(np * 4), *d = malloc(np * 4);
    clgan_rng rng = {42};
    cl_mem xb, mb;
    setup_critic(net, s, 3, x, 43, 0);
    for (size_t i = 0; i < np; i++) r[i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, 4 * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    CHECK_OK(clgan_net_zero_grad(net));
    device_penalty(net, xb, mb, NULL);
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g0, np * 4));
    CHECK_OK(clgan_net_zero_grad(net));
    device_penalty(net, xb, mb, NULL);
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g2, np * 4));
    CHECK(memcmp(g0, g2, np * 4) == 0);
    CHECK_OK(clgan_buf_write(ctx, v->grads, 0, r, np * 4));
    device_penalty(net, xb, mb, NULL);
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g1, np * 4));
    for (size_t i = 0; i < np; i++) d[i] = g1[i] - r[i];
    tu_close("penalty added onto pre-filled grads", d, g0, np, 1e-6, 1e-5);
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    free(r), free(g0), free(g1), free(g2), free(d);
    clgan_net_free(net);
}

/* Test 3: BatchNorm and a two-output critic are refused before any work. */
static void test_refusals(void)
{
    clgan_net *net;
    cl_mem xb, mb;
    float m[2] = {-7, -7};
    CHECK_OK(clgan_buf_alloc(ctx, &xb, 4 * 6 * 4, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, sizeof m, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, mb, 0, m, sizeof m));
    CHECK_OK(clgan_net_init(&net, ctx, 6, 4));
    CHECK_OK(clgan_net_add_dense(net, 5, CLGAN_ACT_LEAKYRELU, 0.2f));
    CHECK_OK(clgan_net_add_batchnorm(net, 1e-3f, 0.8f, 1.0f));
    CHECK_OK(clgan_net_add_dense(net, 1, CLGAN_ACT_NONE, 0));
    CHECK_OK(clgan_net_finalize(net, 1));
    clgan_status st = clgan_net_gradient_penalty(net, xb, LAMBDA, mb, 0);
    printf("  batchnorm critic: %s: %s\n", clgan_status_str(st), clgan_error_msg());
    CHECK(st == CLGAN_EINVAL);
    CHECK(strstr(clgan_error_msg(), "BatchNorm") != NULL);
    CHECK_OK(clgan_buf_read(ctx, mb, 0, m, sizeof m));
    CHECK(m[0] == -7 && m[1] == -7);
    clgan_net_free(net);
    CHECK_OK(clgan_net_init(&net, ctx, 6, 4));
    CHECK_OK(clgan_net_add_dense(net, 2, CLGAN_ACT_NONE, 0));
    CHECK_OK(clgan_net_finalize(net, 1));
    st = clgan_net_gradient_penalty(net, xb, LAMBDA, mb, 0);
    printf("  two-output critic: %s: %s\n", clgan_status_str(st), clgan_error_msg());
    CHECK(st == CLGAN_EINVAL);
    clgan_net_free(net);
    clgan_buf_release(&xb), clgan_buf_release(&mb);
}

/* Test 4: against PyTorch's autograd double backward, for critic `c` of the fixture
 * ("leaky" or "smooth": metadata <c>_acts names its activations). */
static void parity_critic(const clgan_tensor_set *fx, const char *c)
{
    char key[160];
    snprintf(key, sizeof key, "%s_acts", c);
    const char *ml = clgan_safetensors_meta(fx, "lambda");
    const char *ms = clgan_safetensors_meta(fx, "slope");
    const char *me = clgan_safetensors_meta(fx, "elu_alpha");
    const char *ma = clgan_safetensors_meta(fx, key);
    const char *md = clgan_safetensors_meta(fx, "dims");
    const clgan_tensor_view *xh = clgan_safetensors_find(fx, "xhat");
    snprintf(key, sizeof key, "%s/P", c);
    const clgan_tensor_view *tp = clgan_safetensors_find(fx, key);
    snprintf(key, sizeof key, "%s/mean_norm", c);
    const clgan_tensor_view *tn = clgan_safetensors_find(fx, key);
    int ok = ml && ms && me && ma && md && xh && tp && tn && xh->ndim == 2;
    CHECK(ok);
    if (!ok)
        return;
    float lambda = strtof(ml, NULL), slope = strtof(ms, NULL), alpha = strtof(me, NULL);
    int B = (int)xh->shape[0], in = (int)xh->shape[1];
    clgan_net *net;
    char acts[64], dims[64], *sa, *sd;
    snprintf(acts, sizeof acts, "%s", ma);
    snprintf(dims, sizeof dims, "%s", md);
    CHECK_OK(clgan_net_init(&net, ctx, in, B));
    strtok_r(dims, ",", &sd); /* the input width */
    for (char *a = strtok_r(acts, ",", &sa), *w = strtok_r(NULL, ",", &sd); a && w;
         a = strtok_r(NULL, ",", &sa), w = strtok_r(NULL, ",", &sd)) {
        int act = clgan_act_parse(a);
        CHECK(act >= 0);
        CHECK_OK(clgan_net_add_dense(net, atoi(w), (clgan_act)act,
                                     act == CLGAN_ACT_ELU ? alpha : slope));
    }
    CHECK_OK(clgan_net_finalize(net, 1));
    const clgan_net_view *v = clgan_net_get(net);
    float *p = calloc(v->n_params, 4), *g = malloc(v->n_params * 4), m[2];
    for (int t = 0; t < v->n_tensors; t++) {
        snprintf(key, sizeof key, "%s/%s", c, v->tensors[t].name);
        const clgan_tensor_view *f = clgan_safetensors_find(fx, key);
        CHECK(f != NULL);
        if (f) memcpy(p + v->tensors[t].offset, f->data, v->tensors[t].count * 4);
    }
    CHECK_OK(clgan_net_write_params(net, p, NULL));
    cl_mem xb, mb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, (size_t)B * in * 4, "xhat"));
    CHECK_OK(clgan_buf_alloc(ctx, &mb, sizeof m, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, xh->data, (size_t)B * in * 4));
    CHECK_OK(clgan_net_zero_grad(net));
    CHECK_OK(clgan_net_gradient_penalty(net, xb, lambda, mb, 0));
    CHECK_OK(clgan_buf_read(ctx, mb, 0, m, sizeof m));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g, v->n_params * 4));
    printf("  parity %s (%s): P %.8g (torch %.8g), mean |g| %.8g (torch %.8g)\n", c, ma, m[0],
           tp->data[0], m[1], tn->data[0]);
    snprintf(key, sizeof key, "parity %s P", c);
    tu_close(key, &m[0], tp->data, 1, 0, 1e-6);
    snprintf(key, sizeof key, "parity %s mean |g|", c);
    tu_close(key, &m[1], tn->data, 1, 0, 1e-6);
    for (int t = 0; t < v->n_tensors; t++) {
        snprintf(key, sizeof key, "%s/grad/%s", c, v->tensors[t].name);
        const clgan_tensor_view *f = clgan_safetensors_find(fx, key);
        CHECK(f != NULL);
        if (!f) continue;
        double mx = 0, dmax = 0;
        const float *a = g + v->tensors[t].offset;
        for (size_t i = 0; i < v->tensors[t].count; i++) {
            mx = fmax(mx, fabs(f->data[i]));
            dmax = fmax(dmax, fabs(a[i] - f->data[i]));
        }
        printf("  %s: max diff / max |grad| = %.2e\n", key, mx > 0 ? dmax / mx : dmax);
        tu_close(key, a, f->data, v->tensors[t].count, 1e-6 * mx, 1e-5);
    }
    clgan_buf_release(&xb), clgan_buf_release(&mb);
    free(p), free(g);
    clgan_net_free(net);
}

static void test_parity(void)
{
    clgan_tensor_set fx;
    if (clgan_safetensors_read(FIXTURE, &fx) != CLGAN_OK) {
        fprintf(stderr, "test_gradpen: %s\n", clgan_error_msg());
        tu_checks++, tu_failures++;
        return;
    }
    parity_critic(&fx, "leaky");
    parity_critic(&fx, "smooth");
    clgan_safetensors_free(&fx);
}

/* Philox4x32-10 as cl/common.h computes it, for the expected e. */
static void philox(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0, c[1] = (uint32_t)p1, c[2] = n2, c[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
}

/* Test 5: interpolates. */
static void test_interpolate(void)
{
    enum { R = 37, D = 50 };
    static float real[R * D], fake[R * D], x1[R * D], x2[R * D], x3[R * D];
    clgan_rng rng = {51};
    cl_mem rb, fb, xb;
    const uint64_t seed = 0x123456789abcdefull;
    const long step = 7L + (3L << 32);
    for (int i = 0; i < R * D; i++) {
        real[i] = (float)clgan_rng_normal(&rng);
        fake[i] = (float)clgan_rng_normal(&rng);
    }
    CHECK_OK(clgan_buf_alloc(ctx, &rb, sizeof real, "real"));
    CHECK_OK(clgan_buf_alloc(ctx, &fb, sizeof fake, "fake"));
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x1, "xhat"));
    CHECK_OK(clgan_buf_write(ctx, rb, 0, real, sizeof real));
    CHECK_OK(clgan_buf_write(ctx, fb, 0, fake, sizeof fake));
    CHECK_OK(clgan_interpolate(ctx, xb, rb, fb, R, D, seed, step, 5));
    CHECK_OK(clgan_buf_read(ctx, xb, 0, x1, sizeof x1));
    CHECK_OK(clgan_interpolate(ctx, xb, rb, fb, R, D, seed, step, 5));
    CHECK_OK(clgan_buf_read(ctx, xb, 0, x2, sizeof x2));
    CHECK_OK(clgan_interpolate(ctx, xb, rb, fb, R, D, seed, step + 1, 5));
    CHECK_OK(clgan_buf_read(ctx, xb, 0, x3, sizeof x3));
    CHECK(memcmp(x1, x2, sizeof x1) == 0);
    double worst = 0, emin = 1, emax = 0;
    int on_segment = 1, differs = 0;
    for (int r = 0; r < R; r++) {
        /* e from the device values, from the widest column, and from Philox here */
        const float *rr = real + r * D, *fr = fake + r * D;
        int jw = 0;
        for (int j = 1; j < D; j++)
            if (fabsf(rr[j] - fr[j]) > fabsf(rr[jw] - fr[jw]))
                jw = j;
        double e = ((double)x1[r * D + jw] - fr[jw]) / ((double)rr[jw] - fr[jw]);
        uint32_t c[4] = {(uint32_t)r, (uint32_t)step, (uint32_t)((uint64_t)step >> 32), 5};
        philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
        double ep = ((double)(c[0] >> 8) + 0.5) / 16777216.0;
        worst = fmax(worst, fabs(e - ep));
        emin = fmin(emin, e), emax = fmax(emax, e);
        for (int j = 0; j < D; j++) {
            int k = r * D + j;
            double want = ep * real[k] + (1 - ep) * fake[k];
            double lo = fmin(real[k], fake[k]), hi = fmax(real[k], fake[k]);
            if (fabs(x1[k] - want) > 1e-6 * (1 + fabs(real[k]) + fabs(fake[k])) ||
                x1[k] < lo - 1e-6 || x1[k] > hi + 1e-6)
                on_segment = 0;
            differs |= x3[k] != x1[k];
        }
    }
    printf("  interpolate: e in [%.4f, %.4f], |e - philox e| <= %.2e, on segment %d, "
           "new step differs %d\n", emin, emax, worst, on_segment, differs);
    CHECK(emin > 0 && emax < 1 && worst < 1e-5 && on_segment && differs);
    clgan_buf_release(&rb), clgan_buf_release(&fb), clgan_buf_release(&xb);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_gradpen: %s\n", clgan_error_msg());
        return 1;
    }
    for (int impl = CLGAN_GEMM_CLBLAST; impl <= CLGAN_GEMM_NATIVE; impl++) {
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)impl);
        printf("gemm %s:\n", clgan_gemm_impl_str((clgan_gemm_impl)impl));
        test_finite_differences();
        test_parity();
    }
    clgan_gemm_set_impl(ctx, CLGAN_GEMM_CLBLAST);
    test_accumulates();
    test_refusals();
    test_interpolate();
    clgan_ctx_free(ctx);
    return tu_finish("test_gradpen");
}
