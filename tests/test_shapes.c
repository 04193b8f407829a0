/* test_shapes.c - the GPU launch shapes give the CPU shapes' results, kernel by kernel,
 * at shapes that take every path: one column (a 1-wide tile), widths that are not a
 * multiple of the tile, and more rows than one column-tile block (partial sums through
 * the scratch and a finishing launch), for the bias-gradient column sums of every
 * activation, BatchNorm's training forward and backward, the GAN losses and the
 * classifier's cross-entropy (several work-groups). One device (CLGAN_TEST_DEVICE), two
 * contexts, one forced to each shape (clgan_ctx_opts.shapes). Every result of both is
 * checked against a double-precision host reference; the largest difference between
 * the two shapes is printed. Tolerances (u = 2^-24, float32's unit roundoff):
 *   - a column or row sum of n float terms g_i, in any order: |err| <= (n + 2) u
 *     sum |g_i| + 1e-6 (the classical bound for recursive summation, plus the
 *     rounding of the terms); a row counted twice or missed exceeds it;
 *   - elementwise results (dz, dout): 1e-6 absolute + 1e-6 relative;
 *   - BatchNorm's normalized outputs and input gradient: 2e-5 absolute + 2e-5 relative
 *     (they divide by a standard deviation computed from such sums; the largest error
 *     seen on PoCL and oclgrind is about 1e-6), running statistics 1e-5.
 * Setup reserves each operation's scratch (as layers and the trainer do) and the test
 * then checks that no operation had to allocate (clgan_scratch_growths == 0).
 * CLGAN_TEST_SMALL=1 (the oclgrind tests) shrinks the largest shapes; they still span
 * several blocks at any work-group limit down to 64. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/diag.h"
#include "clgan/nn.h"
#include "common/rng.h"
#include "nn/layer.h"
#include "testutil.h"

#define U 5.9604644775390625e-8 /* 2^-24 */

static clgan_ctx *ctxs[2]; /* [0] CPU shapes, [1] GPU shapes */
static const char *const shape_name[2] = {"cpu", "gpu"};
static int multi_block_seen;

static cl_mem up(clgan_ctx *ctx, const void *host, size_t bytes)
{
    cl_mem m = NULL;
    CHECK_OK(clgan_buf_alloc(ctx, &m, bytes, "test"));
    if (m && host)
        CHECK_OK(clgan_buf_write(ctx, m, 0, host, bytes));
    return m;
}

static void down(clgan_ctx *ctx, cl_mem m, void *host, size_t bytes)
{
    CHECK_OK(clgan_buf_read(ctx, m, 0, host, bytes));
}

/* Checks got[i] against ref[i] within bound[i]; returns the largest |got - ref| / bound. */
static double within(const char *what, const float *got, const double *ref, const double *bound,
                     size_t n)
{
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= bound[i])) {
            if (bad < 3)
                fprintf(stderr, "  %s[%zu]: got %.9g want %.9g (diff %.3g, bound %.3g)\n", what,
                        i, got[i], ref[i], d, bound[i]);
            bad++;
        }
        if (d / bound[i] > worst || isnan(d))
            worst = isnan(d) ? INFINITY : d / bound[i];
    }
    tu_checks++;
    if (bad) {
        tu_failures++;
        fprintf(stderr, "  %s: %zu of %zu outside their bound\n", what, bad, n);
    }
    return worst;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* f'(x) from the output y, as cl/common.h act_grad_from_output, in double. */
static double dact(double y, int act, double a)
{
    switch (act) {
    case CLGAN_ACT_LEAKYRELU: return y > 0 ? 1 : a;
    case CLGAN_ACT_RELU: return y > 0 ? 1 : 0;
    case CLGAN_ACT_TANH: return 1 - y * y;
    case CLGAN_ACT_SIGMOID: return y * (1 - y);
    case CLGAN_ACT_ELU: return y > 0 ? 1 : y + a;
    default: return 1;
    }
}

static double act_f(double x, int act, double a)
{
    switch (act) {
    case CLGAN_ACT_LEAKYRELU: return x > 0 ? x : a * x;
    case CLGAN_ACT_RELU: return x > 0 ? x : 0;
    case CLGAN_ACT_TANH: return tanh(x);
    case CLGAN_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case CLGAN_ACT_ELU: return x > 0 ? x : a * (exp(x) - 1);
    default: return x;
    }
}

/* dz = dy * act'(y), db (mode 1: +=, 2: =, 0: none) = column sums, in place or not. */
static void test_act_bwd_bias(int rows, int cols, int act, int mode, int in_place)
{
    const size_t n = (size_t)rows * cols;
    const float slope = act == CLGAN_ACT_ELU ? 1.0f : 0.2f;
    float *dy = malloc(n * 4), *y = malloc(n * 4), *dz[2] = {malloc(n * 4), malloc(n * 4)};
    float db0[1024], db[2][1024];
    double *rz = malloc(n * sizeof *rz), *bz = malloc(n * sizeof *bz), rb[1024], bb[1024];
    clgan_rng rng = {(uint64_t)(rows * 131 + cols * 7 + act)};
    for (size_t i = 0; i < n; i++) {
        dy[i] = (float)clgan_rng_normal(&rng);
        y[i] = (float)act_f(clgan_rng_normal(&rng), act, slope);
    }
    for (int j = 0; j < cols; j++) {
        db0[j] = (float)clgan_rng_normal(&rng);
        double s = 0, sa = 0;
        for (int i = 0; i < rows; i++) {
            double g = (double)dy[(size_t)i * cols + j] * dact(y[(size_t)i * cols + j], act, slope);
            s += g;
            sa += fabs(g);
        }
        rb[j] = (mode == 1 ? db0[j] : 0) + s;
        bb[j] = 1e-6 + (rows + 2) * U * (sa + fabs(db0[j]));
    }
    for (size_t i = 0; i < n; i++) {
        rz[i] = (double)dy[i] * dact(y[i], act, slope);
        bz[i] = 1e-6 + 1e-6 * fabs(rz[i]);
    }
    char what[96];
    double worst = 0;
    for (int k = 0; k < 2; k++) {
        clgan_ctx *ctx = ctxs[k];
        cl_mem bdy = up(ctx, dy, n * 4), by = up(ctx, y, n * 4), bdb = up(ctx, db0, cols * 4);
        cl_mem bdz = in_place ? bdy : up(ctx, NULL, n * 4);
        CHECK_OK(clgan_act_bwd_bias(ctx, bdz, mode ? bdb : NULL, bdy, by, rows, cols,
                                    (clgan_act)act, slope, mode == 2));
        down(ctx, bdz, dz[k], n * 4);
        down(ctx, bdb, db[k], cols * 4);
        snprintf(what, sizeof what, "act_bwd_bias %s %dx%d %s dz", clgan_act_str((clgan_act)act),
                 rows, cols, shape_name[k]);
        worst = fmax(worst, within(what, dz[k], rz, bz, n));
        if (mode) {
            snprintf(what, sizeof what, "act_bwd_bias %s %dx%d %s db", clgan_act_str((clgan_act)act),
                     rows, cols, shape_name[k]);
            worst = fmax(worst, within(what, db[k], rb, bb, (size_t)cols));
        } else {
            CHECK(memcmp(db[k], db0, cols * 4) == 0); /* mode 0 leaves db alone */
        }
        if (!in_place)
            clgan_buf_release(&bdz);
        clgan_buf_release(&bdy), clgan_buf_release(&by), clgan_buf_release(&bdb);
    }
    clgan_col_shape s;
    clgan_col_shape_get(ctxs[1], (clgan_kernel_id)(CLGAN_K_act_bwd_bias_cols_none + act), rows,
                        cols, &s);
    multi_block_seen |= s.blocks > 1;
    printf("  act_bwd_bias %-9s %5d x %-4d mode %d%s: gpu tile %d x %zu, %d block(s); "
           "|cpu - gpu| dz %.2g, db %.2g; worst error %.0f%% of its bound\n",
           clgan_act_str((clgan_act)act), rows, cols, mode, in_place ? " in place" : "", s.cw,
           s.local[0] / s.cw, s.blocks, max_diff(dz[0], dz[1], n),
           mode ? max_diff(db[0], db[1], cols) : 0.0, 100 * worst);
    free(dy), free(y), free(dz[0]), free(dz[1]), free(rz), free(bz);
}

/* BatchNorm training forward then backward (mode 1: += into dgamma/dbeta, 2: =). */
static void test_batchnorm(int rows, int cols, int mode)
{
    const size_t n = (size_t)rows * cols;
    const float eps = 1e-3f, mom = 0.8f, corr = 1.001f;
    float *x = malloc(n * 4), *dy = malloc(n * 4), gam[1024], bet[1024], rm0[1024], rv0[1024];
    float *y[2] = {malloc(n * 4), malloc(n * 4)}, *dx[2] = {malloc(n * 4), malloc(n * 4)};
    float cache[2][2048], rm[2][1024], rv[2][1024], dg[2][1024], dbt[2][1024], dg0[1024], db0[1024];
    double *ry = malloc(n * sizeof *ry), *by = malloc(n * sizeof *by), *rdx = malloc(n * sizeof *rdx);
    double rmean[1024], rinv[1024], rrm[1024], rrv[1024], rdg[1024], rdb[1024];
    double bmean[1024], binv[1024], bst[1024], bdg[1024], bdb[1024];
    clgan_rng rng = {(uint64_t)(rows * 17 + cols)};
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(2.0 + 3.0 * clgan_rng_normal(&rng)); /* offset: tests the two passes */
        dy[i] = (float)clgan_rng_normal(&rng);
    }
    for (int j = 0; j < cols; j++) {
        gam[j] = (float)(0.5 + clgan_rng_uniform(&rng));
        bet[j] = (float)clgan_rng_normal(&rng);
        rm0[j] = (float)clgan_rng_normal(&rng);
        rv0[j] = (float)(0.5 + clgan_rng_uniform(&rng));
        dg0[j] = (float)clgan_rng_normal(&rng);
        db0[j] = (float)clgan_rng_normal(&rng);
        double m = 0, v = 0, sa = 0, sdy = 0, sdyx = 0;
        for (int i = 0; i < rows; i++) {
            m += x[(size_t)i * cols + j];
            sa += fabs(x[(size_t)i * cols + j]);
        }
        m /= rows;
        for (int i = 0; i < rows; i++) {
            double d = x[(size_t)i * cols + j] - m;
            v += d * d;
        }
        v /= rows;
        double inv = 1 / sqrt(v + eps);
        rmean[j] = m;
        rinv[j] = inv;
        bmean[j] = 1e-6 + (rows + 2) * U * sa / rows;
        binv[j] = 2e-5 * inv;
        rrm[j] = mom * rm0[j] + (1 - mom) * m;
        rrv[j] = mom * rv0[j] + (1 - mom) * v * rows / (rows - corr);
        bst[j] = 1e-5 * (1 + fabs(rrv[j]) + fabs(rrm[j]));
        for (int i = 0; i < rows; i++) {
            size_t k = (size_t)i * cols + j;
            double xh = (x[k] - m) * inv;
            ry[k] = gam[j] * xh + bet[j];
            by[k] = 2e-5 + 2e-5 * fabs(ry[k]);
            sdy += dy[k];
            sdyx += dy[k] * xh;
        }
        rdg[j] = (mode == 1 ? dg0[j] : 0) + sdyx;
        rdb[j] = (mode == 1 ? db0[j] : 0) + sdy;
        bdg[j] = 2e-5 * (1 + fabs(rdg[j])) + (rows + 2) * U * rows;
        bdb[j] = 1e-6 + (rows + 2) * U * (rows * 4.0 + fabs(db0[j]));
        for (int i = 0; i < rows; i++) {
            size_t k = (size_t)i * cols + j;
            double xh = (x[k] - m) * inv;
            rdx[k] = gam[j] * inv / rows * (rows * (double)dy[k] - sdy - xh * sdyx);
        }
    }
    double *bdx = malloc(n * sizeof *bdx), worst = 0;
    for (size_t i = 0; i < n; i++)
        bdx[i] = 2e-5 + 2e-5 * fabs(rdx[i]);
    char what[96];
    for (int k = 0; k < 2; k++) {
        clgan_ctx *ctx = ctxs[k];
        cl_mem bx = up(ctx, x, n * 4), bdy = up(ctx, dy, n * 4), bg = up(ctx, gam, cols * 4),
               bb = up(ctx, bet, cols * 4), brm = up(ctx, rm0, cols * 4),
               brv = up(ctx, rv0, cols * 4), bc = up(ctx, NULL, 2 * cols * 4),
               byy = up(ctx, NULL, n * 4), bdx2 = up(ctx, NULL, n * 4),
               bdg2 = up(ctx, dg0, cols * 4), bdb2 = up(ctx, db0, cols * 4);
        CHECK_OK(clgan_batchnorm_train_fwd(ctx, byy, bc, brm, brv, bx, bg, bb, rows, cols, eps,
                                           mom, corr));
        CHECK_OK(clgan_batchnorm_train_bwd(ctx, bdx2, bdg2, bdb2, bdy, bx, bc, bg, rows, cols,
                                           mode));
        down(ctx, byy, y[k], n * 4);
        down(ctx, bc, cache[k], 2 * cols * 4);
        down(ctx, brm, rm[k], cols * 4);
        down(ctx, brv, rv[k], cols * 4);
        down(ctx, bdx2, dx[k], n * 4);
        down(ctx, bdg2, dg[k], cols * 4);
        down(ctx, bdb2, dbt[k], cols * 4);
#define BN_CHECK(name, got, ref, bound, cnt)                                                 \
    snprintf(what, sizeof what, "batchnorm %dx%d %s %s", rows, cols, shape_name[k], name);   \
    worst = fmax(worst, within(what, got, ref, bound, cnt))
        BN_CHECK("mean", cache[k], rmean, bmean, (size_t)cols);
        BN_CHECK("1/std", cache[k] + cols, rinv, binv, (size_t)cols);
        BN_CHECK("y", y[k], ry, by, n);
        BN_CHECK("running mean", rm[k], rrm, bst, (size_t)cols);
        BN_CHECK("running variance", rv[k], rrv, bst, (size_t)cols);
        BN_CHECK("dx", dx[k], rdx, bdx, n);
        BN_CHECK("dgamma", dg[k], rdg, bdg, (size_t)cols);
        BN_CHECK("dbeta", dbt[k], rdb, bdb, (size_t)cols);
#undef BN_CHECK
        cl_mem all[] = {bx, bdy, bg, bb, brm, brv, bc, byy, bdx2, bdg2, bdb2};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            clgan_buf_release(&all[i]);
    }
    clgan_col_shape s;
    clgan_col_shape_get(ctxs[1], CLGAN_K_batchnorm_bwd_cols, rows, cols, &s);
    multi_block_seen |= s.blocks > 1;
    printf("  batchnorm %5d x %-4d mode %d: gpu %d block(s); |cpu - gpu| y %.2g, dx %.2g, "
           "dgamma %.2g; worst error %.0f%% of its bound\n", rows, cols, mode, s.blocks,
           max_diff(y[0], y[1], n), max_diff(dx[0], dx[1], n), max_diff(dg[0], dg[1], cols),
           100 * worst);
    free(x), free(dy), free(y[0]), free(y[1]), free(dx[0]), free(dx[1]);
    free(ry), free(by), free(rdx), free(bdx);
}

/* One sample's loss, probability-like output and gradient, in double (cl/loss.cl). */
static void loss_ref(const clgan_loss_args *a, double o, double *l, double *p, double *g)
{
    double t = a->target;
    switch (a->kind) {
    case CLGAN_LOSS_BCE_LOGITS:
        *p = 1 / (1 + exp(-o));
        *l = fmax(o, 0) - o * t + log1p(exp(-fabs(o)));
        *g = *p - t;
        break;
    case CLGAN_LOSS_HINGE:
        *p = o;
        *l = a->role == CLGAN_ROLE_G ? -o : a->role == CLGAN_ROLE_D_REAL ? fmax(0, 1 - o) : fmax(0, 1 + o);
        *g = a->role == CLGAN_ROLE_G ? -1 : a->role == CLGAN_ROLE_D_REAL ? (o < 1 ? -1 : 0) : (o > -1 ? 1 : 0);
        break;
    case CLGAN_LOSS_WASSERSTEIN:
        *p = o;
        *l = a->role == CLGAN_ROLE_D_FAKE ? o : -o;
        *g = a->role == CLGAN_ROLE_D_FAKE ? 1 : -1;
        break;
    default: /* bce on probabilities away from the clip */
        *p = o;
        *l = -(t * log(o) + (1 - t) * log(1 - o));
        *g = (o - t) / (o * (1 - o));
    }
}

static void test_loss(int n, clgan_loss kind, clgan_role role, float target)
{
    clgan_loss_args a = {.kind = kind, .role = role, .target = target, .sign = 1.0f,
                         .clip = 1e-7f, .accumulate = 1, .weight = 0.5f};
    float *o = malloc(n * 4), *dout[2] = {malloc(n * 4), malloc(n * 4)}, met[2][4];
    const float met0[4] = {0.25f, 0.125f, -0.5f, 7.0f};
    double *rd = malloc(n * sizeof *rd), *bd = malloc(n * sizeof *bd), rm[4], bm[4];
    double sl = 0, sla = 0, sp = 0, spa = 0, acc = 0;
    clgan_rng rng = {(uint64_t)n + kind};
    for (int i = 0; i < n; i++) {
        double v = clgan_rng_normal(&rng);
        o[i] = (float)(kind == CLGAN_LOSS_BCE ? 0.05 + 0.9 * clgan_rng_uniform(&rng) : v);
        double l, p, g;
        loss_ref(&a, o[i], &l, &p, &g);
        rd[i] = g / n;
        bd[i] = 1e-6 + 1e-6 * fabs(rd[i]) + 4 * U * fabs(rd[i]) * (kind == CLGAN_LOSS_BCE ? 40 : 1);
        sl += l, sla += fabs(l), sp += p, spa += fabs(p);
        acc += ((o[i] > (kind == CLGAN_LOSS_BCE ? 0.5f : 0.0f)) == (role != CLGAN_ROLE_D_FAKE));
    }
    rm[0] = met0[1] + 0.5 * sl / n, bm[0] = 1e-6 + (n + 4) * U * 0.5 * sla / n;
    rm[1] = met0[2] + 0.5 * acc / n, bm[1] = 1e-6;
    rm[2] = met0[3] + 0.5 * sp / n, bm[2] = 1e-6 + (n + 4) * U * (0.5 * spa / n + met0[3]);
    double worst = 0;
    char what[96];
    for (int k = 0; k < 2; k++) {
        clgan_ctx *ctx = ctxs[k];
        cl_mem bo = up(ctx, o, n * 4), bdo = up(ctx, NULL, n * 4), bm2 = up(ctx, met0, sizeof met0);
        CHECK_OK(clgan_loss_eval(ctx, bdo, bm2, 1, bo, n, &a));
        down(ctx, bdo, dout[k], n * 4);
        down(ctx, bm2, met[k], sizeof met0);
        snprintf(what, sizeof what, "loss %s n=%d %s dout", clgan_loss_str(kind), n, shape_name[k]);
        worst = fmax(worst, within(what, dout[k], rd, bd, (size_t)n));
        snprintf(what, sizeof what, "loss %s n=%d %s metrics", clgan_loss_str(kind), n,
                 shape_name[k]);
        worst = fmax(worst, within(what, met[k] + 1, rm, bm, 3));
        CHECK(met[k][0] == met0[0]); /* the slot before is untouched */
        clgan_buf_release(&bo), clgan_buf_release(&bdo), clgan_buf_release(&bm2);
    }
    int wg = clgan_tunable(ctxs[1], CLGAN_T_LOSS_WG), per = clgan_rows_per_group(ctxs[1], n, wg);
    printf("  loss %-11s n %5d: gpu %d group(s); |cpu - gpu| loss %.2g, accuracy %.2g, dout "
           "%.2g; worst error %.0f%% of its bound\n", clgan_loss_str(kind), n,
           (n + per - 1) / per, fabs(met[0][1] - met[1][1]), fabs(met[0][2] - met[1][2]),
           max_diff(dout[0], dout[1], n), 100 * worst);
    free(o), free(dout[0]), free(dout[1]), free(rd), free(bd);
}

static void test_xent(int n, int C)
{
    float *z = malloc((size_t)n * C * 4), *dz[2] = {malloc((size_t)n * C * 4), malloc((size_t)n * C * 4)};
    int *y = malloc(n * sizeof *y);
    float met[2][2];
    double *rd = malloc((size_t)n * C * sizeof *rd), *bd = malloc((size_t)n * C * sizeof *bd);
    double sl = 0, sla = 0, acc = 0, worst = 0;
    clgan_rng rng = {(uint64_t)n * 3};
    for (int i = 0; i < n; i++) {
        y[i] = (int)(clgan_rng_uniform(&rng) * C) % C;
        double m = -1e300, s = 0;
        int arg = 0;
        for (int c = 0; c < C; c++) {
            z[i * C + c] = (float)(2 * clgan_rng_normal(&rng));
            if (z[i * C + c] > m)
                m = z[i * C + c], arg = c;
        }
        for (int c = 0; c < C; c++)
            s += exp(z[i * C + c] - m);
        double lse = m + log(s);
        for (int c = 0; c < C; c++) {
            rd[i * C + c] = (exp(z[i * C + c] - lse) - (c == y[i])) / n;
            bd[i * C + c] = 1e-6 / n + 1e-5 * fabs(rd[i * C + c]);
        }
        sl += lse - z[i * C + y[i]];
        sla += fabs(lse - z[i * C + y[i]]);
        acc += arg == y[i];
    }
    double rm[2] = {sl / n, acc / n}, bm[2] = {1e-6 + (n + 4) * U * sla / n + 1e-6 * sl / n, 1e-6};
    char what[64];
    for (int k = 0; k < 2; k++) {
        clgan_ctx *ctx = ctxs[k];
        cl_mem bz = up(ctx, z, (size_t)n * C * 4), bdz = up(ctx, NULL, (size_t)n * C * 4),
               by = up(ctx, y, n * sizeof *y), bm2 = up(ctx, NULL, 8);
        CHECK_OK(clgan_softmax_xent(ctx, bdz, bm2, 0, bz, by, n, C, 0, 1.0f));
        down(ctx, bdz, dz[k], (size_t)n * C * 4);
        down(ctx, bm2, met[k], 8);
        snprintf(what, sizeof what, "softmax_xent n=%d %s gradient", n, shape_name[k]);
        worst = fmax(worst, within(what, dz[k], rd, bd, (size_t)n * C));
        snprintf(what, sizeof what, "softmax_xent n=%d %s metrics", n, shape_name[k]);
        worst = fmax(worst, within(what, met[k], rm, bm, 2));
        clgan_buf_release(&bz), clgan_buf_release(&bdz), clgan_buf_release(&by),
            clgan_buf_release(&bm2);
    }
    int wg = clgan_tunable(ctxs[1], CLGAN_T_XENT_WG), per = clgan_rows_per_group(ctxs[1], n, wg);
    printf("  softmax_xent n %5d x %d: gpu %d group(s); |cpu - gpu| loss %.2g, gradient %.2g; "
           "worst error %.0f%% of its bound\n", n, C, (n + per - 1) / per,
           fabs(met[0][0] - met[1][0]), max_diff(dz[0], dz[1], (size_t)n * C), 100 * worst);
    free(z), free(dz[0]), free(dz[1]), free(y), free(rd), free(bd);
}

/* The device's work-group limit reaches the kernels: the reduction work-groups are built
 * no larger than it (tunables.c), and a launch beyond it is refused by name. */
static void test_limits(clgan_ctx *ctx)
{
    const clgan_device_info *d = &clgan_ctx_get(ctx)->dev;
    const char *opts = clgan_build_options(ctx);
    printf("device %s, max work-group %zu: COL_WG %d, LOSS_WG %d, OPT_WG %d, GP_WG %d\n",
           d->name, d->max_wg, clgan_tunable(ctx, CLGAN_T_COL_WG),
           clgan_tunable(ctx, CLGAN_T_LOSS_WG), clgan_tunable(ctx, CLGAN_T_OPT_WG),
           clgan_tunable(ctx, CLGAN_T_GP_WG));
    const clgan_tunable_id wg[] = {CLGAN_T_LOSS_WG, CLGAN_T_GP_WG, CLGAN_T_MON_WG,
                                   CLGAN_T_XENT_WG, CLGAN_T_COL_WG, CLGAN_T_OPT_WG};
    for (size_t t = 0; t < sizeof wg / sizeof wg[0]; t++)
        CHECK((size_t)clgan_tunable(ctx, wg[t]) <= d->max_wg);
    CHECK(strstr(opts, "-cl-std=CL1.2") != NULL);
    size_t n = 1024, local = d->max_wg * 2;
    cl_mem m = NULL;
    CHECK_OK(clgan_buf_alloc(ctx, &m, n * 4, "limit probe"));
    clgan_status st = clgan_launch(ctx, CLGAN_K_buf_zero, 1, &n, &local,
                                   CLGAN_ARGS(CLGAN_ARG_MEM(m), CLGAN_ARG_INT(0),
                                              CLGAN_ARG_INT((int)n)));
    printf("  a launch of buf_zero in work-groups of %zu: %s: %s\n", local,
           clgan_status_str(st), st == CLGAN_OK ? "" : clgan_error_msg());
    CHECK(st == CLGAN_ELIMIT && strstr(clgan_error_msg(), "buf_zero") != NULL);
    clgan_buf_release(&m);
}

int main(void)
{
    const int small = tu_small();
    /* (rows, cols); the larger ones span several row blocks (with COL_WG 256, a column
     * tile's block is 4096 rows for 1 column, 1024 for 3, 128 for 40; with 64, a
     * quarter of that). */
    static const int full[][2] = {{8, 1}, {37, 24}, {300, 40}, {2100, 3}, {5000, 1}};
    static const int reduced[][2] = {{8, 1}, {37, 24}, {300, 40}, {1100, 1}};
    const int(*cols_cases)[2] = small ? reduced : full;
    const int ncases = small ? 4 : 5;
    const int big = small ? 1100 : 5000;
    for (int k = 0; k < 2; k++) {
        clgan_status st = clgan_ctx_init(&ctxs[k], &(clgan_ctx_opts){.device = tu_device(),
                                                                     .shapes = shape_name[k]});
        if (st != CLGAN_OK) {
            fprintf(stderr, "test_shapes: %s\n", clgan_error_msg());
            return 1;
        }
        clgan_ctx *ctx = ctxs[k];
        /* What setup reserves (dense_bind, clgan_batchnorm_reserve, the trainer's and the
         * classifier's reservations), then the warm-up that allocates it. */
        for (int c = 0; c < ncases; c++) {
            for (int a = 0; a < CLGAN_ACT_COUNT; a++)
                clgan_col_reserve(ctx, (clgan_kernel_id)(CLGAN_K_act_bwd_bias_cols_none + a),
                                  cols_cases[c][0], cols_cases[c][1], 1, 0);
            clgan_batchnorm_reserve(ctx, cols_cases[c][0], cols_cases[c][1]);
        }
        clgan_loss_reserve(ctx, big);
        clgan_rows_reserve(ctx, big, clgan_tunable(ctx, CLGAN_T_XENT_WG), 2);
        CHECK_OK(clgan_ctx_warmup(ctx));
    }
    test_limits(ctxs[1]);
    for (int c = 0; c < ncases; c++) {
        int rows = cols_cases[c][0], cols = cols_cases[c][1];
        /* Every activation at every shape; in small mode (simulated) the larger shapes
         * take two activations, one with a kink and one smooth. */
        for (int a = 0; a < CLGAN_ACT_COUNT; a++)
            if (!small || rows < 100 || a == CLGAN_ACT_LEAKYRELU || a == CLGAN_ACT_SIGMOID)
                test_act_bwd_bias(rows, cols, a, 1, 1); /* the dense layer's call */
        test_act_bwd_bias(rows, cols, CLGAN_ACT_LEAKYRELU, 2, 0);
        test_act_bwd_bias(rows, cols, CLGAN_ACT_TANH, 0, 0);
        test_batchnorm(rows, cols, 1);
        test_batchnorm(rows, cols, 2);
    }
    CHECK(multi_block_seen); /* the partial-sum path ran */
    const int ns[2] = {70, big};
    for (int i = 0; i < 2; i++) {
        test_loss(ns[i], CLGAN_LOSS_BCE, CLGAN_ROLE_D_REAL, 0.9f);
        test_loss(ns[i], CLGAN_LOSS_BCE_LOGITS, CLGAN_ROLE_G, 1.0f);
        test_loss(ns[i], CLGAN_LOSS_HINGE, CLGAN_ROLE_D_REAL, 1.0f);
        test_loss(ns[i], CLGAN_LOSS_WASSERSTEIN, CLGAN_ROLE_D_FAKE, 0.0f);
        test_xent(ns[i], 10);
    }
    for (int k = 0; k < 2; k++) {
        long g = clgan_scratch_growths(ctxs[k]);
        printf("%s shapes: %ld scratch allocation(s) after setup\n", shape_name[k], g);
        CHECK(g == 0);
        clgan_ctx_free(ctxs[k]);
    }
    return tu_finish("test_shapes");
}
