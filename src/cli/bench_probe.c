/* bench_probe.c - `clgan bench`'s device probes (cl/probe.cl): the FP32 multiply-add peak
 * and the copy bandwidth of the device, measured with clgan's own kernels. Knows nothing
 * about training; cmd_bench.c relates the two to it. */
#include "bench.h"

#include <limits.h>

#include "common/clock.h"

/* Seconds of one launch of probe_fma with `iters` iterations (queue finished around it). */
static clgan_status time_fma(clgan_ctx *ctx, cl_mem out, size_t global, size_t local, int iters,
                             double *s)
{
    clgan_status st;
    double t0 = clgan_now_s();
    if ((st = clgan_launch(ctx, CLGAN_K_probe_fma, 1, &global, &local,
                           CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_F32(0.999f),
                                      CLGAN_ARG_F32(0.001f), CLGAN_ARG_INT(iters)))) != CLGAN_OK ||
        (st = clgan_finish(ctx)) != CLGAN_OK)
        return st;
    *s = clgan_now_s() - t0;
    return CLGAN_OK;
}

clgan_status bench_probe_run(clgan_ctx *ctx, bench_probe *out)
{
    const clgan_device_info *d = &clgan_ctx_get(ctx)->dev;
    cl_mem o = NULL, a = NULL, b = NULL;
    clgan_status st;
    *out = (bench_probe){0};
    /* Enough work-items to fill every compute unit many times over. */
    size_t global = (size_t)(d->compute_units ? d->compute_units : 1) * 4096;
    size_t local = clgan_local_size(ctx, CLGAN_K_probe_fma, 256);
    global = (global + local - 1) / local * local;
    int iters = 16;
    double s = 0, best = 1e30;
    if ((st = clgan_buf_alloc(ctx, &o, global * sizeof(float), "fma probe")) != CLGAN_OK)
        goto done;
    /* Grow the loop until one launch takes 50 ms (launch and thread start-up then below ~1%). */
    while ((st = time_fma(ctx, o, global, local, iters, &s)) == CLGAN_OK && s < 0.05 &&
           iters < (1 << 24))
        iters *= s < 0.002 ? 8 : 2;
    for (int r = 0; r < 3 && st == CLGAN_OK; r++)
        if ((st = time_fma(ctx, o, global, local, iters, &s)) == CLGAN_OK && s < best)
            best = s;
    if (st != CLGAN_OK)
        goto done;
    out->peak_gflops = (double)global * iters * 512.0 / best * 1e-9;

    /* Copy: big enough to leave every cache (64 MiB on CPU devices, 256 MiB on others). */
    size_t bytes = (d->type & CL_DEVICE_TYPE_CPU) && !(d->type & CL_DEVICE_TYPE_GPU) ? 64u << 20
                                                                                    : 256u << 20;
    if (d->max_alloc && bytes > d->max_alloc / 2)
        bytes = (size_t)(d->max_alloc / 2);
    if (d->global_mem && bytes > d->global_mem / 8)
        bytes = (size_t)(d->global_mem / 8);
    bytes = bytes / 16 * 16;
    size_t n4 = bytes / 16, lc = clgan_local_size(ctx, CLGAN_K_probe_copy, 256);
    if (n4 == 0 || n4 > INT_MAX) {
        st = clgan_error(CLGAN_EINVAL, "copy probe of %zu bytes", bytes);
        goto done;
    }
    if ((st = clgan_buf_alloc(ctx, &a, bytes, "copy probe source")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &b, bytes, "copy probe destination")) != CLGAN_OK)
        goto done;
    best = 1e30;
    for (int r = 0; r < 6 && st == CLGAN_OK; r++) { /* the first is a warm-up */
        double t0 = clgan_now_s();
        if ((st = clgan_launch(ctx, CLGAN_K_probe_copy, 1, &n4, &lc,
                               CLGAN_ARGS(CLGAN_ARG_MEM(b), CLGAN_ARG_MEM(a),
                                          CLGAN_ARG_INT((int)n4)))) == CLGAN_OK &&
            (st = clgan_finish(ctx)) == CLGAN_OK) {
            double dt = clgan_now_s() - t0;
            if (r > 0 && dt < best)
                best = dt;
        }
    }
    if (st == CLGAN_OK) {
        out->bandwidth_gbs = 2.0 * (double)bytes / best * 1e-9;
        out->copy_mib = (double)bytes / (1 << 20);
    }
done:
    clgan_buf_release(&b);
    clgan_buf_release(&a);
    clgan_buf_release(&o);
    return st;
}
