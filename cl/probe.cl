/* probe.cl - device probes for `clgan bench`: the FP32 multiply-add rate (independent
 * chains of mads per work-item, nothing but arithmetic) and the copy bandwidth (float4
 * loads and stores, every byte read once and written once). Host: src/cli/bench_probe.c. */

/* Eight independent float8 chains x = fma(x, a, b), 32 float8 fmas per loop iteration
 * (512 flops: a multiply-add counts two), `iters` iterations. out[gid] depends on every
 * chain, so the compiler can drop none; a and b keep the values bounded (|a| < 1).
 * fma(), not mad(): PoCL lowers mad() to a multiply and an add (half the rate: 114 vs
 * 193 GFLOP/s on a 2-core AVX2 machine, whose FMA peak a C loop of intrinsics also
 * measures at 196); float8, not float4: PoCL cannot vectorize across work-items around
 * the inner loop, so each work-item's vectors must fill a 256-bit register (float4: 56). */
__kernel void probe_fma(__global float *out, float a, float b, int iters)
{
    const float s = (float)get_global_id(0) * 1e-7f;
    float8 x0 = s, x1 = s + 0.1f, x2 = s + 0.2f, x3 = s + 0.3f;
    float8 x4 = s + 0.4f, x5 = s + 0.5f, x6 = s + 0.6f, x7 = s + 0.7f;
    for (int i = 0; i < iters; i++) {
#pragma unroll
        for (int u = 0; u < 4; u++) {
            x0 = fma(x0, a, b); x1 = fma(x1, a, b); x2 = fma(x2, a, b); x3 = fma(x3, a, b);
            x4 = fma(x4, a, b); x5 = fma(x5, a, b); x6 = fma(x6, a, b); x7 = fma(x7, a, b);
        }
    }
    float8 t = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
    float4 h = t.lo + t.hi;
    out[get_global_id(0)] = (h.x + h.y) + (h.z + h.w);
}

/* dst[i] = src[i], n float4s. 1-D over n. */
__kernel void probe_copy(__global float4 *dst, __global const float4 *src, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    dst[i] = src[i];
}
