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

Use as a module:
  import sys; sys.path.insert(0, "tools"); from keras_gan_torch import KerasGAN
  gan = KerasGAN(latent=8, g_layers=(16, 32, 64), d_layers=(32, 16), img_dim=64)
  stats = gan.train_iteration(real, noise_d, noise_g)

Run directly for a self-test (finite-difference gradient checks in float64, BN
moving-statistics and Adam-step checks):
  tools/keras_gan_torch.py --selftest
"""

import argparse
import math
import sys
from collections import OrderedDict

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
