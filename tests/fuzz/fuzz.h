/* fuzz.h - what the libFuzzer harnesses share: the entry point, and the input written to
 * a file (the readers take paths; they are fuzzed through the same open and read as in
 * clgan). Each harness is also built, without libFuzzer, into a replay tool (replay.c)
 * that the ordinary test suite runs over tests/fuzz/<name>/: the seeds and every input
 * that once crashed. */
#ifndef CLGAN_FUZZ_H
#define CLGAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path private to this process for `name` (static buffer, one per call site slot). */
static inline const char *fuzz_path(const char *name)
{
    static char buf[4][512];
    static int k;
    const char *dir = getenv("TMPDIR");
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/clgan-fuzz-%ld-%s", dir && *dir ? dir : "/tmp", (long)getpid(), name);
    return b;
}

/* Writes n bytes to `path` (truncating); 0 on success. */
static inline int fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int bad = n && fwrite(data, 1, n, f) != n;
    return fclose(f) != 0 || bad ? -1 : 0;
}

#endif
