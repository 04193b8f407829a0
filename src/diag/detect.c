/* detect.c - the detectors that name training failures over a run's records
 * (clgan_diag_input): exploding gradients, dead training, vanishing gradients, D too
 * strong, D too weak, mode collapse (each as events with a span), and equilibrium.
 * Pure host code; every threshold is documented in docs/diagnostics.md with where it
 * comes from. Does not read files (records.c, rundata.c) nor print (diagnoses.c).
 *
 * Every detector is causal: it walks its checks in time order (windows of WIN iterations
 * of the per-iteration series, gradient records, evaluations) and decides each from the
 * records up to that check only. An event opens after k_on checks in a row hold (onset:
 * the first of them) and closes, recovered, after k_off checks in a row do not. So a
 * diagnosis of the first n iterations (the live run's) has every event a later one has,
 * with the same onset; and the detectors keep no state between calls: a resumed run
 * reaches the same events from its records alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/nn.h"

#define WIN 100 /* iterations per window of the series checks */
#define CAP 4   /* events per detector; a fifth spell extends the fourth */

/* ---- thresholds (docs/diagnostics.md says where each comes from) ------------------- */
#define EXPL_UPDATE 0.1      /* update / weight of a weight tensor: healthy ~1e-3 */
#define EXPL_WEIGHT_GROWTH 3 /* a weight tensor's norm over its first record's */
#define EXPL_GRAD_GROWTH 100 /* a network's gradient norm over its first record's ... */
#define EXPL_GRAD_ABS 100    /* ... and above this (ganhacks) */
#define DEAD_GRAD 1e-6       /* gradient norms of both networks below this x their first */
#define DEAD_PIN 0.01        /* bce: D(x) and D(G(z)) both within this of 0 (or of 1) ... */
#define DEAD_FLAT 1e-4       /* ... and both losses flat (window std below this) */
#define VAN_DEPTH 1e-3       /* RMS gradient of the first weight tensor / the last's */
#define VAN_TIME 0.01        /* G's first-layer gradient / its scale at the start */
#define STRONG_SEP 0.95      /* separation (D(x) - D(G(z))) / target gap */
#define WEAK_SEP 0.05        /* separation at or below: D does not tell real from fake */
#define POOR_FD 150          /* Frechet distance of samples still far from digits */
#define POOR_COVERAGE 8      /* classes covered below this: poor samples */
#define COLL_DIVERSITY 0.5   /* diversity below this share of real data's: collapse */
#define COLL_COVERAGE 6      /* classes covered below this ... */
#define COLL_CONFIDENT 0.7   /* ... by samples the classifier takes for digits */

typedef struct {
    const clgan_diag_input *in;
    clgan_diagnosis *out;
    int n;
} sink;

/* One detector's event scanner: conditions checked in time order. */
typedef struct {
    clgan_diag_id id;
    const char *key, *name;
    int sev, k_on, k_off;
    const char *const *remedies;
    int hits, misses, count;
    long first;
    clgan_diagnosis *open, *last;
} scan;

/* Feeds one check of the span [a, b]: hit when its condition held. Returns the event this
 * check opened (the caller writes the evidence), else NULL. */
static clgan_diagnosis *step(sink *s, scan *c, long a, long b, int hit)
{
    if (!hit) {
        c->hits = 0;
        if (c->open && ++c->misses >= c->k_off) {
            c->open->recovered = 1;
            c->open = NULL;
        }
        return NULL;
    }
    c->misses = 0;
    if (c->open) {
        c->open->end = b;
        return NULL;
    }
    if (c->hits++ == 0)
        c->first = a;
    if (c->hits < c->k_on)
        return NULL;
    if (c->count >= CAP || s->n >= CLGAN_DIAG_MAX - 1) { /* another spell: extend the last */
        if (c->last) {
            c->open = c->last;
            c->open->end = b;
            c->open->recovered = 0;
        }
        return NULL;
    }
    clgan_diagnosis *d = &s->out[s->n++];
    memset(d, 0, sizeof *d);
    d->id = c->id;
    d->key = c->key;
    d->name = c->name;
    d->severity = c->sev;
    d->onset = c->first;
    d->end = d->confirmed = b;
    for (int i = 0; i < 5 && c->remedies[i]; i++)
        d->remedies[i] = c->remedies[i];
    c->count++;
    c->open = c->last = d;
    return d;
}

static double mean(const float *x, long a, long b)
{
    double s = 0;
    for (long i = a; i < b; i++)
        s += x[i];
    return b > a ? s / (double)(b - a) : 0;
}

static double sdev(const float *x, long a, long b)
{
    double m = mean(x, a, b), s = 0;
    for (long i = a; i < b; i++)
        s += (x[i] - m) * (x[i] - m);
    return b > a + 1 ? sqrt(s / (double)(b - a - 1)) : 0;
}

static int prob_loss(int loss) { return loss == CLGAN_LOSS_BCE || loss == CLGAN_LOSS_BCE_LOGITS; }

/* How far apart D puts real and fake data over [a, b): (mean D(x) - mean D(G(z))) over the
 * gap between its targets (1 for the probability losses and lsgan, 2 for hinge's margins
 * +-1): 1 = D separates perfectly, 0 = not at all. NaN for the Wasserstein critic, whose
 * outputs have no targets. */
static double separation(const clgan_diag_input *in, long a, long b)
{
    if (in->loss == CLGAN_LOSS_WASSERSTEIN)
        return NAN;
    double gap = in->loss == CLGAN_LOSS_HINGE ? 2.0 : 1.0;
    return (mean(in->d_real, a, b) - mean(in->d_fake, a, b)) / gap;
}

/* ---- per-tensor records ------------------------------------------------------------- */

static float tv(const float *x, const clgan_diag_input *in, long k, int i)
{
    return x ? x[k * in->n_tensors + i] : NAN;
}

/* A weight tensor (rank >= 2: a kernel, not a bias or a BatchNorm vector); every tensor
 * counts when ranks are unknown. */
static int is_weight(const clgan_diag_input *in, int i)
{
    return in->tensors[i].ndim >= 2 || in->tensors[i].ndim == 0;
}

/* The first and last weight tensors of network `net` (0 G, 1 D); 0 when it has none. */
static int weight_ends(const clgan_diag_input *in, int net, int *first, int *last)
{
    int a = net ? in->n_g_tensors : 0, b = net ? in->n_tensors : in->n_g_tensors;
    *first = *last = -1;
    for (int i = a; i < b; i++)
        if (is_weight(in, i)) {
            if (*first < 0)
                *first = i;
            *last = i;
        }
    return *first >= 0 && *last > *first;
}

/* Root mean square of a tensor's gradient (its norm when the size is unknown). */
static double rms(const clgan_diag_input *in, long k, int i)
{
    double g = tv(in->t_grad, in, k, i);
    return in->tensors[i].count > 0 ? g / sqrt((double)in->tensors[i].count) : g;
}

static const char *net_name(int net) { return net ? "D" : "G"; }

/* ---- exploding gradients ------------------------------------------------------------ */

static const char *const r_exploding[] = {
    "--clip-grad-norm 1.0 (clip each network's global gradient norm)",
    "--lr 1e-4 (a smaller step)",
    "--optimizer adam (if using plain SGD)",
    "--weight-decay 1e-4 (keep weights small)",
    "--batchnorm-g on", NULL};

/* NaN/Inf anywhere (an error: training stops); or, at a gradient record, a weight tensor
 * grew to EXPL_WEIGHT_GROWTH times its norm at the first record, or a network's gradient
 * norm reached EXPL_GRAD_GROWTH times its first record's and EXPL_GRAD_ABS (a clipped
 * WGAN critic starts near 0: G's gradient grows 400x to a normal 5-11), or a weight tensor moved by
 * more than EXPL_UPDATE of its own norm in one iteration at this record and the one
 * before (one huge first step alone is a learning rate that is too high; it becomes a
 * blow-up when it goes on). One record opens the event. */
static void exploding(sink *s)
{
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_EXPLODING, "exploding_gradients", "Exploding gradients",
              CLGAN_SEV_WARNING, 1, 2, r_exploding, 0, 0, 0, 0, NULL, NULL};
    for (long k = 0; k < in->n_mon; k++) {
        char why[300] = "";
        for (int i = 0; i < in->n_tensors && !why[0]; i++) {
            double u = tv(in->t_update, in, k, i), w = tv(in->t_weight, in, k, i);
            double w0 = tv(in->t_weight, in, 0, i), u0 = k ? tv(in->t_update, in, k - 1, i) : 0;
            if (!is_weight(in, i))
                continue;
            if (u > EXPL_UPDATE && u0 > EXPL_UPDATE)
                snprintf(why, sizeof why, "one update moved %s's %s by %.3g of its norm, and %.3g "
                         "at the record before (> %g; healthy training moves ~1e-3)",
                         net_name(in->tensors[i].net), in->tensors[i].name, u, u0, EXPL_UPDATE);
            else if (w0 > 0 && w > EXPL_WEIGHT_GROWTH * w0)
                snprintf(why, sizeof why, "%s's %s grew to %.3g, %.1fx its norm %.3g at the first "
                         "record (> %dx)", net_name(in->tensors[i].net), in->tensors[i].name, w,
                         w / w0, w0, EXPL_WEIGHT_GROWTH);
        }
        for (int net = 0; net < 2 && !why[0]; net++) {
            const float *x = net ? in->d_norm : in->g_norm;
            if (x[0] > 0 && x[k] > EXPL_GRAD_GROWTH * x[0] && x[k] > EXPL_GRAD_ABS)
                snprintf(why, sizeof why, "%s's gradient norm reached %.3g, %.0fx its %.3g at the "
                         "first record (> %dx and > %d)", net_name(net), x[k], x[k] / x[0], x[0],
                         EXPL_GRAD_GROWTH, EXPL_GRAD_ABS);
        }
        clgan_diagnosis *d = step(s, &c, in->mon_it[k], in->mon_it[k], why[0] != 0);
        if (d)
            snprintf(d->evidence, sizeof d->evidence, "at iteration %ld %s", in->mon_it[k], why);
    }
}

static void nonfinite(sink *s)
{
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_EXPLODING, "exploding_gradients", "Exploding gradients: NaN/Inf",
              CLGAN_SEV_ERROR, 1, 1, r_exploding, 0, 0, 0, 0, NULL, NULL};
    clgan_diagnosis *d = step(s, &c, in->nonfinite_at, in->nonfinite_at, 1);
    if (d)
        snprintf(d->evidence, sizeof d->evidence,
                 "a loss or gradient norm became NaN/Inf at iteration %ld; training stopped and "
                 "generator.safetensors holds the last weights whose metrics were all finite "
                 "(snapshots every 100 iterations)", in->nonfinite_at);
}

/* ---- dead training ------------------------------------------------------------------ */

/* Dead: nothing learns any more. Per window: a gradient record in it has both networks'
 * gradient norms at most DEAD_GRAD times the largest recorded so far (exactly 0 when the
 * clipped BCE saturates), or, with a probability loss, D outputs ~0 (or ~1) for real and
 * fake alike and both losses are flat (pinned at a clip value). Two windows in a row. */
static void dead(sink *s)
{
    static const char *const r[] = {
        "--lr-d 2e-4 (a D step small enough not to saturate its output)",
        "--loss bce-logits (no clipped region where the gradient is exactly 0)",
        "--optimizer adam (if using plain SGD)",
        "--clip-grad-norm 1.0", NULL};
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_DEAD, "dead_training", "Dead training: gradients gone",
              CLGAN_SEV_ERROR, 2, 2, r, 0, 0, 0, 0, NULL, NULL};
    long k = 0;
    double gmax = 0, dmax = 0;
    for (long a = 0; a + WIN <= in->n; a += WIN) {
        int zero = 0, pinned = 0;
        for (; k < in->n_mon && in->mon_it[k] < a + WIN; k++) {
            gmax = fmax(gmax, in->g_norm[k]);
            dmax = fmax(dmax, in->d_norm[k]);
            if (in->mon_it[k] >= a)
                zero = in->g_norm[k] <= DEAD_GRAD * gmax && in->d_norm[k] <= DEAD_GRAD * dmax;
        }
        double dx = mean(in->d_real, a, a + WIN), dg = mean(in->d_fake, a, a + WIN);
        if (prob_loss(in->loss))
            pinned = ((dx < DEAD_PIN && dg < DEAD_PIN) || (dx > 1 - DEAD_PIN && dg > 1 - DEAD_PIN)) &&
                     sdev(in->d_loss, a, a + WIN) < DEAD_FLAT && sdev(in->g_loss, a, a + WIN) < DEAD_FLAT;
        clgan_diagnosis *d = step(s, &c, a, a + WIN, zero || pinned);
        if (d)
            snprintf(d->evidence, sizeof d->evidence,
                     "from iteration %ld: %s; mean D(x) %.3g, D(G(z)) %.3g, D loss %.4g, G loss %.4g",
                     c.first, zero ? "every gradient of G and D is ~0 (at most 1e-6 of its largest so far)"
                                   : "D's outputs are pinned for real and fake alike and the losses "
                                     "do not move (a clip value)",
                     dx, dg, mean(in->d_loss, a, a + WIN), mean(in->g_loss, a, a + WIN));
    }
}

/* ---- vanishing gradients ------------------------------------------------------------ */

/* Per gradient record: across depth, the RMS gradient of a network's first weight tensor
 * is below VAN_DEPTH of its last weight tensor's (the last still receiving gradient:
 * otherwise that is dead training); or, over time, G's gradient norm fell below VAN_TIME
 * of its scale at the start (the largest of the first three records) while D's did not
 * vanish too (that is dead training). Three records in a row open the event. */
static void vanishing(sink *s)
{
    static const char *const r[] = {
        "--g-loss nonsat (if G uses the saturating minimax loss)",
        "--activation-g leakyrelu (sigmoid/tanh hidden units saturate)",
        "--batchnorm-g on (or --batchnorm-d on for D)",
        "--residual-g on (skip connections carry the gradient to early layers)",
        "--preset wgan-gp (a loss whose gradient does not vanish when D wins)", NULL};
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_VANISHING, "vanishing_gradients", "Vanishing gradients",
              CLGAN_SEV_WARNING, 3, 2, r, 0, 0, 0, 0, NULL, NULL};
    int f[2], l[2], has[2] = {weight_ends(in, 0, &f[0], &l[0]), weight_ends(in, 1, &f[1], &l[1])};
    double scale = 0, dmax = 0;
    for (long k = 0; k < in->n_mon; k++) {
        char why[400] = "";
        for (int net = 0; net < 2 && !why[0]; net++) {
            if (!has[net])
                continue;
            double first = rms(in, k, f[net]), last = rms(in, k, l[net]);
            if (last > 0 && first < VAN_DEPTH * last) {
                int n = snprintf(why, sizeof why, "%s's first-layer RMS gradient is %.2g of its "
                                 "last layer's (< %g); per weight tensor:", net_name(net),
                                 first / last, VAN_DEPTH);
                for (int i = f[net]; i <= l[net] && n < (int)sizeof why - 12; i++)
                    if (is_weight(in, i))
                        n += snprintf(why + n, sizeof why - n, " %.1e", rms(in, k, i));
            }
        }
        double g = in->g_norm[k];
        if (k < 3 && g > scale)
            scale = g;
        dmax = fmax(dmax, in->d_norm[k]);
        if (!why[0] && k >= 1 && scale > 0 && g < VAN_TIME * scale && in->d_norm[k] > DEAD_GRAD * dmax)
            snprintf(why, sizeof why, "G's gradient norm fell to %.3g, %.2g of its scale %.3g at "
                     "the start (< %g)", g, g / scale, scale, VAN_TIME);
        clgan_diagnosis *d = step(s, &c, in->mon_it[k], in->mon_it[k], why[0] != 0);
        if (d)
            snprintf(d->evidence, sizeof d->evidence, "at iteration %ld %s", in->mon_it[k], why);
    }
}

/* ---- imbalance ---------------------------------------------------------------------- */

/* The last evaluation at or before iteration t, or -1. */
static long eval_before(const clgan_diag_input *in, long t)
{
    long e = -1;
    for (long i = 0; i < in->n_eval && in->eval_it[i] <= t; i++)
        e = i;
    return e;
}

/* D too strong (not Wasserstein): per window, the separation is at least STRONG_SEP
 * (bce: D(x) > 0.95 and D(G(z)) < 0.05 on average; hinge: both margins met). Five
 * windows in a row: a healthy D also wins outright while G is still noise, for up to
 * 400 iterations in the presets (hinge, ttur). */
static void d_too_strong(sink *s)
{
    static const char *const r[] = {
        "--lr-d 5e-5 (a slower D; or --preset ttur to rebalance the two rates)",
        "--steps-g 2 (two G updates per D update)",
        "--label-smoothing 0.1 (one-sided: D's real target 0.9)",
        "--instance-noise 0.1 (blur D's view of real and fake early on)",
        "--preset wgan-gp (a critic whose gradient does not saturate)", NULL};
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_D_STRONG, "d_too_strong", "Training imbalance: D too strong",
              CLGAN_SEV_WARNING, 5, 2, r, 0, 0, 0, 0, NULL, NULL};
    for (long a = 0; a + WIN <= in->n; a += WIN) {
        double sep = separation(in, a, a + WIN);
        clgan_diagnosis *d = step(s, &c, a, a + WIN, sep >= STRONG_SEP);
        if (d)
            snprintf(d->evidence, sizeof d->evidence,
                     "from iteration %ld D separates real from fake (separation %.2f >= %.2f): mean "
                     "D(x) %.3g, D(G(z)) %.3g, D loss %.3g, G loss %.3g over iterations %ld-%ld",
                     c.first, sep, STRONG_SEP, mean(in->d_real, a, a + WIN),
                     mean(in->d_fake, a, a + WIN), mean(in->d_loss, a, a + WIN),
                     mean(in->g_loss, a, a + WIN), a, a + WIN);
    }
}

/* D too weak (not Wasserstein): per window, the separation is at most WEAK_SEP (D cannot
 * tell fakes from real data, or rates them higher) while the samples are poor at the
 * last evaluation so far (fewer than POOR_COVERAGE classes or a Frechet distance above
 * POOR_FD); without an evaluation, only when fakes score above real data. A D at chance
 * with good samples is equilibrium, not a failure. */
static void d_too_weak(sink *s)
{
    static const char *const r[] = {
        "--lr-d 4e-4 (a faster D; or --preset ttur)",
        "--steps-d 2 (two D updates per G update)",
        "--layers-d 512,256 (more capacity in D)",
        "--dropout-d 0 (if D uses dropout, less of it)", NULL};
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_D_WEAK, "d_too_weak", "Training imbalance: D too weak",
              CLGAN_SEV_WARNING, 3, 2, r, 0, 0, 0, 0, NULL, NULL};
    for (long a = 0; a + WIN <= in->n; a += WIN) {
        double sep = separation(in, a, a + WIN);
        long e = eval_before(in, a + WIN);
        int poor = e >= 0 ? in->coverage[e] < POOR_COVERAGE || in->fd[e] > POOR_FD : sep < 0;
        clgan_diagnosis *d = step(s, &c, a, a + WIN, sep <= WEAK_SEP && poor);
        if (!d)
            continue;
        char quality[160] = "not evaluated yet";
        if (e >= 0)
            snprintf(quality, sizeof quality, "samples poor at iteration %ld: %.0f of 10 classes, "
                     "Frechet distance %.1f", in->eval_it[e], in->coverage[e], in->fd[e]);
        snprintf(d->evidence, sizeof d->evidence,
                 "from iteration %ld D does not separate real from fake (separation %.2f <= %.2f): "
                 "mean D(x) %.3g, D(G(z)) %.3g, D accuracy %.3f, D loss %.3g; %s", c.first, sep,
                 WEAK_SEP, mean(in->d_real, a, a + WIN), mean(in->d_fake, a, a + WIN),
                 mean(in->d_acc, a, a + WIN), mean(in->d_loss, a, a + WIN), quality);
    }
}

/* ---- mode collapse ------------------------------------------------------------------ */

/* Per evaluation: the samples' diversity is below COLL_DIVERSITY of real data's, or fewer
 * than COLL_COVERAGE of 10 classes are covered by samples the classifier takes for digits
 * (mean confidence >= COLL_CONFIDENT) that are less diverse than real data (an immature
 * G's blobs also fall into few classes, but with confidence ~0.4-0.6; saturated noise can
 * look confident, but is not less diverse). One evaluation opens the event (a temporary
 * collapse lasts a few hundred iterations: one or two evaluations); the next good one
 * closes it. */
static void collapse(sink *s)
{
    static const char *const r[] = {
        "--preset wgan-gp (Wasserstein critics spread G over the modes)",
        "--steps-d 2 or --lr-d 4e-4 (a D that keeps up punishes collapsed samples)",
        "--batchnorm-g on",
        "--label-smoothing 0.1",
        "--lr-g 1e-4 (a slower G)", NULL};
    const clgan_diag_input *in = s->in;
    scan c = {CLGAN_DIAG_COLLAPSE, "mode_collapse", "Mode collapse", CLGAN_SEV_WARNING, 1, 1, r,
              0, 0, 0, 0, NULL, NULL};
    for (long i = 0; i < in->n_eval; i++) {
        float cov = in->coverage[i], div = in->diversity[i];
        float conf = in->confidence ? in->confidence[i] : NAN;
        int bad = div < COLL_DIVERSITY || (cov < COLL_COVERAGE && conf >= COLL_CONFIDENT && div < 1);
        clgan_diagnosis *d = step(s, &c, in->eval_it[i], in->eval_it[i], bad);
        if (d)
            snprintf(d->evidence, sizeof d->evidence,
                     "at iteration %ld: diversity %.2f of real data's, %.0f of 10 classes covered "
                     "(classifier confidence %.2f), Frechet distance %.1f", in->eval_it[i], div,
                     cov, conf, in->fd[i]);
    }
}

/* ---- equilibrium -------------------------------------------------------------------- */

/* Equilibrium (information, about the end of the run): over the last three windows of
 * max(200, n/20) iterations the means of D's and G's losses each moved by less than 3%.
 * Says whether the Frechet distance still falls (by more than 5%), when measured. Losses
 * that stopped moving because a network is pinned are not an equilibrium: with the
 * probability losses D's mean outputs in the last window must lie within [0.02, 0.98];
 * and clgan_diagnose skips it when a warning or an error is still open at the end. */
static void equilibrium(sink *s)
{
    const clgan_diag_input *in = s->in;
    long w = in->n / 20 < 200 ? 200 : in->n / 20;
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
    scan c = {CLGAN_DIAG_EQUILIBRIUM, "equilibrium", "Equilibrium: the losses have settled",
              CLGAN_SEV_INFO, 1, 1, improving ? r_going : r_done, 0, 0, 0, 0, NULL, NULL};
    clgan_diagnosis *d = step(s, &c, a, in->n, 1);
    if (d)
        snprintf(d->evidence, sizeof d->evidence,
                 "over the last %ld iterations D loss %.3f -> %.3f and G loss %.3f -> %.3f (each "
                 "window within 3%%); %s", 3 * w, dl[0], dl[2], gl[0], gl[2], samples);
}

/* ---- all of them -------------------------------------------------------------------- */

static int by_onset(const void *a, const void *b)
{
    const clgan_diagnosis *x = a, *y = b;
    if ((x->id == CLGAN_DIAG_EQUILIBRIUM) != (y->id == CLGAN_DIAG_EQUILIBRIUM))
        return x->id == CLGAN_DIAG_EQUILIBRIUM ? 1 : -1;
    return x->onset != y->onset ? (x->onset < y->onset ? -1 : 1) : (int)x->id - (int)y->id;
}

int clgan_diagnose(const clgan_diag_input *full, clgan_diagnosis *out)
{
    /* After a NaN/Inf the series mean nothing: the detectors see what came before. */
    clgan_diag_input in = *full;
    if (in.nonfinite_at >= 0) {
        if (in.n > in.nonfinite_at)
            in.n = in.nonfinite_at;
        while (in.n_mon > 0 && in.mon_it[in.n_mon - 1] >= in.nonfinite_at)
            in.n_mon--;
        while (in.n_eval > 0 && in.eval_it[in.n_eval - 1] > in.nonfinite_at)
            in.n_eval--;
    }
    sink s = {&in, out, 0};
    if (in.nonfinite_at >= 0)
        nonfinite(&s);
    if (in.n_tensors > 0)
        exploding(&s);
    dead(&s);
    int before = s.n;
    if (in.n_tensors > 0)
        vanishing(&s);
    d_too_strong(&s);
    d_too_weak(&s);
    collapse(&s);
    /* While training is dead the other series only describe its corpse: events confirmed
     * between a dead event's confirmation and its close (k_off windows after its end, or
     * the end of the run) are its consequences, not failures of their own. */
    int k = before;
    for (int i = before; i < s.n; i++) {
        int during = 0;
        for (int j = 0; j < before; j++)
            during |= out[j].id == CLGAN_DIAG_DEAD && out[i].confirmed >= out[j].confirmed &&
                      (!out[j].recovered || out[i].confirmed <= out[j].end + 2 * WIN);
        if (!during)
            out[k++] = out[i];
    }
    s.n = k;
    int open = 0;
    for (int i = 0; i < s.n; i++)
        open |= out[i].severity >= CLGAN_SEV_WARNING && !out[i].recovered;
    if (!open && in.nonfinite_at < 0)
        equilibrium(&s);
    qsort(out, (size_t)s.n, sizeof *out, by_onset);
    return s.n;
}
