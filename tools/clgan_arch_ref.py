#!/usr/bin/python3
"""clgan_arch_ref: the parity reference for networks written as layer specs.

ClganArchRef is tools/keras_gan_torch.py's ClganRef (src/gan/trainer.c's schedule,
losses and optimizers for a clgan configuration, autograd for every gradient) with G and
D built by tools/clgan_arch.py from the configuration's [generator] / [discriminator]
arch (or clgan's MLP when a network has none), so it trains convolutional GANs with
clgan's semantics: NHWC activations, Keras "same" padding, BatchNorm per channel over
N*H*W with clgan's running statistics in every training forward, and dropout with the
masks clgan draws on the device (Philox, the seeds clgan's init draws, one call counter
per dropout layer: D's real, fake and G-step forwards each take a new mask).

Differences from ClganRef:
  * initial values are clgan's own (clgan_arch: SplitMix64 from the config seed, G seed
    * 2 + 1, D seed * 2 + 2), so a fixture's init/ tensors equal what clgan initializes
    and the dropout seeds, drawn from the same stream, are clgan's;
  * dropout is reproduced (label flipping and instance noise still are not);
  * snapshot()/restore() save and put back the dropout call counters, so repeated
    evaluations of one objective (finite differences) see the same masks.

Use:
  import sys; sys.path.insert(0, "tools")
  from keras_gan_torch import clgan_config; from clgan_arch_ref import ClganArchRef
  cfg = clgan_config({"generator": {"arch": "dense 72, act, reshape 3x3x8, ...", ...}, ...})
  ref = ClganArchRef(cfg, (12, 12, 1))                  # float32; .to(torch.float64)
  metrics = ref.train_iteration(real, noise_d, noise_g)  # real (d_steps, B, h*w*c) NHWC

Self-tests (tools/clgan_arch_ref.py --selftest): clgan_arch's layers against their
definitions (Conv2d from the sum, ConvTranspose2d as its adjoint, NHWC order of
upsampling/padding/reshape, BatchNorm over N*H*W, dropout masks), clgan's refusals, the
dcgan-keras parameter counts Keras reports; ClganArchRef = ClganRef on an MLP written
as a spec and as clgan's MLP (float64, 3 iterations); finite differences through a conv
G and D with dropout.
"""

import argparse
import copy
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clgan_arch import (ArchError, BatchNorm, ClganNet, NET_DEFAULTS, _same,  # noqa: E402
                        _settings, build, discriminator, generator, splitmix64)
from keras_gan_torch import ClganRef, RECORDS_KERAS, clgan_config  # noqa: E402

_M64 = (1 << 64) - 1


class ClganArchRef(ClganRef):
    """ClganRef with G and D from layer specs (module docstring). img_shape (h, w, c):
    the images, NHWC; batches are (B, h*w*c) rows in NHWC order, as clgan holds them."""

    NOT_REPRODUCED = ("label-flip", "instance-noise")

    def __init__(self, cfg, img_shape, dtype=torch.float32):
        h, w, c = img_shape
        self._settings(cfg, h * w * c, dtype)
        self.img_shape = tuple(img_shape)
        self.nets = {"G": generator(cfg, self.img_shape), "D": discriminator(cfg, self.img_shape)}
        seeds = {"G": (self.seed * 2 + 1) & _M64, "D": (self.seed * 2 + 2) & _M64}
        self.P = {}
        for net in ("G", "D"):
            init = self.nets[net].init_tensors(seeds[net])
            self.P[net] = OrderedDict((k, torch.from_numpy(v.copy()).to(dtype))
                                      for k, v in init.items())
        self._optimizers()
        self._hook()

    def _hook(self):
        """Every LeakyReLU/ReLU input feeds track["min_kink"] (as ClganRef._act does)."""
        def on_preact(z):
            self.track["min_kink"] = min(self.track["min_kink"], float(z.detach().abs().min()))
        for n in self.nets.values():
            n.on_preact = on_preact

    def to(self, dtype):
        o = super().to(dtype)
        o.nets = {k: copy.deepcopy(v) for k, v in self.nets.items()}
        o._hook()
        return o

    def forward(self, net, x, P=None, training=True):
        """The network on x (B, in_dim) -> (B, out_dim); training mode uses batch
        statistics and dropout and updates the running statistics in self.P."""
        P = self.P[net] if P is None else P
        y = self.nets[net](x, P=P, training=training, stats=self.P[net])
        return y.reshape(y.shape[0], -1)

    def snapshot(self):
        """The dropout call counters (restore() puts them back)."""
        return {k: n.dropout_calls() for k, n in self.nets.items()}

    def restore(self, snap):
        for k, n in self.nets.items():
            n.set_dropout_calls(snap[k])


# ---- self-test ----------------------------------------------------------------------------

def _direct_conv(x, k, s, pt, pl, oh, ow):
    """Conv2d of NHWC x (float64 numpy) with a (kh, kw, c, f) kernel, from the definition:
    output (oy, ox) reads input (oy s - pt + ky, ox s - pl + kx), zero outside."""
    n, h, w, c = x.shape
    kh, kw, _, f = k.shape
    y = np.zeros((n, oh, ow, f))
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                for kx in range(kw):
                    iy, ix = oy * s[0] - pt + ky, ox * s[1] - pl + kx
                    if 0 <= iy < h and 0 <= ix < w:
                        y[:, oy, ox, :] += x[:, iy, ix, :] @ k[ky, kx]
    return y


def selftest_layers(report):
    """clgan_arch's layers and parser."""

    gen = torch.Generator().manual_seed(5)
    # SplitMix64: the reference values of Vigna's splitmix64.c for seed 1234567
    want = [6457827717110365317, 3203168211198807973, 9817491932198370423]
    report("SplitMix64 known answers (seed 1234567)",
           [int(v) for v in splitmix64(1234567, 0, 3)] == want)
    # 'same' padding: TensorFlow's split
    report("'same' k3 s2: 28 -> 14 pads 0 before, 1 after; 7 -> 4 pads 1, 1",
           _same(28, 3, 2) == (14, 0, 1) and _same(7, 3, 2) == (4, 1, 1))
    # Conv2d against the definition, odd and even sizes, stride 2, same / explicit
    worst = 0.0
    for (h, w, spec) in ((8, 7, "conv 3 k3 s2 same"), (9, 6, "conv 2 k4x3 s2x1 same"),
                         (6, 6, "conv 2 k3 p1"), (7, 7, "conv 4 k2 s2")):
        net = build(spec, (h, w, 2)).double()
        L = net.layer_list()[0]
        x = torch.randn(3, h, w, 2, generator=gen, dtype=torch.float64)
        k = torch.randn(L.kernel.shape, generator=gen, dtype=torch.float64)
        P = {"conv0.kernel": k, "conv0.bias": torch.zeros(L.kernel.shape[3], dtype=torch.float64)}
        y = net(x, P, training=False).numpy()
        pl, _, pt, _ = L.pads
        ref = _direct_conv(x.numpy(), k.numpy(), L.L["s"], pt, pl, *L.out_shape[:2])
        worst = max(worst, float(np.abs(y - ref).max()))
    report("Conv2d = the definition (same/explicit/valid, strides, odd sizes)", worst < 1e-12,
           "max diff %.1e" % worst)
    # ConvTranspose2d is the adjoint of the Conv2d of the same k, s, p: <conv(a), b> = <a, convt(b)>
    worst = 0.0
    for k, s, p, op, hi in ((3, 2, 1, 1, 4), (4, 2, 1, 0, 3), (3, 1, 0, 0, 5)):
        ct = build("convt 3 k%d s%d p%d op%d" % (k, s, p, op), (hi, hi, 2)).double()
        ho = ct.out_shape[0]
        cv = build("conv 2 k%d s%d p%d" % (k, s, p), (ho, ho, 3)).double()
        kern = torch.randn(2, k, k, 3, generator=gen, dtype=torch.float64)  # (cin, kh, kw, f)
        a = torch.randn(2, ho, ho, 3, generator=gen, dtype=torch.float64)
        b = torch.randn(2, hi, hi, 2, generator=gen, dtype=torch.float64)
        # the Conv2d y -> x uses kernel (kh, kw, f, cin) = kern permuted
        zero = torch.zeros(3, dtype=torch.float64)
        ya = cv(a, {"conv0.kernel": kern.permute(1, 2, 3, 0), "conv0.bias": zero[:2]},
                training=False)
        xb = ct(b, {"convt0.kernel": kern, "convt0.bias": zero}, training=False)
        worst = max(worst, abs(float((ya * b).sum() - (a * xb).sum())))
    report("ConvTranspose2d = adjoint of Conv2d (k3 s2 p1 op1, k4 s2 p1, k3 s1)", worst < 1e-10,
           "max diff %.1e" % worst)
    # Upsample, pad, crop, reshape, flatten keep NHWC order
    net = build("up 2, pad 0 1 2 0, crop 0 1 2 0, reshape 2x16x3, flatten", (2, 4, 3))
    x = torch.arange(24, dtype=torch.float32).reshape(1, 2, 4, 3)
    y = net.layer_list()[0](x, None, None)
    up_ok = bool((y[0, 3, 7] == x[0, 1, 3]).all() and (y[0, 2, 5] == x[0, 1, 2]).all())
    p = net.layer_list()[1](y, None, None)
    pad_ok = p.shape == (1, 5, 10, 3) and float(p[:, 4].abs().sum()) == 0 and \
        float(p[:, :, :2].abs().sum()) == 0 and bool((p[:, :4, 2:] == y).all())
    out = net(x, training=False)
    report("UpSampling2D, ZeroPadding2D, its crop, Reshape/Flatten in NHWC order",
           up_ok and pad_ok and out.shape == (1, 1, 1, 96) and
           bool((out.reshape(-1) == y.reshape(-1)).all()))
    # BatchNorm per channel over N*H*W, clgan's running statistics
    st = _settings({}, {"bn-variance": "keras"}, NET_DEFAULTS)
    net = ClganNet([("bn0", BatchNorm((3, 3, 2), st))], (3, 3, 2))
    net.init_tensors(0)
    x = torch.randn(4, 3, 3, 2, generator=gen)
    y = net(x, training=True)
    xs = x.double().reshape(-1, 2)
    mean, var = xs.mean(0), xs.var(0, unbiased=False)
    ref = (xs - mean) / torch.sqrt(var + 1e-3)
    mv = 0.8 + 0.2 * var * 36 / (36 - float(np.float32(1) + np.float32(1e-3)))
    report("BatchNorm over N*H*W per channel; Keras running variance n/(n-1-eps)",
           float((y.double().reshape(-1, 2) - ref).abs().max()) < 1e-5
           and float((net.bn0.moving_variance.double() - mv).abs().max()) < 1e-6
           and float((net.bn0.moving_mean.double() - 0.2 * mean).abs().max()) < 1e-6)
    # Dropout masks: Philox per (unit, call), new each training forward, none in eval
    net = build("drop 0.25", (2, 2, 4))
    net.init_tensors(7)
    x = torch.ones(8, 2, 2, 4)
    m1, m2, m3 = net(x, training=True), net(x, training=True), net(x, training=False)
    kept = float((m1 != 0).float().mean())
    report("dropout: scale 1/(1-rate) in float32, new mask per call, identity in eval",
           set(np.unique(m1.numpy())) <= {0.0, float(np.float32(1) / np.float32(0.75))}
           and not torch.equal(m1, m2) and torch.equal(m3, x) and 0.6 < kept < 0.9
           and net.drop0.calls == 2, "kept %.2f" % kept)
    # The dcgan-keras preset: Keras' parameter counts (tests/test_model.c)
    gcfg = {"generator": {"arch": "dense 6272, act, reshape 7x7x128, up 2, conv 128 k3 same, "
                                  "norm, act, up 2, conv 64 k3 same, norm, act, conv c k3 same, "
                                  "tanh", "activation": "relu", "batchnorm": "on"},
            "discriminator": {"arch": "conv 32 k3 s2 same, act, drop, conv 64 k3 s2 same, "
                                      "pad 0 1 0 1, norm, act, drop, conv 128 k3 s2 same, norm, "
                                      "act, drop, conv 256 k3 same, norm, act, drop, flatten, "
                                      "dense 1",
                              "activation": "leakyrelu", "batchnorm": "on", "dropout": "0.25"}}
    g, d = generator(gcfg, (28, 28, 1)), discriminator(gcfg, (28, 28, 1))

    def count(n, trained):
        return sum(int(np.prod(s)) for _, s, t in n.tensor_specs() if t or not trained)
    report("dcgan-keras: G 855,809 trained of 856,193; D 392,833 of 393,729 (Keras)",
           (count(g, True), count(g, False), count(d, True), count(d, False))
           == (855809, 856193, 392833, 393729))
    z = torch.randn(2, 100, generator=gen)
    report("dcgan-keras shapes: G (2, 28, 28, 1), D (2, 1, 1, 1); names conv0..conv3, bn0..bn2",
           g.eval()(z).shape == (2, 28, 28, 1) and d.eval()(g(z)).shape == (2, 1, 1, 1)
           and "conv3.kernel" in d.state_dict() and "bn2.moving_variance" in d.state_dict())
    # clgan's refusals, with the layer named
    for spec, shape, frag in (("conv 4 k3 s2 same, bn", (8, 8, 1), "normalizes the network's"),
                              ("conv 4 k9", (8, 8, 1), "does not fit"),
                              ("conv 4 q3", (8, 8, 1), "unknown option 'q3'"),
                              ("dense 4, reshape 3x3x1", (8, 8, 1), "the sizes must match"),
                              ("convt 2 k3 s2 op2", (4, 4, 1), "output padding must be below"),
                              ("dense 4,, dense 1", (8, 8, 1), "layer 2 is empty")):
        try:
            build(spec, shape)
            report("refused: %s" % spec, False)
        except ArchError as e:
            report("refused: %-28s (%s)" % (spec, frag), frag in str(e))
    # state_dict names, load_tensors round trip, init_tensors = clgan's Glorot draws
    init = d.init_tensors(12345)
    d2 = copy.deepcopy(d)
    d2.init_tensors(1)
    d2.load_tensors(init)
    lim = math.sqrt(6.0 / (9 * 1 + 9 * 32))
    u = splitmix64(12345, 0, 3) >> np.uint64(11)
    first = ((2.0 * u.astype(np.float64) * 2.0 ** -53 - 1.0) * lim).astype(np.float32)
    report("state_dict keys are clgan's names; load_tensors round-trips; init draws",
           list(d.state_dict()) == [n for n, _, _ in d.tensor_specs()]
           and all(torch.equal(a, b) for a, b in zip(d.state_dict().values(),
                                                     d2.state_dict().values()))
           and np.array_equal(init["conv0.kernel"].reshape(-1)[:3], first)
           and float(np.abs(init["conv0.kernel"]).max()) <= lim
           and d.drop0.seed == int(splitmix64(12345, 9 * 32, 1)[0]))


def selftest_ref(report):
    """ClganArchRef against ClganRef, and finite differences through conv nets."""
    base = {"generator": {"layers": "16,32"}, "discriminator": {"layers": "32,16"},
            "model": {"latent": 8}, "train": {"batch": 8, "iterations": 3, "seed": 11}}
    specs = {"generator": {"arch": "dense 16, act, norm, dense 32, act, norm, dense 64, tanh"},
             "discriminator": {"arch": "dense 32, act, dense 16, act, dense 1"}}
    for what, over in (("clgan's MLP", {}), ("the MLP as a spec", specs)):
        cfg = clgan_config({k: dict(v, **over.get(k, {})) for k, v in base.items()})
        a = ClganArchRef(cfg, (8, 8, 1), dtype=torch.float64)
        b = ClganRef(clgan_config(base), 64, dtype=torch.float64)
        same = all(list(a.P[n]) == list(b.P[n]) for n in ("G", "D"))
        for n in ("G", "D"):
            for k in b.P[n]:
                b.P[n][k] = a.P[n][k].clone()
        gen = torch.Generator().manual_seed(4)
        worst = 0.0
        for _ in range(3):
            real = torch.rand(1, 8, 64, generator=gen, dtype=torch.float64) * 2 - 1
            nd = torch.randn(1, 8, 8, generator=gen, dtype=torch.float64)
            ng = torch.randn(1, 8, 8, generator=gen, dtype=torch.float64)
            ra, rb = a.train_iteration(real, nd, ng), b.train_iteration(real, nd, ng)
            worst = max([worst] + [abs(ra[k] - rb[k]) for k in RECORDS_KERAS])
        worst = max([worst] + [float((a.P[n][k] - b.P[n][k]).abs().max())
                               for n in ("G", "D") for k in b.P[n]])
        report("ClganArchRef = ClganRef, %s (names, 3 iterations, float64)" % what,
               same and worst < 1e-13, "max diff %.1e" % worst)
    # finite differences through Conv2d (same, stride 2), ConvTranspose2d, upsampling,
    # padding, BatchNorm over images and dropout (masks held by snapshot/restore)
    from make_parity_fixture import fd_check_ref
    cfg = clgan_config({"generator": {"arch": "dense 32, act, reshape 2x2x8, up 2, conv 4 k3 same, "
                                              "norm, act, convt 3 k3 s2 p1 op1, norm, act, "
                                              "conv c k3 same, tanh", "activation": "relu"},
                        "discriminator": {"arch": "conv 4 k3 s2 same, act, drop, "
                                                  "conv 6 k3 s2 same, pad 0 1 0 1, norm, act, "
                                                  "drop, flatten, dense 1",
                                          "batchnorm": "on", "dropout": "0.25"},
                        "model": {"latent": 4}, "train": {"batch": 4, "seed": 3}})
    ref = ClganArchRef(cfg, (8, 8, 1), dtype=torch.float64)
    gen = torch.Generator().manual_seed(2)
    real = torch.rand(1, 1, 4, 64, generator=gen, dtype=torch.float64) * 2 - 1
    nd = torch.randn(1, 1, 4, 4, generator=gen, dtype=torch.float64)
    ng = torch.randn(1, 1, 4, 4, generator=gen, dtype=torch.float64)
    err = fd_check_ref(ref, real, nd, ng, None, torch.Generator().manual_seed(1), n_entries=3)
    report("finite differences through conv G and D with dropout (float64)", err < 1e-6,
           "max rel err %.1e" % err)
    snap = ref.snapshot()
    x = torch.ones(4, 64, dtype=torch.float64)
    o1 = ref.forward("D", x)
    ref.restore(snap)
    o2, o3 = ref.forward("D", x), ref.forward("D", x)
    report("restore() replays the dropout masks; the next forward draws new ones",
           torch.equal(o1, o2) and not torch.equal(o2, o3))


def selftest(verbose=True):
    ok = True

    def report(what, good, detail=""):
        nonlocal ok
        ok = ok and bool(good)
        if verbose:
            print("%-72s %s %s" % (what, "ok" if good else "FAIL", detail))
    selftest_layers(report)
    selftest_ref(report)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--selftest", action="store_true", help="run the self-tests")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.selftest:
        good = selftest()
        print("selftest", "PASSED" if good else "FAILED")
        return 0 if good else 1
    ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
