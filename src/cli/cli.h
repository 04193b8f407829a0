/* cli.h - the subcommands of the clgan binary; each returns a status and leaves the
 * message in clgan_error_msg(); only main() prints it and decides the exit code. */
#ifndef CLGAN_CLI_H
#define CLGAN_CLI_H

#include <stdio.h>

#include "clgan/status.h"

clgan_status cmd_train(int argc, char **argv);
clgan_status cmd_sample(int argc, char **argv);
clgan_status cmd_devices(int argc, char **argv);
clgan_status cmd_bench(int argc, char **argv);
clgan_status cmd_classifier(int argc, char **argv);
clgan_status cmd_diagnose(int argc, char **argv);
clgan_status cmd_report(int argc, char **argv);
clgan_status cmd_help(int argc, char **argv);
clgan_status cmd_version(int argc, char **argv);

typedef struct {
    const char *name;
    clgan_status (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* The command table (main.c), and one command by name (NULL when none). */
const cli_command *cli_commands(int *n);
const cli_command *cli_find_command(const char *name);
/* The command list `clgan --help` prints. */
void cli_usage(FILE *f);

/* A subcommand's own flags (the training settings have their table in gan/config.c):
 * `--name value` or `--name=value`; a string flag stores a borrowed pointer into argv,
 * an integer flag is checked against [lo, hi], a switch (`on` set) takes no value and
 * stores 1. One entry may have name NULL: the positional argument (a string). */
typedef struct {
    const char *name;
    const char **str; /* string flag (or the positional argument): where to store it */
    long *num;        /* integer flag: where to store it */
    long lo, hi;
    int *on;          /* switch: where to store 1 */
} cli_option;

/* Parses argv against `opts`; --help/-h prints `usage` and sets *help. Unknown flags
 * (with the nearest valid ones), missing values, out-of-range integers and unexpected
 * arguments are EINVAL with a one-line message. */
clgan_status cli_parse(int argc, char **argv, const cli_option *opts, int n, const char *usage,
                       int *help);

/* Small flag helpers for subcommands that are not driven by the settings table. */
/* Returns the value of `--name V` / `--name=V` at argv[*i] (advancing *i), or NULL when
 * argv[*i] is not that flag. Sets *err when the value is missing. */
const char *cli_flag(int argc, char **argv, int *i, const char *name, int *err);
/* Parses a positive integer in [lo, hi] for `flag`; EINVAL with a message otherwise. */
clgan_status cli_int(long *out, const char *flag, const char *v, long lo, long hi);

#endif
