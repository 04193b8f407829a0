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

/* Activations; the codes are the kernels' ACT_* (kernels.h CLGAN_CODE_LIST). */
typedef enum {
    CLGAN_ACT_NONE = CLGAN_CODE_ACT_NONE,
    CLGAN_ACT_LEAKYRELU = CLGAN_CODE_ACT_LEAKYRELU,
    CLGAN_ACT_RELU = CLGAN_CODE_ACT_RELU,
    CLGAN_ACT_TANH = CLGAN_CODE_ACT_TANH,
    CLGAN_ACT_SIGMOID = CLGAN_CODE_ACT_SIGMOID,
    CLGAN_ACT_ELU = CLGAN_CODE_ACT_ELU,
    CLGAN_ACT_COUNT
} clgan_act;

const char *clgan_act_str(clgan_act a);
/* Parses "none", "leakyrelu", "relu", "tanh", "sigmoid", "elu"; -1 if unknown. */
int clgan_act_parse(const char *s);

typedef enum { CLGAN_MODE_EVAL = 0, CLGAN_MODE_TRAIN = 1 } clgan_mode;

/* The shape of one sample: height, width, channels. Activations are stored NHWC:
 * sample-major, then rows, then columns, channels interleaved, so element (n, y, x, c)
 * of a batch is at ((n*h + y)*w + x)*c + c. A feature vector is the 1 x 1 x C case. Why
 * NHWC: per-channel work (bias, activation, BatchNorm) is then the column work of a
 * (N*H*W, C) matrix, which the dense kernels already do; a convolution over the whole
 * batch is one product with the batch folded into its rows; and it is Keras' layout, so
 * Flatten/Reshape order matches the recipes clgan reproduces (docs/design.md). */
typedef struct {
    int h, w, c;
} clgan_shape;

#define CLGAN_SHAPE(h, w, c) ((clgan_shape){(h), (w), (c)})

/* h * w * c. */
static inline int clgan_shape_size(clgan_shape s) { return s.h * s.w * s.c; }

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
    clgan_shape in_shape, out_shape; /* per sample; in_dim = h*w*c of in_shape */
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

/* The same for inputs of shape `in` (h, w, c) per sample (NHWC). */
clgan_status clgan_net_init_shape(clgan_net **out, clgan_ctx *ctx, clgan_shape in, int batch);
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

/* Dropout2d (PyTorch's Dropout2d, Keras' SpatialDropout2D): in TRAIN mode each channel
 * of each sample is zeroed, over all its pixels, with probability `rate` and the kept
 * ones scaled by 1/(1-rate); one Philox draw per (sample, channel), a new mask per
 * forward, reproducible under the network's seed. EVAL passes the input through. On a
 * feature vector (1 x 1 x C) it drops single values, as Dropout does (other draws). */
clgan_status clgan_net_add_dropout2d(clgan_net *net, float rate);

/* LayerNorm (the WGAN-GP paper's critic normalization): each sample is normalized over
 * all its H*W*C values (mean, biased variance, eps inside the square root), then
 *   y = gamma * xhat + beta   per element, gamma 1, beta 0 at start,
 * tensors lnK.gamma and lnK.beta of shape (h, w, c) (NHWC order; (c) for a feature
 * vector). PyTorch's nn.LayerNorm([C, H, W]) holds them as (C, H, W): ours[h, w, c] =
 * torch[c, h, w]. The same in TRAIN and EVAL mode. eps in (0, 1) (PyTorch 1e-5). */
clgan_status clgan_net_add_layernorm(clgan_net *net, float eps);

/* Spectral normalization (Miyato et al. 2018) for the dense and convolution layers added
 * after this call (on != 0) until it is called again with 0: they then use W / sigma(W),
 * sigma the largest singular value of the kernel viewed as the (rows, out channels)
 * matrix it is stored as: dense (in, out), Conv2d (kh*kw*cin, filters),
 * ConvTranspose2d (cin*kh*kw, filters). As torch.nn.utils.spectral_norm with one power
 * iteration: every TRAIN forward does v = normalize(M u), u = normalize(M^T v),
 * sigma = u . M^T v; EVAL uses the stored u, v; gradients flow through sigma with u, v
 * constant. u (out) and v (rows) are state tensors <layer>.sn_u / .sn_v (checkpointed),
 * drawn at finalize as normalized standard normals, u first. PyTorch's weight_u is our
 * sn_u; its weight_v is our sn_v (for Conv2d with its entries ordered (cin, kh, kw)
 * where ours are (kh, kw, cin)); sigma and W / sigma agree. Residual blocks refuse it. */
clgan_status clgan_net_set_spectral_norm(clgan_net *net, int on);

/* A residual block y = [BN](act(x W + b)) + skip(x), skip = x when the widths match and a
 * learned projection x P + p (a Dense layer) when they differ. bn: BatchNorm inside the
 * block after the activation, with the given settings. Tensors are named
 * resK.dense.kernel, resK.bn.gamma, resK.proj.kernel, ... */
clgan_status clgan_net_add_residual(clgan_net *net, int out_dim, clgan_act act, float slope,
                                    int bn, float eps, float momentum, float var_corr);

/* How a convolution pads its input. */
typedef enum {
    CLGAN_PAD_VALID = 0, /* none */
    CLGAN_PAD_SAME,      /* TensorFlow/Keras "same": output ceil(in / stride); the total
                            max((out-1)*s + k - in, 0) is split with the smaller half
                            before (so 0 before, 1 after for 28 -> 14 with k3 s2) */
    CLGAN_PAD_EXPLICIT   /* pad_h/pad_w on both sides (PyTorch's padding=) */
} clgan_pad_mode;

/* Weight initialization of a dense or convolution kernel (biases start at 0). */
typedef enum {
    CLGAN_INIT_GLOROT = 0, /* uniform, limit sqrt(6 / (fan_in + fan_out)) (Keras default) */
    CLGAN_INIT_NORMAL      /* normal(0, init_std) (the DCGAN paper: 0.02) */
} clgan_init;

/* A 2-D convolution or transposed convolution over NHWC activations.
 * Conv2d:          out = floor((in + pads - k) / s) + 1 (SAME: ceil(in / s));
 *                  weights "kernel" (kh, kw, c_in, filters), as Keras stores them.
 * ConvTranspose2d: out = (in - 1) s - 2 pad + k + out_pad (PyTorch's formula; its adjoint
 *                  is the Conv2d of the same k, s, pad); weights "kernel"
 *                  (c_in, kh, kw, filters).
 * Bias "bias" (filters) unless no_bias; act is fused as in dense layers. Weights are
 * initialized as clgan_net_set_init says. */
typedef struct {
    int filters;           /* output channels */
    int kh, kw;            /* kernel size */
    int sh, sw;            /* stride (0 means 1) */
    clgan_pad_mode pad;
    int pad_h, pad_w;      /* CLGAN_PAD_EXPLICIT: zeros added on each side */
    int transpose;         /* 1: ConvTranspose2d (pad must be EXPLICIT or VALID) */
    int out_pad_h, out_pad_w; /* ConvTranspose2d: extra rows/columns at the end (< stride) */
    int no_bias;           /* 1: no bias term */
    clgan_act act;
    float slope;
    int max_chunk;         /* images per workspace chunk at most (0: sized by device) */
} clgan_conv_opts;

/* How the dense and convolution layers added from now on initialize their kernels
 * (default: Glorot uniform). std: the standard deviation of CLGAN_INIT_NORMAL. */
clgan_status clgan_net_set_init(clgan_net *net, clgan_init init, float std);

/* Appends a Conv2d or ConvTranspose2d (o->transpose). EINVAL naming the problem when the
 * kernel does not fit the input or a size is out of range. */
clgan_status clgan_net_add_conv2d(clgan_net *net, const clgan_conv_opts *o);

/* Nearest-neighbour upsampling by (fh, fw) (Keras UpSampling2D). */
clgan_status clgan_net_add_upsample(clgan_net *net, int fh, int fw);

/* Zero padding (Keras ZeroPadding2D(((top, bottom), (left, right)))); negative sizes
 * crop instead (Keras Cropping2D with the sizes negated). */
clgan_status clgan_net_add_zeropad(clgan_net *net, int top, int bottom, int left, int right);

/* Reinterprets each sample as shape `s` (same size; NHWC order is kept, as Keras'
 * Reshape and Flatten do). Flatten is CLGAN_SHAPE(1, 1, h*w*c). */
clgan_status clgan_net_add_reshape(clgan_net *net, clgan_shape s);

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

/* The layers' own random-draw counters, in layer order (dropout draws a new mask per
 * TRAIN forward from Philox keyed by its seed and this counter): a checkpoint keeps them
 * so a resumed run draws the masks the uninterrupted one would. Writes up to `max` into
 * out and returns how many the network has. */
int clgan_net_draws(const clgan_net *net, uint32_t *out, int max);
/* Puts them back; EFORMAT when `count` is not the network's number of counters. */
clgan_status clgan_net_set_draws(clgan_net *net, const uint32_t *in, int count);

/* Batch statistics over data-parallel ranks (--sync-bn): `sum` replaces v[0..n) by scale
 * times its sum over the ranks (blocking; the same calls in the same order on every
 * rank), ranks is their count. With one set on a network, its BatchNorm layers normalize
 * in training mode with the global batch's statistics (forward) and sums (backward):
 * batchnorm_sync.c. Borrowed; NULL restores per-rank statistics. BatchNorm inside a
 * residual block stays per rank. */
typedef struct {
    clgan_status (*sum)(void *user, float *v, size_t n, float scale, const char *what);
    void *user;
    int ranks;
} clgan_batch_sync;
void clgan_net_set_batch_sync(clgan_net *net, const clgan_batch_sync *s);
/* A data-parallel rank's first sample in the global batch (0 on one rank): the layers'
 * random draws (dropout masks) are that slice of the global batch's. */
void clgan_net_set_row0(clgan_net *net, int row0);

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

/* Loss kinds; the codes are cl/loss.cl's LOSS_* (kernels.h CLGAN_CODE_LIST; the
 * kernel's banner has the formulas). */
typedef enum {
    CLGAN_LOSS_BCE = CLGAN_CODE_LOSS_BCE,       /* on probabilities (sigmoid output), clipped (Keras) */
    CLGAN_LOSS_BCE_LOGITS = CLGAN_CODE_LOSS_BCE_LOGITS, /* on logits, stable (PyTorch) */
    CLGAN_LOSS_LSGAN = CLGAN_CODE_LOSS_LSGAN,   /* least squares, 0.5 (o - t)^2 */
    CLGAN_LOSS_HINGE = CLGAN_CODE_LOSS_HINGE,   /* relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)) */
    CLGAN_LOSS_WASSERSTEIN = CLGAN_CODE_LOSS_WASSERSTEIN, /* D(G(z)) - D(x); G: -D(G(z)) */
    CLGAN_LOSS_COUNT
} clgan_loss;

/* Who the loss is for. */
typedef enum {
    CLGAN_ROLE_D_REAL = CLGAN_CODE_ROLE_D_REAL,
    CLGAN_ROLE_D_FAKE = CLGAN_CODE_ROLE_D_FAKE,
    CLGAN_ROLE_G = CLGAN_CODE_ROLE_G
} clgan_role;

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
    uint32_t first;   /* flips: counter of output 0 (a data-parallel rank's offset; 0) */
} clgan_loss_args;

/* Computes the loss of D's output `out` (n), writes dL/dout into `dout` (n) and the 3
 * metrics into metrics[slot..slot+2]. Non-blocking. */
clgan_status clgan_loss_eval(clgan_ctx *ctx, cl_mem dout, cl_mem metrics, int slot, cl_mem out,
                             int n, const clgan_loss_args *a);
/* Reserves at setup the scratch a loss over n outputs needs (GPU shapes, large n). */
void clgan_loss_reserve(clgan_ctx *ctx, int n);

/* ---- gradient penalty (WGAN-GP, Gulrajani et al. 2017) ---------------------------- */

/* Metric slots written per penalty evaluation: P, mean ||grad_x D(xhat_i)||. */
#define CLGAN_GP_METRICS 2

/* Interpolates xhat = e_i * real + (1 - e_i) * fake for each row i of (rows, dim)
 * batches, one e_i in (0, 1] per row from Philox with counter (row, step, stream) and
 * key `seed` (as cl/random.cl draws). Same arguments, same xhat, on any device. All
 * buffers borrowed; xhat must not alias real or fake. Non-blocking. */
clgan_status clgan_interpolate(clgan_ctx *ctx, cl_mem xhat, cl_mem real, cl_mem fake, int rows,
                               int dim, uint64_t seed, long step, unsigned stream);
/* The same with the rows' draws from counter row0 on (a data-parallel rank's slice). */
clgan_status clgan_interpolate_at(clgan_ctx *ctx, cl_mem xhat, cl_mem real, cl_mem fake, int rows,
                                  int dim, uint64_t seed, long step, unsigned stream, int row0);

/* The WGAN-GP penalty of critic `d` on xhat (batch, in_dim), borrowed:
 *   P = lambda * mean_i (||g_i||_2 - 1)^2,  g_i = dD(xhat_i)/dxhat_i,
 * and its gradient dP/dtheta (lambda included) ADDED into d's gradient buffer: a
 * double backward through D (src/nn/gradpen.c has the derivation). Runs D forward on
 * xhat in TRAIN mode first, so view->out and the cached activations then belong to
 * xhat: call it after the real/fake backward passes that need theirs. Writes
 * metrics[slot] = P and metrics[slot + 1] = mean_i ||g_i|| on the device; no host sync.
 * D must end in one output per sample and hold only dense, convolution (Conv2d,
 * ConvTranspose2d, spectrally normalized or not), upsampling, zero-padding, reshape,
 * dropout (the mask of this forward is held fixed, as autograd does), LayerNorm and
 * activation layers: anything else, BatchNorm above all (batch statistics couple the
 * samples, so a per-sample input gradient is not defined), is refused with CLGAN_EINVAL
 * naming the layer and why, before any work. Scratch (about 2 * batch * (in_dim + sum
 * of layer widths) floats) is allocated on the first call, owned by `d`, and reused;
 * later calls allocate nothing. Uses the network's workspace (conv layers). */
clgan_status clgan_net_gradient_penalty(clgan_net *d, cl_mem xhat, float lambda, cl_mem metrics,
                                        int slot);
/* Checks `d` and allocates that scratch now, at setup (the trainer calls it), so the
 * first step allocates nothing; the same refusals as above. */
clgan_status clgan_net_gradient_penalty_setup(clgan_net *d);

#endif
