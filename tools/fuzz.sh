#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS] - builds the libFuzzer harnesses with clang (build-fuzz/,
# -DCLGAN_FUZZ=ON; ASan + UBSan + leak checks) and runs each for SECONDS (default 30),
# as many at once as there are cores, from its seeds in tests/fuzz/<name>/ (IDX and gzip,
# NPY, PNG, INI, safetensors, the run-directory records). New inputs go to
# build-fuzz/corpus/<name>/, a crash to build-fuzz/crash-<name>-*: copy it into
# tests/fuzz/<name>/ (every build replays that directory: tests/fuzz/replay.c), then fix.
# Prints each harness's executions; exits 1 on any crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
names=(idx npy png ini safetensors records)
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLGAN_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${names[@]/#/fuzz_}"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TMPDIR=$PWD/build-fuzz
run() {
  mkdir -p "build-fuzz/corpus/$1"
  build-fuzz/fuzz_"$1" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crash-$1-" "build-fuzz/corpus/$1" "tests/fuzz/$1" \
    >"build-fuzz/fuzz-$1.log" 2>&1
}
pids=() jobs=$(nproc)
for f in "${names[@]}"; do
  run "$f" & pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
done
fail=0
for i in "${!names[@]}"; do
  f=${names[$i]}
  if wait "${pids[$i]}"; then
    echo "fuzz $f: $(grep -o 'number_of_executed_units: [0-9]*' "build-fuzz/fuzz-$f.log" | grep -o '[0-9]*') executions in ${secs} s, no crash"
  else
    echo "fuzz $f: FAILED (build-fuzz/fuzz-$f.log):"; grep -A12 -m1 'ERROR\|SUMMARY\|runtime error' "build-fuzz/fuzz-$f.log"
    fail=1
  fi
done
exit $fail
