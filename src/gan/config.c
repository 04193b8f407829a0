/* config.c - every training setting in one table: flag name, INI section and key, type,
 * default (from clgan_config_defaults), range and meaning. Flags, INI files, --help and
 * the run's config.ini all come from this table. Does not validate cross-setting rules
 * beyond clgan_config_validate. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "common/suggest.h"

typedef enum { T_INT, T_LONG, T_U64, T_FLOAT, T_BOOL, T_ENUM, T_LIST, T_STR } setting_type;

typedef struct {
    const char *flag;    /* --flag */
    const char *section; /* INI section */
    const char *key;     /* INI key */
    setting_type type;
    size_t off;          /* offsetof(clgan_config, field) */
    size_t size;         /* T_STR: buffer size; T_LIST: offset of the count field */
    const char *const *names; /* T_ENUM choices (NULL-terminated) */
    double lo, hi;       /* numeric range, inclusive */
    const char *help;
} setting;

static const char *const act_choices[] = {"none", "leakyrelu", "relu", "tanh", "sigmoid", "elu", NULL};
static const char *const loss_choices[] = {"bce", "bce-logits", "lsgan", "hinge", "wasserstein", NULL};
static const char *const adam_choices[] = {"keras", "torch", NULL};
static const char *const var_choices[] = {"torch", "keras", NULL};
static const char *const mode_choices[] = {"train", "eval", NULL};
static const char *const gemm_choices[] = {"auto", "clblast", "native", NULL};
static const char *const opt_choices[] = {"sgd", "adam", "rmsprop", NULL};
static const char *const bn_choices[] = {"off", "on", "all", "layer", NULL};
static const char *const gloss_choices[] = {"nonsat", "minimax", NULL};
static const char *const dupd_choices[] = {"separate", "joint", NULL};
static const char *const init_choices[] = {"glorot", "normal", NULL};

#define F(field) offsetof(clgan_config, field)
#define STR_SIZE(field) sizeof(((clgan_config *)0)->field)
/* One entry per network: --X-g in [generator], --X-d in [discriminator]. */
#define PAIR(flag, key, type, field, aux, names, lo, hi, help)                                 \
    {flag "-g", "generator", key, type, F(g.field), aux(g), names, lo, hi, "G: " help},        \
    {flag "-d", "discriminator", key, type, F(d.field), aux(d), names, lo, hi, "D: " help}
#define NOAUX(net) 0
#define COUNT(net) F(net.n_layers)
#define ARCHSZ(net) STR_SIZE(net.arch)
static const setting settings[] = {
    PAIR("layers", "layers", T_LIST, layers, COUNT, NULL, 1, 65536, "hidden widths, comma-separated"),
    PAIR("activation", "activation", T_ENUM, act, NOAUX, act_choices, 0, 0, "hidden activation"),
    PAIR("batchnorm", "batchnorm", T_ENUM, bn, NOAUX, bn_choices, 0, 0,
         "BatchNorm after each hidden activation ('all' would add it to the output layer: refused; "
         "'layer': LayerNorm instead, per sample)"),
    PAIR("residual", "residual", T_BOOL, residual, NOAUX, NULL, 0, 1,
         "hidden layers as residual blocks (a learned projection when widths differ)"),
    PAIR("dropout", "dropout", T_FLOAT, dropout, NOAUX, NULL, 0, 0.95,
         "dropout rate after each hidden activation (0 = off)"),
    PAIR("steps", "steps", T_INT, steps, NOAUX, NULL, 1, 8, "updates per iteration"),
    PAIR("optimizer", "optimizer", T_ENUM, optimizer, NOAUX, opt_choices, 0, 0, "optimizer"),
    PAIR("lr", "lr", T_FLOAT, lr, NOAUX, NULL, 0, 10, "learning rate"),
    PAIR("beta1", "beta1", T_FLOAT, beta1, NOAUX, NULL, 0, 0.999999, "Adam beta1"),
    PAIR("beta2", "beta2", T_FLOAT, beta2, NOAUX, NULL, 0, 0.999999, "Adam beta2"),
    PAIR("eps", "eps", T_FLOAT, eps, NOAUX, NULL, 0, 1, "Adam / RMSprop epsilon"),
    PAIR("momentum", "momentum", T_FLOAT, momentum, NOAUX, NULL, 0, 0.999999, "SGD momentum"),
    PAIR("nesterov", "nesterov", T_BOOL, nesterov, NOAUX, NULL, 0, 1, "SGD Nesterov momentum"),
    PAIR("alpha", "alpha", T_FLOAT, alpha, NOAUX, NULL, 0, 0.999999, "RMSprop smoothing constant"),
    PAIR("l2", "l2", T_FLOAT, l2, NOAUX, NULL, 0, 10, "L2 penalty added to the gradient (l2 * w)"),
    PAIR("weight-decay", "weight-decay", T_FLOAT, weight_decay, NOAUX, NULL, 0, 10,
         "decoupled weight decay (w -= lr * wd * w)"),
    PAIR("clip-grad-value", "clip-grad-value", T_FLOAT, clip_value, NOAUX, NULL, 0, 1e9,
         "clamp each gradient component to [-t, t] (0 = off)"),
    PAIR("clip-grad-norm", "clip-grad-norm", T_FLOAT, clip_norm, NOAUX, NULL, 0, 1e9,
         "scale the gradient to global L2 norm <= t (0 = off)"),
    PAIR("arch", "arch", T_STR, arch, ARCHSZ, NULL, 0, 0,
         "layer spec, e.g. 'conv 64 k3 s2 same, act, norm' (docs/recipes.md); '' = the MLP of "
         "layers/activation/batchnorm/residual/dropout"),
    PAIR("init", "init", T_ENUM, init, NOAUX, init_choices, 0, 0,
         "kernel initialization: glorot (uniform, Keras) or normal (mean 0, --init-std)"),
    PAIR("init-std", "init-std", T_FLOAT, init_std, NOAUX, NULL, 0, 10,
         "standard deviation of --init normal (DCGAN: 0.02)"),
    PAIR("spectral-norm", "spectral-norm", T_BOOL, spectral_norm, NOAUX, NULL, 0, 1,
         "spectral normalization of every dense and conv kernel (one power iteration per step)"),
    {"latent", "model", "latent", T_INT, F(latent), 0, NULL, 1, 65536, "noise dimension"},
    {"slope", "model", "leaky-slope", T_FLOAT, F(slope), 0, NULL, 0, 1,
     "LeakyReLU negative slope (ELU alpha)"},
    {"bn-eps", "model", "bn-eps", T_FLOAT, F(bn_eps), 0, NULL, 1e-12, 1, "BatchNorm epsilon"},
    {"bn-momentum", "model", "bn-momentum", T_FLOAT, F(bn_momentum), 0, NULL, 0, 1,
     "share of the OLD running statistic kept per step (Keras momentum; PyTorch's is 1 minus this)"},
    {"bn-variance", "model", "bn-variance", T_ENUM, F(bn_var_keras), 0, var_choices, 0, 0,
     "running variance correction: torch n/(n-1), keras n/(n-1-eps)"},
    {"iterations", "train", "iterations", T_LONG, F(iterations), 0, NULL, 1, 1e12,
     "training iterations (D steps, then G steps, each)"},
    {"batch", "train", "batch", T_INT, F(batch), 0, NULL, 1, 65536, "batch size"},
    {"adam-form", "train", "adam-form", T_ENUM, F(adam_form), 0, adam_choices, 0, 0,
     "Adam bias correction: keras (eps outside the correction) or torch"},
    {"adam-shared-step", "train", "adam-shared-step", T_BOOL, F(shared_t), 0, NULL, 0, 1,
     "one Adam step counter for D and G, as Keras-GAN's shared optimizer object"},
    {"loss", "train", "loss", T_ENUM, F(loss), 0, loss_choices, 0, 0,
     "GAN loss: bce on D's sigmoid output, clipped (Keras); bce-logits; lsgan; hinge; wasserstein"},
    {"g-loss", "train", "g-loss", T_ENUM, F(g_loss_minimax), 0, gloss_choices, 0, 0,
     "bce losses: G's non-saturating -log D(G(z)) or the saturating minimax log(1 - D(G(z)))"},
    {"bce-clip", "train", "bce-clip", T_FLOAT, F(bce_clip), 0, NULL, 0, 0.49,
     "clip D's probability to [c, 1-c] in the bce loss"},
    {"label-smoothing", "train", "label-smoothing", T_FLOAT, F(label_smoothing), 0, NULL, 0, 0.5,
     "one-sided label smoothing: D's real target is 1 - s (bce, lsgan)"},
    {"label-flip", "train", "label-flip", T_FLOAT, F(label_flip), 0, NULL, 0, 0.5,
     "probability of flipping each label in D's updates (bce, lsgan)"},
    {"instance-noise", "train", "instance-noise", T_FLOAT, F(instance_noise), 0, NULL, 0, 10,
     "sigma of Gaussian noise added to D's inputs (real and fake) at the start"},
    {"instance-noise-decay", "train", "instance-noise-decay", T_LONG, F(instance_noise_decay), 0,
     NULL, 1, 1e12, "iterations over which the instance noise sigma falls linearly to 0"},
    {"gp-lambda", "train", "gp-lambda", T_FLOAT, F(gp_lambda), 0, NULL, 0, 1e6,
     "WGAN-GP gradient penalty weight on interpolates (0 = off; needs --d-update joint)"},
    {"clip-weights-d", "train", "clip-weights-d", T_FLOAT, F(clip_weights), 0, NULL, 0, 100,
     "WGAN weight clipping: D's weights clamped to [-c, c] after each D step (0 = off)"},
    {"d-update", "train", "d-update", T_ENUM, F(d_joint), 0, dupd_choices, 0, 0,
     "D's step: separate updates on real and fake (Keras-GAN) or one joint update"},
    {"fake-mode", "train", "fake-mode", T_ENUM, F(fake_eval), 0, mode_choices, 0, 0,
     "G's mode when drawing D's fake batch (eval = Keras predict)"},
    {"seed", "train", "seed", T_U64, F(seed), 0, NULL, 0, 0, "random seed (init, batches, noise)"},
    {"sample-every", "train", "sample-every", T_LONG, F(sample_every), 0, NULL, 0, 1e12,
     "write a 5x5 sample grid every N iterations (0: only first and last)"},
    {"log-every", "train", "log-every", T_LONG, F(log_every), 0, NULL, 1, 1e12,
     "metrics.jsonl record every N iterations (and the progress line; when not a terminal, "
     "a line every max(N, iterations/20))"},
    {"data", "train", "data", T_STR, F(data), STR_SIZE(data), NULL, 0, 0,
     "directory with train-images-idx3-ubyte[.gz] or else PNG images, or 'fashion' ('' = "
     "shipped MNIST subset)"},
    {"image-size", "train", "image-size", T_INT, F(image_size), 0, NULL, 0, 4096,
     "fit images to S x S: center-crop to square, area-average down, bilinear up (0: the "
     "data's own size; for PNGs the first image's)"},
    {"channels", "train", "channels", T_INT, F(channels), 0, NULL, 1, 3,
     "1 gray, 3 RGB (gray replicated; colour to gray by BT.601 luma; alpha over black)"},
    {"out", "train", "out", T_STR, F(out), STR_SIZE(out), NULL, 0, 0,
     "run directory ('' = runs/<timestamp>)"},
    {"device", "train", "device", T_STR, F(device), STR_SIZE(device), NULL, 0, 0,
     "auto, gpu, cpu, an index, P:D, or a name substring (see 'clgan devices')"},
    {"gemm", "train", "gemm", T_ENUM, F(gemm), 0, gemm_choices, 0, 0,
     "matrix product implementation: auto (measured per device), clblast, native"},
    {"gif-delay", "train", "gif-delay", T_INT, F(gif_delay_cs), 0, NULL, 1, 1000,
     "GIF frame delay in 1/100 s"},
    {"grid-scale", "train", "grid-scale", T_INT, F(grid_scale), 0, NULL, 1, 16,
     "enlarge the sample grids and GIF frames this many times (nearest neighbour, for slides)"},
    {"monitor-every", "train", "monitor-every", T_LONG, F(monitor_every), 0, NULL, 0, 1e12,
     "measure per-tensor gradient norms and update/weight ratios every N iterations (0 = off; "
     "each metrics.jsonl record carries the first measured iteration of its interval)"},
    {"eval-every", "train", "eval-every", T_LONG, F(eval_every), 0, NULL, 0, 1e12,
     "score samples (mode coverage, KL, Frechet distance, diversity) every N iterations (0 = off)"},
    {"eval-samples", "train", "eval-samples", T_INT, F(eval_samples), 0, NULL, 2, 10000,
     "samples scored per evaluation"},
    {"classifier", "train", "classifier", T_STR, F(classifier), STR_SIZE(classifier), NULL, 0, 0,
     "scoring classifier: auto (samples/classifier for MNIST or fashion data), none, or a file"},
    {"checkpoint-every", "train", "checkpoint-every", T_LONG, F(checkpoint_every), 0, NULL, 1, 1e12,
     "write a checkpoint (RUN/checkpoints/) every N iterations, and at the end or when stopped; "
     "clgan train --resume RUN continues from the newest"},
    {"keep-checkpoints", "train", "keep-checkpoints", T_INT, F(keep_checkpoints), 0, NULL, 1, 1000,
     "how many of the newest checkpoints to keep"},
    {"global-batch", "train", "global-batch", T_INT, F(global_batch), 0, NULL, 0, 1 << 24,
     "under mpirun: the batch over all ranks (0 = --batch x ranks; --batch is per rank)"},
    {"sync-bn", "train", "sync-bn", T_BOOL, F(sync_bn), 0, NULL, 0, 1,
     "under mpirun: BatchNorm statistics over all ranks' batches (else per rank)"},
    {"mpi-timeout", "train", "mpi-timeout", T_FLOAT, F(mpi_timeout), 0, NULL, 1, 1e6,
     "under mpirun: seconds a collective waits for the other ranks before ending the job"},
};
#undef F
#define N_SETTINGS ((int)(sizeof settings / sizeof settings[0]))

/* Other spellings of flags. */
static const struct {
    const char *alias, *flag;
} aliases[] = {{"g-layers", "layers-g"}, {"d-layers", "layers-d"}, {"d-steps", "steps-d"},
               {"g-steps", "steps-g"}};

static void net_defaults(clgan_net_config *n)
{
    n->act = CLGAN_ACT_LEAKYRELU;
    n->bn = CLGAN_BN_OFF;
    n->steps = 1;
    n->optimizer = CLGAN_OPT_ADAM;
    n->lr = 2e-4f;
    n->beta1 = 0.5f;
    n->beta2 = 0.999f;
    n->eps = 1e-7f;
    n->momentum = 0.0f;
    n->alpha = 0.9f;
    n->init_std = 0.02f;
}

void clgan_config_defaults(clgan_config *c)
{
    memset(c, 0, sizeof *c);
    net_defaults(&c->g);
    net_defaults(&c->d);
    c->g.n_layers = 3;
    c->g.layers[0] = 256, c->g.layers[1] = 512, c->g.layers[2] = 1024;
    c->g.bn = CLGAN_BN_HIDDEN;
    c->d.n_layers = 2;
    c->d.layers[0] = 512, c->d.layers[1] = 256;
    c->latent = 100;
    c->slope = 0.2f;
    c->bn_eps = 1e-3f;
    c->bn_momentum = 0.8f;
    c->mpi_timeout = 600.0f;
    c->bn_var_keras = 1;
    c->iterations = 30000;
    c->batch = 32;
    c->adam_form = CLGAN_ADAM_KERAS;
    c->shared_t = 1;
    c->loss = CLGAN_LOSS_BCE;
    c->bce_clip = 1e-7f;
    c->instance_noise_decay = 10000;
    c->fake_eval = 1;
    c->seed = 0;
    c->channels = 1;
    c->sample_every = 200;
    c->log_every = 100;
    snprintf(c->device, sizeof c->device, "auto");
    c->gemm = CLGAN_GEMM_AUTO;
    c->gif_delay_cs = 20;
    c->grid_scale = 1;
    c->monitor_every = 100;
    c->eval_every = 500;
    c->eval_samples = 1000;
    snprintf(c->classifier, sizeof c->classifier, "auto");
    c->checkpoint_every = 1000;
    c->keep_checkpoints = 2;
}

static void format_value(char *buf, size_t n, const clgan_config *c, const setting *s);

const char *clgan_config_diff(const clgan_config *a, const clgan_config *b,
                              const char *const *allowed)
{
    char va[600], vb[600];
    for (int i = 0; i < N_SETTINGS; i++) {
        int ok = 0;
        for (int k = 0; allowed && allowed[k]; k++)
            ok |= !strcmp(allowed[k], settings[i].flag);
        if (ok)
            continue;
        format_value(va, sizeof va, a, &settings[i]);
        format_value(vb, sizeof vb, b, &settings[i]);
        if (strcmp(va, vb))
            return settings[i].flag;
    }
    return NULL;
}

static const setting *find_flag(const char *flag)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(aliases[i].alias, flag))
            flag = aliases[i].flag;
    for (int i = 0; i < N_SETTINGS; i++)
        if (!strcmp(settings[i].flag, flag))
            return &settings[i];
    return NULL;
}

/* Parses `v` into the setting's field. On error, a message without location. */
static clgan_status set_value(clgan_config *c, const setting *s, const char *v)
{
    char *end;
    void *p = (char *)c + s->off;
    errno = 0;
    switch (s->type) {
    case T_INT:
    case T_LONG: {
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno)
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not an integer", s->flag, v);
        if (x < s->lo || x > s->hi)
            return clgan_error(CLGAN_EINVAL, "--%s: %lld is out of range [%.0f, %.0f]", s->flag, x,
                               s->lo, s->hi);
        if (s->type == T_INT) *(int *)p = (int)x;
        else *(long *)p = (long)x;
        return CLGAN_OK;
    }
    case T_U64: {
        if (*v == '-')
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' must not be negative", s->flag, v);
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *end || errno)
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not an unsigned integer", s->flag, v);
        *(uint64_t *)p = x;
        return CLGAN_OK;
    }
    case T_FLOAT: {
        double x = strtod(v, &end);
        if (!*v || *end || errno || x != x)
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not a number", s->flag, v);
        if (x < s->lo || x > s->hi)
            return clgan_error(CLGAN_EINVAL, "--%s: %g is out of range [%g, %g]", s->flag, x, s->lo,
                               s->hi);
        *(float *)p = (float)x;
        return CLGAN_OK;
    }
    case T_BOOL:
        if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
            *(int *)p = 1;
        else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
            *(int *)p = 0;
        else
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not on/off", s->flag, v);
        return CLGAN_OK;
    case T_ENUM:
        for (int i = 0; s->names[i]; i++)
            if (!strcmp(v, s->names[i])) {
                *(int *)p = i;
                return CLGAN_OK;
            }
        {
            char list[256] = "";
            for (int i = 0; s->names[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         s->names[i]);
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not one of: %s", s->flag, v, list);
        }
    case T_LIST: {
        int vals[CLGAN_MAX_HIDDEN], n = 0;
        const char *q = v;
        while (*q) {
            long x = strtol(q, &end, 10);
            if (end == q || (*end && *end != ','))
                return clgan_error(CLGAN_EINVAL, "--%s: '%s' is not a comma-separated list of widths",
                                   s->flag, v);
            if (x < s->lo || x > s->hi)
                return clgan_error(CLGAN_EINVAL, "--%s: width %ld is out of range [1, 65536]", s->flag, x);
            if (n == CLGAN_MAX_HIDDEN)
                return clgan_error(CLGAN_EINVAL, "--%s: at most %d hidden layers", s->flag,
                                   CLGAN_MAX_HIDDEN);
            vals[n++] = (int)x;
            q = *end ? end + 1 : end;
        }
        if (n == 0)
            return clgan_error(CLGAN_EINVAL, "--%s: needs at least one width", s->flag);
        memcpy(p, vals, sizeof vals);
        *(int *)((char *)c + s->size) = n;
        return CLGAN_OK;
    }
    case T_STR:
        if (strlen(v) >= s->size)
            return clgan_error(CLGAN_EINVAL, "--%s: value longer than %zu characters", s->flag,
                               s->size - 1);
        /* Whatever is stored must read back from config.ini unchanged. */
        for (const char *q = v; *q; q++)
            if ((unsigned char)*q < 0x20 || *q == 0x7f || (*q == ';' && q > v && (q[-1] == ' ' || q[-1] == '\t')))
                return clgan_error(CLGAN_EINVAL, "--%s: '%s' holds %s, which config.ini cannot keep",
                                   s->flag, v, *q == ';' ? "' ;' (an INI comment)" : "a control character");
        if (*v && (v[0] == ' ' || v[0] == '\t' || v[strlen(v) - 1] == ' ' || v[strlen(v) - 1] == '\t'))
            return clgan_error(CLGAN_EINVAL, "--%s: '%s' starts or ends with a blank, which config.ini "
                               "cannot keep", s->flag, v);
        snprintf((char *)p, s->size, "%s", v);
        return CLGAN_OK;
    }
    return clgan_error(CLGAN_EINVAL, "--%s: unsupported setting type", s->flag);
}

/* "; did you mean --x?" for a mistyped flag, or for a key of INI `section` when set;
 * "" when nothing is near. */
static void near_setting(char *out, size_t n, const char *word, const char *section)
{
    char stems[N_SETTINGS][64];
    clgan_suggest sg;
    clgan_suggest_init(&sg, word);
    for (int i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        size_t len = strlen(s->flag);
        if (section) {
            if (!strcmp(s->section, section))
                clgan_suggest_add(&sg, s->key);
            continue;
        }
        clgan_suggest_add(&sg, s->flag);
        snprintf(stems[i], sizeof stems[i], "%.*s", (int)(len > 2 ? len - 2 : 0), s->flag);
        if (len > 2 && !strcmp(s->flag + len - 2, "-g")) /* the plain --X of a pair */
            clgan_suggest_add(&sg, stems[i]);
    }
    clgan_suggest_text(&sg, section ? "" : "--", out, n);
}

clgan_status clgan_config_set(clgan_config *c, const char *name, const char *value)
{
    const setting *s = find_flag(name);
    if (s)
        return set_value(c, s, value);
    /* The per-network convention: plain --X sets --X-g and --X-d. */
    char g[64], d[64];
    snprintf(g, sizeof g, "%s-g", name);
    snprintf(d, sizeof d, "%s-d", name);
    const setting *sg = find_flag(g), *sd = find_flag(d);
    if (sg && sd) {
        clgan_status st = set_value(c, sg, value);
        return st != CLGAN_OK ? st : set_value(c, sd, value);
    }
    char near[200];
    near_setting(near, sizeof near, name, NULL);
    return clgan_error(CLGAN_EINVAL, "unknown setting --%s%s (see --help)", name, near);
}

static clgan_status on_ini_entry(void *user, const char *section, const char *name,
                                 const char *value)
{
    clgan_config *c = user;
    for (int i = 0; i < N_SETTINGS; i++)
        if (!strcmp(settings[i].section, section) && !strcmp(settings[i].key, name))
            return set_value(c, &settings[i], value);
    char near[200];
    near_setting(near, sizeof near, name, section);
    return clgan_error(CLGAN_EINVAL, "unknown key '%s' in section [%s]%s", name, section, near);
}

clgan_status clgan_config_load_ini(clgan_config *c, const char *path)
{
    uint8_t *text = NULL;
    size_t len;
    clgan_status st = clgan_io_read_file(path, &text, &len);
    if (st != CLGAN_OK)
        return clgan_error_wrap(st, "config");
    st = clgan_ini_parse((const char *)text, len, path, on_ini_entry, c);
    free(text);
    return st == CLGAN_EFORMAT ? CLGAN_EINVAL : st;
}

clgan_status clgan_config_load_ini_text(clgan_config *c, const char *text, const char *origin)
{
    clgan_status st = clgan_ini_parse(text, strlen(text), origin, on_ini_entry, c);
    return st == CLGAN_EINVAL ? CLGAN_EFORMAT : st;
}

char *clgan_config_to_ini(const clgan_config *c)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        return NULL;
    clgan_config_write_ini(c, m);
    fclose(m);
    return buf;
}

clgan_status clgan_config_parse_args(clgan_config *c, int argc, char **argv, int *help)
{
    clgan_status st;
    *help = 0;
    /* Pass 1: --preset, then --config files, so flags override them wherever they are. */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--preset") || !strncmp(a, "--preset=", 9)) {
            const char *name = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!name)
                return clgan_error(CLGAN_EINVAL, "--preset needs a name");
            if ((st = clgan_config_load_preset(c, name)) != CLGAN_OK)
                return st;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc)
                return clgan_error(CLGAN_EINVAL, "--config needs a file");
            if ((st = clgan_config_load_ini(c, argv[++i])) != CLGAN_OK)
                return st;
        } else if (!strncmp(a, "--config=", 9)) {
            if ((st = clgan_config_load_ini(c, a + 9)) != CLGAN_OK)
                return st;
        }
    }
    for (int i = 0; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *val;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *help = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return clgan_error(CLGAN_EINVAL, "unexpected argument '%s' (see --help)", a);
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof name)
            return clgan_error(CLGAN_EINVAL, "unknown flag %s", a);
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return clgan_error(CLGAN_EINVAL, "--%s needs a value", name);
            val = argv[++i];
        }
        if (!strcmp(name, "config") || !strcmp(name, "preset"))
            continue;
        if ((st = clgan_config_set(c, name, val)) != CLGAN_OK)
            return st;
    }
    return CLGAN_OK;
}

static void format_value(char *buf, size_t n, const clgan_config *c, const setting *s)
{
    const void *p = (const char *)c + s->off;
    switch (s->type) {
    case T_INT: snprintf(buf, n, "%d", *(const int *)p); break;
    case T_LONG: snprintf(buf, n, "%ld", *(const long *)p); break;
    case T_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case T_FLOAT: {
        /* The shortest form that reads back as the same float. */
        float f = *(const float *)p;
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, n, "%.*g", prec, f);
            if (strtof(buf, NULL) == f)
                break;
        }
        break;
    }
    case T_BOOL: snprintf(buf, n, "%s", *(const int *)p ? "on" : "off"); break;
    case T_ENUM: snprintf(buf, n, "%s", s->names[*(const int *)p]); break;
    case T_LIST: {
        const int *v = p;
        int cnt = *(const int *)((const char *)c + s->size);
        buf[0] = '\0';
        for (int i = 0; i < cnt; i++)
            snprintf(buf + strlen(buf), n - strlen(buf), "%s%d", i ? "," : "", v[i]);
        break;
    }
    case T_STR: snprintf(buf, n, "%s", (const char *)p); break;
    }
}

void clgan_config_write_ini(const clgan_config *c, FILE *f)
{
    static const char *const sections[] = {"generator", "discriminator", "model", "train"};
    char v[600];
    fprintf(f, "# clgan run configuration: every setting, resolved.\n"
               "# Repeat this run with: clgan train --config config.ini\n");
    for (int k = 0; k < 4; k++) {
        fprintf(f, "\n[%s]\n", sections[k]);
        for (int i = 0; i < N_SETTINGS; i++)
            if (!strcmp(settings[i].section, sections[k])) {
                /* The run directory is where this file is; repeating the run from it
                 * must not overwrite it, so `out` is written empty (a new run dir). */
                if (settings[i].off == offsetof(clgan_config, out)) {
                    fprintf(f, "%s =\n", settings[i].key);
                    continue;
                }
                format_value(v, sizeof v, c, &settings[i]);
                fprintf(f, "%s = %s\n", settings[i].key, v);
            }
    }
}

clgan_status clgan_config_save(const clgan_config *c, const char *path)
{
    char *buf = clgan_config_to_ini(c);
    if (!buf)
        return clgan_error(CLGAN_ENOMEM, "out of memory");
    clgan_status st = clgan_io_write_file(path, buf, strlen(buf));
    free(buf);
    return st;
}

static const char *const preset_names[] = {"keras-gan", "ttur",     "lsgan",   "hinge",
                                           "wgan",      "wgan-gp",  "residual", "minimax",
                                           "dcgan-keras", "dcgan", "dcgan-32", "wgan-gp-conv",
                                           "sngan"};

clgan_status clgan_config_load_preset(clgan_config *c, const char *name)
{
    char rel[160], path[PATH_MAX + 200];
    size_t i = 0;
    while (i < sizeof preset_names / sizeof preset_names[0] && strcmp(preset_names[i], name))
        i++;
    if (i == sizeof preset_names / sizeof preset_names[0]) {
        char list[256] = "";
        for (i = 0; i < sizeof preset_names / sizeof preset_names[0]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     preset_names[i]);
        clgan_suggest sg;
        char near[200];
        clgan_suggest_init(&sg, name);
        for (i = 0; i < sizeof preset_names / sizeof preset_names[0]; i++)
            clgan_suggest_add(&sg, preset_names[i]);
        clgan_suggest_text(&sg, "", near, sizeof near);
        return clgan_error(CLGAN_EINVAL, "unknown preset '%s'%s (presets: %s)", name, near, list);
    }
    snprintf(rel, sizeof rel, "presets/%s.ini", name);
    if (!clgan_find_sample(path, sizeof path, rel))
        return clgan_error(CLGAN_EIO, "preset file samples/%s was not found next to the binary",
                           rel);
    return clgan_config_load_ini(c, path);
}

void clgan_config_print_help(FILE *f)
{
    clgan_config d;
    char v[600], flag[64];
    clgan_config_defaults(&d);
    fprintf(f, "Settings (flag, default, meaning; [INI section] key). A plain --X sets both\n"
               "--X-g and --X-d.\n"
               "  %-26s %-14s %s\n  %-26s %-14s %s\n", "--preset NAME", "",
               "start from samples/presets/NAME.ini (see below)", "--config FILE", "",
               "then read an INI file (flags override both)");
    for (int i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        format_value(v, sizeof v, &d, s);
        snprintf(flag, sizeof flag, "--%s", s->flag);
        fprintf(f, "  %-26s %-14s %s", flag, *v ? v : "''", s->help);
        if (s->type == T_ENUM) {
            fprintf(f, " (");
            for (int k = 0; s->names[k]; k++)
                fprintf(f, "%s%s", k ? "|" : "", s->names[k]);
            fprintf(f, ")");
        }
        fprintf(f, "  [%s] %s\n", s->section, s->key);
    }
    fprintf(f, "\nPresets (--preset NAME):");
    for (size_t i = 0; i < sizeof preset_names / sizeof preset_names[0]; i++)
        fprintf(f, " %s", preset_names[i]);
    fprintf(f, "\n");
}

clgan_status clgan_config_validate(const clgan_config *c)
{
    int labelled = c->loss == CLGAN_LOSS_BCE || c->loss == CLGAN_LOSS_BCE_LOGITS ||
                   c->loss == CLGAN_LOSS_LSGAN;
    if (c->g.bn == CLGAN_BN_ALL)
        return clgan_error(CLGAN_EINVAL, "--batchnorm-g all: BatchNorm on G's output layer is "
                           "refused: it forces every generated image to the batch's per-pixel mean "
                           "and variance, so G cannot match the data; use --batchnorm-g on (hidden "
                           "layers only)");
    if (c->d.bn == CLGAN_BN_ALL)
        return clgan_error(CLGAN_EINVAL, "--batchnorm-d all: BatchNorm on D's output layer is "
                           "refused: it normalizes D's scores across the batch, so a sample's score "
                           "depends on the others and D's loss cannot separate real from fake; use "
                           "--batchnorm-d on (hidden layers only)");
    if (c->gp_lambda > 0 && !c->d_joint)
        return clgan_error(CLGAN_EINVAL, "--gp-lambda needs --d-update joint (the penalty is part "
                           "of one critic update on real and fake)");
    if (c->gp_lambda > 0 && (c->d.bn == CLGAN_BN_HIDDEN || c->d.bn == CLGAN_BN_ALL))
        return clgan_error(CLGAN_EINVAL, "--gp-lambda with --batchnorm-d on: the gradient penalty "
                           "is per sample and BatchNorm couples the samples of a batch; use "
                           "--batchnorm-d layer (LayerNorm, as Gulrajani et al.) or off");
    if (!labelled && (c->label_smoothing > 0 || c->label_flip > 0))
        return clgan_error(CLGAN_EINVAL, "--label-smoothing and --label-flip apply to the bce, "
                           "bce-logits and lsgan losses, not %s", clgan_loss_str(c->loss));
    if (c->g_loss_minimax && c->loss != CLGAN_LOSS_BCE && c->loss != CLGAN_LOSS_BCE_LOGITS)
        return clgan_error(CLGAN_EINVAL, "--g-loss minimax applies to the bce losses only");
    if (c->g.dropout > 0)
        return clgan_error(CLGAN_EINVAL, "--dropout-g: dropout is for D; G's noise is its input");
    if (c->gp_lambda > 0 && c->d.residual)
        return clgan_error(CLGAN_EINVAL, "--gp-lambda: the gradient penalty's second-order pass "
                           "does not go through residual blocks; turn off --residual-d");
    if ((c->g.residual && c->g.bn == CLGAN_BN_LAYER) || (c->d.residual && c->d.bn == CLGAN_BN_LAYER))
        return clgan_error(CLGAN_EINVAL, "--batchnorm-X layer: residual blocks normalize with "
                           "BatchNorm only; use --batchnorm-X on or turn off --residual-X");
    /* Products the kernels index with int. */
    long long widest = c->latent;
    for (int i = 0; i < c->g.n_layers; i++)
        widest = c->g.layers[i] > widest ? c->g.layers[i] : widest;
    for (int i = 0; i < c->d.n_layers; i++)
        widest = c->d.layers[i] > widest ? c->d.layers[i] : widest;
    if ((long long)c->batch * widest > (1LL << 28))
        return clgan_error(CLGAN_EINVAL, "--batch %d with a layer of width %lld is too large "
                           "(batch x width must stay below 2^28)", c->batch, widest);
    if (c->log_every < 1)
        return clgan_error(CLGAN_EINVAL, "--log-every must be >= 1");
    if (c->channels != 1 && c->channels != 3)
        return clgan_error(CLGAN_EINVAL, "--channels %d: 1 (gray) or 3 (RGB)", c->channels);
    return CLGAN_OK;
}
