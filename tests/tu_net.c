/* tu_net.c - the central-difference check of a whole network shared by the layer tests
 * (see tu_net.h). */
#include "tu_net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "testutil.h"

/* L = sum(out * R) for the network on x. */
static double objective(clgan_ctx *ctx, clgan_net *n, cl_mem x, const float *R, clgan_mode mode)
{
    const clgan_net_view *v = clgan_net_get(n);
    size_t m = (size_t)v->batch * v->out_dim;
    float *out = malloc(m * sizeof *out);
    double s = 0;
    if (clgan_net_forward(n, x, mode) != CLGAN_OK ||
        clgan_buf_read(ctx, v->out, 0, out, m * 4) != CLGAN_OK)
        s = NAN;
    for (size_t i = 0; i < m && !isnan(s); i++)
        s += (double)out[i] * R[i];
    free(out);
    return s;
}

/* What central differences of a network's objective need. */
typedef struct {
    clgan_ctx *ctx;
    clgan_net *n;
    float *p, *s, *x; /* host parameters, state, input */
    size_t nx;
    cl_mem xb;
    const float *R;
    clgan_mode mode;
} fd_state;

static void fd_upload(void *u)
{
    fd_state *f = u;
    clgan_net_write_params(f->n, f->p, f->s);
    clgan_buf_write(f->ctx, f->xb, 0, f->x, f->nx * 4);
}

static double fd_objective(void *u)
{
    fd_state *f = u;
    return objective(f->ctx, f->n, f->xb, f->R, f->mode);
}

void tu_net_check(clgan_ctx *ctx, const char *name, clgan_net *n, uint64_t seed)
{
    tu_net_check_ex(ctx, name, n, seed, 0);
}

/* Checks every trained parameter and the input gradient of `n` by central differences. */
void tu_net_check_ex(clgan_ctx *ctx, const char *name, clgan_net *n, uint64_t seed, int fd_eval)
{
    const clgan_net_view *v = clgan_net_get(n);
    size_t nx = (size_t)v->batch * v->in_dim, no = (size_t)v->batch * v->out_dim;
    float *x = malloc(nx * 4), *R = malloc(no * 4), *p = malloc(v->n_params * 4 + 4),
          *s = malloc(v->n_state * 4 + 4), *g = malloc(v->n_params * 4 + 4), *gx = malloc(nx * 4);
    double *fd = malloc((v->n_params + nx) * sizeof *fd);
    clgan_rng rng = {seed};
    cl_mem xb;
    const float h = 1e-2f;
    for (size_t i = 0; i < nx; i++) x[i] = (float)clgan_rng_normal(&rng);
    for (size_t i = 0; i < no; i++) R[i] = (float)clgan_rng_normal(&rng);
    CHECK_OK(clgan_buf_alloc(ctx, &xb, nx * 4, "x"));
    CHECK_OK(clgan_buf_write(ctx, xb, 0, x, nx * 4));
    CHECK_OK(clgan_net_read_params(n, p, s));
    /* analytic */
    CHECK_OK(clgan_net_zero_grad(n));
    objective(ctx, n, xb, R, CLGAN_MODE_TRAIN);
    CHECK_OK(clgan_buf_write(ctx, clgan_net_dout(n), 0, R, no * 4));
    CHECK_OK(clgan_net_backward(n, clgan_net_dout(n), 1, 1));
    CHECK_OK(clgan_buf_read(ctx, v->grads, 0, g, v->n_params * 4));
    CHECK_OK(clgan_buf_read(ctx, v->dinput, 0, gx, nx * 4));
    /* fd_eval: differences of the EVAL forward from the state the TRAIN forward left */
    if (fd_eval)
        CHECK_OK(clgan_net_read_params(n, NULL, s));
    /* numeric, per tensor, then the input */
    fd_state st = {ctx, n, p, s, x, nx, xb, R, fd_eval ? CLGAN_MODE_EVAL : CLGAN_MODE_TRAIN};
    for (int t = 0; t < v->n_tensors; t++) {
        const clgan_tensor_info *ti = &v->tensors[t];
        char what[96];
        if (!ti->trained) continue;
        tu_central_diff(fd, p + ti->offset, ti->count, h, fd_upload, fd_objective, &st);
        snprintf(what, sizeof what, "%s %s", name, ti->name);
        /* A bias right before a BatchNorm may have a gradient of exactly 0 (no
         * activation between them: the normalization removes any shift); then the
         * differences are 0 or rounding noise, and g must match them, near 0. */
        int before_bn = strstr(ti->name, ".bias") && t + 1 < v->n_tensors &&
                        !strncmp(v->tensors[t + 1].name, "bn", 2);
        tu_grad_ok(what, g + ti->offset, fd, ti->count, !before_bn);
    }
    tu_central_diff(fd, x, nx, h, fd_upload, fd_objective, &st);
    char what[96];
    snprintf(what, sizeof what, "%s input", name);
    tu_grad_ok(what, gx, fd, nx, 1);
    clgan_buf_release(&xb);
    free(x), free(R), free(p), free(s), free(g), free(gx), free(fd);
}

