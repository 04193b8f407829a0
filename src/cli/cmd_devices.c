/* cmd_devices.c - `clgan devices`: every device of every platform, two lines each (the
 * numbers and the full name; the platform, OpenCL C version, vendor and driver). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/runtime.h"
#include "cli.h"

clgan_status cmd_devices(int argc, char **argv)
{
    clgan_device_info *d;
    int n, def = -1;
    if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: clgan devices\nLists every OpenCL device; '*' marks the one --device auto "
               "picks. Select one with --device INDEX, P:D, gpu, cpu or a name substring.\n");
        return CLGAN_OK;
    }
    if (argc > 0)
        return clgan_error(CLGAN_EINVAL, "unexpected argument '%s'", argv[0]);
    clgan_status st = clgan_devices_list(&d, &n);
    if (st != CLGAN_OK)
        return st;
    if (clgan_device_resolve(&def, d, n, "auto") != CLGAN_OK)
        clgan_error_clear();
    /* Names last and whole: device names run long ("pthread-haswell-AMD EPYC 7B13
     * 64-Core Processor", "NVIDIA GeForce RTX 4090 Laptop GPU"). */
    printf("   %-5s %-4s %-5s %4s %6s %9s  %s\n", "index", "P:D", "type", "CUs", "MHz", "memory",
           "name");
    for (int i = 0; i < n; i++) {
        char pd[16];
        snprintf(pd, sizeof pd, "%d:%d", d[i].platform, d[i].device);
        printf(" %c %-5d %-4s %-5s %4u %6u %6.1f GB  %s\n", i == def ? '*' : ' ', i, pd,
               clgan_device_type_str(d[i].type), d[i].compute_units, d[i].clock_mhz,
               d[i].global_mem / 1e9, d[i].name);
        printf("           platform %s; %s; vendor %s; driver %s\n", d[i].platform_name,
               d[i].c_version, d[i].vendor, d[i].driver);
    }
    free(d);
    return CLGAN_OK;
}
