/* generate.c - a generator as a host function: noise in, images out (what `clgan sample`
 * and library users call), and the host noise `clgan sample --seed` draws. Does not
 * train. */
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "common/rng.h"

void clgan_noise_normal(float *z, size_t n, uint64_t seed)
{
    clgan_rng rng = {seed};
    for (size_t i = 0; i < n; i++)
        z[i] = (float)clgan_rng_normal(&rng);
}

clgan_status clgan_generator_run(clgan_ctx *ctx, clgan_net *g, const float *z, long n, float *out)
{
    const clgan_net_view *v = clgan_net_get(g);
    size_t in = (size_t)v->in_dim, dim = (size_t)v->out_dim, batch = (size_t)v->batch;
    cl_mem zb = NULL;
    float *pad = NULL;
    clgan_status st;
    if (n < 0)
        return clgan_error(CLGAN_EINVAL, "clgan_generator_run: negative count %ld", n);
    if ((st = clgan_buf_alloc(ctx, &zb, batch * in * sizeof(float), "generator noise")) != CLGAN_OK)
        return st;
    for (long done = 0; done < n && st == CLGAN_OK; done += (long)batch) {
        size_t rows = (size_t)(n - done) < batch ? (size_t)(n - done) : batch;
        const float *src = z + (size_t)done * in;
        if (rows < batch) { /* the last, partial batch: zero rows after the real ones */
            if (!(pad = calloc(batch * in, sizeof *pad))) {
                st = clgan_error(CLGAN_ENOMEM, "out of memory");
                break;
            }
            memcpy(pad, src, rows * in * sizeof *pad);
            src = pad;
        }
        if ((st = clgan_buf_write(ctx, zb, 0, src, batch * in * sizeof(float))) == CLGAN_OK &&
            (st = clgan_net_forward(g, zb, CLGAN_MODE_EVAL)) == CLGAN_OK)
            st = clgan_buf_read(ctx, v->out, 0, out + (size_t)done * dim, rows * dim * sizeof(float));
    }
    free(pad);
    clgan_buf_release(&zb);
    return st;
}
