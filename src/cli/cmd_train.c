/* cmd_train.c - `clgan train`: settings from flags and --config, then the run driver.
 * Ctrl-C (or SIGTERM) during set-up (kernel build, data loading, allocation) ends the
 * process at once: nothing has been written yet, and a temp file being written is
 * removed. Once the run has started it stops the run cleanly with every output written;
 * the process then ends by that signal (exit status 130 / 143 in a shell), so a script
 * can tell an interrupted run from a finished one. A second one ends it at once (temp
 * files removed; completed files stay). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/dist.h"
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

/* --resume RUN: the run's configuration from its newest checkpoint, then the flags, of
 * which only a few may change what the checkpoint says. */
static clgan_status resume_config(clgan_config *c, const char *dir, int argc, char **argv,
                                  int *help)
{
    static const char *const may_change[] = {"iterations", "device", "checkpoint-every",
                                             "keep-checkpoints", "out", NULL};
    char path[1200];
    long it;
    clgan_config base;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--config") || !strncmp(argv[i], "--config=", 9) ||
            !strcmp(argv[i], "--preset") || !strncmp(argv[i], "--preset=", 9))
            return clgan_error(CLGAN_EINVAL, "%s with --resume: a resumed run keeps the settings "
                               "in its checkpoint", argv[i]);
    clgan_status st = clgan_run_check_dir(dir, 1, 0);
    if (st != CLGAN_OK || (st = clgan_checkpoint_latest(dir, path, sizeof path, &it, NULL)) != CLGAN_OK ||
        (st = clgan_checkpoint_config(path, c)) != CLGAN_OK)
        return st;
    base = *c;
    if ((st = clgan_config_parse_args(c, argc, argv, help)) != CLGAN_OK)
        return st;
    const char *flag = clgan_config_diff(&base, c, may_change);
    if (flag)
        return clgan_error(CLGAN_EINVAL, "--%s cannot change when resuming: a resumed run keeps "
                           "the settings in its checkpoint (to train with others, start a new run: "
                           "clgan train --config %s/config.ini --%s ...)", flag, dir, flag);
    if (c->out[0] && strcmp(c->out, dir))
        return clgan_error(CLGAN_EINVAL, "--out %s with --resume %s: a run continues in its own "
                           "directory", c->out, dir);
    snprintf(c->out, sizeof c->out, "%s", dir);
    return CLGAN_OK;
}

clgan_status cmd_train(int argc, char **argv)
{
    clgan_config c;
    int help, n = 0, overwrite = 0, err = 0;
    const char *resume = NULL, *v;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    /* The run-control flags are not settings (config.ini does not keep them). */
    for (int i = 0; i < argc; i++) {
        if ((v = cli_flag(argc, argv, &i, "resume", &err)))
            resume = v;
        else if (!strcmp(argv[i], "--overwrite"))
            overwrite = 1;
        else if (!err)
            rest[n++] = argv[i];
    }
    clgan_config_defaults(&c);
    clgan_status st = err ? clgan_error(CLGAN_EINVAL, "--resume needs a run directory")
                    : resume && overwrite ? clgan_error(CLGAN_EINVAL, "--resume continues a run and "
                                                        "--overwrite replaces it: choose one")
                    : resume ? resume_config(&c, resume, n, rest, &help)
                             : clgan_config_parse_args(&c, n, rest, &help);
    free(rest);
    if (st != CLGAN_OK)
        return st;
    if (help) {
        printf("usage: clgan train [--config FILE] [flags]\n"
               "       clgan train --resume RUN_DIR [--iterations N] [--device D]\n"
               "Trains a GAN; the defaults reproduce Keras-GAN's gan/gan.py MLP GAN on MNIST.\n"
               "  --resume RUN_DIR  continue a run from its newest checkpoint, in its directory\n"
               "  --overwrite       replace the run already in --out (its files are removed once\n"
               "                    this run can start); without it such a directory is refused\n\n");
        clgan_config_print_help(stdout);
        return CLGAN_OK;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    /* System calls interrupted by the first signal restart instead of failing with EINTR. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Under mpirun: this rank joins the job; rank 0 runs (and writes) the run, the others
     * train in step with it (docs/mpi.md). A fatal error on any rank ends the job. */
    clgan_dist *dist = NULL;
    if ((st = clgan_dist_init(&dist, c.mpi_timeout)) != CLGAN_OK)
        return st;
    const int rank = clgan_dist_rank(dist), ranks = clgan_dist_size(dist);
    clgan_run_opts o = {.progress = isatty(STDERR_FILENO) && rank == 0, .stop = &stop_requested,
                        .running = &running, .resume = resume, .overwrite = overwrite,
                        .dist = ranks > 1 ? dist : NULL};
    if (ranks > 1 && resume)
        st = clgan_error(CLGAN_EINVAL, "--resume over %d ranks is not supported yet: resume on "
                         "one rank (clgan train --resume %s)", ranks, resume);
    else if ((st = clgan_run_dist_setup(&c, dist)) == CLGAN_OK)
        st = rank == 0 ? clgan_run_train(&c, &o) : clgan_run_worker(&c, &o);
    if (st != CLGAN_OK && ranks > 1) {
        const char *msg = clgan_error_msg(); /* the collectives' messages name the rank */
        if (strncmp(msg, "rank ", 5) == 0)
            fprintf(stderr, "clgan train: %s\n", msg);
        else
            fprintf(stderr, "clgan train: rank %d of %d: %s\n", rank, ranks, msg);
        fflush(NULL);
        clgan_dist_abort(dist, clgan_status_exit_code(st));
    }
    clgan_dist_free(dist);
    if (st == CLGAN_OK && stop_requested) {
        int sig = stop_requested;
        fflush(NULL);
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return st;
}
