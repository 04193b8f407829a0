/* context.c - the context, its one in-order queue, the kernel table, launches and
 * buffer helpers. Owns every OpenCL object the runtime creates; frees them in reverse. */
#include "runtime_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const clgan_ctx_view *clgan_ctx_get(const clgan_ctx *ctx) { return &ctx->view; }

#define KERNEL_NAME_(name) #name,
static const char *const kernel_names[CLGAN_K_COUNT] = {CLGAN_KERNEL_LIST(KERNEL_NAME_)};
#undef KERNEL_NAME_

const char *clgan_kernel_name(clgan_kernel_id id)
{
    return (unsigned)id < CLGAN_K_COUNT ? kernel_names[id] : "?";
}

/* Creates every kernel of kernels.h's table and reads its work-group limits. A kernel
 * the program lacks is named; one whose required work-group size is above what it can
 * run with on this device is ELIMIT (a build that cannot launch is caught here, not at
 * its first launch). */
static clgan_status create_kernels(clgan_ctx *ctx)
{
    char call[160];
    cl_int err;
    for (int i = 0; i < CLGAN_K_COUNT; i++) {
        clgan_kernel_entry *e = &ctx->kernels[i];
        e->k = clCreateKernel(ctx->program, kernel_names[i], &err);
        if (err == CL_INVALID_KERNEL_NAME)
            return clgan_error(CLGAN_ECL, "kernel '%s' is not in the program built from cl/ "
                               "(a kernel source out of step with include/clgan/kernels.h?)",
                               kernel_names[i]);
        if (err != CL_SUCCESS) {
            e->k = NULL;
            snprintf(call, sizeof call, "clCreateKernel(%s)", kernel_names[i]);
            return clgan_cl_fail(ctx, call, err);
        }
        size_t wg = 0;
        err = clGetKernelWorkGroupInfo(e->k, ctx->view.dev.id, CL_KERNEL_WORK_GROUP_SIZE,
                                       sizeof wg, &wg, NULL);
        if (err == CL_SUCCESS)
            err = clGetKernelWorkGroupInfo(e->k, ctx->view.dev.id,
                                           CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof e->reqd,
                                           e->reqd, NULL);
        if (err != CL_SUCCESS) {
            snprintf(call, sizeof call, "clGetKernelWorkGroupInfo(%s)", kernel_names[i]);
            return clgan_cl_fail(ctx, call, err);
        }
        e->max_wg = wg < ctx->view.dev.max_wg ? wg : ctx->view.dev.max_wg;
        size_t need = e->reqd[0] * (e->reqd[1] ? e->reqd[1] : 1) * (e->reqd[2] ? e->reqd[2] : 1);
        if (need > e->max_wg)
            return clgan_error(CLGAN_ELIMIT, "kernel %s was built for work-groups of %zu "
                               "work-items, but on %s it can run at most %zu "
                               "(CL_KERNEL_WORK_GROUP_SIZE)", kernel_names[i], need,
                               ctx->view.dev.name, e->max_wg);
    }
    return CLGAN_OK;
}

clgan_status clgan_ctx_init(clgan_ctx **out, const clgan_ctx_opts *opts)
{
    clgan_device_info *devs = NULL;
    int n = 0, idx = 0;
    cl_int err;
    clgan_status st;
    *out = NULL;
    clgan_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    if (opts)
        ctx->opts = *opts;
    /* The runtime's three environment switches, read here and nowhere else. */
    if (!ctx->opts.kernel_dir && getenv("CLGAN_KERNEL_DIR") && *getenv("CLGAN_KERNEL_DIR"))
        ctx->opts.kernel_dir = getenv("CLGAN_KERNEL_DIR");
    if (getenv("CLGAN_SYNC") && !strcmp(getenv("CLGAN_SYNC"), "1"))
        ctx->opts.sync = 1;
    const char *shapes = getenv("CLGAN_LAUNCH_SHAPES");
    if (shapes && *shapes && strcmp(shapes, "cpu") && strcmp(shapes, "gpu")) {
        st = clgan_error(CLGAN_EINVAL, "CLGAN_LAUNCH_SHAPES=%s: use cpu or gpu (or unset it)",
                         shapes);
        goto fail;
    }
    if ((st = clgan_devices_list(&devs, &n)) != CLGAN_OK ||
        (st = clgan_device_resolve(&idx, devs, n, ctx->opts.device)) != CLGAN_OK)
        goto fail;
    ctx->view.dev = devs[idx];
    free(devs);
    devs = NULL;
    ctx->cpu_shapes = shapes && *shapes ? !strcmp(shapes, "cpu")
                                        : (ctx->view.dev.type & CL_DEVICE_TYPE_CPU) != 0;

    ctx->view.context = clCreateContext(NULL, 1, &ctx->view.dev.id, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        st = clgan_cl_fail(ctx, "clCreateContext", err);
        goto fail;
    }
    cl_command_queue_properties props = ctx->opts.profile ? CL_QUEUE_PROFILING_ENABLE : 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    ctx->view.queue = clCreateCommandQueue(ctx->view.context, ctx->view.dev.id, props, &err);
#pragma GCC diagnostic pop
    if (err != CL_SUCCESS) {
        st = clgan_cl_fail(ctx, "clCreateCommandQueue", err);
        goto fail;
    }
    if ((st = clgan_tunables_init(ctx)) != CLGAN_OK || (st = clgan_program_build(ctx)) != CLGAN_OK ||
        (st = create_kernels(ctx)) != CLGAN_OK)
        goto fail;
    ctx->gemm_impl = CLGAN_GEMM_AUTO; /* until clgan_gemm_autoselect (gemm_native.c) */
    *out = ctx;
    return CLGAN_OK;
fail:
    free(devs);
    clgan_ctx_free(ctx);
    return st;
}

void clgan_ctx_free(clgan_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->view.queue)
        clFinish(ctx->view.queue);
    for (size_t i = 0; i < ctx->prof_n; i++)
        clReleaseEvent(ctx->prof_events[i]);
    free(ctx->prof_events);
    free(ctx->prof_kernel);
    for (int i = 0; i < CLGAN_K_COUNT; i++)
        if (ctx->kernels[i].k)
            clReleaseKernel(ctx->kernels[i].k);
    if (ctx->program)
        clReleaseProgram(ctx->program);
    if (ctx->view.queue)
        clReleaseCommandQueue(ctx->view.queue);
    if (ctx->view.context)
        clReleaseContext(ctx->view.context);
    free(ctx);
}

cl_kernel clgan_kernel(const clgan_ctx *ctx, clgan_kernel_id id)
{
    return (unsigned)id < CLGAN_K_COUNT ? ctx->kernels[id].k : NULL;
}

size_t clgan_kernel_max_wg(const clgan_ctx *ctx, clgan_kernel_id id)
{
    return (unsigned)id < CLGAN_K_COUNT ? ctx->kernels[id].max_wg : 0;
}

size_t clgan_local_size(const clgan_ctx *ctx, clgan_kernel_id id, size_t preferred)
{
    size_t lim = clgan_kernel_max_wg(ctx, id), l = preferred ? preferred : 1;
    if (ctx->view.dev.max_item[0] && ctx->view.dev.max_item[0] < lim)
        lim = ctx->view.dev.max_item[0];
    while (l > 1 && l > lim)
        l /= 2;
    return l;
}

/* ELIMIT unless `local` (dims entries, NULL: the driver's choice) fits kernel `e`
 * and the device. */
static clgan_status check_local(const clgan_ctx *ctx, clgan_kernel_id id, int dims,
                                const size_t *local)
{
    const clgan_kernel_entry *e = &ctx->kernels[id];
    const clgan_device_info *d = &ctx->view.dev;
    const char *name = kernel_names[id];
    if (!local) {
        if (e->reqd[0])
            return clgan_error(CLGAN_ELIMIT, "kernel %s needs work-groups of %zux%zux%zu and "
                               "was launched without a local size", name, e->reqd[0],
                               e->reqd[1], e->reqd[2]);
        return CLGAN_OK;
    }
    size_t total = 1;
    for (int i = 0; i < dims; i++) {
        if (local[i] == 0)
            return clgan_error(CLGAN_ELIMIT, "kernel %s launched with a local size of 0 in "
                               "dimension %d", name, i);
        if (local[i] > d->max_item[i])
            return clgan_error(CLGAN_ELIMIT, "kernel %s launched with %zu work-items in "
                               "dimension %d; %s allows at most %zu "
                               "(CL_DEVICE_MAX_WORK_ITEM_SIZES)", name, local[i], i, d->name,
                               d->max_item[i]);
        if (e->reqd[0] && local[i] != e->reqd[i])
            return clgan_error(CLGAN_ELIMIT, "kernel %s needs work-groups of %zux%zux%zu, "
                               "launched with %zu in dimension %d", name, e->reqd[0],
                               e->reqd[1], e->reqd[2], local[i], i);
        total *= local[i];
    }
    if (total > e->max_wg)
        return clgan_error(CLGAN_ELIMIT, "kernel %s launched with work-groups of %zu "
                           "work-items; on %s it can run at most %zu", name, total, d->name,
                           e->max_wg);
    return CLGAN_OK;
}

clgan_status clgan_launch(clgan_ctx *ctx, clgan_kernel_id id, int dims, const size_t *global,
                          const size_t *local, int nargs, const clgan_arg *args)
{
    char call[128];
    size_t g[3];
    cl_int err;
    if ((unsigned)id >= CLGAN_K_COUNT || dims < 1 || dims > 3)
        return clgan_error(CLGAN_EINVAL, "launch of kernel id %d over %d dimensions", (int)id,
                           dims);
    cl_kernel k = ctx->kernels[id].k;
    clgan_status st = check_local(ctx, id, dims, local);
    if (st != CLGAN_OK)
        return st;
    for (int i = 0; i < nargs; i++) {
        err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ptr);
        if (err != CL_SUCCESS) {
            snprintf(call, sizeof call, "clSetKernelArg(%s, arg %d)", kernel_names[id], i);
            return clgan_cl_fail(ctx, call, err);
        }
    }
    for (int d = 0; d < dims; d++) {
        g[d] = global[d] ? global[d] : 1;
        if (local && local[d] > 1)
            g[d] = (g[d] + local[d] - 1) / local[d] * local[d];
    }
    cl_event ev = NULL;
    err = clEnqueueNDRangeKernel(ctx->view.queue, k, (cl_uint)dims, NULL, g, local, 0, NULL,
                                 ctx->opts.profile ? &ev : NULL);
    if (ev)
        clgan_profile_add(ctx, (int)id, ev);
    if (err == CL_SUCCESS && ctx->opts.sync)
        err = clFinish(ctx->view.queue);
    if (err != CL_SUCCESS) {
        snprintf(call, sizeof call, "kernel %s", kernel_names[id]);
        return clgan_cl_fail(ctx, call, err);
    }
    return CLGAN_OK;
}

int clgan_cpu_shapes(const clgan_ctx *ctx) { return ctx->cpu_shapes; }

clgan_status clgan_finish(clgan_ctx *ctx)
{
    cl_int err = clFinish(ctx->view.queue);
    return err == CL_SUCCESS ? CLGAN_OK : clgan_cl_fail(ctx, "clFinish", err);
}

/* ---- buffers ---- */

size_t clgan_buf_align(const clgan_ctx *ctx)
{
    size_t a = ctx->view.dev.base_align;
    return a > 256 ? a : 256;
}

clgan_status clgan_buf_alloc(clgan_ctx *ctx, cl_mem *out, size_t bytes, const char *what)
{
    cl_int err;
    char call[160];
    *out = NULL;
    bytes = (bytes + 3) / 4 * 4; /* zero-filled with a 4-byte pattern; byte data rounds up */
    if (bytes == 0)
        bytes = 4;
    if (bytes > ctx->view.dev.max_alloc && ctx->view.dev.max_alloc)
        return clgan_error(CLGAN_EINVAL, "%s needs %zu MiB, above the %s's largest allocation "
                           "(%llu MiB): use a smaller --batch or model",
                           what, bytes >> 20, ctx->view.dev.name,
                           (unsigned long long)(ctx->view.dev.max_alloc >> 20));
    cl_mem m = clCreateBuffer(ctx->view.context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        snprintf(call, sizeof call, "clCreateBuffer(%s, %zu bytes)", what, bytes);
        return clgan_cl_fail(ctx, call, err);
    }
    clgan_status st = clgan_buf_zero(ctx, m, 0, bytes);
    if (st != CLGAN_OK) {
        clReleaseMemObject(m);
        return st;
    }
    *out = m;
    return CLGAN_OK;
}

clgan_status clgan_buf_sub(clgan_ctx *ctx, cl_mem *out, cl_mem parent, size_t offset,
                           size_t bytes)
{
    cl_int err;
    cl_buffer_region r = {offset, bytes ? bytes : 4};
    *out = clCreateSubBuffer(parent, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        return clgan_cl_fail(ctx, "clCreateSubBuffer", err);
    }
    return CLGAN_OK;
}

clgan_status clgan_buf_write(clgan_ctx *ctx, cl_mem m, size_t offset, const void *src,
                             size_t bytes)
{
    cl_int err = clEnqueueWriteBuffer(ctx->view.queue, m, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLGAN_OK : clgan_cl_fail(ctx, "clEnqueueWriteBuffer", err);
}

clgan_status clgan_buf_read(clgan_ctx *ctx, cl_mem m, size_t offset, void *dst, size_t bytes)
{
    cl_int err = clEnqueueReadBuffer(ctx->view.queue, m, CL_TRUE, offset, bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLGAN_OK : clgan_cl_fail(ctx, "clEnqueueReadBuffer", err);
}

clgan_status clgan_buf_read_async(clgan_ctx *ctx, cl_mem m, size_t offset, void *dst,
                                  size_t bytes, cl_event *ev)
{
    cl_int err = clEnqueueReadBuffer(ctx->view.queue, m, CL_FALSE, offset, bytes, dst, 0, NULL, ev);
    return err == CL_SUCCESS ? CLGAN_OK : clgan_cl_fail(ctx, "clEnqueueReadBuffer", err);
}

clgan_status clgan_buf_copy(clgan_ctx *ctx, cl_mem dst, size_t dst_off, cl_mem src,
                            size_t src_off, size_t bytes)
{
    if (!bytes)
        return CLGAN_OK;
    cl_int err = clEnqueueCopyBuffer(ctx->view.queue, src, dst, src_off, dst_off, bytes, 0, NULL,
                                     NULL);
    if (err == CL_SUCCESS && ctx->opts.sync)
        err = clFinish(ctx->view.queue);
    return err == CL_SUCCESS ? CLGAN_OK : clgan_cl_fail(ctx, "clEnqueueCopyBuffer", err);
}

clgan_status clgan_buf_zero(clgan_ctx *ctx, cl_mem m, size_t offset, size_t bytes)
{
    const cl_float zero = 0.0f;
    if (bytes % 4 || offset % 4)
        return clgan_error(CLGAN_EINVAL, "clgan_buf_zero: size and offset must be multiples of 4");
    cl_int err = clEnqueueFillBuffer(ctx->view.queue, m, &zero, sizeof zero, offset, bytes, 0,
                                     NULL, NULL);
    return err == CL_SUCCESS ? CLGAN_OK : clgan_cl_fail(ctx, "clEnqueueFillBuffer", err);
}

void clgan_buf_release(cl_mem *m)
{
    if (m && *m) {
        clReleaseMemObject(*m);
        *m = NULL;
    }
}

/* ---- profiling ---- */

void clgan_profile_add(clgan_ctx *ctx, int k, cl_event ev)
{
    if (ctx->prof_n == ctx->prof_cap) {
        size_t cap = ctx->prof_cap ? 2 * ctx->prof_cap : 4096;
        cl_event *e = realloc(ctx->prof_events, cap * sizeof *e);
        if (e)
            ctx->prof_events = e;
        int *ki = realloc(ctx->prof_kernel, cap * sizeof *ki);
        if (ki)
            ctx->prof_kernel = ki;
        if (!e || !ki) { /* out of memory: this launch goes unprofiled */
            clReleaseEvent(ev);
            return;
        }
        ctx->prof_cap = cap;
    }
    ctx->prof_events[ctx->prof_n] = ev;
    ctx->prof_kernel[ctx->prof_n++] = k;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const clgan_profile_entry *)a)->ms, y = ((const clgan_profile_entry *)b)->ms;
    return (x < y) - (x > y);
}

clgan_status clgan_profile_collect(clgan_ctx *ctx, clgan_profile_entry **out, int *n)
{
    int slots = CLGAN_K_COUNT + 1; /* the last one is CLBlast */
    clgan_profile_entry *e = calloc((size_t)slots, sizeof *e);
    clgan_status st = clgan_finish(ctx);
    *out = NULL;
    *n = 0;
    if (!e) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ctx->prof_n; i++) {
        cl_ulong t0 = 0, t1 = 0;
        int k = ctx->prof_kernel[i] < 0 ? slots - 1 : ctx->prof_kernel[i];
        if (e && st == CLGAN_OK &&
            clGetEventProfilingInfo(ctx->prof_events[i], CL_PROFILING_COMMAND_START, sizeof t0, &t0,
                                    NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(ctx->prof_events[i], CL_PROFILING_COMMAND_END, sizeof t1, &t1,
                                    NULL) == CL_SUCCESS) {
            e[k].ms += (double)(t1 - t0) * 1e-6;
            e[k].count++;
        }
        clReleaseEvent(ctx->prof_events[i]);
    }
    ctx->prof_n = 0;
    if (st != CLGAN_OK) {
        free(e);
        return st;
    }
    int m = 0;
    for (int k = 0; k < slots; k++) {
        if (!e[k].count)
            continue;
        e[m] = e[k];
        snprintf(e[m].name, sizeof e[m].name, "%s", k == slots - 1 ? "CLBlastSgemm" : kernel_names[k]);
        e[m].is_gemm = k == slots - 1 || !strncmp(e[m].name, "gemm_", 5) ||
                       k == CLGAN_K_conv_fwd || k == CLGAN_K_conv_wgrad;
        m++;
    }
    qsort(e, (size_t)m, sizeof *e, by_time);
    *out = e;
    *n = m;
    return CLGAN_OK;
}
