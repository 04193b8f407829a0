/* report_internal.h - private to src/diag/report*.c: the growing text buffer the page is
 * written into, the run directory as read back (report_data.c), and the SVG chart writer
 * (report_svg.c). Not public API; clgan/diag.h has the report's entry points. */
#ifndef CLGAN_DIAG_REPORT_INTERNAL_H
#define CLGAN_DIAG_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/status.h"

/* ---- text buffer -------------------------------------------------------------------- */

/* A growing, NUL-terminated string. Appends never fail loudly: an allocation failure
 * sets `oom` and later appends do nothing, so a writer checks once at the end. */
typedef struct {
    char *p;     /* owned; NULL until the first append */
    size_t n;    /* length, excluding the NUL */
    size_t cap;
    int oom;
} rbuf;

void rb_put(rbuf *b, const char *s, size_t n);
void rb_puts(rbuf *b, const char *s);
void rb_printf(rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' as entities and control characters dropped: safe inside HTML
 * and SVG text and attribute values. NULL appends nothing. */
void rb_esc(rbuf *b, const char *s);
/* Appends the standard base64 (RFC 4648, padded) of d (n bytes). */
void rb_base64(rbuf *b, const uint8_t *d, size_t n);
void rb_free(rbuf *b);

/* ---- the run, read back ------------------------------------------------------------- */

/* A named series of (x, y) points, x increasing (iterations). NaN y: a gap. */
typedef struct {
    char *name; /* owned */
    double *x;  /* (n) owned */
    double *y;  /* (n) owned */
    size_t n, cap;
} rseries;

/* Series in order of first appearance. */
typedef struct {
    rseries *s; /* (n) owned */
    int n, cap;
} rseries_set;

/* Finds a series by name; NULL when absent. Borrowed from the set. */
const rseries *report_series(const rseries_set *set, const char *name);

/* One entry of diagnoses.json. Strings owned; absent ones are NULL, onset/last -1. */
typedef struct {
    char *id, *name, *severity, *evidence;
    long onset, last;           /* the event's span ("end"; "last" in older files) */
    int recovered;              /* the event ended before the run did */
    char **remedies; /* (n_remedies) owned */
    int n_remedies;
} rdiag;

/* The run's known files: index into report_run.present[]. */
enum {
    RF_CONFIG, RF_D_LOSS, RF_G_LOSS, RF_D_ACC, RF_D_REAL, RF_D_FAKE, RF_METRICS, RF_EVAL,
    RF_DIAGNOSES, RF_IMAGES, RF_GIF, RF_COUNT
};

/* The file name of a known file and what the report shows from it. */
const char *report_file_name(int rf);
const char *report_file_role(int rf);

/* One sample grid images/<iteration>.png. */
typedef struct {
    long iteration;
    char *path; /* owned */
} rimage;

typedef struct {
    char *dir;                  /* owned copy of the run directory */
    int present[RF_COUNT];      /* 1 when the file was found and read */
    int metrics_partial;        /* metrics read from metrics.jsonl.partial */
    rseries arr[5];             /* d_loss, g_loss, d_acc, d_real, d_fake (npy), x = 1..n */
    rseries_set metrics;        /* metrics.jsonl: "d_loss", "g_layer_grad_norms/dense0.kernel" */
    long metrics_records;
    rseries_set evals;          /* eval.jsonl: "modes_covered", "frechet", ... */
    long eval_records;
    double *hist;               /* (n_hist) the last eval record's "histogram"; owned */
    int n_hist;
    long hist_iteration;
    rdiag *diag;                /* (n_diag) owned */
    int n_diag;
    int healthy;                /* diagnoses.json "healthy": 1, 0, or -1 when not given */
    long diag_iterations;       /* diagnoses.json "iterations", or -1 */
    char **cfg;                 /* config.ini as {section, key, value} triples; owned */
    int n_cfg;
    char *cfg_text;             /* config.ini verbatim; owned */
    rimage *images;             /* (n_images) by iteration; owned */
    int n_images;
    uint8_t *gif;               /* training.gif bytes; owned */
    size_t gif_n;
    int gif_frames, gif_w, gif_h;
} report_run;

/* Reads every known file of `dir` that exists. Absent files are recorded in present[];
 * the images themselves are only listed, not read. Errors: EIO (the directory cannot be
 * opened, a file exists but cannot be read), EINVAL (none of the known files: not a run
 * directory), EFORMAT (a corrupt file; the message names the file, and the line for
 * .jsonl and .ini), ENOMEM. On error everything read so far is released. */
clgan_status report_run_read(report_run *r, const char *dir);

/* Value of config.ini [section] key, or NULL. Borrowed. */
const char *report_cfg(const report_run *r, const char *section, const char *key);

/* Safe on a zeroed struct and twice. */
void report_run_free(report_run *r);

/* ---- charts ------------------------------------------------------------------------- */

/* A line of a chart: a series (borrowed), its legend label and look. */
typedef struct {
    const rseries *s;
    const char *label;
    const char *color; /* CSS colour */
    const char *dash;  /* stroke-dasharray, or NULL for solid */
    double width;      /* stroke width; 0: 1.6 */
} chart_line;

/* A vertical dashed marker (a diagnosis' onset) on a time chart, with the event's span
 * shaded up to `end` when end > at. */
typedef struct {
    double at;         /* iteration */
    double end;        /* last iteration of the span (<= at: none) */
    const char *label; /* short text beside the marker */
    const char *title; /* tooltip */
    const char *color;
} chart_mark;

typedef struct {
    const char *title;
    const char *ylabel;
    const char *note;  /* small text under the title, or NULL */
    int log;           /* log10 y axis; values <= 0 are left out */
    int fixed;         /* y range is [y0, y1] instead of the data's */
    double y0, y1;
    double x1;         /* the x axis spans [0, x1] iterations (shared by every chart) */
    int id;            /* unique per page: names the chart's clip path */
} chart_spec;

/* Appends one <svg> line chart: axes with ticks and labels, grid, a legend, each line
 * downsampled to at most 1000 points by averaging buckets (non-finite values, and for a
 * log axis values <= 0, leave gaps), dots on lines of at most 20 points, and the
 * markers. Lines with no points are left out of the plot but kept in the legend. */
void report_chart_svg(rbuf *b, const chart_spec *c, const chart_line *lines, int n_lines,
                      const chart_mark *marks, int n_marks);

/* Appends one <svg> bar chart of v (n) with bars labelled 0..n-1. */
void report_bars_svg(rbuf *b, const char *title, const char *note, const double *v, int n);

#endif
