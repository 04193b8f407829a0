/* status.h - the status codes every fallible clgan function returns, and the
 * last-error message that carries the details. Prints nothing; the CLI prints.
 *
 * Contract used everywhere: a function returning clgan_status returns CLGAN_OK on
 * success; on failure it has called clgan_error() with a one-line message that names
 * what failed and what to do, and it has released whatever it allocated.
 */
#ifndef CLGAN_STATUS_H
#define CLGAN_STATUS_H

#include <stdarg.h>

typedef enum {
    CLGAN_OK = 0,
    CLGAN_EINVAL,   /* bad flag, config value or argument (user error, exit 2) */
    CLGAN_EIO,      /* a file could not be opened, read or written (exit 2) */
    CLGAN_EFORMAT,  /* a file is corrupt, truncated or of the wrong kind (exit 2) */
    CLGAN_ENODEV,   /* no OpenCL device matches (exit 2) */
    CLGAN_ENOMEM,   /* host allocation failed */
    CLGAN_ECL,      /* an OpenCL or CLBlast call failed */
    CLGAN_ENUMERIC, /* NaN/Inf or a diverged computation */
    CLGAN_ELIMIT,   /* the device cannot do what was asked: a work-group, memory or size
                       limit (exit 2: choose another device or a smaller setting) */
    CLGAN_ECOMM,    /* a collective over MPI ranks failed or timed out (a rank died) */
    CLGAN_STATUS_COUNT
} clgan_status;

/* "CLGAN_EINVAL" etc.; never NULL. */
const char *clgan_status_str(clgan_status s);

/* The process exit code for a status: 0 ok, 2 for bad input (EINVAL, EIO, EFORMAT,
 * ENODEV) and device limits (ELIMIT), 1 otherwise. Only main() uses it. */
int clgan_status_exit_code(clgan_status s);

/* Records a printf-style one-line message as the last error and returns `s`, so a
 * caller can write `return clgan_error(CLGAN_EIO, "cannot open %s", path);`.
 * A later call replaces the message. */
clgan_status clgan_error(clgan_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with context ("loading foo.npy: ..."); returns `s`. */
clgan_status clgan_error_wrap(clgan_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message ("" when none). Borrowed; valid until the next clgan_error. */
const char *clgan_error_msg(void);

void clgan_error_clear(void);

#endif
