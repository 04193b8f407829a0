/* detect.c - the detectors that name training failures, over a run's measurements
 * (clgan_diag_input): D too strong, D too weak, vanishing gradients, exploding
 * gradients, mode collapse, equilibrium. Each reports an onset iteration, the numbers
 * it saw, and flags to try. Pure host code; thresholds are documented in docs/diagnostics.md and
 * in the comment of each detector. Does not read files (see rundata.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/nn.h"

/* Window of iterations the loss detectors average over. */
static long window(const clgan_diag_input *in)
{
    long w = in->n / 20;
    return w < 200 ? 200 : w > 2000 ? 2000 : w;
}

static double mean(const float *x, long a, long b)
{
    double s = 0;
    for (long i = a; i < b; i++)
        s += x[i];
    return b > a ? s / (double)(b - a) : 0;
}

static int prob_loss(int loss) { return loss == CLGAN_LOSS_BCE || loss == CLGAN_LOSS_BCE_LOGITS; }

static clgan_diagnosis *add(clgan_diagnosis *out, int *n, clgan_diag_id id, const char *key,
                            const char *name, int sev, long onset, long last)
{
    clgan_diagnosis *d = &out[(*n)++];
    memset(d, 0, sizeof *d);
    d->id = id;
    d->key = key;
    d->name = name;
    d->severity = sev;
    d->onset = onset;
    d->last = last;
    return d;
}

static void remedies(clgan_diagnosis *d, const char *const *r)
{
    for (int i = 0; i < 5 && r[i]; i++)
        d->remedies[i] = r[i];
}

/* D too strong (bce losses): over a window, mean D(G(z)) < 0.05 and D's loss < 0.1 while
 * G's loss is above 3 (D rejects every fake with confidence; G's gradient through the
 * saturated sigmoid carries little signal). Windows of max(200, n/20) iterations, half
 * overlapping; it must hold in three of them, not necessarily in a row (G can escape
 * for a few hundred iterations and be pinned again: with D's learning rate 100x G's,
 * one seed in six did that between two spells of two windows each); onset: the first
 * of them, last: the end of the last (the span may include stretches where G got
 * away; the evidence is the last dominated window's). Any three windows cover at least
 * the 2w iterations that three in a row do. A healthy
 * run never has one such window (its D loss stays near 0.5-0.7). */
static void d_too_strong(const clgan_diag_input *in, clgan_diagnosis *out, int *n)
{
    long w = window(in), hits = 0, onset = -1, last = -1;
    double ev[4] = {0};
    if (!prob_loss(in->loss) || in->n < 2 * w)
        return;
    for (long a = 0; a + w <= in->n; a += w / 2) {
        double dl = mean(in->d_loss, a, a + w), df = mean(in->d_fake, a, a + w);
        double gl = mean(in->g_loss, a, a + w);
        if (df < 0.05 && dl < 0.1 && gl > 3.0) {
            if (hits++ == 0)
                onset = a;
            last = a + w;
            ev[0] = dl, ev[1] = df, ev[2] = mean(in->d_real, a, a + w), ev[3] = gl;
        }
    }
    if (hits < 3)
        return;
    static const char *const r[] = {
        "--lr-d 5e-5 (a slower D; or --preset ttur to rebalance the two rates)",
        "--steps-g 2 (two G updates per D update)",
        "--label-smoothing 0.1 (one-sided: D's real target 0.9)",
        "--instance-noise 0.1 (blur D's view of real and fake early on)",
        "--preset wgan-gp (a critic whose gradient does not saturate)", NULL};
    clgan_diagnosis *d = add(out, n, CLGAN_DIAG_D_STRONG, "d_too_strong",
                             "Training imbalance: D too strong", CLGAN_SEV_WARNING, onset, last);
    snprintf(d->evidence, sizeof d->evidence,
             "over %ld iterations: D loss %.3f (< 0.1), mean D(G(z)) %.3f (< 0.05), mean D(x) %.3f, "
             "G loss %.2f (> 3)", w, ev[0], ev[1], ev[2], ev[3]);
    remedies(d, r);
}

/* D too weak (bce losses): after the first two windows, for three consecutive windows
 * either D is fooled (mean D(G(z)) > 0.8: fakes pass as real) or D is at chance (accuracy
 * within 0.5 +- 0.08 and loss within 0.05 of ln 2), while samples stay poor: fewer than
 * 8 of 10 classes covered or a Frechet distance above 150 at the last evaluation (healthy
 * MNIST runs fall below 100 within about 1000 iterations; noise scores 170-290, and noise
 * spreads over most classes, so coverage alone cannot tell). A D at chance is also what a healthy run passes through, so
 * that branch needs the sample-quality measurement; a fooled D does not. */
static void d_too_weak(const clgan_diag_input *in, clgan_diagnosis *out, int *n)
{
    long w = window(in), run = 0, onset = -1, last = -1;
    double ev[4] = {0};
    if (!prob_loss(in->loss) || in->n < 4 * w)
        return;
    for (long a = 2 * w; a + w <= in->n; a += w / 2) {
        double acc = mean(in->d_acc, a, a + w), dl = mean(in->d_loss, a, a + w);
        double df = mean(in->d_fake, a, a + w);
        int chance = in->n_eval > 0 && fabs(acc - 0.5) < 0.08 && fabs(dl - log(2.0)) < 0.05;
        if (df > 0.8 || chance) {
            if (run++ == 0)
                onset = a;
            last = a + w;
            ev[0] = acc, ev[1] = dl, ev[2] = mean(in->g_loss, a, a + w), ev[3] = df;
        } else if (run < 3) {
            run = 0;
        }
    }
    if (run < 3)
        return;
    char quality[160] = "sample quality not measured (no classifier for this data)";
    if (in->n_eval > 0) {
        float cov = in->coverage[in->n_eval - 1], fdl = in->fd[in->n_eval - 1];
        if (cov >= 8 && fdl <= 150)
            return; /* D near chance with good samples is equilibrium, not a failure */
        snprintf(quality, sizeof quality, "samples stay poor: %.0f of 10 classes covered, Frechet "
                 "distance %.1f", cov, in->fd[in->n_eval - 1]);
    }
    static const char *const r[] = {
        "--lr-d 4e-4 (a faster D; or --preset ttur)",
        "--steps-d 2 (two D updates per G update)",
        "--layers-d 512,256 (more capacity in D)",
        "--dropout-d 0 (if D uses dropout, less of it)", NULL};
    clgan_diagnosis *d = add(out, n, CLGAN_DIAG_D_WEAK, "d_too_weak",
                             "Training imbalance: D too weak", CLGAN_SEV_WARNING, onset, last);
    snprintf(d->evidence, sizeof d->evidence,
             "over %ld iterations: mean D(G(z)) %.3f (fakes %s), D accuracy %.3f, D loss %.3f "
             "(chance: 0.5, ln 2 = 0.693), G loss %.3f; %s", w, ev[3],
             ev[3] > 0.5 ? "pass as real" : "not separated", ev[0], ev[1], ev[2], quality);
    remedies(d, r);
}

/* Vanishing gradients: the gradient norm of G's first layer falls below 1% of its
 * scale at the start (the largest of the first three gradient records; the first is
 * taken at iteration 0) and stays there for three records in a row. */
static void vanishing(const clgan_diag_input *in, clgan_diagnosis *out, int *n)
{
    if (in->n_mon < 6)
        return;
    double med = 0;
    for (long i = 0; i < 3; i++)
        if (in->g_first_norm[i] > med)
            med = in->g_first_norm[i];
    long run = 0, onset = -1;
    for (long i = 1; i < in->n_mon; i++) {
        if (in->g_first_norm[i] < 0.01 * med) {
            if (run++ == 0)
                onset = i;
        } else if (run < 3) {
            run = 0;
        }
    }
    if (run < 3 || !(med > 0))
        return;
    static const char *const r[] = {
        "--g-loss nonsat (if G uses the saturating minimax loss)",
        "--activation-g leakyrelu (sigmoid/tanh hidden units saturate)",
        "--residual-g on (skip connections carry the gradient to early layers)",
        "--batchnorm-g on",
        "--preset wgan-gp (a loss whose gradient does not vanish when D wins)", NULL};
    clgan_diagnosis *d = add(out, n, CLGAN_DIAG_VANISHING, "vanishing_gradients",
                             "Vanishing gradients in G", CLGAN_SEV_WARNING, in->mon_it[onset],
                             in->mon_it[in->n_mon - 1]);
    snprintf(d->evidence, sizeof d->evidence,
             "G's first-layer gradient norm fell from %.3g (its scale at the start) to %.3g "
             "(< 1%%) at iteration %ld and stayed there; last %.3g", med, in->g_first_norm[onset],
             in->mon_it[onset], in->g_first_norm[in->n_mon - 1]);
    remedies(d, r);
}

/* Exploding gradients: any NaN/Inf (an error: training stops), or a global gradient
 * norm of G or D above 20 times the median of the previous ten records. */
static void exploding(const clgan_diag_input *in, clgan_diagnosis *out, int *n)
{
    static const char *const r[] = {
        "--clip-grad-norm 1.0 (clip each network's global gradient norm)",
        "--lr 1e-4 (a smaller step)",
        "--optimizer adam (if using plain SGD)",
        "--weight-decay 1e-4 (keep weights small)",
        "--batchnorm-g on", NULL};
    if (in->nonfinite_at >= 0) {
        clgan_diagnosis *d = add(out, n, CLGAN_DIAG_EXPLODING, "exploding_gradients",
                                 "Exploding gradients: NaN/Inf", CLGAN_SEV_ERROR,
                                 in->nonfinite_at, in->nonfinite_at);
        snprintf(d->evidence, sizeof d->evidence,
                 "a loss or gradient norm became NaN/Inf at iteration %ld; training stopped and "
                 "generator.safetensors holds the last weights whose metrics were all finite "
                 "(snapshots every 100 iterations)", in->nonfinite_at);
        remedies(d, r);
        return;
    }
    for (long i = 10; i < in->n_mon; i++) {
        for (int net = 0; net < 2; net++) {
            const float *x = net ? in->d_norm : in->g_norm;
            float prev[10];
            for (int k = 0; k < 10; k++)
                prev[k] = x[i - 10 + k];
            for (int a = 0; a < 10; a++)
                for (int b = a + 1; b < 10; b++)
                    if (prev[b] < prev[a]) { float t = prev[a]; prev[a] = prev[b]; prev[b] = t; }
            double med = 0.5 * (prev[4] + prev[5]);
            if (med > 0 && x[i] > 20 * med) {
                clgan_diagnosis *d = add(out, n, CLGAN_DIAG_EXPLODING, "exploding_gradients",
                                         "Exploding gradients: norm spike", CLGAN_SEV_WARNING,
                                         in->mon_it[i], in->mon_it[i]);
                snprintf(d->evidence, sizeof d->evidence,
                         "%s's global gradient norm jumped to %.3g at iteration %ld, %.0fx the "
                         "median %.3g of the ten records before", net ? "D" : "G", x[i],
                         in->mon_it[i], x[i] / med, med);
                remedies(d, r);
                return;
            }
        }
    }
}

/* Mode collapse (needs sample-quality records): from the second evaluation on, fewer
 * than 6 of 10 classes covered, or diversity below 0.6 of real data's; or coverage 4 or
 * more classes below its best so far. Two consecutive evaluations. */
static void collapse(const clgan_diag_input *in, clgan_diagnosis *out, int *n)
{
    long run = 0, onset = -1;
    float best = 0;
    for (long i = 0; i < in->n_eval; i++) {
        float cov = in->coverage[i], div = in->diversity[i];
        int bad = i >= 1 && (cov < 6 || div < 0.6f || cov <= best - 4);
        if (cov > best)
            best = cov;
        if (bad) {
            if (run++ == 0)
                onset = i;
        } else if (run < 2) {
            run = 0;
        }
    }
    if (run < 2)
        return;
    static const char *const r[] = {
        "--preset wgan-gp (Wasserstein critics spread G over the modes)",
        "--steps-d 2 or --lr-d 4e-4 (a D that keeps up punishes collapsed samples)",
        "--batchnorm-g on",
        "--label-smoothing 0.1",
        "--lr-g 1e-4 (a slower G)", NULL};
    long last = in->n_eval - 1;
    clgan_diagnosis *d = add(out, n, CLGAN_DIAG_COLLAPSE, "mode_collapse", "Mode collapse",
                             CLGAN_SEV_WARNING, in->eval_it[onset], in->eval_it[last]);
    snprintf(d->evidence, sizeof d->evidence,
             "from iteration %ld: %.0f of 10 classes covered (best %.0f), diversity %.2f of real "
             "data's, Frechet distance %.1f; at the end %.0f classes, diversity %.2f",
             in->eval_it[onset], in->coverage[onset], best, in->diversity[onset], in->fd[onset],
             in->coverage[last], in->diversity[last]);
    remedies(d, r);
}

/* Equilibrium (information): over the last three windows the means of D's and G's
 * losses each moved by less than 3%. Says whether the samples still improve: the
 * Frechet distance fell by more than 5% over the same span, when measured. Losses
 * that stopped moving because a network is pinned are not an equilibrium: with the
 * probability losses, D's mean output on real or fake data in the last window must
 * lie within [0.02, 0.98] (a D that outputs 0 for everything sits at D loss 8.06 and
 * G loss 16.1, the BCE clip, perfectly flat), and clgan_diagnose skips this one when
 * a warning or an error was found. */
static void equilibrium(const clgan_diag_input *in, clgan_diagnosis *out, int *n)
{
    long w = window(in);
    if (in->n < 4 * w)
        return;
    long a = in->n - 3 * w;
    double dl[3], gl[3];
    for (int k = 0; k < 3; k++) {
        dl[k] = mean(in->d_loss, a + k * w, a + (k + 1) * w);
        gl[k] = mean(in->g_loss, a + k * w, a + (k + 1) * w);
    }
    if (prob_loss(in->loss)) {
        double dx = mean(in->d_real, in->n - w, in->n), dgz = mean(in->d_fake, in->n - w, in->n);
        if (dx < 0.02 || dx > 0.98 || dgz < 0.02 || dgz > 0.98)
            return;
    }
    for (int k = 1; k < 3; k++)
        if (fabs(dl[k] - dl[k - 1]) > 0.03 * fabs(dl[k - 1]) ||
            fabs(gl[k] - gl[k - 1]) > 0.03 * fabs(gl[k - 1]))
            return;
    char samples[200] = "sample quality not measured";
    int improving = 0;
    if (in->n_eval >= 2) {
        long first = 0; /* the last evaluation at or before the settled span */
        while (first + 1 < in->n_eval - 1 && in->eval_it[first + 1] <= a)
            first++;
        double f0 = in->fd[first], f1 = in->fd[in->n_eval - 1];
        improving = f1 < 0.95 * f0;
        snprintf(samples, sizeof samples, "samples %s: Frechet distance %.1f -> %.1f since iteration %ld",
                 improving ? "still improving" : "stopped improving", f0, f1, in->eval_it[first]);
    }
    static const char *const r_done[] = {
        "training has converged: stop here, or to go further:",
        "--lr 1e-4 (smaller steps to refine)",
        "--layers-g 256,512,1024,1024 (more capacity in G)", NULL};
    static const char *const r_going[] = {"keep training: the samples still improve", NULL};
    clgan_diagnosis *d = add(out, n, CLGAN_DIAG_EQUILIBRIUM, "equilibrium",
                             "Equilibrium: the losses have settled", CLGAN_SEV_INFO, a, in->n);
    snprintf(d->evidence, sizeof d->evidence,
             "over the last %ld iterations D loss %.3f -> %.3f and G loss %.3f -> %.3f (each window "
             "within 3%%); %s", 3 * w, dl[0], dl[2], gl[0], gl[2], samples);
    remedies(d, improving ? r_going : r_done);
}

int clgan_diagnose(const clgan_diag_input *in, clgan_diagnosis *out)
{
    int n = 0;
    exploding(in, out, &n);
    if (in->nonfinite_at >= 0)
        return n; /* after a NaN the other series mean nothing */
    d_too_strong(in, out, &n);
    d_too_weak(in, out, &n);
    vanishing(in, out, &n);
    collapse(in, out, &n);
    for (int i = 0; i < n; i++)
        if (out[i].severity >= CLGAN_SEV_WARNING)
            return n; /* settled losses are part of that failure, not convergence */
    equilibrium(in, out, &n);
    return n;
}

static const char *sev_str(int s)
{
    return s == CLGAN_SEV_ERROR ? "error" : s == CLGAN_SEV_WARNING ? "warning" : "info";
}

void clgan_diagnoses_print(FILE *f, const clgan_diagnosis *d, int n, long iterations)
{
    int problems = 0;
    for (int i = 0; i < n; i++)
        problems += d[i].severity > CLGAN_SEV_INFO;
    fprintf(f, "Diagnosis after %ld iterations: %s\n", iterations,
            problems ? "problems found" : "no training failure detected");
    for (int i = 0; i < n; i++) {
        fprintf(f, "  [%s] %s, from iteration %ld\n    evidence: %s\n", sev_str(d[i].severity),
                d[i].name, d[i].onset, d[i].evidence);
        for (int k = 0; k < 6 && d[i].remedies[k]; k++)
            fprintf(f, "    %s %s\n", k ? "   " : "try:", d[i].remedies[k]);
    }
}
