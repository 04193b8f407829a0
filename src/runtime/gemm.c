/* gemm.c - the one seam every matrix product goes through: row-major SGEMM, dispatched
 * to CLBlast or to our native kernels (cl/gemm.cl); the plan of the shapes setup will
 * issue and their warm-up. CLBlast prints nothing on an argument error, so the message
 * here carries the GEMM shape.
 *
 * CLBlast's indirect GEMM (the fast kernel for all but small products) pads and
 * transposes operands into temporary buffers; called plainly it creates and frees them
 * on every call. Here every call passes the context's scratch buffer instead
 * (CLBlastSgemmWithTempBuffer), sized at setup to the largest
 * CLBlastSGemmTempBufferSize of the planned shapes, so a training step allocates
 * nothing. */
#include "runtime_internal.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>

/* A planned product: its shape (leading dimensions included), CLBlast's temporary
 * bytes for it on this device, and whether a warm-up has run it. */
/* A planned product: its shape, strides and which operands start at a nonzero offset
 * (CLBlast's indirect GEMM copies an operand that does not start at 0 into its
 * temporary, so its temporary size depends on that, not on the offset's value); off:
 * the offsets it was planned with (the warm-up uses them). */
struct clgan_gemm_plan_entry {
    int ta, tb;
    size_t M, N, K, lda, ldb, ldc;
    int offs;             /* bit 0: A's offset is nonzero, bit 1: B's, bit 2: C's */
    size_t off[3];
    size_t temp;
    int warm;
};

static int offset_bits(clgan_mat A, clgan_mat B, clgan_mat C)
{
    return (A.off != 0) | (B.off != 0) << 1 | (C.off != 0) << 2;
}

static const char *const impl_names[] = {"auto", "clblast", "native"};

const char *clgan_gemm_impl_str(clgan_gemm_impl impl)
{
    return (unsigned)impl < 3 ? impl_names[impl] : "unknown";
}

void clgan_gemm_set_impl(clgan_ctx *ctx, clgan_gemm_impl impl) { ctx->gemm_impl = impl; }
clgan_gemm_impl clgan_gemm_get_impl(const clgan_ctx *ctx) { return ctx->gemm_impl; }
double clgan_gemm_flops(const clgan_ctx *ctx) { return ctx->gemm_flops; }
void clgan_gemm_flops_reset(clgan_ctx *ctx) { ctx->gemm_flops = 0.0; }
void clgan_gemm_add_flops(clgan_ctx *ctx, double flops) { ctx->gemm_flops += flops; }

static clgan_status clblast_fail(clgan_ctx *ctx, const char *what, int ta, int tb, size_t M,
                                 size_t N, size_t K, clgan_mat A, clgan_mat B, clgan_mat C, int s)
{
    return clgan_error(CLGAN_ECL, "%s(%c%c, M=%zu N=%zu K=%zu, lda=%zu ldb=%zu ldc=%zu, offsets "
                       "%zu %zu %zu) failed: %s (%d) on %s", what, ta ? 'T' : 'N', tb ? 'T' : 'N',
                       M, N, K, A.ld, B.ld, C.ld, A.off, B.off, C.off,
                       clgan_clblast_error_str(s), s, ctx->view.dev.name);
}

/* The plan entry of this exact call, added (with CLBlast's temporary size for it, which
 * is reserved in the scratch) when absent. */
static clgan_status plan_find(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                              clgan_mat A, clgan_mat B, clgan_mat C,
                              struct clgan_gemm_plan_entry **out)
{
    const size_t lda = A.ld, ldb = B.ld, ldc = C.ld;
    const int offs = offset_bits(A, B, C);
    *out = NULL;
    for (int i = 0; i < ctx->n_plans; i++) {
        struct clgan_gemm_plan_entry *e = &ctx->plans[i];
        if (e->ta == !!ta && e->tb == !!tb && e->M == M && e->N == N && e->K == K &&
            e->lda == lda && e->ldb == ldb && e->ldc == ldc && e->offs == offs) {
            *out = e;
            return CLGAN_OK;
        }
    }
    size_t temp = 0;
    cl_command_queue q = ctx->view.queue;
    CLBlastStatusCode s = CLBlastSGemmTempBufferSize(
        CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
        tb ? CLBlastTransposeYes : CLBlastTransposeNo, M, N, K, A.off, lda, B.off, ldb, C.off, ldc,
        &q, &temp);
    if (s != CLBlastSuccess)
        return clblast_fail(ctx, "CLBlastSGemmTempBufferSize", ta, tb, M, N, K, A, B, C, s);
    if (ctx->n_plans == ctx->cap_plans) {
        int cap = ctx->cap_plans ? 2 * ctx->cap_plans : 32;
        struct clgan_gemm_plan_entry *g = realloc(ctx->plans, (size_t)cap * sizeof *g);
        if (!g)
            return clgan_error(CLGAN_ENOMEM, "out of memory planning GEMM shapes");
        ctx->plans = g;
        ctx->cap_plans = cap;
    }
    struct clgan_gemm_plan_entry *e = &ctx->plans[ctx->n_plans++];
    *e = (struct clgan_gemm_plan_entry){!!ta, !!tb, M, N, K, lda, ldb, ldc, offs,
                                        {A.off, B.off, C.off}, temp, 0};
    clgan_scratch_reserve(ctx, temp);
    *out = e;
    return CLGAN_OK;
}

clgan_status clgan_gemm_plan_off(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                                 size_t a_off, size_t b_off, size_t c_off)
{
    struct clgan_gemm_plan_entry *e;
    if (M == 0 || N == 0 || K == 0 || ctx->gemm_impl == CLGAN_GEMM_NATIVE)
        return CLGAN_OK;
    return plan_find(ctx, ta, tb, M, N, K, CLGAN_MAT(NULL, a_off, ta ? M : K),
                     CLGAN_MAT(NULL, b_off, tb ? K : N), CLGAN_MAT(NULL, c_off, N), &e);
}

clgan_status clgan_gemm_plan(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K)
{
    return clgan_gemm_plan_off(ctx, ta, tb, M, N, K, 0, 0, 0);
}

int clgan_gemm_planned(const clgan_ctx *ctx, int *warmed)
{
    int w = 0;
    for (int i = 0; i < ctx->n_plans; i++)
        w += ctx->plans[i].warm;
    if (warmed)
        *warmed = w;
    return ctx->n_plans;
}

/* Elements spanned by a row-major (rows, cols) view with row stride ld. */
static size_t span(size_t rows, size_t cols, size_t ld)
{
    return rows && cols ? (rows - 1) * ld + cols : 0;
}

clgan_status clgan_ctx_warmup(clgan_ctx *ctx)
{
    cl_mem a = NULL, b = NULL, c = NULL, scratch;
    size_t na = 1, nb = 1, nc = 1;
    clgan_status st = clgan_scratch_get(ctx, 0, &scratch);
    ctx->scratch_committed = 1;
    if (st != CLGAN_OK || ctx->gemm_impl == CLGAN_GEMM_NATIVE)
        return st;
    for (int i = 0; i < ctx->n_plans; i++) {
        const struct clgan_gemm_plan_entry *e = &ctx->plans[i];
        if (e->warm)
            continue;
        size_t sa = e->off[0] + span(e->ta ? e->K : e->M, e->ta ? e->M : e->K, e->lda);
        size_t sb = e->off[1] + span(e->tb ? e->N : e->K, e->tb ? e->K : e->N, e->ldb);
        size_t sc = e->off[2] + span(e->M, e->N, e->ldc);
        na = sa > na ? sa : na;
        nb = sb > nb ? sb : nb;
        nc = sc > nc ? sc : nc;
    }
    const double flops = ctx->gemm_flops;
    if ((st = clgan_buf_alloc(ctx, &a, na * sizeof(float), "gemm warm-up A")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &b, nb * sizeof(float), "gemm warm-up B")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &c, nc * sizeof(float), "gemm warm-up C")) != CLGAN_OK)
        goto done;
    /* Entries may be added while warming (none are: every shape is planned), so index. */
    for (int i = 0; i < ctx->n_plans && st == CLGAN_OK; i++) {
        struct clgan_gemm_plan_entry e = ctx->plans[i];
        if (e.warm)
            continue;
        st = clgan_gemm_mat(ctx, e.ta, e.tb, e.M, e.N, e.K, 1.0f, CLGAN_MAT(a, e.off[0], e.lda),
                            CLGAN_MAT(b, e.off[1], e.ldb), 0.0f, CLGAN_MAT(c, e.off[2], e.ldc));
        ctx->plans[i].warm = st == CLGAN_OK;
    }
    if (st == CLGAN_OK)
        st = clgan_finish(ctx);
done:
    ctx->gemm_flops = flops;
    clgan_buf_release(&c);
    clgan_buf_release(&b);
    clgan_buf_release(&a);
    return st;
}

clgan_status clgan_gemm_mat(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                            float alpha, clgan_mat A, clgan_mat B, float beta, clgan_mat C)
{
    struct clgan_gemm_plan_entry *e;
    cl_mem temp = NULL;
    clgan_status st;
    if (M == 0 || N == 0)
        return CLGAN_OK;
    ctx->gemm_flops += 2.0 * (double)M * (double)N * (double)K;
    if (ctx->gemm_impl == CLGAN_GEMM_NATIVE)
        return clgan_gemm_native(ctx, ta, tb, M, N, K, alpha, A, B, beta, C, NULL, 0, 0.0f);
    if ((st = plan_find(ctx, ta, tb, M, N, K, A, B, C, &e)) != CLGAN_OK ||
        (e->temp && (st = clgan_scratch_get(ctx, e->temp, &temp)) != CLGAN_OK))
        return st;
    cl_command_queue q = ctx->view.queue;
    cl_event ev = NULL;
    CLBlastStatusCode s = CLBlastSgemmWithTempBuffer(
        CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
        tb ? CLBlastTransposeYes : CLBlastTransposeNo, M, N, K, alpha, A.mem, A.off, A.ld, B.mem,
        B.off, B.ld, beta, C.mem, C.off, C.ld, &q, ctx->opts.profile ? &ev : NULL, temp);
    if (ev)
        clgan_profile_add(ctx, -1, ev);
    if (s == CLBlastSuccess && ctx->opts.sync)
        s = (CLBlastStatusCode)clFinish(q);
    if (s != CLBlastSuccess)
        return clblast_fail(ctx, "CLBlastSgemm", ta, tb, M, N, K, A, B, C, (int)s);
    return CLGAN_OK;
}

clgan_status clgan_gemm(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                        float alpha, cl_mem A, size_t lda, cl_mem B, size_t ldb,
                        float beta, cl_mem C, size_t ldc)
{
    return clgan_gemm_mat(ctx, ta, tb, M, N, K, alpha, CLGAN_MAT(A, 0, lda), CLGAN_MAT(B, 0, ldb),
                          beta, CLGAN_MAT(C, 0, ldc));
}

clgan_status clgan_gemm_bias_act_mat(clgan_ctx *ctx, size_t M, size_t N, size_t K, clgan_mat A,
                                     clgan_mat B, clgan_mat C, cl_mem bias, int act, float slope,
                                     int *fused)
{
    *fused = 0;
    /* N == 1: the native product is faster in the dot form, which has no epilogue
     * (gemm_native.c), than the fused broadcast form is. */
    if (ctx->gemm_impl != CLGAN_GEMM_NATIVE || !bias || M == 0 || N <= 1)
        return clgan_gemm_mat(ctx, 0, 0, M, N, K, 1.0f, A, B, 0.0f, C);
    ctx->gemm_flops += 2.0 * (double)M * (double)N * (double)K;
    *fused = 1;
    return clgan_gemm_native(ctx, 0, 0, M, N, K, 1.0f, A, B, 0.0f, C, bias, act, slope);
}

clgan_status clgan_gemm_bias_act(clgan_ctx *ctx, size_t M, size_t N, size_t K, cl_mem A,
                                 size_t lda, cl_mem B, size_t ldb, cl_mem C, size_t ldc,
                                 cl_mem bias, int act, float slope, int *fused)
{
    return clgan_gemm_bias_act_mat(ctx, M, N, K, CLGAN_MAT(A, 0, lda), CLGAN_MAT(B, 0, ldb),
                                   CLGAN_MAT(C, 0, ldc), bias, act, slope, fused);
}
