#!/usr/bin/env bash
# cli_diagnose.sh CLGAN TMPDIR - the fast part of the provocation suite (tools/provoke.py
# --fast): one short run per failure class from the tuning half and a healthy run; every
# failure the label rules see must be named, the healthy run must raise no alarm, the live
# diagnoses.json must equal `clgan diagnose --json`, and a run that hit NaN/Inf exits 1.
# Then: live warnings are printed, a run reads back from metrics.jsonl.partial and from a
# killed run's records, and a missing run is exit 2.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
check() { if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
py=/usr/bin/python3
root=$(cd "$(dirname "$0")/.." && pwd)

check "provoke --fast: every failure named, no false alarm, live == diagnose" \
    $py "$root/tools/provoke.py" --fast --clgan "$clgan" --out "$tmp" --json "$tmp/fast.json"

# ids RUN: the alarm ids `clgan diagnose --json RUN` names, sorted, comma-separated.
ids() {
  "$clgan" diagnose --json "$1" | $py -c "import json,sys; d=json.load(sys.stdin); \
print(','.join(sorted(x['id'] for x in d['diagnoses'] if x['severity'] != 'info')))"
}
strong=$tmp/d_too_strong.sgd-g.s1
check "live warning printed with its onset" grep -q "warning at iteration .*D too strong since" "$strong.log"
check "summary lists the event and its span" grep -q "D too strong, iterations [0-9]*-[0-9]*" "$strong.log"
check "NaN run: says it stopped and saved" \
    grep -q "NaN/Inf at iteration .* saving the last finite weights" "$tmp/exploding.sgd-lsgan-overshoot.s1.log"
check "NaN run: saved weights are finite" $py - "$tmp/exploding.sgd-lsgan-overshoot.s1/generator.safetensors" <<'PY'
import sys, struct, numpy as np
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
w = np.frombuffer(b[8 + n:], dtype="<f4"); assert np.all(np.isfinite(w)), "non-finite weights"
PY
check "dead run named from its records (300 iterations, no evaluation)" \
    test "$(ids "$tmp/dead.short-no-eval.s1")" != ""

# An interrupted run (metrics.jsonl.partial) reads the same.
want=$(ids "$strong")
mv "$strong/metrics.jsonl" "$strong/metrics.jsonl.partial"
check "diagnose reads an interrupted run" test "$(ids "$strong")" = "$want"
check "diagnose text output" bash -c "'$clgan' diagnose '$strong' | grep -q 'D too strong'"
# A run killed outright (no arrays written, only the .partial records) still reads.
"$clgan" train --optimizer-g sgd --lr-g 0.001 --iterations 100000 --eval-every 0 \
    --out "$tmp/killed" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  [ "$(cat "$tmp/killed/metrics.jsonl.partial" 2>/dev/null | wc -l)" -ge 8 ] && break
  sleep 0.5
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "killed run has no arrays" test ! -e "$tmp/killed/discriminator_loss.npy"
check "diagnose reads a killed run" bash -c "[ \"\$(
  '$clgan' diagnose --json '$tmp/killed' | $py -c \"import json,sys; d=json.load(sys.stdin); \
print('d_too_strong' in [x['id'] for x in d['diagnoses']])\")\" = True ]"
"$clgan" diagnose "$tmp/nowhere" >/dev/null 2>&1
check "diagnose of a missing run: exit 2" test $? -eq 2

echo "cli_diagnose: $passed passed, $fail failed"
[ $fail -eq 0 ]
