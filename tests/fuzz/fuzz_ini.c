/* fuzz_ini.c - config files: the INI parser and every setting's value parser, through
 * clgan_config_load_ini (a file: NUL bytes included) and the checks after it. */
#include "clgan/gan.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_path("ini");
    clgan_config c;
    clgan_config_defaults(&c);
    if (fuzz_write(p, data, size) == 0 && clgan_config_load_ini(&c, p) == CLGAN_OK) {
        clgan_config_validate(&c);
        char *ini = clgan_config_to_ini(&c); /* what clgan writes, it reads back */
        clgan_config back;
        clgan_config_defaults(&back);
        if (ini && (clgan_config_load_ini_text(&back, ini, "written") != CLGAN_OK ||
                    clgan_config_diff(&c, &back, (const char *const[]){"out", NULL}) != NULL))
            abort();
        free(ini);
    }
    unlink(p);
    return 0;
}
