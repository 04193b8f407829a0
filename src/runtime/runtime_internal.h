/* runtime_internal.h - the context's private fields, shared by the runtime's files
 * (device.c, program.c, context.c, buffer.c, gemm.c). Not for other modules. */
#ifndef CLGAN_RUNTIME_INTERNAL_H
#define CLGAN_RUNTIME_INTERNAL_H

#include "clgan/runtime.h"

/* A kernel of the table in kernels.h, created once at setup. */
typedef struct {
    cl_kernel k;
    size_t max_wg;     /* min(CL_KERNEL_WORK_GROUP_SIZE, device max) */
    size_t reqd[3];    /* CL_KERNEL_COMPILE_WORK_GROUP_SIZE; reqd[0] == 0 when none */
} clgan_kernel_entry;

struct clgan_ctx {
    clgan_ctx_view view;
    clgan_ctx_opts opts;
    char cache_path[1024];
    cl_program program;
    clgan_kernel_entry kernels[CLGAN_K_COUNT]; /* every kernel of kernels.h */
    int tunable[CLGAN_T_COUNT];  /* the -D values the program was built with */
    char build_options[1024];
    clgan_gemm_impl gemm_impl;   /* CLBLAST or NATIVE; AUTO (runs as CLBLAST) until
                                    clgan_gemm_autoselect resolves it */
    double gemm_flops;
    int cpu_shapes;              /* clgan_cpu_shapes() */
    /* Profiling (opts.profile): one event per launch, summed by clgan_profile_collect. */
    cl_event *prof_events;
    int *prof_kernel;            /* a clgan_kernel_id, or -1 for a CLBlast call */
    size_t prof_n, prof_cap;
};

/* Keeps `ev` (a finished or pending launch of kernel index k, -1 = CLBlast) for the
 * profile; releases it when profiling is off. */
void clgan_profile_add(clgan_ctx *ctx, int k, cl_event ev);

/* Fills ctx->tunable and ctx->build_options for ctx->view.dev (tunables.c); ELIMIT
 * when the device is below a kernel's minimum. */
clgan_status clgan_tunables_init(clgan_ctx *ctx);

/* Builds the program from the embedded (or CLGAN_KERNEL_DIR) sources, through the
 * binary cache. Sets ctx->program. */
clgan_status clgan_program_build(clgan_ctx *ctx);

/* CLBlast status names (falls back to OpenCL names). */
const char *clgan_clblast_error_str(int code);

/* Native GEMM (cl/gemm.cl) for the given shape; same contract as clgan_gemm. With
 * `bias` (NN, beta 0 only), the epilogue applies C = act(C + bias) (ACT_* codes). */
clgan_status clgan_gemm_native(clgan_ctx *ctx, int ta, int tb, size_t M, size_t N, size_t K,
                               float alpha, clgan_mat A, clgan_mat B, float beta, clgan_mat C,
                               cl_mem bias, int act, float slope);

#endif
