/* test_diag_eval.c - the evaluation classifier and the evaluator on the CPU device:
 * softmax cross-entropy against central differences and a double host reference; the
 * Frechet distance against closed forms; the shipped MNIST classifier's held-out
 * accuracy recomputed; the evaluator on real vs collapsed digit sets; bad classifier
 * files; and a tiny `clgan train-classifier` run through the binary. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "common/rng.h"
#include "testutil.h"

/* What the shipped classifiers reached (docs/diagnostics.md quotes the same figures). */
#define MNIST_HELDOUT_MIN 0.98
#define MNIST_PATH "samples/classifier/mnist.safetensors"
#define FASHION_PATH "samples/classifier/fashion.safetensors"
#define HOLDOUT 1000

static clgan_ctx *ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- softmax cross-entropy ------------------------------------------------------------ */

/* Runs softmax_xent on host logits z (n, C); returns the loss, fills dz and *acc. */
static double xent(const float *z, const int *y, int n, int C, float *dz, float *acc)
{
    cl_mem bz, by, bd, bm;
    float m[2] = {NAN, NAN};
    CHECK_OK(clgan_buf_alloc(ctx, &bz, (size_t)n * C * 4, "z"));
    CHECK_OK(clgan_buf_alloc(ctx, &by, (size_t)n * 4, "y"));
    CHECK_OK(clgan_buf_alloc(ctx, &bd, (size_t)n * C * 4, "dz"));
    CHECK_OK(clgan_buf_alloc(ctx, &bm, 4 * 4, "metrics"));
    CHECK_OK(clgan_buf_write(ctx, bz, 0, z, (size_t)n * C * 4));
    CHECK_OK(clgan_buf_write(ctx, by, 0, y, (size_t)n * 4));
    CHECK_OK(clgan_softmax_xent(ctx, bd, bm, 1, bz, by, n, C, 0, 1.0f));
    CHECK_OK(clgan_buf_read(ctx, bm, 4, m, sizeof m));
    if (dz)
        CHECK_OK(clgan_buf_read(ctx, bd, 0, dz, (size_t)n * C * 4));
    if (acc)
        *acc = m[1];
    clgan_buf_release(&bz), clgan_buf_release(&by), clgan_buf_release(&bd), clgan_buf_release(&bm);
    return m[0];
}

static void test_xent(void)
{
    enum { N = 70, C = 10 }; /* N > the work-group: rows wrap around */
    float z[N * C], dz[N * C], acc, zp[N * C];
    int y[N];
    double fd[N * C], want = 0, want_acc = 0, num = 0, den = 0;
    clgan_rng rng = {42};
    printf("softmax cross-entropy\n");
    for (int i = 0; i < N * C; i++)
        z[i] = (float)(2.0 * clgan_rng_normal(&rng));
    for (int i = 0; i < N; i++) {
        y[i] = (int)(clgan_rng_next(&rng) % C);
        double m = -INFINITY, s = 0;
        int arg = 0;
        for (int c = 0; c < C; c++)
            if (z[i * C + c] > m) m = z[i * C + c], arg = c;
        for (int c = 0; c < C; c++)
            s += exp(z[i * C + c] - m);
        want += (m + log(s) - z[i * C + y[i]]) / N;
        want_acc += (arg == y[i]) / (double)N;
    }
    double got = xent(z, y, N, C, dz, &acc);
    printf("  loss %.7f (host double %.7f), accuracy %.4f (host %.4f)\n", got, want, acc, want_acc);
    CHECK(fabs(got - want) < 1e-5 * (1 + fabs(want)));
    CHECK(fabs(acc - want_acc) < 1e-6);
    /* central differences of the kernel's own loss, h = 1e-2, on the first FD_N rows (the
     * loss is a mean: its float32 rounding, ~3e-7, over 2h must stay below the 1/n-sized
     * gradient entries) */
    enum { FD_N = 6 };
    float dz6[FD_N * C];
    const float h = 1e-2f;
    xent(z, y, FD_N, C, dz6, NULL);
    memcpy(zp, z, sizeof z);
    for (int i = 0; i < FD_N * C; i++) {
        zp[i] = z[i] + h;
        double lp = xent(zp, y, FD_N, C, NULL, NULL);
        zp[i] = z[i] - h;
        double lm = xent(zp, y, FD_N, C, NULL, NULL);
        zp[i] = z[i];
        fd[i] = (lp - lm) / (2.0 * h);
        num += (dz6[i] - fd[i]) * (dz6[i] - fd[i]);
        den += fd[i] * fd[i];
    }
    num = sqrt(num), den = sqrt(den);
    printf("  gradient vs central differences: |g-fd| %.2e, |fd| %.2e (%d values)\n", num, den,
           FD_N * C);
    CHECK(den > 0 && num <= 2e-3 * den + 1e-5);
    /* gradient rows sum to 0: sum_c (p_c - onehot_c) / N */
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int c = 0; c < C; c++)
            s += dz[i * C + c];
        worst = fmax(worst, fabs(s));
    }
    CHECK(worst < 1e-6);
    /* huge logits stay finite (log-softmax with the max subtracted) */
    for (int i = 0; i < N * C; i++)
        zp[i] = z[i] * 1e4f;
    got = xent(zp, y, N, C, dz, &acc);
    int finite = isfinite(got);
    for (int i = 0; i < N * C; i++)
        finite &= isfinite(dz[i]);
    printf("  logits x1e4: loss %.4g, all finite: %s\n", got, finite ? "yes" : "NO");
    CHECK(finite && got > 0);
}

/* ---- Frechet distance ---------------------------------------------------------------- */

/* q (d, d) = I - 2 v v^T / |v|^2 (an orthogonal reflection). */
static void householder(double *q, int d, clgan_rng *rng)
{
    double v[16], n2 = 0;
    for (int i = 0; i < d; i++) {
        v[i] = clgan_rng_normal(rng);
        n2 += v[i] * v[i];
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            q[i * d + j] = (i == j) - 2 * v[i] * v[j] / n2;
}

/* out = q diag(a) q^T */
static void rotate_diag(double *out, const double *q, const double *a, int d)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++)
                s += q[i * d + k] * a[k] * q[j * d + k];
            out[i * d + j] = s;
        }
}

static void test_frechet(void)
{
    enum { D = 6, N = 400 };
    double mu1[D], mu2[D], a[D], b[D], s1[D * D], s2[D * D], q[D * D], fd, want = 0;
    clgan_rng rng = {7};
    printf("Frechet distance\n");
    for (int i = 0; i < D; i++) {
        mu1[i] = clgan_rng_normal(&rng);
        mu2[i] = clgan_rng_normal(&rng);
        a[i] = 0.1 + 2 * clgan_rng_uniform(&rng);
        b[i] = i == 0 ? 0.0 : 0.1 + 2 * clgan_rng_uniform(&rng); /* one zero eigenvalue */
        want += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]) + (sqrt(a[i]) - sqrt(b[i])) * (sqrt(a[i]) - sqrt(b[i]));
    }
    /* diagonal, then both rotated by one orthogonal Q (commuting: the same closed form) */
    memset(s1, 0, sizeof s1), memset(s2, 0, sizeof s2);
    for (int i = 0; i < D; i++)
        s1[i * D + i] = a[i], s2[i * D + i] = b[i];
    CHECK_OK(clgan_frechet(&fd, mu1, s1, mu2, s2, D));
    printf("  diagonal: %.12f, closed form %.12f\n", fd, want);
    CHECK(fabs(fd - want) < 1e-9 * (1 + want));
    householder(q, D, &rng);
    rotate_diag(s1, q, a, D);
    rotate_diag(s2, q, b, D);
    CHECK_OK(clgan_frechet(&fd, mu1, s1, mu2, s2, D));
    printf("  rotated:  %.12f, closed form %.12f\n", fd, want);
    CHECK(fabs(fd - want) < 1e-8 * (1 + want));
    /* symmetric in its arguments */
    double fd2;
    CHECK_OK(clgan_frechet(&fd2, mu2, s2, mu1, s1, D));
    CHECK(fabs(fd2 - fd) < 1e-8 * (1 + fd));
    /* sample statistics: FD(x, x) ~ 0, and a shifted copy is farther */
    float *x = malloc(sizeof(float) * N * D), *xs = malloc(sizeof(float) * N * D);
    double mx[D], cx[D * D], ms[D], cs[D * D], self, shifted;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            x[i * D + j] = (float)(clgan_rng_normal(&rng) * (1 + j) + (j == 2 ? x[i * D] : 0));
            xs[i * D + j] = x[i * D + j] + (j == 1 ? 0.5f : 0.0f);
        }
    CHECK_OK(clgan_mean_cov(mx, cx, x, N, D));
    CHECK_OK(clgan_mean_cov(ms, cs, xs, N, D));
    CHECK_OK(clgan_frechet(&self, mx, cx, mx, cx, D));
    CHECK_OK(clgan_frechet(&shifted, mx, cx, ms, cs, D));
    printf("  FD(x, x) %.3g, FD(x, x + 0.5 e1) %.6f (want 0.25)\n", self, shifted);
    CHECK(fabs(self) < 1e-8);
    CHECK(fabs(shifted - 0.25) < 1e-8);
    /* mean/cov against a hand-checked case */
    float t[6] = {1, 2, 3, 6, 5, 10}; /* rows (1,2), (3,6), (5,10) */
    double tm[2], tc[4];
    CHECK_OK(clgan_mean_cov(tm, tc, t, 3, 2));
    CHECK(fabs(tm[0] - 3) < 1e-12 && fabs(tm[1] - 6) < 1e-12);
    CHECK(fabs(tc[0] - 4) < 1e-12 && fabs(tc[1] - 8) < 1e-12 && fabs(tc[2] - 8) < 1e-12 &&
          fabs(tc[3] - 16) < 1e-12);
    CHECK(clgan_mean_cov(tm, tc, t, 1, 2) == CLGAN_EINVAL);
    free(x);
    free(xs);
}

/* ---- the shipped classifiers and the evaluator --------------------------------------- */

static cl_mem upload_images(const uint8_t *img, int n, int dim)
{
    float *x = malloc(sizeof(float) * n * dim);
    cl_mem b = NULL;
    for (size_t i = 0; i < (size_t)n * dim; i++)
        x[i] = img[i] / 127.5f - 1.0f;
    CHECK_OK(clgan_buf_alloc(ctx, &b, (size_t)n * dim * 4, "samples"));
    CHECK_OK(clgan_buf_write(ctx, b, 0, x, (size_t)n * dim * 4));
    free(x);
    return b;
}

static void print_result(const char *what, const clgan_eval_result *r)
{
    printf("  %-22s n %4d  modes %2d  KL %.4f  FD %8.3f  diversity %.3f  confidence %.3f  hist",
           what, r->n, r->modes_covered, r->kl, r->frechet, r->diversity, r->confidence);
    for (int c = 0; c < CLGAN_CLASSES; c++)
        printf(" %d", r->histogram[c]);
    printf("\n");
}

static void test_shipped(const clgan_dataset *d)
{
    size_t dim = (size_t)d->h * d->w, first = d->count - HOLDOUT;
    clgan_classifier *c = NULL;
    clgan_labeled held = {d->images + first * dim, d->labels + first, HOLDOUT, d->h, d->w};
    double acc = 0;
    printf("shipped MNIST classifier (%s)\n", MNIST_PATH);
    CHECK_OK(clgan_classifier_load(&c, ctx, MNIST_PATH, 250));
    if (!c)
        return;
    const clgan_classifier_info *in = clgan_classifier_get(c);
    CHECK_OK(clgan_classifier_accuracy(&acc, c, &held));
    printf("  held-out accuracy recomputed %.4f on the last %d digits (metadata %.4f, %ld images; "
           "trained on %ld)\n", acc, HOLDOUT, in->heldout_accuracy, in->heldout_count, in->train_count);
    CHECK(acc >= MNIST_HELDOUT_MIN);
    CHECK(fabs(acc - in->heldout_accuracy) <= 2.0 / HOLDOUT); /* a borderline digit may flip */
    CHECK(in->heldout_count == HOLDOUT && in->train_count == (long)first);
    double fsum = 0;
    for (int k = 0; k < CLGAN_CLASSES; k++)
        fsum += in->class_freq[k];
    CHECK(fabs(fsum - 1) < 1e-4 && in->class_freq[1] > 0.1);
    FILE *f = fopen(MNIST_PATH, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fclose(f);
        printf("  file size %ld bytes\n", size);
        CHECK(size < 2000000);
    }
    clgan_classifier_free(c);
}

static void test_evaluator(const clgan_dataset *d)
{
    size_t dim = (size_t)d->h * d->w, first = d->count - HOLDOUT;
    clgan_eval *e = NULL;
    clgan_eval_result real, copies, ones;
    printf("evaluator\n");
    /* reference: the training part; scored: the held-out digits, never seen by either */
    CHECK_OK(clgan_eval_init(&e, ctx, MNIST_PATH, 1000, d->images, first, (int)dim));
    if (!e)
        return;
    cl_mem held = upload_images(d->images + first * dim, HOLDOUT, (int)dim);
    double t0 = now();
    CHECK_OK(clgan_eval_run(e, held, 1000, &real));
    double t1 = now();
    CHECK_OK(clgan_eval_run(e, held, 1000, &real));
    double t2 = now();
    print_result("real held-out digits", &real);
    printf("  one clgan_eval_run of 1000 samples: %.3f s (first call %.3f s), GEMM %s\n", t2 - t1,
           t1 - t0, clgan_gemm_impl_str(clgan_gemm_get_impl(ctx)));
    for (int impl = CLGAN_GEMM_CLBLAST; impl <= CLGAN_GEMM_NATIVE; impl++) {
        clgan_eval_result r2;
        clgan_gemm_set_impl(ctx, (clgan_gemm_impl)impl);
        CHECK_OK(clgan_eval_run(e, held, 1000, &r2));
        t0 = now();
        CHECK_OK(clgan_eval_run(e, held, 1000, &r2));
        printf("    with the %s GEMM: %.3f s; FD %.3f\n", clgan_gemm_impl_str((clgan_gemm_impl)impl),
               now() - t0, r2.frechet);
        CHECK(r2.modes_covered == 10 && fabs(r2.frechet - real.frechet) < 0.05 * real.frechet + 0.01);
    }
    clgan_gemm_set_impl(ctx, CLGAN_GEMM_AUTO);
    CHECK(real.n == 1000 && real.modes_covered == 10);
    CHECK(real.kl < 0.02);
    CHECK(real.diversity > 0.9 && real.diversity < 1.1);
    CHECK(real.confidence > 0.9);
    /* 500 copies of one real digit (n < n_samples: the padded path) */
    uint8_t *col = malloc(1000 * dim);
    for (int i = 0; i < 500; i++)
        memcpy(col + i * dim, d->images + first * dim, dim);
    cl_mem cp = upload_images(col, 500, (int)dim);
    CHECK_OK(clgan_eval_run(e, cp, 500, &copies));
    print_result("500 copies of one digit", &copies);
    CHECK(copies.modes_covered == 1 && copies.kl > 1.5 && copies.diversity < 0.05);
    CHECK(copies.frechet > 10 * real.frechet);
    /* only the 1s */
    int n1 = 0;
    for (size_t i = 0; i < first && n1 < 1000; i++)
        if (d->labels[i] == 1)
            memcpy(col + (size_t)n1++ * dim, d->images + i * dim, dim);
    cl_mem b1 = upload_images(col, n1, (int)dim);
    CHECK_OK(clgan_eval_run(e, b1, n1, &ones));
    print_result("only the 1s", &ones);
    CHECK(ones.modes_covered == 1 && ones.kl > 1.5 && ones.diversity < 0.8);
    CHECK(ones.frechet > 10 * real.frechet);
    /* bad calls */
    clgan_eval_result r;
    CHECK(clgan_eval_run(e, held, 1001, &r) == CLGAN_EINVAL);
    CHECK(clgan_eval_run(e, held, 1, &r) == CLGAN_EINVAL);
    clgan_eval *bad = NULL;
    CHECK(clgan_eval_init(&bad, ctx, MNIST_PATH, 100, d->images, first, 100) == CLGAN_EINVAL &&
          !bad);
    clgan_buf_release(&b1), clgan_buf_release(&cp), clgan_buf_release(&held);
    free(col);
    clgan_eval_free(e);
    clgan_eval_free(NULL);
}

static void test_fashion(void)
{
    clgan_classifier *c = NULL;
    clgan_idx img = {0}, lab = {0};
    const char *dir = "/usr/share/datasets/fashion-mnist";
    char pi[256], pl[256];
    snprintf(pi, sizeof pi, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(pl, sizeof pl, "%s/t10k-labels-idx1-ubyte.gz", dir);
    if (access(pi, R_OK) != 0 || access(pl, R_OK) != 0) {
        printf("shipped Fashion-MNIST classifier: data set not installed, skipped\n");
        return;
    }
    printf("shipped Fashion-MNIST classifier (%s)\n", FASHION_PATH);
    CHECK_OK(clgan_classifier_load(&c, ctx, FASHION_PATH, 500));
    CHECK_OK(clgan_idx_read(pi, &img));
    CHECK_OK(clgan_idx_read(pl, &lab));
    if (c && img.data && lab.data) {
        clgan_labeled t = {img.data, lab.data, img.dims[0], 28, 28};
        double acc = 0;
        CHECK_OK(clgan_classifier_accuracy(&acc, c, &t));
        printf("  test accuracy recomputed %.4f on %zu images (metadata %.4f)\n", acc, t.count,
               clgan_classifier_get(c)->heldout_accuracy);
        CHECK(fabs(acc - clgan_classifier_get(c)->heldout_accuracy) <= 2e-3);
    }
    clgan_idx_free(&img);
    clgan_idx_free(&lab);
    clgan_classifier_free(c);
}

/* ---- bad classifier files ---------------------------------------------------------- */

static void test_bad_files(void)
{
    const char *tmp = tu_tmpdir("test_diag_eval");
    char path[1200];
    clgan_classifier *c = NULL;
    printf("bad classifier files\n");
    snprintf(path, sizeof path, "%s/missing.safetensors", tmp);
    CHECK(clgan_classifier_load(&c, ctx, path, 8) == CLGAN_EIO && !c);
    printf("  missing: %s\n", clgan_error_msg());
    snprintf(path, sizeof path, "%s/garbage.safetensors", tmp);
    CHECK_OK(clgan_io_write_file(path, "not a safetensors file at all", 29));
    CHECK(clgan_classifier_load(&c, ctx, path, 8) == CLGAN_EFORMAT && !c);
    printf("  garbage: %s\n", clgan_error_msg());
    /* a valid safetensors file of another kind (a generator checkpoint's format) */
    float w[4] = {1, 2, 3, 4};
    clgan_tensor_view tv = {.name = "features.dense0.kernel", .ndim = 2, .shape = {2, 2}, .data = w};
    const char *gen[] = {"format", "clgan-generator-1", NULL};
    snprintf(path, sizeof path, "%s/generator.safetensors", tmp);
    CHECK_OK(clgan_safetensors_write(path, &tv, 1, gen));
    CHECK(clgan_classifier_load(&c, ctx, path, 8) == CLGAN_EFORMAT && !c);
    printf("  wrong format: %s\n", clgan_error_msg());
    /* the right format, a misshapen tensor */
    const char *meta[] = {"format", "clgan-classifier-1", "h", "28", "w", "28", "hidden", "16",
                          "dropout", "0", "heldout_accuracy", "0.5", "heldout_count", "1",
                          "train_count", "1", "class_freq", "0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1",
                          NULL};
    snprintf(path, sizeof path, "%s/misshapen.safetensors", tmp);
    CHECK_OK(clgan_safetensors_write(path, &tv, 1, meta));
    CHECK(clgan_classifier_load(&c, ctx, path, 8) == CLGAN_EFORMAT && !c);
    printf("  misshapen: %s\n", clgan_error_msg());
    /* bad metadata */
    meta[17] = "0.5,0.5";
    CHECK_OK(clgan_safetensors_write(path, &tv, 1, meta));
    CHECK(clgan_classifier_load(&c, ctx, path, 8) == CLGAN_EFORMAT && !c);
    printf("  bad class_freq: %s\n", clgan_error_msg());
    clgan_eval *e = NULL;
    uint8_t img[2 * 784] = {0};
    snprintf(path, sizeof path, "%s/missing.safetensors", tmp);
    CHECK(clgan_eval_init(&e, ctx, path, 10, img, 2, 784) == CLGAN_EIO && !e);
}

/* ---- the command, through the binary --------------------------------------------------- */

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_cli(void)
{
    char exe[PATH_MAX], cmd[4 * PATH_MAX], out[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *tmp = tu_tmpdir("test_diag_eval_cli");
    printf("clgan train-classifier\n");
    if (n <= 0)
        return;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(out, sizeof out, "%s/tiny.safetensors", tmp);
    snprintf(cmd, sizeof cmd, "'%s/clgan' train-classifier --device '%s' --epochs 2 --limit 512 "
             "--holdout 300 --out '%s' > '%s/log' 2>&1", exe, tu_device(), out, tmp);
    int rc = run(cmd);
    printf("  tiny run (2 epochs on 512 digits): exit %d\n", rc);
    CHECK(rc == 0);
    clgan_classifier *c = NULL;
    CHECK_OK(clgan_classifier_load(&c, ctx, out, 64));
    if (c) {
        const clgan_classifier_info *in = clgan_classifier_get(c);
        printf("  its metadata: held-out accuracy %.4f on %ld, trained on %ld (%s)\n",
               in->heldout_accuracy, in->heldout_count, in->train_count, in->data);
        CHECK(in->train_count == 512 && in->heldout_count == 300 && in->features == 128);
        CHECK(in->heldout_accuracy > 0.3);
        clgan_classifier_free(c);
    }
    static const char *const bad[] = {"--data /nonexistent/dir", "--epochs 0", "--limit x",
                                      "--frobnicate 1", "--holdout 10000", "--device nosuchdevice"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "'%s/clgan' train-classifier --epochs 1 --out '%s/bad.st' %s "
                 ">/dev/null 2>'%s/err'", exe, tmp, bad[i], tmp);
        rc = run(cmd);
        char errf[PATH_MAX + 8];
        snprintf(errf, sizeof errf, "%s/err", tmp);
        uint8_t *msg = NULL;
        size_t len = 0, lines = 0;
        if (clgan_io_read_file(errf, &msg, &len) == CLGAN_OK)
            for (size_t k = 0; k < len; k++)
                lines += msg[k] == '\n';
        printf("  %-24s exit %d, %zu line(s): %.*s", bad[i], rc, lines, (int)len, msg ? (char *)msg : "");
        CHECK(rc == 2 && lines == 1);
        free(msg);
    }
}

int main(void)
{
    clgan_dataset d;
    clgan_status st = clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = tu_device()});
    if (st != CLGAN_OK) {
        fprintf(stderr, "test_diag_eval: %s\n", clgan_error_msg());
        return 1;
    }
    test_xent();
    test_frechet();
    test_bad_files();
    CHECK_OK(clgan_dataset_load(&d, ""));
    if (d.labels && d.count > HOLDOUT) {
        test_shipped(&d);
        test_evaluator(&d);
    }
    test_fashion();
    test_cli();
    clgan_dataset_free(&d);
    clgan_ctx_free(ctx);
    return tu_finish("test_diag_eval");
}
