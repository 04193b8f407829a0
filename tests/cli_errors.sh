#!/usr/bin/env bash
# cli_errors.sh CLGAN TMPDIR - bad input gets a one-line message and exit code 2, and
# leaves nothing half-written.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
expect2() { # expect2 NAME PATTERN COMMAND... : exit 2, one stderr line matching PATTERN
  "${@:3}" >"$tmp/out" 2>"$tmp/err"; rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qi -- "$2" "$tmp/err"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $1 (exit $rc, $lines lines):"; cat "$tmp/err"; fail=$((fail + 1))
  fi
}
printf 'garbage' >"$tmp/bad.gz"
mkdir -p "$tmp/corrupt" "$tmp/trunc" "$tmp/empty"
printf '\x00\x00\x08\x03\x00\x00\x00\x05\x00\x00\x00\x1c\x00\x00\x00\x1c' >"$tmp/trunc/train-images-idx3-ubyte"
printf 'not an idx file at all' >"$tmp/corrupt/train-images-idx3-ubyte"
printf '[train]\nbatch = 32\nnonsense = 3\n' >"$tmp/unknown.ini"
printf '[train]\nbatch = lots\n' >"$tmp/badval.ini"
printf 'not a checkpoint' >"$tmp/bad.safetensors"

expect2 "unknown command" "unknown command" "$clgan" frobnicate
expect2 "unknown flag" "unknown setting --frob" "$clgan" train --frob 1
expect2 "bad integer" "not an integer" "$clgan" train --batch abc
expect2 "out of range" "out of range" "$clgan" train --batch 0
expect2 "bad float" "not a number" "$clgan" train --lr x
expect2 "bad enum" "not one of" "$clgan" train --loss nope
expect2 "bad layer list" "comma-separated" "$clgan" train --g-layers 256,,x
expect2 "missing value" "needs a value" "$clgan" train --iterations
expect2 "positional" "unexpected argument" "$clgan" train foo
expect2 "missing data dir" "no train-images" "$clgan" train --data "$tmp/nowhere" --out "$tmp/r1"
expect2 "corrupt IDX" "magic" "$clgan" train --data "$tmp/corrupt" --out "$tmp/r2"
expect2 "truncated IDX" "truncated" "$clgan" train --data "$tmp/trunc" --out "$tmp/r3"
expect2 "unknown device" "no device matches" "$clgan" train --device nosuchdevice --iterations 1 --out "$tmp/r4"
expect2 "unknown ini key" "unknown.ini:3" "$clgan" train --config "$tmp/unknown.ini"
expect2 "bad ini value" "badval.ini:2" "$clgan" train --config "$tmp/badval.ini"
expect2 "missing config" "cannot open" "$clgan" train --config "$tmp/none.ini"
expect2 "missing checkpoint" "cannot open\|No such" "$clgan" sample --checkpoint "$tmp/none.safetensors"
expect2 "corrupt checkpoint" "safetensors\|header" "$clgan" sample --checkpoint "$tmp/bad.safetensors" --out "$tmp/x.png"
expect2 "bad sample output" "must end in" "$clgan" sample --checkpoint x --out "$tmp/x.jpg"
expect2 "batchnorm on G's output" "output layer is refused" "$clgan" train --batchnorm-g all
expect2 "batchnorm on D's output" "output layer is refused" "$clgan" train --batchnorm-d all
expect2 "gp without joint update" "d-update joint" "$clgan" train --loss wasserstein --gp-lambda 10
expect2 "unknown preset" "unknown preset" "$clgan" train --preset nosuch
expect2 "batch bigger than data" "larger than the data" "$clgan" train --batch 20000 --out "$tmp/r5"
if [ -e "$tmp/x.png" ]; then echo "FAIL: a failed sample left x.png"; fail=$((fail + 1)); else passed=$((passed + 1)); fi

# A mistyped command, flag, key, preset or topic names the nearest valid ones.
printf '[train]\niteration = 5\n' >"$tmp/typo.ini"
expect2 "command typo" "unknown command 'trian'; did you mean train?" "$clgan" trian
expect2 "setting typo" "unknown setting --iteration; did you mean --iterations?" "$clgan" train --iteration 5
expect2 "per-network setting typo" "did you mean --lr?" "$clgan" train --lrr 1e-4
expect2 "ini key typo" "did you mean iterations?" "$clgan" train --config "$tmp/typo.ini"
expect2 "preset typo" "did you mean wgan?" "$clgan" train --preset wgn
expect2 "subcommand flag typo" "unknown flag --chekpoint; did you mean --checkpoint?" "$clgan" sample --chekpoint x
expect2 "report flag typo" "did you mean --out?" "$clgan" report "$tmp" --otu x
expect2 "help topic typo" "no help on 'preset'; did you mean presets?" "$clgan" help preset
expect2 "nothing near" "unknown setting --frobnicate (see --help)" "$clgan" train --frobnicate 1
# diagnose and report on a directory that is not a run say so.
mkdir -p "$tmp/notarun" && echo hi >"$tmp/notarun/notes.txt"
expect2 "diagnose a non-run" "is not a clgan run directory" "$clgan" diagnose "$tmp/notarun"
expect2 "report a non-run" "is not a clgan run directory" "$clgan" report "$tmp/notarun"
expect2 "diagnose a missing dir" "is not a directory" "$clgan" diagnose "$tmp/nowhere"

# sample: noise files must fit the generator; flags that decide the count do not mix.
/usr/bin/python3 -c "import numpy as np; np.save('$tmp/z3d.npy', np.zeros((2, 10, 10), np.float32)); np.save('$tmp/z7.npy', np.zeros((4, 7), np.float32)); np.save('$tmp/z100.npy', np.ones((3, 100), np.float32))"
"$clgan" train --iterations 1 --sample-every 0 --eval-every 0 --layers-g 16 --layers-d 16 --out "$tmp/g1" >/dev/null 2>&1
expect2 "noise of the wrong width" "shape (4, 7), expected (N, 100)" "$clgan" sample --checkpoint "$tmp/g1/generator.safetensors" --noise "$tmp/z7.npy" --out "$tmp/n.png"
expect2 "noise of the wrong rank" "shape (2, 10, 10)" "$clgan" sample --checkpoint "$tmp/g1/generator.safetensors" --noise "$tmp/z3d.npy" --out "$tmp/n.png"
expect2 "--n with --noise" "noise file decides" "$clgan" sample --checkpoint x --noise "$tmp/z7.npy" --n 4
expect2 "bad --interpolate" "not a list" "$clgan" sample --checkpoint x --interpolate 1,x
expect2 "--interpolate past the noise" "row 9 does not exist (the noise has 3 rows)" "$clgan" sample --checkpoint "$tmp/g1/generator.safetensors" --noise "$tmp/z100.npy" --interpolate 0,9 --out "$tmp/n.png"
expect2 "bad --grid-scale" "grid-scale" "$clgan" train --grid-scale 0
if [ -e "$tmp/n.png" ]; then echo "FAIL: a refused sample left n.png"; fail=$((fail + 1)); else passed=$((passed + 1)); fi

# A refused input leaves no run directory behind.
expect2 "gp with dropout" "dense layers" "$clgan" train --preset wgan-gp --dropout-d 0.3 --out "$tmp/r6"
expect2 "corrupt classifier" "classifier" "$clgan" train --classifier "$tmp/bad.safetensors" --out "$tmp/r7"
if [ -e "$tmp/r6" ] || [ -e "$tmp/r7" ]; then echo "FAIL: a refused run left a directory"; fail=$((fail + 1)); else passed=$((passed + 1)); fi

# Data of any size trains (33 images of 7x7: byte buffers not a multiple of 4).
mkdir -p "$tmp/odd"
/usr/bin/python3 -c "
import struct, random
random.seed(1)
open('$tmp/odd/train-images-idx3-ubyte', 'wb').write(struct.pack('>IIII', 0x803, 33, 7, 7) + bytes(random.randrange(256) for _ in range(33 * 49)))"
if "$clgan" train --data "$tmp/odd" --iterations 3 --batch 8 --out "$tmp/odd-run" >"$tmp/out" 2>&1 &&
   [ -s "$tmp/odd-run/generator.safetensors" ] && [ ! -e "$tmp/odd-run/eval.jsonl" ]; then
  passed=$((passed + 1))
else
  echo "FAIL: 7x7 data (no classifier for it)"; cat "$tmp/out"; fail=$((fail + 1))
fi

echo "cli_errors: $passed passed, $fail failed"
[ $fail -eq 0 ]
