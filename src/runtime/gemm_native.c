/* gemm_native.c - launches the native SGEMM kernels of cl/gemm.cl (register tiles for
 * CPU devices), and chooses between them and CLBlast by measurement (autoselect).
 * Does not implement CLBlast's path (gemm.c) nor the TT case (the trainer never needs it).
 *
 * Why no packing: NN and TN read both operands in place (TN's A(m,k) = A[k*lda + m] is
 * contiguous along the tile's rows). For NT, packing B^T into a scratch buffer cost, on
 * the PoCL CPU device, as much as the product itself at batch 32 (a 1024x784 transpose
 * took 0.34 ms, the 32x1024x784 NT product 0.27 ms), and reading B^T strided in the
 * broadcast form ran at 7-40 GFLOP/s; the dot form of gemm_nt (vectors along K) reads
 * both operands contiguously and ran at 130-190 GFLOP/s. So no scratch buffers.
 */
#include "common/clock.h"
#include "runtime_internal.h"

#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/io.h"

/* Elements spanned by a row-major (rows, cols) view with row stride ld. */
static size_t span(size_t rows, size_t cols, size_t ld)
{
    return rows && cols ? (rows - 1) * ld + cols : 0;
}

/* EINVAL naming the shape unless `mem` holds at least `elems` floats. */
static clgan_status check_buf(clgan_ctx *ctx, const char *call, const char *what, cl_mem mem,
                              size_t elems)
{
    size_t bytes = 0;
    if (elems == 0)
        return CLGAN_OK;
    if (elems > INT_MAX)
        return clgan_error(CLGAN_EINVAL, "%s: %s spans %zu elements, above the native "
                           "kernels' int indexing; use --gemm clblast", call, what, elems);
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    if (err != CL_SUCCESS)
        return clgan_cl_fail(ctx, "clGetMemObjectInfo(CL_MEM_SIZE)", err);
    if (bytes / sizeof(float) < elems)
        return clgan_error(CLGAN_EINVAL, "%s: buffer %s holds %zu floats, the shape needs %zu",
                           call, what, bytes / sizeof(float), elems);
    return CLGAN_OK;
}

clgan_status clgan_gemm_native(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                               float alpha, clgan_mat Am, clgan_mat Bm, float beta, clgan_mat Cm,
                               cl_mem bias, int act, float slope)
{
    char call[200];
    clgan_status st;
    const size_t lda = Am.ld, ldb = Bm.ld, ldc = Cm.ld;
    snprintf(call, sizeof call, "native gemm (%c%c, M=%zu N=%zu K=%zu, lda=%zu ldb=%zu ldc=%zu, "
             "offsets %zu %zu %zu)", ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, lda, ldb, ldc,
             Am.off, Bm.off, Cm.off);
    if (M == 0 || N == 0)
        return CLGAN_OK;
    if (ta && tb)
        return clgan_error(CLGAN_EINVAL, "%s: the native kernels have no TT case; use clblast",
                           call);
    if (bias && (ta || tb || beta != 0.0f))
        return clgan_error(CLGAN_EINVAL, "%s: the bias+activation epilogue is for NN with beta 0",
                           call);
    /* A is (M,K) or, transposed, (K,M); B is (K,N) or, transposed, (N,K). */
    size_t a_rows = ta ? K : M, a_cols = ta ? M : K;
    size_t b_rows = tb ? N : K, b_cols = tb ? K : N;
    if (lda < a_cols || ldb < b_cols || ldc < N)
        return clgan_error(CLGAN_EINVAL, "%s: a leading dimension is below its row length "
                           "(need lda >= %zu, ldb >= %zu, ldc >= %zu)", call, a_cols, b_cols, N);
    if (M > INT_MAX || N > INT_MAX || K > INT_MAX)
        return clgan_error(CLGAN_EINVAL, "%s: a size is above the native kernels' int "
                           "indexing; use --gemm clblast", call);
    if ((st = check_buf(ctx, call, "A", Am.mem, Am.off + span(a_rows, a_cols, lda))) != CLGAN_OK ||
        (st = check_buf(ctx, call, "B", Bm.mem, Bm.off + span(b_rows, b_cols, ldb))) != CLGAN_OK ||
        (st = check_buf(ctx, call, "C", Cm.mem, Cm.off + span(M, N, ldc))) != CLGAN_OK)
        return st;

    /* Matrix-vector shapes (a 1-wide output layer: its forward, input and weight
     * gradients) would leave the broadcast form gathering B lane by lane in 1-column
     * tiles (~20 us a call at batch 32 on PoCL); the same products in a form whose
     * vectors run along the long side take ~7 us. Dense vectors (stride 1) only. */
    if (!bias && !ta && !tb && N == 1 && ldb == 1 && K > 1) /* C(M,1) = A . b: dot form */
        return clgan_gemm_native(ctx, 0, 1, M, 1, K, alpha, Am, CLGAN_MAT(Bm.mem, Bm.off, K), beta,
                                 Cm, NULL, 0, 0.0f);
    if (!ta && tb && K == 1 && ldb == 1 && N > 1) /* C = a b^T, outer product: broadcast */
        return clgan_gemm_native(ctx, 0, 0, M, N, 1, alpha, Am, CLGAN_MAT(Bm.mem, Bm.off, N), beta,
                                 Cm, NULL, 0, 0.0f);
    if (ta && !tb && N == 1 && ldb == 1 && ldc == 1 && M > 1) /* C^T(1,M) = b^T A: NN */
        return clgan_gemm_native(ctx, 0, 0, 1, M, K, alpha, CLGAN_MAT(Bm.mem, Bm.off, K), Am, beta,
                                 CLGAN_MAT(Cm.mem, Cm.off, M), NULL, 0, 0.0f);
    if (Am.off > INT_MAX || Bm.off > INT_MAX || Cm.off > INT_MAX)
        return clgan_error(CLGAN_EINVAL, "%s: an offset is above the native kernels' int "
                           "indexing; use --gemm clblast", call);

    clgan_kernel_id k = tb ? CLGAN_K_gemm_nt : ta ? CLGAN_K_gemm_tn : CLGAN_K_gemm_nn;
    /* Work per work-item, as cl/gemm.cl was compiled (kernels.h tunables):
     * GEMM_TM x (GEMM_VW * GEMM_TNV) for nn/tn, GEMM_DM x GEMM_DN for nt. */
    size_t tm = (size_t)clgan_tunable(ctx, tb ? CLGAN_T_GEMM_DM : CLGAN_T_GEMM_TM);
    size_t tn = tb ? (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_DN)
                   : (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_VW) *
                         (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_TNV);
    size_t global[2] = {(M + tm - 1) / tm, (N + tn - 1) / tn};
    /* CPU devices: PoCL runs a work-group as one task, its work-items in a loop, on one
     * thread. gemm_nn: one tile per group (1, 2, 4, 8, 16, 32 per group measured alike).
     * gemm_nt / gemm_tn: 16 consecutive row tiles per group (sharing one column panel
     * of B in that core's cache) measured fastest on every trainer shape at batch 32
     * and 128 (clgan bench --gemm-shapes: TN at batch 32 850 -> 590 us over the 7 shapes,
     * NT 500 -> 470; 32 per group was worse again for TN). Other devices choose for
     * themselves; the kernels are correct with any local size. */
    static const size_t one[2] = {1, 1}, panel[2] = {16, 1};
    const size_t *local = !clgan_cpu_shapes(ctx) ? NULL
                          : (ta || tb)                              ? panel
                                                                    : one;
    if (tb) /* gemm_nt has no epilogue */
        return clgan_launch(ctx, k, 2, global, local,
                            CLGAN_ARGS(CLGAN_ARG_MEM(Cm.mem), CLGAN_ARG_MEM(Am.mem),
                                       CLGAN_ARG_MEM(Bm.mem), CLGAN_ARG_F32(alpha),
                                       CLGAN_ARG_F32(beta), CLGAN_ARG_INT((cl_int)M),
                                       CLGAN_ARG_INT((cl_int)N), CLGAN_ARG_INT((cl_int)K),
                                       CLGAN_ARG_INT((cl_int)lda), CLGAN_ARG_INT((cl_int)ldb),
                                       CLGAN_ARG_INT((cl_int)ldc), CLGAN_ARG_INT((cl_int)Am.off),
                                       CLGAN_ARG_INT((cl_int)Bm.off),
                                       CLGAN_ARG_INT((cl_int)Cm.off)));
    return clgan_launch(ctx, k, 2, global, local,
                        CLGAN_ARGS(CLGAN_ARG_MEM(Cm.mem), CLGAN_ARG_MEM(Am.mem), CLGAN_ARG_MEM(Bm.mem),
                                   CLGAN_ARG_F32(alpha), CLGAN_ARG_F32(beta),
                                   CLGAN_ARG_INT((cl_int)M), CLGAN_ARG_INT((cl_int)N),
                                   CLGAN_ARG_INT((cl_int)K), CLGAN_ARG_INT((cl_int)lda),
                                   CLGAN_ARG_INT((cl_int)ldb), CLGAN_ARG_INT((cl_int)ldc),
                                   CLGAN_ARG_MEM(bias), CLGAN_ARG_INT(act), CLGAN_ARG_F32(slope),
                                   CLGAN_ARG_INT((cl_int)Am.off), CLGAN_ARG_INT((cl_int)Bm.off),
                                   CLGAN_ARG_INT((cl_int)Cm.off)));
}

/* ---- autoselect ------------------------------------------------------------------- */

#define CHOICE_MAGIC "clgan-gemm-choice 1"

/* The lines a valid choice file starts with for this context (before "impl ..."). */
static void choice_header(const clgan_ctx *ctx, char *buf, size_t n)
{
    snprintf(buf, n, CHOICE_MAGIC "\ndevice %s | %s\nclblast %d.%d.%d\n", ctx->view.dev.name,
             ctx->view.dev.driver, CLBLAST_VERSION_MAJOR, CLBLAST_VERSION_MINOR,
             CLBLAST_VERSION_PATCH);
}

/* Reads a cached choice; CLGAN_GEMM_AUTO when the file is absent, stale or corrupt
 * (never an error: the caller measures again and overwrites it). */
static clgan_gemm_impl choice_load(const clgan_ctx *ctx, const char *path)
{
    char head[512], impl[16];
    uint8_t *f = NULL;
    size_t n = 0;
    clgan_gemm_impl r = CLGAN_GEMM_AUTO;
    if (clgan_io_read_file(path, &f, &n) != CLGAN_OK) {
        clgan_error_clear();
        return r;
    }
    choice_header(ctx, head, sizeof head);
    size_t hn = strlen(head);
    if (n > hn && n < 4096 && memcmp(f, head, hn) == 0) {
        char rest[4096];
        memcpy(rest, f + hn, n - hn);
        rest[n - hn] = '\0';
        if (sscanf(rest, "impl %15s\n", impl) == 1) {
            if (!strcmp(impl, "native"))
                r = CLGAN_GEMM_NATIVE;
            else if (!strcmp(impl, "clblast"))
                r = CLGAN_GEMM_CLBLAST;
        }
    }
    if (r == CLGAN_GEMM_AUTO && ctx->opts.verbose)
        fprintf(stderr, "clgan: gemm choice %s is stale or corrupt; measuring again\n", path);
    free(f);
    return r;
}

static void choice_store(const clgan_ctx *ctx, const char *path, clgan_gemm_impl impl,
                         const double ms[2][2])
{
    char buf[1024];
    choice_header(ctx, buf, sizeof buf);
    size_t n = strlen(buf);
    snprintf(buf + n, sizeof buf - n,
             "impl %s\nms clblast %.4f %.4f native %.4f %.4f (NN 32x1024x512, TN 512x1024x32)\n",
             clgan_gemm_impl_str(impl), ms[0][0], ms[0][1], ms[1][0], ms[1][1]);
    /* A choice that cannot be written only costs the next start a measurement. */
    if (clgan_io_write_file(path, buf, strlen(buf)) != CLGAN_OK)
        clgan_error_clear();
}

/* The two representative shapes: the forward product of a 512->1024 layer at batch 32
 * (NN, long K) and its weight gradient (TN, K = batch, C-bound). */
static const struct { int ta, tb; size_t M, N, K; } probe[2] = {
    {0, 0, 32, 1024, 512},
    {1, 0, 512, 1024, 32},
};

/* Best time in ms per call of probe shape `s` under the current impl: one warm-up call
 * (which compiles CLBlast's kernels), one call to size the rounds, then the best of 3
 * rounds of back-to-back calls (about 10 ms each) with one clFinish per round, as the
 * trainer issues them. */
static clgan_status time_probe(clgan_ctx *ctx, int s, cl_mem a, cl_mem b, cl_mem c, double *ms)
{
    const int ta = probe[s].ta, tb = probe[s].tb;
    const size_t M = probe[s].M, N = probe[s].N, K = probe[s].K;
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    clgan_status st;
    int reps = 1;
    *ms = 1e30;
    for (int round = -2; round < 3; round++) {
        double t0 = clgan_now_s();
        for (int r = 0; r < (round < 0 ? 1 : reps); r++)
            if ((st = clgan_gemm(ctx, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, 1.0f, c, N)) != CLGAN_OK)
                return st;
        if ((st = clgan_finish(ctx)) != CLGAN_OK)
            return st;
        double dt = clgan_now_s() - t0;
        if (round == -1)
            reps = dt >= 0.01 ? 1 : dt <= 1e-5 ? 1000 : (int)(0.01 / dt) + 1;
        else if (round >= 0 && dt / reps * 1e3 < *ms)
            *ms = dt / reps * 1e3;
    }
    return CLGAN_OK;
}

/* Non-CPU devices get CLBlast without a measurement: the native kernels are shaped for
 * CPUs (one work-item per tile holding 16 vector accumulators, no local memory) and
 * would spill registers and leave most SIMD lanes idle on a GPU, while CLBlast ships
 * tuned GPU kernels; timing there would only confirm the answer at the cost of
 * compiling both paths on every new driver. CPU devices are measured: PoCL's CLBlast
 * (untuned for CPUs) lost by 10-20x here, but another CPU runtime might not. */
clgan_status clgan_gemm_autoselect(clgan_ctx *ctx)
{
    char path[1100];
    cl_mem a = NULL, b = NULL, c = NULL;
    double ms[2][2] = {{0}}; /* [clblast, native][probe] */
    const clgan_gemm_impl prev = ctx->gemm_impl;
    clgan_status st = CLGAN_OK;
    if (!(ctx->view.dev.type & CL_DEVICE_TYPE_CPU)) {
        ctx->gemm_impl = CLGAN_GEMM_CLBLAST;
        return CLGAN_OK;
    }
    path[0] = '\0';
    if (ctx->cache_path[0]) {
        snprintf(path, sizeof path, "%s.gemm", ctx->cache_path);
        clgan_gemm_impl cached = choice_load(ctx, path);
        if (cached != CLGAN_GEMM_AUTO) {
            ctx->gemm_impl = cached;
            return CLGAN_OK;
        }
    }
    const double flops = ctx->gemm_flops;
    const size_t elems = 512 * 1024; /* the largest operand of either probe */
    if ((st = clgan_buf_alloc(ctx, &a, elems * sizeof(float), "gemm probe A")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &b, elems * sizeof(float), "gemm probe B")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &c, elems * sizeof(float), "gemm probe C")) != CLGAN_OK)
        goto done;
    for (int impl = 0; impl < 2; impl++) {
        ctx->gemm_impl = impl ? CLGAN_GEMM_NATIVE : CLGAN_GEMM_CLBLAST;
        for (int s = 0; s < 2; s++)
            if ((st = time_probe(ctx, s, a, b, c, &ms[impl][s])) != CLGAN_OK) {
                clgan_error_wrap(st, "measuring %s gemm", clgan_gemm_impl_str(ctx->gemm_impl));
                goto done;
            }
    }
    ctx->gemm_impl = ms[1][0] + ms[1][1] < ms[0][0] + ms[0][1] ? CLGAN_GEMM_NATIVE
                                                               : CLGAN_GEMM_CLBLAST;
    if (ctx->opts.verbose)
        fprintf(stderr, "clgan: gemm autoselect on %s: clblast %.3f + %.3f ms, native %.3f + "
                "%.3f ms -> %s\n", ctx->view.dev.name, ms[0][0], ms[0][1], ms[1][0], ms[1][1],
                clgan_gemm_impl_str(ctx->gemm_impl));
    if (path[0])
        choice_store(ctx, path, ctx->gemm_impl, ms);
done:
    if (st != CLGAN_OK)
        ctx->gemm_impl = prev;
    ctx->gemm_flops = flops;
    clgan_buf_release(&c);
    clgan_buf_release(&b);
    clgan_buf_release(&a);
    return st;
}
