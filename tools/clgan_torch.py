#!/usr/bin/python3
"""clgan_torch: a clgan generator checkpoint as a PyTorch module.

`clgan train` saves G as RUN/generator.safetensors: every parameter and running
statistic by layer name (dense0.kernel (in, out), bn0.moving_mean, conv1.kernel
(kh, kw, c_in, filters), ...) and, as metadata, the run's whole configuration
(config.ini's text, including an --arch-g layer spec) and image size and channels.
This module rebuilds G from that metadata as a torch.nn.Module in inference mode
(BatchNorm on its running statistics, as `clgan sample` draws), so the same noise gives
the same images as clgan, to float rounding:

    import numpy as np, torch, clgan_torch
    g = clgan_torch.load_generator("runs/x/generator.safetensors")
    z = torch.from_numpy(np.load("z.npy"))      # clgan sample --save-noise z.npy
    x = g(z)                                     # (N, C, H, W) in [-1, 1]
    z = clgan_torch.noise(16, g.latent, seed=3)  # clgan sample --n 16 --seed 3's noise

From the shell (writes what `clgan sample --out x.npy` writes; --compare checks it):
    tools/clgan_torch.py runs/x/generator.safetensors --noise z.npy --out x.npy
    tools/clgan_torch.py runs/x/generator.safetensors --n 16 --seed 3 --compare x.npy

How a network is rebuilt: generator_plan() turns the configuration into a list of layer
specs, in the order and with the names src/gan/model.c and src/nn/network.c give them
(one counter per layer kind: dense0, bn0, res0, ...); LAYER_KINDS maps each kind to the
module that builds it from (spec, input shape) and loads its tensors. Activations flow
as clgan stores them, NHWC: (N, h, w, c) tensors with per-sample shapes (h, w, c), a
feature vector being (1, 1, c); only the final images are permuted to PyTorch's
(N, C, H, W). A new clgan layer kind is one class and one entry in LAYER_KINDS (and the
plan that places it).

Reads safetensors itself (the format is a JSON header and raw little-endian floats), so
it needs only numpy and torch (Debian: python3-numpy, python3-torch).
"""

import argparse
import configparser
import json
import math
import struct
import sys

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # the module still imports, so callers can say torch is missing
    torch = None
    nn = None

FORMAT = "clgan-generator-1"


# ---- the checkpoint file ----------------------------------------------------------------

def read_safetensors(path):
    """(tensors, metadata): {name: float32 numpy array}, {key: str}. F32 only."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("%s: not a safetensors file (too short)" % path)
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("%s: header length %d past the end of the file" % (path, n))
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    data = blob[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError("%s: tensor %s is %s, expected F32" % (path, name, t["dtype"]))
        a, b = t["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype="<f4")
        tensors[name] = arr.reshape(t["shape"]).astype(np.float32)
    return tensors, meta


def read_config(text):
    """The checkpoint's configuration (config.ini text) as {section: {key: str}}."""
    cp = configparser.ConfigParser(comment_prefixes=("#", ";"), inline_comment_prefixes=None,
                                   interpolation=None)
    cp.read_string(text)
    return {s: dict(cp[s]) for s in cp.sections()}


# ---- layer kinds ------------------------------------------------------------------------

def _activation(name, slope):
    """clgan's activations (cl/common.h): slope is LeakyReLU's slope or ELU's alpha."""
    table = {
        "none": lambda x: x,
        "leakyrelu": lambda x: torch.nn.functional.leaky_relu(x, slope),
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "elu": lambda x: torch.nn.functional.elu(x, slope),
    }
    if name not in table:
        raise ValueError("unknown activation %r" % name)
    return table[name]


def _tensor(tensors, name, shape):
    if name not in tensors:
        raise ValueError("checkpoint has no tensor %s" % name)
    t = tensors[name]
    if tuple(t.shape) != tuple(shape):
        raise ValueError("tensor %s has shape %s, expected %s" % (name, t.shape, tuple(shape)))
    return torch.from_numpy(t.copy())


if nn is not None:
    class Dense(nn.Module):
        """y = act(x W + b) on the flattened (NHWC) sample, W (in, out) as clgan and Keras
        store kernels; the output is a feature vector (1, 1, out)."""
        prefix = "dense"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.n_in = in_shape[0] * in_shape[1] * in_shape[2]
            self.n_out = spec["out"]
            self.act = _activation(spec.get("act", "none"), spec.get("slope", 0.0))
            self.kernel = nn.Parameter(torch.zeros(self.n_in, self.n_out))
            self.bias = nn.Parameter(torch.zeros(self.n_out))
            self.out_shape = (1, 1, self.n_out)

        def load(self, tensors, name):
            self.kernel.data = _tensor(tensors, name + ".kernel", (self.n_in, self.n_out))
            self.bias.data = _tensor(tensors, name + ".bias", (self.n_out,))

        def forward(self, x):
            y = self.act(x.reshape(x.shape[0], self.n_in) @ self.kernel + self.bias)
            return y.reshape(x.shape[0], 1, 1, self.n_out)

    class BatchNorm(nn.Module):
        """BatchNorm per channel (the last, NHWC axis), inference mode:
        gamma (x - mean) / sqrt(var + eps) + beta with the running statistics (Keras
        moving_mean / moving_variance)."""
        prefix = "bn"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.c = in_shape[2]
            self.eps = spec["eps"]
            for k in ("gamma", "beta", "moving_mean", "moving_variance"):
                self.register_buffer(k, torch.zeros(self.c))
            self.out_shape = in_shape

        def load(self, tensors, name):
            for k in ("gamma", "beta", "moving_mean", "moving_variance"):
                setattr(self, k, _tensor(tensors, "%s.%s" % (name, k), (self.c,)))

        def forward(self, x):
            return self.gamma * (x - self.moving_mean) / torch.sqrt(self.moving_variance + self.eps) + self.beta

    class Residual(nn.Module):
        """y = [BN](act(x W + b)) + skip(x); skip = x when widths match, else x P + p
        (src/nn/residual.c). Tensors resK.dense.*, resK.bn.*, resK.proj.*."""
        prefix = "res"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.dense = Dense(spec, in_shape)
            self.bn = BatchNorm(spec, self.dense.out_shape) if spec.get("bn") else None
            self.proj = Dense({"out": spec["out"]}, in_shape) if in_shape != self.dense.out_shape else None
            self.out_shape = self.dense.out_shape

        def load(self, tensors, name):
            self.dense.load(tensors, name + ".dense")
            if self.bn is not None:
                self.bn.load(tensors, name + ".bn")
            if self.proj is not None:
                self.proj.load(tensors, name + ".proj")

        def forward(self, x):
            u = self.dense(x)
            if self.bn is not None:
                u = self.bn(u)
            return u + (self.proj(x) if self.proj is not None else x)

    class Activation(nn.Module):
        """A standalone activation (no tensors)."""
        prefix = "act"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.act = _activation(spec["act"], spec.get("slope", 0.0))
            self.out_shape = in_shape

        def load(self, tensors, name):
            pass

        def forward(self, x):
            return self.act(x)

    def _nchw(x):
        return x.permute(0, 3, 1, 2)

    def _nhwc(x):
        return x.permute(0, 2, 3, 1)

    class Conv2d(nn.Module):
        """Conv2d over NHWC activations (src/nn/conv.c): kernel (kh, kw, c_in, filters) as
        Keras stores it, padding valid, explicit (pN on both sides) or TensorFlow's same
        (out = ceil(in / s), the smaller half of the padding first); act fused."""
        prefix = "conv"

        def __init__(self, spec, in_shape):
            super().__init__()
            h, w, self.ci = in_shape
            self.k, self.s, self.f = spec["k"], spec["s"], spec["filters"]
            self.pads = [self._pad(n, k, s, spec, axis) for axis, (n, k, s) in enumerate(zip((h, w), self.k, self.s))]
            out = [(n + a + b - k) // s + 1 for n, (a, b), k, s in zip((h, w), self.pads, self.k, self.s)]
            self.out_shape = (out[0], out[1], self.f)
            self.has_bias = not spec.get("nobias")
            self.act = _activation(spec.get("act", "none"), spec.get("slope", 0.0))
            self.kernel = nn.Parameter(torch.zeros(self.k[0], self.k[1], self.ci, self.f))
            self.bias = nn.Parameter(torch.zeros(self.f)) if self.has_bias else None

        @staticmethod
        def _pad(n, k, s, spec, axis):
            """(before, after) zeros along one axis."""
            if spec["pad"] == "same":
                out = (n + s - 1) // s
                total = max((out - 1) * s + k - n, 0)
                return (total // 2, total - total // 2)
            p = spec["p"][axis] if spec["pad"] == "explicit" else 0
            return (p, p)

        def load(self, tensors, name):
            self.kernel.data = _tensor(tensors, name + ".kernel", tuple(self.kernel.shape))
            if self.has_bias:
                self.bias.data = _tensor(tensors, name + ".bias", (self.f,))

        def forward(self, x):
            (t, b), (l, r) = self.pads
            x = torch.nn.functional.pad(_nchw(x), (l, r, t, b))
            y = torch.nn.functional.conv2d(x, self.kernel.permute(3, 2, 0, 1), self.bias, stride=self.s)
            return self.act(_nhwc(y))

    class ConvTranspose2d(nn.Module):
        """ConvTranspose2d over NHWC activations: kernel (c_in, kh, kw, filters), out =
        (in - 1) s - 2 p + k + op (PyTorch's formula); act fused."""
        prefix = "convt"

        def __init__(self, spec, in_shape):
            super().__init__()
            h, w, self.ci = in_shape
            self.k, self.s, self.f = spec["k"], spec["s"], spec["filters"]
            self.p, self.op = spec.get("p", (0, 0)), spec.get("op", (0, 0))
            out = [(n - 1) * s - 2 * p + k + o for n, s, p, k, o in zip((h, w), self.s, self.p, self.k, self.op)]
            self.out_shape = (out[0], out[1], self.f)
            self.has_bias = not spec.get("nobias")
            self.act = _activation(spec.get("act", "none"), spec.get("slope", 0.0))
            self.kernel = nn.Parameter(torch.zeros(self.ci, self.k[0], self.k[1], self.f))
            self.bias = nn.Parameter(torch.zeros(self.f)) if self.has_bias else None

        load = Conv2d.load

        def forward(self, x):
            y = torch.nn.functional.conv_transpose2d(_nchw(x), self.kernel.permute(0, 3, 1, 2), self.bias,
                                                     stride=self.s, padding=self.p, output_padding=self.op)
            return self.act(_nhwc(y))

    class UpSampling2D(nn.Module):
        """Nearest-neighbour upsampling by (fh, fw)."""
        prefix = "up"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.f = spec["f"]
            self.out_shape = (in_shape[0] * self.f[0], in_shape[1] * self.f[1], in_shape[2])

        def load(self, tensors, name):
            pass

        def forward(self, x):
            return x.repeat_interleave(self.f[0], dim=1).repeat_interleave(self.f[1], dim=2)

    class ZeroPadding2D(nn.Module):
        """Zero padding (top, bottom, left, right); negative sizes crop (Cropping2D)."""
        prefix = "pad"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.t, self.b, self.l, self.r = spec["tblr"]
            self.out_shape = (in_shape[0] + self.t + self.b, in_shape[1] + self.l + self.r, in_shape[2])

        def load(self, tensors, name):
            pass

        def forward(self, x):
            return torch.nn.functional.pad(x, (0, 0, self.l, self.r, self.t, self.b))

    class Reshape(nn.Module):
        """A new per-sample shape (h, w, c), NHWC order kept (Keras Reshape, Flatten)."""
        prefix = "reshape"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.out_shape = tuple(spec["shape"]) if spec.get("shape") else (1, 1, in_shape[0] * in_shape[1] * in_shape[2])

        def load(self, tensors, name):
            pass

        def forward(self, x):
            return x.reshape((x.shape[0],) + self.out_shape)

    class Dropout(nn.Module):
        """Dropout: the identity in inference mode."""
        prefix = "drop"

        def __init__(self, spec, in_shape):
            super().__init__()
            self.out_shape = in_shape

        def load(self, tensors, name):
            pass

        def forward(self, x):
            return x

    # kind -> module class: each takes (spec, input shape), reports out_shape, and loads
    # its tensors under the name the network gave it.
    LAYER_KINDS = {
        "dense": Dense,
        "batchnorm": BatchNorm,
        "residual": Residual,
        "activation": Activation,
        "conv": Conv2d,
        "convt": ConvTranspose2d,
        "up": UpSampling2D,
        "pad": ZeroPadding2D,
        "reshape": Reshape,
        "dropout": Dropout,
    }
else:
    LAYER_KINDS = {}


# ---- the generator ----------------------------------------------------------------------

_SPEC_ACTS = {"relu": "relu", "lrelu": "leakyrelu", "leakyrelu": "leakyrelu", "tanh": "tanh",
              "sigmoid": "sigmoid", "elu": "elu", "linear": "none", "act": None}


def _pair(text, what):
    a, _, b = text.partition("x")
    try:
        return (int(a), int(b or a))
    except ValueError:
        raise ValueError("layer spec: bad %s %r" % (what, text))


def arch_plan(spec, net, model, img_c):
    """The layers of an --arch-g spec as [(kind, spec)], as src/gan/arch.c builds them:
    the same grammar, the network's settings for act / norm / drop, an activation right
    after a dense or convolution layer fused into it."""
    act_default = net.get("activation", "leakyrelu")
    slope = float(model.get("leaky-slope", "0.2"))
    eps = float(model.get("bn-eps", "0.001"))
    bn_on = net.get("batchnorm", "off") != "off"
    drop_rate = float(net.get("dropout", "0"))
    items = []
    for text in spec.split(","):
        w = text.split()
        if not w:
            raise ValueError("layer spec %r: an empty layer" % spec)
        items.append(w)
    plan, i = [], 0
    while i < len(items):
        w = items[i]
        name, args = w[0], w[1:]
        fused = "none"
        if name in ("dense", "conv", "convt") and i + 1 < len(items) and items[i + 1][0] in _SPEC_ACTS:
            fused = _SPEC_ACTS[items[i + 1][0]] or act_default
            i += 1
        if name in _SPEC_ACTS:
            plan.append(("activation", {"act": _SPEC_ACTS[name] or act_default, "slope": slope}))
        elif name == "dense":
            plan.append(("dense", {"out": int(args[0]), "act": fused, "slope": slope}))
        elif name in ("conv", "convt"):
            o = {"filters": img_c if args[0] == "c" else int(args[0]), "k": (3, 3), "s": (1, 1),
                 "pad": "valid", "act": fused, "slope": slope}
            for a in args[1:]:
                if a in ("same", "valid"):
                    o["pad"] = a
                elif a == "nobias":
                    o["nobias"] = True
                elif a.startswith("op"):
                    o["op"] = _pair(a[2:], "output padding")
                elif a[0] in "ksp":
                    o[a[0]] = _pair(a[1:], a[0])
                    if a[0] == "p":
                        o["pad"] = "explicit"
                else:
                    raise ValueError("layer spec: unknown conv option %r" % a)
            plan.append((name, o))
        elif name == "up":
            plan.append(("up", {"f": _pair(args[0], "factor")}))
        elif name in ("pad", "crop"):
            v = [int(a) for a in args] * (4 if len(args) == 1 else 1)
            sign = -1 if name == "crop" else 1
            plan.append(("pad", {"tblr": [sign * x for x in v]}))
        elif name == "reshape":
            plan.append(("reshape", {"shape": [int(x) for x in args[0].split("x")]}))
        elif name == "flatten":
            plan.append(("reshape", {}))
        elif name in ("bn", "norm"):
            if name == "bn" or bn_on:
                plan.append(("batchnorm", {"eps": eps}))
        elif name == "drop":
            if (float(args[0]) if args else drop_rate) > 0:
                plan.append(("dropout", {}))
        else:
            raise ValueError("layer spec: unknown layer %r" % name)
        i += 1
    return plan


def generator_plan(cfg, img_h, img_w, img_c=1):
    """G's layers as [(kind, spec)], as src/gan/model.c builds it: the --arch-g spec when
    the configuration has one, else the MLP
    latent -> [Dense(w), act, BatchNorm | residual block]* -> Dense(H*W*C), tanh."""
    g, m = cfg.get("generator", {}), cfg.get("model", {})
    if g.get("arch", "").strip():
        return arch_plan(g["arch"], g, m, img_c)
    widths = [int(w) for w in g.get("layers", "256,512,1024").split(",") if w]
    act = g.get("activation", "leakyrelu")
    slope = float(m.get("leaky-slope", "0.2"))
    eps = float(m.get("bn-eps", "0.001"))
    bn = g.get("batchnorm", "off") != "off"
    residual = g.get("residual", "off") == "on"
    plan = []
    for w in widths:
        if residual:
            plan.append(("residual", {"out": w, "act": act, "slope": slope, "bn": bn, "eps": eps}))
        else:
            plan.append(("dense", {"out": w, "act": act, "slope": slope}))
            if bn:
                plan.append(("batchnorm", {"eps": eps}))
    plan.append(("dense", {"out": img_h * img_w * img_c, "act": "tanh"}))
    return plan


if nn is not None:
    class Generator(nn.Module):
        """A clgan generator: noise (N, latent) -> images (N, C, H, W) in [-1, 1]."""

        def __init__(self, cfg, img_h, img_w, img_c=1):
            super().__init__()
            self.latent = int(cfg.get("model", {}).get("latent", "100"))
            self.img_nhwc = (img_h, img_w, img_c)
            self.names = []
            layers, shape, counts = [], (1, 1, self.latent), {}
            for kind, spec in generator_plan(cfg, img_h, img_w, img_c):
                cls = LAYER_KINDS[kind]
                layer = cls(spec, shape)
                k = counts.get(cls.prefix, 0)
                counts[cls.prefix] = k + 1
                self.names.append("%s%d" % (cls.prefix, k))
                layers.append(layer)
                shape = layer.out_shape
            self.layers = nn.ModuleList(layers)

        def load(self, tensors):
            for name, layer in zip(self.names, self.layers):
                layer.load(tensors, name)
            return self

        def forward(self, z):
            x = z.reshape(z.shape[0], 1, 1, self.latent)
            for layer in self.layers:
                x = layer(x)
            return x.reshape((x.shape[0],) + self.img_nhwc).permute(0, 3, 1, 2)


def load_generator(path):
    """The generator saved at `path` (clgan's generator.safetensors) as a Generator in
    eval mode, float32 on the CPU. ValueError on a file that is not one."""
    if torch is None:
        raise ImportError("clgan_torch needs PyTorch (Debian: apt-get install python3-torch)")
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT or "config" not in meta:
        raise ValueError("%s: not a clgan generator checkpoint (format %r)" % (path, meta.get("format")))
    g = Generator(read_config(meta["config"]), int(meta["img_h"]), int(meta["img_w"]),
                  int(meta.get("img_c", "1")))
    return g.load(tensors).eval()


# ---- clgan's noise ----------------------------------------------------------------------

_M64 = (1 << 64) - 1


def noise(n, latent, seed=0):
    """(n, latent) float32 standard-normal noise, the numbers `clgan sample --n N --seed S`
    draws (clgan_noise_normal: SplitMix64, Box-Muller in double, then float32)."""
    count = n * latent
    s = seed & _M64
    out = np.empty(count, dtype=np.float32)
    for i in range(count):
        u = []
        for _ in range(2):
            s = (s + 0x9E3779B97F4A7C15) & _M64
            z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
            z ^= z >> 31
            u.append((z >> 11) * (1.0 / 9007199254740992.0))
        out[i] = math.sqrt(-2.0 * math.log(1.0 - u[0])) * math.cos(6.283185307179586 * u[1])
    return out.reshape(n, latent)


# ---- command line -----------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", help="a clgan generator.safetensors")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--noise", help="noise .npy, (N, latent) float32 (clgan sample --save-noise)")
    src.add_argument("--n", type=int, default=16, help="samples from clgan's seeded noise (default 16)")
    ap.add_argument("--seed", type=int, default=0, help="noise seed, as clgan sample --seed")
    ap.add_argument("--out", help="write the images as .npy, (N, H, W) float32, as clgan sample")
    ap.add_argument("--compare", help="an .npy from clgan sample: report the largest difference")
    ap.add_argument("--tol", type=float, default=1e-5, help="--compare passes within this (default 1e-5)")
    args = ap.parse_args(argv)
    if torch is None:
        print("clgan_torch: PyTorch is not installed (Debian: apt-get install python3-torch)", file=sys.stderr)
        return 2
    try:
        g = load_generator(args.checkpoint)
        z = np.load(args.noise).astype(np.float32) if args.noise else noise(args.n, g.latent, args.seed)
        if z.ndim == 1:
            z = z[None, :]
        if z.ndim != 2 or z.shape[1] != g.latent:
            raise ValueError("noise of shape %s, expected (N, %d)" % (z.shape, g.latent))
    except (OSError, ValueError, KeyError) as e:
        print("clgan_torch: %s" % e, file=sys.stderr)
        return 2
    with torch.no_grad():
        x = g(torch.from_numpy(z)).numpy()
    x = x[:, 0] if x.shape[1] == 1 else x.transpose(0, 2, 3, 1)  # clgan sample's (N, H, W[, C])
    if args.out:
        np.save(args.out, x.astype(np.float32))
        print("clgan_torch: wrote %d samples %s to %s" % (x.shape[0], x.shape[1:], args.out))
    if args.compare:
        ref = np.load(args.compare)
        if ref.shape != x.shape:
            print("clgan_torch: %s has shape %s, PyTorch drew %s" % (args.compare, ref.shape, x.shape),
                  file=sys.stderr)
            return 1
        diff = float(np.abs(ref - x).max())
        print("clgan_torch: largest difference from %s: %.3g (tolerance %g)" % (args.compare, diff, args.tol))
        return 0 if diff <= args.tol else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
