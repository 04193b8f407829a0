#!/usr/bin/python3
"""clgan_arch: clgan's layer spec language (--arch-g / --arch-d) as PyTorch modules.

clgan describes a network as a list of layers (src/gan/arch.c has the grammar), e.g.
  dense 6272, act, reshape 7x7x128, up 2, conv 128 k3 same, norm, act, conv c k3 same, tanh
This module parses exactly that grammar and builds a torch module that computes what
clgan computes:

  * Activations are NHWC, as in clgan (include/clgan/nn.h clgan_shape): a network takes
    (N, h*w*c) rows or (N, h, w, c) tensors and returns (N, h, w, c); convolutions
    permute to NCHW and back inside.
  * Conv2d "same" is TensorFlow's: out = ceil(in / s), total padding
    max((out-1) s + k - in, 0) split with the smaller half first (0 before, 1 after for
    28 -> 14 with k3 s2), via F.pad; "pN" is PyTorch's symmetric padding.
    ConvTranspose2d follows PyTorch's output formula (p, op).
  * Tensors carry clgan's names and layouts (src/nn/*.c describe()): dense{i}.kernel
    (in, out), conv{i}.kernel (kh, kw, c_in, filters) as Keras stores it,
    convt{i}.kernel (c_in, kh, kw, filters), bias (filters), bn{i}.gamma/.beta/
    .moving_mean/.moving_variance (C); names count per layer kind (network.c). The
    module's state_dict() keys are exactly these names.
  * Flatten/Reshape keep NHWC order (Keras'); dense layers flatten any input that way.
  * BatchNorm is per channel over N*H*W (clgan's batchnorm.c): training mode normalizes
    with the biased batch variance and updates the running statistics with clgan's
    convention (running = momentum * running + (1 - momentum) * batch value; the
    variance fed in is var * n/(n - var_corr), var_corr 1 + eps for bn-variance keras,
    1 for torch, n = N*H*W); eval mode uses the running statistics.
  * Dropout draws clgan's masks: unit i (the flat NHWC index over the batch) of a layer's
    c-th training forward (c = 1, 2, ...) is kept, scaled by 1/(1 - rate) in float32,
    when u01(Philox4x32-10((i, c, 1, 0x0D50), key = the layer's seed).x) >= rate
    (cl/activation.cl dropout_fwd); the seed is the one clgan's init draws (below).
  * Activations as cl/common.h writes them: LeakyReLU x > 0 ? x : a x, ELU a (e^x - 1),
    sigmoid, tanh. Fusing an activation into the layer before it (arch.c) does not
    change the arithmetic and is not modelled.
  * Initialization (init_tensors(seed)) is clgan's exactly: SplitMix64 from `seed`
    (G: config seed * 2 + 1, D: seed * 2 + 2; src/gan/model.c), the layers in order,
    each kernel's values in memory order, Glorot uniform (2u - 1) limit with
    limit = sqrt(6 / (fan_in + fan_out)) (fans of a convolution: kh kw c_in and
    kh kw filters), or init_std * Box-Muller normal (two draws a value); a dropout layer
    takes one draw as its Philox seed; biases, gamma, beta, running statistics are
    0, 1, 0, 1. Glorot values are bit-identical to clgan's; normal ones can differ in
    the last bit where libm's log/cos do.

Use:
  import sys; sys.path.insert(0, "tools"); import clgan_arch
  cfg = {"generator": {"arch": "...", "activation": "relu", "batchnorm": "on"}, "model": {...}}
  g = clgan_arch.generator(cfg, (28, 28, 1))     # ClganNet, latent -> (N, 28, 28, 1)
  g.load_tensors(tensors)                         # {clgan name: array}, e.g. a checkpoint's
  x = g.eval()(z)                                 # NHWC; g.nchw(x) gives (N, C, H, W)
  d = clgan_arch.discriminator(cfg, (28, 28, 1))  # with clgan's tail: sigmoid for bce
  net = clgan_arch.build("conv 8 k3 s2 same, act, flatten, dense 1", (8, 8, 1), net_cfg, model_cfg)

A configuration is {section: {key: str}} with clgan's INI sections and keys
(configparser's sections as dicts will do); missing keys take clgan's defaults. A
network without an arch is clgan's MLP (src/gan/model.c), expressed as the equivalent
spec; residual MLPs are not (tools/keras_gan_torch.py ClganRef covers them).
tools/clgan_torch.py (a generator checkpoint as a torch module) can build conv
generators with generator(); tools/clgan_arch_ref.py trains these networks with
clgan's schedule for the parity fixtures.

Run directly to see a spec's layers, shapes and tensors:
  tools/clgan_arch.py --spec "conv 8 k3 s2 same, act, flatten, dense 1" --shape 12x12x1
Self-tests (layers against their definitions, clgan's refusals, the dcgan-keras
parameter counts): tools/clgan_arch_ref.py --selftest.
"""

import argparse
import math
import os
import re
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_gan_torch import philox4x32, u01  # noqa: E402  (clgan's Philox4x32-10 in numpy)


class ArchError(ValueError):
    """A spec clgan refuses (the message names the layer, as clgan's does)."""


# ---- parsing (src/gan/arch.c) ------------------------------------------------------------

MAX_WORDS, MAX_SPEC_LAYERS, MAX_SPEC_CHARS = 12, 64, 1023

# activation words -> clgan's activation names; "act" is the network's own
ACT_WORDS = OrderedDict([("relu", "relu"), ("lrelu", "leakyrelu"), ("leakyrelu", "leakyrelu"),
                         ("tanh", "tanh"), ("sigmoid", "sigmoid"), ("elu", "elu"),
                         ("linear", "none"), ("act", None)])
# layer word -> (kind, min args, max args)
KIND_WORDS = OrderedDict([("dense", ("dense", 1, 1)), ("conv", ("conv", 1, 6)),
                          ("convt", ("convt", 1, 6)), ("up", ("up", 1, 1)),
                          ("pad", ("pad", 1, 4)), ("crop", ("crop", 1, 4)),
                          ("reshape", ("reshape", 1, 1)), ("flatten", ("flatten", 0, 0)),
                          ("bn", ("bn", 0, 0)), ("norm", ("norm", 0, 0)),
                          ("drop", ("drop", 0, 1))])
_INT = re.compile(r"[+-]?\d+\Z")
_PAIR = re.compile(r"([+-]?\d+)(?:x([+-]?\d+))?\Z")
_HWC = re.compile(r"\s*([+-]?\d+)x\s*([+-]?\d+)x\s*([+-]?\d+)")


def _int(s, lo, hi):
    """strtol(s, 10) of the whole word within [lo, hi], else None."""
    return int(s) if _INT.match(s) and lo <= int(s) <= hi else None


def _pair(s, lo, hi):
    """'N' or 'NxM' (N alone: N, N) within [lo, hi], else None."""
    m = _PAIR.match(s)
    if not m:
        return None
    a = int(m.group(1))
    b = int(m.group(2)) if m.group(2) is not None else a
    return (a, b) if lo <= a <= hi and lo <= b <= hi else None


def _parse_conv(L, w, img_c, bad):
    o = dict(filters=0, k=(3, 3), s=(1, 1), pad="valid", p=(0, 0), op=(0, 0), bias=True)
    if len(w) >= 2 and w[1] == "c":
        o["filters"] = img_c
    else:
        f = _int(w[1], 1, 65536) if len(w) >= 2 else None
        if f is None:
            bad("needs a filter count 1..65536 (or c, the image's channels) first")
        o["filters"] = f
    for a in w[2:]:
        if a == "same":
            o["pad"] = "same"
        elif a == "valid":
            o["pad"] = "valid"
        elif a == "nobias":
            o["bias"] = False
        elif a[:1] == "k" and _pair(a[1:], 1, 64):
            o["k"] = _pair(a[1:], 1, 64)
        elif a[:1] == "s" and _pair(a[1:], 1, 64):
            o["s"] = _pair(a[1:], 1, 64)
        elif a[:2] == "op" and _pair(a[2:], 0, 63):
            o["op"] = _pair(a[2:], 0, 63)
        elif a[:1] == "p" and _pair(a[1:], 0, 64):
            o["pad"], o["p"] = "explicit", _pair(a[1:], 0, 64)
        else:
            bad("unknown option '%s' (kN, sN, pN, opN, same, valid, nobias; N or NxM)" % a)
    L.update(o)


def parse_spec(spec, img_c=1, flag="arch"):
    """The layers of `spec` as dicts {kind, index, text, ...}: kind is dense (n), conv /
    convt (filters, k, s, pad: valid|same|explicit, p, op, bias), up (f), pad / crop
    (v: top, bottom, left, right), reshape (v: h, w, c), flatten, bn, norm,
    act (act: a clgan activation name, or None for the network's), drop (rate, or None
    for the network's). ArchError with clgan's message on a bad spec."""
    if len(spec) > MAX_SPEC_CHARS:
        raise ArchError("--%s: spec longer than %d characters" % (flag, MAX_SPEC_CHARS))
    out = []
    for item in spec.split(","):
        if len(out) == MAX_SPEC_LAYERS:
            raise ArchError("--%s: at most %d layers" % (flag, MAX_SPEC_LAYERS))
        index = len(out) + 1
        text = item.lstrip(" \t")[:95].rstrip(" \t")
        words = [t for t in re.split(r"[ \t]+", item) if t]
        if len(words) > MAX_WORDS:
            raise ArchError("--%s: layer %d has too many words" % (flag, index))
        if not words:
            raise ArchError("--%s: layer %d is empty" % (flag, index))

        def bad(what):
            raise ArchError("--%s: layer %d ('%s'): %s" % (flag, index, text, what))
        L = dict(index=index, text=text)
        w = words
        if w[0] in ACT_WORDS:
            if len(w) > 1:
                bad("an activation takes no arguments")
            L.update(kind="act", act=ACT_WORDS[w[0]])
            out.append(L)
            continue
        if w[0] not in KIND_WORDS:
            bad("unknown layer '%s' (dense, conv, convt, up, pad, crop, reshape, flatten, bn, "
                "norm, act, relu, lrelu, tanh, sigmoid, elu, linear, drop)" % w[0])
        kind, lo, hi = KIND_WORDS[w[0]]
        L["kind"] = kind
        if not lo <= len(w) - 1 <= hi:
            bad("wrong number of arguments")
        if kind == "dense":
            L["n"] = _int(w[1], 1, 1 << 20)
            if L["n"] is None:
                bad("needs a width 1..2^20")
        elif kind in ("conv", "convt"):
            _parse_conv(L, w, img_c, bad)
        elif kind == "up":
            L["f"] = _pair(w[1], 1, 64)
            if L["f"] is None:
                bad("needs a factor 1..64")
        elif kind in ("pad", "crop"):
            if len(w) not in (2, 5):
                bad("needs 1 or 4 sizes (top bottom left right)")
            v = [_int(w[1 if len(w) == 2 else 1 + i], 0, 1024) for i in range(4)]
            if None in v:
                bad("needs 1 or 4 sizes 0..1024 (top bottom left right)")
            L["v"] = tuple(v)
        elif kind == "reshape":
            m = _HWC.match(w[1])
            if not m:
                bad("needs HxWxC")
            L["v"] = tuple(int(g) for g in m.groups())
        elif kind == "drop":
            L["rate"] = None
            if len(w) == 2:
                try:
                    r = float(w[1])
                except ValueError:
                    r = -1.0
                if not 0.0 <= r < 1.0:
                    bad("needs a rate in [0, 1)")
                L["rate"] = float(np.float32(r))
        out.append(L)
    return out


# ---- settings ---------------------------------------------------------------------------

# clgan_config_defaults() of the settings a network's arithmetic depends on
NET_DEFAULTS = dict(activation="leakyrelu", batchnorm="off", dropout="0", init="glorot",
                    arch="", layers="256,512,1024")
G_DEFAULTS = dict(NET_DEFAULTS, batchnorm="on")
D_DEFAULTS = dict(NET_DEFAULTS, layers="512,256")
MODEL_DEFAULTS = {"latent": "100", "leaky-slope": "0.2", "bn-eps": "0.001",
                  "bn-momentum": "0.8", "bn-variance": "keras"}
_ACT_NAMES = ("none", "leakyrelu", "relu", "tanh", "sigmoid", "elu")


def f32(s):
    """A setting as clgan holds it: strtod, then float32."""
    return float(np.float32(float(s)))


def _settings(net_cfg, model_cfg, defaults):
    n = dict(defaults, **{k: v for k, v in (net_cfg or {}).items()})
    m = dict(MODEL_DEFAULTS, **{k: v for k, v in (model_cfg or {}).items()})
    if n["activation"] not in _ACT_NAMES:
        raise ArchError("activation %r" % n["activation"])
    if n["batchnorm"] not in ("off", "on", "all"):
        raise ArchError("batchnorm %r" % n["batchnorm"])
    eps = f32(m["bn-eps"])
    return dict(act=n["activation"], bn=n["batchnorm"] != "off", dropout=f32(n["dropout"]),
                init=n.get("init", "glorot"), init_std=f32(n.get("init-std", "0.02")),
                slope=f32(m["leaky-slope"]), eps=eps, momentum=f32(m["bn-momentum"]),
                # clgan: 1.0f + eps in float32 (Keras 2), or 1 (PyTorch)
                var_corr=float(np.float32(1.0) + np.float32(eps))
                if m["bn-variance"] == "keras" else 1.0,
                arch=n.get("arch", ""), layers=n.get("layers", ""),
                residual=n.get("residual", "off"))


# ---- clgan's host RNG (src/common/rng.h) and dropout masks (cl/activation.cl) -------------

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(seed, first, n):
    """Outputs first+1 .. first+n of clgan_rng {seed} (SplitMix64), as uint64."""
    with np.errstate(over="ignore"):
        k = np.arange(first + 1, first + n + 1, dtype=np.uint64)
        z = np.uint64(seed & _M64) + k * np.uint64(_GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class HostRng:
    """clgan_rng: counts its draws so a layer's place in the stream is known."""

    def __init__(self, seed):
        self.seed, self.drawn = seed & _M64, 0

    def next(self, n):
        out = splitmix64(self.seed, self.drawn, n)
        self.drawn += n
        return out

    def uniform(self, n):
        """clgan_rng_uniform: (next >> 11) 2^-53, in double."""
        return (self.next(n) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)

    def normal(self, n):
        """clgan_rng_normal (Box-Muller; libm's log and cos through Python's math)."""
        u = self.uniform(2 * n)
        return np.array([math.sqrt(-2.0 * math.log(1.0 - u[2 * i]))
                         * math.cos(6.283185307179586 * u[2 * i + 1]) for i in range(n)])


DROPOUT_STREAM, DROPOUT_TAG = 1, 0x0D50  # src/nn/dropout.c, cl/activation.cl


def dropout_mask(seed, call, n, rate):
    """The (n,) float32 mask of clgan's dropout_fwd: 0 or 1/(1 - rate) (float32)."""
    ctr = np.zeros((n, 4), dtype=np.uint64)
    ctr[:, 0], ctr[:, 1], ctr[:, 2], ctr[:, 3] = np.arange(n), call, DROPOUT_STREAM, DROPOUT_TAG
    u = u01(philox4x32(ctr, (seed & 0xFFFFFFFF, seed >> 32))[:, 0])
    r = np.float32(rate)
    keep = np.float32(1.0) / (np.float32(1.0) - r)
    return np.where(u >= r, keep, np.float32(0.0)).astype(np.float32)


# ---- layers -------------------------------------------------------------------------------

def _act(z, act, slope, net):
    if act in ("leakyrelu", "relu"):
        if net.on_preact is not None:
            net.on_preact(z)
        return torch.where(z > 0, z, z * (slope if act == "leakyrelu" else 0.0))
    if act == "tanh":
        return torch.tanh(z)
    if act == "sigmoid":
        return torch.sigmoid(z)
    if act == "elu":
        return torch.where(z > 0, z, slope * (torch.exp(z) - 1.0))
    if act == "none":
        return z
    raise ArchError("activation %r" % act)


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


class Layer(nn.Module):
    """One clgan layer. Subclasses set `prefix` (network.c's kind name), compute
    out_shape (h, w, c) from in_shape, and define tensors() (suffix, shape, trained)
    in describe() order, init() (clgan's draws) and forward(x, T, ctx) with T(suffix)
    the tensor to use."""
    prefix = "?"

    def __init__(self, in_shape):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.out_shape = self.in_shape

    def tensors(self):
        return []

    def init(self, rng):
        return {}

    def _register(self, dtype=torch.float32):
        for suffix, shape, trained in self.tensors():
            t = torch.zeros(shape, dtype=dtype)
            if trained:
                self.register_parameter(suffix, nn.Parameter(t))
            else:
                self.register_buffer(suffix, t)


def _kernel_init(rng, shape, fan_in, fan_out, st):
    n = int(np.prod(shape))
    if st["init"] == "normal":
        w = st["init_std"] * rng.normal(n)
    else:
        w = (2.0 * rng.uniform(n) - 1.0) * math.sqrt(6.0 / (fan_in + fan_out))
    return w.astype(np.float32).reshape(shape)


class Dense(Layer):
    """y = act(x W + b) on each sample flattened in NHWC order; W (in, out)."""
    prefix = "dense"

    def __init__(self, in_shape, n, act, st):
        super().__init__(in_shape)
        self.n_in, self.n, self.act, self.st = int(np.prod(in_shape)), n, act, st
        self.out_shape = (1, 1, n)
        self._register()

    def tensors(self):
        return [("kernel", (self.n_in, self.n), True), ("bias", (self.n,), True)]

    def init(self, rng):
        return {"kernel": _kernel_init(rng, (self.n_in, self.n), self.n_in, self.n, self.st),
                "bias": np.zeros(self.n, np.float32)}

    def forward(self, x, T, ctx):
        z = x.reshape(x.shape[0], -1) @ T("kernel") + T("bias")
        return _act(z, self.act, self.st["slope"], ctx).reshape(x.shape[0], 1, 1, self.n)


def _same(n, k, s):
    """TensorFlow 'same': (out, pad before, pad after)."""
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


class Conv(Layer):
    """Conv2d over NHWC, kernel (kh, kw, c_in, filters) (Keras); 'same' padding split as
    TensorFlow does (F.pad), 'pN' symmetric (PyTorch), else none."""
    prefix = "conv"

    def __init__(self, in_shape, L, act, st):
        super().__init__(in_shape)
        h, w, c = self.in_shape
        (kh, kw), (sh, sw) = L["k"], L["s"]
        self.L, self.act, self.st = L, act, st
        if L["pad"] == "same":
            oh, pt, pb = _same(h, kh, sh)
            ow, pl, pr = _same(w, kw, sw)
        else:
            ph, pw = L["p"] if L["pad"] == "explicit" else (0, 0)
            pt = pb = ph
            pl = pr = pw
            oh = (h + 2 * ph - kh) // sh + 1 if h + 2 * ph - kh >= 0 else -1
            ow = (w + 2 * pw - kw) // sw + 1 if w + 2 * pw - kw >= 0 else -1
        if oh <= 0 or ow <= 0:
            raise ArchError("convolution: a %dx%d kernel does not fit a %dx%d input with this "
                            "padding" % (kh, kw, h, w))
        self.pads = (pl, pr, pt, pb)  # F.pad order for NCHW: W then H
        self.out_shape = (oh, ow, L["filters"])
        self._register()

    def tensors(self):
        (kh, kw), c, f = self.L["k"], self.in_shape[2], self.L["filters"]
        t = [("kernel", (kh, kw, c, f), True)]
        return t + ([("bias", (f,), True)] if self.L["bias"] else [])

    def init(self, rng):
        (kh, kw), c, f = self.L["k"], self.in_shape[2], self.L["filters"]
        out = {"kernel": _kernel_init(rng, (kh, kw, c, f), kh * kw * c, kh * kw * f, self.st)}
        if self.L["bias"]:
            out["bias"] = np.zeros(f, np.float32)
        return out

    def forward(self, x, T, ctx):
        xn = _nchw(x)
        if any(self.pads):
            xn = F.pad(xn, self.pads)
        y = F.conv2d(xn, T("kernel").permute(3, 2, 0, 1), stride=self.L["s"])
        y = _nhwc(y)
        if self.L["bias"]:
            y = y + T("bias")
        return _act(y, self.act, self.st["slope"], ctx)


class ConvT(Layer):
    """ConvTranspose2d over NHWC, kernel (c_in, kh, kw, filters); out = (in - 1) s - 2p +
    k + op (PyTorch's), the adjoint of the Conv2d of the same k, s, p."""
    prefix = "convt"

    def __init__(self, in_shape, L, act, st):
        super().__init__(in_shape)
        h, w, c = self.in_shape
        (kh, kw), (sh, sw), (oph, opw) = L["k"], L["s"], L["op"]
        if L["pad"] == "same":
            raise ArchError("transposed convolution: give explicit padding (PyTorch's padding "
                            "and output_padding), not 'same'")
        ph, pw = L["p"] if L["pad"] == "explicit" else (0, 0)
        oh, ow = (h - 1) * sh - 2 * ph + kh + oph, (w - 1) * sw - 2 * pw + kw + opw

        def back(o, k, s, p):  # the adjoint Conv2d's output size
            return (o + 2 * p - k) // s + 1 if o + 2 * p - k >= 0 else -1
        if (oph >= sh or opw >= sw or oh <= 0 or ow <= 0 or back(oh, kh, sh, ph) != h
                or back(ow, kw, sw, pw) != w):
            raise ArchError("transposed convolution: kernel %dx%d, stride %dx%d, padding %dx%d, "
                            "output padding %dx%d do not fit a %dx%d input (output padding must "
                            "be below the stride)" % (kh, kw, sh, sw, ph, pw, oph, opw, h, w))
        self.L, self.act, self.st, self.p = L, act, st, (ph, pw)
        self.out_shape = (oh, ow, L["filters"])
        self._register()

    def tensors(self):
        (kh, kw), c, f = self.L["k"], self.in_shape[2], self.L["filters"]
        t = [("kernel", (c, kh, kw, f), True)]
        return t + ([("bias", (f,), True)] if self.L["bias"] else [])

    def init(self, rng):
        (kh, kw), c, f = self.L["k"], self.in_shape[2], self.L["filters"]
        out = {"kernel": _kernel_init(rng, (c, kh, kw, f), kh * kw * c, kh * kw * f, self.st)}
        if self.L["bias"]:
            out["bias"] = np.zeros(f, np.float32)
        return out

    def forward(self, x, T, ctx):
        y = F.conv_transpose2d(_nchw(x), T("kernel").permute(0, 3, 1, 2), stride=self.L["s"],
                               padding=self.p, output_padding=self.L["op"])
        y = _nhwc(y)
        if self.L["bias"]:
            y = y + T("bias")
        return _act(y, self.act, self.st["slope"], ctx)


class Upsample(Layer):
    """Nearest-neighbour upsampling by (fh, fw) (Keras UpSampling2D)."""
    prefix = "up"

    def __init__(self, in_shape, f):
        super().__init__(in_shape)
        h, w, c = self.in_shape
        if h * f[0] * w * f[1] * c > (1 << 28):
            raise ArchError("upsampling by %dx%d of a %dx%dx%d input: need an output of at most "
                            "2^28 values" % (f[0], f[1], h, w, c))
        self.f = f
        self.out_shape = (h * f[0], w * f[1], c)

    def forward(self, x, T, ctx):
        return x.repeat_interleave(self.f[0], dim=1).repeat_interleave(self.f[1], dim=2)


class ZeroPad(Layer):
    """Zero padding (top, bottom, left, right) (Keras ZeroPadding2D), or, with all sizes
    <= 0, cropping (Keras Cropping2D)."""
    prefix = "pad"

    def __init__(self, in_shape, v):
        super().__init__(in_shape)
        h, w, c = self.in_shape
        t, b, l, r = v
        crop = min(v) < 0
        oh, ow = h + t + b, w + l + r
        if (crop and max(v) > 0) or t + b > 1024 or l + r > 1024 or oh < 1 or ow < 1:
            raise ArchError("padding (%d, %d, %d, %d) of a %dx%d image: pad with sizes 0..1024 "
                            "or crop with sizes <= 0, leaving at least 1x1" % (t, b, l, r, h, w))
        self.v = v
        self.out_shape = (oh, ow, c)

    def forward(self, x, T, ctx):
        t, b, l, r = self.v
        if min(self.v) < 0:
            h, w = self.in_shape[:2]
            return x[:, -t:h + b, -l:w + r, :]
        return F.pad(x, (0, 0, l, r, t, b))


class Reshape(Layer):
    """A new sample shape of the same size, NHWC order kept (Keras Reshape/Flatten)."""
    prefix = "reshape"

    def __init__(self, in_shape, s):
        super().__init__(in_shape)
        h, w, c = self.in_shape
        if min(s) <= 0 or s[0] * s[1] * s[2] != h * w * c:
            raise ArchError("reshape of %dx%dx%d (%d values) to %dx%dx%d: the sizes must match"
                            % (h, w, c, h * w * c, s[0], s[1], s[2]))
        self.out_shape = tuple(s)

    def forward(self, x, T, ctx):
        return x.reshape((x.shape[0],) + self.out_shape)


class BatchNorm(Layer):
    """BatchNorm per channel over N*H*W, clgan's conventions (module docstring)."""
    prefix = "bn"

    def __init__(self, in_shape, st):
        super().__init__(in_shape)
        self.c, self.st = self.in_shape[2], st
        self._register()

    def tensors(self):
        c = (self.c,)
        return [("gamma", c, True), ("beta", c, True), ("moving_mean", c, False),
                ("moving_variance", c, False)]

    def init(self, rng):
        c = self.c
        return {"gamma": np.ones(c, np.float32), "beta": np.zeros(c, np.float32),
                "moving_mean": np.zeros(c, np.float32), "moving_variance": np.ones(c, np.float32)}

    def forward(self, x, T, ctx):
        eps = self.st["eps"]
        if not ctx.training:
            return T("gamma") * (x - T("moving_mean")) / torch.sqrt(T("moving_variance") + eps) \
                + T("beta")
        mean = x.mean(dim=(0, 1, 2))
        var = ((x - mean) ** 2).mean(dim=(0, 1, 2))  # biased
        rows, m = x.shape[0] * x.shape[1] * x.shape[2], self.st["momentum"]
        v = var.detach()
        unb = v * (rows / (rows - self.st["var_corr"])) if rows > 1 else v
        ctx.update_stat(self, "moving_mean", lambda old: m * old + (1.0 - m) * mean.detach())
        ctx.update_stat(self, "moving_variance", lambda old: m * old + (1.0 - m) * unb)
        return T("gamma") * (x - mean) * (1.0 / torch.sqrt(var + eps)) + T("beta")


class Activation(Layer):
    prefix = "act"

    def __init__(self, in_shape, act, st):
        super().__init__(in_shape)
        self.act, self.st = act, st

    def forward(self, x, T, ctx):
        return _act(x, self.act, self.st["slope"], ctx)


class Dropout(Layer):
    """Inverted dropout with clgan's Philox masks; `calls` counts training forwards."""
    prefix = "drop"

    def __init__(self, in_shape, rate):
        super().__init__(in_shape)
        self.rate, self.seed, self.calls = rate, None, 0

    def init(self, rng):
        self.seed = int(rng.next(1)[0])
        return {}

    def forward(self, x, T, ctx):
        if not ctx.training or self.rate == 0.0:
            return x
        if self.seed is None:
            raise ArchError("dropout: no seed (call init_tensors(seed) or set .seed)")
        self.calls += 1
        m = dropout_mask(self.seed, self.calls, x.numel(), self.rate)
        return x * torch.from_numpy(m).to(x.dtype).reshape(x.shape)


# ---- networks -----------------------------------------------------------------------------

class _Ctx:
    """What a forward pass needs besides the layer's tensors."""

    def __init__(self, net, training, stats):
        self.net, self.training, self.stats = net, training, stats
        self.on_preact = net.on_preact

    def update_stat(self, layer, suffix, f):
        key = layer.name + "." + suffix
        if self.stats is not None:
            self.stats[key] = f(self.stats[key])
        else:
            with torch.no_grad():
                buf = getattr(layer, suffix)
                buf.copy_(f(buf))


class ClganNet(nn.Module):
    """A network built from a spec: `layers` [(clgan name, Layer)] in order. Its
    state_dict() keys are clgan's tensor names.

    forward(x, P=None, training=None, stats=None):
      x         (N, h*w*c) or (N, h, w, c), NHWC; returns (N, h', w', c') NHWC
      P         {clgan name: tensor} to use instead of the module's own tensors (e.g.
                autograd leaves), None: the module's parameters and buffers
      training  batch statistics and dropout (None: self.training)
      stats     {name: tensor} where training mode writes the new running statistics
                (read from it too); None: the module's buffers, updated in place."""

    def __init__(self, layers, in_shape):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.out_shape = layers[-1][1].out_shape if layers else self.in_shape
        self.names = []
        for name, layer in layers:
            layer.name = name
            self.add_module(name, layer)
            self.names.append(name)
        self.on_preact = None  # called with every LeakyReLU/ReLU input (kink tracking)

    def layer_list(self):
        return [getattr(self, n) for n in self.names]

    def tensor_specs(self):
        """[(clgan name, shape, trained)] in clgan's order (network.c layout())."""
        return [(l.name + "." + s, shape, tr) for l in self.layer_list()
                for s, shape, tr in l.tensors()]

    def init_tensors(self, seed):
        """clgan's initial values from network seed `seed` (clgan_net_finalize): an
        OrderedDict {name: float32 array}, also loaded into the module; gives each
        dropout layer its seed and resets its call counter."""
        rng, out = HostRng(seed), OrderedDict()
        for l in self.layer_list():
            vals = l.init(rng)
            if isinstance(l, Dropout):
                l.calls = 0
            for s, _, _ in l.tensors():
                out[l.name + "." + s] = vals[s]
        self.load_tensors(out)
        return out

    def load_tensors(self, tensors, strict=True):
        """Sets the module's tensors from {clgan name: array or tensor} (shapes checked;
        kept in the module's dtype)."""
        for name, shape, _ in self.tensor_specs():
            if name not in tensors:
                if strict:
                    raise ArchError("no tensor %s" % name)
                continue
            v = torch.as_tensor(np.asarray(tensors[name]))
            if tuple(v.shape) != tuple(shape):
                raise ArchError("tensor %s has shape %s, expected %s"
                                % (name, tuple(v.shape), tuple(shape)))
            layer, suffix = name.rsplit(".", 1)
            cur = getattr(getattr(self, layer), suffix)
            cur.data = v.to(cur.dtype).clone()
        return self

    def dropout_calls(self):
        return {l.name: l.calls for l in self.layer_list() if isinstance(l, Dropout)}

    def set_dropout_calls(self, calls):
        for l in self.layer_list():
            if isinstance(l, Dropout):
                l.calls = calls[l.name]

    def forward(self, x, P=None, training=None, stats=None):
        training = self.training if training is None else training
        ctx = _Ctx(self, training, stats)
        h = x.reshape((x.shape[0],) + self.in_shape)
        for l in self.layer_list():
            if P is None:
                T = lambda s, l=l: getattr(l, s)  # noqa: E731
            else:
                T = lambda s, l=l: P[l.name + "." + s]  # noqa: E731
            h = l(h, T, ctx)
        return h.reshape((h.shape[0],) + self.out_shape)

    @staticmethod
    def nchw(y):
        """(N, H, W, C) -> (N, C, H, W), PyTorch's image layout."""
        return y.permute(0, 3, 1, 2)


def build(spec, in_shape, net_cfg=None, model_cfg=None, tail=None, img_c=1, flag="arch",
          defaults=NET_DEFAULTS):
    """The network of `spec` (plus `tail`, e.g. 'sigmoid') on samples of `in_shape`
    (h, w, c), with the generic tokens act / norm / drop resolved from net_cfg (an INI
    section: activation, batchnorm, dropout, init, init-std) and model_cfg ([model]:
    leaky-slope, bn-eps, bn-momentum, bn-variance). Layers are named as clgan names
    them; clgan's checks apply (ArchError with its message)."""
    st = _settings(net_cfg, model_cfg, defaults)
    L = parse_spec(spec, img_c, flag)
    if tail:
        L += parse_spec(tail, img_c, flag)  # numbered from 1 again, as arch.c does
    for x in reversed(L):
        if x["kind"] in ("dense", "conv", "convt"):
            break
        if x["kind"] == "bn" or (x["kind"] == "norm" and st["bn"]):
            raise ArchError("--%s: layer %d ('%s') normalizes the network's output (BatchNorm "
                            "after the last dense/conv layer): move it before that layer"
                            % (flag, x["index"], x["text"]))
    layers, counts, shape, i = [], {}, tuple(in_shape), 0

    def resolve(a):
        return st["act"] if a is None else a
    while i < len(L):
        x, layer = L[i], None
        fused = "none"
        if x["kind"] in ("dense", "conv", "convt") and i + 1 < len(L) and L[i + 1]["kind"] == "act":
            i += 1
            fused = resolve(L[i]["act"])
        try:
            k = x["kind"]
            if k == "dense":
                layer = Dense(shape, x["n"], fused, st)
            elif k == "conv":
                layer = Conv(shape, x, fused, st)
            elif k == "convt":
                layer = ConvT(shape, x, fused, st)
            elif k == "up":
                layer = Upsample(shape, x["f"])
            elif k in ("pad", "crop"):
                layer = ZeroPad(shape, x["v"] if k == "pad" else tuple(-v for v in x["v"]))
            elif k in ("reshape", "flatten"):
                layer = Reshape(shape, x["v"] if k == "reshape" else (1, 1, int(np.prod(shape))))
            elif k == "bn" or (k == "norm" and st["bn"]):
                layer = BatchNorm(shape, st)
            elif k == "act":
                layer = Activation(shape, resolve(x["act"]), st)
            elif k == "drop":
                r = st["dropout"] if x["rate"] is None else x["rate"]
                if r > 0.0:
                    layer = Dropout(shape, r)
        except ArchError as e:
            raise ArchError("--%s: layer %d ('%s') on a %dx%dx%d input: %s"
                            % ((flag, x["index"], x["text"]) + tuple(shape) + (e,))) from None
        if layer is not None:
            n = counts.get(layer.prefix, 0)
            counts[layer.prefix] = n + 1
            layers.append(("%s%d" % (layer.prefix, n), layer))
            shape = layer.out_shape
        i += 1
    return ClganNet(layers, in_shape)


def mlp_spec(net_cfg, out_dim, out_act, dropout_ok, defaults):
    """clgan's MLP (src/gan/model.c, non-residual) as the equivalent spec."""
    n = dict(defaults, **(net_cfg or {}))
    if n.get("residual", "off") == "on":
        raise ArchError("residual MLPs are not expressible as a spec (use "
                        "tools/keras_gan_torch.py ClganRef)")
    parts = []
    for w in (x for x in n["layers"].split(",") if x.strip()):
        parts += ["dense %d" % int(w), "act", "norm"] + (["drop"] if dropout_ok else [])
    return ", ".join(parts + ["dense %d" % out_dim, out_act])


def _sections(cfg):
    return cfg.get("generator", {}), cfg.get("discriminator", {}), cfg.get("model", {})


def generator(cfg, img_shape):
    """G of configuration `cfg` for images (h, w, c), as src/gan/model.c builds it: its
    arch on a 1x1xlatent input, or the MLP. Output (N, h, w, c)."""
    g, _, m = _sections(cfg)
    latent = int(dict(MODEL_DEFAULTS, **m)["latent"])
    h, w, c = img_shape
    spec = dict(G_DEFAULTS, **g).get("arch", "")
    if not spec:
        spec = mlp_spec(g, h * w * c, "tanh", False, G_DEFAULTS)
    net = build(spec, (1, 1, latent), g, m, None, c, "arch-g", G_DEFAULTS)
    if int(np.prod(net.out_shape)) != h * w * c:
        raise ArchError("--arch-g: G ends in %dx%dx%d values per sample; the images are "
                        "%dx%dx%d" % (net.out_shape + tuple(img_shape)))
    net.out_shape = tuple(img_shape)
    net.latent = latent
    return net


def discriminator(cfg, img_shape):
    """D of configuration `cfg` on images (h, w, c): its arch plus 'sigmoid' for the bce
    loss (model.c), or the MLP. Output (N, 1, 1, 1)."""
    _, d, m = _sections(cfg)
    sigmoid = cfg.get("train", {}).get("loss", "bce") == "bce"
    spec = dict(D_DEFAULTS, **d).get("arch", "")
    if spec:
        net = build(spec, img_shape, d, m, "sigmoid" if sigmoid else None, img_shape[2],
                    "arch-d", D_DEFAULTS)
    else:
        net = build(mlp_spec(d, 1, "sigmoid" if sigmoid else "linear", True, D_DEFAULTS),
                    img_shape, d, m, None, img_shape[2], "arch-d", D_DEFAULTS)
    if int(np.prod(net.out_shape)) != 1:
        raise ArchError("--arch-d: D must end in one value per sample (e.g. 'flatten, dense 1'); "
                        "it ends in %dx%dx%d" % net.out_shape)
    return net


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", help="print the layers, shapes and tensors of this spec")
    ap.add_argument("--shape", default="28x28x1", help="input shape HxWxC for --spec")
    args = ap.parse_args()
    if args.spec:
        try:
            net = build(args.spec, tuple(int(v) for v in args.shape.split("x")))
        except ArchError as e:
            print("clgan_arch: %s" % e, file=sys.stderr)
            return 2
        shape = net.in_shape
        for l in net.layer_list():
            fused = getattr(l, "act", "none") if l.prefix in ("dense", "conv", "convt") else "none"
            line = "%-10s %-12s -> %-12s%s" % (l.name, "x".join(map(str, shape)),
                                               "x".join(map(str, l.out_shape)),
                                               "" if fused == "none" else " + " + fused)
            print(line.rstrip())
            shape = l.out_shape
        for name, s, tr in net.tensor_specs():
            print("  %-24s %s%s" % (name, s, "" if tr else " (state)"))
        return 0
    ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
