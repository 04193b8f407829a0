#!/usr/bin/env bash
# cli_inputs.sh CLGAN TMPDIR - inputs that cannot hang or mislead: a FIFO, a device or a
# directory where clgan expects a file (config, data, checkpoint, classifier, the kernel
# cache) is refused at once, naming what it is; config files with long lines, indented
# lines, NUL bytes; what clgan writes it reads back (a long --data path); messages that
# used to point the wrong way; a checkpoint with NaN weights. Every command runs under
# `timeout`, so a hang is a failure, not a stuck suite.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
py=/usr/bin/python3
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$tmp" # anything a failing case writes by a relative name lands here
T=20 # seconds any refusal may take
expect2() { # expect2 NAME PATTERN COMMAND... : exit 2 within $T s, one stderr line matching PATTERN
  timeout -k 5 $T "${@:3}" >"$tmp/out" 2>"$tmp/err"; rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qi -- "$2" "$tmp/err"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1 (exit $rc, $lines lines):"; cat "$tmp/err"; fail=$((fail + 1))
  fi
}
check() { # check NAME COMMAND... : the command succeeds (its output is shown only on failure)
  if "${@:2}" >"$tmp/check.out" 2>&1; then passed=$((passed + 1)); else echo "FAIL: $1"; tail -3 "$tmp/check.out"; fail=$((fail + 1)); fi
}
small=(--iterations 2 --batch 8 --sample-every 0 --log-every 1 --eval-every 0)

# ---- a FIFO, a device or a directory instead of a file --------------------------------
mkfifo "$tmp/fifo"
mkdir -p "$tmp/fifodata" "$tmp/dirconf"
mkfifo "$tmp/fifodata/train-images-idx3-ubyte"
expect2 "--config FIFO" "FIFO" "$clgan" train --config "$tmp/fifo"
expect2 "--config /dev/zero" "character device" "$clgan" train --config /dev/zero
expect2 "--config DIR" "directory" "$clgan" train --config "$tmp/dirconf"
expect2 "--data with a FIFO" "FIFO" "$clgan" train --data "$tmp/fifodata" --out "$tmp/r1"
expect2 "sample --checkpoint FIFO" "FIFO" "$clgan" sample --checkpoint "$tmp/fifo" --out "$tmp/s.png"
expect2 "--classifier FIFO" "FIFO" "$clgan" train --classifier "$tmp/fifo" --out "$tmp/r2"
check "no run directory from refused inputs" test ! -e "$tmp/r1" -a ! -e "$tmp/r2"

# A FIFO in the kernel cache (and as the GEMM choice) is a cache miss, not a hang.
export XDG_CACHE_HOME=$tmp/kcache
timeout 300 "$clgan" train "${small[@]}" --out "$tmp/k1" >/dev/null 2>&1
for f in "$tmp"/kcache/clgan/kernels-*.bin "$tmp"/kcache/clgan/*.gemm; do
  [ -e "$f" ] && rm -f "$f" && mkfifo "$f"
done
check "kernel cache entries replaced by FIFOs" test -p "$(ls "$tmp"/kcache/clgan/kernels-*.bin | head -1)"
check "a FIFO in the kernel cache does not hang a start" timeout -k 5 120 "$clgan" train "${small[@]}" --out "$tmp/k2"
unset XDG_CACHE_HOME
mkdir -p "$tmp/frun" && mkfifo "$tmp/frun/metrics.jsonl" "$tmp/frun/discriminator_loss.npy"
printf '[train]\nloss = bce\n' >"$tmp/frun/config.ini"
timeout -k 5 $T "$clgan" diagnose "$tmp/frun" >/dev/null 2>&1
check "diagnose does not hang on FIFO records" test $? -ne 124

# ---- config files ---------------------------------------------------------------------
printf '[train]\nout = %s/o\n  seed = 7\n' "$tmp" >"$tmp/indent.ini"
expect2 "indented line refused with file:line" "indent.ini:3: an indented line" "$clgan" train --config "$tmp/indent.ini"
check "the indented line made no run directory" test ! -e "$tmp/o" -a ! -e "$tmp/seed = 7"
printf '[train]\nbatch = 16\000junk\nseed = 3\n' >"$tmp/nul.ini"
expect2 "NUL byte refused with file:line" "nul.ini:2: a NUL byte" "$clgan" train --config "$tmp/nul.ini"
expect2 "a value config.ini cannot keep" "control character" "$clgan" train --iterations 1 --out "$tmp/$(printf 'a\tb')"

# A long --data path (over inih's old 200-byte lines) round-trips through config.ini and
# the checkpoint's metadata: train --config, sample, diagnose and report read it back.
deep=$tmp
while [ ${#deep} -lt 330 ]; do deep=$deep/a_rather_long_directory_name_for_data; done
mkdir -p "$deep" && cp "$src"/samples/data/train-*-ubyte.gz "$deep/"
check "train with a ${#deep}-character --data path" timeout 300 "$clgan" train "${small[@]}" --data "$deep" --out "$tmp/long" >/dev/null 2>&1
check "config.ini keeps the whole path" grep -qF "data = $deep" "$tmp/long/config.ini"
check "train --config reads it back" timeout 300 "$clgan" train --config "$tmp/long/config.ini" --out "$tmp/long2" >/dev/null 2>&1
check "and trains the same run" cmp "$tmp/long/generator_loss.npy" "$tmp/long2/generator_loss.npy"
check "sample reads the checkpoint" timeout 120 "$clgan" sample --checkpoint "$tmp/long/generator.safetensors" --n 4 --out "$tmp/long.png"
check "diagnose reads the run" timeout 60 "$clgan" diagnose "$tmp/long"
check "report reads the run" timeout 60 "$clgan" report "$tmp/long"

# ---- messages that pointed the wrong way ----------------------------------------------
mkdir -p "$tmp/labels"
$py - "$tmp/labels" <<'PY'
import struct, sys
d = sys.argv[1]
open(d + '/train-images-idx3-ubyte', 'wb').write(struct.pack('>IIII', 0x803, 10, 4, 4) + bytes(160))
open(d + '/train-labels-idx1-ubyte', 'wb').write(struct.pack('>II', 0x801, 7) + bytes(7))
PY
expect2 "label count names both numbers" "7 labels for 10 images" "$clgan" train --data "$tmp/labels" --out "$tmp/r3"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  mkdir -p "$tmp/priv" && cp "$src"/samples/data/train-images-idx3-ubyte.gz "$tmp/priv/"
  chmod 000 "$tmp/priv/train-images-idx3-ubyte.gz" && chmod o+rx "$tmp" "$tmp/priv"
  mkdir -p "$tmp/nobody-cache" "$tmp/nobody-pocl" && chown 65534 "$tmp/nobody-cache" "$tmp/nobody-pocl"
  expect2 "unreadable data file is not 'missing'" "permission denied" \
    setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent XDG_CACHE_HOME=$tmp/nobody-cache \
    POCL_CACHE_DIR=$tmp/nobody-pocl "$clgan" train --data "$tmp/priv" --out "$tmp/r4"
elif [ "$(id -u)" != 0 ]; then
  mkdir -p "$tmp/priv" && cp "$src"/samples/data/train-images-idx3-ubyte.gz "$tmp/priv/"
  chmod 000 "$tmp/priv/train-images-idx3-ubyte.gz"
  expect2 "unreadable data file is not 'missing'" "permission denied" "$clgan" train --data "$tmp/priv" --out "$tmp/r4"
else
  echo "skipped: unreadable data file (root without setpriv)"
fi
mkdir -p "$tmp/cl" && cp "$src"/cl/* "$tmp/cl/"
sed -i 's/tensor_norms/tensor_norms_renamed/' "$tmp/cl/monitor.cl"
timeout 300 env CLGAN_KERNEL_DIR="$tmp/cl" XDG_CACHE_HOME="$tmp/kcache2" "$clgan" train "${small[@]}" \
  --out "$tmp/r5" >"$tmp/out" 2>"$tmp/err"
check "a missing kernel is named (got: $(tail -1 "$tmp/err"))" grep -q "kernel 'tensor_norms'" "$tmp/err"
printf 'x' >"$tmp/notadir"
expect2 "unwritable XDG_CACHE_HOME is not 'install a driver'" "XDG_CACHE_HOME" \
  env -u POCL_CACHE_DIR XDG_CACHE_HOME="$tmp/notadir/sub" "$clgan" devices

# ---- a checkpoint with NaN weights ----------------------------------------------------
timeout 300 "$clgan" train "${small[@]}" --out "$tmp/short" >/dev/null 2>&1
$py - "$tmp/short/generator.safetensors" "$tmp/nan.safetensors" <<'PY'
import sys, json, struct
b = bytearray(open(sys.argv[1], 'rb').read()); n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); s = h['dense1.kernel']['data_offsets'][0]
b[8 + n + s + 40:8 + n + s + 44] = struct.pack('<f', float('nan'))
open(sys.argv[2], 'wb').write(b)
PY
expect2 "sample refuses NaN weights, naming the tensor" "dense1.kernel.*NaN" "$clgan" sample --checkpoint "$tmp/nan.safetensors" --out "$tmp/nan.png"
check "and writes no samples" test ! -e "$tmp/nan.png"

echo "cli_inputs: $passed passed, $fail failed"
[ $fail -eq 0 ]
