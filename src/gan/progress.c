/* progress.c - formats the training progress line: iterations done, speed, time left,
 * the losses as means over the last interval (named in the line), the last evaluation;
 * the most it can say within the terminal's width, so a redraw never wraps. Prints
 * nothing itself. */
#include "gan/progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int clgan_progress_width(int fd)
{
    struct winsize ws;
    if (!isatty(fd))
        return 0;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return 80;
    return ws.ws_col;
}

/* "1:05" or "2:01:05"; "?" when unknown. */
static void clock_text(char *out, size_t n, double s)
{
    if (s < 0 || s > 1e8) {
        snprintf(out, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

/* What a form of the line includes. */
enum { F_EVAL = 1, F_RATE = 2, F_ACC = 4, F_ETA = 8, F_SPAN = 16, F_MEAN = 32, F_WORDS = 64 };

static void compose(char *out, size_t n, const clgan_progress *p, int f)
{
    char eta[32] = "", acc[32] = "", mean[64] = "", rate[32] = "", ev[64] = "";
    int digits = (f & F_WORDS) ? 4 : 3;
    if (f & F_ETA) {
        clock_text(eta + 5, sizeof eta - 5, p->eta_s);
        memcpy(eta, " ETA ", 5);
    }
    if ((f & F_ACC) && p->show_acc)
        snprintf(acc, sizeof acc, " acc %.0f%%", 100.0 * p->d_acc);
    if (f & F_SPAN)
        snprintf(mean, sizeof mean, "mean %s%ld-%ld: ", (f & F_WORDS) ? "of " : "", p->from + 1, p->to);
    else if (f & F_MEAN)
        snprintf(mean, sizeof mean, "mean ");
    if ((f & F_RATE) && p->rate > 0)
        snprintf(rate, sizeof rate, " %.*f it/s", p->rate < 100 ? 1 : 0, p->rate);
    if ((f & F_EVAL) && p->has_eval)
        snprintf(ev, sizeof ev, " | modes %d FD %.1f", p->modes, p->fd);
    snprintf(out, n, "[%ld/%ld]%s%s | %sD%s %.*f%s G%s %.*f%s", p->done, p->total, rate, eta, mean,
             (f & F_WORDS) ? " loss" : "", digits, p->d_loss, acc, (f & F_WORDS) ? " loss" : "",
             digits, p->g_loss, ev);
}

void clgan_progress_format(char *out, size_t n, int width, const clgan_progress *p)
{
    static const int forms[] = {
        F_EVAL | F_RATE | F_ACC | F_ETA | F_SPAN | F_WORDS,
        F_EVAL | F_RATE | F_ACC | F_ETA | F_SPAN,
        F_RATE | F_ACC | F_ETA | F_SPAN,
        F_ACC | F_ETA | F_SPAN,
        F_SPAN,
        F_MEAN,
        0,
    };
    size_t nf = sizeof forms / sizeof forms[0];
    if (n == 0)
        return;
    if (width <= 0) {
        compose(out, n, p, forms[0]);
        return;
    }
    for (size_t i = 0; i < nf; i++) {
        compose(out, n, p, forms[i]);
        if ((int)strlen(out) <= width - 1)
            return;
    }
    if (width - 1 < (int)n)
        out[width > 1 ? width - 1 : 0] = '\0';
}
