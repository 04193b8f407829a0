/* test_gemm.c - the native GEMM kernels (cl/gemm.cl) against a double-precision host
 * reference and against CLBlast, on every shape the MLP GAN trainer issues, alpha/beta
 * variants, NaN-filled C with beta = 0, odd and padded shapes; and autoselect's cache.
 *
 * Tolerance, per element: |C - C_exact| <= (K+3) * u * (|alpha| sum_k |a_ik b_kj| +
 * |beta c_ij|), u = 2^-24. This is the worst-case forward error bound of a float dot
 * product of length K summed in any order (Higham's gamma_K), plus the roundings of the
 * alpha and beta terms, so it holds for CLBlast's blocking and for our vector-lane
 * partial sums alike, and it scales with each element's own magnitudes instead of a
 * global max. It never exceeds (K+3)*u*K*max|a|*max|b| (~6e-5 of that scale at K=1024),
 * while a wrong index, a dropped tile or a stray beta*NaN is off by O(|a||b|) or NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "clgan/runtime.h"
#include "testutil.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float urand(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

typedef struct {
    int ta, tb;
    size_t M, N, K;
    float alpha, beta;
    size_t pad; /* added to every leading dimension */
    size_t off; /* A, B and C start at off, 2*off+1, 3*off+2 floats into their buffers
                   (0: at the start); what lies before them must stay untouched */
} gemm_case;

/* Largest |x - ref| and largest |x - ref| / tol over C; NaN counts as infinite. */
typedef struct {
    double diff, ratio;
} errstat;

static void measure(errstat *e, const float *x, const double *ref, const double *tol, size_t M,
                    size_t N, size_t ldc)
{
    e->diff = e->ratio = 0.0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double d = fabs((double)x[i * ldc + j] - ref[i * N + j]);
            if (isnan(d))
                d = INFINITY;
            if (d > e->diff)
                e->diff = d;
            if (d / tol[i * N + j] > e->ratio)
                e->ratio = d / tol[i * N + j];
        }
}

/* Runs one case through both implementations; returns 1 when both are within
 * tolerance of the reference (and so within 2x tolerance of each other). */
static int run_case(clgan_ctx *ctx, const char *label, const gemm_case *c)
{
    const size_t M = c->M, N = c->N, K = c->K;
    const size_t a_rows = c->ta ? K : M, a_cols = c->ta ? M : K;
    const size_t b_rows = c->tb ? N : K, b_cols = c->tb ? K : N;
    const size_t lda = a_cols + c->pad, ldb = b_cols + c->pad, ldc = N + c->pad;
    const size_t oa = c->off, ob = c->off ? 2 * c->off + 1 : 0, oc = c->off ? 3 * c->off + 2 : 0;
    const size_t na = a_rows * lda, nb = b_rows * ldb, nc = M * ldc;
    float *guard = calloc(oc + 1, sizeof *guard), *gout = calloc(oc + 1, sizeof *gout);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c0 = malloc(nc * sizeof *c0), *out[2] = {malloc(nc * sizeof(float)),
                                                      malloc(nc * sizeof(float))};
    double *ref = malloc(M * N * sizeof *ref), *tol = malloc(M * N * sizeof *tol);
    cl_mem da = NULL, db = NULL, dc = NULL;
    errstat e[2] = {{0, 0}, {0, 0}};
    double cross = 0.0;
    int ok = 0;
    if (!a || !b || !c0 || !out[0] || !out[1] || !ref || !tol || !guard || !gout) {
        fprintf(stderr, "out of memory\n");
        tu_failures++;
        goto done;
    }
    for (size_t i = 0; i < na; i++)
        a[i] = urand();
    for (size_t i = 0; i < nb; i++)
        b[i] = urand();
    for (size_t i = 0; i < nc; i++) /* beta == 0 must not read C: give it NaN */
        c0[i] = c->beta == 0.0f ? NAN : urand();

    const double u = 1.0 / 16777216.0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0, sa = 0.0;
            for (size_t k = 0; k < K; k++) {
                double x = c->ta ? a[k * lda + i] : a[i * lda + k];
                double y = c->tb ? b[j * ldb + k] : b[k * ldb + j];
                s += x * y;
                sa += fabs(x * y);
            }
            double cij = c->beta == 0.0f ? 0.0 : (double)c0[i * ldc + j];
            ref[i * N + j] = c->alpha * s + c->beta * cij;
            tol[i * N + j] = (double)(K + 3) * u * (fabs(c->alpha) * sa + fabs(c->beta * cij)) +
                             1e-30;
        }

    CHECK_OK(clgan_buf_alloc(ctx, &da, (oa + na) * sizeof(float), "A"));
    CHECK_OK(clgan_buf_alloc(ctx, &db, (ob + nb) * sizeof(float), "B"));
    CHECK_OK(clgan_buf_alloc(ctx, &dc, (oc + nc) * sizeof(float), "C"));
    if (!da || !db || !dc)
        goto done;
    CHECK_OK(clgan_buf_write(ctx, da, oa * 4, a, na * sizeof(float)));
    CHECK_OK(clgan_buf_write(ctx, db, ob * 4, b, nb * sizeof(float)));
    for (size_t i = 0; i < oc; i++)
        guard[i] = (float)i + 0.5f;
    int guard_ok = 1;
    for (int impl = 0; impl < 2; impl++) {
        clgan_gemm_set_impl(ctx, impl ? CLGAN_GEMM_NATIVE : CLGAN_GEMM_CLBLAST);
        CHECK_OK(clgan_buf_write(ctx, dc, oc * 4, c0, nc * sizeof(float)));
        if (oc)
            CHECK_OK(clgan_buf_write(ctx, dc, 0, guard, oc * sizeof(float)));
        if (c->off)
            CHECK_OK(clgan_gemm_mat(ctx, c->ta, c->tb, M, N, K, c->alpha, CLGAN_MAT(da, oa, lda),
                                    CLGAN_MAT(db, ob, ldb), c->beta, CLGAN_MAT(dc, oc, ldc)));
        else
            CHECK_OK(clgan_gemm(ctx, c->ta, c->tb, M, N, K, c->alpha, da, lda, db, ldb, c->beta,
                                dc, ldc));
        CHECK_OK(clgan_buf_read(ctx, dc, oc * 4, out[impl], nc * sizeof(float)));
        if (oc) {
            CHECK_OK(clgan_buf_read(ctx, dc, 0, gout, oc * sizeof(float)));
            guard_ok &= !memcmp(gout, guard, oc * sizeof(float));
        }
        measure(&e[impl], out[impl], ref, tol, M, N, ldc);
    }
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double d = fabs((double)out[0][i * ldc + j] - (double)out[1][i * ldc + j]);
            cross = isnan(d) || d > cross ? (isnan(d) ? INFINITY : d) : cross;
        }
    /* Padding columns of C are outside the matrix: nobody may write them. */
    int pad_ok = 1;
    for (size_t i = 0; i < M && c->pad; i++)
        for (size_t j = N; j < ldc; j++)
            if (memcmp(&out[1][i * ldc + j], &c0[i * ldc + j], sizeof(float)) != 0)
                pad_ok = 0;
    ok = e[0].ratio <= 1.0 && e[1].ratio <= 1.0 && pad_ok && guard_ok;
    tu_checks++;
    if (!ok)
        tu_failures++;
    printf("  %-34s %c%c M=%-4zu N=%-4zu K=%-4zu a=%-5g b=%-5g ld+%zu | native %.2e (%.3f tol) "
           "clblast %.2e (%.3f tol) native-clblast %.2e%s%s%s\n",
           label, c->ta ? 'T' : 'N', c->tb ? 'T' : 'N', M, N, K, c->alpha, c->beta, c->pad,
           e[1].diff, e[1].ratio, e[0].diff, e[0].ratio, cross, pad_ok ? "" : " PADDING WRITTEN",
           guard_ok ? "" : " WROTE BEFORE C's OFFSET",
           ok ? "" : "  <-- FAIL");
done:
    free(guard);
    free(gout);
    clgan_buf_release(&dc);
    clgan_buf_release(&db);
    clgan_buf_release(&da);
    free(tol);
    free(ref);
    free(out[1]);
    free(out[0]);
    free(c0);
    free(b);
    free(a);
    return ok;
}

/* Forward, input gradient and weight gradient of every dense layer of the MLP GAN. */
static void trainer_shapes(clgan_ctx *ctx)
{
    static const size_t batches[] = {1, 7, 32, 128};
    static const size_t layers[][2] = {{100, 256}, {256, 512}, {512, 1024}, {1024, 784},
                                       {784, 512}, {512, 256}, {256, 1}};
    char label[64];
    printf("trainer shapes (forward NN, input grad NT, weight grad TN):\n");
    for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++)
        for (size_t li = 0; li < sizeof layers / sizeof *layers; li++) {
            size_t B = batches[bi], in = layers[li][0], out = layers[li][1];
            gemm_case fwd = {0, 0, B, out, in, 1.0f, 0.0f, 0, 0};
            gemm_case dx = {0, 1, B, in, out, 1.0f, 0.0f, 0, 0};
            gemm_case dw = {1, 0, in, out, B, 1.0f, 1.0f, 0, 0};
            snprintf(label, sizeof label, "B=%zu %zux%zu Y=XW", B, in, out);
            run_case(ctx, label, &fwd);
            snprintf(label, sizeof label, "B=%zu %zux%zu dX=dY W^T", B, in, out);
            run_case(ctx, label, &dx);
            snprintf(label, sizeof label, "B=%zu %zux%zu dW+=X^T dY", B, in, out);
            run_case(ctx, label, &dw);
        }
}

static void alpha_beta(clgan_ctx *ctx)
{
    static const float ab[][2] = {{0.5f, -1.5f}, {-2.0f, 0.25f}, {0.0f, 1.0f}, {1.0f, 0.0f},
                                  {3.0f, 0.0f}};
    printf("alpha/beta variants, padded leading dimensions:\n");
    for (int op = 0; op < 3; op++)
        for (size_t v = 0; v < sizeof ab / sizeof *ab; v++) {
            gemm_case c = {op == 2, op == 1, 45, 70, 129, ab[v][0], ab[v][1], v % 2 ? 3 : 0, 0};
            run_case(ctx, "alpha/beta", &c);
        }
}

static void odd_shapes(clgan_ctx *ctx)
{
    static const size_t dims[] = {1, 3, 17, 33};
    printf("odd shapes (M, N, K in {1, 3, 17, 33}; beta 0 with NaN C when M+N+K is odd; "
           "operands at offsets 7, 15, 23 when i+j+k is odd):\n");
    for (int op = 0; op < 3; op++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 4; k++) {
                    size_t M = dims[i], N = dims[j], K = dims[k];
                    gemm_case c = {op == 2, op == 1, M, N, K, 1.25f,
                                   (M + N + K) % 2 ? 0.0f : 0.5f, (i + j + k) % 3 == 0 ? 5 : 0,
                                   (i + j + k) % 2 ? 7 : 0};
                    run_case(ctx, "odd", &c);
                }
}

/* Autoselect picks an impl, writes the choice file, trusts a valid one, and measures
 * again over a corrupt one. Uses the context's private cache directory. */
static void autoselect_cache(clgan_ctx *ctx)
{
    const clgan_ctx_view *v = clgan_ctx_get(ctx);
    char path[1200];
    uint8_t *f = NULL;
    size_t n = 0;
    printf("autoselect:\n");
    CHECK(v->cache_path && v->cache_path[0]);
    if (!v->cache_path || !v->cache_path[0])
        return;
    snprintf(path, sizeof path, "%s.gemm", v->cache_path);
    remove(path);
    clgan_gemm_set_impl(ctx, CLGAN_GEMM_AUTO);
    CHECK_OK(clgan_gemm_autoselect(ctx));
    clgan_gemm_impl first = clgan_gemm_get_impl(ctx);
    CHECK(first == CLGAN_GEMM_CLBLAST || first == CLGAN_GEMM_NATIVE);
    printf("  measured: %s\n", clgan_gemm_impl_str(first));
    if (!(v->dev.type & CL_DEVICE_TYPE_CPU)) {
        /* Other devices get CLBlast without a measurement, so no choice file. */
        CHECK(first == CLGAN_GEMM_CLBLAST);
        CHECK(clgan_io_read_file(path, &f, &n) != CLGAN_OK);
        clgan_error_clear();
        free(f);
        return;
    }
    CHECK_OK(clgan_io_read_file(path, &f, &n));
    if (!f)
        return;
    char *text = calloc(1, n + 1);
    CHECK(text != NULL);
    if (!text) {
        free(f);
        return;
    }
    memcpy(text, f, n);
    free(f);
    printf("  %s:\n%s", path, text);
    /* A valid file is trusted: flip its choice and expect the flipped one back. */
    const char *want = first == CLGAN_GEMM_NATIVE ? "clblast" : "native";
    char *impl = strstr(text, "impl ");
    CHECK(impl != NULL);
    if (impl) {
        char flipped[2048];
        snprintf(flipped, sizeof flipped, "%.*simpl %s\n", (int)(impl - text), text, want);
        CHECK_OK(clgan_io_write_file(path, flipped, strlen(flipped)));
        CHECK_OK(clgan_gemm_autoselect(ctx));
        CHECK(!strcmp(clgan_gemm_impl_str(clgan_gemm_get_impl(ctx)), want));
    }
    /* Corrupt or truncated files are measured again and rewritten. */
    static const char *const bad[] = {"garbage\n", "clgan-gemm-choice 1\n", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_OK(clgan_io_write_file(path, bad[i], strlen(bad[i])));
        CHECK_OK(clgan_gemm_autoselect(ctx));
        clgan_gemm_impl got = clgan_gemm_get_impl(ctx);
        CHECK(got == CLGAN_GEMM_CLBLAST || got == CLGAN_GEMM_NATIVE);
        f = NULL;
        CHECK_OK(clgan_io_read_file(path, &f, &n));
        CHECK(f && n > 20 && !memcmp(f, "clgan-gemm-choice 1\n", 20));
        free(f);
    }
    free(text);
}

int main(void)
{
    clgan_ctx *ctx = NULL;
    const char *cache = tu_tmpdir("gemm-cache");
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device(), .cache_dir = cache});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_gemm: %s\n", clgan_error_msg());
        return 1;
    }
    printf("device: %s\n", clgan_ctx_get(ctx)->dev.name);
    CHECK(clgan_gemm_get_impl(ctx) == CLGAN_GEMM_AUTO);
    trainer_shapes(ctx);
    alpha_beta(ctx);
    odd_shapes(ctx);
    autoselect_cache(ctx);
    clgan_ctx_free(ctx);
    return tu_finish("test_gemm");
}
