/* gemm.c - the one seam every matrix product goes through: row-major SGEMM, dispatched
 * to CLBlast or to our native kernels (cl/gemm.cl). CLBlast prints nothing on an
 * argument error, so the message here carries the GEMM shape. */
#include "runtime_internal.h"

#include <clblast_c.h>
#include <stdio.h>

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

clgan_status clgan_gemm_mat(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                            float alpha, clgan_mat A, clgan_mat B, float beta, clgan_mat C)
{
    if (M == 0 || N == 0)
        return CLGAN_OK;
    ctx->gemm_flops += 2.0 * (double)M * (double)N * (double)K;
    if (ctx->gemm_impl == CLGAN_GEMM_NATIVE)
        return clgan_gemm_native(ctx, ta, tb, M, N, K, alpha, A, B, beta, C, NULL, 0, 0.0f);
    cl_command_queue q = ctx->view.queue;
    cl_event ev = NULL;
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor,
                                       ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                       tb ? CLBlastTransposeYes : CLBlastTransposeNo, M, N, K,
                                       alpha, A.mem, A.off, A.ld, B.mem, B.off, B.ld, beta, C.mem,
                                       C.off, C.ld, &q, ctx->opts.profile ? &ev : NULL);
    if (ev)
        clgan_profile_add(ctx, -1, ev);
    if (s == CLBlastSuccess && ctx->opts.sync)
        s = (CLBlastStatusCode)clFinish(q);
    if (s != CLBlastSuccess) {
        char call[200];
        snprintf(call, sizeof call, "CLBlastSgemm(%c%c, M=%zu N=%zu K=%zu, lda=%zu ldb=%zu ldc=%zu, "
                 "offsets %zu %zu %zu)", ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, A.ld, B.ld, C.ld,
                 A.off, B.off, C.off);
        return clgan_error(CLGAN_ECL, "%s failed: %s (%d) on %s", call,
                           clgan_clblast_error_str((int)s), (int)s, ctx->view.dev.name);
    }
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
