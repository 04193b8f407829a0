#!/usr/bin/python3
"""Write tests/fixtures/parity_gp_conv.safetensors: the WGAN-GP penalty of conv critics.

PyTorch (float32, NCHW modules) computes, for small convolutional critics, the penalty
  g_i = dD(xhat_i)/dxhat_i   (torch.autograd.grad, create_graph=True)
  P   = lambda * mean_i (||g_i|| - 1)^2
and dP/dtheta; clgan (NHWC) must reproduce them from the same weights and xhat
(tests/test_gradpen.c). Critics (layer names as clgan gives them):
  conv  8x8x2: conv0 3x3 s2 'same' (TensorFlow's split: 0 before, 1 after) LeakyReLU(0.2),
        conv1 3x3 s1 'same' LeakyReLU(0.2), flatten (NHWC order), dense0 -> 1.
  mix   4x3x2: up0 nearest x2, conv0 3x3 s2 'same' tanh, pad0 ZeroPadding((0,1),(0,1)),
        convt0 ConvTranspose2d 3x3 s2 padding 1 output_padding 1 ELU(1), act0 sigmoid,
        flatten, dense0 -> 3 tanh, dense1 -> 1.
  sn    6x6x2, every kernel under torch.nn.utils.spectral_norm (one power iteration in
        training mode; ConvTranspose2d with its default dim 1): conv0 3x3 s2 'same'
        LeakyReLU(0.2), convt0 2x2 s1 tanh, flatten, dense0 -> 1.
  ln    8x8x2, the WGAN-GP paper's critic in miniature: conv0 3x3 s2 'same', ln0
        nn.LayerNorm([4, 4, 4]) (eps 1e-5), LeakyReLU(0.2), conv1 3x3 s2 'same', ln1
        LayerNorm([3, 2, 2]), LeakyReLU(0.2), flatten, dense0 -> 1.
Layouts: clgan's kernels conv (kh, kw, cin, out), convt (cin, kh, kw, out), dense (in,
out); torch's are (out, cin, kh, kw), (cin, out, kh, kw), (out, in). LayerNorm's gamma
and beta: clgan (h, w, c), torch (c, h, w). Spectral norm: our
sn_u is torch's weight_u; our sn_v is torch's weight_v, for Conv2d reordered from
(cin, kh, kw) to (kh, kw, cin).
Draws (one torch.Generator seeded with --seed), per critic in the order above: for each
layer with weights its kernel (uniform, Glorot limit sqrt(6 / (fan_in + fan_out))), its
bias (uniform(-0.1, 0.1)), then under spectral norm u and v (normal, then normalized);
for LayerNorm gamma (1 + uniform(-0.2, 0.2)) and beta (uniform(-0.1, 0.1)); then xhat
(batch 4) uniform in [-1, 1].

Tensors per critic C: C/xhat (4, h, w, c) NHWC; C/<tensor> for every parameter and
initial spectral-norm vector; C/P (1,), C/mean_norm (1,); C/grad/<param>; C/after/<name>
.sn_u and .sn_v: the vectors after the forward's power iteration. Metadata: lambda,
slope, elu_alpha, batch, seed, torch_version, and per critic min_abs_z (the smallest
|pre-activation| at a LeakyReLU or ELU), the float32-vs-float64 spread of P and of the
gradients (same computation in float64 from the same float32 values), and the float64
gradients' largest relative error against central differences (spectral norm: of the
eval-mode forward with u, v frozen at their iterated values, as the gradient treats
them).

Usage:
  tools/make_gp_conv_fixture.py            # writes tests/fixtures/parity_gp_conv.safetensors
  tools/make_gp_conv_fixture.py --check    # re-reads the file, recomputes and compares it
Run it with Debian's /usr/bin/python3 (torch 1.13).
"""

import argparse
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_parity_fixture import read_safetensors, write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "parity_gp_conv.safetensors")

BATCH = 4
SLOPE = 0.2
ELU_ALPHA = 1.0
LAMBDA = 10.0
ACTS = {"leakyrelu": lambda z: F.leaky_relu(z, SLOPE), "tanh": torch.tanh,
        "elu": lambda z: F.elu(z, ELU_ALPHA), "sigmoid": torch.sigmoid, "none": lambda z: z}
KINKED = ("leakyrelu", "elu")


def L(kind, **kw):
    d = dict(kind=kind, act="none", sn=False)
    d.update(kw)
    return d


CRITICS = OrderedDict([
    ("conv", ((8, 8, 2), [L("conv", name="conv0", f=4, k=3, s=2, act="leakyrelu"),
                          L("conv", name="conv1", f=4, k=3, s=1, act="leakyrelu"),
                          L("flatten"),
                          L("dense", name="dense0", out=1)])),
    ("mix", ((4, 3, 2), [L("up", f=2),
                         L("conv", name="conv0", f=3, k=3, s=2, act="tanh"),
                         L("zeropad", t=0, b=1, l=0, r=1),
                         L("convt", name="convt0", f=2, k=3, s=2, p=1, op=1, act="elu"),
                         L("act", act="sigmoid"),
                         L("flatten"),
                         L("dense", name="dense0", out=3, act="tanh"),
                         L("dense", name="dense1", out=1)])),
    ("sn", ((6, 6, 2), [L("conv", name="conv0", f=4, k=3, s=2, act="leakyrelu", sn=True),
                        L("convt", name="convt0", f=2, k=2, s=1, p=0, op=0, act="tanh", sn=True),
                        L("flatten"),
                        L("dense", name="dense0", out=1, sn=True)])),
    ("ln", ((8, 8, 2), [L("conv", name="conv0", f=4, k=3, s=2),
                        L("ln", name="ln0"),
                        L("act", act="leakyrelu"),
                        L("conv", name="conv1", f=3, k=3, s=2),
                        L("ln", name="ln1"),
                        L("act", act="leakyrelu"),
                        L("flatten"),
                        L("dense", name="dense0", out=1)])),
])
LN_EPS = 1e-5


def same_pads(n, k, s):
    """TensorFlow 'same' along one axis: (before, after)."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def shapes(in_shape, layers):
    """Per layer (input shape, output shape), NHWC per sample."""
    h, w, c = in_shape
    out = []
    for ly in layers:
        i = (h, w, c)
        if ly["kind"] == "conv":
            h, w, c = -(-h // ly["s"]), -(-w // ly["s"]), ly["f"]
        elif ly["kind"] == "convt":
            h = (h - 1) * ly["s"] - 2 * ly["p"] + ly["k"] + ly["op"]
            w = (w - 1) * ly["s"] - 2 * ly["p"] + ly["k"] + ly["op"]
            c = ly["f"]
        elif ly["kind"] == "up":
            h, w = h * ly["f"], w * ly["f"]
        elif ly["kind"] == "zeropad":
            h, w = h + ly["t"] + ly["b"], w + ly["l"] + ly["r"]
        elif ly["kind"] == "flatten":
            h, w, c = 1, 1, h * w * c
        elif ly["kind"] == "dense":
            c = ly["out"]
        out.append((i, (h, w, c)))
    return out


def unit(v):
    return v / v.norm().clamp(min=1e-12)


def draw(in_shape, layers, gen):
    """OrderedDict of clgan-named float32 tensors in clgan's layouts."""
    p = OrderedDict()
    for ly, (i, o) in zip(layers, shapes(in_shape, layers)):
        if ly["kind"] == "ln":
            p[ly["name"] + ".gamma"] = 1 + (torch.rand(*i, generator=gen) * 2 - 1) * 0.2
            p[ly["name"] + ".beta"] = (torch.rand(*i, generator=gen) * 2 - 1) * 0.1
            continue
        if ly["kind"] not in ("conv", "convt", "dense"):
            continue
        cin, k = i[2], ly.get("k", 1)
        if ly["kind"] == "dense":
            cin = i[0] * i[1] * i[2]
            shape, fi, fo = (cin, ly["out"]), cin, ly["out"]
        elif ly["kind"] == "conv":
            shape, fi, fo = (k, k, cin, ly["f"]), k * k * cin, k * k * ly["f"]
        else:
            shape, fi, fo = (cin, k, k, ly["f"]), k * k * cin, k * k * ly["f"]
        lim = (6.0 / (fi + fo)) ** 0.5
        p[ly["name"] + ".kernel"] = (torch.rand(*shape, generator=gen) * 2 - 1) * lim
        p[ly["name"] + ".bias"] = (torch.rand(shape[-1], generator=gen) * 2 - 1) * 0.1
        if ly["sn"]:
            rows = int(np.prod(shape)) // shape[-1]
            p[ly["name"] + ".sn_u"] = unit(torch.randn(shape[-1], generator=gen))
            p[ly["name"] + ".sn_v"] = unit(torch.randn(rows, generator=gen))
    return p


def to_torch_kernel(kind, w):
    return {"conv": lambda: w.permute(3, 2, 0, 1), "convt": lambda: w.permute(0, 3, 1, 2),
            "dense": lambda: w.t()}[kind]().contiguous()


def to_clgan_kernel(kind, w):
    return {"conv": lambda: w.permute(2, 3, 1, 0), "convt": lambda: w.permute(0, 2, 3, 1),
            "dense": lambda: w.t()}[kind]().contiguous()


def v_to_torch(kind, v, k, cin):
    """our sn_v order -> torch's weight_v order (Conv2d: (kh, kw, cin) -> (cin, kh, kw))."""
    return v.reshape(k, k, cin).permute(2, 0, 1).reshape(-1) if kind == "conv" else v


def v_to_clgan(kind, v, k, cin):
    return v.reshape(cin, k, k).permute(1, 2, 0).reshape(-1) if kind == "conv" else v


def build(in_shape, layers, p, dtype):
    """torch modules (None for parameter-free layers) holding p's values."""
    mods = []
    for ly, (i, o) in zip(layers, shapes(in_shape, layers)):
        kind = ly["kind"]
        if kind == "ln":
            m = nn.LayerNorm([i[2], i[0], i[1]], eps=LN_EPS).to(dtype)
            with torch.no_grad():
                m.weight.copy_(p[ly["name"] + ".gamma"].permute(2, 0, 1))
                m.bias.copy_(p[ly["name"] + ".beta"].permute(2, 0, 1))
            mods.append(m)
            continue
        if kind not in ("conv", "convt", "dense"):
            mods.append(None)
            continue
        if kind == "conv":
            m = nn.Conv2d(i[2], ly["f"], ly["k"], stride=ly["s"])
        elif kind == "convt":
            m = nn.ConvTranspose2d(i[2], ly["f"], ly["k"], stride=ly["s"], padding=ly["p"],
                                   output_padding=ly["op"])
        else:
            m = nn.Linear(i[0] * i[1] * i[2], ly["out"])
        m = m.to(dtype)
        with torch.no_grad():
            m.weight.copy_(to_torch_kernel(kind, p[ly["name"] + ".kernel"]))
            m.bias.copy_(p[ly["name"] + ".bias"])
        if ly["sn"]:
            m = nn.utils.spectral_norm(m)  # dim 1 for ConvTranspose2d, 0 otherwise
            with torch.no_grad():
                m.weight_u.copy_(p[ly["name"] + ".sn_u"])
                m.weight_v.copy_(v_to_torch(kind, p[ly["name"] + ".sn_v"], ly.get("k", 1), i[2]))
        mods.append(m)
    return mods


def trainable(layers, mods):
    """[(clgan name, kind, torch parameter)] in clgan's tensor order."""
    out = []
    for ly, m in zip(layers, mods):
        if ly["kind"] == "ln":
            out.append((ly["name"] + ".gamma", "ln", m.weight))
            out.append((ly["name"] + ".beta", "ln", m.bias))
        elif m is not None:
            w = m.weight_orig if ly["sn"] else m.weight
            out.append((ly["name"] + ".kernel", ly["kind"], w))
            out.append((ly["name"] + ".bias", ly["kind"], m.bias))
    return out


def run(in_shape, layers, mods, x, zs=None):
    """Critic output (B, 1) on x (B, h, w, c) NHWC; zs collects kinked pre-activations."""
    h = x.permute(0, 3, 1, 2)
    for ly, m, (i, o) in zip(layers, mods, shapes(in_shape, layers)):
        kind = ly["kind"]
        if kind == "conv":
            pt, pb = same_pads(i[0], ly["k"], ly["s"])
            pl, pr = same_pads(i[1], ly["k"], ly["s"])
            h = m(F.pad(h, (pl, pr, pt, pb)))
        elif kind == "convt":
            h = m(h)
        elif kind == "up":
            h = F.interpolate(h, scale_factor=ly["f"], mode="nearest")
        elif kind == "zeropad":
            h = F.pad(h, (ly["l"], ly["r"], ly["t"], ly["b"]))
        elif kind == "flatten":
            h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        elif kind in ("dense", "ln"):
            h = m(h)
        if zs is not None and ly["act"] in KINKED:
            zs.append(h.detach())
        h = ACTS[ly["act"]](h)
    return h


def penalty(in_shape, layers, mods, xhat):
    """(P, mean norm, {name: dP/dparam in clgan's layout})."""
    x = xhat.detach().clone().requires_grad_(True)
    out = run(in_shape, layers, mods, x)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    norms = g.reshape(g.shape[0], -1).norm(2, dim=1)
    P = LAMBDA * ((norms - 1) ** 2).mean()
    tr = trainable(layers, mods)
    grads = torch.autograd.grad(P, [t for _, _, t in tr], allow_unused=True)
    gd = OrderedDict()
    for (name, kind, t), gr in zip(tr, grads):
        gr = torch.zeros_like(t) if gr is None else gr.detach()
        gd[name] = (to_clgan_kernel(kind, gr) if name.endswith(".kernel") else
                    gr.permute(1, 2, 0).contiguous() if kind == "ln" else gr)
    return P.detach(), norms.mean().detach(), gd


def sn_after(in_shape, layers, mods):
    """Spectral-norm vectors in clgan's layouts, as the modules hold them now."""
    out = OrderedDict()
    for ly, m, (i, o) in zip(layers, mods, shapes(in_shape, layers)):
        if ly["sn"]:
            out[ly["name"] + ".sn_u"] = m.weight_u.detach().clone()
            out[ly["name"] + ".sn_v"] = v_to_clgan(ly["kind"], m.weight_v.detach().clone(),
                                                    ly.get("k", 1), i[2])
    return out


def fd_check(in_shape, layers, p, xhat, gen, n=8, h=1e-6):
    """Max relative error of dP/dtheta (float64) against central differences at n random
    entries of each parameter; the differences use eval mode (spectral norm frozen at
    the u, v the training-mode forward left)."""
    pd = OrderedDict((k, v.double()) for k, v in p.items())
    mods = build(in_shape, layers, pd, torch.float64)
    for m in mods:
        if m is not None:
            m.train()
    _, _, grads = penalty(in_shape, layers, mods, xhat.double())
    for m in mods:
        if m is not None:
            m.eval()
    worst = 0.0
    for name, kind, t in trainable(layers, mods):
        flat = t.data.view(-1)
        for _ in range(n):
            k = int(torch.randint(flat.numel(), (1,), generator=gen))
            old = float(flat[k])
            vals = []
            for d in (h, -h):
                flat[k] = old + d
                vals.append(float(penalty(in_shape, layers, mods, xhat.double())[0]))
            flat[k] = old
            fd = (vals[0] - vals[1]) / (2 * h)
            g = grads[name]
            g = (to_torch_kernel(kind, g) if name.endswith(".kernel") else
                 g.permute(2, 0, 1) if kind == "ln" else g)
            an = float(g.reshape(-1)[k])
            worst = max(worst, abs(fd - an) / max(1e-3, abs(fd)))
    return worst


def build_all(seed, verbose=True):
    gen = torch.Generator().manual_seed(seed)
    tensors = OrderedDict()
    meta = OrderedDict([("batch", BATCH), ("slope", repr(SLOPE)), ("elu_alpha", repr(ELU_ALPHA)),
                        ("lambda", repr(LAMBDA)), ("critics", ",".join(CRITICS)),
                        ("seed", seed), ("torch_version", torch.__version__)])
    for c, (in_shape, layers) in CRITICS.items():
        p = draw(in_shape, layers, gen)
        xhat = torch.rand(BATCH, *in_shape, generator=gen) * 2 - 1
        mods = build(in_shape, layers, p, torch.float32)
        zs = []
        with torch.no_grad():
            run(in_shape, layers, build(in_shape, layers, p, torch.float32), xhat, zs)
        min_abs_z = min(float(z.abs().min()) for z in zs)
        if min_abs_z < 1e-4:
            raise SystemExit("%s: a pre-activation sits at a kink (%.2e); pick another seed"
                             % (c, min_abs_z))
        P, mn, grads = penalty(in_shape, layers, mods, xhat)
        after = sn_after(in_shape, layers, mods)
        mods64 = build(in_shape, layers, OrderedDict((k, v.double()) for k, v in p.items()),
                       torch.float64)
        P64, _, grads64 = penalty(in_shape, layers, mods64, xhat.double())
        p_diff = abs(float(P) - float(P64)) / abs(float(P64))
        g_diff = max(float((grads[k].double() - grads64[k]).abs().max() /
                           grads64[k].abs().max().clamp(min=1e-30)) for k in grads)
        fd_err = fd_check(in_shape, layers, p, xhat, torch.Generator().manual_seed(seed + 1))
        if verbose:
            print("%s: P %.7f (float64 %.7f), mean ||g|| %.6f, min |z| %.2e"
                  % (c, P, P64, mn, min_abs_z))
            print("  f32 vs f64: P rel diff %.2e, max grad diff / max |grad| %.2e" % (p_diff, g_diff))
            print("  finite-difference check of dP/dtheta (float64): max rel err %.2e" % fd_err)
        if not fd_err < 1e-5:
            raise SystemExit("%s: finite-difference check failed (%.3e)" % (c, fd_err))
        tensors[c + "/xhat"] = xhat.numpy()
        for k, v in p.items():
            tensors[c + "/" + k] = v.numpy()
        tensors[c + "/P"] = np.array([float(P)], dtype=np.float32)
        tensors[c + "/mean_norm"] = np.array([float(mn)], dtype=np.float32)
        for k, v in grads.items():
            tensors[c + "/grad/" + k] = v.numpy()
        for k, v in after.items():
            tensors[c + "/after/" + k] = v.numpy()
        meta[c + "_min_abs_z"] = "%.3e" % min_abs_z
        meta[c + "_f32_vs_f64_P_rel_diff"] = "%.3e" % p_diff
        meta[c + "_f32_vs_f64_grad_rel_diff"] = "%.3e" % g_diff
        meta[c + "_fd_grad_max_rel_err"] = "%.3e" % fd_err
    meta["generator"] = "tools/make_gp_conv_fixture.py"
    return tensors, meta


def check(path, seed):
    """Inputs must round-trip bit for bit; computed tensors (P, mean_norm, grad/, after/)
    within 2e-6 of their tensor's max |value| (another CPU's BLAS may round otherwise)."""
    got, meta = read_safetensors(path)
    want, want_meta = build_all(seed, verbose=False)
    ok = list(got.keys()) == list(want.keys())
    if not ok:
        print("tensor names/order differ")
    worst = 0.0
    for k, a in want.items():
        b = got.get(k)
        if b is None or b.shape != a.shape:
            print("missing or misshapen", k)
            ok = False
            continue
        if k.endswith("/P") or k.endswith("/mean_norm") or "/grad/" in k or "/after/" in k:
            rel = float(np.abs(a.astype(np.float64) - b).max() / max(np.abs(a).max(), 1e-30))
            worst = max(worst, rel)
            if rel > 2e-6:
                print("mismatch %s: max diff / max |value| %.2e" % (k, rel))
                ok = False
        elif not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
            print("mismatch", k)
            ok = False
    print("computed tensors: largest diff / max |value| %.2e" % worst)
    for k, v in want_meta.items():
        numeric = k.endswith("_diff") or k.endswith("_err")
        if k != "torch_version" and not numeric and meta.get(k) != str(v):
            print("metadata %s: file %r, recomputed %r" % (k, meta.get(k), str(v)))
            ok = False
    print("%s: %d bytes, %d tensors; check %s" % (path, os.path.getsize(path), len(got),
                                                   "PASSED" if ok else "FAILED"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output file (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    ap.add_argument("--check", action="store_true", help="re-read --out and verify it")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions
    if args.check:
        return 0 if check(args.out, args.seed) else 1
    tensors, meta = build_all(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, meta)
    size = os.path.getsize(args.out)
    print("wrote %s (%d bytes, %d tensors)" % (args.out, size, len(tensors)))
    if size >= 100 * 1024:
        print("warning: file is not < 100 KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
