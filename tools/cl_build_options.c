/* cl_build_options.c - prints the OpenCL build options clgan compiles cl/ with on a device
 * whose maximum work-group size (and, optionally, native float vector width) are the
 * arguments (clgan_tunables_for, the function every context uses), for offline compiles
 * of the kernels (tests/cl_offline.sh). No device. */
#include <stdio.h>
#include <stdlib.h>

#include "clgan/runtime.h"

int main(int argc, char **argv)
{
    char opts[1024], *end = NULL;
    long wg = argc >= 2 ? strtol(argv[1], &end, 10) : 0, vec = 0;
    if (argc == 3 && end && !*end)
        vec = strtol(argv[2], &end, 10);
    if (argc < 2 || argc > 3 || !end || *end || wg < 1 || vec < 0) {
        fprintf(stderr, "usage: cl_build_options MAX_WORK_GROUP_SIZE [NATIVE_FLOAT_VECTOR_WIDTH]\n");
        return 2;
    }
    if (clgan_tunables_for((size_t)wg, 0, (unsigned)vec, NULL, opts, sizeof opts) != CLGAN_OK) {
        fprintf(stderr, "cl_build_options: %s\n", clgan_error_msg());
        return 1;
    }
    puts(opts);
    return 0;
}
