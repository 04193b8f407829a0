/* device.c - enumerates OpenCL platforms and devices and resolves a --device spec.
 * Creates no contexts; see context.c for that. */
#include "runtime_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *clgan_device_type_str(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "ACCELERATOR";
    return "OTHER";
}

static const char no_device_hint[] =
    "no OpenCL device found: install a driver, e.g. the CPU device with "
    "'apt-get install pocl-opencl-icd' (or run tools/install-deps.sh), then check "
    "'clgan devices'";

static void fill_info(clgan_device_info *d)
{
    cl_uint u = 0;
    cl_ulong ul = 0;
    size_t sz = 0;
    clGetPlatformInfo(d->platform_id, CL_PLATFORM_NAME, sizeof d->platform_name,
                      d->platform_name, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_NAME, sizeof d->name, d->name, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_VENDOR, sizeof d->vendor, d->vendor, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_VERSION, sizeof d->version, d->version, NULL);
    clGetDeviceInfo(d->id, CL_DRIVER_VERSION, sizeof d->driver, d->driver, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_OPENCL_C_VERSION, sizeof d->c_version, d->c_version,
                    NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_TYPE, sizeof d->type, &d->type, NULL);
    if (clGetDeviceInfo(d->id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS)
        d->compute_units = u;
    if (clGetDeviceInfo(d->id, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL) == CL_SUCCESS)
        d->clock_mhz = u;
    if (clGetDeviceInfo(d->id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        d->global_mem = ul;
    if (clGetDeviceInfo(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        d->max_alloc = ul;
    if (clGetDeviceInfo(d->id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof sz, &sz, NULL) == CL_SUCCESS)
        d->max_wg = sz;
    if (clGetDeviceInfo(d->id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof u, &u, NULL) == CL_SUCCESS)
        d->base_align = u / 8;
}

clgan_status clgan_devices_list(clgan_device_info **out, int *n)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    clgan_device_info *devs = NULL;
    int count = 0;
    *out = NULL;
    *n = 0;
    cl_int err = clGetPlatformIDs(16, plats, &np);
    if (err == -1001 || np == 0)
        return clgan_error(CLGAN_ENODEV, "%s", no_device_hint);
    if (err != CL_SUCCESS)
        return clgan_cl_fail(NULL, "clGetPlatformIDs", err);
    if (np > 16)
        np = 16; /* the count is the total; only 16 were returned */
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id ids[64];
        cl_uint nd = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 64, ids, &nd);
        if (err == CL_DEVICE_NOT_FOUND)
            continue;
        if (err != CL_SUCCESS) {
            free(devs);
            return clgan_cl_fail(NULL, "clGetDeviceIDs", err);
        }
        if (nd > 64)
            nd = 64;
        clgan_device_info *grown = realloc(devs, (count + nd) * sizeof *devs);
        if (!grown) {
            free(devs);
            return clgan_error(CLGAN_ENOMEM, "out of memory listing devices");
        }
        devs = grown;
        for (cl_uint d = 0; d < nd; d++) {
            clgan_device_info *di = &devs[count];
            memset(di, 0, sizeof *di);
            di->index = count;
            di->platform = (int)p;
            di->device = (int)d;
            di->platform_id = plats[p];
            di->id = ids[d];
            fill_info(di);
            count++;
        }
    }
    if (count == 0) {
        free(devs);
        return clgan_error(CLGAN_ENODEV, "%s", no_device_hint);
    }
    *out = devs;
    *n = count;
    return CLGAN_OK;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return 0;
}

static int first_of_type(const clgan_device_info *devs, int n, cl_device_type t)
{
    for (int i = 0; i < n; i++)
        if (devs[i].type & t)
            return i;
    return -1;
}

static clgan_status no_match(const clgan_device_info *devs, int n, const char *spec)
{
    char list[512] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof list - 1; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%d (%s, %s)", i ? ", " : "",
                                i, devs[i].name, clgan_device_type_str(devs[i].type));
    return clgan_error(CLGAN_ENODEV, "no device matches --device '%s'; devices: %s", spec, list);
}

clgan_status clgan_device_resolve(int *index, const clgan_device_info *devs, int n,
                                  const char *spec)
{
    int i = -1;
    char *end;
    if (!spec || !*spec || !strcmp(spec, "auto")) {
        i = first_of_type(devs, n, CL_DEVICE_TYPE_GPU);
        if (i < 0) i = first_of_type(devs, n, CL_DEVICE_TYPE_CPU);
        if (i < 0 && n > 0) i = 0;
    } else if (!strcasecmp(spec, "gpu")) {
        i = first_of_type(devs, n, CL_DEVICE_TYPE_GPU);
    } else if (!strcasecmp(spec, "cpu")) {
        i = first_of_type(devs, n, CL_DEVICE_TYPE_CPU);
    } else if (isdigit((unsigned char)spec[0])) {
        long a = strtol(spec, &end, 10);
        if (*end == '\0') {
            if (a >= 0 && a < n) i = (int)a;
        } else if (*end == ':' && isdigit((unsigned char)end[1])) {
            long b = strtol(end + 1, &end, 10);
            for (int k = 0; k < n && *end == '\0'; k++)
                if (devs[k].platform == a && devs[k].device == b) i = k;
        }
    } else {
        for (int k = 0; k < n && i < 0; k++)
            if (contains_nocase(devs[k].name, spec) || contains_nocase(devs[k].platform_name, spec) ||
                contains_nocase(devs[k].version, spec) || contains_nocase(devs[k].vendor, spec))
                i = k;
    }
    if (i < 0)
        return no_match(devs, n, spec ? spec : "auto");
    *index = i;
    return CLGAN_OK;
}
