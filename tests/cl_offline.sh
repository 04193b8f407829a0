#!/usr/bin/env bash
# cl_offline.sh - every kernel file of cl/ compiles offline as portable OpenCL C 1.2:
# clang for spir64, -cl-std=CL1.2 with warnings as errors, the headers clgan prepends
# (every cl/*.h, in clgan's order) and exactly the -D options clgan passes on a device whose
# maximum work-group size is 1024, 256 or 64 (tools/cl_build_options prints them from the
# same function contexts use). At -O0 nothing is inlined by force, so a helper that is
# not static inline stays an undefined external ('declare' of an unmangled name; clang's
# OpenCL builtins are mangled _Z..., LLVM intrinsics llvm.*): that is the failure a
# GPU compiler that chooses not to inline reports at link time.
#   tests/cl_offline.sh BUILD_OPTIONS_TOOL TMPDIR
set -u
opts_tool=$1
tmp=$2
cd "$(dirname "$0")/.."
clang=""
for c in clang-15 clang-14 clang; do
    if command -v "$c" >/dev/null; then clang=$c; break; fi
done
[ -n "$clang" ] || { echo "cl_offline: no clang (apt-get install clang-15)"; exit 1; }
mkdir -p "$tmp" || exit 1
fail=0
headers=()
for h in cl/*.h; do headers+=(-include "$h"); done
for wg in 1024 256 64; do
    opts=$("$opts_tool" "$wg") || { echo "cl_offline: $opts_tool $wg failed"; exit 1; }
    for f in cl/*.cl; do
        name=$(basename "$f" .cl)
        ll="$tmp/$name-$wg.ll"
        # shellcheck disable=SC2086 # the options are one word each
        if ! "$clang" -x cl -target spir64 -Xclang -finclude-default-header -O0 -emit-llvm -S \
                -Wall -Wextra -Werror "${headers[@]}" $opts \
                "$f" -o "$ll" 2> "$tmp/$name-$wg.log"; then
            echo "FAIL $f (max work-group $wg): $clang reports:"
            sed 's/^/    /' "$tmp/$name-$wg.log" | head -40
            fail=1
            continue
        fi
        undef=$(grep -E '^declare ' "$ll" | grep -oE '@[A-Za-z_.$][A-Za-z0-9_.$]*' |
                grep -vE '^@(_Z|llvm\.)' | sort -u | tr '\n' ' ')
        if [ -n "$undef" ]; then
            echo "FAIL $f (max work-group $wg): undefined external helpers at -O0: $undef"
            fail=1
        else
            kernels=$(grep -cE '^define .*spir_kernel' "$ll")
            echo "ok   $f (max work-group $wg): $kernels kernels, no undefined helper"
        fi
    done
done
echo "cl_offline: $clang $("$clang" --version | head -n 1 | sed 's/.*version //')"
exit $fail
