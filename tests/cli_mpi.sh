#!/usr/bin/env bash
# cli_mpi.sh CLGAN TMPDIR - data-parallel training over MPI (docs/mpi.md): `mpirun -np 2
# clgan train` on the CPU device with per-rank batch B and --sync-bn on gives the losses,
# D's outputs and accuracies (.npy), and every weight and BatchNorm running statistic of
# G and D (the last checkpoint) of one rank with batch 2B, within 1e-4 (1 + |x|), for
# the Keras-GAN MLP, WGAN-GP with instance noise, label flips and dropout with two D
# steps, and a small conv recipe; without --sync-bn they differ (the check can fail); rank 1 writes
# nothing (the run directory holds what a one-rank run's holds); a rank that fails ends
# the job with a one-line message naming it, not a hang. Exit 77 (ctest: skipped) when
# mpirun is absent or clgan was built without MPI.
set -u
clgan=$1 tmp=$2
py=/usr/bin/python3
rm -rf "$tmp" && mkdir -p "$tmp"
if ! command -v mpirun >/dev/null; then
  echo "cli_mpi: SKIPPED: no mpirun (tools/install-deps.sh installs openmpi-bin)"
  exit 77
fi
if ! "$clgan" --version 2>&1 | grep -q "^MPI: built"; then
  echo "cli_mpi: SKIPPED: this clgan was built without MPI (libopenmpi-dev)"
  exit 77
fi
# Containers often forbid the cross-memory attach Open MPI's shared-memory transport tries
# first (ptrace scope): copy through the shared segment instead.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
fail=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
# Under tools/sanitize.sh the ranks keep ASan's checks but not its leak report: Open MPI's
# components (dlopen'ed, unloaded by MPI_Finalize) keep memory that LeakSanitizer cannot
# attribute to any module, so no suppression can name it. The one-rank runs keep it.
rank_asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:detect_leaks=0}
mpi() { ASAN_OPTIONS=$rank_asan timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "$@"; }
base=(train --iterations 10 --sample-every 0 --eval-every 0 --log-every 1 --seed 5
      --gemm native --device cpu --checkpoint-every 10)

# compare DIR_ONE DIR_TWO TOL: prints the largest differences; exit 3 above TOL (1 + |x|).
cat >"$tmp/compare.py" <<'PY'
import json, os, struct, sys
import numpy as np
def tensors(run):
    d = os.path.join(run, "checkpoints")
    b = open(os.path.join(d, sorted(os.listdir(d))[-1]), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                             dtype=np.float32)
            for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32"
            and v["data_offsets"][1] > v["data_offsets"][0] and "/adam" not in k and "/rms" not in k and "/mom" not in k}
one, two, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
worst = {}
for f in ["discriminator_loss", "generator_loss", "discriminator_accuracy", "d_real", "d_fake"]:
    a, b = np.load(f"{one}/{f}.npy"), np.load(f"{two}/{f}.npy")
    worst[f] = float(np.max(np.abs(a - b) / (1 + np.abs(a))))
ta, tb = tensors(one), tensors(two)
assert ta.keys() == tb.keys() and len(ta) > 0, "checkpoints hold different tensors"
worst["weights"] = max(float(np.max(np.abs(ta[k] - tb[k]) / (1 + np.abs(ta[k])))) for k in ta)
print("  largest |1 rank - 2 ranks| / (1 + |x|): " +
      ", ".join(f"{k} {v:.2g}" for k, v in worst.items()))
sys.exit(0 if max(worst.values()) <= tol else 3)
PY

# same NAME B ARGS...: one rank at 2B against two ranks at B with --sync-bn on.
same() {
  local name=$1 b=$2
  shift 2
  "$clgan" "${base[@]}" "$@" --batch $((2 * b)) --out "$tmp/$name-1" >"$tmp/$name-1.log" 2>&1 &&
    mpi "$clgan" "${base[@]}" "$@" --batch "$b" --sync-bn on --out "$tmp/$name-2" \
      >"$tmp/$name-2.log" 2>&1 &&
    "$py" "$tmp/compare.py" "$tmp/$name-1" "$tmp/$name-2" 1e-4
}
check "Keras-GAN MLP: 2 ranks x 16 = 1 rank x 32" same mlp 16
grep "ranks, global batch" "$tmp/mlp-2.log"
check "rank 0's banner lists both ranks' devices" grep -q "rank 1 of 2: device" "$tmp/mlp-2.log"
check "the run directory holds what a one-rank run's holds (rank 1 writes nothing)" \
  diff <(cd "$tmp/mlp-1" && find . | sort) <(cd "$tmp/mlp-2" && find . | sort)
check "WGAN-GP + instance noise: 2 x 8 = 1 x 16" same wgangp 8 --preset wgan-gp --instance-noise 0.2
check "label flips, instance noise, dropout, 2 D steps: 2 x 8 = 1 x 16" same flip 8 \
  --label-flip 0.2 --instance-noise 0.1 --dropout-d 0.3 --steps-d 2
check "conv recipe (BatchNorm over images): 2 x 8 = 1 x 16" same conv 8 --image-size 8 \
  --arch-g "dense 128, reshape 4x4x8, bn, relu, up 2, conv c k3 same, tanh" \
  --arch-d "conv 8 k3 s2 same, lrelu, flatten, dense 1"

# Per-rank BatchNorm is a different computation: the comparison must see it.
mpi "$clgan" "${base[@]}" --batch 16 --out "$tmp/perrank" >"$tmp/perrank.log" 2>&1
check "without --sync-bn the runs differ (the comparison can fail)" \
  bash -c "'$py' '$tmp/compare.py' '$tmp/mlp-1' '$tmp/perrank' 1e-4; test \$? -eq 3"

# A rank that fails ends the job (MPMD: rank 1 gets a device that does not exist).
t0=$(date +%s)
ASAN_OPTIONS=$rank_asan timeout 120 mpirun --allow-run-as-root --oversubscribe -np 1 "$clgan" "${base[@]}" --batch 8 \
  --out "$tmp/dies" : -np 1 "$clgan" "${base[@]}" --batch 8 --device no-such-device \
  >"$tmp/dies.log" 2>&1
rc=$? t1=$(date +%s)
check "a failing rank ends the job (exit $rc after $((t1 - t0)) s, not the timeout)" \
  test "$rc" -ne 0 -a "$rc" -ne 124
check "its one-line message names the rank" grep -q "clgan train: rank 1 of 2: .*no-such-device" \
  "$tmp/dies.log"
if [ "$fail" -ne 0 ]; then
  echo "cli_mpi: FAILED (logs in $tmp)"
  exit 1
fi
echo "cli_mpi: all passed"
