#!/usr/bin/env bash
# tools/sanitize.sh [CTEST ARGS] - the test suite under AddressSanitizer + UndefinedBehavior-
# Sanitizer (build-asan/, -DCLGAN_SANITIZE=ON, gcc). A report from clgan's code ends the
# test that caused it (halt_on_error), so the pass means zero reports; the leaks PoCL and
# LLVM keep by design are suppressed in tools/lsan.supp, each with its reason.
# Left out, to keep CI short (tools/test.sh runs this after the plain suite):
#   *_gpu_shapes  the same host code as their plain twins, only other kernel launch shapes;
#   cli_diagnose  six long trainings (thousands of iterations) of the loop the shorter CLI
#                 tests (cli_train, cli_resume, cli_limits) already run under the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLGAN_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
# verify_asan_link_order=0: cli_limits preloads a test shim (LD_PRELOAD) ahead of libasan.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:verify_asan_link_order=0
export LSAN_OPTIONS=suppressions=$PWD/tools/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd build-asan
ctest --output-on-failure --timeout 900 -E '_gpu_shapes$|^cli_diagnose$' "$@"
