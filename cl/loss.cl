/* loss.cl - GAN losses over D's output column out (n), for one of three roles: D on
 * real data, D on generated data, or G through D. One work-group of LOSS_WG work-items
 * reduces in a fixed order (deterministic). Writes dL/dout (every loss is a mean over
 * the batch, times `sign`) and three metrics at metrics[slot..slot+2]: the loss, D's
 * accuracy (share of samples D classifies as the role expects: real for D_REAL and G,
 * fake for D_FAKE), and the mean of D's output (a probability for the BCE kinds: p
 * itself or sigmoid(logit); the raw critic value otherwise). With accumulate, the
 * metrics are added (times weight) to what the slot holds, to average over sub-steps.
 *
 * Kinds (LOSS_*, the codes of clgan_loss: include/clgan/kernels.h), t = the target label:
 *   0 bce         on probabilities p clipped to [clip, 1-clip] (Keras); zero gradient
 *                 where clipped: -(t log p + (1-t) log(1-p))
 *   1 bce-logits  on logits z, stable: max(z,0) - z t + log(1 + exp(-|z|))
 *   2 lsgan       0.5 (o - t)^2 (Mao et al.: real t=1, fake t=0, G t=1)
 *   3 hinge       D_REAL relu(1 - o), D_FAKE relu(1 + o), G -o
 *   4 wasserstein D_REAL -o, D_FAKE o, G -o
 * Label flipping (D roles only): each sample's target becomes 1 - t with probability
 * flip, drawn from Philox with (seed, step, stream).
 *
 * Work-groups of LOSS_WG work-items; group g takes samples [g per_group, (g + 1)
 * per_group). One group (CPU shapes: per_group = n) writes the metrics itself; with
 * several (GPU shapes, large n: the N*H*W outputs of a patch critic) each leaves its
 * three sums at partial[3g..3g+2] and rows_finish (reduce.cl) adds them in order.
 */

__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void gan_loss(__global float *dout, __global float *metrics, __global float *partial,
              __global const float *out, int n, int kind, int role, float target, float sign,
              float clip, float flip, uint seed_lo, uint seed_hi, uint step, uint stream,
              int slot, int accumulate, float weight, int per_group, uint first)
{
    __local float s_loss[LOSS_WG], s_acc[LOSS_WG], s_p[LOSS_WG];
    int lid = get_local_id(0), grp = get_group_id(0);
    float loss = 0.0f, acc = 0.0f, psum = 0.0f, inv_n = 1.0f / (float)n;
    int want_real = role != ROLE_D_FAKE;
    int i1 = min(n, (grp + 1) * per_group);
    for (int i = grp * per_group + lid; i < i1; i += LOSS_WG) {
        float o = out[i], t = target, l, g, p;
        if (flip > 0.0f && role != ROLE_G) {
            uint4 r = philox4x32((uint4)((uint)i + first, step, stream, 0u), (uint2)(seed_lo, seed_hi));
            if (u01(r.x) < flip) t = 1.0f - t;
        }
        switch (kind) {
        case LOSS_BCE_LOGITS:
            p = 1.0f / (1.0f + exp(-o));
            l = fmax(o, 0.0f) - o * t + log1p(exp(-fabs(o)));
            g = p - t;
            break;
        case LOSS_LSGAN:
            p = o;
            l = 0.5f * (o - t) * (o - t);
            g = o - t;
            break;
        case LOSS_HINGE:
            p = o;
            if (role == ROLE_G) { l = -o; g = -1.0f; }
            else if (role == ROLE_D_REAL) { l = fmax(0.0f, 1.0f - o); g = o < 1.0f ? -1.0f : 0.0f; }
            else { l = fmax(0.0f, 1.0f + o); g = o > -1.0f ? 1.0f : 0.0f; }
            break;
        case LOSS_WASSERSTEIN:
            p = o;
            l = role == ROLE_D_FAKE ? o : -o;
            g = role == ROLE_D_FAKE ? 1.0f : -1.0f;
            break;
        default: {
            float pc = clamp(o, clip, 1.0f - clip);
            p = o;
            l = -(t * log(pc) + (1.0f - t) * log(1.0f - pc));
            g = (o >= clip && o <= 1.0f - clip) ? (pc - t) / (pc * (1.0f - pc)) : 0.0f;
        }
        }
        dout[i] = sign * g * inv_n;
        loss += sign * l;
        float thr = (kind == LOSS_BCE) ? 0.5f : 0.0f;
        acc += ((o > thr) == want_real) ? 1.0f : 0.0f;
        psum += p;
    }
    s_loss[lid] = loss;
    s_acc[lid] = acc;
    s_p[lid] = psum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LOSS_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            s_loss[lid] += s_loss[lid + s];
            s_acc[lid] += s_acc[lid + s];
            s_p[lid] += s_p[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && get_num_groups(0) > 1) {
        partial[3 * grp] = s_loss[0];
        partial[3 * grp + 1] = s_acc[0];
        partial[3 * grp + 2] = s_p[0];
    } else if (lid == 0) {
        float v[3] = {s_loss[0] * inv_n, s_acc[0] * inv_n, s_p[0] * inv_n};
        for (int k = 0; k < 3; k++)
            metrics[slot + k] = (accumulate ? metrics[slot + k] : 0.0f) + weight * v[k];
    }
}
