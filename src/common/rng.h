/* rng.h - the host-side deterministic generator (SplitMix64) used for weight init and
 * other host randomness. Device-side randomness is Philox in cl/common.h. */
#ifndef CLGAN_RNG_H
#define CLGAN_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
} clgan_rng;

static inline uint64_t clgan_rng_next(clgan_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double clgan_rng_uniform(clgan_rng *r)
{
    return (double)(clgan_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller). */
static inline double clgan_rng_normal(clgan_rng *r)
{
    double u = clgan_rng_uniform(r), v = clgan_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

#endif
