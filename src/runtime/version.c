/* version.c - which clgan this is and which OpenCL platforms, ICD loader and CLBlast it
 * finds at run time (`clgan --version`). Creates no context; prints nothing. */
#define _GNU_SOURCE /* dladdr */
#include <clblast_c.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/dist.h"
#include "clgan/clgan.h"
#include "runtime_internal.h"

const char *clgan_version(void) { return CLGAN_VERSION_STRING; }

/* The file the dynamic linker loaded `sym` from, resolved through symbolic links (so
 * libclblast.so.1 shows as libclblast.so.1.5.3), into out (n); "?" when unknown. */
static void loaded_from(char *out, size_t n, void *sym)
{
    Dl_info info;
    char canon[PATH_MAX];
    if (!dladdr(sym, &info) || !info.dli_fname) {
        snprintf(out, n, "?");
        return;
    }
    snprintf(out, n, "%s", realpath(info.dli_fname, canon) ? canon : info.dli_fname);
}

/* Appends one line per OpenCL platform: "OpenCL platform P: NAME, VERSION". */
static void platforms(FILE *m)
{
    cl_platform_id ids[16];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(16, ids, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0)) {
        fprintf(m, "OpenCL platforms: none found (install a driver, e.g. pocl-opencl-icd)\n");
        return;
    }
    if (err != CL_SUCCESS) {
        fprintf(m, "OpenCL platforms: clGetPlatformIDs failed: %s (%d)\n", clgan_cl_error_str(err),
                err);
        return;
    }
    for (cl_uint p = 0; p < np && p < 16; p++) {
        char name[256] = "?", version[256] = "?";
        cl_int e1 = clGetPlatformInfo(ids[p], CL_PLATFORM_NAME, sizeof name, name, NULL);
        cl_int e2 = clGetPlatformInfo(ids[p], CL_PLATFORM_VERSION, sizeof version, version, NULL);
        if (e1 != CL_SUCCESS || e2 != CL_SUCCESS) {
            cl_int e = e1 != CL_SUCCESS ? e1 : e2;
            fprintf(m, "OpenCL platform %u: clGetPlatformInfo failed: %s (%d)\n", p,
                    clgan_cl_error_str(e), e);
            continue;
        }
        fprintf(m, "OpenCL platform %u: %s, %s\n", p, name, version);
    }
}

clgan_status clgan_version_describe(char **text)
{
    char *buf = NULL, path[PATH_MAX];
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    *text = NULL;
    if (!m)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    fprintf(m, "clgan %s (git %s)", clgan_version(), clgan_git_revision());
#if defined(__clang__)
    fprintf(m, ", built with clang %s", __clang_version__);
#elif defined(__GNUC__)
    fprintf(m, ", built with gcc %s", __VERSION__);
#endif
    fputc('\n', m);
    loaded_from(path, sizeof path, (void *)CLBlastSgemm);
    fprintf(m, "CLBlast: built against %d.%d.%d, loaded from %s\n", CLBLAST_VERSION_MAJOR,
            CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH, path);
    loaded_from(path, sizeof path, (void *)clGetPlatformIDs);
    fprintf(m, "OpenCL ICD loader: %s\n", path);
    fprintf(m, "MPI: %s\n", clgan_dist_available() ? "built with Open MPI (mpirun -np N clgan train)"
                                                   : "not built (one rank only)");
    platforms(m);
    if (fclose(m) != 0 || !buf) {
        free(buf);
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    }
    *text = buf;
    return CLGAN_OK;
}
