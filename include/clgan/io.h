/* io.h - file formats clgan reads and writes: IDX (MNIST, plain or gzip), NPY,
 * PNG grids out and PNG images of any kind in, fitted to a training size (libpng),
 * animated GIF (giflib), safetensors (cJSON header), and the atomic-write helper every
 * writer uses. Depends on nothing else of clgan's but
 * status.h; touches no OpenCL.
 *
 * Contracts: every reader checks every read, the magic/header, and multiplies sizes
 * with overflow checks before allocating; on error it returns a status with a message
 * naming the file and the problem, and allocates nothing (outputs left NULL/zero).
 * Every writer writes PATH.tmp.<pid>, fsyncs, and renames onto PATH, so a failed or
 * interrupted write never leaves a half-written PATH.
 */
#ifndef CLGAN_IO_H
#define CLGAN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/status.h"

/* ---- atomic files ---------------------------------------------------------- */

/* Writes `n` bytes to `path` atomically (temp file, fsync, rename). */
clgan_status clgan_io_write_file(const char *path, const void *data, size_t n);

/* Reads a whole file. *out is malloc'd (caller frees), *n its size. */
clgan_status clgan_io_read_file(const char *path, uint8_t **out, size_t *n);

/* mkdir -p. */
clgan_status clgan_io_mkdirs(const char *path);

/* ---- IDX (MNIST) ------------------------------------------------------------ */

/* An IDX tensor of unsigned bytes (type code 0x08), e.g. images (N, 28, 28) or
 * labels (N). */
typedef struct {
    uint8_t *data;  /* (dims[0], dims[1], ...) row-major; caller owns, free with _free */
    int ndim;       /* 1..4 */
    uint32_t dims[4];
    size_t count;   /* product of dims */
} clgan_idx;

/* Reads an IDX file; gzip-compressed files (magic 1f 8b) are detected by content,
 * not by name, and read through zlib. Errors: EIO (cannot open), EFORMAT (bad magic,
 * unsupported type, truncated, trailing garbage, corrupt gzip). */
clgan_status clgan_idx_read(const char *path, clgan_idx *out);

/* Writes a ubyte IDX file, gzip-compressed when `gz` is non-zero. */
clgan_status clgan_idx_write(const char *path, const clgan_idx *t, int gz);

/* Frees the data; safe on a zeroed struct and twice. */
void clgan_idx_free(clgan_idx *t);

/* ---- NPY --------------------------------------------------------------------- */

/* Writes a little-endian float32 array of shape `shape[0..ndim)` (ndim 1..4) in NPY
 * format version 1.0, C order, loadable with numpy.load. */
clgan_status clgan_npy_write_f32(const char *path, const float *data, int ndim,
                                 const size_t *shape);

/* Reads a float32 ('<f4'), C-order NPY file (v1/v2). *data malloc'd, caller frees.
 * shape[] gets up to 4 dims. EFORMAT on anything else. */
clgan_status clgan_npy_read_f32(const char *path, float **data, int *ndim, size_t shape[4]);

/* ---- images -------------------------------------------------------------------- */

/* Writes an 8-bit grayscale PNG of w x h pixels, rows top to bottom. */
clgan_status clgan_png_write_gray(const char *path, const uint8_t *pix, int w, int h);

/* Encodes the same into memory (malloc'd, caller frees). */
clgan_status clgan_png_encode_gray(uint8_t **out, size_t *n, const uint8_t *pix, int w, int h);

/* Writes / encodes an 8-bit RGB PNG: pix is h rows of w RGB triples (interleaved). */
clgan_status clgan_png_write_rgb(const char *path, const uint8_t *pix, int w, int h);
clgan_status clgan_png_encode_rgb(uint8_t **out, size_t *n, const uint8_t *pix, int w, int h);

/* Reads an 8-bit grayscale PNG (for tests and tools). *pix malloc'd. */
clgan_status clgan_png_read_gray(const char *path, uint8_t **pix, int *w, int *h);

/* Tiles `n` images of ih x iw floats in [lo, hi] into a rows x cols grid with a
 * `pad`-pixel black border between tiles, mapping lo->0 and hi->255 (clamped).
 * *pix malloc'd (caller frees), *w and *h its size. Images beyond rows*cols are
 * ignored; missing ones stay black. */
clgan_status clgan_grid_make(uint8_t **pix, int *w, int *h, const float *imgs, int n,
                             int ih, int iw, int rows, int cols, int pad, float lo,
                             float hi);

/* The same for images of `ic` channels (1 or 3), NHWC: imgs (n, ih, iw, ic), channels
 * interleaved; the grid is (h, w, ic) interleaved too (gray, or RGB triples). */
clgan_status clgan_grid_make_nhwc(uint8_t **pix, int *w, int *h, const float *imgs, int n,
                                  int ih, int iw, int ic, int rows, int cols, int pad,
                                  float lo, float hi);

/* Pixel rows clgan_image_caption adds under a picture. */
#define CLGAN_CAPTION_H 9

/* Adds a CLGAN_CAPTION_H-row black strip under a w x h picture of c interleaved channels
 * (1 gray, 3 RGB) with `text` in white 5x7 glyphs from its left edge (digits, space and
 * the letters of "iteration"; any other character leaves a blank), cut at the right
 * edge. *pix is replaced by a new picture (the old one freed) and *h grows; on error
 * both are untouched. */
clgan_status clgan_image_caption(uint8_t **pix, int w, int *h, int c, const char *text);

/* Columns `text` takes in a caption, margins included (0 for ""). */
int clgan_caption_width(const char *text);

/* Replaces *pix (w x h pixels of c interleaved channels) by its k-times nearest-neighbour
 * enlargement (k in 1..16; each pixel becomes a k x k block); *w and *h are multiplied.
 * On error nothing changes. */
clgan_status clgan_image_upscale(uint8_t **pix, int *w, int *h, int c, int k);

/* An animated grayscale GIF being written frame by frame (giflib). All frames have
 * the same size. Opaque. */
typedef struct clgan_gif clgan_gif;

/* Starts a GIF at `path` (written to a temp name until _close). delay_cs: frame delay
 * in 1/100 s. The animation loops forever. */
clgan_status clgan_gif_open(clgan_gif **g, const char *path, int w, int h, int delay_cs);
/* The same for RGB frames (clgan_gif_add then takes h rows of w RGB triples). Each frame
 * gets its own 256-colour palette by median cut (giflib's GifQuantizeBuffer). */
clgan_status clgan_gif_open_rgb(clgan_gif **g, const char *path, int w, int h, int delay_cs);
clgan_status clgan_gif_add(clgan_gif *g, const uint8_t *pix);
/* Finishes the file and renames it into place; frees g (also on error). */
clgan_status clgan_gif_close(clgan_gif *g);
/* Abandons a GIF: removes the temp file, frees g. Safe on NULL. */
void clgan_gif_abort(clgan_gif *g);

/* Reads a GIF's frame count and size (tests use it to prove the file decodes). */
clgan_status clgan_gif_probe(const char *path, int *frames, int *w, int *h);

/* ---- safetensors ---------------------------------------------------------------- */

/* One named float32 tensor. */
typedef struct {
    char name[96];
    int ndim;          /* 0..4 */
    size_t shape[4];
    const float *data; /* borrowed when writing; owned by the set when read */
} clgan_tensor_view;

/* A set of tensors read from a .safetensors file (F32 only; other dtypes: EFORMAT). */
typedef struct {
    clgan_tensor_view *t;
    int n;
    uint8_t *blob;     /* file contents; tensors point into it */
    char **meta;       /* "__metadata__" as {key, value, ..., NULL} (the writer's meta_kv
                          layout), or NULL when absent; owned, one allocation */
} clgan_tensor_set;

/* Writes tensors in order, F32 little-endian, with optional string metadata
 * (`meta_kv` = NULL or {key, value, key, value, ..., NULL}). */
clgan_status clgan_safetensors_write(const char *path, const clgan_tensor_view *t, int n,
                                     const char *const *meta_kv);

/* Reads and validates (header length, JSON, offsets inside the file, no overlaps,
 * shape x 4 == byte length). */
clgan_status clgan_safetensors_read(const char *path, clgan_tensor_set *out);

/* Finds a tensor by name; NULL if absent. */
const clgan_tensor_view *clgan_safetensors_find(const clgan_tensor_set *s, const char *name);

/* Looks up a metadata string value; NULL if absent. Borrowed from the set. */
const char *clgan_safetensors_meta(const clgan_tensor_set *s, const char *key);

void clgan_safetensors_free(clgan_tensor_set *s);

/* ---- image data: any PNG in, fitted to a training size (image.c, imagedir.c) ---------- */

/* Pixels a decode may hold (the RGBA decode buffer is 4 bytes each: 256 MiB). */
#define CLGAN_IMAGE_MAX_PIXELS ((size_t)1 << 26)

/* Decodes a PNG of any kind (gray, gray+alpha, RGB, RGBA, palette, 1 to 16 bits) to 8-bit
 * pixels with `channels` 1 (gray) or 3 (RGB triples), rows top to bottom, through libpng's
 * transforms (palette and low bit depths expanded; 16-bit files without gAMA/sRGB taken as
 * sRGB-encoded and reduced to 8 bits, files with them converted to sRGB).
 *   - alpha (an alpha channel or tRNS transparency) is composited over black:
 *     v' = (v * a + 127) / 255 in 8-bit sRGB values, so a transparent pixel is black (-1
 *     once scaled), the colour the sample grids use for nothing;
 *   - gray to RGB replicates the value; RGB to gray is the ITU-R BT.601 luma of the
 *     sRGB values, Y = (299 R + 587 G + 114 B + 500) / 1000 (integer division).
 * The file must be a regular file (a FIFO or device is refused without opening it for a
 * blocking read) of at most `max_pixels` pixels (0: CLGAN_IMAGE_MAX_PIXELS), checked from
 * the header before anything is decoded. *pix malloc'd (h, w, channels), caller frees;
 * *file_channels (may be NULL) gets what the file stores: 1 gray, 2 gray+alpha, 3 RGB, 4
 * RGBA (a palette counts as RGB/RGBA). Errors, with nothing allocated: EIO (cannot open,
 * not a regular file), EFORMAT (empty, not a PNG, corrupt, truncated), ELIMIT (too many
 * pixels), EINVAL (channels not 1 or 3), ENOMEM. */
clgan_status clgan_png_read_image(const char *path, int channels, size_t max_pixels,
                                  uint8_t **pix, int *w, int *h, int *file_channels);

/* Resamples src (sh, sw, c) into dst (dh, dw, c), 8-bit, channels interleaved; `stride`
 * is the distance in bytes between source rows (>= sw * c), so a crop is a pointer and a
 * stride. Each axis independently: equal sizes copy; shrinking averages areas (an output
 * pixel is the mean of the source pixels under its footprint, weighted by the fraction
 * of each one it covers); enlarging interpolates bilinearly between pixel centres
 * (source x = (i + 0.5) * sw / dw - 0.5, clamped to the edge pixels). Results round to
 * nearest (halves up). EINVAL on bad sizes, ENOMEM. */
clgan_status clgan_image_resize(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw,
                                int sh, size_t stride, int c);

/* The crop clgan_image_fit takes: the largest centred region of a sw x sh image with the
 * aspect ratio of dw x dh (its size rounded to whole pixels; an odd margin leaves the
 * extra pixel on the right / bottom). */
void clgan_image_crop_box(int sw, int sh, int dw, int dh, int *x0, int *y0, int *cw, int *ch);

/* Center-crops src (sh, sw, c) to dst's aspect ratio, then resamples it into dst (dh, dw,
 * c) with clgan_image_resize. */
clgan_status clgan_image_fit(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw, int sh,
                             int c);

/* A directory of PNG images read as one uint8 array. */
typedef struct {
    uint8_t *images;    /* (count, h, w, c), channels interleaved; owned */
    size_t count;
    int h, w, c;
    size_t skipped;     /* entries that are not readable PNG images */
    char *skip_log;     /* "path: reason" lines for the first CLGAN_IMAGEDIR_LOGGED of them,
                           or NULL; owned */
    size_t color_files; /* files stored in colour (RGB, RGBA or palette) */
} clgan_imagedir;

#define CLGAN_IMAGEDIR_LOGGED 5

/* Reads every entry of `dir` whose name does not start with '.', in byte order of the
 * names (strcmp: the same on every machine and locale), as clgan_png_read_image with
 * `channels` and `max_pixels`, each fitted (clgan_image_fit) to size x size, or, when size
 * is 0, to the size of the first image read. It does not descend into subdirectories.
 * An entry that cannot be read as a PNG image (another format, empty, truncated, corrupt,
 * too large, a directory, a FIFO, unreadable) is skipped and counted, never fatal.
 * Errors: EIO (dir cannot be listed), EFORMAT (no image could be read: the message gives
 * the count and the first reason), EINVAL, ENOMEM. On error *out is zeroed. */
clgan_status clgan_imagedir_load(clgan_imagedir *out, const char *dir, int size, int channels,
                                 size_t max_pixels);

/* Frees what _load allocated; safe on a zeroed struct and twice. */
void clgan_imagedir_free(clgan_imagedir *d);

#endif
