/* bench.h - the device probes of `clgan bench` (bench_probe.c): clgan's own kernels that
 * measure what a device can do, so the bench can say what share of it training reaches. */
#ifndef CLGAN_CLI_BENCH_H
#define CLGAN_CLI_BENCH_H

#include "clgan/runtime.h"

typedef struct {
    double peak_gflops;   /* FP32 multiply-add rate (cl/probe.cl probe_fma), best of 3 */
    double bandwidth_gbs; /* copy rate, bytes read + written per second (probe_copy), best of 5 */
    double copy_mib;      /* size of each copied buffer */
} bench_probe;

/* Measures both on ctx's device (about 0.2 s; blocking). Allocates and frees its own
 * buffers. */
clgan_status bench_probe_run(clgan_ctx *ctx, bench_probe *out);

#endif
