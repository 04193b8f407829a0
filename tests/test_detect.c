/* test_detect.c - each detector on synthetic runs built to show (or not show) its
 * failure: it must fire with the right onset, span and recovery on the first and stay
 * silent on a healthy run; and every detector is causal: the diagnosis of any prefix of
 * a run (what the live run prints) is part of the diagnosis of the whole run.
 * (tools/provoke.py and tests/cli_diagnose.sh provoke the failures in real runs.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/nn.h"
#include "testutil.h"

#define N 4000
#define M 40 /* gradient records, every 100 iterations */
#define E 8  /* evaluations, every 500 iterations */
#define T 8  /* tensors: G's 4, then D's 4 (kernel, bias, kernel, bias) */

static float dl[N], gl[N], acc[N], dr[N], df[N], g1[M], gn[M], dn[M];
static float tg[M * T], tu[M * T], tw[M * T];
static float cov[E], fd[E], dv[E], conf[E];
static long mon_it[M], eval_it[E];
static const clgan_diag_tensor tensors[T] = {
    {"dense0.kernel", 0, 2, 25600}, {"dense0.bias", 0, 1, 256},
    {"dense1.kernel", 0, 2, 200704}, {"dense1.bias", 0, 1, 784},
    {"dense0.kernel", 1, 2, 200704}, {"dense0.bias", 1, 1, 256},
    {"dense1.kernel", 1, 2, 256}, {"dense1.bias", 1, 1, 1}};

/* A healthy-looking run: D around 0.6 loss, D(x) 0.65 and D(G(z)) 0.35, G around 1.0,
 * gradient norms around 1 with a flat RMS profile, updates ~1e-3 of the weights, samples
 * covering every class with a falling Frechet distance. */
static clgan_diag_input healthy(void)
{
    for (int i = 0; i < N; i++) {
        double w = 0.05 * sin(i * 0.37);
        dl[i] = (float)(0.6 + w), gl[i] = (float)(1.0 - w), acc[i] = 0.7f;
        dr[i] = 0.65f, df[i] = 0.35f;
    }
    for (int k = 0; k < M; k++) {
        mon_it[k] = 100 * k;
        for (int i = 0; i < T; i++) {
            tg[k * T + i] = (float)sqrt((double)tensors[i].count) * 1e-3f * (float)(1 + 0.3 * sin(k + i));
            tu[k * T + i] = 1e-3f;
            tw[k * T + i] = (float)sqrt((double)tensors[i].count) * 0.05f;
        }
        g1[k] = tg[k * T], gn[k] = 2.0f, dn[k] = 3.0f;
    }
    for (int k = 0; k < E; k++)
        eval_it[k] = 500 * (k + 1), cov[k] = 10, fd[k] = (float)(100.0 / (k + 1)), dv[k] = 0.95f,
        conf[k] = 0.8f;
    clgan_diag_input in = {.n = N, .d_loss = dl, .g_loss = gl, .d_acc = acc, .d_real = dr,
                           .d_fake = df, .loss = CLGAN_LOSS_BCE, .n_mon = M, .mon_it = mon_it,
                           .g_first_norm = g1, .g_norm = gn, .d_norm = dn, .n_tensors = T,
                           .n_g_tensors = 4, .tensors = tensors, .t_grad = tg, .t_update = tu,
                           .t_weight = tw, .n_eval = E, .eval_it = eval_it, .coverage = cov,
                           .fd = fd, .diversity = dv, .confidence = conf, .nonfinite_at = -1};
    return in;
}

/* The input as the live run saw it after its first n iterations: the series up to n,
 * the records whose interval ended by n, the evaluations at or before n. */
static clgan_diag_input prefix(const clgan_diag_input *in, long n)
{
    clgan_diag_input p = *in;
    p.n = n;
    while (p.n_mon > 0 && p.mon_it[p.n_mon - 1] >= n)
        p.n_mon--;
    while (p.n_eval > 0 && p.eval_it[p.n_eval - 1] > n)
        p.n_eval--;
    if (p.nonfinite_at >= n)
        p.nonfinite_at = -1;
    return p;
}

/* Every warning of every prefix (n = 100, 200, ...) is in the full run's diagnosis with
 * the same onset: what the live run printed, the summary keeps. */
static int causal(const clgan_diag_input *in)
{
    clgan_diagnosis full[CLGAN_DIAG_MAX], part[CLGAN_DIAG_MAX];
    int nf = clgan_diagnose(in, full), ok = 1;
    for (long n = 100; n <= in->n; n += 100) {
        clgan_diag_input p = prefix(in, n);
        int np = clgan_diagnose(&p, part);
        for (int i = 0; i < np; i++) {
            int found = part[i].severity == CLGAN_SEV_INFO;
            for (int k = 0; k < nf && !found; k++)
                found = full[k].id == part[i].id && full[k].onset == part[i].onset &&
                        full[k].confirmed == part[i].confirmed && full[k].end >= part[i].end;
            if (!found) {
                fprintf(stderr, "  after %ld iterations: %s from %ld is not in the whole run's "
                        "diagnosis\n", n, part[i].key, part[i].onset);
                ok = 0;
            }
        }
    }
    return ok;
}

/* Runs the detectors; returns the first event with `id` or NULL; counts warnings and
 * events of that id. */
static const clgan_diagnosis *find(const clgan_diag_input *in, clgan_diag_id id, int *warnings,
                                   int *events)
{
    static clgan_diagnosis d[CLGAN_DIAG_MAX];
    int n = clgan_diagnose(in, d);
    const clgan_diagnosis *hit = NULL;
    *warnings = *events = 0;
    for (int i = 0; i < n; i++) {
        if (d[i].id == id) {
            (*events)++;
            if (!hit)
                hit = &d[i];
        }
        *warnings += d[i].severity > CLGAN_SEV_INFO;
    }
    if (hit)
        printf("  %-36s %5ld-%5ld named at %5ld%s: %.100s\n", hit->name, hit->onset, hit->end,
               hit->confirmed, hit->recovered ? " (recovered)" : "", hit->evidence);
    return hit;
}

int main(void)
{
    int w, ev;
    clgan_diag_input in = healthy();
    const clgan_diagnosis *d;
    d = find(&in, CLGAN_DIAG_EQUILIBRIUM, &w, &ev);
    CHECK(w == 0);
    CHECK(d && d->severity == CLGAN_SEV_INFO && strstr(d->evidence, "still improving"));

    /* Exploding: NaN at 1234 is an error, alone after it. */
    in = healthy();
    in.nonfinite_at = 1234;
    d = find(&in, CLGAN_DIAG_EXPLODING, &w, &ev);
    CHECK(d && d->onset == 1234 && d->severity == CLGAN_SEV_ERROR && w == 1);
    /* A weight tensor of D grows 5x from record 10 (saturating, never NaN). */
    in = healthy();
    for (int k = 10; k < M; k++) tw[k * T + 6] *= 5;
    d = find(&in, CLGAN_DIAG_EXPLODING, &w, &ev);
    CHECK(d && d->onset == 1000 && d->severity == CLGAN_SEV_WARNING && !d->recovered);
    CHECK(causal(&in));
    /* D's gradient norm 1000x its start. */
    in = healthy();
    for (int k = 20; k < M; k++) dn[k] = 3000;
    d = find(&in, CLGAN_DIAG_EXPLODING, &w, &ev);
    CHECK(d && d->onset == 2000);
    /* Updates of half the weight tensor's norm at two records in a row; one alone is not. */
    in = healthy();
    tu[5 * T + 2] = tu[6 * T + 2] = 0.5f;
    d = find(&in, CLGAN_DIAG_EXPLODING, &w, &ev);
    CHECK(d && d->onset == 600 && d->recovered);
    in = healthy();
    tu[5 * T + 2] = 0.5f;
    tu[3 * T + 1] = tu[4 * T + 1] = 1.0f; /* a bias (zero at the start) does not count */
    CHECK(find(&in, CLGAN_DIAG_EXPLODING, &w, &ev) == NULL && w == 0);

    /* Dead: every gradient exactly 0 from record 3; the run is named at 500. */
    in = healthy();
    for (int k = 3; k < M; k++) gn[k] = dn[k] = 0;
    for (int i = 300; i < N; i++) dr[i] = df[i] = 0, dl[i] = 8.059f, gl[i] = 16.118f, acc[i] = 0.5f;
    for (int k = 0; k < E; k++) cov[k] = 10, fd[k] = 170, dv[k] = 1.3f;
    d = find(&in, CLGAN_DIAG_DEAD, &w, &ev);
    CHECK(d && d->onset == 300 && d->confirmed == 500 && d->severity == CLGAN_SEV_ERROR);
    CHECK(w == 1); /* D at chance with poor samples is the corpse, not D too weak */
    CHECK(causal(&in));
    /* A run that dies at iteration 50, 300 iterations, no evaluation: its records at 100
     * and 200 have no gradient left: named at 300, the end of the run. */
    clgan_diag_input shortrun = prefix(&in, 300);
    shortrun.n_eval = 0;
    for (int i = 50; i < 300; i++) dr[i] = df[i] = 0, dl[i] = 8.059f, gl[i] = 16.118f;
    gn[1] = gn[2] = dn[1] = dn[2] = 0;
    d = find(&shortrun, CLGAN_DIAG_DEAD, &w, &ev);
    CHECK(d && d->onset == 100 && d->confirmed == 300);
    /* Without gradient records: D pinned for real and fake (from 50 now), losses flat. */
    in.n_mon = 0, in.n_tensors = 0;
    d = find(&in, CLGAN_DIAG_DEAD, &w, &ev);
    CHECK(d && d->onset == 100 && d->confirmed == 300);

    /* Vanishing across depth: G's first kernel gets 1e-6 of its last kernel's RMS
     * gradient from the start; the gradient of a healthy profile may differ by 10x. */
    in = healthy();
    for (int k = 0; k < M; k++) tg[k * T] *= 1e-6f;
    d = find(&in, CLGAN_DIAG_VANISHING, &w, &ev);
    CHECK(d && d->onset == 0 && d->confirmed == 200 && strstr(d->evidence, "G's first-layer"));
    CHECK(causal(&in));
    in = healthy();
    for (int k = 0; k < M; k++) tg[k * T] *= 0.1f, tg[k * T + 4] *= 0.05f;
    CHECK(find(&in, CLGAN_DIAG_VANISHING, &w, &ev) == NULL);
    /* Vanishing over time: G's gradient falls 1000x from record 10 while D's does not. */
    in = healthy();
    for (int k = 10; k < M; k++) gn[k] = 2e-3f;
    d = find(&in, CLGAN_DIAG_VANISHING, &w, &ev);
    CHECK(d && d->onset == 1000 && d->confirmed == 1200);
    /* ... for two records only: not yet. */
    in = healthy();
    gn[10] = gn[11] = 2e-3f;
    CHECK(find(&in, CLGAN_DIAG_VANISHING, &w, &ev) == NULL);

    /* D too strong from iteration 2000 to the end; named after five windows. */
    in = healthy();
    for (int i = 2000; i < N; i++) dl[i] = 0.01f, df[i] = 0.005f, dr[i] = 0.995f, gl[i] = 6.0f;
    d = find(&in, CLGAN_DIAG_D_STRONG, &w, &ev);
    CHECK(d && d->onset == 2000 && d->confirmed == 2500 && !d->recovered);
    CHECK(causal(&in));
    /* ...but not with a Wasserstein loss, whose values are not probabilities. */
    in.loss = CLGAN_LOSS_WASSERSTEIN;
    CHECK(find(&in, CLGAN_DIAG_D_STRONG, &w, &ev) == NULL);
    /* The early phase: D wins the first 400 iterations, then G catches up. */
    in = healthy();
    for (int i = 0; i < 400; i++) df[i] = 0.01f, dr[i] = 0.99f;
    CHECK(find(&in, CLGAN_DIAG_D_STRONG, &w, &ev) == NULL && w == 0);
    /* Two spells: two events, the first recovered. */
    in = healthy();
    for (int i = 500; i < 1200; i++) df[i] = 0.01f, dr[i] = 0.99f;
    for (int i = 2500; i < 3300; i++) df[i] = 0.01f, dr[i] = 0.99f;
    d = find(&in, CLGAN_DIAG_D_STRONG, &w, &ev);
    CHECK(d && d->onset == 500 && d->end == 1200 && d->recovered && ev == 2);
    CHECK(causal(&in));

    /* D too weak: fooled from 1000 on, samples poor. */
    in = healthy();
    for (int i = 1000; i < N; i++) df[i] = 0.95f, dr[i] = 0.8f, acc[i] = 0.4f, gl[i] = 0.05f;
    for (int k = 0; k < E; k++) cov[k] = 3, fd[k] = 300, dv[k] = 1.0f, conf[k] = 0.4f;
    d = find(&in, CLGAN_DIAG_D_WEAK, &w, &ev);
    CHECK(d && d->onset == 1000 && d->confirmed == 1300);
    CHECK(causal(&in));
    /* D at chance with good samples is not a failure. */
    in = healthy();
    for (int i = 0; i < N; i++) df[i] = dr[i] = 0.5f, acc[i] = 0.5f, dl[i] = 0.693f;
    CHECK(find(&in, CLGAN_DIAG_D_WEAK, &w, &ev) == NULL);

    /* A temporary collapse: evaluations 3 and 4 (iterations 1500, 2000) see one digit. */
    in = healthy();
    dv[2] = dv[3] = 0.1f, cov[2] = cov[3] = 1;
    d = find(&in, CLGAN_DIAG_COLLAPSE, &w, &ev);
    CHECK(d && d->onset == 1500 && d->end == 2000 && d->recovered && ev == 1);
    CHECK(causal(&in));
    /* An immature G: blobs fall into 4 classes but the classifier is unsure: no collapse. */
    in = healthy();
    cov[1] = 4, dv[1] = 0.7f, conf[1] = 0.5f;
    CHECK(find(&in, CLGAN_DIAG_COLLAPSE, &w, &ev) == NULL);
    /* Confident digits of 3 classes, less diverse than real data: collapse. */
    cov[1] = 3, conf[1] = 0.85f;
    d = find(&in, CLGAN_DIAG_COLLAPSE, &w, &ev);
    CHECK(d && d->onset == 1000 && d->recovered);

    /* Equilibrium with samples that stopped improving. */
    in = healthy();
    for (int k = 0; k < E; k++) fd[k] = 40;
    d = find(&in, CLGAN_DIAG_EQUILIBRIUM, &w, &ev);
    CHECK(d && strstr(d->evidence, "stopped improving"));
    /* Losses still moving: no equilibrium. */
    in = healthy();
    for (int i = 0; i < N; i++) gl[i] = 1.0f + i * 0.001f;
    CHECK(find(&in, CLGAN_DIAG_EQUILIBRIUM, &w, &ev) == NULL);
    /* Settled losses during a failure still open at the end are not an equilibrium. */
    in = healthy();
    for (int i = 0; i < N; i++) dl[i] = 0.01f, df[i] = 0.03f, dr[i] = 0.99f, gl[i] = 6.0f;
    CHECK(find(&in, CLGAN_DIAG_D_STRONG, &w, &ev) != NULL);
    CHECK(find(&in, CLGAN_DIAG_EQUILIBRIUM, &w, &ev) == NULL);

    /* The JSON form carries the span and the recovery. */
    clgan_diagnosis all[CLGAN_DIAG_MAX];
    in = healthy();
    dv[2] = 0.1f;
    int n = clgan_diagnose(&in, all);
    char *json = clgan_diagnoses_json(all, n, N);
    CHECK(json && strstr(json, "\"mode_collapse\"") && strstr(json, "\"healthy\":\tfalse") &&
          strstr(json, "\"recovered\":\ttrue") && strstr(json, "\"end\":\t1500"));
    free(json);
    return tu_finish("test_detect");
}
