#!/bin/bash
# device_check.sh - the GPU check of issue "Fast everywhere", as one script for a
# machine that has an NVIDIA driver and PyTorch but maybe no OpenCL ICD loader, no
# .icd file and none of clgan's libraries (the lent device machine).
#
#   tools/device_check.sh pack         # here: copy build/clgan's shared libraries
#                                      # (except glibc's) into build/devlibs
#   tools/device_check.sh run [OUTDIR] # there: find libnvidia-opencl, write an
#                                      # nvidia.icd, run devices / bench (with the
#                                      # profile and per-shape GEMM times) / bench_torch
#
# `run` prints every step; it does not stop at the first failure (a partial answer is
# still an answer), and exits 1 if any step failed. Carry build/clgan and
# build/devlibs (the device tool's `carry`). OUTDIR defaults to $OUT or /tmp.
set -u
cd "$(dirname "$0")/.."
exe=build/clgan
libs=build/devlibs

case "${1:-}" in
pack)
    [ -x "$exe" ] || { echo "device_check: build $exe first" >&2; exit 2; }
    rm -rf "$libs" && mkdir -p "$libs" || exit 2
    # every resolved dependency but the C runtime, which the other machine has
    ldd "$exe" | awk '$3 ~ /^\// {print $3}' |
        grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
        while read -r so; do cp -L "$so" "$libs/"; done
    du -sh "$libs"
    ls "$libs"
    ;;
run)
    out=${2:-${OUT:-/tmp}}
    fail=0
    step() { echo "== $*"; "$@" || { echo "== failed (rc $?): $*"; fail=1; }; }
    step nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    export LD_LIBRARY_PATH="$PWD/$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # built against the other machine's glibc: a missing symbol shows here first
    step ldd "$exe"
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
    step "$exe" devices
    step "$exe" bench --device gpu --batch 32,128 --iterations 500 --profile --gemm-shapes
    step python3 tools/bench_torch.py --device cuda --batch 32,128 --iterations 500 \
        --item-every 1,100
    exit $fail
    ;;
*)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
