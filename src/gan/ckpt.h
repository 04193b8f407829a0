/* ckpt.h - private to src/gan: a checkpoint being assembled (named float32 tensors that
 * it owns, and string metadata) and the typed look-ups that read one back. The trainer
 * (trainer.c) and the run (resume.c) each put their part; resume.c writes the file. */
#ifndef CLGAN_GAN_CKPT_H
#define CLGAN_GAN_CKPT_H

#include <stddef.h>

#include "clgan/gan.h"
#include "clgan/io.h"

struct clgan_ckpt {
    clgan_tensor_view *t; /* data owned (malloc'd) */
    int n, cap;
    char **kv;            /* {key, value, ..., NULL}, each owned */
    int nkv, capkv;
};

/* Adds a tensor that takes ownership of `data` (malloc'd; freed here on error too). */
clgan_status clgan_ckpt_take(clgan_ckpt *k, const char *name, float *data, int ndim,
                             const size_t *shape);
/* Adds a copy of `data`. */
clgan_status clgan_ckpt_put(clgan_ckpt *k, const char *name, const float *data, int ndim,
                            const size_t *shape);
/* Adds a metadata string (printf-style). */
clgan_status clgan_ckpt_meta(clgan_ckpt *k, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes it as safetensors (atomically) and fsyncs the directory, so the new name
 * survives a crash. */
clgan_status clgan_ckpt_write(const clgan_ckpt *k, const char *path);
void clgan_ckpt_free(clgan_ckpt *k);

/* The tensor `name` of exactly this shape, or NULL with an EFORMAT message naming the
 * file `path`, the tensor, what it is and what was expected. */
const float *clgan_ckpt_get(const clgan_tensor_set *s, const char *path, const char *name,
                            int ndim, const size_t *shape);
/* A metadata integer; EFORMAT naming file and key when missing or not an integer. */
clgan_status clgan_ckpt_long(const clgan_tensor_set *s, const char *path, const char *key,
                             long *v);
/* A comma-separated list of integers into out[0..max); *n how many. EFORMAT as above. */
clgan_status clgan_ckpt_longs(const clgan_tensor_set *s, const char *path, const char *key,
                              long *out, long max, long *n);

#endif
