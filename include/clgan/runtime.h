/* runtime.h - OpenCL platforms and devices, device selection, the context/queue, the
 * kernel program (embedded cl/ sources, compiled at start-up, cached as device
 * binaries), buffers, kernel launches, and the one GEMM seam (clgan_gemm).
 * Only the runtime calls clCreate* / clBuild*. Nothing here knows about layers.
 *
 * Example:
 *   clgan_ctx *ctx;
 *   if (clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = "auto"}) != CLGAN_OK)
 *       fprintf(stderr, "clgan: %s\n", clgan_error_msg());
 *   cl_mem x; clgan_buf_alloc(ctx, &x, 1024 * sizeof(float), "x");
 *   clgan_launch(ctx, CLGAN_K_weight_clip, 1, (size_t[]){1024}, NULL,
 *                CLGAN_ARGS(CLGAN_ARG_MEM(x), CLGAN_ARG_F32(0.01f), CLGAN_ARG_INT(1024)));
 *   clgan_ctx_free(ctx);
 */
#ifndef CLGAN_RUNTIME_H
#define CLGAN_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120 /* clgan uses OpenCL 1.2 calls only */
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#include "clgan/kernels.h"
#include "clgan/status.h"

/* ---- devices ------------------------------------------------------------------ */

typedef struct {
    int index;           /* global index over all platforms, in enumeration order */
    int platform;        /* platform index */
    int device;          /* device index within the platform */
    cl_platform_id platform_id;
    cl_device_id id;
    char platform_name[128];
    char name[128];
    char vendor[128];
    char version[96];    /* CL_DEVICE_VERSION */
    char driver[96];     /* CL_DRIVER_VERSION */
    char c_version[96];  /* CL_DEVICE_OPENCL_C_VERSION */
    cl_device_type type;
    unsigned compute_units;
    unsigned clock_mhz;
    uint64_t global_mem;
    uint64_t max_alloc;
    size_t max_wg;       /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_item[3];  /* CL_DEVICE_MAX_WORK_ITEM_SIZES (first three dimensions) */
    uint64_t local_mem;  /* CL_DEVICE_LOCAL_MEM_SIZE in bytes */
    unsigned vec_float;  /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT (8 with AVX2, 16 with AVX-512) */
    unsigned base_align; /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes */
} clgan_device_info;

/* "GPU", "CPU", "ACCELERATOR" or "OTHER". */
const char *clgan_device_type_str(cl_device_type t);

/* Lists every device of every platform. *out malloc'd (caller frees), *n its length.
 * ENODEV with an install hint when there is none. */
clgan_status clgan_devices_list(clgan_device_info **out, int *n);

/* Resolves a --device spec against `devs`: "auto" (first GPU of any platform, else
 * first CPU, else first device), "gpu", "cpu", a global index "3", "P:D", or a
 * case-insensitive substring of the device or platform name. Writes the chosen index.
 * ENODEV (naming the spec and listing the choices) when nothing matches. */
clgan_status clgan_device_resolve(int *index, const clgan_device_info *devs, int n,
                                  const char *spec);

/* ---- context --------------------------------------------------------------------- */

typedef struct {
    const char *device;     /* --device spec; NULL means "auto" */
    int profile;            /* queue with CL_QUEUE_PROFILING_ENABLE */
    int sync;               /* finish the queue after every launch (also CLGAN_SYNC=1) */
    const char *kernel_dir; /* load cl/ from here instead of the embedded copy (also
                               $CLGAN_KERNEL_DIR) */
    const char *cache_dir;  /* program binary cache; NULL = $XDG_CACHE_HOME/clgan or
                               ~/.cache/clgan; "" disables the cache */
    int verbose;            /* print start-up timings to stderr */
    const char *shapes;     /* launch shapes "cpu" or "gpu" (clgan_cpu_shapes); NULL: the
                               environment's CLGAN_LAUNCH_SHAPES, else the device type */
} clgan_ctx_opts;

typedef struct clgan_ctx clgan_ctx;

/* What a context exposes to the rest of clgan (read-only). */
typedef struct {
    clgan_device_info dev;
    cl_context context;
    cl_command_queue queue;
    double build_seconds;   /* program build or cache load time */
    int cache_hit;          /* 1 when the program came from the binary cache */
    const char *cache_path; /* the binary cache file used ("" when disabled) */
} clgan_ctx_view;

/* Creates a context and in-order queue on the device `opts->device` selects, builds
 * (or loads from cache) the kernel program and creates every kernel. *out owned by the
 * caller (clgan_ctx_free). On failure nothing is left allocated. */
clgan_status clgan_ctx_init(clgan_ctx **out, const clgan_ctx_opts *opts);
void clgan_ctx_free(clgan_ctx *ctx);
const clgan_ctx_view *clgan_ctx_get(const clgan_ctx *ctx);

/* 1 when launches take the shapes measured fastest on CPU devices (one work-item per
 * group running a long contiguous run or a register tile, float8/float16 per-column
 * kernels), 0 for the shapes meant for GPUs (work-groups the driver sizes, neighbouring
 * work-items on neighbouring data). The device type decides, unless the environment
 * variable CLGAN_LAUNCH_SHAPES=cpu|gpu forces one: the tests run the GPU shapes on the
 * CPU device that way, since the results must not depend on them. */
int clgan_cpu_shapes(const clgan_ctx *ctx);

/* The kernel object of `id` (borrowed; created at setup, valid for the context's life). */
cl_kernel clgan_kernel(const clgan_ctx *ctx, clgan_kernel_id id);

/* The value a kernel-source tunable was compiled with on this device (kernels.h). */
int clgan_tunable(const clgan_ctx *ctx, clgan_tunable_id id);

/* The build options the kernels were compiled with ("-cl-std=CL1.2 -DLOSS_WG=64 ..."). */
const char *clgan_build_options(const clgan_ctx *ctx);

/* The same for a device with these limits (CL_DEVICE_MAX_WORK_GROUP_SIZE and the first
 * CL_DEVICE_MAX_WORK_ITEM_SIZES entry, 0: no limit of its own) and native float vector
 * width (CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, 0: unknown), without a device: the
 * one function contexts use too (tunables.c), so an offline compile of cl/ (tools/
 * cl_build_options, the clang check in CI) gets exactly what a device would. Writes
 * the options into opts (n bytes) and, when tunable is not NULL, the CLGAN_T_COUNT
 * values. ELIMIT for a limit of 0. */
clgan_status clgan_tunables_for(size_t max_wg, size_t max_item0, unsigned vec_float,
                                int *tunable, char *opts, size_t n);

/* ---- launching -------------------------------------------------------------------- */

typedef struct {
    size_t size;
    const void *ptr;
} clgan_arg;

#define CLGAN_ARG_MEM(m) ((clgan_arg){sizeof(cl_mem), &(cl_mem){(m)}})
#define CLGAN_ARG_INT(v) ((clgan_arg){sizeof(cl_int), &(cl_int){(v)}})
#define CLGAN_ARG_UINT(v) ((clgan_arg){sizeof(cl_uint), &(cl_uint){(v)}})
#define CLGAN_ARG_F32(v) ((clgan_arg){sizeof(cl_float), &(cl_float){(v)}})
#define CLGAN_ARG_LOCAL(bytes) ((clgan_arg){(bytes), NULL})
#define CLGAN_ARGS(...)                                                                \
    (int)(sizeof((clgan_arg[]){__VA_ARGS__}) / sizeof(clgan_arg)),                    \
        (const clgan_arg[]){__VA_ARGS__}

/* Sets the arguments and enqueues kernel `id` over `dims` dimensions. `global` sizes are
 * rounded up to a multiple of `local` (kernels guard with `if (gid >= n) return;`);
 * local NULL lets the driver choose (not allowed for a kernel compiled with
 * reqd_work_group_size). Before enqueueing, `local` is checked against the kernel's
 * CL_KERNEL_WORK_GROUP_SIZE and required size and the device's work-group and
 * work-item limits: a launch outside them is CLGAN_ELIMIT naming the kernel, the size
 * and the limit, and nothing is enqueued. Non-blocking unless the context syncs.
 * On error the message names the kernel, the call, the CL error and the device. */
clgan_status clgan_launch(clgan_ctx *ctx, clgan_kernel_id id, int dims, const size_t *global,
                          const size_t *local, int nargs, const clgan_arg *args);

/* The largest work-group size kernel `id` may be launched with on this device
 * (min of CL_KERNEL_WORK_GROUP_SIZE and CL_DEVICE_MAX_WORK_GROUP_SIZE). */
size_t clgan_kernel_max_wg(const clgan_ctx *ctx, clgan_kernel_id id);

/* A 1-D local size for kernel `id` (one without a required size): `preferred`, halved
 * until the kernel and the device allow it. For elementwise kernels whose results do
 * not depend on the group size. */
size_t clgan_local_size(const clgan_ctx *ctx, clgan_kernel_id id, size_t preferred);

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *clgan_cl_error_str(cl_int err);

/* Sets the last error for a failed OpenCL call: "<call> failed: <NAME> (<code>) on
 * <device>; <hint>". Returns CLGAN_ECL. */
clgan_status clgan_cl_fail(const clgan_ctx *ctx, const char *call, cl_int err);

/* ---- buffers ------------------------------------------------------------------------ */

/* Allocates a device buffer of `bytes` (zero-filled). `what` names it in errors. */
clgan_status clgan_buf_alloc(clgan_ctx *ctx, cl_mem *out, size_t bytes, const char *what);

/* A sub-buffer view of [offset, offset+bytes) of `parent`; offset must be a multiple
 * of clgan_buf_align(ctx). Caller releases it (clReleaseMemObject) before the parent. */
clgan_status clgan_buf_sub(clgan_ctx *ctx, cl_mem *out, cl_mem parent, size_t offset,
                           size_t bytes);

/* Alignment in bytes for sub-buffer offsets (>= 256). */
size_t clgan_buf_align(const clgan_ctx *ctx);

/* Blocking write / read of `bytes` at `offset`. */
clgan_status clgan_buf_write(clgan_ctx *ctx, cl_mem m, size_t offset, const void *src,
                             size_t bytes);
clgan_status clgan_buf_read(clgan_ctx *ctx, cl_mem m, size_t offset, void *dst,
                            size_t bytes);
/* Non-blocking read; *ev receives the event (caller waits and releases). */
clgan_status clgan_buf_read_async(clgan_ctx *ctx, cl_mem m, size_t offset, void *dst,
                                  size_t bytes, cl_event *ev);
/* Copies `bytes` from src+src_off to dst+dst_off on the queue (non-blocking); sizes and
 * offsets in whole floats (multiples of 4), regions not overlapping. */
clgan_status clgan_buf_copy(clgan_ctx *ctx, cl_mem dst, size_t dst_off, cl_mem src,
                            size_t src_off, size_t bytes);

/* Fills `bytes` at `offset` with zero, on the queue (multiples of 4). */
clgan_status clgan_buf_zero(clgan_ctx *ctx, cl_mem m, size_t offset, size_t bytes);

/* Releases *m if set and sets it to NULL. */
void clgan_buf_release(cl_mem *m);

clgan_status clgan_finish(clgan_ctx *ctx);

/* ---- profiling ------------------------------------------------------------------- */

/* Device time per kernel name, from OpenCL profiling events (contexts made with
 * opts.profile). CLBlast's GEMMs are reported as "CLBlastSgemm". */
typedef struct {
    char name[64];
    double ms;   /* total device time */
    long count;  /* launches */
    int is_gemm; /* a matrix product (CLBlast or cl/gemm.cl) */
} clgan_profile_entry;

/* Waits for every profiled launch since the last collect, sums them by kernel (sorted by
 * time, largest first) and forgets them. *out malloc'd (caller frees). */
clgan_status clgan_profile_collect(clgan_ctx *ctx, clgan_profile_entry **out, int *n);

/* ---- GEMM: the one seam every matrix product goes through ------------------------- */

typedef enum { CLGAN_GEMM_AUTO = 0, CLGAN_GEMM_CLBLAST, CLGAN_GEMM_NATIVE } clgan_gemm_impl;

/* Row-major C(M,N) = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T as ta/tb say.
 * A is (M,K) or, transposed, (K,M) with leading dimension lda; likewise B. Buffers
 * are whole cl_mem objects (use sub-buffers for views). Non-blocking. */
clgan_status clgan_gemm(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                        float alpha, cl_mem A, size_t lda, cl_mem B, size_t ldb,
                        float beta, cl_mem C, size_t ldc);

/* C(M,N) = A(M,K) B(K,N), then, where the implementation can fuse it (the native
 * kernels), C = act(C + bias) in the same pass and *fused = 1; otherwise *fused = 0 and
 * the caller applies bias and activation. act: the ACT_* codes of cl/common.h (the
 * values of clgan_act). */
clgan_status clgan_gemm_bias_act(clgan_ctx *ctx, size_t M, size_t N, size_t K, cl_mem A,
                                 size_t lda, cl_mem B, size_t ldb, cl_mem C, size_t ldc,
                                 cl_mem bias, int act, float slope, int *fused);

/* A row-major matrix view into a buffer: element (r, c) at float index off + r*ld + c,
 * as CLBlast addresses its operands (so a layer can point at part of a buffer without
 * a sub-buffer, whose offsets have alignment rules). */
typedef struct {
    cl_mem mem;
    size_t off; /* in floats */
    size_t ld;  /* row stride in floats */
} clgan_mat;

#define CLGAN_MAT(m, o, l) ((clgan_mat){(m), (o), (l)})

/* clgan_gemm over views: C(M,N) = alpha op(A) op(B) + beta C. */
clgan_status clgan_gemm_mat(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                            float alpha, clgan_mat A, clgan_mat B, float beta, clgan_mat C);

/* clgan_gemm_bias_act over views (bias is a whole buffer of N floats, or NULL). */
clgan_status clgan_gemm_bias_act_mat(clgan_ctx *ctx, size_t M, size_t N, size_t K, clgan_mat A,
                                     clgan_mat B, clgan_mat C, cl_mem bias, int act, float slope,
                                     int *fused);

/* Chooses the GEMM implementation for this context. */
void clgan_gemm_set_impl(clgan_ctx *ctx, clgan_gemm_impl impl);
clgan_gemm_impl clgan_gemm_get_impl(const clgan_ctx *ctx);
const char *clgan_gemm_impl_str(clgan_gemm_impl impl);

/* Resolves the context's impl (whatever it was) to CLBLAST or NATIVE. CPU devices:
 * times both on two trainer shapes (NN 32x1024x512, TN 512x1024x32) and keeps the
 * faster; the choice is cached in <kernel cache>.gemm (keyed like the kernel binaries,
 * plus device, driver and CLBlast version), so later starts skip the timing; a missing,
 * stale or corrupt file is measured again. Other devices: CLBLAST, not measured.
 * Blocking (finishes the queue); call it at setup, not inside a step. On error the
 * impl is left unchanged. A fresh context's impl is AUTO, which runs as CLBlast. */
clgan_status clgan_gemm_autoselect(clgan_ctx *ctx);

/* Plans a product that setup will issue (row-major, packed: lda = ta ? M : K, ldb =
 * tb ? K : N, ldc = N): records the shape once and reserves CLBlast's temporary space
 * for it in the context's scratch (clgan_scratch_reserve), so a clgan_gemm of that
 * shape allocates nothing. Layers call it when they are bound (dense: the forward,
 * input-gradient and weight-gradient shapes); conv layers do the same for theirs.
 * Host-only, cheap; a product that was not planned still runs (its temporaries are
 * sized on the spot). ECL when CLBlast rejects the shape. */
clgan_status clgan_gemm_plan(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K);
/* The same for a product whose operands start at these offsets (floats): CLBlast sizes
 * its temporary by which of them are nonzero (conv layers' later chunks). Nothing for the
 * native GEMM. */
clgan_status clgan_gemm_plan_off(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                                 size_t a_off, size_t b_off, size_t c_off);

/* Ends setup: allocates the scratch at its reserved size and, when the context's GEMM
 * runs through CLBlast, runs every planned shape not yet run once on dummy operands, so
 * CLBlast compiles (or loads) its kernels now and the first timed iteration is an
 * ordinary one. Blocking. Call it once the networks are built (the trainer does);
 * calling it again only warms shapes planned since. */
clgan_status clgan_ctx_warmup(clgan_ctx *ctx);

/* Planned GEMM shapes and how many of them the last warm-ups ran (for bench). */
int clgan_gemm_planned(const clgan_ctx *ctx, int *warmed);

/* What CLBlast's built-in tuning database holds for this device, the way CLBlast 1.5.3
 * looks it up (vendor, then architecture, then device name; the first miss falls back
 * to that level's defaults). CLBlast has no API that says which level it found, so this
 * reproduces its device identification (vendor name mapping, "SM<major>.<minor>" from
 * cl_nv_device_attribute_query, AMD board names, "pthread-" removed) and searches the
 * database strings of the loaded libclblast for the architecture and the device name.
 * Writes a one-line description ("tuned for 'A100-PCIE-40GB' (SM8.0)", "no entry for
 * 'NVIDIA H200' (SM9.0): NVIDIA defaults", ...) and returns 2 (device entry), 1
 * (architecture defaults only), 0 (vendor or global defaults), -1 (unknown). */
int clgan_clblast_tuning(const clgan_ctx *ctx, char *desc, size_t n);

/* ---- GPU-shaped reductions (cl/reduce.h, cl/reduce.cl) ------------------------------ */

/* The launch of a column reduction over a row-major (rows, cols) matrix: sums down each
 * column, rows being a batch or the N*H*W positions of an NHWC activation. Work-groups
 * are column tiles of cw neighbouring columns x rh rows (cw * rh = COL_WG, shrunk to
 * what the kernel and the device allow; cw = min(32, cols rounded up to a power of
 * two)) in dimension 0 of a 2-D launch whose dimension 1 runs over the blocks of
 * block_rows = 16 rh rows (cl/reduce.h). A kernel run with one block writes its results itself; with several
 * it leaves (nsum, blocks, cols) partial sums in the scratch and clgan_col_finish adds
 * them in a fixed order, so results depend on (rows, cols, device limits), never on
 * scheduling. The column kernels take cw as their last argument. */
typedef struct {
    size_t local[2];  /* (cw * rh, 1) */
    size_t global[2]; /* (ceil(cols / cw) * cw * rh, blocks) */
    int cw;
    int block_rows;
    int blocks;
} clgan_col_shape;

void clgan_col_shape_get(const clgan_ctx *ctx, clgan_kernel_id k, int rows, int cols,
                         clgan_col_shape *s);

/* Scratch bytes a column reduction of kernel k needs for nsum partials per column plus
 * `extra` floats (0 when one block does it); clgan_col_reserve reserves them at setup. */
size_t clgan_col_scratch(const clgan_ctx *ctx, clgan_kernel_id k, int rows, int cols, int nsum,
                         size_t extra);
void clgan_col_reserve(clgan_ctx *ctx, clgan_kernel_id k, int rows, int cols, int nsum,
                       size_t extra);

/* The finishing launch (col_sums_finish): t_s[j] = sum over blocks of partial (nsum,
 * blocks, cols); sums[sums_off + s cols + j] = t_s when sums; d_s[j] (mode 1: +=, 2: =,
 * 0: untouched) with d_0 = d0, d_1 = d1. */
clgan_status clgan_col_finish(clgan_ctx *ctx, cl_mem sums, int sums_off, cl_mem d0, cl_mem d1,
                              cl_mem partial, int blocks, int cols, int nsum, int mode);

/* Rows per work-group of a row reduction over n items with groups of wg work-items:
 * all n (one group) with CPU shapes, 16 wg with GPU shapes (so batches up to 16 wg
 * stay one launch and larger ones, e.g. the N*H*W outputs of a patch critic, spread
 * over the device). */
int clgan_rows_per_group(const clgan_ctx *ctx, int n, int wg);

/* Reserves the scratch of a row reduction's partials: nv floats per group. */
void clgan_rows_reserve(clgan_ctx *ctx, int n, int wg, int nv);

/* The finishing launch (rows_finish): out[slot + k] = (accumulate ? out[slot + k] : 0)
 * + scale[k] * sum over groups of partial[g nv + k], k < nv <= 3. */
clgan_status clgan_rows_finish(clgan_ctx *ctx, cl_mem out, cl_mem partial, int groups, int nv,
                               int slot, int accumulate, const float *scale);

/* ---- scratch ------------------------------------------------------------------------ */

/* One device buffer per context for temporaries that live within one operation: the
 * per-work-group partial sums of the multi-group reductions and CLBlast's GEMM
 * temporaries. The queue is in order, so operations share it: an operation may keep
 * data in the scratch between its own launches, never across another operation.
 * Setup code reserves the largest need (any number of calls, host-only); the buffer is
 * allocated at that size by clgan_ctx_warmup (or the first clgan_scratch_get). */
void clgan_scratch_reserve(clgan_ctx *ctx, size_t bytes);

/* The scratch buffer, at least `bytes` long (borrowed; valid until a later get grows
 * it). Allocates only when the buffer is smaller than `bytes`: setup did not reserve
 * that need (counted by clgan_scratch_growths; the reservation grows with it). */
clgan_status clgan_scratch_get(clgan_ctx *ctx, size_t bytes, cl_mem *out);

/* How often clgan_scratch_get allocated after clgan_ctx_warmup: 0 when every need of
 * the steps run since was reserved at setup (the tests check it). */
long clgan_scratch_growths(const clgan_ctx *ctx);

/* Counts GEMM floating-point operations issued since the last reset (2*M*N*K each). */
double clgan_gemm_flops(const clgan_ctx *ctx);
void clgan_gemm_flops_reset(clgan_ctx *ctx);
/* Adds the flops of a product done outside clgan_gemm (the implicit convolutions). */
void clgan_gemm_add_flops(clgan_ctx *ctx, double flops);

#endif
