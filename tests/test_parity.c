/* test_parity.c - the whole Keras-GAN recipe against a PyTorch reference: the fixture
 * (tools/make_parity_fixture.py, Keras 2 conventions written by hand in PyTorch) holds
 * initial weights, every iteration's real batch and noise, the losses and accuracies it
 * recorded, and the final weights. clgan, fed the same, must match:
 *   losses within 1e-6 absolute (+1e-5 relative), accuracies exactly,
 *   final weights and running statistics within 1e-6 absolute (+1e-5 relative).
 * The fixture records the float32-vs-float64 spread of the reference itself; these
 * bounds sit a small factor above it. Run for every GEMM implementation. */
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "testutil.h"

#define FIXTURE "tests/fixtures/parity_mlp.safetensors"

static int meta_int(const clgan_tensor_set *s, const char *k)
{
    const char *v = clgan_safetensors_meta(s, k);
    return v ? atoi(v) : -1;
}

static float meta_f(const clgan_tensor_set *s, const char *k)
{
    const char *v = clgan_safetensors_meta(s, k);
    return v ? strtof(v, NULL) : -1.0f;
}

/* Writes (prefix "init") or compares (prefix "final") every tensor of `net`. */
static void weights(clgan_net *net, const clgan_tensor_set *fx, const char *prefix, const char *who,
                    int compare)
{
    const clgan_net_view *v = clgan_net_get(net);
    float *p = calloc(v->n_params + 1, 4), *s = calloc(v->n_state + 1, 4);
    CHECK_OK(clgan_net_read_params(net, p, s));
    for (int i = 0; i < v->n_tensors; i++) {
        const clgan_tensor_info *ti = &v->tensors[i];
        char name[160];
        snprintf(name, sizeof name, "%s/%s/%s", prefix, who, ti->name);
        const clgan_tensor_view *t = clgan_safetensors_find(fx, name);
        CHECK(t != NULL);
        if (!t)
            continue;
        size_t cnt = t->ndim == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
        CHECK(cnt == ti->count);
        float *dst = (ti->trained ? p : s) + ti->offset;
        if (compare)
            tu_close(name, dst, t->data, ti->count, 1e-6, 1e-5);
        else
            memcpy(dst, t->data, cnt * 4);
    }
    if (!compare)
        CHECK_OK(clgan_net_write_params(net, p, s));
    free(p);
    free(s);
}

static void run(clgan_ctx *ctx, const clgan_tensor_set *fx, clgan_gemm_impl impl)
{
    clgan_config c;
    clgan_trainer *t;
    clgan_config_defaults(&c);
    int it = meta_int(fx, "iterations"), dim = meta_int(fx, "img_dim");
    c.latent = meta_int(fx, "latent");
    c.batch = meta_int(fx, "batch");
    c.iterations = it;
    CHECK_OK(clgan_config_set(&c, "g-layers", clgan_safetensors_meta(fx, "g_layers")));
    CHECK_OK(clgan_config_set(&c, "d-layers", clgan_safetensors_meta(fx, "d_layers")));
    c.g.lr = c.d.lr = meta_f(fx, "lr");
    c.g.beta1 = c.d.beta1 = meta_f(fx, "beta1");
    c.g.beta2 = c.d.beta2 = meta_f(fx, "beta2");
    c.g.eps = c.d.eps = meta_f(fx, "adam_eps");
    c.bn_momentum = meta_f(fx, "bn_momentum");
    c.bn_eps = meta_f(fx, "bn_eps");
    c.slope = meta_f(fx, "slope");
    c.bce_clip = meta_f(fx, "bce_clip");
    clgan_gemm_set_impl(ctx, impl);
    printf("gemm %s: %d iterations, batch %d\n", clgan_gemm_impl_str(impl), it, c.batch);
    if (clgan_trainer_init(&t, ctx, &c, NULL, 0, dim) != CLGAN_OK) {
        fprintf(stderr, "trainer: %s\n", clgan_error_msg());
        tu_failures++;
        return;
    }
    const clgan_trainer_view *v = clgan_trainer_get(t);
    weights(v->g, fx, "init", "G", 0);
    weights(v->d, fx, "init", "D", 0);
    const clgan_tensor_view *real = clgan_safetensors_find(fx, "real");
    const clgan_tensor_view *nd = clgan_safetensors_find(fx, "noise_d");
    const clgan_tensor_view *ng = clgan_safetensors_find(fx, "noise_g");
    CHECK(real && nd && ng);
    for (int i = 0; i < it && real && nd && ng; i++)
        CHECK_OK(clgan_trainer_step_with(t, real->data + (size_t)i * c.batch * dim,
                                         nd->data + (size_t)i * c.batch * c.latent,
                                         ng->data + (size_t)i * c.batch * c.latent));
    CHECK_OK(clgan_trainer_sync(t));
    static const struct {
        const char *name;
        int m;
        double atol;
    } series[] = {
        {"d_loss_real", CLGAN_M_D_LOSS_REAL, 1e-6}, {"d_acc_real", CLGAN_M_D_ACC_REAL, 0},
        {"d_loss_fake", CLGAN_M_D_LOSS_FAKE, 1e-6}, {"d_acc_fake", CLGAN_M_D_ACC_FAKE, 0},
        {"g_loss", CLGAN_M_G_LOSS, 1e-6},
    };
    float got[64];
    for (size_t k = 0; k < sizeof series / sizeof series[0]; k++) {
        const clgan_tensor_view *want = clgan_safetensors_find(fx, series[k].name);
        CHECK(want && want->shape[0] == (size_t)it && it <= 64);
        if (!want || it > 64)
            continue;
        for (int i = 0; i < it; i++)
            got[i] = v->history[(size_t)i * CLGAN_M_COUNT + series[k].m];
        tu_close(series[k].name, got, want->data, it, series[k].atol, series[k].atol ? 1e-5 : 0);
    }
    weights(v->g, fx, "final", "G", 1);
    weights(v->d, fx, "final", "D", 1);
    clgan_trainer_free(t);
}

int main(void)
{
    clgan_tensor_set fx = {0};
    clgan_ctx *ctx;
    if (clgan_safetensors_read(FIXTURE, &fx) != CLGAN_OK ||
        clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = "cpu"}) != CLGAN_OK) {
        fprintf(stderr, "test_parity: %s\n", clgan_error_msg());
        return 1;
    }
    printf("fixture: torch %s; reference f32-vs-f64 spread: losses %s, weights %s\n",
           clgan_safetensors_meta(&fx, "torch_version"),
           clgan_safetensors_meta(&fx, "f32_vs_f64_max_loss_diff"),
           clgan_safetensors_meta(&fx, "f32_vs_f64_max_weight_diff"));
    run(ctx, &fx, CLGAN_GEMM_CLBLAST);
    run(ctx, &fx, CLGAN_GEMM_NATIVE);
    clgan_ctx_free(ctx);
    clgan_safetensors_free(&fx);
    return tu_finish("test_parity");
}
