/* random.cl - device-side random numbers from Philox4x32-10 (common.h), so noise and
 * batch indices never cross the bus and a seed reproduces a run on any device.
 * Counter layout: (element group, step low, step high, stream); key = the 64-bit seed. */

/* Four standard normals from one Philox draw (Box-Muller on two pairs), as one vector
 * computation. */
inline float4 normal4(uint4 r)
{
    float2 rad = sqrt(-2.0f * log((float2)(u01(r.x), u01(r.z))));
    float2 ang = 6.283185307179586f * (float2)(u01(r.y), u01(r.w));
    float2 c, sn = sincos(ang, &c);
    return (float4)(rad.x * c.x, rad.x * sn.x, rad.y * c.y, rad.y * sn.y);
}

/* out[0..n) ~ N(0, 1) by Box-Muller; work-item i writes elements 4i..4i+3. */
__kernel void randn_fill(__global float *out, int n, uint seed_lo, uint seed_hi, uint step_lo,
                         uint step_hi, uint stream)
{
    int i = get_global_id(0);
    if (4 * i >= n) return;
    float4 z = normal4(philox4x32((uint4)((uint)i, step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi)));
    if (4 * i + 3 < n) {
        vstore4(z, 0, out + 4 * i);
    } else {
        float t[4] = {z.x, z.y, z.z, z.w};
        for (int k = 0; 4 * i + k < n; k++) out[4 * i + k] = t[k];
    }
}

/* A random batch of rows of a uint8 data set, scaled to [-1, 1]:
 * out(rows, dim)[r, c] = data[idx_r * dim + c] / 127.5 - 1, idx_r uniform in [0, count).
 * 2-D: dimension 0 over rows, dimension 1 over chunks of GATHER_CHUNK columns; each
 * work-item derives its row's index from the counter once. */
#ifndef GATHER_CHUNK
#define GATHER_CHUNK 64
#endif
__kernel void gather_batch_u8(__global float *out, __global const uchar *data, int rows, int dim,
                              int count, uint seed_lo, uint seed_hi, uint step_lo, uint step_hi,
                              uint stream)
{
    int r = get_global_id(0), c0 = get_global_id(1) * GATHER_CHUNK;
    if (r >= rows || c0 >= dim) return;
    uint4 h = philox4x32((uint4)((uint)r, step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi));
    __global const uchar *src = data + (size_t)(h.x % (uint)count) * dim;
    int c1 = min(c0 + GATHER_CHUNK, dim);
    for (int c = c0; c < c1; c++)
        out[r * dim + c] = (float)src[c] * (1.0f / 127.5f) - 1.0f;
}

/* Instance noise: y = x + sigma * N(0, 1), elementwise; work-item i writes 4i..4i+3. */
__kernel void add_noise(__global float *y, __global const float *x, int n, float sigma,
                        uint seed_lo, uint seed_hi, uint step_lo, uint step_hi, uint stream)
{
    int i = get_global_id(0);
    if (4 * i >= n) return;
    float4 z = normal4(philox4x32((uint4)((uint)i, step_lo, step_hi, stream), (uint2)(seed_lo, seed_hi)));
    float t[4] = {z.x, z.y, z.z, z.w};
    for (int k = 0; k < 4 && 4 * i + k < n; k++) y[4 * i + k] = x[4 * i + k] + sigma * t[k];
}
