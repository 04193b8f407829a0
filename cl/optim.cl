/* optim.cl - optimizer steps over a network's whole flat parameter buffer p (n) and
 * gradient buffer g (n), and WGAN weight clipping. Host: src/optim/optim.c.
 *
 * One step = opt_update_<rule> alone, or, when the global norm is needed (norm
 * clipping or norm metrics), opt_sumsq_partial -> opt_norm_finish -> opt_update_<rule>.
 * e_i = g_i + l2 p_i is the gradient after the coupled L2 term; clip(e) its value clip.
 *   opt_sumsq_partial  G groups of OPT_WG work-items over float8 vectors (vload8: any
 *                      float alignment). Group j owns vectors [j*block8, (j+1)*block8)
 *                      of the n/8 whole ones and its work-items stride through them by
 *                      OPT_WG (coalesced on GPUs, cache-resident per group on CPUs);
 *                      group 0 also takes the n%8 tail. Writes sum(e^2), sum(clip(e)^2)
 *                      of its part to partial[2j], partial[2j+1].
 *   opt_norm_finish    one group of OPT_WG: adds the G pairs in a fixed tree order (same
 *                      input, same bits), writes scal[0] = norm-clip scale
 *                      min(1, clip_norm / (||clip(e)|| + 1e-6)) (1 when clip_norm = 0),
 *                      scal[1] = norm_before = ||e||, scal[2] = norm_after =
 *                      scale ||clip(e)||, and, when asked, the two norms to
 *                      metrics[slot], metrics[slot+1].
 *   opt_update_<rule>  float16 vectors, a run of `per` of them per work-item (work-item
 *                      0 also masks the n%16 tail): e' = clip(e) * scale, the rule, then
 *                      p = p keep - update with keep = 1 - lr wd (decoupled decay on the
 *                      pre-update p, as torch.optim.AdamW).
 * Rules (host scalars step, a, b, eps_hat carry the per-rule constants):
 *   sgd       update = step e'                                   (step = lr)
 *   momentum  (a = mu) b = a b + e'; update = step (nesterov ? e' + a b : b)
 *   adam      (a = b1, b = b2) m = a m + (1-a) e'; v = b v + (1-b) e'^2;
 *             update = step m / (sqrt(v) + eps_hat), step = lr sqrt(1-b2^t)/(1-b1^t),
 *             eps_hat = eps (Keras) or eps sqrt(1-b2^t) (PyTorch)
 *   rmsprop   (a = alpha) v = a v + (1-a) e'^2; update = step e' / (sqrt(v) + eps_hat)
 * State: s0 = momentum buffer / Adam m / RMSprop v; s1 = Adam v (unused ones are never
 * touched). The Adam arithmetic is the original adam_step's, expression for expression
 * (bit-identical results on PoCL).
 * The four update kernels are one body (OPT_RULE_BODY) instantiated per rule by
 * OPT_UPDATE_KERNEL. Why not one kernel with a run-time rule, or one element per
 * work-item: on PoCL both came out slower, the first scalar (a rule switch with stores
 * to different buffers defeats its work-item-loop vectorizer: 3-6x), the second with
 * the uniform scal[0] load turned into a gather (+35%). Explicit vectors need no
 * vectorizer and amortize the scale load.
 */

#define OPT_RULE_SGD 0
#define OPT_RULE_MOMENTUM 1
#define OPT_RULE_ADAM 2
#define OPT_RULE_RMSPROP 3

/* The value clip (cv = 0: off). */
static inline float opt_clip(float e, float cv) { return cv > 0.0f ? clamp(e, -cv, cv) : e; }

/* Tree sum of two OPT_WG-long local arrays into element 0 (fixed order). */
static inline void opt_local_sum2(__local float *a, __local float *b, int lid)
{
    for (int s = OPT_WG / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < s) {
            a[lid] += a[lid + s];
            b[lid] += b[lid + s];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

__kernel __attribute__((reqd_work_group_size(OPT_WG, 1, 1)))
void opt_sumsq_partial(__global float *partial, __global const float *g,
                       __global const float *p, float l2, float cv, int n, int block8)
{
    __local float s_raw[OPT_WG], s_clip[OPT_WG];
    int lid = get_local_id(0), grp = get_group_id(0), n8 = n / 8;
    int end = min(n8, (grp + 1) * block8);
    float8 raw8 = 0.0f, clip8 = 0.0f;
    for (int i = grp * block8 + lid; i < end; i += OPT_WG) {
        float8 e = vload8(i, g);
        if (l2 != 0.0f) e += l2 * vload8(i, p);
        float8 c = cv > 0.0f ? clamp(e, -cv, cv) : e;
        raw8 += e * e;
        clip8 += c * c;
    }
    float4 r4 = raw8.lo + raw8.hi, c4 = clip8.lo + clip8.hi;
    float raw = (r4.x + r4.y) + (r4.z + r4.w), clip = (c4.x + c4.y) + (c4.z + c4.w);
    if (grp == 0 && lid < n - 8 * n8) {
        int i = 8 * n8 + lid;
        float e = l2 != 0.0f ? g[i] + l2 * p[i] : g[i], c = opt_clip(e, cv);
        raw += e * e;
        clip += c * c;
    }
    s_raw[lid] = raw;
    s_clip[lid] = clip;
    opt_local_sum2(s_raw, s_clip, lid);
    if (lid == 0) {
        partial[2 * grp] = s_raw[0];
        partial[2 * grp + 1] = s_clip[0];
    }
}

__kernel __attribute__((reqd_work_group_size(OPT_WG, 1, 1)))
void opt_norm_finish(__global float *scal, __global float *metrics,
                     __global const float *partial, float clip_norm, int use_metrics,
                     int slot, int groups)
{
    __local float s_raw[OPT_WG], s_clip[OPT_WG];
    int lid = get_local_id(0);
    float raw = 0.0f, clip = 0.0f;
    for (int j = lid; j < groups; j += OPT_WG) {
        raw += partial[2 * j];
        clip += partial[2 * j + 1];
    }
    s_raw[lid] = raw;
    s_clip[lid] = clip;
    opt_local_sum2(s_raw, s_clip, lid);
    if (lid == 0) {
        float before = sqrt(s_raw[0]), clipped = sqrt(s_clip[0]);
        float scale = clip_norm > 0.0f ? fmin(1.0f, clip_norm / (clipped + 1e-6f)) : 1.0f;
        scal[0] = scale;
        scal[1] = before;
        scal[2] = clipped * scale;
        if (use_metrics) {
            metrics[slot] = before;
            metrics[slot + 1] = clipped * scale;
        }
    }
}

/* The update's vectors: OPT_VW floats (16 fills an AVX-512 register; measured on PoCL,
 * float16 ran 1.2-1.3x faster than float8 on this memory-bound loop). */
typedef CLGAN_CAT(float, OPT_VW) optv;
#define opt_vload CLGAN_CAT(vload, OPT_VW)
#define opt_vstore CLGAN_CAT(vstore, OPT_VW)

/* OPT_VW floats of x from index `base`; past n reads as 0 (the tail vector only). */
static inline optv opt_load_tail(__global const float *x, int base, int n)
{
    float t[OPT_VW];
    for (int k = 0; k < OPT_VW; k++) t[k] = base + k < n ? x[base + k] : 0.0f;
    return opt_vload(0, t);
}

/* Stores the lanes of v that fall below n (the tail vector only). */
static inline void opt_store_tail(optv v, __global float *x, int base, int n)
{
    float t[OPT_VW];
    opt_vstore(v, 0, t);
    for (int k = 0; k < OPT_VW; k++)
        if (base + k < n) x[base + k] = t[k];
}

/* One step of the rule on p, s0, s1 from g (already loaded), in registers; the caller
 * loads and stores. `rule` is a compile-time constant at every call site, `sc` the
 * norm-clip scale (1 when off). */
#define OPT_RULE_BODY(rule, pi, gi, s0i, s1i)                                             \
    do {                                                                                \
        optv upd;                                                                       \
        if (l2 != 0.0f) gi = gi + l2 * pi;                                              \
        if (cv > 0.0f) gi = clamp(gi, -cv, cv);                                         \
        gi *= sc;                                                                       \
        if (rule == OPT_RULE_ADAM) {                                                    \
            s0i = a * s0i + (1.0f - a) * gi;                                            \
            s1i = b * s1i + (1.0f - b) * gi * gi;                                       \
            upd = step * s0i / (sqrt(s1i) + eps_hat);                                   \
        } else if (rule == OPT_RULE_RMSPROP) {                                          \
            s0i = a * s0i + (1.0f - a) * gi * gi;                                       \
            upd = step * gi / (sqrt(s0i) + eps_hat);                                    \
        } else if (rule == OPT_RULE_MOMENTUM) {                                         \
            s0i = a * s0i + gi;                                                         \
            upd = step * (nesterov ? gi + a * s0i : s0i);                               \
        } else {                                                                        \
            upd = step * gi;                                                            \
        }                                                                               \
        pi = pi * keep - upd; /* keep = 1 is exact: Adam's bits unchanged */            \
    } while (0)

/* Rules with state read and write s0 (all but sgd) and s1 (adam only). */
#define OPT_HAS_S0(rule) ((rule) != OPT_RULE_SGD)
#define OPT_HAS_S1(rule) ((rule) == OPT_RULE_ADAM)

/* Work-item w owns the whole vectors [w*per, min((w+1)*per, n/OPT_VW)) and walks them
 * in order; work-item 0 also takes the n % OPT_VW tail. The host picks per: a long
 * contiguous run on CPU devices (one work-item per work-group, so each is one task
 * streaming its own chunk: 1.5-2x faster on PoCL than one vector per work-item), 1 on
 * GPUs (neighbouring work-items on neighbouring vectors, coalesced). */
#define OPT_UPDATE_KERNEL(name, RULE)                                                   \
    __kernel void name(__global float *p, __global float *s0, __global float *s1,       \
                       __global const float *g, __global const float *scal, float step, \
                       float a, float b, float eps_hat, float keep, float l2, float cv,   \
                       int use_scale, int nesterov, int n, int per)                      \
    {                                                                                   \
        const int w = get_global_id(0), nv = n / OPT_VW;                                \
        const float sc = use_scale ? scal[0] : 1.0f;                                    \
        const int v1 = min(nv, (w + 1) * per);                                          \
        optv s0i = 0.0f, s1i = 0.0f;                                                    \
        for (int v = w * per; v < v1; v++) {                                            \
            optv pi = opt_vload(v, p), gi = opt_vload(v, g);                            \
            if (OPT_HAS_S0(RULE)) s0i = opt_vload(v, s0);                               \
            if (OPT_HAS_S1(RULE)) s1i = opt_vload(v, s1);                               \
            OPT_RULE_BODY(RULE, pi, gi, s0i, s1i);                                      \
            if (OPT_HAS_S0(RULE)) opt_vstore(s0i, v, s0);                               \
            if (OPT_HAS_S1(RULE)) opt_vstore(s1i, v, s1);                               \
            opt_vstore(pi, v, p);                                                       \
        }                                                                               \
        const int base = nv * OPT_VW;                                                   \
        if (w == 0 && base < n) {                                                       \
            optv pi = opt_load_tail(p, base, n), gi = opt_load_tail(g, base, n);        \
            if (OPT_HAS_S0(RULE)) s0i = opt_load_tail(s0, base, n);                     \
            if (OPT_HAS_S1(RULE)) s1i = opt_load_tail(s1, base, n);                     \
            OPT_RULE_BODY(RULE, pi, gi, s0i, s1i);                                      \
            if (OPT_HAS_S0(RULE)) opt_store_tail(s0i, s0, base, n);                     \
            if (OPT_HAS_S1(RULE)) opt_store_tail(s1i, s1, base, n);                     \
            opt_store_tail(pi, p, base, n);                                             \
        }                                                                               \
    }

OPT_UPDATE_KERNEL(opt_update_sgd, OPT_RULE_SGD)
OPT_UPDATE_KERNEL(opt_update_momentum, OPT_RULE_MOMENTUM)
OPT_UPDATE_KERNEL(opt_update_adam, OPT_RULE_ADAM)
OPT_UPDATE_KERNEL(opt_update_rmsprop, OPT_RULE_RMSPROP)

__kernel void weight_clip(__global float *p, float c, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    p[i] = clamp(p[i], -c, c);
}
