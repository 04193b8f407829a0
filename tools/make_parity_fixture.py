#!/usr/bin/python3
"""Write tests/fixtures/parity_*.safetensors: small training runs of the PyTorch reference
for the C engine's parity test (tests/test_parity.c).

Fixtures (batch 8, latent 8; 8x8 images but for conv):
  mlp       the Keras-GAN recipe, tools/keras_gan_torch.py KerasGAN: G 16,32,64 -> 64,
            D 32,16 -> 1, 6 iterations; settings as separate metadata keys (the
            first fixture's layout, kept).
  wgan, wgan_gp, residual, remedies
            ClganRef (tools/keras_gan_torch.py) on a clgan configuration (FIXTURES
            below, over SMALL: G 16,32, D 32,16), 5 iterations; the configuration is
            stored as INI text (metadata "config") that clgan loads over its defaults.
  conv      ClganArchRef (tools/clgan_arch_ref.py) on 12x12x1 images: a dcgan-keras-like G
            and D written as --arch specs (Conv2d "same" with stride 2, ConvTranspose2d,
            UpSampling2D, ZeroPadding2D, BatchNorm over images, Dropout with clgan's
            Philox masks), 5 iterations, from clgan's own initial weights.
Draw order (one torch.Generator seeded with --seed): model init (G's kernels in
order, then D's; Glorot uniform; conv: none, the weights are clgan's init from the
config seed, tools/clgan_arch.py), then real, noise_d, noise_g; real uniform in
[-1, 1] (rows of h*w*c values in NHWC order), noise standard normal. WGAN-GP's
interpolation coefficients and the dropout masks come from the Python port of clgan's
Philox4x32-10 (the device draws the same bits).

The file is safetensors written by hand (no safetensors package): u64 LE header
length N, N bytes of JSON (tensor entries then "__metadata__", padded with
spaces to a multiple of 8), then contiguous little-endian float32 data.
Tensors:
  init/G/<param>, init/D/<param>    every parameter and BN moving stat before training,
                                    named as clgan names them (dense0.kernel (in, out),
                                    bn0.gamma, res0.dense.kernel, res0.proj.bias, ...)
  final/G/<param>, final/D/<param>  the same after the last iteration
  real        (iters, d_steps, batch, img_dim)   [mlp: (iters, batch, img_dim)]
  noise_d     (iters, d_steps, batch, latent)
  noise_g     (iters, g_steps, batch, latent)
  d_loss_real, d_acc_real, d_loss_fake, d_acc_fake, g_loss, g_acc   (iters,): the
              trainer's metrics, D's averaged over D steps and G's over G steps
  gp          (iters, d_steps)  WGAN-GP: each D step's penalty lambda mean (|g| - 1)^2
  gp_e        (iters, d_steps, batch)  WGAN-GP: the interpolation coefficients
  d_gnorm     (iters, D updates per iteration, 2)  with clip-grad-norm-d: D's global
              gradient norm before and after clipping, per update (g_gnorm likewise)
  spread/G/<param>, spread/D/<param>  per element, the float32 rounding spread of the
              final value: max |float32 run - float64 run| over this run and
              SPREAD_RUNS runs from +-1-ulp perturbed initial weights and inputs
Metadata (strings): config (INI), description, img_dim, iterations, d_steps, g_steps,
seed, torch_version; on images img_h, img_w, img_c, init_from (init/ is clgan's own
initialization: the C test compares it bit for bit) and dropout (what the masks are);
f32_vs_f64_max_loss_diff / f32_vs_f64_max_weight_diff (this run
against the same run in float64 from the same float32 initial values and inputs: the
scale of tolerance meaningful for a float32 engine), f32_spread_max_weight_diff,
max_weight_change, min_acc_margin (closest D output to the accuracy threshold),
min_abs_preactivation (closest LeakyReLU input to its kink), fd_grad_max_rel_err, and
where they apply weight_clip_bound / d_grad_norm_clip (how often the clip bound).
Before writing, the gradients of D's objective and G's loss (float64) are checked
against central finite differences.

Usage:
  tools/make_parity_fixture.py                    # writes every fixture
  tools/make_parity_fixture.py --fixture wgan     # one of them
  tools/make_parity_fixture.py --fixture mlp --out F.safetensors
  tools/make_parity_fixture.py --check            # recompute and compare the files
Run it with Debian's /usr/bin/python3 (torch 1.13). torch on another CPU or BLAS
rounds differently: --check then compares what the run computed within the C test's
bound, and the inputs bit for bit.
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
from keras_gan_torch import (KerasGAN, DEFAULTS, ClganRef, ROLE_D_FAKE, ROLE_D_REAL,  # noqa: E402
                             _rel_err, clgan_config, clgan_ini, fd_check_g_kernel,
                             interp_coefficients)
from clgan_arch_ref import ClganArchRef  # noqa: E402

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


# ---- trainer-level fixtures from a clgan configuration (ClganRef) ------------------

SMALL = dict(generator=dict(layers="16,32"), discriminator=dict(layers="32,16"),
             model=dict(latent=8),
             train=dict(batch=8, seed=81985529216486895))  # seed 0x0123456789ABCDEF: key (lo, hi)

# name -> (settings on top of SMALL, what the fixture is for). Every fixture is
# parity_<name>.safetensors, 5 iterations on 8x8 images.
FIXTURES = OrderedDict([
    ("wgan", (dict(generator=dict(optimizer="rmsprop", lr=0.005),
                   discriminator=dict(optimizer="rmsprop", lr=0.005, steps=2),
                   train=dict(loss="wasserstein", **{"clip-weights-d": 0.1,
                              "adam-shared-step": "off"})),
              "WGAN: Wasserstein losses, RMSprop, weight clipping that binds, 2 critic steps "
              "(separate real/fake updates), G with BatchNorm")),
    ("wgan_gp", (dict(generator=dict(lr=0.001, beta2=0.9, eps=1e-8),
                      discriminator=dict(lr=0.001, beta2=0.9, eps=1e-8, steps=2),
                      train=dict(loss="wasserstein", **{"gp-lambda": 10, "d-update": "joint",
                                 "adam-form": "torch", "adam-shared-step": "off"})),
                 "WGAN-GP: joint critic updates with the gradient penalty on Philox "
                 "interpolates, 2 critic steps, Adam in PyTorch's form, per-network step counts")),
    ("residual", (dict(generator=dict(layers="16,16", residual="on", batchnorm="on"),
                       discriminator=dict(layers="32,32", residual="on")),
                  "residual blocks in G (BatchNorm inside the block) and D, each with one "
                  "projection (width change) and one identity skip; the Keras recipe otherwise")),
    ("remedies", (dict(generator=dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov="on",
                                      steps=2),
                       discriminator=dict(optimizer="sgd", lr=0.05, **{"weight-decay": 0.01,
                                          "clip-grad-norm": 1.0}),
                       train=dict(loss="bce-logits", **{"label-smoothing": 0.1,
                                  "g-loss": "minimax"})),
                  "bce-logits, one-sided label smoothing, the minimax G loss, SGD with "
                  "Nesterov momentum for G (2 G steps), plain SGD with decoupled weight decay "
                  "and global-norm gradient clipping that binds for D")),
    # dcgan-keras (samples/presets/dcgan-keras.ini) scaled down to 12x12: Keras BN (eps
    # 1e-3, momentum 0.8, Keras variance), fake batch from G in eval mode, Keras Adam with
    # the shared step, clipped BCE: SMALL's defaults. 12 -> 6 -> 3 -> (pad) 4 -> 2 puts
    # TensorFlow's asymmetric "same" padding (0 before, 1 after) in each strided conv.
    # The convolutions in front of BatchNorm have no bias (nobias, as the DCGAN paper's):
    # such a bias's gradient is zero but for rounding, Adam divides that noise by its
    # own size, and the bias then walks by up to lr per step in a direction set by
    # rounding. With biases there, float32 runs of the reference scatter by 4e-5 in
    # those biases and, through G's eval-mode BatchNorm (running statistics) that feeds
    # D's fake batch, by 4e-5 in d_loss_fake (measured): a tolerance that wide would hide
    # real errors. Without them every value scatters by <= 4e-7.
    ("conv", (dict(generator=dict(arch="dense 72, act, reshape 3x3x8, up 2, conv 8 k3 same nobias, "
                                       "norm, act, convt 4 k3 s2 p1 op1 nobias, norm, act, "
                                       "conv c k3 same, tanh",
                                  activation="relu", batchnorm="on"),
                   discriminator=dict(arch="conv 8 k3 s2 same, act, drop, "
                                           "conv 16 k3 s2 same nobias, pad 0 1 0 1, norm, act, "
                                           "drop, conv 16 k3 s2 same nobias, norm, act, drop, "
                                           "conv 16 k3 same nobias, norm, act, drop, flatten, "
                                           "dense 1",
                                      activation="leakyrelu", batchnorm="on", dropout=0.25)),
              "dcgan-keras in small on 12x12x1 images: G dense, reshape, UpSampling2D, Conv2d "
              "same, ConvTranspose2d (k3 s2 p1 op1), BatchNorm over images, ReLU, tanh; D "
              "Conv2d k3 s2 same (asymmetric padding) x3, ZeroPadding2D, BatchNorm over images, "
              "LeakyReLU, Dropout 0.25 with clgan's Philox masks, Flatten, Dense, sigmoid; "
              "no conv bias in front of BatchNorm; initial weights are clgan's own")),
])
# Fixtures on images (h, w, c), trained by ClganArchRef (tools/clgan_arch_ref.py) from
# clgan's own initial weights; the others are MLPs on 8x8 (img_dim 64) by ClganRef.
IMAGES = {"conv": (12, 12, 1)}
CONFIG_ITERATIONS = 5
SERIES = RECORDS + ("g_acc",)


def make_ref(name, cfg, dtype=torch.float32, gen=None):
    """The reference for fixture `name`: ClganArchRef on its images, or ClganRef (its
    initial weights drawn from `gen`)."""
    if name in IMAGES:
        return ClganArchRef(cfg, IMAGES[name], dtype=dtype)
    return ClganRef(cfg, CFG["img_dim"], dtype=dtype, gen=gen)


def fixture_config(name):
    over = {sec: dict(v) for sec, v in SMALL.items()}
    for sec, v in FIXTURES[name][0].items():
        over.setdefault(sec, {}).update(v)
    over["train"]["iterations"] = CONFIG_ITERATIONS
    return clgan_config(over)


def fd_check_ref(ref, real, noise_d, noise_g, e, gen, n_entries=6, h=1e-6):
    """Central finite differences (float64) of D's objective (first D step of iteration
    0, on real) and of G's loss, w.r.t. a few entries of every trainable tensor, against
    autograd. Returns the max relative error (see _rel_err in keras_gan_torch.py).
    References with dropout (snapshot/restore) evaluate every point with the same masks."""
    m = ref.to(torch.float64)
    snap = m.snapshot() if hasattr(m, "snapshot") else None

    def same_draws(f):
        def g(P):
            if snap is not None:
                m.restore(snap)
            return f(P)
        return g
    with torch.no_grad():
        fake = m.forward("G", noise_d[0, 0].double(), training=m.fake_train)
    batches = [(real[0, 0].double(), ROLE_D_REAL)] + ([(fake, ROLE_D_FAKE)] if m.joint else [])
    gp = (real[0, 0].double(), fake, e[0, 0].double()) if e is not None else None
    checks = (("D", same_draws(lambda P: m.d_objective(P, batches, gp)[0])),
              ("G", same_draws(lambda P: m.g_objective(P, noise_g[0, 0].double())[0])))
    worst = 0.0
    for net, f in checks:
        P = m._leaves(net)
        names = m.trainable(net)
        grads = torch.autograd.grad(f(P), [P[k] for k in names], allow_unused=True)
        grads = dict(zip(names, grads))
        for k in names:
            g = grads[k] if grads[k] is not None else torch.zeros_like(P[k])
            for fi in torch.randperm(P[k].numel(), generator=gen)[:n_entries].tolist():
                vals = []
                for s in (h, -h):
                    Q = OrderedDict((a, b.detach()) for a, b in P.items())
                    w = Q[k].clone()
                    w.view(-1)[fi] += s
                    Q[k] = w
                    vals.append(float(f(Q)))
                fd = (vals[0] - vals[1]) / (2 * h)
                worst = max(worst, _rel_err(fd, float(g.reshape(-1)[fi])))
    return worst


SPREAD_RUNS = 16


def rounding_spread(fixture, init, final, final64, cfg, real, noise_d, noise_g, e, seed):
    """Per element of every final tensor: the largest |float32 run - float64 run| over
    the reference itself and SPREAD_RUNS float32 runs whose initial weights and inputs
    (real, noise) each moved by -1, 0 or +1 ulp at random: the envelope of float32
    rounding, which a float32 engine's result may fill. Small everywhere except where a
    normalizing optimizer divides a gradient component that is itself rounding-sized."""
    gen = torch.Generator().manual_seed(seed + 2)

    def ulp(x):
        a = x.numpy()
        s = (torch.randint(0, 3, x.shape, generator=gen) - 1).numpy()
        up, down = np.nextafter(a, np.float32(np.inf)), np.nextafter(a, np.float32(-np.inf))
        return torch.from_numpy(np.where(s > 0, up, np.where(s < 0, down, a)).astype(np.float32))
    out = {k: (final[k].double() - final64[k]).abs() for k in final}
    for _ in range(SPREAD_RUNS):
        ref = make_ref(fixture, cfg)
        for k, v in init.items():
            net, name = k.split("/", 1)
            ref.P[net][name] = ulp(v) if KerasGAN.is_trainable(name) else v.clone()
        run_ref(ref, ulp(real), ulp(noise_d), ulp(noise_g), e)
        for k, v in ref.state().items():
            out[k] = torch.maximum(out[k], (v.double() - final64[k]).abs())
    return out


def run_ref(ref, real, noise_d, noise_g, e):
    rec = {k: [] for k in SERIES}
    rec["gp"] = []
    for i in range(real.shape[0]):
        r = ref.train_iteration(real[i], noise_d[i], noise_g[i], None if e is None else e[i])
        for k in SERIES:
            rec[k].append(r[k])
        rec["gp"].append(r["gp"])
    return rec


def build_config_fixture(name, seed, verbose=True):
    cfg = fixture_config(name)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    ref32 = make_ref(name, cfg, gen=gen)
    dim = ref32.img_dim
    it, ds, gs, B, lat = CONFIG_ITERATIONS, ref32.d_steps, ref32.g_steps, ref32.batch, ref32.latent
    real = torch.rand(it, ds, B, dim, generator=gen) * 2 - 1
    noise_d = torch.randn(it, ds, B, lat, generator=gen)
    noise_g = torch.randn(it, gs, B, lat, generator=gen)
    e = None
    if ref32.gp_lambda > 0:
        e = torch.from_numpy(np.stack([np.stack([interp_coefficients(ref32.seed, i, k, B)
                                                 for k in range(ds)]) for i in range(it)]))
    ref64 = ref32.to(torch.float64)
    init = ref32.state()
    fd_err = fd_check_ref(ref32, real, noise_d, noise_g, e, torch.Generator().manual_seed(seed + 1))
    if not fd_err < 1e-6:
        raise SystemExit("%s: finite-difference check failed (%.3e)" % (name, fd_err))

    rec32 = run_ref(ref32, real, noise_d, noise_g, e)
    rec64 = run_ref(ref64, real.double(), noise_d.double(), noise_g.double(),
                    None if e is None else e.double())
    final, final64 = ref32.state(), ref64.state()
    losses = [k for k in SERIES if "loss" in k]
    loss_diff = max(abs(a - b) for k in losses for a, b in zip(rec32[k], rec64[k]))
    acc_diff = max(abs(a - b) for k in SERIES if "acc" in k for a, b in zip(rec32[k], rec64[k]))
    gp32 = np.array(rec32["gp"], dtype=np.float64)
    if gp32.size:
        loss_diff = max(loss_diff, float(np.abs(gp32 - np.array(rec64["gp"])).max()))
    wdiff = {k: float((final[k].double() - final64[k]).abs().max()) for k in final}
    weight_diff = max(wdiff.values())
    spread = rounding_spread(name, init, final, final64, cfg, real, noise_d, noise_g, e, seed)
    ens_diff = max(float(v.max()) for v in spread.values())
    moved = max(float((final[k] - init[k]).abs().max()) for k in final)
    if acc_diff != 0:
        raise SystemExit("%s: float32 and float64 runs disagree on an accuracy" % name)

    tensors = OrderedDict()
    for k, v in init.items():
        tensors["init/" + k] = v.numpy()
    for k, v in final.items():
        tensors["final/" + k] = v.numpy()
    for k, v in spread.items():
        tensors["spread/" + k] = v.float().numpy()
    tensors["real"] = real.numpy()
    tensors["noise_d"] = noise_d.numpy()
    tensors["noise_g"] = noise_g.numpy()
    for k in SERIES:
        tensors[k] = np.array(rec32[k], dtype=np.float32)
    if e is not None:
        tensors["gp"] = gp32.astype(np.float32)       # (iters, d_steps): each D step's penalty
        tensors["gp_e"] = e.numpy()                   # (iters, d_steps, batch)
    for net in ("D", "G"):
        norms = ref32.opt[net].norms
        if norms:  # (iters, updates per iteration, 2): norm before / after clipping
            tensors[net.lower() + "_gnorm"] = np.array(norms, dtype=np.float32).reshape(it, -1, 2)

    meta = OrderedDict([
        ("config", clgan_ini(cfg)),
        ("description", FIXTURES[name][1]),
        ("img_dim", dim), ("iterations", it), ("d_steps", ds), ("g_steps", gs),
        ("seed", seed), ("torch_version", torch.__version__),
    ])
    if name in IMAGES:
        meta["img_h"], meta["img_w"], meta["img_c"] = IMAGES[name]
        meta["init_from"] = ("clgan: init/ holds the weights clgan itself initializes from the "
                             "config seed (SplitMix64, tools/clgan_arch.py); the dropout seeds "
                             "come from the same draws")
        drops = [l for l in ref32.nets["D"].layer_list() if l.prefix == "drop"]
        if drops:
            meta["dropout"] = ("%d D layers, rate %g: a new Philox mask per training forward "
                               "(real, fake, G step: %d calls per layer)"
                               % (len(drops), drops[0].rate, drops[0].calls))
    meta.update([
        ("f32_vs_f64_max_loss_diff", "%.3e" % loss_diff),
        ("f32_vs_f64_max_weight_diff", "%.3e" % weight_diff),
        ("f32_spread_max_weight_diff", "%.3e" % ens_diff),
        ("f32_spread_runs", "%d" % (SPREAD_RUNS + 1)),
        ("max_weight_change", "%.3e" % moved),
        ("min_acc_margin", "%.3e" % ref32.track["min_margin"]),
        ("min_abs_preactivation", "%.3e" % ref32.track["min_kink"]),
        ("fd_grad_max_rel_err", "%.3e" % fd_err),
    ])
    if ref32.clip_weights > 0:
        c = ref32.clip_weights
        at = sum(int((final["D/" + k].abs() == c).sum()) for k in ref32.trainable("D"))
        total = sum(final["D/" + k].numel() for k in ref32.trainable("D"))
        meta["weight_clip_bound"] = ("%d of %d clamp inputs beyond +-%g; %d of %d final D weights "
                                     "at the bound" % (ref32.track["clipped"],
                                                       ref32.track["clip_checked"], c, at, total))
    for net in ("D", "G"):
        norms = ref32.opt[net].norms
        if norms:
            before = [a for a, _ in norms]
            meta[net.lower() + "_grad_norm_clip"] = (
                "%d of %d updates clipped; norm before %.3g .. %.3g, limit %g"
                % (sum(a > ref32.opt[net].cn for a in before), len(before), min(before),
                   max(before), ref32.opt[net].cn))
    meta["generator"] = "tools/make_parity_fixture.py --fixture %s" % name
    if verbose:
        print("%s: %s" % (name, FIXTURES[name][1]))
        print("  f32 vs f64: max |loss diff| %.3e, max |final weight diff| %.3e (largest weight "
              "change %.3e)" % (loss_diff, weight_diff, moved))
        worst = sorted(wdiff.items(), key=lambda kv: -kv[1])[:3]
        print("  largest f32-vs-f64 weight diffs: " + ", ".join("%s %.2e" % kv for kv in worst))
        worst = sorted(((k, float(v.max())) for k, v in spread.items()), key=lambda kv: -kv[1])[:3]
        print("  largest rounding spread over %d float32 runs: " % (SPREAD_RUNS + 1)
              + ", ".join("%s %.2e" % kv for kv in worst))
        print("  finite-difference check (float64): max rel err %.2e; min accuracy margin %.2e; "
              "min |pre-activation| %.2e"
              % (fd_err, ref32.track["min_margin"], ref32.track["min_kink"]))
        for k in ("weight_clip_bound", "d_grad_norm_clip", "g_grad_norm_clip"):
            if k in meta:
                print("  " + k + ": " + meta[k])
        for i in range(it):
            gp_text = "" if e is None else "  gp " + " ".join("%.5f" % p for p in rec32["gp"][i])
            print("  it %d  d_loss_real %.6f acc %.3f  d_loss_fake %.6f acc %.3f  g_loss %.6f%s"
                  % (i, rec32["d_loss_real"][i], rec32["d_acc_real"][i], rec32["d_loss_fake"][i],
                     rec32["d_acc_fake"][i], rec32["g_loss"][i], gp_text))
    return tensors, meta


def builder(name):
    if name == "mlp":
        return build
    return lambda seed, verbose=True: build_config_fixture(name, seed, verbose)


def fixture_path(name):
    return os.path.join(REPO, "tests", "fixtures", "parity_%s.safetensors" % name)


INPUTS = ("init/", "real", "noise_d", "noise_g", "gp_e")


def check(path, seed, name="mlp"):
    """Re-read the file, check its layout, recompute it and compare: the inputs (initial
    weights, batches, noise, interpolation coefficients) bit for bit; what the run
    computed (metrics, final weights) within the C test's own bound, 1e-6 + 1e-6 |x|
    (+ 2 x the element's rounding spread for final weights), since torch on another CPU
    or BLAS rounds differently; the spread tensors and the numeric metadata (measured
    spreads, margins) are not compared."""
    got, meta = read_safetensors(path)
    want, want_meta = builder(name)(seed, verbose=False)
    ok = True
    if list(got.keys()) != list(want.keys()):
        print("tensor names/order differ")
        ok = False
    worst = 0.0
    for k, a in want.items():
        b = got.get(k)
        if b is None or b.shape != a.shape:
            print("missing or misshapen", k)
            ok = False
        elif k.startswith(INPUTS):
            if not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
                print("input differs:", k)
                ok = False
        elif not k.startswith("spread/"):
            d = np.abs(a.astype(np.float64) - b)
            sp = got.get("spread/" + k[len("final/"):]) if k.startswith("final/") else None
            bound = 1e-6 + 1e-6 * np.abs(b) + (2.0 * sp if sp is not None else 0.0)
            worst = max(worst, float(d.max()))
            if not (d <= bound).all():
                print("mismatch %s: max diff %.3g" % (k, float(d.max())))
                ok = False
    print("recomputed metrics and weights: largest diff %.3g" % worst)
    for k, v in want_meta.items():
        numeric = k.startswith(("f32_", "min_", "max_", "fd_")) or k in ("weight_clip_bound",) \
            or k.endswith("_grad_norm_clip")
        if k != "torch_version" and not numeric and meta.get(k) != str(v):
            print("metadata %s: file %r, recomputed %r" % (k, meta.get(k), str(v)))
            ok = False
    # structural checks that the C loader relies on
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
    size = os.path.getsize(path)
    print("%s: %d bytes, header %d bytes, %d tensors, %d metadata keys"
          % (path, size, n, len(got), len(meta)))
    for k in ("init/G/dense0.kernel", "init/G/bn0.moving_variance", "init/D/dense2.kernel",
              "real", "noise_d", "noise_g", "g_loss", "gp", "gp_e", "d_gnorm"):
        if k in got:
            print("  %-28s %s" % (k, list(got[k].shape)))
    print("check", "PASSED" if ok else "FAILED")
    return ok


def main():
    names = ["mlp"] + list(FIXTURES)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixture", default="all", choices=names + ["all"],
                    help="which fixture (default: all of them)")
    ap.add_argument("--out", help="output file, for one --fixture (default "
                    "tests/fixtures/parity_<fixture>.safetensors)")
    ap.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    ap.add_argument("--check", action="store_true",
                    help="do not write; re-read the file(s) and verify every tensor round-trips")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions
    todo = names if args.fixture == "all" else [args.fixture]
    if args.out and len(todo) != 1:
        ap.error("--out needs one --fixture")

    ok = True
    for name in todo:
        path = args.out or fixture_path(name)
        if args.check:
            ok = check(path, args.seed, name) and ok
            continue
        tensors, meta = builder(name)(args.seed)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write_safetensors(path, tensors, meta)
        size = os.path.getsize(path)
        print("wrote %s (%d bytes, %d tensors)" % (path, size, len(tensors)))
        if size >= 150 * 1024:
            print("warning: %s is not < 150 KiB" % path, file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
