/* main.c - the clgan binary: dispatches to a subcommand, prints the one-line error and
 * decides the exit code (0 ok, 2 bad input, 1 other failures). Also the flag parser the
 * subcommands share (cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/suggest.h"

static const cli_command commands[] = {
    {"train", cmd_train, "train a GAN (defaults: the Keras-GAN MNIST MLP GAN)"},
    {"sample", cmd_sample, "draw samples from a saved generator (grids, .npy, interpolation)"},
    {"devices", cmd_devices, "list every OpenCL device of every platform"},
    {"bench", cmd_bench, "measure training speed per device (it/s, images/s, GFLOP/s)"},
    {"train-classifier", cmd_classifier, "train the classifier that scores samples (MNIST, fashion)"},
    {"diagnose", cmd_diagnose, "name what went wrong in a run, with evidence and remedies"},
    {"report", cmd_report, "write RUN_DIR/report.html: settings, verdict, charts, samples (one file)"},
    {"help", cmd_help, "help on a command or a topic: clgan help TOPIC (clgan help topics)"},
    {"version", cmd_version, "clgan's version and git revision, and the OpenCL and CLBlast it finds"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

const cli_command *cli_commands(int *n)
{
    *n = N_COMMANDS;
    return commands;
}

void cli_usage(FILE *f)
{
    fprintf(f, "usage: clgan <command> [flags]   (clgan <command> --help for its flags)\n\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  clgan --version   clgan help TOPIC   (topics: clgan help topics)\n");
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

/* "unknown flag --x; did you mean --y? (see --help)" over the named options. */
static clgan_status unknown_flag(const char *arg, const cli_option *opts, int n)
{
    char word[64], near[200];
    const char *eq = strchr(arg, '=');
    snprintf(word, sizeof word, "%.*s", (int)(eq ? eq - arg - 2 : (long)strlen(arg + 2)), arg + 2);
    clgan_suggest sg;
    clgan_suggest_init(&sg, word);
    for (int k = 0; k < n; k++)
        if (opts[k].name)
            clgan_suggest_add(&sg, opts[k].name);
    clgan_suggest_text(&sg, "--", near, sizeof near);
    return clgan_error(CLGAN_EINVAL, "unknown flag %s%s (see --help)", arg, near);
}

clgan_status cli_parse(int argc, char **argv, const cli_option *opts, int n, const char *usage,
                       int *help)
{
    const cli_option *pos = NULL;
    int have_pos = 0;
    *help = 0;
    for (int k = 0; k < n; k++)
        if (!opts[k].name)
            pos = &opts[k];
    for (int i = 0; i < argc; i++) {
        int err = 0, k = 0;
        const char *v = NULL, *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            *help = 1;
            return CLGAN_OK;
        }
        if (strncmp(a, "--", 2) != 0) { /* a positional argument */
            if (!pos || have_pos || (a[0] == '-' && a[1]))
                return clgan_error(CLGAN_EINVAL, "unexpected argument '%s' (see --help)", a);
            *pos->str = a;
            have_pos = 1;
            continue;
        }
        for (; k < n; k++) {
            if (!opts[k].name)
                continue;
            if (opts[k].on && !strcmp(a + 2, opts[k].name))
                break;
            if (!opts[k].on && ((v = cli_flag(argc, argv, &i, opts[k].name, &err)) || err))
                break;
        }
        if (err)
            return clgan_error(CLGAN_EINVAL, "%s needs a value", argv[i]);
        if (k == n)
            return unknown_flag(a, opts, n);
        if (opts[k].on) {
            *opts[k].on = 1;
        } else if (opts[k].str) {
            *opts[k].str = v;
        } else {
            clgan_status st = cli_int(opts[k].num, opts[k].name, v, opts[k].lo, opts[k].hi);
            if (st != CLGAN_OK)
                return st;
        }
    }
    return CLGAN_OK;
}

const cli_command *cli_find_command(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "-V"))
        name = "version";
    const cli_command *c = cli_find_command(name);
    if (c) {
        clgan_status st = c->run(argc - 2, argv + 2);
        if (st != CLGAN_OK)
            fprintf(stderr, "clgan %s: %s\n", name, clgan_error_msg());
        return clgan_status_exit_code(st);
    }
    clgan_suggest sg;
    char near[200];
    clgan_suggest_init(&sg, name);
    if (name[0] == '-') {
        clgan_suggest_add(&sg, "--version");
        clgan_suggest_add(&sg, "--help");
    }
    for (int i = 0; i < N_COMMANDS && name[0] != '-'; i++)
        clgan_suggest_add(&sg, commands[i].name);
    clgan_suggest_text(&sg, "", near, sizeof near);
    fprintf(stderr, "clgan: unknown command '%s'%s (commands:", name, near);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, "; see clgan --help)\n");
    return 2;
}
