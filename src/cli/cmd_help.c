/* cmd_help.c - `clgan help [COMMAND|TOPIC]` (a command's --help, or a topic page from the
 * table below) and `clgan version` / `clgan --version`. Reads the shipped presets for
 * `clgan help presets`; touches no device except to list OpenCL platforms for version. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/clgan.h"
#include "cli.h"
#include "common/suggest.h"

static clgan_status topic_presets(void);

static const char outputs_text[] =
    "What `clgan train` writes into its run directory (--out, default runs/<timestamp>/):\n"
    "  discriminator_loss.npy, generator_loss.npy  float32, one value per iteration\n"
    "  discriminator_accuracy.npy, d_real.npy, d_fake.npy  D's accuracy, mean D(x), mean D(G(z))\n"
    "  images/<iteration>.png  a 5x5 grid from fixed noise every --sample-every iterations,\n"
    "                          the iteration written under it (--grid-scale 2 for slides)\n"
    "  training.gif            every grid in order, as an animation\n"
    "  metrics.jsonl           one record per --log-every iterations (interval means)\n"
    "  eval.jsonl, *.npy       sample quality every --eval-every iterations: modes covered,\n"
    "                          KL, Frechet distance (on clgan's classifier features: not\n"
    "                          comparable to published Inception FID figures), diversity\n"
    "  grad_norms.npy          per-tensor gradient norms at each gradient record\n"
    "  diagnoses.json          what the detectors found, with the flags to try\n"
    "  config.ini              every setting; clgan train --config config.ini repeats the run\n"
    "  generator.safetensors   G's weights, the configuration as metadata (clgan sample,\n"
    "                          tools/clgan_torch.py)\n"
    "Every file lands atomically (temp file, fsync, rename).\n";

static const char devices_text[] =
    "Choosing a device (--device, for train, sample, bench):\n"
    "  auto      the first GPU of any platform, else a CPU device (the default)\n"
    "  gpu, cpu  the first device of that type\n"
    "  3         a global index from `clgan devices`\n"
    "  1:0       platform:device\n"
    "  NAME      a case-insensitive substring of the device or platform name\n"
    "`clgan devices` lists them ('*' marks the one auto picks); `clgan bench --device all`\n"
    "times each one.\n";

static const char environment_text[] =
    "Environment variables clgan reads:\n"
    "  CLGAN_KERNEL_DIR=cl       load the kernel sources from this directory instead of the\n"
    "                            copy built into the library (kernel development)\n"
    "  CLGAN_SYNC=1              finish the queue after every kernel, so an error names it\n"
    "  CLGAN_LAUNCH_SHAPES=gpu   force the GPU launch shapes on a CPU device (or cpu)\n"
    "  XDG_CACHE_HOME            compiled kernels are cached in $XDG_CACHE_HOME/clgan\n"
    "                            (default ~/.cache/clgan)\n";

static const char remedies_text[] =
    "Every remedy for unstable training is a flag (clgan train --help lists them all):\n"
    "  separate learning rates (TTUR)  --lr-g 1e-4 --lr-d 4e-4   (--preset ttur)\n"
    "  step ratio                      --steps-d 5, --steps-g 2\n"
    "  optimizer per network           --optimizer-d sgd|adam|rmsprop\n"
    "  architecture                    --layers-g 256,512,1024, --batchnorm-d on,\n"
    "                                  --dropout-d 0.3, --residual-g on\n"
    "  gradient clipping               --clip-grad-value-d 0.1, --clip-grad-norm 1.0\n"
    "  weight regularization           --l2-d 1e-4, --weight-decay 1e-4\n"
    "  labels                          --label-smoothing 0.1, --label-flip 0.05,\n"
    "                                  --instance-noise 0.1\n"
    "  losses                          --loss bce|bce-logits|lsgan|hinge|wasserstein,\n"
    "                                  --g-loss minimax|nonsat\n"
    "  Wasserstein                     --preset wgan, --preset wgan-gp\n"
    "`clgan diagnose RUN` names what went wrong in a run and which of these to try.\n";

static const char library_text[] =
    "libclgan: the engine as a C library (what the clgan binary is made of).\n"
    "  cmake --install build --prefix P     installs bin/clgan, lib/libclgan.so and .a,\n"
    "                                       include/clgan/*.h, clgan.pc, a CMake package\n"
    "                                       and share/clgan (presets, classifiers, data)\n"
    "  cc app.c $(pkg-config --cflags --libs clgan)          (PKG_CONFIG_PATH=P/lib/pkgconfig)\n"
    "  find_package(clgan) + target_link_libraries(app PRIVATE clgan::clgan)\n"
    "                                       (CMAKE_PREFIX_PATH=P; clgan::clgan_static too)\n"
    "The API is documented in the headers; start with include/clgan/clgan.h.\n";

static const char interop_text[] =
    "Working with PyTorch and numpy:\n"
    "  clgan sample --checkpoint G --save-noise z.npy --out x.npy   the noise and images\n"
    "  clgan sample --checkpoint G --noise z.npy --out grid.png     images for given noise\n"
    "  clgan sample --checkpoint G --interpolate 3,7 --out lerp.png latent interpolation\n"
    "  /usr/bin/python3 tools/clgan_torch.py G [--noise z.npy]      G as a torch.nn.Module\n"
    "  numpy.load(RUN/generator_loss.npy), json lines in RUN/metrics.jsonl\n"
    "  tools/plot_losses.py RUN                                     the loss plots\n";

typedef struct {
    const char *name, *summary, *text;
    clgan_status (*print)(void); /* for pages made at run time, when text is NULL */
} topic;

static const topic topics[] = {
    {"outputs", "the files a run writes", outputs_text, NULL},
    {"presets", "the shipped recipes (--preset NAME)", NULL, topic_presets},
    {"remedies", "the flags that fix unstable training", remedies_text, NULL},
    {"devices", "how --device picks an OpenCL device", devices_text, NULL},
    {"environment", "the environment variables clgan reads", environment_text, NULL},
    {"library", "building programs against libclgan", library_text, NULL},
    {"interop", "noise, samples and generators in numpy and PyTorch", interop_text, NULL},
};
#define N_TOPICS ((int)(sizeof topics / sizeof topics[0]))

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Each shipped preset with its leading comment lines (the preset's own description). */
static clgan_status topic_presets(void)
{
    char dir[PATH_MAX + 200], *names[64];
    int n = 0;
    if (!clgan_find_sample(dir, sizeof dir, "presets"))
        return clgan_error(CLGAN_EIO, "the shipped presets (samples/presets) were not found");
    DIR *d = opendir(dir);
    if (!d)
        return clgan_error(CLGAN_EIO, "cannot read %s", dir);
    for (struct dirent *e; (e = readdir(d)) && n < 64;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".ini") && (names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    printf("Presets (clgan train --preset NAME; flags override them), from %s:\n", dir);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 300], line[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        printf("\n  %.*s\n", (int)strlen(names[i]) - 4, names[i]);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f) && line[0] == '#')
            printf("    %s", line + (line[1] == ' ' ? 2 : 1));
        if (f)
            fclose(f);
        free(names[i]);
    }
    return CLGAN_OK;
}

clgan_status cmd_help(int argc, char **argv)
{
    int nc;
    const cli_command *cmds = cli_commands(&nc);
    if (argc == 0) {
        cli_usage(stdout);
        return CLGAN_OK;
    }
    if (argc > 1)
        return clgan_error(CLGAN_EINVAL, "one topic at a time: clgan help TOPIC (clgan help topics)");
    const char *name = argv[0];
    if (!strcmp(name, "topics") || !strcmp(name, "help") || !strcmp(name, "--help") ||
        !strcmp(name, "-h")) {
        printf("clgan help TOPIC     one of the topics below\n"
               "clgan help COMMAND   a command's flags (the same as clgan COMMAND --help)\n"
               "Topics:\n");
        for (int i = 0; i < N_TOPICS; i++)
            printf("  %-12s %s\n", topics[i].name, topics[i].summary);
        return CLGAN_OK;
    }
    for (int i = 0; i < N_TOPICS; i++) /* a topic first: "devices" is both */
        if (!strcmp(name, topics[i].name)) {
            if (topics[i].text) {
                fputs(topics[i].text, stdout);
                return CLGAN_OK;
            }
            return topics[i].print();
        }
    const cli_command *c = cli_find_command(name);
    if (c) {
        char help[] = "--help", *args[] = {help, NULL};
        return c->run(1, args);
    }
    clgan_suggest sg;
    char near[200];
    clgan_suggest_init(&sg, name);
    for (int i = 0; i < nc; i++)
        clgan_suggest_add(&sg, cmds[i].name);
    for (int i = 0; i < N_TOPICS; i++)
        clgan_suggest_add(&sg, topics[i].name);
    clgan_suggest_text(&sg, "", near, sizeof near);
    return clgan_error(CLGAN_EINVAL, "no help on '%s'%s (clgan help topics lists them)", name, near);
}

clgan_status cmd_version(int argc, char **argv)
{
    char *text;
    if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: clgan --version (or clgan version)\n"
               "Prints clgan's version and git revision, the CLBlast it was built against and\n"
               "loaded, the OpenCL ICD loader, and every OpenCL platform with its version.\n");
        return CLGAN_OK;
    }
    if (argc > 0)
        return clgan_error(CLGAN_EINVAL, "unexpected argument '%s'", argv[0]);
    clgan_status st = clgan_version_describe(&text);
    if (st != CLGAN_OK)
        return st;
    fputs(text, stdout);
    free(text);
    return CLGAN_OK;
}
