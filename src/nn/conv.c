/* conv.c - Conv2d and ConvTranspose2d over NHWC activations, lowered to products through
 * clgan_gemm: im2col (cl/conv.cl) of a chunk of whole images into the network's
 * workspace, one product per chunk with the images folded into its rows, and col2im for
 * the adjoint. Bias and activation as in dense layers (fused where the GEMM can).
 *
 * Each layer uses one underlying convolution geometry `g`: from an "image" side
 * (H, W, C) to a "column" side (OH, OW) with K = KH*KW*C columns (cl/conv.cl).
 *   Conv2d (x (N,H,W,Cin) -> y (N,OH,OW,F)), weights (K, F), K = KH*KW*Cin:
 *     y = im2col(x) W;   dW += im2col(x)^T dz;   dx = col2im(dz W^T).
 *   ConvTranspose2d (x (N,Hi,Wi,Cin) -> y (N,Ho,Wo,F)), weights (Cin, K), K = KH*KW*F,
 *   is the adjoint of the Conv2d from y's shape back to x's (same k, stride, padding):
 *     y = col2im(x W);   dW += x^T im2col(dz);   dx = im2col(dz) W^T.
 * A 1x1, stride-1, unpadded Conv2d skips im2col (its column matrix is x itself).
 * Chunks hold whole images, so each col2im reads only its own chunk's columns.
 *
 * With the native GEMM (CPU devices), a Conv2d instead runs as implicit products
 * (cl/gemm_conv.cl) that read the column matrix straight from x, with no im2col pass:
 * the forward always, the weight gradient when the input channels are a multiple of the
 * GEMM tile's rows, and the input gradient of a stride-1 convolution as a convolution of
 * dz with the flipped kernel. The other cases keep the explicit path.
 */
#include <math.h>
#include <stdlib.h>

#include "layer.h"

typedef struct {
    int H, W, C;          /* image side */
    int OH, OW;           /* column side (rows of the column matrix per image) */
    int KH, KW, SH, SW, PT, PL;
} conv_geom;

typedef struct {
    clgan_conv_opts o;
    conv_geom g;
    int K;                /* KH*KW*g.C */
    int direct;           /* Conv2d whose column matrix is x (1x1, stride 1, no padding) */
    int chunk;            /* images per workspace chunk */
    cl_mem w, b, dw, db;  /* views into the network's params / grads (b, db NULL: no bias) */
    clgan_sn *sn;         /* spectral norm of the kernel, or NULL */
    cl_mem wf;            /* the kernel the last forward used: w, or sn's W / sigma */
    cl_mem zeros;         /* (max(C, F)) zeros: the padding the implicit products read */
} conv_layer;

/* Workspace per chunk: larger chunks make larger products (better for GPUs), smaller
 * ones keep the column matrix in cache on CPUs. */
#define CHUNK_BYTES_CPU ((size_t)8 << 20)
#define CHUNK_BYTES_GPU ((size_t)256 << 20)

static int conv_describe(const clgan_layer *l, clgan_tensor_info *t)
{
    const conv_layer *c = l->priv;
    size_t kh = (size_t)c->o.kh, kw = (size_t)c->o.kw, ci = (size_t)l->in_shape.c,
           f = (size_t)c->o.filters;
    if (c->o.transpose)
        t[0] = (clgan_tensor_info){.name = "kernel", .ndim = 4, .shape = {ci, kh, kw, f}, .trained = 1};
    else
        t[0] = (clgan_tensor_info){.name = "kernel", .ndim = 4, .shape = {kh, kw, ci, f}, .trained = 1};
    int n = 1;
    if (!c->o.no_bias)
        t[n++] = (clgan_tensor_info){.name = "bias", .ndim = 1, .shape = {f}, .trained = 1};
    return c->sn ? n + clgan_sn_describe(c->sn, t + n) : n;
}

/* Plans every product conv_run and conv_lin_bwd issue through clgan_gemm at `batch`
 * (runtime.h, clgan_gemm_plan_off): per chunk, with the offsets the chunk's operands
 * start at (nonzero after the first chunk). Nothing for the native GEMM. */
static clgan_status conv_plan(clgan_layer *l, clgan_ctx *ctx, const conv_layer *c, int batch)
{
    const size_t F = (size_t)c->o.filters, Cin = (size_t)l->in_shape.c, K = (size_t)c->K;
    clgan_status st = CLGAN_OK;
    for (int i0 = 0; i0 < batch && st == CLGAN_OK; i0 += c->chunk) {
        size_t nimg = (size_t)(batch - i0 < c->chunk ? batch - i0 : c->chunk);
        size_t xo = (size_t)i0 * l->in, yo = (size_t)i0 * l->out;
        if (!c->o.transpose) {
            size_t rows = nimg * c->g.OH * c->g.OW, co = c->direct ? xo : 0;
            if ((st = clgan_gemm_plan_off(ctx, 0, 0, rows, F, K, co, 0, yo)) != CLGAN_OK ||
                (st = clgan_gemm_plan_off(ctx, 1, 0, K, F, rows, co, yo, 0)) != CLGAN_OK)
                break;
            st = clgan_gemm_plan_off(ctx, 0, 1, rows, K, F, yo, 0, co);
        } else {
            size_t rows = nimg * l->in_shape.h * l->in_shape.w;
            if ((st = clgan_gemm_plan_off(ctx, 0, 0, rows, K, Cin, xo, 0, 0)) != CLGAN_OK ||
                (st = clgan_gemm_plan_off(ctx, 1, 0, Cin, K, rows, xo, 0, 0)) != CLGAN_OK)
                break;
            st = clgan_gemm_plan_off(ctx, 0, 1, rows, Cin, K, 0, 0, xo);
        }
    }
    return st;
}

static clgan_status conv_bind(clgan_layer *l, clgan_ctx *ctx, cl_mem *v, cl_mem *g, int batch)
{
    conv_layer *c = l->priv;
    const int n = c->o.no_bias ? 1 : 2;
    clgan_status st;
    c->w = c->wf = v[0];
    c->dw = g[0];
    c->b = c->o.no_bias ? NULL : v[1];
    c->db = c->o.no_bias ? NULL : g[1];
    if (c->sn && (st = clgan_sn_bind(c->sn, ctx, v[n], v[n + 1])) != CLGAN_OK)
        return st;
    /* The bias gradient's column sums over the batch's N*OH*OW rows (GPU shapes), and
     * the products. */
    if (c->b)
        clgan_col_reserve(ctx, CLGAN_K_act_bwd_bias_cols_none,
                          batch * l->out_shape.h * l->out_shape.w, c->o.filters, 1, 0);
    if ((st = conv_plan(l, ctx, c, batch)) != CLGAN_OK)
        return st;
    if (c->o.transpose)
        return CLGAN_OK;
    int zn = l->in_shape.c > c->o.filters ? l->in_shape.c : c->o.filters;
    return clgan_buf_alloc(ctx, &c->zeros, (size_t)zn * sizeof(float), "convolution padding");
}

/* 1 when this Conv2d runs as implicit products (cl/gemm_conv.cl): the native GEMM. */
static int implicit(clgan_ctx *ctx, const conv_layer *c)
{
    return !c->o.transpose && clgan_gemm_get_impl(ctx) == CLGAN_GEMM_NATIVE;
}

/* conv_fwd: out (nimg, OH, OW, F) from in (nimg, H, W, C) with kernel w (KH, KW, C, F),
 * stride (sh, sw), leading padding (pt, pl); bias NULL: none (act ignored). */
static clgan_status conv_fwd(clgan_ctx *ctx, cl_mem out, cl_mem in, cl_mem w, cl_mem zeros,
                             cl_mem bias, clgan_act act, float slope, int nimg, int H, int W,
                             int C, int OH, int OW, int F, int KH, int KW, int sh, int sw, int pt,
                             int pl)
{
    const size_t tm = (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_TM);
    const size_t tn = (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_VW) *
                      (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_TNV);
    const int M = nimg * OH * OW;
    size_t g[2] = {((size_t)M + tm - 1) / tm, ((size_t)F + tn - 1) / tn}, one[2] = {1, 1};
    clgan_gemm_add_flops(ctx, 2.0 * M * F * (double)KH * KW * C);
    return clgan_launch(ctx, CLGAN_K_conv_fwd, 2, g, clgan_cpu_shapes(ctx) ? one : NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(in), CLGAN_ARG_MEM(w),
                                   CLGAN_ARG_MEM(zeros), CLGAN_ARG_MEM(bias), CLGAN_ARG_INT(act),
                                   CLGAN_ARG_F32(slope), CLGAN_ARG_INT(M), CLGAN_ARG_INT(F),
                                   CLGAN_ARG_INT(H), CLGAN_ARG_INT(W), CLGAN_ARG_INT(C),
                                   CLGAN_ARG_INT(OH), CLGAN_ARG_INT(OW), CLGAN_ARG_INT(KH),
                                   CLGAN_ARG_INT(KW), CLGAN_ARG_INT(sh), CLGAN_ARG_INT(sw),
                                   CLGAN_ARG_INT(pt), CLGAN_ARG_INT(pl), CLGAN_ARG_INT(0),
                                   CLGAN_ARG_INT(0)));
}

/* The implicit weight gradient over the whole batch: dw (K, F) (beta 0: set, 1: add). */
static clgan_status implicit_wgrad(clgan_ctx *ctx, const conv_layer *c, cl_mem dw, cl_mem x,
                                   cl_mem dz, int batch, float beta)
{
    const conv_geom *g = &c->g;
    const size_t tm = (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_TM);
    const size_t tn = (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_VW) *
                      (size_t)clgan_tunable(ctx, CLGAN_T_GEMM_TNV);
    const int F = c->o.filters;
    size_t gs[2] = {(size_t)c->K / tm, ((size_t)F + tn - 1) / tn}, panel[2] = {16, 1};
    clgan_gemm_add_flops(ctx, 2.0 * batch * g->OH * g->OW * (double)c->K * F);
    return clgan_launch(ctx, CLGAN_K_conv_wgrad, 2, gs, clgan_cpu_shapes(ctx) ? panel : NULL,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dw), CLGAN_ARG_MEM(x), CLGAN_ARG_MEM(dz),
                                   CLGAN_ARG_F32(beta), CLGAN_ARG_INT(batch * g->OH * g->OW),
                                   CLGAN_ARG_INT(F), CLGAN_ARG_INT(g->H), CLGAN_ARG_INT(g->W),
                                   CLGAN_ARG_INT(g->C), CLGAN_ARG_INT(g->OH), CLGAN_ARG_INT(g->OW),
                                   CLGAN_ARG_INT(g->KH), CLGAN_ARG_INT(g->KW), CLGAN_ARG_INT(g->SH),
                                   CLGAN_ARG_INT(g->SW), CLGAN_ARG_INT(g->PT), CLGAN_ARG_INT(g->PL),
                                   CLGAN_ARG_INT(0), CLGAN_ARG_INT(0)));
}

/* dx of a stride-1 Conv2d: conv_fwd of dz with the flipped kernel of the last forward
 * (in the workspace). */
static clgan_status conv_dx_flipped(clgan_ctx *ctx, const clgan_layer *l, const conv_layer *c,
                                    cl_mem dx, cl_mem dz, int batch)
{
    const conv_geom *g = &c->g;
    const int F = c->o.filters;
    size_t n = (size_t)c->K * F, ls = clgan_local_size(ctx, CLGAN_K_conv_flip, 64);
    clgan_status st = clgan_launch(ctx, CLGAN_K_conv_flip, 1, &n, &ls,
                                   CLGAN_ARGS(CLGAN_ARG_MEM(l->ws), CLGAN_ARG_MEM(c->wf),
                                              CLGAN_ARG_INT(g->KH), CLGAN_ARG_INT(g->KW),
                                              CLGAN_ARG_INT(g->C), CLGAN_ARG_INT(F)));
    if (st != CLGAN_OK)
        return st;
    return conv_fwd(ctx, dx, dz, l->ws, c->zeros, NULL, CLGAN_ACT_NONE, 0.0f, batch, g->OH,
                    g->OW, F, g->H, g->W, g->C, g->KH, g->KW, 1, 1, g->KH - 1 - g->PT,
                    g->KW - 1 - g->PL);
}

static void conv_init(clgan_layer *l, float *const *host, clgan_rng *rng)
{
    const conv_layer *c = l->priv;
    size_t kk = (size_t)c->o.kh * c->o.kw, n = kk * l->in_shape.c * c->o.filters;
    /* Keras' fans for a kernel: receptive field times input and output channels. */
    clgan_init_kernel(l, host[0], n, (double)kk * l->in_shape.c, (double)kk * c->o.filters, rng);
    for (int j = 0; !c->o.no_bias && j < c->o.filters; j++)
        host[1][j] = 0.0f;
    if (c->sn)
        clgan_sn_init(c->sn, host[c->o.no_bias ? 1 : 2], host[c->o.no_bias ? 2 : 3], rng);
}

clgan_status clgan_launch_chan(clgan_ctx *ctx, clgan_kernel_id k, int channels, size_t rows,
                               int nargs, const clgan_arg *args)
{
    size_t lc = 1;
    while (lc < (size_t)channels && lc < 64)
        lc *= 2;
    lc = clgan_local_size(ctx, k, lc);
    size_t g[2] = {(size_t)channels, rows}, l[2] = {lc, 1};
    return clgan_launch(ctx, k, 2, g, l, nargs, args);
}

/* The column matrix of images [img0, img0 + nimg) of `img` (image-side tensor). */
static clgan_status im2col(clgan_ctx *ctx, const conv_layer *c, cl_mem col, cl_mem img, int img0,
                           int nimg)
{
    const conv_geom *g = &c->g;
    const size_t rows = (size_t)nimg * g->OH * g->OW;
    return clgan_launch_chan(ctx, CLGAN_K_im2col_nhwc, g->C, rows,
                        CLGAN_ARGS(CLGAN_ARG_MEM(col), CLGAN_ARG_MEM(img), CLGAN_ARG_INT(g->H),
                                   CLGAN_ARG_INT(g->W), CLGAN_ARG_INT(g->C), CLGAN_ARG_INT(g->OH),
                                   CLGAN_ARG_INT(g->OW), CLGAN_ARG_INT(g->KH), CLGAN_ARG_INT(g->KW),
                                   CLGAN_ARG_INT(g->SH), CLGAN_ARG_INT(g->SW), CLGAN_ARG_INT(g->PT),
                                   CLGAN_ARG_INT(g->PL), CLGAN_ARG_INT((int)rows),
                                   CLGAN_ARG_INT(img0 * g->H * g->W * g->C)));
}

/* Images [img0, img0 + nimg) of `img` = the adjoint of im2col applied to `col`. */
static clgan_status col2im(clgan_ctx *ctx, const conv_layer *c, cl_mem img, cl_mem col, int img0,
                           int nimg)
{
    const conv_geom *g = &c->g;
    return clgan_launch_chan(ctx, CLGAN_K_col2im_nhwc, g->C, (size_t)nimg * g->H * g->W,
                        CLGAN_ARGS(CLGAN_ARG_MEM(img), CLGAN_ARG_MEM(col), CLGAN_ARG_INT(g->H),
                                   CLGAN_ARG_INT(g->W), CLGAN_ARG_INT(g->C), CLGAN_ARG_INT(g->OH),
                                   CLGAN_ARG_INT(g->OW), CLGAN_ARG_INT(g->KH), CLGAN_ARG_INT(g->KW),
                                   CLGAN_ARG_INT(g->SH), CLGAN_ARG_INT(g->SW), CLGAN_ARG_INT(g->PT),
                                   CLGAN_ARG_INT(g->PL), CLGAN_ARG_INT(nimg),
                                   CLGAN_ARG_INT(img0 * g->H * g->W * g->C), CLGAN_ARG_INT(0)));
}

/* y = A(x) + b, then act (b NULL, act NONE: the plain product A), with the kernel of
 * the last forward (c->wf). */
static clgan_status conv_run(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                             cl_mem bias, clgan_act act, float slope)
{
    conv_layer *c = l->priv;
    const conv_geom *g = &c->g;
    const int F = c->o.filters, Cin = l->in_shape.c;
    clgan_status st = CLGAN_OK;
    int fused = 0;
    if (implicit(ctx, c)) {
        /* conv_fwd applies the activation only with a bias */
        st = conv_fwd(ctx, y, x, c->wf, c->zeros, bias, act, slope, batch, g->H, g->W, g->C,
                      g->OH, g->OW, F, g->KH, g->KW, g->SH, g->SW, g->PT, g->PL);
        if (st != CLGAN_OK || bias)
            return st;
        return clgan_bias_act_fwd(ctx, y, NULL, batch * g->OH * g->OW, F, act, slope);
    }
    for (int i0 = 0; i0 < batch && st == CLGAN_OK; i0 += c->chunk) {
        int nimg = batch - i0 < c->chunk ? batch - i0 : c->chunk;
        if (!c->o.transpose) {
            /* y rows (nimg*OH*OW, F) = col (rows, K) W (K, F) [+ bias, act] */
            size_t rows = (size_t)nimg * g->OH * g->OW;
            clgan_mat a = c->direct ? CLGAN_MAT(x, (size_t)i0 * l->in, (size_t)c->K)
                                    : CLGAN_MAT(l->ws, 0, (size_t)c->K);
            if (!c->direct && (st = im2col(ctx, c, l->ws, x, i0, nimg)) != CLGAN_OK)
                break;
            st = clgan_gemm_bias_act_mat(ctx, rows, F, c->K, a, CLGAN_MAT(c->wf, 0, F),
                                         CLGAN_MAT(y, (size_t)i0 * l->out, F), bias, act, slope,
                                         &fused);
        } else {
            /* col (nimg*Hi*Wi, K) = x (rows, Cin) W (Cin, K); y = col2im(col) */
            size_t rows = (size_t)nimg * l->in_shape.h * l->in_shape.w;
            if ((st = clgan_gemm_mat(ctx, 0, 0, rows, c->K, Cin, 1.0f,
                                     CLGAN_MAT(x, (size_t)i0 * l->in, Cin),
                                     CLGAN_MAT(c->wf, 0, c->K), 0.0f,
                                     CLGAN_MAT(l->ws, 0, c->K))) == CLGAN_OK)
                st = col2im(ctx, c, y, l->ws, i0, nimg);
        }
    }
    if (st != CLGAN_OK || fused)
        return st;
    return clgan_bias_act_fwd(ctx, y, bias, batch * l->out_shape.h * l->out_shape.w, F, act,
                              slope);
}

static clgan_status conv_forward(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch,
                                 clgan_mode mode)
{
    conv_layer *c = l->priv;
    clgan_status st;
    if (c->sn && (st = clgan_sn_forward(c->sn, ctx, c->w, mode, &c->wf)) != CLGAN_OK)
        return st;
    return conv_run(l, ctx, y, x, batch, c->b, c->o.act, c->o.slope);
}

/* The adjoint of the product and its weight gradient, from dz (the gradient at
 * A(x) + b; not modified): dx = A^T(dz) when dx is set, and the weight gradient of
 * <A(x; W), dz> into wacc when it is set (wmode CLGAN_GRAD_SET or _ADD), sharing the
 * column matrix where both need it. */
static clgan_status conv_lin_bwd(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                 cl_mem wacc, int wmode, int batch)
{
    conv_layer *c = l->priv;
    const conv_geom *g = &c->g;
    const int F = c->o.filters, Cin = l->in_shape.c;
    const size_t K = (size_t)c->K;
    clgan_status st = CLGAN_OK;
    if (implicit(ctx, c)) {
        int wgrad = wacc && c->g.C % clgan_tunable(ctx, CLGAN_T_GEMM_TM) == 0;
        int flipped = dx && g->SH == 1 && g->SW == 1;
        if (wgrad && (st = implicit_wgrad(ctx, c, wacc, x, dy, batch,
                                          wmode == CLGAN_GRAD_SET ? 0.0f : 1.0f)) != CLGAN_OK)
            return st;
        if (flipped && (st = conv_dx_flipped(ctx, l, c, dx, dy, batch)) != CLGAN_OK)
            return st;
        if (wgrad)
            wacc = NULL; /* done: the explicit path skips it */
        if (flipped)
            dx = NULL;
    }
    for (int i0 = 0; i0 < batch && st == CLGAN_OK && (dx || wacc); i0 += c->chunk) {
        int nimg = batch - i0 < c->chunk ? batch - i0 : c->chunk;
        float beta = wmode == CLGAN_GRAD_SET && i0 == 0 ? 0.0f : 1.0f;
        if (!c->o.transpose) {
            size_t rows = (size_t)nimg * g->OH * g->OW;
            clgan_mat dz = CLGAN_MAT(dy, (size_t)i0 * l->out, F);
            clgan_mat col = c->direct ? CLGAN_MAT(x, (size_t)i0 * l->in, K)
                                      : CLGAN_MAT(l->ws, 0, K);
            /* dW (K, F) += col^T (K, rows) dz (rows, F) */
            if (wacc &&
                ((!c->direct && (st = im2col(ctx, c, l->ws, x, i0, nimg)) != CLGAN_OK) ||
                 (st = clgan_gemm_mat(ctx, 1, 0, K, F, rows, 1.0f, col, dz, beta,
                                      CLGAN_MAT(wacc, 0, F))) != CLGAN_OK))
                break;
            /* dx = col2im(dz (rows, F) W^T (F, K)) */
            if (dx) {
                clgan_mat dcol = c->direct ? CLGAN_MAT(dx, (size_t)i0 * l->in, K)
                                           : CLGAN_MAT(l->ws, 0, K);
                if ((st = clgan_gemm_mat(ctx, 0, 1, rows, K, F, 1.0f, dz, CLGAN_MAT(c->wf, 0, F),
                                         0.0f, dcol)) != CLGAN_OK ||
                    (!c->direct && (st = col2im(ctx, c, dx, l->ws, i0, nimg)) != CLGAN_OK))
                    break;
            }
        } else {
            size_t rows = (size_t)nimg * l->in_shape.h * l->in_shape.w;
            /* col (rows, K) = im2col(dz) */
            if ((st = im2col(ctx, c, l->ws, dy, i0, nimg)) != CLGAN_OK)
                break;
            /* dW (Cin, K) += x^T (Cin, rows) col (rows, K) */
            if (wacc &&
                (st = clgan_gemm_mat(ctx, 1, 0, Cin, K, rows, 1.0f,
                                     CLGAN_MAT(x, (size_t)i0 * l->in, Cin),
                                     CLGAN_MAT(l->ws, 0, K), beta,
                                     CLGAN_MAT(wacc, 0, K))) != CLGAN_OK)
                break;
            /* dx (rows, Cin) = col (rows, K) W^T (K, Cin) */
            if (dx && (st = clgan_gemm_mat(ctx, 0, 1, rows, Cin, K, 1.0f, CLGAN_MAT(l->ws, 0, K),
                                           CLGAN_MAT(c->wf, 0, K), 0.0f,
                                           CLGAN_MAT(dx, (size_t)i0 * l->in, Cin))) != CLGAN_OK)
                break;
        }
    }
    return st;
}

static clgan_status conv_backward(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, cl_mem x,
                                  cl_mem y, int batch, int param_grads)
{
    conv_layer *c = l->priv;
    clgan_status st;
    /* dz = dy * act'(y) in place; db (+)= its sums over every output pixel */
    st = clgan_act_bwd_bias(ctx, dy, param_grads ? c->db : NULL, dy, y,
                            batch * l->out_shape.h * l->out_shape.w, c->o.filters, c->o.act,
                            c->o.slope, param_grads == CLGAN_GRAD_SET);
    /* with spectral norm: dL/dW_sn first, then through sigma into dw */
    cl_mem wacc = !param_grads ? NULL : c->sn ? clgan_sn_grad(c->sn) : c->dw;
    if (st == CLGAN_OK)
        st = conv_lin_bwd(l, ctx, dx, dy, x, wacc, c->sn ? CLGAN_GRAD_SET : param_grads, batch);
    if (st == CLGAN_OK && c->sn && param_grads)
        st = clgan_sn_backward(c->sn, ctx, c->dw, param_grads);
    return st;
}

/* The gradient-penalty view's operations (gradpen.c). */
static clgan_status conv_apply(clgan_layer *l, clgan_ctx *ctx, cl_mem y, cl_mem x, int batch)
{
    return conv_run(l, ctx, y, x, batch, NULL, CLGAN_ACT_NONE, 0.0f);
}

static clgan_status conv_adjoint(clgan_layer *l, clgan_ctx *ctx, cl_mem dx, cl_mem dy, int batch)
{
    return conv_lin_bwd(l, ctx, dx, dy, NULL, NULL, 0, batch);
}

static clgan_status conv_wgrad(clgan_layer *l, clgan_ctx *ctx, cl_mem x, cl_mem dy, int batch,
                               int mode)
{
    conv_layer *c = l->priv;
    return conv_lin_bwd(l, ctx, NULL, dy, x, c->sn ? clgan_sn_grad(c->sn) : c->dw, mode, batch);
}

static clgan_status conv_wgrad_done(clgan_layer *l, clgan_ctx *ctx)
{
    conv_layer *c = l->priv;
    return clgan_sn_backward(c->sn, ctx, c->dw, CLGAN_GRAD_ADD);
}

static const clgan_linear_ops conv_lin = {conv_apply, conv_adjoint, conv_wgrad, NULL};
static const clgan_linear_ops conv_lin_sn = {conv_apply, conv_adjoint, conv_wgrad,
                                             conv_wgrad_done};

static void conv_gp_view(const clgan_layer *l, clgan_layer_gp *out)
{
    const conv_layer *c = l->priv;
    *out = (clgan_layer_gp){.lin = c->sn ? &conv_lin_sn : &conv_lin, .db = c->db,
                                .act = c->o.act, .slope = c->o.slope};
}

static void conv_free(clgan_layer *l)
{
    conv_layer *c = l->priv;
    if (c) {
        clgan_sn_free(c->sn);
        clgan_buf_release(&c->zeros);
    }
    free(c);
}

static const clgan_layer_ops conv_ops = {"conv2d", conv_describe, conv_bind, conv_init,
                                         conv_forward, conv_backward, conv_free};
static const clgan_layer_ops convt_ops = {"conv_transpose2d", conv_describe, conv_bind, conv_init,
                                          conv_forward, conv_backward, conv_free};

/* Output size and leading padding of a Conv2d along one axis; -1 when the kernel does
 * not fit. */
static int conv_out(int in, int k, int s, clgan_pad_mode mode, int pad, int *lead)
{
    if (mode == CLGAN_PAD_SAME) {
        int out = (in + s - 1) / s, total = (out - 1) * s + k - in;
        *lead = total > 0 ? total / 2 : 0;
        return out;
    }
    *lead = mode == CLGAN_PAD_EXPLICIT ? pad : 0;
    int span = in + 2 * *lead - k;
    return span < 0 ? -1 : span / s + 1;
}

clgan_status clgan_conv_make(clgan_layer *l, const clgan_conv_opts *opts)
{
    clgan_conv_opts o = *opts;
    const clgan_shape in = l->in_shape;
    const char *what = o.transpose ? "transposed convolution" : "convolution";
    if (o.sh == 0) o.sh = 1;
    if (o.sw == 0) o.sw = 1;
    if (o.filters <= 0 || o.kh <= 0 || o.kw <= 0 || o.sh < 0 || o.sw < 0 || o.pad_h < 0 ||
        o.pad_w < 0 || o.filters > 65536 || o.kh > 64 || o.kw > 64 || o.sh > 64 || o.sw > 64)
        return clgan_error(CLGAN_EINVAL, "%s: filters %d, kernel %dx%d, stride %dx%d, padding "
                           "%dx%d: need positive sizes (filters <= 65536, kernel and stride <= 64)",
                           what, o.filters, o.kh, o.kw, o.sh, o.sw, o.pad_h, o.pad_w);
    conv_layer *c = calloc(1, sizeof *c);
    if (!c)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    conv_geom *g = &c->g;
    g->KH = o.kh, g->KW = o.kw, g->SH = o.sh, g->SW = o.sw;
    clgan_shape out;
    if (!o.transpose) {
        int oh = conv_out(in.h, o.kh, o.sh, o.pad, o.pad_h, &g->PT);
        int ow = conv_out(in.w, o.kw, o.sw, o.pad, o.pad_w, &g->PL);
        if (oh <= 0 || ow <= 0) {
            free(c);
            return clgan_error(CLGAN_EINVAL, "convolution: a %dx%d kernel does not fit a %dx%d "
                               "input with this padding", o.kh, o.kw, in.h, in.w);
        }
        out = CLGAN_SHAPE(oh, ow, o.filters);
        g->H = in.h, g->W = in.w, g->C = in.c, g->OH = oh, g->OW = ow;
        c->direct = o.kh == 1 && o.kw == 1 && o.sh == 1 && o.sw == 1 && g->PT == 0 && g->PL == 0;
    } else {
        if (o.pad == CLGAN_PAD_SAME) {
            free(c);
            return clgan_error(CLGAN_EINVAL, "transposed convolution: give explicit padding "
                               "(PyTorch's padding and output_padding), not 'same'");
        }
        int ph = o.pad == CLGAN_PAD_EXPLICIT ? o.pad_h : 0, pw = o.pad == CLGAN_PAD_EXPLICIT ? o.pad_w : 0;
        int oh = (in.h - 1) * o.sh - 2 * ph + o.kh + o.out_pad_h;
        int ow = (in.w - 1) * o.sw - 2 * pw + o.kw + o.out_pad_w;
        int lead;
        /* The adjoint Conv2d must map the output shape back onto the input one. */
        if (o.out_pad_h < 0 || o.out_pad_w < 0 || o.out_pad_h >= o.sh || o.out_pad_w >= o.sw ||
            oh <= 0 || ow <= 0 || conv_out(oh, o.kh, o.sh, CLGAN_PAD_EXPLICIT, ph, &lead) != in.h ||
            conv_out(ow, o.kw, o.sw, CLGAN_PAD_EXPLICIT, pw, &lead) != in.w) {
            free(c);
            return clgan_error(CLGAN_EINVAL, "transposed convolution: kernel %dx%d, stride %dx%d, "
                               "padding %dx%d, output padding %dx%d do not fit a %dx%d input "
                               "(output padding must be below the stride)", o.kh, o.kw, o.sh,
                               o.sw, ph, pw, o.out_pad_h, o.out_pad_w, in.h, in.w);
        }
        out = CLGAN_SHAPE(oh, ow, o.filters);
        g->H = oh, g->W = ow, g->C = o.filters, g->OH = in.h, g->OW = in.w, g->PT = ph, g->PL = pw;
    }
    c->o = o;
    c->K = o.kh * o.kw * g->C;
    clgan_status st;
    if (l->spectral_norm &&
        (st = clgan_sn_make(&c->sn, o.kh * o.kw * in.c, o.filters)) != CLGAN_OK) {
        free(c);
        return st;
    }
    l->ops = o.transpose ? &convt_ops : &conv_ops;
    l->gp_view = conv_gp_view;
    l->priv = c;
    l->out_shape = out;
    l->out = clgan_shape_size(out);
    /* 2 flops per multiply-add: one per column-matrix entry and filter (Conv2d), or per
     * input value and column (ConvTranspose2d). */
    l->flops = 2.0 * g->OH * g->OW * (double)c->K * (o.transpose ? in.c : o.filters);
    size_t per_image = (size_t)g->OH * g->OW * c->K * sizeof(float);
    size_t limit = l->ctx && !clgan_cpu_shapes(l->ctx) ? CHUNK_BYTES_GPU : CHUNK_BYTES_CPU;
    c->chunk = per_image ? (int)(limit / per_image) : l->batch;
    if (c->chunk < 1) c->chunk = 1;
    if (c->chunk > l->batch) c->chunk = l->batch;
    if (o.max_chunk > 0 && c->chunk > o.max_chunk) c->chunk = o.max_chunk;
    l->workspace = c->direct ? 0 : (size_t)c->chunk * per_image;
    /* The flipped kernel of the implicit input gradient. */
    if (!o.transpose && l->workspace < (size_t)c->K * o.filters * sizeof(float))
        l->workspace = (size_t)c->K * o.filters * sizeof(float);
    if ((double)c->chunk * g->OH * g->OW * c->K > 2147483647.0 ||
        (double)l->batch * (l->in > l->out ? l->in : l->out) > 2147483647.0) {
        clgan_sn_free(c->sn);
        free(c);
        l->priv = NULL;
        return clgan_error(CLGAN_EINVAL, "%s: a %dx%dx%d input at batch %d is too large for "
                           "32-bit indexing", what, in.h, in.w, in.c, l->batch);
    }
    return CLGAN_OK;
}
