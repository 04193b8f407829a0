#!/usr/bin/env bash
# tools/sanitize.sh [CTEST ARGS] - the test suite under AddressSanitizer + UndefinedBehavior-
# Sanitizer (build-asan/, -DCLGAN_SANITIZE=ON, gcc). A report from clgan's code ends the
# test that caused it (halt_on_error), so the pass means zero reports; the leaks PoCL and
# LLVM keep by design are suppressed in tools/lsan.supp, each with its reason.
# Left out, to keep CI short (tools/test.sh runs this after the plain suite; measured on
# the shared 2-core VM, the rest takes about 6 minutes under the sanitizers):
#   *_gpu_shapes     the same host code as their plain twins, only other launch shapes;
#   cli_diagnose     six long trainings (thousands of iterations) of the loop the shorter
#                    CLI tests (cli_train, cli_resume, cli_limits) run under the sanitizers;
#   test_conv        2.3 minutes under ASan, spent in the test's own double-precision host
#                    references; the convolution layers' host code runs under the
#                    sanitizers in test_layers, test_gradpen_conv and cli_data;
#   install_consumer builds an outside program against the installed libclgan.a, whose
#                    objects carry ASan's instrumentation that a plain program cannot link.
# The kernel binaries (PoCL's and clgan's caches) are copied from build/ when it has them:
# the same devices, drivers and sources, so nothing is compiled twice.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLGAN_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
for c in pocl-cache cache; do
  [ -d "build/$c" ] && [ ! -e "build-asan/$c" ] && cp -r "build/$c" "build-asan/$c"
done
# verify_asan_link_order=0: cli_limits preloads a test shim (LD_PRELOAD) ahead of libasan.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:verify_asan_link_order=0
export LSAN_OPTIONS=suppressions=$PWD/tools/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd build-asan
ctest --output-on-failure --timeout 900 -j"$(nproc)" \
  -E '_gpu_shapes$|^cli_diagnose$|^test_conv$|^install_consumer$' "$@"
