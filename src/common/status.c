/* status.c - status names, exit codes and the last-error message buffer.
 * One message per thread; it is never printed here. */
#include "clgan/status.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[1024];

static const char *const status_names[CLGAN_STATUS_COUNT] = {
    [CLGAN_OK] = "CLGAN_OK",         [CLGAN_EINVAL] = "CLGAN_EINVAL",
    [CLGAN_EIO] = "CLGAN_EIO",       [CLGAN_EFORMAT] = "CLGAN_EFORMAT",
    [CLGAN_ENODEV] = "CLGAN_ENODEV", [CLGAN_ENOMEM] = "CLGAN_ENOMEM",
    [CLGAN_ECL] = "CLGAN_ECL",       [CLGAN_ENUMERIC] = "CLGAN_ENUMERIC",
    [CLGAN_ELIMIT] = "CLGAN_ELIMIT", [CLGAN_ECOMM] = "CLGAN_ECOMM",
};

const char *clgan_status_str(clgan_status s)
{
    if ((unsigned)s >= CLGAN_STATUS_COUNT)
        return "CLGAN_UNKNOWN";
    return status_names[s];
}

int clgan_status_exit_code(clgan_status s)
{
    switch (s) {
    case CLGAN_OK: return 0;
    case CLGAN_EINVAL:
    case CLGAN_EIO:
    case CLGAN_EFORMAT:
    case CLGAN_ENODEV:
    case CLGAN_ELIMIT: return 2;
    default: return 1;
    }
}

clgan_status clgan_error(clgan_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return s;
}

clgan_status clgan_error_wrap(clgan_status s, const char *fmt, ...)
{
    char prefix[256], old[sizeof last_msg - sizeof prefix - 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_msg, sizeof old - 1);
    old[sizeof old - 1] = '\0';
    snprintf(last_msg, sizeof last_msg, "%s: %s", prefix, old);
    return s;
}

const char *clgan_error_msg(void) { return last_msg; }

void clgan_error_clear(void) { last_msg[0] = '\0'; }
