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

How a network is rebuilt. A generator written as an --arch-g layer spec (conv, convt,
up, pad, crop, reshape, flatten, bn, ... ) is built by tools/clgan_arch.py, the spec
language's one Python implementation (shared with the parity fixtures; a new layer kind
is added there). clgan's MLP generators, residual blocks included, are built here:
generator_plan() lists their layers in the order and with the names src/gan/model.c and
src/nn/network.c give them (one counter per kind: dense0, bn0, res0, ...), and
LAYER_KINDS maps each kind to the module that builds it from (spec, input shape) and
loads its tensors: a new kind is one class and one table entry. Either way activations
flow as clgan stores them, NHWC, and only the final images are permuted to PyTorch's
(N, C, H, W).

Reads safetensors itself (the format is a JSON header and raw little-endian floats), so
it needs only numpy and torch (Debian: python3-numpy, python3-torch).
"""

import argparse
import configparser
import json
import math
import os
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

    # kind -> module class: each takes (spec, input shape), reports out_shape, and loads
    # its tensors under the name the network gave it.
    LAYER_KINDS = {
        "dense": Dense,
        "batchnorm": BatchNorm,
        "residual": Residual,
        "activation": Activation,
    }
else:
    LAYER_KINDS = {}


# ---- the generator ----------------------------------------------------------------------

def generator_plan(cfg, img_h, img_w, img_c=1):
    """An MLP G's layers as [(kind, spec)], as src/gan/model.c builds it without a layer
    spec: latent -> [Dense(w), act, BatchNorm | residual block]* -> Dense(H*W*C), tanh."""
    g, m = cfg.get("generator", {}), cfg.get("model", {})
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


if nn is not None:
    class ArchGenerator(nn.Module):
        """A generator written as an --arch-g layer spec, built by tools/clgan_arch.py (the
        spec language's Python implementation, shared with the parity fixtures): noise
        (N, latent) -> images (N, C, H, W)."""

        def __init__(self, cfg, img_h, img_w, img_c=1):
            super().__init__()
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import clgan_arch
            try:
                self.net = clgan_arch.generator(cfg, (img_h, img_w, img_c))
            except clgan_arch.ArchError as e:
                raise ValueError(str(e)) from None
            self.latent = self.net.latent
            self.layers = list(self.net.layer_list())
            self.names = [l.name for l in self.layers]

        def load(self, tensors):
            self.net.load_tensors(tensors)
            return self

        def forward(self, z):
            return self.net.nchw(self.net(z))


def load_generator(path):
    """The generator saved at `path` (clgan's generator.safetensors) as a module in eval
    mode, float32 on the CPU: Generator for clgan's MLPs, ArchGenerator for --arch-g
    specs. ValueError on a file that is not one."""
    if torch is None:
        raise ImportError("clgan_torch needs PyTorch (Debian: apt-get install python3-torch)")
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT or "config" not in meta:
        raise ValueError("%s: not a clgan generator checkpoint (format %r)" % (path, meta.get("format")))
    cfg = read_config(meta["config"])
    kind = ArchGenerator if cfg.get("generator", {}).get("arch", "").strip() else Generator
    g = kind(cfg, int(meta["img_h"]), int(meta["img_w"]), int(meta.get("img_c", "1")))
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
