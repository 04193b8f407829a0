/* fuzz_safetensors.c - the safetensors reader (header JSON, offsets, metadata) on any
 * bytes, and what clgan reads from a checkpoint's metadata (its configuration). */
#include "clgan/gan.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_path("st");
    clgan_tensor_set s;
    clgan_config c;
    if (fuzz_write(p, data, size) == 0 && clgan_safetensors_read(p, &s) == CLGAN_OK) {
        volatile float sum = 0;
        for (int i = 0; i < s.n; i++) {
            size_t count = 1;
            for (int d = 0; d < s.t[i].ndim; d++)
                count *= s.t[i].shape[d];
            for (size_t k = 0; k < count; k++)
                sum += s.t[i].data[k];
            if (clgan_safetensors_find(&s, s.t[i].name) != &s.t[i])
                abort();
        }
        (void)sum;
        clgan_safetensors_meta(&s, "config");
        clgan_safetensors_free(&s);
        clgan_checkpoint_config(p, &c);
    }
    unlink(p);
    return 0;
}
