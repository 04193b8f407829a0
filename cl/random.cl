/* random.cl - device-side random numbers from Philox4x32-10 (common.h), so noise and
 * batch indices never cross the bus and a seed reproduces a run on any device.
 * Counter layout: (element group, step low, step high, stream); key = the 64-bit seed.
 * `first` / `row0`: the counter of the first element group / row, so a data-parallel rank
 * draws its slice of the global batch's stream (0 on one rank). */

/* Four standard normals from one Philox draw (Box-Muller on two pairs), as one vector
 * computation. sin and cos, here and in randn_fill, rather than sincos: oclgrind 21.10's
 * uninitialized-value check stops with a fatal error on a vector sincos's private
 * output pointer ("Work item needed to access private memory"); both are within an ulp
 * or two of the exact values, as test_random's bound allows. */
static inline float4 normal4(uint4 r)
{
    float2 rad = sqrt(-2.0f * log((float2)(u01(r.x), u01(r.z))));
    float2 ang = 6.283185307179586f * (float2)(u01(r.y), u01(r.w));
    float2 c = cos(ang), sn = sin(ang);
    return (float4)(rad.x * c.x, rad.x * sn.x, rad.y * c.y, rad.y * sn.y);
}

/* Philox4x32-10 of common.h on 16 counters at once, one lane each (words c0..c3 of the
 * counters as four vectors): the same numbers as philox4x32 lane by lane. */
static inline void philox4x32_16(uint16 *c0, uint16 *c1, uint16 *c2, uint16 *c3, uint2 k)
{
    for (int r = 0; r < 10; r++) {
        uint16 hi0 = mul_hi((uint16)(0xD2511F53u), *c0), lo0 = 0xD2511F53u * *c0;
        uint16 hi1 = mul_hi((uint16)(0xCD9E8D57u), *c2), lo1 = 0xCD9E8D57u * *c2;
        *c0 = hi1 ^ *c1 ^ k.x;
        *c1 = lo1;
        *c2 = hi0 ^ *c3 ^ k.y;
        *c3 = lo0;
        k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
    }
}

/* u01 of common.h per lane. */
static inline float16 u01_16(uint16 x) { return (convert_float16(x >> 8) + 0.5f) * (1.0f / 16777216.0f); }

/* out[0..n) ~ N(0, 1) by Box-Muller: counter i gives elements 4i..4i+3, exactly as
 * normal4(philox4x32(i, ...)) would. Work-item w computes counters 16w..16w+15 as
 * 16-lane vectors (the CPU compilers do not vectorize the one-counter form across
 * work-items: on PoCL it ran scalar math-library calls, 0.05 ms for batch 32's 3200
 * normals). */
__kernel void randn_fill(__global float *out, int n, uint seed_lo, uint seed_hi, uint step_lo,
                         uint step_hi, uint stream, uint first)
{
    const int i0 = 16 * get_global_id(0);
    if (4 * i0 >= n) return;
    uint16 c0 = (uint16)((uint)i0 + first) + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint16 c1 = (uint16)(step_lo), c2 = (uint16)(step_hi), c3 = (uint16)(stream);
    philox4x32_16(&c0, &c1, &c2, &c3, (uint2)(seed_lo, seed_hi));
    float16 rad_a = sqrt(-2.0f * log(u01_16(c0))), rad_b = sqrt(-2.0f * log(u01_16(c2)));
    float16 ang_a = 6.283185307179586f * u01_16(c1), ang_b = 6.283185307179586f * u01_16(c3);
    float16 cos_a = cos(ang_a), sin_a = sin(ang_a), cos_b = cos(ang_b), sin_b = sin(ang_b);
    float z[4][16];
    vstore16(rad_a * cos_a, 0, z[0]);
    vstore16(rad_a * sin_a, 0, z[1]);
    vstore16(rad_b * cos_b, 0, z[2]);
    vstore16(rad_b * sin_b, 0, z[3]);
    for (int l = 0; l < 16; l++)
        for (int j = 0; j < 4; j++) {
            const int e = 4 * (i0 + l) + j;
            if (e < n) out[e] = z[j][l];
        }
}

/* The GPU shape of randn_fill: work-item i computes counter i alone (elements 4i..4i+3,
 * the numbers randn_fill's lane for counter i gives) and stores them as one float4, so
 * neighbouring work-items write neighbouring 16 bytes (coalesced); the tail masks. */
__kernel void randn_fill4(__global float *out, int n, uint seed_lo, uint seed_hi, uint step_lo,
                          uint step_hi, uint stream, uint first)
{
    const int i = get_global_id(0);
    if (4 * i >= n) return;
    float4 z = normal4(philox4x32((uint4)((uint)i + first, step_lo, step_hi, stream),
                                  (uint2)(seed_lo, seed_hi)));
    if (4 * i + 4 <= n) {
        vstore4(z, i, out);
        return;
    }
    float t[4] = {z.x, z.y, z.z, z.w};
    for (int k = 0; 4 * i + k < n; k++) out[4 * i + k] = t[k];
}

/* A random batch of rows of a uint8 data set, scaled to [-1, 1]:
 * out(rows, dim)[r, c] = data[idx_r * dim + c] / 127.5 - 1, idx_r uniform in [0, count).
 * 2-D: dimension 0 over rows, dimension 1 over chunks of `chunk` columns; each
 * work-item derives its row's index from the counter once. The CPU shapes take the
 * whole row (chunk = dim: one Philox draw and one task per row); GPU shapes use
 * gather_batch_u8_px below. */
__kernel void gather_batch_u8(__global float *out, __global const uchar *data, int rows, int dim,
                              int count, uint seed_lo, uint seed_hi, uint step_lo, uint step_hi,
                              uint stream, int chunk, int row0)
{
    int r = get_global_id(0), c0 = get_global_id(1) * chunk;
    if (r >= rows || c0 >= dim) return;
    uint4 h = philox4x32((uint4)((uint)(r + row0), step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi));
    __global const uchar *src = data + (size_t)(h.x % (uint)count) * dim;
    int c1 = min(c0 + chunk, dim), c = c0;
    __global float *dst = out + r * dim;
    for (; c + 16 <= c1; c += 16) /* 16 pixels per vector, then the row's tail */
        vstore16(convert_float16(vload16(0, src + c)) * (1.0f / 127.5f) - 1.0f, 0, dst + c);
    for (; c < c1; c++)
        dst[c] = (float)src[c] * (1.0f / 127.5f) - 1.0f;
}

/* The GPU shape of gather_batch_u8 (the same rows, the same values): 2-D, dimension 0
 * over 4-pixel groups of a row, so neighbouring work-items store neighbouring float4s
 * (coalesced), dimension 1 over rows; each work-item draws its row's index itself. */
__kernel void gather_batch_u8_px(__global float *out, __global const uchar *data, int rows,
                                 int dim, int count, uint seed_lo, uint seed_hi, uint step_lo,
                                 uint step_hi, uint stream, int row0)
{
    int c = 4 * get_global_id(0), r = get_global_id(1);
    if (r >= rows || c >= dim) return;
    uint4 h = philox4x32((uint4)((uint)(r + row0), step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi));
    __global const uchar *src = data + (size_t)(h.x % (uint)count) * dim;
    __global float *dst = out + (size_t)r * dim;
    if (c + 4 <= dim) {
        vstore4(convert_float4(vload4(0, src + c)) * (1.0f / 127.5f) - 1.0f, 0, dst + c);
        return;
    }
    for (; c < dim; c++)
        dst[c] = (float)src[c] * (1.0f / 127.5f) - 1.0f;
}

/* Instance noise: y = x + sigma * N(0, 1), elementwise; work-item i writes 4i..4i+3. */
__kernel void add_noise(__global float *y, __global const float *x, int n, float sigma,
                        uint seed_lo, uint seed_hi, uint step_lo, uint step_hi, uint stream,
                        uint first)
{
    int i = get_global_id(0);
    if (4 * i >= n) return;
    float4 z = normal4(philox4x32((uint4)((uint)i + first, step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi)));
    float t[4] = {z.x, z.y, z.z, z.w};
    for (int k = 0; k < 4 && 4 * i + k < n; k++) y[4 * i + k] = x[4 * i + k] + sigma * t[k];
}
