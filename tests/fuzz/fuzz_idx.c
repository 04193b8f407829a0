/* fuzz_idx.c - the IDX reader (plain and gzip, told apart by content) on any bytes. */
#include "clgan/io.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_path("idx");
    clgan_idx t;
    if (fuzz_write(p, data, size) == 0 && clgan_idx_read_max(p, &t, 64u << 20) == CLGAN_OK) {
        size_t count = 1;
        for (int i = 0; i < t.ndim; i++)
            count *= t.dims[i];
        if (count != t.count || (count && !t.data))
            abort(); /* the reader's own contract */
        clgan_idx_free(&t);
    }
    unlink(p);
    return 0;
}
