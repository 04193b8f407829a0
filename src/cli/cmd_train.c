/* cmd_train.c - `clgan train`: settings from flags and --config, then the run driver.
 * Ctrl-C (or SIGTERM) during set-up (kernel build, data loading, allocation) ends the
 * process at once: nothing has been written yet, and a temp file being written is
 * removed. Once the run has started it stops the run cleanly with every output written;
 * the process then ends by that signal (exit status 130 / 143 in a shell), so a script
 * can tell an interrupted run from a finished one. A second one ends it at once (temp
 * files removed; completed files stay). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "cli.h"

static volatile sig_atomic_t stop_requested; /* the signal that asked to stop, or 0 */
static volatile sig_atomic_t running;        /* set by the run once set-up is over */

static void on_signal(int sig)
{
    if (running && !stop_requested) {
        stop_requested = sig;
        return;
    }
    clgan_io_remove_temps(); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

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
    /* System calls interrupted by the first signal restart instead of failing with EINTR. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    clgan_run_opts o = {.progress = isatty(STDERR_FILENO), .stop = &stop_requested,
                        .running = &running};
    st = clgan_run_train(&c, &o);
    if (st == CLGAN_OK && stop_requested) {
        int sig = stop_requested;
        fflush(NULL);
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return st;
}
