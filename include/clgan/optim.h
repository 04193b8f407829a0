/* optim.h - optimizers over a network's flat parameter buffer: one kernel launch per
 * network per step. The optimizer owns its moment buffers; the step counter t is
 * passed in, so several optimizers can share one (Keras-GAN's single Adam object).
 */
#ifndef CLGAN_OPTIM_H
#define CLGAN_OPTIM_H

#include "clgan/runtime.h"

/* Adam's bias-correction convention. */
typedef enum {
    CLGAN_ADAM_KERAS = 0, /* p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps) */
    CLGAN_ADAM_TORCH = 1, /* p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps) */
} clgan_adam_form;

typedef struct {
    float lr, beta1, beta2, eps;
    clgan_adam_form form;
} clgan_adam_opts;

typedef struct clgan_adam clgan_adam;

/* Adam over `n` floats (a network's params/grads buffers); moments start at zero.
 * Caller owns *out. */
clgan_status clgan_adam_init(clgan_adam **out, clgan_ctx *ctx, size_t n, clgan_adam_opts o);
void clgan_adam_free(clgan_adam *a);

/* One update of params from grads at step t (t >= 1). Non-blocking. */
clgan_status clgan_adam_step(clgan_adam *a, cl_mem params, cl_mem grads, long t);

/* The moment buffers (for checkpoints). */
cl_mem clgan_adam_m(const clgan_adam *a);
cl_mem clgan_adam_v(const clgan_adam *a);

#endif
