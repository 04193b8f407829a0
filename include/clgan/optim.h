/* optim.h - optimizers over a network's flat parameter buffer (SGD with momentum and
 * Nesterov, Adam in its Keras and PyTorch forms, RMSprop), with coupled L2, decoupled
 * weight decay, gradient clipping by value and by global norm, and WGAN weight
 * clipping. Everything runs on the device queue; nothing here syncs with the host.
 * The optimizer owns its state buffers; the step counter t is passed in, so several
 * networks can share one (Keras-GAN's single Adam object).
 *
 * One step, in this order (cl/optim.cl has the index math):
 *   1. g += l2 * p                                   (coupled L2; l2 = 0 skips)
 *   2. norm_before = ||g||_2 over the whole buffer
 *   3. g = clamp(g, -clip_value, clip_value)         (clip_value = 0 skips)
 *   4. g *= min(1, clip_norm / (||g||_2 + 1e-6))     (global norm of the step-3 g;
 *                                                     clip_norm = 0 skips)
 *   5. norm_after = ||g||_2 of the gradient actually applied
 *   6. the update rule of `kind` (below), and
 *   7. decoupled decay p -= lr * weight_decay * p, with p the value before this step's
 *      update (torch.optim.AdamW's order: p = p (1 - lr wd) - update).
 * Launches per step: 1 (the fused update) when clip_norm = 0 and no metrics are asked
 * for, else 3 (partial sums of squares, a one-work-group finish, the update). The
 * norms are reduced in a fixed order: same input, same bits, on a given device.
 *
 * Update rules (PyTorch semantics; moments start at zero):
 *   SGD      b = momentum b + g;  g' = nesterov ? g + momentum b : b;  p -= lr g'
 *            (momentum = 0: p -= lr g, no state)
 *   Adam     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  then, by `form`,
 *            KERAS: p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)
 *            TORCH: p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   RMSprop  v = alpha v + (1-alpha) g^2;  p -= lr g / (sqrt(v) + eps)
 *            (no momentum, not centered: torch.optim.RMSprop / Keras defaults)
 *
 * Example (Adam with global-norm clipping, norms written into a metrics ring):
 *   clgan_opt_opts oo = clgan_opt_defaults(CLGAN_OPT_ADAM);
 *   oo.lr = 2e-4f, oo.beta1 = 0.5f, oo.clip_norm = 1.0f;
 *   clgan_opt *opt;
 *   if (clgan_opt_init(&opt, ctx, n_params, oo) != CLGAN_OK) ... clgan_error_msg() ...
 *   for (long t = 1; ...; t++)
 *       clgan_opt_step(opt, params, grads, t, metrics, 4 * (int)t);  // norms at 4t, 4t+1
 *   clgan_opt_free(opt);
 */
#ifndef CLGAN_OPTIM_H
#define CLGAN_OPTIM_H

#include "clgan/runtime.h"

typedef enum { CLGAN_OPT_SGD = 0, CLGAN_OPT_ADAM, CLGAN_OPT_RMSPROP, CLGAN_OPT_COUNT } clgan_opt_kind;

/* "sgd", "adam", "rmsprop"; "?" for anything else. */
const char *clgan_opt_str(clgan_opt_kind k);
/* The kind named by `s` (exact lower-case name), or -1. */
int clgan_opt_parse(const char *s);

/* Adam's bias-correction convention. */
typedef enum {
    CLGAN_ADAM_KERAS = 0, /* p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps) */
    CLGAN_ADAM_TORCH = 1, /* p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps) */
} clgan_adam_form;

typedef struct {
    clgan_opt_kind kind;
    float lr;
    float beta1, beta2, eps; /* Adam (eps is also RMSprop's) */
    clgan_adam_form form;    /* Adam */
    float momentum;          /* SGD: 0 = plain SGD, no state buffer */
    int nesterov;            /* SGD: needs momentum > 0 */
    float alpha;             /* RMSprop smoothing constant */
    float l2;                /* coupled L2 penalty: g += l2 * p; 0 = off */
    float weight_decay;      /* decoupled decay: p -= lr * weight_decay * p; 0 = off */
    float clip_value;        /* each gradient component clamped to [-t, t]; 0 = off */
    float clip_norm;         /* global-norm clip: g *= min(1, t / (||g|| + 1e-6)); 0 = off */
} clgan_opt_opts;

/* PyTorch's defaults for `k` (SGD lr 0.01; Adam lr 1e-3, betas 0.9/0.999, eps 1e-8,
 * TORCH form; RMSprop lr 0.01, alpha 0.99, eps 1e-8); everything optional off. */
clgan_opt_opts clgan_opt_defaults(clgan_opt_kind k);

typedef struct clgan_opt clgan_opt;

/* An optimizer for a network of `n` floats (its flat params/grads buffers). Allocates
 * every buffer the steps will use (state zero-filled; nothing is allocated later).
 * *out owned by the caller (clgan_opt_free). EINVAL, naming the field, for an
 * out-of-range option; on failure nothing is left allocated. `ctx` is borrowed and
 * must outlive the optimizer. */
clgan_status clgan_opt_init(clgan_opt **out, clgan_ctx *ctx, size_t n, clgan_opt_opts o);
/* Releases the optimizer and its buffers. NULL is fine. */
void clgan_opt_free(clgan_opt *o);

/* One update of `params` (n floats) from `grads` (n floats) at step t (t >= 1; Adam's
 * bias correction uses it, the others ignore it), in the order given at the top of
 * this file. `grads` is read only, though callers must not rely on that (a future
 * version may clip it in place). When `metrics` is not NULL, norm_before and
 * norm_after are written to metrics[slot] and metrics[slot + 1] (floats) on the
 * device. Non-blocking; buffers borrowed. */
clgan_status clgan_opt_step(clgan_opt *o, cl_mem params, cl_mem grads, long t, cl_mem metrics,
                            int slot);

/* WGAN weight clipping: each of the n floats of `params` clamped to [-c, c] (c > 0).
 * One launch, non-blocking. */
clgan_status clgan_weight_clip(clgan_ctx *ctx, cl_mem params, size_t n, float c);

/* The state buffers, n floats each (borrowed; for checkpoints): Adam m, v; SGD's
 * momentum buffer (none when momentum = 0); RMSprop v. Writes them to out[0..k) and
 * returns k (0, 1 or 2). */
int clgan_opt_state(const clgan_opt *o, cl_mem out[2]);

/* The options the optimizer was made with. */
clgan_opt_opts clgan_opt_get_opts(const clgan_opt *o);

#endif
