#!/usr/bin/env bash
# cli_diagnose.sh CLGAN TMPDIR - each config in samples/failures provokes its failure and
# the right detector fires (live, in diagnoses.json, and in `clgan diagnose`); the
# healthy config raises no warning; a diverging run stops at the first NaN/Inf with the
# last finite weights saved.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
check() { if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
py=/usr/bin/python3
root=$(cd "$(dirname "$0")/.." && pwd)

# fires RUN ID: diagnoses.json and `clgan diagnose --json` both name ID.
fires() {
  $py - "$tmp/$1/diagnoses.json" "$2" <<'PY' && "$clgan" diagnose --json "$tmp/$1" >"$tmp/$1.diag" &&
import json, sys
d = json.load(open(sys.argv[1])); ids = [x["id"] for x in d["diagnoses"]]
print("  %s: %s" % (sys.argv[1].split("/")[-2], ", ".join("%s(%s@%d)" % (x["id"], x["severity"], x["onset"]) for x in d["diagnoses"]) or "none"))
sys.exit(0 if sys.argv[2] in ids and not d["healthy"] else 1)
PY
  $py -c "import json,sys; d=json.load(open('$tmp/$1.diag')); sys.exit(0 if '$2' in [x['id'] for x in d['diagnoses']] else 1)"
}

for cfg in d-too-strong d-too-weak vanishing-gradients mode-collapse; do
  "$clgan" train --config "$root/samples/failures/$cfg.ini" --out "$tmp/$cfg" --sample-every 0 \
      >"$tmp/$cfg.log" 2>&1
  check "$cfg: run succeeds" test $? -eq 0
done
check "d-too-strong fires d_too_strong" fires d-too-strong d_too_strong
check "d-too-weak fires d_too_weak" fires d-too-weak d_too_weak
check "vanishing fires vanishing_gradients" fires vanishing-gradients vanishing_gradients
check "mode-collapse fires mode_collapse" fires mode-collapse mode_collapse
check "eval.jsonl written" test -s "$tmp/mode-collapse/eval.jsonl"
check "live warning printed" grep -q "warning at iteration .*D too strong" "$tmp/d-too-strong.log"

"$clgan" train --config "$root/samples/failures/exploding-gradients.ini" --out "$tmp/exploding" \
    --sample-every 0 >"$tmp/exploding.log" 2>&1
check "exploding: the run reports failure (exit 1)" test $? -eq 1
check "exploding fires exploding_gradients" fires exploding exploding_gradients
check "exploding: says it stopped and saved" grep -q "NaN/Inf at iteration .* saving the last finite weights" "$tmp/exploding.log"
check "exploding: outputs written" test -s "$tmp/exploding/generator_loss.npy" -a -s "$tmp/exploding/metrics.jsonl"
check "exploding: saved weights are finite" $py - "$tmp/exploding/generator.safetensors" <<'PY'
import sys, json, struct, numpy as np
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
w = np.frombuffer(b[8 + n:], dtype="<f4"); assert np.all(np.isfinite(w)), "non-finite weights"
PY

"$clgan" train --config "$root/samples/failures/healthy.ini" --out "$tmp/healthy" --sample-every 0 \
    >"$tmp/healthy.log" 2>&1
check "healthy: run succeeds" test $? -eq 0
check "healthy: no warning" $py - "$tmp/healthy/diagnoses.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [x["id"] for x in d["diagnoses"] if x["severity"] != "info"]
print("  healthy:", bad or "no warnings", "| info:", [x["id"] for x in d["diagnoses"] if x["severity"] == "info"])
sys.exit(1 if bad or not d["healthy"] else 0)
PY
check "healthy: no live warning" bash -c "! grep -q 'warning at iteration' '$tmp/healthy.log'"

# An interrupted run (metrics.jsonl.partial) reads the same.
mv "$tmp/d-too-strong/metrics.jsonl" "$tmp/d-too-strong/metrics.jsonl.partial"
check "diagnose reads an interrupted run" fires d-too-strong d_too_strong
check "diagnose text output" bash -c "'$clgan' diagnose '$tmp/d-too-strong' | grep -q 'D too strong'"
# A run killed outright (no arrays written, only the .partial records) still reads.
"$clgan" train --config "$root/samples/failures/d-too-strong.ini" --iterations 100000 \
    --out "$tmp/killed" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ "$(cat "$tmp/killed/metrics.jsonl.partial" 2>/dev/null | wc -l)" -ge 12 ] && break
  sleep 0.5
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "killed run has no arrays" test ! -e "$tmp/killed/discriminator_loss.npy"
check "diagnose reads a killed run" bash -c "'$clgan' diagnose --json '$tmp/killed' | $py -c \"import json,sys; d=json.load(sys.stdin); sys.exit(0 if 'd_too_strong' in [x['id'] for x in d['diagnoses']] else 1)\""
"$clgan" diagnose "$tmp/nowhere" >/dev/null 2>&1
check "diagnose of a missing run: exit 2" test $? -eq 2

echo "cli_diagnose: $passed passed, $fail failed"
[ $fail -eq 0 ]
