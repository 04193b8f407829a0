/* report.c - `clgan report`: one self-contained HTML page about a run directory (header
 * with settings and verdict, diagnoses with remedies, SVG charts, sample timeline, GIF).
 * No scripts, no external resources: CSS inline, images as data: URIs. Reads through
 * report_data.c, draws through report_svg.c; writes nothing but the page. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/io.h"
#include "diag/report_internal.h"

#define MAX_THUMBS 30

static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
static const char *const dashes[3] = {NULL, "6 3", "2 2"};
#define C_D "#1f77b4"
#define C_G "#ff7f0e"
#define C_TOTAL "#222222"

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f3f4f6;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
    "main{max-width:1240px;margin:0 auto;padding:20px 24px 40px}"
    "h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 10px}"
    ".path{color:#57606a;font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12.5px;"
    "word-break:break-all}"
    ".card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:14px 16px}"
    ".verdict{margin:14px 0;padding:12px 16px;border-radius:8px;font-size:16px;font-weight:600;"
    "border:1px solid}"
    ".v-ok{background:#e9f7ef;border-color:#7dcea0;color:#145a32}"
    ".v-bad{background:#fdecea;border-color:#f1948a;color:#78281f}"
    ".v-none{background:#eef0f3;border-color:#c6ccd3;color:#424a53}"
    ".verdict small{display:block;font-weight:400;font-size:13px;margin-top:2px}"
    ".settings{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:6px 18px;"
    "margin:0}"
    ".settings div{display:flex;gap:8px;border-bottom:1px solid #eef0f2;padding:3px 0}"
    ".settings dt{color:#57606a;min-width:92px;margin:0}.settings dd{margin:0;font-weight:500}"
    ".stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:10px;"
    "margin-top:12px}"
    ".stat{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:8px 12px}"
    ".stat b{display:block;font-size:18px}.stat span{color:#57606a;font-size:12px}"
    ".stat.alert{border-color:#f1948a;background:#fdecea}"
    ".missing{margin-top:12px;color:#57606a;font-size:13px}"
    ".missing code,.remedies code{background:#eef0f3;border-radius:4px;padding:1px 5px}"
    "table.diag{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d8dee4;"
    "border-radius:8px;overflow:hidden}"
    "table.diag th{text-align:left;background:#f6f8fa;font-size:12.5px;color:#57606a;"
    "padding:8px 12px;border-bottom:1px solid #d8dee4}"
    "table.diag td{padding:10px 12px;border-bottom:1px solid #eef0f2;vertical-align:top}"
    ".sev{display:inline-block;color:#fff;border-radius:10px;padding:1px 9px;font-size:12px;"
    "font-weight:600}"
    ".id{color:#57606a;font-size:12px;font-family:ui-monospace,'DejaVu Sans Mono',monospace}"
    ".remedies{margin:0;padding-left:18px}.remedies li{margin:2px 0}"
    ".charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px}"
    ".charts .card{padding:6px}"
    ".chart{display:block;width:100%;height:auto;font-family:system-ui,'DejaVu Sans',sans-serif}"
    ".chart .bg{fill:#fff}.chart .grid{stroke:#e8e8e8;stroke-width:1}"
    ".chart .grid.minor{stroke:#f4f4f4}.chart .axis{stroke:#999}"
    ".chart .frame{fill:none;stroke:#c4c4c4}"
    ".chart .tick{font-size:10.5px;fill:#57606a}.chart .label{font-size:11px;fill:#424a53}"
    ".chart .title{font-size:14px;font-weight:600;fill:#1f2328}"
    ".chart .note{font-size:11px;fill:#6e7781}.chart .legend{font-size:11px;fill:#24292f}"
    ".chart .marklabel{font-size:10.5px;font-weight:600}.chart .bar{fill:#4c78a8}"
    ".nochart{display:flex;flex-direction:column;justify-content:center;min-height:160px;"
    "color:#57606a}.nochart b{color:#1f2328;font-size:14px;margin-bottom:4px}"
    ".timeline{display:flex;flex-wrap:wrap;gap:10px}"
    ".timeline figure{margin:0;background:#fff;border:1px solid #d8dee4;border-radius:6px;"
    "padding:5px;text-align:center}"
    ".timeline img{display:block;width:104px;height:auto;image-rendering:pixelated}"
    ".timeline figcaption{font-size:12px;color:#424a53;margin-top:3px}"
    ".timeline .flag{display:block;font-size:11px;font-weight:600}"
    ".gif{display:flex;gap:18px;align-items:flex-start}"
    ".gif img{width:296px;height:auto;image-rendering:pixelated;border-radius:6px;"
    "border:1px solid #d8dee4}"
    "details{margin-top:24px}summary{cursor:pointer;font-weight:600}"
    "pre{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:12px;overflow:auto;"
    "font-size:12px;max-height:480px}"
    "footer{margin-top:28px;color:#8c959f;font-size:12px}"
    "@media (max-width:860px){.charts{grid-template-columns:minmax(0,1fr)}}";

/* Whether a diagnosis is a problem: anything but an "info" (or ok) note and equilibrium. */
static int is_problem(const rdiag *d)
{
    const char *s = d->severity ? d->severity : "";
    return !(d->id && !strcmp(d->id, "equilibrium")) && strcmp(s, "info") && strcmp(s, "ok") &&
           strcmp(s, "note");
}

/* The colour for a diagnosis: red for errors, amber for warnings, green for equilibrium,
 * blue for other notes. */
static const char *sev_color(const rdiag *d)
{
    const char *s = d->severity ? d->severity : "";
    if (d->id && !strcmp(d->id, "equilibrium"))
        return "#1e8449";
    if (!is_problem(d))
        return "#2e86c1";
    return !strcmp(s, "warning") ? "#ca6f1e" : "#c0392b";
}

static const char *diag_name(const rdiag *d)
{
    return d->name ? d->name : d->id;
}

static double last_finite(const rseries *s)
{
    for (size_t i = s ? s->n : 0; i > 0; i--)
        if (isfinite(s->y[i - 1]))
            return s->y[i - 1];
    return NAN;
}

static double series_max_x(const rseries *s)
{
    return s && s->n ? s->x[s->n - 1] : 0.0;
}

/* The last iteration anything in the run reaches (0 when nothing does). */
static double run_last(const report_run *r)
{
    double x = 0.0;
    for (int i = 0; i < 5; i++)
        x = fmax(x, series_max_x(&r->arr[i]));
    for (int i = 0; i < r->metrics.n; i++)
        x = fmax(x, series_max_x(&r->metrics.s[i]));
    for (int i = 0; i < r->evals.n; i++)
        x = fmax(x, series_max_x(&r->evals.s[i]));
    x = fmax(x, (double)r->diag_iterations);
    if (r->n_images)
        x = fmax(x, (double)r->images[r->n_images - 1].iteration);
    return x;
}

/* ---- header ------------------------------------------------------------------------- */

static void setting(rbuf *b, const char *label, const char *value)
{
    rb_puts(b, "<div><dt>");
    rb_esc(b, label);
    rb_puts(b, "</dt><dd>");
    rb_esc(b, value);
    rb_puts(b, "</dd></div>");
}

/* "adam, lr 0.0002, beta1 0.5" (", steps 2" when not 1) for [section], into out (n). */
static void optimizer_text(char *out, size_t n, const report_run *r, const char *sec)
{
    const char *opt = report_cfg(r, sec, "optimizer"), *lr = report_cfg(r, sec, "lr");
    const char *b1 = report_cfg(r, sec, "beta1"), *steps = report_cfg(r, sec, "steps");
    int adam = opt && !strcmp(opt, "adam");
    snprintf(out, n, "%s, lr %s%s%s%s%s", opt ? opt : "?", lr ? lr : "?", adam && b1 ? ", beta1 " : "",
             adam && b1 ? b1 : "", steps && strcmp(steps, "1") ? ", steps " : "",
             steps && strcmp(steps, "1") ? steps : "");
}

static void settings(rbuf *b, const report_run *r)
{
    char v[512];
    if (!r->present[RF_CONFIG])
        return;
    rb_puts(b, "<dl class=\"settings card\">");
    const char *loss = report_cfg(r, "train", "loss"), *gl = report_cfg(r, "train", "g-loss");
    snprintf(v, sizeof v, "%s%s%s", loss ? loss : "?",
             loss && !strncmp(loss, "bce", 3) && gl ? ", G " : "", loss && !strncmp(loss, "bce", 3) && gl ? gl : "");
    setting(b, "loss", v);
    static const struct {
        const char *label, *sec;
    } nets[2] = {{"G", "generator"}, {"D", "discriminator"}};
    for (int k = 0; k < 2; k++) {
        const char *layers = report_cfg(r, nets[k].sec, "layers"), *act = report_cfg(r, nets[k].sec, "activation");
        const char *bn = report_cfg(r, nets[k].sec, "batchnorm"), *res = report_cfg(r, nets[k].sec, "residual");
        snprintf(v, sizeof v, "%s%s%s%s%s", layers ? layers : "?", act ? ", " : "", act ? act : "",
                 bn && strcmp(bn, "off") ? ", batchnorm" : "", res && !strcmp(res, "on") ? ", residual" : "");
        char label[32];
        snprintf(label, sizeof label, "%s layers", nets[k].label);
        setting(b, label, v);
        optimizer_text(v, sizeof v, r, nets[k].sec);
        snprintf(label, sizeof label, "%s optimizer", nets[k].label);
        setting(b, label, v);
    }
    static const char *const plain[][2] = {{"batch", "batch"}, {"iterations", "iterations"},
                                           {"latent", "latent"}, {"seed", "seed"}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        const char *x = report_cfg(r, i == 2 ? "model" : "train", plain[i][1]);
        if (x)
            setting(b, plain[i][0], x);
    }
    /* Remedy switches, shown only when they are on. */
    static const char *const extras[][2] = {
        {"train", "label-smoothing"}, {"train", "label-flip"}, {"train", "instance-noise"},
        {"train", "gp-lambda"}, {"train", "clip-weights-d"}, {"generator", "clip-grad-norm"},
        {"discriminator", "clip-grad-norm"}, {"generator", "dropout"}, {"discriminator", "dropout"},
        {"generator", "weight-decay"}, {"discriminator", "weight-decay"}, {"generator", "l2"},
        {"discriminator", "l2"}};
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        const char *x = report_cfg(r, extras[i][0], extras[i][1]);
        if (!x || strtod(x, NULL) == 0.0)
            continue;
        char label[64];
        snprintf(label, sizeof label, "%s%s", !strcmp(extras[i][0], "generator") ? "G " :
                 !strcmp(extras[i][0], "discriminator") ? "D " : "", extras[i][1]);
        setting(b, label, x);
    }
    rb_puts(b, "</dl>");
}

/* The iterations the run was asked for (config.ini), or -1 when unknown. */
static long planned_iterations(const report_run *r)
{
    const char *v = report_cfg(r, "train", "iterations");
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    return v && *v && !*end && n > 0 ? n : -1;
}

/* Writes "stopped at N of M iterations" into out (n) when the run ended before the
 * iterations its config.ini asked for (Ctrl-C, a kill, a divergence); "" otherwise. */
static void stopped_text(char *out, size_t n, const report_run *r)
{
    long planned = planned_iterations(r), done = (long)run_last(r);
    out[0] = '\0';
    if (planned > 0 && done < planned)
        snprintf(out, n, "stopped at %ld of %ld iterations", done, planned);
}

static void verdict(rbuf *b, const report_run *r)
{
    int problems = 0;
    char stopped[96];
    stopped_text(stopped, sizeof stopped, r);
    for (int i = 0; i < r->n_diag; i++)
        problems += is_problem(&r->diag[i]);
    if (!r->present[RF_DIAGNOSES]) {
        rb_printf(b, "<div class=\"verdict v-none\">%s%s<small>diagnoses.json is missing: the run "
                     "was not diagnosed%s.</small></div>", stopped[0] ? "Stopped: " : "No verdict",
                  stopped, stopped[0] ? " (it ended before writing its outputs; clgan diagnose "
                  "reads its records)" : "");
        return;
    }
    int ok = r->healthy == 1 || (r->healthy == -1 && problems == 0);
    if (ok && stopped[0]) {
        /* No failure seen in what ran, but a run cut short is not a healthy result. */
        rb_printf(b, "<div class=\"verdict v-none\">Stopped at %ld of %ld iterations<small>no "
                     "training failure detected in the iterations that ran", (long)run_last(r),
                  planned_iterations(r));
        for (int i = 0, k = 0; i < r->n_diag; i++) {
            rb_puts(b, k++ ? ", " : "; ");
            rb_esc(b, diag_name(&r->diag[i]));
        }
        rb_puts(b, "</small></div>");
        return;
    }
    rb_printf(b, "<div class=\"verdict %s\">%s", ok ? "v-ok" : "v-bad",
              ok ? "Healthy" : "Not healthy: ");
    for (int i = 0, k = 0; i < r->n_diag && !ok; i++) {
        if (!is_problem(&r->diag[i]))
            continue;
        rb_puts(b, k++ ? ", " : "");
        rb_esc(b, diag_name(&r->diag[i]));
    }
    if (!ok && problems == 0)
        rb_puts(b, "no diagnosis given");
    rb_printf(b, "<small>%s%s%d diagnos%s", stopped, stopped[0] ? "; " : "", r->n_diag,
              r->n_diag == 1 ? "is" : "es");
    if (r->diag_iterations >= 0)
        rb_printf(b, " over %ld iterations", r->diag_iterations);
    if (ok)
        for (int i = 0, k = 0; i < r->n_diag; i++) {
            rb_puts(b, k++ ? ", " : ": ");
            rb_esc(b, diag_name(&r->diag[i]));
        }
    rb_puts(b, "</small></div>");
}

static void stat_card(rbuf *b, const char *label, double v, const char *fmt, int alert)
{
    if (!isfinite(v))
        return;
    rb_printf(b, "<div class=\"stat%s\"><b>", alert ? " alert" : "");
    rb_printf(b, fmt, v);
    rb_puts(b, "</b><span>");
    rb_esc(b, label);
    rb_puts(b, "</span></div>");
}

/* The series for a per-iteration quantity: the .npy array, else metrics.jsonl's field. */
static const rseries *pick(const report_run *r, int rf, const char *metric)
{
    const rseries *s = &r->arr[rf - RF_D_LOSS];
    return s->n ? s : report_series(&r->metrics, metric);
}

/* 1 for a Wasserstein critic: its scores have no threshold, so D's "accuracy" (the
 * share on the right side of 0) means nothing. */
static int critic_without_threshold(const report_run *r)
{
    const char *loss = report_cfg(r, "train", "loss");
    return loss && !strcmp(loss, "wasserstein");
}

/* 1 when D's outputs are probabilities (bce: a sigmoid; bce-logits: reported as one). */
static int d_outputs_probabilities(const report_run *r)
{
    const char *loss = report_cfg(r, "train", "loss");
    return !loss || !strncmp(loss, "bce", 3);
}

static void stats(rbuf *b, const report_run *r)
{
    rb_puts(b, "<div class=\"stats\">");
    double its = run_last(r);
    if (its > 0)
        stat_card(b, "iterations", its, "%.0f", 0);
    stat_card(b, "final D loss", last_finite(pick(r, RF_D_LOSS, "d_loss")), "%.4g", 0);
    stat_card(b, "final G loss", last_finite(pick(r, RF_G_LOSS, "g_loss")), "%.4g", 0);
    stat_card(b, "final D(x)", last_finite(pick(r, RF_D_REAL, "d_x")), "%.3f", 0);
    stat_card(b, "final D(G(z))", last_finite(pick(r, RF_D_FAKE, "d_g_z")), "%.3f", 0);
    if (!critic_without_threshold(r))
        stat_card(b, "final D accuracy", last_finite(pick(r, RF_D_ACC, "d_acc")), "%.3f", 0);
    stat_card(b, "iterations / s", last_finite(report_series(&r->metrics, "it_per_s")), "%.1f", 0);
    stat_card(b, "modes covered (last eval)", last_finite(report_series(&r->evals, "modes_covered")),
              "%.0f", 0);
    stat_card(b, "Frechet distance (last eval)", last_finite(report_series(&r->evals, "frechet")),
              "%.3g", 0);
    const rseries *nf = report_series(&r->metrics, "nonfinite");
    for (size_t i = 0; nf && i < nf->n; i++)
        if (nf->y[i] > 0 || !isfinite(nf->y[i])) {
            stat_card(b, "first log interval with NaN/Inf (iteration)", nf->x[i], "%.0f", 1);
            break;
        }
    rb_puts(b, "</div>");
}

static void missing(rbuf *b, const report_run *r)
{
    int k = 0;
    for (int rf = 0; rf < RF_COUNT; rf++) {
        if (r->present[rf])
            continue;
        rb_puts(b, k++ ? "; " : "<div class=\"missing\">Not in this run directory (the report "
                                "leaves out what they would show): ");
        rb_puts(b, "<code>");
        rb_esc(b, report_file_name(rf));
        rb_puts(b, "</code> (");
        rb_esc(b, report_file_role(rf));
        rb_puts(b, ")");
    }
    if (k)
        rb_puts(b, ".</div>");
    if (r->metrics_partial)
        rb_puts(b, "<div class=\"missing\">metrics.jsonl is absent; read "
                   "<code>metrics.jsonl.partial</code> (training still running or interrupted).</div>");
}

/* ---- diagnoses ---------------------------------------------------------------------- */

/* "--lr-d 5e-5 (slower D)": the flags as code, the parenthesised reason as text. */
static void remedy(rbuf *b, const char *s)
{
    const char *p = strstr(s, " (");
    size_t n = p ? (size_t)(p - s) : strlen(s);
    char *flag = strndup(s, n);
    if (!flag)
        b->oom = 1;
    rb_puts(b, "<li><code>");
    rb_esc(b, flag ? flag : s);
    rb_puts(b, "</code>");
    if (p && flag) {
        rb_puts(b, " ");
        rb_esc(b, p + 1);
    }
    rb_puts(b, "</li>");
    free(flag);
}

static void diagnoses(rbuf *b, const report_run *r)
{
    rb_puts(b, "<h2>Diagnoses</h2>");
    if (!r->present[RF_DIAGNOSES]) {
        rb_puts(b, "<div class=\"card\">diagnoses.json is missing.</div>");
        return;
    }
    if (!r->n_diag) {
        rb_puts(b, "<div class=\"card\">No problem was detected.</div>");
        return;
    }
    rb_puts(b, "<table class=\"diag\"><tr><th>severity</th><th>diagnosis</th><th>iterations</th>"
               "<th>evidence</th><th>remedies (flags to try)</th></tr>");
    for (int i = 0; i < r->n_diag; i++) {
        const rdiag *d = &r->diag[i];
        rb_printf(b, "<tr><td><span class=\"sev\" style=\"background:%s\">", sev_color(d));
        rb_esc(b, d->severity ? d->severity : "note");
        rb_puts(b, "</span></td><td><b>");
        rb_esc(b, diag_name(d));
        rb_puts(b, "</b>");
        if (d->id && d->name) {
            rb_puts(b, "<br><span class=\"id\">");
            rb_esc(b, d->id);
            rb_puts(b, "</span>");
        }
        rb_puts(b, "</td><td>");
        if (d->onset >= 0)
            rb_printf(b, "from %ld", d->onset);
        if (d->last >= 0)
            rb_printf(b, "%sto %ld%s", d->onset >= 0 ? "<br>" : "", d->last,
                      d->recovered ? "<br>recovered" : "");
        rb_puts(b, "</td><td>");
        rb_esc(b, d->evidence ? d->evidence : "");
        rb_puts(b, "</td><td>");
        if (d->n_remedies) {
            rb_puts(b, "<ul class=\"remedies\">");
            for (int k = 0; k < d->n_remedies; k++)
                remedy(b, d->remedies[k]);
            rb_puts(b, "</ul>");
        }
        rb_puts(b, "</td></tr>");
    }
    rb_puts(b, "</table>");
}

/* ---- charts ------------------------------------------------------------------------- */

typedef struct {
    rbuf *b;
    const report_run *r;
    chart_mark *marks;
    int n_marks;
    double span;
    int next_id;
    const char *absent[16][2]; /* charts left out: title, why (static strings) */
    int n_absent;
} page;

/* Records a chart that has no data; they are listed together after the charts. */
static void no_chart(page *p, const char *title, const char *why)
{
    if (p->n_absent < 16) {
        p->absent[p->n_absent][0] = title;
        p->absent[p->n_absent++][1] = why;
    }
}

static void absent_charts(page *p)
{
    if (!p->n_absent)
        return;
    rb_puts(p->b, "<div class=\"card nochart\"><b>Not charted</b><ul class=\"remedies\">");
    for (int i = 0; i < p->n_absent; i++) {
        rb_puts(p->b, "<li>");
        rb_esc(p->b, p->absent[i][0]);
        rb_puts(p->b, ": ");
        rb_esc(p->b, p->absent[i][1]);
        rb_puts(p->b, "</li>");
    }
    rb_puts(p->b, "</ul></div>");
}

static void chart(page *p, const char *title, const char *ylabel, const char *note, int log,
                  const chart_line *l, int n, const char *why_missing)
{
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= l[i].s && l[i].s->n;
    if (!any) {
        no_chart(p, title, why_missing);
        return;
    }
    chart_spec c = {.title = title, .ylabel = ylabel, .note = note, .log = log, .x1 = p->span,
                    .id = p->next_id++};
    if (!log && !strncmp(title, "D(x)", 4)) {
        /* Probabilities: pin the axis to [0, 1] unless a critic's scores leave it. */
        int in01 = 1;
        for (int i = 0; i < n; i++)
            for (size_t k = 0; l[i].s && k < l[i].s->n; k++)
                in01 &= !isfinite(l[i].s->y[k]) || (l[i].s->y[k] >= 0 && l[i].s->y[k] <= 1);
        c.fixed = in01;
        c.y1 = 1.0;
    }
    if (!strcmp(title, "Mode coverage")) {
        c.fixed = 1;
        c.y1 = p->r->n_hist > 10 ? p->r->n_hist : 10;
    }
    rb_puts(p->b, "<div class=\"card\">");
    report_chart_svg(p->b, &c, l, n, p->marks, p->n_marks);
    rb_puts(p->b, "</div>");
}

/* sign(y) log1p(|y|) of s into t (t->y malloc'd, t->x borrowed from s). */
static int log1p_copy(rseries *t, const rseries *s)
{
    memset(t, 0, sizeof *t);
    if (!s || !s->n)
        return 1;
    if (!(t->y = malloc(s->n * sizeof *t->y)))
        return 0;
    for (size_t i = 0; i < s->n; i++)
        t->y[i] = copysign(log1p(fabs(s->y[i])), s->y[i]);
    t->x = s->x;
    t->n = s->n;
    return 1;
}

/* Per-tensor gradient norms of one network (metrics "<net>_layer_grad_norms/<tensor>")
 * with the global norm before and after clipping. */
static void grad_chart(page *p, const char *net, const char *title)
{
    chart_line l[64];
    char prefix[64], total[64], clipped[64];
    int n = 0, k = 0;
    snprintf(prefix, sizeof prefix, "%s_layer_grad_norms/", net);
    snprintf(total, sizeof total, "%s_grad_norm", net);
    snprintf(clipped, sizeof clipped, "%s_grad_norm_clipped", net);
    const rseries *t = report_series(&p->r->metrics, total), *tc = report_series(&p->r->metrics, clipped);
    if (t)
        l[n++] = (chart_line){t, "total", C_TOTAL, NULL, 2.4};
    if (tc) {
        int same = t && t->n == tc->n;
        for (size_t i = 0; same && i < t->n; i++)
            same = t->y[i] == tc->y[i] || (isnan(t->y[i]) && isnan(tc->y[i]));
        if (!same)
            l[n++] = (chart_line){tc, "total, clipped", C_TOTAL, "2 2", 2.0};
    }
    for (int i = 0; i < p->r->metrics.n && n < 64; i++) {
        const rseries *s = &p->r->metrics.s[i];
        if (strncmp(s->name, prefix, strlen(prefix)))
            continue;
        l[n++] = (chart_line){s, s->name + strlen(prefix), palette[k % 10], dashes[(k / 10) % 3], 1.4};
        k++;
    }
    if (!k && !t) {
        no_chart(p, title, p->r->present[RF_METRICS]
                               ? "metrics.jsonl has no per-tensor gradient norms (monitoring was off)."
                               : "metrics.jsonl is missing.");
        return;
    }
    chart(p, title, "L2 norm (log)", "one line per tensor; total = the network's whole gradient", 1,
          l, n, "");
}

static void charts(page *p)
{
    const report_run *r = p->r;
    rseries lg[2];
    const rseries *dl = pick(r, RF_D_LOSS, "d_loss"), *gl = pick(r, RF_G_LOSS, "g_loss");
    const char *loss_note = r->arr[0].n || r->arr[1].n ? "one value per iteration"
                                                       : "per log interval (the .npy arrays are missing)";
    const char *no_loss = "no loss arrays and no metrics.jsonl.";
    rbuf *b = p->b;
    rb_puts(b, "<h2>Training curves</h2><div class=\"charts\">");
    chart_line loss[2] = {{dl, "D loss", C_D, NULL, 1.4}, {gl, "G loss", C_G, NULL, 1.4}};
    chart(p, "Losses", "loss", loss_note, 0, loss, 2, no_loss);
    if (!log1p_copy(&lg[0], dl) || !log1p_copy(&lg[1], gl)) {
        b->oom = 1;
    } else {
        chart_line l2[2] = {{&lg[0], "D loss", C_D, NULL, 1.4}, {&lg[1], "G loss", C_G, NULL, 1.4}};
        chart(p, "Losses, log1p", "log1p(loss)", "sign(loss) * log(1 + |loss|)", 0, l2, 2, no_loss);
    }
    free(lg[0].y);
    free(lg[1].y);
    chart_line dx[3] = {{pick(r, RF_D_REAL, "d_x"), "D(x), real", "#2ca02c", NULL, 1.4},
                        {pick(r, RF_D_FAKE, "d_g_z"), "D(G(z)), fake", "#d62728", NULL, 1.4},
                        {pick(r, RF_D_ACC, "d_acc"), "D accuracy", "#7f7f7f", "4 3", 1.2}};
    /* A critic's scores are not probabilities; a Wasserstein critic's accuracy is left
     * out (its scores have no threshold: only D(x) - D(G(z)) means something). */
    int critic = !d_outputs_probabilities(r), no_acc = critic_without_threshold(r);
    chart(p, "D(x) and D(G(z))", critic ? "mean critic score" : "mean D output",
          no_acc ? "the critic's mean score on real and generated batches; D accuracy left out: "
                   "a Wasserstein critic has no threshold"
                 : critic ? "D's mean raw score on real and generated batches (no sigmoid)"
                          : "D's mean output on real and generated batches",
          0, dx, no_acc ? 2 : 3, "no d_real.npy, d_fake.npy or metrics.jsonl.");
    grad_chart(p, "g", "Gradient norms: G");
    grad_chart(p, "d", "Gradient norms: D");
    chart_line up[2] = {{report_series(&r->metrics, "g_update_ratio"), "G", C_G, NULL, 1.6},
                        {report_series(&r->metrics, "d_update_ratio"), "D", C_D, NULL, 1.6}};
    chart(p, "Update / weight ratio", "||dw|| / ||w|| (log)", "size of one iteration's update "
          "relative to the weights", 1, up, 2, "metrics.jsonl has no update ratios.");
    const char *no_eval = r->present[RF_EVAL] ? "eval.jsonl has no such field." : "eval.jsonl is missing.";
    chart_line modes[1] = {{report_series(&r->evals, "modes_covered"), "modes covered", "#9467bd", NULL, 2}};
    chart(p, "Mode coverage", "classes", "classes the evaluator finds in G's samples", 0, modes, 1, no_eval);
    chart_line fd[1] = {{report_series(&r->evals, "frechet"), "Frechet distance", "#8c564b", NULL, 2}};
    chart(p, "Frechet distance", "distance", "classifier features, generated vs real; lower is better",
          0, fd, 1, no_eval);
    chart_line q[3] = {{report_series(&r->evals, "diversity"), "diversity", "#17becf", NULL, 1.8},
                       {report_series(&r->evals, "confidence"), "confidence", "#bcbd22", NULL, 1.8},
                       {report_series(&r->evals, "kl"), "KL to data classes", "#e377c2", NULL, 1.8}};
    chart(p, "Diversity, confidence, KL", "value", "diversity ~1 = as varied as real data", 0, q, 3, no_eval);
    if (r->n_hist > 0) {
        char note[96];
        snprintf(note, sizeof note, "evaluator's predicted class of G's samples, iteration %ld",
                 r->hist_iteration);
        rb_puts(b, "<div class=\"card\">");
        report_bars_svg(b, "Class histogram (last evaluation)", note, r->hist, r->n_hist);
        rb_puts(b, "</div>");
    } else {
        no_chart(p, "Class histogram", no_eval);
    }
    absent_charts(p);
    rb_puts(b, "</div>");
}

/* ---- samples ------------------------------------------------------------------------ */

static clgan_status embed_image(rbuf *b, const char *path, const char *mime, const char *alt)
{
    uint8_t *data = NULL;
    size_t n = 0;
    clgan_status st = clgan_io_read_file(path, &data, &n);
    if (st != CLGAN_OK)
        return st;
    rb_printf(b, "<img alt=\"");
    rb_esc(b, alt);
    rb_printf(b, "\" src=\"data:%s;base64,", mime);
    rb_base64(b, data, n);
    rb_puts(b, "\">");
    free(data);
    return CLGAN_OK;
}

static clgan_status samples(page *p)
{
    const report_run *r = p->r;
    rbuf *b = p->b;
    clgan_status st = CLGAN_OK;
    char alt[96];
    rb_puts(b, "<h2>Samples</h2>");
    if (!r->n_images) {
        rb_puts(b, "<div class=\"card\">images/ has no sample grids.</div>");
    } else {
        int n = r->n_images, shown = n < MAX_THUMBS ? n : MAX_THUMBS;
        long prev = -1;
        rb_printf(b, "<p class=\"missing\">%d of %d grids, evenly spaced; the fixed noise, so each "
                     "tile follows one z over training.</p><div class=\"timeline\">", shown, n);
        for (int k = 0, last = -1; k < shown && st == CLGAN_OK; k++) {
            int i = shown > 1 ? (int)((double)k * (n - 1) / (shown - 1) + 0.5) : 0;
            if (i == last)
                continue;
            last = i;
            const rimage *im = &r->images[i];
            uint8_t *pix = NULL;
            int w, h;
            /* Decoding proves the file is a PNG before it is embedded. */
            if ((st = clgan_png_read_gray(im->path, &pix, &w, &h)) != CLGAN_OK)
                break;
            free(pix);
            snprintf(alt, sizeof alt, "samples at iteration %ld", im->iteration);
            rb_puts(b, "<figure>");
            if ((st = embed_image(b, im->path, "image/png", alt)) != CLGAN_OK)
                break;
            rb_printf(b, "<figcaption>%ld", im->iteration);
            for (int d = 0; d < r->n_diag; d++) {
                const rdiag *dg = &r->diag[d];
                if (dg->onset > prev && dg->onset <= im->iteration) {
                    rb_printf(b, "<span class=\"flag\" style=\"color:%s\">&#9873; ", sev_color(dg));
                    rb_esc(b, dg->id ? dg->id : dg->name);
                    rb_puts(b, "</span>");
                }
            }
            rb_puts(b, "</figcaption></figure>");
            prev = im->iteration;
        }
        rb_puts(b, "</div>");
    }
    if (st == CLGAN_OK && r->present[RF_GIF]) {
        char *path = malloc(strlen(r->dir) + 16);
        if (!path)
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        sprintf(path, "%s/training.gif", r->dir);
        rb_puts(b, "<h2>Animation</h2><div class=\"gif card\">");
        st = embed_image(b, path, "image/gif", "training.gif: every sample grid in order");
        free(path);
        rb_printf(b, "<div class=\"missing\">training.gif: %d frames, %dx%d, looping.</div></div>",
                  r->gif_frames, r->gif_w, r->gif_h);
    }
    return st;
}

/* ---- the page ----------------------------------------------------------------------- */

static clgan_status page_write(rbuf *b, const report_run *r)
{
    chart_mark marks[64];
    char titles[64][320];
    page p = {.b = b, .r = r, .marks = marks, .span = fmax(run_last(r), 1.0)};
    for (int i = 0; i < r->n_diag && p.n_marks < 64; i++) {
        const rdiag *d = &r->diag[i];
        if (d->onset < 0)
            continue;
        char *t = titles[p.n_marks];
        if (d->last > d->onset)
            snprintf(t, sizeof titles[0], "%s: iterations %ld-%ld%s", diag_name(d), d->onset,
                     d->last, d->recovered ? ", recovered" : "");
        else
            snprintf(t, sizeof titles[0], "%s: from iteration %ld", diag_name(d), d->onset);
        marks[p.n_marks++] = (chart_mark){(double)d->onset, (double)d->last, d->id ? d->id : d->name,
                                          t, sev_color(d)};
    }
    rb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "img-src data:; style-src 'unsafe-inline'\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
               "<title>clgan report: ");
    char *abs = realpath(r->dir, NULL);
    const char *shown = abs ? abs : r->dir, *base = strrchr(shown, '/');
    rb_esc(b, base && base[1] ? base + 1 : shown);
    rb_printf(b, "</title><style>%s</style></head>\n<body><main>\n<h1>clgan run report</h1>"
                 "<div class=\"path\">", css);
    rb_esc(b, shown);
    rb_puts(b, "</div>");
    free(abs);
    verdict(b, r);
    settings(b, r);
    stats(b, r);
    missing(b, r);
    diagnoses(b, r);
    charts(&p);
    clgan_status st = samples(&p);
    if (st != CLGAN_OK)
        return st;
    if (r->cfg_text) {
        rb_puts(b, "<details><summary>config.ini</summary><pre>");
        rb_esc(b, r->cfg_text);
        rb_puts(b, "</pre></details>");
    }
    rb_puts(b, "<footer>Written by <code>clgan report</code>. One file: no scripts, no network; "
               "charts are inline SVG, images are embedded.</footer>\n</main></body></html>\n");
    return CLGAN_OK;
}

clgan_status clgan_report_render(char **html, size_t *n, const char *run_dir)
{
    report_run r;
    rbuf b = {0};
    *html = NULL;
    *n = 0;
    clgan_status st = report_run_read(&r, run_dir);
    if (st != CLGAN_OK)
        return st;
    st = page_write(&b, &r);
    report_run_free(&r);
    if (st == CLGAN_OK && b.oom)
        st = clgan_error(CLGAN_ENOMEM, "out of memory while writing the report of %s", run_dir);
    if (st != CLGAN_OK) {
        rb_free(&b);
        return st;
    }
    *html = b.p;
    *n = b.n;
    return CLGAN_OK;
}

clgan_status clgan_report_write(const char *run_dir, const char *out_path)
{
    char *html = NULL, *def = NULL;
    size_t n = 0;
    clgan_status st = clgan_report_render(&html, &n, run_dir);
    if (st != CLGAN_OK)
        return st;
    if (!out_path) {
        if (!(def = malloc(strlen(run_dir) + 16))) {
            free(html);
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        }
        sprintf(def, "%s/report.html", run_dir);
        out_path = def;
    }
    st = clgan_io_write_file(out_path, html, n);
    free(html);
    free(def);
    return st;
}
