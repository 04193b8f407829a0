/* checkpoint.c - the generator as a safetensors file: every parameter and running
 * statistic under its layer name (dense0.kernel (in, out), bn0.moving_mean, ...) and,
 * as metadata, the full INI configuration plus the image size and channels, so `clgan
 * sample` can rebuild G. Readable from Python with any safetensors reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/io.h"

#define FORMAT "clgan-generator-1"

clgan_status clgan_checkpoint_save_generator(const char *path, clgan_net *g,
                                             const clgan_config *c, int img_h, int img_w)
{
    const clgan_net_view *v = clgan_net_get(g);
    float *hp = calloc(v->n_params + 1, sizeof *hp), *hs = calloc(v->n_state + 1, sizeof *hs);
    clgan_tensor_view *tv = calloc((size_t)v->n_tensors + 1, sizeof *tv);
    char *ini = clgan_config_to_ini(c);
    char h[32], w[32], ch[32];
    clgan_status st;
    if (!hp || !hs || !tv || !ini) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = clgan_net_read_params(g, hp, hs)) != CLGAN_OK)
        goto done;
    for (int i = 0; i < v->n_tensors; i++) {
        const clgan_tensor_info *ti = &v->tensors[i];
        snprintf(tv[i].name, sizeof tv[i].name, "%s", ti->name);
        tv[i].ndim = ti->ndim;
        memcpy(tv[i].shape, ti->shape, sizeof ti->shape);
        tv[i].data = (ti->trained ? hp : hs) + ti->offset;
    }
    snprintf(h, sizeof h, "%d", img_h);
    snprintf(w, sizeof w, "%d", img_w);
    snprintf(ch, sizeof ch, "%d", c->channels);
    const char *meta[] = {"format", FORMAT, "img_h", h, "img_w", w, "img_c", ch, "config", ini,
                          NULL};
    st = clgan_safetensors_write(path, tv, v->n_tensors, meta);
done:
    free(ini);
    free(tv);
    free(hs);
    free(hp);
    return st;
}

static int parse_dim(const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    return (s && *s && !*end && v > 0 && v <= 4096) ? (int)v : 0;
}

clgan_status clgan_checkpoint_load_generator(clgan_net **out, clgan_ctx *ctx, const char *path,
                                             int batch, clgan_config *c, int *img_h, int *img_w)
{
    clgan_tensor_set set = {0};
    clgan_net *g = NULL;
    float *hp = NULL, *hs = NULL;
    clgan_status st;
    *out = NULL;
    if ((st = clgan_safetensors_read(path, &set)) != CLGAN_OK)
        return st;
    const char *fmt = clgan_safetensors_meta(&set, "format");
    const char *ini = clgan_safetensors_meta(&set, "config");
    if (!fmt || strcmp(fmt, FORMAT) != 0 || !ini) {
        st = clgan_error(CLGAN_EFORMAT, "%s: not a clgan generator checkpoint (metadata format "
                         "'%s', expected '%s')", path, fmt ? fmt : "missing", FORMAT);
        goto done;
    }
    *img_h = parse_dim(clgan_safetensors_meta(&set, "img_h"));
    *img_w = parse_dim(clgan_safetensors_meta(&set, "img_w"));
    if (!*img_h || !*img_w) {
        st = clgan_error(CLGAN_EFORMAT, "%s: bad image size in metadata", path);
        goto done;
    }
    /* Checkpoints from before RGB have no img_c: their images are gray. */
    const char *chs = clgan_safetensors_meta(&set, "img_c");
    int img_c = chs ? parse_dim(chs) : 1;
    if (img_c != 1 && img_c != 3) {
        st = clgan_error(CLGAN_EFORMAT, "%s: bad image channels '%s' in metadata (1 or 3)", path,
                         chs);
        goto done;
    }
    clgan_config_defaults(c);
    if ((st = clgan_config_load_ini_text(c, ini, path)) != CLGAN_OK)
        goto done;
    c->channels = img_c;
    if ((st = clgan_model_generator(&g, ctx, c, CLGAN_SHAPE(*img_h, *img_w, img_c), batch)) !=
        CLGAN_OK)
        goto done;
    const clgan_net_view *v = clgan_net_get(g);
    hp = calloc(v->n_params + 1, sizeof *hp);
    hs = calloc(v->n_state + 1, sizeof *hs);
    if (!hp || !hs) {
        st = clgan_error(CLGAN_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < v->n_tensors; i++) {
        const clgan_tensor_info *ti = &v->tensors[i];
        const clgan_tensor_view *tv = clgan_safetensors_find(&set, ti->name);
        if (!tv || !clgan_tensor_shape_eq(ti, tv->ndim, tv->shape)) {
            st = clgan_error(CLGAN_EFORMAT, "%s: tensor %s is missing or has the wrong shape", path,
                             ti->name);
            goto done;
        }
        memcpy((ti->trained ? hp : hs) + ti->offset, tv->data, ti->count * sizeof(float));
    }
    if ((st = clgan_net_write_params(g, hp, hs)) != CLGAN_OK)
        goto done;
    *out = g;
    g = NULL;
done:
    clgan_net_free(g);
    free(hp);
    free(hs);
    clgan_safetensors_free(&set);
    return st;
}
