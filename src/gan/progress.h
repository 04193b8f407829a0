/* progress.h - the training progress line (private to src/gan): what it says and how it
 * fits the terminal. run.c gathers the numbers; this formats them. */
#ifndef CLGAN_GAN_PROGRESS_H
#define CLGAN_GAN_PROGRESS_H

#include <stddef.h>

typedef struct {
    long done, total;      /* iterations whose metrics are back; planned iterations */
    double rate;           /* iterations per second (0: not measured yet) */
    double eta_s;          /* seconds left (< 0: unknown) */
    long from, to;         /* the means below cover iterations from+1 .. to */
    double d_loss, g_loss; /* means over that interval */
    double d_acc;          /* D's accuracy, 0..1, mean over the interval */
    int show_acc;          /* 0 when accuracy means nothing (a Wasserstein critic) */
    int has_eval;          /* the last evaluation's results below are set */
    int modes;
    double fd;
} clgan_progress;

/* Writes the progress line (no newline) into out (n). width > 0: the most verbose form
 * that fits in width - 1 columns (dropping the evaluation, then the speed, then the
 * accuracy and ETA, then the interval's bounds, then the word "mean"), cut to width - 1
 * as a last resort; width 0: the full form, for logs. The losses are always the means
 * over the interval; every form but the last says so, all but the last two say which. */
void clgan_progress_format(char *out, size_t n, int width, const clgan_progress *p);

/* The width of the terminal on file descriptor fd, or 0 when it is not a terminal. */
int clgan_progress_width(int fd);

#endif
