/* tu_net.h - checks every trained parameter's gradient and the input gradient of a
 * network by central differences of L = sum(out * R) (R random, fixed by `seed`), in
 * TRAIN mode, with h = 1e-2; prints one line per tensor (tu_grad_ok). A bias right before
 * a BatchNorm may have a zero gradient. */
#ifndef CLGAN_TU_NET_H
#define CLGAN_TU_NET_H

#include <stdint.h>

#include "clgan/nn.h"

void tu_net_check(clgan_ctx *ctx, const char *name, clgan_net *n, uint64_t seed);

/* The same; with fd_eval, the differences are of the EVAL forward from the state the
 * analytic TRAIN forward left (spectral norm: u and v frozen, as its gradient treats
 * them; no BatchNorm then, whose EVAL forward differs). */
void tu_net_check_ex(clgan_ctx *ctx, const char *name, clgan_net *n, uint64_t seed, int fd_eval);

#endif
