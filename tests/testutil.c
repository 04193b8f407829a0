/* testutil.c - shared test harness (see testutil.h). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int tu_failures, tu_checks;

int tu_close_slack(const char *what, const float *a, const float *b, const float *slack,
                   size_t n, double atol, double rtol)
{
    size_t bad = 0, widened = 0, worst = 0;
    double maxd = 0.0, used = 0.0; /* largest share of its bound a widened element takes */
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]), base = atol + rtol * fabs((double)b[i]);
        double extra = slack ? slack[i] : 0.0;
        if (!(d <= base + extra)) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.8g want %.8g (diff %.3g, allowed %.3g)\n", what,
                        i, a[i], b[i], d, base + extra);
            bad++;
        } else if (d > base) {
            widened++;
            used = fmax(used, d / (base + extra));
        }
        if (d > maxd || isnan(d)) {
            maxd = isnan(d) ? INFINITY : d;
            worst = i;
        }
    }
    tu_checks++;
    if (bad) {
        tu_failures++;
        fprintf(stderr, "  %s: %zu of %zu differ; largest diff %.3g at %zu\n", what, bad, n, maxd,
                worst);
        return 0;
    }
    printf("  %s: %zu values match, largest diff %.3g", what, n, maxd);
    if (widened)
        printf(" (%zu beyond the base bound, within their slack: at most %.0f%% of it)", widened,
               100.0 * used);
    printf("\n");
    return 1;
}

int tu_close(const char *what, const float *a, const float *b, size_t n, double atol,
             double rtol)
{
    return tu_close_slack(what, a, b, NULL, n, atol, rtol);
}

int tu_grad_ok(const char *what, const float *g, const double *fd, size_t n, int nonzero)
{
    double num = 0, den = 0, maxd = 0;
    for (size_t i = 0; i < n; i++) {
        double d = g[i] - fd[i];
        num += d * d;
        den += fd[i] * fd[i];
        if (fabs(d) > maxd) maxd = fabs(d);
    }
    num = sqrt(num);
    den = sqrt(den);
    int ok = num <= 2e-3 * den + 1e-4 && (!nonzero || den > 0);
    tu_checks++;
    if (!ok) tu_failures++;
    printf("  %-36s %s: |g-fd| %.2e, |fd| %.2e, max diff %.2e (%zu values)\n", what,
           ok ? "ok  " : "FAIL", num, den, maxd, n);
    return ok;
}

void tu_central_diff(double *out, float *x, size_t n, float h, void (*set)(void *u),
                     double (*f)(void *u), void *u)
{
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        x[i] = keep + h;
        set(u);
        double fp = f(u);
        x[i] = keep - h;
        set(u);
        double fm = f(u);
        x[i] = keep;
        out[i] = (fp - fm) / (2 * h);
    }
    set(u);
}

const char *tu_device(void)
{
    const char *d = getenv("CLGAN_TEST_DEVICE");
    return d && *d ? d : "cpu";
}

const char *tu_tmpdir(const char *name)
{
    static char path[1024];
    const char *base = getenv("CLGAN_TEST_TMP");
    char cmd[2200];
    if (!base || !*base)
        base = "/tmp/clgan-test";
    snprintf(path, sizeof path, "%s/%s", base, name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot create %s\n", path);
    return path;
}

int tu_finish(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
    return tu_failures ? 1 : 0;
}
