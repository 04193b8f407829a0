/* specnorm.cl - spectral normalization (Miyato et al. 2018) of a kernel matrix M (R, F),
 * row-major (element (r, f) at r*F + f), as torch.nn.utils.spectral_norm computes it with
 * one power iteration; host: src/nn/specnorm.c. PyTorch's matrix is M^T (it flattens
 * the weight to (out, -1)); its u (F) and v (R) are ours:
 *   v = normalize(M u),  u = normalize(M^T v),  sigma = u . (M^T v),  W_sn = M / sigma,
 * normalize(a) = a / max(||a||, eps). Each kernel is ONE work-group of SN_WG work-items
 * (so the passes can follow one another with barriers in a single launch): work-item lid
 * takes rows (or columns, or elements) lid, lid + SN_WG, ... and partial sums meet in a
 * tree in local memory, a fixed order (deterministic on a device). */

/* The sum over the work-group of each work-item's a (every work-item gets it). */
static inline float sn_group_sum(__local float *red, float a)
{
    const int lid = get_local_id(0);
    barrier(CLK_LOCAL_MEM_FENCE); /* an earlier call's total has been read */
    red[lid] = a;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = SN_WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return red[0];
}

/* When iterate: one power iteration updating v and u in place. Then sigma (into
 * sigma[0]) from u and v as they are, and wsn = w / sigma. */
__kernel __attribute__((reqd_work_group_size(SN_WG, 1, 1)))
void sn_power(__global float *wsn, __global float *sigma, __global float *u, __global float *v,
              __global const float *w, int R, int F, int iterate, float eps)
{
    __local float red[SN_WG];
    const int lid = get_local_id(0);
    float part = 0.0f; /* this work-item's share of u . (M^T v) */
    if (iterate) {
        float ss = 0.0f;
        for (int r = lid; r < R; r += SN_WG) {
            float t = 0.0f;
            for (int f = 0; f < F; f++) t += w[(size_t)r * F + f] * u[f];
            v[r] = t;
            ss += t * t;
        }
        float inv = 1.0f / fmax(sqrt(sn_group_sum(red, ss)), eps);
        for (int r = lid; r < R; r += SN_WG) v[r] *= inv;
        barrier(CLK_GLOBAL_MEM_FENCE); /* all of v is written before any column reads it */
        ss = 0.0f;
        for (int f = lid; f < F; f += SN_WG) {
            float t = 0.0f;
            for (int r = 0; r < R; r++) t += w[(size_t)r * F + f] * v[r];
            u[f] = t; /* M^T v, normalized below */
            ss += t * t;
        }
        inv = 1.0f / fmax(sqrt(sn_group_sum(red, ss)), eps);
        for (int f = lid; f < F; f += SN_WG) {
            const float t = u[f];
            u[f] = t * inv;
            part += u[f] * t;
        }
    } else {
        for (int f = lid; f < F; f += SN_WG) {
            float t = 0.0f;
            for (int r = 0; r < R; r++) t += w[(size_t)r * F + f] * v[r];
            part += u[f] * t;
        }
    }
    const float s = sn_group_sum(red, part);
    const size_t n = (size_t)R * F;
    for (size_t i = lid; i < n; i += SN_WG) wsn[i] = w[i] / s;
    if (lid == 0) sigma[0] = s;
}

/* The gradient through W_sn = M / sigma(M), u and v constant (d sigma / dM = v u^T):
 *   dM = (G - <G, W_sn> v u^T) / sigma,   G = dL/dW_sn (R, F),
 * added into dw (mode 1) or written over it (mode 2). */
__kernel __attribute__((reqd_work_group_size(SN_WG, 1, 1)))
void sn_grad(__global float *dw, __global const float *g, __global const float *wsn,
             __global const float *u, __global const float *v, __global const float *sigma,
             int R, int F, int mode)
{
    __local float red[SN_WG];
    const int lid = get_local_id(0);
    const size_t n = (size_t)R * F;
    float part = 0.0f;
    for (size_t i = lid; i < n; i += SN_WG) part += g[i] * wsn[i];
    const float c = sn_group_sum(red, part), s = sigma[0];
    for (size_t i = lid; i < n; i += SN_WG) {
        const int r = (int)(i / (size_t)F), f = (int)(i % (size_t)F);
        const float d = (g[i] - c * v[r] * u[f]) / s;
        dw[i] = mode == 1 ? dw[i] + d : d;
    }
}
