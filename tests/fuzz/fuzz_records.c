/* fuzz_records.c - the run-directory records: the input becomes a run directory
 * (config.ini, metrics.jsonl, eval.jsonl, diagnoses.json: the parts between lines
 * "#--"), read as `clgan diagnose` reads a run and as `clgan report` renders one. */
#include <sys/stat.h>

#include "clgan/diag.h"
#include "clgan/io.h"
#include "fuzz.h"

static const char *const parts[] = {"config.ini", "metrics.jsonl", "eval.jsonl", "diagnoses.json"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_path("run");
    char path[600];
    mkdir(dir, 0700);
    const uint8_t *at = data, *end = data + size;
    for (int k = 0; k < 4; k++) {
        const uint8_t *sep = NULL;
        for (const uint8_t *q = at; q + 4 <= end && !sep; q++)
            if (!memcmp(q, "\n#--", 4))
                sep = q;
        const uint8_t *stop = sep ? sep + 1 : end;
        snprintf(path, sizeof path, "%s/%s", dir, parts[k]);
        fuzz_write(path, at, (size_t)(stop - at));
        at = sep ? sep + 5 > end ? end : sep + 5 : end;
    }
    clgan_run_data *r = NULL;
    if (clgan_run_data_load(&r, dir, 0) == CLGAN_OK) {
        clgan_diagnosis d[CLGAN_DIAG_COUNT];
        clgan_diagnose(clgan_run_data_input(r), d);
        clgan_run_data_free(r);
    }
    char *html = NULL;
    size_t n;
    if (clgan_report_render(&html, &n, dir) == CLGAN_OK)
        free(html);
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, parts[k]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
