#!/usr/bin/python3
"""Write tests/fixtures/parity_gp.safetensors: the WGAN-GP gradient penalty of small critics.

Two critics (PyTorch, float32), both 64 -> 32 -> 16 -> 1 with a linear output,
z = x W + b with W stored (in, out) as clgan stores kernels:
  leaky:  LeakyReLU(0.2), LeakyReLU(0.2)  (the usual WGAN-GP critic; being piecewise
          linear, its input gradient does not depend on the biases: their dP/db is 0)
  smooth: tanh, ELU(1.0)                  (exercises f'' and the bias gradients)
Kernels Glorot-uniform (limit sqrt(6 / (in + out))); biases uniform(-0.1, 0.1) rather
than zero so the forward bias path is exercised. real, fake (8, 64) uniform in [-1, 1];
e (8,) uniform in (0, 1); xhat = e * real + (1 - e) * fake (the C test feeds xhat, since
clgan draws e on the device). Draw order from one torch.Generator seeded with --seed:
leaky W0, b0, W1, b1, W2, b2, real, fake, e, smooth W0, b0, ..., b2.

  g_i = dD(xhat_i)/dxhat_i     (torch.autograd.grad, create_graph=True)
  P   = lambda * mean_i (||g_i|| - 1)^2,  and dP/dtheta for every parameter.

Tensors: real, fake, e, xhat, and per critic C in (leaky, smooth): C/dense{0,1,2}.{kernel,
bias}, C/P (1,), C/mean_norm (1,), C/grad/dense{0,1,2}.{kernel,bias}.
Metadata: lambda, slope, elu_alpha, batch, dims, leaky_acts, smooth_acts, seed,
torch_version, and per critic: min_abs_z (the smallest |pre-activation| at a LeakyReLU
or ELU: far from 0, so float32 rounding cannot flip f' or f''), and the
float32-vs-float64 spread of P and of the gradients (the same
computation in float64 from the same float32 inputs): the scale of tolerance that is
meaningful for a float32 C implementation. Before writing, dP/dtheta (float64) is
checked against central finite differences.

Usage:
  tools/make_gp_fixture.py            # writes tests/fixtures/parity_gp.safetensors
  tools/make_gp_fixture.py --check    # re-reads the file, recomputes and compares it
"""

import argparse
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_parity_fixture import read_safetensors, write_safetensors  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "parity_gp.safetensors")

DIMS = (64, 32, 16, 1)
BATCH = 8
SLOPE = 0.2
ELU_ALPHA = 1.0
LAMBDA = 10.0
CRITICS = OrderedDict([("leaky", ("leakyrelu", "leakyrelu", "none")),
                       ("smooth", ("tanh", "elu", "none"))])
ACTS = {"leakyrelu": lambda z: F.leaky_relu(z, SLOPE), "tanh": torch.tanh,
        "elu": lambda z: F.elu(z, ELU_ALPHA), "none": lambda z: z}
NAMES = ["dense%d.%s" % (i, k) for i in range(len(DIMS) - 1) for k in ("kernel", "bias")]


def glorot_critic(gen):
    params = []
    for i in range(len(DIMS) - 1):
        fi, fo = DIMS[i], DIMS[i + 1]
        lim = (6.0 / (fi + fo)) ** 0.5
        params.append((torch.rand(fi, fo, generator=gen) * 2 - 1) * lim)
        params.append((torch.rand(fo, generator=gen) * 2 - 1) * 0.1)
    return params


def make(seed):
    """({critic: params}, real, fake, e, xhat)"""
    gen = torch.Generator().manual_seed(seed)
    critics = OrderedDict()
    critics["leaky"] = glorot_critic(gen)
    real = torch.rand(BATCH, DIMS[0], generator=gen) * 2 - 1
    fake = torch.rand(BATCH, DIMS[0], generator=gen) * 2 - 1
    e = torch.rand(BATCH, generator=gen)
    xhat = e[:, None] * real + (1 - e[:, None]) * fake
    critics["smooth"] = glorot_critic(gen)
    return critics, real, fake, e, xhat


def critic(acts, params, x, zs=None):
    h = x
    for i, a in enumerate(acts):
        z = h @ params[2 * i] + params[2 * i + 1]
        if zs is not None and a in ("leakyrelu", "elu"):
            zs.append(z.detach())
        h = ACTS[a](z)
    return h


def penalty(acts, params, xhat):
    """(P, mean norm, [dP/dparam]) with the double backward through autograd."""
    params = [p.detach().clone().requires_grad_(True) for p in params]
    x = xhat.detach().clone().requires_grad_(True)
    out = critic(acts, params, x)
    (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    norms = g.norm(2, dim=1)
    P = LAMBDA * ((norms - 1) ** 2).mean()
    # the output bias does not reach g: its gradient is exactly zero (allow_unused)
    grads = torch.autograd.grad(P, params, allow_unused=True)
    grads = [torch.zeros_like(p) if t is None else t.detach() for p, t in zip(params, grads)]
    return P.detach(), norms.mean().detach(), grads


def fd_check(acts, params, xhat, gen, n=12, h=1e-6):
    """Max relative error of dP/dtheta (float64) against central differences at n
    random entries of every parameter tensor."""
    params = [p.double() for p in params]
    xhat = xhat.double()
    _, _, grads = penalty(acts, params, xhat)
    worst = 0.0
    for t in range(len(params)):
        for _ in range(n):
            k = int(torch.randint(params[t].numel(), (1,), generator=gen))
            pp = [p.clone() for p in params]
            pm = [p.clone() for p in params]
            pp[t].view(-1)[k] += h
            pm[t].view(-1)[k] -= h
            fd = (float(penalty(acts, pp, xhat)[0]) - float(penalty(acts, pm, xhat)[0])) / (2 * h)
            an = float(grads[t].view(-1)[k])
            worst = max(worst, abs(fd - an) / max(1e-3, abs(fd)))
    return worst


def build(seed, verbose=True):
    critics, real, fake, e, xhat = make(seed)
    tensors = OrderedDict()
    tensors["real"] = real.numpy()
    tensors["fake"] = fake.numpy()
    tensors["e"] = e.numpy()
    tensors["xhat"] = xhat.numpy()
    meta = OrderedDict([
        ("dims", ",".join(str(d) for d in DIMS)),
        ("batch", BATCH),
        ("slope", repr(SLOPE)),
        ("elu_alpha", repr(ELU_ALPHA)),
        ("lambda", repr(LAMBDA)),
    ])
    for c, acts in CRITICS.items():
        meta[c + "_acts"] = ",".join(acts)
    meta["seed"] = seed
    meta["torch_version"] = torch.__version__
    for c, acts in CRITICS.items():
        params = critics[c]
        zs = []
        critic(acts, params, xhat, zs)
        min_abs_z = min(float(z.abs().min()) for z in zs)
        if min_abs_z < 1e-4:
            raise SystemExit("%s: a pre-activation sits at a kink (%.2e); pick another seed"
                             % (c, min_abs_z))
        P, mn, grads = penalty(acts, params, xhat)
        P64, _, grads64 = penalty(acts, [p.double() for p in params], xhat.double())
        p_diff = abs(float(P) - float(P64)) / abs(float(P64))
        g_diff = max(float((a.double() - b).abs().max() / b.abs().max().clamp(min=1e-30))
                     for a, b in zip(grads, grads64))
        fd_err = fd_check(acts, params, xhat, torch.Generator().manual_seed(seed + 1))
        if verbose:
            print("%s (%s): P %.7f (float64 %.7f), mean ||g|| %.6f, min |z| %.2e"
                  % (c, ",".join(acts), P, P64, mn, min_abs_z))
            print("  f32 vs f64: P rel diff %.2e, max grad diff / max |grad| %.2e" % (p_diff, g_diff))
            print("  finite-difference check of dP/dtheta (float64): max rel err %.2e" % fd_err)
        if not fd_err < 1e-5:
            raise SystemExit("%s: finite-difference check failed (%.3e)" % (c, fd_err))
        for name, p in zip(NAMES, params):
            tensors[c + "/" + name] = p.numpy()
        tensors[c + "/P"] = np.array([float(P)], dtype=np.float32)
        tensors[c + "/mean_norm"] = np.array([float(mn)], dtype=np.float32)
        for name, g in zip(NAMES, grads):
            tensors[c + "/grad/" + name] = g.numpy()
        meta[c + "_min_abs_z"] = "%.3e" % min_abs_z
        meta[c + "_f32_vs_f64_P_rel_diff"] = "%.3e" % p_diff
        meta[c + "_f32_vs_f64_grad_rel_diff"] = "%.3e" % g_diff
        meta[c + "_fd_grad_max_rel_err"] = "%.3e" % fd_err
    meta["generator"] = "tools/make_gp_fixture.py"
    return tensors, meta


def check(path, seed):
    """Inputs (drawn from the seeded generator) must round-trip bit for bit; computed
    tensors (P, mean_norm, grad/) within 2e-6 of their tensor's max |value|, since the
    BLAS torch dispatches to may round differently on another CPU."""
    got, meta = read_safetensors(path)
    want, want_meta = build(seed, verbose=False)
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
        if k.endswith("/P") or k.endswith("/mean_norm") or "/grad/" in k:
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
    tensors, meta = build(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, meta)
    size = os.path.getsize(args.out)
    print("wrote %s (%d bytes, %d tensors)" % (args.out, size, len(tensors)))
    if size >= 100 * 1024:
        print("warning: file is not < 100 KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
