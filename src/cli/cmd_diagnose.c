/* cmd_diagnose.c - `clgan diagnose RUN_DIR [--json]`: re-reads a finished or interrupted
 * run and prints what the detectors find (the same as the live warnings and the summary
 * at the end of training). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "cli.h"

clgan_status cmd_diagnose(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: clgan diagnose RUN_DIR [--json]\n"
                   "Names what went wrong in a training run (also an interrupted one): exploding,\n"
                   "dead or vanishing gradients, training imbalance, mode collapse (each as events:\n"
                   "onset, end, recovered or not), equilibrium; with the evidence and the flags to\n"
                   "try. The same records and detectors as the live run. --json prints\n"
                   "diagnoses.json's form.\n");
            return CLGAN_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' || dir) {
            return clgan_error(CLGAN_EINVAL, "unexpected argument '%s' (see --help)", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return clgan_error(CLGAN_EINVAL, "which run? usage: clgan diagnose RUN_DIR");
    clgan_run_data *r;
    clgan_config c;
    char path[1200];
    clgan_status st;
    clgan_config_defaults(&c);
    snprintf(path, sizeof path, "%s/config.ini", dir);
    if ((st = clgan_config_load_ini(&c, path)) != CLGAN_OK ||
        (st = clgan_run_data_load(&r, dir, c.loss)) != CLGAN_OK)
        return st;
    const clgan_diag_input *in = clgan_run_data_input(r);
    clgan_diagnosis d[CLGAN_DIAG_MAX];
    int n = clgan_diagnose(in, d);
    if (json) {
        char *text = clgan_diagnoses_json(d, n, in->n);
        if (!text) {
            clgan_run_data_free(r);
            return clgan_error(CLGAN_ENOMEM, "out of memory");
        }
        printf("%s\n", text);
        free(text);
    } else {
        clgan_diagnoses_print(stdout, d, n, in->n);
    }
    clgan_run_data_free(r);
    return CLGAN_OK;
}
