#!/bin/bash
# device_check.sh - the GPU check, as one script for a machine that has an NVIDIA driver
# and PyTorch but maybe no OpenCL ICD loader, no .icd file and none of clgan's libraries
# (the lent device machine).
#
#   tools/device_check.sh pack         # here: copy build/clgan, the ctest executables and
#                                      # their shared libraries (except glibc's) into
#                                      # build/dev (carry that one path)
#   tools/device_check.sh run          # there: find libnvidia-opencl, write an
#                                      # nvidia.icd, then on the GPU: devices, the kernel
#                                      # and parity tests, a short training run of every
#                                      # preset, bench (profile, per-shape GEMM times,
#                                      # device peak), and PyTorch's CUDA peer
#
# `run` prints every step; it does not stop at the first failure (a partial answer is
# still an answer), and exits 1 if any step failed. Each step has a time limit, so the
# whole check ends in about 8 minutes. Its files (ICD, caches, runs) go to
# /tmp/clgan-check; pipe the output through `tee "$OUT/check.log"` to keep all of it.
set -u
cd "$(dirname "$0")/.."
dev=build/dev

case "${1:-}" in
pack)
    [ -x build/clgan ] || { echo "device_check: build build/clgan first" >&2; exit 2; }
    rm -rf "$dev" && mkdir -p "$dev/bin" "$dev/lib" || exit 2
    cp build/clgan build/test_* "$dev/bin/" || exit 2
    # every resolved dependency but the C runtime, which the other machine has
    for exe in "$dev"/bin/*; do ldd "$exe"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
        grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
        while read -r so; do cp -L "$so" "$dev/lib/"; done
    # Where the BLAS alternative is OpenBLAS (35 MB), ship the reference BLAS/LAPACK
    # instead (the Frechet distance's small eigenproblems need no speed): the carry
    # limit is 64 MiB with the working tree.
    ref=/usr/lib/x86_64-linux-gnu
    if [ -e "$dev/lib/libopenblas.so.0" ] && [ -e "$ref/blas/libblas.so.3" ] &&
       [ -e "$ref/lapack/liblapack.so.3" ]; then
        rm -f "$dev/lib/libopenblas.so.0"
        cp -L "$ref/blas/libblas.so.3" "$ref/lapack/liblapack.so.3" "$dev/lib/"
    fi
    du -sh "$dev"
    ;;
run)
    out=/tmp/clgan-check
    mkdir -p "$out" || exit 2
    fail=0
    # step LIMIT_S CMD...: runs CMD with a time limit, logs its status.
    step() {
        local lim=$1; shift
        local t0=$SECONDS
        echo "== $*"
        timeout "$lim" "$@"
        local rc=$?
        [ $rc -eq 0 ] || { echo "== failed (rc $rc): $*"; fail=1; }
        echo "== $((SECONDS - t0)) s"
    }
    step 20 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    export LD_LIBRARY_PATH="$PWD/$dev/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    exe=$dev/bin/clgan
    # built against the other machine's glibc: a missing symbol shows here first
    step 20 ldd "$exe"
    # The NVIDIA OpenCL driver: from the loader cache (x86-64 entries), else a search
    # of the usual library trees (slow on a big image, so only as a fallback).
    icdlib=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so/ && /x86-64/ {print $NF; exit}')
    [ -n "$icdlib" ] ||
        icdlib=$(find /usr/lib /usr/lib64 /lib /lib64 /usr/local/nvidia /opt \
                     -name 'libnvidia-opencl.so*' 2>/dev/null | head -n 1)
    echo "libnvidia-opencl: ${icdlib:-not found}"
    [ -n "$icdlib" ] || fail=1
    mkdir -p "$out/icd"
    [ -n "$icdlib" ] && echo "$icdlib" > "$out/icd/nvidia.icd"
    export OCL_ICD_VENDORS="$out/icd"
    export XDG_CACHE_HOME="$out/cache"
    step 60 "$exe" devices
    # The kernel, gradient, optimizer and parity tests, on the GPU.
    export CLGAN_TEST_DEVICE=gpu CLGAN_TEST_TMP="$out/testtmp"
    for t in test_shapes test_nn test_conv test_layers test_gemm test_optim test_gradpen \
             test_gradpen_conv test_parity test_random test_trainer test_model test_diag_eval; do
        [ -x "$dev/bin/$t" ] && step 60 "$dev/bin/$t"
    done
    unset CLGAN_TEST_DEVICE
    # The speed of the MLP and of the conv recipe, and the peer's.
    step 90 "$exe" bench --device gpu --batch 32,128 --iterations 300 --profile
    step 90 "$exe" bench --device gpu --preset dcgan-keras --batch 32,64 --iterations 100 --profile
    step 60 python3 tools/bench_torch.py --device cuda --batch 32,128 --iterations 300
    step 60 python3 tools/bench_torch.py --device cuda --preset dcgan-keras --batch 32,64 \
        --iterations 100
    # Every preset trains a couple of hundred iterations and writes its outputs.
    for p in samples/presets/*.ini; do
        name=$(basename "$p" .ini)
        step 40 "$exe" train --device gpu --preset "$name" --iterations 200 --eval-every 200 \
            --out "$out/runs/$name"
    done
    exit $fail
    ;;
*)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
