/* test_io.c - round trips and corrupt-input cases for every io format (IDX, NPY, PNG,
 * grid, GIF, safetensors) and the atomic writers. Needs no device; numpy is optional. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/io.h"
#include "testutil.h"

static char dir[1024];

/* dir/name in one of a few rotating static buffers. */
static const char *P(const char *name)
{
    static char bufs[4][1200];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void put_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n)
        fprintf(stderr, "cannot write fixture %s\n", path);
    if (f)
        fclose(f);
}

/* The file's bytes (malloc'd) or NULL; *n its size. */
static uint8_t *get_bytes(const char *path, size_t *n)
{
    uint8_t *b = NULL;
    if (clgan_io_read_file(path, &b, n) != CLGAN_OK)
        fprintf(stderr, "cannot read %s: %s\n", path, clgan_error_msg());
    return b;
}

/* The first occurrence of the n-byte string s in hay[0..len), or NULL. */
static char *find_in(uint8_t *hay, size_t len, const char *s, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, s, n) == 0)
            return (char *)hay + i;
    return NULL;
}

/* 1 when no entry of `d` contains ".tmp.". */
static int no_temp_in(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int clean = 1;
    if (!dp)
        return 0;
    while ((e = readdir(dp)))
        if (strstr(e->d_name, ".tmp.")) {
            fprintf(stderr, "  leftover temp file %s/%s\n", d, e->d_name);
            clean = 0;
        }
    closedir(dp);
    return clean;
}

/* Expects status `want`; prints the message it got. */
static void expect(clgan_status got, clgan_status want, const char *what)
{
    CHECK(got == want);
    if (got != want)
        fprintf(stderr, "  %s: got %s, want %s (%s)\n", what, clgan_status_str(got),
                clgan_status_str(want), clgan_error_msg());
    else
        printf("  %s -> %s: %s\n", what, clgan_status_str(got), clgan_error_msg());
}

static void test_files(void)
{
    const char msg[] = "hello, atomic world";
    uint8_t *b = (uint8_t *)"x";
    size_t n = 99;
    struct stat sb;
    CHECK_OK(clgan_io_write_file(P("a.txt"), msg, sizeof msg));
    b = get_bytes(P("a.txt"), &n);
    CHECK(b && n == sizeof msg && memcmp(b, msg, n) == 0);
    free(b);
    expect(clgan_io_read_file(P("missing"), &b, &n), CLGAN_EIO, "read missing file");
    CHECK(b == NULL && n == 0);
    CHECK_OK(clgan_io_mkdirs(P("x/y/z")));
    CHECK_OK(clgan_io_mkdirs(P("x/y/z/")));
    CHECK(stat(P("x/y/z"), &sb) == 0 && S_ISDIR(sb.st_mode));
    expect(clgan_io_mkdirs(P("a.txt/sub")), CLGAN_EIO, "mkdirs through a file");
    expect(clgan_io_write_file(P("nodir/a.txt"), msg, sizeof msg), CLGAN_EIO,
           "write into missing dir");
    expect(clgan_io_write_file(P("x"), msg, sizeof msg), CLGAN_EIO, "write onto a directory");
    CHECK(no_temp_in(dir));
}

static void test_idx(void)
{
    static uint8_t img[3 * 40 * 50]; /* pseudo-random, so gzip cannot shrink it much */
    clgan_idx t = {img, 3, {3, 40, 50, 0}, sizeof img}, r;
    uint32_t x = 12345;
    uint8_t *raw;
    size_t n;
    for (size_t i = 0; i < sizeof img; i++) {
        x = x * 1664525u + 1013904223u;
        img[i] = (uint8_t)(x >> 24);
    }
    for (int gz = 0; gz < 2; gz++) {
        const char *p = P(gz ? "t.idx.gz" : "t.idx");
        CHECK_OK(clgan_idx_write(p, &t, gz));
        raw = get_bytes(p, &n);
        CHECK(raw && n > 2 && (raw[0] == 0x1f && raw[1] == 0x8b) == gz);
        CHECK(gz || n == 16 + sizeof img);
        CHECK_OK(clgan_idx_read(p, &r));
        CHECK(r.ndim == 3 && r.dims[0] == 3 && r.dims[1] == 40 && r.dims[2] == 50);
        CHECK(r.count == sizeof img && r.data && memcmp(r.data, img, sizeof img) == 0);
        clgan_idx_free(&r);
        clgan_idx_free(&r);
        if (gz) {
            put_bytes(P("trunc.idx.gz"), raw, n / 2);
            expect(clgan_idx_read(P("trunc.idx.gz"), &r), CLGAN_EFORMAT, "truncated gzip");
            CHECK(r.data == NULL && r.count == 0);
            raw[n - 6] ^= 0xff; /* CRC-32 trailer */
            put_bytes(P("crc.idx.gz"), raw, n);
            expect(clgan_idx_read(P("crc.idx.gz"), &r), CLGAN_EFORMAT, "gzip bad CRC");
            CHECK(r.data == NULL);
        } else {
            put_bytes(P("short.idx"), raw, n - 10);
            expect(clgan_idx_read(P("short.idx"), &r), CLGAN_EFORMAT, "truncated IDX");
            CHECK(r.data == NULL && r.count == 0 && r.ndim == 0);
            raw = realloc(raw, n + 1);
            raw[n] = 0x42;
            put_bytes(P("long.idx"), raw, n + 1);
            expect(clgan_idx_read(P("long.idx"), &r), CLGAN_EFORMAT, "IDX trailing garbage");
            CHECK(r.data == NULL);
            raw[0] = 0x12;
            put_bytes(P("magic.idx"), raw, n);
            expect(clgan_idx_read(P("magic.idx"), &r), CLGAN_EFORMAT, "bad IDX magic");
            CHECK(r.data == NULL);
            raw[0] = 0;
            raw[2] = 0x0d;
            put_bytes(P("type.idx"), raw, n);
            expect(clgan_idx_read(P("type.idx"), &r), CLGAN_EFORMAT, "IDX float type");
            raw[2] = 0x08;
            raw[3] = 5;
            put_bytes(P("ndim.idx"), raw, n);
            expect(clgan_idx_read(P("ndim.idx"), &r), CLGAN_EFORMAT, "IDX 5 dims");
            put_bytes(P("empty.idx"), raw, 0);
            expect(clgan_idx_read(P("empty.idx"), &r), CLGAN_EFORMAT, "empty IDX");
        }
        free(raw);
    }
    expect(clgan_idx_read(P("missing.idx"), &r), CLGAN_EIO, "missing IDX");
    CHECK(r.data == NULL);
    expect(clgan_idx_write(P("nodir/t.idx"), &t, 1), CLGAN_EIO, "IDX into missing dir");
    expect(clgan_idx_write(P("x"), &t, 0), CLGAN_EIO, "IDX onto a directory");
    CHECK(no_temp_in(dir));
}

/* Runs numpy on `path` and checks dtype, shape and values i*0.25-1. 1 passed, 0 failed,
 * -1 skipped. */
static int numpy_check(const char *path, const char *shape, int have_numpy)
{
    char cmd[2048];
    if (!have_numpy)
        return -1;
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy,sys; a=numpy.load(sys.argv[1]); "
             "w=(numpy.arange(a.size,dtype=numpy.float32)*0.25-1).reshape(%s); "
             "sys.exit(0 if a.dtype==numpy.float32 and a.shape==%s and (a==w).all() else 1)\" "
             "'%s'", shape, shape, path);
    return system(cmd) == 0;
}

static void test_npy(void)
{
    int have_numpy = system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0;
    float v[12], *r = (float *)v;
    size_t s1[1] = {5}, s2[2] = {3, 4}, shape[4], n;
    uint8_t *raw;
    char *at;
    int nd;
    for (int i = 0; i < 12; i++)
        v[i] = (float)i * 0.25f - 1.0f;
    if (!have_numpy)
        printf("  NOTE: /usr/bin/python3 cannot import numpy; skipping numpy.load checks\n");
    CHECK_OK(clgan_npy_write_f32(P("v.npy"), v, 1, s1));
    raw = get_bytes(P("v.npy"), &n);
    CHECK(raw && n == 128 + 20 && raw[127] == '\n' && raw[8] == 128 - 10 && raw[9] == 0);
    CHECK(raw && find_in(raw, 128, "'shape': (5,), }", 16) != NULL);
    free(raw);
    CHECK_OK(clgan_npy_read_f32(P("v.npy"), &r, &nd, shape));
    CHECK(nd == 1 && shape[0] == 5);
    if (r)
        tu_close("npy 1-D", r, v, 5, 0, 0);
    free(r);
    CHECK(numpy_check(P("v.npy"), "(5,)", have_numpy) != 0);
    CHECK_OK(clgan_npy_write_f32(P("m.npy"), v, 2, s2));
    CHECK_OK(clgan_npy_read_f32(P("m.npy"), &r, &nd, shape));
    CHECK(nd == 2 && shape[0] == 3 && shape[1] == 4);
    if (r)
        tu_close("npy 2-D", r, v, 12, 0, 0);
    free(r);
    CHECK(numpy_check(P("m.npy"), "(3, 4)", have_numpy) != 0);
    if (have_numpy) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import numpy; numpy.save('%s', "
                 "(numpy.arange(12,dtype=numpy.float32)*0.25-1).reshape(2,3,2))\"",
                 P("np.npy"));
        CHECK(system(cmd) == 0);
        CHECK_OK(clgan_npy_read_f32(P("np.npy"), &r, &nd, shape));
        CHECK(nd == 3 && shape[0] == 2 && shape[1] == 3 && shape[2] == 2);
        if (r)
            tu_close("npy from numpy", r, v, 12, 0, 0);
        free(r);
    }
    raw = get_bytes(P("m.npy"), &n);
    at = raw ? find_in(raw, 64, "<f4", 3) : NULL;
    CHECK(at != NULL);
    if (at) {
        put_bytes(P("short.npy"), raw, n - 4);
        expect(clgan_npy_read_f32(P("short.npy"), &r, &nd, shape), CLGAN_EFORMAT,
               "truncated NPY");
        CHECK(r == NULL && nd == 0 && shape[0] == 0);
        at[2] = '8';
        put_bytes(P("f8.npy"), raw, n);
        expect(clgan_npy_read_f32(P("f8.npy"), &r, &nd, shape), CLGAN_EFORMAT, "NPY '<f8'");
        CHECK(r == NULL && nd == 0);
        at[2] = '4';
        at = find_in(raw, 64, "False", 5);
        memcpy(at, "True ", 5);
        put_bytes(P("fortran.npy"), raw, n);
        expect(clgan_npy_read_f32(P("fortran.npy"), &r, &nd, shape), CLGAN_EFORMAT,
               "NPY Fortran order");
        raw[0] = 'X';
        put_bytes(P("magic.npy"), raw, n);
        expect(clgan_npy_read_f32(P("magic.npy"), &r, &nd, shape), CLGAN_EFORMAT,
               "NPY bad magic");
        CHECK(r == NULL);
    }
    free(raw);
    expect(clgan_npy_read_f32(P("missing.npy"), &r, &nd, shape), CLGAN_EIO, "missing NPY");
    expect(clgan_npy_write_f32(P("nodir/v.npy"), v, 1, s1), CLGAN_EIO, "NPY into missing dir");
    expect(clgan_npy_write_f32(P("x"), v, 1, s1), CLGAN_EIO, "NPY onto a directory");
    CHECK(no_temp_in(dir));
}

static void test_png(void)
{
    uint8_t pix[7 * 5], *r = NULL, *mem = NULL, *file;
    size_t n, fn;
    int w, h;
    for (int i = 0; i < 35; i++)
        pix[i] = (uint8_t)(i * 37);
    CHECK_OK(clgan_png_write_gray(P("a.png"), pix, 7, 5));
    CHECK_OK(clgan_png_read_gray(P("a.png"), &r, &w, &h));
    CHECK(r && w == 7 && h == 5 && memcmp(r, pix, sizeof pix) == 0);
    free(r);
    CHECK_OK(clgan_png_encode_gray(&mem, &n, pix, 7, 5));
    file = get_bytes(P("a.png"), &fn);
    CHECK(mem && n > 8 && memcmp(mem, "\x89PNG\r\n\x1a\n", 8) == 0);
    CHECK(mem && file && n == fn && memcmp(mem, file, n) == 0);
    free(mem);
    free(file);
    put_bytes(P("bad.png"), "not a png at all", 16);
    expect(clgan_png_read_gray(P("bad.png"), &r, &w, &h), CLGAN_EFORMAT, "PNG not a PNG");
    CHECK(r == NULL && w == 0 && h == 0);
    expect(clgan_png_read_gray(P("missing.png"), &r, &w, &h), CLGAN_EIO, "missing PNG");
    expect(clgan_png_write_gray(P("nodir/a.png"), pix, 7, 5), CLGAN_EIO,
           "PNG into missing dir");
    expect(clgan_png_encode_gray(&mem, &n, pix, 0, 5), CLGAN_EINVAL, "PNG zero width");
    CHECK(mem == NULL && n == 0);
    CHECK(no_temp_in(dir));
}

/* A PNG whose header claims 65535 x 65535 pixels in 100 bytes: refused from the header
 * (the gray reader used to allocate 4 GiB first; tests/fuzz/fuzz_png.c found it). */
static void test_png_limit(void)
{
    static const uint8_t head[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0x08, 0x00, 0x00, 0x00,
        0x00, 0x93, 0x6e, 0x86, 0x8c, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9c, 0x63, 0x60, 0xa0, 0x3d, 0x00, 0x00, 0x00, 0x64, 0x00, 0x01, 0x86, 0x64, 0x3c,
        0x35, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    uint8_t *pix = NULL;
    int w, h;
    put_bytes(P("huge.png"), head, sizeof head);
    expect(clgan_png_read_gray(P("huge.png"), &pix, &w, &h), CLGAN_EFORMAT, "PNG header of 65535x65535");
    CHECK(strstr(clgan_error_msg(), "more than the limit") != NULL && pix == NULL);
}

static void test_grid(void)
{
    /* Three 2x3 tiles in a 2x2 grid with a 1-pixel gap: 7 x 5 pixels, tile 3 missing. */
    float imgs[18] = {-1, 0, 1, 2, -3, NAN, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    static const uint8_t want[5][7] = {
        {0, 128, 255, 0, 255, 255, 255},
        {255, 0, 0, 0, 255, 255, 255},
        {0, 0, 0, 0, 0, 0, 0},
        {128, 128, 128, 0, 0, 0, 0},
        {128, 128, 128, 0, 0, 0, 0},
    };
    uint8_t *pix = NULL;
    int w, h;
    CHECK_OK(clgan_grid_make(&pix, &w, &h, imgs, 3, 2, 3, 2, 2, 1, -1.0f, 1.0f));
    CHECK(pix && w == 7 && h == 5);
    for (int y = 0; pix && y < 5; y++)
        for (int x = 0; x < 7; x++)
            if (pix[y * 7 + x] != want[y][x]) {
                CHECK(pix[y * 7 + x] == want[y][x]);
                fprintf(stderr, "  grid (%d,%d): got %d want %d\n", x, y, pix[y * 7 + x],
                        want[y][x]);
            }
    free(pix);
    CHECK_OK(clgan_grid_make(&pix, &w, &h, imgs, 3, 2, 3, 1, 1, 0, -1.0f, 1.0f));
    CHECK(pix && w == 3 && h == 2 && pix[1] == 128);
    free(pix);
    expect(clgan_grid_make(&pix, &w, &h, imgs, 3, 2, 3, 2, 2, 1, 1.0f, 1.0f), CLGAN_EINVAL,
           "grid empty range");
    CHECK(pix == NULL);
}

static void test_gif(void)
{
    uint8_t frame[16 * 8];
    clgan_gif *g = NULL;
    int frames, w, h;
    CHECK_OK(clgan_gif_open(&g, P("a.gif"), 16, 8, 10));
    for (int f = 0; g && f < 3; f++) {
        for (int i = 0; i < 16 * 8; i++)
            frame[i] = (uint8_t)(i * 2 + f * 50);
        CHECK_OK(clgan_gif_add(g, frame));
    }
    if (g)
        CHECK_OK(clgan_gif_close(g));
    CHECK_OK(clgan_gif_probe(P("a.gif"), &frames, &w, &h));
    CHECK(frames == 3 && w == 16 && h == 8);
    CHECK_OK(clgan_gif_open(&g, P("b.gif"), 4, 4, 5));
    clgan_gif_abort(g);
    clgan_gif_abort(NULL);
    expect(clgan_gif_probe(P("b.gif"), &frames, &w, &h), CLGAN_EIO, "aborted GIF is absent");
    expect(clgan_gif_probe(P("a.png"), &frames, &w, &h), CLGAN_EFORMAT, "GIF probe on a PNG");
    CHECK(frames == 0 && w == 0 && h == 0);
    expect(clgan_gif_open(&g, P("nodir/a.gif"), 16, 8, 10), CLGAN_EIO, "GIF into missing dir");
    CHECK(g == NULL);
    CHECK_OK(clgan_gif_open(&g, P("x"), 4, 4, 5));
    if (g)
        expect(clgan_gif_close(g), CLGAN_EIO, "GIF onto a directory");
    CHECK(no_temp_in(dir));
}

/* Writes a hand-made safetensors file: u64 header length, json + `pad` spaces, data. */
static void put_st(const char *path, const char *json, size_t pad, const void *data,
                   size_t n)
{
    size_t jl = strlen(json), hl = jl + pad;
    uint8_t *b = malloc(8 + hl + n);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((unsigned long long)hl >> (8 * i));
    memcpy(b + 8, json, jl);
    memset(b + 8 + jl, ' ', pad);
    if (n)
        memcpy(b + 8 + hl, data, n);
    put_bytes(path, b, 8 + hl + n);
    free(b);
}

/* put_st with one tensor "a": {"dtype": dtype, "shape": shape, "data_offsets": offs}. */
static void put_st1(const char *name, const char *dtype, const char *shape, const char *offs,
                    size_t pad, const void *data, size_t n)
{
    char json[256];
    snprintf(json, sizeof json, "{\"a\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":%s}}",
             dtype, shape, offs);
    put_st(P(name), json, pad, data, n);
}

/* 1 when metadata `key` is present and equal to `want`. */
static int meta_is(const clgan_tensor_set *s, const char *key, const char *want)
{
    const char *v = clgan_safetensors_meta(s, key);
    return v && strcmp(v, want) == 0;
}

static void expect_st_fail(const char *name, const char *what, clgan_status want)
{
    clgan_tensor_set s;
    expect(clgan_safetensors_read(P(name), &s), want, what);
    CHECK(s.t == NULL && s.n == 0 && s.blob == NULL && s.meta == NULL);
}

static void test_safetensors(void)
{
    float w[6] = {1, -2, 3.5f, 4, 5, 6}, b[4] = {0.5f, 0.25f, -8, 1e-3f}, step = 42;
    clgan_tensor_view t[3] = {
        {"g.w", 2, {2, 3}, w}, {"d.b", 1, {4}, b}, {"step", 0, {0}, &step}};
    const char *meta[] = {"arch", "dcgan", "epoch", "7", NULL};
    const clgan_tensor_view *v;
    clgan_tensor_set s;
    uint8_t *raw;
    size_t n, hl = 0;
    CHECK_OK(clgan_safetensors_write(P("m.safetensors"), t, 3, meta));
    raw = get_bytes(P("m.safetensors"), &n);
    for (int i = 7; raw && i >= 0; i--)
        hl = hl << 8 | raw[i];
    CHECK(raw && hl % 8 == 0 && n == 8 + hl + 4 * 11);
    free(raw);
    CHECK_OK(clgan_safetensors_read(P("m.safetensors"), &s));
    CHECK(s.n == 3);
    v = clgan_safetensors_find(&s, "g.w");
    CHECK(v && v->ndim == 2 && v->shape[0] == 2 && v->shape[1] == 3);
    if (v)
        tu_close("safetensors g.w", v->data, w, 6, 0, 0);
    v = clgan_safetensors_find(&s, "d.b");
    CHECK(v && v->ndim == 1 && v->shape[0] == 4);
    if (v)
        tu_close("safetensors d.b", v->data, b, 4, 0, 0);
    v = clgan_safetensors_find(&s, "step");
    CHECK(v && v->ndim == 0 && v->data[0] == 42.0f);
    CHECK(clgan_safetensors_find(&s, "nope") == NULL);
    CHECK(meta_is(&s, "arch", "dcgan") && meta_is(&s, "epoch", "7"));
    CHECK(clgan_safetensors_meta(&s, "nope") == NULL);
    clgan_safetensors_free(&s);
    clgan_safetensors_free(&s);

    /* A header whose length leaves the data 1 byte past 4-alignment is realigned. */
    put_st1("odd.safetensors", "F32", "[2]", "[0,8]", 4, w, 8);
    CHECK_OK(clgan_safetensors_read(P("odd.safetensors"), &s));
    v = clgan_safetensors_find(&s, "a");
    CHECK(v && ((uintptr_t)v->data % 4) == 0 && v->data[0] == 1 && v->data[1] == -2);
    CHECK(clgan_safetensors_meta(&s, "arch") == NULL);
    clgan_safetensors_free(&s);

    put_st(P("len.safetensors"), "{}", 0, w, 8);
    raw = get_bytes(P("len.safetensors"), &n);
    if (raw) {
        raw[0] = 200;
        put_bytes(P("len.safetensors"), raw, n);
    }
    free(raw);
    expect_st_fail("len.safetensors", "header length past end", CLGAN_EFORMAT);
    put_bytes(P("tiny.safetensors"), "\x02\0\0", 3);
    expect_st_fail("tiny.safetensors", "3-byte safetensors", CLGAN_EFORMAT);
    put_st(P("json.safetensors"), "{\"a\":{\"dtype\":\"F32\",", 4, w, 8);
    expect_st_fail("json.safetensors", "bad JSON", CLGAN_EFORMAT);
    put_st1("range.safetensors", "F32", "[2]", "[0,800]", 0, w, 8);
    expect_st_fail("range.safetensors", "offsets out of range", CLGAN_EFORMAT);
    put_st1("shape.safetensors", "F32", "[3]", "[0,8]", 0, w, 8);
    expect_st_fail("shape.safetensors", "wrong length for shape", CLGAN_EFORMAT);
    put_st1("f16.safetensors", "F16", "[4]", "[0,8]", 0, w, 8);
    expect_st_fail("f16.safetensors", "dtype F16", CLGAN_EFORMAT);
    put_st(P("overlap.safetensors"),
           "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, w, 16);
    expect_st_fail("overlap.safetensors", "overlapping tensors", CLGAN_EFORMAT);
    put_st1("neg.safetensors", "F32", "[-2]", "[0,8]", 0, w, 8);
    expect_st_fail("neg.safetensors", "negative dim", CLGAN_EFORMAT);
    put_st(P("meta.safetensors"), "{\"__metadata__\":{\"k\":3}}", 0, w, 0);
    expect_st_fail("meta.safetensors", "non-string metadata", CLGAN_EFORMAT);
    expect_st_fail("missing.safetensors", "missing safetensors", CLGAN_EIO);
    expect(clgan_safetensors_write(P("nodir/m.safetensors"), t, 3, meta), CLGAN_EIO,
           "safetensors into missing dir");
    t[1] = t[0];
    expect(clgan_safetensors_write(P("dup.safetensors"), t, 3, NULL), CLGAN_EINVAL,
           "duplicate tensor names");
    CHECK(no_temp_in(dir));
}

/* Every reader refuses a FIFO, a device and a directory at once, naming what it is: a
 * FIFO used to block the open (or the read) forever, /dev/zero to feed the INI and gzip
 * readers endlessly. alarm() turns a hang into a failure. */
static void test_special_files(void)
{
    const char *fifo = P("fifo"), *kinds[3] = {fifo, "/dev/zero", dir};
    const char *words[3] = {"FIFO", "character device", "directory"};
    uint8_t *b = NULL;
    size_t n = 0, shape[4];
    float *f = NULL;
    int nd, w, h;
    clgan_idx idx;
    clgan_tensor_set set;
    CHECK(mkfifo(fifo, 0600) == 0);
    alarm(60);
    for (int k = 0; k < 3; k++) {
        char what[96];
        snprintf(what, sizeof what, "read_file of a %s", words[k]);
        expect(clgan_io_read_file(kinds[k], &b, &n), CLGAN_EIO, what);
        CHECK(strstr(clgan_error_msg(), words[k]) != NULL);
        snprintf(what, sizeof what, "idx_read of a %s", words[k]);
        expect(clgan_idx_read(kinds[k], &idx), CLGAN_EIO, what);
        CHECK(strstr(clgan_error_msg(), words[k]) != NULL);
        snprintf(what, sizeof what, "npy_read of a %s", words[k]);
        expect(clgan_npy_read_f32(kinds[k], &f, &nd, shape), CLGAN_EIO, what);
        snprintf(what, sizeof what, "safetensors_read of a %s", words[k]);
        expect(clgan_safetensors_read(kinds[k], &set), CLGAN_EIO, what);
        snprintf(what, sizeof what, "png_read of a %s", words[k]);
        expect(clgan_png_read_gray(kinds[k], &b, &w, &h), CLGAN_EIO, what);
        CHECK(strstr(clgan_error_msg(), words[k]) != NULL);
    }
    alarm(0);
    /* Missing and unreadable files say which. */
    expect(clgan_io_read_file(P("nothing"), &b, &n), CLGAN_EIO, "read a missing file");
    CHECK(strstr(clgan_error_msg(), "no such file") != NULL);
    expect(clgan_idx_read(P("nothing"), &idx), CLGAN_EIO, "idx_read a missing file");
    CHECK(strstr(clgan_error_msg(), "no such file") != NULL);
    put_bytes(P("secret"), "x", 1);
    chmod(P("secret"), 0);
    if (geteuid() == 0) {
        printf("  unreadable file: skipped (root reads any file)\n");
    } else {
        expect(clgan_idx_read(P("secret"), &idx), CLGAN_EIO, "idx_read an unreadable file");
        CHECK(strstr(clgan_error_msg(), "permission denied") != NULL);
    }
    CHECK(clgan_io_exists(fifo) && clgan_io_exists(P("secret")) && !clgan_io_exists(P("nothing")));
    remove(P("secret"));
    remove(fifo);
}

/* Collects INI entries as "section|key|value;" into a string. */
static clgan_status ini_collect(void *user, const char *section, const char *key, const char *value)
{
    char *out = user;
    if (!strcmp(key, "refuse"))
        return clgan_error(CLGAN_EINVAL, "refused %s", value);
    snprintf(out + strlen(out), 8192 - strlen(out), "%s|%s|%.20s;", section, key, value);
    return CLGAN_OK;
}

static void test_ini(void)
{
    static char got[8192], text[8192];
    const char ok[] = "\xEF\xBB\xBF; comment\n# another\n\n[ train ]\nlr = 0.1 ; inline\nk: v\r\n"
                      "path = a;b\n[model]\nempty =\nsemi = ;x ;y\n";
    const char *want = "train|lr|0.1;train|k|v;train|path|a;b;model|empty|;model|semi|;x;";
    got[0] = '\0';
    CHECK_OK(clgan_ini_parse(ok, sizeof ok - 1, "ok.ini", ini_collect, got));
    CHECK(!strcmp(got, want));
    if (strcmp(got, want))
        fprintf(stderr, "  got %s\n", got);
    /* A 5000-byte line (inih cut lines at 200 bytes). */
    int n = snprintf(text, sizeof text, "[t]\ndata = /");
    memset(text + n, 'x', 5000);
    strcpy(text + n + 5000, "\nseed = 3\n");
    got[0] = '\0';
    CHECK_OK(clgan_ini_parse(text, strlen(text), "long.ini", ini_collect, got));
    CHECK(strstr(got, "t|data|/xxx") && strstr(got, "t|seed|3;"));
    const struct { const char *text; size_t len; const char *want; } bad[] = {
        {"[t]\nout = x\n  seed = 7\n", 0, "in.ini:3: an indented line"},
        {"[t]\nbatch = 1\0junk\n", 19, "in.ini:2: a NUL byte at column 10"},
        {"[t]\njust words\n", 0, "in.ini:2: not valid INI syntax"},
        {"[t\n", 0, "in.ini:1: a section header without ']'"},
        {"[t] x\n", 0, "in.ini:1: text after the section header"},
        {"[t]\n= 3\n", 0, "in.ini:2: a value without a key"},
        {"[t]\n\nrefuse = me\n", 0, "in.ini:3: refused me"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        clgan_status st = clgan_ini_parse(bad[i].text, len, "in.ini", ini_collect, got);
        CHECK(st != CLGAN_OK && strstr(clgan_error_msg(), bad[i].want));
        printf("  INI case %zu -> %s: %s\n", i, clgan_status_str(st), clgan_error_msg());
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s", tu_tmpdir("test_io"));
    test_special_files();
    test_ini();
    test_files();
    test_idx();
    test_npy();
    test_png();
    test_png_limit();
    test_grid();
    test_gif();
    test_safetensors();
    return tu_finish("test_io");
}
