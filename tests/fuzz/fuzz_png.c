/* fuzz_png.c - both PNG readers (the gray one, and the any-format one that the PNG
 * directory loader uses) on any bytes. */
#include "clgan/io.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_path("png");
    uint8_t *pix = NULL;
    int w, h, fc;
    if (fuzz_write(p, data, size) == 0) {
        if (clgan_png_read_gray(p, &pix, &w, &h) == CLGAN_OK)
            free(pix);
        if (clgan_png_read_image(p, 3, 1u << 22, &pix, &w, &h, &fc) == CLGAN_OK)
            free(pix);
    }
    unlink(p);
    return 0;
}
