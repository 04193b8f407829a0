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

/* A fresh empty directory under $CLGAN_TEST_TMP (or /tmp) named after `name`.
 * Returns a static buffer. */
const char *tu_tmpdir(const char *name);

/* Prints "<name>: N checks, M failed" and returns the exit code. */
int tu_finish(const char *name);

#include <stdio.h>
#endif
