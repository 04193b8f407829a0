/* test_layers.c - LayerNorm, Dropout2d and spectral normalization (src/nn/layernorm.c,
 * dropout.c, specnorm.c):
 *  1. LayerNorm forward against a double host reference (images with D above and below
 *     the work-group size, a feature vector, batch 1), tolerance 1e-5 abs + 1e-5 rel;
 *     its gradients by central differences inside small networks (tests/tu_net.c).
 *  2. Dropout2d: the mask is the documented Philox draw per (sample, channel), exact;
 *     a new one per TRAIN forward, the same under the same seed; backward dy * mask;
 *     EVAL and rate 0 pass through; the share dropped is within 4 sigma of the rate.
 *  3. Spectral norm: u, v start as unit vectors; a TRAIN forward does one power
 *     iteration (u, v against a double host iteration, 1e-5) and the output equals the
 *     same network without spectral norm holding W / sigma; EVAL leaves u, v alone;
 *     after 300 iterations sigma matches the largest singular value from LAPACK
 *     (1e-4 relative); gradients (u, v frozen) by central differences of the EVAL
 *     forward; CLGAN_GRAD_SET equals ADD onto zeros.
 *  4. A convolution without bias applies its activation (the implicit products of the
 *     native GEMM fuse it only with a bias). 
 * Gradient and spectral-norm checks run for both GEMM implementations. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "common/rng.h"
#include "testutil.h"
#include "tu_net.h"

static clgan_ctx *ctx;

/* Every trained tensor to random values: kernels `scale` * normal, vectors (biases,
 * LayerNorm's beta) 0.3 * normal, LayerNorm's gamma 1 + 0.3 * normal. */
static void randomize(clgan_net *n, uint64_t seed, float scale)
{
    const clgan_net_view *v = clgan_net_get(n);
    float *p = malloc(v->n_params * 4 + 4);
    clgan_rng rng = {seed};
    CHECK_OK(clgan_net_read_params(n, p, NULL));
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        if (!ti->trained)
            continue;
        int kernel = strstr(ti->name, ".kernel") != NULL, gamma = strstr(ti->name, ".gamma") != NULL;
        for (size_t i = 0; i < ti->count; i++) {
            float r = (float)clgan_rng_normal(&rng);
            p[ti->offset + i] = kernel ? scale * r : gamma ? 1.0f + 0.3f * r : 0.3f * r;
        }
    }
    CHECK_OK(clgan_net_write_params(n, p, NULL));
    free(p);
}

/* A small network, finalized, randomized, checked by central differences. */
typedef clgan_status (*builder)(clgan_net *n);

static void grad_case(const char *name, clgan_shape in, int batch, builder build, uint64_t seed,
                      int fd_eval)
{
    clgan_net *n;
    CHECK_OK(clgan_net_init_shape(&n, ctx, in, batch));
    clgan_status st = build(n);
    CHECK_OK(st);
    if (st == CLGAN_OK && (st = clgan_net_finalize(n, seed)) == CLGAN_OK) {
        randomize(n, seed + 50, 0.5f);
        tu_net_check_ex(ctx, name, n, seed + 100, fd_eval);
    }
    CHECK_OK(st);
    clgan_net_free(n);
}

/* ---- 1. LayerNorm ------------------------------------------------------------------ */

static void ln_forward_case(const char *what, clgan_shape in, int batch)
{
    const float eps = 1e-5f;
    clgan_net *n;
    CHECK_OK(clgan_net_init_shape(&n, ctx, in, batch));
    CHECK_OK(clgan_net_add_layernorm(n, eps));
    CHECK_OK(clgan_net_finalize(n, 1));
    randomize(n, 2, 0.0f);
    const clgan_net_view *v = clgan_net_get(n);
    const clgan_tensor_info *tg = clgan_net_find(n, "ln0.gamma"), *tb = clgan_net_find(n, "ln0.beta");
    int vec = in.h == 1 && in.w == 1;
    size_t want_shape[3] = {vec ? (size_t)in.c : (size_t)in.h, (size_t)in.w, (size_t)in.c};
    CHECK(tg && tb && clgan_tensor_shape_eq(tg, vec ? 1 : 3, want_shape) &&
          clgan_tensor_shape_eq(tb, vec ? 1 : 3, want_shape));
    const int D = v->in_dim;
    size_t nx = (size_t)batch * D;
    float *x = malloc(nx * 4), *y = malloc(nx * 4), *want = malloc(nx * 4),
          *p = malloc(v->n_params * 4);
    clgan_rng rng = {3};
    for (size_t i = 0; i < nx; i++) x[i] = 2.0f + 3.0f * (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_net_read_params(n, p, NULL));
    for (int s = 0; s < batch && tg && tb; s++) {
        double mean = 0, var = 0;
        for (int i = 0; i < D; i++) mean += x[s * D + i];
        mean /= D;
        for (int i = 0; i < D; i++) var += (x[s * D + i] - mean) * (x[s * D + i] - mean);
        var /= D;
        for (int i = 0; i < D; i++)
            want[s * D + i] = (float)(p[tg->offset + i] * (x[s * D + i] - mean) / sqrt(var + eps) +
                                      p[tb->offset + i]);
    }
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
    for (int mode = CLGAN_MODE_EVAL; mode <= CLGAN_MODE_TRAIN; mode++) {
        char name[128];
        CHECK_OK(clgan_net_forward(n, xb, (clgan_mode)mode));
        CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, nx * 4));
        snprintf(name, sizeof name, "%s (%s)", what, mode ? "train" : "eval");
        tu_close(name, y, want, nx, 1e-5, 1e-5);
    }
    clgan_buf_release(&xb);
    free(x), free(y), free(want), free(p);
    clgan_net_free(n);
}

static clgan_status b_conv_ln(clgan_net *n)
{
    clgan_conv_opts c = {.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME};
    clgan_status st;
    if ((st = clgan_net_add_conv2d(n, &c)) != CLGAN_OK ||
        (st = clgan_net_add_layernorm(n, 1e-5f)) != CLGAN_OK ||
        (st = clgan_net_add_activation(n, CLGAN_ACT_TANH, 0.0f)) != CLGAN_OK ||
        (st = clgan_net_add_reshape(n, CLGAN_SHAPE(1, 1, clgan_net_get(n)->out_dim))) != CLGAN_OK)
        return st;
    return clgan_net_add_dense(n, 2, CLGAN_ACT_NONE, 0.0f);
}

static clgan_status b_dense_ln(clgan_net *n)
{
    clgan_status st;
    if ((st = clgan_net_add_dense(n, 9, CLGAN_ACT_NONE, 0.0f)) != CLGAN_OK ||
        (st = clgan_net_add_layernorm(n, 1e-3f)) != CLGAN_OK)
        return st;
    return clgan_net_add_dense(n, 3, CLGAN_ACT_SIGMOID, 0.0f);
}

static clgan_status b_ln_wide(clgan_net *n)
{
    clgan_status st;
    if ((st = clgan_net_add_layernorm(n, 1e-5f)) != CLGAN_OK)
        return st;
    return clgan_net_add_activation(n, CLGAN_ACT_TANH, 0.0f);
}

static void test_layernorm_forward(void)
{
    printf("layernorm forward against the host:\n");
    ln_forward_case("layernorm 7x5x3 (D 105 > work-group) b3", CLGAN_SHAPE(7, 5, 3), 3);
    ln_forward_case("layernorm 2x3x1 (D 6) b1", CLGAN_SHAPE(2, 3, 1), 1);
    ln_forward_case("layernorm vector 1x1x37 b4", CLGAN_SHAPE(1, 1, 37), 4);
    clgan_net *n;
    CHECK_OK(clgan_net_init(&n, ctx, 4, 2));
    CHECK(clgan_net_add_layernorm(n, 0.0f) == CLGAN_EINVAL);
    printf("  eps 0: %s\n", clgan_error_msg());
    clgan_net_free(n);
}

static void test_layernorm_grads(void)
{
    grad_case("conv s2 same + layernorm + tanh + flatten + dense, 5x7x2 b3", CLGAN_SHAPE(5, 7, 2),
              3, b_conv_ln, 11, 0);
    grad_case("dense 9 + layernorm(vector) + dense sigmoid, in 5, b1", CLGAN_SHAPE(1, 1, 5), 1,
              b_dense_ln, 12, 0);
    grad_case("layernorm 7x5x3 + tanh, b2", CLGAN_SHAPE(7, 5, 3), 2, b_ln_wide, 13, 0);
}

/* ---- 2. Dropout2d ------------------------------------------------------------------ */

/* Philox4x32-10 as cl/common.h computes it. */
static void philox(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[0] = n0, c[1] = (uint32_t)p1, c[2] = n2, c[3] = (uint32_t)p0;
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
}

/* The documented mask entry of (sample n, channel c) for the `call`-th TRAIN forward of
 * a Dropout2d layer whose seed is `seed` (cl/activation.cl dropout2d_mask). */
static float mask2d(uint64_t seed, int n, int c, int C, uint32_t call, float rate)
{
    uint32_t ctr[4] = {(uint32_t)(n * C + c), call, 1, 0x0D52u};
    philox(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    float u = ((float)(ctr[0] >> 8) + 0.5f) * (1.0f / 16777216.0f);
    return u >= rate ? 1.0f / (1.0f - rate) : 0.0f;
}

static void test_dropout2d(void)
{
    enum { B = 6, H = 3, W = 5, C = 4, NX = B * H * W * C };
    const float rate = 0.3f;
    const uint64_t netseed = 77;
    static float x[NX], y[NX], y2[NX], want[NX], dy[NX], dx[NX];
    clgan_net *n, *n2;
    clgan_rng rng = {5};
    /* the layer is the network's only one: its seed is the init RNG's first draw */
    clgan_rng seedrng = {netseed};
    const uint64_t seed = clgan_rng_next(&seedrng);
    for (int i = 0; i < NX; i++) {
        x[i] = (float)clgan_rng_normal(&rng);
        dy[i] = (float)clgan_rng_normal(&rng);
    }
    CHECK_OK(clgan_net_init_shape(&n, ctx, CLGAN_SHAPE(H, W, C), B));
    CHECK_OK(clgan_net_add_dropout2d(n, rate));
    CHECK_OK(clgan_net_finalize(n, netseed));
    CHECK_OK(clgan_net_init_shape(&n2, ctx, CLGAN_SHAPE(H, W, C), B));
    CHECK_OK(clgan_net_add_dropout2d(n2, rate));
    CHECK_OK(clgan_net_finalize(n2, netseed));
    const clgan_net_view *v = clgan_net_get(n), *v2 = clgan_net_get(n2);
    cl_mem xb, dyb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "x"));
    CHECK_OK(clgan_buf_alloc(ctx, &dyb, sizeof dy, "dy"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    int zeros = 0, differs = 0;
    for (uint32_t call = 1; call <= 2; call++) {
        char what[96];
        CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
        CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, sizeof y));
        for (int i = 0; i < NX; i++) {
            int c = i % C, s = i / (H * W * C);
            float m = mask2d(seed, s, c, C, call, rate);
            want[i] = x[i] * m;
            zeros += call == 1 && i % (H * W * C) < C && m == 0.0f;
            differs |= call == 2 && y[i] != y2[i];
        }
        snprintf(what, sizeof what, "dropout2d call %u = x * Philox mask per (n, c)", call);
        tu_close(what, y, want, NX, 0, 1e-6);
        memcpy(y2, y, sizeof y);
    }
    printf("  dropout2d: %d of %d channels dropped at rate %.1f; second mask differs %d\n", zeros,
           B * C, rate, differs);
    CHECK(zeros > 0 && zeros < B * C && differs);
    /* backward: dx = dy * the last mask */
    CHECK_OK(clgan_buf_write(ctx, dyb, 0, dy, sizeof dy));
    CHECK_OK(clgan_net_backward(n, dyb, CLGAN_GRAD_ADD, 1));
    CHECK_OK(clgan_buf_read(ctx, v->dinput, 0, dx, sizeof dx));
    for (int i = 0; i < NX; i++)
        want[i] = dy[i] * mask2d(seed, i / (H * W * C), i % C, C, 2, rate);
    tu_close("dropout2d backward = dy * mask", dx, want, NX, 0, 1e-6);
    /* same seed, same masks */
    CHECK_OK(clgan_net_forward(n2, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_net_forward(n2, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v2->out, 0, y2, sizeof y2));
    CHECK(memcmp(y, y2, sizeof y) == 0);
    /* EVAL passes through, and so does its backward */
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_EVAL));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, sizeof y));
    tu_close("dropout2d eval = identity", y, x, NX, 0, 0);
    clgan_net_free(n2);
    clgan_net_free(n);
    /* rate 0 in TRAIN is the identity; the dropped share over 16 x 64 channels */
    CHECK_OK(clgan_net_init_shape(&n, ctx, CLGAN_SHAPE(H, W, C), B));
    CHECK_OK(clgan_net_add_dropout2d(n, 0.0f));
    CHECK_OK(clgan_net_finalize(n, 1));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, clgan_net_get(n)->out, 0, y, sizeof y));
    tu_close("dropout2d rate 0 = identity", y, x, NX, 0, 0);
    clgan_net_free(n);
    enum { B2 = 16, C2 = 64 };
    static float ones[B2 * 2 * C2], out[B2 * 2 * C2];
    for (int i = 0; i < B2 * 2 * C2; i++) ones[i] = 1.0f;
    cl_mem ob;
    CHECK_OK(clgan_buf_alloc(ctx, &ob, sizeof ones, "ones"));
    CHECK_OK(clgan_buf_write(ctx, ob, 0, ones, sizeof ones));
    CHECK_OK(clgan_net_init_shape(&n, ctx, CLGAN_SHAPE(1, 2, C2), B2));
    CHECK_OK(clgan_net_add_dropout2d(n, 0.5f));
    CHECK_OK(clgan_net_finalize(n, 9));
    CHECK_OK(clgan_net_forward(n, ob, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, clgan_net_get(n)->out, 0, out, sizeof out));
    int dropped = 0, broadcast = 1;
    for (int s = 0; s < B2; s++)
        for (int c = 0; c < C2; c++) {
            float a = out[(s * 2) * C2 + c], b = out[(s * 2 + 1) * C2 + c];
            dropped += a == 0.0f;
            broadcast &= a == b && (a == 0.0f || a == 2.0f);
        }
    printf("  dropout2d rate 0.5: %d of %d channels dropped (4 sigma: 512 +- 64), same over "
           "pixels %d\n", dropped, B2 * C2, broadcast);
    CHECK(abs(dropped - 512) <= 64 && broadcast);
    clgan_net_free(n);
    clgan_buf_release(&ob);
    clgan_buf_release(&xb);
    clgan_buf_release(&dyb);
}

/* ---- 3. spectral norm -------------------------------------------------------------- */

/* conv 3x3 s2 same (SN) tanh, convT 3x3 s2 p1 op1 (SN) tanh, flatten, dense 4 (SN)
 * tanh, then without SN dense 1: sn_layers says which kernels are normalized. */
static const char *const sn_names[3] = {"conv0", "convt0", "dense0"};

static clgan_status b_sn(clgan_net *n, int sn)
{
    clgan_conv_opts c = {.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
                         .act = CLGAN_ACT_TANH};
    clgan_conv_opts t = {.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .transpose = 1,
                         .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .out_pad_h = 1,
                         .out_pad_w = 1, .act = CLGAN_ACT_TANH};
    clgan_status st;
    if ((st = clgan_net_set_spectral_norm(n, sn)) != CLGAN_OK ||
        (st = clgan_net_add_conv2d(n, &c)) != CLGAN_OK ||
        (st = clgan_net_add_conv2d(n, &t)) != CLGAN_OK ||
        (st = clgan_net_add_reshape(n, CLGAN_SHAPE(1, 1, clgan_net_get(n)->out_dim))) != CLGAN_OK ||
        (st = clgan_net_add_dense(n, 4, CLGAN_ACT_TANH, 0.0f)) != CLGAN_OK ||
        (st = clgan_net_set_spectral_norm(n, 0)) != CLGAN_OK)
        return st;
    return clgan_net_add_dense(n, 1, CLGAN_ACT_NONE, 0.0f);
}

static clgan_status b_sn_on(clgan_net *n) { return b_sn(n, 1); }

/* The kernel (rows, cols), u (cols) and v (rows) of layer `name` from host copies. */
typedef struct {
    const float *w, *u, *v;
    int rows, cols;
    const clgan_tensor_info *tw;
} sn_view;

static int sn_get(clgan_net *n, const char *name, const float *p, const float *s, sn_view *out)
{
    char key[64];
    snprintf(key, sizeof key, "%s.kernel", name);
    const clgan_tensor_info *tw = clgan_net_find(n, key);
    snprintf(key, sizeof key, "%s.sn_u", name);
    const clgan_tensor_info *tu = clgan_net_find(n, key);
    snprintf(key, sizeof key, "%s.sn_v", name);
    const clgan_tensor_info *tv = clgan_net_find(n, key);
    int ok = tw && tu && tv && !tu->trained && !tv->trained && tu->ndim == 1 && tv->ndim == 1 &&
             tw->shape[tw->ndim - 1] == tu->count && tu->count * tv->count == tw->count;
    CHECK(ok);
    if (!ok)
        return 0;
    *out = (sn_view){p + tw->offset, s + tu->offset, s + tv->offset, (int)tv->count,
                     (int)tu->count, tw};
    return 1;
}

/* sigma = u . (M^T v) in double. */
static double host_sigma(const sn_view *a, const float *u, const float *v)
{
    double s = 0;
    for (int f = 0; f < a->cols; f++) {
        double t = 0;
        for (int r = 0; r < a->rows; r++) t += (double)a->w[(size_t)r * a->cols + f] * v[r];
        s += u[f] * t;
    }
    return s;
}

/* One power iteration from u (cols) in double: v (rows), u1 (cols). */
static void host_power(const sn_view *a, const float *u, float *v, float *u1)
{
    double ss = 0, *t = malloc((size_t)(a->rows + a->cols) * sizeof *t);
    for (int r = 0; r < a->rows; r++) {
        double q = 0;
        for (int f = 0; f < a->cols; f++) q += (double)a->w[(size_t)r * a->cols + f] * u[f];
        t[r] = q;
        ss += q * q;
    }
    for (int r = 0; r < a->rows; r++) v[r] = (float)(t[r] / sqrt(ss));
    ss = 0;
    for (int f = 0; f < a->cols; f++) {
        double q = 0;
        for (int r = 0; r < a->rows; r++) q += (double)a->w[(size_t)r * a->cols + f] * v[r];
        t[f] = q;
        ss += q * q;
    }
    for (int f = 0; f < a->cols; f++) u1[f] = (float)(t[f] / sqrt(ss));
    free(t);
}

/* The largest singular value of M (LAPACK, double). */
static double svd_max(const sn_view *a)
{
    int m = a->rows, k = a->cols, mn = m < k ? m : k;
    double *A = malloc((size_t)m * k * sizeof *A), *sv = malloc((size_t)mn * sizeof *sv),
           *sup = malloc((size_t)mn * sizeof *sup);
    for (int i = 0; i < m * k; i++) A[i] = a->w[i];
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', m, k, A, k, sv, NULL, 1, NULL, 1,
                                     sup);
    double s = info == 0 ? sv[0] : NAN;
    free(A), free(sv), free(sup);
    return s;
}

static void test_spectral_norm(void)
{
    const clgan_shape in = CLGAN_SHAPE(5, 4, 2);
    const int B = 3;
    clgan_net *n, *plain, *same;
    CHECK_OK(clgan_net_init_shape(&n, ctx, in, B));
    CHECK_OK(b_sn(n, 1));
    CHECK_OK(clgan_net_finalize(n, 21));
    CHECK_OK(clgan_net_init_shape(&same, ctx, in, B));
    CHECK_OK(b_sn(same, 1));
    CHECK_OK(clgan_net_finalize(same, 21));
    CHECK_OK(clgan_net_init_shape(&plain, ctx, in, B));
    CHECK_OK(b_sn(plain, 0));
    CHECK_OK(clgan_net_finalize(plain, 21));
    randomize(n, 22, 0.5f);
    const clgan_net_view *v = clgan_net_get(n), *vp = clgan_net_get(plain);
    CHECK(clgan_net_find(n, "dense1.sn_u") == NULL && clgan_net_find(plain, "conv0.sn_u") == NULL);
    CHECK(vp->n_params == v->n_params);
    size_t np = v->n_params, ns = v->n_state, nx = (size_t)B * v->in_dim, no = (size_t)B;
    float *p = malloc(np * 4), *s0 = malloc(ns * 4), *s1 = malloc(ns * 4), *s2 = malloc(ns * 4),
          *pp = malloc(np * 4), *x = malloc(nx * 4), *y = malloc(no * 4), *yp = malloc(no * 4),
          *hv = malloc(ns * 4), *hu = malloc(ns * 4);
    clgan_rng rng = {23};
    for (size_t i = 0; i < nx; i++) x[i] = (float)clgan_rng_normal(&rng);
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
    CHECK_OK(clgan_net_read_params(n, p, s0));
    CHECK_OK(clgan_net_read_params(same, NULL, s1));
    CHECK(memcmp(s0, s1, ns * 4) == 0); /* same seed, same u and v */
    /* u, v start as unit vectors */
    double worst_unit = 0;
    for (int k = 0; k < 3; k++) {
        sn_view a;
        if (!sn_get(n, sn_names[k], p, s0, &a)) continue;
        double nu = 0, nv = 0;
        for (int f = 0; f < a.cols; f++) nu += (double)a.u[f] * a.u[f];
        for (int r = 0; r < a.rows; r++) nv += (double)a.v[r] * a.v[r];
        worst_unit = fmax(worst_unit, fmax(fabs(sqrt(nu) - 1), fabs(sqrt(nv) - 1)));
    }
    printf("  spectral norm: initial | ||u|| - 1 |, | ||v|| - 1 | <= %.1e\n", worst_unit);
    CHECK(worst_unit < 1e-6);
    /* one TRAIN forward: one power iteration; the output is the plain net's with W / sigma */
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, no * 4));
    CHECK_OK(clgan_net_read_params(n, NULL, s1));
    memcpy(pp, p, np * 4);
    for (int k = 0; k < 3; k++) {
        sn_view a, a1;
        if (!sn_get(n, sn_names[k], p, s0, &a) || !sn_get(n, sn_names[k], p, s1, &a1)) continue;
        host_power(&a, a.u, hv, hu);
        char what[96];
        snprintf(what, sizeof what, "%s: v after one iteration vs host", sn_names[k]);
        tu_close(what, a1.v, hv, (size_t)a.rows, 1e-5, 1e-5);
        snprintf(what, sizeof what, "%s: u after one iteration vs host", sn_names[k]);
        tu_close(what, a1.u, hu, (size_t)a.cols, 1e-5, 1e-5);
        double sigma = host_sigma(&a1, a1.u, a1.v);
        for (size_t i = 0; i < a.tw->count; i++)
            pp[a.tw->offset + i] = (float)(p[a.tw->offset + i] / sigma);
    }
    CHECK_OK(clgan_net_write_params(plain, pp, NULL));
    CHECK_OK(clgan_net_forward(plain, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, vp->out, 0, yp, no * 4));
    tu_close("spectral-norm output = plain net with W / sigma", y, yp, no, 1e-5, 1e-4);
    /* EVAL: no iteration, the same sigma */
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_EVAL));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, yp, no * 4));
    CHECK_OK(clgan_net_read_params(n, NULL, s2));
    CHECK(memcmp(s1, s2, ns * 4) == 0);
    tu_close("spectral-norm eval output (stored u, v)", yp, y, no, 1e-6, 1e-6);
    /* 300 iterations: sigma -> the largest singular value */
    for (int i = 0; i < 299; i++)
        CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_net_read_params(n, NULL, s2));
    for (int k = 0; k < 3; k++) {
        sn_view a;
        if (!sn_get(n, sn_names[k], p, s2, &a)) continue;
        double sig = host_sigma(&a, a.u, a.v), top = svd_max(&a);
        int ok = fabs(sig - top) <= 1e-4 * top;
        tu_checks++;
        if (!ok) tu_failures++;
        printf("  %-7s %s: %d x %d kernel, sigma after 300 iterations %.7f, LAPACK %.7f\n",
               sn_names[k], ok ? "ok  " : "FAIL", a.rows, a.cols, sig, top);
    }
    /* CLGAN_GRAD_SET over garbage = ADD onto zeros */
    float *ga = malloc(np * 4), *gs = malloc(np * 4), *dout = malloc(no * 4);
    for (size_t i = 0; i < no; i++) dout[i] = (float)clgan_rng_normal(&rng);
    for (size_t i = 0; i < np; i++) gs[i] = 1e3f * (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, dout, no * 4));
    CHECK_OK(clgan_net_zero_grad(n));
    CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), CLGAN_GRAD_ADD, 0));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, ga, np * 4));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_EVAL));
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, dout, no * 4));
    CHECK_OK(clgan_buf_write(ctx, v->grads, 0, gs, np * 4));
    CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), CLGAN_GRAD_SET, 0));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, gs, np * 4));
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        char what[96];
        if (!ti->trained) continue;
        snprintf(what, sizeof what, "spectral norm: %s with GRAD_SET = ADD onto 0", ti->name);
        tu_close(what, gs + ti->offset, ga + ti->offset, ti->count, 1e-6, 1e-5);
    }
    free(ga), free(gs), free(dout);
    clgan_buf_release(&xb);
    free(p), free(s0), free(s1), free(s2), free(pp), free(x), free(y), free(yp), free(hv), free(hu);
    clgan_net_free(n), clgan_net_free(plain), clgan_net_free(same);
    /* residual blocks refuse it */
    CHECK_OK(clgan_net_init(&n, ctx, 4, 2));
    CHECK_OK(clgan_net_set_spectral_norm(n, 1));
    CHECK(clgan_net_add_residual(n, 4, CLGAN_ACT_RELU, 0, 0, 0, 0, 0) == CLGAN_EINVAL);
    printf("  residual with spectral norm: %s\n", clgan_error_msg());
    clgan_net_free(n);
}

/* 8 input channels, stride 1: with the native GEMM the implicit weight gradient (into
 * the spectral norm's accumulator) and the flipped-kernel input gradient */
static clgan_status b_sn_implicit(clgan_net *n)
{
    clgan_conv_opts c = {.filters = 3, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME,
                         .act = CLGAN_ACT_TANH};
    clgan_status st;
    if ((st = clgan_net_set_spectral_norm(n, 1)) != CLGAN_OK ||
        (st = clgan_net_add_conv2d(n, &c)) != CLGAN_OK ||
        (st = clgan_net_add_reshape(n, CLGAN_SHAPE(1, 1, clgan_net_get(n)->out_dim))) != CLGAN_OK)
        return st;
    return clgan_net_add_dense(n, 1, CLGAN_ACT_NONE, 0.0f);
}

static void test_spectral_norm_grads(void)
{
    grad_case("spectral norm: conv s2, convT s2, dense (u, v frozen), 5x4x2 b2",
              CLGAN_SHAPE(5, 4, 2), 2, b_sn_on, 31, 1);
    grad_case("spectral norm: the same at batch 1", CLGAN_SHAPE(5, 4, 2), 1, b_sn_on, 32, 1);
    grad_case("spectral norm: conv 3x3 s1 on 8 channels, 3x4x8 b2", CLGAN_SHAPE(3, 4, 8), 2,
              b_sn_implicit, 33, 1);
}

/* A conv without bias applies its activation: the same output as with a zero bias. */
static void test_conv_no_bias_act(void)
{
    clgan_conv_opts o = {.filters = 4, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME,
                         .act = CLGAN_ACT_TANH};
    clgan_net *a, *b;
    CHECK_OK(clgan_net_init_shape(&a, ctx, CLGAN_SHAPE(4, 3, 2), 2));
    CHECK_OK(clgan_net_add_conv2d(a, &o));
    CHECK_OK(clgan_net_finalize(a, 41));
    o.no_bias = 1;
    CHECK_OK(clgan_net_init_shape(&b, ctx, CLGAN_SHAPE(4, 3, 2), 2));
    CHECK_OK(clgan_net_add_conv2d(b, &o));
    CHECK_OK(clgan_net_finalize(b, 41)); /* the same kernel; a's bias is 0 */
    float x[48], ya[96], yb[96];
    clgan_rng rng = {42};
    for (int i = 0; i < 48; i++) x[i] = 2.0f * (float)clgan_rng_normal(&rng);
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    CHECK_OK(clgan_net_forward(a, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_net_forward(b, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, clgan_net_get(a)->out, 0, ya, sizeof ya));
    CHECK_OK(clgan_buf_read(ctx, clgan_net_get(b)->out, 0, yb, sizeof yb));
    tu_close("conv tanh without bias = with a zero bias", yb, ya, 96, 1e-6, 1e-6);
    clgan_buf_release(&xb);
    clgan_net_free(a), clgan_net_free(b);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_layers: %s\n", clgan_error_msg());
        return 1;
    }
    test_layernorm_forward();
    test_dropout2d();
    for (int impl = CLGAN_GEMM_CLBLAST; impl <= CLGAN_GEMM_NATIVE; impl++) {
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)impl);
        printf("gemm %s:\n", clgan_gemm_impl_str((clgan_gemm_impl)impl));
        test_layernorm_grads();
        test_spectral_norm();
        test_spectral_norm_grads();
        test_conv_no_bias_act();
    }
    clgan_ctx_free(ctx);
    return tu_finish("test_layers");
}
