/* failalloc.c - a test-only LD_PRELOAD shim that makes the OpenCL driver refuse big
 * allocations, to see what clgan says when a device allocation fails: clCreateBuffer of
 * FAILALLOC_CREATE bytes or more fails with CL_MEM_OBJECT_ALLOCATION_FAILURE, and
 * clEnqueueFillBuffer or clEnqueueWriteBuffer of FAILALLOC_FILL bytes or more with
 * CL_OUT_OF_RESOURCES (drivers that allocate at first use fail there; clgan_buf_alloc
 * zeroes a new buffer with one write). Everything else goes to the real driver. */
#define _GNU_SOURCE
#include <CL/cl.h>
#include <dlfcn.h>
#include <stdlib.h>

static size_t limit(const char *var)
{
    const char *v = getenv(var);
    return v && *v ? (size_t)strtoull(v, NULL, 10) : (size_t)-1;
}

CL_API_ENTRY cl_mem CL_API_CALL clCreateBuffer(cl_context ctx, cl_mem_flags flags, size_t size,
                                               void *host, cl_int *err)
{
    typedef cl_mem (*fn)(cl_context, cl_mem_flags, size_t, void *, cl_int *);
    if (size >= limit("FAILALLOC_CREATE")) {
        if (err)
            *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
        return NULL;
    }
    return ((fn)dlsym(RTLD_NEXT, "clCreateBuffer"))(ctx, flags, size, host, err);
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueFillBuffer(cl_command_queue q, cl_mem m, const void *pat,
                                                    size_t psize, size_t off, size_t size,
                                                    cl_uint nev, const cl_event *wait, cl_event *ev)
{
    typedef cl_int (*fn)(cl_command_queue, cl_mem, const void *, size_t, size_t, size_t, cl_uint,
                         const cl_event *, cl_event *);
    if (size >= limit("FAILALLOC_FILL"))
        return CL_OUT_OF_RESOURCES;
    return ((fn)dlsym(RTLD_NEXT, "clEnqueueFillBuffer"))(q, m, pat, psize, off, size, nev, wait, ev);
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueWriteBuffer(cl_command_queue q, cl_mem m, cl_bool block,
                                                     size_t off, size_t size, const void *p,
                                                     cl_uint nev, const cl_event *wait, cl_event *ev)
{
    typedef cl_int (*fn)(cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint,
                         const cl_event *, cl_event *);
    if (size >= limit("FAILALLOC_FILL"))
        return CL_OUT_OF_RESOURCES;
    return ((fn)dlsym(RTLD_NEXT, "clEnqueueWriteBuffer"))(q, m, block, off, size, p, nev, wait, ev);
}
