/* test_model.c - the model builder and the --arch spec language: every preset builds
 * networks whose output shapes fit the images; the dcgan-keras networks have exactly the
 * parameter counts Keras reports for Keras-GAN's dcgan.py (model.summary(): G 855,809
 * trainable of 856,193, D 392,833 of 393,729); the generic tokens follow the remedy
 * switches; bad specs are refused with the layer they name. */
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "testutil.h"

static clgan_ctx *ctx;

/* Trained and total (with running statistics) parameter counts. */
static void counts(const clgan_net *n, size_t *trained, size_t *total)
{
    const clgan_net_view *v = clgan_net_get(n);
    *trained = *total = 0;
    for (int i = 0; i < v->n_tensors; i++) {
        *total += v->tensors[i].count;
        if (v->tensors[i].trained)
            *trained += v->tensors[i].count;
    }
}

static void presets(void)
{
    static const char *const names[] = {"keras-gan", "ttur",  "lsgan",    "hinge",   "wgan",
                                        "wgan-gp",   "residual", "minimax", "dcgan-keras",
                                        "dcgan",     "wgan-gp-conv", "sngan"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        clgan_config c;
        clgan_net *g = NULL, *d = NULL;
        clgan_config_defaults(&c);
        CHECK_OK(clgan_config_load_preset(&c, names[i]));
        CHECK_OK(clgan_model_generator(&g, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
        CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
        if (g && d) {
            size_t gt, ga, dt, da;
            counts(g, &gt, &ga);
            counts(d, &dt, &da);
            CHECK(clgan_net_get(g)->out_dim == 784 && clgan_net_get(d)->out_dim == 1);
            printf("  %-13s G %zu trained (%zu with statistics), %d layers; D %zu (%zu), %d layers\n",
                   names[i], gt, ga, clgan_net_get(g)->n_layers, dt, da, clgan_net_get(d)->n_layers);
            if (!strcmp(names[i], "dcgan-keras")) {
                CHECK(gt == 855809 && ga == 856193);
                CHECK(dt == 392833 && da == 393729);
            }
        }
        clgan_net_free(g);
        clgan_net_free(d);
    }
    /* dcgan-32 is for 32x32 images, in colour with c as the output's filter count. */
    clgan_config c;
    clgan_net *g = NULL, *d = NULL;
    clgan_config_defaults(&c);
    CHECK_OK(clgan_config_load_preset(&c, "dcgan-32"));
    CHECK_OK(clgan_model_generator(&g, ctx, &c, CLGAN_SHAPE(32, 32, 3), 2));
    CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(32, 32, 3), 2));
    CHECK(g && clgan_net_get(g)->out_shape.h == 32 && clgan_net_get(g)->out_shape.c == 3);
    CHECK(d && clgan_net_get(d)->out_dim == 1);
    clgan_net_free(g);
    clgan_net_free(d);
}

/* Spectral normalization keeps u and v per kernel in the state buffer. */
static void spectral(void)
{
    clgan_config c;
    clgan_net *d = NULL;
    clgan_config_defaults(&c);
    CHECK_OK(clgan_config_load_preset(&c, "sngan"));
    CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
    CHECK(d && clgan_net_find(d, "conv0.sn_u") && clgan_net_find(d, "dense0.sn_v"));
    clgan_net_free(d);
    CHECK_OK(clgan_config_set(&c, "spectral-norm-d", "off"));
    CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
    CHECK(d && !clgan_net_find(d, "conv0.sn_u"));
    clgan_net_free(d);
    /* --batchnorm-d layer turns the generic 'norm' into LayerNorm. */
    CHECK_OK(clgan_config_load_preset(&c, "wgan-gp-conv"));
    CHECK_OK(clgan_config_set(&c, "batchnorm-d", "layer"));
    CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
    CHECK(d && clgan_net_find(d, "ln0.gamma") && clgan_net_find(d, "ln2.gamma"));
    clgan_net_free(d);
}

/* The generic tokens take the network's remedy settings. */
static void generic_tokens(void)
{
    clgan_config c;
    clgan_net *d = NULL;
    clgan_config_defaults(&c);
    CHECK_OK(clgan_config_load_preset(&c, "dcgan-keras"));
    CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
    int with = d ? clgan_net_get(d)->n_layers : 0;
    clgan_net_free(d);
    CHECK_OK(clgan_config_set(&c, "batchnorm-d", "off"));
    CHECK_OK(clgan_config_set(&c, "dropout-d", "0"));
    CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
    int without = d ? clgan_net_get(d)->n_layers : 0;
    CHECK(d && !clgan_net_find(d, "bn0.gamma"));
    clgan_net_free(d);
    printf("  dcgan-keras D: %d layers; with --batchnorm-d off --dropout-d 0: %d\n", with, without);
    CHECK(with == without + 3 + 4);
}

/* A dense layer or residual block makes a feature vector whatever its input, also when
 * its width equals the input's size (an image of 14x14x4 or 28x28x1 = 784 values into
 * 'dense 784'): the BatchNorm after it then normalizes 784 features, not the image's
 * channels. */
static void dense_flattens(void)
{
    static const struct {
        const char *arch, *layers, *residual, *bn_name;
    } cases[] = {{"conv 4 k3 s2 same, act, dense 784, bn, act, dense 1", "512", "off", "bn0.gamma"},
                 {"", "784", "off", "bn0.gamma"},
                 {"", "784", "on", "res0.bn.gamma"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clgan_config c;
        clgan_net *d = NULL;
        clgan_config_defaults(&c);
        snprintf(c.d.arch, sizeof c.d.arch, "%s", cases[i].arch);
        CHECK_OK(clgan_config_set(&c, "layers-d", cases[i].layers));
        CHECK_OK(clgan_config_set(&c, "residual-d", cases[i].residual));
        CHECK_OK(clgan_config_set(&c, "batchnorm-d", "on"));
        CHECK_OK(clgan_model_discriminator(&d, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2));
        const clgan_net_view *v = d ? clgan_net_get(d) : NULL;
        const clgan_tensor_info *g = d ? clgan_net_find(d, "bn0.gamma") : NULL;
        const clgan_tensor_info *rg = d ? clgan_net_find(d, "res0.bn.gamma") : NULL;
        size_t n = g ? g->count : rg ? rg->count : 0;
        printf("  D '%s' (layers %s, residual %s) on 28x28x1: %s has %zu values\n",
               cases[i].arch, cases[i].layers, cases[i].residual, cases[i].bn_name, n);
        CHECK(n == 784 && v && v->out_dim == 1);
        clgan_net_free(d);
    }
}

static void refused(const char *spec, int gen, const char *expect)
{
    clgan_config c;
    clgan_net *n = NULL;
    clgan_config_defaults(&c);
    snprintf(gen ? c.g.arch : c.d.arch, sizeof c.g.arch, "%s", spec);
    clgan_status st = gen ? clgan_model_generator(&n, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2)
                          : clgan_model_discriminator(&n, ctx, &c, CLGAN_SHAPE(28, 28, 1), 2);
    const char *msg = clgan_error_msg();
    int ok = st == CLGAN_EINVAL && n == NULL && strstr(msg, expect) != NULL;
    tu_checks++;
    if (!ok)
        tu_failures++;
    printf("  %s '%s': %s%s\n", gen ? "G" : "D", spec, msg, ok ? "" : "   <-- FAIL");
    clgan_net_free(n);
}

static void refusals(void)
{
    refused("conv 32 k3 sme, flatten, dense 1", 0, "layer 1 ('conv 32 k3 sme'): unknown option 'sme'");
    refused("conv 32 k3, blah, dense 1", 0, "unknown layer 'blah'");
    refused("conv 32 k3 s2 same, flatten", 0, "D must end in one value per sample");
    refused("dense 100, tanh", 1, "the images are 28x28x1");
    refused("dense 784, bn, tanh", 1, "normalizes the network's output");
    refused("conv 8 k40, flatten, dense 1", 0, "does not fit a 28x28 input");
    refused("reshape 7x7x7, dense 1", 0, "the sizes must match");
    refused("dense 784 relu, tanh", 1, "wrong number of arguments");
    refused("pad 1 2, dense 1", 0, "needs 1 or 4 sizes");
    refused("conv 8 k3,, dense 1", 0, "layer 2 is empty");
}

/* A conv recipe through CLBlast with the GPU shapes: setup plans and warms every product
 * (chunks at nonzero offsets included) and reserves every column-sum scratch (biased
 * conv layers over N*OH*OW rows, the penalty's), so a training step allocates nothing
 * (before: 6 of 24 products warmed, 3 scratch growths in the first step). */
static void planned(void)
{
    clgan_ctx *g = NULL;
    clgan_config c;
    clgan_trainer *t = NULL;
    int warmed = 0;
    if (clgan_ctx_init(&g, &(clgan_ctx_opts){.device = tu_device(), .shapes = "gpu"}) != CLGAN_OK) {
        fprintf(stderr, "GPU-shapes context: %s\n", clgan_error_msg());
        CHECK(0);
        return;
    }
    clgan_gemm_set_impl(g, CLGAN_GEMM_CLBLAST);
    clgan_config_defaults(&c);
    CHECK_OK(clgan_config_load_preset(&c, "wgan-gp-conv"));
    CHECK_OK(clgan_config_set(&c, "arch-g", "dense 64, act, reshape 2x2x16, convt 8 k4 s2 p1, "
                              "act, up 2, conv 4 k3 same, act, conv c k3 p1, tanh"));
    CHECK_OK(clgan_config_set(&c, "arch-d", "conv 8 k3 s2 same, act, conv 8 k3 s2 same, norm, "
                              "act, flatten, dense 1"));
    CHECK_OK(clgan_config_set(&c, "batch", "6"));
    uint8_t img[16 * 64];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 37);
    CHECK_OK(clgan_trainer_init(&t, g, &c, img, 16, CLGAN_SHAPE(8, 8, 1)));
    if (t) {
        CHECK_OK(clgan_trainer_step(t));
        CHECK_OK(clgan_trainer_sync(t));
        int n = clgan_gemm_planned(g, &warmed);
        printf("  %d products planned, %d warmed; %ld scratch growths in a step\n", n, warmed,
               clgan_scratch_growths(g));
        CHECK(n > 0 && warmed == n);
        CHECK(clgan_scratch_growths(g) == 0);
    }
    clgan_trainer_free(t);
    clgan_ctx_free(g);
}

int main(void)
{
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_model: %s\n", clgan_error_msg());
        return 1;
    }
    printf("presets:\n");
    presets();
    printf("generic tokens:\n");
    generic_tokens();
    spectral();
    printf("dense layers flatten:\n");
    dense_flattens();
    printf("refusals:\n");
    refusals();
    printf("conv products planned (CLBlast, GPU shapes):\n");
    planned();
    clgan_ctx_free(ctx);
    return tu_finish("test_model");
}
