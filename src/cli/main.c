/* main.c - the clgan binary: dispatches to a subcommand, prints the one-line error and
 * decides the exit code (0 ok, 2 bad input, 1 other failures). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "cli.h"

typedef struct {
    const char *name;
    clgan_status (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train, "train a GAN (defaults: the Keras-GAN MNIST MLP GAN)"},
    {"sample", cmd_sample, "draw samples from a saved generator"},
    {"devices", cmd_devices, "list every OpenCL device of every platform"},
    {"bench", cmd_bench, "measure training speed per device (it/s, images/s, GFLOP/s)"},
    {"train-classifier", cmd_classifier, "train the classifier that scores samples (MNIST, fashion)"},
    {"diagnose", cmd_diagnose, "name what went wrong in a run, with evidence and remedies"},
    {"report", cmd_report, "write RUN_DIR/report.html: settings, verdict, charts, samples (one file)"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: clgan <command> [flags]   (clgan <command> --help for its flags)\n\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
}

const char *cli_flag(int argc, char **argv, int *i, const char *name, int *err)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
        return NULL;
    if (a[2 + n] == '=')
        return a + 3 + n;
    if (a[2 + n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *err = 1;
        return NULL;
    }
    return argv[++*i];
}

clgan_status cli_int(long *out, const char *flag, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi)
        return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not an integer in [%ld, %ld]", flag, v, lo, hi);
    *out = x;
    return CLGAN_OK;
}

clgan_status cli_parse(int argc, char **argv, const cli_option *opts, int n, const char *usage,
                       int *help)
{
    *help = 0;
    for (int i = 0; i < argc; i++) {
        int err = 0, k = 0;
        const char *v = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            *help = 1;
            return CLGAN_OK;
        }
        for (; k < n && !(v = cli_flag(argc, argv, &i, opts[k].name, &err)) && !err; k++)
            ;
        if (err)
            return clgan_error(CLGAN_EINVAL, "%s needs a value", argv[i]);
        if (k == n)
            return clgan_error(CLGAN_EINVAL, "unknown flag %s (see --help)", argv[i]);
        if (opts[k].str) {
            *opts[k].str = v;
        } else {
            clgan_status st = cli_int(opts[k].num, opts[k].name, v, opts[k].lo, opts[k].hi);
            if (st != CLGAN_OK)
                return st;
        }
    }
    return CLGAN_OK;
}

/* Ctrl-C / SIGTERM in any command: remove the temp file being written (if any), then
 * end by the signal. `train` installs its own handler once it runs. */
static void on_signal(int sig)
{
    clgan_io_remove_temps(); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            clgan_status st = commands[i].run(argc - 2, argv + 2);
            if (st != CLGAN_OK)
                fprintf(stderr, "clgan %s: %s\n", argv[1], clgan_error_msg());
            return clgan_status_exit_code(st);
        }
    fprintf(stderr, "clgan: unknown command '%s' (commands:", argv[1]);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, "; see clgan --help)\n");
    return 2;
}
