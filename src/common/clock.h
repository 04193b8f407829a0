/* clock.h - a monotonic clock in seconds, for start-up timings and benchmarks. */
#ifndef CLGAN_CLOCK_H
#define CLGAN_CLOCK_H

#include <time.h>

static inline double clgan_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
