/* test_random.c - the device's noise against a host reference, through the launches the
 * trainer uses (clgan_randn_fill, clgan_gather_rows; CLGAN_LAUNCH_SHAPES=gpu runs their
 * GPU shapes): randn_fill (cl/random.cl, 16 Philox counters per work-item as vectors) gives, for counter i, the four normals
 * of Box-Muller on philox4x32(i, step, stream; seed), computed here in C in double
 * precision from the same 32-bit draws. Every value must lie within 1e-6 + 2e-6 r of the
 * reference, r its Box-Muller radius: the float32 angle 2 pi u alone is off by up to
 * an ulp of 2 pi (4.8e-7), which moves r cos(angle) by up to 4.8e-7 r, and log, sqrt
 * and sincos add an ulp or two each (r < 5.9 for 24-bit draws); a wrong word, lane or
 * counter is off by O(1). gather_batch_u8 (a random batch of data rows, row r from
 * philox4x32(r, step, stream).x mod count) must match the same choice made here, to
 * the bit (with or without the fused multiply-add OpenCL may contract), in whole-row and chunked launches, for a width that is not a multiple of
 * the kernel's 16-pixel vectors. Every element below n must
 * be written and none past it (n not a multiple of 64), and different streams and
 * steps must give different numbers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clgan/gan.h"
#include "clgan/runtime.h"
#include "testutil.h"

/* Philox4x32-10 as in cl/common.h. */
static void philox(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[1] = (uint32_t)p1;
        c[3] = (uint32_t)p0;
        c[0] = n0;
        c[2] = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/* u01 of cl/common.h, in float exactly as the device rounds it (x >> 8 plus a half
 * needs 25 bits near 1). */
static double u01(uint32_t x) { return ((float)(x >> 8) + 0.5f) * (1.0f / 16777216.0f); }

/* The normals (out) and each one's Box-Muller radius (rad). */
static void reference(double *out, double *rad, int n, uint64_t seed, uint64_t step,
                      uint32_t stream)
{
    for (int i = 0; 4 * i < n; i++) {
        uint32_t c[4] = {(uint32_t)i, (uint32_t)step, (uint32_t)(step >> 32), stream};
        philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
        double ra = sqrt(-2.0 * log(u01(c[0]))), rb = sqrt(-2.0 * log(u01(c[2])));
        double aa = 6.283185307179586 * u01(c[1]), ab = 6.283185307179586 * u01(c[3]);
        double z[4] = {ra * cos(aa), ra * sin(aa), rb * cos(ab), rb * sin(ab)};
        for (int j = 0; j < 4 && 4 * i + j < n; j++) {
            out[4 * i + j] = z[j];
            rad[4 * i + j] = j < 2 ? ra : rb;
        }
    }
}

/* A data-parallel rank's slice: randn_fill_at from counter `first` and gather_rows_at
 * from row `row0` give, to the bit, the second half of the whole batch's draws. */
static void slice_check(clgan_ctx *ctx, uint64_t seed, uint64_t step)
{
    enum { HALF = 6 * 100, ROWS2 = 16, W = 12, CNT = 40 };
    float all[2 * HALF], part[HALF], rows_all[2 * ROWS2 * W], rows_part[ROWS2 * W];
    uint8_t data[CNT * W];
    for (int i = 0; i < CNT * W; i++)
        data[i] = (uint8_t)(i * 37 + 11);
    cl_mem a, p, d;
    CHECK_OK(clgan_buf_alloc(ctx, &a, sizeof all, "all"));
    CHECK_OK(clgan_buf_alloc(ctx, &p, sizeof all, "part"));
    CHECK_OK(clgan_buf_alloc(ctx, &d, sizeof data, "data"));
    CHECK_OK(clgan_buf_write(ctx, d, 0, data, sizeof data));
    CHECK_OK(clgan_randn_fill(ctx, a, 2 * HALF, seed, step, 2));
    CHECK_OK(clgan_randn_fill_at(ctx, p, HALF, seed, step, 2, HALF / 4));
    CHECK_OK(clgan_buf_read(ctx, a, 0, all, sizeof all));
    CHECK_OK(clgan_buf_read(ctx, p, 0, part, sizeof part));
    int bad = 0;
    for (int i = 0; i < HALF; i++)
        bad += part[i] != all[HALF + i];
    CHECK_OK(clgan_gather_rows(ctx, a, d, 2 * ROWS2, W, CNT, seed, step, 1));
    CHECK_OK(clgan_gather_rows_at(ctx, p, d, ROWS2, W, CNT, seed, step, 1, ROWS2));
    CHECK_OK(clgan_buf_read(ctx, a, 0, rows_all, sizeof rows_all));
    CHECK_OK(clgan_buf_read(ctx, p, 0, rows_part, sizeof rows_part));
    for (int i = 0; i < ROWS2 * W; i++)
        bad += rows_part[i] != rows_all[ROWS2 * W + i];
    printf("rank slices (randn_fill_at, gather_rows_at): %d values differ from the whole "
           "batch's\n", bad);
    CHECK(bad == 0);
    clgan_buf_release(&a), clgan_buf_release(&p), clgan_buf_release(&d);
}

static void fill(clgan_ctx *ctx, cl_mem buf, int n, uint64_t seed, uint64_t step, uint32_t stream)
{
    CHECK_OK(clgan_randn_fill(ctx, buf, n, seed, step, stream));
}

/* gather_batch_u8 against the host: rows x dim from count rows of data, in chunks of
 * `chunk` columns. */
static void gather_check(clgan_ctx *ctx, int chunk)
{
    enum { COUNT = 37, DIM = 50, ROWS = 9 };
    uint8_t data[COUNT * DIM];
    float got[ROWS * DIM], want[ROWS * DIM], want_fma[ROWS * DIM];
    const uint64_t seed = 99, step = 12;
    const uint32_t stream = 7;
    for (int i = 0; i < COUNT * DIM; i++)
        data[i] = (uint8_t)(i * 131 + i / DIM);
    for (int r = 0; r < ROWS; r++) {
        uint32_t c[4] = {(uint32_t)r, (uint32_t)step, (uint32_t)(step >> 32), stream};
        philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
        for (int j = 0; j < DIM; j++) { /* the device may contract x / 127.5 - 1 into an fma */
            float x = (float)data[(c[0] % COUNT) * DIM + j];
            want[r * DIM + j] = x * (1.0f / 127.5f) - 1.0f;
            want_fma[r * DIM + j] = fmaf(x, 1.0f / 127.5f, -1.0f);
        }
    }
    cl_mem d, out;
    CHECK_OK(clgan_buf_alloc(ctx, &d, sizeof data, "data"));
    CHECK_OK(clgan_buf_alloc(ctx, &out, sizeof got, "batch"));
    CHECK_OK(clgan_buf_write(ctx, d, 0, data, sizeof data));
    if (chunk) { /* the kernel directly, in chunks of `chunk` columns */
        size_t g[2] = {ROWS, (DIM + chunk - 1) / chunk};
        CHECK_OK(clgan_launch(ctx, CLGAN_K_gather_batch_u8, 2, g, NULL,
                              CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(d), CLGAN_ARG_INT(ROWS),
                                         CLGAN_ARG_INT(DIM), CLGAN_ARG_INT(COUNT),
                                         CLGAN_ARG_UINT((cl_uint)seed), CLGAN_ARG_UINT((cl_uint)(seed >> 32)),
                                         CLGAN_ARG_UINT((cl_uint)step),
                                         CLGAN_ARG_UINT((cl_uint)(step >> 32)), CLGAN_ARG_UINT(stream),
                                         CLGAN_ARG_INT(chunk), CLGAN_ARG_INT(0))));
    } else { /* as the trainer launches it */
        CHECK_OK(clgan_gather_rows(ctx, out, d, ROWS, DIM, COUNT, seed, step, stream));
    }
    CHECK_OK(clgan_buf_read(ctx, out, 0, got, sizeof got));
    int bad = 0;
    for (int i = 0; i < ROWS * DIM; i++)
        bad += got[i] != want[i] && got[i] != want_fma[i];
    printf("gather_batch_u8 %dx%d from %d rows, %s %d: %d values differ\n", ROWS, DIM, COUNT,
           chunk ? "chunks of" : "clgan_gather_rows, CPU shapes", chunk ? chunk : clgan_cpu_shapes(ctx), bad);
    CHECK(bad == 0);
    clgan_buf_release(&out);
    clgan_buf_release(&d);
}

int main(void)
{
    clgan_ctx *ctx;
    if (clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()}) != CLGAN_OK) {
        fprintf(stderr, "test_random: %s\n", clgan_error_msg());
        return 1;
    }
    const int n = 100003, cap = n + 64;
    const uint64_t seed = 0x123456789abcdefull, step = 0x100000007ull;
    float *got = malloc(cap * sizeof *got), *other = malloc(cap * sizeof *other);
    double *want = malloc(n * sizeof *want), *rad = malloc(n * sizeof *rad);
    cl_mem buf;
    CHECK(got && other && want && rad);
    CHECK_OK(clgan_buf_alloc(ctx, &buf, cap * sizeof(float), "noise"));
    float *sentinel = malloc(cap * sizeof *sentinel);
    for (int i = 0; i < cap; i++)
        sentinel[i] = -1234.5f;
    CHECK_OK(clgan_buf_write(ctx, buf, 0, sentinel, cap * sizeof(float)));
    fill(ctx, buf, n, seed, step, 3);
    CHECK_OK(clgan_buf_read(ctx, buf, 0, got, cap * sizeof(float)));
    reference(want, rad, n, seed, step, 3);

    double worst = 0, worst_ratio = 0, mean = 0, var = 0;
    int unwritten = 0, past = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]), r = d / (1e-6 + 2e-6 * rad[i]);
        worst = d > worst || isnan(d) ? d : worst;
        worst_ratio = r > worst_ratio || isnan(r) ? r : worst_ratio;
        unwritten += got[i] == -1234.5f;
        mean += got[i];
        var += (double)got[i] * got[i];
    }
    for (int i = n; i < cap; i++)
        past += got[i] != -1234.5f;
    mean /= n, var = var / n - mean * mean;
    printf("randn_fill n=%d: largest |device - reference| %.3g (%.2f of its tolerance), mean "
           "%.4f, variance %.4f\n", n, worst, worst_ratio, mean, var);
    CHECK(worst_ratio <= 1.0);
    CHECK(unwritten == 0);
    CHECK(past == 0);
    CHECK(fabs(mean) < 0.02 && fabs(var - 1.0) < 0.02);

    /* Another stream, another step: other numbers (all but a handful differ). */
    const uint32_t streams[2] = {4, 3};
    const uint64_t steps[2] = {step, step + 1};
    for (int k = 0; k < 2; k++) {
        fill(ctx, buf, n, seed, steps[k], streams[k]);
        CHECK_OK(clgan_buf_read(ctx, buf, 0, other, n * sizeof(float)));
        int same = 0;
        for (int i = 0; i < n; i++)
            same += other[i] == got[i];
        printf("  stream %u step %#llx: %d of %d values equal to stream 3's\n", streams[k],
               (unsigned long long)steps[k], same, n);
        CHECK(same < 10);
    }
    slice_check(ctx, seed, step);
    gather_check(ctx, 0);  /* clgan_gather_rows: the launch the trainer uses */
    gather_check(ctx, 50); /* the whole row (CPU shapes) */
    gather_check(ctx, 20); /* chunks, the last one short */
    clgan_buf_release(&buf);
    free(sentinel), free(got), free(other), free(want), free(rad);
    clgan_ctx_free(ctx);
    return tu_finish("test_random");
}
