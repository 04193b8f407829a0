/* loss.cl - GAN losses over D's output column out (n) for one constant target label.
 * One work-group of LOSS_WG work-items reduces in a fixed order (deterministic). It
 * writes dL/dout (the loss is a mean over the batch) and three metrics at
 * metrics[slot..slot+2]: the loss, the accuracy, and the mean of D's output read as a
 * probability (p itself, or sigmoid of a logit).
 * Kinds (must match clgan_loss in include/clgan/nn.h):
 *   0 BCE on probabilities, p clipped to [clip, 1-clip] (Keras); zero grad where clipped
 *   1 BCE from logits, numerically stable: max(z,0) - z*t + log(1 + exp(-|z|))
 */
#ifndef LOSS_WG
#define LOSS_WG 64
#endif

#define LOSS_BCE 0
#define LOSS_BCE_LOGITS 1

__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void gan_loss(__global float *dout, __global float *metrics, __global const float *out,
              int n, int kind, float target, float clip, int slot)
{
    __local float s_loss[LOSS_WG], s_acc[LOSS_WG], s_p[LOSS_WG];
    int lid = get_local_id(0);
    float loss = 0.0f, acc = 0.0f, psum = 0.0f, inv_n = 1.0f / (float)n;
    int want = target > 0.5f;
    for (int i = lid; i < n; i += LOSS_WG) {
        float o = out[i], l, g, p;
        if (kind == LOSS_BCE_LOGITS) {
            p = 1.0f / (1.0f + exp(-o));
            l = fmax(o, 0.0f) - o * target + log1p(exp(-fabs(o)));
            g = p - target;
        } else {
            p = o;
            float pc = clamp(o, clip, 1.0f - clip);
            l = -(target * log(pc) + (1.0f - target) * log(1.0f - pc));
            g = (o >= clip && o <= 1.0f - clip) ? (pc - target) / (pc * (1.0f - pc)) : 0.0f;
        }
        dout[i] = g * inv_n;
        loss += l;
        acc += ((p > 0.5f) == want) ? 1.0f : 0.0f;
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
    if (lid == 0) {
        metrics[slot] = s_loss[0] * inv_n;
        metrics[slot + 1] = s_acc[0] * inv_n;
        metrics[slot + 2] = s_p[0] * inv_n;
    }
}
