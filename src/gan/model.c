/* model.c - turns a configuration into the two networks: the layers of --arch-g /
 * --arch-d (arch.c), or, without a spec, the MLPs:
 * G: latent -> [hidden]* -> Dense(img_dim) + tanh.
 * D: image -> [hidden, dropout]* -> Dense(1) + sigmoid (bce) or linear (other losses).
 * A hidden layer is Dense(w) + act [+ BatchNorm], or the same as a residual block.
 * BatchNorm is never put on an output layer (clgan_config_validate and arch.c refuse
 * it). */
#include "clgan/gan.h"

static clgan_status hidden_layers(clgan_net *n, const clgan_net_config *nc, const clgan_config *c,
                                  int dropout_ok)
{
    clgan_status st = CLGAN_OK;
    int bn = nc->bn == CLGAN_BN_HIDDEN || nc->bn == CLGAN_BN_ALL;
    float var_corr = c->bn_var_keras ? 1.0f + c->bn_eps : 1.0f;
    for (int i = 0; i < nc->n_layers && st == CLGAN_OK; i++) {
        if (nc->residual) {
            st = clgan_net_add_residual(n, nc->layers[i], (clgan_act)nc->act, c->slope, bn,
                                        c->bn_eps, c->bn_momentum, var_corr);
        } else {
            st = clgan_net_add_dense(n, nc->layers[i], (clgan_act)nc->act, c->slope);
            if (st == CLGAN_OK && bn)
                st = clgan_net_add_batchnorm(n, c->bn_eps, c->bn_momentum, var_corr);
            else if (st == CLGAN_OK && nc->bn == CLGAN_BN_LAYER)
                st = clgan_net_add_layernorm(n, c->bn_eps);
        }
        if (st == CLGAN_OK && dropout_ok && nc->dropout > 0)
            st = clgan_net_add_dropout(n, nc->dropout);
    }
    return st;
}

static clgan_status finish(clgan_net **out, clgan_net *n, clgan_status st, uint64_t seed)
{
    if (st == CLGAN_OK)
        st = clgan_net_finalize(n, seed);
    if (st != CLGAN_OK) {
        clgan_net_free(n);
        return st;
    }
    *out = n;
    return CLGAN_OK;
}

/* The network's kernel initialization and spectral normalization, from its settings. */
static clgan_status set_init(clgan_net *n, const clgan_net_config *nc)
{
    clgan_status st = clgan_net_set_init(n, (clgan_init)nc->init, nc->init_std);
    return st != CLGAN_OK ? st : clgan_net_set_spectral_norm(n, nc->spectral_norm);
}

clgan_status clgan_model_generator(clgan_net **g, clgan_ctx *ctx, const clgan_config *c,
                                   clgan_shape img, int batch)
{
    clgan_net *n;
    clgan_status st = clgan_config_validate(c);
    int img_dim = clgan_shape_size(img);
    *g = NULL;
    if (st != CLGAN_OK || (st = clgan_net_init(&n, ctx, c->latent, batch)) != CLGAN_OK)
        return st;
    st = set_init(n, &c->g);
    if (st == CLGAN_OK && c->g.arch[0]) {
        st = clgan_arch_build(n, c->g.arch, NULL, img.c, &c->g, c, "arch-g");
        const clgan_net_view *v = clgan_net_get(n);
        if (st == CLGAN_OK && v->out_dim != img_dim)
            st = clgan_error(CLGAN_EINVAL, "--arch-g: G ends in %dx%dx%d values per sample; the "
                             "images are %dx%dx%d", v->out_shape.h, v->out_shape.w,
                             v->out_shape.c, img.h, img.w, img.c);
        return finish(g, n, st, c->seed * 2 + 1);
    }
    if (st == CLGAN_OK)
        st = hidden_layers(n, &c->g, c, 0);
    if (st == CLGAN_OK)
        st = clgan_net_add_dense(n, img_dim, CLGAN_ACT_TANH, 0.0f);
    return finish(g, n, st, c->seed * 2 + 1);
}

clgan_status clgan_model_discriminator(clgan_net **d, clgan_ctx *ctx, const clgan_config *c,
                                       clgan_shape img, int batch)
{
    clgan_net *n;
    clgan_status st = clgan_config_validate(c);
    int sigmoid = clgan_loss_wants_sigmoid((clgan_loss)c->loss);
    *d = NULL;
    if (st != CLGAN_OK || (st = clgan_net_init_shape(&n, ctx, img, batch)) != CLGAN_OK)
        return st;
    st = set_init(n, &c->d);
    if (st == CLGAN_OK && c->d.arch[0]) {
        st = clgan_arch_build(n, c->d.arch, sigmoid ? "sigmoid" : NULL, img.c, &c->d, c,
                              "arch-d");
        const clgan_net_view *v = clgan_net_get(n);
        if (st == CLGAN_OK && v->out_dim != 1)
            st = clgan_error(CLGAN_EINVAL, "--arch-d: D must end in one value per sample (e.g. "
                             "'flatten, dense 1'); it ends in %dx%dx%d", v->out_shape.h,
                             v->out_shape.w, v->out_shape.c);
        return finish(d, n, st, c->seed * 2 + 2);
    }
    if (st == CLGAN_OK)
        st = hidden_layers(n, &c->d, c, 1);
    if (st == CLGAN_OK)
        st = clgan_net_add_dense(n, 1, sigmoid ? CLGAN_ACT_SIGMOID : CLGAN_ACT_NONE, 0.0f);
    return finish(d, n, st, c->seed * 2 + 2);
}
