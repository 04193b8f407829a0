/* test_detect.c - each detector on synthetic runs built to show (or not show) its
 * failure: it must fire with the right onset on the first and stay silent on a healthy
 * run. (tests/cli_diagnose.sh provokes the failures in real training runs.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/nn.h"
#include "testutil.h"

#define N 4000
#define M 40 /* gradient records, every 100 iterations */
#define E 8  /* evaluations, every 500 iterations */

static float dl[N], gl[N], acc[N], dr[N], df[N], g1[M], gn[M], dn[M], cov[E], fd[E], dv[E];
static long mon_it[M], eval_it[E];

/* A healthy-looking run: D around 0.6 loss / 70% accuracy, G around 1.0, gradient norms
 * around 1, samples covering every class with a falling Frechet distance. */
static clgan_diag_input healthy(void)
{
    for (int i = 0; i < N; i++) {
        double w = 0.05 * sin(i * 0.37);
        dl[i] = (float)(0.6 + w), gl[i] = (float)(1.0 - w), acc[i] = 0.7f;
        dr[i] = 0.65f, df[i] = 0.35f;
    }
    for (int k = 0; k < M; k++)
        mon_it[k] = 100 * k, g1[k] = (float)(1.0 + 0.3 * sin(k)), gn[k] = 2.0f, dn[k] = 3.0f;
    for (int k = 0; k < E; k++)
        eval_it[k] = 500 * k, cov[k] = 10, fd[k] = (float)(100.0 / (k + 1)), dv[k] = 0.95f;
    clgan_diag_input in = {.n = N, .d_loss = dl, .g_loss = gl, .d_acc = acc, .d_real = dr,
                           .d_fake = df, .loss = CLGAN_LOSS_BCE, .n_mon = M, .mon_it = mon_it,
                           .g_first_norm = g1, .g_norm = gn, .d_norm = dn, .n_eval = E,
                           .eval_it = eval_it, .coverage = cov, .fd = fd, .diversity = dv,
                           .nonfinite_at = -1};
    return in;
}

/* Runs the detectors; returns the diagnosis with `id` or NULL; counts warnings. */
static const clgan_diagnosis *find(const clgan_diag_input *in, clgan_diag_id id, int *warnings)
{
    static clgan_diagnosis d[CLGAN_DIAG_COUNT];
    int n = clgan_diagnose(in, d);
    const clgan_diagnosis *hit = NULL;
    *warnings = 0;
    for (int i = 0; i < n; i++) {
        if (d[i].id == id)
            hit = &d[i];
        *warnings += d[i].severity > CLGAN_SEV_INFO;
    }
    if (hit)
        printf("  %-36s onset %5ld: %.120s\n", hit->name, hit->onset, hit->evidence);
    return hit;
}

int main(void)
{
    int w;
    clgan_diag_input in = healthy();
    const clgan_diagnosis *d;
    d = find(&in, CLGAN_DIAG_EQUILIBRIUM, &w);
    CHECK(w == 0);
    CHECK(d && d->severity == CLGAN_SEV_INFO && strstr(d->evidence, "still improving"));

    /* D too strong from iteration 2000. */
    in = healthy();
    for (int i = 2000; i < N; i++) dl[i] = 0.01f, df[i] = 0.005f, dr[i] = 0.995f, gl[i] = 6.0f;
    d = find(&in, CLGAN_DIAG_D_STRONG, &w);
    CHECK(d && d->onset >= 1800 && d->onset <= 2000);
    /* ...but not with a Wasserstein loss, whose values are not probabilities. */
    in.loss = CLGAN_LOSS_WASSERSTEIN;
    CHECK(find(&in, CLGAN_DIAG_D_STRONG, &w) == NULL);

    /* D too weak: fooled from 1000 on, samples poor. */
    in = healthy();
    for (int i = 1000; i < N; i++) df[i] = 0.95f, acc[i] = 0.5f, gl[i] = 0.05f;
    for (int k = 0; k < E; k++) cov[k] = 3, fd[k] = 300;
    d = find(&in, CLGAN_DIAG_D_WEAK, &w);
    CHECK(d && d->onset >= 900 && d->onset <= 1000);
    /* D at chance with good samples is not a failure. */
    in = healthy();
    for (int i = 0; i < N; i++) acc[i] = 0.5f, dl[i] = 0.693f;
    CHECK(find(&in, CLGAN_DIAG_D_WEAK, &w) == NULL);

    /* Vanishing: G's first-layer norm falls 1000x from record 10 (iteration 1000). */
    in = healthy();
    for (int k = 10; k < M; k++) g1[k] = 1e-3f;
    d = find(&in, CLGAN_DIAG_VANISHING, &w);
    CHECK(d && d->onset == 1000);
    /* A 5x dip is not vanishing. */
    in = healthy();
    for (int k = 10; k < M; k++) g1[k] = 0.2f;
    CHECK(find(&in, CLGAN_DIAG_VANISHING, &w) == NULL);

    /* Exploding: a 100x spike in D's norm at record 25; and a NaN. */
    in = healthy();
    dn[25] = 300.0f;
    d = find(&in, CLGAN_DIAG_EXPLODING, &w);
    CHECK(d && d->onset == 2500 && d->severity == CLGAN_SEV_WARNING);
    in = healthy();
    dn[25] = 30.0f; /* 10x: within the noise allowed */
    CHECK(find(&in, CLGAN_DIAG_EXPLODING, &w) == NULL);
    in = healthy();
    in.nonfinite_at = 1234;
    d = find(&in, CLGAN_DIAG_EXPLODING, &w);
    CHECK(d && d->onset == 1234 && d->severity == CLGAN_SEV_ERROR);

    /* Mode collapse: coverage falls to 2 classes from evaluation 4 (iteration 2000). */
    in = healthy();
    for (int k = 4; k < E; k++) cov[k] = 2, dv[k] = 0.3f;
    d = find(&in, CLGAN_DIAG_COLLAPSE, &w);
    CHECK(d && d->onset == 2000);
    /* One bad evaluation is not a collapse. */
    in = healthy();
    cov[5] = 2;
    CHECK(find(&in, CLGAN_DIAG_COLLAPSE, &w) == NULL);

    /* Equilibrium with samples that stopped improving. */
    in = healthy();
    for (int k = 0; k < E; k++) fd[k] = 40;
    d = find(&in, CLGAN_DIAG_EQUILIBRIUM, &w);
    CHECK(d && strstr(d->evidence, "stopped improving"));
    /* Losses still moving: no equilibrium. */
    in = healthy();
    for (int i = 0; i < N; i++) gl[i] = 1.0f + i * 0.001f;
    CHECK(find(&in, CLGAN_DIAG_EQUILIBRIUM, &w) == NULL);

    /* A D that outputs 0 for everything pins both losses at the BCE clip, perfectly flat:
     * not an equilibrium, even with no other detector firing. */
    in = healthy();
    for (int i = 0; i < N; i++) dl[i] = 8.059f, gl[i] = 16.1f, acc[i] = 0.5f, dr[i] = df[i] = 1e-7f;
    CHECK(find(&in, CLGAN_DIAG_EQUILIBRIUM, &w) == NULL);
    /* Settled losses during a failure (here D too strong) are that failure, not convergence. */
    in = healthy();
    for (int i = 0; i < N; i++) dl[i] = 0.01f, df[i] = 0.03f, dr[i] = 0.97f, gl[i] = 6.0f;
    CHECK(find(&in, CLGAN_DIAG_D_STRONG, &w) != NULL);
    CHECK(find(&in, CLGAN_DIAG_EQUILIBRIUM, &w) == NULL);
    /* D too strong in two spells of two windows each (G escapes in between) still fires. */
    in = healthy();
    for (int i = 0; i < 300; i++) dl[i] = 0.01f, df[i] = 0.005f, dr[i] = 0.995f, gl[i] = 6.0f;
    for (int i = 1500; i < 1800; i++) dl[i] = 0.01f, df[i] = 0.005f, dr[i] = 0.995f, gl[i] = 6.0f;
    d = find(&in, CLGAN_DIAG_D_STRONG, &w);
    CHECK(d && d->onset == 0);

    /* The JSON form round-trips the essentials. */
    clgan_diagnosis all[CLGAN_DIAG_COUNT];
    in = healthy();
    in.nonfinite_at = 7;
    int n = clgan_diagnose(&in, all);
    char *json = clgan_diagnoses_json(all, n, N);
    CHECK(json && strstr(json, "\"exploding_gradients\"") && strstr(json, "\"healthy\":\tfalse"));
    free(json);
    return tu_finish("test_detect");
}
