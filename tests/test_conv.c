/* test_conv.c - the convolution layers (Conv2d, ConvTranspose2d) and the shape layers
 * (UpSampling2D, ZeroPadding2D, Reshape/Flatten, BatchNorm over images): forward passes
 * against double-precision host references written from the definitions, and every
 * parameter and input gradient against central differences (tests/tu_net.c), on odd
 * sizes, stride 2, "same" padding with its asymmetric split, explicit padding, output
 * padding, batch 1, workspace chunks of one image, and both GEMM implementations.
 * Tolerance of the forward checks: 1e-5 absolute + 1e-5 relative (float32 sums of at most
 * a few hundred terms of magnitude ~1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "common/rng.h"
#include "testutil.h"
#include "tu_net.h"

static clgan_ctx *ctx;

/* Host Conv2d, NHWC, weights (kh, kw, cin, f): y (n, oh, ow, f). */
static void host_conv(double *y, const float *x, const float *w, const float *b, int n, int h,
                      int wd, int cin, int f, int kh, int kw, int sh, int sw, int pt, int pl,
                      int oh, int ow)
{
    for (int i = 0; i < n; i++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int o = 0; o < f; o++) {
                    double s = b ? b[o] : 0.0;
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wd)
                                continue;
                            for (int c = 0; c < cin; c++)
                                s += (double)x[((i * h + iy) * wd + ix) * cin + c] *
                                     w[((ky * kw + kx) * cin + c) * f + o];
                        }
                    y[((i * oh + oy) * ow + ox) * f + o] = s;
                }
}

/* Host ConvTranspose2d by its definition (each input pixel scatters a kernel-sized
 * patch), weights (cin, kh, kw, f): y (n, oh, ow, f). */
static void host_convt(double *y, const float *x, const float *w, const float *b, int n, int h,
                       int wd, int cin, int f, int kh, int kw, int sh, int sw, int ph, int pw,
                       int oh, int ow)
{
    for (int i = 0; i < n; i++)
        for (int p = 0; p < oh * ow; p++)
            for (int o = 0; o < f; o++)
                y[((size_t)i * oh * ow + p) * f + o] = b ? b[o] : 0.0;
    for (int i = 0; i < n; i++)
        for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < wd; ix++)
                for (int c = 0; c < cin; c++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int oy = iy * sh - ph + ky, ox = ix * sw - pw + kx;
                            if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                                continue;
                            for (int o = 0; o < f; o++)
                                y[((i * oh + oy) * ow + ox) * f + o] +=
                                    (double)x[((i * h + iy) * wd + ix) * cin + c] *
                                    w[((c * kh + ky) * kw + kx) * f + o];
                        }
}

/* Runs one conv layer forward on random data and compares with the host reference. */
static void conv_forward_case(const char *what, clgan_shape in, int batch, clgan_conv_opts o,
                              int want_oh, int want_ow)
{
    clgan_net *n;
    CHECK_OK(clgan_net_init_shape(&n, ctx, in, batch));
    clgan_status st = clgan_net_add_conv2d(n, &o);
    CHECK_OK(st);
    if (st != CLGAN_OK) {
        clgan_net_free(n);
        return;
    }
    CHECK_OK(clgan_net_finalize(n, 3));
    const clgan_net_view *v = clgan_net_get(n);
    CHECK(v->out_shape.h == want_oh && v->out_shape.w == want_ow && v->out_shape.c == o.filters);
    size_t nx = (size_t)batch * v->in_dim, ny = (size_t)batch * v->out_dim;
    float *x = malloc(nx * 4), *p = malloc(v->n_params * 4 + 4), *y = malloc(ny * 4);
    double *ref = malloc(ny * sizeof *ref);
    float *want = malloc(ny * 4);
    clgan_rng rng = {77};
    for (size_t i = 0; i < nx; i++) x[i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_net_read_params(n, p, NULL));
    const clgan_tensor_info *tb = clgan_net_find(n, o.transpose ? "convt0.bias" : "conv0.bias");
    const clgan_tensor_info *tk = clgan_net_find(n, o.transpose ? "convt0.kernel" : "conv0.kernel");
    CHECK(tk != NULL && (o.no_bias || tb != NULL));
    if (tb)
        for (size_t i = 0; i < tb->count; i++) p[tb->offset + i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_net_write_params(n, p, NULL));
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, ny * 4));
    if (tk) {
        const float *w = p + tk->offset, *b = tb ? p + tb->offset : NULL;
        int sh = o.sh ? o.sh : 1, sw = o.sw ? o.sw : 1;
        if (o.transpose) {
            host_convt(ref, x, w, b, batch, in.h, in.w, in.c, o.filters, o.kh, o.kw, sh, sw,
                       o.pad_h, o.pad_w, want_oh, want_ow);
        } else {
            int pt = o.pad_h, pl = o.pad_w;
            if (o.pad == CLGAN_PAD_SAME) {
                int th = (want_oh - 1) * sh + o.kh - in.h, tw = (want_ow - 1) * sw + o.kw - in.w;
                pt = th > 0 ? th / 2 : 0, pl = tw > 0 ? tw / 2 : 0;
            } else if (o.pad == CLGAN_PAD_VALID) {
                pt = pl = 0;
            }
            host_conv(ref, x, w, b, batch, in.h, in.w, in.c, o.filters, o.kh, o.kw, sh, sw, pt, pl,
                      want_oh, want_ow);
        }
        for (size_t i = 0; i < ny; i++) want[i] = (float)ref[i];
        tu_close(what, y, want, ny, 1e-5, 1e-5);
    }
    clgan_buf_release(&xb);
    free(x), free(p), free(y), free(ref), free(want);
    clgan_net_free(n);
}

static void forward_cases(void)
{
    printf("forward against the host reference:\n");
    clgan_conv_opts same = {.filters = 4, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME};
    conv_forward_case("conv 3x3 same s1 5x7x2 b3", CLGAN_SHAPE(5, 7, 2), 3, same, 5, 7);
    clgan_conv_opts s2 = same;
    s2.sh = s2.sw = 2;
    conv_forward_case("conv 3x3 same s2 6x6x3 b2 (pad 0 before, 1 after)", CLGAN_SHAPE(6, 6, 3), 2,
                      s2, 3, 3);
    conv_forward_case("conv 3x3 same s2 7x5x1 b1", CLGAN_SHAPE(7, 5, 1), 1, s2, 4, 3);
    s2.max_chunk = 1;
    conv_forward_case("conv 3x3 same s2 6x6x3 b3, chunks of 1 image", CLGAN_SHAPE(6, 6, 3), 3, s2,
                      3, 3);
    clgan_conv_opts valid = {.filters = 3, .kh = 2, .kw = 3, .sh = 2, .sw = 1, .pad = CLGAN_PAD_VALID};
    conv_forward_case("conv 2x3 valid s(2,1) 7x6x2 b2", CLGAN_SHAPE(7, 6, 2), 2, valid, 3, 4);
    clgan_conv_opts expl = {.filters = 2, .kh = 5, .kw = 5, .pad = CLGAN_PAD_EXPLICIT, .pad_h = 2,
                            .pad_w = 1, .no_bias = 1};
    conv_forward_case("conv 5x5 pad (2,1) 4x6x3 b2, no bias", CLGAN_SHAPE(4, 6, 3), 2, expl, 4, 4);
    clgan_conv_opts wide = {.filters = 40, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME};
    conv_forward_case("conv 3x3 same 40 filters 5x6x8 b2", CLGAN_SHAPE(5, 6, 8), 2, wide, 5, 6);
    clgan_conv_opts one = {.filters = 5, .kh = 1, .kw = 1, .pad = CLGAN_PAD_VALID};
    conv_forward_case("conv 1x1 (no im2col) 3x4x6 b2", CLGAN_SHAPE(3, 4, 6), 2, one, 3, 4);
    clgan_conv_opts t1 = {.filters = 3, .kh = 4, .kw = 4, .sh = 2, .sw = 2, .transpose = 1,
                          .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1};
    conv_forward_case("convT 4x4 s2 p1 3x3x2 b2", CLGAN_SHAPE(3, 3, 2), 2, t1, 6, 6);
    t1.max_chunk = 1;
    conv_forward_case("convT 4x4 s2 p1 3x3x2 b3, chunks of 1", CLGAN_SHAPE(3, 3, 2), 3, t1, 6, 6);
    clgan_conv_opts t2 = {.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .transpose = 1,
                          .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .out_pad_h = 1,
                          .out_pad_w = 0};
    conv_forward_case("convT 3x3 s2 p1 op(1,0) 4x3x3 b1", CLGAN_SHAPE(4, 3, 3), 1, t2, 8, 5);
    clgan_conv_opts t3 = {.filters = 4, .kh = 7, .kw = 7, .transpose = 1, .pad = CLGAN_PAD_VALID};
    conv_forward_case("convT 7x7 s1 from 1x1x5 b2", CLGAN_SHAPE(1, 1, 5), 2, t3, 7, 7);
}

/* A small network over images, checked by central differences with both GEMMs. */
typedef clgan_status (*builder)(clgan_net *n);

static void grad_case(const char *name, clgan_shape in, int batch, builder build, uint64_t seed)
{
    clgan_net *n;
    CHECK_OK(clgan_net_init_shape(&n, ctx, in, batch));
    clgan_status st = build(n);
    CHECK_OK(st);
    if (st == CLGAN_OK && (st = clgan_net_finalize(n, seed)) == CLGAN_OK)
        tu_net_check(ctx, name, n, seed + 100);
    CHECK_OK(st);
    clgan_net_free(n);
}

static clgan_status b_conv_same_s2(clgan_net *n)
{
    clgan_conv_opts o = {.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
                         .act = CLGAN_ACT_TANH};
    return clgan_net_add_conv2d(n, &o);
}

static clgan_status b_conv_chunks(clgan_net *n)
{
    clgan_conv_opts o = {.filters = 2, .kh = 3, .kw = 2, .sh = 1, .sw = 2, .pad = CLGAN_PAD_EXPLICIT,
                         .pad_h = 1, .pad_w = 1, .act = CLGAN_ACT_SIGMOID, .max_chunk = 1};
    return clgan_net_add_conv2d(n, &o);
}

static clgan_status b_conv_1x1_valid(clgan_net *n)
{
    clgan_conv_opts a = {.filters = 4, .kh = 1, .kw = 1, .pad = CLGAN_PAD_VALID};
    clgan_conv_opts b = {.filters = 2, .kh = 2, .kw = 2, .sh = 2, .sw = 2, .pad = CLGAN_PAD_VALID,
                         .act = CLGAN_ACT_TANH};
    clgan_status st = clgan_net_add_conv2d(n, &a);
    return st != CLGAN_OK ? st : clgan_net_add_conv2d(n, &b);
}

static clgan_status b_convt(clgan_net *n)
{
    clgan_conv_opts a = {.filters = 3, .kh = 4, .kw = 4, .sh = 2, .sw = 2, .transpose = 1,
                         .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .act = CLGAN_ACT_TANH};
    clgan_conv_opts b = {.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .transpose = 1,
                         .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .out_pad_h = 1,
                         .out_pad_w = 1, .max_chunk = 1};
    clgan_status st = clgan_net_add_conv2d(n, &a);
    return st != CLGAN_OK ? st : clgan_net_add_conv2d(n, &b);
}

/* The dcgan-keras generator's tail in miniature: dense, reshape, upsample, conv, BN,
 * activation, conv. */
static clgan_status b_keras_g(clgan_net *n)
{
    clgan_conv_opts c1 = {.filters = 4, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME};
    clgan_conv_opts c2 = {.filters = 1, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME,
                          .act = CLGAN_ACT_TANH};
    clgan_status st;
    if ((st = clgan_net_add_dense(n, 2 * 2 * 3, CLGAN_ACT_TANH, 0.0f)) != CLGAN_OK ||
        (st = clgan_net_add_reshape(n, CLGAN_SHAPE(2, 2, 3))) != CLGAN_OK ||
        (st = clgan_net_add_upsample(n, 2, 2)) != CLGAN_OK ||
        (st = clgan_net_add_conv2d(n, &c1)) != CLGAN_OK ||
        (st = clgan_net_add_batchnorm(n, 1e-3f, 0.8f, 1.0f)) != CLGAN_OK ||
        (st = clgan_net_add_activation(n, CLGAN_ACT_TANH, 0.0f)) != CLGAN_OK)
        return st;
    return clgan_net_add_conv2d(n, &c2);
}

/* The dcgan-keras critic's odd step in miniature: conv s2, zero padding (0,1,0,1), BN,
 * flatten, dense. */
static clgan_status b_keras_d(clgan_net *n)
{
    clgan_conv_opts c1 = {.filters = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
                          .act = CLGAN_ACT_TANH};
    clgan_status st;
    if ((st = clgan_net_add_conv2d(n, &c1)) != CLGAN_OK ||
        (st = clgan_net_add_zeropad(n, 0, 1, 0, 1)) != CLGAN_OK ||
        (st = clgan_net_add_batchnorm(n, 1e-3f, 0.8f, 1.0f)) != CLGAN_OK ||
        (st = clgan_net_add_reshape(n, CLGAN_SHAPE(1, 1, clgan_net_get(n)->out_dim))) != CLGAN_OK)
        return st;
    return clgan_net_add_dense(n, 1, CLGAN_ACT_SIGMOID, 0.0f);
}

/* Channel counts that are multiples of the native tile's rows take the implicit weight
 * gradient (cl/gemm_conv.cl); F = 40 crosses a 32-wide column tile, F = 8 is gathered. */
static clgan_status b_conv_c8(clgan_net *n)
{
    clgan_conv_opts a = {.filters = 40, .kh = 3, .kw = 3, .pad = CLGAN_PAD_SAME,
                         .act = CLGAN_ACT_TANH};
    clgan_conv_opts b = {.filters = 8, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .pad = CLGAN_PAD_SAME,
                         .act = CLGAN_ACT_SIGMOID};
    clgan_conv_opts c = {.filters = 3, .kh = 2, .kw = 3, .pad = CLGAN_PAD_VALID};
    clgan_status st = clgan_net_add_conv2d(n, &a);
    if (st == CLGAN_OK)
        st = clgan_net_add_conv2d(n, &b);
    return st != CLGAN_OK ? st : clgan_net_add_conv2d(n, &c);
}

/* WGAN-GP's generator step: a transposed convolution, then a crop of its 8x8 to 7x7. */
static clgan_status b_convt_crop(clgan_net *n)
{
    clgan_conv_opts a = {.filters = 2, .kh = 5, .kw = 5, .sh = 2, .sw = 2, .transpose = 1,
                         .pad = CLGAN_PAD_EXPLICIT, .pad_h = 2, .pad_w = 2, .out_pad_h = 1,
                         .out_pad_w = 1, .act = CLGAN_ACT_TANH};
    clgan_status st = clgan_net_add_conv2d(n, &a);
    return st != CLGAN_OK ? st : clgan_net_add_zeropad(n, 0, -1, 0, -1);
}

static void gradient_cases(void)
{
    grad_case("conv 3x3 same s2 tanh 6x5x2 b2", CLGAN_SHAPE(6, 5, 2), 2, b_conv_same_s2, 1);
    grad_case("conv 3x2 s(1,2) pad 1 sigmoid, chunks of 1, 4x5x3 b3", CLGAN_SHAPE(4, 5, 3), 3,
              b_conv_chunks, 2);
    grad_case("conv 1x1 + conv 2x2 valid s2, 4x6x3 b1", CLGAN_SHAPE(4, 6, 3), 1, b_conv_1x1_valid, 3);
    grad_case("convT 4x4 s2 p1 + convT 3x3 s2 p1 op1, 2x3x2 b2", CLGAN_SHAPE(2, 3, 2), 2, b_convt, 4);
    grad_case("G tail: dense reshape up conv bn tanh conv, latent 3, b3", CLGAN_SHAPE(1, 1, 3), 3,
              b_keras_g, 5);
    grad_case("D step: conv s2 zeropad bn flatten dense, 5x5x2 b4", CLGAN_SHAPE(5, 5, 2), 4,
              b_keras_d, 6);
    grad_case("convT 5x5 s2 p2 op1 then crop 8x8 to 7x7, 4x4x3 b2", CLGAN_SHAPE(4, 4, 3), 2,
              b_convt_crop, 7);
    grad_case("conv 3x3 same 40 tanh + conv s2 8 + conv 2x3 valid, 5x6x8 b2", CLGAN_SHAPE(5, 6, 8),
              2, b_conv_c8, 8);
}

/* Shapes that do not fit are refused with a message, before anything is allocated. */
static void refusals(void)
{
    clgan_net *n;
    CHECK_OK(clgan_net_init_shape(&n, ctx, CLGAN_SHAPE(3, 3, 1), 2));
    clgan_conv_opts big = {.filters = 2, .kh = 5, .kw = 5, .pad = CLGAN_PAD_VALID};
    CHECK(clgan_net_add_conv2d(n, &big) == CLGAN_EINVAL);
    printf("  5x5 valid on 3x3: %s\n", clgan_error_msg());
    clgan_conv_opts op = {.filters = 2, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .transpose = 1,
                          .pad = CLGAN_PAD_EXPLICIT, .pad_h = 1, .pad_w = 1, .out_pad_h = 2};
    CHECK(clgan_net_add_conv2d(n, &op) == CLGAN_EINVAL);
    printf("  output padding 2 with stride 2: %s\n", clgan_error_msg());
    CHECK(clgan_net_add_reshape(n, CLGAN_SHAPE(2, 2, 2)) == CLGAN_EINVAL);
    printf("  reshape 3x3x1 to 2x2x2: %s\n", clgan_error_msg());
    CHECK(clgan_net_get(n)->n_layers == 0);
    clgan_net_free(n);
}

/* Upsampling and zero padding against their definitions. */
static void shape_layers(void)
{
    clgan_net *n;
    const int B = 2, H = 2, W = 3, C = 2;
    CHECK_OK(clgan_net_init_shape(&n, ctx, CLGAN_SHAPE(H, W, C), B));
    CHECK_OK(clgan_net_add_upsample(n, 2, 3));
    CHECK_OK(clgan_net_add_zeropad(n, 1, 0, 2, 1));
    CHECK_OK(clgan_net_finalize(n, 1));
    const clgan_net_view *v = clgan_net_get(n);
    CHECK(v->out_shape.h == 5 && v->out_shape.w == 12 && v->out_shape.c == C);
    float x[B * H * W * C], y[B * 5 * 12 * C], want[B * 5 * 12 * C];
    for (int i = 0; i < B * H * W * C; i++) x[i] = (float)i;
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < 5; oy++)
            for (int ox = 0; ox < 12; ox++)
                for (int c = 0; c < C; c++) {
                    int uy = oy - 1, ux = ox - 2; /* upsampled 4 x 9 */
                    want[((b * 5 + oy) * 12 + ox) * C + c] =
                        uy >= 0 && uy < 4 && ux >= 0 && ux < 9
                            ? x[((b * H + uy / 2) * W + ux / 3) * C + c] : 0.0f;
                }
    cl_mem xb;
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof x, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, sizeof x));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, y, sizeof y));
    tu_close("upsample 2x3 + zeropad (1,0,2,1)", y, want, sizeof y / 4, 0, 0);
    clgan_buf_release(&xb);
    clgan_net_free(n);
    /* Cropping (negative padding) takes the inner window back out. */
    CHECK_OK(clgan_net_init_shape(&n, ctx, CLGAN_SHAPE(5, 12, C), B));
    CHECK_OK(clgan_net_add_zeropad(n, -1, 0, -2, -1));
    CHECK_OK(clgan_net_finalize(n, 1));
    v = clgan_net_get(n);
    CHECK(v->out_shape.h == 4 && v->out_shape.w == 9);
    float cropped[B * 4 * 9 * C], cwant[B * 4 * 9 * C];
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < 4; oy++)
            for (int ox = 0; ox < 9; ox++)
                for (int c = 0; c < C; c++)
                    cwant[((b * 4 + oy) * 9 + ox) * C + c] =
                        want[((b * 5 + oy + 1) * 12 + ox + 2) * C + c];
    CHECK_OK(clgan_buf_alloc(ctx, &xb, sizeof want, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, want, sizeof want));
    CHECK_OK(clgan_net_forward(n, xb, CLGAN_MODE_TRAIN));
    CHECK_OK(clgan_buf_read(ctx, v->out, 0, cropped, sizeof cropped));
    tu_close("crop (1,0,2,1)", cropped, cwant, sizeof cropped / 4, 0, 0);
    clgan_buf_release(&xb);
    clgan_net_free(n);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_conv: %s\n", clgan_error_msg());
        return 1;
    }
    for (int impl = CLGAN_GEMM_CLBLAST; impl <= CLGAN_GEMM_NATIVE; impl++) {
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)impl);
        printf("gemm %s:\n", clgan_gemm_impl_str((clgan_gemm_impl)impl));
        forward_cases();
        gradient_cases();
    }
    refusals();
    shape_layers();
    clgan_ctx_free(ctx);
    return tu_finish("test_conv");
}
