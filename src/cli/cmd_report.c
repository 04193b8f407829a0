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
    const char *dir = NULL, *out = NULL;
    int help;
    const cli_option opts[] = {{"out", &out, NULL, 0, 0, NULL}, {NULL, &dir, NULL, 0, 0, NULL}};
    clgan_status st = cli_parse(argc, argv, opts, 2, usage_text, &help);
    if (st != CLGAN_OK || help)
        return st;
    if (!dir)
        return clgan_error(CLGAN_EINVAL, "RUN_DIR is required: clgan report RUN_DIR [--out FILE]");
    st = clgan_report_write(dir, out);
    if (st == CLGAN_OK)
        printf("clgan: wrote %s%s\n", out ? out : dir, out ? "" : "/report.html");
    return st;
}
