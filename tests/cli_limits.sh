#!/usr/bin/env bash
# cli_limits.sh CLGAN TMPDIR - bounded memory and interruptible set-up: a run that cannot
# fit the device or the host is refused before anything is allocated, with the numbers;
# so is a checkpoint whose metadata asks for more than its file holds; a device
# allocation failure names the buffer, its size and the device's limits (through a
# test shim that makes the driver refuse); Ctrl-C and SIGTERM during set-up (a cold
# kernel build, a large network's initialization) end the process at once with no run
# directory and no temp file.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" # anything a failing case writes lands here
fail=0 passed=0
py=/usr/bin/python3
T=20
expect2() { # expect2 NAME PATTERN COMMAND... : exit 2 within $T s, one stderr line matching PATTERN
  timeout -k 5 $T "${@:3}" >"$tmp/out" 2>"$tmp/err"; rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qi -- "$2" "$tmp/err"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1 (exit $rc, $lines lines):"; cat "$tmp/err"; fail=$((fail + 1))
  fi
}
check() {
  if "${@:2}" >"$tmp/check.out" 2>&1; then passed=$((passed + 1)); else echo "FAIL: $1"; tail -3 "$tmp/check.out"; fail=$((fail + 1)); fi
}

# ---- memory bounds, before anything is allocated ----------------------------------------
expect2 "layers too wide for the device" "CL_DEVICE_\|host memory" \
  "$clgan" train --layers-g 30000,30000,30000 --iterations 2 --out "$tmp/w1"
grep -q "GiB" "$tmp/err"; check "the refusal has the numbers" test $? -eq 0
check "and a suggestion" grep -q "smaller --batch" "$tmp/err"
check "and leaves no run directory" test ! -e "$tmp/w1"
mkdir -p "$tmp/big"
$py -c "
import struct
open('$tmp/big/train-images-idx3-ubyte', 'wb').write(struct.pack('>IIII', 0x803, 2, 3000, 3000) + bytes(2 * 3000 * 3000))"
expect2 "2 images of 3000x3000 with the default networks" "needs one buffer of" \
  "$clgan" train --data "$tmp/big" --batch 2 --iterations 2 --out "$tmp/w2"
mkdir -p "$tmp/huge"
$py -c "
import struct
open('$tmp/huge/train-images-idx3-ubyte', 'wb').write(struct.pack('>IIII', 0x803, 0xffffffff, 4096, 4096) + bytes(64))"
expect2 "a header declaring 64 PiB of images" "more than the .* bytes of memory available" \
  "$clgan" train --data "$tmp/huge" --out "$tmp/w3"

# A 2 KB checkpoint whose metadata asks for 20000-wide layers: refused before G is built.
timeout 300 "$clgan" train --iterations 2 --batch 8 --sample-every 0 --eval-every 0 --out "$tmp/small" >/dev/null 2>&1
$py - "$tmp/small/generator.safetensors" "$tmp/wide.safetensors" <<'PY'
import sys, json, struct
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); meta = h['__metadata__']
meta['config'] = meta['config'].replace('layers = 256,512,1024', 'layers = 20000,20000,20000', 1)
t = {'dense0.kernel': {'dtype': 'F32', 'shape': [1, 2], 'data_offsets': [0, 8]}, '__metadata__': meta}
j = json.dumps(t).encode(); j += b' ' * (-len(j) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(j)) + j + bytes(8))
PY
check "the crafted checkpoint is small" test "$(stat -c %s "$tmp/wide.safetensors")" -lt 4096
start=$(date +%s.%N)
expect2 "checkpoint metadata checked before building" "dense0.kernel is \[1, 2\], its configuration needs \[100, 20000\]" \
  "$clgan" sample --checkpoint "$tmp/wide.safetensors" --out "$tmp/wide.png"
check "within 5 s" $py -c "import sys; sys.exit(not $(date +%s.%N) - $start < 5)"

# ---- a device allocation failure names the buffer, its size and the device's limits ------
if [ -n "${CLGAN_TEST_FAILALLOC:-}" ]; then
  base=(train --iterations 2 --batch 8 --sample-every 0 --eval-every 0)
  LD_PRELOAD=$CLGAN_TEST_FAILALLOC FAILALLOC_CREATE=4000000 timeout 120 "$clgan" "${base[@]}" \
    --out "$tmp/f1" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "create failure: exit 1 (got $rc)" test $rc -eq 1
  check "create failure names the buffer, size and limits ($(cat "$tmp/err"))" \
    grep -q "allocating parameters ([0-9]* bytes = [0-9.]* MiB; the .* has [0-9]* MiB in all, at most [0-9]* MiB per buffer).*CL_MEM_OBJECT_ALLOCATION_FAILURE" "$tmp/err"
  LD_PRELOAD=$CLGAN_TEST_FAILALLOC FAILALLOC_FILL=4000000 timeout 120 "$clgan" "${base[@]}" \
    --out "$tmp/f2" >"$tmp/out" 2>"$tmp/err"
  check "a failure at first use names the buffer too ($(cat "$tmp/err"))" \
    grep -q "allocating parameters (.*MiB per buffer).*CL_OUT_OF_RESOURCES" "$tmp/err"
  check "no run directory after an allocation failure" test ! -e "$tmp/f1" -a ! -e "$tmp/f2"
else
  echo "skipped: allocation failures (CLGAN_TEST_FAILALLOC not set)"
fi

# ---- Ctrl-C / SIGTERM during set-up -------------------------------------------------------
# interrupt NAME SIGNAL DELAY ARGS...: starts a run, signals it after DELAY s, expects it to
# end by that signal within 5 s, with no run directory and no temp file anywhere.
interrupt() {
  local name=$1 sig=$2 delay=$3
  shift 3
  "$clgan" train --iterations 100000 --out "$tmp/int-$name" "$@" >"$tmp/int.log" 2>&1 &
  local pid=$! t0 t1 rc
  sleep "$delay"
  if grep -q 'first iteration' "$tmp/int.log"; then # a fast machine: set-up already over
    kill -9 $pid; wait $pid 2>/dev/null; rm -rf "$tmp/int-$name"
    echo "skipped: $name (set-up was over after $delay s)"
    return
  fi
  t0=$(date +%s.%N)
  kill -"$sig" $pid
  for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  t1=$(date +%s.%N)
  kill -0 $pid 2>/dev/null && kill -9 $pid
  wait $pid; rc=$?
  check "$name: ends by SIG$sig (status $rc)" test $rc -eq $((128 + $(kill -l "$sig")))
  check "$name: within 5 s" $py -c "import sys; sys.exit(not $t1 - $t0 < 5)"
  check "$name: no run directory" test ! -e "$tmp/int-$name"
  check "$name: no temp files" test -z "$(find "$tmp" -name '*.tmp.*')"
}
# A cold kernel cache (clgan's and PoCL's): the kernel build takes seconds.
XDG_CACHE_HOME=$tmp/cold1 POCL_CACHE_DIR=$tmp/pcold1 interrupt kernel-build INT 1.5
XDG_CACHE_HOME=$tmp/cold2 POCL_CACHE_DIR=$tmp/pcold2 interrupt kernel-build-term TERM 1.5
# A large G (8000-wide layers, 64M weights) takes seconds to initialize and upload.
interrupt network-init TERM 3 --layers-g 8000,8000 --eval-every 0

echo "cli_limits: $passed passed, $fail failed"
[ $fail -eq 0 ]
