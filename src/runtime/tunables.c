/* tunables.c - the values of the kernel sources' compile-time constants for one device
 * and the shared codes (the tables of kernels.h), and the build options that pass them
 * in as -D definitions. The kernel sources define none of them themselves.
 *
 * Work-group sizes of the local-memory reductions are powers of two (their tree sums
 * halve the group), at most the preferred size below, and shrunk to the device's
 * CL_DEVICE_MAX_WORK_GROUP_SIZE and first CL_DEVICE_MAX_WORK_ITEM_SIZES entry: a device
 * that allows only 64 or 128 work-items per group gets kernels built for that. Every
 * reduction is correct for any power of two; its summation order (so the last bits of a
 * loss) follows the size, which is fixed per device, so runs stay reproducible there.
 */
#include "runtime_internal.h"

#include <stdio.h>
#include <string.h>

#define CODE_ENTRY_(name, value) {#name, value},
static const struct {
    const char *name;
    int value;
} codes[] = {CLGAN_CODE_LIST(CODE_ENTRY_)};
#undef CODE_ENTRY_

#define TUNABLE_NAME_(name) #name,
static const char *const tunable_names[CLGAN_T_COUNT] = {CLGAN_TUNABLE_LIST(TUNABLE_NAME_)};
#undef TUNABLE_NAME_

/* Preferred value of each tunable, whether it is a reduction work-group size, and its
 * value on a device whose native float vector (CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT) is
 * narrower than 16, i.e. an AVX2 CPU with 16 ymm registers (0: the preferred value).
 * The native GEMM's register tile must fit the register file: 8 x 2 float16
 * accumulators are 16 of AVX-512's 32 zmm registers, but 32 ymm on AVX2 (spilled). */
static const struct {
    int preferred;
    int is_wg;
    int narrow;
} table[CLGAN_T_COUNT] = {
    [CLGAN_T_LOSS_WG] = {64, 1},  /* the batch: 32-256 rows, a few per work-item */
    [CLGAN_T_GP_WG] = {64, 1},    /* likewise, over the penalty's rows */
    [CLGAN_T_LN_WG] = {64, 1},    /* one group per sample, over its H*W*C values */
    [CLGAN_T_SN_WG] = {256, 1},   /* one group per kernel matrix (up to ~10^6 values) */
    [CLGAN_T_MON_WG] = {64, 1},   /* one group per tensor; up to ~40 tensors */
    [CLGAN_T_XENT_WG] = {64, 1},  /* classifier batch */
    [CLGAN_T_COL_WG] = {256, 1},  /* column tiles: 32 columns x 8 rows at most (columns.c) */
    [CLGAN_T_OPT_WG] = {256, 1},  /* norm reductions over whole parameter buffers */
    [CLGAN_T_OPT_VW] = {16, 0},   /* float16: 1.2-1.3x float8 on PoCL (memory-bound) */
    [CLGAN_T_GEMM_VW] = {16, 0, 8}, /* native GEMM (CPU devices): one vector register */
    [CLGAN_T_GEMM_TM] = {8, 0, 4},  /* AVX2: 4 x 2 float8 accumulators, 11 of 16 ymm */
    [CLGAN_T_GEMM_TNV] = {2, 0},
    [CLGAN_T_GEMM_DM] = {2, 0},     /* 2 x 8 beat 4 x 4 by 5-8% (bench --gemm-shapes) */
    [CLGAN_T_GEMM_DN] = {8, 0, 4},  /* AVX2: 2 x 4 vector partial sums */
};

static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return v ? p : 0;
}

clgan_status clgan_tunables_for(size_t max_wg, size_t max_item0, unsigned vec_float,
                                int *tunable, char *opts, size_t n)
{
    size_t limit = max_wg;
    if (max_item0 && max_item0 < limit)
        limit = max_item0;
    limit = pow2_floor(limit);
    if (limit == 0)
        return clgan_error(CLGAN_ELIMIT, "a maximum work-group size of 0");
    size_t len = (size_t)snprintf(opts, n, "-cl-std=CL1.2");
    for (int i = 0; i < CLGAN_T_COUNT; i++) {
        int v = table[i].preferred;
        if (vec_float && vec_float < 16 && table[i].narrow)
            v = table[i].narrow;
        if (table[i].is_wg && (size_t)v > limit)
            v = (int)limit;
        if (tunable)
            tunable[i] = v;
        len += (size_t)snprintf(opts + len, n - len, " -D%s=%d", tunable_names[i], v);
        if (len >= n)
            return clgan_error(CLGAN_ENOMEM, "kernel build options too long");
    }
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        len += (size_t)snprintf(opts + len, n - len, " -D%s=%d", codes[i].name, codes[i].value);
        if (len >= n)
            return clgan_error(CLGAN_ENOMEM, "kernel build options too long");
    }
    return CLGAN_OK;
}

clgan_status clgan_tunables_init(clgan_ctx *ctx)
{
    const clgan_device_info *d = &ctx->view.dev;
    clgan_status st = clgan_tunables_for(d->max_wg, d->max_item[0], d->vec_float, ctx->tunable,
                                         ctx->build_options, sizeof ctx->build_options);
    return st == CLGAN_OK ? st : clgan_error_wrap(st, "%s", d->name);
}

int clgan_tunable(const clgan_ctx *ctx, clgan_tunable_id id)
{
    return (unsigned)id < CLGAN_T_COUNT ? ctx->tunable[id] : 0;
}

const char *clgan_build_options(const clgan_ctx *ctx) { return ctx->build_options; }
