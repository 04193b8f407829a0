#!/usr/bin/python3
"""torch_preset: a clgan preset's G, D and training iteration as a PyTorch user writes them.

For the speed peer (tools/bench_torch.py --preset): the networks come from the preset's
layer specs through tools/clgan_arch.py (clgan's parser, shape rules and settings), then
each layer becomes the ordinary torch.nn module a PyTorch user would write, on NCHW
tensors (PyTorch's native convolution layout; oneDNN runs the convolutions):
nn.Linear, nn.Conv2d (TensorFlow "same" padding as PyTorch's symmetric padding when that
gives the same output size, as a port of Keras-GAN's dcgan.py writes padding=1; else
nn.ZeroPad2d first), nn.ConvTranspose2d, nn.Upsample, nn.ZeroPad2d, nn.Flatten /
nn.Unflatten, nn.BatchNorm1d/2d (clgan's eps and momentum), nn.Dropout, activation modules,
torch.nn.utils.spectral_norm for spectral-norm = on. PyTorch's own initialization: the
values do not change the work (parity with clgan is tools/clgan_arch.py's job, not this).

The iteration follows clgan's schedule (src/gan/trainer.c) with the preset's settings:
steps-d D steps, each on a random real batch and a fake batch drawn under no_grad with G
in eval (fake-mode eval, Keras predict) or train mode; separate D updates on real and fake
(Keras-GAN) or one joint update (+ the WGAN-GP penalty through autograd.grad with
create_graph); then steps-g G steps through D with D's requires_grad off (no D weight
gradients, as Keras' frozen D). Dropout and BatchNorm in train mode in every D pass.
Losses: bce (sigmoid + BCELoss), bce-logits, lsgan (MSE), hinge, wasserstein; Adam per
network with the preset's lr, beta1, beta2 (other optimizers are refused).

Does not reproduce clgan's numbers (random init, data and dropout masks are PyTorch's),
and does not time anything itself (tools/bench_torch.py does).
"""

import configparser
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clgan_arch  # noqa: E402

PRESET_DIR = os.path.join(os.path.dirname(HERE), "samples", "presets")

# clgan_config_defaults() of the schedule settings the iteration depends on
TRAIN_DEFAULTS = {"loss": "bce", "d-update": "separate", "fake-mode": "eval", "gp-lambda": "0",
                  "image-size": "0", "channels": "1"}
NET_SCHEDULE_DEFAULTS = {"steps": "1", "optimizer": "adam", "lr": "0.0002", "beta1": "0.5",
                         "beta2": "0.999", "spectral-norm": "off"}
LOSSES = ("bce", "bce-logits", "lsgan", "hinge", "wasserstein")


class PresetError(ValueError):
    """A preset this peer cannot build or run (one-line message)."""


def load_preset(name):
    """{section: {key: value}} of samples/presets/NAME.ini (or a path to an .ini)."""
    path = name if name.endswith(".ini") else os.path.join(PRESET_DIR, name + ".ini")
    if not os.path.isfile(path):
        known = sorted(f[:-4] for f in os.listdir(PRESET_DIR) if f.endswith(".ini"))
        raise PresetError("no preset '%s' (known: %s)" % (name, ", ".join(known)))
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"))
    try:
        cp.read(path)
    except configparser.Error as e:
        raise PresetError("%s: %s" % (path, str(e).splitlines()[0])) from None
    return {s: dict(cp[s]) for s in cp.sections()}


def _act(act, slope):
    return {"relu": lambda: nn.ReLU(), "leakyrelu": lambda: nn.LeakyReLU(slope),
            "tanh": lambda: nn.Tanh(), "sigmoid": lambda: nn.Sigmoid(),
            "elu": lambda: nn.ELU(slope), "none": lambda: None}[act]()


def _conv(L, in_shape, out_shape):
    """[modules] of a clgan_arch Conv: symmetric padding when it gives clgan's output size."""
    h, w, c = in_shape
    (kh, kw), (sh, sw), f = L.L["k"], L.L["s"], L.L["filters"]
    pl, pr, pt, pb = L.pads
    ph, pw = max(pt, pb), max(pl, pr)
    if ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1) == tuple(out_shape[:2]):
        return [nn.Conv2d(c, f, (kh, kw), (sh, sw), (ph, pw), bias=L.L["bias"])]
    return [nn.ZeroPad2d((pl, pr, pt, pb)), nn.Conv2d(c, f, (kh, kw), (sh, sw), 0, bias=L.L["bias"])]


def native(net, flat_input, flat_output, spectral=False):
    """An nn.Sequential on NCHW tensors doing what clgan_arch's ClganNet `net` does.
    flat_input: the input is (N, features) (G's noise), else (N, C, H, W);
    flat_output: end in (N, features) (D), else (N, C, H, W) (G)."""
    mods, flat = [], flat_input

    def to_spatial(shape):
        nonlocal flat
        if flat:
            mods.append(nn.Unflatten(1, (shape[2], shape[0], shape[1])))
            flat = False

    def to_flat():
        nonlocal flat
        if not flat:
            mods.append(nn.Flatten())
            flat = True
    sn = torch.nn.utils.spectral_norm if spectral else (lambda m: m)
    for L in net.layer_list():
        kind = type(L).__name__
        if kind == "Dense":
            to_flat()
            mods.append(sn(nn.Linear(L.n_in, L.n)))
        elif kind == "Conv":
            to_spatial(L.in_shape)
            cm = _conv(L, L.in_shape, L.out_shape)
            mods += cm[:-1] + [sn(cm[-1])]
        elif kind == "ConvT":
            to_spatial(L.in_shape)
            (kh, kw), (sh, sw) = L.L["k"], L.L["s"]
            mods.append(sn(nn.ConvTranspose2d(L.in_shape[2], L.L["filters"], (kh, kw), (sh, sw),
                                              L.p, L.L["op"], bias=L.L["bias"])))
        elif kind == "Upsample":
            to_spatial(L.in_shape)
            mods.append(nn.Upsample(scale_factor=tuple(L.f), mode="nearest"))
        elif kind == "ZeroPad":
            to_spatial(L.in_shape)
            t, b, l, r = L.v
            mods.append(nn.ZeroPad2d((l, r, t, b)))  # negative sizes crop
        elif kind == "Reshape":
            h, w, c = L.out_shape
            to_flat()
            if (h, w) != (1, 1):
                to_spatial(L.out_shape)
        elif kind == "BatchNorm":
            eps, mom = L.st["eps"], 1.0 - L.st["momentum"]  # clgan keeps `momentum` of the old
            mods.append(nn.BatchNorm1d(L.c, eps, mom) if flat else nn.BatchNorm2d(L.c, eps, mom))
        elif kind == "Activation":
            pass
        elif kind == "Dropout":
            mods.append(nn.Dropout(L.rate))
        else:
            raise PresetError("layer %s (%s) has no PyTorch module here" % (L.name, kind))
        act = getattr(L, "act", "none")  # fused into dense/conv, or an activation layer
        if kind in ("Dense", "Conv", "ConvT", "Activation") and act != "none":
            mods.append(_act(act, L.st["slope"]))
    if flat_output:
        to_flat()
    else:
        to_spatial(net.out_shape)
    return nn.Sequential(*mods)


def _setting(cfg, section, key, defaults):
    return cfg.get(section, {}).get(key, defaults[key])


def build(cfg):
    """(G, D, info) for configuration `cfg` ({section: {key: value}}, e.g. a preset):
    native modules and the schedule settings. PresetError when this peer cannot run it."""
    tr = lambda k: _setting(cfg, "train", k, TRAIN_DEFAULTS)  # noqa: E731
    size = int(tr("image-size")) or 28
    img = (size, size, int(tr("channels")))
    try:
        g = clgan_arch.generator(cfg, img)
        d = clgan_arch.discriminator(cfg, img)
    except clgan_arch.ArchError as e:
        raise PresetError(str(e)) from None
    info = {"loss": tr("loss"), "joint": tr("d-update") == "joint",
            "fake_eval": tr("fake-mode") == "eval", "gp": float(tr("gp-lambda")),
            "latent": g.latent, "img": img}
    if info["loss"] not in LOSSES:
        raise PresetError("loss %r" % info["loss"])
    for role, sec in (("g", "generator"), ("d", "discriminator")):
        n = lambda k: _setting(cfg, sec, k, NET_SCHEDULE_DEFAULTS)  # noqa: E731
        if n("optimizer") != "adam":
            raise PresetError("%s: optimizer %s (this peer times Adam only)" % (sec, n("optimizer")))
        info[role] = {"steps": int(n("steps")), "lr": float(n("lr")),
                      "betas": (float(n("beta1")), float(n("beta2"))),
                      "sn": n("spectral-norm") in ("on", "1", "true", "yes")}
    if info["g"]["sn"]:
        raise PresetError("spectral-norm in G (this peer puts it in D only)")
    G = native(g, flat_input=True, flat_output=False)
    D = native(d, flat_input=False, flat_output=True, spectral=info["d"]["sn"])
    return G, D, info


def losses(kind):
    """(loss of D on real, loss of D on fake, loss of G) from D's outputs (N, 1)."""
    if kind in ("bce", "bce-logits", "lsgan"):
        f = {"bce": F.binary_cross_entropy, "bce-logits": F.binary_cross_entropy_with_logits,
             "lsgan": F.mse_loss}[kind]
        return (lambda p: f(p, torch.ones_like(p)), lambda p: f(p, torch.zeros_like(p)),
                lambda p: f(p, torch.ones_like(p)))
    if kind == "hinge":
        return (lambda p: F.relu(1.0 - p).mean(), lambda p: F.relu(1.0 + p).mean(),
                lambda p: -p.mean())
    return (lambda p: -p.mean(), lambda p: p.mean(), lambda p: -p.mean())  # wasserstein


def make_iteration(G, D, info, data, batch, dev="cpu"):
    """A function it(read) doing one training iteration of the preset on `data`
    (N, C, H, W); with read true it returns the losses as Python floats (.item())."""
    opt_g = torch.optim.Adam(G.parameters(), lr=info["g"]["lr"], betas=info["g"]["betas"])
    opt_d = torch.optim.Adam(D.parameters(), lr=info["d"]["lr"], betas=info["d"]["betas"])
    l_real, l_fake, l_gen = losses(info["loss"])
    n, latent, gp = data.shape[0], info["latent"], info["gp"]

    def penalty(real, fake):
        a = torch.rand(batch, 1, 1, 1, device=dev)
        xhat = (a * real + (1.0 - a) * fake).requires_grad_(True)
        g, = torch.autograd.grad(D(xhat).sum(), xhat, create_graph=True)
        return gp * ((g.flatten(1).norm(dim=1) - 1.0) ** 2).mean()

    def iteration(read):
        D.train()
        for _ in range(info["d"]["steps"]):
            real = data[torch.randint(0, n, (batch,), device=dev)]
            z = torch.randn(batch, latent, device=dev)
            G.train(not info["fake_eval"])
            with torch.no_grad():
                fake = G(z)
            if info["joint"]:
                opt_d.zero_grad(set_to_none=True)
                lr_, lf_ = l_real(D(real)), l_fake(D(fake))
                loss = lr_ + lf_ + (penalty(real, fake) if gp > 0 else 0.0)
                loss.backward()
                opt_d.step()
            else:
                opt_d.zero_grad(set_to_none=True)
                lr_ = l_real(D(real))
                lr_.backward()
                opt_d.step()
                opt_d.zero_grad(set_to_none=True)
                lf_ = l_fake(D(fake))
                lf_.backward()
                opt_d.step()
        G.train()
        D.requires_grad_(False)
        for _ in range(info["g"]["steps"]):
            opt_g.zero_grad(set_to_none=True)
            lg_ = l_gen(D(G(torch.randn(batch, latent, device=dev))))
            lg_.backward()
            opt_g.step()
        D.requires_grad_(True)
        return (lr_.item(), lf_.item(), lg_.item()) if read else None
    return iteration


def count_flops(iteration, modules):
    """GFLOP of one call of iteration(True) in the products of `modules`' Linear, Conv2d and
    ConvTranspose2d layers (2 per multiply-add: forward, and in backward the weight gradient
    when the layer's weights are trained, the input gradient when its input needs one), as
    clgan counts its GEMM flops. First-order passes only: None when a double backward runs
    (the WGAN-GP penalty), whose products these hooks do not see."""
    total = [0.0]
    handles = []

    def macs(m, x, y):
        if isinstance(m, nn.Linear):
            return x.shape[0] * m.in_features * m.out_features
        k = m.kernel_size[0] * m.kernel_size[1] // m.groups
        if isinstance(m, nn.ConvTranspose2d):
            return x.numel() * k * m.out_channels
        return y.numel() * k * m.in_channels

    def hook(m, inp, out):
        x = inp[0]
        f = 2.0 * macs(m, x, out)
        total[0] += f
        if out.requires_grad:
            w = any(p.requires_grad for p in m.parameters(recurse=False))
            out.register_hook(lambda g: total.__setitem__(
                0, total[0] + f * (int(w) + int(x.requires_grad))))

    for mod in modules:
        for m in mod.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                handles.append(m.register_forward_hook(hook))
    try:
        iteration(True)
    finally:
        for h in handles:
            h.remove()
    return total[0] * 1e-9
