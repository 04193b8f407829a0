/* rundir.c - one run per run directory: the lock (flock on DIR/.clgan.lock, which names
 * its holder), the check that refuses a directory holding another run unless it is
 * resumed or overwritten, and the removal of an old run's files for --overwrite. */
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"

/* What a run writes at the top of its directory (fnmatch patterns), and in its two
 * subdirectories. Anything else is not clgan's and is never removed. */
static const char *const run_files[] = {
    "config.ini", "*.npy", "metrics.jsonl", "metrics.jsonl.partial", "eval.jsonl",
    "eval.jsonl.partial", "diagnoses.json", "tensors.json", "generator.safetensors",
    "training.gif", "report.html", "losses.png", "losses_log1p.png", "*.tmp.[0-9]*", NULL};
static const struct {
    const char *dir, *pattern;
} run_subdirs[] = {{"images", "[0-9]*.png"}, {"checkpoints", "ckpt-[0-9]*.safetensors"}};

static int is_run_file(const char *name)
{
    for (int i = 0; run_files[i]; i++)
        if (!fnmatch(run_files[i], name, 0))
            return 1;
    return 0;
}

/* The holder's line in the lock file (pid, host, start), or "another process". */
static void holder(const char *path, char *out, size_t n)
{
    uint8_t *b = NULL;
    size_t len;
    snprintf(out, n, "another process");
    if (clgan_io_read_file(path, &b, &len) == CLGAN_OK && len > 0) {
        len = strcspn((char *)b, "\n");
        snprintf(out, n, "%.*s", (int)(len < 300 ? len : 300), (char *)b);
    }
    clgan_error_clear();
    free(b);
}

static clgan_status in_use(const char *dir, const char *path)
{
    char who[320];
    holder(path, who, sizeof who);
    return clgan_error(CLGAN_EINVAL, "%s is in use by another clgan run (%s): wait for it to end, "
                       "or choose another --out", dir, who);
}

clgan_status clgan_rundir_check(const char *dir, clgan_rundir_mode mode, int locked)
{
    char lock[1100], first[3][64];
    struct stat sb;
    int n = 0, runlike = 0, foreign = 0;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT && mode != CLGAN_RUNDIR_RESUME)
            return CLGAN_OK;
        return clgan_error(CLGAN_EINVAL, "%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return clgan_error(CLGAN_EINVAL, "%s exists and is not a directory", dir);
    snprintf(lock, sizeof lock, "%s/" CLGAN_RUNDIR_LOCK, dir);
    int fd = locked ? -1 : open(lock, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) { /* a shared probe: fails only while a run holds it exclusively */
        int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        close(fd);
        if (busy)
            return in_use(dir, lock);
    }
    if (mode == CLGAN_RUNDIR_RESUME)
        return CLGAN_OK;
    DIR *dp = opendir(dir);
    if (!dp)
        return clgan_error(CLGAN_EINVAL, "%s: cannot list it: %s", dir, strerror(errno));
    for (struct dirent *e; (e = readdir(dp));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, CLGAN_RUNDIR_LOCK))
            continue;
        int known = is_run_file(e->d_name) || !strcmp(e->d_name, "images") ||
                    !strcmp(e->d_name, "checkpoints");
        runlike |= !strcmp(e->d_name, "config.ini") || !strcmp(e->d_name, "checkpoints") ||
                   !strncmp(e->d_name, "metrics.jsonl", 13);
        foreign += !known;
        if (n < 3)
            snprintf(first[n], sizeof first[n], "%.60s", e->d_name);
        n++;
    }
    closedir(dp);
    if (n == 0)
        return CLGAN_OK;
    char list[220];
    snprintf(list, sizeof list, "%s%s%s%s%s%s", first[0], n > 1 ? ", " : "", n > 1 ? first[1] : "",
             n > 2 ? ", " : "", n > 2 ? first[2] : "", n > 3 ? ", ..." : "");
    if (mode == CLGAN_RUNDIR_OVERWRITE && !runlike)
        return clgan_error(CLGAN_EINVAL, "%s is not a clgan run directory (%s): --overwrite removes "
                           "only a run's files; choose another --out", dir, list);
    if (mode == CLGAN_RUNDIR_OVERWRITE)
        return CLGAN_OK;
    if (runlike)
        return clgan_error(CLGAN_EINVAL, "%s already holds a run (%s): continue it with 'clgan "
                           "train --resume %s', replace it with --overwrite, or choose another --out",
                           dir, list, dir);
    (void)foreign;
    return clgan_error(CLGAN_EINVAL, "%s is not empty (%d entr%s: %s): choose an empty or new "
                       "directory for --out", dir, n, n == 1 ? "y" : "ies", list);
}

clgan_status clgan_rundir_lock_take(clgan_rundir_lock *l, const char *dir)
{
    clgan_status st;
    l->fd = -1;
    snprintf(l->path, sizeof l->path, "%s/" CLGAN_RUNDIR_LOCK, dir);
    if ((st = clgan_io_mkdirs(dir)) != CLGAN_OK)
        return st;
    for (int attempt = 0; attempt < 10; attempt++) {
        struct stat a, b;
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            return clgan_error(CLGAN_EIO, "%s: cannot create the run's lock: %s", l->path,
                               strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            if (err == EWOULDBLOCK)
                return in_use(dir, l->path);
            return clgan_error(CLGAN_EIO, "%s: cannot lock: %s", l->path, strerror(err));
        }
        /* The holder before us may have removed the file between our open and our lock:
         * then we hold a lock on a name nobody sees, and try again. */
        if (fstat(fd, &a) != 0 || stat(l->path, &b) != 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
            close(fd);
            continue;
        }
        char line[400], host[128] = "?", when[64];
        time_t now = time(NULL);
        struct tm tm;
        gethostname(host, sizeof host - 1);
        localtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        int len = snprintf(line, sizeof line, "pid %ld on %s, started %s\n", (long)getpid(), host, when);
        if (ftruncate(fd, 0) != 0 || write(fd, line, (size_t)len) != len) {
            int err = errno;
            close(fd);
            return clgan_error(CLGAN_EIO, "%s: cannot write the run's lock: %s", l->path,
                               strerror(err));
        }
        l->fd = fd;
        return CLGAN_OK;
    }
    return clgan_error(CLGAN_EIO, "%s: the run's lock keeps changing hands", l->path);
}

void clgan_rundir_lock_release(clgan_rundir_lock *l)
{
    if (l->fd < 0)
        return;
    unlink(l->path); /* while still holding it: a waiter re-checks the name (above) */
    close(l->fd);
    l->fd = -1;
}

/* Removes the entries of `dir` that are a run's (top: is_run_file; a subdirectory: its
 * pattern, or a stale temp file) and returns how many others it kept, naming the first
 * into `kept`. The run's subdirectories are not counted at the top. */
static int clear_in(const char *dir, const char *pattern, char *kept, size_t n, clgan_status *st)
{
    char path[1400];
    int others = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    for (struct dirent *e; (e = readdir(dp));) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, CLGAN_RUNDIR_LOCK))
            continue;
        int sub = 0;
        for (size_t i = 0; !pattern && i < sizeof run_subdirs / sizeof run_subdirs[0]; i++)
            sub |= !strcmp(name, run_subdirs[i].dir);
        if (sub)
            continue;
        int ours = pattern ? !fnmatch(pattern, name, 0) || !fnmatch("*.tmp.[0-9]*", name, 0)
                           : is_run_file(name);
        if (!ours) {
            if (!others++ && kept[0] == '\0')
                snprintf(kept, n, "%.200s/%.200s", dir, name);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (unlink(path) != 0 && errno != ENOENT && *st == CLGAN_OK)
            *st = clgan_error(CLGAN_EIO, "%s: cannot remove the old run's file: %s", path,
                              strerror(errno));
    }
    closedir(dp);
    return others;
}

clgan_status clgan_rundir_clear(const char *dir, FILE *log)
{
    clgan_status st = CLGAN_OK;
    char kept[420] = "", sub[1100];
    int others = 0;
    for (size_t i = 0; i < sizeof run_subdirs / sizeof run_subdirs[0]; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, run_subdirs[i].dir);
        int k = clear_in(sub, run_subdirs[i].pattern, kept, sizeof kept, &st);
        if (k == 0)
            rmdir(sub);
        others += k;
    }
    others += clear_in(dir, NULL, kept, sizeof kept, &st);
    if (log && others)
        fprintf(log, "clgan: --overwrite kept %d entr%s clgan did not write (%s%s)\n", others,
                others == 1 ? "y" : "ies", kept, others > 1 ? ", ..." : "");
    return st;
}

clgan_status clgan_run_check_dir(const char *dir, int resume, int overwrite)
{
    return clgan_rundir_check(dir, resume ? CLGAN_RUNDIR_RESUME
                                   : overwrite ? CLGAN_RUNDIR_OVERWRITE : CLGAN_RUNDIR_NEW, 0);
}
