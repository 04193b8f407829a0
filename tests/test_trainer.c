/* test_trainer.c - the trainer's bookkeeping on the CPU device: a NaN fed in at
 * iteration 250 is found at exactly that iteration, the last weights known finite are
 * those the trainer had at iteration 100 (the last block start certified by a whole
 * finite block), and restoring puts those exact weights back; the metrics history is
 * complete after sync. Small networks, inputs from the host. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "common/rng.h"
#include "testutil.h"

int main(void)
{
    clgan_ctx *ctx;
    clgan_trainer *t;
    clgan_config c;
    if (clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()}) != CLGAN_OK) {
        fprintf(stderr, "test_trainer: %s\n", clgan_error_msg());
        return 1;
    }
    clgan_config_defaults(&c);
    CHECK_OK(clgan_config_set(&c, "layers-g", "16"));
    CHECK_OK(clgan_config_set(&c, "layers-d", "16"));
    c.latent = 4, c.batch = 8, c.iterations = 300, c.monitor_every = 10;
    const int dim = 16, B = 8;
    CHECK_OK(clgan_trainer_init(&t, ctx, &c, NULL, 0, CLGAN_SHAPE(1, 1, dim)));
    const clgan_trainer_view *v = clgan_trainer_get(t);
    const clgan_net_view *gv = clgan_net_get(v->g);
    float real[8 * 16], zd[8 * 4], zg[8 * 4];
    float *at100 = malloc(gv->n_params * 4), *now = malloc(gv->n_params * 4);
    clgan_rng rng = {3};
    for (int it = 0; it < 300; it++) {
        for (int i = 0; i < B * dim; i++) real[i] = (float)(2 * clgan_rng_uniform(&rng) - 1);
        for (int i = 0; i < B * 4; i++) zd[i] = (float)clgan_rng_normal(&rng), zg[i] = (float)clgan_rng_normal(&rng);
        if (it >= 250)
            real[0] = NAN; /* D(x) becomes NaN from here on */
        if (it == 100)
            CHECK_OK(clgan_net_read_params(v->g, at100, NULL));
        CHECK_OK(clgan_trainer_step_with(t, real, zd, zg));
    }
    CHECK_OK(clgan_trainer_sync(t));
    printf("  synced %ld iterations; first NaN/Inf at %ld; last finite weights at %ld\n",
           v->synced, v->nonfinite_at, v->last_good);
    CHECK(v->synced == 300);
    CHECK(v->nonfinite_at == 250);
    CHECK(v->last_good == 100);
    for (long i = 0; i < 250; i++)
        CHECK(isfinite(v->history[i * CLGAN_M_COUNT + CLGAN_M_D_LOSS_REAL]));
    CHECK(clgan_trainer_monitored(t, 120) && !clgan_trainer_monitored(t, 125));
    CHECK(v->history[120 * CLGAN_M_COUNT + CLGAN_M_TENSORS] > 0);
    CHECK_OK(clgan_trainer_restore_last_good(t));
    CHECK_OK(clgan_net_read_params(v->g, now, NULL));
    tu_close("G restored to iteration 100", now, at100, gv->n_params, 0, 0);
    free(at100);
    free(now);
    clgan_trainer_free(t);
    clgan_ctx_free(ctx);
    return tu_finish("test_trainer");
}
