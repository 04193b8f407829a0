/* cmd_diagnose.c - `clgan diagnose RUN_DIR [--json]`: re-reads a finished or interrupted
 * run and prints what the detectors find (the same as the live warnings and the summary
 * at the end of training). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "cli.h"

static const char usage_text[] =
    "usage: clgan diagnose RUN_DIR [--json]\n"
    "Names what went wrong in a training run (also an interrupted one): exploding,\n"
    "dead or vanishing gradients, training imbalance, mode collapse (each as events:\n"
    "onset, end, recovered or not), equilibrium; with the evidence and the flags to\n"
    "try. The same records and detectors as the live run. --json prints\n"
    "diagnoses.json's form.\n";

/* EINVAL unless `dir` is a directory holding a run's config.ini and its records. */
static clgan_status check_run_dir(const char *dir)
{
    static const char *const records[] = {"metrics.jsonl", "metrics.jsonl.partial",
                                          "discriminator_loss.npy"};
    char path[1200];
    struct stat sb;
    int found = 0;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return clgan_error(CLGAN_EIO, "%s is not a directory (clgan diagnose RUN_DIR: a directory "
                           "clgan train wrote)", dir);
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, records[i]);
        found |= access(path, F_OK) == 0;
    }
    snprintf(path, sizeof path, "%s/config.ini", dir);
    if (access(path, F_OK) != 0 || !found)
        return clgan_error(CLGAN_EINVAL, "%s is not a clgan run directory: it has no %s (clgan "
                           "train writes config.ini and metrics.jsonl into its --out directory)",
                           dir, found ? "config.ini" : "metrics.jsonl or loss arrays");
    return CLGAN_OK;
}

clgan_status cmd_diagnose(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0, help;
    const cli_option opts[] = {{"json", NULL, NULL, 0, 0, &json}, {NULL, &dir, NULL, 0, 0, NULL}};
    clgan_status st = cli_parse(argc, argv, opts, 2, usage_text, &help);
    if (st != CLGAN_OK || help)
        return st;
    if (!dir)
        return clgan_error(CLGAN_EINVAL, "which run? usage: clgan diagnose RUN_DIR");
    clgan_run_data *r;
    clgan_config c;
    char path[1200];
    clgan_config_defaults(&c);
    snprintf(path, sizeof path, "%s/config.ini", dir);
    if ((st = check_run_dir(dir)) != CLGAN_OK || (st = clgan_config_load_ini(&c, path)) != CLGAN_OK ||
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
