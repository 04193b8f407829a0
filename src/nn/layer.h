/* layer.h - the private interface every layer type implements (dense.c, batchnorm.c,
 * activation.c); network.c drives it. Each layer keeps its own private struct. */
#ifndef CLGAN_NN_LAYER_H
#define CLGAN_NN_LAYER_H

#include "clgan/nn.h"
#include "common/rng.h"

#define CLGAN_LAYER_MAX_TENSORS 8

typedef struct {
    const char *kind;
    /* Fills tensor descriptions (name suffix like "kernel", shape, trained flag) for
     * this layer; returns how many (<= CLGAN_LAYER_MAX_TENSORS). */
    int (*describe)(const clgan_layer *l, clgan_tensor_info *out);
    /* Receives the sub-buffer views of its tensors (borrowed; grads[i] NULL for
     * untrained ones) and allocates its own caches for `batch`. */
    clgan_status (*bind)(clgan_layer *l, clgan_ctx *ctx, cl_mem *vals, cl_mem *grads, int batch);
    /* Initial values into host arrays, one per described tensor. */
    void (*init)(clgan_layer *l, float *const *host, clgan_rng *rng);
    /* y (batch, out) from x (batch, in). */
    clgan_status (*forward)(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                            clgan_mode mode);
    /* dy (batch, out) may be overwritten; dx NULL when not needed; param_grads a
     * CLGAN_GRAD_* mode. */
    clgan_status (*backward)(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                             cl_mem y, int batch, int param_grads);
    void (*free)(clgan_layer *l);
} clgan_layer_ops;

typedef struct clgan_layer_gp clgan_layer_gp; /* below, with gradpen.c's interface */

struct clgan_layer {
    const clgan_layer_ops *ops;
    char name[24]; /* "dense0", "bn1", "act2" */
    clgan_shape in_shape, out_shape; /* per sample (NHWC); set by the network before the
                                        constructor (in_shape) and by it (out_shape) */
    int in, out;   /* features per sample: h*w*c of the two shapes */
    int batch;     /* the network's batch, known to the constructor */
    clgan_ctx *ctx; /* the network's context, for constructors that size by device */
    int spectral_norm; /* set by the network before the constructor: dense and conv layers
                          then use W / sigma(W) (specnorm.c); others ignore it */
    double flops;  /* forward flops per sample */
    clgan_init init; /* kernel initialization (dense, conv), from clgan_net_set_init */
    float init_std;
    size_t workspace; /* bytes of scratch the layer needs during forward/backward; the
                         network allocates one buffer of the largest need */
    cl_mem ws;     /* that buffer (borrowed; NULL when no layer needs one), set before bind */
    uint32_t *draws; /* the layer's own random-draw counter (dropout's masks), NULL when
                        none: saved and restored by checkpoints (clgan_net_draws) */
    size_t scratch; /* device floats per sample the layer allocates for itself at bind
                       (caches, masks; an upper bound), for clgan_net_plan */
    void *priv;
    /* Gradient-penalty hooks (gradpen.c), fields rather than ops entries so the positional
     * ops tables need no new member. gp_view: set by every layer that can be in a
     * WGAN-GP critic (see clgan_layer_gp); NULL for one that cannot, which then sets
     * gp_refusal to the reason (a sentence fragment). */
    void (*gp_view)(const clgan_layer *l, clgan_layer_gp *out);
    const char *gp_refusal;
    const clgan_batch_sync *bsync; /* clgan_net_set_batch_sync (borrowed), NULL: per rank */
    int row0;      /* clgan_net_set_row0: this rank's first sample in the global batch */
};

/* Launches a cl/conv.cl shape kernel over (channels, rows): dimension 0 over the C
 * channels in groups of up to 64 (a power of two), dimension 1 over `rows`. */
clgan_status clgan_launch_chan(clgan_ctx *ctx, clgan_kernel_id k, int channels, size_t rows,
                               int nargs, const clgan_arg *args);

/* A kernel's initial values: Glorot uniform over fan_in + fan_out, or normal(0, std), as
 * l->init says; from the network's init RNG. */
void clgan_init_kernel(const clgan_layer *l, float *w, size_t n, double fan_in, double fan_out,
                       clgan_rng *rng);

/* Constructors (network.c names them and appends them). The new ones read the input
 * shape from l->in_shape and set l->out_shape. */
clgan_status clgan_conv_make(clgan_layer *l, const clgan_conv_opts *o);
clgan_status clgan_upsample_make(clgan_layer *l, int fh, int fw);
clgan_status clgan_zeropad_make(clgan_layer *l, int top, int bottom, int left, int right);
clgan_status clgan_reshape_make(clgan_layer *l, clgan_shape s);
clgan_status clgan_dense_make(clgan_layer *l, int in, int out, clgan_act act, float slope);
clgan_status clgan_batchnorm_make(clgan_layer *l, int c, float eps, float momentum,
                                  float var_corr);

/* BatchNorm's training forward / backward with the global batch's statistics over the
 * ranks of `s` (batchnorm_sync.c); `host` (5 C floats) and `dev` ((2, C) and (C) on
 * the device) are the layer's scratch. The per-rank kernels' arithmetic, sums over rows * ranks. */
clgan_status clgan_batchnorm_sync_fwd(clgan_ctx *ctx, const clgan_batch_sync *s, float *host,
                                      cl_mem dev[2], cl_mem y, cl_mem cache, cl_mem run_mean,
                                      cl_mem run_var, cl_mem x, cl_mem gamma, cl_mem beta,
                                      int rows, int cols, float eps, float momentum,
                                      float var_corr);
clgan_status clgan_batchnorm_sync_bwd(clgan_ctx *ctx, const clgan_batch_sync *s, float *host,
                                      cl_mem dev[2], cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                      cl_mem dy, cl_mem x, cl_mem cache, cl_mem gamma, int rows,
                                      int cols, int param_grads);
clgan_status clgan_activation_make(clgan_layer *l, int c, clgan_act act, float slope);
clgan_status clgan_dropout_make(clgan_layer *l, int c, float rate);
/* Dropout2d: one draw per (sample, channel) of l->in_shape, broadcast over H and W. */
clgan_status clgan_dropout2d_make(clgan_layer *l, float rate);
clgan_status clgan_layernorm_make(clgan_layer *l, float eps);
clgan_status clgan_residual_make(clgan_layer *l, int in, int out, clgan_act act, float slope,
                                 int bn, float eps, float momentum, float var_corr);

/* 1 when the float8 per-column kernels fit: a CPU device (where a work-item's row loop
 * is not vectorized across work-items; GPUs coalesce the scalar kernels' accesses
 * instead) and a width that is a multiple of 8. */
int clgan_use_vec8(const clgan_ctx *ctx, int cols);

/* y = a + b elementwise over n floats (y may alias a or b). */
clgan_status clgan_add(clgan_ctx *ctx, cl_mem y, cl_mem a, cl_mem b, int n);

/* The bias_act / act_bwd_bias kernels, shared by dense.c and activation.c.
 * b/db may be NULL; db_set: overwrite db instead of adding. dz may alias dy. */
clgan_status clgan_bias_act_fwd(clgan_ctx *ctx, cl_mem y, cl_mem b, int rows, int cols,
                                clgan_act act, float slope);
clgan_status clgan_act_bwd_bias(clgan_ctx *ctx, cl_mem dz, cl_mem db, cl_mem dy, cl_mem y,
                                int rows, int cols, clgan_act act, float slope, int db_set);

/* ---- spectral normalization (specnorm.c) -------------------------------------------
 * A dense or conv kernel viewed as the matrix M (rows, cols) it is stored as, cols = the
 * layer's output channels (the last axis of every kernel). Forward uses M / sigma(M);
 * sigma from one power iteration per TRAIN forward on persistent u (cols), v (rows),
 * state tensors "sn_u", "sn_v". */
typedef struct clgan_sn clgan_sn;

/* Caller owns *out (clgan_sn_free). */
clgan_status clgan_sn_make(clgan_sn **out, int rows, int cols);
void clgan_sn_free(clgan_sn *sn);
/* Describes sn_u (cols) and sn_v (rows) into t; returns 2. */
int clgan_sn_describe(const clgan_sn *sn, clgan_tensor_info *t);
/* u, v: standard normal draws, each normalized (u first, as PyTorch draws them). */
void clgan_sn_init(const clgan_sn *sn, float *u, float *v, clgan_rng *rng);
/* u, v: the state views (borrowed); allocates the normalized kernel and scratch. */
clgan_status clgan_sn_bind(clgan_sn *sn, clgan_ctx *ctx, cl_mem u, cl_mem v);
/* Computes the normalized kernel from w (iterating u, v first in TRAIN mode) and
 * returns it in *wsn (owned by sn): what the layer multiplies with. */
clgan_status clgan_sn_forward(clgan_sn *sn, clgan_ctx *ctx, cl_mem w, clgan_mode mode,
                              cl_mem *wsn);
/* The buffer (rows, cols) the layer writes dL/d(M / sigma) into before
 * clgan_sn_backward (owned by sn). */
cl_mem clgan_sn_grad(const clgan_sn *sn);
/* dw (+)= the gradient through sigma of what clgan_sn_grad holds, u and v constant
 * (mode CLGAN_GRAD_ADD or CLGAN_GRAD_SET). */
clgan_status clgan_sn_backward(clgan_sn *sn, clgan_ctx *ctx, cl_mem dw, int mode);
/* BatchNorm's training-mode launches over any (rows, C) (batchnorm.c): rows = N*H*W
 * makes them BatchNorm2d over NHWC activations. _reserve reserves their scratch at
 * setup (GPU shapes with more rows than one column-tile block). */
void clgan_batchnorm_reserve(clgan_ctx *ctx, int rows, int cols);
clgan_status clgan_batchnorm_train_fwd(clgan_ctx *ctx, cl_mem y, cl_mem cache, cl_mem run_mean,
                                       cl_mem run_var, cl_mem x, cl_mem gamma, cl_mem beta,
                                       int rows, int cols, float eps, float momentum,
                                       float var_corr);
clgan_status clgan_batchnorm_train_bwd(clgan_ctx *ctx, cl_mem dx, cl_mem dgamma, cl_mem dbeta,
                                       cl_mem dy, cl_mem x, cl_mem cache, cl_mem gamma, int rows,
                                       int cols, int param_grads);

/* ---- gradient penalty (gradpen.c) --------------------------------------------------
 * What WGAN-GP's double backward needs from a layer. Most are y = act(A(x; W) + b): A
 * linear in x for fixed W and linear in W for fixed x; b (one per output channel) and
 * act optional. Dense and conv layers (A = the product with the kernel, spectrally
 * normalized or not), upsampling, zero padding, reshape and dropout (A = multiplication
 * by the last forward's mask) provide clgan_linear_ops; a standalone activation is
 * A = identity. A layer whose Jacobian depends on its input (LayerNorm) provides
 * clgan_nonlinear_ops instead. */
typedef struct {
    /* y (batch, out) = A(x) (no bias, no activation); x is not modified. */
    clgan_status (*apply)(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch);
    /* dx (batch, in) = A^T(dy); dy is not modified. */
    clgan_status (*adjoint)(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, int batch);
    /* The gradient of <A(x; W), dy> with respect to W into the layer's weight-gradient
     * accumulator (mode CLGAN_GRAD_SET or _ADD). NULL when A has no weights. */
    clgan_status (*wgrad)(clgan_layer *l, clgan_ctx *ctx, cl_mem x, cl_mem dy, int batch,
                          int mode);
    /* Adds the accumulator into the weight gradient (spectral norm: through sigma);
     * NULL when the accumulator is the weight gradient itself. */
    clgan_status (*wgrad_done)(clgan_layer *l, clgan_ctx *ctx);
} clgan_linear_ops;

/* y = F(x; theta) with Jacobian J(x) = dy/dx at x, the last forward's input (batch,
 * in). The backward of the forward (dx = J^T dy, parameter gradients added) is the
 * layer's own backward, which must then leave dy unchanged. */
typedef struct {
    /* dx (batch, in) = J^T dy (batch, out); dy is not modified. */
    clgan_status (*vjp)(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                        int batch);
    /* For w (batch, in) and u (batch, out), with Q = <w, J^T u>: ubar (batch, out) =
     * dQ/du = J w, sx (batch, in) = dQ/dx, and dQ/dtheta added into the parameter
     * gradients. w and u are not modified; ubar may be w. */
    clgan_status (*rev)(clgan_layer *l, clgan_ctx *ctx, cl_mem ubar, cl_mem sx, cl_mem w,
                        cl_mem u, cl_mem x, int batch);
} clgan_nonlinear_ops;

struct clgan_layer_gp {
    const clgan_linear_ops *lin; /* y = act(A(x) + b); NULL: A is the identity (a
                                    standalone activation) */
    const clgan_nonlinear_ops *nl; /* instead of lin, act, db: y = F(x) */
    cl_mem db;                   /* bias gradient (out_shape.c), NULL when no bias */
    clgan_act act;
    float slope;
};

typedef struct clgan_gp clgan_gp; /* gradpen.c's scratch, owned by the network */

/* Borrowed views of a network's internals for gradpen.c (network.c fills them). */
typedef struct {
    clgan_ctx *ctx;
    clgan_layer *layers; /* (n_layers) */
    int n_layers, batch, in_dim, out_dim, finalized;
    cl_mem *acts;        /* (n_layers + 1): acts[0] = last forward's input, acts[i+1] =
                            layer i's output (batch, layers[i].out) */
    clgan_gp **gp;       /* the network's scratch slot; freed by clgan_net_free */
} clgan_net_parts;

void clgan_net_parts_get(clgan_net *net, clgan_net_parts *out);
/* Releases the scratch; NULL is fine. */
void clgan_gp_free(clgan_gp *gp);

#endif
