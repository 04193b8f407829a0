#!/usr/bin/env bash
# cli_kernels.sh CLGAN TMPDIR - the kernel program: a broken kernel source (through
# CLGAN_KERNEL_DIR) fails with the compiler log naming file and line; the binary cache
# makes the second start a cache hit; a corrupt cache entry is rebuilt, not trusted.
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
check() { if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
src=$(cd "$(dirname "$0")/.." && pwd)/cl
export XDG_CACHE_HOME=$tmp/cache

args=(train --iterations 2 --batch 8 --sample-every 0 --log-every 1)
check "cold start builds" bash -c "'$clgan' ${args[*]} --out '$tmp/r1' 2>&1 | grep 'kernels built' >/dev/null"
check "warm start hits the cache" bash -c "'$clgan' ${args[*]} --out '$tmp/r2' 2>&1 | grep 'kernels from cache' >/dev/null"
for f in "$tmp"/cache/clgan/kernels-*.bin; do printf 'CLGANBIN garbage' >"$f"; done
check "corrupt cache is rebuilt" bash -c "'$clgan' ${args[*]} --out '$tmp/r3' 2>&1 | grep 'kernels built' >/dev/null"
check "and the run still succeeds" test -s "$tmp/r3/generator.safetensors"

mkdir -p "$tmp/cl" && cp "$src"/* "$tmp/cl/"
# Break line 3 of the loss kernel's body: an undeclared identifier.
awk '/^void gan_loss/ {print; getline; print; print "    undeclared_thing = 1;"; next} {print}' \
    "$src/loss.cl" >"$tmp/cl/loss.cl"
line=$(grep -n undeclared_thing "$tmp/cl/loss.cl" | cut -d: -f1)
CLGAN_KERNEL_DIR=$tmp/cl "$clgan" "${args[@]}" --out "$tmp/r4" >"$tmp/out" 2>&1; rc=$?
check "broken kernel fails" test $rc -ne 0
check "build log names loss.cl:$line" grep -q "loss.cl:$line" "$tmp/out"
check "error names the call and the error" grep -q "clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE" "$tmp/out"
CLGAN_KERNEL_DIR=$tmp/nowhere "$clgan" "${args[@]}" --out "$tmp/r5" >"$tmp/out" 2>&1; rc=$?
check "missing kernel dir is bad input" test $rc -eq 2

echo "cli_kernels: $passed passed, $fail failed"
[ $fail -eq 0 ]
