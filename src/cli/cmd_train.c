/* cmd_train.c - `clgan train`: settings from flags and --config, then the run driver.
 * Ctrl-C stops the run cleanly with every output written. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "cli.h"

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    clgan_run_opts o = {.progress = isatty(STDERR_FILENO), .stop = &stop_requested};
    return clgan_run_train(&c, &o);
}
