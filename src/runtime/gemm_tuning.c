/* gemm_tuning.c - says whether CLBlast's built-in tuning database has parameters for
 * this device (clgan_clblast_tuning, for `clgan bench`). Reads the device and the loaded
 * libclblast; changes nothing and does not tune.
 *
 * CLBlast 1.5.3 picks its kernel parameters from a compiled-in database: per kernel,
 * vendor ("NVIDIA"), device type, architecture ("SM8.0", an AMD gfx name) and device
 * name, each level falling back to its "default" entry (src/database/database.cpp).
 * Its API (C or C++) does not say which level matched: RetrieveParameters returns the
 * values, not their origin, and the lookup logs only in a verbose build. So this
 * repeats CLBlast's device identification (src/utilities/utilities.cpp: vendor name
 * mapping, "SM<major>.<minor>" through cl_nv_device_attribute_query, the AMD board name,
 * "pthread-" removed from PoCL's names) and looks for the architecture string and the
 * device name (padded with spaces to 50 characters, as database entries are stored)
 * among the bytes of the libclblast that is loaded. A name found there has an entry
 * for at least one kernel; Xgemm is the kernel every published tuning run covers.
 */
#define _GNU_SOURCE
#include "runtime_internal.h"

#include <clblast_c.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"

#define CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV_ 0x4000
#define CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV_ 0x4001
#define CL_DEVICE_BOARD_NAME_AMD_ 0x4038

/* CLBlast's device_mapping.hpp (1.5.3): vendor and architecture renames. */
static const char *const vendor_map[][2] = {{"Intel(R) Corporation", "Intel"},
                                            {"GenuineIntel", "Intel"},
                                            {"Advanced Micro Devices, Inc.", "AMD"},
                                            {"NVIDIA Corporation", "NVIDIA"}};
static const char *const arch_map[][2] = {{"gfx803", "Fiji"}, {"gfx900", "Vega"}};
/* Vendors the 1.5.3 database has entries for (others get the global defaults). */
static const char *const db_vendors[] = {"AMD", "ARM", "Intel", "NVIDIA", "QUALCOMM"};

static int has_bytes(const uint8_t *hay, size_t n, const char *needle, size_t len)
{
    return len && n >= len && memmem(hay, n, needle, len) != NULL;
}

int clgan_clblast_tuning(const clgan_ctx *ctx, char *desc, size_t n)
{
    const clgan_device_info *d = &ctx->view.dev;
    char ext[8192] = "", vendor[128], arch[128] = "", name[128], padded[52];
    snprintf(vendor, sizeof vendor, "%s", d->vendor);
    for (size_t i = 0; i < sizeof vendor_map / sizeof vendor_map[0]; i++)
        if (!strcmp(vendor, vendor_map[i][0]))
            snprintf(vendor, sizeof vendor, "%s", vendor_map[i][1]);
    snprintf(name, sizeof name, "%s", d->name);
    if (clGetDeviceInfo(d->id, CL_DEVICE_EXTENSIONS, sizeof ext - 1, ext, NULL) != CL_SUCCESS)
        ext[0] = '\0';
    if (strstr(ext, "cl_nv_device_attribute_query")) {
        cl_uint ma = 0, mi = 0;
        if (clGetDeviceInfo(d->id, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV_, sizeof ma, &ma, NULL) ==
                CL_SUCCESS &&
            clGetDeviceInfo(d->id, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV_, sizeof mi, &mi, NULL) ==
                CL_SUCCESS)
            snprintf(arch, sizeof arch, "SM%u.%u", ma, mi);
    } else if (strstr(ext, "cl_amd_device_attribute_query")) {
        snprintf(arch, sizeof arch, "%s", d->name);
        if (clGetDeviceInfo(d->id, CL_DEVICE_BOARD_NAME_AMD_, sizeof name - 1, name, NULL) !=
            CL_SUCCESS)
            snprintf(name, sizeof name, "%s", d->name);
    }
    for (size_t i = 0; i < sizeof arch_map / sizeof arch_map[0]; i++)
        if (!strcmp(arch, arch_map[i][0]))
            snprintf(arch, sizeof arch, "%s", arch_map[i][1]);
    char *p = strstr(name, "pthread-");
    if (p)
        memmove(p, p + 8, strlen(p + 8) + 1);
    snprintf(padded, sizeof padded, "%-50.50s", name);

    Dl_info info;
    uint8_t *lib = NULL;
    size_t len = 0;
    if (!dladdr((void *)CLBlastSgemm, &info) || !info.dli_fname ||
        clgan_io_read_file(info.dli_fname, &lib, &len) != CLGAN_OK) {
        clgan_error_clear();
        snprintf(desc, n, "unknown (could not read the loaded libclblast)");
        return -1;
    }
    /* The architecture and the name as stored: NUL-terminated. */
    int arch_found = arch[0] && has_bytes(lib, len, arch, strlen(arch) + 1);
    int name_found = has_bytes(lib, len, padded, 51);
    free(lib);
    int known_vendor = 0;
    for (size_t i = 0; i < sizeof db_vendors / sizeof db_vendors[0]; i++)
        known_vendor |= !strcmp(vendor, db_vendors[i]);
    const char *type = clgan_device_type_str(d->type);
    if (name_found && (arch_found || !arch[0])) {
        snprintf(desc, n, "tuned: the database has '%s'%s%s%s", name, arch[0] ? " (" : "", arch,
                 arch[0] ? ")" : "");
        return 2;
    }
    if (arch_found) {
        snprintf(desc, n, "architecture defaults: no entry for '%s', %s %s defaults", name,
                 vendor, arch);
        return 1;
    }
    if (known_vendor)
        snprintf(desc, n, "defaults: no entry for '%s'%s%s%s, %s %s defaults", name,
                 arch[0] ? " (" : "", arch, arch[0] ? ")" : "", vendor, type);
    else
        snprintf(desc, n, "defaults: no entry for vendor '%s', CLBlast's global defaults",
                 vendor);
    return 0;
}
