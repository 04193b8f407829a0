#!/usr/bin/env bash
# cli_resume.sh CLGAN TMPDIR - resumed = uninterrupted. A run of N iterations in one go
# and the same run continued with --resume (after it finished early, after Ctrl-C, after
# SIGTERM, and after SIGKILL at random moments, several times in a row) leave the same
# run directory: every file byte-identical (loss arrays, records, evaluations, grids,
# GIF, weights, diagnoses), except metrics.jsonl's it_per_s (wall-clock) and, inside the
# checkpoints, the copy of those records. Checkpoints are always readable and never go
# backwards. Also: the random streams (dropout masks, label flips, instance noise,
# several D steps, WGAN-GP interpolates) and every optimizer's state continue exactly.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp"
fail=0 passed=0
py=/usr/bin/python3
check() {
  if "${@:2}" >"$tmp/check.out" 2>&1; then passed=$((passed + 1)); else echo "FAIL: $1"; tail -5 "$tmp/check.out"; fail=$((fail + 1)); fi
}
cat >"$tmp/same.py" <<'PY'
# same.py A B: the two run directories hold the same files with the same bytes, but for
# metrics.jsonl's it_per_s and the records' text inside the checkpoints.
import json, os, struct, sys
a, b = sys.argv[1], sys.argv[2]
def files(d):
    out = set()
    for root, _, names in os.walk(d):
        for n in names:
            if n != '.clgan.lock':
                out.add(os.path.relpath(os.path.join(root, n), d))
    return out
def records(p):
    rows = [json.loads(l) for l in open(p)]
    for r in rows:
        r.pop('it_per_s', None)
    return rows
def ckpt(p):
    raw = open(p, 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]
    h = json.loads(raw[8:8 + n]); meta = h.pop('__metadata__')
    meta.pop('run.metrics')
    return h, meta, raw[8 + n:]
fa, fb = files(a), files(b)
# Which older checkpoints exist depends on where the runs stopped (keep-checkpoints keeps
# the newest K of those written): the newest must be in both, older ones are compared
# when both have them.
newest = lambda fs: max((f for f in fs if f.startswith('checkpoints/')),
                        key=lambda f: int(f[17:-12]), default=None)
only = {f for f in fa ^ fb if not f.startswith('checkpoints/')}
bad = [f'only in one: {sorted(only)}'] if only else []
if newest(fa) != newest(fb):
    bad.append(f'newest checkpoints differ: {newest(fa)}, {newest(fb)}')
for f in sorted(fa & fb):
    pa, pb = os.path.join(a, f), os.path.join(b, f)
    if f == 'metrics.jsonl':
        same = records(pa) == records(pb)
    elif f.startswith('checkpoints/'):
        same = ckpt(pa) == ckpt(pb)
    else:
        same = open(pa, 'rb').read() == open(pb, 'rb').read()
    if not same:
        bad.append(f)
print(f'{len(fa & fb)} files compared; differing: {bad}')
sys.exit(1 if bad else 0)
PY
# readable.py DIR: every checkpoint parses (header, shapes inside the file); prints the newest.
cat >"$tmp/readable.py" <<'PY'
import json, os, struct, sys
d = os.path.join(sys.argv[1], 'checkpoints'); its = []
for n in os.listdir(d) if os.path.isdir(d) else []:
    if not n.endswith('.safetensors'):
        continue
    raw = open(os.path.join(d, n), 'rb').read(); k = struct.unpack('<Q', raw[:8])[0]
    h = json.loads(raw[8:8 + k]); meta = h.pop('__metadata__')
    for name, t in h.items():
        s, e = t['data_offsets']; count = 1
        for x in t['shape']: count *= x
        assert e - s == 4 * count and 8 + k + e <= len(raw), (n, name)
    assert meta['format'] == 'clgan-checkpoint-1' and n == 'ckpt-%s.safetensors' % meta['iteration']
    its.append(int(meta['iteration']))
print(max(its) if its else -1)
PY

net=(--layers-g 64,128 --layers-d 128,64 --batch 16 --seed 5 --sample-every 40 --log-every 10
     --monitor-every 10 --eval-every 100 --eval-samples 200 --checkpoint-every 20)
N=300
train() { "$clgan" train "${net[@]}" "$@" >"$tmp/log" 2>&1; }
check "reference: $N iterations in one go" train --iterations $N --out "$tmp/ref"

# A finished run extended: 130, then --resume to N.
check "130 iterations" train --iterations 130 --out "$tmp/ext"
check "resume to $N" "$clgan" train --resume "$tmp/ext" --iterations $N
check "extended run = uninterrupted run" $py "$tmp/same.py" "$tmp/ref" "$tmp/ext"
check "the run's it_per_s values are real numbers" grep -q '"it_per_s": [0-9]' "$tmp/ext/metrics.jsonl"

# Ctrl-C and SIGTERM: a checkpoint at the iteration it stopped, and how to resume.
for sig in INT TERM; do
  d=$tmp/sig$sig
  "$clgan" train "${net[@]}" --iterations $N --out "$d" >"$tmp/sig.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do [ -s "$d/metrics.jsonl.partial" ] && break; sleep 0.05; done
  kill -$sig $pid
  wait $pid; rc=$?
  check "SIG$sig: ends by the signal (status $rc)" test $rc -eq $((128 + $(kill -l $sig)))
  at=$(sed -n 's/.*stopped at iteration \([0-9]*\).*/\1/p' "$tmp/sig.log")
  check "SIG$sig: says where it stopped ($at)" test -n "$at"
  check "SIG$sig: says how to resume" grep -q "clgan train --resume $d" "$tmp/sig.log"
  check "SIG$sig: a checkpoint at iteration $at" test -s "$d/checkpoints/ckpt-$at.safetensors"
  check "SIG$sig: resume" "$clgan" train --resume "$d"
  check "SIG$sig: stopped and resumed = uninterrupted" $py "$tmp/same.py" "$tmp/ref" "$d"
done

# SIGKILL at random moments, five times in a row, resuming each time.
d=$tmp/killed
RANDOM=7
last=-1 kills=0
for round in 1 2 3 4 5; do
  if [ -d "$d/checkpoints" ]; then cmd=(train --resume "$d"); else cmd=(train "${net[@]}" --iterations $N --out "$d" --overwrite); fi
  "$clgan" "${cmd[@]}" >"$tmp/kill.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((RANDOM % 3)) $((RANDOM % 1000)))"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
  newest=$($py "$tmp/readable.py" "$d" 2>"$tmp/readable.err") || newest=unreadable
  check "SIGKILL round $round: every checkpoint readable (newest $newest)" test "$newest" != unreadable
  check "SIGKILL round $round: no checkpoint lost (newest $newest >= $last)" test "$newest" -ge "$last"
  last=$newest
done
echo "  $kills of 5 rounds killed a running process; newest checkpoint then $last"
if [ -d "$d/checkpoints" ]; then
  check "resume after the kills" "$clgan" train --resume "$d"
else
  check "start again after the kills" train --iterations $N --out "$d" --overwrite
fi
check "killed five times and resumed = uninterrupted" $py "$tmp/same.py" "$tmp/ref" "$d"

# Every random stream and every optimizer's state: 60 + 60 = 120 in one go.
mixes=("--dropout-d 0.3 --label-flip 0.1 --instance-noise 0.2 --steps-d 2 --optimizer-d sgd --momentum-d 0.9 --nesterov-d on"
       "--preset wgan-gp --layers-d 128,64"
       "--preset wgan --layers-d 128,64 --batchnorm-g off --residual-g on")
for k in 0 1 2; do
  m=${mixes[$k]}
  small=(--layers-g 32,64 --layers-d 64,32 --batch 16 --seed 9 --sample-every 30 --log-every 10
         --monitor-every 10 --eval-every 0 --checkpoint-every 1000)
  "$clgan" train "${small[@]}" $m --iterations 120 --out "$tmp/mix$k-ref" >"$tmp/log" 2>&1
  "$clgan" train "${small[@]}" $m --iterations 60 --out "$tmp/mix$k" >"$tmp/log" 2>&1
  check "[$m] resumes" "$clgan" train --resume "$tmp/mix$k" --iterations 120
  check "[$m] 60 + 60 = 120" $py "$tmp/same.py" "$tmp/mix$k-ref" "$tmp/mix$k"
done

# What a resume refuses: other settings, other data, a run with no checkpoint.
check "--lr cannot change" bash -c "! '$clgan' train --resume '$tmp/ext' --iterations 400 --lr 1e-3 2>'$tmp/err'"
check "... and it says why" grep -q "lr-g cannot change when resuming" "$tmp/err"
check "--iterations at or below the checkpoint" bash -c "! '$clgan' train --resume '$tmp/ext' --iterations 200 2>'$tmp/err' && grep -q 'at iteration $N already' '$tmp/err'"
$py - "$tmp/ext/checkpoints" <<'PY'
import os, sys
d = sys.argv[1]  # make the run's newest checkpoint claim other data
p = os.path.join(d, sorted(os.listdir(d), key=lambda n: int(n[5:-12]))[-1])
b = bytearray(open(p, 'rb').read()); i = b.find(b'"data.fnv1a":"') + 14
b[i:i + 4] = b'dead'; open(p, 'wb').write(b)
PY
check "other data is refused" bash -c "! '$clgan' train --resume '$tmp/ext' --iterations 400 2>'$tmp/err' && grep -q 'is not the one this run trained on' '$tmp/err'"
mkdir -p "$tmp/nockpt" && printf '# clgan run configuration\n' >"$tmp/nockpt/config.ini"
check "a run without checkpoints" bash -c "! '$clgan' train --resume '$tmp/nockpt' 2>'$tmp/err' && grep -q 'no checkpoint to continue from' '$tmp/err'"

echo "cli_resume: $passed passed, $fail failed"
[ $fail -eq 0 ]
