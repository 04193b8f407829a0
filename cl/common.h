/* common.h - prepended to every kernel file: the activation helpers, the Philox4x32-10
 * counter-based generator, and small helpers. Everything here is static inline or a
 * macro. The codes (ACT_*, LOSS_*, ROLE_*) and the tunables (LOSS_WG, GEMM_VW, ...)
 * are not defined in cl/: the host passes them as -D build options from the one table
 * of include/clgan/kernels.h (src/runtime/tunables.c). */

#define CLGAN_CAT_(a, b) a##b
#define CLGAN_CAT(a, b) CLGAN_CAT_(a, b)

/* f(x) for activation `act` (`a` = LeakyReLU slope or ELU alpha). */
static inline float act_apply(float x, int act, float a)
{
    switch (act) {
    case ACT_LEAKYRELU: return x > 0.0f ? x : a * x;
    case ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ACT_TANH: return tanh(x);
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_ELU: return x > 0.0f ? x : a * (exp(x) - 1.0f);
    default: return x;
    }
}

/* f'(x) written in terms of the output y = f(x), so backward needs only the output.
 * (LeakyReLU with a > 0, ReLU and ELU keep the sign of x in y.) */
static inline float act_grad_from_output(float y, int act, float a)
{
    switch (act) {
    case ACT_LEAKYRELU: return y > 0.0f ? 1.0f : a;
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_TANH: return 1.0f - y * y;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_ELU: return y > 0.0f ? 1.0f : y + a;
    default: return 1.0f;
    }
}

/* The same for 8 lanes at once (explicit vectors: the CPU compilers do not vectorize
 * a work-item's loop over rows by themselves). */
static inline float8 act_grad_from_output8(float8 y, int act, float a)
{
    switch (act) {
    case ACT_LEAKYRELU: return select((float8)(a), (float8)(1.0f), isgreater(y, 0.0f));
    case ACT_RELU: return select((float8)(0.0f), (float8)(1.0f), isgreater(y, 0.0f));
    case ACT_TANH: return 1.0f - y * y;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_ELU: return select(y + a, (float8)(1.0f), isgreater(y, 0.0f));
    default: return (float8)(1.0f);
    }
}

/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
 * a keyed bijection of a 128-bit counter. Same counter and key, same numbers, on any
 * device. */
static inline uint4 philox4x32(uint4 c, uint2 k)
{
    for (int r = 0; r < 10; r++) {
        uint hi0 = mul_hi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        uint hi1 = mul_hi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

/* A float in (0, 1]: 24 random bits plus half a bucket, never 0 (so log() is finite);
 * the top buckets round up to exactly 1.0f in float32. */
static inline float u01(uint x) { return ((float)(x >> 8) + 0.5f) * (1.0f / 16777216.0f); }
