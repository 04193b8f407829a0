/* cmd_classifier.c - `clgan train-classifier`: trains the evaluation classifier (MNIST or
 * Fashion-MNIST) on the device, reports its held-out accuracy and saves it as
 * safetensors. Finds the data and the held-out split; the training itself is diag's. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "cli.h"

static const char usage_text[] =
    "usage: clgan train-classifier [--data DIR|fashion] [--out FILE] [--epochs N] [--seed S]\n"
    "                              [--device D] [--holdout N] [--limit N]\n"
    "Trains the digit (or garment) classifier that scores GAN samples, on the device:\n"
    "784-512-128 ReLU MLP, dropout 0.3, Adam, batches augmented on the device (random shifts,\n"
    "rotations, zooms). Prints the held-out accuracy and stores it in FILE's metadata.\n"
    "  --data DIR|fashion  MNIST-format IDX files with labels (default: the shipped\n"
    "                      samples/data); 'fashion' is Debian's dataset-fashion-mnist\n"
    "  --out FILE          where to write the weights (default classifier.safetensors)\n"
    "  --epochs N          default 60 (MNIST) or 20 (fashion)\n"
    "  --seed S            weights, shuffling, augmentation, dropout (default 1)\n"
    "  --device D          as for 'clgan train' (default auto)\n"
    "  --holdout N         held-out images taken from the end of the training files when\n"
    "                      DIR has no t10k-* test files (default 1000)\n"
    "  --limit N           train on at most the first N training images (quick checks)\n";

static int exists_gz(char *out, size_t n, const char *dir, const char *base)
{
    snprintf(out, n, "%s/%s", dir, base);
    if (access(out, R_OK) == 0)
        return 1;
    snprintf(out, n, "%s/%s.gz", dir, base);
    return access(out, R_OK) == 0;
}

/* Reads DIR/t10k-* into *img, *lab when both exist (1), else 0; errors as the IDX reader. */
static clgan_status load_test(clgan_idx *img, clgan_idx *lab, int *found, const char *dir, int h,
                              int w)
{
    char pi[PATH_MAX + 64], pl[PATH_MAX + 64];
    clgan_status st;
    *found = exists_gz(pi, sizeof pi, dir, "t10k-images-idx3-ubyte") &&
             exists_gz(pl, sizeof pl, dir, "t10k-labels-idx1-ubyte");
    if (!*found)
        return CLGAN_OK;
    if ((st = clgan_idx_read(pi, img)) != CLGAN_OK || (st = clgan_idx_read(pl, lab)) != CLGAN_OK)
        return st;
    if (img->ndim != 3 || (int)img->dims[1] != h || (int)img->dims[2] != w || lab->ndim != 1 ||
        lab->dims[0] != img->dims[0] || img->dims[0] == 0)
        return clgan_error(CLGAN_EFORMAT, "%s/t10k-*: expected (N, %d, %d) images and N labels", dir,
                           h, w);
    return CLGAN_OK;
}

clgan_status cmd_classifier(int argc, char **argv)
{
    const char *data = "", *out = "classifier.safetensors", *device = "auto";
    long epochs = 0, seed = 1, holdout = 1000, limit = 0;
    int found = 0, help;
    const cli_option opts[] = {
        {"data", &data, NULL, 0, 0, NULL},           {"out", &out, NULL, 0, 0, NULL},
        {"device", &device, NULL, 0, 0, NULL},       {"epochs", NULL, &epochs, 1, 10000, NULL},
        {"seed", NULL, &seed, 0, 0x7fffffffL, NULL}, {"holdout", NULL, &holdout, 1, 10000000, NULL},
        {"limit", NULL, &limit, 1, 100000000, NULL},
    };
    clgan_status st = cli_parse(argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), usage_text, &help);
    if (st != CLGAN_OK || help)
        return st;
    int fashion = !strcmp(data, "fashion");
    clgan_dataset d;
    clgan_idx ti = {0}, tl = {0};
    clgan_ctx *ctx = NULL;
    clgan_classifier *c = NULL;
    char dir[PATH_MAX], name[400], train_desc[600], held_desc[600];
    if ((st = clgan_dataset_load(&d, data)) != CLGAN_OK)
        return st;
    if (!d.labels) {
        st = clgan_error(CLGAN_EINVAL, "%s has no train-labels-idx1-ubyte[.gz] beside it: the "
                         "classifier needs labels", d.source);
        goto done;
    }
    char src[sizeof d.source];
    snprintf(src, sizeof src, "%s", d.source);
    snprintf(dir, sizeof dir, "%s", dirname(src)); /* dirname may modify src */
    snprintf(name, sizeof name, "%.399s", !*data ? "samples/data (shipped MNIST subset)"
                                      : fashion ? "Fashion-MNIST (/usr/share/datasets/fashion-mnist)"
                                                : dir);
    if ((st = load_test(&ti, &tl, &found, dir, d.h, d.w)) != CLGAN_OK)
        goto done;
    size_t n_train = d.count;
    clgan_labeled train = {d.images, d.labels, 0, d.h, d.w}, held = {0};
    if (found) {
        held = (clgan_labeled){ti.data, tl.data, ti.dims[0], d.h, d.w};
        snprintf(held_desc, sizeof held_desc, "%s: t10k test set, %zu images", name, held.count);
    } else {
        if ((size_t)holdout >= d.count) {
            st = clgan_error(CLGAN_EINVAL, "--holdout %ld leaves no training images (the data has %zu)",
                             holdout, d.count);
            goto done;
        }
        n_train = d.count - (size_t)holdout;
        size_t dim = (size_t)d.h * d.w;
        held = (clgan_labeled){d.images + n_train * dim, d.labels + n_train, (size_t)holdout, d.h, d.w};
        snprintf(held_desc, sizeof held_desc, "%s: images %zu..%zu of train-images (the last %ld, "
                 "never trained on)", name, n_train, d.count - 1, holdout);
    }
    train.count = limit && (size_t)limit < n_train ? (size_t)limit : n_train;
    snprintf(train_desc, sizeof train_desc, "%s: images 0..%zu of train-images (%zu)", name,
             train.count - 1, train.count);
    clgan_classifier_opts o = clgan_classifier_defaults();
    o.epochs = epochs ? (int)epochs : fashion ? 20 : 60;
    o.seed = (uint64_t)seed;
    o.data = train_desc;
    o.heldout = held_desc;
    if (fashion) { /* 60 000 images need no augmentation (garments are centred, upright) */
        o.rot = 0.0f;
        o.scale = 0.0f;
        o.shift = 0.0f;
    }
    if (train.count < (size_t)o.batch)
        o.batch = (int)train.count;
    clgan_ctx_opts co = {.device = device};
    if ((st = clgan_ctx_init(&ctx, &co)) != CLGAN_OK)
        goto done;
    printf("clgan: training the classifier on %s (%s)\n  train: %s\n  held out: %s\n",
           clgan_ctx_get(ctx)->dev.name, name, train_desc, held_desc);
    if ((st = clgan_gemm_autoselect(ctx)) != CLGAN_OK ||
        (st = clgan_classifier_train(&c, ctx, &o, &train, &held, stdout)) != CLGAN_OK ||
        (st = clgan_classifier_save(c, out)) != CLGAN_OK)
        goto done;
    printf("clgan: wrote %s (held-out accuracy %.4f on %zu images)\n", out,
           clgan_classifier_get(c)->heldout_accuracy, held.count);
done:
    clgan_classifier_free(c);
    clgan_ctx_free(ctx);
    clgan_idx_free(&tl);
    clgan_idx_free(&ti);
    clgan_dataset_free(&d);
    return st;
}
