/* kernels.h - the one host table of clgan's OpenCL kernels and of the tunables their
 * sources are compiled with. Every kernel of cl/ is named here once; the runtime creates
 * them all at setup (a kernel missing from the program is an error naming it) and a
 * launch refers to one by id (CLGAN_K_<kernel name>), never by a string. Tunables reach
 * the kernel sources as -D<NAME>=<value> build options, computed per device from this
 * table (src/runtime/tunables.c), and the host reads the same values back with
 * clgan_tunable(): there is no second copy of a constant to keep in step.
 */
#ifndef CLGAN_KERNELS_H
#define CLGAN_KERNELS_H

/* The activation families of cl/activation.cl, one kernel per clgan_act in its order
 * (none, leakyrelu, relu, tanh, sigmoid, elu): CLGAN_K_bias_act_fwd_none + act. */
#define CLGAN_ACT_FAMILY(X, prefix)                                                     \
    X(prefix##none) X(prefix##leakyrelu) X(prefix##relu) X(prefix##tanh)                \
    X(prefix##sigmoid) X(prefix##elu)

#define CLGAN_KERNEL_LIST(X)                                                            \
    /* activation.cl */                                                                 \
    CLGAN_ACT_FAMILY(X, bias_act_fwd_)                                                  \
    CLGAN_ACT_FAMILY(X, act_bwd_bias_)                                                  \
    CLGAN_ACT_FAMILY(X, act_bwd_bias8_)                                                 \
    X(act_fwd) X(add_fwd) X(dropout_fwd) X(dropout_bwd)                                 \
    X(dropout2d_mask) X(dropout2d_apply)                                                \
    /* classify.cl */                                                                   \
    X(gather_augment_u8) X(softmax_xent) X(softmax_rows) X(pairwise_dist_rowsum)        \
    /* conv.cl */                                                                       \
    X(im2col_nhwc) X(col2im_nhwc) X(upsample_fwd) X(upsample_bwd) X(zeropad_fwd)        \
    X(zeropad_bwd)                                                                      \
    /* gemm.cl */                                                                       \
    X(gemm_nn) X(gemm_tn) X(gemm_nt)                                                    \
    /* gemm_conv.cl */                                                                  \
    X(conv_fwd) X(conv_wgrad) X(conv_flip)                                              \
    /* gradpen.cl */                                                                    \
    X(gp_interpolate) X(gp_penalty) X(gp_act_rev) X(gp_zbar_bias)                       \
    /* loss.cl */                                                                       \
    X(gan_loss)                                                                         \
    /* monitor.cl */                                                                    \
    X(tensor_norms)                                                                     \
    /* norm.cl */                                                                       \
    X(batchnorm_fwd_train) X(batchnorm_fwd_train8) X(batchnorm_fwd_eval)                \
    X(batchnorm_bwd) X(batchnorm_bwd8)                                                  \
    X(layernorm_fwd) X(layernorm_bwd_data) X(layernorm_bwd_params)                      \
    X(layernorm_gp_rev) X(layernorm_gp_params)                                          \
    /* optim.cl */                                                                      \
    X(opt_sumsq_partial) X(opt_norm_finish) X(opt_update_sgd) X(opt_update_momentum)    \
    X(opt_update_adam) X(opt_update_rmsprop) X(weight_clip)                             \
    /* random.cl */                                                                     \
    X(randn_fill) X(gather_batch_u8) X(add_noise)                                       \
    /* specnorm.cl */                                                                   \
    X(sn_power) X(sn_grad)

#define CLGAN_KERNEL_ENUM_(name) CLGAN_K_##name,
typedef enum { CLGAN_KERNEL_LIST(CLGAN_KERNEL_ENUM_) CLGAN_K_COUNT } clgan_kernel_id;
#undef CLGAN_KERNEL_ENUM_

/* The kernel's name in cl/ ("batchnorm_bwd"); "?" when out of range. */
const char *clgan_kernel_name(clgan_kernel_id id);

/* Compile-time constants of the kernel sources. Each is a work-group size (the kernels
 * that reduce in local memory declare reqd_work_group_size(<it>)), a vector width or a
 * register-tile size. */
#define CLGAN_TUNABLE_LIST(X)                                                           \
    X(LOSS_WG)  /* loss.cl: work-items of the loss reduction */                         \
    X(GP_WG)    /* gradpen.cl: work-items of the penalty reduction */                   \
    X(LN_WG)    /* norm.cl: work-items per sample of the LayerNorm reductions */        \
    X(SN_WG)    /* specnorm.cl: work-items of the spectral-norm power iteration */      \
    X(MON_WG)   /* monitor.cl: work-items per tensor norm */                            \
    X(XENT_WG)  /* classify.cl: work-items of the cross-entropy reduction */            \
    X(OPT_WG)   /* optim.cl: work-items of the norm reductions and GPU-shaped updates */ \
    X(OPT_VW)   /* optim.cl: floats per vector of the update kernels */                 \
    X(GEMM_VW)  /* gemm.cl: floats per vector */                                        \
    X(GEMM_TM)  /* gemm.cl: nn/tn rows of C per work-item */                            \
    X(GEMM_TNV) /* gemm.cl: nn/tn vectors of columns of C per work-item */              \
    X(GEMM_DM)  /* gemm.cl: nt rows of C per work-item */                               \
    X(GEMM_DN)  /* gemm.cl: nt columns of C per work-item */

#define CLGAN_TUNABLE_ENUM_(name) CLGAN_T_##name,
typedef enum { CLGAN_TUNABLE_LIST(CLGAN_TUNABLE_ENUM_) CLGAN_T_COUNT } clgan_tunable_id;
#undef CLGAN_TUNABLE_ENUM_

/* Codes the host and the kernels share: the kernels see -DACT_RELU=2 and so on, and
 * the host enums are defined from the same entries (nn.h: clgan_act, clgan_loss,
 * clgan_role), so there is one place where a code's value is written. */
#define CLGAN_CODE_LIST(X)                                                                  X(ACT_NONE, 0) X(ACT_LEAKYRELU, 1) X(ACT_RELU, 2) X(ACT_TANH, 3) X(ACT_SIGMOID, 4)      X(ACT_ELU, 5)                                                                           X(LOSS_BCE, 0) X(LOSS_BCE_LOGITS, 1) X(LOSS_LSGAN, 2) X(LOSS_HINGE, 3)                  X(LOSS_WASSERSTEIN, 4)                                                                  X(ROLE_D_REAL, 0) X(ROLE_D_FAKE, 1) X(ROLE_G, 2)

#define CLGAN_CODE_ENUM_(name, value) CLGAN_CODE_##name = value,
enum { CLGAN_CODE_LIST(CLGAN_CODE_ENUM_) };
#undef CLGAN_CODE_ENUM_

#endif
