#!/usr/bin/python3
"""PyTorch peer benchmark (CPU, or CUDA eager) of clgan's recipes: the Keras-GAN MLP GAN, or a preset's networks (--preset).

Full-size recipe, written the way a PyTorch user would write it:
  G: Linear(100,256) LeakyReLU(0.2) BatchNorm1d(eps=1e-3, momentum=0.2)
     Linear(256,512) ... Linear(512,1024) ... Linear(1024,784) Tanh
  D: Linear(784,512) LeakyReLU(0.2) Linear(512,256) LeakyReLU(0.2) Linear(256,1) Sigmoid
  nn.BCELoss, one torch.optim.Adam(lr=2e-4, betas=(0.5, 0.999)) per network.
One iteration (as Keras-GAN gan.py): sample a random real batch and noise;
G.eval() + no_grad for the fake batch; D step on (real, 1); D step on (fake, 0);
G.train() and a G step through D on fresh noise with label 1 (D's parameters
have requires_grad turned off during the G step, so no D weight gradients are
computed -- the same work as Keras' frozen D).  The five losses/accuracies are
read back with .item() every iteration, as the Keras-GAN loop prints them.

--preset NAME (e.g. dcgan-keras, dcgan, sngan, wgan-gp-conv; samples/presets/NAME.ini)
times that preset's recipe instead: G and D built from its layer specs through
tools/clgan_arch.py as ordinary torch.nn modules on NCHW tensors (oneDNN convolutions),
its schedule, losses and Adam settings (tools/torch_preset.py says exactly how; for
dcgan-keras that is Keras-GAN dcgan.py's loop: D on a real and on a fake batch with BCE,
two Adam steps, then G through the frozen D; dropout and BatchNorm in train mode).
Its results also give gflop_per_it (the products of the Linear/Conv layers, counted
once with hooks as clgan counts its GEMM flops; none for a WGAN-GP penalty's double
backward) and gflops (GFLOP/s). --image-size/--channels set the image shape (dcgan-32
needs --image-size 32).

Real data: uniform random in [-1, 1] (10 000 samples), or the shipped IDX file
with --data (e.g. samples/data/train-images-idx3-ubyte.gz), scaled to [-1, 1].

--device cuda runs the same eager code on the GPU (data, noise and batch indices
drawn there), synchronizing before and after the timed loop; --item-every N
reads the losses back every N iterations instead of every one (clgan reads its
metrics back in blocks of 100).

Usage:
  tools/bench_torch.py                              # batch 32,128; threads default,1
  tools/bench_torch.py --device cuda --item-every 1,100
  tools/bench_torch.py --batch 64 --batch 256 --threads 1,2 --iterations 500
  tools/bench_torch.py --data samples/data/train-images-idx3-ubyte.gz --json
  tools/bench_torch.py --preset dcgan-keras --batch 32,64 --threads default,1,2 --iterations 100

Output: one line per setting,
  torch batch=32 threads=1 it_per_s=123.4 images_per_s=3948.8 ms_per_it=8.104 torch_threads=1
then `best batch=... threads=...` per batch.  --json prints a JSON list instead.
Timing covers --iterations iterations after --warmup (20) warm-up iterations.
The header names the BLAS, OpenBLAS' kernel set (its core name: OPENBLAS_CORETYPE
forces one) and whether oneDNN is on.

The BLAS matters a lot: Debian's python3-torch calls libblas.so.3, which is the
slow reference BLAS unless an optimised one (libopenblas0-pthread) is
installed.  The script prints which BLAS it has mapped.  To try OpenBLAS
without installing it system-wide:
  apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/ob
  LD_LIBRARY_PATH=/tmp/ob/usr/lib/x86_64-linux-gnu/openblas-pthread tools/bench_torch.py
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def load_idx_images(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        raw = f.read()
    magic, n, r, c = struct.unpack(">IIII", raw[:16])
    if magic != 0x00000803:
        raise SystemExit("%s: not an IDX3 uint8 image file (magic 0x%08x)" % (path, magic))
    a = np.frombuffer(raw[16:16 + n * r * c], dtype=np.uint8).reshape(n, r * c)
    return torch.from_numpy(a.astype(np.float32) / 127.5 - 1.0)


def build(latent=100, g_layers=(256, 512, 1024), d_layers=(512, 256), img_dim=784):
    g = []
    fan = latent
    for w in g_layers:
        g += [nn.Linear(fan, w), nn.LeakyReLU(0.2), nn.BatchNorm1d(w, eps=1e-3, momentum=0.2)]
        fan = w
    g += [nn.Linear(fan, img_dim), nn.Tanh()]
    d = []
    fan = img_dim
    for w in d_layers:
        d += [nn.Linear(fan, w), nn.LeakyReLU(0.2)]
        fan = w
    d += [nn.Linear(fan, 1), nn.Sigmoid()]
    return nn.Sequential(*g), nn.Sequential(*d)


def bench(data, batch, iterations, warmup, latent=100, dev="cpu", item_every=1):
    G, D = build(latent=latent, img_dim=data.shape[1])
    G, D, data = G.to(dev), D.to(dev), data.to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    ones = torch.ones(batch, 1, device=dev)
    zeros = torch.zeros(batch, 1, device=dev)
    n = data.shape[0]

    def sync():
        if dev != "cpu":
            torch.cuda.synchronize()

    def acc(p, y):
        return ((p > 0.5).float() == y).float().mean()

    def iteration(i):
        real = data[torch.randint(0, n, (batch,), device=dev)]
        z = torch.randn(batch, latent, device=dev)
        G.eval()
        with torch.no_grad():
            fake = G(z)

        opt_d.zero_grad(set_to_none=True)
        p = D(real)
        l_real = bce(p, ones)
        a_real = acc(p.detach(), ones)
        l_real.backward()
        opt_d.step()

        opt_d.zero_grad(set_to_none=True)
        p = D(fake)
        l_fake = bce(p, zeros)
        a_fake = acc(p.detach(), zeros)
        l_fake.backward()
        opt_d.step()

        G.train()
        D.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        z = torch.randn(batch, latent, device=dev)
        l_g = bce(D(G(z)), ones)
        l_g.backward()
        opt_g.step()
        D.requires_grad_(True)
        if (i + 1) % item_every == 0:
            return (l_real.item(), a_real.item(), l_fake.item(), a_fake.item(), l_g.item())
        return None

    for i in range(warmup):
        iteration(i)
    sync()
    t0 = time.perf_counter()
    for i in range(iterations):
        iteration(i)
    sync()
    return time.perf_counter() - t0


def bench_preset(net, data, batch, iterations, warmup, dev="cpu", item_every=1):
    """Seconds for `iterations` iterations of preset network set `net` (torch_preset.build's
    (G, D, info)), fresh modules and optimizers; and the GFLOP of one iteration (None with
    a gradient penalty)."""
    import copy
    import torch_preset
    G, D, info = (copy.deepcopy(net[0]).to(dev), copy.deepcopy(net[1]).to(dev), net[2])
    data = data.to(dev)
    iteration = torch_preset.make_iteration(G, D, info, data, batch, dev)
    gflop = torch_preset.count_flops(iteration, [G, D])
    if info["gp"] > 0:
        gflop = None
    for i in range(warmup):
        iteration((i + 1) % item_every == 0)
    if dev != "cpu":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(iterations):
        iteration((i + 1) % item_every == 0)
    if dev != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, gflop


def blas_corename(blas_path):
    """OpenBLAS' kernel set (openblas_get_corename), None if not OpenBLAS."""
    if "openblas" not in blas_path:
        return None
    import ctypes
    try:
        f = ctypes.CDLL(blas_path).openblas_get_corename
        f.restype = ctypes.c_char_p
        return f().decode()
    except (OSError, AttributeError):
        return None


def loaded_blas():
    """Path of the BLAS library this process has mapped (torch links libblas.so.3 on Debian)."""
    torch.zeros(2, 2) @ torch.zeros(2, 2)
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if ("blas" in path or "mkl" in path) and path.startswith("/") and path not in found:
                    found.append(path)
    except OSError:
        pass
    # prefer the BLAS itself over a LAPACK from the same package
    found.sort(key=lambda p: 0 if "blas" in os.path.basename(p) else 1)
    return found[0] if found else "unknown"


def blas_threads(blas_path, nt=None):
    """Get (nt None) or set OpenBLAS' own thread count; None if not OpenBLAS."""
    if "openblas" not in blas_path:
        return None
    import ctypes
    try:
        lib = ctypes.CDLL(blas_path)
        if nt is not None:
            lib.openblas_set_num_threads(int(nt))
        return int(lib.openblas_get_num_threads())
    except (OSError, AttributeError):
        return None


def parse_list(values, default):
    out = []
    for v in (values or [default]):
        out += [s.strip() for s in v.split(",") if s.strip()]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", action="append",
                    help="batch size(s); repeatable and/or comma list (default 32,128)")
    ap.add_argument("--iterations", type=int, default=300, help="timed iterations (default 300)")
    ap.add_argument("--warmup", type=int, default=20, help="warm-up iterations (default 20)")
    ap.add_argument("--threads", action="append",
                    help="thread settings, comma list/repeatable; 'default' = torch's default "
                         "(default: default,1)")
    ap.add_argument("--data", help="IDX3 image file (.gz ok) to use as real data")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where the eager code runs (default cpu; cuda ignores --threads)")
    ap.add_argument("--item-every", action="append",
                    help="read the losses back every N iterations; comma list/repeatable "
                         "(default 1, as the Keras-GAN loop prints them)")
    ap.add_argument("--preset", help="time this clgan preset's recipe (samples/presets/NAME.ini) "
                                     "instead of the MLP (tools/torch_preset.py)")
    ap.add_argument("--image-size", type=int, help="--preset: image side (default the preset's, or 28)")
    ap.add_argument("--channels", type=int, help="--preset: image channels (default the preset's, or 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the results as a JSON list only")
    args = ap.parse_args()

    batches = [int(b) for b in parse_list(args.batch, "32,128")]
    threads = parse_list(args.threads, "default,1")
    items = [int(v) for v in parse_list(args.item_every, "1")]
    if min(items) < 1:
        ap.error("--item-every needs N >= 1")
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print("bench_torch: --device cuda, but torch.cuda.is_available() is False", file=sys.stderr)
            return 2
        threads = ["default"]
    net = None
    if args.preset:
        import torch_preset
        try:
            cfg = torch_preset.load_preset(args.preset)
            for key, v in (("image-size", args.image_size), ("channels", args.channels)):
                if v is not None:
                    cfg.setdefault("train", {})[key] = str(v)
            torch.manual_seed(args.seed)
            net = torch_preset.build(cfg)
        except torch_preset.PresetError as e:
            print("bench_torch: --preset %s: %s" % (args.preset, e), file=sys.stderr)
            return 2
    default_threads = torch.get_num_threads()
    blas = loaded_blas()
    default_blas_threads = blas_threads(blas)
    corename = blas_corename(blas)
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")}
    if not args.json:
        print("# torch %s, BLAS %s (core %s), oneDNN %s, default threads: torch %d, BLAS %s%s"
              % (torch.__version__, blas, corename, torch.backends.mkldnn.is_available(),
                 default_threads, default_blas_threads,
                 ", device " + torch.cuda.get_device_name(0) if args.device == "cuda" else ""))
        print("# recipe %s; environment: %s" % (args.preset or "keras-gan MLP (built in)",
              ", ".join("%s=%s" % (k, "(unset)" if v is None else v) for k, v in env.items())))
    if "/blas/libblas.so" in blas and args.device == "cpu":
        print("# warning: this is the reference (netlib) BLAS, ~15-25x slower than OpenBLAS here; "
              "install libopenblas0-pthread for a fair peer", file=sys.stderr)

    def set_threads(th):
        # 'default' restores torch's and OpenBLAS' own defaults; N sets both to N
        # (torch.set_num_threads does not reach OpenBLAS' thread pool).
        nt = default_threads if th == "default" else int(th)
        torch.set_num_threads(nt)
        if default_blas_threads is not None:
            blas_threads(blas, default_blas_threads if th == "default" else nt)
        return nt

    torch.manual_seed(args.seed)
    if args.data:
        data = load_idx_images(args.data)
    elif net:
        h, w, c = net[2]["img"]
        data = torch.rand(10000, c, h, w) * 2 - 1
    else:
        data = torch.rand(10000, 784) * 2 - 1
    if net and data[0].numel() != int(np.prod(net[2]["img"])):
        print("bench_torch: --data images have %d values, the preset's %d" %
              (data[0].numel(), int(np.prod(net[2]["img"]))), file=sys.stderr)
        return 2
    if net and data.dim() == 2:
        h, w, c = net[2]["img"]
        data = data.reshape(-1, c, h, w)

    results = []
    for b in batches:
        for th in threads:
            for ie in items:
                nt = set_threads(th)
                torch.manual_seed(args.seed)
                gflop = None
                if net:
                    secs, gflop = bench_preset(net, data, b, args.iterations, args.warmup,
                                               dev=args.device, item_every=ie)
                else:
                    secs = bench(data, b, args.iterations, args.warmup, dev=args.device,
                                 item_every=ie)
                ips = args.iterations / secs
                r = dict(framework="torch", device=args.device, recipe=args.preset or "keras-gan",
                         batch=b, threads=th, torch_threads=nt, item_every=ie,
                         iterations=args.iterations, it_per_s=round(ips, 2),
                         images_per_s=round(ips * b, 1), ms_per_it=round(1000.0 / ips, 4),
                         gflop_per_it=None if gflop is None else round(gflop, 4),
                         gflops=None if gflop is None else round(gflop * ips, 2),
                         torch_version=torch.__version__, blas=blas, blas_core=corename,
                         onednn=torch.backends.mkldnn.is_available(), env=env,
                         data=args.data or "random")
                results.append(r)
                if not args.json:
                    print("torch device=%s batch=%d threads=%s item_every=%d it_per_s=%.1f "
                          "images_per_s=%.1f ms_per_it=%.3f torch_threads=%d%s"
                          % (args.device, b, th, ie, ips, ips * b, 1000.0 / ips, nt,
                             "" if gflop is None else " gflop_per_it=%.3f gflops=%.1f"
                             % (gflop, gflop * ips)), flush=True)
    set_threads("default")

    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for b in batches:
        best = max((r for r in results if r["batch"] == b), key=lambda r: r["it_per_s"])
        print("best batch=%d threads=%s item_every=%d it_per_s=%.1f images_per_s=%.1f ms_per_it=%.3f"
              % (b, best["threads"], best["item_every"], best["it_per_s"], best["images_per_s"],
                 best["ms_per_it"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
