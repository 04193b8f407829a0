/* network.c - a network: an ordered list of layers over one flat parameter buffer, one
 * flat gradient buffer and one flat state buffer, plus the activation buffers for a
 * fixed batch and one scratch workspace. Shapes propagate: each layer is told its input
 * shape and reports its output shape. Runs forward and backward; never waits on the
 * device. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

#define MAX_LAYERS 64

/* Layer kinds, for names: dense0, bn1, conv2, ... */
enum { KIND_DENSE, KIND_BN, KIND_ACT, KIND_DROP, KIND_RES, KIND_CONV, KIND_CONVT, KIND_UP,
       KIND_PAD, KIND_RESHAPE, KIND_LN, KIND_COUNT };
static const char *const kind_prefix[KIND_COUNT] = {"dense", "bn", "act", "drop", "res", "conv",
                                                    "convt", "up", "pad", "reshape", "ln"};

struct clgan_net {
    clgan_ctx *ctx;
    clgan_net_view view;
    clgan_layer layers[MAX_LAYERS];
    int n_layers;
    int finalized;
    int planned;              /* tensors and offsets laid out for the current layers */
    int first[MAX_LAYERS + 1];    /* index of each layer's first tensor */
    int spectral_norm;          /* clgan_net_set_spectral_norm: for the layers added next */
    int kind_count[KIND_COUNT]; /* per kind, for layer names */
    clgan_tensor_info *tensors;
    cl_mem *views;            /* sub-buffers: values of every tensor, then grads */
    int n_views;
    cl_mem acts[MAX_LAYERS + 1];  /* acts[i+1] (batch, layers[i].out); acts[0] borrowed */
    cl_mem dacts[MAX_LAYERS + 1]; /* gradients of acts; dacts[0] = view.dinput */
    clgan_gp *gp;                 /* gradient-penalty scratch (gradpen.c), on first use */
    cl_mem ws;                    /* the layers' shared workspace (largest need) */
    clgan_init init;              /* for the kernels of layers added next */
    float init_std;
};

clgan_status clgan_net_init_shape(clgan_net **out, clgan_ctx *ctx, clgan_shape in, int batch)
{
    *out = NULL;
    if (in.h <= 0 || in.w <= 0 || in.c <= 0 || batch <= 0 ||
        (long long)in.h * in.w * in.c > (1 << 28))
        return clgan_error(CLGAN_EINVAL, "network needs an input shape of positive sizes (at "
                           "most 2^28 values) and batch > 0 (got %dx%dx%d, batch %d)", in.h,
                           in.w, in.c, batch);
    clgan_net *n = calloc(1, sizeof *n);
    if (!n)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    n->ctx = ctx;
    n->view.batch = batch;
    n->view.in_shape = n->view.out_shape = in;
    n->view.in_dim = n->view.out_dim = clgan_shape_size(in);
    *out = n;
    return CLGAN_OK;
}

clgan_status clgan_net_init(clgan_net **out, clgan_ctx *ctx, int in_dim, int batch)
{
    if (in_dim <= 0 || batch <= 0) {
        *out = NULL;
        return clgan_error(CLGAN_EINVAL, "network needs in_dim > 0 and batch > 0 (got %d, %d)",
                           in_dim, batch);
    }
    return clgan_net_init_shape(out, ctx, CLGAN_SHAPE(1, 1, in_dim), batch);
}

void clgan_net_free(clgan_net *n)
{
    if (!n)
        return;
    clgan_gp_free(n->gp);
    for (int i = 0; i < n->n_layers; i++)
        if (n->layers[i].ops)
            n->layers[i].ops->free(&n->layers[i]);
    for (int i = 0; i < n->n_views; i++)
        clgan_buf_release(&n->views[i]);
    for (int i = 1; i <= n->n_layers; i++) {
        clgan_buf_release(&n->acts[i]);
        clgan_buf_release(&n->dacts[i]);
    }
    clgan_buf_release(&n->dacts[0]);
    clgan_buf_release(&n->ws);
    clgan_buf_release(&n->view.params);
    clgan_buf_release(&n->view.grads);
    clgan_buf_release(&n->view.state);
    free(n->views);
    free(n->tensors);
    free(n);
}

const clgan_net_view *clgan_net_get(const clgan_net *n) { return &n->view; }

/* The next layer slot, told the current output shape, batch and context (for its
 * constructor); NULL with a message when none can be added. */
static clgan_layer *next_layer(clgan_net *n)
{
    if (n->finalized) {
        clgan_error(CLGAN_EINVAL, "network already finalized");
        return NULL;
    }
    if (n->n_layers >= MAX_LAYERS) {
        clgan_error(CLGAN_EINVAL, "too many layers (max %d)", MAX_LAYERS);
        return NULL;
    }
    clgan_layer *l = &n->layers[n->n_layers];
    memset(l, 0, sizeof *l);
    l->in_shape = n->view.out_shape;
    l->in = n->view.out_dim;
    l->batch = n->view.batch;
    l->ctx = n->ctx;
    l->spectral_norm = n->spectral_norm;
    l->init = n->init;
    l->init_std = n->init_std;
    return l;
}

clgan_status clgan_net_set_init(clgan_net *n, clgan_init init, float std)
{
    if ((unsigned)init > CLGAN_INIT_NORMAL || !(std >= 0.0f && std <= 10.0f))
        return clgan_error(CLGAN_EINVAL, "weight initialization %d with std %g: unknown", (int)init,
                           std);
    n->init = init;
    n->init_std = std;
    return CLGAN_OK;
}

void clgan_init_kernel(const clgan_layer *l, float *w, size_t n, double fan_in, double fan_out,
                       clgan_rng *rng)
{
    double limit = sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = l->init == CLGAN_INIT_NORMAL ? (float)(l->init_std * clgan_rng_normal(rng))
                                            : (float)((2.0 * clgan_rng_uniform(rng) - 1.0) * limit);
}

/* Appends the layer its constructor just made (status st). A constructor that sets no
 * out_shape keeps the input shape when the size is unchanged, else makes a feature
 * vector (1 x 1 x out). */
static clgan_status add_layer(clgan_net *n, int kind, clgan_status st)
{
    if (st != CLGAN_OK)
        return st;
    clgan_layer *l = &n->layers[n->n_layers];
    if (l->out_shape.c == 0)
        l->out_shape = l->out == l->in ? l->in_shape : CLGAN_SHAPE(1, 1, l->out);
    l->out = clgan_shape_size(l->out_shape);
    snprintf(l->name, sizeof l->name, "%s%d", kind_prefix[kind], n->kind_count[kind]++);
    n->planned = 0;
    n->view.out_dim = l->out;
    n->view.out_shape = l->out_shape;
    n->view.flops_fwd += l->flops * n->view.batch;
    n->n_layers++;
    n->view.n_layers = n->n_layers;
    return CLGAN_OK;
}

clgan_status clgan_net_add_dense(clgan_net *n, int out_dim, clgan_act act, float slope)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    if (out_dim <= 0)
        return clgan_error(CLGAN_EINVAL, "dense layer width must be > 0 (got %d)", out_dim);
    return add_layer(n, KIND_DENSE, clgan_dense_make(l, l->in, out_dim, act, slope));
}

clgan_status clgan_net_add_batchnorm(clgan_net *n, float eps, float momentum, float var_corr)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, KIND_BN, clgan_batchnorm_make(l, l->in, eps, momentum, var_corr));
}

clgan_status clgan_net_add_activation(clgan_net *n, clgan_act act, float slope)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, KIND_ACT, clgan_activation_make(l, l->in, act, slope));
}

clgan_status clgan_net_add_dropout(clgan_net *n, float rate)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    if (!(rate >= 0.0f && rate < 1.0f))
        return clgan_error(CLGAN_EINVAL, "dropout rate must be in [0, 1) (got %g)", rate);
    return add_layer(n, KIND_DROP, clgan_dropout_make(l, l->in, rate));
}

clgan_status clgan_net_add_dropout2d(clgan_net *n, float rate)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    if (!(rate >= 0.0f && rate < 1.0f))
        return clgan_error(CLGAN_EINVAL, "dropout2d rate must be in [0, 1) (got %g)", rate);
    return add_layer(n, KIND_DROP, clgan_dropout2d_make(l, rate));
}

clgan_status clgan_net_add_layernorm(clgan_net *n, float eps)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, KIND_LN, clgan_layernorm_make(l, eps));
}

clgan_status clgan_net_set_spectral_norm(clgan_net *n, int on)
{
    if (n->finalized)
        return clgan_error(CLGAN_EINVAL, "network already finalized");
    n->spectral_norm = on != 0;
    return CLGAN_OK;
}

clgan_status clgan_net_add_residual(clgan_net *n, int out_dim, clgan_act act, float slope, int bn,
                                    float eps, float momentum, float var_corr)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    if (out_dim <= 0)
        return clgan_error(CLGAN_EINVAL, "residual block width must be > 0 (got %d)", out_dim);
    if (n->spectral_norm)
        return clgan_error(CLGAN_EINVAL, "spectral normalization is not implemented for "
                           "residual blocks (only dense and convolution layers)");
    return add_layer(n, KIND_RES, clgan_residual_make(l, l->in, out_dim, act, slope, bn, eps,
                                                      momentum, var_corr));
}

clgan_status clgan_net_add_conv2d(clgan_net *n, const clgan_conv_opts *o)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, o->transpose ? KIND_CONVT : KIND_CONV, clgan_conv_make(l, o));
}

clgan_status clgan_net_add_upsample(clgan_net *n, int fh, int fw)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, KIND_UP, clgan_upsample_make(l, fh, fw));
}

clgan_status clgan_net_add_zeropad(clgan_net *n, int top, int bottom, int left, int right)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, KIND_PAD, clgan_zeropad_make(l, top, bottom, left, right));
}

clgan_status clgan_net_add_reshape(clgan_net *n, clgan_shape s)
{
    clgan_layer *l = next_layer(n);
    if (!l)
        return CLGAN_EINVAL;
    return add_layer(n, KIND_RESHAPE, clgan_reshape_make(l, s));
}

/* Lays out every tensor (names, aligned offsets) from the layer list: host memory only,
 * so a network can be planned (clgan_net_plan_get) before anything is allocated. */
static clgan_status plan_tensors(clgan_net *n)
{
    clgan_tensor_info tmp[CLGAN_LAYER_MAX_TENSORS];
    size_t align = clgan_buf_align(n->ctx) / sizeof(float), np = 0, ns = 0, nw = 0;
    int total = 0;
    if (n->planned)
        return CLGAN_OK;
    for (int i = 0; i < n->n_layers; i++)
        total += n->layers[i].ops->describe(&n->layers[i], tmp);
    free(n->tensors);
    n->tensors = calloc(total ? total : 1, sizeof *n->tensors);
    if (!n->tensors)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    int t = 0;
    for (int i = 0; i < n->n_layers; i++) {
        int k = n->layers[i].ops->describe(&n->layers[i], tmp);
        n->first[i] = t;
        for (int j = 0; j < k; j++, t++) {
            clgan_tensor_info *ti = &n->tensors[t];
            *ti = tmp[j];
            snprintf(ti->name, sizeof ti->name, "%.23s.%.23s", n->layers[i].name, tmp[j].name);
            ti->count = 1;
            for (int d = 0; d < ti->ndim; d++)
                ti->count *= ti->shape[d];
            size_t *cur = ti->trained ? &np : &ns;
            ti->offset = *cur;
            *cur += (ti->count + align - 1) / align * align;
            if (ti->trained)
                nw += ti->count;
        }
    }
    n->first[n->n_layers] = t;
    n->view.n_tensors = total;
    n->view.tensors = n->tensors;
    n->view.n_params = np;
    n->view.n_state = ns;
    n->view.n_weights = nw;
    n->planned = 1;
    return CLGAN_OK;
}

/* a * b, or SIZE_MAX when that does not fit. */
static size_t mul_sat(size_t a, size_t b) { return b && a > SIZE_MAX / b ? SIZE_MAX : a * b; }
static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

clgan_status clgan_net_plan_get(clgan_net *n, clgan_net_plan *p)
{
    clgan_status st = plan_tensors(n);
    const size_t B = (size_t)n->view.batch;
    size_t ws = 0;
    memset(p, 0, sizeof *p);
    if (st != CLGAN_OK)
        return st;
    size_t pb = mul_sat(n->view.n_params, 4), sb = mul_sat(n->view.n_state, 4);
    size_t in = mul_sat(mul_sat(B, (size_t)n->view.in_dim), 4);
    p->device_bytes = add_sat(add_sat(mul_sat(pb, 2), sb), in); /* params, grads, state, dinput */
    p->largest_bytes = pb > sb ? pb : sb;
    p->largest_bytes = in > p->largest_bytes ? in : p->largest_bytes;
    for (int i = 0; i < n->n_layers; i++) {
        const clgan_layer *l = &n->layers[i];
        size_t act = mul_sat(mul_sat(B, (size_t)l->out), 4);
        size_t wide = mul_sat(mul_sat(B, (size_t)(l->in > l->out ? l->in : l->out)), 4);
        size_t scr = mul_sat(mul_sat(B, l->scratch), 4);
        p->device_bytes = add_sat(add_sat(p->device_bytes, mul_sat(act, 2)), scr);
        if (act > p->largest_bytes)
            p->largest_bytes = act;
        if (scr && wide > p->largest_bytes) /* no single cache is wider than the layer */
            p->largest_bytes = wide < scr ? wide : scr;
        ws = l->workspace > ws ? l->workspace : ws;
        /* A spectrally normalized kernel keeps W / sigma and its gradient (specnorm.c). */
        for (int t = n->first[i]; l->spectral_norm && t < n->first[i + 1]; t++)
            if (n->tensors[t].trained && strstr(n->tensors[t].name, ".kernel")) {
                size_t k = mul_sat(n->tensors[t].count, 4);
                p->device_bytes = add_sat(p->device_bytes, add_sat(mul_sat(k, 2), 4));
                p->largest_bytes = k > p->largest_bytes ? k : p->largest_bytes;
            }
    }
    p->device_bytes = add_sat(p->device_bytes, ws); /* one shared workspace, the largest need */
    p->largest_bytes = ws > p->largest_bytes ? ws : p->largest_bytes;
    p->host_bytes = add_sat(pb, sb);
    return CLGAN_OK;
}

/* Allocates the flat buffers and the tensor views (plan_tensors has laid them out). */
static clgan_status layout(clgan_net *n)
{
    size_t np = n->view.n_params, ns = n->view.n_state;
    int total = n->view.n_tensors;
    n->views = calloc(2 * (total ? total : 1), sizeof *n->views);
    if (!n->views)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    clgan_status st;
    if ((st = clgan_buf_alloc(n->ctx, &n->view.params, np * 4, "parameters")) != CLGAN_OK ||
        (st = clgan_buf_alloc(n->ctx, &n->view.grads, np * 4, "gradients")) != CLGAN_OK ||
        (st = clgan_buf_alloc(n->ctx, &n->view.state, ns * 4, "running statistics")) != CLGAN_OK)
        return st;
    for (int t = 0; t < total; t++) {
        clgan_tensor_info *ti = &n->tensors[t];
        cl_mem parent = ti->trained ? n->view.params : n->view.state;
        if ((st = clgan_buf_sub(n->ctx, &n->views[n->n_views++], parent, ti->offset * 4,
                                ti->count * 4)) != CLGAN_OK)
            return st;
        if (ti->trained &&
            (st = clgan_buf_sub(n->ctx, &n->views[n->n_views++], n->view.grads, ti->offset * 4,
                                ti->count * 4)) != CLGAN_OK)
            return st;
    }
    return CLGAN_OK;
}

clgan_status clgan_net_finalize(clgan_net *n, uint64_t seed)
{
    const int *first = n->first;
    clgan_status st;
    float *hp = NULL, *hs = NULL;
    clgan_rng rng = {seed};
    if (n->finalized)
        return clgan_error(CLGAN_EINVAL, "network already finalized");
    if (n->n_layers == 0)
        return clgan_error(CLGAN_EINVAL, "network has no layers");
    if ((st = plan_tensors(n)) != CLGAN_OK || (st = layout(n)) != CLGAN_OK)
        return st;
    hp = calloc(n->view.n_params + 1, sizeof *hp);
    hs = calloc(n->view.n_state + 1, sizeof *hs);
    if (!hp || !hs) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    size_t ws = 0;
    for (int i = 0; i < n->n_layers; i++)
        if (n->layers[i].workspace > ws)
            ws = n->layers[i].workspace;
    if (ws && (st = clgan_buf_alloc(n->ctx, &n->ws, ws, "layer workspace")) != CLGAN_OK)
        goto done;
    int v = 0;
    for (int i = 0; i < n->n_layers; i++) {
        clgan_layer *l = &n->layers[i];
        l->ws = l->workspace ? n->ws : NULL;
        cl_mem vals[CLGAN_LAYER_MAX_TENSORS] = {0}, grads[CLGAN_LAYER_MAX_TENSORS] = {0};
        float *host[CLGAN_LAYER_MAX_TENSORS] = {0};
        for (int t = first[i]; t < first[i + 1]; t++) {
            const clgan_tensor_info *ti = &n->tensors[t];
            vals[t - first[i]] = n->views[v++];
            if (ti->trained)
                grads[t - first[i]] = n->views[v++];
            host[t - first[i]] = (ti->trained ? hp : hs) + ti->offset;
        }
        l->ops->init(l, host, &rng);
        if ((st = l->ops->bind(l, n->ctx, vals, grads, n->view.batch)) != CLGAN_OK)
            goto done;
        if ((st = clgan_buf_alloc(n->ctx, &n->acts[i + 1], (size_t)n->view.batch * l->out * 4,
                                  "activations")) != CLGAN_OK ||
            (st = clgan_buf_alloc(n->ctx, &n->dacts[i + 1], (size_t)n->view.batch * l->out * 4,
                                  "activation gradients")) != CLGAN_OK)
            goto done;
    }
    if ((st = clgan_buf_alloc(n->ctx, &n->dacts[0], (size_t)n->view.batch * n->view.in_dim * 4,
                              "input gradient")) != CLGAN_OK)
        goto done;
    n->view.dinput = n->dacts[0];
    n->view.out = n->acts[n->n_layers];
    n->finalized = 1;
    st = clgan_net_write_params(n, hp, hs);
done:
    free(hp);
    free(hs);
    return st;
}

clgan_status clgan_net_forward(clgan_net *n, cl_mem x, clgan_mode mode)
{
    clgan_status st = CLGAN_OK;
    n->acts[0] = x;
    for (int i = 0; i < n->n_layers && st == CLGAN_OK; i++)
        st = n->layers[i].ops->forward(&n->layers[i], n->ctx, n->acts[i + 1], n->acts[i],
                                       n->view.batch, mode);
    return st;
}

clgan_status clgan_net_backward(clgan_net *n, cl_mem dout, int param_grads, int input_grad)
{
    clgan_status st = CLGAN_OK;
    for (int i = n->n_layers - 1; i >= 0 && st == CLGAN_OK; i--) {
        cl_mem dx = i > 0 ? n->dacts[i] : (input_grad ? n->dacts[0] : NULL);
        cl_mem dy = i == n->n_layers - 1 ? dout : n->dacts[i + 1];
        st = n->layers[i].ops->backward(&n->layers[i], n->ctx, dx, dy, n->acts[i],
                                        n->acts[i + 1], n->view.batch, param_grads);
    }
    return st;
}

cl_mem clgan_net_dout(const clgan_net *n) { return n->dacts[n->n_layers]; }

clgan_status clgan_net_zero_grad(clgan_net *n)
{
    return clgan_buf_zero(n->ctx, n->view.grads, 0, n->view.n_params * 4);
}

clgan_status clgan_net_read_params(clgan_net *n, float *hp, float *hs)
{
    clgan_status st = CLGAN_OK;
    if (hp && n->view.n_params)
        st = clgan_buf_read(n->ctx, n->view.params, 0, hp, n->view.n_params * 4);
    if (st == CLGAN_OK && hs && n->view.n_state)
        st = clgan_buf_read(n->ctx, n->view.state, 0, hs, n->view.n_state * 4);
    return st;
}

clgan_status clgan_net_write_params(clgan_net *n, const float *hp, const float *hs)
{
    clgan_status st = CLGAN_OK;
    if (hp && n->view.n_params)
        st = clgan_buf_write(n->ctx, n->view.params, 0, hp, n->view.n_params * 4);
    if (st == CLGAN_OK && hs && n->view.n_state)
        st = clgan_buf_write(n->ctx, n->view.state, 0, hs, n->view.n_state * 4);
    return st;
}

int clgan_tensor_shape_eq(const clgan_tensor_info *ti, int ndim, const size_t *shape)
{
    if (ti->ndim != ndim)
        return 0;
    for (int d = 0; d < ndim; d++)
        if (ti->shape[d] != shape[d])
            return 0;
    return 1;
}

const clgan_tensor_info *clgan_net_find(const clgan_net *n, const char *name)
{
    for (int i = 0; i < n->view.n_tensors; i++)
        if (!strcmp(n->tensors[i].name, name))
            return &n->tensors[i];
    return NULL;
}

int clgan_net_draws(const clgan_net *n, uint32_t *out, int max)
{
    int k = 0;
    for (int i = 0; i < n->n_layers; i++)
        if (n->layers[i].draws) {
            if (k < max)
                out[k] = *n->layers[i].draws;
            k++;
        }
    return k;
}

clgan_status clgan_net_set_draws(clgan_net *n, const uint32_t *in, int count)
{
    int have = clgan_net_draws(n, NULL, 0);
    if (count != have)
        return clgan_error(CLGAN_EFORMAT, "%d random-draw counters for a network that has %d",
                           count, have);
    for (int i = 0, k = 0; i < n->n_layers; i++)
        if (n->layers[i].draws)
            *n->layers[i].draws = in[k++];
    return CLGAN_OK;
}

void clgan_net_set_batch_sync(clgan_net *n, const clgan_batch_sync *s)
{
    for (int i = 0; i < n->n_layers; i++)
        n->layers[i].bsync = s;
}

void clgan_net_set_row0(clgan_net *n, int row0)
{
    for (int i = 0; i < n->n_layers; i++)
        n->layers[i].row0 = row0;
}

/* ---- gradient-penalty access (gradpen.c) ------------------------------------------ */

void clgan_net_parts_get(clgan_net *n, clgan_net_parts *out)
{
    *out = (clgan_net_parts){.ctx = n->ctx,
                             .layers = n->layers,
                             .n_layers = n->n_layers,
                             .batch = n->view.batch,
                             .in_dim = n->view.in_dim,
                             .out_dim = n->view.out_dim,
                             .finalized = n->finalized,
                             .acts = n->acts,
                             .gp = &n->gp};
}
