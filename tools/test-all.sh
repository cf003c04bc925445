#!/usr/bin/env bash
# The test command: installs what is needed, builds everything (the plain
# build, and the ASan+UBSan and TSan builds it drives), and runs every test
# with one ctest. Usage: tools/test-all.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINC_SANITIZER_BUILDS=ON
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure --no-tests=error "$@"
