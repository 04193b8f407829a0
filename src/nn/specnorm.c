/* specnorm.c - spectral normalization (Miyato et al. 2018) of a dense or conv kernel,
 * as torch.nn.utils.spectral_norm does it with n_power_iterations = 1; dense.c and
 * conv.c call it. It does not pick which layers are normalized (network.c's flag does).
 *
 * The kernel is viewed as the matrix M (rows, cols) it is stored as, cols = its last
 * axis, the output channels: dense (in, out), Conv2d (kh*kw*cin, filters),
 * ConvTranspose2d (cin*kh*kw, filters). PyTorch flattens its weight to (out, -1) with
 * dim 0 for Linear and Conv2d and dim 1 for ConvTranspose2d: that matrix is M^T up to a
 * permutation of M's rows (Conv2d: (cin, kh, kw) against our (kh, kw, cin)), so sigma is
 * the same and PyTorch's u (out) and v (in-ish) are our sn_u (cols) and sn_v (rows), v's
 * entries permuted alike for Conv2d.
 *
 * TRAIN forward: v = normalize(M u), u = normalize(M^T v) (u, v updated in the network's
 * state buffer, so checkpoints keep them), sigma = u . (M^T v), W_sn = M / sigma. EVAL
 * forward: sigma from the stored u and v, no iteration (PyTorch's eval mode). Backward,
 * u and v constant: dM = (G - <G, W_sn> v u^T) / sigma with G = dL/dW_sn; cl/specnorm.cl
 * has both. Init: u, v standard normal, then normalized, eps 1e-12 (PyTorch's). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer.h"

#define SN_EPS 1e-12f

struct clgan_sn {
    int rows, cols;
    cl_mem u, v;     /* (cols), (rows): views into the network's state (borrowed) */
    cl_mem wsn;      /* (rows, cols): M / sigma of the last forward; owned */
    cl_mem g;        /* (rows, cols): dL/dW_sn, written by the layer; owned */
    cl_mem sigma;    /* (1): sigma of the last forward; owned */
};

clgan_status clgan_sn_make(clgan_sn **out, int rows, int cols)
{
    *out = NULL;
    if (rows <= 0 || cols <= 0)
        return clgan_error(CLGAN_EINVAL, "spectral norm of a %d x %d kernel", rows, cols);
    clgan_sn *sn = calloc(1, sizeof *sn);
    if (!sn)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    sn->rows = rows;
    sn->cols = cols;
    *out = sn;
    return CLGAN_OK;
}

void clgan_sn_free(clgan_sn *sn)
{
    if (!sn)
        return;
    clgan_buf_release(&sn->sigma);
    clgan_buf_release(&sn->g);
    clgan_buf_release(&sn->wsn);
    free(sn);
}

int clgan_sn_describe(const clgan_sn *sn, clgan_tensor_info *t)
{
    t[0] = (clgan_tensor_info){.name = "sn_u", .ndim = 1, .shape = {(size_t)sn->cols}};
    t[1] = (clgan_tensor_info){.name = "sn_v", .ndim = 1, .shape = {(size_t)sn->rows}};
    return 2;
}

/* a (n) = normal draws / their norm (max with eps, as F.normalize). */
static void normal_unit(float *a, int n, clgan_rng *rng)
{
    double ss = 0;
    for (int i = 0; i < n; i++) {
        a[i] = (float)clgan_rng_normal(rng);
        ss += (double)a[i] * a[i];
    }
    double norm = fmax(sqrt(ss), SN_EPS);
    for (int i = 0; i < n; i++)
        a[i] = (float)(a[i] / norm);
}

void clgan_sn_init(const clgan_sn *sn, float *u, float *v, clgan_rng *rng)
{
    normal_unit(u, sn->cols, rng);
    normal_unit(v, sn->rows, rng);
}

clgan_status clgan_sn_bind(clgan_sn *sn, clgan_ctx *ctx, cl_mem u, cl_mem v)
{
    clgan_status st;
    size_t bytes = (size_t)sn->rows * sn->cols * sizeof(float);
    sn->u = u;
    sn->v = v;
    if ((st = clgan_buf_alloc(ctx, &sn->wsn, bytes, "spectrally normalized kernel")) != CLGAN_OK ||
        (st = clgan_buf_alloc(ctx, &sn->g, bytes, "spectral-norm gradient")) != CLGAN_OK)
        return st;
    return clgan_buf_alloc(ctx, &sn->sigma, sizeof(float), "spectral-norm sigma");
}

clgan_status clgan_sn_forward(clgan_sn *sn, clgan_ctx *ctx, cl_mem w, clgan_mode mode,
                              cl_mem *wsn)
{
    size_t wg = (size_t)clgan_tunable(ctx, CLGAN_T_SN_WG);
    *wsn = sn->wsn;
    return clgan_launch(ctx, CLGAN_K_sn_power, 1, &wg, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(sn->wsn), CLGAN_ARG_MEM(sn->sigma),
                                   CLGAN_ARG_MEM(sn->u), CLGAN_ARG_MEM(sn->v), CLGAN_ARG_MEM(w),
                                   CLGAN_ARG_INT(sn->rows), CLGAN_ARG_INT(sn->cols),
                                   CLGAN_ARG_INT(mode == CLGAN_MODE_TRAIN),
                                   CLGAN_ARG_F32(SN_EPS)));
}

cl_mem clgan_sn_grad(const clgan_sn *sn) { return sn->g; }

clgan_status clgan_sn_backward(clgan_sn *sn, clgan_ctx *ctx, cl_mem dw, int mode)
{
    size_t wg = (size_t)clgan_tunable(ctx, CLGAN_T_SN_WG);
    return clgan_launch(ctx, CLGAN_K_sn_grad, 1, &wg, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(dw), CLGAN_ARG_MEM(sn->g), CLGAN_ARG_MEM(sn->wsn),
                                   CLGAN_ARG_MEM(sn->u), CLGAN_ARG_MEM(sn->v),
                                   CLGAN_ARG_MEM(sn->sigma), CLGAN_ARG_INT(sn->rows),
                                   CLGAN_ARG_INT(sn->cols),
                                   CLGAN_ARG_INT(mode == CLGAN_GRAD_SET ? 2 : 1)));
}
