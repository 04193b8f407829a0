/* model.c - turns a configuration into the two MLP networks of the classic GAN.
 * G: latent -> [Dense(w) + act, BatchNorm]* -> Dense(img_dim) + tanh.
 * D: img_dim -> [Dense(w) + act]* -> Dense(1) + sigmoid (bce) or linear (bce-logits).
 * BatchNorm is never put on an output layer. */
#include "clgan/gan.h"

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

clgan_status clgan_model_generator(clgan_net **g, clgan_ctx *ctx, const clgan_config *c,
                                   int img_dim, int batch)
{
    clgan_net *n;
    clgan_status st = clgan_net_init(&n, ctx, c->latent, batch);
    float var_corr = c->bn_var_keras ? 1.0f + c->bn_eps : 1.0f;
    *g = NULL;
    if (st != CLGAN_OK)
        return st;
    for (int i = 0; i < c->n_g_layers && st == CLGAN_OK; i++) {
        st = clgan_net_add_dense(n, c->g_layers[i], (clgan_act)c->g_act, c->slope);
        if (st == CLGAN_OK && c->g_bn)
            st = clgan_net_add_batchnorm(n, c->bn_eps, c->bn_momentum, var_corr);
    }
    if (st == CLGAN_OK)
        st = clgan_net_add_dense(n, img_dim, CLGAN_ACT_TANH, 0.0f);
    return finish(g, n, st, c->seed * 2 + 1);
}

clgan_status clgan_model_discriminator(clgan_net **d, clgan_ctx *ctx, const clgan_config *c,
                                       int img_dim, int batch)
{
    clgan_net *n;
    clgan_status st = clgan_net_init(&n, ctx, img_dim, batch);
    *d = NULL;
    if (st != CLGAN_OK)
        return st;
    for (int i = 0; i < c->n_d_layers && st == CLGAN_OK; i++)
        st = clgan_net_add_dense(n, c->d_layers[i], (clgan_act)c->d_act, c->slope);
    if (st == CLGAN_OK)
        st = clgan_net_add_dense(n, 1, c->loss == CLGAN_LOSS_BCE ? CLGAN_ACT_SIGMOID : CLGAN_ACT_NONE,
                                 0.0f);
    return finish(d, n, st, c->seed * 2 + 2);
}
