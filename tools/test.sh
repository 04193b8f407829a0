#!/usr/bin/env bash
# tools/test.sh - installs dependencies, builds, and runs the whole test suite (ctest)
# on the CPU OpenCL device; then the suite again under ASan + UBSan (tools/sanitize.sh)
# and every fuzz harness for 20 s (tools/fuzz.sh). This is the README's second command
# and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
(cd build && ctest --output-on-failure --timeout 900 -j"$(nproc)")
bash tools/sanitize.sh
bash tools/fuzz.sh 20
