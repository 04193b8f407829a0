/* clgan.h - libclgan, a GAN training engine on OpenCL: include this one header.
 *
 * ==== Overview ===========================================================================
 *
 * libclgan trains generative adversarial networks on any OpenCL device (a GPU, or the
 * CPU through PoCL) and is what the `clgan` binary is made of. The modules, one header
 * each, depend on each other in one direction (gan -> diag -> nn, optim -> runtime ->
 * io):
 *
 *   clgan/status.h   the status codes every fallible call returns; the last-error text
 *   clgan/runtime.h  OpenCL devices, the context and its queue, buffers, the GEMM seam
 *   clgan/nn.h       layers and networks over device buffers; GAN losses
 *   clgan/optim.h    SGD, Adam, RMSprop over a network's flat parameter buffer
 *   clgan/gan.h      the run configuration, the model builder, the trainer, checkpoints,
 *                    data sets, sampling, and clgan_run_train (what `clgan train` does)
 *   clgan/diag.h     the failure detectors, the sample evaluator, the HTML report
 *   clgan/io.h       IDX, NPY, PNG, GIF and safetensors files, atomic writes
 *
 * Conventions (every header):
 *   - A fallible function returns clgan_status: CLGAN_OK (0) on success; otherwise it
 *     has set a one-line message (clgan_error_msg()) naming what failed and what to do,
 *     and released whatever it allocated. The library prints nothing and never exits.
 *   - Objects are opaque handles made by clgan_X_init(&h, ...) and released by
 *     clgan_X_free(h); every _free accepts NULL.
 *   - Shapes are row-major and written next to each argument: (rows, cols).
 *   - One context (one device, one in-order queue) per thread; calls on objects of one
 *     context must not run concurrently. Calls marked non-blocking only enqueue work.
 *
 * Building against it (after `cmake --install build --prefix P`):
 *   cc app.c $(pkg-config --cflags --libs clgan)              # with P/lib/pkgconfig on
 *                                                           # PKG_CONFIG_PATH
 *   find_package(clgan REQUIRED)                             # CMake: CMAKE_PREFIX_PATH=P
 *   target_link_libraries(app PRIVATE clgan::clgan)          # or clgan::clgan_static
 * The OpenCL kernels are compiled into the library; the shipped presets, classifiers and
 * MNIST subset are found in P/share/clgan (clgan_find_sample).
 *
 * ==== Example: open a device, build a GAN from a configuration, train, sample, save ====
 *
 *   #include <clgan/clgan.h>
 *
 *   clgan_ctx *ctx = NULL;
 *   clgan_trainer *tr = NULL;
 *   clgan_net *g2 = NULL;
 *   clgan_dataset data = {0};
 *   clgan_config cfg, loaded;
 *   float z[4 * 100], img[4 * 784];
 *   int h, w;
 *   clgan_config_defaults(&cfg);                             // Keras-GAN's MNIST MLP GAN
 *   clgan_config_set(&cfg, "layers-g", "128,256");          // any `clgan train` flag
 *   if (clgan_ctx_init(&ctx, &(clgan_ctx_opts){.device = "auto"}) != CLGAN_OK ||
 *       clgan_dataset_load(&data, "") != CLGAN_OK ||         // "": the shipped MNIST subset
 *       clgan_trainer_init(&tr, ctx, &cfg, data.images, data.count,
 *                          CLGAN_SHAPE(data.h, data.w, data.c)) != CLGAN_OK)
 *       goto fail;
 *   for (int i = 0; i < 1000; i++)                           // 1000 iterations on the device
 *       if (clgan_trainer_step(tr) != CLGAN_OK) goto fail;
 *   clgan_trainer_sync(tr);                                  // losses are in ->history
 *   clgan_noise_normal(z, 4 * 100, 7);                       // as `clgan sample --seed 7`
 *   clgan_generator_run(ctx, clgan_trainer_get(tr)->g, z, 4, img);     // 4 images (4, 784)
 *   clgan_checkpoint_save_generator("g.safetensors", clgan_trainer_get(tr)->g, &cfg, 28, 28);
 *   clgan_checkpoint_load_generator(&g2, ctx, "g.safetensors", 4, &loaded, &h, &w);
 *   ...
 *   fail: fprintf(stderr, "clgan: %s\n", clgan_error_msg());
 *   clgan_net_free(g2); clgan_trainer_free(tr); clgan_dataset_free(&data); clgan_ctx_free(ctx);
 *
 * Or the whole of `clgan train`, run directory included: clgan_run_train(&cfg, NULL).
 * tests/install/consumer.c is this example as a program the test suite builds and runs
 * against an installed tree.
 */
#ifndef CLGAN_CLGAN_H
#define CLGAN_CLGAN_H

/* The module headers are plain C; from C++ include them through this header. */
#ifdef __cplusplus
extern "C" {
#endif

#include "clgan/diag.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "clgan/nn.h"
#include "clgan/optim.h"
#include "clgan/runtime.h"
#include "clgan/status.h"
#include "clgan/version.h"

/* The library's version, "MAJOR.MINOR.PATCH" (CLGAN_VERSION_STRING of the headers it was
 * built with). Never NULL. */
const char *clgan_version(void);

/* The git revision the library was built from: 12 hex digits, "-dirty" appended when
 * the checkout had uncommitted changes, or "unknown" when not built from git. */
const char *clgan_git_revision(void);

/* What this process finds at run time, one line each: clgan's version and revision and
 * compiler; the CLBlast it was built against and the file it loaded; the OpenCL ICD
 * loader's file; every OpenCL platform's name and version (PoCL's version is part of
 * its platform version). A failing OpenCL query is reported in its line, not as an
 * error. *text is malloc'd (caller frees). ENOMEM only. */
clgan_status clgan_version_describe(char **text);

#ifdef __cplusplus
}
#endif

#endif
