/* scratch.c - the context's one scratch buffer (runtime.h, "scratch"): reservations at
 * setup, the buffer handed to an operation, and the count of unreserved growths. Does
 * not decide what an operation keeps in it (columns.c, gemm.c, the reduction wrappers).
 */
#include "runtime_internal.h"

#include <stdlib.h>

void clgan_scratch_reserve(clgan_ctx *ctx, size_t bytes)
{
    if (bytes > ctx->scratch_reserved)
        ctx->scratch_reserved = bytes;
}

clgan_status clgan_scratch_get(clgan_ctx *ctx, size_t bytes, cl_mem *out)
{
    *out = NULL;
    if (bytes > ctx->scratch_reserved) {
        ctx->scratch_reserved = bytes;
        if (ctx->scratch_committed)
            ctx->scratch_growths++;
    }
    if (!ctx->scratch || ctx->scratch_bytes < ctx->scratch_reserved) {
        /* Launches already enqueued keep the old buffer alive until they finish (an
         * OpenCL memory object is deleted when its last use completes). */
        cl_mem m;
        clgan_status st = clgan_buf_alloc(ctx, &m, ctx->scratch_reserved, "scratch");
        if (st != CLGAN_OK)
            return st;
        clgan_buf_release(&ctx->scratch);
        ctx->scratch = m;
        ctx->scratch_bytes = ctx->scratch_reserved;
    }
    *out = ctx->scratch;
    return CLGAN_OK;
}

long clgan_scratch_growths(const clgan_ctx *ctx) { return ctx->scratch_growths; }

void clgan_scratch_free(clgan_ctx *ctx)
{
    clgan_buf_release(&ctx->scratch);
    ctx->scratch_bytes = 0;
    free(ctx->plans);
    ctx->plans = NULL;
    ctx->n_plans = ctx->cap_plans = 0;
}
