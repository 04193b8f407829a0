#!/usr/bin/env bash
# cli_rundir.sh CLGAN TMPDIR - a run directory belongs to one run: a second run into the
# same --out is refused, naming the one that holds it (both runs' records stay whole); a
# directory that holds a run is refused unless --resume or --overwrite; --overwrite
# removes the old run's files only once the new run can start (a new run that is refused
# in set-up leaves the old one untouched), keeps files clgan did not write, and refuses a
# directory that is not a clgan run.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp"
fail=0 passed=0
py=/usr/bin/python3
check() {
  if "${@:2}" >"$tmp/check.out" 2>&1; then passed=$((passed + 1)); else echo "FAIL: $1"; tail -5 "$tmp/check.out"; fail=$((fail + 1)); fi
}
expect2() { # expect2 NAME PATTERN COMMAND... : exit 2, one stderr line matching PATTERN
  timeout -k 5 60 "${@:3}" >"$tmp/out" 2>"$tmp/err"; rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qi -- "$2" "$tmp/err"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1 (exit $rc, $lines lines):"; cat "$tmp/err"; fail=$((fail + 1))
  fi
}
small=(--layers-g 32,64 --layers-d 64,32 --batch 16 --sample-every 20 --log-every 10 --eval-every 0)

# Two runs into one directory: the second is refused while the first holds it.
"$clgan" train "${small[@]}" --iterations 100000 --seed 1 --out "$tmp/shared" >"$tmp/first.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ -s "$tmp/shared/metrics.jsonl.partial" ] && break; sleep 0.05; done
expect2 "a second run into the same --out" "in use by another clgan run (pid $pid" \
  "$clgan" train "${small[@]}" --iterations 50 --seed 2 --out "$tmp/shared"
expect2 "a resume of a run that is still running" "in use by another clgan run (pid $pid" \
  "$clgan" train --resume "$tmp/shared" --iterations 200000
kill -INT $pid
wait $pid
check "the first run's records are its own (one seed, iterations in order)" $py - "$tmp/shared" <<'PY'
import json, sys
d = sys.argv[1]
its = [json.loads(l)['iteration'] for l in open(d + '/metrics.jsonl')]
assert its == sorted(set(its)) and its[0] == 10, its[:5]
assert 'seed = 1' in open(d + '/config.ini').read()
PY
check "the lock is gone when the run ends" test ! -e "$tmp/shared/.clgan.lock"

# A directory that holds a run: refused unless --resume or --overwrite.
"$clgan" train "${small[@]}" --iterations 40 --seed 1 --out "$tmp/old" >/dev/null 2>&1
ls -R "$tmp/old" >"$tmp/old.before"
expect2 "reusing a run directory" "already holds a run.*--resume.*--overwrite" \
  "$clgan" train "${small[@]}" --iterations 40 --seed 2 --out "$tmp/old"
mkdir -p "$tmp/notes" && echo "mine" >"$tmp/notes/notes.txt"
expect2 "a non-empty directory that is not a run" "is not empty" \
  "$clgan" train "${small[@]}" --iterations 40 --out "$tmp/notes"
expect2 "--overwrite of a directory that is not a run" "not a clgan run directory" \
  "$clgan" train "${small[@]}" --iterations 40 --out "$tmp/notes" --overwrite
check "... which keeps its files" test -s "$tmp/notes/notes.txt"
# A new run refused in set-up (bad data) leaves the old run whole.
expect2 "--overwrite that cannot start" "no train-images" \
  "$clgan" train "${small[@]}" --iterations 40 --seed 2 --out "$tmp/old" --overwrite --data "$tmp/nowhere"
ls -R "$tmp/old" >"$tmp/old.after"
check "the old run is untouched" cmp "$tmp/old.before" "$tmp/old.after"
# Now one that can: the old run's files go, files clgan did not write stay.
echo "keep me" >"$tmp/old/my-notes.txt"
printf '<html>old</html>' >"$tmp/old/report.html"
"$clgan" train "${small[@]}" --iterations 30 --seed 2 --out "$tmp/old" --overwrite >"$tmp/ow.log" 2>&1
check "--overwrite replaces the run (status $?)" test $? -eq 0
check "the old run's grids are gone (40.png)" test ! -e "$tmp/old/images/40.png"
check "the old run's report is gone" test ! -e "$tmp/old/report.html"
check "the new run's files are there" test -s "$tmp/old/images/30.png"
check "config.ini is the new run's" grep -q "seed = 2" "$tmp/old/config.ini"
check "files clgan did not write stay" test -s "$tmp/old/my-notes.txt"
check "and the run says it kept them" grep -q "kept 1 entry clgan did not write" "$tmp/ow.log"
check "the new run's records are its own" $py -c "
import json; its = [json.loads(l)['iteration'] for l in open('$tmp/old/metrics.jsonl')]
assert its == [10, 20, 30], its"
expect2 "--resume with --overwrite" "choose one" "$clgan" train --resume "$tmp/old" --overwrite

echo "cli_rundir: $passed passed, $fail failed"
[ $fail -eq 0 ]
