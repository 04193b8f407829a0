/* config.c - every training setting in one table: flag name, INI section and key, type,
 * default (from clgan_config_defaults), range and meaning. Flags, INI files, --help and
 * the run's config.ini all come from this table. Does not validate cross-setting rules
 * beyond clgan_config_validate. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/io.h"

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
static const char *const loss_choices[] = {"bce", "bce-logits", NULL};
static const char *const adam_choices[] = {"keras", "torch", NULL};
static const char *const var_choices[] = {"torch", "keras", NULL};
static const char *const mode_choices[] = {"train", "eval", NULL};
static const char *const gemm_choices[] = {"auto", "clblast", "native", NULL};

#define F(field) offsetof(clgan_config, field)
static const setting settings[] = {
    {"g-layers", "generator", "layers", T_LIST, F(g_layers), F(n_g_layers), NULL, 1, 65536,
     "G hidden widths, comma-separated"},
    {"activation-g", "generator", "activation", T_ENUM, F(g_act), 0, act_choices, 0, 0,
     "G hidden activation"},
    {"batchnorm-g", "generator", "batchnorm", T_BOOL, F(g_bn), 0, NULL, 0, 1,
     "BatchNorm after each G hidden activation (never on the output layer)"},
    {"lr-g", "generator", "lr", T_FLOAT, F(lr_g), 0, NULL, 0, 10, "G learning rate"},
    {"d-layers", "discriminator", "layers", T_LIST, F(d_layers), F(n_d_layers), NULL, 1, 65536,
     "D hidden widths, comma-separated"},
    {"activation-d", "discriminator", "activation", T_ENUM, F(d_act), 0, act_choices, 0, 0,
     "D hidden activation"},
    {"lr-d", "discriminator", "lr", T_FLOAT, F(lr_d), 0, NULL, 0, 10, "D learning rate"},
    {"latent", "model", "latent", T_INT, F(latent), 0, NULL, 1, 65536, "noise dimension"},
    {"slope", "model", "leaky-slope", T_FLOAT, F(slope), 0, NULL, 0, 1,
     "LeakyReLU negative slope (ELU alpha)"},
    {"bn-eps", "model", "bn-eps", T_FLOAT, F(bn_eps), 0, NULL, 1e-12, 1, "BatchNorm epsilon"},
    {"bn-momentum", "model", "bn-momentum", T_FLOAT, F(bn_momentum), 0, NULL, 0, 1,
     "share of the OLD running statistic kept per step (Keras momentum; PyTorch's is 1 minus this)"},
    {"bn-variance", "model", "bn-variance", T_ENUM, F(bn_var_keras), 0, var_choices, 0, 0,
     "running variance correction: torch n/(n-1), keras n/(n-1-eps)"},
    {"iterations", "train", "iterations", T_LONG, F(iterations), 0, NULL, 1, 1e12,
     "training iterations (one D update on real, one on fake, one G update each)"},
    {"batch", "train", "batch", T_INT, F(batch), 0, NULL, 1, 65536, "batch size"},
    {"beta1", "train", "beta1", T_FLOAT, F(beta1), 0, NULL, 0, 0.999999, "Adam beta1"},
    {"beta2", "train", "beta2", T_FLOAT, F(beta2), 0, NULL, 0, 0.999999, "Adam beta2"},
    {"adam-eps", "train", "adam-eps", T_FLOAT, F(adam_eps), 0, NULL, 0, 1, "Adam epsilon"},
    {"adam-form", "train", "adam-form", T_ENUM, F(adam_form), 0, adam_choices, 0, 0,
     "Adam bias correction: keras (eps outside the correction) or torch"},
    {"adam-shared-step", "train", "adam-shared-step", T_BOOL, F(shared_t), 0, NULL, 0, 1,
     "one Adam step counter for D and G, as Keras-GAN's shared optimizer object"},
    {"loss", "train", "loss", T_ENUM, F(loss), 0, loss_choices, 0, 0,
     "bce: on D's sigmoid output, clipped (Keras); bce-logits: stable, D outputs logits"},
    {"bce-clip", "train", "bce-clip", T_FLOAT, F(bce_clip), 0, NULL, 0, 0.49,
     "clip D's probability to [c, 1-c] in the bce loss"},
    {"fake-mode", "train", "fake-mode", T_ENUM, F(fake_eval), 0, mode_choices, 0, 0,
     "G's mode when drawing D's fake batch (eval = Keras predict)"},
    {"seed", "train", "seed", T_U64, F(seed), 0, NULL, 0, 0, "random seed (init, batches, noise)"},
    {"sample-every", "train", "sample-every", T_LONG, F(sample_every), 0, NULL, 0, 1e12,
     "write a 5x5 sample grid every N iterations (0: only first and last)"},
    {"log-every", "train", "log-every", T_LONG, F(log_every), 0, NULL, 1, 1e12,
     "metrics.jsonl record and progress line every N iterations"},
    {"data", "train", "data", T_STR, F(data), sizeof(((clgan_config *)0)->data), NULL, 0, 0,
     "directory with train-images-idx3-ubyte[.gz], or 'fashion' ('' = shipped MNIST subset)"},
    {"out", "train", "out", T_STR, F(out), sizeof(((clgan_config *)0)->out), NULL, 0, 0,
     "run directory ('' = runs/<timestamp>)"},
    {"device", "train", "device", T_STR, F(device), sizeof(((clgan_config *)0)->device), NULL, 0,
     0, "auto, gpu, cpu, an index, P:D, or a name substring (see 'clgan devices')"},
    {"gemm", "train", "gemm", T_ENUM, F(gemm), 0, gemm_choices, 0, 0,
     "matrix product implementation: auto (measured per device), clblast, native"},
    {"gif-delay", "train", "gif-delay", T_INT, F(gif_delay_cs), 0, NULL, 1, 1000,
     "GIF frame delay in 1/100 s"},
};
#undef F
#define N_SETTINGS ((int)(sizeof settings / sizeof settings[0]))

void clgan_config_defaults(clgan_config *c)
{
    memset(c, 0, sizeof *c);
    c->n_g_layers = 3;
    c->g_layers[0] = 256, c->g_layers[1] = 512, c->g_layers[2] = 1024;
    c->g_act = CLGAN_ACT_LEAKYRELU;
    c->g_bn = 1;
    c->lr_g = 2e-4f;
    c->n_d_layers = 2;
    c->d_layers[0] = 512, c->d_layers[1] = 256;
    c->d_act = CLGAN_ACT_LEAKYRELU;
    c->lr_d = 2e-4f;
    c->latent = 100;
    c->slope = 0.2f;
    c->bn_eps = 1e-3f;
    c->bn_momentum = 0.8f;
    c->bn_var_keras = 1;
    c->iterations = 30000;
    c->batch = 32;
    c->beta1 = 0.5f;
    c->beta2 = 0.999f;
    c->adam_eps = 1e-7f;
    c->adam_form = CLGAN_ADAM_KERAS;
    c->shared_t = 1;
    c->loss = CLGAN_LOSS_BCE;
    c->bce_clip = 1e-7f;
    c->fake_eval = 1;
    c->seed = 0;
    c->sample_every = 200;
    c->log_every = 100;
    snprintf(c->device, sizeof c->device, "auto");
    c->gemm = CLGAN_GEMM_AUTO;
    c->gif_delay_cs = 20;
}

static const setting *find_flag(const char *flag)
{
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
            return clgan_error(CLGAN_EINVAL, "%s: '%s' is not an integer", s->flag, v);
        if (x < s->lo || x > s->hi)
            return clgan_error(CLGAN_EINVAL, "%s: %lld is out of range [%.0f, %.0f]", s->flag, x,
                               s->lo, s->hi);
        if (s->type == T_INT) *(int *)p = (int)x;
        else *(long *)p = (long)x;
        return CLGAN_OK;
    }
    case T_U64: {
        if (*v == '-')
            return clgan_error(CLGAN_EINVAL, "%s: '%s' must not be negative", s->flag, v);
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *end || errno)
            return clgan_error(CLGAN_EINVAL, "%s: '%s' is not an unsigned integer", s->flag, v);
        *(uint64_t *)p = x;
        return CLGAN_OK;
    }
    case T_FLOAT: {
        double x = strtod(v, &end);
        if (!*v || *end || errno || x != x)
            return clgan_error(CLGAN_EINVAL, "%s: '%s' is not a number", s->flag, v);
        if (x < s->lo || x > s->hi)
            return clgan_error(CLGAN_EINVAL, "%s: %g is out of range [%g, %g]", s->flag, x, s->lo,
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
            return clgan_error(CLGAN_EINVAL, "%s: '%s' is not on/off", s->flag, v);
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
            return clgan_error(CLGAN_EINVAL, "%s: '%s' is not one of: %s", s->flag, v, list);
        }
    case T_LIST: {
        int vals[CLGAN_MAX_HIDDEN], n = 0;
        const char *q = v;
        while (*q) {
            long x = strtol(q, &end, 10);
            if (end == q || (*end && *end != ','))
                return clgan_error(CLGAN_EINVAL, "%s: '%s' is not a comma-separated list of widths",
                                   s->flag, v);
            if (x < s->lo || x > s->hi)
                return clgan_error(CLGAN_EINVAL, "%s: width %ld is out of range [1, 65536]", s->flag, x);
            if (n == CLGAN_MAX_HIDDEN)
                return clgan_error(CLGAN_EINVAL, "%s: at most %d hidden layers", s->flag,
                                   CLGAN_MAX_HIDDEN);
            vals[n++] = (int)x;
            q = *end ? end + 1 : end;
        }
        if (n == 0)
            return clgan_error(CLGAN_EINVAL, "%s: needs at least one width", s->flag);
        memcpy(p, vals, sizeof vals);
        *(int *)((char *)c + s->size) = n;
        return CLGAN_OK;
    }
    case T_STR:
        if (strlen(v) >= s->size)
            return clgan_error(CLGAN_EINVAL, "%s: value longer than %zu characters", s->flag,
                               s->size - 1);
        snprintf((char *)p, s->size, "%s", v);
        return CLGAN_OK;
    }
    return clgan_error(CLGAN_EINVAL, "%s: unsupported setting type", s->flag);
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
    return clgan_error(CLGAN_EINVAL, "unknown setting --%s (see --help)", name);
}

typedef struct {
    clgan_config *c;
    const char *path;
    clgan_status st;
} ini_state;

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    ini_state *is = user;
    for (int i = 0; i < N_SETTINGS; i++)
        if (!strcmp(settings[i].section, section) && !strcmp(settings[i].key, name)) {
            is->st = set_value(is->c, &settings[i], value);
            return is->st == CLGAN_OK;
        }
    is->st = clgan_error(CLGAN_EINVAL, "unknown key '%s' in section [%s]", name, section);
    return 0;
}

clgan_status clgan_config_load_ini(clgan_config *c, const char *path)
{
    ini_state is = {c, path, CLGAN_OK};
    FILE *f = fopen(path, "r");
    if (!f)
        return clgan_error(CLGAN_EIO, "cannot open config %s: %s", path, strerror(errno));
    int line = ini_parse_file(f, on_ini_entry, &is);
    fclose(f);
    if (line > 0 && is.st == CLGAN_OK)
        return clgan_error(CLGAN_EINVAL, "%s:%d: not valid INI syntax", path, line);
    if (line != 0)
        return clgan_error_wrap(is.st == CLGAN_OK ? CLGAN_EINVAL : is.st, "%s:%d", path, line);
    return CLGAN_OK;
}

clgan_status clgan_config_load_ini_text(clgan_config *c, const char *text, const char *origin)
{
    ini_state is = {c, origin, CLGAN_OK};
    int line = ini_parse_string(text, on_ini_entry, &is);
    if (line > 0 && is.st == CLGAN_OK)
        return clgan_error(CLGAN_EFORMAT, "%s:%d: not valid INI syntax", origin, line);
    if (line != 0)
        return clgan_error_wrap(is.st == CLGAN_OK ? CLGAN_EFORMAT : is.st, "%s:%d", origin, line);
    return CLGAN_OK;
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
    /* Pass 1: --config files, so flags override them wherever they appear. */
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
        if (!strcmp(name, "config"))
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

void clgan_config_print_help(FILE *f)
{
    clgan_config d;
    char v[600], flag[64];
    clgan_config_defaults(&d);
    fprintf(f, "Settings (flag, default, meaning). A plain --X sets both --X-g and --X-d.\n"
               "  %-24s %-14s %s\n", "--config FILE", "", "read settings from an INI file first "
               "(flags override it)");
    for (int i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        format_value(v, sizeof v, &d, s);
        snprintf(flag, sizeof flag, "--%s", s->flag);
        fprintf(f, "  %-24s %-14s %s", flag, *v ? v : "''", s->help);
        if (s->type == T_ENUM) {
            fprintf(f, " (");
            for (int k = 0; s->names[k]; k++)
                fprintf(f, "%s%s", k ? "|" : "", s->names[k]);
            fprintf(f, ")");
        }
        fprintf(f, "  [%s] %s\n", s->section, s->key);
    }
}

clgan_status clgan_config_validate(const clgan_config *c)
{
    if (c->n_g_layers < 1 || c->n_d_layers < 1)
        return clgan_error(CLGAN_EINVAL, "G and D need at least one hidden layer");
    if (c->log_every < 1)
        return clgan_error(CLGAN_EINVAL, "--log-every must be >= 1");
    return CLGAN_OK;
}
