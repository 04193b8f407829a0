/* gemm.h - what the native GEMM kernels (cl/gemm.cl) and the implicit-GEMM convolution
 * kernels (cl/gemm_conv.cl) share: the register tile's vector type and the helpers that
 * load, reduce, activate and store it. Prepended to the program with the other headers
 * (src/runtime/program.c); GEMM_VW, GEMM_TM and GEMM_TNV come from the -D options of the
 * tunables table (include/clgan/kernels.h). */
#ifndef CLGAN_CL_GEMM_H
#define CLGAN_CL_GEMM_H

#define GEMM_TN (GEMM_VW * GEMM_TNV)

typedef CLGAN_CAT(float, GEMM_VW) gemm_vec;
#define gemm_vload CLGAN_CAT(vload, GEMM_VW)
#define gemm_vstore CLGAN_CAT(vstore, GEMM_VW)

/* Sum of the lanes of v: halves added pairwise (v.lo + v.hi, down to one lane), through a
 * private array rather than .lo/.hi swizzles: the same additions in the same order, but
 * oclgrind 21.10's uninitialized-value check took the swizzles of a float16 that was
 * still the splat 0.0f (an accumulator whose loop did not run, K < GEMM_VW) for
 * uninitialized. */
static inline float gemm_hsum(gemm_vec v)
{
    float t[GEMM_VW];
    gemm_vstore(v, 0, t);
    for (int h = GEMM_VW / 2; h > 0; h >>= 1)
        for (int i = 0; i < h; i++)
            t[i] += t[i + h];
    return t[0];
}

/* The epilogue of gemm_nn_bias_act: act(v + bias) per lane, ACT_* codes of common.h. */
static inline gemm_vec gemm_act(gemm_vec v, int act, float a)
{
    switch (act) {
    case ACT_LEAKYRELU: return select(a * v, v, isgreater(v, 0.0f));
    case ACT_RELU: return fmax(v, 0.0f);
    case ACT_TANH: return tanh(v);
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-v));
    case ACT_ELU: return select(a * (exp(v) - 1.0f), v, isgreater(v, 0.0f));
    default: return v;
    }
}

/* Stores lanes l of `v` with lo <= n0 + l < hi into c[n0 + l] as alpha*v + beta*c
 * (beta == 0: c not read). */
static inline void gemm_store_lanes(__global float *c, int n0, int lo, int hi, gemm_vec v, float alpha,
                      float beta, __global const float *bias, int act, float slope)
{
    float t[GEMM_VW];
    gemm_vstore(v, 0, t);
    for (int l = 0; l < GEMM_VW; l++) {
        int n = n0 + l;
        if (n >= lo && n < hi) {
            float r = beta == 0.0f ? alpha * t[l] : fma(alpha, t[l], beta * c[n]);
            c[n] = bias ? act_apply(r + bias[n], act, slope) : r;
        }
    }
}

/* Lanes p[min(n0 + l, nmax)]. */
static inline gemm_vec gemm_gather(__global const float *p, int n0, int nmax)
{
    float t[GEMM_VW];
    for (int l = 0; l < GEMM_VW; l++)
        t[l] = p[min(n0 + l, nmax)];
    return gemm_vload(0, t);
}

#endif
