/* cmd_report.c - `clgan report RUN_DIR [--out FILE]`: writes one self-contained HTML page
 * about a run directory (clgan_report_write in src/diag/report.c). Touches no device. */
#include <stdio.h>
#include <string.h>

#include "clgan/diag.h"
#include "cli.h"

static const char usage_text[] =
    "usage: clgan report RUN_DIR [--out FILE]\n"
    "Writes RUN_DIR/report.html (or FILE): one self-contained HTML page with the run's\n"
    "settings, the verdict and diagnoses (diagnoses.json) with the flags to try, charts of\n"
    "the losses, D(x) and D(G(z)), gradient norms, update ratios, mode coverage and Frechet\n"
    "distance, and the sample grids and training.gif. No scripts, no network: open it in\n"
    "any browser. Files the run does not have are named in the page and left out.\n";

clgan_status cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *v;
    int err = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return CLGAN_OK;
        } else if ((v = cli_flag(argc, argv, &i, "out", &err))) {
            out = v;
        } else if (err || !strncmp(argv[i], "--", 2)) {
            return clgan_error(CLGAN_EINVAL, err ? "%s needs a value" : "unknown flag %s (see --help)",
                               argv[i]);
        } else if (dir) {
            return clgan_error(CLGAN_EINVAL, "unexpected argument '%s': one RUN_DIR only (see --help)",
                               argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return clgan_error(CLGAN_EINVAL, "RUN_DIR is required: clgan report RUN_DIR [--out FILE]");
    clgan_status st = clgan_report_write(dir, out);
    if (st == CLGAN_OK)
        printf("clgan: wrote %s%s\n", out ? out : dir, out ? "" : "/report.html");
    return st;
}
