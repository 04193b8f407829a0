#!/usr/bin/python3
"""Write tests/fixtures/parity_mlp.safetensors: a tiny Keras-GAN run for the C engine's parity test.

Uses tools/keras_gan_torch.py (Keras 2 conventions written by hand) in float32
with a fixed seed on a SMALL configuration:
  latent 8, G 16,32,64 -> 64 (8x8 image), D 32,16 -> 1, batch 8, 6 iterations,
  real batches torch.rand*2-1, noise standard normal.
Draw order (one torch.Generator seeded with --seed): model init (G layers in
order, then D layers; Glorot uniform), then real (iters,batch,img_dim), then
noise_d (iters,batch,latent), then noise_g (iters,batch,latent).

The file is safetensors written by hand (no safetensors package): u64 LE header
length N, N bytes of JSON (tensor entries then "__metadata__", padded with
spaces to a multiple of 8), then contiguous little-endian float32 data.
Tensors:
  init/G/<param>, init/D/<param>    every parameter and BN moving stat before training
  final/G/<param>, final/D/<param>  the same after the last iteration
  real, noise_d, noise_g            the inputs of every iteration
  d_loss_real, d_acc_real, d_loss_fake, d_acc_fake, g_loss   (iters,)
Metadata (strings): the configuration, hyper-parameters, torch_version, and
f32_vs_f64_max_loss_diff / f32_vs_f64_max_weight_diff: the max abs difference
of the recorded losses and of the final weights between this float32 run and
the same run in float64 (from the same float32 initial values and inputs) --
the scale of tolerance that is meaningful for a float32 C implementation.

Before writing, the G-loss gradient w.r.t. a G kernel is checked against
central finite differences in float64.

Usage:
  tools/make_parity_fixture.py                 # writes tests/fixtures/parity_mlp.safetensors
  tools/make_parity_fixture.py --out F.safetensors
  tools/make_parity_fixture.py --check         # re-read the written file and verify it
"""

import argparse
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_gan_torch import KerasGAN, DEFAULTS, fd_check_g_kernel  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "parity_mlp.safetensors")

CFG = dict(latent=8, g_layers=(16, 32, 64), d_layers=(32, 16), img_dim=64, batch=8, iterations=6)
RECORDS = ("d_loss_real", "d_acc_real", "d_loss_fake", "d_acc_fake", "g_loss")


# ---- safetensors by hand ------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: OrderedDict name -> numpy float32 array; metadata: dict str -> str."""
    header = OrderedDict()
    blobs = []
    off = 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = OrderedDict((k, str(v)) for k, v in metadata.items())
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-len(hj)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns (OrderedDict name -> numpy array, metadata dict); validates the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8 != 0 or 8 + n > len(raw):
        raise ValueError("bad header length %d" % n)
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=OrderedDict)
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = OrderedDict()
    expect = 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if e["dtype"] != "F32":
            raise ValueError("%s: dtype %s" % (name, e["dtype"]))
        b, end = e["data_offsets"]
        if b != expect:
            raise ValueError("%s: tensors not contiguous (%d != %d)" % (name, b, expect))
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        if end - b != 4 * count:
            raise ValueError("%s: size mismatch" % name)
        out[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
        expect = end
    if expect != len(data):
        raise ValueError("trailing bytes after data: %d" % (len(data) - expect))
    # restore header order
    ordered = OrderedDict((k, out[k]) for k in header.keys())
    return ordered, meta


# ---- the run ------------------------------------------------------------------

def make_inputs_and_model(seed):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    gan = KerasGAN(latent=CFG["latent"], g_layers=CFG["g_layers"], d_layers=CFG["d_layers"],
                   img_dim=CFG["img_dim"], dtype=torch.float32, gen=gen)
    it, B = CFG["iterations"], CFG["batch"]
    real = torch.rand(it, B, CFG["img_dim"], generator=gen) * 2 - 1
    noise_d = torch.randn(it, B, CFG["latent"], generator=gen)
    noise_g = torch.randn(it, B, CFG["latent"], generator=gen)
    return gan, real, noise_d, noise_g


def run(gan, real, noise_d, noise_g):
    rec = {k: [] for k in RECORDS}
    for i in range(real.shape[0]):
        r = gan.train_iteration(real[i], noise_d[i], noise_g[i])
        for k in RECORDS:
            rec[k].append(r[k])
    return rec


def build(seed, verbose=True):
    gan32, real, noise_d, noise_g = make_inputs_and_model(seed)
    gan64 = gan32.to(torch.float64)
    init = gan32.state()

    # finite-difference sanity check of the G-loss gradient (float64, before training)
    fd_gen = torch.Generator().manual_seed(seed + 1)
    fd_err = max(fd_check_g_kernel(gan32.to(torch.float64), noise_g[0].double(), name, gen=fd_gen)
                 for name in ("dense0.kernel", "dense2.kernel", "dense3.kernel"))
    if verbose:
        print("finite-difference check of dG_loss/dG.kernel (float64): max rel err %.2e" % fd_err)
    if not fd_err < 1e-6:
        raise SystemExit("finite-difference check failed (%.3e)" % fd_err)

    rec32 = run(gan32, real, noise_d, noise_g)
    rec64 = run(gan64, real.double(), noise_d.double(), noise_g.double())
    final = gan32.state()
    final64 = gan64.state()

    loss_diff = max(abs(a - b) for k in RECORDS if "loss" in k for a, b in zip(rec32[k], rec64[k]))
    acc_diff = max(abs(a - b) for k in RECORDS if "acc" in k for a, b in zip(rec32[k], rec64[k]))
    weight_diff = max(float((final[k].double() - final64[k]).abs().max()) for k in final)
    if verbose:
        print("f32 vs f64: max |loss diff| = %.3e, max |final weight diff| = %.3e, max |acc diff| = %g"
              % (loss_diff, weight_diff, acc_diff))
        for i in range(CFG["iterations"]):
            print("  it %d  d_loss_real %.6f acc %.3f  d_loss_fake %.6f acc %.3f  g_loss %.6f"
                  % (i, rec32["d_loss_real"][i], rec32["d_acc_real"][i], rec32["d_loss_fake"][i],
                     rec32["d_acc_fake"][i], rec32["g_loss"][i]))

    tensors = OrderedDict()
    for k, v in init.items():
        tensors["init/" + k] = v.numpy()
    for k, v in final.items():
        tensors["final/" + k] = v.numpy()
    tensors["real"] = real.numpy()
    tensors["noise_d"] = noise_d.numpy()
    tensors["noise_g"] = noise_g.numpy()
    for k in RECORDS:
        tensors[k] = np.array(rec32[k], dtype=np.float32)

    meta = OrderedDict([
        ("latent", CFG["latent"]),
        ("g_layers", ",".join(str(w) for w in CFG["g_layers"])),
        ("d_layers", ",".join(str(w) for w in CFG["d_layers"])),
        ("img_dim", CFG["img_dim"]),
        ("batch", CFG["batch"]),
        ("iterations", CFG["iterations"]),
        ("lr", repr(DEFAULTS["lr"])),
        ("beta1", repr(DEFAULTS["beta1"])),
        ("beta2", repr(DEFAULTS["beta2"])),
        ("adam_eps", repr(DEFAULTS["adam_eps"])),
        ("bn_momentum", repr(DEFAULTS["bn_momentum"])),
        ("bn_eps", repr(DEFAULTS["bn_eps"])),
        ("slope", repr(DEFAULTS["slope"])),
        ("bce_clip", repr(DEFAULTS["bce_clip"])),
        ("seed", seed),
        ("torch_version", torch.__version__),
        ("f32_vs_f64_max_loss_diff", "%.3e" % loss_diff),
        ("f32_vs_f64_max_weight_diff", "%.3e" % weight_diff),
        ("fd_grad_max_rel_err", "%.3e" % fd_err),
        ("generator", "tools/make_parity_fixture.py"),
    ])
    return tensors, meta


def check(path, seed):
    """Re-read the file, check layout and that every tensor round-trips bit-exactly."""
    got, meta = read_safetensors(path)
    want, want_meta = build(seed, verbose=False)
    ok = True
    if list(got.keys()) != list(want.keys()):
        print("tensor names/order differ")
        ok = False
    for k, a in want.items():
        if k not in got:
            print("missing", k)
            ok = False
            continue
        b = got[k]
        if b.shape != a.shape or not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
            print("mismatch", k, a.shape, b.shape)
            ok = False
    for k, v in want_meta.items():
        if k == "torch_version":
            continue
        if meta.get(k) != str(v):
            print("metadata %s: file %r, recomputed %r" % (k, meta.get(k), str(v)))
            ok = False
    # structural checks that the C loader relies on
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
    size = os.path.getsize(path)
    print("%s: %d bytes, header %d bytes, %d tensors, %d metadata keys"
          % (path, size, n, len(got), len(meta)))
    for k in ("init/G/dense0.kernel", "init/G/bn0.moving_variance", "init/D/dense2.kernel",
              "real", "noise_d", "g_loss"):
        print("  %-28s %s" % (k, list(got[k].shape)))
    print("check", "PASSED" if ok else "FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output file (default %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; re-read --out and verify every tensor round-trips")
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
