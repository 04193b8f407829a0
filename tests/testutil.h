/* testutil.h - the tiny harness every ctest executable shares: CHECK macros that
 * count failures and print the first mismatches, and a temp-dir helper. A test's main
 * returns tu_finish(), non-zero when anything failed. */
#ifndef CLGAN_TESTUTIL_H
#define CLGAN_TESTUTIL_H

#include <stddef.h>

extern int tu_failures, tu_checks;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        tu_checks++;                                                                   \
        if (!(cond)) {                                                                 \
            tu_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

/* Checks a clgan_status call is CLGAN_OK and prints the last error if not. */
#define CHECK_OK(expr)                                                                 \
    do {                                                                               \
        tu_checks++;                                                                   \
        clgan_status s_ = (expr);                                                      \
        if (s_ != CLGAN_OK) {                                                          \
            tu_failures++;                                                             \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,        \
                    clgan_status_str(s_), clgan_error_msg());                          \
        }                                                                              \
    } while (0)

/* Compares arrays; prints the first 5 mismatches and the largest difference.
 * Passes when |a-b| <= atol + rtol*|b| everywhere. Returns 1 when it passed. */
int tu_close(const char *what, const float *a, const float *b, size_t n, double atol,
             double rtol);

/* The same with a per-element extra allowance slack[i] (slack may be NULL). */
int tu_close_slack(const char *what, const float *a, const float *b, const float *slack,
                   size_t n, double atol, double rtol);

/* Compares an analytic gradient with central differences: passes when
 * ||g - fd|| <= 2e-3 ||fd|| + 1e-4 (and, with nonzero, ||fd|| > 0). Prints one line. */
int tu_grad_ok(const char *what, const float *g, const double *fd, size_t n, int nonzero);

/* Central differences of f over x[0..n): out[i] = (f(x + h e_i) - f(x - h e_i)) / 2h.
 * `set(u)` runs after each change of x (e.g. to upload it) and once more at the end,
 * with x restored. */
void tu_central_diff(double *out, float *x, size_t n, float h, void (*set)(void *u),
                     double (*f)(void *u), void *u);

/* A fresh empty directory under $CLGAN_TEST_TMP (or /tmp) named after `name`.
 * Returns a static buffer. */
const char *tu_tmpdir(const char *name);

/* The --device spec the tests run on: $CLGAN_TEST_DEVICE, else "cpu" (the PoCL CPU
 * device CI has). tools/device_check.sh sets it to "gpu"; the oclgrind tests set
 * "oclgrind". */
const char *tu_device(void);

/* Prints "<name>: N checks, M failed" and returns the exit code. */
int tu_finish(const char *name);

#include <stdio.h>
#endif
