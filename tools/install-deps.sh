#!/usr/bin/env bash
# Installs the Debian 12 packages clgan needs to build, test and run on the CPU OpenCL
# device (PoCL). A no-op when everything is already installed. Run as root (or with sudo).
#   tools/install-deps.sh           build + test + CPU device
#   tools/install-deps.sh --extras  also PyTorch (parity fixtures, peer benchmark) and
#                                   the Fashion-MNIST data set
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  ocl-icd-opencl-dev opencl-c-headers clinfo   # OpenCL ICD loader + headers
  libclblast-dev                               # GEMM
  pocl-opencl-icd                              # CPU OpenCL device
  oclgrind clang-15                            # strict simulated device; offline OpenCL C compile
  libpng-dev zlib1g-dev libgif-dev             # PNG, gzip, GIF
  libcjson-dev                                 # JSON
  liblapacke-dev                               # Frechet distance (symmetric eigensolver)
  python3 python3-numpy python3-matplotlib python3-pil  # tests read outputs; plot_losses.py
  chromium                                     # tests/cli_report.sh renders the HTML report
  clang libclang-rt-14-dev                     # tools/fuzz.sh: libFuzzer harnesses (ASan+UBSan)
  libopenmpi-dev openmpi-bin                   # data-parallel training over MPI (docs/mpi.md)
)
if [ "${1:-}" = "--extras" ]; then
  # OpenBLAS: without it Debian's PyTorch runs on the reference BLAS, ~10x slower.
  pkgs+=(python3-torch libopenblas0-pthread dataset-fashion-mnist)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
