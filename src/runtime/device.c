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

/* Reads the device's properties; every query checked (ECL naming the property). */
static clgan_status fill_info(clgan_device_info *d)
{
    cl_uint cu = 0, mhz = 0, align = 0;
    cl_ulong mem = 0, alloc = 0, local = 0;
    size_t wg = 0, items[3] = {0, 0, 0};
    cl_uint dims = 0;
    const struct {
        cl_device_info param;
        const char *name;
        void *dst;
        size_t size;
    } q[] = {
        {CL_DEVICE_NAME, "CL_DEVICE_NAME", d->name, sizeof d->name},
        {CL_DEVICE_VENDOR, "CL_DEVICE_VENDOR", d->vendor, sizeof d->vendor},
        {CL_DEVICE_VERSION, "CL_DEVICE_VERSION", d->version, sizeof d->version},
        {CL_DRIVER_VERSION, "CL_DRIVER_VERSION", d->driver, sizeof d->driver},
        {CL_DEVICE_OPENCL_C_VERSION, "CL_DEVICE_OPENCL_C_VERSION", d->c_version, sizeof d->c_version},
        {CL_DEVICE_TYPE, "CL_DEVICE_TYPE", &d->type, sizeof d->type},
        {CL_DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS", &cu, sizeof cu},
        {CL_DEVICE_MAX_CLOCK_FREQUENCY, "CL_DEVICE_MAX_CLOCK_FREQUENCY", &mhz, sizeof mhz},
        {CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE", &mem, sizeof mem},
        {CL_DEVICE_MAX_MEM_ALLOC_SIZE, "CL_DEVICE_MAX_MEM_ALLOC_SIZE", &alloc, sizeof alloc},
        {CL_DEVICE_MAX_WORK_GROUP_SIZE, "CL_DEVICE_MAX_WORK_GROUP_SIZE", &wg, sizeof wg},
        {CL_DEVICE_MEM_BASE_ADDR_ALIGN, "CL_DEVICE_MEM_BASE_ADDR_ALIGN", &align, sizeof align},
        {CL_DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE", &local, sizeof local},
        {CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, "CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS", &dims,
         sizeof dims},
    };
    char call[96];
    cl_int err = clGetPlatformInfo(d->platform_id, CL_PLATFORM_NAME, sizeof d->platform_name,
                                   d->platform_name, NULL);
    if (err != CL_SUCCESS)
        return clgan_cl_fail(NULL, "clGetPlatformInfo(CL_PLATFORM_NAME)", err);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        err = clGetDeviceInfo(d->id, q[i].param, q[i].size, q[i].dst, NULL);
        if (err != CL_SUCCESS) {
            snprintf(call, sizeof call, "clGetDeviceInfo(%s)", q[i].name);
            return clgan_cl_fail(NULL, call, err);
        }
    }
    /* The sizes array has one entry per dimension (at least 3 by the standard). */
    size_t all[16] = {0};
    if (dims > 16)
        dims = 16;
    err = clGetDeviceInfo(d->id, CL_DEVICE_MAX_WORK_ITEM_SIZES, dims * sizeof all[0], all, NULL);
    if (err != CL_SUCCESS)
        return clgan_cl_fail(NULL, "clGetDeviceInfo(CL_DEVICE_MAX_WORK_ITEM_SIZES)", err);
    for (int i = 0; i < 3; i++)
        items[i] = i < (int)dims ? all[i] : 1;
    memcpy(d->max_item, items, sizeof items);
    d->local_mem = local;
    d->compute_units = cu;
    d->clock_mhz = mhz;
    d->global_mem = mem;
    d->max_alloc = alloc;
    d->max_wg = wg;
    d->base_align = align / 8;
    return CLGAN_OK;
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
            clgan_status st = fill_info(di);
            if (st != CLGAN_OK) {
                free(devs);
                return st;
            }
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
