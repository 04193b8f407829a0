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
    /* Gradient-penalty hook (gradpen.c): set by dense.c and activation.c; NULL for a
     * layer that cannot be in a WGAN-GP critic (BatchNorm). A field rather than an ops
     * entry so the positional ops tables need no new member. */
    void (*gp_view)(const clgan_layer *l, clgan_layer_gp *out);
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
clgan_status clgan_activation_make(clgan_layer *l, int c, clgan_act act, float slope);
clgan_status clgan_dropout_make(clgan_layer *l, int c, float rate);
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

/* ---- gradient penalty (gradpen.c) --------------------------------------------------
 * What WGAN-GP's double backward needs from a layer: z = h W + b (w NULL: z = h, a
 * standalone activation), y = act(z). */
struct clgan_layer_gp {
    cl_mem w, b;   /* (in, out), (out): borrowed views into params; NULL when absent */
    cl_mem dw, db; /* the matching views into grads; NULL when absent */
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
