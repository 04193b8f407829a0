/* atomic.h - private to src/io: the temp-file-then-rename protocol every io writer uses
 * (PATH.tmp.<pid>, fsync, rename; the temp is removed on any failure). Not public API. */
#ifndef CLGAN_IO_ATOMIC_H
#define CLGAN_IO_ATOMIC_H

#include <stdio.h>

#include "clgan/status.h"

/* The formats clgan writes are little-endian and the writers copy float bytes as they
 * lie in memory, so a big-endian host is refused at build time rather than at run time. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "clgan io assumes a little-endian host"
#endif

/* A writer's open temp file and where it will land. */
typedef struct {
    FILE *f;    /* open on tmp; owned */
    char *tmp;  /* PATH.tmp.<pid>; owned */
    char *path; /* final name; owned */
} clgan_atomic_file;

/* Registers / forgets a temp file that clgan_io_remove_temps must remove if a signal
 * ends the process while it is being written (at most 8 at a time; more go
 * unregistered). Every writer below does this; a writer that makes its own temp name
 * must too. */
void clgan_atomic_track(const char *tmp);
void clgan_atomic_untrack(const char *tmp);

/* "PATH.tmp.<pid>", malloc'd (caller frees); NULL when out of memory. */
char *clgan_atomic_tmpname(const char *path);

/* Opens a temp file for `path`. On error (EIO, ENOMEM) *a is zeroed and nothing is left
 * on disk. */
clgan_status clgan_atomic_begin(clgan_atomic_file *a, const char *path);

/* Flushes, fsyncs and closes the temp file, then renames it onto the final path. Checks
 * the stream's error flag, so callers may fwrite without checking each call. Always
 * releases *a; on error (EIO) the temp file is removed. */
clgan_status clgan_atomic_commit(clgan_atomic_file *a);

/* Closes and removes the temp file and releases *a. Safe on a zeroed struct and twice. */
void clgan_atomic_abort(clgan_atomic_file *a);

/* For writers whose library opens the file by name (zlib, giflib): fsyncs the finished
 * file `tmp` and renames it onto `path`. On error (EIO) `tmp` is removed. */
clgan_status clgan_atomic_publish(const char *tmp, const char *path);

#endif
