/* rundir.h - private to src/gan: a run directory belongs to one run. A lock (flock on
 * DIR/.clgan.lock, naming its holder) keeps a second run out; a directory that already
 * holds a run is refused unless the run is resumed or explicitly overwritten, and an
 * overwrite removes only the files a run writes. */
#ifndef CLGAN_GAN_RUNDIR_H
#define CLGAN_GAN_RUNDIR_H

#include <stdio.h>

#include "clgan/status.h"

#define CLGAN_RUNDIR_LOCK ".clgan.lock"

/* What the new run may do with what is in its directory. */
typedef enum { CLGAN_RUNDIR_NEW = 0, CLGAN_RUNDIR_OVERWRITE, CLGAN_RUNDIR_RESUME } clgan_rundir_mode;

typedef struct {
    int fd;          /* the locked file, or -1 */
    char path[1100]; /* DIR/.clgan.lock */
} clgan_rundir_lock;

/* EINVAL when `dir` is locked by a live run (naming it; not checked when `locked`, i.e.
 * this process holds the lock), or, for a new run, holds anything; for an overwrite,
 * holds files that are not a clgan run's; for a resume, is not a directory. A missing
 * directory is fine for a new run. Called before set-up, and again once locked. */
clgan_status clgan_rundir_check(const char *dir, clgan_rundir_mode mode, int locked);

/* Creates `dir` if needed and takes its lock, writing who holds it (pid, host, start
 * time). EINVAL naming the holder when another run has it. */
clgan_status clgan_rundir_lock_take(clgan_rundir_lock *l, const char *dir);
/* Removes the lock file and releases it. Safe on a lock never taken (fd -1) and twice. */
void clgan_rundir_lock_release(clgan_rundir_lock *l);

/* For --overwrite, with the lock held: removes the old run's files (its records, arrays,
 * grids, GIF, checkpoints, report, stale temp files) and says on `log` (may be NULL)
 * which files it kept because clgan did not write them. */
clgan_status clgan_rundir_clear(const char *dir, FILE *log);

#endif
