/* frechet.c - the Frechet distance between two Gaussians fitted to feature sets, in
 * double precision: means and covariances, PSD matrix square roots from LAPACKE_dsyevd.
 * Host code only; no OpenCL. Matrix products are plain loops (d is ~100-500). */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"

clgan_status clgan_mean_cov(double *mu, double *cov, const float *x, int n, int d)
{
    if (n < 2 || d < 1)
        return clgan_error(CLGAN_EINVAL, "mean/covariance needs n >= 2 and d >= 1 (got %d, %d)", n, d);
    double *c = malloc((size_t)n * d * sizeof *c);
    if (!c)
        return clgan_error(CLGAN_ENOMEM, "out of memory for a (%d, %d) covariance", n, d);
    memset(mu, 0, (size_t)d * sizeof *mu);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            mu[j] += x[(size_t)i * d + j];
    for (int j = 0; j < d; j++)
        mu[j] /= n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            c[(size_t)i * d + j] = x[(size_t)i * d + j] - mu[j];
    /* cov = c^T c / (n - 1): upper triangle, mirrored. */
    memset(cov, 0, (size_t)d * d * sizeof *cov);
    for (int i = 0; i < n; i++) {
        const double *r = c + (size_t)i * d;
        for (int a = 0; a < d; a++) {
            double ra = r[a];
            if (ra == 0.0)
                continue;
            double *row = cov + (size_t)a * d;
            for (int b = a; b < d; b++)
                row[b] += ra * r[b];
        }
    }
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++)
            cov[(size_t)b * d + a] = cov[(size_t)a * d + b] /= (n - 1);
    free(c);
    return CLGAN_OK;
}

/* c (d, d) = a (d, d) * b (d, d), row-major. */
static void matmul(double *c, const double *a, const double *b, int d)
{
    memset(c, 0, (size_t)d * d * sizeof *c);
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++) {
            double aik = a[(size_t)i * d + k];
            const double *bk = b + (size_t)k * d;
            double *ci = c + (size_t)i * d;
            for (int j = 0; j < d; j++)
                ci[j] += aik * bk[j];
        }
}

/* Eigenvalues w (d) of symmetric a (d, d), and eigenvectors into a's columns when
 * vectors (row-major: column j of a = eigenvector j). */
static clgan_status eig_sym(double *a, double *w, int d, int vectors)
{
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, vectors ? 'V' : 'N', 'U', d, a, d, w);
    if (info != 0)
        return clgan_error(CLGAN_ENUMERIC, "LAPACKE_dsyevd failed (info %d) on a %dx%d matrix%s",
                           (int)info, d, d, info < 0 ? " (bad argument)" : " (no convergence)");
    return CLGAN_OK;
}

clgan_status clgan_sqrtm_psd(double *out, const double *a, int d)
{
    size_t dd = (size_t)d * d;
    double *v = malloc(dd * sizeof *v), *w = malloc((size_t)d * sizeof *w);
    clgan_status st;
    if (!v || !w) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory for a %dx%d square root", d, d);
        goto done;
    }
    memcpy(v, a, dd * sizeof *v);
    if ((st = eig_sym(v, w, d, 1)) != CLGAN_OK)
        goto done;
    /* out = V diag(sqrt(max(w, 0))) V^T */
    for (int k = 0; k < d; k++)
        w[k] = w[k] > 0 ? sqrt(w[k]) : 0.0;
    memset(out, 0, dd * sizeof *out);
    for (int k = 0; k < d; k++) {
        if (w[k] == 0.0)
            continue;
        for (int i = 0; i < d; i++) {
            double s = w[k] * v[(size_t)i * d + k];
            double *oi = out + (size_t)i * d;
            for (int j = 0; j < d; j++)
                oi[j] += s * v[(size_t)j * d + k];
        }
    }
done:
    free(v);
    free(w);
    return st;
}

clgan_status clgan_frechet_sqrt(double *fd, const double *mu1, const double *cov1,
                                const double *cov1_sqrt, const double *mu2, const double *cov2,
                                int d)
{
    size_t dd = (size_t)d * d;
    double *t = malloc(dd * sizeof *t), *m = malloc(dd * sizeof *m), *w = malloc((size_t)d * sizeof *w);
    clgan_status st;
    if (!t || !m || !w) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory for a %dx%d Frechet distance", d, d);
        goto done;
    }
    /* m = S1^{1/2} S2 S1^{1/2}, symmetrized against rounding. */
    matmul(t, cov1_sqrt, cov2, d);
    matmul(m, t, cov1_sqrt, d);
    for (int i = 0; i < d; i++)
        for (int j = i + 1; j < d; j++)
            m[(size_t)i * d + j] = m[(size_t)j * d + i] =
                0.5 * (m[(size_t)i * d + j] + m[(size_t)j * d + i]);
    if ((st = eig_sym(m, w, d, 0)) != CLGAN_OK)
        goto done;
    double diff = 0, tr = 0, trsqrt = 0;
    for (int i = 0; i < d; i++) {
        diff += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        tr += cov1[(size_t)i * d + i] + cov2[(size_t)i * d + i];
        trsqrt += w[i] > 0 ? sqrt(w[i]) : 0.0;
    }
    *fd = diff + tr - 2.0 * trsqrt;
    if (!isfinite(*fd))
        st = clgan_error(CLGAN_ENUMERIC, "Frechet distance is not finite (NaN/Inf in the features)");
done:
    free(t);
    free(m);
    free(w);
    return st;
}

clgan_status clgan_frechet(double *fd, const double *mu1, const double *cov1, const double *mu2,
                           const double *cov2, int d)
{
    double *s1 = malloc((size_t)d * d * sizeof *s1);
    if (!s1)
        return clgan_error(CLGAN_ENOMEM, "out of memory for a %dx%d square root", d, d);
    clgan_status st = clgan_sqrtm_psd(s1, cov1, d);
    if (st == CLGAN_OK)
        st = clgan_frechet_sqrt(fd, mu1, cov1, s1, mu2, cov2, d);
    free(s1);
    return st;
}
