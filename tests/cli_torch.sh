#!/usr/bin/env bash
# cli_torch.sh CLGAN TMPDIR - tools/clgan_torch.py rebuilds clgan generators in PyTorch:
# for five architectures trained a few iterations (the Keras-GAN MLP with BatchNorm;
# residual blocks with BatchNorm, ELU and a projection; plain ReLU layers; an --arch-g
# spec (built by tools/clgan_arch.py) with every layer kind: dense, reshape, Conv2d with "same" padding split unevenly,
# ConvTranspose2d with output padding and no bias, BatchNorm over images, standalone and
# fused activations, padding, cropping, upsampling, flatten; a DCGAN-style RGB
# generator), the module draws clgan sample's images for the same noise within 1e-5,
# clgan_torch.noise() gives clgan's seeded noise, the command line's --compare agrees,
# and a file that is not a generator is refused. Exit 77 (ctest: skipped) when
# /usr/bin/python3 has no torch (tools/install-deps.sh --extras installs it).
set -u
clgan=$1 tmp=$2
here=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
rm -rf "$tmp" && mkdir -p "$tmp"
if ! "$py" -c "import torch" 2>/dev/null; then
  echo "cli_torch: SKIPPED: /usr/bin/python3 has no torch (tools/install-deps.sh --extras installs python3-torch)"
  exit 77
fi
fail=0
common=(--iterations 5 --batch 16 --latent 12 --sample-every 0 --eval-every 0 --seed 3)
runs=(mlp residual relu conv rgb)
args_mlp=(--layers-g 32,64)
args_residual=(--layers-g 32,32,48 --residual-g on --activation-g elu --slope 0.7)
args_relu=(--layers-g 24 --batchnorm-g off --activation-g relu)
args_conv=(--activation-g elu --arch-g "dense 392, act, reshape 14x14x2, conv 8 k3 s2 same, norm, act, convt 8 k3 s2 p1 op1 nobias, pad 1, crop 1, up 2, conv 4 k3 same, lrelu, conv 2 k3 s2 p1, flatten, dense 784, tanh")
args_rgb=(--channels 3 --activation-g relu --arch-g "convt 16 k7, norm, act, convt 8 k4 s2 p1, norm, act, convt c k4 s2 p1, tanh" --arch-d "conv 8 k4 s2 p1, act, flatten, dense 1")
for r in "${runs[@]}"; do
  eval "extra=(\"\${args_$r[@]}\")"
  if ! "$clgan" train "${common[@]}" "${extra[@]}" --out "$tmp/$r" >"$tmp/$r.log" 2>&1 ||
     ! "$clgan" sample --checkpoint "$tmp/$r/generator.safetensors" --n 40 --seed 9 \
        --save-noise "$tmp/$r.z.npy" --out "$tmp/$r.x.npy" >>"$tmp/$r.log" 2>&1; then
    echo "FAIL: $r: train or sample"; cat "$tmp/$r.log"; fail=$((fail + 1))
  fi
done
PYTHONPATH="$here/tools" "$py" - "$tmp" "${runs[@]}" <<'PY' || fail=$((fail + 1))
import sys
import numpy as np
import torch
import clgan_torch
tmp, runs = sys.argv[1], sys.argv[2:]
bad = 0
for r in runs:
    g = clgan_torch.load_generator("%s/%s/generator.safetensors" % (tmp, r))
    z, x = np.load("%s/%s.z.npy" % (tmp, r)), np.load("%s/%s.x.npy" % (tmp, r))
    with torch.no_grad():
        y = g(torch.from_numpy(z)).numpy()
    c = 3 if r == "rgb" else 1
    ref = x if c == 3 else x[..., None]  # clgan: (N, H, W[, 3]) NHWC; PyTorch: (N, C, H, W)
    diff = float(np.abs(y.transpose(0, 2, 3, 1) - ref).max())
    znoise = float(np.abs(clgan_torch.noise(40, g.latent, 9) - z).max())
    kinds = sorted(set(type(l).__name__ for l in g.layers))
    ok = y.shape == (40, c, 28, 28) and diff <= 1e-5 and znoise <= 1e-6 and x.std() > 0.01
    print("%s %s: layers %s, largest difference %.2g, noise %.2g" % ("ok" if ok else "FAIL", r, kinds, diff, znoise))
    bad += not ok
res = clgan_torch.load_generator("%s/residual/generator.safetensors" % tmp)
if not any(l.proj is not None for l in res.layers if hasattr(l, "proj")):
    print("FAIL: the residual run has no projection block"); bad += 1
conv = clgan_torch.load_generator("%s/conv/generator.safetensors" % tmp)
want = {"Dense", "Reshape", "Conv", "BatchNorm", "Activation", "ConvT", "ZeroPad", "Upsample"}
if not want <= set(type(l).__name__ for l in conv.layers) or conv.layers[2].out_shape != (7, 7, 8):
    print("FAIL: the conv run does not exercise every layer kind and 'same' 14 -> 7"); bad += 1
try:
    clgan_torch.load_generator("%s/mlp/discriminator_loss.npy" % tmp)
    print("FAIL: a .npy loaded as a generator"); bad += 1
except ValueError as e:
    print("ok: refused: %s" % e)
sys.exit(1 if bad else 0)
PY
if "$py" "$here/tools/clgan_torch.py" "$tmp/mlp/generator.safetensors" --noise "$tmp/mlp.z.npy" \
     --compare "$tmp/mlp.x.npy" --out "$tmp/t.npy" >"$tmp/cmp.log" 2>&1 &&
   "$py" "$here/tools/clgan_torch.py" "$tmp/mlp/generator.safetensors" --n 40 --seed 9 --compare "$tmp/mlp.x.npy" >>"$tmp/cmp.log" 2>&1; then
  cat "$tmp/cmp.log"
else
  echo "FAIL: clgan_torch.py --compare"; cat "$tmp/cmp.log"; fail=$((fail + 1))
fi
echo "cli_torch: $fail failed"
[ $fail -eq 0 ]
