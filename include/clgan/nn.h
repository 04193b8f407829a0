/* nn.h - layers, networks and losses over device buffers. A network is a list of
 * layers whose trained parameters live in ONE flat device buffer (and gradients in
 * another, running statistics in a third); each layer holds sub-buffer views into them.
 * Forward caches what backward needs; backward adds (+=) into parameter gradients and
 * writes the input gradient when asked. Nothing here synchronizes with the host.
 *
 * Example:
 *   clgan_net *net;
 *   clgan_net_init(&net, ctx, 100, 32);                 // input 100 features, batch 32
 *   clgan_net_add_dense(net, 256, CLGAN_ACT_LEAKYRELU, 0.2f);
 *   clgan_net_add_batchnorm(net, 1e-3f, 0.8f, 1.001f);
 *   clgan_net_finalize(net, seed);                      // allocate, Glorot-init
 *   clgan_net_forward(net, x, CLGAN_MODE_TRAIN);        // x: (32, 100) device buffer
 */
#ifndef CLGAN_NN_H
#define CLGAN_NN_H

#include <stdint.h>

#include "clgan/runtime.h"

/* Activations; the codes are shared with cl/common.h. */
typedef enum {
    CLGAN_ACT_NONE = 0,
    CLGAN_ACT_LEAKYRELU = 1,
    CLGAN_ACT_RELU = 2,
    CLGAN_ACT_TANH = 3,
    CLGAN_ACT_SIGMOID = 4,
    CLGAN_ACT_ELU = 5,
    CLGAN_ACT_COUNT
} clgan_act;

const char *clgan_act_str(clgan_act a);
/* Parses "none", "leakyrelu", "relu", "tanh", "sigmoid", "elu"; -1 if unknown. */
int clgan_act_parse(const char *s);

typedef enum { CLGAN_MODE_EVAL = 0, CLGAN_MODE_TRAIN = 1 } clgan_mode;

/* One named parameter or state tensor of a network, for checkpoints and tests. */
typedef struct {
    char name[48];   /* "dense0.kernel", "bn0.moving_mean" */
    int ndim;        /* 1..4 */
    size_t shape[4]; /* (in, out) for dense kernels, (C) for vectors; rank <= 4 */
    size_t offset;   /* in floats, into the params (trained) or state buffer */
    size_t count;
    int trained;     /* 1: in params/grads; 0: in state (running statistics) */
} clgan_tensor_info;

typedef struct clgan_layer clgan_layer;
typedef struct clgan_net clgan_net;

/* What a network exposes (read-only; the buffers are owned by the network). */
typedef struct {
    int batch;
    int in_dim, out_dim;
    int n_layers;
    cl_mem params;       /* all trained parameters, flat */
    cl_mem grads;        /* their gradients, same layout */
    cl_mem state;        /* non-trained state (BN running statistics), flat */
    size_t n_params;     /* floats in params/grads, padding included */
    size_t n_state;
    size_t n_weights;    /* real parameter count, padding excluded */
    cl_mem out;          /* (batch, out_dim): output of the last forward */
    cl_mem dinput;       /* (batch, in_dim): input gradient of the last backward */
    const clgan_tensor_info *tensors;
    int n_tensors;
    double flops_fwd;    /* multiply-adds x2 of one forward pass over the batch */
} clgan_net_view;

/* Starts an empty network for inputs of `in_dim` features and a fixed batch size.
 * Caller owns *out (clgan_net_free). */
clgan_status clgan_net_init(clgan_net **out, clgan_ctx *ctx, int in_dim, int batch);
void clgan_net_free(clgan_net *net);

/* Dense (fully connected) layer with bias, y = act(x W + b), W (in, out) as Keras
 * kernels are stored; Glorot-uniform W, zero b. The activation is fused. */
clgan_status clgan_net_add_dense(clgan_net *net, int out_dim, clgan_act act, float slope);

/* BatchNorm1d over the batch. momentum = share of the old running value kept (Keras
 * 0.8 = PyTorch 0.2); var_corr: running variance gets var * n/(n - var_corr)
 * (PyTorch 1, Keras 2: 1 + eps). gamma 1, beta 0, running mean 0, variance 1. */
clgan_status clgan_net_add_batchnorm(clgan_net *net, float eps, float momentum, float var_corr);

/* A standalone activation (for when it must follow a BatchNorm). */
clgan_status clgan_net_add_activation(clgan_net *net, clgan_act act, float slope);

/* Dropout: in TRAIN mode each unit is zeroed with probability `rate` and the rest scaled
 * by 1/(1-rate) (inverted dropout); the mask comes from Philox, a new one per forward,
 * reproducible under the network's seed. EVAL mode passes the input through. */
clgan_status clgan_net_add_dropout(clgan_net *net, float rate);

/* A residual block y = [BN](act(x W + b)) + skip(x), skip = x when the widths match and a
 * learned projection x P + p (a Dense layer) when they differ. bn: BatchNorm inside the
 * block after the activation, with the given settings. Tensors are named
 * resK.dense.kernel, resK.bn.gamma, resK.proj.kernel, ... */
clgan_status clgan_net_add_residual(clgan_net *net, int out_dim, clgan_act act, float slope,
                                    int bn, float eps, float momentum, float var_corr);

/* What a network needs, from its layer list alone: callable before clgan_net_finalize
 * allocates anything (the view's tensors, n_params and n_state are then filled in, so a
 * checkpoint's tensors can be checked against them first) and after. Sizes saturate at
 * SIZE_MAX instead of overflowing. */
typedef struct {
    size_t device_bytes;  /* every device buffer finalize allocates: parameters, gradients,
                             running statistics, activations and their gradients, the
                             layers' own caches (an upper bound) */
    size_t largest_bytes; /* the largest single one of them */
    size_t host_bytes;    /* host memory finalize holds while it initializes (then frees) */
} clgan_net_plan;

clgan_status clgan_net_plan_get(clgan_net *net, clgan_net_plan *out);

/* Allocates the flat buffers and activations and initializes the parameters from
 * `seed` (host RNG, deterministic). After this no layer can be added. */
clgan_status clgan_net_finalize(clgan_net *net, uint64_t seed);

const clgan_net_view *clgan_net_get(const clgan_net *net);

/* Forward over the whole batch; x (batch, in_dim) is borrowed and must stay untouched
 * until the matching backward. The output is view->out. */
clgan_status clgan_net_forward(clgan_net *net, cl_mem x, clgan_mode mode);

/* How a backward pass treats the parameter gradients. */
enum {
    CLGAN_GRAD_NONE = 0, /* do not compute them (e.g. D during G's step) */
    CLGAN_GRAD_ADD = 1,  /* add into the gradient buffer */
    CLGAN_GRAD_SET = 2   /* overwrite it: no zeroing pass needed before the first backward */
};

/* Backward from dout (batch, out_dim), any buffer of that size (consumed: it may be
 * overwritten), e.g. clgan_net_dout() or another network's dinput. Treats the parameter
 * gradients as param_grads (CLGAN_GRAD_*) says, and writes view->dinput when
 * input_grad. Needs the last forward to have been in TRAIN mode when BatchNorm is
 * present. With CLGAN_GRAD_SET every trained tensor is written (padding between tensors
 * stays zero). */
clgan_status clgan_net_backward(clgan_net *net, cl_mem dout, int param_grads, int input_grad);

/* Zeroes the gradient buffer (on the queue). */
clgan_status clgan_net_zero_grad(clgan_net *net);

/* The gradient buffer for dout: (batch, out_dim), owned by the network, for the loss
 * to write into. */
cl_mem clgan_net_dout(const clgan_net *net);

/* Host copies of parameters/state (blocking). `host` has n_params / n_state floats. */
clgan_status clgan_net_read_params(clgan_net *net, float *host_params, float *host_state);
clgan_status clgan_net_write_params(clgan_net *net, const float *host_params,
                                    const float *host_state);

/* 1 when `ti` has exactly this rank and shape (e.g. a checkpoint tensor's). */
int clgan_tensor_shape_eq(const clgan_tensor_info *ti, int ndim, const size_t *shape);

/* The tensor called `name`, or NULL. */
const clgan_tensor_info *clgan_net_find(const clgan_net *net, const char *name);

/* ---- losses ---------------------------------------------------------------------- */

/* Loss kinds; the codes are shared with cl/loss.cl (its banner has the formulas). */
typedef enum {
    CLGAN_LOSS_BCE = 0,         /* on probabilities (sigmoid output), clipped (Keras) */
    CLGAN_LOSS_BCE_LOGITS = 1,  /* on logits, numerically stable (PyTorch) */
    CLGAN_LOSS_LSGAN = 2,       /* least squares, 0.5 (o - t)^2 */
    CLGAN_LOSS_HINGE = 3,       /* relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)) */
    CLGAN_LOSS_WASSERSTEIN = 4, /* D(G(z)) - D(x); G: -D(G(z)) (WGAN, WGAN-GP) */
    CLGAN_LOSS_COUNT
} clgan_loss;

/* Who the loss is for. */
typedef enum { CLGAN_ROLE_D_REAL = 0, CLGAN_ROLE_D_FAKE = 1, CLGAN_ROLE_G = 2 } clgan_role;

const char *clgan_loss_str(clgan_loss l);
int clgan_loss_parse(const char *s);

/* 1 when D ends in a sigmoid for this loss (only bce). */
int clgan_loss_wants_sigmoid(clgan_loss l);

/* Metric slots written per loss evaluation: loss, accuracy, mean D output. */
#define CLGAN_LOSS_METRICS 3

typedef struct {
    clgan_loss kind;
    clgan_role role;
    float target;     /* label for bce/lsgan (smoothed or not) */
    float sign;       /* 1, or -1 for the saturating (minimax) G loss */
    float clip;       /* bce probability clip */
    float flip;       /* probability of flipping each sample's label (D roles) */
    uint64_t seed;    /* for flips */
    uint32_t step, stream;
    int accumulate;   /* add weight * metrics to the slot instead of overwriting it */
    float weight;     /* metrics are scaled by this (0 means 1), e.g. 1/steps to average */
} clgan_loss_args;

/* Computes the loss of D's output `out` (n), writes dL/dout into `dout` (n) and the 3
 * metrics into metrics[slot..slot+2]. Non-blocking. */
clgan_status clgan_loss_eval(clgan_ctx *ctx, cl_mem dout, cl_mem metrics, int slot, cl_mem out,
                             int n, const clgan_loss_args *a);

/* ---- gradient penalty (WGAN-GP, Gulrajani et al. 2017) ---------------------------- */

/* Metric slots written per penalty evaluation: P, mean ||grad_x D(xhat_i)||. */
#define CLGAN_GP_METRICS 2

/* Interpolates xhat = e_i * real + (1 - e_i) * fake for each row i of (rows, dim)
 * batches, one e_i in (0, 1] per row from Philox with counter (row, step, stream) and
 * key `seed` (as cl/random.cl draws). Same arguments, same xhat, on any device. All
 * buffers borrowed; xhat must not alias real or fake. Non-blocking. */
clgan_status clgan_interpolate(clgan_ctx *ctx, cl_mem xhat, cl_mem real, cl_mem fake, int rows,
                               int dim, uint64_t seed, long step, unsigned stream);

/* The WGAN-GP penalty of critic `d` on xhat (batch, in_dim), borrowed:
 *   P = lambda * mean_i (||g_i||_2 - 1)^2,  g_i = dD(xhat_i)/dxhat_i,
 * and its gradient dP/dtheta (lambda included) ADDED into d's gradient buffer: a
 * double backward through D (src/nn/gradpen.c has the derivation). Runs D forward on
 * xhat in TRAIN mode first, so view->out and the cached activations then belong to
 * xhat: call it after the real/fake backward passes that need theirs. Writes
 * metrics[slot] = P and metrics[slot + 1] = mean_i ||g_i|| on the device; no host sync.
 * D must end in one output per sample and hold only dense and activation layers:
 * anything else, BatchNorm above all (batch statistics couple the samples, so a
 * per-sample input gradient is not defined), is refused with CLGAN_EINVAL before any
 * work. Scratch (about 2 * batch * (in_dim + sum of layer widths) floats) is allocated
 * on the first call, owned by `d`, and reused; later calls allocate nothing. */
clgan_status clgan_net_gradient_penalty(clgan_net *d, cl_mem xhat, float lambda, cl_mem metrics,
                                        int slot);

#endif
