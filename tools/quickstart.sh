#!/usr/bin/env bash
# tools/quickstart.sh [ITERATIONS] - the README's first command: installs the Debian
# packages, builds clgan, and trains the classic MNIST MLP GAN (Keras-GAN's recipe) on
# the shipped digits for a short real run, then says where the outputs are.
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-10000}
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target clgan
out=runs/quickstart-$(date +%Y%m%d-%H%M%S)
build/clgan train --iterations "$iters" --out "$out"
echo
echo "Look at $out/images/$iters.png (the last 5x5 grid) and $out/training.gif."
echo "Plot the losses:   /usr/bin/python3 tools/plot_losses.py $out"
echo "Draw new digits:   build/clgan sample --checkpoint $out/generator.safetensors --n 64 --out digits.png"
echo "The full recipe:   build/clgan train     (30 000 iterations, as Keras-GAN)"
