/* report_svg.c - the report's text buffer (escaping, base64) and its charts as inline SVG:
 * line charts on a linear or log axis with nice ticks, a legend and diagnosis markers,
 * and a bar chart. Reads no files; the page around the charts is report.c's. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/report_internal.h"

/* ---- text buffer -------------------------------------------------------------------- */

static int rb_reserve(rbuf *b, size_t extra)
{
    if (b->oom)
        return 0;
    if (b->n + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return 0;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void rb_put(rbuf *b, const char *s, size_t n)
{
    if (!rb_reserve(b, n))
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void rb_puts(rbuf *b, const char *s)
{
    rb_put(b, s, strlen(s));
}

void rb_printf(rbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = 1;
        return;
    }
    if (!rb_reserve(b, (size_t)k))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void rb_esc(rbuf *b, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': rb_puts(b, "&amp;"); break;
        case '<': rb_puts(b, "&lt;"); break;
        case '>': rb_puts(b, "&gt;"); break;
        case '"': rb_puts(b, "&quot;"); break;
        case '\'': rb_puts(b, "&#39;"); break;
        default:
            if (c >= 0x20 || c == '\n' || c == '\t')
                rb_put(b, s, 1);
        }
    }
}

void rb_base64(rbuf *b, const uint8_t *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n > ((size_t)-1) / 4 * 3 - 3 || !rb_reserve(b, (n + 2) / 3 * 4)) {
        b->oom = 1;
        return;
    }
    char *o = b->p + b->n;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->n = (size_t)(o - b->p);
    b->p[b->n] = '\0';
}

void rb_free(rbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- chart geometry ----------------------------------------------------------------- */

#define CW 600.0       /* viewBox width */
#define PL 64.0        /* plot area: left edge */
#define PR 16.0        /* right margin */
#define PT 44.0        /* top of the plot area (title and note above) */
#define PH 200.0       /* plot height */
#define PWIDTH (CW - PL - PR)
#define MAX_POINTS 1000
#define DOT_POINTS 20
#define LEGEND_ROW 17.0
#define CHAR_W 7.0     /* estimated width of one legend character at 11px */

/* A tick step of 1, 2 or 5 times a power of ten near span / target. */
static double nice_step(double span, int target)
{
    double raw = span / target, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * p;
}

/* A tick label: as few digits as the step needs; thousands of iterations as "12k". */
static void fmt_tick(char *out, size_t n, double v, double step, int iters)
{
    if (fabs(v) < step * 1e-6)
        v = 0.0;
    if (iters && fabs(v) >= 1000 && fmod(fabs(v), 1000.0) == 0.0) {
        snprintf(out, n, "%gk", v / 1000.0);
        return;
    }
    double a = fabs(v);
    if (a != 0.0 && (a >= 1e5 || a < 1e-3)) {
        snprintf(out, n, "%.3g", v);
        return;
    }
    int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(out, n, "%.*f", dec > 6 ? 6 : dec, v);
}

/* A log-axis tick label for 10^e times m. */
static void fmt_log_tick(char *out, size_t n, int e, int m)
{
    if (e >= -3 && e <= 4)
        snprintf(out, n, "%g", m * pow(10.0, e));
    else
        snprintf(out, n, "%de%d", m, e);
}

/* Downsampled points of a series: at most MAX_POINTS, each the mean of a bucket of
 * consecutive points (non-finite and, for a log axis, non-positive values left out; an
 * empty bucket is a gap, NaN). *xs and *ys malloc'd (caller frees); 0 on ENOMEM. */
static int downsample(const rseries *s, int log_axis, double **xs, double **ys, size_t *m)
{
    size_t n = s ? s->n : 0, bucket = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;
    size_t cap = n ? (n + bucket - 1) / bucket : 1;
    *xs = malloc(cap * sizeof **xs);
    *ys = malloc(cap * sizeof **ys);
    *m = 0;
    if (!*xs || !*ys) {
        free(*xs);
        free(*ys);
        *xs = *ys = NULL;
        return 0;
    }
    for (size_t i = 0; i < n; i += bucket) {
        double sx = 0.0, sy = 0.0;
        size_t k = 0, end = i + bucket < n ? i + bucket : n;
        for (size_t j = i; j < end; j++) {
            double y = s->y[j];
            if (!isfinite(y) || (log_axis && y <= 0.0))
                continue;
            sx += s->x[j];
            sy += y;
            k++;
        }
        (*xs)[*m] = k ? sx / (double)k : 0.5 * (s->x[i] + s->x[end - 1]);
        (*ys)[*m] = k ? sy / (double)k : NAN;
        (*m)++;
    }
    return 1;
}

typedef struct {
    double x1;           /* x domain [0, x1] */
    int log;
    double lo, hi;       /* y domain (log10 of it for a log axis) */
} axes;

static double px(const axes *a, double x)
{
    return PL + PWIDTH * (a->x1 > 0 ? x / a->x1 : 0.0);
}

static double py(const axes *a, double y)
{
    double v = a->log ? log10(y) : y;
    return PT + PH * (1.0 - (v - a->lo) / (a->hi - a->lo));
}

/* Horizontal grid lines and y tick labels; fixes the y domain to whole ticks. */
static void y_axis(rbuf *b, axes *a, double lo, double hi, int fixed)
{
    char t[48];
    if (a->log) {
        int e0 = (int)floor(log10(lo) + 1e-9), e1 = (int)ceil(log10(hi) - 1e-9);
        if (e1 <= e0)
            e1 = e0 + 1;
        a->lo = e0;
        a->hi = e1;
        int every = (e1 - e0 + 5) / 6, minor = e1 - e0 <= 2;
        for (int e = e0; e <= e1; e++)
            for (int m = 1; m < 10 && !(e == e1 && m > 1); m++) {
                int decade = m == 1;
                int labelled = (decade && (e - e0) % every == 0) || (minor && (m == 2 || m == 5));
                if (!decade && !minor)
                    continue;
                double y = py(a, m * pow(10.0, e));
                rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>", PL,
                          y, CW - PR, y, decade ? "grid" : "grid minor");
                if (labelled) {
                    fmt_log_tick(t, sizeof t, e, m);
                    rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>",
                              PL - 6, y + 3.5, t);
                }
            }
        return;
    }
    double step = nice_step(hi - lo, 5);
    a->lo = fixed ? lo : floor(lo / step + 1e-9) * step;
    a->hi = fixed ? hi : ceil(hi / step - 1e-9) * step;
    if (a->hi <= a->lo)
        a->hi = a->lo + step;
    for (double v = ceil(a->lo / step - 1e-9) * step; v <= a->hi + step * 1e-6; v += step) {
        double y = py(a, v);
        fmt_tick(t, sizeof t, v, step, 0);
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>",
                  PL, y, CW - PR, y, PL - 6, y + 3.5, t);
    }
}

static void x_axis(rbuf *b, const axes *a)
{
    char t[48];
    double step = nice_step(a->x1, 6);
    for (double v = 0.0; v <= a->x1 + step * 1e-6; v += step) {
        double x = px(a, v);
        fmt_tick(t, sizeof t, v, step, 1);
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%s</text>",
                  x, PT, x, PT + PH, x, PT + PH, x, PT + PH + 4, x, PT + PH + 16, t);
    }
    rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">iteration</text>",
              PL + PWIDTH / 2, PT + PH + 32);
}

/* Title, the optional note under it, and the y label. */
static void frame_text(rbuf *b, const char *title, const char *note, const char *ylabel)
{
    rb_printf(b, "<text x=\"%.1f\" y=\"18\" class=\"title\">", PL);
    rb_esc(b, title);
    rb_puts(b, "</text>");
    if (note) {
        rb_printf(b, "<text x=\"%.1f\" y=\"33\" class=\"note\">", PL);
        rb_esc(b, note);
        rb_puts(b, "</text>");
    }
    if (ylabel) {
        rb_printf(b, "<text transform=\"translate(14 %.1f) rotate(-90)\" class=\"label\" "
                     "text-anchor=\"middle\">", PT + PH / 2);
        rb_esc(b, ylabel);
        rb_puts(b, "</text>");
    }
}

/* Legend rows under the plot; returns the height used. */
static double legend(rbuf *b, const chart_line *l, int n, double top, int dry)
{
    double x = PL, y = top;
    for (int i = 0; i < n; i++) {
        double w = 34.0 + CHAR_W * (double)strlen(l[i].label);
        if (x + w > CW - PR && x > PL) {
            x = PL;
            y += LEGEND_ROW;
        }
        if (!dry) {
            rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                         "stroke-width=\"%.1f\"%s%s%s/>",
                      x, y - 4, x + 20, y - 4, l[i].color, l[i].width > 0 ? l[i].width : 2.0,
                      l[i].dash ? " stroke-dasharray=\"" : "", l[i].dash ? l[i].dash : "",
                      l[i].dash ? "\"" : "");
            rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", x + 25, y);
            rb_esc(b, l[i].label);
            if (!l[i].s || !l[i].s->n)
                rb_puts(b, " (no data)");
            rb_puts(b, "</text>");
        }
        x += w + (!l[i].s || !l[i].s->n ? CHAR_W * 10 : 0);
    }
    return n ? y - top + LEGEND_ROW : 0.0;
}

static void open_svg(rbuf *b, double h, const char *title)
{
    rb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" "
                 "role=\"img\" aria-label=\"", CW, h);
    rb_esc(b, title);
    rb_puts(b, "\"><title>");
    rb_esc(b, title);
    rb_printf(b, "</title><rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" class=\"bg\"/>", CW, h);
}

void report_chart_svg(rbuf *b, const chart_spec *c, const chart_line *lines, int n_lines,
                      const chart_mark *marks, int n_marks)
{
    double *xs[64] = {0}, *ys[64] = {0}, lo = INFINITY, hi = -INFINITY;
    size_t m[64] = {0};
    int n = n_lines < 64 ? n_lines : 64;
    axes a = {.x1 = c->x1 > 0 ? c->x1 : 1.0, .log = c->log};
    for (int i = 0; i < n; i++) {
        if (!downsample(lines[i].s, c->log, &xs[i], &ys[i], &m[i])) {
            b->oom = 1;
            goto done;
        }
        for (size_t k = 0; k < m[i]; k++)
            if (isfinite(ys[i][k])) {
                lo = fmin(lo, ys[i][k]);
                hi = fmax(hi, ys[i][k]);
            }
    }
    int empty = !(lo <= hi);
    if (c->fixed) {
        lo = c->y0;
        hi = c->y1;
    } else if (empty) {
        lo = c->log ? 0.1 : 0.0;
        hi = c->log ? 10.0 : 1.0;
    } else if (lo == hi) {
        lo = c->log ? lo / 10 : lo - 1;
        hi = c->log ? hi * 10 : hi + 1;
    }
    double leg_top = PT + PH + 52, h = leg_top + legend(b, lines, n, leg_top, 1) + 4;
    open_svg(b, h, c->title);
    rb_printf(b, "<clipPath id=\"clip%d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                 "</clipPath>", c->id, PL, PT - 1, PWIDTH, PH + 2);
    y_axis(b, &a, lo, hi, c->fixed);
    x_axis(b, &a);
    rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>", PL, PT,
              PWIDTH, PH);
    frame_text(b, c->title, c->note, c->ylabel);
    if (empty)
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"note\" text-anchor=\"middle\">no finite "
                     "values%s</text>", PL + PWIDTH / 2, PT + PH / 2, c->log ? " above 0" : "");
    rb_printf(b, "<g clip-path=\"url(#clip%d)\" fill=\"none\" stroke-linejoin=\"round\">", c->id);
    for (int i = 0; i < n; i++) {
        if (!m[i])
            continue;
        rb_printf(b, "<path stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s d=\"", lines[i].color,
                  lines[i].width > 0 ? lines[i].width : 1.6, lines[i].dash ? " stroke-dasharray=\"" : "",
                  lines[i].dash ? lines[i].dash : "", lines[i].dash ? "\"" : "");
        int pen = 0;
        for (size_t k = 0; k < m[i]; k++) {
            if (!isfinite(ys[i][k])) {
                pen = 0;
                continue;
            }
            rb_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', px(&a, xs[i][k]), py(&a, ys[i][k]));
            pen = 1;
        }
        rb_puts(b, "\"><title>");
        rb_esc(b, lines[i].label);
        rb_puts(b, "</title></path>");
        if (m[i] <= DOT_POINTS)
            for (size_t k = 0; k < m[i]; k++)
                if (isfinite(ys[i][k]))
                    rb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.4\" fill=\"%s\"/>", px(&a, xs[i][k]),
                              py(&a, ys[i][k]), lines[i].color);
    }
    rb_puts(b, "</g>");
    for (int i = 0, shown = 0; i < n_marks; i++) {
        if (!(marks[i].at >= 0 && marks[i].at <= a.x1))
            continue;
        double x = px(&a, marks[i].at), ty = PT + 11 + 12 * (shown++ % 3);
        int right = x > PL + PWIDTH * 0.75;
        rb_printf(b, "<g class=\"mark\"><title>");
        rb_esc(b, marks[i].title);
        rb_puts(b, "</title>");
        if (marks[i].end > marks[i].at)
            rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                         "fill-opacity=\"0.08\"/>", x, PT,
                      px(&a, fmin(marks[i].end, a.x1)) - x, PH, marks[i].color);
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                     "stroke-width=\"1.3\" stroke-dasharray=\"5 3\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"%s\" class=\"marklabel\" "
                     "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">",
                  x, PT, x, PT + PH, marks[i].color, right ? x - 4 : x + 4, ty, marks[i].color,
                  right ? "end" : "start");
        rb_esc(b, marks[i].label);
        rb_puts(b, "</text></g>");
    }
    legend(b, lines, n, leg_top, 0);
    rb_puts(b, "</svg>\n");
done:
    for (int i = 0; i < n; i++) {
        free(xs[i]);
        free(ys[i]);
    }
}

void report_bars_svg(rbuf *b, const char *title, const char *note, const double *v, int n)
{
    double hi = 0.0, h = PT + PH + 40;
    char t[48];
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            hi = fmax(hi, v[i]);
    axes a = {.x1 = n > 0 ? n : 1};
    open_svg(b, h, title);
    y_axis(b, &a, 0.0, hi > 0 ? hi : 1.0, 0);
    rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>", PL, PT,
              PWIDTH, PH);
    frame_text(b, title, note, "samples");
    double slot = PWIDTH / (n > 0 ? n : 1);
    for (int i = 0; i < n; i++) {
        double val = isfinite(v[i]) && v[i] > 0 ? v[i] : 0.0, y = py(&a, val);
        rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bar\">"
                     "<title>class %d: %g</title></rect>",
                  PL + slot * i + slot * 0.15, y, slot * 0.7, PT + PH - y, i, v[i]);
        snprintf(t, sizeof t, "%d", i);
        rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%s</text>",
                  PL + slot * (i + 0.5), PT + PH + 16, t);
    }
    rb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">class</text></svg>\n",
              PL + PWIDTH / 2, PT + PH + 32);
}
