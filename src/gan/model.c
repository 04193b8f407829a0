/* model.c - turns a configuration into the two MLP networks.
 * G: latent -> [hidden]* -> Dense(img_dim) + tanh.
 * D: img_dim -> [hidden, dropout]* -> Dense(1) + sigmoid (bce) or linear (other losses).
 * A hidden layer is Dense(w) + act [+ BatchNorm], or the same as a residual block.
 * BatchNorm is never put on an output layer (clgan_config_validate refuses it). */
#include "clgan/gan.h"

static clgan_status hidden_layers(clgan_net *n, const clgan_net_config *nc, const clgan_config *c,
                                  int dropout_ok)
{
    clgan_status st = CLGAN_OK;
    int bn = nc->bn != CLGAN_BN_OFF;
    float var_corr = c->bn_var_keras ? 1.0f + c->bn_eps : 1.0f;
    for (int i = 0; i < nc->n_layers && st == CLGAN_OK; i++) {
        if (nc->residual) {
            st = clgan_net_add_residual(n, nc->layers[i], (clgan_act)nc->act, c->slope, bn,
                                        c->bn_eps, c->bn_momentum, var_corr);
        } else {
            st = clgan_net_add_dense(n, nc->layers[i], (clgan_act)nc->act, c->slope);
            if (st == CLGAN_OK && bn)
                st = clgan_net_add_batchnorm(n, c->bn_eps, c->bn_momentum, var_corr);
        }
        if (st == CLGAN_OK && dropout_ok && nc->dropout > 0)
            st = clgan_net_add_dropout(n, nc->dropout);
    }
    return st;
}

/* G (role 0) or D (role 1) with every layer added; finalized (allocated and
 * initialized) when `alloc`. */
static clgan_status build(clgan_net **out, clgan_ctx *ctx, const clgan_config *c, int img_dim,
                          int batch, int role, int alloc)
{
    clgan_net *n;
    clgan_status st = clgan_config_validate(c);
    *out = NULL;
    if (st != CLGAN_OK || (st = clgan_net_init(&n, ctx, role ? img_dim : c->latent, batch)) != CLGAN_OK)
        return st;
    if (role == 0) {
        st = hidden_layers(n, &c->g, c, 0);
        if (st == CLGAN_OK)
            st = clgan_net_add_dense(n, img_dim, CLGAN_ACT_TANH, 0.0f);
    } else {
        st = hidden_layers(n, &c->d, c, 1);
        if (st == CLGAN_OK)
            st = clgan_net_add_dense(n, 1,
                                     clgan_loss_wants_sigmoid((clgan_loss)c->loss) ? CLGAN_ACT_SIGMOID
                                                                                    : CLGAN_ACT_NONE,
                                     0.0f);
    }
    if (st == CLGAN_OK && alloc)
        st = clgan_model_finalize(n, c, role);
    if (st != CLGAN_OK) {
        clgan_net_free(n);
        return st;
    }
    *out = n;
    return CLGAN_OK;
}

clgan_status clgan_model_finalize(clgan_net *net, const clgan_config *c, int role)
{
    return clgan_net_finalize(net, c->seed * 2 + (role ? 2 : 1));
}

clgan_status clgan_model_generator(clgan_net **g, clgan_ctx *ctx, const clgan_config *c,
                                   int img_dim, int batch)
{
    return build(g, ctx, c, img_dim, batch, 0, 1);
}

clgan_status clgan_model_discriminator(clgan_net **d, clgan_ctx *ctx, const clgan_config *c,
                                       int img_dim, int batch)
{
    return build(d, ctx, c, img_dim, batch, 1, 1);
}

clgan_status clgan_model_layers(clgan_net **net, clgan_ctx *ctx, const clgan_config *c,
                                int img_dim, int batch, int role)
{
    return build(net, ctx, c, img_dim, batch, role, 0);
}
