/* fuzz_npy.c - the NPY reader on any bytes. */
#include "clgan/io.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_path("npy");
    float *x = NULL;
    int nd;
    size_t shape[4];
    if (fuzz_write(p, data, size) == 0 && clgan_npy_read_f32(p, &x, &nd, shape) == CLGAN_OK) {
        size_t count = 1;
        for (int i = 0; i < nd; i++)
            count *= shape[i];
        volatile float sum = 0; /* touches every value the shape promises */
        for (size_t i = 0; i < count; i++)
            sum += x[i];
        (void)sum;
        free(x);
    }
    unlink(p);
    return 0;
}
