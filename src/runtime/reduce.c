/* reduce.c - launch shapes and finishing launches of the multi-work-group reductions
 * (runtime.h, "GPU-shaped reductions"; kernels in cl/reduce.h and cl/reduce.cl). The
 * first launches belong to their operations (activation, BatchNorm, losses, penalty);
 * this file only sizes their grids and scratch and adds their partials. */
#include "runtime_internal.h"

/* Rows each work-item of a column tile walks (a block is this many strides of rh rows):
 * 16 keeps batches up to a few hundred rows in one block, one launch. */
#define COL_ROWS_PER_ITEM 16
/* Rows each work-item of a GPU-shaped row reduction takes (see clgan_rows_per_group). */
#define ROWS_PER_ITEM 16

static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

void clgan_col_shape_get(const clgan_ctx *ctx, clgan_kernel_id k, int rows, int cols,
                         clgan_col_shape *s)
{
    const clgan_device_info *d = &ctx->view.dev;
    size_t total = (size_t)clgan_tunable(ctx, CLGAN_T_COL_WG), lim = clgan_kernel_max_wg(ctx, k);
    if (lim && lim < total)
        total = pow2_floor(lim);
    if (d->max_item[0] && d->max_item[0] < total)
        total = pow2_floor(d->max_item[0]);
    size_t cw = 1;
    while (cw < (size_t)cols && cw < 32 && cw < total)
        cw *= 2;
    size_t rh = total / cw;
    s->cw = (int)cw;
    s->block_rows = (int)rh * COL_ROWS_PER_ITEM;
    s->blocks = rows > 0 ? (rows + s->block_rows - 1) / s->block_rows : 1;
    s->local[0] = cw * rh;
    s->local[1] = 1;
    s->global[0] = ((size_t)cols + cw - 1) / cw * s->local[0];
    s->global[1] = (size_t)s->blocks;
}

size_t clgan_col_scratch(const clgan_ctx *ctx, clgan_kernel_id k, int rows, int cols, int nsum,
                         size_t extra)
{
    clgan_col_shape s;
    clgan_col_shape_get(ctx, k, rows, cols, &s);
    return s.blocks > 1 ? ((size_t)nsum * s.blocks * cols + extra) * sizeof(float) : 0;
}

void clgan_col_reserve(clgan_ctx *ctx, clgan_kernel_id k, int rows, int cols, int nsum,
                       size_t extra)
{
    clgan_scratch_reserve(ctx, clgan_col_scratch(ctx, k, rows, cols, nsum, extra));
}

clgan_status clgan_col_finish(clgan_ctx *ctx, cl_mem sums, int sums_off, cl_mem d0, cl_mem d1,
                              cl_mem partial, int blocks, int cols, int nsum, int mode)
{
    clgan_col_shape s; /* one block: a tile's rows stride over the blocks of partials */
    clgan_col_shape_get(ctx, CLGAN_K_col_sums_finish, 1, cols, &s);
    return clgan_launch(ctx, CLGAN_K_col_sums_finish, 2, s.global, s.local,
                        CLGAN_ARGS(CLGAN_ARG_MEM(sums), CLGAN_ARG_MEM(d0), CLGAN_ARG_MEM(d1),
                                   CLGAN_ARG_MEM(partial), CLGAN_ARG_INT(blocks),
                                   CLGAN_ARG_INT(cols), CLGAN_ARG_INT(nsum),
                                   CLGAN_ARG_INT(sums != NULL), CLGAN_ARG_INT(sums_off),
                                   CLGAN_ARG_INT(mode), CLGAN_ARG_INT(s.cw)));
}

int clgan_rows_per_group(const clgan_ctx *ctx, int n, int wg)
{
    if (n < 1)
        return 1;
    return clgan_cpu_shapes(ctx) ? n : wg * ROWS_PER_ITEM;
}

void clgan_rows_reserve(clgan_ctx *ctx, int n, int wg, int nv)
{
    int per = clgan_rows_per_group(ctx, n, wg), groups = (n + per - 1) / per;
    if (groups > 1)
        clgan_scratch_reserve(ctx, (size_t)groups * nv * sizeof(float));
}

clgan_status clgan_rows_finish(clgan_ctx *ctx, cl_mem out, cl_mem partial, int groups, int nv,
                               int slot, int accumulate, const float *scale)
{
    size_t wg = (size_t)clgan_tunable(ctx, CLGAN_T_LOSS_WG);
    return clgan_launch(ctx, CLGAN_K_rows_finish, 1, &wg, &wg,
                        CLGAN_ARGS(CLGAN_ARG_MEM(out), CLGAN_ARG_MEM(partial),
                                   CLGAN_ARG_INT(groups), CLGAN_ARG_INT(nv), CLGAN_ARG_INT(slot),
                                   CLGAN_ARG_INT(accumulate), CLGAN_ARG_F32(scale[0]),
                                   CLGAN_ARG_F32(nv > 1 ? scale[1] : 0.0f),
                                   CLGAN_ARG_F32(nv > 2 ? scale[2] : 0.0f)));
}
