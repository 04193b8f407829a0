/* cl_build_options.c - prints the OpenCL build options clgan compiles cl/ with on a device
 * whose maximum work-group size is the argument (clgan_tunables_for, the function every
 * context uses), for offline compiles of the kernels (tests/cl_offline.sh). No device. */
#include <stdio.h>
#include <stdlib.h>

#include "clgan/runtime.h"

int main(int argc, char **argv)
{
    char opts[1024], *end = NULL;
    long wg = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || !end || *end || wg < 1) {
        fprintf(stderr, "usage: cl_build_options MAX_WORK_GROUP_SIZE\n");
        return 2;
    }
    if (clgan_tunables_for((size_t)wg, 0, NULL, opts, sizeof opts) != CLGAN_OK) {
        fprintf(stderr, "cl_build_options: %s\n", clgan_error_msg());
        return 1;
    }
    puts(opts);
    return 0;
}
