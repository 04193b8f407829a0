#!/usr/bin/python3
"""Keras-GAN `gan/gan.py` MLP GAN recipe re-implemented in PyTorch with exact Keras 2 conventions.

This is the reference the C engine (clgan) is checked against.  PyTorch's own
layers differ from Keras in several details, so everything that differs is
written by hand here; autograd is used only for the gradients.

Recipe (Keras-GAN, gan/gan.py):
  G: z(latent) -> [Dense(w) -> LeakyReLU(0.2) -> BatchNormalization(momentum=0.8)]
                  for w in g_layers -> Dense(img_dim) -> tanh
  D: x(img_dim) -> [Dense(w) -> LeakyReLU(0.2)] for w in d_layers -> Dense(1) -> sigmoid
  loss binary_crossentropy, metric accuracy, Adam(lr=2e-4, beta_1=0.5), one
  optimizer object shared by D and the combined model (so one iteration counter).

Keras conventions implemented here:
  * Dense kernel has shape (in, out); y = x @ W + b.  Kernel init Glorot uniform,
    limit sqrt(6 / (in + out)); bias 0.
  * BatchNormalization (TF backend): eps 1e-3.  Training: batch mean and biased
    batch variance, y = gamma * (x - mean) / sqrt(var + eps) + beta; moving stats
    moving = m * moving + (1 - m) * value with m = 0.8, where the variance fed to
    the moving average is var_biased * n / (n - (1 + eps)).  Inference: moving
    stats (initialised 0 and 1).  gamma 1, beta 0.
  * binary_crossentropy: p clipped to [1e-7, 1 - 1e-7] (zero gradient where
    clipped), mean over the batch of -(y log p + (1 - y) log(1 - p)).
    accuracy = mean(round(p) == y) with round half to even.
  * Adam (Keras 2): ONE counter t for all updates of an iteration, incremented
    before each update; lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t);
    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr_t * m / (sqrt(v) + 1e-7).
    lr_t is computed in Python double precision, then applied in the tensor dtype.
  * One iteration (KerasGAN.train_iteration): fake = G(zd) in inference mode;
    D update on (real, 1); D update on (fake, 0); G update through frozen D on
    (zg, 1) with G in training mode (batch stats, moving stats updated).
    Reported losses/accuracies are from the forward pass before each update.

Parameter names (shared with the C engine):
  G: dense0, bn0, dense1, bn1, ..., dense{k} (output layer):
     dense{i}.kernel (in,out), dense{i}.bias (out), bn{i}.gamma, bn{i}.beta,
     bn{i}.moving_mean, bn{i}.moving_variance
  D: dense0 .. dense{k}: dense{i}.kernel, dense{i}.bias

ClganRef (below KerasGAN) generalizes this to clgan's settings: it reads a clgan
configuration (clgan_config(): the INI sections and keys of src/gan/config.c) and runs
exactly src/gan/trainer.c's schedule (several D and G steps, separate or joint D
updates, the WGAN-GP penalty with coefficients from a numpy port of clgan's
Philox4x32-10, WGAN weight clipping, residual blocks, every loss kind, label smoothing,
the minimax G loss, SGD/Adam/RMSprop with L2, decoupled decay and gradient clipping in
include/clgan/optim.h's order with torch.optim's arithmetic). Settings whose random
draws it does not reproduce (dropout, label flipping, instance noise) are refused.
Networks written as layer specs (--arch-g / --arch-d: convolutions, dropout with clgan's
Philox masks) are trained by its subclass ClganArchRef in tools/clgan_arch_ref.py.

Use as a module:
  import sys; sys.path.insert(0, "tools"); from keras_gan_torch import KerasGAN
  gan = KerasGAN(latent=8, g_layers=(16, 32, 64), d_layers=(32, 16), img_dim=64)
  stats = gan.train_iteration(real, noise_d, noise_g)

Run directly for a self-test (finite-difference gradient checks in float64, BN
moving-statistics and Adam-step checks; ClganRef: Philox known answers, every optimizer
rule against torch.optim, and ClganRef = KerasGAN on the Keras-GAN settings):
  tools/keras_gan_torch.py --selftest
"""

import argparse
import math
import sys
from collections import OrderedDict

import numpy as np
import torch

DEFAULTS = dict(
    latent=100,
    g_layers=(256, 512, 1024),
    d_layers=(512, 256),
    img_dim=784,
    lr=2e-4,
    beta1=0.5,
    beta2=0.999,
    adam_eps=1e-7,
    bn_momentum=0.8,
    bn_eps=1e-3,
    slope=0.2,
    bce_clip=1e-7,
)


def glorot_uniform(fan_in, fan_out, dtype, gen=None):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    w = torch.rand(fan_in, fan_out, generator=gen, dtype=torch.float32) * 2.0 - 1.0
    return (w * limit).to(dtype)


def leaky_relu(x, slope):
    return torch.where(x >= 0, x, x * slope)


def bce(p, y, clip):
    """Keras binary_crossentropy on probabilities: clip, then mean over batch."""
    pc = torch.clamp(p, clip, 1.0 - clip)
    return torch.mean(-(y * torch.log(pc) + (1.0 - y) * torch.log(1.0 - pc)))


def binary_accuracy(p, y):
    # torch.round rounds half to even, like tf.round / numpy.round
    return torch.mean((torch.round(p) == y).to(p.dtype))


class KerasGAN:
    """Hand-written Keras-convention MLP GAN (see module docstring)."""

    def __init__(self, latent=DEFAULTS["latent"], g_layers=DEFAULTS["g_layers"],
                 d_layers=DEFAULTS["d_layers"], img_dim=DEFAULTS["img_dim"],
                 dtype=torch.float32, gen=None, lr=DEFAULTS["lr"], beta1=DEFAULTS["beta1"],
                 beta2=DEFAULTS["beta2"], adam_eps=DEFAULTS["adam_eps"],
                 bn_momentum=DEFAULTS["bn_momentum"], bn_eps=DEFAULTS["bn_eps"],
                 slope=DEFAULTS["slope"], bce_clip=DEFAULTS["bce_clip"]):
        self.latent = int(latent)
        self.g_layers = tuple(int(w) for w in g_layers)
        self.d_layers = tuple(int(w) for w in d_layers)
        self.img_dim = int(img_dim)
        self.dtype = dtype
        self.lr, self.beta1, self.beta2, self.adam_eps = lr, beta1, beta2, adam_eps
        self.bn_momentum, self.bn_eps = bn_momentum, bn_eps
        self.slope, self.bce_clip = slope, bce_clip
        self.t = 0  # Keras optimizer `iterations`, shared by D and combined model

        # Initialisation order: G layers in order, then D layers in order.
        # Random numbers are always drawn in float32 so that a float64 model
        # built from the same seed starts from the same values.
        self.G = OrderedDict()
        fan_in = self.latent
        for i, w in enumerate(self.g_layers):
            self.G["dense%d.kernel" % i] = glorot_uniform(fan_in, w, dtype, gen)
            self.G["dense%d.bias" % i] = torch.zeros(w, dtype=dtype)
            self.G["bn%d.gamma" % i] = torch.ones(w, dtype=dtype)
            self.G["bn%d.beta" % i] = torch.zeros(w, dtype=dtype)
            self.G["bn%d.moving_mean" % i] = torch.zeros(w, dtype=dtype)
            self.G["bn%d.moving_variance" % i] = torch.ones(w, dtype=dtype)
            fan_in = w
        k = len(self.g_layers)
        self.G["dense%d.kernel" % k] = glorot_uniform(fan_in, self.img_dim, dtype, gen)
        self.G["dense%d.bias" % k] = torch.zeros(self.img_dim, dtype=dtype)

        self.D = OrderedDict()
        fan_in = self.img_dim
        for i, w in enumerate(list(self.d_layers) + [1]):
            self.D["dense%d.kernel" % i] = glorot_uniform(fan_in, w, dtype, gen)
            self.D["dense%d.bias" % i] = torch.zeros(w, dtype=dtype)
            fan_in = w

        self._init_adam()

    # ---- bookkeeping -------------------------------------------------------
    @staticmethod
    def is_trainable(name):
        return not (name.endswith(".moving_mean") or name.endswith(".moving_variance"))

    def g_trainable(self):
        return [n for n in self.G if self.is_trainable(n)]

    def d_trainable(self):
        return list(self.D.keys())

    def _init_adam(self):
        self.mG = {n: torch.zeros_like(self.G[n]) for n in self.g_trainable()}
        self.vG = {n: torch.zeros_like(self.G[n]) for n in self.g_trainable()}
        self.mD = {n: torch.zeros_like(self.D[n]) for n in self.d_trainable()}
        self.vD = {n: torch.zeros_like(self.D[n]) for n in self.d_trainable()}

    def state(self):
        """All parameters and BN moving stats as {'G/name': tensor, 'D/name': tensor} (copies)."""
        out = OrderedDict()
        for n, v in self.G.items():
            out["G/" + n] = v.detach().clone()
        for n, v in self.D.items():
            out["D/" + n] = v.detach().clone()
        return out

    def to(self, dtype):
        """Copy of this model (params, moments, counter) in another dtype."""
        other = KerasGAN.__new__(KerasGAN)
        other.__dict__.update(self.__dict__)
        other.dtype = dtype
        other.G = OrderedDict((n, v.detach().to(dtype).clone()) for n, v in self.G.items())
        other.D = OrderedDict((n, v.detach().to(dtype).clone()) for n, v in self.D.items())
        for a in ("mG", "vG", "mD", "vD"):
            setattr(other, a, {n: v.to(dtype).clone() for n, v in getattr(self, a).items()})
        return other

    # ---- forward passes ----------------------------------------------------
    def g_forward(self, z, training, params=None, update_stats=False):
        """G(z). training=True: batch stats (and, if update_stats, moving stats updated)."""
        P = self.G if params is None else params
        h = z
        for i in range(len(self.g_layers)):
            h = h @ P["dense%d.kernel" % i] + P["dense%d.bias" % i]
            h = leaky_relu(h, self.slope)
            gamma, beta = P["bn%d.gamma" % i], P["bn%d.beta" % i]
            if training:
                mean = h.mean(dim=0)
                var = ((h - mean) ** 2).mean(dim=0)  # biased
                if update_stats:
                    n = h.shape[0]
                    m = self.bn_momentum
                    mm, mv = self.G["bn%d.moving_mean" % i], self.G["bn%d.moving_variance" % i]
                    var_u = var.detach() * (n / (n - (1.0 + self.bn_eps)))
                    self.G["bn%d.moving_mean" % i] = m * mm + (1.0 - m) * mean.detach()
                    self.G["bn%d.moving_variance" % i] = m * mv + (1.0 - m) * var_u
            else:
                mean = P["bn%d.moving_mean" % i]
                var = P["bn%d.moving_variance" % i]
            h = gamma * (h - mean) / torch.sqrt(var + self.bn_eps) + beta
        k = len(self.g_layers)
        h = h @ P["dense%d.kernel" % k] + P["dense%d.bias" % k]
        return torch.tanh(h)

    def d_forward(self, x, params=None):
        P = self.D if params is None else params
        h = x
        k = len(self.d_layers)
        for i in range(k):
            h = leaky_relu(h @ P["dense%d.kernel" % i] + P["dense%d.bias" % i], self.slope)
        h = h @ P["dense%d.kernel" % k] + P["dense%d.bias" % k]
        return torch.sigmoid(h).reshape(-1)

    # ---- optimiser ---------------------------------------------------------
    def _adam(self, params, grads, m, v):
        self.t += 1
        t = self.t
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        for n, g in grads.items():
            m[n] = self.beta1 * m[n] + (1.0 - self.beta1) * g
            v[n] = self.beta2 * v[n] + (1.0 - self.beta2) * g * g
            params[n] = params[n] - lr_t * m[n] / (torch.sqrt(v[n]) + self.adam_eps)

    # ---- training steps ----------------------------------------------------
    def d_loss_fn(self, x, y, dparams):
        p = self.d_forward(x, dparams)
        yt = torch.full_like(p, float(y))
        return bce(p, yt, self.bce_clip), binary_accuracy(p.detach(), yt)

    def g_loss_fn(self, z, gparams, update_stats=False):
        fake = self.g_forward(z, training=True, params=gparams, update_stats=update_stats)
        p = self.d_forward(fake)
        yt = torch.ones_like(p)
        return bce(p, yt, self.bce_clip), binary_accuracy(p.detach(), yt)

    def d_train_on_batch(self, x, y):
        names = self.d_trainable()
        leaves = {n: self.D[n].detach().clone().requires_grad_(True) for n in names}
        loss, acc = self.d_loss_fn(x, y, leaves)
        grads = torch.autograd.grad(loss, [leaves[n] for n in names])
        self._adam(self.D, dict(zip(names, grads)), self.mD, self.vD)
        return float(loss), float(acc)

    def g_train_on_batch(self, z):
        names = self.g_trainable()
        leaves = dict(self.G)
        for n in names:
            leaves[n] = self.G[n].detach().clone().requires_grad_(True)
        loss, acc = self.g_loss_fn(z, leaves, update_stats=True)
        grads = torch.autograd.grad(loss, [leaves[n] for n in names])
        self._adam(self.G, dict(zip(names, grads)), self.mG, self.vG)
        return float(loss), float(acc)

    def train_iteration(self, real, noise_d, noise_g):
        """One Keras-GAN iteration; returns a dict of the five recorded values."""
        with torch.no_grad():
            fake = self.g_forward(noise_d, training=False)
        d_loss_real, d_acc_real = self.d_train_on_batch(real, 1.0)
        d_loss_fake, d_acc_fake = self.d_train_on_batch(fake, 0.0)
        g_loss, _ = self.g_train_on_batch(noise_g)
        return dict(d_loss_real=d_loss_real, d_acc_real=d_acc_real,
                    d_loss_fake=d_loss_fake, d_acc_fake=d_acc_fake,
                    g_loss=g_loss, d_loss=0.5 * (d_loss_real + d_loss_fake))


# ---- the configurable reference: clgan's settings, its schedule, PyTorch semantics ----
#
# ClganRef runs exactly what src/gan/trainer.c runs for a clgan configuration (INI
# sections and keys of src/gan/config.c), with autograd for every gradient. It covers
# the settings the parity fixtures use and refuses the ones it does not implement
# (dropout, label flipping, instance noise: each draws device random numbers that are
# not reproduced here, except the WGAN-GP interpolation coefficients, which are).

# clgan_config_defaults() as INI text values, in src/gan/config.c table order.
_NET_DEFAULTS = OrderedDict([
    ("layers", None), ("activation", "leakyrelu"), ("batchnorm", "off"), ("residual", "off"),
    ("dropout", "0"), ("steps", "1"), ("optimizer", "adam"), ("lr", "0.0002"),
    ("beta1", "0.5"), ("beta2", "0.999"), ("eps", "1e-07"), ("momentum", "0"),
    ("nesterov", "off"), ("alpha", "0.9"), ("l2", "0"), ("weight-decay", "0"),
    ("clip-grad-value", "0"), ("clip-grad-norm", "0"),
])
_SECTION_DEFAULTS = OrderedDict([
    ("generator", dict(layers="256,512,1024", batchnorm="on")),
    ("discriminator", dict(layers="512,256")),
    ("model", OrderedDict([("latent", "100"), ("leaky-slope", "0.2"), ("bn-eps", "0.001"),
                           ("bn-momentum", "0.8"), ("bn-variance", "keras")])),
    ("train", OrderedDict([
        ("iterations", "30000"), ("batch", "32"), ("adam-form", "keras"),
        ("adam-shared-step", "on"), ("loss", "bce"), ("g-loss", "nonsat"), ("bce-clip", "1e-07"),
        ("label-smoothing", "0"), ("label-flip", "0"), ("instance-noise", "0"),
        ("instance-noise-decay", "10000"), ("gp-lambda", "0"), ("clip-weights-d", "0"),
        ("d-update", "separate"), ("fake-mode", "eval"), ("seed", "0")])),
])


# Network keys that are written out only when set (so the configurations of the
# fixtures made before they existed stay as they were): the layer spec and the kernel
# initialization (tools/clgan_arch.py, tools/clgan_arch_ref.py).
_NET_OPTIONAL = OrderedDict([("arch", ""), ("init", "glorot"), ("init-std", "0.02")])


def clgan_config(overrides=None):
    """clgan's defaults (the settings that change the arithmetic of a step) with
    `overrides` ({section: {key: value}}) applied: {section: OrderedDict(key: str)}.
    Unknown sections or keys raise KeyError, as clgan refuses them."""
    cfg = OrderedDict()
    for sec, d in _SECTION_DEFAULTS.items():
        if sec in ("generator", "discriminator"):
            cfg[sec] = OrderedDict((k, d.get(k, v)) for k, v in _NET_DEFAULTS.items())
        else:
            cfg[sec] = OrderedDict(d)
    for sec, d in (overrides or {}).items():
        for k, v in d.items():
            if k not in cfg[sec] and not (sec in ("generator", "discriminator")
                                          and k in _NET_OPTIONAL):
                raise KeyError("unknown key %s in [%s]" % (k, sec))
            cfg[sec][k] = str(v)
    return cfg


def clgan_ini(cfg):
    """The configuration as INI text for clgan_config_load_ini_text."""
    out = []
    for sec, d in cfg.items():
        out.append("[%s]" % sec)
        out.extend("%s = %s" % (k, v) for k, v in d.items())
    return "\n".join(out) + "\n"


def f32(s):
    """A setting as clgan holds it: strtod, then rounded to float32."""
    return float(np.float32(float(s)))


def _on(s):
    if s in ("on", "true", "1", "yes"):
        return True
    if s in ("off", "false", "0", "no"):
        return False
    raise ValueError("not on/off: %r" % s)


# ---- Philox4x32-10 (cl/common.h) in numpy ----------------------------------------

_PHILOX_M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_PHILOX_W = (np.uint64(0x9E3779B9), np.uint64(0xBB67AE85))
_MASK32 = np.uint64(0xFFFFFFFF)


def philox4x32(counter, key):
    """Philox4x32-10 of counters (..., 4) uint32 under key (k0, k1); returns (..., 4) uint32.
    Each round: (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)), then
    the key is bumped by the Weyl constants (Salmon et al. 2011; Random123)."""
    c = np.asarray(counter, dtype=np.uint64)
    c = [c[..., i] for i in range(4)]
    k0, k1 = np.uint64(key[0]) & _MASK32, np.uint64(key[1]) & _MASK32
    for _ in range(10):
        p0, p1 = _PHILOX_M[0] * c[0], _PHILOX_M[1] * c[2]  # < 2^64: exact in uint64
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & _MASK32,
             (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & _MASK32]
        k0, k1 = (k0 + _PHILOX_W[0]) & _MASK32, (k1 + _PHILOX_W[1]) & _MASK32
    return np.stack(c, axis=-1).astype(np.uint32)


def u01(x):
    """cl/common.h u01 in float32 arithmetic: ((float)(x >> 8) + 0.5f) * 2^-24."""
    hi = (np.asarray(x, dtype=np.uint32) >> np.uint32(8)).astype(np.float32)
    return (hi + np.float32(0.5)) * np.float32(1.0 / 16777216.0)


STREAM_INTERP = 9  # src/gan/trainer.c
DRAWS = 16         # draw counter = iteration * DRAWS + sub-step


def interp_coefficients(seed, iteration, k, rows):
    """The WGAN-GP e (rows,) float32 of D step k of `iteration`, as cl/gradpen.cl
    gp_interpolate draws them: u01 of the first Philox word of counter (row, step lo,
    step hi, STREAM_INTERP), key (seed lo, seed hi), step = iteration * DRAWS + k."""
    step = iteration * DRAWS + k
    ctr = np.zeros((rows, 4), dtype=np.uint64)
    ctr[:, 0] = np.arange(rows)
    ctr[:, 1], ctr[:, 2], ctr[:, 3] = step & 0xFFFFFFFF, step >> 32, STREAM_INTERP
    return u01(philox4x32(ctr, (seed & 0xFFFFFFFF, seed >> 32))[:, 0])


# ---- optimizer (include/clgan/optim.h order; PyTorch's arithmetic per rule) ---------

class ClganOpt:
    """One network's optimizer. A step, as include/clgan/optim.h orders it:
      e = g + l2 p;  norm_before = ||e||;  e = clamp(e, -cv, cv);
      e *= min(1, clip_norm / (||e|| + 1e-6))       (torch.nn.utils.clip_grad_norm_);
      the rule, written as torch.optim 1.13 writes it:
        adam torch  m = b1 m + (1-b1) e; v = b2 v + (1-b2) e^2;
                    upd = lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)   (torch.optim.Adam)
        adam keras  upd = lr sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)   (Keras 2)
        rmsprop     v = a v + (1-a) e^2; upd = lr * e / (sqrt(v) + eps)   (torch.optim.RMSprop)
        sgd         b = mu b + e; upd = lr (nesterov ? e + mu b : b)      (torch.optim.SGD)
      p = p (1 - lr wd) - upd                                            (torch.optim.AdamW)
    Scalars are float32 settings; Python-double products of them (step sizes) are
    rounded to the tensor dtype when applied, as clgan passes them as floats."""

    def __init__(self, net_cfg, adam_form, params, names):
        n = net_cfg
        self.kind = n["optimizer"]
        if self.kind not in ("sgd", "adam", "rmsprop"):
            raise ValueError("optimizer %r" % self.kind)
        self.lr, self.b1, self.b2 = f32(n["lr"]), f32(n["beta1"]), f32(n["beta2"])
        self.eps = f32(n["eps"])
        self.mu, self.nesterov, self.alpha = f32(n["momentum"]), _on(n["nesterov"]), f32(n["alpha"])
        self.l2, self.wd = f32(n["l2"]), f32(n["weight-decay"])
        self.cv, self.cn = f32(n["clip-grad-value"]), f32(n["clip-grad-norm"])
        self.form = adam_form
        self.names = list(names)
        self.s0 = {k: torch.zeros_like(params[k]) for k in self.names}
        self.s1 = {k: torch.zeros_like(params[k]) for k in self.names}
        self.norms = []  # (norm_before, norm_after) per step, when clip-grad-norm is on

    def to(self, dtype):
        o = ClganOpt.__new__(ClganOpt)
        o.__dict__.update(self.__dict__)
        o.s0 = {k: v.to(dtype).clone() for k, v in self.s0.items()}
        o.s1 = {k: v.to(dtype).clone() for k, v in self.s1.items()}
        o.norms = list(self.norms)
        return o

    def step(self, P, grads, t):
        """Updates P[name] for every name in place of the dict (new tensors)."""
        e = {k: grads[k] + self.l2 * P[k] if self.l2 else grads[k] for k in self.names}
        if self.cn > 0:
            before = torch.sqrt(sum((v * v).sum() for v in e.values()))
        if self.cv > 0:
            e = {k: torch.clamp(v, -self.cv, self.cv) for k, v in e.items()}
        if self.cn > 0:
            norm = torch.sqrt(sum((v * v).sum() for v in e.values()))
            scale = torch.clamp(self.cn / (norm + 1e-6), max=1.0)
            e = {k: v * scale for k, v in e.items()}
            self.norms.append((float(before), float(norm * scale)))
        keep = float(np.float32(1.0 - self.lr * self.wd))
        for k in self.names:
            g = e[k]
            if self.kind == "adam":
                self.s0[k] = self.s0[k] * self.b1 + g * (1.0 - self.b1)
                self.s1[k] = torch.addcmul(self.s1[k] * self.b2, g, g, value=1.0 - self.b2)
                bc1, bc2 = 1.0 - self.b1 ** t, 1.0 - self.b2 ** t
                if self.form == "torch":
                    denom = self.s1[k].sqrt() / math.sqrt(bc2) + self.eps
                    upd = (self.lr / bc1) * (self.s0[k] / denom)
                else:
                    upd = ((self.lr * math.sqrt(bc2) / bc1) * self.s0[k]
                           / (self.s1[k].sqrt() + self.eps))
            elif self.kind == "rmsprop":
                self.s0[k] = torch.addcmul(self.s0[k] * self.alpha, g, g, value=1.0 - self.alpha)
                upd = self.lr * (g / (self.s0[k].sqrt() + self.eps))
            elif self.mu > 0:
                self.s0[k] = self.s0[k] * self.mu + g
                upd = self.lr * (g + self.mu * self.s0[k] if self.nesterov else self.s0[k])
            else:
                upd = self.lr * g
            P[k] = (P[k] * keep if self.wd else P[k]) - upd


# ---- the networks and the trainer --------------------------------------------------

ROLE_D_REAL, ROLE_D_FAKE, ROLE_G = 0, 1, 2
RECORDS_KERAS = ("d_loss_real", "d_acc_real", "d_loss_fake", "d_acc_fake", "g_loss")


class ClganRef:
    """src/gan/model.c's G and D and src/gan/trainer.c's iteration for a configuration
    from clgan_config(). Parameters are named as clgan names them (src/nn/network.c:
    one counter per layer kind; a residual block's children are prefixed):
      dense{i}.kernel (in, out), dense{i}.bias, bn{i}.gamma/.beta/.moving_mean/
      .moving_variance, res{i}.dense.kernel/.bias, res{i}.bn.*, res{i}.proj.kernel/.bias.
    Layers (model.c, residual.c):
      hidden, plain:    h = act(h W + b), then BN(h) when batchnorm is on
      hidden, residual: h = [BN](act(h W + b)) + (h P + p when widths differ, else h)
      output:           G Dense(img_dim) + tanh; D Dense(1) + sigmoid (bce) or linear.
    BatchNorm in training mode uses batch statistics and ALWAYS updates the running
    ones (cl/norm.cl): in every D forward (D's steps, G's steps) and in G's fake-batch
    forward when fake-mode = train.
    One iteration (trainer.c `iteration`):
      for each D step k: fake = G(noise_d[k]) (eval, or train with fake-mode train);
        separate: [zero, D(real[k]) loss, step, clip], [zero, D(fake) loss, step, clip]
        joint:    zero, D(real[k]) loss + D(fake) loss + GP(real[k], fake, e_k), step, clip
      for each G step k: D(G(noise_g[k])) with G and D in training mode, G's loss, G step.
      Step counters: D's t advances per D update; G's per G update, or D's with
      adam-shared-step. Metrics: the D metrics averaged over D steps, G's over G steps;
      the penalty and gradient norms are recorded per D step / per update.
    """

    # settings whose device random draws this class does not reproduce
    NOT_REPRODUCED = ("label-flip", "instance-noise", "dropout-g", "dropout-d")

    def __init__(self, cfg, img_dim, dtype=torch.float32, gen=None):
        self._settings(cfg, img_dim, dtype)
        self.spec = {"G": self._spec(cfg["generator"], self.latent, self.img_dim, "tanh"),
                     "D": self._spec(cfg["discriminator"], self.img_dim, 1,
                                     "sigmoid" if self.loss == "bce" else "none")}
        self.P = {}
        for net in ("G", "D"):  # init order: G's tensors, then D's (kernels Glorot, float32)
            self.P[net] = OrderedDict()
            for name, shape, kind in self._tensors(net):
                if kind == "kernel":
                    v = glorot_uniform(shape[0], shape[1], dtype, gen)
                else:
                    v = torch.full(shape, 1.0 if kind in ("gamma", "moving_variance") else 0.0,
                                   dtype=dtype)
                self.P[net][name] = v
        self._optimizers()

    def _settings(self, cfg, img_dim, dtype):
        """The scalar settings of `cfg`; refuses the NOT_REPRODUCED ones."""
        self.cfg = cfg
        m, t = cfg["model"], cfg["train"]
        self.img_dim = int(img_dim)
        self.latent, self.batch = int(m["latent"]), int(t["batch"])
        self.slope, self.bn_eps = f32(m["leaky-slope"]), f32(m["bn-eps"])
        self.bn_mom = f32(m["bn-momentum"])
        keras_var = m["bn-variance"] == "keras"  # n / (n - (1 + eps)), 1 + eps in float32
        self.var_corr = float(np.float32(1.0) + np.float32(self.bn_eps)) if keras_var else 1.0
        self.loss = t["loss"]
        if self.loss not in ("bce", "bce-logits", "lsgan", "hinge", "wasserstein"):
            raise ValueError("loss %r" % self.loss)
        self.minimax = t["g-loss"] == "minimax"
        self.clip = f32(t["bce-clip"])
        self.smooth = float(np.float32(1.0) - np.float32(f32(t["label-smoothing"])))
        self.gp_lambda, self.clip_weights = f32(t["gp-lambda"]), f32(t["clip-weights-d"])
        self.joint, self.fake_train = t["d-update"] == "joint", t["fake-mode"] == "train"
        self.shared_t, self.seed = _on(t["adam-shared-step"]), int(t["seed"])
        for what, v in (("label-flip", t["label-flip"]), ("instance-noise", t["instance-noise"]),
                        ("dropout-g", cfg["generator"]["dropout"]),
                        ("dropout-d", cfg["discriminator"]["dropout"])):
            if what in self.NOT_REPRODUCED and f32(v) != 0.0:
                raise ValueError("%s is not reproduced by the reference" % what)
        for sec in ("generator", "discriminator"):
            if type(self) is ClganRef and cfg[sec].get("arch", ""):
                raise ValueError("[%s] arch: use tools/clgan_arch_ref.py ClganArchRef" % sec)
        self.d_steps = int(cfg["discriminator"]["steps"])
        self.g_steps = int(cfg["generator"]["steps"])
        self.dtype = dtype

    def _optimizers(self):
        """The optimizers and counters, once self.P holds the initial values."""
        cfg, t = self.cfg, self.cfg["train"]
        form = t["adam-form"]
        self.opt = {"G": ClganOpt(cfg["generator"], form, self.P["G"], self.trainable("G")),
                    "D": ClganOpt(cfg["discriminator"], form, self.P["D"], self.trainable("D"))}
        self.t_d = self.t_g = 0
        self.iteration = 0
        self.track = dict(min_margin=math.inf, min_kink=math.inf, clipped=0, clip_checked=0)

    # ---- structure -----------------------------------------------------------
    @staticmethod
    def _spec(nc, in_dim, out_dim, out_act):
        counts = {"dense": 0, "bn": 0, "res": 0}

        def name(kind):
            counts[kind] += 1
            return "%s%d" % (kind, counts[kind] - 1)
        spec, d, bn, act = [], in_dim, nc["batchnorm"] == "on", nc["activation"]
        if nc["batchnorm"] not in ("on", "off"):
            raise ValueError("batchnorm %r" % nc["batchnorm"])
        for w in (int(x) for x in nc["layers"].split(",")):
            if _on(nc["residual"]):
                spec.append(dict(kind="res", name=name("res"), inp=d, out=w, act=act, bn=bn,
                                 proj=d != w))
            else:
                spec.append(dict(kind="dense", name=name("dense"), inp=d, out=w, act=act))
                if bn:
                    spec.append(dict(kind="bn", name=name("bn"), out=w))
            d = w
        spec.append(dict(kind="dense", name=name("dense"), inp=d, out=out_dim, act=out_act))
        return spec

    def _tensors(self, net):
        """(name, shape, kind) in clgan's order (each layer's describe())."""
        out = []

        def dense(n, i, o):
            out.extend([(n + ".kernel", (i, o), "kernel"), (n + ".bias", (o,), "bias")])

        def bn(n, c):
            out.extend([(n + "." + k, (c,), k) for k in ("gamma", "beta", "moving_mean",
                                                         "moving_variance")])
        for L in self.spec[net]:
            if L["kind"] == "dense":
                dense(L["name"], L["inp"], L["out"])
            elif L["kind"] == "bn":
                bn(L["name"], L["out"])
            else:
                dense(L["name"] + ".dense", L["inp"], L["out"])
                if L["bn"]:
                    bn(L["name"] + ".bn", L["out"])
                if L["proj"]:
                    dense(L["name"] + ".proj", L["inp"], L["out"])
        return out

    def trainable(self, net):
        return [n for n in self.P[net] if KerasGAN.is_trainable(n)]

    def state(self):
        out = OrderedDict()
        for net in ("G", "D"):
            for n, v in self.P[net].items():
                out[net + "/" + n] = v.detach().clone()
        return out

    def to(self, dtype):
        """Copy (parameters, optimizer state, counters) in another dtype."""
        o = type(self).__new__(type(self))
        o.__dict__.update(self.__dict__)
        o.dtype = dtype
        o.P = {net: OrderedDict((n, v.detach().to(dtype).clone()) for n, v in P.items())
               for net, P in self.P.items()}
        o.opt = {net: op.to(dtype) for net, op in self.opt.items()}
        o.track = dict(self.track)
        return o

    # ---- forward ----------------------------------------------------------------
    def _act(self, z, act):
        if act in ("leakyrelu", "relu"):
            self.track["min_kink"] = min(self.track["min_kink"], float(z.detach().abs().min()))
            return torch.where(z > 0, z, z * (self.slope if act == "leakyrelu" else 0.0))
        if act == "tanh":
            return torch.tanh(z)
        if act == "sigmoid":
            return torch.sigmoid(z)
        if act == "none":
            return z
        raise ValueError("activation %r" % act)

    def _bn(self, net, n, h, P, training, update):
        gamma, beta = P[n + ".gamma"], P[n + ".beta"]
        if not training:
            mean, var = P[n + ".moving_mean"], P[n + ".moving_variance"]
            return gamma * (h - mean) / torch.sqrt(var + self.bn_eps) + beta
        mean = h.mean(dim=0)
        var = ((h - mean) ** 2).mean(dim=0)
        if update:
            rows, m = h.shape[0], self.bn_mom
            unb = var.detach() * (rows / (rows - self.var_corr)) if rows > 1 else var.detach()
            S = self.P[net]
            S[n + ".moving_mean"] = m * S[n + ".moving_mean"] + (1.0 - m) * mean.detach()
            S[n + ".moving_variance"] = m * S[n + ".moving_variance"] + (1.0 - m) * unb
        return gamma * (h - mean) * (1.0 / torch.sqrt(var + self.bn_eps)) + beta

    def forward(self, net, x, P=None, training=True):
        """The network on x; training mode updates BatchNorm running statistics."""
        P = self.P[net] if P is None else P
        h = x
        for L in self.spec[net]:
            n = L["name"]
            if L["kind"] == "dense":
                h = self._act(h @ P[n + ".kernel"] + P[n + ".bias"], L["act"])
            elif L["kind"] == "bn":
                h = self._bn(net, n, h, P, training, training)
            else:
                t = self._act(h @ P[n + ".dense.kernel"] + P[n + ".dense.bias"], L["act"])
                u = self._bn(net, n + ".bn", t, P, training, training) if L["bn"] else t
                s = h @ P[n + ".proj.kernel"] + P[n + ".proj.bias"] if L["proj"] else h
                h = u + s
        return h

    # ---- loss (cl/loss.cl) ---------------------------------------------------------
    def gan_loss(self, o, role):
        """(loss tensor, accuracy): the mean over the batch times sign, as gan_loss."""
        o = o.reshape(-1)
        sign, t = 1.0, (self.smooth if role == ROLE_D_REAL else 0.0 if role == ROLE_D_FAKE else 1.0)
        if role == ROLE_G and self.minimax:
            sign, t = -1.0, 0.0
        k = self.loss
        if k == "bce":
            pc = torch.clamp(o, self.clip, 1.0 - self.clip)
            l = -(t * torch.log(pc) + (1.0 - t) * torch.log(1.0 - pc))
        elif k == "bce-logits":
            l = torch.nn.functional.binary_cross_entropy_with_logits(
                o, torch.full_like(o, t), reduction="none")
        elif k == "lsgan":
            l = 0.5 * (o - t) ** 2
        elif k == "hinge":
            l = (-o if role == ROLE_G else torch.relu(1.0 - o) if role == ROLE_D_REAL
                 else torch.relu(1.0 + o))
        else:
            l = o if role == ROLE_D_FAKE else -o
        thr = 0.5 if k == "bce" else 0.0
        od = o.detach()
        self.track["min_margin"] = min(self.track["min_margin"], float((od - thr).abs().min()))
        acc = float(((od > thr) == (role != ROLE_D_FAKE)).to(o.dtype).mean())
        return sign * l.mean(), acc

    # ---- updates --------------------------------------------------------------------
    def _leaves(self, net):
        P = OrderedDict(self.P[net])
        for n in self.trainable(net):
            P[n] = self.P[net][n].detach().clone().requires_grad_(True)
        return P

    def _step(self, net, P, total, t):
        names = self.trainable(net)
        grads = torch.autograd.grad(total, [P[n] for n in names], allow_unused=True)
        grads = {n: torch.zeros_like(P[n]) if g is None else g for n, g in zip(names, grads)}
        self.opt[net].step(self.P[net], grads, t)

    def d_objective(self, P, batches, gp=None):
        """D's objective with parameters P on [(x, role)] (+ the WGAN-GP penalty on
        (real, fake, e)): (total, [(loss, acc)], penalty or None)."""
        total, rec, pen = 0.0, [], None
        for x, role in batches:
            loss, acc = self.gan_loss(self.forward("D", x, P), role)
            total = total + loss
            rec.append((float(loss), acc))
        if gp is not None:
            real, fake, e = gp
            e = e.reshape(-1, 1)
            xhat = (e * real + (1.0 - e) * fake).detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self.forward("D", xhat, P).sum(), xhat, create_graph=True)
            p = self.gp_lambda * ((g.norm(2, dim=1) - 1.0) ** 2).mean()
            total = total + p
            pen = float(p)
        return total, rec, pen

    def g_objective(self, P, z):
        """G's loss through D (both in training mode) with G's parameters P: (loss, acc)."""
        return self.gan_loss(self.forward("D", self.forward("G", z, P)), ROLE_G)

    def d_update(self, batches, gp=None):
        """One D update (d_objective), then WGAN weight clipping; returns (rec, penalty)."""
        P = self._leaves("D")
        total, rec, pen = self.d_objective(P, batches, gp)
        self.t_d += 1
        self._step("D", P, total, self.t_d)
        if self.clip_weights > 0:
            c = self.clip_weights
            for n in self.trainable("D"):
                v = self.P["D"][n]
                self.track["clipped"] += int((v.abs() > c).sum())
                self.track["clip_checked"] += v.numel()
                self.P["D"][n] = torch.clamp(v, -c, c)
        return rec, pen

    def g_update(self, z):
        if self.shared_t:
            self.t_d += 1
        else:
            self.t_g += 1
        P = self._leaves("G")
        loss, acc = self.g_objective(P, z)
        self._step("G", P, loss, self.t_d if self.shared_t else self.t_g)
        return float(loss), acc

    def train_iteration(self, real, noise_d, noise_g, e=None):
        """real (d_steps, B, dim), noise_d (d_steps, B, latent), noise_g (g_steps, B,
        latent), e (d_steps, B) for WGAN-GP (default: interp_coefficients). Returns the
        metrics: d_loss_real, d_acc_real, d_loss_fake, d_acc_fake, g_loss, g_acc
        (averaged over steps), gp (list per D step)."""
        r = dict(d_loss_real=0.0, d_acc_real=0.0, d_loss_fake=0.0, d_acc_fake=0.0,
                 g_loss=0.0, g_acc=0.0, gp=[])
        wd, wg = 1.0 / self.d_steps, 1.0 / self.g_steps
        for k in range(self.d_steps):
            with torch.no_grad():
                fake = self.forward("G", noise_d[k], training=self.fake_train)
            if self.joint:
                ek = None
                if self.gp_lambda > 0:
                    ek = e[k] if e is not None else torch.from_numpy(
                        interp_coefficients(self.seed, self.iteration, k, self.batch))
                    ek = ek.to(self.dtype)
                rec, pen = self.d_update([(real[k], ROLE_D_REAL), (fake, ROLE_D_FAKE)],
                                         None if ek is None else (real[k], fake, ek))
                (lr_, ar), (lf, af) = rec
                if pen is not None:
                    r["gp"].append(pen)
            else:
                (lr_, ar), = self.d_update([(real[k], ROLE_D_REAL)])[0]
                (lf, af), = self.d_update([(fake, ROLE_D_FAKE)])[0]
            r["d_loss_real"] += wd * lr_
            r["d_acc_real"] += wd * ar
            r["d_loss_fake"] += wd * lf
            r["d_acc_fake"] += wd * af
        for k in range(self.g_steps):
            gl, ga = self.g_update(noise_g[k])
            r["g_loss"] += wg * gl
            r["g_acc"] += wg * ga
        self.iteration += 1
        return r


# ---- self-tests -------------------------------------------------------------

def _rel_err(fd, ag, floor=1e-3):
    """|fd - ag| relative to |fd| + |ag|, with a floor so tiny gradients (where
    central-difference round-off ~1e-10 dominates) do not count as failures."""
    return abs(fd - ag) / max(floor, abs(fd) + abs(ag))


def fd_check_g_kernel(gan, z, name, n_entries=12, h=1e-6, gen=None):
    """Central finite differences (float64) of the G loss w.r.t. entries of one G kernel.

    Uses training-mode BN (batch statistics, as in the G update), the clipped
    BCE and the current D.  Returns the max relative error (see _rel_err)
    between the autograd gradient and finite differences."""
    assert gan.dtype == torch.float64
    names = gan.g_trainable()
    leaves = dict(gan.G)
    for n in names:
        leaves[n] = gan.G[n].detach().clone().requires_grad_(True)
    loss, _ = gan.g_loss_fn(z, leaves)
    g = torch.autograd.grad(loss, leaves[name])[0]
    W = gan.G[name]
    worst = 0.0
    flat_idx = torch.randperm(W.numel(), generator=gen)[:n_entries]
    for fi in flat_idx.tolist():
        idx = (fi // W.shape[1], fi % W.shape[1])
        P = dict(gan.G)
        Wp = W.clone(); Wp[idx] += h; P[name] = Wp
        lp = float(gan.g_loss_fn(z, P)[0])
        Wm = W.clone(); Wm[idx] -= h; P[name] = Wm
        lm = float(gan.g_loss_fn(z, P)[0])
        fd = (lp - lm) / (2 * h)
        ag = float(g[idx])
        worst = max(worst, _rel_err(fd, ag))
    return worst


def fd_check_d_kernel(gan, x, y, name, n_entries=12, h=1e-6, gen=None):
    names = gan.d_trainable()
    leaves = {n: gan.D[n].detach().clone().requires_grad_(True) for n in names}
    loss, _ = gan.d_loss_fn(x, y, leaves)
    g = torch.autograd.grad(loss, leaves[name])[0]
    W = gan.D[name]
    worst = 0.0
    for fi in torch.randperm(W.numel(), generator=gen)[:n_entries].tolist():
        idx = (fi // W.shape[1], fi % W.shape[1])
        P = dict(gan.D)
        Wp = W.clone(); Wp[idx] += h; P[name] = Wp
        lp = float(gan.d_loss_fn(x, y, P)[0])
        Wm = W.clone(); Wm[idx] -= h; P[name] = Wm
        lm = float(gan.d_loss_fn(x, y, P)[0])
        fd = (lp - lm) / (2 * h)
        ag = float(g[idx])
        worst = max(worst, _rel_err(fd, ag))
    return worst


def selftest(verbose=True):
    import numpy as np
    ok = True

    def report(what, good, detail=""):
        nonlocal ok
        ok = ok and good
        if verbose:
            print("%-60s %s %s" % (what, "ok" if good else "FAIL", detail))

    gen = torch.Generator().manual_seed(1234)
    torch.manual_seed(1234)
    gan = KerasGAN(latent=8, g_layers=(16, 32, 64), d_layers=(32, 16), img_dim=64,
                   dtype=torch.float64, gen=gen)
    B = 8
    z = torch.randn(B, 8, generator=gen, dtype=torch.float64)
    x = torch.rand(B, 64, generator=gen, dtype=torch.float64) * 2 - 1

    # Glorot limit
    lim = math.sqrt(6.0 / (8 + 16))
    report("glorot kernel within limit", float(gan.G["dense0.kernel"].abs().max()) <= lim)

    # Finite differences on the G loss (training-mode BN, clip) and D loss.
    for name in ("dense0.kernel", "dense1.kernel", "dense3.kernel"):
        e = fd_check_g_kernel(gan, z, name, gen=gen)
        report("FD grad of G loss wrt G/%s" % name, e < 1e-6, "max rel err %.2e" % e)
    for name in ("dense0.kernel", "dense2.kernel"):
        for y in (0.0, 1.0):
            e = fd_check_d_kernel(gan, x, y, name, gen=gen)
            report("FD grad of D loss (y=%g) wrt D/%s" % (y, name), e < 1e-6, "max rel err %.2e" % e)
    # gamma/beta via FD too
    for name in ("bn1.gamma", "bn2.beta"):
        names = gan.g_trainable()
        leaves = dict(gan.G)
        for n in names:
            leaves[n] = gan.G[n].detach().clone().requires_grad_(True)
        g = torch.autograd.grad(gan.g_loss_fn(z, leaves)[0], leaves[name])[0]
        worst = 0.0
        for j in range(4):
            P = dict(gan.G); a = gan.G[name].clone(); a[j] += 1e-6; P[name] = a
            lp = float(gan.g_loss_fn(z, P)[0])
            a = gan.G[name].clone(); a[j] -= 1e-6; P[name] = a
            lm = float(gan.g_loss_fn(z, P)[0])
            fd = (lp - lm) / 2e-6
            worst = max(worst, _rel_err(fd, float(g[j])))
        report("FD grad of G loss wrt G/%s" % name, worst < 1e-6, "max rel err %.2e" % worst)

    # BN moving statistics, against a numpy transcription of the formula
    g2 = gan.to(torch.float64)
    zn = z.numpy()
    h = zn @ g2.G["dense0.kernel"].numpy() + g2.G["dense0.bias"].numpy()
    h = np.where(h >= 0, h, 0.2 * h)
    mean, var = h.mean(0), h.var(0)
    exp_mm = 0.8 * 0.0 + 0.2 * mean
    exp_mv = 0.8 * 1.0 + 0.2 * var * B / (B - 1.001)
    g2.g_forward(z, training=True, update_stats=True)
    e1 = float(np.abs(g2.G["bn0.moving_mean"].numpy() - exp_mm).max())
    e2 = float(np.abs(g2.G["bn0.moving_variance"].numpy() - exp_mv).max())
    report("BN moving mean/variance update (Keras TF quirk)", max(e1, e2) < 1e-12, "%.1e %.1e" % (e1, e2))
    # inference mode uses moving stats: with fresh stats (0,1) BN is x/sqrt(1+eps)
    g3 = gan.to(torch.float64)
    out_inf = g3.g_forward(z, training=False)
    P = dict(g3.G)
    for i in range(3):
        P["bn%d.gamma" % i] = P["bn%d.gamma" % i] / math.sqrt(1.0 + 1e-3)
    h = z
    for i in range(3):
        h = torch.nn.functional.leaky_relu(h @ P["dense%d.kernel" % i] + P["dense%d.bias" % i], 0.2)
        h = h * P["bn%d.gamma" % i] + P["bn%d.beta" % i]
    ref = torch.tanh(h @ P["dense3.kernel"] + P["dense3.bias"])
    report("BN inference mode uses moving stats", float((out_inf - ref).abs().max()) < 1e-12)

    # Adam: first update (t=1) and the shared counter
    g4 = gan.to(torch.float64)
    before = g4.D["dense2.bias"].clone()
    names = g4.d_trainable()
    leaves = {n: g4.D[n].detach().clone().requires_grad_(True) for n in names}
    grad = torch.autograd.grad(g4.d_loss_fn(x, 1.0, leaves)[0], leaves["dense2.bias"])[0]
    g4.d_train_on_batch(x, 1.0)
    lr_t = 2e-4 * math.sqrt(1 - 0.999) / (1 - 0.5)
    m = 0.5 * grad
    v = 0.001 * grad * grad
    exp = before - lr_t * m / (torch.sqrt(v) + 1e-7)
    report("Adam first step (Keras 2 form, t=1)", float((g4.D["dense2.bias"] - exp).abs().max()) < 1e-15)
    g4.d_train_on_batch(x, 0.0)
    g4.g_train_on_batch(z)
    report("one Adam counter shared by D and combined model", g4.t == 3)

    # BCE clip and accuracy rounding
    p = torch.tensor([0.0, 1.0, 0.5, 0.5000001], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    L = bce(p, y, 1e-7)
    gp = torch.autograd.grad(L, p)[0]
    expL = (-math.log(1e-7) - math.log(1.0 - (1.0 - 1e-7)) - math.log(0.5) - math.log(0.5000001)) / 4
    report("BCE clip value", abs(float(L) - expL) < 1e-12, "%.1e" % abs(float(L) - expL))
    report("BCE zero gradient where clipped", float(gp[0]) == 0.0 and float(gp[1]) == 0.0)
    report("accuracy: round(0.5)=0 (half to even)",
           float(binary_accuracy(p.detach(), y)) == 0.25)
    ok = selftest_clgan_ref(report) and ok
    return ok


def selftest_clgan_ref(report):
    """Self-tests of ClganRef, ClganOpt and the Philox port."""
    ok = True

    def rep(what, good, detail=""):
        nonlocal ok
        ok = ok and good
        report(what, good, detail)

    # Philox4x32-10 known-answer vectors (Random123 kat_vectors)
    kat = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
           ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
           ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
            (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
    rep("Philox4x32-10 known answers (Random123)",
        all(tuple(int(x) for x in philox4x32(np.array(c, dtype=np.uint32), k)) == want
            for c, k, want in kat))
    u = u01(np.array([0, 0xFFFFFFFF, 0x80000000], dtype=np.uint32))
    rep("u01 in float32 (2^-25; 0xFFFFFFFF rounds to 1.0f; 0.5 + 2^-25 rounds to 0.5)",
        u.dtype == np.float32 and float(u[0]) == 2.0 ** -25 and float(u[1]) == 1.0
        and float(u[2]) == 0.5)

    # ClganOpt against torch.optim (float64), several steps
    gen = torch.Generator().manual_seed(7)
    shapes = {"a": (5, 3), "b": (3,)}
    cases = [
        ("adam torch form = torch.optim.Adam",
         dict(optimizer="adam", lr="0.01", beta1="0.9", beta2="0.99", eps="1e-08"), "torch",
         lambda ps, c: torch.optim.Adam(ps, lr=c.lr, betas=(c.b1, c.b2), eps=c.eps), None),
        # lr * wd = 2^-7: 1 - lr wd is exact in float32, where clgan rounds it
        ("adam torch form + weight-decay = torch.optim.AdamW",
         dict(optimizer="adam", lr="0.015625", beta1="0.5", beta2="0.9", eps="1e-08",
              **{"weight-decay": "0.5"}), "torch",
         lambda ps, c: torch.optim.AdamW(ps, lr=c.lr, betas=(c.b1, c.b2), eps=c.eps,
                                         weight_decay=c.wd), None),
        ("rmsprop = torch.optim.RMSprop",
         dict(optimizer="rmsprop", lr="0.005", alpha="0.9", eps="1e-07"), "keras",
         lambda ps, c: torch.optim.RMSprop(ps, lr=c.lr, alpha=c.alpha, eps=c.eps), None),
        ("rmsprop + l2 = torch.optim.RMSprop(weight_decay)",
         dict(optimizer="rmsprop", lr="0.005", alpha="0.9", eps="1e-07", l2="0.3"), "keras",
         lambda ps, c: torch.optim.RMSprop(ps, lr=c.lr, alpha=c.alpha, eps=c.eps,
                                           weight_decay=c.l2), None),
        ("sgd nesterov = torch.optim.SGD(nesterov)",
         dict(optimizer="sgd", lr="0.05", momentum="0.9", nesterov="on"), "keras",
         lambda ps, c: torch.optim.SGD(ps, lr=c.lr, momentum=c.mu, nesterov=True), None),
        ("sgd + clip-grad-norm = clip_grad_norm_ + torch.optim.SGD",
         dict(optimizer="sgd", lr="0.05", **{"clip-grad-norm": "0.5"}), "keras",
         lambda ps, c: torch.optim.SGD(ps, lr=c.lr), 0.5),
    ]
    for what, over, form, make, max_norm in cases:
        nc = clgan_config({"generator": over})["generator"]
        P = OrderedDict((k, torch.randn(*s, generator=gen, dtype=torch.float64))
                        for k, s in shapes.items())
        opt = ClganOpt(nc, form, P, list(P))
        leaves = [P[k].clone().requires_grad_(True) for k in P]
        topt = make(leaves, opt)
        worst = 0.0
        for step in range(1, 6):
            grads = {k: torch.randn(*s, generator=gen, dtype=torch.float64)
                     for k, s in shapes.items()}
            opt.step(P, grads, step)
            for leaf, k in zip(leaves, P):
                leaf.grad = grads[k].clone()
            if max_norm:
                torch.nn.utils.clip_grad_norm_(leaves, max_norm)
            topt.step()
            worst = max(worst, max(float((P[k] - leaf.detach()).abs().max())
                                   for leaf, k in zip(leaves, P)))
        rep("optimizer: " + what, worst < 1e-13, "max diff %.1e" % worst)

    # ClganRef with the Keras-GAN settings = KerasGAN (float64, 3 iterations)
    cfg = clgan_config({"generator": {"layers": "16,32,64"}, "discriminator": {"layers": "32,16"},
                        "model": {"latent": 8}, "train": {"batch": 8, "iterations": 3}})
    gen = torch.Generator().manual_seed(3)
    ref = ClganRef(cfg, 64, dtype=torch.float64, gen=gen)
    k = KerasGAN(latent=8, g_layers=(16, 32, 64), d_layers=(32, 16), img_dim=64,
                 dtype=torch.float64, lr=f32(2e-4), beta1=0.5, beta2=f32(0.999),
                 adam_eps=f32(1e-7), bn_momentum=f32(0.8), bn_eps=f32(1e-3), slope=f32(0.2),
                 bce_clip=f32(1e-7))
    same_names = list(ref.P["G"]) == list(k.G) and list(ref.P["D"]) == list(k.D)
    for n in k.G:
        k.G[n] = ref.P["G"][n].clone()
    for n in k.D:
        k.D[n] = ref.P["D"][n].clone()
    worst = 0.0
    for _ in range(3):
        real = torch.rand(1, 8, 64, generator=gen, dtype=torch.float64) * 2 - 1
        nd = torch.randn(1, 8, 8, generator=gen, dtype=torch.float64)
        ng = torch.randn(1, 8, 8, generator=gen, dtype=torch.float64)
        a, b = ref.train_iteration(real, nd, ng), k.train_iteration(real[0], nd[0], ng[0])
        worst = max([worst] + [abs(a[x] - b[x]) for x in RECORDS_KERAS])
    worst = max([worst] + [float((ref.P["G"][n] - v).abs().max()) for n, v in k.G.items()]
                + [float((ref.P["D"][n] - v).abs().max()) for n, v in k.D.items()])
    # the only difference: the running-variance correction n/(n - (1 + eps)) uses
    # 1 + eps rounded to float32 in clgan (1e-8 relative)
    rep("ClganRef (Keras-GAN settings) = KerasGAN, names and 3 iterations",
        same_names and worst < 1e-8, "max diff %.1e" % worst)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--selftest", action="store_true", help="run the float64 self-tests")
    args = ap.parse_args()
    if args.selftest:
        ok = selftest()
        print("selftest", "PASSED" if ok else "FAILED")
        return 0 if ok else 1
    ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
