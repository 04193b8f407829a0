/* gemm_bench.c - GFLOP/s of CLBlast against the native kernels (cl/gemm.cl) on every
 * GEMM the MLP GAN trainer issues, at batch 32 and 128. A measurement, not a test:
 * not built by CMake. Build it against the library of a CMake build and run it:
 *
 *   cmake -S . -B build && cmake --build build --target clgan_lib
 *   gcc -O2 -std=gnu11 -DCL_TARGET_OPENCL_VERSION=120 -Iinclude tools/gemm_bench.c \
 *       build/libclgan_lib.a -lOpenCL -lclblast -lm -o build/gemm_bench
 *   POCL_CACHE_DIR=/tmp/pocl-cache build/gemm_bench [device]    (device: default "cpu")
 *
 * Each figure is the best of 5 rounds of back-to-back calls (~40 ms each) with one
 * clFinish per round, after a warm-up call, as the trainer issues them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clgan/runtime.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best seconds per call of the shape under the context's current impl. */
static clgan_status bench(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                          cl_mem a, cl_mem b, cl_mem c, float beta, double *sec)
{
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    clgan_status st;
    int reps = 1;
    *sec = 1e30;
    for (int round = -2; round < 5; round++) { /* -2: warm-up, -1: sizing */
        double t0 = now_s();
        for (int r = 0; r < (round < 0 ? 1 : reps); r++)
            if ((st = clgan_gemm(ctx, ta, tb, M, N, K, 1.0f, a, lda, b, ldb, beta, c, N)) != CLGAN_OK)
                return st;
        if ((st = clgan_finish(ctx)) != CLGAN_OK)
            return st;
        double dt = now_s() - t0;
        if (round == -1)
            reps = dt >= 0.04 ? 1 : dt <= 4e-6 ? 10000 : (int)(0.04 / dt) + 1;
        else if (round >= 0 && dt / reps < *sec)
            *sec = dt / reps;
    }
    return CLGAN_OK;
}

int main(int argc, char **argv)
{
    static const size_t batches[] = {32, 128};
    static const size_t layers[][2] = {{100, 256}, {256, 512}, {512, 1024}, {1024, 784},
                                       {784, 512}, {512, 256}, {256, 1}};
    static const char *const what[] = {"Y=XW (NN)", "dX=dY W^T (NT)", "dW+=X^T dY (TN)"};
    clgan_ctx *ctx = NULL;
    cl_mem a = NULL, b = NULL, c = NULL;
    const size_t elems = 1024 * 1024; /* the largest operand: 1024 x 784 */
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = argc > 1 ? argv[1] : "cpu"});
    if (st == CLGAN_OK && (st = clgan_buf_alloc(ctx, &a, elems * 4, "A")) == CLGAN_OK &&
        (st = clgan_buf_alloc(ctx, &b, elems * 4, "B")) == CLGAN_OK)
        st = clgan_buf_alloc(ctx, &c, elems * 4, "C");
    if (st != CLGAN_OK) {
        fprintf(stderr, "gemm_bench: %s\n", clgan_error_msg());
        clgan_ctx_free(ctx);
        return 1;
    }
    printf("device: %s\nGFLOP/s, best of 5 rounds; speedup = native / clblast\n\n",
           clgan_ctx_get(ctx)->dev.name);
    printf("%5s %-10s %-16s %5s %5s %5s %9s %9s %8s\n", "batch", "layer", "product", "M", "N",
           "K", "clblast", "native", "speedup");
    for (size_t bi = 0; bi < 2; bi++) {
        double tsum[2] = {0, 0}, fsum = 0;
        for (size_t li = 0; li < sizeof layers / sizeof *layers; li++) {
            const size_t B = batches[bi], in = layers[li][0], out = layers[li][1];
            const size_t shape[3][5] = {{0, 0, B, out, in}, {0, 1, B, in, out}, {1, 0, in, out, B}};
            for (int p = 0; p < 3; p++) {
                const size_t *s = shape[p];
                const double flops = 2.0 * s[2] * s[3] * s[4];
                double sec[2];
                for (int impl = 0; impl < 2; impl++) {
                    clgan_gemm_set_impl(ctx, impl ? CLGAN_GEMM_NATIVE : CLGAN_GEMM_CLBLAST);
                    st = bench(ctx, (int)s[0], (int)s[1], s[2], s[3], s[4], a, b, c,
                               p == 2 ? 1.0f : 0.0f, &sec[impl]);
                    if (st != CLGAN_OK) {
                        fprintf(stderr, "gemm_bench: %s\n", clgan_error_msg());
                        goto done;
                    }
                    tsum[impl] += sec[impl];
                }
                fsum += flops;
                char layer[16];
                snprintf(layer, sizeof layer, "%zux%zu", in, out);
                printf("%5zu %-10s %-16s %5zu %5zu %5zu %9.1f %9.1f %7.1fx\n", B, layer, what[p],
                       s[2], s[3], s[4], flops / sec[0] * 1e-9, flops / sec[1] * 1e-9,
                       sec[0] / sec[1]);
            }
        }
        printf("%5zu %-10s %-16s %17s %9.1f %9.1f %7.1fx   (%.3f ms vs %.3f ms for all 21)\n\n",
               batches[bi], "all", "", "", fsum / tsum[0] * 1e-9, fsum / tsum[1] * 1e-9,
               tsum[0] / tsum[1], tsum[0] * 1e3, tsum[1] * 1e3);
    }
done:
    clgan_buf_release(&c);
    clgan_buf_release(&b);
    clgan_buf_release(&a);
    clgan_ctx_free(ctx);
    return st == CLGAN_OK ? 0 : 1;
}
