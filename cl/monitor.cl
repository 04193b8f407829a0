/* monitor.cl - training diagnostics measured on the device, written into the trainer's
 * metrics ring (no host sync): the L2 norm of each tensor of a flat buffer, or of the
 * difference of two flat buffers (how far an update moved the weights).
 * One work-group of MON_WG work-items per tensor; tensor i covers
 * [offsets[i], offsets[i] + counts[i]) of the buffer; fixed-order reduction. */

/* out[slot + i] = || a[seg i] - (has_b ? b[seg i] : 0) ||_2 for i < n (one group each).
 * Segments start 64-float aligned (the network's layout); each work-item reads float8
 * vectors (the CPU device does not vectorize a work-item's strided loop by itself),
 * then a scalar tail. */
__kernel __attribute__((reqd_work_group_size(MON_WG, 1, 1)))
void tensor_norms(__global float *out, __global const float *a, __global const float *b,
                  __global const int *offsets, __global const int *counts, int n, int has_b,
                  int slot)
{
    __local float s[MON_WG];
    int t = get_group_id(0), lid = get_local_id(0);
    if (t >= n) return;
    int off = offsets[t], cnt = counts[t], nv = cnt / 8;
    float8 acc8 = 0.0f;
    for (int i = lid; i < nv; i += MON_WG) {
        float8 v = vload8(i, a + off) - (has_b ? vload8(i, b + off) : (float8)(0.0f));
        acc8 += v * v;
    }
    float acc = acc8.s0 + acc8.s1 + acc8.s2 + acc8.s3 + acc8.s4 + acc8.s5 + acc8.s6 + acc8.s7;
    for (int i = 8 * nv + lid; i < cnt; i += MON_WG) {
        float v = a[off + i] - (has_b ? b[off + i] : 0.0f);
        acc += v * v;
    }
    s[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = MON_WG / 2; k > 0; k >>= 1) {
        if (lid < k) s[lid] += s[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[slot + t] = sqrt(s[0]);
}
