/* arch.c - the layer spec language of --arch-g / --arch-d: a network written as a list of
 * layers, turned into clgan_net_add_* calls on a network whose input shape is set (the
 * shapes then propagate layer by layer). Does not decide a network's input or output:
 * model.c does.
 *
 * Grammar: layers separated by commas; each is a name followed by space-separated
 * arguments (N: an integer; NxM: a pair, N alone meaning NxN):
 *   dense N                    fully connected, N units (on any input shape)
 *   conv F [kN] [sN] [same|valid|pN] [nobias]
 *                              Conv2d, F filters (F = c: the image's channels, for G's
 *                              output), kernel (3), stride (1), padding (valid)
 *   convt F kN [sN] [pN] [opN] [nobias]
 *                              ConvTranspose2d: padding p, output padding op (PyTorch)
 *   up N                       nearest-neighbour upsampling
 *   pad T B L R | pad N        zero padding (top, bottom, left, right)
 *   crop T B L R | crop N      cropping
 *   reshape HxWxC | flatten    new sample shape, NHWC order kept
 *   bn                         BatchNorm (this network's eps/momentum/variance settings)
 *   ln                         LayerNorm over each sample (eps: --bn-eps)
 *   relu lrelu tanh sigmoid elu linear
 *                              an activation (lrelu with --slope)
 *   drop R                     dropout of rate R
 *   drop2d R                   channel dropout (whole feature maps) of rate R
 * Generic layers take this network's remedy settings, so the switches work on any spec:
 *   act    its --activation-X (with --slope);
 *   norm   BatchNorm when --batchnorm-X is on, LayerNorm when it is layer, nothing when off;
 *   drop   (no rate) dropout of its --dropout-X rate, nothing when 0 (drop2d likewise).
 * --spectral-norm-X on normalizes every dense and conv kernel of the network.
 * An activation right after a dense or convolution layer is fused into it (same result,
 * one pass less).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"

#define MAX_WORDS 12
#define MAX_SPEC_LAYERS 64

typedef enum {
    L_DENSE, L_CONV, L_CONVT, L_UP, L_PAD, L_CROP, L_RESHAPE, L_FLATTEN, L_BN, L_LN, L_NORM,
    L_ACT, L_DROP, L_DROP2D
} layer_kind;

/* One parsed layer. */
typedef struct {
    layer_kind kind;
    int n;                 /* dense units */
    clgan_conv_opts conv;  /* conv, convt */
    int v[4];              /* up (2), pad (4), reshape (3) */
    clgan_act act;         /* L_ACT; -1: the network's */
    float rate;            /* L_DROP; < 0: the network's */
    int index;             /* 1-based position in the spec, for messages */
    char text[96];         /* the layer as written, for messages */
} spec_layer;

typedef struct {
    const char *flag;
    const spec_layer *at;
} where;

static clgan_status bad(const where *w, const char *fmt, const char *arg)
{
    char what[160];
    snprintf(what, sizeof what, fmt, arg);
    return clgan_error(CLGAN_EINVAL, "--%s: layer %d ('%s'): %s", w->flag, w->at->index,
                       w->at->text, what);
}

/* "N" or "NxM" into a[0], a[1]; 1 when it parsed and both are in [lo, hi]. */
static int parse_pair(const char *s, int *a, int lo, int hi)
{
    char *end;
    long x = strtol(s, &end, 10), y = x;
    if (end == s)
        return 0;
    if (*end == 'x') {
        const char *q = end + 1;
        y = strtol(q, &end, 10);
        if (end == q)
            return 0;
    }
    if (*end || x < lo || x > hi || y < lo || y > hi)
        return 0;
    a[0] = (int)x;
    a[1] = (int)y;
    return 1;
}

static int parse_int(const char *s, int *v, int lo, int hi)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < lo || x > hi)
        return 0;
    *v = (int)x;
    return 1;
}

/* Options of conv / convt after the filter count. */
static clgan_status parse_conv(spec_layer *L, char **w, int nw, const where *wh, int img_c)
{
    clgan_conv_opts *o = &L->conv;
    int p[2];
    o->kh = o->kw = 3;
    o->sh = o->sw = 1;
    o->pad = CLGAN_PAD_VALID;
    o->transpose = L->kind == L_CONVT;
    if (nw >= 2 && !strcmp(w[1], "c"))
        o->filters = img_c;
    else if (nw < 2 || !parse_int(w[1], &o->filters, 1, 65536))
        return bad(wh, "needs a filter count 1..65536 (or c, the image's channels) first%s", "");
    for (int i = 2; i < nw; i++) {
        const char *a = w[i];
        if (!strcmp(a, "same"))
            o->pad = CLGAN_PAD_SAME;
        else if (!strcmp(a, "valid"))
            o->pad = CLGAN_PAD_VALID;
        else if (!strcmp(a, "nobias"))
            o->no_bias = 1;
        else if (a[0] == 'k' && parse_pair(a + 1, p, 1, 64))
            o->kh = p[0], o->kw = p[1];
        else if (a[0] == 's' && parse_pair(a + 1, p, 1, 64))
            o->sh = p[0], o->sw = p[1];
        else if (a[0] == 'o' && a[1] == 'p' && parse_pair(a + 2, p, 0, 63))
            o->out_pad_h = p[0], o->out_pad_w = p[1];
        else if (a[0] == 'p' && parse_pair(a + 1, p, 0, 64))
            o->pad = CLGAN_PAD_EXPLICIT, o->pad_h = p[0], o->pad_w = p[1];
        else
            return bad(wh, "unknown option '%s' (kN, sN, pN, opN, same, valid, nobias; "
                           "N or NxM)", a);
    }
    return CLGAN_OK;
}

/* Activation names a spec may use, with their codes. */
static const struct {
    const char *name;
    clgan_act act;
} act_names[] = {{"relu", CLGAN_ACT_RELU},       {"lrelu", CLGAN_ACT_LEAKYRELU},
                 {"leakyrelu", CLGAN_ACT_LEAKYRELU}, {"tanh", CLGAN_ACT_TANH},
                 {"sigmoid", CLGAN_ACT_SIGMOID}, {"elu", CLGAN_ACT_ELU},
                 {"linear", CLGAN_ACT_NONE},     {"act", (clgan_act)-1}};

/* Parses one layer's words. */
static clgan_status parse_layer(spec_layer *L, char **w, int nw, const where *wh, int img_c)
{
    static const struct {
        const char *name;
        layer_kind kind;
        int min_args, max_args;
    } kinds[] = {{"dense", L_DENSE, 1, 1}, {"conv", L_CONV, 1, 6},      {"convt", L_CONVT, 1, 6},
                 {"up", L_UP, 1, 1},       {"pad", L_PAD, 1, 4},        {"crop", L_CROP, 1, 4},
                 {"reshape", L_RESHAPE, 1, 1},
                 {"flatten", L_FLATTEN, 0, 0}, {"bn", L_BN, 0, 0},      {"norm", L_NORM, 0, 0},
                 {"ln", L_LN, 0, 0},       {"drop", L_DROP, 0, 1},      {"drop2d", L_DROP2D, 0, 1}};
    for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
        if (!strcmp(w[0], act_names[i].name)) {
            if (nw > 1)
                return bad(wh, "an activation takes no arguments%s", "");
            L->kind = L_ACT;
            L->act = act_names[i].act;
            return CLGAN_OK;
        }
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(w[0], kinds[k].name))
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return bad(wh, "unknown layer '%s' (dense, conv, convt, up, pad, crop, reshape, flatten, bn, "
                       "ln, norm, act, relu, lrelu, tanh, sigmoid, elu, linear, drop, drop2d)", w[0]);
    L->kind = kinds[k].kind;
    if (nw - 1 < kinds[k].min_args || nw - 1 > kinds[k].max_args)
        return bad(wh, "wrong number of arguments%s", "");
    switch (L->kind) {
    case L_DENSE:
        return parse_int(w[1], &L->n, 1, 1 << 20) ? CLGAN_OK
                                                   : bad(wh, "needs a width 1..2^20%s", "");
    case L_CONV:
    case L_CONVT:
        return parse_conv(L, w, nw, wh, img_c);
    case L_UP:
        return parse_pair(w[1], L->v, 1, 64) ? CLGAN_OK : bad(wh, "needs a factor 1..64%s", "");
    case L_PAD:
    case L_CROP:
        if (nw != 2 && nw != 5)
            return bad(wh, "needs 1 or 4 sizes (top bottom left right)%s", "");
        for (int i = 0; i < 4; i++)
            if (!parse_int(w[nw == 2 ? 1 : 1 + i], &L->v[i], 0, 1024))
                return bad(wh, "needs 1 or 4 sizes 0..1024 (top bottom left right)%s", "");
        return CLGAN_OK;
    case L_RESHAPE:
        if (sscanf(w[1], "%dx%dx%d", &L->v[0], &L->v[1], &L->v[2]) != 3)
            return bad(wh, "needs HxWxC%s", "");
        return CLGAN_OK;
    case L_DROP:
    case L_DROP2D: {
        char *end;
        L->rate = -1.0f;
        if (nw == 2) {
            L->rate = strtof(w[1], &end);
            if (*end || !(L->rate >= 0.0f && L->rate < 1.0f))
                return bad(wh, "needs a rate in [0, 1)%s", "");
        }
        return CLGAN_OK;
    }
    default:
        return CLGAN_OK;
    }
}

/* Splits `spec` into layers; *n gets their count. */
static clgan_status parse_spec(spec_layer *out, int *n, const char *spec, const char *flag,
                               int img_c)
{
    char buf[1024];
    if (strlen(spec) >= sizeof buf)
        return clgan_error(CLGAN_EINVAL, "--%s: spec longer than %zu characters", flag,
                           sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", spec);
    *n = 0;
    for (char *item = buf, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *words[MAX_WORDS], *ws = NULL;
        int nw = 0;
        if (*n == MAX_SPEC_LAYERS)
            return clgan_error(CLGAN_EINVAL, "--%s: at most %d layers", flag, MAX_SPEC_LAYERS);
        spec_layer *L = &out[*n];
        memset(L, 0, sizeof *L);
        L->index = *n + 1;
        while (*item == ' ' || *item == '\t')
            item++;
        snprintf(L->text, sizeof L->text, "%.*s", (int)sizeof L->text - 1, item);
        for (size_t e = strlen(L->text); e && (L->text[e - 1] == ' ' || L->text[e - 1] == '\t');)
            L->text[--e] = '\0';
        for (char *t = strtok_r(item, " \t", &ws); t; t = strtok_r(NULL, " \t", &ws)) {
            if (nw == MAX_WORDS)
                return clgan_error(CLGAN_EINVAL, "--%s: layer %d has too many words", flag, L->index);
            words[nw++] = t;
        }
        if (nw == 0)
            return clgan_error(CLGAN_EINVAL, "--%s: layer %d is empty", flag, L->index);
        where wh = {flag, L};
        clgan_status st = parse_layer(L, words, nw, &wh, img_c);
        if (st != CLGAN_OK)
            return st;
        (*n)++;
    }
    if (*n == 0)
        return clgan_error(CLGAN_EINVAL, "--%s: the spec has no layers", flag);
    return CLGAN_OK;
}

/* The activation a layer stands for, with the network's settings. */
static clgan_act resolve_act(const spec_layer *L, const clgan_net_config *nc)
{
    return (int)L->act < 0 ? (clgan_act)nc->act : L->act;
}

/* Adds layer L (fusing activation `fused` into dense/conv). */
static clgan_status add(clgan_net *n, const spec_layer *L, clgan_act fused,
                        const clgan_net_config *nc, const clgan_config *c, const char *flag)
{
    clgan_status st = CLGAN_OK;
    clgan_shape s = clgan_net_get(n)->out_shape;
    float var_corr = c->bn_var_keras ? 1.0f + c->bn_eps : 1.0f;
    switch (L->kind) {
    case L_DENSE:
        st = clgan_net_add_dense(n, L->n, fused, c->slope);
        break;
    case L_CONV:
    case L_CONVT: {
        clgan_conv_opts o = L->conv;
        o.act = fused;
        o.slope = c->slope;
        st = clgan_net_add_conv2d(n, &o);
        break;
    }
    case L_UP:
        st = clgan_net_add_upsample(n, L->v[0], L->v[1]);
        break;
    case L_PAD:
        st = clgan_net_add_zeropad(n, L->v[0], L->v[1], L->v[2], L->v[3]);
        break;
    case L_CROP:
        st = clgan_net_add_zeropad(n, -L->v[0], -L->v[1], -L->v[2], -L->v[3]);
        break;
    case L_RESHAPE:
        st = clgan_net_add_reshape(n, CLGAN_SHAPE(L->v[0], L->v[1], L->v[2]));
        break;
    case L_FLATTEN:
        st = clgan_net_add_reshape(n, CLGAN_SHAPE(1, 1, clgan_shape_size(s)));
        break;
    case L_NORM:
        if (nc->bn == CLGAN_BN_OFF)
            break;
        if (nc->bn == CLGAN_BN_LAYER) {
            st = clgan_net_add_layernorm(n, c->bn_eps);
            break;
        }
        /* fall through */
    case L_BN:
        st = clgan_net_add_batchnorm(n, c->bn_eps, c->bn_momentum, var_corr);
        break;
    case L_LN:
        st = clgan_net_add_layernorm(n, c->bn_eps);
        break;
    case L_ACT:
        st = clgan_net_add_activation(n, resolve_act(L, nc), c->slope);
        break;
    case L_DROP:
    case L_DROP2D: {
        float r = L->rate < 0.0f ? nc->dropout : L->rate;
        if (r > 0.0f)
            st = L->kind == L_DROP ? clgan_net_add_dropout(n, r) : clgan_net_add_dropout2d(n, r);
        break;
    }
    }
    if (st != CLGAN_OK)
        return clgan_error_wrap(st, "--%s: layer %d ('%s') on a %dx%dx%d input", flag, L->index,
                                L->text, s.h, s.w, s.c);
    return CLGAN_OK;
}

clgan_status clgan_arch_build(clgan_net *n, const char *spec, const char *tail, int img_c,
                              const clgan_net_config *nc, const clgan_config *c, const char *flag)
{
    spec_layer *L = calloc(MAX_SPEC_LAYERS + 1, sizeof *L);
    int count = 0;
    clgan_status st;
    if (!L)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    if ((st = parse_spec(L, &count, spec, flag, img_c)) != CLGAN_OK)
        goto done;
    if (tail) {
        int extra = 0;
        if ((st = parse_spec(L + count, &extra, tail, flag, img_c)) != CLGAN_OK)
            goto done;
        count += extra;
    }
    /* Normalization after the last weight layer would normalize the network's output:
     * refused, as for the MLP's --batchnorm all. */
    for (int i = count - 1; i >= 0; i--) {
        if (L[i].kind == L_DENSE || L[i].kind == L_CONV || L[i].kind == L_CONVT)
            break;
        if (L[i].kind == L_BN || L[i].kind == L_LN || (L[i].kind == L_NORM && nc->bn != CLGAN_BN_OFF)) {
            st = clgan_error(CLGAN_EINVAL, "--%s: layer %d ('%s') normalizes the network's "
                             "output (a normalization after the last dense/conv layer): move it "
                             "before that layer", flag, L[i].index, L[i].text);
            goto done;
        }
    }
    for (int i = 0; i < count && st == CLGAN_OK; i++) {
        const spec_layer *cur = &L[i];
        int weighted = cur->kind == L_DENSE || cur->kind == L_CONV || cur->kind == L_CONVT;
        clgan_act fused = CLGAN_ACT_NONE;
        if (weighted && i + 1 < count && L[i + 1].kind == L_ACT)
            fused = resolve_act(&L[++i], nc); /* the activation is consumed */
        st = add(n, cur, fused, nc, c, flag);
    }
done:
    free(L);
    return st;
}
