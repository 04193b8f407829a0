/* cmd_train.c - `clgan train`: settings from flags and --config, then the run driver.
 * Ctrl-C (or SIGTERM) stops the run cleanly with every output written; the process
 * then ends by that signal (exit status 130 / 143 in a shell), so a script can tell
 * an interrupted run from a finished one. A second one ends it at once. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "cli.h"

static volatile sig_atomic_t stop_requested; /* the signal that asked to stop, or 0 */

static void on_signal(int sig) { stop_requested = sig; }

clgan_status cmd_train(int argc, char **argv)
{
    clgan_config c;
    int help;
    clgan_config_defaults(&c);
    clgan_status st = clgan_config_parse_args(&c, argc, argv, &help);
    if (st != CLGAN_OK)
        return st;
    if (help) {
        printf("usage: clgan train [--config FILE] [flags]\n"
               "Trains a GAN; the defaults reproduce Keras-GAN's gan/gan.py MLP GAN on MNIST.\n\n");
        clgan_config_print_help(stdout);
        return CLGAN_OK;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    /* A second Ctrl-C aborts at once (files land atomically); system calls interrupted
     * by the first one restart instead of failing with EINTR. */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    clgan_run_opts o = {.progress = isatty(STDERR_FILENO), .stop = &stop_requested};
    st = clgan_run_train(&c, &o);
    if (st == CLGAN_OK && stop_requested) {
        int sig = stop_requested;
        fflush(NULL);
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return st;
}
