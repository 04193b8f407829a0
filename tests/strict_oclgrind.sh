#!/usr/bin/env bash
# strict_oclgrind.sh - clgan on a strict simulated device: oclgrind (Debian's `oclgrind`)
# presents a GPU-type OpenCL device that checks every memory access for bounds, and with
# its plugins every API call (--check-api), data races (--data-races) and reads of
# uninitialized values (--uninitialized). Every run below goes through it with its
# messages sent to a log; a run passes only when it exits 0 AND its log is empty, so
# every report is fatal.
#   tests/strict_oclgrind.sh kernels BUILD_DIR TMP   # kernel tests at tiny shapes
#   tests/strict_oclgrind.sh cli BUILD_DIR TMP       # clgan train/sample/classifier runs
# kernels: test_shapes (CLGAN_TEST_SMALL=1: every column/BatchNorm/loss/cross-entropy
#   path, both launch shapes, several row blocks) at oclgrind's default work-group limit
#   (1024) and at --max-wgsize 64, where the reduction work-groups shrink to 64 and a
#   launch past the limit is refused with CLGAN_ELIMIT (the test checks both);
#   test_random in both launch shapes.
# cli: a 2-iteration `clgan train` of every preset with the native GEMM kernels, on a
#   64-image 8x8 data set and 8-wide layers, the conv presets with layer specs of their
#   kinds scaled to 8x8 (dcgan and dcgan-32 left out: dcgan-keras's kernels); one
#   preset at --max-wgsize 128, two at 64;
#   the Keras-GAN recipe with CLBlast; `clgan sample` from a checkpoint; a run with an
#   evaluation (the shipped MNIST subset, 8 samples scored); one classifier training
#   step (train-classifier on the 8x8 set, --limit 8 --epochs 1, native GEMM: the
#   784-512-128 classifier on MNIST through CLBlast took 10+ minutes simulated).
# Suppressions, each for a simulator limitation (the rest of clgan's code was changed
# where oclgrind 21.10 mis-tracked it, see clgan_buf_zero/_alloc/_copy, cl/gemm.cl
# gemm_hsum, cl/random.cl normal4):
#   - kernels are built with -cl-opt-disable under oclgrind: its uninitialized-value
#     check crashes (segfault) on the shufflevector-with-poison patterns LLVM's vector
#     combining emits at -O2 (a float4 load whose lanes are added), and cannot run the
#     `freeze` instructions optimization inserts; at -O0 the same kernels run clean. The
#     optimized kernels run on PoCL in the rest of the suite.
#   - the CLBlast run takes --check-api only (bounds checks stay on): CLBlast's kernels
#     are not ours, and oclgrind spends about a second per CLBlast call re-creating
#     program and kernel objects, three with the other checks; what the run checks is
#     clgan's use of CLBlast (planned shapes, temporaries in the scratch buffer, sizes
#     and offsets within the buffers).
# Runs go in parallel, nproc at a time; each job's output and log are printed on failure.
set -u
kind=${1:-} build=${2:-} tmp=${3:-}
if [ -z "$kind" ] || [ -z "$build" ] || [ -z "$tmp" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
cd "$(dirname "$0")/.."
src=$PWD
command -v oclgrind >/dev/null ||
    { echo "strict_oclgrind: oclgrind is not installed (tools/install-deps.sh installs it)"; exit 1; }
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
clgan=$build/clgan
jobs_max=$(nproc 2>/dev/null || echo 2)
names=()

# job NAME [oclgrind options...] -- COMMAND...: runs COMMAND under oclgrind in the
# background (at most jobs_max at once), output in NAME.out, oclgrind's log in NAME.log.
job() {
    local name=$1; shift
    local og=()
    while [ "$1" != "--" ]; do og+=("$1"); shift; done
    shift
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
    names+=("$name")
    (
        export XDG_CACHE_HOME="$tmp/cache-$name" CLGAN_TEST_TMP="$tmp/testtmp-$name"
        export CLGAN_TEST_DEVICE=oclgrind CLGAN_TEST_SMALL=1
        start=$SECONDS
        oclgrind --build-options -cl-opt-disable --log "$tmp/$name.log" "${og[@]}" "$@" \
            > "$tmp/$name.out" 2>&1
        echo "$? $((SECONDS - start))" > "$tmp/$name.rc"
    ) &
}

all=(--check-api --data-races --uninitialized)
case "$kind" in
kernels)
    job shapes-wg1024 "${all[@]}" -- "$build/test_shapes"
    job shapes-wg64 --max-wgsize 64 "${all[@]}" -- "$build/test_shapes"
    job random-gpu-shapes "${all[@]}" -- env CLGAN_LAUNCH_SHAPES=gpu "$build/test_random"
    job random-cpu-shapes "${all[@]}" -- env CLGAN_LAUNCH_SHAPES=cpu "$build/test_random"
    ;;
cli)
    # 64 random 8x8 images in MNIST's IDX format.
    mkdir -p "$tmp/tiny" && /usr/bin/python3 - "$tmp/tiny/train-images-idx3-ubyte" <<'EOF' || exit 1
import random, struct, sys
random.seed(9)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack(">IIII", 0x803, 64, 8, 8))
    f.write(bytes(random.randrange(256) for _ in range(64 * 64)))
EOF
    small=(--data "$tmp/tiny" --iterations 2 --layers-g 8,8 --layers-d 8,8 --batch 4
           --eval-every 0 --sample-every 0 --monitor-every 1)
    # Presets with layer specs (the conv recipes) keep their settings (norms, spectral
    # norm, loss, optimizers) with specs of the same layer kinds scaled to 8x8 images.
    tiny_g="dense 64, norm, act, reshape 2x2x16, convt 8 k4 s2 p1, norm, act, up 2, conv 8 k3 same, norm, act, conv c k3 p1, tanh"
    tiny_d="conv 8 k3 s2 same, act, conv 8 k3 s2 same, pad 0 1 0 1, norm, act, flatten, dense 1"
    for p in "$src"/samples/presets/*.ini; do
        name=$(basename "$p" .ini)
        limit=() arch=()
        [ "$name" = wgan-gp ] && limit=(--max-wgsize 128)
        [ "$name" = residual ] && limit=(--max-wgsize 64)
        [ "$name" = dcgan-keras ] && limit=(--max-wgsize 64)
        # dcgan and dcgan-32 launch the same kernels as dcgan-keras at these specs
        # (about 100 s each simulated): left out.
        case "$name" in dcgan | dcgan-32) continue ;; esac
        if grep -q '^arch *=' "$p"; then
            d=$tiny_d
            grep -q '^dropout *= *0*[1-9.]' "$p" && d="conv 8 k3 s2 same, act, drop, ${tiny_d#*act, }"
            arch=(--arch-g "$tiny_g" --arch-d "$d" --image-size 0)
        fi
        job "train-$name-native" "${limit[@]}" "${all[@]}" -- \
            "$clgan" train --preset "$name" "${small[@]}" "${arch[@]}" --gemm native \
            --out "$tmp/runs/$name"
    done
    job train-keras-gan-clblast --check-api -- "$clgan" train --preset keras-gan "${small[@]}" \
        --batch 32 --gemm clblast --out "$tmp/runs/keras-gan-clblast"
    job evaluation "${all[@]}" -- "$clgan" train --iterations 1 --layers-g 8,8 \
        --layers-d 8,8 --batch 4 --eval-every 1 --eval-samples 8 --sample-every 0 \
        --gemm native --out "$tmp/runs/evaluation"
    /usr/bin/python3 - "$tmp/tiny/train-labels-idx1-ubyte" <<'EOF' || exit 1
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack(">II", 0x801, 64))
    f.write(bytes(i % 10 for i in range(64)))
EOF
    job classifier-step "${all[@]}" -- "$clgan" train-classifier --data "$tmp/tiny" --limit 8 \
        --epochs 1 --holdout 8 --gemm native --out "$tmp/classifier.safetensors"
    wait # sample reads the keras-gan run's checkpoint
    job sample "${all[@]}" -- "$clgan" sample \
        --checkpoint "$tmp/runs/keras-gan/generator.safetensors" --n 4 --out "$tmp/sample.png"
    ;;
*)
    echo "strict_oclgrind: unknown kind '$kind' (kernels or cli)"
    exit 2
    ;;
esac
wait

fail=0
for name in "${names[@]}"; do
    read -r rc secs < "$tmp/$name.rc" 2>/dev/null || { rc=missing; secs=?; }
    reports=$(cat "$tmp/$name.log" 2>/dev/null | grep -c .)
    if [ "$rc" = 0 ] && [ "$reports" = 0 ]; then
        printf 'ok   %-28s %4s s, no oclgrind report\n' "$name" "$secs"
        # the kernel tests print what they checked; keep their summaries in the log
        grep -E '^(device|  a launch|test_)' "$tmp/$name.out" | sed 's/^/       /'
    else
        printf 'FAIL %-28s %4s s, exit %s, %s line(s) of oclgrind reports\n' "$name" "$secs" \
            "$rc" "$reports"
        head -n 40 "$tmp/$name.log" | sed 's/^/    log: /'
        tail -n 20 "$tmp/$name.out" | sed 's/^/    out: /'
        fail=1
    fi
done
echo "strict_oclgrind $kind: $(oclgrind --version 2>&1 | grep -m1 -o 'Oclgrind [0-9.]*'), $jobs_max at a time"
exit $fail
